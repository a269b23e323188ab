//! The archive: the only module that runs SQL. An embedded SQLite database in
//! WAL mode with the schema in `migrations/` (refinery, embedded).
//!
//! Each snapshot is appended in one IMMEDIATE transaction (shared with the
//! rest of its group commit) together with its payload (content-addressed by
//! SHA-256, zstd-compressed), its change row and the Merkle tiles it
//! completes, so a crash never leaves a partial row. Bytes are kept exactly: a
//! body is stored as its envelope (the body with the payload span cut out,
//! itself a shared template plus two values, see `compact`) plus a reference
//! to the payload, and [`Store::body`] puts them back together byte for byte.
//! Evidence tables are append-only (triggers refuse UPDATE and DELETE). This
//! module reads no clock: times come in as arguments.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::domain::digest::Digest;
use crate::domain::envelope::{Outcome, Reading};
use crate::domain::log::{LeafRecord, LEAF_VERSION};
use crate::domain::merkle::{self, StoredTree, TileSource};

mod compact;
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
    /// What [`crate::domain::envelope::parse`] read from `body`.
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
}

impl SnapshotRow {
    /// The digest of [`SnapshotRow::leaf_record`]: the Merkle leaf input.
    pub fn record_digest(&self) -> Digest {
        self.leaf_record().record_digest()
    }

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

/// A read transaction of [`Store::begin_read`]; ends when dropped.
pub struct ReadTransaction<'a> {
    conn: &'a Connection,
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        // A read transaction has nothing to keep: ending it cannot lose data.
        let _ = self.conn.execute_batch("COMMIT");
    }
}

/// The snapshot columns of [`row_to_snapshot`], selected from [`SNAPSHOT_FROM`].
const SNAPSHOT_COLUMNS: &str = "s.seq, s.run_id, k.gstin, k.endpoint, k.period, k.page, q.method, q.request, \
     s.received_at - s.latency_ms, s.received_at, s.http_status, s.transaction_id, s.status_cd, s.error_cd, s.outcome, s.detail, \
     s.attempts, s.body_sha256, s.body_size, p.sha256, s.chksums";

/// A snapshot row with its key, request line and payload digest (schema 5
/// keeps those once, in their own tables).
const SNAPSHOT_FROM: &str = "snapshots s JOIN keys k ON k.id = s.key_id JOIN requests q ON q.id = s.request_id \
     LEFT JOIN payloads p ON p.id = s.payload_id";

/// The stored parts of a body, after [`SNAPSHOT_COLUMNS`] (from [`SNAPSHOT_FROM`]
/// joined with `envelopes e`): payload offset, raw envelope, template, timestamp.
const BODY_PART_COLUMNS: &str = "s.payload_offset, s.envelope, e.template, s.received_at + s.envelope_ts_delta";

fn row_to_snapshot(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
    let hex = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(row.get::<_, Option<Vec<u8>>>(i)?.map(|b| compact::blob_hex(&b)))
    };
    Ok(SnapshotRow {
        seq: row.get::<_, i64>(0)? as u64,
        run_id: row.get(1)?,
        gstin: row.get(2)?,
        endpoint: row.get(3)?,
        period: row.get(4)?,
        page: row.get::<_, i64>(5)? as u32,
        method: row.get(6)?,
        request: row.get(7)?,
        requested_at: compact::time_text(row.get(8)?),
        received_at: compact::time_text(row.get(9)?),
        http_status: row.get::<_, Option<i64>>(10)?.map(|s| s as u16),
        transaction_id: compact::transaction_id_text(row.get_ref(11)?)?,
        status_cd: row.get(12)?,
        error_cd: row.get(13)?,
        outcome: row.get(14)?,
        detail: row.get(15)?,
        attempts: row.get::<_, i64>(16)? as u32,
        body_sha256: hex(17)?,
        body_size: row.get::<_, Option<i64>>(18)?.map(|s| s as u64),
        payload_sha256: hex(19)?,
        chksums: row.get(20)?,
    })
}

/// The stored parts of a body read at `at` ([`BODY_PART_COLUMNS`]): payload
/// offset and envelope bytes (None when no body arrived).
fn row_to_body_parts(row: &rusqlite::Row<'_>, at: usize, tid: Option<&str>) -> rusqlite::Result<BodyParts> {
    let offset: Option<i64> = row.get(at)?;
    let raw: Option<Vec<u8>> = row.get(at + 1)?;
    let template: Option<Vec<u8>> = row.get(at + 2)?;
    let ts: Option<i64> = row.get(at + 3)?;
    let envelope = match (raw, template, ts, tid) {
        (Some(raw), _, _, _) => Some(raw),
        (None, Some(template), Some(ts), Some(tid)) => compact::join_envelope(&template, ts, tid),
        _ => None,
    };
    Ok((offset.map(|o| o.max(0) as usize), envelope))
}

/// Payload offset and envelope of a stored body.
type BodyParts = (Option<usize>, Option<Vec<u8>>);

