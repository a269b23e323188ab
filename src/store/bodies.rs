//! Exact bytes: a body put back together from its envelope and its payload
//! (content-addressed, zstd-compressed), payloads by digest, and scans of the
//! log with the stored parts of each body. The compression of stored
//! payloads lives here too.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{
    digest_at, row_to_body_parts, row_to_snapshot, BodyParts, SnapshotRow, BODY_PART_COLUMNS, SNAPSHOT_COLUMNS,
    SNAPSHOT_COLUMN_COUNT, SNAPSHOT_FROM,
};
use super::{compact, sqlite, Reader, Result, StoreError};
use crate::domain::digest::Digest;
use crate::domain::log::Seq;

/// zstd level for payloads: small JSON documents; higher levels cost the
/// capture writer CPU for little gain.
pub(super) const PAYLOAD_ZSTD_LEVEL: i32 = 3;

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
pub(super) fn scan_range_in(
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
        let (offset, envelope) = row_to_body_parts(row, SNAPSHOT_COLUMN_COUNT, snapshot.transaction_id.as_deref())
            .map_err(|e| sqlite(path, e))?;
        f(snapshot, offset, envelope);
    }
    Ok(())
}

/// The repair copies of payload `id`, decompressed, oldest first (copies
/// that do not decompress to their recorded size are skipped).
pub(super) fn repair_copies(conn: &Connection, path: &Path, id: i64) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn
        .prepare_cached("SELECT size, bytes FROM payload_repairs WHERE payload_id = ?1 ORDER BY id")
        .map_err(|e| sqlite(path, e))?;
    let rows = stmt
        .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(|e| sqlite(path, e))?;
    let mut out = Vec::new();
    for row in rows {
        let (size, compressed) = row.map_err(|e| sqlite(path, e))?;
        if let Ok(bytes) = decompress_payload(&compressed, size.max(0) as usize) {
            out.push(bytes);
        }
    }
    Ok(out)
}

/// The genuine bytes of payload `id` with digest `sha`: the payload row's
/// copy (`size`, `compressed`) when it hashes to the digest, else the first
/// repair copy that does; None when no stored copy does.
pub(super) fn genuine_payload(
    conn: &Connection,
    path: &Path,
    id: i64,
    sha: &Digest,
    size: i64,
    compressed: &[u8],
) -> Result<Option<Vec<u8>>> {
    if let Ok(bytes) = decompress_payload(compressed, size.max(0) as usize) {
        if Digest::of(&bytes) == *sha {
            return Ok(Some(bytes));
        }
    }
    Ok(repair_copies(conn, path, id)?
        .into_iter()
        .find(|bytes| Digest::of(bytes) == *sha))
}

