//! A GSTIN's taxpayer session during a run: loaded from its token file,
//! refreshed before it lapses, and recovered once when the portal refuses it
//! (AUTH4033 or HTTP 401), shared by every request in flight of that GSTIN;
//! when a refresh fails, the GSTIN needs a new `gstvault login`.

use tokio::sync::Mutex;

use super::{blocking, CaptureError, Context};
use crate::capture::client::Fetched;
use crate::capture::session::{session_state, Session};
use crate::domain::catalog::{Auth, RequestSpec};
use crate::domain::envelope;
use crate::domain::gstin::Gstin;

/// Refreshes one request may trigger before its GSTIN is declared needs-login.
pub(super) const MAX_SESSION_RECOVERIES: usize = 3;

/// The session of one GSTIN during a run.
pub(super) struct SessionSlot {
    pub(super) session: Option<Session>,
    /// Bumped on every refresh, so concurrent failures refresh once.
    pub(super) generation: u64,
    pub(super) needs_login: Option<String>,
}

/// Loads the stored session and refreshes it when it is about to lapse.
pub(super) async fn open_session(ctx: &Context, gstin: &Gstin) -> SessionSlot {
    let Some(session) = ctx.tokens.load(gstin) else {
        return SessionSlot {
            session: None,
            generation: 0,
            needs_login: Some(format!("no session: run `gstvault login {gstin}`")),
        };
    };
    let now = ctx.clock.now();
    if session.expires_at() - now > ctx.refresh_margin {
        return SessionSlot {
            session: Some(session),
            generation: 0,
            needs_login: None,
        };
    }
    match refresh(ctx, gstin, &session).await {
        Ok(fresh) => SessionSlot {
            session: Some(fresh),
            generation: 1,
            needs_login: None,
        },
        Err(reason) => SessionSlot {
            session: None,
            generation: 0,
            needs_login: Some(reason),
        },
    }
}

pub(super) async fn refresh(ctx: &Context, gstin: &Gstin, session: &Session) -> Result<Session, String> {
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
        Err(e) => Err(format!("session refresh failed ({e}): run `gstvault login {gstin}`")),
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

/// The current session of the slot, or None when the GSTIN needs login.
pub(super) async fn current(slot: &Mutex<SessionSlot>) -> Option<(Session, u64)> {
    let guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return None;
    }
    guard.session.clone().map(|s| (s, guard.generation))
}

/// After a refusal seen with session generation `seen`: refresh once (unless
/// another request already did). Returns the session to retry with.
pub(super) async fn recover(ctx: &Context, slot: &Mutex<SessionSlot>, gstin: &Gstin, seen: u64) -> Option<Session> {
    let mut guard = slot.lock().await;
    if guard.needs_login.is_some() {
        return None;
    }
    if guard.generation > seen {
        return guard.session.clone();
    }
    let session = guard.session.clone()?;
    match refresh(ctx, gstin, &session).await {
        Ok(fresh) => {
            guard.session = Some(fresh.clone());
            guard.generation += 1;
            Some(fresh)
        }
        Err(reason) => {
            guard.needs_login = Some(reason.clone());
            drop(guard);
            let _ = mark_needs_login(ctx, gstin, &reason, Some(&session)).await;
            None
        }
    }
}

pub(super) fn refused(fetched: &Fetched) -> bool {
    if fetched.http_status == Some(401) {
        return true;
    }
    match (&fetched.body, fetched.http_status) {
        // A body that does not even contain a session-invalid code cannot
        // carry one: most answers skip the parse (the writer parses them).
        (Some(body), Some(status)) => {
            envelope::may_be_session_invalid(body) && envelope::parse(status, body).session_invalid()
        }
        _ => false,
    }
}

/// Fetches with the GSTIN's session, recovering once from a refused session.
/// None when the GSTIN needs login (nothing to archive).
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
    let (mut session, mut generation) = current(slot).await?;
    // A refusal leads to one refresh; a session refreshed successfully can
    // still lapse again before the retry lands (short portal sessions), so
    // this repeats a few times. Only a failed refresh, or a portal that keeps
    // refusing fresh sessions, means the GSTIN needs a new login.
    for _ in 0..MAX_SESSION_RECOVERIES {
        let fetched = ctx.client.fetch_taxpayer(spec, &session).await;
        if !refused(&fetched) {
            return Some(fetched);
        }
        session = recover(ctx, slot, gstin, generation).await?;
        generation = slot.lock().await.generation;
    }
    let fetched = ctx.client.fetch_taxpayer(spec, &session).await;
    if !refused(&fetched) {
        return Some(fetched);
    }
    let reason = format!("the portal keeps refusing fresh sessions: run `gstvault login {gstin}`");
    slot.lock().await.needs_login.get_or_insert(reason.clone());
    let _ = mark_needs_login(ctx, gstin, &reason, Some(&session)).await;
    None
}
