//! gstvault: a GST audit-evidence archiver.
//!
//! The pipeline: [`config`] is validated once into a ready `Config`; [`capture`]
//! walks GSTIN × endpoint × period from the [`catalog`], fetching through the
//! [`client`] (the only module that speaks HTTP) and handing each answer to
//! [`envelope`] (pure parsing: outcome, payload span, portal checksums) and then
//! to the [`store`] (the only module that runs SQL), which keeps the exact bytes,
//! their digests and the append-only [`log`] of leaf hashes. The [`sim`] module
//! is a faithful Sandbox simulator used by the tests and `gstvault demo`.
//!
//! Domain modules ([`gstin`], [`period`], [`catalog`], [`envelope`], [`log`],
//! [`digest`]) do no IO and read no clock: "now" is always an argument.

pub mod bundle;
pub mod capture;
pub mod catalog;
pub mod checkpoint;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod diff;
pub mod digest;
pub mod envelope;
pub mod gstin;
pub mod log;
pub mod merkle;
pub mod pdf;
pub mod period;
pub mod planner;
pub mod query;
pub mod reconcile;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod session;
pub mod signing;
pub mod sim;
pub mod store;
pub mod summary;
pub mod table;
pub mod verify;