/// The change columns of [`row_to_change`], selected from [`CHANGE_FROM`].
const CHANGE_COLUMNS: &str =
    "c.seq, c.previous_seq, k.gstin, k.endpoint, k.period, k.page, o.sha256, n.sha256, c.detected_at";

const CHANGE_FROM: &str = "changes c JOIN keys k ON k.id = c.key_id JOIN payloads o ON o.id = c.old_payload_id \
     JOIN payloads n ON n.id = c.new_payload_id";

/// Reads a change row selected as [`CHANGE_COLUMNS`].
pub(crate) fn row_to_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRow> {
    Ok(ChangeRow {
        seq: r.get::<_, i64>(0)? as u64,
        previous_seq: r.get::<_, i64>(1)? as u64,
        gstin: r.get(2)?,
        endpoint: r.get(3)?,
        period: r.get(4)?,
        page: r.get::<_, i64>(5)? as u32,
        old_payload_sha256: compact::blob_hex(&r.get::<_, Vec<u8>>(6)?),
        new_payload_sha256: compact::blob_hex(&r.get::<_, Vec<u8>>(7)?),
        detected_at: compact::time_text(r.get(8)?),
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
            crate::files::create_owner_only(path).map_err(|e| StoreError::Io {
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
        let report = embedded::migrations::runner()
            .run(&mut store.conn)
            .map_err(|source| StoreError::Migration {
                path: path.display().to_string(),
                source,
            })?;
        store.ensure_tiles()?;
        let compacted = report.applied_migrations().iter().any(|m| m.version() == 5);
        if compacted && store.snapshot_count()? > 0 {
            // Schema 5 rewrote every row in about a fifth of the space: give
            // the freed pages back. VACUUM is atomic; when it cannot run (no
            // room for its copy) the archive stays correct and reuses them.
            if let Err(e) = store.conn.execute_batch("VACUUM") {
                tracing::warn!(
                    archive = %path.display(),
                    error = %e,
                    "the archive was migrated but not compacted; its free pages will be reused"
                );
            }
        }
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
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Fails unless the archive's schema is the one this build reads (a
    /// read-only open cannot migrate).
    fn check_schema(&self) -> Result<()> {
        let latest = embedded::migrations::runner()
            .get_migrations()
            .iter()
            .map(|m| m.version())
            .max()
            .unwrap_or(0) as i64;
        let applied: Option<i64> = self
            .conn
            .query_row("SELECT MAX(version) FROM refinery_schema_history", [], |r| r.get(0))
            .map_err(|e| StoreError::Io {
                path: self.path.display().to_string(),
                message: format!("not a gstvault archive ({e})"),
            })?;
        let applied = applied.unwrap_or(0);
        let message = if applied < latest {
            format!(
                "archive schema {applied} is older than this gstvault's {latest}: run a command that writes \
                 (`gstvault snapshot`, `export` or `daemon`) once to migrate it"
            )
        } else if applied > latest {
            format!("archive schema {applied} is newer than this gstvault's {latest}: upgrade gstvault")
        } else {
            return Ok(());
        };
        Err(StoreError::Io {
            path: self.path.display().to_string(),
            message,
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

    fn tiles(&self) -> ArchiveTiles<'_> {
        ArchiveTiles {
            conn: &self.conn,
            path: &self.path,
        }
    }

    /// Builds the Merkle tiles of an archive migrated from schema 4 (which
    /// stored leaf hashes per row instead), once, and checks the rebuilt tree
    /// against every signed checkpoint's root.
    fn ensure_tiles(&mut self) -> Result<()> {
        let path = self.path.clone();
        let built = |conn: &Connection| -> Result<bool> {
            conn.query_row("SELECT 1 FROM archive_meta WHERE key = 'merkle_tiles'", [], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
                .map_err(|e| sqlite(&path, e))
        };
        // Checked without the write lock first: the usual case, every open but one.
        if built(&self.conn)? {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        if built(&tx)? {
            return Ok(());
        }
        let size: i64 = tx
            .query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get(0))
            .map_err(|e| sqlite(&path, e))?;
        grow_tiles(&tx, &path, 0, size as u64, &[])?;
        let tiles = ArchiveTiles { conn: &tx, path: &path };
        let mut stmt = tx
            .prepare("SELECT id, size, root FROM checkpoints ORDER BY id")
            .map_err(|e| sqlite(&path, e))?;
        let checkpoints = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| sqlite(&path, e))?;
        drop(stmt);
        for (id, size, root) in checkpoints {
            let rebuilt = StoredTree::new(&tiles, size as u64)
                .root()
                .map_err(|message| StoreError::Io {
                    path: path.display().to_string(),
                    message,
                })?;
            if rebuilt.hex() != root {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    message: format!(
                        "the log rebuilt from the rows does not give checkpoint {id}'s root ({size} leaves); \
                         run `gstvault verify --archive`"
                    ),
                });
            }
        }
        tx.execute(
            "INSERT INTO archive_meta (key, value) VALUES ('merkle_tiles', 'tlog-tiles, height 2')",
            [],
        )
        .map_err(|e| sqlite(&path, e))?;
        tx.commit().map_err(|e| sqlite(&path, e))
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

    /// Appends one snapshot with its payload, change row and Merkle tiles, atomically.
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
        let leaves: Vec<Digest> = appended.iter().map(|a| a.leaf_hash).collect();
        grow_tiles(&tx, &path, next as u64, next as u64 + snapshots.len() as u64, &leaves)?;
        tx.commit().map_err(|e| sqlite(&path, e))?;
        Ok(appended)
    }

    /// The exact bytes received for snapshot `seq` (None for a transport error).
    ///
    /// Fails when the row is missing or its stored parts do not reassemble.
    pub fn body(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        type Stored = (Option<(Vec<u8>, i64, Vec<u8>)>, BodyParts);
        let row: Option<Stored> = self
            .conn
            .prepare_cached(
                "SELECT p.sha256, p.size, p.bytes, s.transaction_id, s.payload_offset, s.envelope, e.template, \
                        s.received_at + s.envelope_ts_delta
                 FROM snapshots s LEFT JOIN payloads p ON p.id = s.payload_id
                      LEFT JOIN envelopes e ON e.id = s.envelope_id
                 WHERE s.seq = ?1",
            )
            .and_then(|mut q| {
                q.query_row([seq as i64], |r| {
                    let payload = match r.get::<_, Option<Vec<u8>>>(0)? {
                        Some(sha) => Some((sha, r.get(1)?, r.get(2)?)),
                        None => None,
                    };
                    let tid = compact::transaction_id_text(r.get_ref(3)?)?;
                    Ok((payload, row_to_body_parts(r, 4, tid.as_deref())?))
                })
                .optional()
            })
            .map_err(|e| self.err(e))?;
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.path.display().to_string(),
            seq,
            message,
        };
        let Some((payload, (offset, envelope))) = row else {
            return Err(corrupt("no such snapshot".into()));
        };
        let (Some((sha, size, compressed)), Some(offset), Some(envelope)) = (payload, offset, envelope) else {
            return Ok(None);
        };
        let payload = decompress_payload(&compressed, size.max(0) as usize).map_err(|e| StoreError::Io {
            path: self.path.display().to_string(),
            message: format!("payload {} does not decompress: {e}", compact::blob_hex(&sha)),
        })?;
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
            .prepare_cached("SELECT size, bytes FROM payloads WHERE sha256 = ?1")
            .and_then(|mut q| {
                q.query_row([compact::hex_blob(sha256).unwrap_or_default()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
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
            .prepare_cached(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} WHERE s.seq = ?1"
            ))
            .and_then(|mut q| q.query_row([seq as i64], row_to_snapshot).optional())
            .map_err(|e| self.err(e))
    }

    /// Snapshots of one run, in log order.
    pub fn snapshots_of_run(&self, run_id: i64) -> Result<Vec<SnapshotRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} WHERE s.run_id = ?1 ORDER BY s.seq"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([run_id], row_to_snapshot).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Change rows of one run: (seq, previous_seq, gstin, endpoint, period, page).
    pub fn changes_of_run(&self, run_id: i64) -> Result<Vec<ChangeRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} JOIN snapshots s ON s.seq = c.seq \
                 WHERE s.run_id = ?1 ORDER BY c.seq"
            ))
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
    pub fn scan_snapshots(&self, f: impl FnMut(SnapshotRow, Option<usize>, Option<Vec<u8>>)) -> Result<()> {
        self.scan_range(0, u64::MAX, f)
    }

    /// Calls `f` with each snapshot of `start..end` (log order), its payload offset and envelope.
    pub fn scan_range(
        &self,
        start: u64,
        end: u64,
        f: impl FnMut(SnapshotRow, Option<usize>, Option<Vec<u8>>),
    ) -> Result<()> {
        scan_range_in(&self.conn, &self.path, start, end, f)
    }

    /// The persisted Merkle tree of the first `size` snapshots.
    pub fn tree(&self, size: u64) -> StoredTree<'_, Store> {
        StoredTree::new(self, size)
    }

    /// Every stored payload digest with its recorded size.
    pub fn payload_index(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, size FROM payloads ORDER BY sha256")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((compact::blob_hex(&r.get::<_, Vec<u8>>(0)?), r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every change row, in log order.
    pub fn all_changes(&self) -> Result<Vec<ChangeRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} ORDER BY c.seq"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_change).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Runs `f` inside one read transaction, so every query in it sees the
    /// same committed state even while another process appends (WAL).
    pub fn read_consistent<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Store) -> std::result::Result<T, E>,
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
                "SELECT k.endpoint, k.period, k.page, MAX(s.seq), s.outcome, s.received_at \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id WHERE k.gstin = ?1 GROUP BY k.id",
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
                    compact::time_text(r.get(5)?),
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
                "SELECT k.endpoint, k.period, k.page, MAX(s.seq), s.received_at, p.sha256 \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id LEFT JOIN payloads p ON p.id = s.payload_id \
                 WHERE k.gstin = ?1 AND s.outcome IN ('ok', 'no_data', 'api_error') GROUP BY k.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([gstin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u32,
                    compact::time_text(r.get(4)?),
                    r.get::<_, Option<Vec<u8>>>(5)?.map(|b| compact::blob_hex(&b)),
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
                "SELECT k.endpoint, k.period, k.page, s.received_at, p.sha256 \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id LEFT JOIN payloads p ON p.id = s.payload_id \
                 WHERE k.gstin = ?1 AND k.endpoint = ?2 AND s.outcome IN ('ok', 'no_data', 'api_error') ORDER BY s.seq",
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
                        compact::time_text(r.get(3)?),
                        r.get::<_, Option<Vec<u8>>>(4)?
                            .map(|b| compact::blob_hex(&b))
                            .unwrap_or_default(),
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
                [compact::millis(since)],
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
                "SELECT k.gstin, MAX(s.received_at) FROM keys k JOIN snapshots s ON s.key_id = k.id \
                 WHERE s.outcome IN ('ok', 'no_data') GROUP BY k.gstin ORDER BY k.gstin",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, compact::time_text(r.get(1)?))))
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

    /// The stored form of an archive time text ([`format_time`]).
    ///
    /// Fails when `text` is not RFC 3339.
    pub(crate) fn stored_time(&self, text: &str) -> Result<i64> {
        compact::text_millis(text).ok_or_else(|| self.bad_time(text))
    }

    /// The error for a time text that is not RFC 3339.
    fn bad_time(&self, text: &str) -> StoreError {
        StoreError::Io {
            path: self.path.display().to_string(),
            message: format!("time {text:?} is not RFC 3339"),
        }
    }

    /// Snapshots of one GSTIN whose period is one of `periods`, received at or
    /// before `as_of` (RFC 3339), in log order.
    pub fn snapshots_for_bundle(&self, gstin: &str, periods: &[String], as_of: &str) -> Result<Vec<SnapshotRow>> {
        let placeholders = vec!["?"; periods.len()].join(", ");
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} \
             WHERE k.gstin = ? AND k.period IN ({placeholders}) AND s.received_at <= ? ORDER BY s.seq"
        );
        let as_of = self.stored_time(as_of)?;
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
            "SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} \
             WHERE k.gstin = ? AND k.period IN ({placeholders}) AND c.detected_at <= ? ORDER BY c.seq"
        );
        let as_of = self.stored_time(as_of)?;
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

