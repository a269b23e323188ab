//! `gstvault daemon`: scheduled capture, export, checkpoint and session
//! refresh, unattended for months.
//!
//! Jobs are [`JobKind`]s fired by tokio-cron-scheduler on the schedules of
//! `[daemon]` (IST). A job still running when its next tick fires is skipped
//! and logged, never started twice. The daemon holds the archive's
//! [`WriterLock`] for its lifetime; readers open the archive read-only and
//! work beside it (WAL). On SIGTERM or SIGINT it stops taking new work, lets
//! requests in flight finish for at most `shutdown_grace_secs`, marks what
//! did not finish as interrupted, and returns so the process exits 0. An
//! optional loopback listener serves `/healthz` and `/metrics` (Prometheus).
//! After every job and once a minute the health conditions are computed
//! (`conditions`, from `domain::health`) and their changes sent as alerts
//! (`alerts`); `/healthz` reports the same set.
//! Only the cron firing reads the wall clock; the daemon's own timing (the
//! heartbeat and its age, the alert tick, the grace period, waiting for jobs
//! in flight) runs on tokio's clock, so tests pause it and move it instead
//! of waiting; "now" for the conditions is the injected [`Clock`](crate::clock::Clock).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

mod alerts;
mod conditions;
mod http;

pub use alerts::{Alert, Origin};

use crate::app;
use crate::app::capture::Checkpointed;
use crate::capture::client::Client;
use crate::capture::session::session_state;
use crate::capture::session::TokenStore;
use crate::capture::Plan;
use crate::clock::SharedClock;
use crate::config::{Config, Credentials};
use crate::domain::health::{Condition, Kind};
use crate::domain::period::{default_window, india_date};
use crate::domain::run::RunStatus;
use crate::domain::schedule::{export_month_at, export_year_at, JobKind, JobState};
use crate::evidence::scope::Scope;
use crate::store::{Store, WriterLock};

/// How often the heartbeat beats while the daemon serves.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// `/healthz` calls the scheduler silent when its last beat is older than this.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// How often the health conditions are computed besides after each job, so
/// a condition that comes with time alone (a session lapsing, a capture
/// going stale) is sent within a minute.
const ALERT_TICK: Duration = Duration::from_secs(60);

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobResult {
    Ok(String),
    Failed(String),
    Interrupted(String),
    /// The previous run of the same job was still going.
    Skipped,
}

impl JobResult {
    /// How the job ended, as `job_runs` records it.
    pub fn state(&self) -> JobState {
        match self {
            JobResult::Ok(_) => JobState::Ok,
            JobResult::Failed(_) => JobState::Failed,
            JobResult::Interrupted(_) => JobState::Interrupted,
            JobResult::Skipped => JobState::Skipped,
        }
    }

    /// The state's name, for logs and metrics.
    pub fn label(&self) -> &'static str {
        self.state().as_str()
    }

    fn detail(&self) -> Option<&str> {
        match self {
            JobResult::Ok(d) | JobResult::Failed(d) | JobResult::Interrupted(d) => Some(d),
            JobResult::Skipped => None,
        }
    }
}

/// The daemon's shared state.
pub struct Daemon {
    config: Config,
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    /// The kinds of job running now. A watch rather than one flag per kind,
    /// so the stop is woken by each job's end instead of polling for it.
    jobs: watch::Sender<BTreeSet<JobKind>>,
    stop_tx: watch::Sender<bool>,
    /// The tokio instant of the scheduler's last heartbeat (None: not
    /// started). Tokio's monotonic clock, not the wall clock: a clock step
    /// cannot fake a silence or hide one, and tests pause it.
    heartbeat: StdMutex<Option<Instant>>,
    /// The last archive write error, for /healthz.
    store_error: StdMutex<Option<String>>,
    /// Damage to the archive found by a capture, a checkpoint or the verify
    /// job, for /healthz; cleared only by a verify job that finds the
    /// archive intact.
    damage: StdMutex<Option<String>>,
    /// Set when a job found damage: the verify job runs right after it.
    verify_soon: std::sync::atomic::AtomicBool,
    /// Where /healthz and /metrics are served, once bound.
    listening: OnceLock<std::net::SocketAddr>,
    web_listening: OnceLock<std::net::SocketAddr>,
    /// The alert channels and their delivery queue.
    alerts: alerts::Alerts,
    /// Since when daemons watch this archive: the first daemon job it
    /// recorded, or this daemon's start. A GSTIN never captured is stale
    /// counting from here, the same instant after every restart.
    started: DateTime<Utc>,
    _lock: WriterLock,
}

