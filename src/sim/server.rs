//! The simulator's HTTP layer: routes Sandbox requests through the catalog to
//! the business model and wraps answers in the Sandbox envelope. It owns the
//! simulated clock, platform and taxpayer tokens, the rate limit, injected
//! faults and the log of served data responses; it must not compute any tax
//! figure itself (that is [`super::model`]).
//!
//! Behaviour worth knowing:
//! - The clock does not tick on its own: it starts at `SimConfig::start` and
//!   moves only through [`Simulator::set_now`], [`Simulator::advance`] or the
//!   admin route, so runs are reproducible. Envelope timestamps are its epoch ms.
//! - Sessions follow the portal's rules
//!   (<https://developer.sandbox.co.in/docs/taxpayer-authentication-api-guide>):
//!   OTP verify gives a token of `session_ttl` (6 h, `token_expiry`) inside
//!   `api_access_ttl` of API access (30 days, `session_expiry`). Refresh
//!   issues a new token, never past `session_expiry`, and leaves the old one
//!   valid until its own expiry; it succeeds for an expired token while API
//!   access lasts, fails with `AUTH4038` after `session_expiry` and with
//!   `AUTH4033` for a revoked or logged-out token. Data calls answer
//!   `AUTH4033` for an expired or revoked token, `AUTH4038` after
//!   `session_expiry`, and `RET11402` (`RET2B1010` for 2B) while the
//!   taxpayer has API access switched off ([`Simulator::switch_off_api_access`]).
//!   Refreshes are counted; every served data call names its token's serial.
//! - OTPs: generate makes one pending OTP per GSTIN; verify uses it up (an
//!   OTP is single-use); a wrong or unrequested OTP answers `AUTH4033`
//!   "Invalid Session", as the Sandbox docs show. Every OTP call is logged
//!   with its `x-source`, and `Faults::otp` fails them on the way.
//! - GSTR-2B above `gstr2b_page_size` documents answers, without
//!   `file_number`, `data: {"status_cd":"3","data":{"fc":N}}`; each page
//!   `?file_number=k` carries the header fields and `itcsumm` again, plus its
//!   slice of `docdata`.
//! - e-invoice downloads (jobs), as the docs give them: POST with
//!   `supply_type` answers `data: {"job_id", "status": "created", ...}`; GET on
//!   the same path with `?job_id=` answers `created` for the first
//!   `download_ready_after_polls` polls, then `succeeded` with
//!   `data["e-invoice_list_url"]` (a presigned URL on the object store) or
//!   `failed` with GSTN's answer at `data.data` (`EINV30113` when the supply
//!   type has no e-invoices).
//! - The object store: a second loopback listener serving the files behind
//!   presigned URLs (e-invoice lists, large returns' files). Each URL's query
//!   must arrive byte for byte as issued (else 403 `SignatureDoesNotMatch`),
//!   within 24 h, and with none of the API's headers (an `authorization` or
//!   `x-api-key` header is refused with 400, as S3 refuses a second auth
//!   mechanism). Every request is logged ([`Simulator::object_requests`]).
//! - Large returns: for each GSTIN of `large_returns`, GSTR-2A `b2b` of a
//!   month with documents answers `status_cd "2"` with a `token` and `est`
//!   minutes; `GET .../gstrs/file-details?token=` answers `RTN_24` until `est`
//!   minutes have passed on the simulator clock, then the files' URLs. The
//!   same token is answered again for a day.
//! - Admin routes (loopback tools, no auth): `GET /_sim/clock`;
//!   `POST /_sim/clock?set=<RFC3339>` or `?advance_days=N` or `?advance_secs=N`.
//! - Faults apply only to catalog requests that passed auth, drawn from a
//!   RNG seeded by `Faults::seed` (reset by [`Simulator::set_faults`]).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::model::{Answer, Business};
use super::{DEMO_API_KEY, DEMO_API_SECRET, TEST_OTP};
use crate::domain::catalog::{self, month_from_params, Auth, Quirk};
use crate::domain::gstin::Gstin;
use crate::domain::period::india_date;

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// The simulator clock's initial instant.
    pub start: DateTime<Utc>,
    pub api_key: String,
    pub api_secret: String,
    pub platform_token_ttl: Duration,
    /// Taxpayer access token lifetime (`token_expiry`): about 6 h.
    pub session_ttl: Duration,
    /// How long the taxpayer enabled API access on the portal
    /// (`session_expiry` after an OTP login): at most 30 days.
    pub api_access_ttl: Duration,
    /// Calls per real-time sliding minute per API key; None = unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// `Retry-After` on 429 answers.
    pub retry_after_secs: u64,
    pub faults: Faults,
    /// GSTR-2B documents per page; more than this and the first answer is `status_cd "3"`.
    pub gstr2b_page_size: usize,
    /// GSTINs whose GSTR-2B is split into at least this many pages (the
    /// pages past the documents carry the header and summary only).
    pub gstr2b_min_pages: Vec<(Gstin, usize)>,
    /// Polls of an e-invoice download that answer `created` before it ends.
    pub download_ready_after_polls: u32,
    /// GSTINs whose GSTR-2A `b2b` is a large return (a token, then files).
    pub large_returns: Vec<Gstin>,
    /// Minutes a large return's files take (`est`).
    pub large_return_est_minutes: u32,
}

impl SimConfig {
    /// Defaults: demo key and secret, 24 h platform token, 6 h access token,
    /// 30 days of API access, no rate limit, no faults, 40 documents per 2B page.
    pub fn new(seed: u64, start: DateTime<Utc>) -> SimConfig {
        SimConfig {
            seed,
            start,
            api_key: DEMO_API_KEY.into(),
            api_secret: DEMO_API_SECRET.into(),
            platform_token_ttl: Duration::from_secs(24 * 3600),
            session_ttl: Duration::from_secs(6 * 3600),
            api_access_ttl: Duration::from_secs(30 * 24 * 3600),
            rate_limit_per_minute: None,
            retry_after_secs: 1,
            faults: Faults::default(),
            gstr2b_page_size: super::model::DEFAULT_PAGE_SIZE,
            gstr2b_min_pages: Vec::new(),
            download_ready_after_polls: 1,
            // One demo GSTIN (Karnataka) has a GSTR-2A too large to answer at once.
            large_returns: super::demo_gstins().into_iter().skip(1).take(1).collect(),
            large_return_est_minutes: 20,
        }
    }
}

