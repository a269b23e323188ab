//! Status: per GSTIN the last capture, the session (until when the portal's
//! API access lasts, and whether and why a login is needed) and the last
//! bundle; per daemon job its last run and next fire time. Read-only, so it
//! runs beside a daemon.
//!
//! A GSTIN needs login when it never logged in, when a run or the refresh
//! job marked it so (with the reason), or when its API access has ended by
//! `now` (`session_expiry` passed: no refresh can extend it,
//! <https://developer.sandbox.co.in/docs/taxpayer-authentication-api-guide>).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::gstin::Gstin;
use crate::domain::schedule::JobKind;
use crate::domain::time::Timestamp;
use crate::store::{BundleRow, JobRunRow, Reader, SessionState, WriterLock};

use super::Result;

/// One configured GSTIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GstinStatus {
    pub gstin: Gstin,
    /// Receive time of the last answer the portal meant (ok or no data).
    pub last_capture: Option<Timestamp>,
    /// What the archive knows of its session (None: never logged in).
    pub session: Option<SessionState>,
    /// Whether `gstvault login` is needed (also when never logged in).
    pub needs_login: bool,
    /// Why, when it is: what a person does next.
    pub reason: Option<String>,
    pub last_bundle: Option<BundleRow>,
}

/// One daemon job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStatus {
    pub kind: JobKind,
    pub last_run: Option<JobRunRow>,
    /// None when the job is switched off in `[daemon]`.
    pub next_run: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub gstins: Vec<GstinStatus>,
    pub jobs: Vec<JobStatus>,
    /// Who writes the archive now: a daemon or `snapshot` (alive), nobody,
    /// or a stale lock a dead process left.
    pub writer: crate::store::LockState,
}

impl Status {
    /// Whether any GSTIN needs a login (`status` exits 1 then).
    pub fn needs_login(&self) -> bool {
        self.gstins.iter().any(|g| g.needs_login)
    }
}

/// Reads the status of every configured GSTIN and job at `now`.
///
/// Fails when the archive does not exist or cannot be read.
pub fn status(config: &Config, now: DateTime<Utc>) -> Result<Status> {
    let store = Reader::open(&config.archive_path)?;
    let last_answer: BTreeMap<Gstin, Timestamp> = store.last_answer_by_gstin()?.into_iter().collect();
    status_with(config, now, &store, &last_answer)
}

/// [`status`] through an open `store`, with each GSTIN's last answer
/// already read ([`Reader::last_answer_by_gstin`]; the web view keeps it
/// per archive head, the rest is read here).
pub fn status_with(
    config: &Config,
    now: DateTime<Utc>,
    store: &Reader,
    last_answer: &BTreeMap<Gstin, Timestamp>,
) -> Result<Status> {
    let mut sessions: BTreeMap<Gstin, SessionState> = store
        .session_states()?
        .into_iter()
        .map(|s| (s.gstin.clone(), s))
        .collect();
    let mut gstins = Vec::new();
    for entry in &config.gstins {
        let g = &entry.gstin;
        let session = sessions.remove(g);
        let ended = session
            .as_ref()
            .and_then(|s| s.session_expiry)
            .and_then(|t| t.to_datetime())
            .filter(|t| *t <= now);
        let reason = match &session {
            None => Some(format!("never logged in: run `gstvault login {g}`")),
            Some(s) if s.needs_login => Some(s.reason.clone().unwrap_or_else(|| format!("run `gstvault login {g}`"))),
            Some(_) => ended.map(|t| crate::capture::session::access_ended_reason(g, t)),
        };
        gstins.push(GstinStatus {
            gstin: entry.gstin.clone(),
            last_capture: last_answer.get(g).copied(),
            needs_login: reason.is_some(),
            reason,
            session,
            last_bundle: store.bundles_of(g)?.pop(),
        });
    }
    let mut runs: BTreeMap<JobKind, JobRunRow> = store.last_job_runs()?.into_iter().map(|r| (r.job, r)).collect();
    let jobs = JobKind::ALL
        .into_iter()
        .map(|kind| JobStatus {
            kind,
            last_run: runs.remove(&kind),
            next_run: config
                .daemon
                .schedule(kind)
                .and_then(|s| s.next_fires(now, 1).first().copied()),
        })
        .collect();
    Ok(Status {
        gstins,
        jobs,
        writer: WriterLock::state(&config.archive_path),
    })
}

/// What `config check --online` found: whether the API accepts the key and
/// secret, and each configured GSTIN's session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineCheck {
    pub base_url: String,
    /// `Err` with the reason when the platform refused the key and secret
    /// or could not be reached.
    pub api: std::result::Result<(), String>,
    pub sessions: Vec<(Gstin, SessionCheck)>,
}

impl OnlineCheck {
    /// Whether the API answered and every GSTIN has a usable session.
    pub fn ok(&self) -> bool {
        self.api.is_ok()
            && self
                .sessions
                .iter()
                .all(|(_, s)| !matches!(s, SessionCheck::NeedsLogin(_)))
    }
}

/// A GSTIN's stored session at the time of the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionCheck {
    /// The token works until `token_expiry` (refreshed before it lapses)
    /// and API access lasts until `session_expiry`.
    Valid {
        token_expiry: DateTime<Utc>,
        session_expiry: DateTime<Utc>,
    },
    /// The token lapsed but access lasts: the next capture refreshes it.
    Refreshable { session_expiry: DateTime<Utc> },
    /// A new `gstvault login` is needed, and why.
    NeedsLogin(String),
}

/// Reaches the API with the configured key and secret (one authentication,
/// nothing captured, no taxpayer call: a refresh would rotate the token)
/// and reads each GSTIN's stored session and the archive's needs-login mark.
///
/// Fails only when the client cannot be built.
pub async fn check_online(
    config: &Config,
    credentials: crate::config::Credentials,
    clock: crate::clock::SharedClock,
    now: DateTime<Utc>,
) -> Result<OnlineCheck> {
    let client = super::capture::client(config, credentials, clock)?;
    let api = client.authenticate().await.map_err(|e| e.to_string());
    let marked: BTreeMap<Gstin, SessionState> = Reader::open(&config.archive_path)
        .and_then(|r| r.session_states())
        .map(|states| states.into_iter().map(|s| (s.gstin.clone(), s)).collect())
        .unwrap_or_default();
    let tokens = crate::capture::session::TokenStore::new(&config.sessions_dir);
    let sessions = config
        .gstins
        .iter()
        .map(|entry| {
            let g = &entry.gstin;
            let login = format!("run `gstvault login {g}`");
            let check = match (tokens.load(g), marked.get(g).filter(|s| s.needs_login)) {
                (_, Some(state)) => SessionCheck::NeedsLogin(state.reason.clone().unwrap_or_else(|| login.clone())),
                (None, None) => SessionCheck::NeedsLogin(format!("no session: {login}")),
                (Some(s), None) if s.session_expiry <= now => SessionCheck::NeedsLogin(format!(
                    "API access ended {}: {login}",
                    crate::domain::time::when(s.session_expiry)
                )),
                (Some(s), None) if s.token_expiry <= now => SessionCheck::Refreshable {
                    session_expiry: s.session_expiry,
                },
                (Some(s), None) => SessionCheck::Valid {
                    token_expiry: s.token_expiry,
                    session_expiry: s.session_expiry,
                },
            };
            (g.clone(), check)
        })
        .collect();
    Ok(OnlineCheck {
        base_url: config.api.base_url.clone(),
        api,
        sessions,
    })
}