/// Calls `f` with each snapshot of `start..end` (log order), its payload offset and envelope.
fn scan_range_in(
    conn: &Connection,
    path: &Path,
    start: u64,
    end: u64,
    mut f: impl FnMut(SnapshotRow, Option<usize>, Option<Vec<u8>>),
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SNAPSHOT_COLUMNS}, {BODY_PART_COLUMNS} FROM {SNAPSHOT_FROM} \
             LEFT JOIN envelopes e ON e.id = s.envelope_id WHERE s.seq >= ?1 AND s.seq < ?2 ORDER BY s.seq"
        ))
        .map_err(|e| sqlite(path, e))?;
    let end = end.min(i64::MAX as u64) as i64;
    let mut rows = stmt.query(params![start as i64, end]).map_err(|e| sqlite(path, e))?;
    while let Some(row) = rows.next().map_err(|e| sqlite(path, e))? {
        let snapshot = row_to_snapshot(row).map_err(|e| sqlite(path, e))?;
        let (offset, envelope) =
            row_to_body_parts(row, 21, snapshot.transaction_id.as_deref()).map_err(|e| sqlite(path, e))?;
        f(snapshot, offset, envelope);
    }
    Ok(())
}

/// The archive's leaf hashes (computed from the rows) and stored Merkle
/// tiles, read through one connection (the store's, or a writer's transaction).
struct ArchiveTiles<'c> {
    conn: &'c Connection,
    path: &'c Path,
}