/// Probabilities per data request (not auth calls), drawn from a seeded RNG.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub error_5xx: f64,
    pub rate_429: f64,
    pub torn_body: f64,
    pub invalid_json: f64,
    pub slow: f64,
    pub slow_max: Duration,
    /// A 200 answer of `oversized_bytes` (valid JSON) instead of the real one.
    pub oversized: f64,
    pub oversized_bytes: usize,
    /// A 200 answer that is not JSON: an HTML page, an empty body, or non-UTF-8 bytes.
    pub odd_body: f64,
    pub seed: u64,
    /// How every OTP generate and verify call fails, when set (not drawn:
    /// each one fails so).
    pub otp: Option<OtpFault>,
}

/// How an OTP call fails on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtpFault {
    /// This HTTP status (5xx, 429) and no answer.
    Status(u16),
    /// Headers, half a body, then the connection drops.
    Reset,
}

/// One OTP call as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtpCall {
    /// `generate` or `verify`.
    pub step: &'static str,
    pub gstin: Option<Gstin>,
    /// The `x-source` header sent.
    pub x_source: Option<String>,
    pub status: u16,
}

/// One request to the object store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRequest {
    /// Path and query exactly as received.
    pub path_and_query: String,
    /// The API's headers that came along (`authorization`, `x-api-key`, `x-api-version`).
    pub api_headers: Vec<String>,
    pub status: u16,
    /// Hex SHA-256 of the file served (200 answers).
    pub body_sha256: Option<String>,
}

/// One data response as written to the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    pub path_and_query: String,
    pub status: u16,
    /// Hex SHA-256 of the body bytes actually written.
    pub body_sha256: String,
    pub transaction_id: Option<String>,
    /// The body was cut off mid-stream and the connection dropped.
    pub torn: bool,
    /// The serial of the taxpayer token the request carried (data calls).
    pub session: Option<u64>,
    /// The `x-api-version` header sent.
    pub api_version: Option<String>,
}

#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<SimState>,
}

struct Session {
    gstin: Gstin,
    /// `token_expiry`: the access token's end.
    expiry: DateTime<Utc>,
    /// `session_expiry`: the end of the portal's API access; a refresh never moves it.
    session_expiry: DateTime<Utc>,
    /// Revoked by the test hook or logged out: never valid again, not refreshable.
    revoked: bool,
    /// The token's number in issue order (1, 2, ...), as [`Served::session`] names it.
    serial: u64,
}

/// An e-invoice download (the API's job).
struct Job {
    /// The submit's answer members: month, year, supply type, GSTIN.
    meta: serde_json::Map<String, Value>,
    polls: u32,
    created_at: DateTime<Utc>,
    /// The list's object path and bytes, or GSTN's error when the download fails.
    result: Result<(String, Vec<u8>), (&'static str, String)>,
}

/// A file on the object store behind a presigned URL.
struct StoredObject {
    /// The query exactly as issued (the signature covers it).
    query: String,
    bytes: Vec<u8>,
    issued: DateTime<Utc>,
}

/// A large return's token and its files.
struct LargeReturn {
    token: String,
    issued: DateTime<Utc>,
    /// Object paths and bytes of the files, in order.
    files: Vec<(String, Vec<u8>)>,
}

struct SimState {
    config: SimConfig,
    now: DateTime<Utc>,
    platform_tokens: HashMap<String, DateTime<Utc>>,
    sessions: HashMap<String, Session>,
    /// Token and transaction-id source (seeded so runs are reproducible).
    ids: ChaCha8Rng,
    faults: ChaCha8Rng,
    window: VecDeque<Instant>,
    served: Vec<Served>,
    requests: u64,
    businesses: HashMap<Gstin, Business>,
    jobs: HashMap<String, Job>,
    /// Taxpayer tokens issued so far (the next token's serial is one more).
    issued: u64,
    /// Session refreshes answered with a new token.
    refreshes: u64,
    /// GSTINs whose taxpayer switched API access off on the portal.
    access_off: std::collections::HashSet<Gstin>,
    /// GSTINs with an OTP generated and not yet used.
    pending_otps: std::collections::HashSet<Gstin>,
    otp_calls: Vec<OtpCall>,
    /// Where the object store listens (set when serving).
    object_store: Option<SocketAddr>,
    objects: HashMap<String, StoredObject>,
    object_log: Vec<ObjectRequest>,
    /// Large returns by (GSTIN, endpoint, month).
    large: HashMap<(Gstin, &'static str, crate::domain::period::Month), LargeReturn>,
    /// Endpoints answering a planted GSTN error instead of their data.
    planted: HashMap<&'static str, (&'static str, String)>,
}

impl SimState {
    fn hex_id(&mut self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        self.ids.fill_bytes(&mut buf);
        hex::encode(buf)
    }

    fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.ids.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(b);
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }

    fn business(&mut self, gstin: &Gstin) -> Business {
        let (seed, page) = (self.config.seed, self.config.gstr2b_page_size);
        let min_pages = self
            .config
            .gstr2b_min_pages
            .iter()
            .find(|(g, _)| g == gstin)
            .map_or(1, |(_, n)| *n);
        self.businesses
            .entry(gstin.clone())
            .or_insert_with(|| {
                Business::new(gstin, seed)
                    .with_page_size(page)
                    .with_min_2b_pages(min_pages)
            })
            .clone()
    }

    /// Puts `bytes` on the object store at `path` and returns its presigned
    /// URL: an S3-shaped query whose `%2F`, `+`, `/` and `=` must come back
    /// exactly as issued.
    fn put_object(&mut self, path: String, bytes: Vec<u8>) -> String {
        let now = self.now;
        let day = now.format("%Y%m%d").to_string();
        let token = format!("IQoJb3JpZ2lu+{}/sim==", self.hex_id(6));
        let unsigned = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={}&X-Amz-SignedHeaders=host&X-Amz-Expires=86399\
             &X-Amz-Credential=SIMULATOR%2F{day}%2Fap-south-1%2Fs3%2Faws4_request&X-Amz-Security-Token={token}",
            now.format("%Y%m%dT%H%M%SZ")
        );
        let signature = hex::encode(Sha256::digest(
            format!("{}\n{path}\n{unsigned}", self.config.seed).as_bytes(),
        ));
        let query = format!("{unsigned}&X-Amz-Signature={signature}");
        let host = self
            .object_store
            .map(|a| a.to_string())
            .unwrap_or_else(|| "127.0.0.1:9".into());
        let url = format!("http://{host}{path}?{query}");
        self.objects.insert(
            path,
            StoredObject {
                query,
                bytes,
                issued: now,
            },
        );
        url
    }
}

