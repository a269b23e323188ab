//! The archive: the only module that runs SQL. An embedded SQLite database in
//! WAL mode with the schema in `migrations/` (refinery, embedded).
//!
//! Each snapshot is appended in one IMMEDIATE transaction together with its
//! payload (content-addressed by SHA-256, zstd-compressed), its leaf hash and
//! its change row, so a crash never leaves a partial row. Bytes are kept
//! exactly: a body is stored as its envelope (the body with the payload span
//! cut out) plus a reference to the payload, and [`Store::body`] puts them back
//! together byte for byte. Evidence tables are append-only (triggers refuse
//! UPDATE and DELETE). This module reads no clock: times come in as arguments.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::digest::Digest;
use crate::envelope::{Outcome, Reading};
use crate::log::{LeafRecord, LEAF_VERSION};

mod query;
pub use query::{BulkSnapshot, ListedSnapshot, PeriodFilter, SnapshotFilter, ANSWERED};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// zstd level for payloads: small JSON documents; higher levels cost the
/// capture writer CPU for little gain.
const PAYLOAD_ZSTD_LEVEL: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("archive {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("archive {path}: migration failed: {source}")]
    Migration { path: String, source: refinery::Error },
    #[error("archive {path}: {message}")]
    Io { path: String, message: String },
    #[error("archive {path}: snapshot {seq}: {message}")]
    Corrupt { path: String, seq: u64, message: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// RFC 3339 in UTC with milliseconds: the one time format of the archive.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// One answer to append.
#[derive(Clone, Debug)]
pub struct NewSnapshot<'a> {
    pub run_id: i64,
    pub gstin: &'a str,
    pub endpoint: &'a str,
    pub period: &'a str,
    pub page: u32,
    pub method: &'a str,
    pub request: &'a str,
    pub requested_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    /// The exact bytes received; None when no complete body arrived.
    pub body: Option<&'a [u8]>,
    /// What [`crate::envelope::parse`] read from `body`.
    pub reading: Option<&'a Reading>,
    /// Outcome when there is no body (transport errors).
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub attempts: u32,
}

/// What appending did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub leaf_hash: Digest,
    /// Compressed bytes newly written for the payload (0 when already stored).
    pub new_payload_bytes: u64,
    /// The previous snapshot of the same key when the payload changed.
    pub changed_from: Option<u64>,
}

/// A stored snapshot row (everything but the bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRow {
    pub seq: u64,
    pub run_id: i64,
    pub gstin: String,
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    pub method: String,
    pub request: String,
    pub requested_at: String,
    pub received_at: String,
    pub http_status: Option<u16>,
    pub transaction_id: Option<String>,
    pub status_cd: Option<String>,
    pub error_cd: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub attempts: u32,
    pub body_sha256: Option<String>,
    pub body_size: Option<u64>,
    pub payload_sha256: Option<String>,
    pub chksums: String,
    pub record_digest: String,
    pub leaf_hash: String,
}

impl SnapshotRow {
    /// The record the log commits to for this row.
    pub fn leaf_record(&self) -> LeafRecord {
        LeafRecord {
            v: LEAF_VERSION,
            seq: self.seq,
            gstin: self.gstin.clone(),
            endpoint: self.endpoint.clone(),
            period: self.period.clone(),
            page: self.page,
            method: self.method.clone(),
            request: self.request.clone(),
            requested_at: self.requested_at.clone(),
            received_at: self.received_at.clone(),
            http_status: self.http_status,
            transaction_id: self.transaction_id.clone(),
            status_cd: self.status_cd.clone(),
            error_cd: self.error_cd.clone(),
            outcome: self.outcome.clone(),
            detail: self.detail.clone(),
            body_sha256: self.body_sha256.clone(),
            body_size: self.body_size,
            payload_sha256: self.payload_sha256.clone(),
            chksums: self.chksums.clone(),
        }
    }
}

/// Session state of one GSTIN as the archive keeps it (no token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub gstin: String,
    pub token_expiry: Option<String>,
    pub session_expiry: Option<String>,
    pub needs_login: bool,
    pub reason: Option<String>,
    pub updated_at: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const SNAPSHOT_COLUMNS: &str = "seq, run_id, gstin, endpoint, period, page, method, request, requested_at, \
     received_at, http_status, transaction_id, status_cd, error_cd, outcome, detail, attempts, body_sha256, \
     body_size, payload_sha256, chksums, record_digest, leaf_hash";

