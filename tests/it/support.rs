//! Shared set-up: a simulator on loopback, a config pointing at it, logged-in
//! GSTINs, and a capture runner.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use gstvault::app::capture::{Captured, Mode};
use gstvault::capture::client::Client;
use gstvault::capture::{Plan, RunSummary};
use gstvault::clock::SharedClock;
use gstvault::config::{Config, Credentials};
use gstvault::domain::gstin::Gstin;
use gstvault::domain::period::Month;
use gstvault::domain::secret::Secret;
use gstvault::sim::{self, RunningSimulator, SimConfig};
use gstvault::store::Store;

/// 2026-06-25 10:00 IST: mid-month, GSTR-1 and 3B of May filed, 2B generated.
pub fn start_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 25, 4, 30, 0).unwrap()
}

pub struct World {
    pub sim: RunningSimulator,
    /// Keeps the archive directory alive for the test.
    pub _dir: tempfile::TempDir,
    pub config: Config,
    pub client: Arc<Client>,
    pub store: Arc<Mutex<Store>>,
    pub clock: SharedClock,
}

pub fn config_text(base_url: &str, gstins: &[Gstin], extra_api: &str) -> String {
    let mut text = format!(
        "[archive]\npath = \"archive.sqlite\"\n[api]\nbase_url = \"{base_url}\"\nkey_env = \"GSTVAULT_TEST_KEY\"\n\
         secret_env = \"GSTVAULT_TEST_SECRET\"\nrate_limit_per_minute = 0\nconcurrency = 8\nretry_base_ms = 1\n\
         retry_max_ms = 5\nmax_retries = 6\ntimeout_secs = 10\n{extra_api}\n"
    );
    for (i, g) in gstins.iter().enumerate() {
        text.push_str(&format!("[[gstin]]\ngstin = \"{g}\"\nusername = \"user{i}\"\n"));
    }
    text
}

impl World {
    /// A simulator and archive for `gstins` (default: the three demo GSTINs).
    pub async fn new(configure: impl FnOnce(&mut SimConfig)) -> World {
        World::build(configure, 8).await
    }

    /// `concurrency` 1 makes the request order, and so the archive, reproducible.
    pub async fn build(configure: impl FnOnce(&mut SimConfig), concurrency: usize) -> World {
        let mut sim_config = SimConfig::new(7, start_instant());
        sim_config.retry_after_secs = 0;
        configure(&mut sim_config);
        let sim = sim::Simulator::start(sim_config).await.expect("simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gstvault.toml");
        let text = config_text(&sim.base_url, &sim::demo_gstins(), "")
            .replace("concurrency = 8", &format!("concurrency = {concurrency}"));
        std::fs::write(&path, text).unwrap();
        let config = Config::load(&path).unwrap();
        let clock: SharedClock = Arc::new(sim.sim.clone());
        let credentials = Credentials {
            api_key: Secret::new(sim::DEMO_API_KEY),
            api_secret: Secret::new(sim::DEMO_API_SECRET),
        };
        let client = Client::new(config.api.clone(), credentials, clock.clone()).unwrap();
        let store = Arc::new(Mutex::new(Store::open(&config.archive_path).unwrap()));
        World {
            sim,
            _dir: dir,
            config,
            client,
            store,
            clock,
        }
    }

    pub fn gstins(&self) -> Vec<Gstin> {
        self.config.gstins.iter().map(|g| g.gstin.clone()).collect()
    }

    pub async fn login_all(&self) {
        for entry in &self.config.gstins {
            gstvault::app::login::log_in(&self.config, &self.client, entry, sim::TEST_OTP, self.clock.now())
                .await
                .unwrap();
        }
    }

    pub fn plan(
        &self,
        gstins: &[Gstin],
        endpoints: Option<Vec<&'static gstvault::domain::catalog::Endpoint>>,
        from: &str,
        to: &str,
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
            from: Month::parse(from).unwrap(),
            to: Month::parse(to).unwrap(),
            kind: "snapshot",
        }
    }

    /// One full capture through the application layer (no signing key is
    /// configured, so the checkpoint is left to the test).
    pub async fn capture(&self, plan: &Plan) -> RunSummary {
        self.capture_in(plan, Mode::Full).await.totals
    }

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
}