/// What one fault draw decided.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    ServerError(u16),
    RateLimited,
    Torn,
    InvalidJson,
    Oversized,
    /// 0: HTML with text/html, 1: empty body, 2: non-UTF-8 bytes.
    Odd(u8),
}

fn ttl(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Simulator {
    pub fn new(config: SimConfig) -> Simulator {
        let ids = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5a5a_1d5e_ed00_0001);
        let faults = ChaCha8Rng::seed_from_u64(config.faults.seed);
        let state = SimState {
            now: config.start,
            config,
            platform_tokens: HashMap::new(),
            sessions: HashMap::new(),
            ids,
            faults,
            window: VecDeque::new(),
            served: Vec::new(),
            requests: 0,
            businesses: HashMap::new(),
            jobs: HashMap::new(),
            issued: 0,
            refreshes: 0,
            access_off: Default::default(),
            pending_otps: Default::default(),
            otp_calls: Vec::new(),
            object_store: None,
            objects: HashMap::new(),
            object_log: Vec::new(),
            large: HashMap::new(),
            planted: HashMap::new(),
        };
        Simulator {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, SimState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves on an already-bound listener until `shutdown` resolves, with
    /// the object store on another loopback port.
    ///
    /// Fails only when the object store's port cannot be bound or accepting
    /// connections fails.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let objects = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        self.serve_with_objects(listener, objects, shutdown).await
    }

    /// [`Simulator::serve`] with the object store on `objects`.
    ///
    /// Fails only when accepting connections fails.
    pub async fn serve_with_objects(
        self,
        listener: tokio::net::TcpListener,
        objects: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.state().object_store = Some(objects.local_addr()?);
        let (stop_objects, stopped) = tokio::sync::oneshot::channel::<()>();
        let store = Router::new().fallback(object_store).with_state(self.clone());
        let store = tokio::spawn(async move {
            axum::serve(objects, store)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        let app = Router::new().fallback(handle).with_state(self);
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        let _ = stop_objects.send(());
        let _ = store.await;
        served
    }

    /// Binds 127.0.0.1:0 (and another port for the object store) and serves
    /// in a background task until the handle is stopped or dropped. Fails
    /// when a port cannot be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<RunningSimulator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let objects = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let object_store = objects.local_addr()?;
        let sim = Simulator::new(config);
        sim.state().object_store = Some(object_store);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = sim.clone();
        let handle = tokio::spawn(server.serve_with_objects(listener, objects, async move {
            let _ = rx.await;
        }));
        Ok(RunningSimulator {
            addr,
            base_url: format!("http://{addr}"),
            object_store_url: format!("http://{object_store}"),
            sim,
            shutdown: Some(tx),
            handle: Some(handle),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.state().now
    }

    pub fn set_now(&self, t: DateTime<Utc>) {
        self.state().now = t;
    }

    pub fn advance(&self, d: chrono::Duration) {
        let mut s = self.state();
        s.now += d;
    }

    pub fn set_faults(&self, f: Faults) {
        let mut s = self.state();
        s.faults = ChaCha8Rng::seed_from_u64(f.seed);
        s.config.faults = f;
    }

    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        let mut s = self.state();
        s.config.rate_limit_per_minute = per_minute;
        s.window.clear();
    }

    /// Applies to sessions created or refreshed from now on.
    pub fn set_session_ttl(&self, d: Duration) {
        self.state().config.session_ttl = d;
    }

    /// Every token of `gstin` becomes invalid, and refreshing with it fails.
    pub fn revoke_sessions(&self, gstin: &Gstin) {
        for session in self.state().sessions.values_mut().filter(|s| &s.gstin == gstin) {
            session.revoked = true;
        }
    }

    /// Every session of `gstin` reaches its `session_expiry` now: the
    /// portal's API access ended, data calls answer `AUTH4038` and a refresh
    /// is refused.
    pub fn end_api_access(&self, gstin: &Gstin) {
        let mut s = self.state();
        let now = s.now;
        for session in s.sessions.values_mut().filter(|x| &x.gstin == gstin) {
            session.session_expiry = session.session_expiry.min(now);
            session.expiry = session.expiry.min(now);
        }
    }

    /// The taxpayer switches API access off (`true`) or on again on the
    /// portal: data calls of `gstin` answer `RET11402` (`RET2B1010` for 2B).
    pub fn switch_off_api_access(&self, gstin: &Gstin, off: bool) {
        let mut s = self.state();
        if off {
            s.access_off.insert(gstin.clone());
        } else {
            s.access_off.remove(gstin);
        }
    }

    /// Every OTP generate and verify call received, in order.
    pub fn otp_calls(&self) -> Vec<OtpCall> {
        self.state().otp_calls.clone()
    }

    /// Every request the object store received, in order.
    pub fn object_requests(&self) -> Vec<ObjectRequest> {
        self.state().object_log.clone()
    }

    /// Every request of `endpoint` (a catalog name) answers the GSTN error
    /// `code` from now on (an unknown code, a no-data code), until
    /// [`Simulator::clear_planted`].
    pub fn plant_error(&self, endpoint: &'static str, code: &'static str, message: &str) {
        self.state().planted.insert(endpoint, (code, message.to_string()));
    }

    /// Endpoints answer their data again.
    pub fn clear_planted(&self) {
        self.state().planted.clear();
    }

    /// Polls of each e-invoice download that answer `created` before it ends.
    pub fn set_download_ready_after_polls(&self, polls: u32) {
        self.state().config.download_ready_after_polls = polls;
    }

    /// Session refreshes answered with a new token so far.
    pub fn refreshes(&self) -> u64 {
        self.state().refreshes
    }

    /// The serial of the newest token issued to `gstin` (see [`Served::session`]).
    pub fn session_serial(&self, gstin: &Gstin) -> Option<u64> {
        self.state()
            .sessions
            .values()
            .filter(|x| &x.gstin == gstin)
            .map(|x| x.serial)
            .max()
    }

    /// Every taxpayer token expires now (refresh still works with them).
    pub fn expire_all_sessions(&self) {
        let mut s = self.state();
        let now = s.now;
        for session in s.sessions.values_mut() {
            session.expiry = session.expiry.min(now);
        }
    }

    pub fn served(&self) -> Vec<Served> {
        self.state().served.clone()
    }

    pub fn request_count(&self) -> u64 {
        self.state().requests
    }

    /// Every platform and taxpayer token issued so far (for secret-leak tests).
    pub fn issued_tokens(&self) -> Vec<String> {
        let s = self.state();
        s.platform_tokens.keys().chain(s.sessions.keys()).cloned().collect()
    }

    /// The business of `gstin` rejects in IMS the first B2B invoice of `month`
    /// it has not rejected yet, and its GSTR-2B is regenerated (the invoice
    /// moves to `itcRejected`): the invoice number and tax, None when the
    /// month has no invoice left to reject.
    pub fn reject_in_ims(
        &self,
        gstin: &Gstin,
        month: crate::domain::period::Month,
    ) -> Option<(String, crate::sim::model::Heads)> {
        let mut s = self.state();
        let (business, num, tax) = s.business(gstin).with_ims_rejection(month)?;
        s.businesses.insert(gstin.clone(), business);
        Some((num, tax))
    }

    pub fn model(&self, gstin: &Gstin) -> Business {
        self.state().business(gstin)
    }
}

/// A simulator serving in the background. Dropping it shuts the server down.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// The object store's origin (`http://127.0.0.1:PORT2`).
    pub object_store_url: String,
    pub sim: Simulator,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningSimulator {
    /// Signals shutdown and waits for the server task to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// A platform-level error: no GSTN envelope.
fn platform_error(s: &mut SimState, code: u16, message: &str) -> (Response, Vec<u8>, String) {
    let tid = s.uuid();
    let body = json!({"code": code, "message": message, "timestamp": s.now.timestamp_millis(), "transaction_id": tid});
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, bytes.clone());
    if code == 429 {
        if let Ok(v) = HeaderValue::from_str(&s.config.retry_after_secs.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, v);
        }
    }
    (response, bytes, tid)
}

/// The Sandbox envelope around `data`.
fn envelope(s: &mut SimState, data: Value) -> (Vec<u8>, String) {
    let tid = s.uuid();
    let body = json!({"code": 200, "timestamp": s.now.timestamp_millis(), "transaction_id": tid, "data": data});
    (serde_json::to_vec(&body).unwrap_or_default(), tid)
}

fn answer_data(answer: Answer) -> Value {
    match answer {
        Answer::Data(v) => json!({"status_cd": "1", "data": v}),
        Answer::Flat(v) => v,
        Answer::Paged { file_count } => json!({"status_cd": "3", "data": {"fc": file_count}}),
        Answer::Error { code, message } => {
            json!({"status_cd": "0", "error": {"error_cd": code, "message": message}})
        }
        Answer::PublicError { code, message } => {
            json!({"status_cd": "0", "error": {"error_code": code, "message": message}})
        }
    }
}

fn business_error(code: &'static str, message: &str) -> Value {
    answer_data(Answer::error(code, message))
}

fn body_gstin(body: &[u8]) -> Option<Gstin> {
    let v: Value = serde_json::from_slice(body).ok()?;
    Gstin::parse(v.get("gstin")?.as_str()?).ok()
}

async fn handle(State(sim): State<Simulator>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (response, delay) = respond(&sim, method, uri, headers, body);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

/// Everything but the injected delay, so no lock is held across an await.
fn respond(sim: &Simulator, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> (Response, Option<Duration>) {
    let path = uri.path().to_string();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let query: Vec<(String, String)> = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let mut s = sim.state();
    s.requests += 1;
    if let Some(rest) = path.strip_prefix("/_sim/") {
        return (admin(&mut s, &method, rest, &query), None);
    }
    if header(&headers, "x-api-key") != Some(s.config.api_key.as_str()) {
        return (platform_error(&mut s, 403, "Bad Credentials").0, None);
    }
    if let Some(limit) = s.config.rate_limit_per_minute {
        let now = Instant::now();
        while s
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            s.window.pop_front();
        }
        if s.window.len() >= limit as usize {
            return (platform_error(&mut s, 429, "Too Many Requests").0, None);
        }
        s.window.push_back(now);
    }
    let token = header(&headers, "authorization").unwrap_or("").to_string();
    let tp = catalog::TAXPAYER_BASE;
    if method == Method::POST {
        let auth_path = path.strip_prefix(tp).unwrap_or("");
        let answer = match (path.as_str(), auth_path) {
            ("/authenticate", _) => Some(authenticate(&mut s, &headers)),
            (_, "/otp") | (_, "/otp/verify") => Some(otp_call(&mut s, &token, auth_path, &query, &headers, &body)),
            (_, "/session/refresh") | (_, "/logout") => Some(session_call(&mut s, &token, auth_path)),
            _ => None,
        };
        if let Some(response) = answer {
            return (response, None);
        }
    }
    let Some((endpoint, params)) = catalog::route(method.as_str(), &path, &query) else {
        return (platform_error(&mut s, 404, "Not Found").0, None);
    };
    let log = |s: &mut SimState, status: u16, bytes: &[u8], tid: Option<String>, torn: bool, session: Option<u64>| {
        s.served.push(Served {
            method: method.as_str().to_string(),
            path_and_query: path_and_query.clone(),
            status,
            body_sha256: hex::encode(Sha256::digest(bytes)),
            transaction_id: tid,
            torn,
            session,
            api_version: header(&headers, "x-api-version").map(String::from),
        });
    };
    let mut served_session: Option<u64> = None;
    // Auth: who is asking, or the refusal to send.
    let gstin = match endpoint.auth {
        Auth::Platform => {
            if !platform_ok(&s, &token) {
                let (response, bytes, tid) = platform_error(&mut s, 403, "Invalid or expired token");
                log(&mut s, 403, &bytes, Some(tid), false, served_session);
                return (response, None);
            }
            match body_gstin(&body) {
                Some(g) => g,
                None => {
                    let (bytes, tid) = envelope(&mut s, business_error("RET11410", "Invalid GSTIN"));
                    log(&mut s, 200, &bytes, Some(tid), false, served_session);
                    return (json_response(StatusCode::OK, bytes), None);
                }
            }
        }
        Auth::Taxpayer => {
            let now = s.now;
            match s.sessions.get(&token) {
                None => {
                    let (response, bytes, tid) = platform_error(&mut s, 401, "Unauthorized");
                    log(&mut s, 401, &bytes, Some(tid), false, served_session);
                    return (response, None);
                }
                Some(session) if !session.revoked && session.session_expiry <= now => {
                    let serial = Some(session.serial);
                    let (bytes, tid) = envelope(&mut s, business_error("AUTH4038", "Session Expired"));
                    log(&mut s, 200, &bytes, Some(tid), false, serial);
                    return (json_response(StatusCode::OK, bytes), None);
                }
                Some(session) if session.revoked || session.expiry <= now => {
                    let serial = Some(session.serial);
                    let (bytes, tid) = envelope(&mut s, business_error("AUTH4033", "Invalid Session"));
                    log(&mut s, 200, &bytes, Some(tid), false, serial);
                    return (json_response(StatusCode::OK, bytes), None);
                }
                Some(session) => {
                    served_session = Some(session.serial);
                    session.gstin.clone()
                }
            }
        }
    };
    // API access switched off on the portal (ENDPOINTS.md section 9).
    if endpoint.auth == Auth::Taxpayer && s.access_off.contains(&gstin) {
        let (code, message) = if endpoint.group == catalog::Group::Gstr2b {
            ("RET2B1010", "API Authorization Failed for 2B")
        } else {
            ("RET11402", "API Authorization Failed")
        };
        let (bytes, tid) = envelope(&mut s, business_error(code, message));
        log(&mut s, 200, &bytes, Some(tid), false, served_session);
        return (json_response(StatusCode::OK, bytes), None);
    }
    // Fault draw: always two draws so the sequence does not depend on the probabilities.
    let f = s.config.faults.clone();
    let slow_draw: f64 = s.faults.random();
    let delay_ms = s
        .faults
        .random_range(0..=f.slow_max.as_millis().min(u128::from(u64::MAX)) as u64);
    let draw: f64 = s.faults.random();
    let kind: u16 = [500, 502, 503][s.faults.random_range(0..3)];
    let fault = {
        let mut edge = f.error_5xx;
        if draw < edge {
            Fault::ServerError(kind)
        } else if draw < {
            edge += f.rate_429;
            edge
        } {
            Fault::RateLimited
        } else if draw < {
            edge += f.torn_body;
            edge
        } {
            Fault::Torn
        } else if draw < {
            edge += f.invalid_json;
            edge
        } {
            Fault::InvalidJson
        } else if draw < {
            edge += f.oversized;
            edge
        } {
            Fault::Oversized
        } else if draw < edge + f.odd_body {
            Fault::Odd(match kind {
                500 => 0,
                502 => 1,
                _ => 2,
            })
        } else {
            Fault::None
        }
    };
    let delay = (slow_draw < f.slow).then(|| Duration::from_millis(delay_ms));
    let response_parts = match fault {
        Fault::ServerError(code) => {
            let message = match code {
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                _ => "Service Unavailable",
            };
            let (response, bytes, tid) = platform_error(&mut s, code, message);
            log(&mut s, code, &bytes, Some(tid), false, served_session);
            Err(response)
        }
        Fault::RateLimited => {
            let (response, bytes, tid) = platform_error(&mut s, 429, "Too Many Requests");
            log(&mut s, 429, &bytes, Some(tid), false, served_session);
            Err(response)
        }
        _ => {
            let business = s.business(&gstin);
            let today = india_date(s.now);
            let planted = s.planted.get(endpoint.name).cloned();
            let answer = if let Some((code, message)) = planted {
                Answer::error(code, message)
            } else if endpoint.quirk == Quirk::Download {
                job(&mut s, &business, endpoint.name, &method, &params, &query, today)
            } else if endpoint.name == "file-details" {
                file_details(&mut s, &gstin, &query)
            } else if endpoint.name == "gstr-2a-b2b" && s.config.large_returns.contains(&gstin) {
                large_return(&mut s, &business, endpoint, &params, &query, today)
            } else {
                business.respond(endpoint, &params, &query, today)
            };
            Ok(envelope(&mut s, answer_data(answer)))
        }
    };
    let response = match response_parts {
        Err(response) => response,
        Ok((bytes, tid)) => match fault {
            Fault::Torn => {
                let half = bytes[..bytes.len() / 2].to_vec();
                log(&mut s, 200, &half, Some(tid), true, served_session);
                torn(half, bytes.len())
            }
            Fault::InvalidJson => {
                let cut = bytes[..bytes.len() * 6 / 10].to_vec();
                log(&mut s, 200, &cut, Some(tid), false, served_session);
                json_response(StatusCode::OK, cut)
            }
            Fault::Oversized => {
                let mut big = Vec::with_capacity(f.oversized_bytes + 64);
                big.extend_from_slice(b"{\"code\":200,\"data\":{\"status_cd\":\"1\",\"data\":{\"pad\":\"");
                big.resize(f.oversized_bytes.saturating_sub(5).max(big.len()), b'x');
                big.extend_from_slice(b"\"}}}");
                log(&mut s, 200, &big, Some(tid), false, served_session);
                json_response(StatusCode::OK, big)
            }
            Fault::Odd(variant) => {
                let (content_type, body): (&'static str, Vec<u8>) = match variant {
                    0 => (
                        "text/html",
                        b"<html><body>Service temporarily unavailable</body></html>".to_vec(),
                    ),
                    1 => ("application/json", Vec::new()),
                    _ => (
                        "application/octet-stream",
                        vec![0xff, 0xfe, 0x00, 0x81, b'{', 0xc3, 0x28],
                    ),
                };
                log(&mut s, 200, &body, Some(tid), false, served_session);
                let mut response = Response::new(Body::from(body));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                response
            }
            _ => {
                log(&mut s, 200, &bytes, Some(tid), false, served_session);
                json_response(StatusCode::OK, bytes)
            }
        },
    };
    (response, delay)
}

/// Headers and the first part of a body, then the connection drops.
fn torn(half: Vec<u8>, full: usize) -> Response {
    use futures::StreamExt;
    let head = futures::stream::iter([Ok::<Bytes, std::io::Error>(Bytes::from(half))]);
    // The pause lets the headers and the first half reach the client before the cut.
    let cut = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated torn body",
        ))
    });
    let mut response = Response::new(Body::from_stream(head.chain(cut)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(full));
    response
}

