//! Operational state beside the evidence: capture runs and their summaries,
//! daemon job runs, and each GSTIN's session state (expiries and needs-login,
//! never a token). These rows are updated in place; evidence rows never are.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::rows::{
    gstin_at, millis_at, opt_text_time_at, outcome_at, row_to_change, row_to_snapshot, text_time_at, ChangeRow,
    JobRunRow, SessionState, SnapshotRow, CHANGE_COLUMNS, CHANGE_FROM, SNAPSHOT_COLUMNS, SNAPSHOT_FROM,
};
use super::{format_time, Reader, Result, Store};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::health::RunCalls;
use crate::domain::run::RunStatus;
use crate::domain::schedule::{JobKind, JobState};
use crate::domain::time::Timestamp;

/// The daemon job named at column `i`.
fn job_kind_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<JobKind> {
    let text: String = r.get(i)?;
    JobKind::parse(&text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(i, format!("daemon job {text:?}"), rusqlite::types::Type::Text)
    })
}

/// The job state stored at column `i`.
fn job_state_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<JobState> {
    let text: String = r.get(i)?;
    JobState::parse(&text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(i, format!("job state {text:?}"), rusqlite::types::Type::Text)
    })
}

/// Reads a `sessions` row: gstin, token expiry, session expiry, needs login, reason, updated at.
fn row_to_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionState> {
    Ok(SessionState {
        gstin: gstin_at(r, 0)?,
        token_expiry: opt_text_time_at(r, 1)?,
        session_expiry: opt_text_time_at(r, 2)?,
        needs_login: r.get::<_, i64>(3)? != 0,
        reason: r.get(4)?,
        updated_at: text_time_at(r, 5)?,
    })
}

