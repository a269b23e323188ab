//! Taxpayer sessions at rest: the token of each GSTIN in an owner-only file
//! (`<sessions_dir>/<GSTIN>.json`, mode 0600, written atomically), and its
//! expiries and needs-login state mirrored into the archive's `sessions`
//! table for `status`; and the portal's session rules, in one place for the
//! capture run and the daemon's refresh job. The token never enters the
//! archive database, a log line or an error message.
//!
//! The rules (<https://developer.sandbox.co.in/docs/taxpayer-authentication-api-guide>,
//! <https://developer.sandbox.co.in/docs/session-expiry>): OTP verify gives
//! an access token of about 6 h (`token_expiry`) inside a longer session
//! (`session_expiry`: the end of the portal's API access, at most 30 days,
//! set by the taxpayer on the GST portal). A refresh gives a new token "with
//! valid access and up to session expiry time": it never extends
//! `session_expiry`, and after it only a new OTP login helps.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::gstin::Gstin;
use crate::domain::secret::Secret;
use crate::domain::time::Timestamp;
use crate::files::write_owner_only_atomic;
use crate::store::SessionState;

/// A live taxpayer session.
#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: Secret,
    pub token_expiry: DateTime<Utc>,
    pub session_expiry: DateTime<Utc>,
}

impl Session {
    /// The earlier of the two expiries: when the token stops working.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.token_expiry.min(self.session_expiry)
    }

    /// Whether the portal's API access has ended (`session_expiry` passed):
    /// no refresh can help, only a new OTP login.
    pub fn access_ended(&self, now: DateTime<Utc>) -> bool {
        self.session_expiry <= now
    }

    /// Whether to refresh before the next request: the token has lapsed, or
    /// ends within `margin` while a refresh can still give more time (the
    /// token ends before the session does). Refresh before expiry, not after
    /// a refusal (<https://developer.sandbox.co.in/docs/refresh-taxpayer-access>:
    /// "use Refresh Taxpayer API before the end of 6 hours").
    pub fn refresh_due(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        !self.access_ended(now)
            && (self.token_expiry <= now
                || (self.token_expiry - now <= margin && self.token_expiry < self.session_expiry))
    }
}

/// Why a GSTIN whose API access ended needs a login, naming when it ended (IST).
pub fn access_ended_reason(gstin: &Gstin, session_expiry: DateTime<Utc>) -> String {
    format!(
        "API access ended at {} (the session's end set on the GST portal, at most 30 days): \
         log in again with `gstvault login {gstin}`",
        crate::domain::time::when(session_expiry)
    )
}

/// A reason template of [`crate::domain::catalog::ACCESS_ENDED_CODES`] for `gstin`.
pub fn access_code_reason(gstin: &Gstin, template: &str) -> String {
    template.replace("{gstin}", gstin.as_str())
}

/// Why a GSTIN needs a login after its session refresh failed.
pub fn refresh_failed_reason(gstin: &Gstin, error: &crate::capture::client::ClientError) -> String {
    match error.access_ended() {
        Some(template) => access_code_reason(gstin, template),
        None => format!("session refresh failed ({error}): run `gstvault login {gstin}`"),
    }
}

/// What the archive records of a GSTIN's session at `now`: the expiries of
/// `session` (never its token), and why a new login is needed, if it is.
pub fn session_state(
    gstin: &Gstin,
    session: Option<&Session>,
    needs_login: Option<String>,
    now: DateTime<Utc>,
) -> SessionState {
    SessionState {
        gstin: gstin.clone(),
        token_expiry: session.map(|s| Timestamp::of(s.token_expiry)),
        session_expiry: session.map(|s| Timestamp::of(s.session_expiry)),
        needs_login: needs_login.is_some(),
        reason: needs_login,
        updated_at: Timestamp::of(now),
    }
}

#[derive(Serialize, Deserialize)]
struct SessionFile {
    access_token: String,
    token_expiry_ms: i64,
    session_expiry_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session file {path}: {message}")]
    File { path: String, message: String },
}

/// The directory of session files.
#[derive(Clone, Debug)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(dir: &Path) -> TokenStore {
        TokenStore { dir: dir.to_path_buf() }
    }

    fn path(&self, gstin: &Gstin) -> PathBuf {
        self.dir.join(format!("{gstin}.json"))
    }

    /// The stored session of `gstin`, if any. A damaged file reads as none.
    pub fn load(&self, gstin: &Gstin) -> Option<Session> {
        let text = std::fs::read_to_string(self.path(gstin)).ok()?;
        let file: SessionFile = serde_json::from_str(&text).ok()?;
        Some(Session {
            access_token: Secret::new(file.access_token),
            token_expiry: DateTime::from_timestamp_millis(file.token_expiry_ms)?,
            session_expiry: DateTime::from_timestamp_millis(file.session_expiry_ms)?,
        })
    }

    /// Stores `session` for `gstin` (owner-only, atomic).
    ///
    /// Fails when the directory or file cannot be written.
    pub fn save(&self, gstin: &Gstin, session: &Session) -> Result<(), SessionError> {
        let err = |message: String| SessionError::File {
            path: self.path(gstin).display().to_string(),
            message,
        };
        create_private_dir(&self.dir).map_err(|e| err(e.to_string()))?;
        let file = SessionFile {
            access_token: session.access_token.expose().to_string(),
            token_expiry_ms: session.token_expiry.timestamp_millis(),
            session_expiry_ms: session.session_expiry.timestamp_millis(),
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| err(e.to_string()))?;
        write_owner_only_atomic(&self.path(gstin), &bytes).map_err(|e| err(e.to_string()))
    }

    /// Forgets the session of `gstin` (after logout or revocation).
    pub fn remove(&self, gstin: &Gstin) {
        let _ = std::fs::remove_file(self.path(gstin));
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}
