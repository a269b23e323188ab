//! Capture once: the one use case behind `snapshot`, the daemon's capture
//! job, the demo's captures, the benchmark's capture row and the tests.
//!
//! [`capture_once`] takes the archive's writer lock, opens the archive, marks
//! runs an earlier process left `running` as interrupted, runs a full or
//! planned capture and ends it in a signed checkpoint. [`capture_with`] does
//! the last two for a caller that already holds the writer lock (the daemon
//! holds it for its lifetime). Either way a run that appended to the log is
//! followed by a checkpoint signed with the configured key, or says plainly
//! that no key is configured ([`Checkpointed`]).

use std::sync::{Arc, Mutex as StdMutex};

use chrono::{DateTime, Utc};

use crate::capture::client::Client;
use crate::capture::session::TokenStore;
use crate::capture::{self, Plan, Progress, RunTotals};
use crate::clock::SharedClock;
use crate::config::{self, Config, Credentials, GstinEntry};
use crate::domain::catalog::{self, Group};
use crate::domain::period::{default_window, india_date, Month};
use crate::store::{CheckpointRow, Store, WriterLock};

use super::{configured_gstin, input, AppError, Result};

/// What to capture, as typed on a command line: every field optional.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only these GSTINs (default: every configured one).
    pub gstins: Vec<String>,
    /// First month `YYYY-MM` (default: the start of the window whose data can still change).
    pub from: Option<String>,
    /// Last month `YYYY-MM` (default: the current month).
    pub to: Option<String>,
    /// Only these endpoints.
    pub endpoints: Vec<String>,
    /// Only the endpoints of these groups.
    pub groups: Vec<String>,
}

/// Full or planned capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every endpoint and period of the window.
    Full,
    /// Only what the capture planner cannot prove unchanged, at most
    /// `daily_budget` answers per IST day (0: unlimited).
    Planned { daily_budget: u64 },
}

impl Mode {
    /// The mode a capture runs in: `--planned`, else `--full`, else `[capture] planner`.
    pub fn chosen(config: &Config, planned: bool, full: bool) -> Mode {
        if planned || (config.planner && !full) {
            Mode::Planned {
                daily_budget: config.daily_call_budget,
            }
        } else {
            Mode::Full
        }
    }
}

/// How the checkpoint after a run came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checkpointed {
    /// Signed and stored (or the newest checkpoint already covered the log).
    Signed(CheckpointRow),
    /// The run appended but no signing key is configured: nothing signed.
    NoKey { key: std::path::PathBuf },
    /// The run appended nothing and no key is configured: nothing to sign.
    NothingAppended,
    /// The run appended but signing failed (the snapshots are kept).
    Failed { reason: String },
    /// Not signed because the log or its newest checkpoint is damaged: one
    /// line naming what (the snapshots are kept; nothing damaged is signed over).
    Refused { damage: String },
}

/// The planner's counts of a planned run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlannerCalls {
    pub planned: u64,
    /// Calls a full capture of the same plan makes.
    pub naive: u64,
    /// Calls due but left for the next run by the daily budget.
    pub carried_over: u64,
    /// Planned calls per rule name.
    pub rules: std::collections::BTreeMap<String, u64>,
}

/// What one capture did.
#[derive(Clone, Debug)]
pub struct Captured {
    pub totals: RunTotals,
    /// Set for a planned run.
    pub planner: Option<PlannerCalls>,
    pub checkpoint: Checkpointed,
    /// What the tip check found damaged before the run began (the run
    /// captured anyway: new evidence is never lost because old was damaged).
    pub tip_damage: Vec<String>,
}

impl Captured {
    /// Every line of damage the run met: the tip check's, the run's own
    /// (repaired payloads) and a refused checkpoint's. The capture's exit
    /// code is non-zero when there is any.
    pub fn damage(&self) -> Vec<String> {
        let mut out = self.tip_damage.clone();
        out.extend(self.totals.damage.iter().cloned());
        if let Checkpointed::Refused { damage } = &self.checkpoint {
            if !out.contains(damage) {
                out.push(damage.clone());
            }
        }
        out
    }
}

/// The API client for a config and its credentials.
///
/// Fails when the HTTP client cannot be built.
pub fn client(config: &Config, credentials: Credentials, clock: SharedClock) -> Result<Arc<Client>> {
    Ok(Client::new(config.api.clone(), credentials, clock)?)
}