fn platform_ok(s: &SimState, token: &str) -> bool {
    s.platform_tokens.get(token).is_some_and(|expiry| *expiry > s.now)
}

fn ok_envelope(s: &mut SimState, data: Value) -> Response {
    json_response(StatusCode::OK, envelope(s, data).0)
}

fn authenticate(s: &mut SimState, headers: &HeaderMap) -> Response {
    if header(headers, "x-api-secret") != Some(s.config.api_secret.as_str()) {
        return platform_error(s, 403, "Bad Credentials").0;
    }
    let token = format!("plt_{}", s.hex_id(24));
    let expiry = s.now + ttl(s.config.platform_token_ttl);
    s.platform_tokens.insert(token.clone(), expiry);
    ok_envelope(s, json!({"access_token": token}))
}

/// A new taxpayer token for `gstin`, valid 6 h but never past `session_expiry`
/// (<https://developer.sandbox.co.in/docs/taxpayer-authentication-api-guide>:
/// "an extension can be requested with valid access and up to session expiry time").
fn new_session(s: &mut SimState, gstin: Gstin, session_expiry: DateTime<Utc>) -> Value {
    let token = format!("tpt_{}", s.hex_id(24));
    let expiry = (s.now + ttl(s.config.session_ttl)).min(session_expiry);
    s.issued += 1;
    let serial = s.issued;
    s.sessions.insert(
        token.clone(),
        Session {
            gstin,
            expiry,
            session_expiry,
            revoked: false,
            serial,
        },
    );
    json!({"access_token": token, "token_expiry": expiry.timestamp_millis(),
        "session_expiry": session_expiry.timestamp_millis(), "status_cd": "1"})
}

