//! Verify: the whole archive (`verify --archive`: every byte, row, leaf,
//! root and signature re-derived) or one bundle without trusting it. Both
//! return a report whose findings are data; reading never writes.

use std::path::Path;

use crate::config::Config;
use crate::evidence::report::VerifyReport;
use crate::store::Reader;

use super::keys::{configured_public_key, read_public_key};
use super::Result;

/// Verifies the configured archive against `pubkey` (default: the
/// configured public key, when it exists; without one, signatures are noted
/// as unchecked).
///
/// Fails when the archive or the key cannot be read.
pub fn verify_archive(config: &Config, pubkey: Option<&Path>) -> Result<VerifyReport> {
    let key = match pubkey {
        Some(path) => Some(read_public_key(path)?),
        None => configured_public_key(config)?,
    };
    let store = Reader::open(&config.archive_path)?;
    Ok(crate::evidence::verify::verify_archive(&store, key.as_ref())?)
}

/// Verifies a bundle file, trusting `pubkey` (default: the bundle's own
/// copy, which proves integrity but not origin) and, with `previous`, that
/// its checkpoint extends the older bundle's.
///
/// Fails when a file cannot be read at all; everything wrong inside the
/// bundle is a finding.
pub fn verify_bundle(bundle: &Path, pubkey: Option<&Path>, previous: Option<&Path>) -> Result<VerifyReport> {
    let key = pubkey.map(read_public_key).transpose()?;
    Ok(crate::evidence::bundle::check::check_bundle(
        bundle,
        key.as_ref(),
        previous,
    )?)
}
