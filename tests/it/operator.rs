//! What the binary tells its operator: exit codes with causes when the API
//! is unreachable, the summary on SIGTERM, quiet broken pipes, plain logs
//! off a terminal, one date grammar, times in IST.

use std::process::{Command, Stdio};

use crate::process::against_simulator;
use crate::support::{config_text, simulator};

/// The test config with `[api]` lines replaced by `api` (`key = value` each).
fn write_config(
    dir: &std::path::Path,
    base_url: &str,
    api: &[(&str, &str)],
    gstins: &[gstvault::domain::gstin::Gstin],
) {
    let mut text = config_text(base_url, gstins, "");
    for (key, value) in api {
        let line = format!("{key} = {value}\n");
        match text.lines().find(|l| l.starts_with(&format!("{key} ="))) {
            Some(old) => text = text.replace(&format!("{old}\n"), &line),
            None => text = text.replace("[api]\n", &format!("[api]\n{line}")),
        }
    }
    std::fs::write(dir.join("gstvault.toml"), text + "[capture]\ngroups = [\"ledgers\"]\n").unwrap();
}

async fn log_in_all(dir: &std::path::Path, gstins: &[gstvault::domain::gstin::Gstin]) {
    for g in gstins {
        let (code, _, stderr) = against_simulator(
            dir.to_path_buf(),
            vec![
                "login".into(),
                g.to_string(),
                "--otp".into(),
                gstvault::sim::TEST_OTP.into(),
            ],
        )
        .await;
        assert_eq!(code, Some(0), "{stderr}");
    }
}

