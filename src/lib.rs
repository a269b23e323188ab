//! gstvault: a GST audit-evidence archiver.
//!
//! The folders are the pipeline's stages (ARCHITECTURE.md has the map):
//!
//! - [`domain`]: the core that does no IO and reads no clock: GSTINs,
//!   periods, the endpoint catalog, envelope reading, digests, the log's leaf
//!   encoding and Merkle tree, money, reconciliations, diffs, schedules, the
//!   health conditions.
//! - [`capture`]: one capture run: the [`capture::client`] (the only module
//!   that speaks HTTP to the API), taxpayer [`capture::session`]s, the
//!   [`capture::planner`].
//! - [`store`]: the archive (the only module that runs SQL), read through a
//!   [`store::Reader`] or written through a [`store::Store`].
//! - [`evidence`]: signing, checkpoints, bundles, the PDF summary, verify.
//! - [`query`]: the compliance queries over the archive.
//! - [`app`]: the use cases every entry point calls: capture once, export,
//!   login, keys, plan, status, verify.
//! - [`daemon`]: scheduled jobs, `/healthz` and `/metrics`, alerts (the
//!   webhook's HTTP and the e-mail's SMTP).
//! - [`render`]: text for people (the one table renderer).
//! - [`web`]: the read-only web view (accounts, scopes, pages), on axum.
//! - [`cli`]: the command line (clap), which prints what `render` makes.
//! - [`sim`]: the Sandbox simulator, for tests, `demo` and `simulate` only.
//!
//! [`config`] is validated once into a ready `Config`; [`clock`] says where
//! "now" comes from; [`files`] writes owner-only files; [`logging`] sets up
//! diagnostics on stderr.

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
pub mod web;