impl TileSource for ArchiveTiles<'_> {
    fn leaf_hashes(&self, start: u64, end: u64) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(end.saturating_sub(start).min(1 << 16) as usize * 32);
        let mut next = start;
        let mut gap = None;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} WHERE s.seq >= ?1 AND s.seq < ?2 ORDER BY s.seq"
            ))
            .map_err(|e| sqlite(self.path, e).to_string())?;
        let rows = stmt
            .query_map(params![start as i64, end.min(i64::MAX as u64) as i64], row_to_snapshot)
            .map_err(|e| sqlite(self.path, e).to_string())?;
        for row in rows {
            let row = row.map_err(|e| sqlite(self.path, e).to_string())?;
            if row.seq != next && gap.is_none() {
                gap = Some(next);
            }
            next = row.seq + 1;
            out.extend_from_slice(&crate::domain::log::leaf_hash(&row.record_digest().0).0);
        }
        match gap {
            None if next == end => Ok(out),
            _ => Err(format!(
                "archive {}: snapshot {} is missing from the log",
                self.path.display(),
                gap.unwrap_or(next)
            )),
        }
    }

    fn stored_tile(&self, level: u8, index: u64) -> std::result::Result<Option<Vec<u8>>, String> {
        self.conn
            .prepare_cached("SELECT hashes FROM merkle_tiles WHERE level = ?1 AND idx = ?2")
            .and_then(|mut q| q.query_row(params![level, index as i64], |r| r.get(0)).optional())
            .map_err(|e| sqlite(self.path, e).to_string())
    }
}

