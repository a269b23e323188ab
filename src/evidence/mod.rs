//! Evidence: what an auditor receives and checks. The archive's signing key
//! and its minisign signatures ([`signing`]), signed tree heads
//! ([`checkpoint`]) and what must hold before one is signed ([`guard`]), bundles written and checked ([`bundle`]), the bundle's
//! summary built from archived payloads ([`summary`], its changes in business terms [`changes`]) and rendered as PDF
//! ([`pdf`]) and as a workbook ([`workbook`]), and `verify --archive` ([`verify`]). Reads the archive through
//! the store; writes only bundle files and key files.

pub mod bundle;
pub mod changes;
pub mod charts;
pub mod checkpoint;
pub mod guard;
pub mod pdf;
pub mod report;
pub mod scope;
pub mod signing;
pub mod summary;
pub mod verify;
pub mod workbook;
