//! The web view's access log (`access_log`, schema 11): who saw or tried
//! what, when, from where, and what was answered. Append-only like the
//! evidence tables: no code updates or deletes a row, and triggers refuse it.
//!
//! The web server otherwise holds only a [`Reader`] and runs beside the
//! daemon's writer, so it appends through an [`AccessLog`]: its own
//! connection (WAL, busy timeout) whose one write is [`AccessLog::append`].
//! It takes no writer lock: an append is one short INSERT that SQLite
//! serialises with the writer's transactions.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags};

use super::rows::text_time_at;
use super::{sqlite, Reader, Result};
use crate::domain::time::Timestamp;

/// One view, download or refusal of the web view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRow {
    pub at: Timestamp,
    /// The account; `-` when nobody is logged in.
    pub user: String,
    /// The client's address as the server saw it.
    pub address: String,
    pub method: String,
    /// Path and query as requested (never a password or a token).
    pub path: String,
    /// The HTTP status answered.
    pub status: u16,
    /// What was seen or refused, in words.
    pub what: String,
}

/// The one write the web server may make: appending to the access log.
/// `Send + Sync` (the connection is behind a mutex), so a server's state can
/// hold it in an `Arc`.
pub struct AccessLog {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl AccessLog {
    /// Opens the access log of the existing archive at `path` on a
    /// connection of its own.
    ///
    /// Fails when there is no archive there, its schema is not this build's
    /// (a writer migrates it), or it cannot be opened for writing.
    pub fn open(path: &Path) -> Result<AccessLog> {
        // Refuses a missing archive and a schema this build does not write.
        drop(Reader::open(path)?);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sqlite(path, e))?;
        // An appender touches the table's last pages only: a small cache.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -256;",
        )
        .map_err(|e| sqlite(path, e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| sqlite(path, e))?;
        Ok(AccessLog {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// Appends one row.
    ///
    /// Fails when the archive cannot be written (busy past the timeout, disk full).
    /// The archive this log is in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, row: &AccessRow) -> Result<()> {
        // A panic elsewhere while holding the lock leaves the connection usable.
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        conn.execute(
            "INSERT INTO access_log (at, user_name, address, method, path, status, what)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                row.at.to_string(),
                row.user,
                row.address,
                row.method,
                row.path,
                row.status,
                row.what
            ],
        )
        .map_err(|e| sqlite(&self.path, e))?;
        Ok(())
    }
}

impl Reader {
    /// The newest `limit` rows of the access log, newest first (0: all).
    ///
    /// Fails when the archive cannot be read or a row is not readable.
    pub fn access_log(&self, limit: usize) -> Result<Vec<AccessRow>> {
        let limit = if limit == 0 {
            -1
        } else {
            i64::try_from(limit).unwrap_or(i64::MAX)
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, user_name, address, method, path, status, what FROM access_log
                 ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok(AccessRow {
                    at: text_time_at(r, 0)?,
                    user: r.get(1)?,
                    address: r.get(2)?,
                    method: r.get(3)?,
                    path: r.get(4)?,
                    status: r.get(5)?,
                    what: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