impl TileSource for Store {
    fn leaf_hashes(&self, start: u64, end: u64) -> std::result::Result<Vec<u8>, String> {
        self.tiles().leaf_hashes(start, end)
    }

    fn stored_tile(&self, level: u8, index: u64) -> std::result::Result<Option<Vec<u8>>, String> {
        self.tiles().stored_tile(level, index)
    }
}

/// The archive's tiles while a batch is written: the batch's leaf hashes,
/// already computed, instead of reading its rows back.
struct BatchTiles<'c> {
    archive: ArchiveTiles<'c>,
    /// Leaf index of `leaves[0]`.
    first: u64,
    leaves: &'c [Digest],
}

impl TileSource for BatchTiles<'_> {
    fn leaf_hashes(&self, start: u64, end: u64) -> std::result::Result<Vec<u8>, String> {
        let mut out = if start < self.first {
            self.archive.leaf_hashes(start, end.min(self.first))?
        } else {
            Vec::new()
        };
        let from = start.max(self.first) - self.first;
        let to = (end - self.first).min(self.leaves.len() as u64);
        if from < to {
            self.leaves[from as usize..to as usize]
                .iter()
                .for_each(|d| out.extend_from_slice(&d.0));
        }
        if end > self.first + self.leaves.len() as u64 {
            return Err(format!("leaves {start}..{end} are not written yet"));
        }
        Ok(out)
    }

    fn stored_tile(&self, level: u8, index: u64) -> std::result::Result<Option<Vec<u8>>, String> {
        self.archive.stored_tile(level, index)
    }
}

/// Writes the Merkle tiles that change when the log grows from `old` to
/// `old + leaves.len()` leaves, inside the caller's transaction (the rows
/// written, `leaves` their leaf hashes; empty: read them from the rows).
fn grow_tiles(conn: &Connection, path: &Path, old: u64, new: u64, leaves: &[Digest]) -> Result<()> {
    let archive = ArchiveTiles { conn, path };
    let grown = if leaves.is_empty() {
        merkle::grown_tiles(&archive, old, new)
    } else {
        let source = BatchTiles {
            archive,
            first: old,
            leaves,
        };
        merkle::grown_tiles(&source, old, new)
    };
    let tiles = grown.map_err(|message| StoreError::Io {
        path: path.display().to_string(),
        message,
    })?;
    let mut put = conn
        .prepare_cached("INSERT OR REPLACE INTO merkle_tiles (level, idx, hashes) VALUES (?1, ?2, ?3)")
        .map_err(|e| sqlite(path, e))?;
    for (level, index, hashes) in tiles {
        put.execute(params![level, index as i64, hashes])
            .map_err(|e| sqlite(path, e))?;
    }
    Ok(())
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
        if payload_id(tx, &path, &digest)?.is_none() {
            let compressed = compress_payload(payload).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                message: format!("zstd: {e}"),
            })?;
            new_payload_bytes = compressed.len() as u64;
            insert_payload(tx, &path, &digest, payload.len(), &compressed)?;
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
    let row = SnapshotRow {
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
        payload_sha256: payload_sha,
        chksums,
    };
    let leaf_hash = row.leaf_record().leaf_hash();
    let ids = insert_snapshot(tx, &path, &row, payload_offset, envelope.as_deref())?;

    // A change is a different payload than the previous answer of the same
    // key; only answers the portal meant (ok, no_data) count, so a flaky
    // 5xx between two equal answers is not a change.
    let mut changed_from = None;
    if let (true, Some(new_payload)) = (matches!(outcome, Outcome::Ok | Outcome::NoData), ids.payload_id) {
        let previous: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT seq, payload_id FROM snapshots
                 WHERE key_id = ?1 AND seq < ?2 AND outcome IN ('ok', 'no_data') AND payload_id IS NOT NULL
                 ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut q| {
                q.query_row(params![ids.key_id, seq], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| sqlite(&path, e))?;
        if let Some((previous_seq, old_payload)) = previous.filter(|(_, old)| *old != new_payload) {
            let detected_at = compact::millis(snapshot.received_at);
            let row = [seq, previous_seq, ids.key_id, old_payload, new_payload, detected_at];
            insert_change_ids(tx, &path, row)?;
            changed_from = Some(previous_seq as u64);
        }
    }
    Ok(Appended {
        seq: seq as u64,
        leaf_hash,
        new_payload_bytes,
        changed_from,
    })
}

