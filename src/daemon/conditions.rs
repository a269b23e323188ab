//! The facts health needs, gathered from the archive and the daemon's own
//! state, and the condition set `domain::health` computes from them: the one
//! set both `/healthz` and the alerts use. Reads only; the alerts module
//! writes what changed.

use std::collections::BTreeMap;

use crate::domain::gstin::Gstin;
use crate::domain::health::{
    self, CheckpointFacts, Condition, Facts, GstinFacts, Policy, SessionFacts, SignedCheckpoint,
};
use crate::domain::log::Seq;
use crate::domain::schedule::JobKind;
use crate::store::StoreError;

use super::Daemon;

/// Runs read back for each GSTIN's newest run before giving up on it (a
/// GSTIN left out of that many runs is reported by its login or staleness).
const RUNS_READ: usize = 50;

impl Daemon {
    /// The health conditions that hold now, GSTINs in config order first.
    ///
    /// Fails when the archive cannot be read.
    pub fn conditions(&self) -> Result<Vec<Condition>, StoreError> {
        let now = self.clock.now();
        let gstins: Vec<Gstin> = self.config.gstins.iter().map(|g| g.gstin.clone()).collect();
        let appending = self.jobs.borrow().contains(&JobKind::Capture);
        let (sessions, captures, checkpoint) = {
            let store = self.store.lock().map_err(|_| StoreError::Io {
                path: self.config.archive_path.display().to_string(),
                message: "archive lock poisoned".into(),
            })?;
            let sessions: BTreeMap<Gstin, SessionFacts> = store
                .session_states()?
                .into_iter()
                .map(|s| {
                    (
                        s.gstin,
                        SessionFacts {
                            session_expiry: s.session_expiry,
                            needs_login: s.needs_login,
                            reason: s.reason,
                        },
                    )
                })
                .collect();
            let mut captures = store.capture_facts(&gstins, RUNS_READ)?;
            if captures.iter().any(|(_, answer)| answer.is_none()) {
                // Not within the runs read: the GSTIN's newest answer, wherever it is.
                let last: BTreeMap<Gstin, _> = store.last_answer_by_gstin()?.into_iter().collect();
                for (gstin, (_, answer)) in gstins.iter().zip(captures.iter_mut()) {
                    if answer.is_none() {
                        *answer = last.get(gstin).copied();
                    }
                }
            }
            let log_size = store.snapshot_count()?;
            let signed = store.newest_checkpoint()?.map(|c| SignedCheckpoint {
                size: c.size,
                at: c.created_at,
            });
            let signed_size = signed.map_or(0, |s| s.size);
            let first_unsigned_at = if log_size > signed_size {
                store.snapshot(Seq(signed_size))?.map(|row| row.received_at)
            } else {
                None
            };
            let checkpoint = CheckpointFacts {
                log_size,
                signed,
                first_unsigned_at,
                appending,
                key_configured: self.config.signing_key.exists(),
            };
            (sessions, captures, checkpoint)
        };
        let facts = Facts {
            gstins: gstins
                .iter()
                .zip(captures)
                .map(|(gstin, (last_run, last_answer))| GstinFacts {
                    gstin: gstin.clone(),
                    session: sessions.get(gstin).cloned(),
                    last_run,
                    last_answer,
                })
                .collect(),
            checkpoint,
            damage: self.damage.lock().expect("damage slot").clone(),
            watching_since: self.started,
        };
        let policy = Policy {
            session_warning: self.config.alerts.session_warning,
            capture: self.config.daemon.schedule(JobKind::Capture),
            checkpoint: self.config.daemon.schedule(JobKind::Checkpoint),
        };
        Ok(health::conditions(&facts, &policy, now))
    }
}
