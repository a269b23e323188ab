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
//! - Session refresh issues a new token and leaves the old one valid until its
//!   own expiry; it succeeds for an expired token and fails (`AUTH4033`) for a
//!   revoked or logged-out one. A logged-out token answers `AUTH4033`.
//! - GSTR-2B above `gstr2b_page_size` documents answers, without
//!   `file_number`, `data: {"status_cd":"3","data":{"fc":N}}`; each page
//!   `?file_number=k` carries the header fields and `itcsumm` again, plus its
//!   slice of `docdata`.
//! - e-invoice jobs: POST answers `{"job_id","status":"queued"}`; GET on the
//!   same path with `?job_id=` answers `{"job_id","status":"completed",
//!   "signed_url"}`, and the file is served at `GET /_sim/files/{id}` with no
//!   auth (the list as it was when the job was submitted).
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
    /// Taxpayer token lifetime (`token_expiry`), renewed by each refresh.
    pub session_ttl: Duration,
    /// How long the API access of one OTP login lasts (`session_expiry`):
    /// the taxpayer grants it on the portal for at most 30 days. A refresh
    /// cannot extend it, no token outlives it, and a refresh after it is
    /// refused: then only a new login helps.
    pub api_access_ttl: Duration,
    /// Calls per real-time sliding minute per API key; None = unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// `Retry-After` on 429 answers.
    pub retry_after_secs: u64,
    pub faults: Faults,
    /// GSTR-2B documents per page; more than this and the first answer is `status_cd "3"`.
    pub gstr2b_page_size: usize,
}

impl SimConfig {
    /// Defaults: demo key and secret, 24 h platform token, 6 h session token,
    /// 30 days of API access per login, no rate limit, no faults, 40
    /// documents per 2B page.
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
    expiry: DateTime<Utc>,
    /// The end of the login's API access (`session_expiry`).
    access_until: DateTime<Utc>,
    /// Revoked by the test hook or logged out: never valid again, not refreshable.
    revoked: bool,
}

struct Job {
    file_id: String,
    bytes: Vec<u8>,
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
        self.businesses
            .entry(gstin.clone())
            .or_insert_with(|| Business::new(gstin, seed).with_page_size(page))
            .clone()
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

    /// Serves on an already-bound listener until `shutdown` resolves.
    ///
    /// Fails only when accepting connections fails.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = Router::new().fallback(handle).with_state(self);
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await
    }

    /// Binds 127.0.0.1:0 and serves in a background task until the handle is
    /// stopped or dropped. Fails when the port cannot be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<RunningSimulator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = Simulator::new(config);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = sim.clone();
        let handle = tokio::spawn(server.serve(listener, async move {
            let _ = rx.await;
        }));
        Ok(RunningSimulator {
            addr,
            base_url: format!("http://{addr}"),
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

    pub fn model(&self, gstin: &Gstin) -> Business {
        self.state().business(gstin)
    }
}

/// A simulator serving in the background. Dropping it shuts the server down.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
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
            (_, "/otp") | (_, "/otp/verify") => Some(otp(&mut s, &token, auth_path, &query, &body)),
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
    let log = |s: &mut SimState, status: u16, bytes: &[u8], tid: Option<String>, torn: bool| {
        s.served.push(Served {
            method: method.as_str().to_string(),
            path_and_query: path_and_query.clone(),
            status,
            body_sha256: hex::encode(Sha256::digest(bytes)),
            transaction_id: tid,
            torn,
        });
    };
    // Auth: who is asking, or the refusal to send.
    let gstin = match endpoint.auth {
        Auth::Platform => {
            if !platform_ok(&s, &token) {
                let (response, bytes, tid) = platform_error(&mut s, 403, "Invalid or expired token");
                log(&mut s, 403, &bytes, Some(tid), false);
                return (response, None);
            }
            match body_gstin(&body) {
                Some(g) => g,
                None => {
                    let (bytes, tid) = envelope(&mut s, business_error("RET11410", "Invalid GSTIN"));
                    log(&mut s, 200, &bytes, Some(tid), false);
                    return (json_response(StatusCode::OK, bytes), None);
                }
            }
        }
        Auth::Taxpayer => {
            let now = s.now;
            match s.sessions.get(&token) {
                None => {
                    let (response, bytes, tid) = platform_error(&mut s, 401, "Unauthorized");
                    log(&mut s, 401, &bytes, Some(tid), false);
                    return (response, None);
                }
                Some(session) if session.revoked || session.expiry <= now => {
                    let (bytes, tid) = envelope(&mut s, business_error("AUTH4033", "Invalid Session"));
                    log(&mut s, 200, &bytes, Some(tid), false);
                    return (json_response(StatusCode::OK, bytes), None);
                }
                Some(session) => session.gstin.clone(),
            }
        }
    };
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
            log(&mut s, code, &bytes, Some(tid), false);
            Err(response)
        }
        Fault::RateLimited => {
            let (response, bytes, tid) = platform_error(&mut s, 429, "Too Many Requests");
            log(&mut s, 429, &bytes, Some(tid), false);
            Err(response)
        }
        _ => {
            let business = s.business(&gstin);
            let today = india_date(s.now);
            let answer = if endpoint.quirk == Quirk::Download {
                job(
                    &mut s,
                    &business,
                    endpoint.name,
                    &method,
                    &params,
                    &query,
                    &headers,
                    today,
                )
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
                log(&mut s, 200, &half, Some(tid), true);
                let full = bytes.len();
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
            Fault::InvalidJson => {
                let cut = bytes[..bytes.len() * 6 / 10].to_vec();
                log(&mut s, 200, &cut, Some(tid), false);
                json_response(StatusCode::OK, cut)
            }
            Fault::Oversized => {
                let mut big = Vec::with_capacity(f.oversized_bytes + 64);
                big.extend_from_slice(b"{\"code\":200,\"data\":{\"status_cd\":\"1\",\"data\":{\"pad\":\"");
                big.resize(f.oversized_bytes.saturating_sub(5).max(big.len()), b'x');
                big.extend_from_slice(b"\"}}}");
                log(&mut s, 200, &big, Some(tid), false);
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
                log(&mut s, 200, &body, Some(tid), false);
                let mut response = Response::new(Body::from(body));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                response
            }
            _ => {
                log(&mut s, 200, &bytes, Some(tid), false);
                json_response(StatusCode::OK, bytes)
            }
        },
    };
    (response, delay)
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