/// The ids a written snapshot row refers to.
pub(crate) struct RowIds {
    pub key_id: i64,
    pub payload_id: Option<i64>,
}

/// The id of a stored payload, if stored.
fn payload_id(conn: &Connection, path: &Path, digest: &Digest) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM payloads WHERE sha256 = ?1")
        .and_then(|mut q| q.query_row([&digest.0[..]], |r| r.get(0)).optional())
        .map_err(|e| sqlite(path, e))
}

/// Stores a payload (already compressed) unless one with its digest is stored.
pub(crate) fn insert_payload(
    conn: &Connection,
    path: &Path,
    digest: &Digest,
    size: usize,
    compressed: &[u8],
) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO payloads (sha256, size, codec, bytes) VALUES (?1, ?2, 'zstd', ?3)")
        .and_then(|mut q| q.execute(params![&digest.0[..], size as i64, compressed]))
        .map(|_| ())
        .map_err(|e| sqlite(path, e))
}

/// The id of a row of a lookup table (`keys`, `requests`, `envelopes`),
/// inserting it first when absent.
fn lookup_id(
    conn: &Connection,
    path: &Path,
    select: &str,
    insert: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<i64> {
    let found: Option<i64> = conn
        .prepare_cached(select)
        .and_then(|mut q| q.query_row(values, |r| r.get(0)).optional())
        .map_err(|e| sqlite(path, e))?;
    if let Some(id) = found {
        return Ok(id);
    }
    conn.prepare_cached(insert)
        .and_then(|mut q| q.insert(values))
        .map_err(|e| sqlite(path, e))
}

/// The id of a key, stored on first use.
pub(crate) fn key_id(
    conn: &Connection,
    path: &Path,
    gstin: &str,
    endpoint: &str,
    period: &str,
    page: u32,
) -> Result<i64> {
    lookup_id(
        conn,
        path,
        "SELECT id FROM keys WHERE gstin = ?1 AND endpoint = ?2 AND period = ?3 AND page = ?4",
        "INSERT INTO keys (gstin, endpoint, period, page) VALUES (?1, ?2, ?3, ?4)",
        &[&gstin, &endpoint, &period, &i64::from(page)],
    )
}

/// Writes one complete snapshot row inside the caller's transaction (its
/// payload already stored): the one place the snapshot columns are listed for
/// writing. Returns the ids the row refers to.
pub(crate) fn insert_snapshot(
    conn: &Connection,
    path: &Path,
    row: &SnapshotRow,
    payload_offset: Option<i64>,
    envelope: Option<&[u8]>,
) -> Result<RowIds> {
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.display().to_string(),
        seq: row.seq,
        message,
    };
    let key_id = key_id(conn, path, &row.gstin, &row.endpoint, &row.period, row.page)?;
    let request_id = lookup_id(
        conn,
        path,
        "SELECT id FROM requests WHERE method = ?1 AND request = ?2",
        "INSERT INTO requests (method, request) VALUES (?1, ?2)",
        &[&row.method, &row.request],
    )?;
    let payload_id = match &row.payload_sha256 {
        Some(hex) => {
            let digest = Digest::from_hex(hex).ok_or_else(|| corrupt(format!("payload digest {hex:?} is not hex")))?;
            Some(payload_id(conn, path, &digest)?.ok_or_else(|| corrupt(format!("payload {hex} is not stored")))?)
        }
        None => None,
    };
    // The envelope as a shared template when that is exact, else raw.
    let template = envelope
        .zip(row.transaction_id.as_deref())
        .and_then(|(e, t)| compact::split_envelope(e, t));
    let (envelope_id, envelope_ts, raw_envelope) = match &template {
        Some((template, ts)) => {
            let id = lookup_id(
                conn,
                path,
                "SELECT id FROM envelopes WHERE template = ?1",
                "INSERT INTO envelopes (template) VALUES (?1)",
                &[template],
            )?;
            (Some(id), Some(*ts), None)
        }
        None => (None, None, envelope),
    };
    let time = |text: &str| compact::text_millis(text).ok_or_else(|| corrupt(format!("time {text:?} is not RFC 3339")));
    let digest = |hex: &Option<String>| -> Result<Option<Vec<u8>>> {
        hex.as_deref()
            .map(|h| compact::hex_blob(h).ok_or_else(|| corrupt(format!("digest {h:?} is not hex"))))
            .transpose()
    };
    let requested_at = time(&row.requested_at)?;
    let received_at = time(&row.received_at)?;
    let body_sha256 = digest(&row.body_sha256)?;
    conn.prepare_cached(
        "INSERT INTO snapshots (seq, run_id, key_id, request_id, received_at, latency_ms, http_status,
             transaction_id, status_cd, error_cd, outcome, detail, attempts, body_sha256, body_size, payload_id,
             payload_offset, envelope_id, envelope_ts_delta, envelope, chksums)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )
    .and_then(|mut q| {
        q.execute(params![
            row.seq as i64,
            row.run_id,
            key_id,
            request_id,
            received_at,
            received_at - requested_at,
            row.http_status.map(i64::from),
            row.transaction_id.as_deref().map(compact::transaction_id_value),
            row.status_cd,
            row.error_cd,
            row.outcome,
            row.detail,
            row.attempts as i64,
            body_sha256,
            row.body_size.map(|s| s as i64),
            payload_id,
            payload_offset,
            envelope_id,
            envelope_ts.map(|ts| ts - received_at),
            raw_envelope,
            row.chksums,
        ])
    })
    .map_err(|e| sqlite(path, e))?;
    Ok(RowIds { key_id, payload_id })
}

