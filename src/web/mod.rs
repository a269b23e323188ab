//! The read-only web view for compliance teams and auditors (`gstvault
//! serve`, and the daemon when `[web] listen` is set): server-rendered HTML
//! from the templates in `templates/web/` (minijinja, autoescaped), no
//! JavaScript. It reads the archive through [`Reader`]s only, so it runs
//! beside capture; the one thing it writes is the access log, through its own
//! narrow handle ([`AccessSink`]).
//!
//! Every page needs a login ([`auth`]); what a [`Viewer`] may see is checked
//! on every request against its role and grants, and anything out of scope
//! answers the same 404 as anything unknown. Path and query parameters are
//! parsed into domain types (GSTIN, period, instant, snapshot ID) before use;
//! bad input is a 400 page naming it. Every response carries a strict
//! Content-Security-Policy, `X-Content-Type-Options: nosniff` and frame
//! denial, and `Cache-Control: no-store`. Every request is written to the
//! access log: who, what, when, from where, and the answer's status.

pub mod archive;
pub mod auth;
mod charts;
pub mod derived;
mod pages;
mod templates;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::access::Viewer;
use crate::domain::time::Timestamp;
use crate::store::{Reader, StoreError};

/// Where accounts come from: the archive's `users` (or, in tests, anything).
pub trait Accounts: Send + Sync {
    /// A live account and its password hash.
    fn viewer(&self, name: &str) -> Result<Option<(Viewer, String)>, StoreError>;
    /// Whether `password` matches `hash` (constant-time in the hash crate).
    fn verify(&self, hash: &str, password: &str) -> bool;
}

/// One line of the access log: who, what, when, from where, the status.
pub type AccessEntry = crate::store::access::AccessRow;

/// Where the access log goes.
pub trait AccessSink: Send + Sync {
    fn append(&self, entry: &AccessEntry) -> Result<(), StoreError>;
    /// The newest `limit` entries, newest first (the admins' page).
    fn recent(&self, limit: usize) -> Result<Vec<AccessEntry>, StoreError>;
}

/// How the web view is served.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// Cookies carry `Secure` (served over TLS, here or by a reverse proxy).
    pub secure_cookies: bool,
    /// How long a login lasts without activity.
    pub session_minutes: i64,
    /// Lines of the changes timeline per page.
    pub changes_per_page: usize,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            secure_cookies: false,
            session_minutes: 8 * 60,
            changes_per_page: 200,
        }
    }
}

/// Pages reading the archive at once, and read-only handles kept: the
/// rest wait their turn, so memory and threads stay bounded however many
/// people ask at once.
pub const READERS: usize = 2;

/// The page cache of each of the web view's archive handles, KiB.
pub const READER_CACHE_KIB: u32 = 512;

/// What every handler shares.
pub struct WebState {
    pub(crate) config: Arc<Config>,
    archive: PathBuf,
    readers: Mutex<Vec<Reader>>,
    permits: tokio::sync::Semaphore,
    /// Results kept per archive head ([`derived`]).
    pub(crate) derived: derived::Derived,
    pub(crate) accounts: Arc<dyn Accounts>,
    access: Arc<dyn AccessSink>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sessions: auth::Sessions,
    pub(crate) limiter: auth::Limiter,
    pub(crate) templates: templates::Templates,
    pub(crate) options: WebOptions,
}

impl WebState {
    pub fn new(
        config: Arc<Config>,
        accounts: Arc<dyn Accounts>,
        access: Arc<dyn AccessSink>,
        clock: Arc<dyn Clock>,
        options: WebOptions,
    ) -> WebState {
        WebState {
            archive: config.archive_path.clone(),
            readers: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(READERS),
            derived: derived::Derived::default(),
            accounts,
            access,
            clock,
            sessions: auth::Sessions::default(),
            limiter: auth::Limiter::new(),
            // Answers from a loopback API are a simulator's: every page says so.
            templates: templates::Templates::with_banner(
                crate::domain::origin::Origin::of_base_url(&config.api.base_url).is_ok_and(|o| o.is_simulated()),
            ),
            options,
            config,
        }
    }