/// One OTP call: logged with its `x-source`, failed on the way when
/// `Faults::otp` says so, else answered.
fn otp_call(
    s: &mut SimState,
    token: &str,
    which: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut call = OtpCall {
        step: if which == "/otp" { "generate" } else { "verify" },
        gstin: body_gstin(body),
        x_source: header(headers, "x-source").map(String::from),
        status: 200,
    };
    let response = match s.config.faults.otp {
        Some(OtpFault::Status(code)) => platform_error(s, code, "Service Unavailable").0,
        Some(OtpFault::Reset) => {
            let (bytes, _) = envelope(s, json!({"status_cd": "1"}));
            torn(bytes[..bytes.len() / 2].to_vec(), bytes.len())
        }
        None => otp(s, token, which, query, body),
    };
    call.status = response.status().as_u16();
    s.otp_calls.push(call);
    response
}

fn otp(s: &mut SimState, token: &str, which: &str, query: &[(String, String)], body: &[u8]) -> Response {
    if !platform_ok(s, token) {
        return platform_error(s, 403, "Invalid or expired token").0;
    }
    let Some(gstin) = body_gstin(body) else {
        return ok_envelope(s, business_error("RET11410", "Invalid GSTIN"));
    };
    if which == "/otp" {
        s.pending_otps.insert(gstin);
        return ok_envelope(s, json!({"status_cd": "1"}));
    }
    let otp = query.iter().find(|(k, _)| k == "otp").map(|(_, v)| v.as_str());
    // A wrong OTP, or one never requested or already used (an OTP is
    // single-use): the Sandbox page shows `AUTH4033` "Invalid Session"
    // (https://developer.sandbox.co.in/reference/taxpayer-verify-otp-api).
    if otp != Some(TEST_OTP) || !s.pending_otps.remove(&gstin) {
        return ok_envelope(s, business_error("AUTH4033", "Invalid Session"));
    }
    // API access lasts as long as the taxpayer enabled it on the portal.
    let session_expiry = s.now + ttl(s.config.api_access_ttl);
    let data = new_session(s, gstin, session_expiry);
    ok_envelope(s, data)
}

