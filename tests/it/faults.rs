//! Proof under faults: a flaky portal, odd and oversized bodies, SIGKILL at
//! random instants during capture and export, and a full disk.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use gstvault::domain::catalog;
use gstvault::domain::envelope::Outcome;
use gstvault::domain::run::RunStatus;
use gstvault::sim::{self, Faults};
use rand::{Rng, SeedableRng};

use crate::support::{config_text, simulator, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_portal_still_gets_every_endpoint_archived() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    world.sim.sim.set_faults(Faults {
        error_5xx: 0.20,
        rate_429: 0.10,
        torn_body: 0.05,
        invalid_json: 0.05,
        slow: 0.02,
        slow_max: Duration::from_millis(1500),
        seed: 99,
        ..Faults::default()
    });
    // Sessions lapse every few (real) moments while the run goes on.
    let expirer = {
        let sim = world.sim.sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                sim.expire_all_sessions();
            }
        })
    };
    let plan = world.plan(&world.gstins(), None, "2025-07", "2026-06");
    let summary = world.capture(&plan).await;
    expirer.abort();
    eprintln!(
        "flaky capture: {} jobs, {} snapshots, {} requests, {} retries, outcomes {:?}",
        summary.planned, summary.snapshots, summary.requests, summary.retries, summary.outcomes
    );
    assert!(
        summary.needs_login.is_empty(),
        "refresh recovered every lapse: {summary:?}"
    );
    let store = world.store.lock().unwrap();
    let rows = store.snapshots_of_run(summary.run_id).unwrap();
    let keys: BTreeSet<(String, String, String)> = rows
        .iter()
        .filter(|r| r.page == 0)
        .map(|r| (r.gstin.to_string(), r.endpoint.clone(), r.period.to_string()))
        .collect();
    let today = gstvault::domain::period::india_date(world.clock.now());
    let months = plan.from.through(plan.to);
    for entry in &plan.gstins {
        for endpoint in &plan.endpoints {
            for period in endpoint.period.periods(&months) {
                if endpoint.request(entry.gstin.as_str(), &period, today).is_some() {
                    let key = (entry.gstin.to_string(), endpoint.name.to_string(), period.to_string());
                    assert!(keys.contains(&key), "not archived: {key:?}");
                }
            }
        }
    }
    // Retries are bounded per request, and the portal's meaning won in the end almost everywhere.
    assert!(
        rows.iter().all(|r| r.attempts <= 7),
        "attempts bounded by max_retries + 1"
    );
    assert!(summary.retries > 500, "{summary:?}");
    let good = summary.count(Outcome::Ok) + summary.count(Outcome::NoData);
    assert!(good * 100 >= summary.snapshots * 99, "{summary:?}");
    assert!(gstvault::evidence::verify::verify_archive(&store, None)
        .unwrap()
        .intact());
}

#[tokio::test]
async fn odd_and_oversized_bodies_are_archived_as_received_with_memory_bounded() {
    let world = World::builder()
        .seed(12)
        .sim(|c| {
            c.faults = Faults {
                oversized: 0.2,
                oversized_bytes: 3 << 20,
                odd_body: 0.3,
                seed: 5,
                ..Faults::default()
            }
        })
        .gstins(sim::demo_gstins()[..1].to_vec())
        .test_client()
        .max_retries(0)
        .api("max_body_mb = 1")
        .start()
        .await;
    world.login_all().await;
    let summary = world
        .capture(&world.plan(&world.gstins(), None, "2026-05", "2026-05"))
        .await;
    let store = world.store.lock().unwrap();
    let rows = store.snapshots_of_run(summary.run_id).unwrap();
    let cut: Vec<_> = rows
        .iter()
        .filter(|r| r.detail.as_deref() == Some("body larger than the 1048576 byte cap: cut off"))
        .collect();
    assert!(!cut.is_empty(), "oversized bodies are recorded as cut off");
    assert!(cut
        .iter()
        .all(|r| r.outcome == Outcome::TransportError && r.body_sha256.is_none()));
    let served: std::collections::BTreeMap<String, String> = world
        .sim
        .sim
        .served()
        .into_iter()
        .map(|s| (s.body_sha256.clone(), s.path_and_query.clone()))
        .collect();
    let mut odd = 0;
    for row in rows.iter().filter(|r| r.outcome == Outcome::ApiError) {
        let body = store.body(row.seq).unwrap().unwrap();
        assert_eq!(gstvault::domain::digest::Digest::of(&body), row.body_sha256.unwrap());
        if served.contains_key(&gstvault::domain::digest::Digest::of(&body).hex()) {
            odd += 1;
        }
        assert!(row.detail.is_some(), "why it is odd is recorded");
    }
    assert!(
        odd >= 3,
        "HTML, empty and non-UTF-8 bodies archived byte for byte ({odd})"
    );
    let kinds: BTreeSet<&str> = rows.iter().filter_map(|r| r.detail.as_deref()).collect();
    assert!(
        kinds.contains("body is not UTF-8 JSON") && kinds.contains("body is not valid JSON"),
        "{kinds:?}"
    );
    assert!(gstvault::evidence::verify::verify_archive(&store, None)
        .unwrap()
        .intact());
}