/// Writes one change row inside the caller's transaction (both payloads stored).
pub(crate) fn insert_change(conn: &Connection, path: &Path, change: &ChangeRow) -> Result<()> {
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.display().to_string(),
        seq: change.seq,
        message,
    };
    let key_id = key_id(conn, path, &change.gstin, &change.endpoint, &change.period, change.page)?;
    let mut ids = [0i64; 2];
    for (id, hex) in ids
        .iter_mut()
        .zip([&change.old_payload_sha256, &change.new_payload_sha256])
    {
        let digest = Digest::from_hex(hex).ok_or_else(|| corrupt(format!("payload digest {hex:?} is not hex")))?;
        *id = payload_id(conn, path, &digest)?.ok_or_else(|| corrupt(format!("payload {hex} is not stored")))?;
    }
    let detected_at = compact::text_millis(&change.detected_at)
        .ok_or_else(|| corrupt(format!("time {:?} is not RFC 3339", change.detected_at)))?;
    let row = [
        change.seq as i64,
        change.previous_seq as i64,
        key_id,
        ids[0],
        ids[1],
        detected_at,
    ];
    insert_change_ids(conn, path, row)
}

/// Writes one change row: (seq, previous_seq, key_id, old_payload_id,
/// new_payload_id, detected_at ms), the one place its columns are listed.
fn insert_change_ids(conn: &Connection, path: &Path, row: [i64; 6]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO changes (seq, previous_seq, key_id, old_payload_id, new_payload_id, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut q| q.execute(row))
    .map(|_| ())
    .map_err(|e| sqlite(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::envelope::parse;

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
        assert_eq!(
            row.leaf_record().leaf_hash(),
            second.leaf_hash,
            "the row reads back as written"
        );
        assert_eq!(row.transaction_id.as_deref(), Some("b"));
        // Append-only: the triggers refuse edits.
        assert!(store
            .connection()
            .execute("DELETE FROM snapshots WHERE seq = 0", [])
            .is_err());
        assert!(store.connection().execute("UPDATE payloads SET size = 0", []).is_err());
    }

    /// An empty archive at schema 4.
    fn schema_4(path: &Path) -> Connection {
        let mut conn = Connection::open(path).unwrap();
        embedded::migrations::runner()
            .set_target(refinery::Target::Version(4))
            .run(&mut conn)
            .unwrap();
        conn
    }

    /// A schema-4 archive (text times and digests, stored leaf hashes) opened
    /// by this version: every row, body and checkpoint root comes through.
    #[test]
    fn schema_4_archives_migrate_without_losing_a_byte() {
        let dir = tempfile::tempdir().unwrap();
        // Rows as this version writes them, to copy into a schema-4 file.
        let mut source = Store::open(&dir.path().join("source.sqlite")).unwrap();
        let t = DateTime::parse_from_rfc3339("2026-06-01T10:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        source.begin_run("snapshot", t).unwrap();
        let uuid = "129433ac-e6bc-7f0b-aca6-9920bfc62b95";
        let bodies: Vec<Vec<u8>> = [(uuid, 1), ("TXN-7", 1), ("c", 2)]
            .iter()
            .enumerate()
            .map(|(i, (tid, x))| {
                format!(r#"{{"code":200,"timestamp":{i},"transaction_id":"{tid}","data":{{"status_cd":"1","data":{{"x":{x}}}}}}}"#)
                    .into_bytes()
            })
            .collect();
        for (i, body) in bodies.iter().enumerate() {
            let reading = crate::domain::envelope::parse(200, body);
            source
                .append(&snapshot(
                    body,
                    &reading,
                    t + chrono::Duration::milliseconds(i as i64 * 1001),
                ))
                .unwrap();
        }
        let rows: Vec<SnapshotRow> = (0..3).map(|i| source.snapshot(i).unwrap().unwrap()).collect();
        let changes = source.all_changes().unwrap();
        assert_eq!(changes.len(), 1);
        let mut tree = crate::domain::merkle::Tree::new();
        rows.iter().for_each(|r| tree.push(r.record_digest()));

        let path = dir.path().join("v4.sqlite");
        let conn = schema_4(&path);
        conn.execute(
            "INSERT INTO runs (id, kind, started_at, status) VALUES (1, 'snapshot', 'x', 'completed')",
            [],
        )
        .unwrap();
        for (row, body) in rows.iter().zip(&bodies) {
            let payload = source.payload(row.payload_sha256.as_ref().unwrap()).unwrap().unwrap();
            let offset = body
                .windows(payload.len())
                .position(|w| w == payload.as_slice())
                .unwrap();
            let mut envelope = body[..offset].to_vec();
            envelope.extend_from_slice(&body[offset + payload.len()..]);
            conn.execute(
                "INSERT OR IGNORE INTO payloads (sha256, size, codec, bytes) VALUES (?1, ?2, 'zstd', ?3)",
                params![
                    row.payload_sha256,
                    payload.len() as i64,
                    compress_payload(&payload).unwrap()
                ],
            )
            .unwrap();
            let record = row.leaf_record();
            conn.execute(
                "INSERT INTO snapshots (seq, run_id, gstin, endpoint, period, page, method, request, requested_at,
                     received_at, http_status, transaction_id, status_cd, error_cd, outcome, detail, attempts,
                     body_sha256, body_size, payload_sha256, payload_offset, envelope, chksums, record_digest, leaf_hash)
                 VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                     ?22, ?23, ?24)",
                params![
                    row.seq as i64, row.gstin, row.endpoint, row.period, row.page, row.method, row.request,
                    row.requested_at, row.received_at, row.http_status, row.transaction_id, row.status_cd,
                    row.error_cd, row.outcome, row.detail, row.attempts, row.body_sha256, row.body_size.map(|s| s as i64),
                    row.payload_sha256, offset as i64, envelope, row.chksums, record.record_digest().hex(),
                    record.leaf_hash().hex()
                ],
            )
            .unwrap();
        }
        let c = &changes[0];
        conn.execute(
            "INSERT INTO changes (seq, previous_seq, gstin, endpoint, period, page, old_payload_sha256,
                 new_payload_sha256, detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                c.seq as i64,
                c.previous_seq as i64,
                c.gstin,
                c.endpoint,
                c.period,
                c.page,
                c.old_payload_sha256,
                c.new_payload_sha256,
                c.detected_at
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO checkpoints (size, root, origin, body, signature, key_id, created_at)
             VALUES (3, ?1, 'o', 'b', 's', 'k', 'x')",
            [tree.root().hex()],
        )
        .unwrap();
        drop(conn);

        let migrated = Store::open(&path).unwrap();
        for (row, body) in rows.iter().zip(&bodies) {
            assert_eq!(&migrated.snapshot(row.seq).unwrap().unwrap(), row);
            assert_eq!(&migrated.body(row.seq).unwrap().unwrap(), body);
        }
        assert_eq!(migrated.all_changes().unwrap(), changes);
        assert_eq!(migrated.tree(3).root().unwrap(), tree.root());
        // The renamed tables' references hold, and the log goes on.
        let dangling: Option<String> = migrated
            .connection()
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .unwrap();
        assert_eq!(dangling, None);
        let mut migrated = migrated;
        let next = br#"{"code":200,"timestamp":9,"transaction_id":"d","data":{"status_cd":"1","data":{"x":3}}}"#;
        let reading = crate::domain::envelope::parse(200, next);
        let appended = migrated.append(&snapshot(next, &reading, t)).unwrap();
        assert_eq!((appended.seq, appended.changed_from), (3, Some(2)));
        assert_eq!(migrated.body(3).unwrap().unwrap(), next.to_vec());
        tree.push(migrated.snapshot(3).unwrap().unwrap().record_digest());
        assert_eq!(migrated.tree(4).root().unwrap(), tree.root());
        // The canonical UUID went to 16 bytes, the other ids stayed text.
        let types: Vec<String> = migrated
            .connection()
            .prepare("SELECT typeof(transaction_id) FROM snapshots WHERE seq < 3 ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(types, ["blob", "text", "text"]);
        // A checkpoint whose root the rows do not give stops the open, with a clear error.
        drop(migrated);
        let path2 = dir.path().join("v4-bad.sqlite");
        let conn = schema_4(&path2);
        conn.execute(
            "INSERT INTO checkpoints (size, root, origin, body, signature, key_id, created_at)
             VALUES (0, 'ff', 'o', 'b', 's', 'k', 'x')",
            [],
        )
        .unwrap();
        drop(conn);
        let err = Store::open(&path2).err().expect("refused").to_string();
        assert!(err.contains("checkpoint 1's root"), "{err}");
        // A read-only open (queries, verify) cannot migrate: it says what to do.
        let path3 = dir.path().join("v4-unmigrated.sqlite");
        drop(schema_4(&path3));
        let err = Store::open_read_only(&path3).err().expect("refused").to_string();
        assert!(
            err.contains("archive schema 4 is older than this gstvault's 5"),
            "{err}"
        );
        assert!(Store::open_read_only(&path).is_ok());
    }
}
