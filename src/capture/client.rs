//! The Sandbox API client: the only module that speaks HTTP.
//!
//! It owns the platform token (from `/authenticate`, renewed before its 24 h
//! run out or when the platform answers 403), the OTP and session calls, a
//! per-minute rate limiter (governor) and bounded concurrency, and retries
//! (backon: exponential backoff with jitter, bounded; 429 waits at least its
//! `Retry-After`). A request that still fails after its retries comes back as a
//! [`Fetched`] describing the failure, so the caller archives it instead of
//! dropping it. Bodies are returned exactly as received, capped in size.
//! Secrets go only into request headers; no error or log line carries one.
//!
//! Two kinds of request are special. OTP generate and verify are sent
//! exactly once, never retried: a second generate sends the taxpayer another
//! SMS, and an OTP is single-use (ENDPOINTS.md section 9); their failures say
//! so and what to do. Files behind presigned object-storage URLs (e-invoice
//! lists, a large return's files) are fetched with none of the API's headers
//! and with the URL exactly as given, its query string never re-encoded
//! (a re-encoded `%2F` breaks the signature).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use crate::capture::session::Session;
use crate::clock::SharedClock;
use crate::config::{ApiSettings, Credentials};
use crate::domain::catalog::{Method, RequestSpec};
use crate::domain::envelope;
use crate::domain::gstin::Gstin;
use crate::domain::secret::Secret;

/// The platform token is renewed when it is this old (it lives 24 h).
const PLATFORM_TOKEN_RENEW_AFTER: chrono::Duration = chrono::Duration::hours(23);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    #[error("{call}: the API rejected the API key or secret (HTTP {status})")]
    BadCredentials { call: &'static str, status: u16 },
    #[error("{call}: HTTP {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Http {
        call: &'static str,
        status: u16,
        message: Option<String>,
    },
    #[error("{call}: {message}")]
    Transport { call: &'static str, message: String },
    #[error("{call}: GSTN error {code}: {message}")]
    Gstn {
        call: &'static str,
        code: String,
        message: String,
    },
    #[error("{call}: unexpected answer: {message}")]
    Unexpected { call: &'static str, message: String },
    /// An OTP call failed on the way (5xx, timeout, reset) and was not sent again.
    #[error("{step} failed ({cause}); not retried{why}: request a new OTP with `gstvault login {gstin} --request-only`",
        why = if *step == OTP_VERIFY { " (an OTP is single-use)" } else { "" })]
    OtpNotRetried {
        step: &'static str,
        gstin: Gstin,
        cause: String,
    },
    /// OTP verify refused the OTP: wrong, expired or used.
    #[error("the OTP was wrong or has expired ({code}{}); request a new one with `gstvault login {gstin} --request-only`",
        if message.is_empty() { String::new() } else { format!(" {message}") })]
    OtpRefused {
        gstin: Gstin,
        code: String,
        message: String,
    },
}

impl ClientError {
    /// Whether the portal could not be reached or was briefly unable to
    /// answer (no answer, HTTP 5xx or 429): nothing about the session
    /// follows from it, so a GSTIN is not declared needs-login for it.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::Http { status, .. } => *status == 429 || (500..600).contains(status),
            _ => false,
        }
    }
}

/// The OTP steps as errors name them.
const OTP_REQUEST: &str = "OTP request";
const OTP_VERIFY: &str = "OTP verification";

impl ClientError {
    /// The taxpayer session was refused: a refresh or a new login is needed.
    pub fn is_session_refused(&self) -> bool {
        matches!(self, ClientError::Gstn { code, .. } if crate::domain::catalog::SESSION_INVALID_CODES.contains(&code.as_str()))
            || matches!(self, ClientError::Http { status: 401, .. })
    }

