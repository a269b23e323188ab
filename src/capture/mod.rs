//! One capture run: walk GSTIN × endpoint × period, fetch each through the
//! client, and append every answer to the archive.
//!
//! GSTINs proceed independently: a GSTIN whose session is refused is marked
//! needs-login and skipped while the others finish. The access token is
//! refreshed before a request once it ends within the refresh margin; on
//! AUTH4033 or HTTP 401 it is refreshed once more (shared by all in-flight
//! requests of that GSTIN); if the refresh fails too, or the portal's API
//! access has ended (`session_expiry`, AUTH4038, RET11402, RET2B1010), the
//! GSTIN needs a new `gstvault login`, with the reason. Every final answer,
//! failures included, is archived; only session refusals are not, because
//! they say nothing about the GSTIN's data.
//!
//! Here: a full run ([`run`], [`run_until`]). Beside it: `recovery` (a
//! GSTIN's session during a run), `writer` (the group-commit writer thread),
//! `einvoice` (e-invoice downloads), `large` (a large return's files),
//! `notices` (each notice's details), `planned` ([`run_planned`], the tiers
//! the [`planner`] decides), [`client`] and [`session`].

pub mod client;
mod einvoice;
mod large;
mod notices;
mod planned;
pub mod planner;
mod recovery;
pub mod session;
mod writer;

pub use planned::{run_planned, PlannedRun};

use einvoice::run_einvoice_job;
use large::large_return;
use recovery::{fetch_with_session, mark_needs_login, open_session, SessionSlot};
use writer::{spawn_writer, OwnedSnapshot, Pending};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use chrono::NaiveDate;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::{oneshot, Mutex};

use crate::capture::client::{Client, Fetched};
use crate::capture::session::TokenStore;
use crate::clock::SharedClock;
use crate::config::GstinEntry;
use crate::domain::catalog::{Endpoint, Quirk, RequestSpec};
use crate::domain::envelope::{self, Outcome};
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, Month, Period};
use crate::domain::run::RunStatus;
use crate::store::{Store, StoreError};

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
    fn planned(&self, calls: u64);
    fn finished_job(&self);
}

/// A run's totals: what one capture run did, counted. Printed by `snapshot`
/// and stored with the run (as JSON in the `runs.summary` column).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunTotals {
    pub run_id: i64,
    pub status: RunStatus,
    pub gstins: usize,
    pub endpoints: usize,
    pub periods: usize,
    /// Calls planned: each GSTIN's endpoints, each for the periods of its kind
    /// (2B pages, notice details and a large return's files come on top).
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
    /// Calls not made because their GSTIN needs login.
    pub skipped: u64,
    /// Damage to stored evidence met during the run, one line each (a
    /// stored payload copy that no longer hashes to its digest, repaired
    /// from the genuine bytes received). The run exits non-zero when set.
    pub damage: Vec<String>,
    /// Failed calls by cause ([`crate::domain::run::failure_cause`]): what
    /// the summary names when the run exits non-zero.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, u64>,
}

impl RunTotals {
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    pub fn failed(&self) -> u64 {
        self.count(Outcome::ApiError) + self.count(Outcome::HttpError) + self.count(Outcome::TransportError)
    }

