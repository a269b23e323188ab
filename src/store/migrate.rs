//! Opening an archive: create it owner-only, set WAL and the pragmas, run
//! the embedded migrations of `migrations/` (refinery), build the Merkle
//! tiles of an archive migrated from schema 4 and check them against every
//! stored checkpoint; and, for a read-only open, refuse a schema this build
//! does not read.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::tiles::{grow_tiles, ArchiveTiles};
use super::{sqlite, Reader, Result, Store, StoreError};
use crate::domain::merkle::StoredTree;

pub(super) mod embedded {
    refinery::embed_migrations!("migrations");
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
            reader: Reader {
                conn,
                path: path.to_path_buf(),
            },
            confirmed: Default::default(),
        };
        store.configure()?;
        let report = embedded::migrations::runner()
            .run(&mut store.reader.conn)
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
            if let Err(e) = store.reader.conn.execute_batch("VACUUM") {
                tracing::warn!(
                    archive = %path.display(),
                    error = %e,
                    "the archive was migrated but not compacted; its free pages will be reused"
                );
            }
        }
        Ok(store)
    }

    pub(super) fn configure(&mut self) -> Result<()> {
        // WAL lets readers work while the daemon writes; NORMAL sync in WAL
        // never corrupts and never loses a committed row on a process crash.
        self.reader
            .conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))?;
        self.reader
            .conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Builds the Merkle tiles of an archive migrated from schema 4 (which
    /// stored leaf hashes per row instead), once, and checks the rebuilt tree
    /// against every signed checkpoint's root.
    pub(super) fn ensure_tiles(&mut self) -> Result<()> {
        let path = self.reader.path.clone();
        let built = |conn: &Connection| -> Result<bool> {
            conn.query_row("SELECT 1 FROM archive_meta WHERE key = 'merkle_tiles'", [], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
                .map_err(|e| sqlite(&path, e))
        };
        // Checked without the write lock first: the usual case, every open but one.
        if built(&mut self.reader.conn)? {
            return Ok(());
        }
        let tx = self
            .reader
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
}

impl Reader {
    /// Opens an existing archive for reading only (queries, verify, export).
    pub fn open(path: &Path) -> Result<Reader> {
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
        let reader = Reader {
            conn,
            path: path.to_path_buf(),
        };
        reader.check_schema()?;
        Ok(reader)
    }

    /// Caps this handle's page cache at `kib` KiB (SQLite's default is
    /// 2,000): a server holding many handles (the web view) keeps its memory
    /// bounded this way.
    pub fn limit_cache(&self, kib: u32) -> Result<()> {
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{kib}"))
            .map_err(|e| self.err(e))
    }

    /// Fails unless the archive's schema is the one this build reads (a
    /// read-only open cannot migrate).
    pub(super) fn check_schema(&self) -> Result<()> {
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
}
