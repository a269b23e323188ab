//! Benchmark of the capture planner: a simulated evolution of N GSTINs over D
//! days (default 20 GSTINs, 60 days; `BENCH_GSTINS`, `BENCH_DAYS` override),
//! captured once a day naively on one simulator and with the planner on an
//! identical one (same seed, same clock). Both start with one full capture.
//! Prints the calls each side made and checks that the planned archive holds
//! every payload version the naive archive holds (0 missed), and that planned
//! calls are at most 15% of the naive ones.
//!
//! `cargo run --release --example bench_planner`

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use gstvault::app::capture::{Captured, Mode};
use gstvault::capture::client::Client;
use gstvault::capture::Plan;
use gstvault::clock::SharedClock;
use gstvault::config::{Config, Credentials};
use gstvault::domain::gstin::Gstin;
use gstvault::domain::period::{default_window, india_date};
use gstvault::domain::secret::Secret;
use gstvault::sim::{self, RunningSimulator, SimConfig};
use gstvault::store::Store;

struct Side {
    sim: RunningSimulator,
    _dir: tempfile::TempDir,
    config: Config,
    client: Arc<Client>,
    store: Arc<Mutex<Store>>,
    clock: SharedClock,
}

fn gstins(n: usize) -> Vec<Gstin> {
    let states = [27u8, 29, 33, 24, 7, 9, 19, 32, 36, 6];
    (0..n)
        .filter_map(|i| {
            let pan = format!("AAB{}K{:04}M", ["C", "F", "P", "H"][i % 4], 1000 + i * 37);
            Gstin::compose(states[i % states.len()], &pan, '1').ok()
        })
        .collect()
}

async fn side(gstins: &[Gstin]) -> Side {
    let start = Utc.with_ymd_and_hms(2026, 6, 25, 4, 30, 0).unwrap();
    let mut sim_config = SimConfig::new(7, start);
    sim_config.retry_after_secs = 0;
    let sim = sim::Simulator::start(sim_config).await.expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gstvault.toml");
    let mut text = format!(
        "[archive]\npath = \"archive.sqlite\"\n[api]\nbase_url = \"{}\"\nrate_limit_per_minute = 0\nconcurrency = 16\n\
         retry_base_ms = 1\nretry_max_ms = 5\n",
        sim.base_url
    );
    for (i, g) in gstins.iter().enumerate() {
        text.push_str(&format!("[[gstin]]\ngstin = \"{g}\"\nusername = \"user{i}\"\n"));
    }
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let clock: SharedClock = Arc::new(sim.sim.clone());
    let credentials = Credentials {
        api_key: Secret::new(sim::DEMO_API_KEY),
        api_secret: Secret::new(sim::DEMO_API_SECRET),
    };
    let client = Client::new(config.api.clone(), credentials, clock.clone()).unwrap();
    let store = Arc::new(Mutex::new(Store::open(&config.archive_path).unwrap()));
    Side {
        sim,
        _dir: dir,
        config,
        client,
        store,
        clock,
    }
}

impl Side {
    async fn login(&self) {
        for entry in &self.config.gstins {
            gstvault::app::login::log_in(&self.config, &self.client, entry, sim::TEST_OTP, self.clock.now())
                .await
                .unwrap();
        }
    }

    fn plan(&self) -> Plan {
        let (from, to) = default_window(india_date(self.clock.now()));
        Plan {
            gstins: self.config.gstins.clone(),
            endpoints: self.config.endpoints.clone(),
            from,
            to,
            kind: "snapshot",
        }
    }

    async fn capture(&self, mode: Mode) -> Captured {
        gstvault::app::capture::capture_with(
            &self.store,
            &self.config,
            self.client.clone(),
            self.clock.clone(),
            &self.plan(),
            mode,
            None,
            None,
        )
        .await
        .unwrap()
    }

    fn requests(&self) -> u64 {
        self.client.stats.requests.load(Ordering::Relaxed)
    }

    /// Distinct ok/no_data payload versions per (gstin, endpoint, period, page).
    fn versions(&self) -> BTreeMap<(String, String, String, u32), BTreeSet<String>> {
        let store = self.store.lock().unwrap();
        let mut out: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
        store
            .scan_snapshots(|row, _, _| {
                if row.outcome == "ok" || row.outcome == "no_data" {
                    out.entry((row.gstin, row.endpoint, row.period, row.page))
                        .or_default()
                        .insert(row.payload_sha256.unwrap_or_default());
                }
            })
            .unwrap();
        out
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_GSTINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let days: i64 = std::env::var("BENCH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let gstins = gstins(n);
    let naive = side(&gstins).await;
    let planned = side(&gstins).await;
    let began = std::time::Instant::now();
    // Day 0: one full capture on both sides.
    for s in [&naive, &planned] {
        s.login().await;
        s.capture(Mode::Full).await;
    }
    let (naive_base, planned_base) = (naive.requests(), planned.requests());
    let mut rules: BTreeMap<String, u64> = BTreeMap::new();
    for day in 1..=days {
        for s in [&naive, &planned] {
            s.sim.sim.advance(chrono::Duration::days(1));
            s.login().await;
        }
        naive.capture(Mode::Full).await;
        let run = planned.capture(Mode::Planned { daily_budget: 0 }).await;
        for (rule, count) in run.planner.expect("a planned run").rules {
            *rules.entry(rule).or_default() += count;
        }
        if day % 10 == 0 {
            eprintln!(
                "day {day} ({}): naive {} calls, planned {} calls",
                india_date(naive.clock.now()),
                naive.requests() - naive_base,
                planned.requests() - planned_base
            );
        }
    }
    let naive_calls = naive.requests() - naive_base;
    let planned_calls = planned.requests() - planned_base;
    let a = naive.versions();
    let b = planned.versions();
    let naive_versions: usize = a.values().map(|v| v.len()).sum();
    let mut missed = 0usize;
    for (key, versions) in &a {
        let have = b.get(key);
        for v in versions {
            if !have.is_some_and(|h| h.contains(v)) {
                missed += 1;
                if missed <= 20 {
                    eprintln!("missed: {key:?} {v}");
                }
            }
        }
    }
    let ratio = planned_calls as f64 / naive_calls.max(1) as f64;
    println!(
        "GSTINs {n}, days {days} (after one full capture each), {:.0?}",
        began.elapsed()
    );
    println!("naive calls:   {naive_calls}");
    println!(
        "planned calls: {planned_calls} ({:.1}% of naive, {} saved)",
        ratio * 100.0,
        naive_calls - planned_calls.min(naive_calls)
    );
    println!("payload versions archived by naive: {naive_versions}; missed by planned: {missed}");
    println!("planned calls by rule (page 0): {rules:?}");
    assert_eq!(missed, 0, "the planner missed payload versions");
    assert!(
        ratio <= 0.15,
        "planned calls are {:.1}% of naive (limit 15%)",
        ratio * 100.0
    );
}