fn session_call(s: &mut SimState, token: &str, which: &str) -> Response {
    let now = s.now;
    let Some(session) = s.sessions.get_mut(token) else {
        return platform_error(s, 401, "Unauthorized").0;
    };
    if session.revoked {
        return ok_envelope(s, business_error("AUTH4033", "Invalid Session"));
    }
    if which == "/logout" {
        session.revoked = true;
        return ok_envelope(s, json!({"status_cd": "1"}));
    }
    // A refresh works only while API access lasts and never extends it.
    if session.session_expiry <= now {
        return ok_envelope(s, business_error("AUTH4038", "Session Expired"));
    }
    let (gstin, session_expiry) = (session.gstin.clone(), session.session_expiry);
    s.refreshes += 1;
    let data = new_session(s, gstin, session_expiry);
    ok_envelope(s, data)
}

/// An e-invoice download: the submit (POST) and the poll (GET), as the docs
/// give them (module docs).
fn job(
    s: &mut SimState,
    business: &Business,
    name: &str,
    method: &Method,
    params: &std::collections::BTreeMap<String, String>,
    query: &[(String, String)],
    today: chrono::NaiveDate,
) -> Answer {
    let Some(month) = month_from_params(params) else {
        return Answer::error("RT-3BGV1005", "Return period is invalid");
    };
    let purchases = name.starts_with("einvoice-purchases");
    let now_ms = s.now.timestamp_millis();
    if *method == Method::POST {
        let supply_type = query
            .iter()
            .find(|(k, _)| k == "supply_type")
            .map(|(_, v)| v.to_ascii_uppercase())
            .unwrap_or_default();
        let job_id = s.uuid();
        let gstin = business.gstin().clone();
        let result = match business.einvoice_list(purchases, &supply_type, month, today) {
            Answer::Data(list) => Ok((
                format!(
                    "/in-co-sandbox-gst-compliance-e-invoice-list/{gstin}/{}/{}/{job_id}/e-invoice_list.json",
                    month.path_year(),
                    month.path_month()
                ),
                serde_json::to_vec(&list).unwrap_or_default(),
            )),
            Answer::Error { code, message } | Answer::PublicError { code, message } => Err((code, message)),
            _ => Err(("EINV30113", "No record found for the provided inputs".to_string())),
        };
        let mut meta = serde_json::Map::new();
        meta.insert(
            "@entity".into(),
            json!("in.co.sandbox.gst.compliance.e-invoice.list.job"),
        );
        meta.insert("job_id".into(), json!(job_id));
        meta.insert("month".into(), json!(month.path_month()));
        meta.insert("year".into(), json!(month.path_year()));
        meta.insert("supply_type".into(), json!(supply_type));
        meta.insert(
            if purchases { "recipient_gstin" } else { "supplier_gstin" }.into(),
            json!(gstin.as_str()),
        );
        meta.insert("created_at".into(), json!(now_ms));
        let mut answer = meta.clone();
        answer.insert("status".into(), json!("created"));
        s.jobs.insert(
            job_id,
            Job {
                meta,
                polls: 0,
                created_at: s.now,
                result,
            },
        );
        return Answer::Flat(Value::Object(answer));
    }
    let wanted = query
        .iter()
        .find(|(k, _)| k == "job_id")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let ready_after = s.config.download_ready_after_polls;
    let Some(job) = s.jobs.get_mut(&wanted) else {
        return Answer::error("RET191106", "No job found for the provided job_id");
    };
    job.polls += 1;
    let mut answer = job.meta.clone();
    answer.insert(
        "updated_at".into(),
        json!(now_ms.max(job.created_at.timestamp_millis())),
    );
    if job.polls <= ready_after {
        answer.insert("status".into(), json!("created"));
        return Answer::Flat(Value::Object(answer));
    }
    match job.result.clone() {
        Ok((path, list)) => {
            let url = s.put_object(path, list);
            answer.insert("status".into(), json!("succeeded"));
            answer.insert("e-invoice_list_url".into(), json!(url));
        }
        Err((code, message)) => {
            answer.insert("status".into(), json!("failed"));
            answer.insert(
                "data".into(),
                json!({"status_cd": "0", "error": {"message": message, "error_cd": code}}),
            );
        }
    }
    Answer::Flat(Value::Object(answer))
}