    pub(crate) async fn access_rows(&self, limit: usize) -> Result<Vec<AccessEntry>, PageError> {
        let access = Arc::clone(&self.access);
        self.blocking(move || access.recent(limit).map_err(PageError::store))
            .await
    }

    /// Runs `f` off the async threads once one of the [`READERS`] turns is
    /// free: every blocking step of a request (account lookups, the access
    /// log, files) takes a turn, so however many people ask at once, at most
    /// that many threads work and allocate.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        let _turn = self
            .permits
            .acquire()
            .await
            .map_err(|e| PageError::Internal(format!("the reader pool is closed: {e}")))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| PageError::Internal(format!("a page task failed: {e}")))?
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The stamp of what `reader` sees now: the archive's head and today's
    /// IST date ([`derived::Stamp`]).
    pub(crate) fn stamp(&self, reader: &Reader) -> Result<derived::Stamp, PageError> {
        Ok(derived::Stamp {
            head: reader.log_size().map_err(PageError::store)?,
            day: crate::domain::period::india_date(self.now()),
        })
    }

    /// Runs `f` with a read-only handle to the archive, off the async
    /// threads, once one of the [`READERS`] turns is free; handles are kept
    /// for the next request.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Reader) -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        let state = Arc::clone(self);
        let _turn = self
            .permits
            .acquire()
            .await
            .map_err(|e| PageError::Internal(format!("the reader pool is closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let reader = match state.readers.lock().expect("reader pool").pop() {
                Some(r) => r,
                None => {
                    let reader = Reader::open(&state.archive).map_err(PageError::store)?;
                    reader.limit_cache(READER_CACHE_KIB).map_err(PageError::store)?;
                    reader
                }
            };
            let result = f(&reader);
            state.readers.lock().expect("reader pool").push(reader);
            result
        })
        .await
        .map_err(|e| PageError::Internal(format!("a page task failed: {e}")))?
    }
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// Unknown, or out of the viewer's scope: the same answer for both.
    NotFound,
    /// Bad input, named.
    BadRequest(String),
    /// A state-changing request without its CSRF token, or a page for admins.
    Forbidden(String),
    /// Too many login attempts.
    TooMany,
    /// The archive could not be read (or is damaged: never served).
    Internal(String),
}

impl PageError {
    pub(crate) fn store(e: StoreError) -> PageError {
        PageError::Internal(e.to_string())
    }
}

/// The `what` a handler reports for the access log, put on its response.
#[derive(Clone, Debug)]
pub(crate) struct Viewed {
    pub user: String,
    pub what: String,
}

/// The router of every page.
pub fn router(state: Arc<WebState>) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/static/style.css", get(pages::stylesheet))
        .route("/gstin/{gstin}", get(pages::gstin))
        .route("/gstin/{gstin}/changes", get(pages::changes))
        .route("/gstin/{gstin}/balances", get(pages::balances))
        .route("/gstin/{gstin}/itc", get(pages::itc))
        .route("/search", get(pages::search))
        .route("/gstin/{gstin}/return/{endpoint}/{period}", get(pages::return_page))
        .route("/snapshot/{seq}", get(pages::snapshot))
        .route("/snapshot/{seq}/raw", get(pages::raw))
        .route("/bundles", get(pages::bundles))
        .route("/bundles/{bundle_id}", get(pages::bundle_download))
        .route("/access", get(pages::access_log))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), log_access))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Binds `listen` and serves the web view of `config`'s archive (over TLS
