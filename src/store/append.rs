//! Appending to the log: one snapshot or a batch (a capture's group commit)
//! per IMMEDIATE transaction, each with its payload (stored once by digest),
//! its key and request line (stored once, referred to by id), its envelope
//! (a shared template where exact), its change row and the Merkle tiles it
//! completes. The one place the snapshot and change columns are written.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::bodies::{compress_payload, genuine_payload};
use super::rows::{Appended, NewSnapshot, SnapshotRow};
use super::tiles::grow_tiles;
use std::path::Path;

use super::{compact, sqlite, Result, Store, StoreError};
use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::period::Period;
use crate::domain::time::Timestamp;

impl Store {
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
        let path = self.reader.path.clone();
        let tx = self
            .reader
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        let next: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM snapshots", [], |r| r.get(0))
            .map_err(|e| sqlite(&path, e))?;
        let mut appended = Vec::with_capacity(snapshots.len());
        for (seq, snapshot) in (next..).zip(snapshots) {
            appended.push(append_in(&tx, &path, seq, snapshot, &mut self.confirmed)?);
        }
        let leaves: Vec<Digest> = appended.iter().map(|a| a.leaf_hash).collect();
        grow_tiles(&tx, &path, next as u64, next as u64 + snapshots.len() as u64, &leaves)?;
        tx.commit().map_err(|e| sqlite(&path, e))?;
        Ok(appended)
    }
}

/// Appends one snapshot as log entry `seq` inside the caller's transaction.
/// `confirmed` holds the payloads whose stored bytes this run has confirmed.
pub(super) fn append_in(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    seq: i64,
    snapshot: &NewSnapshot<'_>,
    confirmed: &mut HashSet<i64>,
) -> Result<Appended> {
    let path = path.to_path_buf();

    let mut new_payload_bytes = 0u64;
    let mut repaired = None;
    let mut body_sha = None;
    let mut payload_sha = None;
    let mut payload_offset = None;
    let mut envelope: Option<Vec<u8>> = None;
    if let Some(body) = snapshot.body {
        let span = snapshot.reading.map(|r| r.payload.clone()).unwrap_or(0..body.len());
        let payload = &body[span.clone()];
        let digest = Digest::of(payload);
        let compress = || {
            compress_payload(payload).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                message: format!("zstd: {e}"),
            })
        };
        match payload_id(tx, &path, &digest)? {
            None => {
                let compressed = compress()?;
                new_payload_bytes = compressed.len() as u64;
                insert_payload(tx, &path, &digest, payload.len(), &compressed)?;
                if let Some(id) = payload_id(tx, &path, &digest)? {
                    confirmed.insert(id);
                }
            }
            Some(id) if confirmed.contains(&id) => {}
            Some(id) => {
                // Deduplicate only onto bytes that are what the digest says:
                // a damaged stored copy is never referenced as if it held
                // these bytes; the genuine ones are stored again instead.
                let (size, stored): (i64, Vec<u8>) = tx
                    .prepare_cached("SELECT size, bytes FROM payloads WHERE id = ?1")
                    .and_then(|mut q| q.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))))
                    .map_err(|e| sqlite(&path, e))?;
                if genuine_payload(tx, &path, id, &digest, size, &stored)?.is_none() {
                    let compressed = compress()?;
                    new_payload_bytes = compressed.len() as u64;
                    insert_repair(tx, &path, id, payload.len(), &compressed, seq, snapshot.received_at)?;
                    repaired = Some(digest);
                }
                confirmed.insert(id);
            }
        }
        let mut env = Vec::with_capacity(body.len() - payload.len());
        env.extend_from_slice(&body[..span.start]);
        env.extend_from_slice(&body[span.end..]);
        envelope = Some(env);
        payload_offset = Some(span.start as i64);
        body_sha = Some(Digest::of(body));
        payload_sha = Some(digest);
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
        seq: Seq(seq as u64),
        run_id: snapshot.run_id,
        gstin: snapshot.gstin.clone(),
        endpoint: snapshot.endpoint.to_string(),
        period: *snapshot.period,
        page: snapshot.page,
        method: snapshot.method.to_string(),
        request: snapshot.request.to_string(),
        requested_at: Timestamp::of(snapshot.requested_at),
        received_at: Timestamp::of(snapshot.received_at),
        http_status: snapshot.http_status,
        transaction_id: reading.and_then(|r| r.transaction_id.clone()),
        status_cd: reading.and_then(|r| r.status_cd.clone()),
        error_cd: reading.and_then(|r| r.error_cd.clone()),
        outcome,
        detail,
        attempts: snapshot.attempts,
        body_sha256: body_sha,
        body_size: snapshot.body.map(|b| b.len() as u64),
        payload_sha256: payload_sha,
        chksums,
        origin: Some(snapshot.origin.to_string()),
    };
    let leaf_hash = row.leaf_record().leaf_hash();
    let ids = insert_snapshot(tx, &path, &row, payload_offset, envelope.as_deref())?;

    // A change is a different payload than the previous answer of the same
    // key; only answers the portal meant (ok, no_data) count, so a flaky
    // 5xx between two equal answers is not a change.
    let mut changed_from = None;
    if let (true, Some(new_payload)) = (outcome.is_answered(), ids.payload_id) {
        let [answered, empty] = Outcome::ANSWERED.map(Outcome::as_str);
        let previous: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT seq, payload_id FROM snapshots
                 WHERE key_id = ?1 AND seq < ?2 AND outcome IN (?3, ?4) AND payload_id IS NOT NULL
                 ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut q| {
                q.query_row(params![ids.key_id, seq, answered, empty], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(|e| sqlite(&path, e))?;
        if let Some((previous_seq, old_payload)) = previous.filter(|(_, old)| *old != new_payload) {
            let detected_at = compact::millis(snapshot.received_at);
            let row = [seq, previous_seq, ids.key_id, old_payload, new_payload, detected_at];
            insert_change_ids(tx, &path, row)?;
            changed_from = Some(Seq(previous_seq as u64));
        }
    }
    Ok(Appended {
        seq: Seq(seq as u64),
        leaf_hash,
        new_payload_bytes,
        changed_from,
        repaired,
    })
}

/// Stores a genuine copy of payload `id` whose stored copies are damaged,
/// brought by the answer of snapshot `seq`.
fn insert_repair(
    conn: &Connection,
    path: &Path,
    id: i64,
    size: usize,
    compressed: &[u8],
    seq: i64,
    found_at: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO payload_repairs (payload_id, size, codec, bytes, seq, found_at)
         VALUES (?1, ?2, 'zstd', ?3, ?4, ?5)",
    )
    .and_then(|mut q| q.execute(params![id, size as i64, compressed, seq, compact::millis(found_at)]))
    .map(|_| ())
    .map_err(|e| sqlite(path, e))
}

