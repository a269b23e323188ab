//! The one test harness, "simulator + temp archive": the Sandbox simulator
//! in-process on 127.0.0.1:0, a gstvault config pointing at it written into
//! a directory (a temporary one unless given), the API client, the archive,
//! and the steps every user takes next: log the GSTINs in with the
//! simulator's test OTP, plan, capture. Everything goes through the
//! application layer (`gstvault::app`), never the CLI; time is the
//! simulator's clock, advanced by the caller, never slept on.
//!
//! It is one file included three times with a `#[path]` attribute, because a
//! bench or an example cannot depend on test code any other way: by the
//! integration tests (`tests/it/main.rs`, as `support`), by the benchmark
//! harness (`bench/main.rs`) and by `examples/bench_planner.rs`. It owns the
//! simulator's start, the config text, the client, the signing key when asked
//! for, and the generated GSTINs; what a test or a bench row asserts stays
//! with it.
//!
//! [`World::builder`] sets it up; [`World::new`] and [`World::build`] are the
//! integration tests' shorthands.

// Each of the three targets uses a different part of this file; what one of
// them leaves unused is used by another, so it is not dead code.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use gstvault::app::capture::{Captured, Mode};
use gstvault::capture::client::Client;
use gstvault::capture::{Plan, RunTotals};
use gstvault::clock::SharedClock;
use gstvault::config::{Config, Credentials};
use gstvault::domain::catalog::Endpoint;
use gstvault::domain::digest::Digest;
use gstvault::domain::gstin::Gstin;
use gstvault::domain::period::{Month, Period};
use gstvault::domain::secret::Secret;
use gstvault::sim::{self, RunningSimulator, SimConfig};
use gstvault::store::Store;

/// 2026-06-25 10:00 IST: mid-month, GSTR-1 and 3B of May filed, 2B generated.
pub fn start_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 25, 4, 30, 0).unwrap()
}

/// The simulator's demo API key and secret.
pub fn credentials() -> Credentials {
    Credentials {
        api_key: Secret::new(sim::DEMO_API_KEY),
        api_secret: Secret::new(sim::DEMO_API_SECRET),
    }
}

/// `n` distinct, valid GSTINs across states and constitutions (the first 243
/// differ in their PAN's digits, further blocks of 243 in its third letter).
pub fn gstins(n: usize) -> Vec<Gstin> {
    let states = [27u8, 29, 33, 24, 7, 9, 19, 32, 36, 6];
    (0..n)
        .map(|i| {
            let third = char::from(b'B' + (i / 243) as u8);
            let pan = format!("AA{third}{}K{:04}M", ["C", "F", "P", "H"][i % 4], 1000 + (i % 243) * 37);
            Gstin::compose(states[i % states.len()], &pan, '1').expect("valid GSTIN")
        })
        .collect()
}

/// A simulator started with `seed` at [`start_instant`], `configure`d, for a
/// test that drives the gstvault binary and only needs a portal to point at.
/// The binary reads the wall clock while the simulator's stands at
/// [`start_instant`], so the portal's API access is made to outlast the gap
/// (100 years): otherwise the binary would rightly find it ended.
pub async fn simulator(seed: u64, configure: impl FnOnce(&mut SimConfig)) -> RunningSimulator {
    let mut sim_config = SimConfig::new(seed, start_instant());
    sim_config.api_access_ttl = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
    configure(&mut sim_config);
    sim::Simulator::start(sim_config).await.expect("simulator starts")
}

/// The integration tests' config for `gstins` at `base_url` (see
/// [`Builder::test_client`]), with `extra_api` lines in `[api]`.
pub fn config_text(base_url: &str, gstins: &[Gstin], extra_api: &str) -> String {
    World::builder()
        .test_client()
        .gstins(gstins.to_vec())
        .api(extra_api)
        .config_text(base_url)
}

/// A tweak of the simulator's settings.
type Tweak = Box<dyn FnOnce(&mut SimConfig) + Send>;

/// What to set up; [`World::builder`] gives the defaults, [`Builder::start`]
/// starts it.
pub struct Builder {
    seed: u64,
    start: DateTime<Utc>,
    tweaks: Vec<Tweak>,
    gstins: Vec<Gstin>,
    concurrency: usize,
    test_client: bool,
    max_retries: Option<u32>,
    timeout_secs: Option<u64>,
    api: String,
    capture: Option<String>,
    daemon: Option<String>,
    alerts: Option<String>,
    dir: Option<PathBuf>,
    keygen: bool,
}