fn row_to_snapshot(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
    Ok(SnapshotRow {
        seq: row.get::<_, i64>(0)? as u64,
        run_id: row.get(1)?,
        gstin: row.get(2)?,
        endpoint: row.get(3)?,
        period: row.get(4)?,
        page: row.get::<_, i64>(5)? as u32,
        method: row.get(6)?,
        request: row.get(7)?,
        requested_at: row.get(8)?,
        received_at: row.get(9)?,
        http_status: row.get::<_, Option<i64>>(10)?.map(|s| s as u16),
        transaction_id: row.get(11)?,
        status_cd: row.get(12)?,
        error_cd: row.get(13)?,
        outcome: row.get(14)?,
        detail: row.get(15)?,
        attempts: row.get::<_, i64>(16)? as u32,
        body_sha256: row.get(17)?,
        body_size: row.get::<_, Option<i64>>(18)?.map(|s| s as u64),
        payload_sha256: row.get(19)?,
        chksums: row.get(20)?,
        record_digest: row.get(21)?,
        leaf_hash: row.get(22)?,
    })
}

/// Reads a change row selected as `seq, previous_seq, gstin, endpoint, period,
/// page, old_payload_sha256, new_payload_sha256, detected_at`.
pub(crate) fn row_to_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRow> {
    Ok(ChangeRow {
        seq: r.get::<_, i64>(0)? as u64,
        previous_seq: r.get::<_, i64>(1)? as u64,
        gstin: r.get(2)?,
        endpoint: r.get(3)?,
        period: r.get(4)?,
        page: r.get::<_, i64>(5)? as u32,
        old_payload_sha256: r.get(6)?,
        new_payload_sha256: r.get(7)?,
        detected_at: r.get(8)?,
    })
}

