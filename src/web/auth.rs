//! Logging in and out of the web view, and who is asking. A login checks the
//! account's Argon2id hash ([`super::Accounts`]), rate-limited per account and
//! per address (governor); it opens a session whose random token travels in
//! an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when served over TLS) and
//! whose CSRF token every state-changing form must carry. The login form has
//! its own CSRF token (a cookie and a hidden field that must agree).
//! Sessions live in memory: a restart logs everyone out. Each request loads
//! the account again, so a removed account or an expired grant takes effect
//! at once.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, FromRequestParts, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::Rng as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::{PageError, Viewed, WebState};
use crate::domain::access::Viewer;

const SESSION_COOKIE: &str = "gv_session";
const LOGIN_COOKIE: &str = "gv_login";

/// One logged-in session.
#[derive(Clone, Debug)]
struct Session {
    user: String,
    csrf: String,
    expires: DateTime<Utc>,
}

/// The open sessions, by the SHA-256 of their token (the token itself is
/// only ever in the browser's cookie).
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

/// Login attempts allowed: per account and per address.
pub struct Limiter {
    accounts: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<String>,
}

impl Limiter {
    pub fn new() -> Limiter {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).expect("a positive quota"));
        Limiter {
            accounts: RateLimiter::keyed(per_minute(5)),
            addresses: RateLimiter::keyed(per_minute(20)),
        }
    }

    fn allow(&self, account: &str, address: &str) -> bool {
        // Both are charged: guessing many accounts from one address is limited too.
        let account = self.accounts.check_key(&account.to_string()).is_ok();
        let address = self.addresses.check_key(&address.to_string()).is_ok();
        account && address
    }
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new()
    }
}

fn token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn set_cookie(state: &WebState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = cookie::Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(state.options.secure_cookies);
    if let Some(seconds) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(seconds));
    }
    HeaderValue::from_str(&c.build().to_string()).expect("cookie text is a header value")
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut()
        .insert(LOCATION, HeaderValue::from_str(to).expect("a path is a header value"));
    r
}

/// The logged-in viewer of a request, with the session's CSRF token. A
/// request without a valid session is sent to the login page.
pub struct Authed {
    pub viewer: Viewer,
    pub csrf: String,
}

impl Authed {
    /// The page (or its error) with who and what for the access log.
    pub(crate) fn respond(&self, result: Result<Response, PageError>, what: impl Into<String>) -> Response {
        let mut response = match result {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        response.extensions_mut().insert(Viewed {
            user: self.viewer.name.clone(),
            what: what.into(),
        });
        response
    }

    /// Today in IST, for grants.
    pub(crate) fn today(state: &WebState) -> chrono::NaiveDate {
        crate::domain::period::india_date(state.now())
    }
}

impl FromRequestParts<Arc<WebState>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<WebState>) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(redirect("/login"));
        };
        let key = digest(&token);
        let now = state.now();
        let session = {
            let mut sessions = state.sessions.0.lock().expect("sessions");
            match sessions.get_mut(&key) {
                Some(s) if s.expires > now => {
                    s.expires = now + Duration::minutes(state.options.session_minutes);
                    Some(s.clone())
                }
                Some(_) => {
                    sessions.remove(&key);
                    None
                }
                None => None,
            }
        };
        let Some(session) = session else {
            return Err(redirect("/login"));
        };
        let accounts = Arc::clone(&state.accounts);
        let user = session.user.clone();
        let found = state
            .blocking(move || accounts.viewer(&user).map_err(PageError::store))
            .await
            .map_err(IntoResponse::into_response)?;
        match found {
            Some((viewer, _)) => Ok(Authed {
                viewer,
                csrf: session.csrf,
            }),
            None => {
                // Removed since: the session ends.
                state.sessions.0.lock().expect("sessions").remove(&key);
                Err(redirect("/login"))
            }
        }
    }
}

/// GET /login: the form, with a fresh login CSRF token.
pub async fn login_page(State(state): State<Arc<WebState>>) -> Response {
    login_form(&state, None, StatusCode::OK)
}

fn login_form(state: &WebState, message: Option<&str>, status: StatusCode) -> Response {
    let csrf = token();
    let html = state.templates.render(
        "login.html",
        minijinja::context! { csrf => &csrf, message => message, organization => &state.config.organization },
    );
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(state, LOGIN_COOKIE, &csrf, Some(3600)));
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

/// POST /login.
pub async fn login(
    State(state): State<Arc<WebState>>,
    axum::extract::ConnectInfo(address): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let mark = |mut r: Response, user: &str, what: &str| {
        r.extensions_mut().insert(Viewed {
            user: user.to_string(),
            what: what.to_string(),
        });
        r
    };
    let expected = cookie(&headers, LOGIN_COOKIE);
    if form.csrf.is_empty() || expected.as_deref() != Some(form.csrf.as_str()) {
        let r = PageError::Forbidden("The login form is missing its token: reload the page and log in again.".into())
            .into_response();
        return mark(r, "-", "login refused: no CSRF token");
    }
    let name = form.name.trim().to_string();
    if !state
        .limiter
        .allow(&name, &super::client_address(&state, Some(address), &headers))
    {
        return mark(
            PageError::TooMany.into_response(),
            "-",
            &format!("login refused: too many attempts for {name}"),
        );
    }
    let accounts = Arc::clone(&state.accounts);
    let today = Authed::today(&state);
    let (lookup, password) = (name.clone(), form.password);
    let checked = state
        .blocking(move || -> Result<Option<Viewer>, PageError> {
            let found = accounts.viewer(&lookup).map_err(PageError::store)?;
            Ok(found.and_then(|(viewer, hash)| accounts.verify(&hash, &password).then_some(viewer)))
        })
        .await;
    let viewer = match checked {
        Ok(v) => v,
        Err(e) => return mark(e.into_response(), "-", "login failed: archive unreadable"),
    };
    let Some(viewer) = viewer.filter(|v| !v.expired(today)) else {
        let r = login_form(
            &state,
            Some("Name or password is wrong, or the account has expired."),
            StatusCode::UNAUTHORIZED,
        );
        return mark(r, "-", &format!("login refused for {name}"));
    };
    let session = token();
    let now = state.now();
    state.sessions.0.lock().expect("sessions").insert(
        digest(&session),
        Session {
            user: viewer.name.clone(),
            csrf: token(),
            expires: now + Duration::minutes(state.options.session_minutes),
        },
    );
    let mut r = redirect("/");
    let headers = r.headers_mut();
    headers.append(SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &session, None));
    headers.append(SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", Some(0)));
    mark(r, &viewer.name, "login")
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// POST /logout: ends the session (its CSRF token required).
pub async fn logout(
    State(state): State<Arc<WebState>>,
    auth: Authed,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if form.csrf.is_empty() || form.csrf != auth.csrf {
        return auth.respond(
            Err(PageError::Forbidden(
                "The form is missing its token: reload the page.".into(),
            )),
            "logout refused: no CSRF token",
        );
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.sessions.0.lock().expect("sessions").remove(&digest(&token));
    }
    let mut r = redirect("/login");
    r.headers_mut()
        .append(SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", Some(0)));
    auth.respond(Ok(r), "logout")
}
