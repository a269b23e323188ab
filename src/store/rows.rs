//! The rows the archive stores and hands out (everything but the bytes), the
//! SQL that selects them, and the plain reads of single rows and counts.

use chrono::{DateTime, Utc};

use super::{compact, Reader, Result};
use crate::domain::digest::Digest;
use crate::domain::envelope::{Outcome, Reading};
use crate::domain::log::{LeafRecord, LEAF_VERSION};
use rusqlite::OptionalExtension;

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

/// The snapshot columns of [`row_to_snapshot`], selected from [`SNAPSHOT_FROM`].
pub(super) const SNAPSHOT_COLUMNS: &str = "s.seq, s.run_id, k.gstin, k.endpoint, k.period, k.page, q.method, q.request, \
     s.received_at - s.latency_ms, s.received_at, s.http_status, s.transaction_id, s.status_cd, s.error_cd, s.outcome, s.detail, \
     s.attempts, s.body_sha256, s.body_size, p.sha256, s.chksums";

/// A snapshot row with its key, request line and payload digest (schema 5
/// keeps those once, in their own tables).
pub(super) const SNAPSHOT_FROM: &str =
    "snapshots s JOIN keys k ON k.id = s.key_id JOIN requests q ON q.id = s.request_id \
     LEFT JOIN payloads p ON p.id = s.payload_id";

/// The stored parts of a body, after [`SNAPSHOT_COLUMNS`] (from [`SNAPSHOT_FROM`]
/// joined with `envelopes e`): payload offset, raw envelope, template, timestamp.
pub(super) const BODY_PART_COLUMNS: &str =
    "s.payload_offset, s.envelope, e.template, s.received_at + s.envelope_ts_delta";

pub(super) fn row_to_snapshot(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
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
pub(super) fn row_to_body_parts(row: &rusqlite::Row<'_>, at: usize, tid: Option<&str>) -> rusqlite::Result<BodyParts> {
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
pub(super) type BodyParts = (Option<usize>, Option<Vec<u8>>);

/// The change columns of [`row_to_change`], selected from [`CHANGE_FROM`].
pub(super) const CHANGE_COLUMNS: &str =
    "c.seq, c.previous_seq, k.gstin, k.endpoint, k.period, k.page, o.sha256, n.sha256, c.detected_at";

pub(super) const CHANGE_FROM: &str =
    "changes c JOIN keys k ON k.id = c.key_id JOIN payloads o ON o.id = c.old_payload_id \
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

impl Reader {
    pub fn snapshot(&self, seq: u64) -> Result<Option<SnapshotRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} WHERE s.seq = ?1"
            ))
            .and_then(|mut q| q.query_row([seq as i64], row_to_snapshot).optional())
            .map_err(|e| self.err(e))
    }

    /// Number of snapshots (the log size).
    pub fn snapshot_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
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
}