/// when `[web]` names a certificate and key) until `shutdown` resolves;
/// returns the bound address and the serving task. Fails when the address
/// cannot be bound or the TLS files cannot be read, naming which.
pub async fn start(
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    use anyhow::Context as _;
    let access = crate::store::access::AccessLog::open(&config.archive_path).with_context(|| {
        format!(
            "web view: cannot open the access log in {}",
            config.archive_path.display()
        )
    })?;
    let options = WebOptions {
        secure_cookies: config.web.over_tls(),
        session_minutes: i64::from(config.web.session_minutes),
        ..WebOptions::default()
    };
    let accounts = Arc::new(archive::ArchiveAccounts::new(&config.archive_path));
    let tls = config.web.tls.clone();
    let state = Arc::new(WebState::new(config, accounts, Arc::new(access), clock, options));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("web.listen {listen}: cannot bind"))?;
    let bound = listener.local_addr()?;
    // Ended with the server: the handle aborts it when dropped.
    let warmer = AbortOnDrop(tokio::spawn(derived::warmer(Arc::clone(&state), WARM_EVERY)));
    let task = match tls {
        None => tokio::spawn(async move {
            let served = serve(state, listener, shutdown).await;
            drop(warmer);
            served
        }),
        Some((cert, key)) => {
            // ring, the provider reqwest already uses; a second install is refused harmlessly.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| {
                    format!(
                        "web.tls_cert {} / web.tls_key {}: cannot read",
                        cert.display(),
                        key.display()
                    )
                })?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            let listener = listener.into_std()?;
            tokio::spawn(async move {
                let served = axum_server::from_tcp_rustls(listener, tls)
                    .handle(handle)
                    .serve(router(state).into_make_service_with_connect_info::<SocketAddr>())
                    .await;
                drop(warmer);
                served
            })
        }
    };
    Ok((bound, task))
}

/// How often the warmer looks whether the archive's head has moved
/// ([`derived::warmer`]).
const WARM_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// A task aborted when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    state: Arc<WebState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The headers every answer carries.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Who asked: the peer's address, or, behind a TLS proxy (`[web]
/// behind_tls_proxy`), the address the proxy appended last to
/// `X-Forwarded-For`. Only that last entry is the proxy's word; anything
/// before it came from the browser and is never believed. Without the
/// setting the header is ignored, whoever sends it.
pub(crate) fn client_address(state: &WebState, peer: Option<SocketAddr>, headers: &header::HeaderMap) -> String {
    let peer = peer.map_or_else(|| "-".to_string(), |p| p.ip().to_string());
    if !state.config.web.behind_tls_proxy {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|last| last.trim().parse::<std::net::IpAddr>().ok())
        .map_or(peer, |ip| ip.to_string())
}

/// Writes every request to the access log. The handler says who and what
/// (a [`Viewed`] on its response); a failed log write is reported on stderr
/// and does not hide the page (the archive being busy is no reason to
/// refuse a reader), but is never silent.
async fn log_access(State(state): State<Arc<WebState>>, request: Request, next: Next) -> Response {
    let address = client_address(
        &state,
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0),
        request.headers(),
    );
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if path == "/static/style.css" {
        return response;
    }
    let viewed = response.extensions().get::<Viewed>().cloned();
    let entry = AccessEntry {
        at: Timestamp::of(state.now()),
        user: viewed.as_ref().map_or_else(|| "-".into(), |v| v.user.clone()),
        address,
        method,
        path,
        status: response.status().as_u16(),
        what: viewed.map(|v| v.what).unwrap_or_default(),
    };
    let access = Arc::clone(&state.access);
    if let Err(e) = state
        .blocking(move || access.append(&entry).map_err(PageError::store))
        .await
    {
        tracing::error!("access log: {e:?}");
    }
    response
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            PageError::NotFound => (StatusCode::NOT_FOUND, "Not found.".to_string()),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            PageError::TooMany => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many login attempts: wait a minute and try again.".to_string(),
            ),
            PageError::Internal(m) => {
                tracing::error!("web view: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The archive could not be read; the operator has been told in the log.".to_string(),
                )
            }
        };
        let html = templates::error_page(status.as_u16(), &message);
        (status, axum::response::Html(html)).into_response()
    }
}