/// GSTR-2A `b2b` of a large-return GSTIN: a token and `est` minutes when the
/// month has documents (the same token for a day), else the plain answer.
fn large_return(
    s: &mut SimState,
    business: &Business,
    endpoint: &'static catalog::Endpoint,
    params: &std::collections::BTreeMap<String, String>,
    query: &[(String, String)],
    today: chrono::NaiveDate,
) -> Answer {
    let answer = business.respond(endpoint, params, query, today);
    let (Answer::Data(payload), Some(month)) = (&answer, month_from_params(params)) else {
        return answer;
    };
    let key = (business.gstin().clone(), endpoint.name, month);
    let now = s.now;
    let fresh = s
        .large
        .get(&key)
        .is_some_and(|l| now - l.issued < chrono::Duration::days(1));
    if !fresh {
        let token = s.hex_id(16);
        let suppliers: Vec<Value> = payload
            .get("b2b")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let half = suppliers.len().div_ceil(2).max(1);
        let files: Vec<(String, Vec<u8>)> = suppliers
            .chunks(half)
            .enumerate()
            .map(|(k, chunk)| {
                (
                    format!(
                        "/gstn-large-files/{}/{}/{token}/b2b_{k}.json",
                        key.0,
                        month.ret_period()
                    ),
                    serde_json::to_vec(&json!({"b2b": chunk})).unwrap_or_default(),
                )
            })
            .collect();
        s.large.insert(
            key.clone(),
            LargeReturn {
                token,
                issued: now,
                files,
            },
        );
    }
    let token = s.large.get(&key).map(|l| l.token.clone()).unwrap_or_default();
    Answer::Flat(json!({"status_cd": "2", "data": {"token": token,
        "est": s.config.large_return_est_minutes.to_string()}}))
}

/// The file-details call: `RTN_24` until the files are ready, then their URLs.
fn file_details(s: &mut SimState, gstin: &Gstin, query: &[(String, String)]) -> Answer {
    let token = query
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let ready_after = chrono::Duration::minutes(i64::from(s.config.large_return_est_minutes));
    let Some(large) = s
        .large
        .iter()
        .find(|((g, _, _), l)| g == gstin && l.token == token)
        .map(|(_, l)| (l.issued, l.files.clone()))
    else {
        return Answer::error("RET191106", "Invalid token");
    };
    if s.now < large.0 + ready_after {
        return Answer::error("RTN_24", "File generation is in progress, please try after sometime");
    }
    let mut urls = Vec::new();
    for (path, bytes) in large.1 {
        let hash = hex::encode(Sha256::digest(&bytes));
        let url = s.put_object(path, bytes);
        urls.push(json!({"ul": url, "ic": 1, "hash": hash}));
    }
    Answer::Data(json!({"fc": urls.len(), "urls": urls}))
}

