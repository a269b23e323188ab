//! One capture run: walk GSTIN × endpoint × period, fetch each through the
//! client, and append every answer to the archive.
//!
//! GSTINs proceed independently: a GSTIN whose session is refused is marked
//! needs-login and skipped while the others finish. On AUTH4033 or HTTP 401
//! the session is refreshed once (shared by all in-flight requests of that
//! GSTIN); if the refresh fails too, the GSTIN needs a new `gstvault login`.
//! Every final answer, failures included, is archived; only session refusals
//! are not, because they say nothing about the GSTIN's data.

pub mod client;
pub mod planner;
pub mod session;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::{oneshot, Mutex};

use crate::capture::client::{Client, Fetched};
use crate::capture::session::{session_state, Session, TokenStore};
use crate::clock::SharedClock;
use crate::config::GstinEntry;
use crate::domain::catalog::{Auth, Endpoint, Quirk, RequestSpec};
use crate::domain::envelope::{self, Outcome};
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, Month, Period};
use crate::domain::run::RunStatus;
use crate::store::{Appended, NewSnapshot, Store, StoreError};

/// What to capture.
#[derive(Clone, Debug)]
pub struct Plan {
    pub gstins: Vec<GstinEntry>,
    pub endpoints: Vec<&'static Endpoint>,
    pub from: Month,
    pub to: Month,
    /// Recorded as the run's kind: snapshot, daemon, demo.
    pub kind: &'static str,
}

/// Progress reporting for a terminal (the CLI draws a bar with it).
pub trait Progress: Send + Sync {
    fn planned(&self, jobs: u64);
    fn finished_job(&self);
}

/// A run's summary, printed by `snapshot` and stored with the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: i64,
    pub status: RunStatus,
    pub gstins: usize,
    pub endpoints: usize,
    pub periods: usize,
    /// Jobs planned (endpoint × period × GSTIN).
    pub planned: u64,
    /// Snapshots appended (2B pages count each).
    pub snapshots: u64,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub requests: u64,
    pub retries: u64,
    pub bytes_received: u64,
    pub new_payload_bytes: u64,
    pub changes: u64,
    /// GSTINs that need `gstvault login`, with the reason.
    pub needs_login: BTreeMap<Gstin, String>,
    /// Jobs not run because their GSTIN needs login.
    pub skipped: u64,
}

