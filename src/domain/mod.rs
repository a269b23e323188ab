//! The domain core: what GST evidence *is*, with no IO and no clock. GSTINs,
//! periods and the IST calendar, the endpoint catalog, reading a response
//! envelope, where an answer came from (its origin), digests, the log's leaf encoding and its Merkle tree, the
//! auditor's reconciliations, structural diffs, the documents of a return and
//! changes in business terms, money and the bundle summary
//! as data, the daemon's schedules, the health conditions the daemon reports
//! and alerts on, who may see what (accounts, roles, grants). "Now" is always an argument; every other
//! folder builds on this one and this one on none of them.

pub mod access;
pub mod catalog;
pub mod change;
pub mod charts;
pub mod diff;
pub mod digest;
pub mod documents;
pub mod envelope;
pub mod gstin;
pub mod health;
pub mod log;
pub mod merkle;
pub mod money;
pub mod origin;
pub mod period;
pub mod reconcile;
pub mod returns;
pub mod run;
pub mod schedule;
pub mod secret;
pub mod summary;
pub mod time;
