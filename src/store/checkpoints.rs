//! Signed checkpoints and exported bundles as the archive records them, the
//! archive's identity (the checkpoint origin), and the rows a bundle of one
//! GSTIN and scope includes.

use rusqlite::{params, OptionalExtension};

use super::rows::{
    gstin_at, hex_digest_at, period_at, row_to_change, row_to_snapshot, text_time_at, BundleRow, ChangeRow,
    CheckpointRow, SnapshotRow, CHANGE_COLUMNS, CHANGE_FROM, SNAPSHOT_COLUMNS, SNAPSHOT_FROM,
};
use super::{Reader, Result, Store};
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;
use crate::domain::time::Timestamp;

/// The columns of a `bundles` row, as [`Reader::query_bundles`] reads them.
const BUNDLE_SELECT: &str = "SELECT bundle_id, gstin, period, as_of, checkpoint_id, file_name, sha256, created_at, \
     previous_bundle_id FROM bundles";

impl Store {
    /// Sets the archive's identity when it has none yet (reproducible fixtures).
    pub fn init_archive_id(&mut self, id: &str) -> Result<()> {
        self.reader
            .conn
            .execute(
                "INSERT OR IGNORE INTO archive_meta (key, value) VALUES ('archive_id', ?1)",
                [id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The archive's identity, created on first use: the checkpoint origin's suffix.
    pub fn archive_id(&mut self) -> Result<String> {
        let existing: Option<String> = self
            .reader
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
        self.reader
            .conn
            .execute(
                "INSERT OR IGNORE INTO archive_meta (key, value) VALUES ('archive_id', ?1)",
                [&id],
            )
            .map_err(|e| self.err(e))?;
        self.archive_id()
    }

    /// Stores a signed checkpoint.
    pub fn append_checkpoint(&mut self, checkpoint: &CheckpointRow) -> Result<i64> {
        self.reader
            .conn
            .execute(
                "INSERT INTO checkpoints (size, root, origin, body, signature, key_id, created_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    checkpoint.size as i64,
                    checkpoint.root.hex(),
                    checkpoint.origin,
                    checkpoint.body,
                    checkpoint.signature,
                    checkpoint.key_id,
                    checkpoint.created_at.to_string(),
                    checkpoint.run_id
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.reader.conn.last_insert_rowid())
    }

    /// Records an exported bundle.
    pub fn append_bundle(&mut self, bundle: &BundleRow) -> Result<()> {
        self.reader
            .conn
            .execute(
                "INSERT INTO bundles (bundle_id, gstin, period, as_of, checkpoint_id, file_name, sha256, created_at,
                     previous_bundle_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    bundle.bundle_id,
                    bundle.gstin.as_str(),
                    bundle.period.to_string(),
                    bundle.as_of.to_string(),
                    bundle.checkpoint_id,
                    bundle.file_name,
                    bundle.sha256.hex(),
                    bundle.created_at.to_string(),
                    bundle.previous_bundle_id
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl Reader {
    /// Every checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<CheckpointRow>> {
        self.query_checkpoints(
            "SELECT id, size, root, origin, body, signature, key_id, created_at, run_id FROM checkpoints ORDER BY id",
            [],
        )
    }

    /// The newest checkpoint, if any.
    pub fn newest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        Ok(self
            .query_checkpoints(
                "SELECT id, size, root, origin, body, signature, key_id, created_at, run_id FROM checkpoints
                 ORDER BY id DESC LIMIT 1",
                [],
            )?
            .pop())
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

    pub(super) fn query_checkpoints<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<CheckpointRow>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(CheckpointRow {
                    id: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    root: hex_digest_at(r, 2)?,
                    origin: r.get(3)?,
                    body: r.get(4)?,
                    signature: r.get(5)?,
                    key_id: r.get(6)?,
                    created_at: text_time_at(r, 7)?,
                    run_id: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Bundles of a GSTIN, oldest first.
    pub fn bundles_of(&self, gstin: &Gstin) -> Result<Vec<BundleRow>> {
        self.query_bundles(
            &format!("{BUNDLE_SELECT} WHERE gstin = ?1 ORDER BY id"),
            [gstin.as_str()],
        )
    }

    /// Every recorded bundle, oldest first.
    pub fn bundles(&self) -> Result<Vec<BundleRow>> {
        self.query_bundles(&format!("{BUNDLE_SELECT} ORDER BY id"), [])
    }

    /// The first recorded bundle with this ID, if any.
    pub fn bundle(&self, bundle_id: &str) -> Result<Option<BundleRow>> {
        Ok(self
            .query_bundles(
                &format!("{BUNDLE_SELECT} WHERE bundle_id = ?1 ORDER BY id LIMIT 1"),
                [bundle_id],
            )?
            .pop())
    }

    fn query_bundles<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<BundleRow>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(BundleRow {
                    bundle_id: r.get(0)?,
                    gstin: gstin_at(r, 1)?,
                    period: period_at(r, 2)?,
                    as_of: text_time_at(r, 3)?,
                    checkpoint_id: r.get(4)?,
                    file_name: r.get(5)?,
                    sha256: hex_digest_at(r, 6)?,
                    created_at: text_time_at(r, 7)?,
                    previous_bundle_id: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Snapshots of one GSTIN whose period is one of `periods`, received at or
    /// before `as_of`, in log order.
    pub fn snapshots_for_bundle(
        &self,
        gstin: &Gstin,
        periods: &[Period],
        as_of: Timestamp,
    ) -> Result<Vec<SnapshotRow>> {
        let select = format!("SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM}");
        self.in_scope(
            &select,
            "s.received_at",
            "s.seq",
            (gstin, periods, as_of),
            row_to_snapshot,
        )
    }

    /// Change rows of one GSTIN for `periods`, detected at or before `as_of`.
    pub fn changes_for_bundle(&self, gstin: &Gstin, periods: &[Period], as_of: Timestamp) -> Result<Vec<ChangeRow>> {
        let select = format!("SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM}");
        self.in_scope(
            &select,
            "c.detected_at",
            "c.seq",
            (gstin, periods, as_of),
            row_to_change,
        )
    }

    /// The rows of `select` (joined with `keys k`) of one GSTIN and periods
    /// whose `time` column is at or before the as-of instant, ordered by `order`.
    fn in_scope<T>(
        &self,
        select: &str,
        time: &str,
        order: &str,
        (gstin, periods, as_of): (&Gstin, &[Period], Timestamp),
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let placeholders = vec!["?"; periods.len()].join(", ");
        let sql =
            format!("{select} WHERE k.gstin = ? AND k.period IN ({placeholders}) AND {time} <= ? ORDER BY {order}");
        let periods: Vec<String> = periods.iter().map(Period::to_string).collect();
        let gstin = gstin.as_str();
        let as_of = as_of.millis();
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&gstin];
        for p in &periods {
            values.push(p);
        }
        values.push(&as_of);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(values.as_slice(), row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
