//! The daemon: no double runs, sessions kept alive by refresh, one writer,
//! health and metrics, and a real process stopped by SIGTERM mid-run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gstvault::config::Config;
use gstvault::daemon::{Daemon, JobResult};
use gstvault::domain::schedule::JobKind;
use gstvault::sim::{self, Faults, RunningSimulator};
use gstvault::store::Store;

use crate::support::{credentials, Builder, World};

/// `world` (its simulator settings) under `dir`, for one demo GSTIN limited to
/// a few endpoints, with `daemon_section`, logged in. The archive is closed
/// again: the daemon opens its own.
async fn setup(dir: &Path, daemon_section: &str, world: Builder) -> (RunningSimulator, Config) {
    let world = world
        .gstins(sim::demo_gstins()[..1].to_vec())
        .test_client()
        .api("refresh_before_expiry_mins = 30")
        .capture("groups = [\"ledgers\", \"gstr-3b\"]")
        .daemon(daemon_section)
        .dir(dir)
        .start()
        .await;
    world.login_all().await;
    let World { sim, config, .. } = world;
    (sim, config)
}

#[tokio::test]
async fn an_overlapping_tick_is_skipped_not_run_twice() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::builder().seed(3).sim(|c| {
        c.faults = Faults {
            slow: 1.0,
            slow_max: Duration::from_millis(30),
            seed: 1,
            ..Faults::default()
        }
    });
    let (sim, config) = setup(dir.path(), "", world).await;
    let daemon = Daemon::new(config, credentials(), Arc::new(sim.sim.clone())).unwrap();
    let (first, second) = tokio::join!(daemon.run_job(JobKind::Capture), async {
        tokio::task::yield_now().await;
        daemon.run_job(JobKind::Capture).await
    });
    let results = [first, second];
    assert_eq!(
        results.iter().filter(|r| **r == JobResult::Skipped).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().any(|r| matches!(r, JobResult::Ok(_))), "{results:?}");
    // After it finished, the next tick runs again.
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    let runs = daemon.store().lock().unwrap().run_statuses().unwrap();
    assert_eq!(runs.len(), 2, "two captures ran, one tick was skipped: {runs:?}");
}

#[tokio::test]
async fn captures_continue_across_session_expiries_through_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::builder()
        .seed(4)
        .sim(|c| c.session_ttl = Duration::from_secs(3600));
    let (sim, config) = setup(dir.path(), "", world).await;
    let gstin = config.gstins[0].gstin.clone();
    let daemon = Daemon::new(config, credentials(), Arc::new(sim.sim.clone())).unwrap();
    let mut snapshots = 0;
    // Five hours of sim time: the one-hour session lapses five times over.
    for _ in 0..7 {
        assert!(
            matches!(daemon.run_job(JobKind::SessionRefresh).await, JobResult::Ok(ref d) if !d.contains("needs login"))
        );
        let result = daemon.run_job(JobKind::Capture).await;
        let JobResult::Ok(detail) = result else {
            panic!("capture: {result:?}")
        };
        assert!(detail.contains("0 needs login"), "{detail}");
        let count = daemon.store().lock().unwrap().snapshot_count().unwrap();
        assert!(count > snapshots, "each capture archives");
        snapshots = count;
        sim.sim.advance(chrono::Duration::minutes(45));
    }
    let state = daemon.store().lock().unwrap().session_state(&gstin).unwrap().unwrap();
    assert!(!state.needs_login);
}

#[tokio::test]
async fn one_writer_per_archive() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = setup(dir.path(), "", World::builder().seed(5)).await;
    let _daemon = Daemon::new(config.clone(), credentials(), Arc::new(sim.sim.clone())).unwrap();
    let error = Daemon::new(config.clone(), credentials(), Arc::new(sim.sim.clone()))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("another gstvault process (pid "), "{error}");
    // A manual snapshot is refused too, with the same clear line; reads still work.
    let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .args(["-c", config.source.as_str(), "snapshot"])
        .env("GSTVAULT_TEST_KEY", sim::DEMO_API_KEY)
        .env("GSTVAULT_TEST_SECRET", sim::DEMO_API_SECRET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another gstvault process"), "{stderr}");
    assert!(gstvault::store::Reader::open(&config.archive_path)
        .unwrap()
        .snapshot_count()
        .is_ok());
}

