//! The benchmark's bulk writer (feature `bulk`): synthetic archives of a
//! million snapshots written many rows per transaction, through the same
//! column writers as capture. Not part of the product: the benchmark
//! harness and the tests enable it through the dev-dependency on this
//! package; a release build has no such code path.

use rusqlite::TransactionBehavior;

use super::append::{insert_change, insert_payload, insert_snapshot};
use super::rows::{ChangeRow, SnapshotRow};
use super::tiles::grow_tiles;
use super::{sqlite, Result, Store, StoreError};

/// One snapshot to write in bulk: a complete, valid row and its stored parts.
#[derive(Clone, Debug)]
pub struct BulkSnapshot {
    pub row: SnapshotRow,
    pub payload_offset: Option<u64>,
    pub envelope: Option<Vec<u8>>,
    /// The payload's bytes when it may not be stored yet (stored once, by digest).
    pub payload: Option<Vec<u8>>,
    /// The change row of this snapshot, when its payload differs from the previous answer.
    pub change: Option<ChangeRow>,
}

impl Store {
    /// Writes complete snapshot rows in one transaction: synthetic archives for
    /// benchmarks. Rows must continue the log (`seq` = log size, without gaps).
    ///
    /// Fails when a row does not continue the log, or on a database error (then
    /// nothing of the batch is stored).
    pub fn append_bulk(&mut self, batch: &[BulkSnapshot]) -> Result<()> {
        let path = self.reader.path.clone();
        let tx = self
            .reader
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        let mut next: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM snapshots", [], |r| r.get(0))
            .map_err(|e| sqlite(&path, e))?;
        let first = next as u64;
        for item in batch {
            let row = &item.row;
            if row.seq.0 as i64 != next {
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    seq: row.seq.0,
                    message: format!("bulk row does not continue the log (next seq is {next})"),
                });
            }
            next += 1;
            if let (Some(digest), Some(bytes)) = (&row.payload_sha256, &item.payload) {
                let compressed = super::bodies::compress_payload(bytes).map_err(|e| StoreError::Io {
                    path: path.display().to_string(),
                    message: format!("zstd: {e}"),
                })?;
                insert_payload(&tx, &path, digest, bytes.len(), &compressed)?;
            }
            insert_snapshot(
                &tx,
                &path,
                row,
                item.payload_offset.map(|o| o as i64),
                item.envelope.as_deref(),
            )?;
            if let Some(change) = &item.change {
                insert_change(&tx, &path, change)?;
            }
        }
        let leaves: Vec<crate::domain::digest::Digest> =
            batch.iter().map(|b| b.row.leaf_record().leaf_hash()).collect();
        grow_tiles(&tx, &path, first, next as u64, &leaves)?;
        tx.commit().map_err(|e| sqlite(&path, e))
    }
}