impl Daemon {
    /// Takes the archive's writer lock and prepares the client.
    ///
    /// Damage an earlier process raised as an alert and no verification has
    /// cleared yet is still reported: the alert stays open until a verify job
    /// finds the archive intact.
    ///
    /// Fails when another process writes to the archive, the archive or
    /// credentials cannot be opened, or the alert channels cannot be set up
    /// (an SMTP password variable unset, an address refused).
    pub fn new(config: Config, credentials: Credentials, clock: SharedClock) -> Result<Arc<Daemon>> {
        let (lock, mut store) = app::capture::open_writer(&config, clock.now())?;
        let client = app::capture::client(&config, credentials, clock.clone())?;
        let alerts = alerts::Alerts::new(&config, store.archive_id()?)?;
        let damage = store
            .open_alerts()?
            .into_iter()
            .find(|row| row.kind == Kind::ArchiveDamaged)
            .map(|row| match row.reason.strip_prefix("archive damaged: ") {
                Some(reason) => reason.to_string(),
                None => row.reason,
            });
        http::metrics_handle();
        let started = store
            .first_job_run_at()?
            .and_then(|t| t.to_datetime())
            .map_or(clock.now(), |first| first.min(clock.now()));
        Ok(Arc::new(Daemon {
            tokens: TokenStore::new(&config.sessions_dir),
            jobs: watch::Sender::new(BTreeSet::new()),
            config,
            client,
            store: Arc::new(StdMutex::new(store)),
            clock,
            stop_tx: watch::Sender::new(false),
            heartbeat: StdMutex::new(None),
            store_error: StdMutex::new(None),
            damage: StdMutex::new(damage),
            verify_soon: std::sync::atomic::AtomicBool::new(false),
            listening: OnceLock::new(),
            web_listening: OnceLock::new(),
            alerts,
            started,
            _lock: lock,
        }))
    }

    pub fn store(&self) -> Arc<StdMutex<Store>> {
        self.store.clone()
    }

    fn stopping(&self) -> bool {
        *self.stop_tx.borrow()
    }

    /// Runs one job now unless the same job is still running (then it is skipped).
    pub async fn run_job(self: &Arc<Self>, kind: JobKind) -> JobResult {
        if self.stopping() {
            return JobResult::Skipped;
        }
        let Some(in_flight) = InFlight::start(&self.jobs, kind) else {
            tracing::warn!(job = kind.name(), "previous run still going: this tick is skipped");
            metrics::counter!("gstvault_runs_total", "job" => kind.name(), "result" => "skipped").increment(1);
            return JobResult::Skipped;
        };
        // Asked again now that the job counts as in flight: a stop that came
        // in between either waits for this job or is seen here, never neither.
        if self.stopping() {
            return JobResult::Skipped;
        }
        let started = self.clock.now();
        let row = self.with_store(|s| s.begin_job_run(kind, started)).ok();
        tracing::info!(job = kind.name(), "job started");
        let result = match kind {
            JobKind::Capture => self.capture().await,
            JobKind::ExportMonth => self.export(Scope::Month(export_month_at(started))).await,
            JobKind::ExportYear => self.export(Scope::Year(export_year_at(started))).await,
            JobKind::Checkpoint => self.checkpoint(),
            JobKind::SessionRefresh => self.refresh_sessions().await,
            JobKind::Verify => self.verify().await,
        };
        let finished = self.clock.now();
        if let Some(id) = row {
            let _ = self.with_store(|s| s.finish_job_run(id, result.state(), result.detail(), finished));
        }
        // The job ends for the stop once its row says how it ended.
        drop(in_flight);
        metrics::counter!("gstvault_runs_total", "job" => kind.name(), "result" => result.label()).increment(1);
        self.evaluate_alerts();
        match &result {
            JobResult::Failed(detail) => tracing::error!(job = kind.name(), %detail, "job failed"),
            other => tracing::info!(
                job = kind.name(),
                result = other.label(),
                detail = other.detail().unwrap_or(""),
                "job finished"
            ),
        }
        if kind != JobKind::Verify && self.verify_soon.swap(false, std::sync::atomic::Ordering::SeqCst) {
            Box::pin(self.run_job(JobKind::Verify)).await;
        }
        result
    }

