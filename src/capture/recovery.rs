//! A GSTIN's taxpayer session during a run: loaded from its token file,
//! refreshed ahead of the access token's end (before every request, within
//! `[api] refresh_before_expiry_mins`, so no request goes out with a token
//! about to lapse), and recovered once when the portal refuses it anyway
//! (AUTH4033 or HTTP 401), shared by every request in flight of that GSTIN.
//! When the portal's API access has ended (`session_expiry` passed, AUTH4038,
//! or API access switched off: RET11402, RET2B1010) no refresh can help: the
//! GSTIN needs a new `gstvault login`, with a reason a person can act on, and
//! nothing more is sent for it. The rules are in [`crate::capture::session`].

use tokio::sync::Mutex;

use super::{blocking, CaptureError, Context};
use crate::capture::client::Fetched;
use crate::capture::session::{access_code_reason, access_ended_reason, refresh_failed_reason, session_state, Session};
use crate::domain::catalog::{Auth, RequestSpec};
use crate::domain::envelope;
use crate::domain::gstin::Gstin;

/// Refreshes one request may trigger before its GSTIN is declared needs-login.
pub(super) const MAX_SESSION_RECOVERIES: usize = 3;

/// The session of one GSTIN during a run.
pub(super) struct SessionSlot {
    /// The session (kept when the GSTIN needs login, for its expiries).
    pub(super) session: Option<Session>,
    /// Bumped on every refresh, so concurrent failures refresh once.
    pub(super) generation: u64,
    pub(super) needs_login: Option<String>,
    /// Whether to refresh ahead of the token's end; off once a refresh gave
    /// no later `token_expiry` or a token due again at once.
    refresh_ahead: bool,
}

/// How the portal refused a request, if it did.
enum Refusal {
    /// The access token was refused: a refresh may help.
    Session,
    /// API access ended: the reason template, `{gstin}` for the GSTIN.
    AccessEnded(&'static str),
}

/// Loads the stored session and refreshes it when it is about to lapse.
pub(super) async fn open_session(ctx: &Context, gstin: &Gstin) -> SessionSlot {
    let Some(session) = ctx.tokens.load(gstin) else {
        return SessionSlot {
            session: None,
            generation: 0,
            needs_login: Some(format!("no session: run `gstvault login {gstin}`")),
            refresh_ahead: false,
        };
    };
    let mut slot = SessionSlot {
        session: Some(session),
        generation: 0,
        needs_login: None,
        refresh_ahead: true,
    };
    keep_fresh(ctx, &mut slot, gstin).await;
    slot
}

/// Before a request: when API access has ended the GSTIN needs login (no
/// request is sent); when the token lapses within the margin, refresh first.
async fn keep_fresh(ctx: &Context, slot: &mut SessionSlot, gstin: &Gstin) {
    let Some(session) = slot.session.clone() else {
        return;
    };
    if slot.needs_login.is_some() {
        return;
    }
    let now = ctx.clock.now();
    if session.access_ended(now) {
        slot.needs_login = Some(access_ended_reason(gstin, session.session_expiry));
        return;
    }
    if !(slot.refresh_ahead && session.refresh_due(now, ctx.refresh_margin)) {
        return;
    }
    match refresh(ctx, gstin, &session).await {
        Ok(fresh) => {
            // A refresh that gained nothing, or whose token is due again at
            // once (a clock that disagrees with the portal's, a short
            // token), is not repeated before every request: from here a
            // refusal leads to the refresh (`recover`).
            if fresh.token_expiry <= session.token_expiry || fresh.refresh_due(now, ctx.refresh_margin) {
                slot.refresh_ahead = false;
            }
            slot.session = Some(fresh);
            slot.generation += 1;
        }
        Err(failed) if failed.transient && session.token_expiry > now => {
            // The portal is unreachable, not the session refused: carry on
            // with the token while it lasts; the requests say what failed.
            tracing::warn!(gstin = %gstin, reason = %failed.reason, "session refresh failed; the current token is used");
            slot.refresh_ahead = false;
        }
        Err(failed) => slot.needs_login = Some(failed.reason),
    }
}

/// A refresh that did not give a session.
pub(super) struct RefreshFailed {
    /// Why, naming what to do (a new `gstvault login`).
    pub(super) reason: String,
    /// The portal could not be reached or briefly could not answer
    /// ([`crate::capture::client::ClientError::is_transient`]): the session
    /// may well be valid, so the GSTIN does not need a login for it.
    pub(super) transient: bool,
}

pub(super) async fn refresh(ctx: &Context, gstin: &Gstin, session: &Session) -> Result<Session, RefreshFailed> {
    match ctx.client.refresh_session(session).await {
        Ok(fresh) => {
            if let Err(e) = ctx.tokens.save(gstin, &fresh) {
                tracing::error!(gstin = %gstin, error = %e, "could not store the refreshed session");
            }
            let state = session_state(gstin, Some(&fresh), None, ctx.clock.now());
            let _ = blocking(&ctx.store, move |s| s.put_session_state(&state)).await;
            tracing::info!(gstin = %gstin, expires = %fresh.expires_at(), "session refreshed");
            Ok(fresh)
        }
        Err(e) => Err(RefreshFailed {
            reason: refresh_failed_reason(gstin, &e),
            transient: e.is_transient(),
        }),
    }
}

pub(super) async fn mark_needs_login(
    ctx: &Context,
    gstin: &Gstin,
    reason: &str,
    session: Option<&Session>,
) -> Result<(), CaptureError> {
    let state = session_state(gstin, session, Some(reason.to_string()), ctx.clock.now());
    blocking(&ctx.store, move |s| s.put_session_state(&state)).await
}

/// Marks the slot's GSTIN needs-login for `reason` (once: the first reason stays).
async fn give_up(ctx: &Context, slot: &Mutex<SessionSlot>, gstin: &Gstin, reason: String) {
    let mut guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return;
    }
    guard.needs_login = Some(reason.clone());
    let session = guard.session.clone();
    drop(guard);
    let _ = mark_needs_login(ctx, gstin, &reason, session.as_ref()).await;
}

