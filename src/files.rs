//! Files only their owner may read: the archive, key files, session tokens,
//! bundles. Created with mode 0600 from the start (never chmod-ed after), and
//! replaced atomically (temporary file, fsync, rename, directory fsync) where
//! a reader must never see half a file.

use std::io::Write;
use std::path::Path;

/// Creates an empty file readable and writable by its owner only.
pub fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename), owner-only.
pub fn write_owner_only_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    {
        let mut file = create_owner_only(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
