//! The daemon: no double runs, sessions kept alive by refresh, one writer,
//! health and metrics, and a real process stopped by SIGTERM mid-run.
//!
//! The daemon's own timing (heartbeat age, shutdown grace, the wait for jobs
//! in flight) is tested under paused tokio time against a portal that never
//! answers, so no real round trip has to finish before a tokio timeout; the
//! tests that need the simulator's answers, a listener or a child process run
//! in real time and wait on events, not on fixed times.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gstvault::capture::session::Session;
use gstvault::clock::{Clock, ManualClock, SharedClock};
use gstvault::config::Config;
use gstvault::daemon::{Daemon, JobResult};
use gstvault::domain::run::RunStatus;
use gstvault::domain::schedule::JobKind;
use gstvault::domain::secret::Secret;
use gstvault::sim::{self, Faults, RunningSimulator};
use gstvault::store::Store;

use crate::support::{credentials, start_instant, Builder, World};

/// `world` (its simulator settings) under `dir`, for one demo GSTIN limited to
/// a few endpoints, with `daemon_section`, logged in. The archive is closed
/// again: the daemon opens its own.
pub(crate) async fn setup(dir: &Path, daemon_section: &str, world: Builder) -> (RunningSimulator, Config) {
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
    let (sim, config) = setup(dir.path(), "listen = \"127.0.0.1:0\"\ncapture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"\nverify = \"\"", World::builder().seed(6)).await;
    let archive = config.archive_path.clone();
    // Every capture ends in a signed checkpoint, or /healthz says it did not.
    gstvault::app::keys::keygen(&config).unwrap();
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
        "gstvault_alert_conditions 0",
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
    let section = "capture_on_start = true\nshutdown_grace_secs = 3\ncapture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"\nverify = \"\"";
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
    crate::process::signal(child.id(), crate::process::Signal::TERM).unwrap();
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
            .is_some_and(|runs| runs.iter().any(|(_, status)| *status == RunStatus::Completed))
    };
    wait_for("a completed run", Duration::from_secs(120), done);
    crate::process::signal(child.id(), crate::process::Signal::TERM).unwrap();
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
    // `status` runs as the binary, on the wall clock, while the simulator's
    // stands in June 2026: its API access must outlast the gap.
    let builder = World::builder()
        .seed(10)
        .sim(|c| c.api_access_ttl = Duration::from_secs(100 * 365 * 24 * 3600));
    let (sim, config) = setup(dir.path(), "", builder).await;
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
            .any(|l| l.starts_with(gstin.as_str()) && l.trim_end().ends_with(" no")),
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

/// Damage makes /healthz 503 with a reason naming it and runs the verify job
/// at once; nothing is signed over it, and the capture itself is kept.
#[tokio::test]
async fn damage_turns_healthz_503_and_the_verify_job_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = setup(dir.path(), NO_SCHEDULES, World::builder().seed(12)).await;
    gstvault::app::keys::keygen(&config).unwrap();
    let daemon = Daemon::new(config.clone(), credentials(), Arc::new(sim.sim.clone())).unwrap();
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    assert!(matches!(daemon.run_job(JobKind::Verify).await, JobResult::Ok(ref d) if d.starts_with("archive intact")));
    let attacker = rusqlite::Connection::open(&config.archive_path).unwrap();
    attacker
        .execute_batch(
            "DROP TRIGGER checkpoints_append_only_update;
             UPDATE checkpoints SET root = '00' || substr(root, 3) WHERE id = 1;",
        )
        .unwrap();
    sim.sim.advance(chrono::Duration::days(1));
    let result = daemon.run_job(JobKind::Capture).await;
    assert!(
        matches!(&result, JobResult::Failed(d) if d.contains("archive damage found: checkpoint 1 is damaged")),
        "{result:?}"
    );
    assert_eq!(
        daemon.store().lock().unwrap().checkpoints().unwrap().len(),
        1,
        "nothing signed over it"
    );
    // The verify job ran right after the capture and its finding is the reason.
    assert_eq!(last_job_result(&daemon, JobKind::Verify).as_deref(), Some("failed"));
    let (healthy, reasons) = daemon.health();
    assert!(!healthy);
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("archive damaged: verify --archive found") && r.contains("checkpoint 1")),
        "{reasons:?}"
    );
    // The checkpoint job refuses too.
    assert!(matches!(daemon.run_job(JobKind::Checkpoint).await, JobResult::Failed(ref d) if d.contains("is damaged")));
}

