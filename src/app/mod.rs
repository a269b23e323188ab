//! The application layer: one function per use case, and the only way in.
//! The command line, the daemon, the demo, the benchmark harness and the
//! tests all call these to capture, export, log in, make the signing key,
//! plan, report status, verify and manage the web view's accounts, so a promise such as "every capture run
//! that appends to the log ends in a signed checkpoint" is kept in one place
//! instead of once per entry point.
//!
//! Inputs arrive as typed on a command line (strings) or already typed, and
//! are validated here once; results come back as data for the caller to
//! render. Nothing here prints or knows clap.

pub mod bundles;
pub mod capture;
pub mod export;
pub mod keys;
pub mod login;
pub mod plan;
pub mod status;
pub mod users;
pub mod verify;

use crate::capture::client::ClientError;
use crate::capture::session::SessionError;
use crate::capture::CaptureError;
use crate::config::{Config, ConfigError, GstinEntry};
use crate::domain::gstin::Gstin;
use crate::evidence::bundle::check::CheckError;
use crate::evidence::bundle::export::ExportError;
use crate::evidence::signing::SigningError;
use crate::store::StoreError;

/// Why a use case could not run. Findings (a GSTIN needing login, a verify
/// finding) are not errors: they come back in the result.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input: what was given, where, and what is expected.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl AppError {
    /// Whether the use case stopped because stored evidence is damaged
    /// (bytes that do not hash to their digest, a log or checkpoint that
    /// does not check): the command line exits 1 for it, as for findings.
    pub fn is_damage(&self) -> bool {
        match self {
            AppError::Store(e) => e.is_damage(),
            AppError::Capture(CaptureError::Store(e)) => e.is_damage(),
            AppError::Export(e) => e.is_damage(),
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

pub(crate) fn input(message: impl Into<String>) -> AppError {
    AppError::Input(message.into())
}

/// The config's entry for a GSTIN given as text.
///
/// Fails when the text is not a valid GSTIN or the config has no such `[[gstin]]`.
pub fn configured_gstin(config: &Config, text: &str) -> Result<GstinEntry> {
    let gstin = Gstin::parse(text).map_err(|e| input(e.to_string()))?;
    config.gstin(&gstin).cloned().ok_or_else(|| {
        input(format!(
            "GSTIN {gstin} is not in config {} ([[gstin]] tables)",
            config.source
        ))
    })
}
