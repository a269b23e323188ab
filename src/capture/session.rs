//! Taxpayer sessions at rest: the token of each GSTIN in an owner-only file
//! (`<sessions_dir>/<GSTIN>.json`, mode 0600, written atomically), and its
//! expiry and needs-login state mirrored into the archive's `sessions` table
//! for `status`. The token never enters the archive database, a log line or
//! an error message.

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