    /// The portal's API access ended (AUTH4038, RET11402, ...): the reason
    /// template of [`crate::domain::catalog::ACCESS_ENDED_CODES`].
    pub fn access_ended(&self) -> Option<&'static str> {
        match self {
            ClientError::Gstn { code, .. } => match crate::domain::catalog::error_kind(code) {
                crate::domain::catalog::ErrorKind::AccessEnded(reason) => Some(reason),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One request's final result, success or not.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub requested_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    /// The exact bytes received; None when no complete body arrived.
    pub body: Option<Vec<u8>>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// Why the request failed, when it did without a body.
    pub detail: Option<String>,
}

/// Counters over the client's lifetime.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub bytes_received: AtomicU64,
}

struct PlatformToken {
    token: Secret,
    obtained_at: DateTime<Utc>,
}

/// Why one attempt did not produce a final answer.
struct AttemptFailure {
    retryable: bool,
    retry_after: Option<Duration>,
    /// What this attempt did get, kept in case it is the last one.
    fetched: Fetched,
}

pub struct Client {
    http: reqwest::Client,
    settings: ApiSettings,
    credentials: Credentials,
    clock: SharedClock,
    platform: Mutex<Option<PlatformToken>>,
    limiter: Option<DefaultDirectRateLimiter>,
    in_flight: Semaphore,
    pub stats: ClientStats,
}

impl Client {
    /// Builds a client. Fails only if the TLS backend cannot initialise.
    pub fn new(
        settings: ApiSettings,
        credentials: Credentials,
        clock: SharedClock,
    ) -> Result<Arc<Client>, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(10).min(settings.timeout))
            .user_agent(concat!("gstvault/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        let limiter = settings
            .rate_limit_per_minute
            .and_then(NonZeroU32::new)
            .map(|n| RateLimiter::direct(Quota::per_minute(n)));
        let in_flight = Semaphore::new(settings.concurrency);
        Ok(Arc::new(Client {
            http,
            settings,
            credentials,
            clock,
            platform: Mutex::new(None),
            limiter,
            in_flight,
            stats: ClientStats::default(),
        }))
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.settings
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.settings.base_url, path_and_query)
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.settings.retry_base)
            .with_max_delay(self.settings.retry_max)
            .with_max_times(self.settings.max_retries as usize)
            .with_jitter()
    }

    /// Sends one request with retries. `token` goes into `authorization`.
    async fn send(&self, spec: &RequestSpec, token: Option<&Secret>, extra: &[(&str, &str)]) -> Fetched {
        let url = self.url(&spec.path_and_query());
        self.send_with(|| self.api_request(&url, spec, token, extra), true)
            .await
    }

    /// The request to the API for `spec`, with the API's headers.
    fn api_request(
        &self,
        url: &str,
        spec: &RequestSpec,
        token: Option<&Secret>,
        extra: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut request = match spec.method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        };
        // x-api-version on every API request: "default: 1.0.0" on each
        // compliance page (e.g. https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/authentication/refresh_session).
        request = request
            .header("x-api-key", self.credentials.api_key.expose())
            .header("x-api-version", &self.settings.api_version);
        if let Some(token) = token {
            request = request.header("authorization", token.expose());
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some(body) = &spec.body {
            request = request.header("content-type", "application/json").body(body.clone());
        }
        request
    }

    /// Sends the request `build` makes, with retries when `retry` (else
    /// exactly once, whatever happens).
    async fn send_with(&self, build: impl Fn() -> reqwest::RequestBuilder, retry: bool) -> Fetched {
        let _permit = self.in_flight.acquire().await.expect("semaphore is never closed");
        let attempts = AtomicU32::new(0);
        let attempt = || async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(build()).await
        };
        let backoff = if retry {
            self.backoff()
        } else {
            self.backoff().with_max_times(0)
        };
        let result = attempt
            .retry(backoff)
            .when(|failure: &AttemptFailure| failure.retryable)
            .adjust(|failure: &AttemptFailure, delay| match (failure.retry_after, delay) {
                (Some(wait), Some(delay)) => Some(wait.max(delay)),
                (_, delay) => delay,
            })
            .notify(|_, _| {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("gstvault_retries_total").increment(1);
            })
            .await;
        let mut fetched = match result {
            Ok(fetched) => fetched,
            Err(failure) => failure.fetched,
        };
        fetched.attempts = attempts.load(Ordering::Relaxed);
        fetched
    }

    async fn attempt(&self, request: reqwest::RequestBuilder) -> Result<Fetched, AttemptFailure> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let requested_at = self.clock.now();
        let started = std::time::Instant::now();
        let failed =
            |detail: String, status: Option<u16>, body: Option<Vec<u8>>, retryable: bool, retry_after| AttemptFailure {
                retryable,
                retry_after,
                fetched: Fetched {
                    requested_at,
                    received_at: self.clock.now(),
                    http_status: status,
                    body,
                    attempts: 0,
                    detail: Some(detail),
                },
            };
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Err(failed(describe(&e), None, None, true, None)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > self.settings.max_body_bytes {
                        let detail = format!(
                            "body larger than the {} byte cap: cut off",
                            self.settings.max_body_bytes
                        );
                        return Err(failed(detail, Some(status), None, false, None));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(failed(
                        format!("torn body: {}", describe(&e)),
                        Some(status),
                        None,
                        true,
                        None,
                    ))
                }
            }
        }
        self.stats
            .bytes_received
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        metrics::histogram!("gstvault_fetch_duration_seconds").record(started.elapsed().as_secs_f64());
        let received_at = self.clock.now();
        let fetched = Fetched {
            requested_at,
            received_at,
            http_status: Some(status),
            body: Some(body),
            attempts: 0,
            detail: None,
        };
        if status == 429 || (500..600).contains(&status) {
            return Err(AttemptFailure {
                retryable: true,
                retry_after,
                fetched,
            });
        }
        if status == 200
            && serde_json::from_slice::<serde::de::IgnoredAny>(fetched.body.as_deref().unwrap_or_default()).is_err()
        {
            // A 200 whose body is not JSON is a glitch more often than an answer: try again.
            return Err(AttemptFailure {
                retryable: true,
                retry_after: None,
                fetched,
            });
        }
        Ok(fetched)
    }

    /// The platform token, authenticating when there is none or it is old.
    async fn platform_token(&self, force: bool) -> Result<Secret, ClientError> {
        let mut slot = self.platform.lock().await;
        let now = self.clock.now();
        if let Some(current) = slot.as_ref() {
            if !force && now - current.obtained_at < PLATFORM_TOKEN_RENEW_AFTER {
                return Ok(current.token.clone());
            }
        }
        let spec = RequestSpec {
            method: Method::Post,
            path: "/authenticate".into(),
            query: vec![],
            body: None,
        };
        let fetched = self
            .send(&spec, None, &[("x-api-secret", self.credentials.api_secret.expose())])
            .await;
        if matches!(fetched.http_status, Some(401 | 403)) {
            return Err(ClientError::BadCredentials {
                call: "authenticate",
                status: fetched.http_status.unwrap_or(403),
            });
        }
        let value = json_answer("authenticate", &fetched)?;
        let token = value
            .pointer("/data/access_token")
            .or_else(|| value.get("access_token"))
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Unexpected {
                call: "authenticate",
                message: "no access_token in the answer".into(),
            })?;
        let token = Secret::new(token);
        *slot = Some(PlatformToken {
            token: token.clone(),
            obtained_at: now,
        });
        Ok(token)
    }

    /// Authenticates now (checks the key and secret).
    pub async fn authenticate(&self) -> Result<(), ClientError> {
        self.platform_token(true).await.map(|_| ())
    }

    /// Sends a call that carries the platform token, renewing it once on 403.
    async fn platform_call(&self, call: &'static str, spec: &RequestSpec) -> Result<Fetched, ClientError> {
        self.platform_call_with(call, spec, &[], true).await
    }

    /// [`Client::platform_call`] with `extra` headers, retried only when `retry`.
    /// A 403 is the platform refusing the token before anything reaches the
    /// GST portal, so even an OTP call is sent again once with a new token.
    async fn platform_call_with(
        &self,
        call: &'static str,
        spec: &RequestSpec,
        extra: &[(&str, &str)],
        retry: bool,
    ) -> Result<Fetched, ClientError> {
        let url = self.url(&spec.path_and_query());
        let token = self.platform_token(false).await?;
        let fetched = self
            .send_with(|| self.api_request(&url, spec, Some(&token), extra), retry)
            .await;
        if fetched.http_status == Some(403) {
            let token = self.platform_token(true).await?;
            let again = self
                .send_with(|| self.api_request(&url, spec, Some(&token), extra), retry)
                .await;
            if again.http_status == Some(403) {
                return Err(ClientError::BadCredentials { call, status: 403 });
            }
            return Ok(again);
        }
        Ok(fetched)
    }

    /// Asks the portal to send an OTP to the taxpayer. Sent exactly once.
    ///
    /// Fails when the platform refuses the key, the call fails on the way
    /// ([`ClientError::OtpNotRetried`]) or the portal refuses it.
    pub async fn request_otp(&self, gstin: &Gstin, username: &str) -> Result<(), ClientError> {
        let spec = otp_spec("/gst/compliance/tax-payer/otp", vec![], gstin, username);
        let fetched = self.otp_call(OTP_REQUEST, gstin, &spec).await?;
        gstn_ok("otp", &fetched).map(|_| ())
    }

    /// Verifies the OTP and returns the new taxpayer session. Sent exactly once.
    ///
    /// Fails as [`Client::request_otp`] does, and with
    /// [`ClientError::OtpRefused`] for a wrong, expired or used OTP.
    pub async fn verify_otp(&self, gstin: &Gstin, username: &str, otp: &str) -> Result<Session, ClientError> {
        let spec = otp_spec(
            "/gst/compliance/tax-payer/otp/verify",
            vec![("otp".into(), otp.to_string())],
            gstin,
            username,
        );
        let fetched = self.otp_call(OTP_VERIFY, gstin, &spec).await?;
        session_from("otp verify", &fetched).map_err(|e| match e {
            ClientError::Gstn { code, message, .. }
                if crate::domain::catalog::OTP_REFUSED_CODES.contains(&code.as_str()) =>
            {
                ClientError::OtpRefused {
                    gstin: gstin.clone(),
                    code,
                    message,
                }
            }
            other => other,
        })
    }

    /// One OTP call, sent once with `x-source` (OTP generate and verify pages:
    /// "Source. Possible Values: primary (default) or secondary",
    /// <https://developer.sandbox.co.in/reference/taxpayer-verify-otp-api>).
    /// A failure on the way is not retried: a retry sends the taxpayer a
    /// second OTP or re-submits a single-use one.
    async fn otp_call(&self, step: &'static str, gstin: &Gstin, spec: &RequestSpec) -> Result<Fetched, ClientError> {
        let fetched = self
            .platform_call_with("otp", spec, &[("x-source", "primary")], false)
            .await?;
        let not_retried = |cause: String| ClientError::OtpNotRetried {
            step,
            gstin: gstin.clone(),
            cause,
        };
        match fetched.http_status {
            // No complete answer arrived: a connect error, a timeout, a torn body.
            _ if fetched.body.is_none() => Err(not_retried(
                fetched.detail.clone().unwrap_or_else(|| "no answer".into()),
            )),
            Some(status) if status == 429 || (500..600).contains(&status) => Err(not_retried(format!("HTTP {status}"))),
            Some(200)
                if serde_json::from_slice::<serde::de::IgnoredAny>(fetched.body.as_deref().unwrap_or_default())
                    .is_err() =>
            {
                Err(not_retried("the answer was not JSON".into()))
            }
            _ => Ok(fetched),
        }
    }

    /// Extends a taxpayer session without a new OTP.
    pub async fn refresh_session(&self, session: &Session) -> Result<Session, ClientError> {
        let spec = RequestSpec {
            method: Method::Post,
            path: "/gst/compliance/tax-payer/session/refresh".into(),
            query: vec![],
            body: None,
        };
        let fetched = self.send(&spec, Some(&session.access_token), &[]).await;
        session_from("session refresh", &fetched)
    }

    /// Ends a taxpayer session.
    pub async fn logout(&self, session: &Session) -> Result<(), ClientError> {
        let spec = RequestSpec {
            method: Method::Post,
            path: "/gst/compliance/tax-payer/logout".into(),
            query: vec![],
            body: None,
        };
        let fetched = self.send(&spec, Some(&session.access_token), &[]).await;
        gstn_ok("logout", &fetched).map(|_| ())
    }

    /// Fetches one data request with the taxpayer session's token.
    pub async fn fetch_taxpayer(&self, spec: &RequestSpec, session: &Session) -> Fetched {
        self.send(spec, Some(&session.access_token), &[]).await
    }

    /// Fetches one public request with the platform token.
    pub async fn fetch_public(&self, spec: &RequestSpec) -> Result<Fetched, ClientError> {
        self.platform_call("public", spec).await
    }

    /// Fetches a file behind a presigned object-storage URL (an e-invoice
    /// list, a large return's file), with retries, byte for byte.
    ///
    /// The URL is sent exactly as given: a presigned (S3) URL's signature
    /// covers its query string, so nothing may re-encode it ("re-encoding
    /// `%2F` breaks the signature", ENDPOINTS.md section 9 after
    /// <https://developer.sandbox.co.in/reference/list-purchase-e-invoices-job-status-api>),
    /// and a URL that the HTTP stack would normalise is refused, not sent
    /// changed. None of the API's headers go with it: the object store is
    /// another host, and the API key or a token must never reach it. Only
    /// `https` URLs are followed, and `http` on a loopback host (the simulator).
    pub async fn fetch_object(&self, url: &str) -> Fetched {
        let refused = |detail: String| {
            let now = self.clock.now();
            Fetched {
                requested_at: now,
                received_at: now,
                http_status: None,
                body: None,
                attempts: 1,
                detail: Some(detail),
            }
        };
        let parsed = match reqwest::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => return refused(format!("the download URL is not a URL ({e}): not fetched")),
        };
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if !(parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback)) {
            return refused(format!(
                "the download URL's scheme {:?} is not https: not fetched",
                parsed.scheme()
            ));
        }
        if parsed.as_str() != url {
            return refused(
                "the download URL would be sent re-encoded (its signature would break): not fetched".into(),
            );
        }
        self.send_with(|| self.http.get(parsed.clone()), true).await
    }
}