    /// Computes the health conditions now and records and queues an alert
    /// for each that started or cleared since the last time; returns the
    /// conditions. Runs after every job and on the minute's tick; must run
    /// on tokio's runtime (the first call starts the delivery task).
    pub fn evaluate_alerts(&self) -> Vec<Condition> {
        self.alerts.start(self.store.clone());
        let current = match self.conditions() {
            Ok(current) => current,
            Err(e) => {
                tracing::error!(error = %e, "cannot compute the health conditions");
                return Vec::new();
            }
        };
        metrics::gauge!("gstvault_alert_conditions").set(current.len() as f64);
        let now = self.clock.now();
        let _ = self.with_store(|store| self.alerts.reconcile(store, &current, now));
        current
    }

    /// Waits until every alert recorded so far was delivered, or given up
    /// on after its retries (its row then says `failed`).
    pub async fn alerts_sent(&self) {
        self.alerts.idle().await;
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, crate::store::StoreError>) -> Result<T> {
        let mut guard = self.store.lock().map_err(|_| anyhow!("archive lock poisoned"))?;
        let result = f(&mut guard);
        if let Err(e) = &result {
            *self.store_error.lock().expect("error slot") = Some(e.to_string());
        }
        Ok(result?)
    }

    async fn capture(self: &Arc<Self>) -> JobResult {
        let now = self.clock.now();
        let (from, to) = default_window(india_date(now));
        let plan = Plan {
            gstins: self.config.gstins.clone(),
            endpoints: self.config.endpoints.clone(),
            from,
            to,
            kind: "daemon",
        };
        let mode = app::capture::Mode::chosen(&self.config, false, false);
        let result = app::capture::capture_with(
            &self.store,
            &self.config,
            self.client.clone(),
            self.clock.clone(),
            &plan,
            mode,
            None,
            Some(self.stop_tx.subscribe()),
        )
        .await;
        let captured = match result {
            Ok(c) => c,
            Err(e) => {
                *self.store_error.lock().expect("error slot") = Some(e.to_string());
                return JobResult::Failed(e.to_string());
            }
        };
        *self.store_error.lock().expect("error slot") = None;
        let summary = &captured.totals;
        let damage = captured.damage();
        if let Some(first) = damage.first() {
            self.found_damage(first, damage.len());
            return JobResult::Failed(format!(
                "capture archived (run {}, {} snapshots), archive damage found: {}",
                summary.run_id,
                summary.snapshots,
                damage.join("; ")
            ));
        }
        let checkpoint = match &captured.checkpoint {
            Checkpointed::Signed(c) => format!(", checkpoint {}", c.size),
            Checkpointed::NoKey { .. } => ", checkpoint not signed: no signing key".to_string(),
            Checkpointed::NothingAppended => String::new(),
            Checkpointed::Failed { reason } | Checkpointed::Refused { damage: reason } => {
                return JobResult::Failed(format!(
                    "capture archived (run {}), checkpoint not signed: {reason}",
                    summary.run_id
                ))
            }
        };
        let detail = format!(
            "run {}: {} snapshots, {} ok, {} no-data, {} failed, {} changes, {} needs login{checkpoint}",
            summary.run_id,
            summary.snapshots,
            summary.count(crate::domain::envelope::Outcome::Ok),
            summary.count(crate::domain::envelope::Outcome::NoData),
            summary.failed(),
            summary.changes,
            summary.needs_login.len(),
        );
        if summary.status == RunStatus::Interrupted {
            JobResult::Interrupted(detail)
        } else {
            JobResult::Ok(detail)
        }
    }