#[tokio::test]
async fn healthz_and_metrics_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = setup(dir.path(), "listen = \"127.0.0.1:0\"\ncapture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"", World::builder().seed(6)).await;
    let archive = config.archive_path.clone();
    let daemon = Daemon::new(config, credentials(), Arc::new(sim.sim.clone())).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(daemon.clone().serve(async move {
        let _ = rx.await;
    }));
    let addr = loop {
        if let Some(addr) = daemon.listening() {
            break addr;
        }
        tokio::task::yield_now().await;
    };
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("http://{addr}{path}");
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The heartbeat ticks at once; wait for it without sleeping on a fixed time.
    let mut health = get("/healthz").await;
    for _ in 0..200 {
        if health.0 == 200 {
            break;
        }
        tokio::task::yield_now().await;
        health = get("/healthz").await;
    }
    assert_eq!(health, (200, "ok\n".to_string()));
    let (status, metrics) = get("/metrics").await;
    assert_eq!(status, 200);
    for series in [
        "gstvault_runs_total{job=\"capture\",result=\"ok\"}",
        "gstvault_snapshots_total{",
        "group=\"ledgers\"",
        "gstvault_fetch_duration_seconds_bucket",
        "gstvault_seconds_since_last_capture{gstin=",
        "gstvault_session_expires_in_seconds{gstin=",
        "gstvault_needs_login_gstins",
    ] {
        assert!(metrics.contains(series), "missing {series}:\n{metrics}");
    }
    // The archive gone from under the daemon: unhealthy, with the reason.
    let moved = archive.with_extension("moved");
    std::fs::rename(&archive, &moved).unwrap();
    let (status, body) = get("/healthz").await;
    std::fs::rename(&moved, &archive).unwrap();
    assert_eq!(status, 503);
    assert!(body.contains("archive not writable"), "{body}");
    tx.send(()).unwrap();
    serving.await.unwrap().unwrap();
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_exits_in_time_and_the_next_run_fills_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::builder().seed(8).start_at(chrono::Utc::now()).sim(|c| {
        c.faults = Faults {
            slow: 1.0,
            slow_max: Duration::from_millis(150),
            seed: 2,
            ..Faults::default()
        }
    });
    let section = "capture_on_start = true\nshutdown_grace_secs = 3\ncapture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"";
    let (sim, config) = setup(dir.path(), section, world).await;
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_gstvault"))
            .args(["-c", config.source.as_str(), "daemon"])
            .env("GSTVAULT_TEST_KEY", sim::DEMO_API_KEY)
            .env("GSTVAULT_TEST_SECRET", sim::DEMO_API_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let count = || {
        gstvault::store::Reader::open(&config.archive_path)
            .ok()
            .and_then(|s| s.snapshot_count().ok())
            .unwrap_or(0)
    };
    let mut child = spawn();
    wait_for("the first snapshots", Duration::from_secs(60), || count() >= 5);
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "exit 0 after SIGTERM");
    assert!(
        took < Duration::from_secs(3 + 3),
        "stopped within the grace period: {took:?}"
    );
    let store = gstvault::store::Reader::open(&config.archive_path).unwrap();
    let statuses = store.run_statuses().unwrap();
    assert_eq!(
        statuses.last().map(|s| s.1.as_str()),
        Some("interrupted"),
        "{statuses:?}"
    );
    let interrupted_at = store.snapshot_count().unwrap();
    assert!(gstvault::evidence::verify::verify_archive(&store, None)
        .unwrap()
        .intact());
    drop(store);

    // Restart with a healthy portal: the next run captures everything.
    sim.sim.set_faults(Faults::default());
    let mut child = spawn();
    let done = || {
        gstvault::store::Reader::open(&config.archive_path)
            .ok()
            .and_then(|s| s.run_statuses().ok())
            .is_some_and(|runs| {
                runs.iter()
                    .any(|(_, status)| *status == gstvault::domain::run::RunStatus::Completed)
            })
    };
    wait_for("a completed run", Duration::from_secs(120), done);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(
        tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap()
            .code(),
        Some(0)
    );
    let store = gstvault::store::Reader::open(&config.archive_path).unwrap();
    assert!(store.snapshot_count().unwrap() > interrupted_at);
    assert!(gstvault::evidence::verify::verify_archive(&store, None)
        .unwrap()
        .intact());
    // Every endpoint and period of the window has an answer.
    let today = gstvault::domain::period::india_date(sim.sim.now());
    let (from, to) = gstvault::domain::period::default_window(today);
    let months = from.through(to);
    let mut missing = Vec::new();
    for endpoint in &config.endpoints {
        for period in endpoint.period.periods(&months) {
            if endpoint.request("x", &period, today).is_none() {
                continue;
            }
            let n: i64 = rusqlite::Connection::open(store.path())
                .unwrap()
                .query_row(
                    "SELECT COUNT(*) FROM snapshots s JOIN keys k ON k.id = s.key_id WHERE k.endpoint = ?1 AND k.period = ?2",
                    [endpoint.name, &period.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            if n == 0 {
                missing.push(format!("{} {period}", endpoint.name));
            }
        }
    }
    assert!(missing.is_empty(), "gaps after restart: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_exports_work_while_the_daemon_captures() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = setup(dir.path(), "", World::builder().seed(9)).await;
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let archive = config.archive_path.clone();
    let gstin = config.gstins[0].gstin.clone();
    let daemon = Daemon::new(config, credentials(), Arc::new(sim.sim.clone())).unwrap();
    // One capture first, so there is something to read from the start.
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    let writer = {
        let daemon = daemon.clone();
        let sim = sim.sim.clone();
        tokio::spawn(async move {
            for _ in 0..4 {
                sim.advance(chrono::Duration::days(3));
                let result = daemon.run_job(JobKind::Capture).await;
                assert!(matches!(result, JobResult::Ok(_)), "{result:?}");
            }
        })
    };
    let now = sim.sim.now();
    let readers = tokio::task::spawn_blocking(move || {
        let key = gstvault::evidence::signing::SigningKey::load(&keys.join("test.key"), None).unwrap();
        let public =
            gstvault::evidence::signing::PublicKey::parse(&std::fs::read_to_string(keys.join("test.pub")).unwrap())
                .unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut rounds = 0;
        while rounds < 3 || !writer.is_finished() {
            let store = gstvault::store::Reader::open(&archive).expect("read-only open while the daemon writes");
            let listed = gstvault::query::list(
                &store,
                &gstvault::query::ListArgs {
                    gstin: Some(gstin.to_string()),
                    ..Default::default()
                },
            )
            .expect("list while the daemon writes");
            assert!(!listed.is_empty());
            gstvault::query::changes(&store, &gstvault::query::ChangesArgs::default())
                .expect("changes while the daemon writes");
            let report =
                gstvault::evidence::verify::verify_archive(&store, None).expect("verify while the daemon writes");
            assert!(report.intact(), "{:?}", report.findings);
            drop(store);
            let mut store = Store::open(&archive).expect("export opens beside the daemon");
            let request = gstvault::evidence::bundle::export::ExportRequest {
                gstin: gstin.clone(),
                legal_name: None,
                organization: String::new(),
                scope: gstvault::evidence::scope::Scope::Month(
                    gstvault::domain::period::Month::parse("2026-05").unwrap(),
                ),
                as_of: now,
                out_dir: out.path().join(rounds.to_string()),
                template: None,
            };
            let exported =
                gstvault::app::export::export(&mut store, &key, &request, now).expect("export while the daemon writes");
            assert!(
                gstvault::evidence::bundle::check::check_bundle(&exported.path, Some(&public), None)
                    .unwrap()
                    .intact()
            );
            rounds += 1;
        }
        (rounds, writer)
    });
    let (rounds, writer) = readers.await.unwrap();
    writer.await.unwrap();
    assert!(rounds >= 3, "{rounds}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_login_is_used_without_a_restart_and_status_tells() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = setup(dir.path(), "", World::builder().seed(10)).await;
    let gstin = config.gstins[0].gstin.clone();
    let source = config.source.clone();
    let daemon = Daemon::new(config.clone(), credentials(), Arc::new(sim.sim.clone())).unwrap();
    sim.sim.revoke_sessions(&gstin);
    let result = daemon.run_job(JobKind::Capture).await;
    assert!(
        matches!(&result, JobResult::Ok(d) if d.contains("1 needs login")),
        "{result:?}"
    );
    let status = |expect: i32| {
        let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
            .args(["-c", source.as_str(), "status"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            out.status.code(),
            Some(expect),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let text = status(1);
    assert!(
        text.lines().any(|l| l.starts_with(gstin.as_str()) && l.contains("YES")),
        "{text}"
    );
    assert!(text.contains("gstvault login"), "the reason says what to do: {text}");
    // The operator logs in again; the running daemon picks the session up.
    let client =
        gstvault::capture::client::Client::new(config.api.clone(), credentials(), Arc::new(sim.sim.clone())).unwrap();
    let entry = &config.gstins[0];
    client.request_otp(&entry.gstin, &entry.username).await.unwrap();
    let session = client
        .verify_otp(&entry.gstin, &entry.username, sim::TEST_OTP)
        .await
        .unwrap();
    gstvault::app::login::save(&config, &entry.gstin, &session, sim.sim.now()).unwrap();
    let result = daemon.run_job(JobKind::Capture).await;
    assert!(
        matches!(&result, JobResult::Ok(d) if d.contains("0 needs login")),
        "{result:?}"
    );
    let text = status(0);
    assert!(
        text.lines()
            .any(|l| l.starts_with(gstin.as_str()) && l.contains(" no ")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("capture") && l.contains(" ok ")),
        "{text}"
    );
}

/// The daemon's capture job ends in a signed checkpoint over the whole log
/// when a key exists, and its result says so plainly when none does.
#[tokio::test]
async fn every_daemon_capture_ends_in_a_signed_checkpoint_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = setup(dir.path(), "", World::builder().seed(11)).await;
    let daemon = Daemon::new(config.clone(), credentials(), Arc::new(sim.sim.clone())).unwrap();
    let result = daemon.run_job(JobKind::Capture).await;
    assert!(
        matches!(&result, JobResult::Ok(d) if d.contains("checkpoint not signed: no signing key")),
        "{result:?}"
    );
    assert!(daemon.store().lock().unwrap().checkpoints().unwrap().is_empty());
    gstvault::app::keys::keygen(&config).unwrap();
    sim.sim.advance(chrono::Duration::hours(1));
    let result = daemon.run_job(JobKind::Capture).await;
    let store = daemon.store();
    let store = store.lock().unwrap();
    let checkpoints = store.checkpoints().unwrap();
    let size = store.snapshot_count().unwrap();
    assert_eq!(checkpoints.len(), 1, "{result:?}");
    assert_eq!(checkpoints[0].size, size);
    assert!(
        matches!(&result, JobResult::Ok(d) if d.ends_with(&format!("checkpoint {size}"))),
        "{result:?}"
    );
}