impl Builder {
    /// The simulator's seed (default 7).
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = seed;
        self
    }

    /// The simulator clock's first instant (default [`start_instant`]).
    pub fn start_at(mut self, start: DateTime<Utc>) -> Builder {
        self.start = start;
        self
    }

    /// Changes the simulator's settings after seed and start are set
    /// (faults, session lifetime, ...); tweaks apply in the order given.
    pub fn sim(mut self, configure: impl FnOnce(&mut SimConfig) + Send + 'static) -> Builder {
        self.tweaks.push(Box::new(configure));
        self
    }

    /// The configured GSTINs (default: [`sim::demo_gstins`]), `user0`, `user1`, ... in order.
    pub fn gstins(mut self, gstins: Vec<Gstin>) -> Builder {
        self.gstins = gstins;
        self
    }

    /// `[api] concurrency` (default 8). 1 makes the request order, and so the
    /// archive, reproducible.
    pub fn concurrency(mut self, concurrency: usize) -> Builder {
        self.concurrency = concurrency;
        self
    }

    /// The integration tests' client settings: the key and secret named by
    /// `GSTVAULT_TEST_KEY`/`GSTVAULT_TEST_SECRET` (what the tests that run the
    /// binary set), 6 retries, 10 s timeout. Without it the config's defaults
    /// hold, as in the benchmark.
    pub fn test_client(mut self) -> Builder {
        self.test_client = true;
        self.max_retries = Some(6);
        self.timeout_secs = Some(10);
        self
    }

    /// `[api] max_retries` (default: the config's).
    pub fn max_retries(mut self, retries: u32) -> Builder {
        self.max_retries = Some(retries);
        self
    }

    /// More `[api]` lines (rate limit off and fast retries are always there).
    pub fn api(mut self, lines: &str) -> Builder {
        self.api.push_str(lines);
        self.api.push('\n');
        self
    }

    /// A `[capture]` section with these lines.
    pub fn capture(mut self, lines: &str) -> Builder {
        self.capture = Some(lines.to_string());
        self
    }

    /// A `[daemon]` section with these lines.
    pub fn daemon(mut self, lines: &str) -> Builder {
        self.daemon = Some(lines.to_string());
        self
    }

    /// An `[alerts]` section with these lines.
    pub fn alerts(mut self, lines: &str) -> Builder {
        self.alerts = Some(lines.to_string());
        self
    }

    /// Config, archive and sessions under `dir` (created if missing, kept
    /// afterwards) instead of a temporary directory removed with the world.
    pub fn dir(mut self, dir: &Path) -> Builder {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Makes the configured signing key, so every capture ends in a signed
    /// checkpoint (default: no key; tests sign with fixture keys themselves).
    pub fn keygen(mut self) -> Builder {
        self.keygen = true;
        self
    }

    /// The config file's text for a simulator at `base_url`.
    pub fn config_text(&self, base_url: &str) -> String {
        let mut text = format!("[archive]\npath = \"archive.sqlite\"\n[api]\nbase_url = \"{base_url}\"\n");
        if self.test_client {
            text.push_str("key_env = \"GSTVAULT_TEST_KEY\"\nsecret_env = \"GSTVAULT_TEST_SECRET\"\n");
        }
        text.push_str(&format!(
            "rate_limit_per_minute = 0\nconcurrency = {}\nretry_base_ms = 1\nretry_max_ms = 5\n",
            self.concurrency
        ));
        if let Some(retries) = self.max_retries {
            text.push_str(&format!("max_retries = {retries}\n"));
        }
        if let Some(secs) = self.timeout_secs {
            text.push_str(&format!("timeout_secs = {secs}\n"));
        }
        text.push_str(&self.api);
        for (i, g) in self.gstins.iter().enumerate() {
            text.push_str(&format!("[[gstin]]\ngstin = \"{g}\"\nusername = \"user{i}\"\n"));
        }
        for (section, lines) in [
            ("capture", &self.capture),
            ("daemon", &self.daemon),
            ("alerts", &self.alerts),
        ] {
            if let Some(lines) = lines {
                text.push_str(&format!("\n[{section}]\n{lines}\n"));
            }
        }
        text
    }

    /// Starts the simulator, writes the config, builds the client, makes the
    /// signing key if asked and opens the archive. Nobody is logged in yet.
    pub async fn start(mut self) -> World {
        let mut sim_config = SimConfig::new(self.seed, self.start);
        for tweak in std::mem::take(&mut self.tweaks) {
            tweak(&mut sim_config);
        }
        let sim = sim::Simulator::start(sim_config).await.expect("simulator starts");
        let dir = match &self.dir {
            Some(path) => {
                std::fs::create_dir_all(path).expect("world directory");
                Dir::Given(path.clone())
            }
            None => Dir::Temp(tempfile::tempdir().expect("temp directory")),
        };
        let path = dir.path().join("gstvault.toml");
        std::fs::write(&path, self.config_text(&sim.base_url)).expect("config written");
        let config = Config::load(&path).expect("config loads");
        let clock: SharedClock = Arc::new(sim.sim.clone());
        let client = gstvault::app::capture::client(&config, credentials(), clock.clone()).expect("client");
        if self.keygen {
            gstvault::app::keys::keygen(&config).expect("keygen");
        }
        let store = Arc::new(Mutex::new(Store::open(&config.archive_path).expect("archive opens")));
        World {
            sim,
            dir,
            config,
            client,
            store,
            clock,
        }
    }
}

