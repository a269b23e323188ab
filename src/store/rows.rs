//! The rows the archive stores and hands out (everything but the bytes), the
//! SQL that selects them, and the plain reads of single rows and counts.

use chrono::{DateTime, Utc};

use rusqlite::OptionalExtension;

use super::{compact, Reader, Result};
use crate::domain::digest::Digest;
use crate::domain::envelope::{Outcome, Reading};
use crate::domain::gstin::Gstin;
use crate::domain::log::{leaf_version, LeafRecord, Seq};
use crate::domain::period::Period;
use crate::domain::schedule::{JobKind, JobState};
use crate::domain::time::Timestamp;

/// One answer to append.
#[derive(Clone, Debug)]
pub struct NewSnapshot<'a> {
    pub run_id: i64,
    pub gstin: &'a Gstin,
    pub endpoint: &'a str,
    pub period: &'a Period,
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
    /// The API origin the answer came from (`domain::origin`).
    pub origin: &'a str,
}

/// What appending did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: Seq,
    pub leaf_hash: Digest,
    /// Compressed bytes newly written for the payload (0 when already stored).
    pub new_payload_bytes: u64,
    /// The previous snapshot of the same key when the payload changed.
    pub changed_from: Option<Seq>,
    /// Set when the stored copy of this answer's payload was found damaged
    /// (no stored copy hashed to its digest): the genuine bytes received now
    /// were stored again as a repair copy, which reads use from now on.
    pub repaired: Option<Digest>,
}

/// A stored snapshot row (everything but the bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRow {
    pub seq: Seq,
    pub run_id: i64,
    pub gstin: Gstin,
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    pub method: String,
    pub request: String,
    pub requested_at: Timestamp,
    pub received_at: Timestamp,
    pub http_status: Option<u16>,
    pub transaction_id: Option<String>,
    pub status_cd: Option<String>,
    pub error_cd: Option<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub attempts: u32,
    pub body_sha256: Option<Digest>,
    pub body_size: Option<u64>,
    pub payload_sha256: Option<Digest>,
    /// The portal checksums found in the payload (JSON object text, pointer to value).
    pub chksums: String,
    /// The API origin the answer came from; None for rows written before
    /// schema 8 (their records are leaf encoding v1).
    pub origin: Option<String>,
}

impl SnapshotRow {
    /// The digest of [`SnapshotRow::leaf_record`]: the Merkle leaf input.
    pub fn record_digest(&self) -> Digest {
        self.leaf_record().record_digest()
    }

    /// The record the log commits to for this row: the public leaf encoding,
    /// whose fields are text exactly as `log` documents them.
    pub fn leaf_record(&self) -> LeafRecord {
        LeafRecord {
            v: leaf_version(self.origin.is_some()),
            seq: self.seq.0,
            gstin: self.gstin.to_string(),
            endpoint: self.endpoint.clone(),
            period: self.period.to_string(),
            page: self.page,
            method: self.method.clone(),
            request: self.request.clone(),
            requested_at: self.requested_at.to_string(),
            received_at: self.received_at.to_string(),
            http_status: self.http_status,
            transaction_id: self.transaction_id.clone(),
            status_cd: self.status_cd.clone(),
            error_cd: self.error_cd.clone(),
            outcome: self.outcome.as_str().to_string(),
            detail: self.detail.clone(),
            body_sha256: self.body_sha256.map(|d| d.hex()),
            body_size: self.body_size,
            payload_sha256: self.payload_sha256.map(|d| d.hex()),
            chksums: self.chksums.clone(),
            origin: self.origin.clone(),
        }
    }
}

/// Session state of one GSTIN as the archive keeps it (no token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub gstin: Gstin,
    pub token_expiry: Option<Timestamp>,
    pub session_expiry: Option<Timestamp>,
    pub needs_login: bool,
    pub reason: Option<String>,
    pub updated_at: Timestamp,
}

/// A stored value that does not read as its type: the row is damaged.
#[derive(Debug)]
struct Unreadable(String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreadable {}

fn unreadable(column: usize, kind: rusqlite::types::Type, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, kind, Box::new(Unreadable(message)))
}