/// With the API unreachable, `snapshot` exits 3 (not 0), names the cause
/// with the attempts in the summary, and `list --failed` / `show` name it
/// for each failed snapshot. Logs carry no colour codes off a terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_exits_non_zero_and_names_the_cause() {
    // Sessions valid at the wall clock the binary reads, so no refresh is due.
    let sim = simulator(1, |c| c.start = chrono::Utc::now()).await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = &gstvault::sim::demo_gstins()[..1];
    write_config(dir.path(), &sim.base_url, &[("max_retries", "2")], gstins);
    log_in_all(dir.path(), gstins).await;
    // The portal goes away: nothing listens on the discard port of loopback.
    write_config(dir.path(), "http://127.0.0.1:9", &[("max_retries", "2")], gstins);
    let run = |args: &[&str]| against_simulator(dir.path().to_path_buf(), args.iter().map(|a| a.to_string()).collect());

    let (code, stdout, stderr) = run(&["snapshot", "--from", "2026-05", "--to", "2026-05"]).await;
    assert_eq!(code, Some(3), "calls failed: exit 3\n{stdout}{stderr}");
    assert!(
        stdout.contains("FAILED 4 call(s): could not connect") && stdout.contains("(after 3 attempts)"),
        "the summary names the cause and the attempts: {stdout}"
    );
    assert!(!stderr.contains('\u{1b}'), "no ANSI colour off a terminal: {stderr:?}");
    assert!(!stderr.contains("Some("), "no debug formatting in logs: {stderr}");

    let (code, stdout, stderr) = run(&["list", "--failed", "--since", "1d"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let failed: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(failed.len(), 4, "{stdout}");
    assert!(
        failed
            .iter()
            .all(|l| l.contains("transport_error") && l.contains("could not connect")),
        "{stdout}"
    );
    let seq = failed[0].split_whitespace().next().unwrap();
    let (_, _, stderr) = run(&["show", seq]).await;
    assert!(
        stderr.contains("failed: could not connect") && stderr.contains("(after 3 attempts)"),
        "{stderr}"
    );
    assert!(stderr.contains("+05:30"), "times in IST: {stderr}");
}

/// SIGTERM in the middle of a rate-limited capture: no new request starts,
/// the summary is printed, the run is recorded interrupted, exit 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_prints_the_summary_and_marks_the_run_interrupted() {
    let sim = simulator(1, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = gstvault::sim::demo_gstins();
    // 30 a minute: a burst of 30, then one every 2 s; 3 GSTINs × 4 ledgers × 4 months is 48 calls.
    write_config(dir.path(), &sim.base_url, &[], &gstins);
    log_in_all(dir.path(), &gstins).await;
    write_config(
        dir.path(),
        &sim.base_url,
        &[("rate_limit_per_minute", "30"), ("concurrency", "1")],
        &gstins,
    );
    let before = sim.sim.request_count();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir.path())
        .env_remove("GSTVAULT_CONFIG")
        .env("GSTVAULT_TEST_KEY", gstvault::sim::DEMO_API_KEY)
        .env("GSTVAULT_TEST_SECRET", gstvault::sim::DEMO_API_SECRET)
        .args(["snapshot", "--from", "2026-03", "--to", "2026-06"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the burst to be spent (an event, not a duration).
    while sim.sim.request_count() < before + 25 {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "snapshot ended before the signal ({} requests): {}{}",
                sim.sim.request_count() - before,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    crate::process::signal(child.id(), crate::process::Signal::TERM).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stderr.contains("interrupted: finishing the requests in flight"),
        "{stderr}"
    );
    assert!(stdout.contains("INTERRUPTED"), "the summary is printed: {stdout}");
    assert!(
        stdout.contains("checkpoint: NOT SIGNED") || stdout.contains("checkpoint: log size"),
        "{stdout}"
    );
    let store = gstvault::store::Reader::open(&dir.path().join("archive.sqlite")).unwrap();
    let archived = store.snapshot_count().unwrap();
    assert!(archived > 0 && archived < 48, "stopped early: {archived} of 48");
    assert!(
        stdout.contains(&format!("{archived} snapshot(s)")),
        "the summary counts what was archived: {stdout}"
    );
}

/// `gstvault … | head -1`: the reader goes away, the command ends quietly
/// with 0 instead of panicking on the broken pipe.
#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "http://127.0.0.1:9", &[], &gstvault::sim::demo_gstins());
    // The reader is gone before the first line is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir.path())
        .env_remove("GSTVAULT_CONFIG")
        .args(["config", "show"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// `status` says whether a writer (daemon or snapshot) is alive, and
/// detects a stale lock a dead process left, which the next writer replaces.
#[test]
fn status_names_the_live_writer_and_a_stale_lock() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "http://127.0.0.1:9",
        &[],
        &gstvault::sim::demo_gstins()[..1],
    );
    let archive = dir.path().join("archive.sqlite");
    drop(gstvault::store::Store::open(&archive).unwrap());
    let status = || {
        let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
            .current_dir(dir.path())
            .env_remove("GSTVAULT_CONFIG")
            .arg("status")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(status(), "writer: none (no daemon or snapshot is running)");

    let lock = gstvault::store::WriterLock::acquire(&archive).unwrap();
    let line = status();
    assert!(
        line.starts_with(&format!("writer: pid {} running", std::process::id())) && line.contains("+05:30"),
        "{line}"
    );
    drop(lock);
    assert_eq!(
        status(),
        "writer: none (no daemon or snapshot is running)",
        "a clean release leaves no name"
    );

    // A daemon that was killed: its name in the file, nobody holding the lock.
    let lock_file = dir.path().join("archive.sqlite.lock");
    std::fs::write(&lock_file, "pid 999999 since 2026-11-30T22:30:00.000Z command daemon\n").unwrap();
    let line = status();
    assert_eq!(
        line,
        "writer: STALE LOCK left by pid 999999 (daemon since 2026-12-01 04:00:00 +05:30), which is no longer running; \
         the next writer replaces it"
    );
    let lock = gstvault::store::WriterLock::acquire(&archive).expect("a stale lock is replaced");
    let text = std::fs::read_to_string(&lock_file).unwrap();
    assert!(
        text.starts_with(&format!("pid {} since ", std::process::id())),
        "{text}"
    );
    drop(lock);
}

/// `config check` names every placeholder and every unset variable (exit
/// 1), and `--online` reaches the API and reports each GSTIN's session
/// without capturing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_warns_and_checks_online() {
    let sim = simulator(1, |c| c.start = chrono::Utc::now()).await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = &gstvault::sim::demo_gstins()[..2];
    write_config(dir.path(), &sim.base_url, &[], gstins);
    log_in_all(dir.path(), &gstins[..1]).await;
    let text = std::fs::read_to_string(dir.path().join("gstvault.toml")).unwrap();
    std::fs::write(
        dir.path().join("gstvault.toml"),
        text.replace("username = \"user1\"", "username = \"example_user\""),
    )
    .unwrap();
    let check = |env: bool, args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gstvault"));
        command
            .current_dir(dir.path())
            .env_remove("GSTVAULT_CONFIG")
            .env_remove("GSTVAULT_TEST_KEY")
            .env_remove("GSTVAULT_TEST_SECRET");
        if env {
            command
                .env("GSTVAULT_TEST_KEY", gstvault::sim::DEMO_API_KEY)
                .env("GSTVAULT_TEST_SECRET", gstvault::sim::DEMO_API_SECRET);
        }
        let out = command.args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, out) = check(false, &["config", "check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "warning: [[gstin]] {}: username \"example_user\" is a placeholder",
            gstins[1]
        )),
        "{out}"
    );
    assert!(
        out.contains("warning: GSTVAULT_TEST_KEY (api.key_env) is not set")
            && out.contains("warning: GSTVAULT_TEST_SECRET (api.secret_env) is not set"),
        "every missing variable, not just the first: {out}"
    );
    let before = sim.sim.served().len();
    let (code, out) = check(true, &["config", "check", "--online"]);
    assert_eq!(code, Some(1), "the placeholder and the GSTIN without a session: {out}");
    assert!(out.contains("accepted the key and secret"), "{out}");
    assert!(
        out.contains(&format!("session {}: valid (token until", gstins[0])),
        "{out}"
    );
    assert!(
        out.contains(&format!("session {}: NEEDS LOGIN: no session", gstins[1])),
        "{out}"
    );
    assert_eq!(
        sim.sim.served().len(),
        before,
        "nothing captured: no data request was served"
    );
    assert!(
        !dir.path().join("archive.sqlite").exists() || {
            let store = gstvault::store::Reader::open(&dir.path().join("archive.sqlite")).unwrap();
            store.snapshot_count().unwrap() == 0
        }
    );
}