impl Store {
    /// Starts a run and returns its id.
    /// Payloads confirmed by an earlier run are confirmed again in this one
    /// (bytes can rot between runs).
    pub fn begin_run(&mut self, kind: &str, started_at: DateTime<Utc>) -> Result<i64> {
        self.confirmed.clear();
        self.reader
            .conn
            .execute(
                "INSERT INTO runs (kind, started_at, status) VALUES (?1, ?2, ?3)",
                params![kind, format_time(started_at), RunStatus::Running.as_str()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.reader.conn.last_insert_rowid())
    }

    /// Records how a run ended.
    pub fn finish_run(
        &mut self,
        id: i64,
        status: RunStatus,
        summary_json: &str,
        finished_at: DateTime<Utc>,
    ) -> Result<()> {
        self.reader
            .conn
            .execute(
                "UPDATE runs SET status = ?2, summary = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), summary_json, format_time(finished_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the start of a daemon job; returns its row id.
    pub fn begin_job_run(&mut self, job: JobKind, started_at: DateTime<Utc>) -> Result<i64> {
        self.reader
            .conn
            .execute(
                "INSERT INTO job_runs (job, started_at, result) VALUES (?1, ?2, ?3)",
                params![job.name(), format_time(started_at), JobState::Running.as_str()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.reader.conn.last_insert_rowid())
    }

    /// Records how a daemon job ended.
    pub fn finish_job_run(
        &mut self,
        id: i64,
        result: JobState,
        detail: Option<&str>,
        finished_at: DateTime<Utc>,
    ) -> Result<()> {
        self.reader
            .conn
            .execute(
                "UPDATE job_runs SET result = ?2, detail = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, result.as_str(), detail, format_time(finished_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks runs and jobs left `running` by a process that stopped as interrupted.
    pub fn mark_interrupted(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let values = params![
            format_time(now),
            RunStatus::Interrupted.as_str(),
            RunStatus::Running.as_str()
        ];
        let runs = self
            .reader
            .conn
            .execute(
                "UPDATE runs SET status = ?2, finished_at = ?1 WHERE status = ?3",
                values,
            )
            .map_err(|e| self.err(e))?;
        let job_values = params![
            format_time(now),
            JobState::Interrupted.as_str(),
            JobState::Running.as_str()
        ];
        self.reader
            .conn
            .execute(
                "UPDATE job_runs SET result = ?2, finished_at = ?1 WHERE result = ?3",
                job_values,
            )
            .map_err(|e| self.err(e))?;
        Ok(runs)
    }

    /// Stores a GSTIN's session state (expiries, needs-login), replacing the old one.
    pub fn put_session_state(&mut self, state: &SessionState) -> Result<()> {
        self.reader
            .conn
            .execute(
                "INSERT INTO sessions (gstin, token_expiry, session_expiry, needs_login, reason, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(gstin) DO UPDATE SET token_expiry = excluded.token_expiry,
                    session_expiry = excluded.session_expiry, needs_login = excluded.needs_login,
                    reason = excluded.reason, updated_at = excluded.updated_at",
                params![
                    state.gstin.as_str(),
                    state.token_expiry.map(|t| t.to_string()),
                    state.session_expiry.map(|t| t.to_string()),
                    state.needs_login as i64,
                    state.reason,
                    state.updated_at.to_string()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl Reader {
    /// Snapshots of one run, in log order.
    pub fn snapshots_of_run(&self, run_id: i64) -> Result<Vec<SnapshotRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM} WHERE s.run_id = ?1 ORDER BY s.seq"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([run_id], row_to_snapshot).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Change rows of one run: (seq, previous_seq, gstin, endpoint, period, page).
    pub fn changes_of_run(&self, run_id: i64) -> Result<Vec<ChangeRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} JOIN snapshots s ON s.seq = c.seq \
                 WHERE s.run_id = ?1 ORDER BY c.seq"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([run_id], row_to_change).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The latest run of each job: (job, started_at, finished_at, result, detail).
    pub fn last_job_runs(&self) -> Result<Vec<JobRunRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT job, started_at, finished_at, result, detail FROM job_runs
                 WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job) ORDER BY job",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(JobRunRow {
                    job: job_kind_at(r, 0)?,
                    started_at: text_time_at(r, 1)?,
                    finished_at: opt_text_time_at(r, 2)?,
                    result: job_state_at(r, 3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// When the first daemon job the archive recorded started.
    pub fn first_job_run_at(&self) -> Result<Option<Timestamp>> {
        self.conn
            .query_row("SELECT MIN(started_at) FROM job_runs", [], |r| {
                r.get::<_, Option<String>>(0)
            })
            .map(|text| text.as_deref().and_then(Timestamp::parse))
            .map_err(|e| self.err(e))
    }

    /// Runs by status (for status and tests).
    pub fn run_statuses(&self) -> Result<Vec<(i64, RunStatus)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, status FROM runs ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let text: String = r.get(1)?;
                let status = RunStatus::parse(&text).ok_or_else(|| {
                    rusqlite::Error::InvalidColumnType(1, format!("run status {text:?}"), rusqlite::types::Type::Text)
                })?;
                Ok((r.get(0)?, status))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    pub fn session_state(&self, gstin: &Gstin) -> Result<Option<SessionState>> {
        self.conn
            .query_row(
                "SELECT gstin, token_expiry, session_expiry, needs_login, reason, updated_at FROM sessions WHERE gstin = ?1",
                [gstin.as_str()],
                row_to_session,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every GSTIN's session state.
    pub fn session_states(&self) -> Result<Vec<SessionState>> {
        let mut stmt = self
            .conn
            .prepare("SELECT gstin, token_expiry, session_expiry, needs_login, reason, updated_at FROM sessions ORDER BY gstin")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_session).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// For each of `gstins`: the calls of its newest finished run (not
    /// `running`) that made any for it, and the receive time of its newest
    /// answer about the data ([`Outcome::ANSWERED`]). Runs are read newest
    /// first, one index range each, until every GSTIN has both or `max_runs`
    /// runs were read (what is not found by then is None).
    pub fn capture_facts(
        &self,
        gstins: &[Gstin],
        max_runs: usize,
    ) -> Result<Vec<(Option<RunCalls>, Option<Timestamp>)>> {
        let mut out: Vec<(Option<RunCalls>, Option<Timestamp>)> = vec![(None, None); gstins.len()];
        if gstins.is_empty() {
            return Ok(out);
        }
        let runs: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM runs WHERE status != ?1 ORDER BY id DESC LIMIT ?2")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![RunStatus::Running.as_str(), max_runs as i64], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))?
        };
        let mut counts = self
            .conn
            .prepare_cached(
                "SELECT k.gstin, s.outcome, COUNT(*), MAX(s.received_at) FROM snapshots s JOIN keys k ON k.id = s.key_id \
                 WHERE s.run_id = ?1 GROUP BY k.gstin, s.outcome",
            )
            .map_err(|e| self.err(e))?;
        let mut first_failure = self
            .conn
            .prepare_cached(
                "SELECT k.endpoint, k.period, s.outcome, s.detail FROM snapshots s JOIN keys k ON k.id = s.key_id \
                 WHERE s.run_id = ?1 AND k.gstin = ?2 AND s.outcome IN (?3, ?4, ?5) \
                 ORDER BY s.outcome = ?3, s.seq LIMIT 1",
            )
            .map_err(|e| self.err(e))?;
        for run_id in runs {
            if out.iter().all(|(run, answer)| run.is_some() && answer.is_some()) {
                break;
            }
            let rows = counts
                .query_map([run_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        outcome_at(r, 1)?,
                        r.get::<_, i64>(2)?,
                        millis_at(r, 3)?,
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.err(e))?;
            for (index, gstin) in gstins.iter().enumerate() {
                let mine: Vec<_> = rows.iter().filter(|r| r.0 == gstin.as_str()).collect();
                if mine.is_empty() {
                    continue;
                }
                let (run, answer) = &mut out[index];
                if run.is_none() {
                    let mut calls = RunCalls {
                        run_id,
                        ..RunCalls::default()
                    };
                    for (_, outcome, n, _) in &mine {
                        let n = *n as u64;
                        match outcome {
                            Outcome::Ok | Outcome::NoData => calls.answered += n,
                            // Answers the portal gave on purpose that are not
                            // data: they neither answer nor fail the call.
                            Outcome::ApiError | Outcome::Pending | Outcome::Unrecognised => calls.api_errors += n,
                            Outcome::HttpError | Outcome::TransportError => calls.failed += n,
                        }
                    }
                    if calls.failed() {
                        calls.first_failure = first_failure
                            .query_row(
                                params![
                                    run_id,
                                    gstin.as_str(),
                                    Outcome::ApiError.as_str(),
                                    Outcome::HttpError.as_str(),
                                    Outcome::TransportError.as_str()
                                ],
                                |r| {
                                    let detail: Option<String> = r.get(3)?;
                                    Ok(format!(
                                        "{} {}: {}{}",
                                        r.get::<_, String>(0)?,
                                        r.get::<_, String>(1)?,
                                        r.get::<_, String>(2)?,
                                        detail.map(|d| format!(": {d}")).unwrap_or_default()
                                    ))
                                },
                            )
                            .optional()
                            .map_err(|e| self.err(e))?;
                    }
                    *run = Some(calls);
                }
                if answer.is_none() {
                    *answer = mine.iter().filter(|r| r.1.is_answered()).map(|r| r.3).max();
                }
            }
        }
        Ok(out)
    }

    /// Per GSTIN, the receive time of its last answer about the data ([`Outcome::ANSWERED`]).
    pub fn last_answer_by_gstin(&self) -> Result<Vec<(Gstin, Timestamp)>> {
        // Newest first through the receive-time index, stopping once every
        // GSTIN of the archive has its latest answer: a capture touches every
        // GSTIN, so this reads one capture's rows, not the whole log.
        let gstins: i64 = self
            .conn
            .query_row("SELECT COUNT(DISTINCT gstin) FROM keys", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.gstin, s.received_at, s.outcome FROM snapshots s JOIN keys k ON k.id = s.key_id \
                 ORDER BY s.received_at DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut found: std::collections::BTreeMap<Gstin, Timestamp> = std::collections::BTreeMap::new();
        while (found.len() as i64) < gstins {
            let Some(r) = rows.next().map_err(|e| self.err(e))? else {
                break;
            };
            let outcome = outcome_at(r, 2).map_err(|e| self.err(e))?;
            if !Outcome::ANSWERED.contains(&outcome) {
                continue;
            }
            let gstin = gstin_at(r, 0).map_err(|e| self.err(e))?;
            if let std::collections::btree_map::Entry::Vacant(slot) = found.entry(gstin) {
                slot.insert(millis_at(r, 1).map_err(|e| self.err(e))?);
            }
        }
        Ok(found.into_iter().collect())
    }
}