    async fn export(self: &Arc<Self>, scope: Scope) -> JobResult {
        let key = match app::keys::require_signing_key(&self.config) {
            Ok(key) => key,
            Err(e) => return JobResult::Failed(e.to_string()),
        };
        let now = self.clock.now();
        let mut written = Vec::new();
        let mut failures = Vec::new();
        for entry in &self.config.gstins {
            if self.stopping() {
                return JobResult::Interrupted(format!("exported {}", written.join(", ")));
            }
            let request = match app::export::request(&self.config, entry, scope, now, self.config.bundles_dir.clone()) {
                Ok(r) => r,
                Err(e) => return JobResult::Failed(e.to_string()),
            };
            let result = {
                let mut guard = match self.store.lock() {
                    Ok(g) => g,
                    Err(_) => return JobResult::Failed("archive lock poisoned".into()),
                };
                app::export::export(&mut guard, &key, &request, now)
            };
            match result {
                Ok(exported) => written.push(exported.path.display().to_string()),
                // One GSTIN's failure never holds up the others.
                Err(e) => failures.push(format!("{}: {e}", entry.gstin)),
            }
        }
        if failures.is_empty() {
            JobResult::Ok(format!("exported {}", written.join(", ")))
        } else {
            JobResult::Failed(format!("{} exported; failed: {}", written.len(), failures.join("; ")))
        }
    }

    fn checkpoint(&self) -> JobResult {
        let signed = match self.store.lock() {
            Ok(mut store) => app::capture::sign_checkpoint(&mut store, &self.config, self.clock.now(), None, false),
            Err(_) => return JobResult::Failed("archive lock poisoned".into()),
        };
        match signed {
            Checkpointed::Signed(c) => JobResult::Ok(format!("checkpoint {} at log size {}", c.id, c.size)),
            Checkpointed::NoKey { .. } | Checkpointed::NothingAppended => {
                JobResult::Ok("no signing key: nothing signed".into())
            }
            Checkpointed::Failed { reason } => {
                *self.store_error.lock().expect("error slot") = Some(reason.clone());
                JobResult::Failed(reason)
            }
            Checkpointed::Refused { damage } => {
                self.found_damage(&damage, 1);
                JobResult::Failed(format!("checkpoint not signed: {damage}"))
            }
        }
    }

