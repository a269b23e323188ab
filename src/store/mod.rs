//! The archive: the only module that runs SQL. An embedded SQLite database in
//! WAL mode with the schema in `migrations/` (refinery, embedded).
//!
//! Two handles: [`Reader`] opens the file read-only and can only read (the
//! queries, `verify`, `status`, the planner's view); [`Store`] opens it for
//! writing, migrates it, and offers every read of a [`Reader`] besides
//! (it dereferences to one), with every write taking `&mut self`.
//!
//! Each snapshot is appended in one IMMEDIATE transaction (shared with the
//! rest of its group commit) together with its payload (content-addressed by
//! SHA-256, zstd-compressed), its change row and the Merkle tiles it
//! completes, so a crash never leaves a partial row. Bytes are kept exactly: a
//! body is stored as its envelope (the body with the payload span cut out,
//! itself a shared template plus two values, see `compact`) plus a reference
//! to the payload, and [`Reader::body`] puts them back together byte for byte.
//! Evidence tables are append-only (triggers refuse UPDATE and DELETE). This
//! module reads no clock: times come in as arguments.
//!
//! By concern (private modules): `migrate` (opening, migrations, schema
//! checks), `append` (the log's writer), `bodies` (exact bytes and
//! payloads), `tiles` (the persisted Merkle tree), `checkpoints`
//! (checkpoints, bundles, the archive id), `runs` (runs, job runs,
//! sessions, what health needs of the runs), `alerts` (the daemon's
//! alerts), `planner` (the planner's reads), `query` (the compliance
//! queries' reads), `rows` (row types and their SQL), `lock` (the writer
//! lock), `users` (the web view's accounts and grants); `compact` holds the schema-5 encodings and `bulk` (feature `bulk`)
//! the benchmark's bulk writer. Public: `access`, the web view's access log
//! and its narrow writer ([`access::AccessLog`]).

pub mod access;
mod alerts;
mod append;
mod bodies;
#[cfg(feature = "bulk")]
mod bulk;
mod checkpoints;
mod compact;
mod keys;
mod lock;
mod migrate;
mod planner;
mod query;
mod rows;
mod runs;
#[cfg(test)]
mod tests;
mod tiles;
mod users;

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

pub use access::AccessRow;
pub use alerts::AlertRow;
#[cfg(feature = "bulk")]
pub use bulk::BulkSnapshot;
pub use keys::KeySummary;
pub use lock::{Holder, LockState, WriterLock};
pub use query::{ListedSnapshot, PeriodFilter, SnapshotFilter};
pub use rows::{
    Answer, Appended, BundleRow, ChangeRow, CheckpointRow, JobRunRow, KeyLatest, NewSnapshot, SessionState, SnapshotRow,
};
pub use users::{NewUser, UserRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("archive {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("archive {path}: migration failed: {source}")]
    Migration { path: String, source: refinery::Error },
    #[error("archive {path}: {message}")]
    Io { path: String, message: String },
    /// A write the archive's rules refuse: a user name a live account has,
    /// an account that does not exist.
    #[error("archive {path}: {message}")]
    Refused { path: String, message: String },
    #[error("archive {path}: snapshot {seq}: {message}")]
    Corrupt { path: String, seq: u64, message: String },
    /// Stored evidence that no longer is what was recorded: bytes that do not
    /// hash to their digest, a checkpoint the rows do not give, tiles that
    /// disagree with the rows. Never served, signed over or exported.
    #[error("archive {path}: {what} is damaged: {detail}; run `gstvault verify --archive`")]
    Damaged { path: String, what: String, detail: String },
}

impl StoreError {
    /// Whether this is damage to stored evidence (rather than a failure to read or write).
    pub fn is_damage(&self) -> bool {
        matches!(self, StoreError::Damaged { .. })
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// RFC 3339 in UTC with milliseconds: the one time format of the archive.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A read-only handle on an archive: the file is opened read-only, so no
/// query through it can write, and it runs beside a writer (WAL).
pub struct Reader {
    conn: Connection,
    path: PathBuf,
}

/// A writable handle on an archive (migrated at open). Every read of a
/// [`Reader`] works on it too; every write takes `&mut self`.
pub struct Store {
    reader: Reader,
    /// Payloads whose stored bytes this handle has confirmed since its run
    /// began (deduplication refers only to confirmed bytes; see `append`).
    confirmed: std::collections::HashSet<i64>,
}

impl std::ops::Deref for Store {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        &self.reader
    }
}

/// A read transaction of [`Reader::begin_read`]; ends when dropped.
pub struct ReadTransaction<'a> {
    conn: &'a Connection,
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        // A read transaction has nothing to keep: ending it cannot lose data.
        let _ = self.conn.execute_batch("COMMIT");
    }
}

impl Reader {
    pub(super) fn err(&self, source: rusqlite::Error) -> StoreError {
        sqlite(&self.path, source)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw connection, for the store's own tests (tampering, query plans).
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` inside one read transaction, so every query in it sees the
    /// same committed state even while another process appends (WAL).
    pub fn read_consistent<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let reading = self.begin_read()?;
        let result = f(self);
        drop(reading);
        result
    }

    /// Starts a read transaction that lasts until the returned guard drops:
    /// every query meanwhile sees one committed state, and many small reads
    /// take the WAL read lock once instead of once each. Nothing may be
    /// written through this store while the guard lives.
    pub fn begin_read(&self) -> Result<ReadTransaction<'_>> {
        self.conn.execute_batch("BEGIN DEFERRED").map_err(|e| self.err(e))?;
        Ok(ReadTransaction { conn: &self.conn })
    }

    pub(super) fn damaged(&self, what: impl Into<String>, detail: impl Into<String>) -> StoreError {
        damaged(&self.path, what, detail)
    }
}

fn damaged(path: &Path, what: impl Into<String>, detail: impl Into<String>) -> StoreError {
    StoreError::Damaged {
        path: path.display().to_string(),
        what: what.into(),
        detail: detail.into(),
    }
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}