fn otp_spec(path: &str, query: Vec<(String, String)>, gstin: &Gstin, username: &str) -> RequestSpec {
    let body = serde_json::json!({ "username": username, "gstin": gstin.as_str() }).to_string();
    RequestSpec {
        method: Method::Post,
        path: path.into(),
        query,
        body: Some(body),
    }
}

/// Parses a JSON answer of an auth call, mapping failures to errors.
fn json_answer(call: &'static str, fetched: &Fetched) -> Result<Value, ClientError> {
    let Some(status) = fetched.http_status else {
        return Err(ClientError::Transport {
            call,
            message: fetched.detail.clone().unwrap_or_else(|| "no answer".into()),
        });
    };
    let body = fetched.body.as_deref().unwrap_or_default();
    if !(200..300).contains(&status) {
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(String::from));
        return Err(ClientError::Http { call, status, message });
    }
    serde_json::from_slice(body).map_err(|_| ClientError::Unexpected {
        call,
        message: "the body is not JSON".into(),
    })
}

/// Checks a GSTN-enveloped auth answer for `status_cd "1"`.
fn gstn_ok(call: &'static str, fetched: &Fetched) -> Result<Value, ClientError> {
    let value = json_answer(call, fetched)?;
    let reading = envelope::parse(
        fetched.http_status.unwrap_or(200),
        fetched.body.as_deref().unwrap_or_default(),
    );
    if let Some(code) = reading.error_cd {
        return Err(ClientError::Gstn {
            call,
            code,
            message: reading.error_message.unwrap_or_default(),
        });
    }
    match value.pointer("/data/status_cd").and_then(Value::as_str) {
        Some("1") => Ok(value),
        other => Err(ClientError::Unexpected {
            call,
            message: format!("status_cd {other:?}"),
        }),
    }
}

fn session_from(call: &'static str, fetched: &Fetched) -> Result<Session, ClientError> {
    let value = gstn_ok(call, fetched)?;
    let data = value.get("data").cloned().unwrap_or_default();
    let token = data.get("access_token").and_then(Value::as_str);
    let ms = |key: &str| {
        data.get(key)
            .and_then(Value::as_i64)
            .and_then(DateTime::from_timestamp_millis)
    };
    match (token, ms("token_expiry"), ms("session_expiry")) {
        (Some(token), Some(token_expiry), Some(session_expiry)) => Ok(Session {
            access_token: Secret::new(token),
            token_expiry,
            session_expiry,
        }),
        _ => Err(ClientError::Unexpected {
            call,
            message: "missing access_token or expiry".into(),
        }),
    }
}

/// `Retry-After` as seconds (HTTP-dates are treated as "a minute").
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds.min(3600))),
        Err(_) if !value.is_empty() => Some(Duration::from_secs(60)),
        Err(_) => None,
    }
}

/// A transport error in one line, without the URL's query (it may be long) or any header.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "body read failed"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_parses_seconds() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after(""), None);
    }
}
