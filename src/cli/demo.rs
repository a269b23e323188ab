//! `gstvault demo`: the embedded default, end to end on loopback.
//!
//! Starts the simulator in-process on a free loopback port, writes a config
//! for the three demo GSTINs into a fresh directory, logs each in with the
//! simulator's test OTP, captures the last 12 months of every default
//! endpoint as of 15 days ago, advances the simulator clock to now so the
//! portal's data moves on (ledger entries, late amendments of past periods),
//! captures again, signs a checkpoint after each capture, exports a month and
//! an FY bundle per GSTIN and verifies them, and prints what happened and
//! where everything is. Nothing leaves loopback, and nothing is stamped after
//! the wall clock: the demo's archive answers queries about "now" and its
//! bundles export again, byte for byte, from its config. With `--web` it
//! then adds an admin account and serves the web view of its archive on
//! loopback until Ctrl-C, printing the URL and the login.

use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};

use crate::app;
use crate::app::capture::{Checkpointed, Mode};
use crate::capture::Plan;
use crate::clock::SharedClock;
use crate::config::{Config, Credentials};
use crate::domain::period::{india_date, Month};
use crate::domain::secret::Secret;
use crate::evidence::scope::Scope;
use crate::render;
use crate::sim::{self, SimConfig, Simulator};

/// Days the simulator clock moves between the two captures: the first runs
/// this long before now, the second at now.
pub const DEMO_ADVANCE_DAYS: i64 = 15;

/// The demo config for a simulator at `base_url`, with each demo GSTIN's
/// legal name (`legal_names`, in [`sim::demo_gstins`] order) so an export
/// from the config gives the bundle the demo wrote.
pub fn demo_config_text(base_url: &str, legal_names: &[String]) -> String {
    let mut text = format!(
        "# Written by `gstvault demo`: the simulator's base URL and the three demo GSTINs.\n\
         [archive]\npath = \"gstvault.sqlite\"\norganization = \"gstvault demo\"\n\n\
         [api]\nbase_url = \"{base_url}\"\nkey_env = \"GSTVAULT_DEMO_API_KEY\"\nsecret_env = \"GSTVAULT_DEMO_API_SECRET\"\n\
         # The simulator has no rate limit in the demo; a real key gets 100/min.\nrate_limit_per_minute = 0\nconcurrency = 8\n\
         retry_base_ms = 50\nretry_max_ms = 1000\n\n[logging]\nlevel = \"warn\"\n"
    );
    for (index, gstin) in sim::demo_gstins().iter().enumerate() {
        text.push_str(&format!(
            "\n[[gstin]]\ngstin = \"{gstin}\"\nusername = \"demo_user_{}\"\n",
            index + 1
        ));
        if let Some(name) = legal_names.get(index) {
            text.push_str(&format!("legal_name = {}\n", toml_string(name)));
        }
    }
    text
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// `t` down to the whole second: as-of instants a person can type again.
fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).expect("a valid instant stays valid")
}

