//! gstvault: a GST audit-evidence archiver.
//!
//! The folders are the pipeline's stages:
//!
//! - [`domain`]: the core that does no IO and reads no clock: GSTINs,
//!   periods, the endpoint catalog, envelope reading, digests, the log's leaf
//!   encoding and Merkle tree, reconciliations, diffs, schedules.
//! - [`capture`]: one capture run: the [`capture::client`] (the only module
//!   that speaks HTTP), taxpayer [`capture::session`]s, the
//!   [`capture::planner`].
//! - [`store`]: the archive (the only module that runs SQL).
//! - [`evidence`]: signing, checkpoints, bundles, the PDF summary, verify.
//! - [`query`]: the compliance queries over the archive.
//! - [`daemon`]: scheduled jobs, `/healthz` and `/metrics`.
//! - [`sim`]: the Sandbox simulator, for tests, `demo` and `simulate` only.
//! - [`cli`]: the command line (clap and rendering).
//!
//! [`config`] is validated once into a ready `Config`; [`clock`] says where
//! "now" comes from.

pub mod app;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod domain;
pub mod evidence;
pub mod files;
pub mod logging;
pub mod query;
pub mod render;
pub mod sim;
pub mod store;
