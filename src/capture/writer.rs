//! The run's archive writer: one thread that appends the answers of a
//! capture in group commits, so that one SQLite commit carries many answers,
//! and tells each answer's task only after its transaction committed.

use std::sync::{Arc, Mutex as StdMutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use crate::domain::envelope::{self, Outcome};
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;
use crate::store::{Appended, NewSnapshot, Store};

/// An answer waiting for the writer, and where to tell its fate.
pub(super) type Pending = (OwnedSnapshot, oneshot::Sender<Result<Appended, String>>);

/// Answers taken into one transaction at most.
pub(super) const MAX_BATCH: usize = 256;

/// How long the writer gathers answers after the first before committing:
/// short next to a portal request, long enough to share a commit among the
/// answers of the requests in flight.
pub(super) const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

/// A pause in arrivals this long ends the gathering early: the requests in
/// flight are waiting for this commit (a one-GSTIN run whose every slot holds
/// an answer), so waiting out the window would only stall them.
pub(super) const IDLE_GAP: std::time::Duration = std::time::Duration::from_millis(1);

/// Starts the run's archive writer: a thread that appends queued answers in
/// group commits (what arrives within [`BATCH_WINDOW`] of the first, up to
/// [`MAX_BATCH`] and until arrivals pause for [`IDLE_GAP`], in one
/// transaction) and reports each answer's outcome only
/// after its transaction committed. One commit per answer cost more than the
/// fetching it archives (issue 8's capture row); a crash loses only answers
/// not yet reported stored, as before. The thread ends with the run, when the
/// last sender is dropped.
pub(super) fn spawn_writer(store: Arc<StdMutex<Store>>) -> std::sync::mpsc::Sender<Pending> {
    let (sender, queue) = std::sync::mpsc::channel::<Pending>();
    std::thread::Builder::new()
        .name("gstvault-writer".into())
        .spawn(move || {
            while let Ok(first) = queue.recv() {
                let mut batch = vec![first];
                let gathered_by = std::time::Instant::now() + BATCH_WINDOW;
                // Polled in ticks rather than parked on the queue, so that a
                // capture task sending an answer never has to wake this thread.
                loop {
                    let left = gathered_by.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() || batch.len() >= MAX_BATCH {
                        break;
                    }
                    std::thread::sleep(left.min(IDLE_GAP));
                    let before = batch.len();
                    batch.extend(queue.try_iter().take(MAX_BATCH - before));
                    if batch.len() == before {
                        break;
                    }
                }
                let result = match store.lock() {
                    Ok(mut store) => {
                        let snapshots: Vec<NewSnapshot<'_>> = batch.iter().map(|(s, _)| s.borrow()).collect();
                        store.append_batch(&snapshots).map_err(|e| e.to_string())
                    }
                    Err(_) => Err("archive lock poisoned".to_string()),
                };
                match result {
                    Ok(appended) => {
                        for ((_, reply), appended) in batch.into_iter().zip(appended) {
                            let _ = reply.send(Ok(appended));
                        }
                    }
                    Err(e) => {
                        for (_, reply) in batch {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        })
        .expect("the archive writer thread starts");
    sender
}

pub(super) struct OwnedSnapshot {
    pub(super) run_id: i64,
    pub(super) gstin: Gstin,
    pub(super) endpoint: String,
    pub(super) period: Period,
    pub(super) page: u32,
    pub(super) method: String,
    pub(super) request: String,
    pub(super) requested_at: DateTime<Utc>,
    pub(super) received_at: DateTime<Utc>,
    pub(super) http_status: Option<u16>,
    pub(super) body: Option<Vec<u8>>,
    pub(super) reading: Option<envelope::Reading>,
    pub(super) outcome: Outcome,
    pub(super) detail: Option<String>,
    pub(super) attempts: u32,
    pub(super) origin: Arc<str>,
}

impl OwnedSnapshot {
    pub(super) fn borrow(&self) -> NewSnapshot<'_> {
        NewSnapshot {
            run_id: self.run_id,
            gstin: &self.gstin,
            endpoint: &self.endpoint,
            period: &self.period,
            page: self.page,
            method: &self.method,
            request: &self.request,
            requested_at: self.requested_at,
            received_at: self.received_at,
            http_status: self.http_status,
            body: self.body.as_deref(),
            reading: self.reading.as_ref(),
            outcome: self.outcome,
            detail: self.detail.clone(),
            attempts: self.attempts,
            origin: &self.origin,
        }
    }
}
