//! Export: one evidence bundle of one GSTIN for a month or a financial year,
//! as of an instant. `gstvault export` and the daemon's export jobs both go
//! through [`request`], so a bundle is described the same way whoever asks.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::{Config, GstinEntry};
use crate::domain::period::{india_date, FinancialYear, Month};
use crate::evidence::bundle::export::{ExportRequest, Exported};
use crate::evidence::scope::Scope;
use crate::evidence::signing::SigningKey;
use crate::store::Store;

use super::{configured_gstin, input, AppError, Result};

/// What to export, as typed on a command line.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub gstin: String,
    /// One return month, `YYYY-MM`.
    pub month: Option<String>,
    /// One financial year, `YYYY-YY`.
    pub fy: Option<String>,
    /// RFC 3339 instant (default: now).
    pub as_of: Option<String>,
    /// Output directory (default: `[export] out_dir`).
    pub out: Option<PathBuf>,
}

/// Validates a selection into an export request.
///
/// Fails on an unconfigured GSTIN, a bad or future month, year or instant,
/// or an unreadable PDF template.
pub fn parse(config: &Config, selection: &Selection, now: DateTime<Utc>) -> Result<ExportRequest> {
    let entry = configured_gstin(config, &selection.gstin)?;
    let as_of = match &selection.as_of {
        Some(text) => crate::domain::time::parse_instant(text, crate::domain::time::DayEnd::End, now)
            .map_err(|e| input(format!("--as-of {e}")))?,
        None => now,
    };
    if as_of > now {
        return Err(input(format!(
            "--as-of {} is in the future",
            crate::domain::time::when(as_of)
        )));
    }
    let today_month = Month::of_date(india_date(now));
    let scope = match (&selection.month, &selection.fy) {
        (Some(m), None) => {
            let month = Month::parse(m).map_err(|e| input(format!("--month: {e}")))?;
            if month > today_month {
                return Err(input(format!("--month {month} is in the future")));
            }
            Scope::Month(month)
        }
        (None, Some(y)) => {
            let fy = FinancialYear::parse(y).map_err(|e| input(format!("--fy: {e}")))?;
            if fy.first_month() > today_month {
                return Err(input(format!("--fy {} is in the future", fy.label())));
            }
            Scope::Year(fy)
        }
        _ => return Err(input("give exactly one of --month YYYY-MM or --fy YYYY-YY")),
    };
    let out_dir = selection.out.clone().unwrap_or_else(|| config.bundles_dir.clone());
    request(config, &entry, scope, as_of, out_dir)
}

/// The export request of one configured GSTIN.
///
/// Fails when the configured PDF template cannot be read.
pub fn request(
    config: &Config,
    entry: &GstinEntry,
    scope: Scope,
    as_of: DateTime<Utc>,
    out_dir: PathBuf,
) -> Result<ExportRequest> {
    let template = match &config.pdf_template {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| AppError::File {
            path: path.display().to_string(),
            message: format!("pdf template: {e}"),
        })?),
        None => None,
    };
    Ok(ExportRequest {
        gstin: entry.gstin.clone(),
        legal_name: entry.legal_name.clone(),
        organization: config.organization.clone(),
        scope,
        as_of,
        out_dir,
        template,
    })
}

/// Writes one bundle with `key` from an open archive.
///
/// Fails when nothing of the scope was archived by the as-of instant, the
/// archive is inconsistent, or the bundle cannot be written.
pub fn export(store: &mut Store, key: &SigningKey, request: &ExportRequest, now: DateTime<Utc>) -> Result<Exported> {
    Ok(crate::evidence::bundle::export::export(store, key, request, now)?)
}

/// `gstvault export`: validates the selection, loads the signing key, opens
/// the archive and writes the bundle.
///
/// Fails as [`parse`] and [`export`] do, or when there is no signing key.
pub fn export_once(config: &Config, selection: &Selection, now: DateTime<Utc>) -> Result<Exported> {
    let request = parse(config, selection, now)?;
    let key = super::keys::require_signing_key(config)?;
    let mut store = Store::open(&config.archive_path)?;
    export(&mut store, &key, &request, now)
}