/// The ids a written snapshot row refers to.
pub(crate) struct RowIds {
    pub key_id: i64,
    pub payload_id: Option<i64>,
}

/// The id of a stored payload, if stored.
pub(super) fn payload_id(conn: &Connection, path: &Path, digest: &Digest) -> Result<Option<i64>> {
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
pub(super) fn lookup_id(
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
    gstin: &Gstin,
    endpoint: &str,
    period: &Period,
    page: u32,
) -> Result<i64> {
    lookup_id(
        conn,
        path,
        "SELECT id FROM keys WHERE gstin = ?1 AND endpoint = ?2 AND period = ?3 AND page = ?4",
        "INSERT INTO keys (gstin, endpoint, period, page) VALUES (?1, ?2, ?3, ?4)",
        &[&gstin.as_str(), &endpoint, &period.to_string(), &i64::from(page)],
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
        seq: row.seq.0,
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
        Some(digest) => {
            Some(payload_id(conn, path, digest)?.ok_or_else(|| corrupt(format!("payload {digest} is not stored")))?)
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
    let origin_id = match &row.origin {
        Some(origin) => Some(lookup_id(
            conn,
            path,
            "SELECT id FROM origins WHERE origin = ?1",
            "INSERT INTO origins (origin) VALUES (?1)",
            &[origin],
        )?),
        None => None,
    };
    let requested_at = row.requested_at.millis();
    let received_at = row.received_at.millis();
    let body_sha256 = row.body_sha256.as_ref().map(compact::digest_blob);
    conn.prepare_cached(
        "INSERT INTO snapshots (seq, run_id, key_id, request_id, received_at, latency_ms, http_status,
             transaction_id, status_cd, error_cd, outcome, detail, attempts, body_sha256, body_size, payload_id,
             payload_offset, envelope_id, envelope_ts_delta, envelope, chksums, origin_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    )
    .and_then(|mut q| {
        q.execute(params![
            row.seq.0 as i64,
            row.run_id,
            key_id,
            request_id,
            received_at,
            received_at - requested_at,
            row.http_status.map(i64::from),
            row.transaction_id.as_deref().map(compact::transaction_id_value),
            row.status_cd,
            row.error_cd,
            row.outcome.as_str(),
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
            origin_id,
        ])
    })
    .map_err(|e| sqlite(path, e))?;
    Ok(RowIds { key_id, payload_id })
}

/// Writes one change row inside the caller's transaction (both payloads stored).
#[cfg(feature = "bulk")]
pub(crate) fn insert_change(conn: &Connection, path: &Path, change: &super::rows::ChangeRow) -> Result<()> {
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.display().to_string(),
        seq: change.seq.0,
        message,
    };
    let key_id = key_id(conn, path, &change.gstin, &change.endpoint, &change.period, change.page)?;
    let mut ids = [0i64; 2];
    for (id, digest) in ids
        .iter_mut()
        .zip([&change.old_payload_sha256, &change.new_payload_sha256])
    {
        *id = payload_id(conn, path, digest)?.ok_or_else(|| corrupt(format!("payload {digest} is not stored")))?;
    }
    let row = [
        change.seq.0 as i64,
        change.previous_seq.0 as i64,
        key_id,
        ids[0],
        ids[1],
        change.detected_at.millis(),
    ];
    insert_change_ids(conn, path, row)
}

/// Writes one change row: (seq, previous_seq, key_id, old_payload_id,
/// new_payload_id, detected_at ms), the one place its columns are listed.
pub(super) fn insert_change_ids(conn: &Connection, path: &Path, row: [i64; 6]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO changes (seq, previous_seq, key_id, old_payload_id, new_payload_id, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut q| q.execute(row))
    .map(|_| ())
    .map_err(|e| sqlite(path, e))
}
