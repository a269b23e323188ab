//! The writer lock: one process writes an archive at a time.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Result, StoreError};

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