/// README's "Try it against the simulator" works as written: its config,
/// its environment and its commands, against a simulator on a free port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_simulator_section_works_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Try it against the simulator")
        .nth(1)
        .unwrap()
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let sim = simulator(1, |c| c.start = chrono::Utc::now()).await;
    let port = sim.base_url.rsplit(':').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = section
        .split("<<'EOF'\n")
        .nth(1)
        .unwrap()
        .split("\nEOF\n")
        .next()
        .unwrap();
    std::fs::write(dir.path().join("sim.toml"), config.replace("8089", &port)).unwrap();
    let env_line = section.lines().find(|l| l.starts_with("export ")).unwrap();
    let env: Vec<(String, String)> = env_line
        .trim_start_matches("export ")
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(
        section.starts_with("gstvault simulate --listen 127.0.0.1:8089 &"),
        "{section}"
    );
    for line in section.lines().filter(|l| l.starts_with("gstvault -c sim.toml ")) {
        let args: Vec<String> = line.split_whitespace().skip(1).map(String::from).collect();
        let dir = dir.path().to_path_buf();
        let env = env.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_gstvault"))
                .current_dir(&dir)
                .env_remove("GSTVAULT_CONFIG")
                .envs(env)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{line}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = gstvault::store::Reader::open(&dir.path().join("sim-archive.sqlite")).unwrap();
    assert!(store.snapshot_count().unwrap() > 0);
    assert_eq!(
        store.checkpoints().unwrap().len(),
        1,
        "the snapshot ends in a signed checkpoint"
    );
}

/// `gstvault simulate` prints what a config needs (key, secret, OTP) and
/// the faults it was asked to inject.
#[test]
fn simulate_prints_its_credentials_and_faults() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .args([
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--fault-5xx",
            "0.2",
            "--fault-torn",
            "0.05",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let head: Vec<String> = (0..4).map(|_| lines.next().unwrap().unwrap()).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    let text = head.join("\n");
    assert!(text.contains("simulator listening on http://127.0.0.1:"), "{text}");
    assert!(
        text.contains(gstvault::sim::DEMO_API_KEY) && text.contains(gstvault::sim::DEMO_API_SECRET),
        "{text}"
    );
    assert!(text.contains("test OTP 575757"), "{text}");
    assert!(text.contains("faults: 5xx 20%, torn 5% of data requests"), "{text}");
    let bad = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .args(["simulate", "--listen", "127.0.0.1:0", "--fault-5xx", "2"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--fault-5xx 2: a share of requests, from 0 to 1"));
}

/// A refresh that cannot reach the portal says nothing about the session:
/// with the token still valid (due for its early refresh) and the API
/// unreachable, the GSTIN is not declared needs-login; the calls fail with
/// their cause and the run exits 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_refresh_is_not_a_lost_session() {
    // Logged in 5 h 50 min ago: the 6 h token lapses in 10 minutes, inside
    // the 30-minute refresh margin, so the run refreshes first.
    let sim = simulator(1, |c| {
        c.start = chrono::Utc::now() - chrono::Duration::minutes(350);
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = &gstvault::sim::demo_gstins()[..1];
    write_config(dir.path(), &sim.base_url, &[("max_retries", "1")], gstins);
    log_in_all(dir.path(), gstins).await;
    write_config(dir.path(), "http://127.0.0.1:9", &[("max_retries", "1")], gstins);
    let (code, stdout, stderr) = against_simulator(
        dir.path().to_path_buf(),
        ["snapshot", "--from", "2026-05", "--to", "2026-05"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    assert!(!stdout.contains("NEEDS LOGIN"), "{stdout}");
    assert!(stdout.contains("FAILED 4 call(s): could not connect"), "{stdout}");
    let store = gstvault::store::Reader::open(&dir.path().join("archive.sqlite")).unwrap();
    let states = store.session_states().unwrap();
    assert!(states.iter().all(|s| !s.needs_login), "{states:?}");
}