fn gstvault_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gstvault"));
    c.current_dir(dir)
        .env_remove("GSTVAULT_CONFIG")
        .env("GSTVAULT_TEST_KEY", sim::DEMO_API_KEY)
        .env("GSTVAULT_TEST_SECRET", sim::DEMO_API_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .args(args);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_instants_loses_nothing() {
    let sim = simulator(31, |c| {
        c.faults = Faults {
            slow: 1.0,
            slow_max: Duration::from_millis(12),
            seed: 3,
            ..Faults::default()
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = sim::demo_gstins();
    let text = format!(
        "{}\n[capture]\ngroups = [\"ledgers\", \"gstr-3b\", \"gstr-2a\", \"gstr-9\"]\n",
        config_text(&sim.base_url, &gstins, "")
    );
    std::fs::write(dir.path().join("gstvault.toml"), text).unwrap();
    let config = gstvault::config::Config::load(&dir.path().join("gstvault.toml")).unwrap();
    for g in &gstins {
        let status = gstvault_cmd(dir.path(), &["login", g.as_str(), "--otp", sim::TEST_OTP])
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert!(gstvault_cmd(dir.path(), &["keygen"]).status().unwrap().success());
    let archive = config.archive_path.clone();
    let snapshot_args = ["snapshot", "--from", "2026-02", "--to", "2026-05"];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut kills = 0;
    let mut last_count = 0;
    // Until 30 kills have landed inside a run (a kill can also land before
    // the run starts or while its checkpoint is signed), at most 64 kills.
    let mut cut_runs = 0;
    while cut_runs < 30 && kills < 64 {
        let mut child = gstvault_cmd(dir.path(), &snapshot_args).spawn().unwrap();
        let wait = Duration::from_millis(rng.random_range(20..700));
        let pid = child.id();
        let finished = tokio::task::spawn_blocking(move || {
            std::thread::sleep(wait);
            let done = child.try_wait().unwrap().is_some();
            if !done {
                crate::process::signal(pid, crate::process::Signal::KILL).unwrap();
                child.wait().unwrap();
            }
            done
        })
        .await
        .unwrap();
        if !finished {
            kills += 1;
        }
        let store = gstvault::store::Reader::open(&archive).unwrap();
        let report = gstvault::evidence::verify::verify_archive(&store, None).unwrap();
        assert!(report.intact(), "after kill {kills}: {:?}", report.findings);
        let count = store.snapshot_count().unwrap();
        assert!(count >= last_count, "nothing stored is lost");
        last_count = count;
        // A killed run is `running` until the next writer marks it interrupted.
        cut_runs = store
            .run_statuses()
            .unwrap()
            .iter()
            .filter(|(_, s)| matches!(s, RunStatus::Interrupted | RunStatus::Running))
            .count();
    }
    // A clean run afterwards: the archive holds every snapshot a clean run holds.
    assert!(gstvault_cmd(dir.path(), &snapshot_args).status().unwrap().success());
    let store = gstvault::store::Reader::open(&archive).unwrap();
    assert!(gstvault::evidence::verify::verify_archive(&store, None)
        .unwrap()
        .intact());
    let runs = store.run_statuses().unwrap();
    assert!(
        runs.iter().filter(|(_, s)| *s == RunStatus::Interrupted).count() >= 30,
        "{runs:?}"
    );
    assert_eq!(
        runs.iter().filter(|(_, s)| *s == RunStatus::Running).count(),
        0,
        "no run is left running"
    );
    let today = chrono::Utc::now().date_naive();
    let months = gstvault::domain::period::Month::parse("2026-02")
        .unwrap()
        .through(gstvault::domain::period::Month::parse("2026-05").unwrap());
    for g in &gstins {
        for endpoint in &config.endpoints {
            for period in endpoint.period.periods(&months) {
                if endpoint.request(g.as_str(), &period, today).is_none() {
                    continue;
                }
                let n: i64 = rusqlite::Connection::open(store.path())
                    .unwrap()
                    .query_row(
                        "SELECT COUNT(*) FROM snapshots s JOIN keys k ON k.id = s.key_id
                         WHERE k.gstin = ?1 AND k.endpoint = ?2 AND k.period = ?3",
                        [g.as_str(), endpoint.name, &period.to_string()],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(n > 0, "{g} {} {period} missing", endpoint.name);
            }
        }
    }
    drop(store);

    // Export: a SIGKILL never leaves a partial bundle at its final path; a retry gives the same bytes.
    // The processes run on the system clock: as of now, fixed for every export below.
    let as_of_time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let as_of = as_of_time.as_str();
    let export = |out: &str| {
        gstvault_cmd(
            dir.path(),
            &[
                "export",
                "--gstin",
                gstins[0].as_str(),
                "--fy",
                "2025-26",
                "--as-of",
                as_of,
                "--out",
                out,
            ],
        )
    };
    // Kills land within the time one export takes here, so that most of
    // them interrupt it whatever the machine's speed.
    let started = std::time::Instant::now();
    assert!(export("reference").status().unwrap().success());
    let export_ms = (started.elapsed().as_millis() as u64).max(2);
    let name = std::fs::read_dir(dir.path().join("reference"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let reference = std::fs::read(dir.path().join("reference").join(&name)).unwrap();
    let mut export_kills = 0;
    for _ in 0..12 {
        let mut child = export("retried").spawn().unwrap();
        let wait = Duration::from_millis(rng.random_range(1..export_ms));
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            export_kills += 1;
        }
        child.wait().unwrap();
        let final_path = dir.path().join("retried").join(&name);
        if final_path.exists() {
            assert_eq!(
                std::fs::read(&final_path).unwrap(),
                reference,
                "a bundle at its final path is whole"
            );
            std::fs::remove_file(&final_path).unwrap();
        }
    }
    assert!(export_kills > 0, "some exports were killed mid-way");
    eprintln!("crash harness: {kills} capture kills, {export_kills} export kills, {last_count} snapshots before the clean run");
    let retried = export("retried").stderr(Stdio::piped()).output().unwrap();
    assert!(retried.status.success(), "{}", String::from_utf8_lossy(&retried.stderr));
    assert_eq!(
        std::fs::read(dir.path().join("retried").join(&name)).unwrap(),
        reference,
        "retried export gives the same bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_capture_with_one_error_and_the_archive_survives() {
    let mount = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(mount.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: mounting a small tmpfs is not allowed here (needs root and mount rights)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mount.path());
    let sim = simulator(41, |_| {}).await;
    let dir = mount.path();
    let gstins = sim::demo_gstins();
    std::fs::write(dir.join("gstvault.toml"), config_text(&sim.base_url, &gstins, "")).unwrap();
    for g in &gstins {
        assert!(gstvault_cmd(dir, &["login", g.as_str(), "--otp", sim::TEST_OTP])
            .status()
            .unwrap()
            .success());
    }
    let out = gstvault_cmd(dir, &["snapshot", "--from", "2025-04", "--to", "2026-05"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("full"), "{}", errors[0]);
    // Space returns; the archive verifies and the next capture completes.
    assert!(Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(dir)
        .status()
        .unwrap()
        .success());
    let store = gstvault::store::Reader::open(&dir.join("archive.sqlite")).unwrap();
    let report = gstvault::evidence::verify::verify_archive(&store, None).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
    drop(store);
    assert!(gstvault_cmd(dir, &["snapshot", "--from", "2026-05", "--to", "2026-05"])
        .status()
        .unwrap()
        .success());
    let catalog_len = catalog::default_set().len();
    assert!(catalog_len > 0);
}