impl Store {
    /// Opens (creating when absent, owner-only) and migrates the archive at `path`.
    ///
    /// Fails when the file cannot be created or opened, is not a gstvault
    /// archive, or a migration fails.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                message: format!("cannot create directory {}: {e}", parent.display()),
            })?;
        }
        if !path.exists() {
            create_owner_only(path).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                message: format!("cannot create: {e}"),
            })?;
        }
        let conn = Connection::open(path).map_err(|source| sqlite(path, source))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        embedded::migrations::runner()
            .run(&mut store.conn)
            .map_err(|source| StoreError::Migration {
                path: path.display().to_string(),
                source,
            })?;
        Ok(store)
    }

    /// Opens an existing archive for reading only (queries, verify, export).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                message: "no archive at this path".into(),
            });
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| sqlite(path, source))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|source| sqlite(path, source))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn configure(&mut self) -> Result<()> {
        // WAL lets readers work while the daemon writes; NORMAL sync in WAL
        // never corrupts and never loses a committed row on a process crash.
        self.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))?;
        self.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        sqlite(&self.path, source)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a run and returns its id.
    pub fn begin_run(&self, kind: &str, started_at: DateTime<Utc>) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs (kind, started_at, status) VALUES (?1, ?2, 'running')",
                params![kind, format_time(started_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a run ended.
    pub fn finish_run(&self, id: i64, status: &str, summary_json: &str, finished_at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET status = ?2, summary = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, status, summary_json, format_time(finished_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Appends one snapshot with its payload, leaf hash and change row, atomically.
    ///
    /// Fails only on a database error; then nothing of the snapshot is stored.
    pub fn append(&mut self, snapshot: &NewSnapshot<'_>) -> Result<Appended> {
        let mut appended = self.append_batch(std::slice::from_ref(snapshot))?;
        Ok(appended.pop().expect("one appended per snapshot"))
    }

    /// Appends snapshots in order in one transaction (a capture's group
    /// commit: one WAL commit for many answers instead of one each).
    ///
    /// Fails only on a database error; then nothing of the batch is stored.
    pub fn append_batch(&mut self, snapshots: &[NewSnapshot<'_>]) -> Result<Vec<Appended>> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        let next: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM snapshots", [], |r| r.get(0))
            .map_err(|e| sqlite(&path, e))?;
        let mut appended = Vec::with_capacity(snapshots.len());
        for (seq, snapshot) in (next..).zip(snapshots) {
            appended.push(append_in(&tx, &path, seq, snapshot)?);
        }
        tx.commit().map_err(|e| sqlite(&path, e))?;
        Ok(appended)
    }

    /// The exact bytes received for snapshot `seq` (None for a transport error).
    ///
    /// Fails when the row is missing or its stored parts do not reassemble.
    pub fn body(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        type Parts = (Option<String>, Option<i64>, Option<Vec<u8>>);
        let row: Option<Parts> = self
            .conn
            .query_row(
                "SELECT payload_sha256, payload_offset, envelope FROM snapshots WHERE seq = ?1",
                [seq as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.path.display().to_string(),
            seq,
            message,
        };
        let Some((payload_sha, offset, envelope)) = row else {
            return Err(corrupt("no such snapshot".into()));
        };
        let (Some(payload_sha), Some(offset), Some(envelope)) = (payload_sha, offset, envelope) else {
            return Ok(None);
        };
        let payload = self
            .payload(&payload_sha)?
            .ok_or_else(|| corrupt(format!("payload {payload_sha} is missing")))?;
        let offset = offset as usize;
        if offset > envelope.len() {
            return Err(corrupt("payload offset lies outside the envelope".into()));
        }
        let mut body = Vec::with_capacity(envelope.len() + payload.len());
        body.extend_from_slice(&envelope[..offset]);
        body.extend_from_slice(&payload);
        body.extend_from_slice(&envelope[offset..]);
        Ok(Some(body))
    }

    /// The decompressed payload with this digest, if stored.
    pub fn payload(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row("SELECT size, bytes FROM payloads WHERE sha256 = ?1", [sha256], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((size, compressed)) = row else { return Ok(None) };
        let bytes = decompress_payload(&compressed, size.max(0) as usize).map_err(|e| StoreError::Io {
            path: self.path.display().to_string(),
            message: format!("payload {sha256} does not decompress: {e}"),
        })?;
        Ok(Some(bytes))
    }

    pub fn snapshot(&self, seq: u64) -> Result<Option<SnapshotRow>> {
        self.conn
            .query_row(
                &format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE seq = ?1"),
                [seq as i64],
                row_to_snapshot,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Snapshots of one run, in log order.
    pub fn snapshots_of_run(&self, run_id: i64) -> Result<Vec<SnapshotRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE run_id = ?1 ORDER BY seq"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([run_id], row_to_snapshot).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Change rows of one run: (seq, previous_seq, gstin, endpoint, period, page).
    pub fn changes_of_run(&self, run_id: i64) -> Result<Vec<ChangeRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.seq, c.previous_seq, c.gstin, c.endpoint, c.period, c.page, c.old_payload_sha256,
                        c.new_payload_sha256, c.detected_at
                 FROM changes c JOIN snapshots s ON s.seq = c.seq WHERE s.run_id = ?1 ORDER BY c.seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([run_id], row_to_change).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Number of snapshots (the log size).
    pub fn snapshot_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Total compressed payload bytes stored.
    pub fn payload_bytes(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COALESCE(SUM(LENGTH(bytes)), 0) FROM payloads", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Stores a GSTIN's session state (expiries, needs-login), replacing the old one.
    pub fn put_session_state(&self, state: &SessionState) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sessions (gstin, token_expiry, session_expiry, needs_login, reason, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(gstin) DO UPDATE SET token_expiry = excluded.token_expiry,
                    session_expiry = excluded.session_expiry, needs_login = excluded.needs_login,
                    reason = excluded.reason, updated_at = excluded.updated_at",
                params![
                    state.gstin,
                    state.token_expiry,
                    state.session_expiry,
                    state.needs_login as i64,
                    state.reason,
                    state.updated_at
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn session_state(&self, gstin: &str) -> Result<Option<SessionState>> {
        self.conn
            .query_row(
                "SELECT gstin, token_expiry, session_expiry, needs_login, reason, updated_at FROM sessions WHERE gstin = ?1",
                [gstin],
                |r| {
                    Ok(SessionState {
                        gstin: r.get(0)?,
                        token_expiry: r.get(1)?,
                        session_expiry: r.get(2)?,
                        needs_login: r.get::<_, i64>(3)? != 0,
                        reason: r.get(4)?,
                        updated_at: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Direct access for modules that own read-only queries over the archive.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Calls `f` with every snapshot row, its payload offset and envelope, in log order.
    pub fn scan_snapshots(&self, mut f: impl FnMut(SnapshotRow, Option<usize>, Option<Vec<u8>>)) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SNAPSHOT_COLUMNS}, payload_offset, envelope FROM snapshots ORDER BY seq"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let snapshot = row_to_snapshot(row).map_err(|e| self.err(e))?;
            let offset: Option<i64> = row.get(23).map_err(|e| self.err(e))?;
            let envelope: Option<Vec<u8>> = row.get(24).map_err(|e| self.err(e))?;
            f(snapshot, offset.map(|o| o.max(0) as usize), envelope);
        }
        Ok(())
    }

    /// Every stored payload digest with its recorded size.
    pub fn payload_index(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, size FROM payloads ORDER BY sha256")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every change row, in log order.
    pub fn all_changes(&self) -> Result<Vec<ChangeRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, previous_seq, gstin, endpoint, period, page, old_payload_sha256, new_payload_sha256, detected_at
                 FROM changes ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_change).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Runs `f` inside one read transaction, so every query in it sees the
    /// same committed state even while another process appends (WAL).
    pub fn read_consistent<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN DEFERRED").map_err(|e| self.err(e))?;
        let result = f(self);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let _ = self.conn.execute_batch(end);
        result
    }

    /// Records the start of a daemon job; returns its row id.
    pub fn begin_job_run(&self, job: &str, started_at: DateTime<Utc>) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO job_runs (job, started_at, result) VALUES (?1, ?2, 'running')",
                params![job, format_time(started_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a daemon job ended.
    pub fn finish_job_run(
        &self,
        id: i64,
        result: &str,
        detail: Option<&str>,
        finished_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE job_runs SET result = ?2, detail = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, result, detail, format_time(finished_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The latest run of each job: (job, started_at, finished_at, result, detail).
    pub fn last_job_runs(&self) -> Result<Vec<JobRunRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT job, started_at, finished_at, result, detail FROM job_runs
                 WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job) ORDER BY job",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(JobRunRow {
                    job: r.get(0)?,
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    result: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Marks runs and jobs left `running` by a process that stopped as interrupted.
    pub fn mark_interrupted(&self, now: DateTime<Utc>) -> Result<usize> {
        let now = format_time(now);
        let runs = self
            .conn
            .execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?1 WHERE status = 'running'",
                [&now],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "UPDATE job_runs SET result = 'interrupted', finished_at = ?1 WHERE result = 'running'",
                [&now],
            )
            .map_err(|e| self.err(e))?;
        Ok(runs)
    }

    /// The planner's view of one GSTIN: per key (endpoint, period, page), the
    /// latest answer of any outcome and the latest answer the portal meant
    /// (`ok`, `no_data` or `api_error`) with its payload hash.
    pub fn latest_by_key(&self, gstin: &str) -> Result<Vec<KeyLatest>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT endpoint, period, page, MAX(seq), outcome, received_at FROM snapshots WHERE gstin = ?1 \
                 GROUP BY endpoint, period, page",
            )
            .map_err(|e| self.err(e))?;
        let mut out: BTreeMap<(String, String, u32), KeyLatest> = BTreeMap::new();
        let rows = stmt
            .query_map([gstin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u32,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (endpoint, period, page, outcome, received_at) = row.map_err(|e| self.err(e))?;
            out.insert(
                (endpoint.clone(), period.clone(), page),
                KeyLatest {
                    endpoint,
                    period,
                    page,
                    outcome,
                    received_at,
                    good: None,
                },
            );
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT endpoint, period, page, MAX(seq), received_at, payload_sha256 FROM snapshots \
                 WHERE gstin = ?1 AND outcome IN ('ok', 'no_data', 'api_error') GROUP BY endpoint, period, page",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([gstin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u32,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (endpoint, period, page, received_at, sha) = row.map_err(|e| self.err(e))?;
            if let Some(k) = out.get_mut(&(endpoint, period, page)) {
                k.good = Some((received_at, sha.unwrap_or_default()));
            }
        }
        Ok(out.into_values().collect())
    }

    /// Every `ok`/`no_data`/`api_error` answer of one GSTIN for the given endpoints, in
    /// archive order: (endpoint, period, page, received_at, payload SHA-256).
    pub fn answers_of(&self, gstin: &str, endpoints: &[&str]) -> Result<Vec<AnswerRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT endpoint, period, page, received_at, payload_sha256 FROM snapshots \
                 WHERE gstin = ?1 AND endpoint = ?2 AND outcome IN ('ok', 'no_data', 'api_error') ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for endpoint in endpoints {
            let rows = stmt
                .query_map(rusqlite::params![gstin, endpoint], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)? as u32,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    ))
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                out.push(row.map_err(|e| self.err(e))?);
            }
        }
        Ok(out)
    }

    /// Snapshots received at or after `since` (all GSTINs): the calls spent
    /// against the daily budget.
    pub fn answers_since(&self, since: DateTime<Utc>) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM snapshots WHERE received_at >= ?1",
                [format_time(since)],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Per GSTIN, the receive time of its last answer the portal meant (ok or no_data).
    pub fn last_answer_by_gstin(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT gstin, MAX(received_at) FROM snapshots WHERE outcome IN ('ok', 'no_data') GROUP BY gstin ORDER BY gstin",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every GSTIN's session state.
    pub fn session_states(&self) -> Result<Vec<SessionState>> {
        let mut stmt = self
            .conn
            .prepare("SELECT gstin, token_expiry, session_expiry, needs_login, reason, updated_at FROM sessions ORDER BY gstin")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SessionState {
                    gstin: r.get(0)?,
                    token_expiry: r.get(1)?,
                    session_expiry: r.get(2)?,
                    needs_login: r.get::<_, i64>(3)? != 0,
                    reason: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Runs by status (for status and tests).
    pub fn run_statuses(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, status FROM runs ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Sets the archive's identity when it has none yet (reproducible fixtures).
    pub fn init_archive_id(&self, id: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO archive_meta (key, value) VALUES ('archive_id', ?1)",
                [id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The archive's identity, created on first use: the checkpoint origin's suffix.
    pub fn archive_id(&self) -> Result<String> {
        let existing: Option<String> = self
            .conn
            .query_row("SELECT value FROM archive_meta WHERE key = 'archive_id'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let id = hex::encode(rand::random::<[u8; 8]>());
        self.conn
            .execute(
                "INSERT OR IGNORE INTO archive_meta (key, value) VALUES ('archive_id', ?1)",
                [&id],
            )
            .map_err(|e| self.err(e))?;
        self.archive_id()
    }

    /// Record digests (Merkle leaf inputs) of the first `size` snapshots, in log order.
    ///
    /// Fails when a stored digest is not 64 hex digits.
    pub fn record_digests(&self, size: u64) -> Result<Vec<Digest>> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, record_digest FROM snapshots WHERE seq < ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([size as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, hex) = row.map_err(|e| self.err(e))?;
            let digest = Digest::from_hex(&hex).ok_or_else(|| StoreError::Corrupt {
                path: self.path.display().to_string(),
                seq: seq as u64,
                message: "record digest is not hex".into(),
            })?;
            out.push(digest);
        }
        Ok(out)
    }

    /// Stores a signed checkpoint.
    pub fn append_checkpoint(&self, checkpoint: &CheckpointRow) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO checkpoints (size, root, origin, body, signature, key_id, created_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    checkpoint.size as i64,
                    checkpoint.root,
                    checkpoint.origin,
                    checkpoint.body,
                    checkpoint.signature,
                    checkpoint.key_id,
                    checkpoint.created_at,
                    checkpoint.run_id
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<CheckpointRow>> {
        self.query_checkpoints(
            "SELECT id, size, root, origin, body, signature, key_id, created_at, run_id FROM checkpoints ORDER BY id",
            [],
        )
    }

    /// The first checkpoint (by id) that covers at least `size` leaves.
    pub fn checkpoint_covering(&self, size: u64) -> Result<Option<CheckpointRow>> {
        Ok(self
            .query_checkpoints(
                "SELECT id, size, root, origin, body, signature, key_id, created_at, run_id FROM checkpoints
                 WHERE size >= ?1 ORDER BY id LIMIT 1",
                [size as i64],
            )?
            .pop())
    }

    pub fn checkpoint(&self, id: i64) -> Result<Option<CheckpointRow>> {
        Ok(self
            .query_checkpoints(
                "SELECT id, size, root, origin, body, signature, key_id, created_at, run_id FROM checkpoints WHERE id = ?1",
                [id],
            )?
            .pop())
    }

    fn query_checkpoints<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<CheckpointRow>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(CheckpointRow {
                    id: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    root: r.get(2)?,
                    origin: r.get(3)?,
                    body: r.get(4)?,
                    signature: r.get(5)?,
                    key_id: r.get(6)?,
                    created_at: r.get(7)?,
                    run_id: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Records an exported bundle.
    pub fn append_bundle(&self, bundle: &BundleRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO bundles (bundle_id, gstin, period, as_of, checkpoint_id, file_name, sha256, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    bundle.bundle_id,
                    bundle.gstin,
                    bundle.period,
                    bundle.as_of,
                    bundle.checkpoint_id,
                    bundle.file_name,
                    bundle.sha256,
                    bundle.created_at
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Bundles of a GSTIN, oldest first.
    pub fn bundles_of(&self, gstin: &str) -> Result<Vec<BundleRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT bundle_id, gstin, period, as_of, checkpoint_id, file_name, sha256, created_at
                 FROM bundles WHERE gstin = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([gstin], |r| {
                Ok(BundleRow {
                    bundle_id: r.get(0)?,
                    gstin: r.get(1)?,
                    period: r.get(2)?,
                    as_of: r.get(3)?,
                    checkpoint_id: r.get(4)?,
                    file_name: r.get(5)?,
                    sha256: r.get(6)?,
                    created_at: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Snapshots of one GSTIN whose period is one of `periods`, received at or
    /// before `as_of` (RFC 3339), in log order.
    pub fn snapshots_for_bundle(&self, gstin: &str, periods: &[String], as_of: &str) -> Result<Vec<SnapshotRow>> {
        let placeholders = vec!["?"; periods.len()].join(", ");
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE gstin = ? AND period IN ({placeholders}) AND received_at <= ? ORDER BY seq"
        );
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&gstin];
        for p in periods {
            values.push(p);
        }
        values.push(&as_of);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(values.as_slice(), row_to_snapshot)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Change rows of one GSTIN for `periods`, detected at or before `as_of`.
    pub fn changes_for_bundle(&self, gstin: &str, periods: &[String], as_of: &str) -> Result<Vec<ChangeRow>> {
        let placeholders = vec!["?"; periods.len()].join(", ");
        let sql = format!(
            "SELECT seq, previous_seq, gstin, endpoint, period, page, old_payload_sha256, new_payload_sha256, detected_at
             FROM changes WHERE gstin = ? AND period IN ({placeholders}) AND detected_at <= ? ORDER BY seq"
        );
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&gstin];
        for p in periods {
            values.push(p);
        }
        values.push(&as_of);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(values.as_slice(), row_to_change)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}

/// The latest run of one daemon job.
/// (endpoint, period, page, received_at, payload SHA-256) of one answer.
pub type AnswerRow = (String, String, u32, String, String);

/// The latest answers of one key, for the capture planner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLatest {
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    /// Outcome and receive time of the latest answer of any outcome.
    pub outcome: String,
    pub received_at: String,
    /// Receive time and payload SHA-256 of the latest `ok`/`no_data`/`api_error` answer.
    pub good: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRunRow {
    pub job: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub result: String,
    pub detail: Option<String>,
}

/// Exclusive right to write an archive, held for a process's lifetime: a
/// second daemon, or `snapshot` while the daemon runs, is refused. Readers
/// (queries, verify, export's reads) never take it.
#[derive(Debug)]
pub struct WriterLock {
    _file: std::fs::File,
    pub path: PathBuf,
}

impl WriterLock {
    /// Takes the lock beside the archive (`<archive>.lock`), or says who holds it.
    pub fn acquire(archive: &Path) -> Result<WriterLock> {
        use std::io::{Read, Seek};
        let path = PathBuf::from(format!("{}.lock", archive.display()));
        let io = |message: String| StoreError::Io {
            path: archive.display().to_string(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| io(e.to_string()))?;
        }
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&path)
        }
        .map_err(|e| io(format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(io(format!(
                    "another gstvault process ({}) is writing to this archive: stop it or wait for it to finish",
                    holder.trim().lines().next().unwrap_or("pid unknown")
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(format!("cannot lock {}: {e}", path.display()))),
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "pid {}", std::process::id());
        let _ = file.sync_all();
        Ok(WriterLock { _file: file, path })
    }
}

/// A stored checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRow {
    pub id: i64,
    pub size: u64,
    pub root: String,
    pub origin: String,
    pub body: String,
    pub signature: String,
    pub key_id: String,
    pub created_at: String,
    pub run_id: Option<i64>,
}

/// A recorded bundle export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleRow {
    pub bundle_id: String,
    pub gstin: String,
    pub period: String,
    pub as_of: String,
    pub checkpoint_id: i64,
    pub file_name: String,
    pub sha256: String,
    pub created_at: String,
}

/// A stored change row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    pub seq: u64,
    pub previous_seq: u64,
    pub gstin: String,
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    pub old_payload_sha256: String,
    pub new_payload_sha256: String,
    pub detected_at: String,
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

thread_local! {
    /// One zstd compression context per thread, reused: making a level-9
    /// context allocates megabytes of tables, which cost more than
    /// compressing a typical payload of a few KiB.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    /// Likewise for decompression (exports and queries read payloads in loops).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A stored payload decompressed (`size` is its recorded length).
pub(crate) fn decompress_payload(compressed: &[u8], size: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new()?);
        }
        slot.as_mut()
            .expect("decompressor just made")
            .decompress(compressed, size)
    })
}

/// A payload compressed as stored: zstd at [`PAYLOAD_ZSTD_LEVEL`], the same
/// bytes `zstd::bulk::compress` gives.
pub(crate) fn compress_payload(payload: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(PAYLOAD_ZSTD_LEVEL)?);
        }
        slot.as_mut().expect("compressor just made").compress(payload)
    })
}

/// Appends one snapshot as log entry `seq` inside the caller's transaction.
fn append_in(tx: &rusqlite::Transaction<'_>, path: &Path, seq: i64, snapshot: &NewSnapshot<'_>) -> Result<Appended> {
    let path = path.to_path_buf();

    let mut new_payload_bytes = 0u64;
    let mut body_sha = None;
    let mut payload_sha = None;
    let mut payload_offset = None;
    let mut envelope: Option<Vec<u8>> = None;
    if let Some(body) = snapshot.body {
        let span = snapshot.reading.map(|r| r.payload.clone()).unwrap_or(0..body.len());
        let payload = &body[span.clone()];
        let digest = Digest::of(payload);
        let exists: bool = tx
            .prepare_cached("SELECT 1 FROM payloads WHERE sha256 = ?1")
            .and_then(|mut q| q.query_row([digest.hex()], |_| Ok(true)).optional())
            .map_err(|e| sqlite(&path, e))?
            .unwrap_or(false);
        if !exists {
            let compressed = compress_payload(payload).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                message: format!("zstd: {e}"),
            })?;
            new_payload_bytes = compressed.len() as u64;
            tx.prepare_cached("INSERT INTO payloads (sha256, size, codec, bytes) VALUES (?1, ?2, 'zstd', ?3)")
                .and_then(|mut q| q.execute(params![digest.hex(), payload.len() as i64, compressed]))
                .map_err(|e| sqlite(&path, e))?;
        }
        let mut env = Vec::with_capacity(body.len() - payload.len());
        env.extend_from_slice(&body[..span.start]);
        env.extend_from_slice(&body[span.end..]);
        envelope = Some(env);
        payload_offset = Some(span.start as i64);
        body_sha = Some(Digest::of(body).hex());
        payload_sha = Some(digest.hex());
    }

    let reading = snapshot.reading;
    let outcome = reading.map(|r| r.outcome).unwrap_or(snapshot.outcome);
    let chksums = reading
        .map(|r| serde_json::to_string(&r.chksums).expect("map of strings serialises"))
        .unwrap_or_else(|| "{}".to_string());
    let detail = snapshot
        .detail
        .clone()
        .or_else(|| reading.and_then(|r| r.detail.clone()));
    let mut row = SnapshotRow {
        seq: seq as u64,
        run_id: snapshot.run_id,
        gstin: snapshot.gstin.to_string(),
        endpoint: snapshot.endpoint.to_string(),
        period: snapshot.period.to_string(),
        page: snapshot.page,
        method: snapshot.method.to_string(),
        request: snapshot.request.to_string(),
        requested_at: format_time(snapshot.requested_at),
        received_at: format_time(snapshot.received_at),
        http_status: snapshot.http_status,
        transaction_id: reading.and_then(|r| r.transaction_id.clone()),
        status_cd: reading.and_then(|r| r.status_cd.clone()),
        error_cd: reading.and_then(|r| r.error_cd.clone()),
        outcome: outcome.as_str().to_string(),
        detail,
        attempts: snapshot.attempts,
        body_sha256: body_sha,
        body_size: snapshot.body.map(|b| b.len() as u64),
        payload_sha256: payload_sha.clone(),
        chksums,
        record_digest: String::new(),
        leaf_hash: String::new(),
    };
    let record = row.leaf_record();
    let record_digest = record.record_digest();
    let leaf_hash = record.leaf_hash();
    row.record_digest = record_digest.hex();
    row.leaf_hash = leaf_hash.hex();
    insert_snapshot(tx, &path, &row, payload_offset, envelope.as_deref())?;

    // A change is a different payload than the previous answer of the same
    // key; only answers the portal meant (ok, no_data) count, so a flaky
    // 5xx between two equal answers is not a change.
    let mut changed_from = None;
    if matches!(outcome, Outcome::Ok | Outcome::NoData) {
        let previous: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT seq, payload_sha256 FROM snapshots
                 WHERE gstin = ?1 AND endpoint = ?2 AND period = ?3 AND page = ?4 AND seq < ?5
                   AND outcome IN ('ok', 'no_data') AND payload_sha256 IS NOT NULL
                 ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut q| {
                q.query_row(
                    params![row.gstin, row.endpoint, row.period, row.page as i64, seq],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .map_err(|e| sqlite(&path, e))?;
        if let (Some((previous_seq, old_sha)), Some(new_sha)) = (previous, payload_sha) {
            if old_sha != new_sha {
                insert_change(
                    tx,
                    &path,
                    &ChangeRow {
                        seq: seq as u64,
                        previous_seq: previous_seq as u64,
                        gstin: row.gstin.clone(),
                        endpoint: row.endpoint.clone(),
                        period: row.period.clone(),
                        page: row.page,
                        old_payload_sha256: old_sha,
                        new_payload_sha256: new_sha,
                        detected_at: row.received_at.clone(),
                    },
                )?;
                changed_from = Some(previous_seq as u64);
            }
        }
    }
    Ok(Appended {
        seq: seq as u64,
        leaf_hash,
        new_payload_bytes,
        changed_from,
    })
}

/// Writes one complete snapshot row (digests set) inside the caller's
/// transaction: the one place the snapshot columns are listed for writing.
pub(crate) fn insert_snapshot(
    conn: &Connection,
    path: &Path,
    row: &SnapshotRow,
    payload_offset: Option<i64>,
    envelope: Option<&[u8]>,
) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO snapshots ({SNAPSHOT_COLUMNS}, payload_offset, envelope) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
    ))
    .and_then(|mut q| {
        q.execute(params![
            row.seq as i64,
            row.run_id,
            row.gstin,
            row.endpoint,
            row.period,
            row.page as i64,
            row.method,
            row.request,
            row.requested_at,
            row.received_at,
            row.http_status.map(i64::from),
            row.transaction_id,
            row.status_cd,
            row.error_cd,
            row.outcome,
            row.detail,
            row.attempts as i64,
            row.body_sha256,
            row.body_size.map(|s| s as i64),
            row.payload_sha256,
            row.chksums,
            row.record_digest,
            row.leaf_hash,
            payload_offset,
            envelope,
        ])
    })
    .map(|_| ())
    .map_err(|e| sqlite(path, e))
}

/// Writes one change row inside the caller's transaction.
pub(crate) fn insert_change(conn: &Connection, path: &Path, change: &ChangeRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO changes (seq, previous_seq, gstin, endpoint, period, page,
             old_payload_sha256, new_payload_sha256, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut q| {
        q.execute(params![
            change.seq as i64,
            change.previous_seq as i64,
            change.gstin,
            change.endpoint,
            change.period,
            change.page as i64,
            change.old_payload_sha256,
            change.new_payload_sha256,
            change.detected_at
        ])
    })
    .map(|_| ())
    .map_err(|e| sqlite(path, e))
}

/// Creates an empty file readable and writable by its owner only.
pub fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename), owner-only.
pub fn write_owner_only_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    {
        let mut file = create_owner_only(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::parse;

    fn snapshot<'a>(body: &'a [u8], reading: &'a Reading, t: DateTime<Utc>) -> NewSnapshot<'a> {
        NewSnapshot {
            run_id: 1,
            gstin: "27AAPFU0939F1ZV",
            endpoint: "gstr-1-hsn",
            period: "2025-04",
            page: 0,
            method: "GET",
            request: "/x",
            requested_at: t,
            received_at: t,
            http_status: Some(200),
            body: Some(body),
            reading: Some(reading),
            outcome: reading.outcome,
            detail: None,
            attempts: 1,
        }
    }

    #[test]
    fn bytes_round_trip_dedup_and_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.sqlite")).unwrap();
        let t = Utc::now();
        store.begin_run("snapshot", t).unwrap();
        let a = br#"{"code":200,"timestamp":1,"transaction_id":"a","data":{"status_cd":"1","data":{"x":1}}}"#;
        let b = br#"{"code":200,"timestamp":2,"transaction_id":"b","data":{"status_cd":"1","data":{"x":1}}}"#;
        let c = br#"{"code":200,"timestamp":3,"transaction_id":"c","data":{"status_cd":"1","data":{"x":2}}}"#;
        let (ra, rb, rc) = (parse(200, a), parse(200, b), parse(200, c));
        let first = store.append(&snapshot(a, &ra, t)).unwrap();
        let second = store.append(&snapshot(b, &rb, t)).unwrap();
        let third = store.append(&snapshot(c, &rc, t)).unwrap();
        assert_eq!((first.seq, second.seq, third.seq), (0, 1, 2));
        assert!(first.new_payload_bytes > 0);
        assert_eq!(second.new_payload_bytes, 0);
        assert_eq!(second.changed_from, None);
        assert_eq!(third.changed_from, Some(1));
        assert_eq!(store.body(0).unwrap().unwrap(), a.to_vec());
        assert_eq!(store.body(2).unwrap().unwrap(), c.to_vec());
        let row = store.snapshot(1).unwrap().unwrap();
        assert_eq!(row.leaf_record().leaf_hash().hex(), row.leaf_hash);
        assert_eq!(row.leaf_record().record_digest().hex(), row.record_digest);
        // Append-only: the triggers refuse edits.
        assert!(store
            .connection()
            .execute("DELETE FROM snapshots WHERE seq = 0", [])
            .is_err());
        assert!(store.connection().execute("UPDATE payloads SET size = 0", []).is_err());
    }
}