impl Reader {
    /// The exact bytes received for snapshot `seq` (None for a transport
    /// error), checked: they hash to the recorded body SHA-256. When the
    /// payload row's copy does not give them, a repair copy that does is used.
    ///
    /// Fails when the row is missing, and with [`StoreError::Damaged`] when no
    /// stored copy reassembles to the recorded bytes.
    pub fn body(&self, seq: Seq) -> Result<Option<Vec<u8>>> {
        type Stored = (Option<(i64, Vec<u8>, i64, Vec<u8>)>, Option<Digest>, BodyParts);
        let row: Option<Stored> = self
            .conn
            .prepare_cached(
                "SELECT p.id, p.sha256, p.size, p.bytes, s.body_sha256, s.transaction_id, s.payload_offset,
                        s.envelope, e.template, s.received_at + s.envelope_ts_delta
                 FROM snapshots s LEFT JOIN payloads p ON p.id = s.payload_id
                      LEFT JOIN envelopes e ON e.id = s.envelope_id
                 WHERE s.seq = ?1",
            )
            .and_then(|mut q| {
                q.query_row([seq.0 as i64], |r| {
                    let payload = match r.get::<_, Option<i64>>(0)? {
                        Some(id) => Some((id, r.get(1)?, r.get(2)?, r.get(3)?)),
                        None => None,
                    };
                    let tid = compact::transaction_id_text(r.get_ref(5)?)?;
                    Ok((payload, digest_at(r, 4)?, row_to_body_parts(r, 6, tid.as_deref())?))
                })
                .optional()
            })
            .map_err(|e| self.err(e))?;
        let Some((payload, body_sha, (offset, envelope))) = row else {
            return Err(StoreError::Corrupt {
                path: self.path.display().to_string(),
                seq: seq.0,
                message: "no such snapshot".into(),
            });
        };
        let what = format!("snapshot {seq}");
        let (Some((id, _, size, compressed)), Some(offset), Some(envelope)) = (payload, offset, envelope) else {
            if body_sha.is_some() {
                return Err(self.damaged(what, "its stored body parts are missing"));
            }
            return Ok(None);
        };
        let Some(body_sha) = body_sha else {
            return Err(self.damaged(what, "it has stored bytes but no recorded SHA-256"));
        };
        if offset > envelope.len() {
            return Err(self.damaged(what, "its payload offset lies outside the stored envelope"));
        }
        let assemble = |payload: &[u8]| {
            let mut body = Vec::with_capacity(envelope.len() + payload.len());
            body.extend_from_slice(&envelope[..offset]);
            body.extend_from_slice(payload);
            body.extend_from_slice(&envelope[offset..]);
            body
        };
        // One hash in the common case: the body's. Bytes that hash to the
        // recorded body digest are the bytes received, payload included.
        if let Ok(payload) = decompress_payload(&compressed, size.max(0) as usize) {
            let body = assemble(&payload);
            if Digest::of(&body) == body_sha {
                return Ok(Some(body));
            }
        }
        for copy in repair_copies(&self.conn, &self.path, id)? {
            let body = assemble(&copy);
            if Digest::of(&body) == body_sha {
                return Ok(Some(body));
            }
        }
        Err(self.damaged(
            what,
            format!(
                "its stored bytes do not hash to the recorded SHA-256 {}",
                body_sha.short()
            ),
        ))
    }

    /// The payload with this digest, if stored, checked: the bytes hash to
    /// the digest (the payload row's copy, else a repair copy).
    ///
    /// Fails with [`StoreError::Damaged`] when no stored copy does.
    pub fn payload(&self, sha256: &Digest) -> Result<Option<Vec<u8>>> {
        let Some((id, size, compressed)) = self.payload_row(sha256)? else {
            return Ok(None);
        };
        match genuine_payload(&self.conn, &self.path, id, sha256, size, &compressed)? {
            Some(bytes) => Ok(Some(bytes)),
            None => Err(self.damaged(
                format!("payload {}", sha256.short()),
                "no stored copy hashes to its SHA-256",
            )),
        }
    }

    /// The payload row's own copy, decompressed but not checked (for
    /// `verify`, which reports what it finds); None when not stored.
    pub fn stored_payload(&self, sha256: &Digest) -> Result<Option<Vec<u8>>> {
        let Some((_, size, compressed)) = self.payload_row(sha256)? else {
            return Ok(None);
        };
        decompress_payload(&compressed, size.max(0) as usize)
            .map(Some)
            .map_err(|e| StoreError::Io {
                path: self.path.display().to_string(),
                message: format!("payload {sha256} does not decompress: {e}"),
            })
    }

    /// The first repair copy of this payload that hashes to its digest.
    pub fn repaired_payload(&self, sha256: &Digest) -> Result<Option<Vec<u8>>> {
        let Some((id, _, _)) = self.payload_row(sha256)? else {
            return Ok(None);
        };
        Ok(repair_copies(&self.conn, &self.path, id)?
            .into_iter()
            .find(|bytes| Digest::of(bytes) == *sha256))
    }

    fn payload_row(&self, sha256: &Digest) -> Result<Option<(i64, i64, Vec<u8>)>> {
        self.conn
            .prepare_cached("SELECT id, size, bytes FROM payloads WHERE sha256 = ?1")
            .and_then(|mut q| {
                q.query_row([&sha256.0[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
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

    /// Every stored payload digest with its recorded size.
    pub fn payload_index(&self) -> Result<Vec<(Digest, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, size FROM payloads ORDER BY sha256")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let digest = digest_at(r, 0)?.unwrap_or(Digest([0; 32]));
                Ok((digest, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
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
}