/// The session to send the next request with, refreshed first when due;
/// None when the GSTIN needs login.
async fn usable(ctx: &Context, slot: &Mutex<SessionSlot>, gstin: &Gstin) -> Option<(Session, u64)> {
    let mut guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return None;
    }
    keep_fresh(ctx, &mut guard, gstin).await;
    if let Some(reason) = guard.needs_login.clone() {
        let session = guard.session.clone();
        drop(guard);
        let _ = mark_needs_login(ctx, gstin, &reason, session.as_ref()).await;
        return None;
    }
    guard.session.clone().map(|s| (s, guard.generation))
}

/// After a refusal seen with session generation `seen`: refresh once (unless
/// another request already did). Returns the session to retry with.
async fn recover(ctx: &Context, slot: &Mutex<SessionSlot>, gstin: &Gstin, seen: u64) -> Option<Session> {
    let mut guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return None;
    }
    if guard.generation > seen {
        return guard.session.clone();
    }
    let session = guard.session.clone()?;
    if session.access_ended(ctx.clock.now()) {
        drop(guard);
        give_up(ctx, slot, gstin, access_ended_reason(gstin, session.session_expiry)).await;
        return None;
    }
    match refresh(ctx, gstin, &session).await {
        Ok(fresh) => {
            guard.session = Some(fresh.clone());
            guard.generation += 1;
            Some(fresh)
        }
        Err(failed) => {
            drop(guard);
            give_up(ctx, slot, gstin, failed.reason).await;
            None
        }
    }
}

fn refusal(fetched: &Fetched) -> Option<Refusal> {
    if fetched.http_status == Some(401) {
        return Some(Refusal::Session);
    }
    match (&fetched.body, fetched.http_status) {
        // A body that does not even contain a session code cannot carry one:
        // most answers skip the parse (the writer parses them).
        (Some(body), Some(status)) if envelope::may_be_session_invalid(body) => {
            let reading = envelope::parse(status, body);
            if let Some(reason) = reading.access_ended() {
                Some(Refusal::AccessEnded(reason))
            } else if reading.session_invalid() {
                Some(Refusal::Session)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Fetches with the GSTIN's session, refreshing ahead of its end and
/// recovering once from a refused session. None when the GSTIN needs login
/// (nothing to archive: a refusal says nothing about the GSTIN's data).
pub(super) async fn fetch_with_session(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    spec: &RequestSpec,
    auth: Auth,
) -> Option<Fetched> {
    if auth == Auth::Platform {
        return Some(match ctx.client.fetch_public(spec).await {
            Ok(f) => f,
            Err(e) => {
                let now = ctx.clock.now();
                Fetched {
                    requested_at: now,
                    received_at: now,
                    http_status: None,
                    body: None,
                    attempts: 1,
                    detail: Some(e.to_string()),
                }
            }
        });
    }
    let (mut session, mut generation) = usable(ctx, slot, gstin).await?;
    // A refusal leads to one refresh; a session refreshed successfully can
    // still lapse again before the retry lands (short portal sessions), so
    // this repeats a few times. Only a failed refresh, ended API access, or a
    // portal that keeps refusing fresh sessions, means the GSTIN needs login.
    for recoveries in 0..=MAX_SESSION_RECOVERIES {
        let fetched = ctx.client.fetch_taxpayer(spec, &session).await;
        match refusal(&fetched) {
            None => return Some(fetched),
            Some(Refusal::AccessEnded(template)) => {
                give_up(ctx, slot, gstin, access_code_reason(gstin, template)).await;
                return None;
            }
            Some(Refusal::Session) if recoveries == MAX_SESSION_RECOVERIES => break,
            Some(Refusal::Session) => {}
        }
        session = recover(ctx, slot, gstin, generation).await?;
        generation = slot.lock().await.generation;
    }
    let reason = format!("the portal keeps refusing fresh sessions: run `gstvault login {gstin}`");
    give_up(ctx, slot, gstin, reason).await;
    None
}