/// The object store: files behind presigned URLs (module docs).
async fn object_store(State(sim): State<Simulator>, uri: Uri, headers: HeaderMap) -> Response {
    let mut s = sim.state();
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let api_headers: Vec<String> = ["authorization", "x-api-key", "x-api-version", "x-api-secret"]
        .into_iter()
        .filter(|h| headers.contains_key(*h))
        .map(String::from)
        .collect();
    let xml = |status: StatusCode, code: &str, message: &str| {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        );
        (status, [(CONTENT_TYPE, "application/xml")], body).into_response()
    };
    let now = s.now;
    let mut served = None;
    let response = if headers.contains_key("authorization") || headers.contains_key("x-api-key") {
        xml(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string \
             parameter or the Authorization header should be specified",
        )
    } else {
        match s.objects.get(&path) {
            None => xml(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist."),
            Some(object) if object.query != query => xml(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
            Some(object) if now - object.issued > chrono::Duration::seconds(86_399) => {
                xml(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired")
            }
            Some(object) => {
                served = Some(hex::encode(Sha256::digest(&object.bytes)));
                json_response(StatusCode::OK, object.bytes.clone())
            }
        }
    };
    s.object_log.push(ObjectRequest {
        path_and_query: if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        },
        api_headers,
        status: response.status().as_u16(),
        body_sha256: served,
    });
    response
}

fn admin(s: &mut SimState, method: &Method, rest: &str, query: &[(String, String)]) -> Response {
    if rest != "clock" {
        return platform_error(s, 404, "Not Found").0;
    }
    if *method == Method::POST {
        for (k, v) in query {
            match k.as_str() {
                "set" => match DateTime::parse_from_rfc3339(v) {
                    Ok(t) => s.now = t.with_timezone(&Utc),
                    Err(_) => return platform_error(s, 400, "set must be an RFC 3339 instant").0,
                },
                "advance_days" | "advance_secs" => match v.parse::<i64>() {
                    Ok(n) => s.now += chrono::Duration::seconds(if k == "advance_days" { n * 86_400 } else { n }),
                    Err(_) => return platform_error(s, 400, "advance takes an integer").0,
                },
                _ => {}
            }
        }
    }
    let body = json!({"now": s.now.to_rfc3339(), "india_date": india_date(s.now).to_string()});
    json_response(StatusCode::OK, serde_json::to_vec(&body).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const TP: &str = "/gst/compliance/tax-payer";

    async fn started(configure: impl FnOnce(&mut SimConfig)) -> RunningSimulator {
        let mut config = SimConfig::new(11, Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap());
        config.retry_after_secs = 0;
        configure(&mut config);
        Simulator::start(config).await.unwrap()
    }

    async fn post(c: &reqwest::Client, url: String, token: &str, body: Option<Value>) -> reqwest::Response {
        let mut r = c
            .post(url)
            .header("x-api-key", DEMO_API_KEY)
            .header("x-api-secret", DEMO_API_SECRET);
        if !token.is_empty() {
            r = r.header("authorization", token);
        }
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b.to_string());
        }
        r.send().await.unwrap()
    }

    async fn login(sim: &RunningSimulator, c: &reqwest::Client, otp: &str) -> Value {
        let auth: Value = post(c, format!("{}/authenticate", sim.base_url), "", None)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        let platform = auth["data"]["access_token"].as_str().unwrap().to_string();
        let body = json!({"username": "demo", "gstin": super::super::demo_gstins()[0].as_str()});
        let sent: Value = post(c, format!("{}{TP}/otp", sim.base_url), &platform, Some(body.clone()))
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(sent["data"]["status_cd"], "1");
        post(
            c,
            format!("{}{TP}/otp/verify?otp={otp}", sim.base_url),
            &platform,
            Some(body),
        )
        .await
        .bytes()
        .await
        .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
        .unwrap()
    }

    async fn get(c: &reqwest::Client, url: String, token: &str) -> reqwest::Response {
        c.get(url)
            .header("x-api-key", DEMO_API_KEY)
            .header("authorization", token)
            .send()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn auth_flow_and_session_errors() {
        let sim = started(|_| {}).await;
        let c = reqwest::Client::new();
        let bad = c
            .post(format!("{}/authenticate", sim.base_url))
            .header("x-api-key", "nope")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 403);
        let wrong = login(&sim, &c, "000000").await;
        assert_eq!(wrong["data"]["error"]["error_cd"], "AUTH4033");
        let ok = login(&sim, &c, TEST_OTP).await;
        let token = ok["data"]["access_token"].as_str().unwrap().to_string();
        let url = format!("{}{TP}/gstrs/gstr-3b/2026/09", sim.base_url);
        let r: Value = get(&c, url.clone(), &token)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(r["data"]["status_cd"], "1");
        assert_eq!(get(&c, url.clone(), "unknown").await.status(), 401);
        sim.sim.advance(chrono::Duration::hours(7));
        let expired: Value = get(&c, url.clone(), &token)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(expired["data"]["error"]["error_cd"], "AUTH4033");
        let refreshed: Value = post(&c, format!("{}{TP}/session/refresh", sim.base_url), &token, None)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        let fresh = refreshed["data"]["access_token"].as_str().unwrap().to_string();
        let again: Value = get(&c, url.clone(), &fresh)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(again["data"]["status_cd"], "1");
        // API access ends at session_expiry: data calls and refreshes answer AUTH4038.
        sim.sim.end_api_access(&super::super::demo_gstins()[0]);
        let ended: Value = get(&c, url.clone(), &fresh)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(ended["data"]["error"]["error_cd"], "AUTH4038");
        let refused: Value = post(&c, format!("{}{TP}/session/refresh", sim.base_url), &fresh, None)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(refused["data"]["error"]["error_cd"], "AUTH4038");
        assert_eq!(sim.sim.refreshes(), 1, "only the refresh before access ended counted");
        sim.sim.revoke_sessions(&super::super::demo_gstins()[0]);
        let revoked: Value = post(&c, format!("{}{TP}/session/refresh", sim.base_url), &fresh, None)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(revoked["data"]["error"]["error_cd"], "AUTH4033");
        sim.stop().await;
    }

    #[tokio::test]
    async fn ledger_dates_isd_paging_and_rate_limit() {
        let sim = started(|c| c.gstr2b_page_size = 3).await;
        let c = reqwest::Client::new();
        let token = login(&sim, &c, TEST_OTP).await["data"]["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let future: Value = get(
            &c,
            format!("{}{TP}/ledgers/cash?from=01/11/2026&to=30/11/2026", sim.base_url),
            &token,
        )
        .await
        .bytes()
        .await
        .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
        .unwrap();
        assert_eq!(future["data"]["error"]["error_cd"], "LG9089");
        // ISD: find a month that has ISD documents and check the flat envelope.
        let mut seen_isd = false;
        for m in 1..=9 {
            let v: Value = get(
                &c,
                format!("{}{TP}/gstrs/gstr-2a/isd/2026/{m:02}", sim.base_url),
                &token,
            )
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
            if v["data"].get("isd").is_some() {
                assert!(v["data"].get("status_cd").is_none());
                seen_isd = true;
            }
        }
        assert!(seen_isd);
        let first: Value = get(&c, format!("{}{TP}/gstrs/gstr-2b/2026/09", sim.base_url), &token)
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
        assert_eq!(first["data"]["status_cd"], "3");
        let fc = first["data"]["data"]["fc"].as_u64().unwrap();
        assert!(fc >= 2);
        let mut docs = 0;
        for k in 1..=fc {
            let page: Value = get(
                &c,
                format!("{}{TP}/gstrs/gstr-2b/2026/09?file_number={k}", sim.base_url),
                &token,
            )
            .await
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap();
            assert_eq!(page["data"]["status_cd"], "1");
            for list in page["data"]["data"]["docdata"].as_object().unwrap().values() {
                for entry in list.as_array().unwrap() {
                    docs += entry
                        .get("inv")
                        .or(entry.get("nt"))
                        .and_then(Value::as_array)
                        .map_or(1, Vec::len);
                }
            }
        }
        assert!(docs > 3);
        sim.sim.set_rate_limit(Some(2));
        let url = format!("{}{TP}/gstrs/gstr-3b/2026/09", sim.base_url);
        assert_eq!(get(&c, url.clone(), &token).await.status(), 200);
        assert_eq!(get(&c, url.clone(), &token).await.status(), 200);
        let limited = get(&c, url, &token).await;
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "0");
        sim.stop().await;
    }

    #[tokio::test]
    async fn torn_body_fails_the_client_and_is_logged() {
        let sim = started(|_| {}).await;
        let c = reqwest::Client::new();
        let token = login(&sim, &c, TEST_OTP).await["data"]["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        sim.sim.set_faults(Faults {
            torn_body: 1.0,
            ..Faults::default()
        });
        let r = get(&c, format!("{}{TP}/gstrs/gstr-3b/2026/09", sim.base_url), &token).await;
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.is_err());
        let served = sim.sim.served();
        assert!(served.last().unwrap().torn);
        sim.sim.set_faults(Faults::default());
        let a = get(&c, format!("{}{TP}/gstrs/gstr-3b/2026/09", sim.base_url), &token)
            .await
            .bytes()
            .await
            .unwrap();
        let b = get(&c, format!("{}{TP}/gstrs/gstr-3b/2026/09", sim.base_url), &token)
            .await
            .bytes()
            .await
            .unwrap();
        let data = |x: &[u8]| serde_json::from_slice::<Value>(x).unwrap()["data"].to_string();
        assert_eq!(data(&a), data(&b));
        sim.stop().await;
    }
}
