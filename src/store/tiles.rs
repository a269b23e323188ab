//! The log's Merkle tree as the archive keeps it: tlog tiles of height 2 in
//! `merkle_tiles` (level >= 1), level-0 leaf hashes computed from the rows.
//! Grown inside the writer's transaction; read for roots and proofs.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{row_to_snapshot, SNAPSHOT_COLUMNS, SNAPSHOT_FROM};
use super::{sqlite, Reader, Result, StoreError};
use crate::domain::digest::Digest;
use crate::domain::merkle::{self, StoredTree, TileSource};

impl Reader {
    pub(super) fn tiles(&self) -> ArchiveTiles<'_> {
        ArchiveTiles {
            conn: &self.conn,
            path: &self.path,
        }
    }

    /// The persisted Merkle tree of the first `size` snapshots.
    pub fn tree(&self, size: u64) -> StoredTree<'_, Reader> {
        StoredTree::new(self, size)
    }
}

/// The archive's leaf hashes (computed from the rows) and stored Merkle
/// tiles, read through one connection (the store's, or a writer's transaction).
pub(super) struct ArchiveTiles<'c> {
    pub(super) conn: &'c Connection,
    pub(super) path: &'c Path,
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
            if row.seq.0 != next && gap.is_none() {
                gap = Some(next);
            }
            next = row.seq.0 + 1;
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

impl TileSource for Reader {
    fn leaf_hashes(&self, start: u64, end: u64) -> std::result::Result<Vec<u8>, String> {
        self.tiles().leaf_hashes(start, end)
    }

    fn stored_tile(&self, level: u8, index: u64) -> std::result::Result<Option<Vec<u8>>, String> {
        self.tiles().stored_tile(level, index)
    }
}

/// The archive's tiles while a batch is written: the batch's leaf hashes,
/// already computed, instead of reading its rows back.
pub(super) struct BatchTiles<'c> {
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
pub(super) fn grow_tiles(conn: &Connection, path: &Path, old: u64, new: u64, leaves: &[Digest]) -> Result<()> {
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