/// Every cron schedule off: under paused time only what a test starts runs
/// (tokio-cron-scheduler fires by the wall clock, which paused time does not move).
const NO_SCHEDULES: &str =
    "capture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"\nverify = \"\"";

/// A portal that takes connections and never answers. A request to it stays
/// in flight until the client's own timeout (10 s of tokio time, no retry),
/// so a job it holds ends at a known instant without any real round trip:
/// nothing the paused clock's auto-advance could cut short.
struct SilentPortal {
    listener: TcpListener,
    /// Connections taken off the backlog, kept open so they stay unanswered.
    held: Vec<TcpStream>,
}

impl SilentPortal {
    fn start() -> SilentPortal {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        SilentPortal {
            listener,
            held: Vec::new(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }

    /// Yields, without moving the paused clock, until `n` requests in all
    /// have connected: from then on the job that sent them is in flight.
    async fn wait_for_requests(&mut self, n: usize) {
        for _ in 0..1_000_000 {
            if self.held.len() >= n {
                return;
            }
            match self.listener.accept() {
                Ok((stream, _)) => self.held.push(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => tokio::task::yield_now().await,
                Err(e) => panic!("accept: {e}"),
            }
        }
        panic!("no request reached the portal");
    }
}

/// A daemon for one demo GSTIN against `portal` with `daemon_section`, its
/// clock standing at [`start_instant`]. With `session` the GSTIN's access
/// token lasts that long (the refresh margin is 30 minutes) within 30 days
/// of API access, so a refresh is due and can gain time.
fn silent_portal_daemon(
    dir: &Path,
    portal: &SilentPortal,
    daemon_section: &str,
    session: Option<chrono::Duration>,
) -> Arc<Daemon> {
    silent_portal_daemon_on(dir, portal, daemon_section, session, ManualClock::new(start_instant()))
}

/// [`silent_portal_daemon`] on `clock`, which the test moves.
fn silent_portal_daemon_on(
    dir: &Path,
    portal: &SilentPortal,
    daemon_section: &str,
    session: Option<chrono::Duration>,
    clock: ManualClock,
) -> Arc<Daemon> {
    let text = World::builder()
        .gstins(sim::demo_gstins()[..1].to_vec())
        .test_client()
        .max_retries(0)
        .api("refresh_before_expiry_mins = 30")
        .capture("groups = [\"ledgers\", \"gstr-3b\"]")
        .daemon(daemon_section)
        .config_text(&portal.url());
    let path = dir.join("gstvault.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let now = clock.now();
    if let Some(lasts) = session {
        let session = Session {
            access_token: Secret::new("token-the-portal-never-reads"),
            token_expiry: now + lasts,
            session_expiry: now + chrono::Duration::days(30),
        };
        gstvault::app::login::save(&config, &config.gstins[0].gstin, &session, now).unwrap();
    }
    let clock: SharedClock = Arc::new(clock);
    Daemon::new(config, credentials(), clock).unwrap()
}

/// A daemon serving: the stop (SIGTERM's stand-in) and what `serve` returns.
type Serving = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

/// Serves `daemon` until the returned sender fires.
fn serve(daemon: &Arc<Daemon>) -> Serving {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(daemon.clone().serve(async move {
        let _ = rx.await;
    }));
    (tx, serving)
}

/// The last recorded run of daemon job `kind`: its result label.
fn last_job_result(daemon: &Daemon, kind: JobKind) -> Option<String> {
    let store = daemon.store();
    let store = store.lock().unwrap();
    let runs = store.last_job_runs().unwrap();
    runs.into_iter()
        .find(|r| r.job == kind)
        .map(|r| r.result.as_str().to_string())
}

#[tokio::test(start_paused = true)]
async fn healthz_says_the_scheduler_is_silent_once_its_heartbeat_is_over_30_s_old() {
    let dir = tempfile::tempdir().unwrap();
    let portal = SilentPortal::start();
    let daemon = silent_portal_daemon(dir.path(), &portal, NO_SCHEDULES, Some(chrono::Duration::hours(6)));
    assert_eq!(daemon.health(), (false, vec!["scheduler not started".to_string()]));
    let (stop, serving) = serve(&daemon);
    // The first beat comes as soon as the daemon serves, before any time passes.
    let started = tokio::time::Instant::now();
    for _ in 0..10_000 {
        if daemon.health().0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(daemon.health(), (true, vec![]));
    assert_eq!(tokio::time::Instant::now(), started, "healthy before any time passed");
    // A beat every 5 s keeps it healthy however long it serves.
    for _ in 0..12 {
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(daemon.health(), (true, vec![]));
    }
    // Stopped right after a beat, the daemon beats no more: 30 s on it is
    // still within the limit, a second later /healthz calls it silent.
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(
        tokio::time::Instant::now() - started,
        Duration::from_secs(60),
        "nothing ran: the stop is immediate"
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(daemon.health(), (true, vec![]));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(daemon.health(), (false, vec!["scheduler silent for 31 s".to_string()]));
}

#[tokio::test(start_paused = true)]
async fn a_capture_still_running_at_the_grace_deadline_is_abandoned_then_and_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut portal = SilentPortal::start();
    let section = format!("capture_on_start = true\nshutdown_grace_secs = 3\n{NO_SCHEDULES}");
    let daemon = silent_portal_daemon(dir.path(), &portal, &section, Some(chrono::Duration::hours(6)));
    let (stop, serving) = serve(&daemon);
    // The capture started on start has a request in flight that the portal
    // will not answer before the client's 10 s timeout.
    portal.wait_for_requests(1).await;
    let signalled = tokio::time::Instant::now();
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(
        tokio::time::Instant::now() - signalled,
        Duration::from_secs(3),
        "the stop returns at the grace deadline, not before and not after"
    );
    let runs = daemon.store().lock().unwrap().run_statuses().unwrap();
    assert_eq!(runs.last().map(|r| r.1), Some(RunStatus::Interrupted), "{runs:?}");
    assert_eq!(
        last_job_result(&daemon, JobKind::Capture).as_deref(),
        Some("interrupted")
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_that_ends_within_the_grace_lets_the_stop_return_the_moment_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let mut portal = SilentPortal::start();
    // The default grace of 30 s; the session lapses within the refresh margin.
    let daemon = silent_portal_daemon(dir.path(), &portal, NO_SCHEDULES, Some(chrono::Duration::minutes(10)));
    let (stop, serving) = serve(&daemon);
    let refresh = tokio::spawn({
        let daemon = daemon.clone();
        async move {
            let result = daemon.run_job(JobKind::SessionRefresh).await;
            (result, tokio::time::Instant::now())
        }
    });
    portal.wait_for_requests(1).await;
    let sent = tokio::time::Instant::now();
    // The stop comes a little later, off any beat a polling wait would keep.
    tokio::time::advance(Duration::from_millis(7)).await;
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    let stopped = tokio::time::Instant::now();
    let (result, ended) = refresh.await.unwrap();
    assert_eq!(stopped, ended, "the stop returned the moment the refresh ended");
    assert_eq!(
        ended - sent,
        Duration::from_secs(10),
        "the refresh ran to the client's 10 s timeout, within the 30 s grace"
    );
    // A portal that never answers says nothing about the session: the job
    // failed, and the GSTIN does not need a login for it.
    assert!(
        matches!(&result, JobResult::Failed(d) if d.contains("could not be reached") && !d.contains("needs login")),
        "{result:?}"
    );
    assert_eq!(
        last_job_result(&daemon, JobKind::SessionRefresh).as_deref(),
        Some("failed")
    );
    // Stopped means no new work, whatever tick comes late.
    assert_eq!(daemon.run_job(JobKind::Checkpoint).await, JobResult::Skipped);
}

#[tokio::test(start_paused = true)]
async fn a_tick_while_the_same_job_runs_is_skipped_at_once_and_the_next_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut portal = SilentPortal::start();
    let daemon = silent_portal_daemon(dir.path(), &portal, NO_SCHEDULES, Some(chrono::Duration::minutes(10)));
    let first = tokio::spawn({
        let daemon = daemon.clone();
        async move {
            let result = daemon.run_job(JobKind::SessionRefresh).await;
            (result, tokio::time::Instant::now())
        }
    });
    portal.wait_for_requests(1).await;
    let tick = tokio::time::Instant::now();
    assert_eq!(daemon.run_job(JobKind::SessionRefresh).await, JobResult::Skipped);
    assert_eq!(
        tokio::time::Instant::now(),
        tick,
        "skipped at once, not queued behind the run"
    );
    // Another kind of job is not held up by it.
    assert!(
        matches!(daemon.run_job(JobKind::Checkpoint).await, JobResult::Ok(_)),
        "a checkpoint runs beside the refresh"
    );
    let (result, ended) = first.await.unwrap();
    assert!(matches!(result, JobResult::Failed(_)), "the silent portal: {result:?}");
    assert_eq!(
        ended - tick,
        Duration::from_secs(10),
        "the first run went on to its end"
    );
    // After it ended, the next tick runs (and meets the silent portal too).
    assert!(matches!(
        daemon.run_job(JobKind::SessionRefresh).await,
        JobResult::Failed(_)
    ));
    let results: Vec<String> = rusqlite::Connection::open(dir.path().join("archive.sqlite"))
        .unwrap()
        .prepare("SELECT result FROM job_runs WHERE job = 'session_refresh' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        results,
        ["failed", "failed"],
        "two refreshes ran, the tick between them left no run"
    );
}

#[tokio::test(start_paused = true)]
async fn a_session_that_starts_lapsing_by_time_alone_is_raised_by_the_minute_tick() {
    let dir = tempfile::tempdir().unwrap();
    let portal = SilentPortal::start();
    let clock = ManualClock::new(start_instant());
    // API access for 30 days from now; alerts warn 5 days before it lapses.
    let daemon = silent_portal_daemon_on(
        dir.path(),
        &portal,
        NO_SCHEDULES,
        Some(chrono::Duration::hours(6)),
        clock.clone(),
    );
    let open = || daemon.store().lock().unwrap().open_alerts().unwrap();
    let (stop, serving) = serve(&daemon);
    for _ in 0..10_000 {
        if daemon.health().0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(daemon.health(), (true, vec![]));
    // 25 days and a minute later, no job has run: /healthz sees it at once ...
    clock.advance(chrono::Duration::days(25) + chrono::Duration::minutes(1));
    let (healthy, reasons) = daemon.health();
    assert!(!healthy);
    assert_eq!(
        reasons,
        [
            "27AAPFU0939F1ZV: API access lapses at 2026-07-25 10:00:00 +05:30 (a refresh cannot extend it): \
          run `gstvault login 27AAPFU0939F1ZV` before then"
        ]
    );
    assert!(open().is_empty(), "nothing evaluated the alerts yet");
    // ... and the minute's tick raises the alert, with no job in between.
    tokio::time::advance(Duration::from_secs(60)).await;
    for _ in 0..10_000 {
        if !open().is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let raised = open();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].condition, "session_lapsing:27AAPFU0939F1ZV");
    assert_eq!(
        raised[0].raised_delivery,
        gstvault::domain::health::Delivery::Unsent,
        "no channel configured: recorded, nothing sent"
    );
    assert!(daemon.store().lock().unwrap().last_job_runs().unwrap().is_empty());
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