/// Turns a selection into a plan, refusing bad input before anything is
/// written. `kind` is recorded as the run's kind (snapshot, daemon, demo).
///
/// Fails on an unknown or unconfigured GSTIN, endpoint or group, a bad or
/// future month, or `--from` after `--to`.
pub fn plan(config: &Config, selection: &Selection, now: DateTime<Utc>, kind: &'static str) -> Result<Plan> {
    let today = india_date(now);
    let current = Month::of_date(today);
    let mut gstins: Vec<GstinEntry> = Vec::new();
    for text in &selection.gstins {
        gstins.push(configured_gstin(config, text)?);
    }
    if selection.gstins.is_empty() {
        gstins = config.gstins.clone();
    }
    if gstins.is_empty() {
        return Err(input(format!("config {}: no [[gstin]] configured", config.source)));
    }
    let (default_from, _) = default_window(today);
    let parse_month = |flag: &str, text: &str| -> Result<Month> {
        let month = Month::parse(text).map_err(|e| input(format!("--{flag}: {e}")))?;
        if month > current {
            return Err(input(format!("--{flag} {month} is in the future (today is {today})")));
        }
        Ok(month)
    };
    let (from, to) = match (&selection.from, &selection.to) {
        (Some(f), Some(t)) => (parse_month("from", f)?, parse_month("to", t)?),
        (Some(f), None) => (parse_month("from", f)?, current),
        (None, Some(_)) => return Err(input("--to needs --from")),
        (None, None) => (default_from, current),
    };
    if from > to {
        return Err(input(format!("--from {from} is after --to {to}")));
    }
    let endpoints = if selection.endpoints.is_empty() && selection.groups.is_empty() {
        config.endpoints.clone()
    } else {
        for group in &selection.groups {
            if Group::parse(group).is_none() {
                return Err(input(format!(
                    "--group {group:?}: unknown group; groups are {}",
                    config::group_names()
                )));
            }
        }
        for name in &selection.endpoints {
            if catalog::find(name).is_none() {
                return Err(input(format!("--endpoint: {}", catalog::unknown_endpoint(name))));
            }
        }
        let chosen = config::RawCapture {
            endpoints: selection.endpoints.clone(),
            groups: selection.groups.clone(),
            exclude: vec![],
            planner: false,
        };
        config::resolve_endpoints(&chosen).map_err(|(_, message)| input(message))?
    };
    Ok(Plan {
        gstins,
        endpoints,
        from,
        to,
        kind,
    })
}

/// The archive opened by the one process allowed to write it: takes the
/// writer lock (refused while a daemon or another snapshot holds it), opens
/// and migrates the archive, and marks runs an earlier process left
/// `running` as interrupted (holding the lock, they were cut short). The
/// lock is held until the returned guard drops.
///
/// Fails when the lock is held elsewhere or the archive cannot be opened.
pub fn open_writer(config: &Config, now: DateTime<Utc>) -> Result<(WriterLock, Store)> {
    let lock = WriterLock::acquire(&config.archive_path)?;
    let mut store = Store::open(&config.archive_path)?;
    let interrupted = store.mark_interrupted(now)?;
    if interrupted > 0 {
        tracing::warn!(
            runs = interrupted,
            "runs left unfinished by an earlier process are marked interrupted"
        );
    }
    Ok((lock, store))
}