/// A new token of the login whose API access ends at `access_until`.
fn new_session(s: &mut SimState, gstin: Gstin, access_until: DateTime<Utc>) -> Value {
    let token = format!("tpt_{}", s.hex_id(24));
    let expiry = (s.now + ttl(s.config.session_ttl)).min(access_until);
    s.sessions.insert(
        token.clone(),
        Session {
            gstin,
            expiry,
            access_until,
            revoked: false,
        },
    );
    json!({
        "access_token": token,
        "token_expiry": expiry.timestamp_millis(),
        "session_expiry": access_until.timestamp_millis(),
        "status_cd": "1"
    })
}

fn otp(s: &mut SimState, token: &str, which: &str, query: &[(String, String)], body: &[u8]) -> Response {
    if !platform_ok(s, token) {
        return platform_error(s, 403, "Invalid or expired token").0;
    }
    let Some(gstin) = body_gstin(body) else {
        return ok_envelope(s, business_error("RET11410", "Invalid GSTIN"));
    };
    if which == "/otp" {
        return ok_envelope(s, json!({"status_cd": "1"}));
    }
    let otp = query.iter().find(|(k, _)| k == "otp").map(|(_, v)| v.as_str());
    if otp != Some(TEST_OTP) {
        return ok_envelope(s, business_error("AUTH4033", "Invalid Session"));
    }
    let access_until = s.now + ttl(s.config.api_access_ttl);
    let data = new_session(s, gstin, access_until);
    ok_envelope(s, data)
}

fn session_call(s: &mut SimState, token: &str, which: &str) -> Response {
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
    if session.access_until <= s.now {
        // The login's API access has lapsed: a refresh cannot extend it.
        return ok_envelope(s, business_error("AUTH4033", "Invalid Session"));
    }
    let (gstin, access_until) = (session.gstin.clone(), session.access_until);
    let data = new_session(s, gstin, access_until);
    ok_envelope(s, data)
}

#[allow(clippy::too_many_arguments)]
fn job(
    s: &mut SimState,
    business: &Business,
    name: &str,
    method: &Method,
    params: &std::collections::BTreeMap<String, String>,
    query: &[(String, String)],
    headers: &HeaderMap,
    today: chrono::NaiveDate,
) -> Answer {
    let Some(month) = month_from_params(params) else {
        return Answer::error("RT-3BGV1005", "Return period is invalid");
    };
    if *method == Method::POST {
        return match business.einvoice_list(name.ends_with("purchases"), month, today) {
            Answer::Data(list) => {
                let job_id = s.uuid();
                let file_id = s.hex_id(16);
                let bytes = serde_json::to_vec(&list).unwrap_or_default();
                s.jobs.insert(job_id.clone(), Job { file_id, bytes });
                Answer::Data(json!({"job_id": job_id, "status": "queued"}))
            }
            other => other,
        };
    }
    let wanted = query
        .iter()
        .find(|(k, _)| k == "job_id")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    match s.jobs.get(wanted) {
        Some(job) => {
            let host = header(headers, "host").unwrap_or("127.0.0.1");
            Answer::Data(json!({"job_id": wanted, "status": "completed",
                "signed_url": format!("http://{host}/_sim/files/{}", job.file_id)}))
        }
        None => Answer::error("RET13509", "No job found for the provided job_id"),
    }
}

fn admin(s: &mut SimState, method: &Method, rest: &str, query: &[(String, String)]) -> Response {
    if let Some(id) = rest.strip_prefix("files/") {
        return match s.jobs.values().find(|j| j.file_id == id) {
            Some(job) => json_response(StatusCode::OK, job.bytes.clone()),
            None => platform_error(s, 404, "Not Found").0,
        };
    }
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
