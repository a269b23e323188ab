//! The writer lock: one process writes an archive at a time. The lock is
//! an advisory `flock` on `<archive>.lock`, so the kernel releases it when
//! its holder dies; the file says who holds it (pid, since when, which
//! command) and is emptied on a clean release, so a file that still names a
//! holder nobody locks is a stale lock left by a process that died: `status`
//! reports it and the next writer replaces it.

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
        let mut left = String::new();
        let _ = file.read_to_string(&mut left);
        if let Some(stale) = Holder::parse(&left) {
            tracing::warn!(
                "replacing the stale writer lock {} left by pid {} ({}), which is no longer running",
                path.display(),
                stale.pid,
                stale.describe()
            );
        }
        let _ = file.rewind();
        let _ = file.set_len(0);
        let command = std::env::args().nth(1).unwrap_or_else(|| "gstvault".into());
        let now = crate::domain::time::Timestamp::of(chrono::Utc::now());
        let _ = writeln!(file, "pid {} since {now} command {command}", std::process::id());
        let _ = file.sync_all();
        Ok(WriterLock { _file: file, path })
    }

    /// Who writes `archive` now, without taking the lock from anyone: a
    /// shared lock is tried for an instant (it fails while a writer holds
    /// the exclusive one).
    pub fn state(archive: &Path) -> LockState {
        use std::io::Read;
        let path = PathBuf::from(format!("{}.lock", archive.display()));
        let Ok(mut file) = std::fs::File::open(&path) else {
            return LockState::Free;
        };
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        let holder = Holder::parse(&text);
        match file.try_lock_shared() {
            Err(std::fs::TryLockError::WouldBlock) => LockState::Held(holder),
            _ => match holder {
                Some(h) => LockState::Stale(h),
                None => LockState::Free,
            },
        }
    }
}

impl Drop for WriterLock {
    /// A clean release empties the file: only a dead holder leaves its name.
    fn drop(&mut self) {
        let _ = self._file.set_len(0);
    }
}

/// Who holds (or held) the writer lock, as its file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// When it took the lock (absent in locks of older versions).
    pub since: Option<crate::domain::time::Timestamp>,
    /// The gstvault command it ran (`daemon`, `snapshot`, …).
    pub command: String,
}

impl Holder {
    /// `daemon since 2026-05-01 10:00:00 +05:30`.
    pub fn describe(&self) -> String {
        match self.since {
            Some(t) => format!("{} since {}", self.command, crate::domain::time::when_stored(t)),
            None => self.command.clone(),
        }
    }

    /// `pid 123 since 2026-05-01T04:30:00.000Z command daemon` (older locks: `pid 123`).
    fn parse(text: &str) -> Option<Holder> {
        let line = text.lines().next()?;
        let mut words = line.split_whitespace();
        if words.next()? != "pid" {
            return None;
        }
        let pid = words.next()?.parse().ok()?;
        let mut since = None;
        let mut command = "unknown command".to_string();
        while let Some(word) = words.next() {
            match (word, words.next()) {
                ("since", Some(t)) => since = crate::domain::time::Timestamp::parse(t),
                ("command", Some(c)) => command = c.to_string(),
                _ => {}
            }
        }
        Some(Holder { pid, since, command })
    }
}

/// Whether anyone writes an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockState {
    /// No writer.
    Free,
    /// A live process holds the lock (who, when the file says so).
    Held(Option<Holder>),
    /// The file names a holder that no longer runs.
    Stale(Holder),
}
