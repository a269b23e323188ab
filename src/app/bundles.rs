//! Bundles: the chain of every GSTIN's exported bundles as the archive
//! records them, each checked against its file: there with the recorded
//! SHA-256, missing, or changed; and whether the bundle it names as its
//! predecessor is recorded. Read-only.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::domain::digest::Digest;
use crate::evidence::bundle::export::file_digest;
use crate::store::{BundleRow, Reader};

use super::{configured_gstin, Result};

/// What is found under a recorded bundle's file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileState {
    /// The file holds the recorded bytes.
    Present,
    /// No file of that name in the directory.
    Missing,
    /// A file of that name holds other bytes (their SHA-256).
    Changed(Digest),
}

/// One recorded bundle and its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub bundle: BundleRow,
    /// The size of the log its checkpoint covers.
    pub log_size: Option<u64>,
    pub file: FileState,
    /// False when the bundle names a predecessor the archive has no record of.
    pub previous_recorded: bool,
}

/// Every recorded bundle (of one GSTIN, or all), oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// Where the files were looked for.
    pub dir: PathBuf,
    pub links: Vec<Link>,
}

impl Chain {
    /// Whether every file is there and whole and every predecessor is recorded.
    pub fn intact(&self) -> bool {
        self.links
            .iter()
            .all(|l| l.file == FileState::Present && l.previous_recorded)
    }
}

/// Lists and checks the bundles of `gstin` (default: every GSTIN) against
/// the files in `dir` (default: `[export] out_dir`).
///
/// Fails on an unconfigured GSTIN or an unreadable archive; a missing or
/// changed file is part of the answer, not an error.
pub fn chain(config: &Config, gstin: Option<&str>, dir: Option<&Path>) -> Result<Chain> {
    let gstin = gstin.map(|g| configured_gstin(config, g)).transpose()?;
    let store = Reader::open(&config.archive_path)?;
    let rows = match &gstin {
        Some(entry) => store.bundles_of(&entry.gstin)?,
        None => store.bundles()?,
    };
    let dir = dir.map_or_else(|| config.bundles_dir.clone(), Path::to_path_buf);
    let mut links = Vec::new();
    for bundle in rows {
        let path = dir.join(&bundle.file_name);
        let file = if !path.exists() {
            FileState::Missing
        } else {
            match file_digest(&path)? {
                found if found == bundle.sha256 => FileState::Present,
                found => FileState::Changed(found),
            }
        };
        let previous_recorded = match &bundle.previous_bundle_id {
            Some(id) => store.bundle(id)?.is_some(),
            None => true,
        };
        let log_size = store.checkpoint(bundle.checkpoint_id)?.map(|c| c.size);
        links.push(Link {
            bundle,
            log_size,
            file,
            previous_recorded,
        });
    }
    Ok(Chain { dir, links })
}