/// The GSTIN stored at column `i`.
pub(super) fn gstin_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Gstin> {
    let text: String = row.get(i)?;
    Gstin::parse(&text).map_err(|e| unreadable(i, rusqlite::types::Type::Text, e.to_string()))
}

/// The period stored at column `i` (`2025-04`, `FY2025-26`, `-`).
pub(super) fn period_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Period> {
    let text: String = row.get(i)?;
    Period::parse(&text).map_err(|e| unreadable(i, rusqlite::types::Type::Text, e.to_string()))
}

/// The outcome stored at column `i`.
pub(super) fn outcome_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Outcome> {
    let text: String = row.get(i)?;
    Outcome::parse(&text)
        .ok_or_else(|| unreadable(i, rusqlite::types::Type::Text, format!("{text:?} is not an outcome")))
}

/// The SHA-256 stored at column `i` as a 32-byte BLOB, if any.
pub(super) fn digest_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Digest>> {
    match row.get::<_, Option<Vec<u8>>>(i)? {
        None => Ok(None),
        Some(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
            .map(|b| Some(Digest(b)))
            .map_err(|_| {
                unreadable(
                    i,
                    rusqlite::types::Type::Blob,
                    format!("a SHA-256 of {} bytes, not 32", bytes.len()),
                )
            }),
    }
}

/// The SHA-256 stored at column `i` as 64 hex digits (checkpoints, bundles).
pub(super) fn hex_digest_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Digest> {
    let text: String = row.get(i)?;
    Digest::from_hex(&text)
        .ok_or_else(|| unreadable(i, rusqlite::types::Type::Text, format!("{text:?} is not a SHA-256")))
}

/// The instant stored at column `i` as integer milliseconds.
pub(super) fn millis_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    Ok(Timestamp::from_millis(row.get(i)?))
}

/// The instant stored at column `i` as RFC 3339 text (the operational tables).
pub(super) fn text_time_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    let text: String = row.get(i)?;
    Timestamp::parse(&text)
        .ok_or_else(|| unreadable(i, rusqlite::types::Type::Text, format!("{text:?} is not RFC 3339")))
}

/// [`text_time_at`] for a column that may be NULL.
pub(super) fn opt_text_time_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Timestamp>> {
    match row.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(_) => text_time_at(row, i).map(Some),
    }
}

/// The log position stored at column `i`.
pub(super) fn seq_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Seq> {
    Ok(Seq(row.get::<_, i64>(i)?.max(0) as u64))
}

/// The snapshot columns of [`row_to_snapshot`], selected from [`SNAPSHOT_FROM`].
pub(super) const SNAPSHOT_COLUMNS: &str = "s.seq, s.run_id, k.gstin, k.endpoint, k.period, k.page, q.method, q.request, \
     s.received_at - s.latency_ms, s.received_at, s.http_status, s.transaction_id, s.status_cd, s.error_cd, s.outcome, s.detail, \
     s.attempts, s.body_sha256, s.body_size, p.sha256, s.chksums, o.origin";

/// How many columns [`SNAPSHOT_COLUMNS`] selects (what follows them starts here).
pub(super) const SNAPSHOT_COLUMN_COUNT: usize = 22;

/// A snapshot row with its key, request line and payload digest (schema 5
/// keeps those once, in their own tables).
pub(super) const SNAPSHOT_FROM: &str =
    "snapshots s JOIN keys k ON k.id = s.key_id JOIN requests q ON q.id = s.request_id \
     LEFT JOIN payloads p ON p.id = s.payload_id LEFT JOIN origins o ON o.id = s.origin_id";

/// The stored parts of a body, after [`SNAPSHOT_COLUMNS`] (from [`SNAPSHOT_FROM`]
/// joined with `envelopes e`): payload offset, raw envelope, template, timestamp.
pub(super) const BODY_PART_COLUMNS: &str =
    "s.payload_offset, s.envelope, e.template, s.received_at + s.envelope_ts_delta";