impl RunSummary {
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    pub fn failed(&self) -> u64 {
        self.count(Outcome::ApiError) + self.count(Outcome::HttpError) + self.count(Outcome::TransportError)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the archive writer stopped: {0}")]
    Writer(String),
}

/// Refreshes one request may trigger before its GSTIN is declared needs-login.
const MAX_SESSION_RECOVERIES: usize = 3;

/// One request to make: an endpoint and a period. A struct, not a tuple of a
/// reference: closures over it then have no lifetime to infer, which keeps the
/// run's future spawnable (rust-lang/rust#102211).
#[derive(Clone, Copy, Debug)]
struct Job {
    endpoint: &'static Endpoint,
    period: Period,
}

/// The session of one GSTIN during a run.
struct SessionSlot {
    session: Option<Session>,
    /// Bumped on every refresh, so concurrent failures refresh once.
    generation: u64,
    needs_login: Option<String>,
}

struct Context {
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    run_id: i64,
    today: NaiveDate,
    refresh_margin: chrono::Duration,
    snapshots: AtomicU64,
    new_payload_bytes: AtomicU64,
    changes: AtomicU64,
    skipped: AtomicU64,
    outcomes: StdMutex<BTreeMap<Outcome, u64>>,
    progress: Option<Arc<dyn Progress>>,
    concurrency: usize,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// The run's archive writer (see [`spawn_writer`]).
    writer: std::sync::mpsc::Sender<Pending>,
}

/// An answer waiting for the writer, and where to tell its fate.
type Pending = (OwnedSnapshot, oneshot::Sender<Result<Appended, String>>);

/// Answers taken into one transaction at most.
const MAX_BATCH: usize = 256;

/// How long the writer gathers answers after the first before committing:
/// short next to a portal request, long enough to share a commit among the
/// answers of the requests in flight.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

/// A pause in arrivals this long ends the gathering early: the requests in
/// flight are waiting for this commit (a one-GSTIN run whose every slot holds
/// an answer), so waiting out the window would only stall them.
const IDLE_GAP: std::time::Duration = std::time::Duration::from_millis(1);

/// Starts the run's archive writer: a thread that appends queued answers in
/// group commits (what arrives within [`BATCH_WINDOW`] of the first, up to
/// [`MAX_BATCH`] and until arrivals pause for [`IDLE_GAP`], in one
/// transaction) and reports each answer's outcome only
/// after its transaction committed. One commit per answer cost more than the
/// fetching it archives (issue 8's capture row); a crash loses only answers
/// not yet reported stored, as before. The thread ends with the run, when the
/// last sender is dropped.
fn spawn_writer(store: Arc<StdMutex<Store>>) -> std::sync::mpsc::Sender<Pending> {
    let (sender, queue) = std::sync::mpsc::channel::<Pending>();
    std::thread::Builder::new()
        .name("gstvault-writer".into())
        .spawn(move || {
            while let Ok(first) = queue.recv() {
                let mut batch = vec![first];
                let gathered_by = std::time::Instant::now() + BATCH_WINDOW;
                // Polled in ticks rather than parked on the queue, so that a
                // capture task sending an answer never has to wake this thread.
                loop {
                    let left = gathered_by.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() || batch.len() >= MAX_BATCH {
                        break;
                    }
                    std::thread::sleep(left.min(IDLE_GAP));
                    let before = batch.len();
                    batch.extend(queue.try_iter().take(MAX_BATCH - before));
                    if batch.len() == before {
                        break;
                    }
                }
                let result = match store.lock() {
                    Ok(mut store) => {
                        let snapshots: Vec<NewSnapshot<'_>> = batch.iter().map(|(s, _)| s.borrow()).collect();
                        store.append_batch(&snapshots).map_err(|e| e.to_string())
                    }
                    Err(_) => Err("archive lock poisoned".to_string()),
                };
                match result {
                    Ok(appended) => {
                        for ((_, reply), appended) in batch.into_iter().zip(appended) {
                            let _ = reply.send(Ok(appended));
                        }
                    }
                    Err(e) => {
                        for (_, reply) in batch {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        })
        .expect("the archive writer thread starts");
    sender
}

impl Context {
    /// The shared state of one run, counters at zero.
    #[allow(clippy::too_many_arguments)]
    fn new(
        client: &Arc<Client>,
        store: &Arc<StdMutex<Store>>,
        tokens: TokenStore,
        clock: &SharedClock,
        run_id: i64,
        today: NaiveDate,
        progress: Option<Arc<dyn Progress>>,
        stop: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Arc<Context> {
        Arc::new(Context {
            refresh_margin: client.settings().refresh_before_expiry,
            concurrency: client.settings().concurrency,
            client: client.clone(),
            store: store.clone(),
            tokens,
            clock: clock.clone(),
            run_id,
            today,
            snapshots: AtomicU64::new(0),
            new_payload_bytes: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            outcomes: StdMutex::new(BTreeMap::new()),
            progress,
            stop,
            writer: spawn_writer(store.clone()),
        })
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }
}

/// Runs one capture pass. Returns the summary; the run row records it too.
///
/// Fails only when the archive cannot be written; upstream failures are
/// archived as outcomes and counted in the summary.
pub async fn run(
    plan: &Plan,
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    progress: Option<Arc<dyn Progress>>,
) -> Result<RunSummary, CaptureError> {
    run_until(plan, client, store, tokens, clock, progress, None).await
}

/// [`run`], stopping early when `stop` turns true: no new request starts,
/// requests in flight finish and are archived, and the run is recorded as
/// `interrupted`.
pub async fn run_until(
    plan: &Plan,
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    progress: Option<Arc<dyn Progress>>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<RunSummary, CaptureError> {
    let started = clock.now();
    let kind = plan.kind;
    let run_id = blocking(&store, move |s| s.begin_run(kind, started)).await?;
    let months = plan.from.through(plan.to);
    let today = india_date(started);
    let jobs: Vec<Job> = plan
        .endpoints
        .iter()
        .flat_map(|e| {
            e.period
                .periods(&months)
                .into_iter()
                .map(move |period| Job { endpoint: e, period })
        })
        .collect();
    let period_count = {
        let mut all: Vec<Period> = jobs.iter().map(|j| j.period).collect();
        all.sort();
        all.dedup();
        all.len()
    };
    if let Some(p) = &progress {
        p.planned((jobs.len() * plan.gstins.len()) as u64);
    }
    let ctx = Context::new(&client, &store, tokens, &clock, run_id, today, progress, stop);
    let requests_before = client.stats.requests.load(Ordering::Relaxed);
    let retries_before = client.stats.retries.load(Ordering::Relaxed);
    let bytes_before = client.stats.bytes_received.load(Ordering::Relaxed);

    let per_gstin = plan.gstins.iter().map(|entry| {
        let ctx = ctx.clone();
        let jobs = jobs.clone();
        async move { capture_gstin(ctx, entry.clone(), jobs).await }
    });
    let results: Vec<Result<Option<String>, CaptureError>> = futures::future::join_all(per_gstin).await;
    let mut needs_login = BTreeMap::new();
    for (entry, result) in plan.gstins.iter().zip(results) {
        if let Some(reason) = result? {
            needs_login.insert(entry.gstin.clone(), reason);
        }
    }

    let status = if ctx.stopping() {
        RunStatus::Interrupted
    } else {
        RunStatus::Completed
    };
    if status == RunStatus::Interrupted {
        tracing::warn!(
            run_id,
            "capture interrupted: requests in flight were archived, the rest waits for the next run"
        );
    }
    let summary = RunSummary {
        run_id,
        status,
        gstins: plan.gstins.len(),
        endpoints: plan.endpoints.len(),
        periods: period_count,
        planned: (jobs.len() * plan.gstins.len()) as u64,
        snapshots: ctx.snapshots.load(Ordering::Relaxed),
        outcomes: ctx.outcomes.lock().expect("outcomes lock").clone(),
        requests: client.stats.requests.load(Ordering::Relaxed) - requests_before,
        retries: client.stats.retries.load(Ordering::Relaxed) - retries_before,
        bytes_received: client.stats.bytes_received.load(Ordering::Relaxed) - bytes_before,
        new_payload_bytes: ctx.new_payload_bytes.load(Ordering::Relaxed),
        changes: ctx.changes.load(Ordering::Relaxed),
        needs_login,
        skipped: ctx.skipped.load(Ordering::Relaxed),
    };
    let json = serde_json::to_string(&summary).expect("summary serialises");
    let finished = clock.now();
    blocking(&store, move |s| s.finish_run(run_id, status, &json, finished)).await?;
    Ok(summary)
}

async fn blocking<T: Send + 'static>(
    store: &Arc<StdMutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, CaptureError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .map_err(|_| CaptureError::Writer("archive lock poisoned".into()))?;
        f(&mut guard).map_err(CaptureError::from)
    })
    .await
    .map_err(|e| CaptureError::Writer(e.to_string()))?
}

/// Captures every job of one GSTIN. Returns the needs-login reason, if any.
async fn capture_gstin(ctx: Arc<Context>, entry: GstinEntry, jobs: Vec<Job>) -> Result<Option<String>, CaptureError> {
    let gstin = entry.gstin.clone();
    let slot = Arc::new(Mutex::new(open_session(&ctx, &gstin).await));
    if let Some(reason) = slot.lock().await.needs_login.clone() {
        ctx.skipped.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        mark_needs_login(&ctx, &gstin, &reason, None).await?;
        tracing::warn!(gstin = %gstin, reason = %reason, "GSTIN needs login: skipped");
        if let Some(p) = &ctx.progress {
            for _ in 0..jobs.len() {
                p.finished_job();
            }
        }
        return Ok(Some(reason));
    }
    let stop_ctx = ctx.clone();
    let results: Vec<Result<(), CaptureError>> = stream::iter(jobs)
        .take_while(move |_: &Job| futures::future::ready(!stop_ctx.stopping()))
        .map(|Job { endpoint, period }: Job| {
            let ctx = ctx.clone();
            let slot = slot.clone();
            let gstin = gstin.clone();
            async move {
                let result = run_job(&ctx, &slot, &gstin, endpoint, period).await;
                if let Some(p) = &ctx.progress {
                    p.finished_job();
                }
                result
            }
        })
        .buffer_unordered(ctx.concurrency)
        .collect()
        .await;
    for r in results {
        r?;
    }
    let reason = slot.lock().await.needs_login.clone();
    if let Some(reason) = &reason {
        tracing::warn!(gstin = %gstin, reason = %reason, "GSTIN needs login");
    }
    Ok(reason)
}

/// Loads the stored session and refreshes it when it is about to lapse.
async fn open_session(ctx: &Context, gstin: &Gstin) -> SessionSlot {
    let Some(session) = ctx.tokens.load(gstin) else {
        return SessionSlot {
            session: None,
            generation: 0,
            needs_login: Some(format!("no session: run `gstvault login {gstin}`")),
        };
    };
    let now = ctx.clock.now();
    if session.expires_at() - now > ctx.refresh_margin {
        return SessionSlot {
            session: Some(session),
            generation: 0,
            needs_login: None,
        };
    }
    match refresh(ctx, gstin, &session).await {
        Ok(fresh) => SessionSlot {
            session: Some(fresh),
            generation: 1,
            needs_login: None,
        },
        Err(reason) => SessionSlot {
            session: None,
            generation: 0,
            needs_login: Some(reason),
        },
    }
}

async fn refresh(ctx: &Context, gstin: &Gstin, session: &Session) -> Result<Session, String> {
    match ctx.client.refresh_session(session).await {
        Ok(fresh) => {
            if let Err(e) = ctx.tokens.save(gstin, &fresh) {
                tracing::error!(gstin = %gstin, error = %e, "could not store the refreshed session");
            }
            let state = session_state(gstin, Some(&fresh), None, ctx.clock.now());
            let _ = blocking(&ctx.store, move |s| s.put_session_state(&state)).await;
            tracing::info!(gstin = %gstin, expires = %fresh.expires_at(), "session refreshed");
            Ok(fresh)
        }
        Err(e) => Err(format!("session refresh failed ({e}): run `gstvault login {gstin}`")),
    }
}

async fn mark_needs_login(
    ctx: &Context,
    gstin: &Gstin,
    reason: &str,
    session: Option<&Session>,
) -> Result<(), CaptureError> {
    let state = session_state(gstin, session, Some(reason.to_string()), ctx.clock.now());
    blocking(&ctx.store, move |s| s.put_session_state(&state)).await
}

/// The current session of the slot, or None when the GSTIN needs login.
async fn current(slot: &Mutex<SessionSlot>) -> Option<(Session, u64)> {
    let guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return None;
    }
    guard.session.clone().map(|s| (s, guard.generation))
}

/// After a refusal seen with session generation `seen`: refresh once (unless
/// another request already did). Returns the session to retry with.
async fn recover(ctx: &Context, slot: &Mutex<SessionSlot>, gstin: &Gstin, seen: u64) -> Option<Session> {
    let mut guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return None;
    }
    if guard.generation > seen {
        return guard.session.clone();
    }
    let session = guard.session.clone()?;
    match refresh(ctx, gstin, &session).await {
        Ok(fresh) => {
            guard.session = Some(fresh.clone());
            guard.generation += 1;
            Some(fresh)
        }
        Err(reason) => {
            guard.needs_login = Some(reason.clone());
            drop(guard);
            let _ = mark_needs_login(ctx, gstin, &reason, Some(&session)).await;
            None
        }
    }
}

fn refused(fetched: &Fetched) -> bool {
    if fetched.http_status == Some(401) {
        return true;
    }
    match (&fetched.body, fetched.http_status) {
        // A body that does not even contain a session-invalid code cannot
        // carry one: most answers skip the parse (the writer parses them).
        (Some(body), Some(status)) => {
            envelope::may_be_session_invalid(body) && envelope::parse(status, body).session_invalid()
        }
        _ => false,
    }
}

/// Fetches with the GSTIN's session, recovering once from a refused session.
/// None when the GSTIN needs login (nothing to archive).
async fn fetch_with_session(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    spec: &RequestSpec,
    auth: Auth,
) -> Option<Fetched> {
    if auth == Auth::Platform {
        return Some(match ctx.client.fetch_public(spec).await {
            Ok(f) => f,
            Err(e) => {
                let now = ctx.clock.now();
                Fetched {
                    requested_at: now,
                    received_at: now,
                    http_status: None,
                    body: None,
                    attempts: 1,
                    detail: Some(e.to_string()),
                }
            }
        });
    }
    let (mut session, mut generation) = current(slot).await?;
    // A refusal leads to one refresh; a session refreshed successfully can
    // still lapse again before the retry lands (short portal sessions), so
    // this repeats a few times. Only a failed refresh, or a portal that keeps
    // refusing fresh sessions, means the GSTIN needs a new login.
    for _ in 0..MAX_SESSION_RECOVERIES {
        let fetched = ctx.client.fetch_taxpayer(spec, &session).await;
        if !refused(&fetched) {
            return Some(fetched);
        }
        session = recover(ctx, slot, gstin, generation).await?;
        generation = slot.lock().await.generation;
    }
    let fetched = ctx.client.fetch_taxpayer(spec, &session).await;
    if !refused(&fetched) {
        return Some(fetched);
    }
    let reason = format!("the portal keeps refusing fresh sessions: run `gstvault login {gstin}`");
    slot.lock().await.needs_login.get_or_insert(reason.clone());
    let _ = mark_needs_login(ctx, gstin, &reason, Some(&session)).await;
    None
}

async fn run_job(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: Period,
) -> Result<(), CaptureError> {
    let Some(spec) = endpoint.request(gstin.as_str(), &period, ctx.today) else {
        return Ok(()); // the period has not begun: nothing to ask
    };
    if endpoint.quirk == Quirk::Job {
        return run_einvoice_job(ctx, slot, gstin, endpoint, period, spec).await;
    }
    let Some(fetched) = fetch_with_session(ctx, slot, gstin, &spec, endpoint.auth).await else {
        ctx.skipped.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    };
    let file_count = archive(ctx, gstin, endpoint, &period, 0, &spec, &fetched).await?;
    if endpoint.quirk == Quirk::Paged {
        for page in 1..=file_count.unwrap_or(0).min(1000) {
            let mut page_spec = spec.clone();
            page_spec.query.push(("file_number".into(), page.to_string()));
            let Some(fetched) = fetch_with_session(ctx, slot, gstin, &page_spec, endpoint.auth).await else {
                ctx.skipped.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            };
            archive(ctx, gstin, endpoint, &period, page, &page_spec, &fetched).await?;
        }
    }
    Ok(())
}

/// e-invoice list: submit the job, poll it, download the list it points to and
/// archive the list. The submit and poll answers are bookkeeping, not evidence.
async fn run_einvoice_job(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: Period,
    submit: RequestSpec,
) -> Result<(), CaptureError> {
    let Some(submitted) = fetch_with_session(ctx, slot, gstin, &submit, endpoint.auth).await else {
        return Ok(());
    };
    let job_id = submitted
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| {
            v.pointer("/data/data/job_id")
                .and_then(|j| j.as_str())
                .map(String::from)
        });
    let Some(job_id) = job_id else {
        archive(ctx, gstin, endpoint, &period, 0, &submit, &submitted).await?;
        return Ok(());
    };
    let poll = RequestSpec {
        method: crate::domain::catalog::Method::Get,
        path: submit.path.clone(),
        query: vec![("job_id".into(), job_id)],
        body: None,
    };
    for _ in 0..10 {
        let Some(polled) = fetch_with_session(ctx, slot, gstin, &poll, endpoint.auth).await else {
            return Ok(());
        };
        let value = polled
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
        let status = value
            .as_ref()
            .and_then(|v| v.pointer("/data/data/status"))
            .and_then(|s| s.as_str())
            .map(String::from);
        let url = value
            .as_ref()
            .and_then(|v| v.pointer("/data/data/signed_url"))
            .and_then(|s| s.as_str())
            .map(String::from);
        match (status.as_deref(), url) {
            (Some("completed"), Some(url)) => {
                let file = ctx.client.fetch_signed_url(&url).await;
                let spec = RequestSpec {
                    method: crate::domain::catalog::Method::Get,
                    path: poll.path.clone(),
                    query: poll.query.clone(),
                    body: None,
                };
                archive(ctx, gstin, endpoint, &period, 0, &spec, &file).await?;
                return Ok(());
            }
            (Some("queued") | Some("processing"), _) => {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            _ => {
                archive(ctx, gstin, endpoint, &period, 0, &poll, &polled).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Appends one answer; returns the 2B file count when the answer is paged.
async fn archive(
    ctx: &Context,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: &Period,
    page: u32,
    spec: &RequestSpec,
    fetched: &Fetched,
) -> Result<Option<u32>, CaptureError> {
    let reading = match (&fetched.body, fetched.http_status) {
        (Some(body), Some(status)) => Some(envelope::parse(status, body)),
        _ => None,
    };
    let outcome = reading.as_ref().map(|r| r.outcome).unwrap_or(Outcome::TransportError);
    let file_count = reading.as_ref().and_then(|r| r.file_count);
    let owned = OwnedSnapshot {
        run_id: ctx.run_id,
        gstin: gstin.clone(),
        endpoint: endpoint.name.to_string(),
        period: *period,
        page,
        method: spec.method.as_str().to_string(),
        request: spec.path_and_query(),
        requested_at: fetched.requested_at,
        received_at: fetched.received_at,
        http_status: fetched.http_status,
        body: fetched.body.clone(),
        reading,
        outcome,
        detail: fetched.detail.clone(),
        attempts: fetched.attempts.max(1),
    };
    let (reply, stored) = oneshot::channel();
    let stopped = || CaptureError::Writer("the writer thread ended".into());
    ctx.writer.send((owned, reply)).map_err(|_| stopped())?;
    let appended = stored.await.map_err(|_| stopped())?.map_err(CaptureError::Writer)?;
    ctx.snapshots.fetch_add(1, Ordering::Relaxed);
    ctx.new_payload_bytes
        .fetch_add(appended.new_payload_bytes, Ordering::Relaxed);
    metrics::counter!("gstvault_snapshots_total", "outcome" => outcome.as_str(), "group" => endpoint.group.name())
        .increment(1);
    metrics::counter!("gstvault_bytes_stored_total").increment(appended.new_payload_bytes);
    if appended.changed_from.is_some() {
        ctx.changes.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("gstvault_changes_total").increment(1);
    }
    *ctx.outcomes.lock().expect("outcomes lock").entry(outcome).or_default() += 1;
    tracing::debug!(gstin = %gstin, endpoint = endpoint.name, period = %period, page, outcome = outcome.as_str(), seq = appended.seq.0, "archived");
    Ok(file_count)
}

struct OwnedSnapshot {
    run_id: i64,
    gstin: Gstin,
    endpoint: String,
    period: Period,
    page: u32,
    method: String,
    request: String,
    requested_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    http_status: Option<u16>,
    body: Option<Vec<u8>>,
    reading: Option<envelope::Reading>,
    outcome: Outcome,
    detail: Option<String>,
    attempts: u32,
}

impl OwnedSnapshot {
    fn borrow(&self) -> NewSnapshot<'_> {
        NewSnapshot {
            run_id: self.run_id,
            gstin: &self.gstin,
            endpoint: &self.endpoint,
            period: &self.period,
            page: self.page,
            method: &self.method,
            request: &self.request,
            requested_at: self.requested_at,
            received_at: self.received_at,
            http_status: self.http_status,
            body: self.body.as_deref(),
            reading: self.reading.as_ref(),
            outcome: self.outcome,
            detail: self.detail.clone(),
            attempts: self.attempts,
        }
    }
}

/// What a planned run did beyond its [`RunSummary`].
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PlannedRun {
    pub summary: RunSummary,
    /// Calls the planner made (page 0 of each key; 2B pages come on top).
    pub planned_calls: u64,
    /// Calls a naive capture of the same plan would make (page 0 of each key).
    pub naive_calls: u64,
    /// Calls due but left for the next run by the daily budget.
    pub carried_over: u64,
    /// Planned calls per rule.
    pub rules: BTreeMap<String, u64>,
}

/// Loads the planner's view of each GSTIN and decides one tier.
async fn decide_tier(
    store: &Arc<StdMutex<Store>>,
    plan: &Plan,
    months: &[Month],
    today: NaiveDate,
    tier: crate::capture::planner::Tier,
) -> Result<Vec<Vec<crate::capture::planner::Call>>, CaptureError> {
    let gstins: Vec<Gstin> = plan.gstins.iter().map(|g| g.gstin.clone()).collect();
    let endpoints = plan.endpoints.clone();
    let months = months.to_vec();
    blocking(store, move |s| {
        let mut out = Vec::new();
        for gstin in &gstins {
            let view = crate::capture::planner::ArchiveView::load(s, gstin)?;
            let lookup = |sha: &crate::domain::digest::Digest| -> Option<serde_json::Value> {
                s.payload(sha)
                    .ok()
                    .flatten()
                    .and_then(|b| serde_json::from_slice(&b).ok())
            };
            let input = crate::capture::planner::Inputs {
                endpoints: &endpoints,
                months: &months,
                today,
                payload: &lookup,
            };
            out.push(crate::capture::planner::decide(tier, &input, &view).fetch);
        }
        Ok(out)
    })
    .await
}

/// A planned capture run (the capture planner, `snapshot --planned`): three
/// tiers of calls, each decided by [`crate::capture::planner`] from the archive as the
/// previous tier left it. `daily_budget` (0: unlimited) caps the answers
/// archived per IST day across all GSTINs; the calls over it are carried to
/// the next run, most valuable first. The plan's window and endpoints are the
/// same as a naive [`run`]'s; the run is recorded with the plan's kind.
pub async fn run_planned(
    plan: &Plan,
    daily_budget: u64,
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<PlannedRun, CaptureError> {
    let started = clock.now();
    let kind = plan.kind;
    let run_id = blocking(&store, move |s| s.begin_run(kind, started)).await?;
    let months = plan.from.through(plan.to);
    let today = india_date(started);
    let ctx = Context::new(&client, &store, tokens, &clock, run_id, today, None, stop);
    let requests_before = client.stats.requests.load(Ordering::Relaxed);
    let retries_before = client.stats.retries.load(Ordering::Relaxed);
    let bytes_before = client.stats.bytes_received.load(Ordering::Relaxed);
    let day_start = today
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(crate::domain::period::ist()).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(started);
    let mut remaining = if daily_budget == 0 {
        u64::MAX
    } else {
        let used = blocking(&store, move |s| s.answers_since(day_start)).await?;
        daily_budget.saturating_sub(used)
    };
    let naive = crate::capture::planner::naive_calls(&plan.endpoints, &months, today) * plan.gstins.len() as u64;
    let mut report = PlannedRun {
        naive_calls: naive,
        ..PlannedRun::default()
    };
    let mut needs_login: BTreeMap<Gstin, String> = BTreeMap::new();
    let mut periods: Vec<Period> = Vec::new();
    for tier in crate::capture::planner::Tier::ALL {
        if ctx.stopping() {
            break;
        }
        let decided = decide_tier(&store, plan, &months, today, tier).await?;
        // Budget: most valuable calls first across GSTINs.
        let mut all: Vec<(usize, crate::capture::planner::Call)> = decided
            .into_iter()
            .enumerate()
            .flat_map(|(i, calls)| calls.into_iter().map(move |c| (i, c)))
            .filter(|(i, _)| !needs_login.contains_key(&plan.gstins[*i].gstin))
            .collect();
        all.sort_by_key(|(_, c)| crate::capture::planner::value_key(c));
        let take = (remaining.min(all.len() as u64)) as usize;
        report.carried_over += (all.len() - take) as u64;
        all.truncate(take);
        remaining -= take as u64;
        let mut per_gstin: Vec<Vec<Job>> = vec![Vec::new(); plan.gstins.len()];
        for (i, call) in all {
            report.planned_calls += 1;
            *report.rules.entry(call.rule.name().to_string()).or_default() += 1;
            periods.push(call.period);
            per_gstin[i].push(Job {
                endpoint: call.endpoint,
                period: call.period,
            });
        }
        let work = plan
            .gstins
            .iter()
            .zip(per_gstin)
            .filter(|(_, jobs)| !jobs.is_empty())
            .map(|(entry, jobs)| {
                let ctx = ctx.clone();
                let entry = entry.clone();
                async move {
                    let gstin = entry.gstin.clone();
                    (gstin, capture_gstin(ctx, entry, jobs).await)
                }
            });
        for (gstin, result) in futures::future::join_all(work).await {
            if let Some(reason) = result? {
                needs_login.insert(gstin, reason);
            }
        }
    }
    let saved = report.naive_calls.saturating_sub(report.planned_calls);
    metrics::counter!("gstvault_calls_planned_total").increment(report.planned_calls);
    metrics::counter!("gstvault_calls_saved_total").increment(saved);
    metrics::counter!("gstvault_calls_carried_over_total").increment(report.carried_over);
    periods.sort();
    periods.dedup();
    let status = if ctx.stopping() {
        RunStatus::Interrupted
    } else {
        RunStatus::Completed
    };
    let summary = RunSummary {
        run_id,
        status,
        gstins: plan.gstins.len(),
        endpoints: plan.endpoints.len(),
        periods: periods.len(),
        planned: report.planned_calls,
        snapshots: ctx.snapshots.load(Ordering::Relaxed),
        outcomes: ctx.outcomes.lock().expect("outcomes lock").clone(),
        requests: client.stats.requests.load(Ordering::Relaxed) - requests_before,
        retries: client.stats.retries.load(Ordering::Relaxed) - retries_before,
        bytes_received: client.stats.bytes_received.load(Ordering::Relaxed) - bytes_before,
        new_payload_bytes: ctx.new_payload_bytes.load(Ordering::Relaxed),
        changes: ctx.changes.load(Ordering::Relaxed),
        needs_login,
        skipped: ctx.skipped.load(Ordering::Relaxed),
    };
    report.summary = summary;
    let json = serde_json::to_string(&report.summary).expect("summary serialises");
    let finished = clock.now();
    blocking(&store, move |s| s.finish_run(run_id, status, &json, finished)).await?;
    Ok(report)
}
