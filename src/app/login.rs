//! Login: the portal's OTP flow for one GSTIN. The OTP is sent to the
//! taxpayer's phone, a person reads it, and verifying it gives a session
//! whose token is kept in an owner-only file and whose expiries (never the
//! token) go into the archive for `status`: the access token's end (about
//! 6 h) and the end of the portal's API access (at most 30 days), which
//! `status` shows as `access_until`. Both OTP calls are sent exactly once
//! (the client never retries them: a retry sends another OTP or re-submits a
//! single-use one); a failure, or a wrong or expired OTP, says to request a
//! new OTP with `gstvault login G --request-only`.

use chrono::{DateTime, Utc};

use crate::capture::client::Client;
use crate::capture::session::{session_state, Session, TokenStore};
use crate::config::{Config, GstinEntry};
use crate::domain::gstin::Gstin;
use crate::store::Store;

use super::{input, Result};

/// Asks the portal to send an OTP for `entry`.
///
/// Fails when the portal or the network refuses.
pub async fn request_otp(client: &Client, entry: &GstinEntry) -> Result<()> {
    Ok(client.request_otp(&entry.gstin, &entry.username).await?)
}

/// Verifies `otp` for `entry` and stores the session.
///
/// Fails when the OTP is not digits, the portal refuses it, or the session
/// cannot be stored.
pub async fn verify_otp(
    config: &Config,
    client: &Client,
    entry: &GstinEntry,
    otp: &str,
    now: DateTime<Utc>,
) -> Result<Session> {
    check_otp(otp)?;
    let session = client.verify_otp(&entry.gstin, &entry.username, otp).await?;
    save(config, &entry.gstin, &session, now)?;
    Ok(session)
}

/// Refuses an OTP that cannot be one, before anything is sent.
///
/// Fails unless `otp` is one or more ASCII digits.
pub fn check_otp(otp: &str) -> Result<()> {
    if otp.is_empty() || !otp.chars().all(|c| c.is_ascii_digit()) {
        return Err(input(format!("--otp {otp:?}: an OTP is digits only")));
    }
    Ok(())
}

/// Requests and verifies in one go, for a portal whose OTP is known (the
/// simulator's test OTP in the demo, the benchmark and the tests).
///
/// Fails as [`request_otp`] and [`verify_otp`] do.
pub async fn log_in(
    config: &Config,
    client: &Client,
    entry: &GstinEntry,
    otp: &str,
    now: DateTime<Utc>,
) -> Result<Session> {
    request_otp(client, entry).await?;
    verify_otp(config, client, entry, otp, now).await
}

/// Stores a fresh session: the token file and the archive's session state.
///
/// Fails when either cannot be written.
pub fn save(config: &Config, gstin: &Gstin, session: &Session, now: DateTime<Utc>) -> Result<()> {
    TokenStore::new(&config.sessions_dir).save(gstin, session)?;
    let mut store = Store::open(&config.archive_path)?;
    store.put_session_state(&session_state(gstin, Some(session), None, now))?;
    Ok(())
}