fn fresh_dir(requested: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match requested {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("gstvault-demo-{}", Utc::now().format("%Y%m%d-%H%M%S-%3f"))),
    };
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        anyhow::bail!("demo directory {} is not empty: pass a new --dir", dir.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Runs the demo; `dir` must be new or empty. With `web`, then serves the
/// web view of its archive ([`serve_web`]) until Ctrl-C.
pub async fn run(dir: Option<PathBuf>, web: bool) -> Result<()> {
    crate::logging::init(crate::config::LogFormat::Human, "warn");
    let started = std::time::Instant::now();
    let dir = fresh_dir(dir)?;
    // The simulator's clock starts DEMO_ADVANCE_DAYS (and a few seconds for
    // the as-of steps below) before the wall clock, so the second capture
    // runs at now and nothing is stamped after it.
    let start = whole_second(Utc::now()) - chrono::Duration::days(DEMO_ADVANCE_DAYS) - chrono::Duration::seconds(5);
    let running = Simulator::start(SimConfig::new(2026, start)).await?;
    let sim = running.sim.clone();
    let config_path = dir.join("gstvault.toml");
    let legal_names: Vec<String> = sim::demo_gstins()
        .iter()
        .map(|g| sim.model(g).legal_name().to_string())
        .collect();
    std::fs::write(&config_path, demo_config_text(&running.base_url, &legal_names))?;
    let config = Config::load(&config_path)?;
    outln!("gstvault demo");
    outln!(
        "  simulator: {} (in-process, seed 2026, test OTP {})",
        running.base_url,
        sim::TEST_OTP
    );
    outln!("  directory: {}", dir.display());

    let clock: SharedClock = Arc::new(sim.clone());
    // The demo knows the simulator's key; a real deployment reads it from the environment.
    let credentials = Credentials {
        api_key: Secret::new(sim::DEMO_API_KEY),
        api_secret: Secret::new(sim::DEMO_API_SECRET),
    };
    let client = app::capture::client(&config, credentials, clock.clone())?;
    for entry in &config.gstins {
        app::login::log_in(&config, &client, entry, sim::TEST_OTP, clock.now()).await?;
    }
    outln!(
        "  logged in: {}",
        config
            .gstins
            .iter()
            .map(|g| g.gstin.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let key_info = app::keys::keygen(&config)?;
    outln!(
        "  signing key: {} (key ID {}, fingerprint {})",
        config.signing_key.display(),
        key_info.key_id,
        key_info.fingerprint
    );
    let key = app::keys::require_signing_key(&config)?;
    // The demo's archive is new and only this process writes it.
    let (_writer, store) = app::capture::open_writer(&config, clock.now())?;
    let store = Arc::new(StdMutex::new(store));
    let current = Month::of_date(india_date(clock.now()));
    let plan = Plan {
        gstins: config.gstins.clone(),
        endpoints: config.endpoints.clone(),
        from: current
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev(),
        to: current,
        kind: "demo",
    };
    outln!(
        "\ncapture 1 at {} ({} to {}):",
        india_date(clock.now()),
        plan.from,
        plan.to
    );
    let first = app::capture::capture_with(
        &store,
        &config,
        client.clone(),
        clock.clone(),
        &plan,
        Mode::Full,
        None,
        None,
    )
    .await?;
    out!("{}", render::captured(&first));
    require_signed(&first.checkpoint)?;
    // Bundles as of the first capture (a whole second after it, so the
    // instant can be typed again): the second capture's bundles prove
    // consistency with them.
    let first_as_of = as_of_after(&sim);

    sim.advance(chrono::Duration::days(DEMO_ADVANCE_DAYS));
    outln!(
        "\nsimulator clock advanced {DEMO_ADVANCE_DAYS} days to {}",
        india_date(clock.now())
    );
    outln!("capture 2 ({} to {}):", plan.from, plan.to);
    let second = app::capture::capture_with(
        &store,
        &config,
        client.clone(),
        clock.clone(),
        &plan,
        Mode::Full,
        None,
        None,
    )
    .await?;
    out!("{}", render::captured(&second));
    require_signed(&second.checkpoint)?;
    let second_as_of = as_of_after(&sim);

    let changes = store.lock().expect("store lock").changes_of_run(second.totals.run_id)?;
    outln!("\nchanges found by capture 2 ({}):", changes.len());
    for change in changes.iter().take(25) {
        outln!(
            "  {}  {:<26} {:<10} seq {} -> {}",
            change.gstin,
            change.endpoint,
            change.period,
            change.previous_seq,
            change.seq
        );
    }
    if changes.len() > 25 {
        outln!("  ... and {} more", changes.len() - 25);
    }
    // Evidence bundles: per GSTIN the last closed month and the FY, first as of
    // capture 1, then as of now (these carry a consistency proof from the first).
    {
        let mut store = store.lock().expect("store lock");
        let bundles_dir = dir.join("bundles");
        let closed_month = Month::of_date(india_date(first_as_of)).prev();
        outln!("\nevidence bundles ({}):", bundles_dir.display());
        for entry in &config.gstins {
            let mut previous: Option<PathBuf> = None;
            for (as_of, scope) in [
                (first_as_of, Scope::Month(closed_month)),
                (second_as_of, Scope::Month(closed_month)),
                (second_as_of, Scope::Year(closed_month.financial_year())),
            ] {
                let request = app::export::request(&config, entry, scope, as_of, bundles_dir.clone())?;
                let exported = app::export::export(&mut store, &key, &request, clock.now())?;
                let against = if matches!(scope, Scope::Month(_)) {
                    previous.as_deref()
                } else {
                    None
                };
                let report = app::verify::verify_bundle(&exported.path, Some(&config.public_key), against)?;
                outln!(
                    "  {}  {} versions  verify: {}{}",
                    exported.path.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
                    exported.snapshots,
                    if report.intact() { "intact" } else { "FINDINGS" },
                    if against.is_some() {
                        " (consistent with the earlier bundle)"
                    } else {
                        ""
                    }
                );
                for finding in &report.findings {
                    outln!("    FINDING {}: {}", finding.subject, finding.message);
                }
                if matches!(scope, Scope::Month(_)) {
                    previous = Some(exported.path.clone());
                }
            }
        }
        let archive_report = app::verify::verify_archive(&config, Some(&config.public_key))?;
        outln!(
            "\nverify --archive: {} ({} snapshots, {} checkpoints, {} finding(s))",
            if archive_report.intact() {
                "intact"
            } else {
                "NOT INTACT"
            },
            archive_report.snapshots,
            archive_report.checkpoints,
            archive_report.finding_count()
        );
        outln!(
            "\narchive: {} ({} snapshots, {} of compressed payloads)",
            config.archive_path.display(),
            store.snapshot_count()?,
            render::human_bytes(store.payload_bytes()?)
        );
        outln!("config:  {}", config_path.display());
        outln!("try:     gstvault -c {} verify --archive", config_path.display());
        if let Some(entry) = config.gstins.first() {
            outln!(
                "         gstvault -c {} export --gstin {} --month {closed_month} --as-of {}   (the same bundle again: reported, not rewritten)",
                config_path.display(),
                entry.gstin,
                crate::domain::time::Zone::IST.rfc3339(second_as_of)
            );
        }
        outln!("done in {:.1} s", started.elapsed().as_secs_f64());
    }
    running.stop().await;
    if web {
        // Accounts are written under the writer lock: the demo's own goes first.
        drop(store);
        drop(_writer);
        serve_web(&config, &config_path).await?;
    }
    Ok(())
}

/// The demo login's name.
pub const DEMO_USER: &str = "demo";

/// `demo --web`: adds the admin account [`DEMO_USER`] with a fresh random
/// password, printed here once, and serves the web view on 127.0.0.1:8080,
/// or on a free loopback port when that one is taken, until Ctrl-C.
async fn serve_web(config: &Config, config_path: &std::path::Path) -> Result<()> {
    use rand::distr::{Alphanumeric, SampleString as _};
    let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
    let request = app::users::AddUser {
        name: DEMO_USER.into(),
        role: "admin".into(),
        ..Default::default()
    };
    app::users::add(config, &request, &password, Utc::now())?;
    let config = Arc::new(config.clone());
    let clock: SharedClock = Arc::new(crate::clock::SystemClock);
    let stop = || async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let (bound, task) = match crate::web::start(
        Arc::clone(&config),
        clock.clone(),
        std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
        stop(),
    )
    .await
    {
        Ok(started) => started,
        Err(_) => crate::web::start(config, clock, std::net::SocketAddr::from(([127, 0, 0, 1], 0)), stop()).await?,
    };
    // One write: a reader that stops after the login (closing the pipe)
    // must not turn a later line into a broken pipe that ends the demo.
    out!(
        "\nweb view: http://{bound}/ (stop with Ctrl-C)\n  log in as {DEMO_USER}, password {password} (an admin; shown only this once)\n  later:    gstvault -c {path} user add NAME --role auditor --gstin GSTIN\n            gstvault -c {path} serve\n",
        path = config_path.display()
    );
    task.await??;
    Ok(())
}

/// An as-of instant just after what the simulator has answered so far: its
/// clock moved on by a second, then cut to the whole second.
fn as_of_after(sim: &Simulator) -> DateTime<Utc> {
    sim.advance(chrono::Duration::seconds(1));
    whole_second(crate::clock::Clock::now(sim))
}

/// The demo has a key: a capture whose checkpoint is not signed is a failure.
fn require_signed(checkpoint: &Checkpointed) -> Result<()> {
    match checkpoint {
        Checkpointed::Signed(_) => Ok(()),
        other => anyhow::bail!("the demo's capture was not checkpointed: {other:?}"),
    }
}
