//! The web view's accounts and access log in the archive: accounts read
//! through a [`Reader`] (`users`, `user_grants`), passwords checked with
//! [`crate::app::users::verify_password`] (Argon2id), and the access log
//! appended through [`AccessLog`], the one narrow writer the web view holds.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{AccessEntry, AccessSink, Accounts};
use crate::domain::access::Viewer;
use crate::store::access::AccessLog;
use crate::store::{Reader, StoreError};

/// Accounts of the archive at a path, read through read-only handles kept
/// for the next lookup. Each lookup is its own query on the committed
/// archive (no read transaction spans lookups), so an account added or
/// removed by `gstvault user` counts at once.
pub struct ArchiveAccounts {
    path: PathBuf,
    readers: Mutex<Vec<Reader>>,
}

impl ArchiveAccounts {
    pub fn new(path: &Path) -> ArchiveAccounts {
        ArchiveAccounts {
            path: path.to_path_buf(),
            readers: Mutex::new(Vec::new()),
        }
    }
}

impl Accounts for ArchiveAccounts {
    fn viewer(&self, name: &str) -> Result<Option<(Viewer, String)>, StoreError> {
        let kept = self.readers.lock().ok().and_then(|mut r| r.pop());
        let reader = match kept {
            Some(r) => r,
            None => {
                let reader = Reader::open(&self.path)?;
                // Two small tables: a small cache.
                reader.limit_cache(256)?;
                reader
            }
        };
        let found = reader.viewer(name);
        if let Ok(mut readers) = self.readers.lock() {
            if readers.len() < super::READERS {
                readers.push(reader);
            }
        }
        found
    }

    fn verify(&self, hash: &str, password: &str) -> bool {
        crate::app::users::verify_password(hash, password)
    }
}

impl AccessSink for AccessLog {
    fn append(&self, entry: &AccessEntry) -> Result<(), StoreError> {
        AccessLog::append(self, entry)
    }

    fn recent(&self, limit: usize) -> Result<Vec<AccessEntry>, StoreError> {
        Reader::open(self.path())?.access_log(limit)
    }
}