    /// Answers gstvault did not recognise (unknown `status_cd` or error code):
    /// archived as received and counted apart, never folded into another outcome.
    pub fn unrecognised(&self) -> u64 {
        self.count(Outcome::Unrecognised)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the archive writer stopped: {0}")]
    Writer(String),
}

/// One request to make: an endpoint and a period. A struct, not a tuple of a
/// reference: closures over it then have no lifetime to infer, which keeps the
/// run's future spawnable (rust-lang/rust#102211).
#[derive(Clone, Copy, Debug)]
struct Call {
    endpoint: &'static Endpoint,
    period: Period,
}

struct Context {
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    run_id: i64,
    today: NaiveDate,
    refresh_margin: chrono::Duration,
    /// `[api] download_poll_secs` and `download_polls`: how e-invoice downloads are polled.
    download_poll_interval: std::time::Duration,
    download_polls: u32,
    snapshots: AtomicU64,
    new_payload_bytes: AtomicU64,
    changes: AtomicU64,
    skipped: AtomicU64,
    outcomes: StdMutex<BTreeMap<Outcome, u64>>,
    failures: StdMutex<BTreeMap<String, u64>>,
    damage: StdMutex<Vec<String>>,
    /// The API origin every answer of the run comes from (recorded on each).
    origin: Arc<str>,
    progress: Option<Arc<dyn Progress>>,
    concurrency: usize,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// The run's archive writer (see [`spawn_writer`]).
    writer: std::sync::mpsc::Sender<Pending>,
    /// The client's request, retry and byte counters when the run began, so
    /// the totals count this run's only (a client outlives its runs).
    stats_before: [u64; 3],
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
            download_poll_interval: client.settings().download_poll_interval,
            download_polls: client.settings().download_polls,
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
            failures: StdMutex::new(BTreeMap::new()),
            damage: StdMutex::new(Vec::new()),
            origin: {
                let base = &client.settings().base_url;
                crate::domain::origin::Origin::of_base_url(base)
                    .map(|o| Arc::from(o.as_str()))
                    .unwrap_or_else(|_| Arc::from(base.as_str()))
            },
            progress,
            stop,
            writer: spawn_writer(store.clone()),
            stats_before: client_stats(client),
        })
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Ends the run: its totals (`planned` calls over `periods` periods),
    /// recorded with its status on the run's row.
    ///
    /// Fails when the run's row cannot be written.
    async fn finish(
        &self,
        plan: &Plan,
        periods: usize,
        planned: u64,
        needs_login: BTreeMap<Gstin, String>,
    ) -> Result<RunTotals, CaptureError> {
        let status = if self.stopping() {
            RunStatus::Interrupted
        } else {
            RunStatus::Completed
        };
        if status == RunStatus::Interrupted {
            tracing::warn!(
                run_id = self.run_id,
                "capture interrupted: requests in flight were archived, the rest waits for the next run"
            );
        }
        let [requests, retries, bytes] = client_stats(&self.client);
        let [requests_before, retries_before, bytes_before] = self.stats_before;
        let totals = RunTotals {
            run_id: self.run_id,
            status,
            gstins: plan.gstins.len(),
            endpoints: plan.endpoints.len(),
            periods,
            planned,
            snapshots: self.snapshots.load(Ordering::Relaxed),
            outcomes: self.outcomes.lock().expect("outcomes lock").clone(),
            requests: requests - requests_before,
            retries: retries - retries_before,
            bytes_received: bytes - bytes_before,
            new_payload_bytes: self.new_payload_bytes.load(Ordering::Relaxed),
            changes: self.changes.load(Ordering::Relaxed),
            needs_login,
            skipped: self.skipped.load(Ordering::Relaxed),
            damage: self.damage.lock().expect("damage lock").clone(),
            failures: self.failures.lock().expect("failures lock").clone(),
        };
        let json = serde_json::to_string(&totals).expect("totals serialise");
        let (run_id, finished) = (self.run_id, self.clock.now());
        blocking(&self.store, move |s| s.finish_run(run_id, status, &json, finished)).await?;
        Ok(totals)
    }
}

/// The client's request, retry and received-byte counters.
fn client_stats(client: &Client) -> [u64; 3] {
    [
        client.stats.requests.load(Ordering::Relaxed),
        client.stats.retries.load(Ordering::Relaxed),
        client.stats.bytes_received.load(Ordering::Relaxed),
    ]
}