pub(super) fn row_to_snapshot(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
    Ok(SnapshotRow {
        seq: seq_at(row, 0)?,
        run_id: row.get(1)?,
        gstin: gstin_at(row, 2)?,
        endpoint: row.get(3)?,
        period: period_at(row, 4)?,
        page: row.get::<_, i64>(5)? as u32,
        method: row.get(6)?,
        request: row.get(7)?,
        requested_at: millis_at(row, 8)?,
        received_at: millis_at(row, 9)?,
        http_status: row.get::<_, Option<i64>>(10)?.map(|s| s as u16),
        transaction_id: compact::transaction_id_text(row.get_ref(11)?)?,
        status_cd: row.get(12)?,
        error_cd: row.get(13)?,
        outcome: outcome_at(row, 14)?,
        detail: row.get(15)?,
        attempts: row.get::<_, i64>(16)? as u32,
        body_sha256: digest_at(row, 17)?,
        body_size: row.get::<_, Option<i64>>(18)?.map(|s| s as u64),
        payload_sha256: digest_at(row, 19)?,
        chksums: row.get(20)?,
        origin: row.get(21)?,
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
    let digest = |i: usize| -> rusqlite::Result<Digest> {
        digest_at(r, i)?.ok_or_else(|| unreadable(i, rusqlite::types::Type::Null, "no payload digest".into()))
    };
    Ok(ChangeRow {
        seq: seq_at(r, 0)?,
        previous_seq: seq_at(r, 1)?,
        gstin: gstin_at(r, 2)?,
        endpoint: r.get(3)?,
        period: period_at(r, 4)?,
        page: r.get::<_, i64>(5)? as u32,
        old_payload_sha256: digest(6)?,
        new_payload_sha256: digest(7)?,
        detected_at: millis_at(r, 8)?,
    })
}

/// One answer of a GSTIN, for the capture planner's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    pub received_at: Timestamp,
    /// None for a business error, which carries no payload of data.
    pub payload_sha256: Option<Digest>,
}

/// The latest answers of one key, for the capture planner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLatest {
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    /// Outcome and receive time of the latest answer of any outcome.
    pub outcome: Outcome,
    pub received_at: Timestamp,
    /// Receive time and payload SHA-256 of the latest answer the portal
    /// meant ([`Outcome::MEANT`]).
    pub good: Option<(Timestamp, Option<Digest>)>,
}

/// The latest run of one daemon job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRunRow {
    pub job: JobKind,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub result: JobState,
    pub detail: Option<String>,
}

/// A stored checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRow {
    pub id: i64,
    pub size: u64,
    pub root: Digest,
    pub origin: String,
    pub body: String,
    pub signature: String,
    pub key_id: String,
    pub created_at: Timestamp,
    pub run_id: Option<i64>,
}

/// A recorded bundle export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleRow {
    pub bundle_id: String,
    pub gstin: Gstin,
    /// The bundle's scope: a month or a financial year.
    pub period: Period,
    pub as_of: Timestamp,
    pub checkpoint_id: i64,
    pub file_name: String,
    pub sha256: Digest,
    pub created_at: Timestamp,
    /// The bundle this one's consistency proof starts from (None: the first
    /// of its GSTIN, or recorded before schema 6).
    pub previous_bundle_id: Option<String>,
}

/// A stored change row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    pub seq: Seq,
    pub previous_seq: Seq,
    pub gstin: Gstin,
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    pub old_payload_sha256: Digest,
    pub new_payload_sha256: Digest,
    pub detected_at: Timestamp,
}

impl Reader {
    /// The row of snapshot `seq`, if the log has one.
    pub fn snapshot(&self, seq: Seq) -> Result<Option<SnapshotRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} WHERE s.seq = ?1"
            ))
            .and_then(|mut q| q.query_row([seq.0 as i64], row_to_snapshot).optional())
            .map_err(|e| self.err(e))
    }

    /// The log size read off the newest entry (seq counts from 0 without
    /// gaps), one index lookup: what the web view stamps the results it
    /// keeps with.
    pub fn log_size(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM snapshots", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n.max(0) as u64)
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