    /// Records damage for /healthz (503 until a verify job finds the archive
    /// intact) and asks for the verify job right after the current one, so
    /// the reason becomes the full verification's (or clears when a capture
    /// repaired what it found).
    fn found_damage(&self, first: &str, count: usize) {
        let reason = if count > 1 {
            format!("{first} (and {} more)", count - 1)
        } else {
            first.to_string()
        };
        tracing::error!(%reason, "archive damage found");
        *self.damage.lock().expect("damage slot") = Some(reason);
        self.verify_soon.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The verify job: `verify --archive` on a read-only handle of its own
    /// (captures go on meanwhile), with the configured public key.
    async fn verify(self: &Arc<Self>) -> JobResult {
        let config = self.config.clone();
        let verified = tokio::task::spawn_blocking(move || app::verify::verify_archive(&config, None)).await;
        let report = match verified {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => return JobResult::Failed(format!("verify --archive could not run: {e}")),
            Err(e) => return JobResult::Failed(format!("verify --archive stopped: {e}")),
        };
        let counts = format!(
            "{} snapshots, {} payloads, {} checkpoints, {:.1} MiB hashed",
            report.snapshots,
            report.payloads,
            report.checkpoints,
            report.bytes_hashed as f64 / (1024.0 * 1024.0)
        );
        match report.findings.first() {
            None => {
                *self.damage.lock().expect("damage slot") = None;
                JobResult::Ok(format!("archive intact: {counts}"))
            }
            Some(first) => {
                let reason = format!(
                    "verify --archive found {} finding(s), first: {}: {}",
                    report.finding_count(),
                    first.subject,
                    first.message
                );
                tracing::error!(%reason, "archive damage found");
                *self.damage.lock().expect("damage slot") = Some(reason.clone());
                JobResult::Failed(format!("{reason} ({counts})"))
            }
        }
    }

    /// Refreshes every session whose access token ends within `[api]
    /// refresh_before_expiry_mins` (or has ended) while the portal's API
    /// access lasts; a session whose API access ended is marked needs-login
    /// without a request (no refresh can extend it). The rules are
    /// [`crate::capture::session::Session::refresh_due`]'s.
    async fn refresh_sessions(self: &Arc<Self>) -> JobResult {
        let now = self.clock.now();
        let margin = self.config.api.refresh_before_expiry;
        let mut refreshed = 0;
        let mut lost = Vec::new();
        let mut unreachable = Vec::new();
        for entry in &self.config.gstins {
            let Some(session) = self.tokens.load(&entry.gstin) else {
                continue;
            };
            let reason = if session.access_ended(now) {
                crate::capture::session::access_ended_reason(&entry.gstin, session.session_expiry)
            } else if !session.refresh_due(now, margin) {
                continue;
            } else {
                match self.client.refresh_session(&session).await {
                    Ok(fresh) => {
                        if let Err(e) = self.tokens.save(&entry.gstin, &fresh) {
                            return JobResult::Failed(e.to_string());
                        }
                        let state = session_state(&entry.gstin, Some(&fresh), None, now);
                        let _ = self.with_store(|s| s.put_session_state(&state));
                        refreshed += 1;
                        continue;
                    }
                    Err(e) if e.is_transient() && session.token_expiry > now => {
                        // Unreachable, not refused: the token still works;
                        // the next refresh job or capture tries again.
                        tracing::warn!(gstin = %entry.gstin, error = %e, "session refresh failed; retried later");
                        unreachable.push(entry.gstin.to_string());
                        continue;
                    }
                    Err(e) => crate::capture::session::refresh_failed_reason(&entry.gstin, &e),
                }
            };
            tracing::warn!(gstin = %entry.gstin, %reason, "GSTIN needs login");
            let state = session_state(&entry.gstin, Some(&session), Some(reason), now);
            let _ = self.with_store(|s| s.put_session_state(&state));
            lost.push(entry.gstin.to_string());
        }
        let mut detail = format!("{refreshed} session(s) refreshed");
        if !lost.is_empty() {
            detail.push_str(&format!("; needs login: {}", lost.join(", ")));
        }
        if unreachable.is_empty() {
            JobResult::Ok(detail)
        } else {
            JobResult::Failed(format!(
                "{detail}; the portal could not be reached to refresh: {}",
                unreachable.join(", ")
            ))
        }
    }

    /// Runs the schedules (and the listener) until `shutdown` resolves, then
    /// stops within the grace period.
    ///
    /// Fails when the scheduler or the listener cannot start.
    pub async fn serve(self: Arc<Self>, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        use tokio_cron_scheduler::{Job, JobScheduler};
        let mut scheduler = JobScheduler::new().await.context("cannot start the scheduler")?;
        for schedule in &self.config.daemon.schedules {
            let daemon = self.clone();
            let kind = schedule.kind;
            let job = Job::new_async_tz(
                schedule.expression.as_str(),
                crate::domain::period::ist(),
                move |_, _| {
                    let daemon = daemon.clone();
                    Box::pin(async move {
                        // Jobs run on their own task so a long capture never blocks the scheduler's ticks.
                        tokio::spawn(async move {
                            daemon.run_job(kind).await;
                        });
                    })
                },
            )
            .map_err(|e| anyhow!("daemon.{}: {e}", kind.name()))?;
            scheduler
                .add(job)
                .await
                .map_err(|e| anyhow!("daemon.{}: {e}", kind.name()))?;
            let next = schedule.next_fires(self.clock.now(), 1);
            let next = next
                .first()
                .map_or("never".to_string(), |t| self.config.display_zone.human(*t));
            tracing::info!(job = kind.name(), schedule = %schedule.expression, %next, "scheduled");
        }
        scheduler.start().await.context("cannot start the scheduler")?;
        let beat = self.clone();
        let heartbeat = tokio::spawn(async move {
            // The first tick is immediate: healthy as soon as the daemon serves.
            let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
            loop {
                tick.tick().await;
                *beat.heartbeat.lock().expect("heartbeat slot") = Some(Instant::now());
            }
        });
        let watch = self.clone();
        let alert_tick = tokio::spawn(async move {
            // The first tick is immediate: what cleared while the daemon was
            // down is sent as cleared at once.
            let mut tick = tokio::time::interval(ALERT_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                watch.evaluate_alerts();
            }
        });
        let listener = match self.config.daemon.listen {
            Some(addr) => {
                let socket = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("daemon.listen {addr}: cannot bind"))?;
                let bound = socket.local_addr()?;
                let _ = self.listening.set(bound);
                tracing::info!(addr = %bound, "serving /healthz and /metrics");
                Some(tokio::spawn(http::serve(self.clone(), socket)))
            }
            None => None,
        };
        // The web view, when `[web] listen` is set: beside the jobs, reading
        // the archive read-only, stopped with the daemon.
        let web = match self.config.web.listen {
            Some(addr) => {
                let (bound, task) = crate::web::start(
                    Arc::new(self.config.clone()),
                    self.clock.clone(),
                    addr,
                    std::future::pending(),
                )
                .await?;
                let _ = self.web_listening.set(bound);
                tracing::info!(addr = %bound, "serving the web view");
                Some(task)
            }
            None => None,
        };
        if self.config.daemon.capture_on_start {
            let daemon = self.clone();
            tokio::spawn(async move {
                daemon.run_job(JobKind::Capture).await;
            });
        }
        tracing::info!(gstins = self.config.gstins.len(), "daemon running");
        shutdown.await;

        tracing::info!(
            grace_secs = self.config.daemon.shutdown_grace.as_secs(),
            "stopping: no new work; waiting for work in flight"
        );
        // send_replace, not send: send changes nothing when no capture is
        // subscribed, and then `stopping()` would never turn true.
        self.stop_tx.send_replace(true);
        let _ = scheduler.shutdown().await;
        let deadline = Instant::now() + self.config.daemon.shutdown_grace;
        let mut jobs = self.jobs.subscribe();
        // Woken by each job's end, so the stop returns the moment the last
        // one finishes, or at the deadline itself.
        let idle = tokio::time::timeout_at(deadline, async {
            // The sender lives in `self`, so this only returns once no job runs.
            let _ = jobs.wait_for(BTreeSet::is_empty).await;
        })
        .await;
        if idle.is_err() {
            tracing::warn!("work still in flight after the grace period: abandoned (committed snapshots are kept)");
        }
        let _ = self.with_store(|s| s.mark_interrupted(self.clock.now()));
        alert_tick.abort();
        // Alerts still undelivered at the deadline stay pending in the archive
        // and go out after the next start.
        self.alerts.drained(deadline).await;
        heartbeat.abort();
        if let Some(l) = listener {
            l.abort();
        }
        if let Some(w) = web {
            w.abort();
        }
        tracing::info!("daemon stopped");
        Ok(())
    }

