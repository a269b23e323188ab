//! What a firm would otherwise run, and how the harness times processes.
//!
//! The peers are real tools nobody here wrote: `curl` (one process per
//! request), `git` (one commit per capture, `git gc` for the packed size),
//! `bagit.py` (PyPI) and `zip -X`. Child processes are timed wall-clock and
//! their peak RSS sampled from `/proc`, so a measure is the process's own and
//! not the harness's.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Fails early, naming the tool, when a peer is not installed.
pub fn require_tools() {
    for (tool, arg) in [
        ("curl", "--version"),
        ("git", "--version"),
        ("zip", "-v"),
        ("bagit.py", "--version"),
        ("sha256sum", "--version"),
    ] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "the benchmark needs `{tool}` on PATH (.ci/run installs it)");
    }
}

/// CPU time (user + system) this process has used so far, in seconds: the
/// harness's own work, the in-process simulator's included.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux reports clock ticks of USER_HZ, 100 per second on every supported platform.
    (ticks(11) + ticks(12)) / 100.0
}

/// A finished child process.
pub struct Measured {
    pub seconds: f64,
    /// The child's peak resident set (VmHWM), sampled every 2 ms.
    pub peak_rss: u64,
    pub stdout: String,
}

/// The child's VmHWM in bytes, if it is still there.
pub fn vm_hwm(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kib| kib * 1024)
}

/// Runs `command` to completion; panics naming it when it fails.
///
/// Peak RSS is sampled from `/proc/PID/status` rather than taken from
/// `wait4`'s `ru_maxrss`: Linux folds the spawning process's high-water mark
/// into a vfork-spawned child's `ru_maxrss` at exec, so that number would be
/// the harness's own. VmHWM belongs to the child's address space only, and it
/// never goes down, so sampling misses at most the last 2 ms of growth.
pub fn measure(command: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
    let pid = child.id().to_string();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                match vm_hwm(&pid) {
                    Some(hwm) => peak = peak.max(hwm),
                    None if peak > 0 => break,
                    None => {}
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    // The output is read before waiting so a chatty child cannot block on a full pipe.
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut stdout).expect("child stdout");
    }
    let status = child.wait().expect("wait for child");
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let peak_rss = sampler.join().expect("sampler");
    assert!(status.success(), "{command:?} failed: {status}");
    Measured {
        seconds,
        peak_rss,
        stdout,
    }
}

fn git(repo: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(repo)
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args(["-c", "commit.gpgsign=false", "-c", "gc.auto=0"]);
    command
}

pub fn git_init(repo: &Path) {
    std::fs::create_dir_all(repo).expect("git repo dir");
    measure(git(repo).args(["init", "-q", "-b", "main"]));
}

/// `git add -A && git commit`: the firm's one commit per capture.
pub fn git_commit(repo: &Path, message: &str) -> f64 {
    let add = measure(git(repo).args(["add", "-A"]));
    let commit = measure(git(repo).args(["commit", "-q", "--allow-empty", "-m", message]));
    add.seconds + commit.seconds
}

/// `git gc`, then the bytes under `.git` (the working tree is not counted).
pub fn git_gc_size(repo: &Path) -> (u64, f64) {
    let gc = measure(git(repo).args(["gc", "-q"]));
    (tree_bytes(&repo.join(".git")), gc.seconds)
}

/// Bytes of every file under `dir`.
pub fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// Files under `dir`.
pub fn tree_files(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            if entry.file_type().expect("file type").is_dir() {
                stack.push(entry.path());
            } else {
                total += 1;
            }
        }
    }
    total
}

/// The bagit.py + `zip -X` peer over a directory of payload files (consumed:
/// bagit.py moves them into `data/`). Returns seconds, the larger peak RSS
/// of the two tools and the ZIP's size.
pub fn bagit_zip(files: &Path, zip_path: &Path) -> (f64, u64, u64) {
    let bag = measure(
        Command::new("bagit.py")
            .args(["--sha256", "--quiet", "--contact-name", "bench"])
            .arg(files),
    );
    let parent = files.parent().expect("bag has a parent");
    let name = files.file_name().expect("bag has a name");
    let zip = measure(
        Command::new("zip")
            .current_dir(parent)
            .args(["-X", "-r", "-q"])
            .arg(zip_path)
            .arg(name),
    );
    let size = std::fs::metadata(zip_path).expect("peer zip").len();
    (bag.seconds + zip.seconds, bag.peak_rss.max(zip.peak_rss), size)
}