/// Where the world's files are: a temporary directory removed with it, or a given one kept.
enum Dir {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl Dir {
    fn path(&self) -> &Path {
        match self {
            Dir::Temp(temp) => temp.path(),
            Dir::Given(path) => path,
        }
    }
}

/// A running simulator and an archive configured for it.
pub struct World {
    pub sim: RunningSimulator,
    /// Keeps a temporary directory alive as long as the world.
    dir: Dir,
    pub config: Config,
    pub client: Arc<Client>,
    pub store: Arc<Mutex<Store>>,
    pub clock: SharedClock,
}

/// Distinct ok/no_data payload versions per (gstin, endpoint, period, page).
pub type Versions = BTreeMap<(Gstin, String, Period, u32), BTreeSet<Option<Digest>>>;

impl World {
    /// Seed 7 at [`start_instant`], the demo GSTINs, `[api] concurrency` 8,
    /// a temporary directory, no signing key, the config's client defaults.
    pub fn builder() -> Builder {
        Builder {
            seed: 7,
            start: start_instant(),
            tweaks: Vec::new(),
            gstins: sim::demo_gstins(),
            concurrency: 8,
            test_client: false,
            max_retries: None,
            timeout_secs: None,
            api: String::new(),
            capture: None,
            daemon: None,
            alerts: None,
            dir: None,
            keygen: false,
        }
    }

    /// The integration tests' world (the three demo GSTINs), `configure`d.
    pub async fn new(configure: impl FnOnce(&mut SimConfig) + Send + 'static) -> World {
        World::build(configure, 8).await
    }

    /// The integration tests' world with `[api] concurrency`; 1 makes the
    /// request order, and so the archive, reproducible. `Retry-After` is 0 so
    /// injected 429s cost no time.
    pub async fn build(configure: impl FnOnce(&mut SimConfig) + Send + 'static, concurrency: usize) -> World {
        World::builder()
            .sim(|c| c.retry_after_secs = 0)
            .sim(configure)
            .test_client()
            .concurrency(concurrency)
            .start()
            .await
    }

    /// The directory holding the config, the archive and the sessions.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn archive_path(&self) -> PathBuf {
        self.config.archive_path.clone()
    }

    pub fn gstins(&self) -> Vec<Gstin> {
        self.config.gstins.iter().map(|g| g.gstin.clone()).collect()
    }

    /// Logs every configured GSTIN in with the simulator's test OTP.
    pub async fn login_all(&self) {
        for entry in &self.config.gstins {
            gstvault::app::login::log_in(&self.config, &self.client, entry, sim::TEST_OTP, self.clock.now())
                .await
                .expect("login");
        }
    }

    /// A snapshot plan for `gstins` (in config order), `endpoints` (default:
    /// the configured set) and the months `from`..=`to` (`YYYY-MM`).
    pub fn plan(&self, gstins: &[Gstin], endpoints: Option<Vec<&'static Endpoint>>, from: &str, to: &str) -> Plan {
        self.plan_months(
            gstins,
            endpoints,
            Month::parse(from).unwrap(),
            Month::parse(to).unwrap(),
        )
    }

    /// [`World::plan`] for months already parsed.
    pub fn plan_months(
        &self,
        gstins: &[Gstin],
        endpoints: Option<Vec<&'static Endpoint>>,
        from: Month,
        to: Month,
    ) -> Plan {
        Plan {
            gstins: self
                .config
                .gstins
                .iter()
                .filter(|g| gstins.contains(&g.gstin))
                .cloned()
                .collect(),
            endpoints: endpoints.unwrap_or_else(|| self.config.endpoints.clone()),
            from,
            to,
            kind: "snapshot",
        }
    }

    /// One full capture through the application layer; its totals.
    pub async fn capture(&self, plan: &Plan) -> RunTotals {
        self.capture_in(plan, Mode::Full).await.totals
    }

    /// One capture, full or planned, through the application layer. It ends
    /// in a signed checkpoint when the world has a signing key.
    pub async fn capture_in(&self, plan: &Plan, mode: Mode) -> Captured {
        gstvault::app::capture::capture_with(
            &self.store,
            &self.config,
            self.client.clone(),
            self.clock.clone(),
            plan,
            mode,
            None,
            None,
        )
        .await
        .expect("capture runs")
    }

    /// Requests the client has made so far.
    pub fn requests(&self) -> u64 {
        self.client.stats.requests.load(Ordering::Relaxed)
    }

    /// Every distinct ok/no_data payload version in the archive.
    pub fn versions(&self) -> Versions {
        let store = self.store.lock().unwrap();
        let mut out: Versions = BTreeMap::new();
        store
            .scan_snapshots(|row, _, _| {
                if row.outcome.is_answered() {
                    out.entry((row.gstin, row.endpoint, row.period, row.page))
                        .or_default()
                        .insert(row.payload_sha256);
                }
            })
            .unwrap();
        out
    }
}