/// One capture pass as `gstvault snapshot` runs it: takes the archive's
/// writer lock (refused while a daemon or another snapshot writes), opens and
/// migrates the archive, marks runs left `running` as interrupted, captures
/// and signs the checkpoint.
///
/// Fails when the lock is held elsewhere, the archive cannot be opened or
/// written, or the credentials are missing; upstream failures are archived
/// as outcomes and counted in the totals.
pub async fn capture_once(
    config: &Config,
    credentials: Credentials,
    clock: SharedClock,
    plan: &Plan,
    mode: Mode,
    progress: Option<Arc<dyn Progress>>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<Captured> {
    let client = client(config, credentials, clock.clone())?;
    let (_writer, store) = open_writer(config, clock.now())?;
    let store = Arc::new(StdMutex::new(store));
    capture_with(&store, config, client, clock, plan, mode, progress, stop).await
}

/// Captures into an archive whose writer lock the caller holds, then signs
/// the checkpoint. `stop` turning true ends the run early (requests in flight
/// are archived; the run is recorded interrupted and still checkpointed).
///
/// Fails only when the archive cannot be written.
#[allow(clippy::too_many_arguments)]
pub async fn capture_with(
    store: &Arc<StdMutex<Store>>,
    config: &Config,
    client: Arc<Client>,
    clock: SharedClock,
    plan: &Plan,
    mode: Mode,
    progress: Option<Arc<dyn Progress>>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<Captured> {
    let tip_damage = {
        let store = store
            .lock()
            .map_err(|_| AppError::Input("archive lock poisoned".into()))?;
        check_tip(&store, config)?
    };
    let tokens = TokenStore::new(&config.sessions_dir);
    let (totals, planner) = match mode {
        Mode::Full => {
            let totals = capture::run_until(plan, client, store.clone(), tokens, clock.clone(), progress, stop).await?;
            (totals, None)
        }
        Mode::Planned { daily_budget } => {
            let run =
                capture::run_planned(plan, daily_budget, client, store.clone(), tokens, clock.clone(), stop).await?;
            let calls = PlannerCalls {
                planned: run.planned_calls,
                naive: run.naive_calls,
                carried_over: run.carried_over,
                rules: run.rules,
            };
            (run.totals, Some(calls))
        }
    };
    let checkpoint = {
        let mut store = store
            .lock()
            .map_err(|_| AppError::Input("archive lock poisoned".into()))?;
        sign_checkpoint(
            &mut store,
            config,
            clock.now(),
            Some(totals.run_id),
            totals.snapshots > 0,
        )
    };
    match &checkpoint {
        Checkpointed::NoKey { key } => tracing::warn!(
            key = %key.display(),
            "no signing key: the run's checkpoint is not signed (run `gstvault keygen`)"
        ),
        Checkpointed::Failed { reason } => tracing::error!(%reason, "the run's checkpoint is not signed"),
        Checkpointed::Refused { damage } => tracing::error!("the run's checkpoint is not signed: {damage}"),
        _ => {}
    }
    Ok(Captured {
        totals,
        planner,
        checkpoint,
        tip_damage,
    })
}

/// The cheap check of the log's tip before a run ([`crate::evidence::guard`]),
/// with the configured key (the signing key's public half, else the public
/// key file): one line per damage found, each also logged as an error.
///
/// Fails only when the archive cannot be read.
pub fn check_tip(store: &Store, config: &Config) -> Result<Vec<String>> {
    let key = match super::keys::signing_key(config) {
        Ok(Some(key)) => Some(key.public()),
        _ => super::keys::configured_public_key(config).ok().flatten(),
    };
    let damage = crate::evidence::guard::check_tip(store, key.as_ref())?;
    Ok(damage
        .into_iter()
        .map(|d| {
            let line = format!("{d}; run `gstvault verify --archive`");
            tracing::error!("archive {}: {line}", store.path().display());
            line
        })
        .collect())
}

/// Signs and stores the checkpoint over the whole log with the configured
/// key (nothing new when the newest one already covers it). `appended` says
/// whether the caller added to the log, which decides between
/// [`Checkpointed::NoKey`] and [`Checkpointed::NothingAppended`] without a key.
pub fn sign_checkpoint(
    store: &mut Store,
    config: &Config,
    now: DateTime<Utc>,
    run_id: Option<i64>,
    appended: bool,
) -> Checkpointed {
    let key = match super::keys::signing_key(config) {
        Ok(Some(key)) => key,
        Ok(None) if appended => {
            return Checkpointed::NoKey {
                key: config.signing_key.clone(),
            }
        }
        Ok(None) => return Checkpointed::NothingAppended,
        Err(e) => return Checkpointed::Failed { reason: e.to_string() },
    };
    match crate::evidence::checkpoint::record(store, &key, now, run_id) {
        Ok(row) => Checkpointed::Signed(row),
        Err(crate::store::StoreError::Damaged { what, detail, .. }) => Checkpointed::Refused {
            damage: format!("{what} is damaged: {detail}; run `gstvault verify --archive`"),
        },
        Err(e) => Checkpointed::Failed { reason: e.to_string() },
    }
}