    /// The address the web view is served on, once bound.
    pub fn web_listening(&self) -> Option<std::net::SocketAddr> {
        self.web_listening.get().copied()
    }

    /// The address /healthz and /metrics are served on, once bound.
    pub fn listening(&self) -> Option<std::net::SocketAddr> {
        self.listening.get().copied()
    }

    /// The next fire time of each scheduled job.
    pub fn next_runs(&self, now: DateTime<Utc>) -> Vec<(JobKind, Option<DateTime<Utc>>)> {
        self.config
            .daemon
            .schedules
            .iter()
            .map(|s| (s.kind, s.next_fires(now, 1).first().copied()))
            .collect()
    }
}

/// A job's entry in [`Daemon::jobs`], taken when it starts and given back
/// when dropped: the stop is told of the job's end, and a job that panics or
/// is cancelled does not count as running for ever.
struct InFlight<'a> {
    jobs: &'a watch::Sender<BTreeSet<JobKind>>,
    kind: JobKind,
}

impl<'a> InFlight<'a> {
    /// None when a job of this kind runs already.
    fn start(jobs: &'a watch::Sender<BTreeSet<JobKind>>, kind: JobKind) -> Option<InFlight<'a>> {
        // Receivers hear only of a change: a refused start is no news.
        if jobs.send_if_modified(|running| running.insert(kind)) {
            Some(InFlight { jobs, kind })
        } else {
            None
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.jobs.send_modify(|running| {
            running.remove(&self.kind);
        });
    }
}

/// Waits for SIGTERM or SIGINT.
pub async fn termination_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}
