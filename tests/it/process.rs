//! Running the `gstvault` binary from a test, beside an in-process simulator,
//! and signalling the processes a test started.
//!
//! Signals go through `kill(2)` and `killpg(2)` directly, never through the
//! `kill` command: procps-ng 4.0's `kill -KILL -<group>` (no `--`) reads the
//! group as an option and sends `kill(-1, SIGKILL)`, every process the user
//! may signal, which as root on a CI machine is the whole run.

use std::process::Command;

/// Runs the binary in `dir` with the simulator's API key and secret, stdin
/// closed, off the async runtime (the simulator serves on it meanwhile).
pub(crate) async fn against_simulator(dir: std::path::PathBuf, args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
            .current_dir(&dir)
            .env_remove("GSTVAULT_CONFIG")
            .env("GSTVAULT_TEST_KEY", gstvault::sim::DEMO_API_KEY)
            .env("GSTVAULT_TEST_SECRET", gstvault::sim::DEMO_API_SECRET)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    })
    .await
    .unwrap()
}

/// The signals the tests send.
pub(crate) use rustix::process::Signal;

/// A pid that names one process: not 0 (the caller's group), not 1, and
/// within `pid_t`, so a mistake can never signal a group or everything.
fn one_process(pid: u32) -> std::io::Result<rustix::process::Pid> {
    i32::try_from(pid)
        .ok()
        .filter(|p| *p > 1)
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("refused to signal pid {pid}")))
}

/// Sends `signal` (e.g. `Signal::TERM`) to the process `pid`.
pub(crate) fn signal(pid: u32, signal: Signal) -> std::io::Result<()> {
    Ok(rustix::process::kill_process(one_process(pid)?, signal)?)
}

/// Sends `signal` to the process group led by `leader` (a child spawned
/// with `process_group(0)`), with the same refusals as [`signal`].
pub(crate) fn signal_group(leader: u32, signal: Signal) -> std::io::Result<()> {
    Ok(rustix::process::kill_process_group(one_process(leader)?, signal)?)
}

/// A group signal reaches the group and nothing else, and pids that are not
/// one process are refused (the `kill` command once took this test run down
/// with `kill(-1, SIGKILL)`).
#[test]
fn a_group_signal_ends_its_group_and_spares_a_bystander() {
    use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
    let mut group = Command::new("sh")
        .args(["-c", "sleep 60 & wait"])
        .process_group(0)
        .spawn()
        .unwrap();
    let mut bystander = Command::new("sleep").arg("60").spawn().unwrap();
    signal_group(group.id(), Signal::KILL).unwrap();
    assert_eq!(group.wait().unwrap().signal(), Some(9), "SIGKILL");
    assert!(bystander.try_wait().unwrap().is_none(), "the bystander lives");
    for pid in [0, 1, u32::MAX] {
        assert!(signal(pid, Signal::TERM).is_err(), "pid {pid} refused");
        assert!(signal_group(pid, Signal::TERM).is_err(), "group {pid} refused");
    }
    signal(bystander.id(), Signal::TERM).unwrap();
    assert_eq!(bystander.wait().unwrap().signal(), Some(15), "SIGTERM");
}