/// Runs one capture pass. Returns its totals; the run row records them too.
///
/// Fails only when the archive cannot be written; upstream failures are
/// archived as outcomes and counted in the totals.
pub async fn run(
    plan: &Plan,
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    progress: Option<Arc<dyn Progress>>,
) -> Result<RunTotals, CaptureError> {
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
) -> Result<RunTotals, CaptureError> {
    let started = clock.now();
    let kind = plan.kind;
    let run_id = blocking(&store, move |s| s.begin_run(kind, started)).await?;
    let months = plan.from.through(plan.to);
    let today = india_date(started);
    let calls: Vec<Call> = plan
        .endpoints
        .iter()
        .flat_map(|e| {
            e.period
                .periods(&months)
                .into_iter()
                .map(move |period| Call { endpoint: e, period })
        })
        .collect();
    let period_count = {
        let mut all: Vec<Period> = calls.iter().map(|j| j.period).collect();
        all.sort();
        all.dedup();
        all.len()
    };
    if let Some(p) = &progress {
        p.planned((calls.len() * plan.gstins.len()) as u64);
    }
    let ctx = Context::new(&client, &store, tokens, &clock, run_id, today, progress, stop);

    let per_gstin = plan.gstins.iter().map(|entry| {
        let ctx = ctx.clone();
        let calls = calls.clone();
        async move { capture_gstin(ctx, entry.clone(), calls).await }
    });
    let results: Vec<Result<Option<String>, CaptureError>> = futures::future::join_all(per_gstin).await;
    let mut needs_login = BTreeMap::new();
    for (entry, result) in plan.gstins.iter().zip(results) {
        if let Some(reason) = result? {
            needs_login.insert(entry.gstin.clone(), reason);
        }
    }

    let planned = (calls.len() * plan.gstins.len()) as u64;
    ctx.finish(plan, period_count, planned, needs_login).await
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
async fn capture_gstin(ctx: Arc<Context>, entry: GstinEntry, calls: Vec<Call>) -> Result<Option<String>, CaptureError> {
    let gstin = entry.gstin.clone();
    let slot = Arc::new(Mutex::new(open_session(&ctx, &gstin).await));
    let opened = {
        let guard = slot.lock().await;
        guard.needs_login.clone().map(|reason| (reason, guard.session.clone()))
    };
    if let Some((reason, session)) = opened {
        ctx.skipped.fetch_add(calls.len() as u64, Ordering::Relaxed);
        mark_needs_login(&ctx, &gstin, &reason, session.as_ref()).await?;
        tracing::warn!(gstin = %gstin, reason = %reason, "GSTIN needs login: skipped");
        if let Some(p) = &ctx.progress {
            for _ in 0..calls.len() {
                p.finished_job();
            }
        }
        return Ok(Some(reason));
    }
    let stop_ctx = ctx.clone();
    let results: Vec<Result<(), CaptureError>> = stream::iter(calls)
        .take_while(move |_: &Call| futures::future::ready(!stop_ctx.stopping()))
        .map(|Call { endpoint, period }: Call| {
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
    if endpoint.quirk == Quirk::Download {
        return run_einvoice_job(ctx, slot, gstin, endpoint, period, spec).await;
    }
    let Some(fetched) = fetch_with_session(ctx, slot, gstin, &spec, endpoint.auth).await else {
        ctx.skipped.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    };
    let reading = read(&fetched);
    let large_file = reading.as_ref().and_then(|r| r.large_file.clone());
    let file_count = archive_read(ctx, gstin, endpoint, &period, 0, &spec, &fetched, reading).await?;
    if let Some(large) = large_file {
        return large_return(ctx, slot, gstin, endpoint, period, &spec, large).await;
    }
    if endpoint.quirk == Quirk::NoticeList {
        return notices::notice_details(ctx, slot, gstin, &fetched).await;
    }
    if endpoint.quirk == Quirk::Paged {
        // Every page the portal names: a large month's 2B is not cut short
        // (the GSTR-2B page: "call again with file_number = 1..fc").
        for page in 1..=file_count.unwrap_or(0) {
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

/// The envelope reading of an answer (None when no complete body arrived).
fn read(fetched: &Fetched) -> Option<envelope::Reading> {
    match (&fetched.body, fetched.http_status) {
        (Some(body), Some(status)) => Some(envelope::parse(status, body)),
        _ => None,
    }
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
    archive_read(ctx, gstin, endpoint, period, page, spec, fetched, read(fetched)).await
}

/// [`archive`] with the answer already read (a file's reading, a reading
/// whose outcome the caller decided: a download still queued is `pending`).
#[allow(clippy::too_many_arguments)]
async fn archive_read(
    ctx: &Context,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: &Period,
    page: u32,
    spec: &RequestSpec,
    fetched: &Fetched,
    reading: Option<envelope::Reading>,
) -> Result<Option<u32>, CaptureError> {
    let outcome = reading.as_ref().map(|r| r.outcome).unwrap_or(Outcome::TransportError);
    let file_count = reading.as_ref().and_then(|r| r.file_count);
    let (error_cd, api_detail) = reading
        .as_ref()
        .map(|r| (r.error_cd.clone(), r.detail.clone()))
        .unwrap_or_default();
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
        origin: ctx.origin.clone(),
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
    if let Some(cause) = crate::domain::run::failure_cause(
        outcome,
        fetched.http_status,
        error_cd.as_deref(),
        fetched.detail.as_deref().or(api_detail.as_deref()),
        fetched.attempts.max(1),
    ) {
        *ctx.failures.lock().expect("failures lock").entry(cause).or_default() += 1;
    }
    if let Some(digest) = appended.repaired {
        let line = format!(
            "payload {} was damaged in the archive (no stored copy hashed to its SHA-256); the genuine bytes \
             received for snapshot {} ({gstin} {} {period}) are stored again as a repair copy",
            digest.short(),
            appended.seq,
            endpoint.name
        );
        tracing::error!("{line}");
        ctx.damage.lock().expect("damage lock").push(line);
    }
    tracing::debug!(gstin = %gstin, endpoint = endpoint.name, period = %period, page, outcome = outcome.as_str(), seq = appended.seq.0, "archived");
    Ok(file_count)
}
