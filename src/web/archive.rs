//! The web view's accounts and access log in the archive: accounts read
//! through a [`Reader`] (`users`, `user_grants`), passwords checked with
//! [`crate::app::users::verify_password`] (Argon2id), and the access log
//! appended through [`AccessLog`], the one narrow writer the web view holds.

use std::path::{Path, PathBuf};

use super::{AccessEntry, AccessSink, Accounts};
use crate::domain::access::Viewer;
use crate::store::access::AccessLog;
use crate::store::{Reader, StoreError};

/// Accounts of the archive at a path; each lookup opens a read-only handle,
/// so an account added or removed by `gstvault user` counts at once.
pub struct ArchiveAccounts {
    path: PathBuf,
}

impl ArchiveAccounts {
    pub fn new(path: &Path) -> ArchiveAccounts {
        ArchiveAccounts {
            path: path.to_path_buf(),
        }
    }
}

impl Accounts for ArchiveAccounts {
    fn viewer(&self, name: &str) -> Result<Option<(Viewer, String)>, StoreError> {
        Reader::open(&self.path)?.viewer(name)
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
