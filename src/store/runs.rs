//! Operational state beside the evidence: capture runs and their summaries,
//! daemon job runs, and each GSTIN's session state (expiries and needs-login,
//! never a token). These rows are updated in place; evidence rows never are.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::rows::{
    row_to_change, row_to_snapshot, ChangeRow, JobRunRow, SessionState, SnapshotRow, CHANGE_COLUMNS, CHANGE_FROM,
    SNAPSHOT_COLUMNS, SNAPSHOT_FROM,
};
use super::{compact, format_time, Reader, Result, Store};

impl Store {
    /// Starts a run and returns its id.
    pub fn begin_run(&mut self, kind: &str, started_at: DateTime<Utc>) -> Result<i64> {
        self.reader
            .conn
            .execute(
                "INSERT INTO runs (kind, started_at, status) VALUES (?1, ?2, 'running')",
                params![kind, format_time(started_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.reader.conn.last_insert_rowid())
    }

    /// Records how a run ended.
    pub fn finish_run(&mut self, id: i64, status: &str, summary_json: &str, finished_at: DateTime<Utc>) -> Result<()> {
        self.reader
            .conn
            .execute(
                "UPDATE runs SET status = ?2, summary = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, status, summary_json, format_time(finished_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the start of a daemon job; returns its row id.
    pub fn begin_job_run(&mut self, job: &str, started_at: DateTime<Utc>) -> Result<i64> {
        self.reader
            .conn
            .execute(
                "INSERT INTO job_runs (job, started_at, result) VALUES (?1, ?2, 'running')",
                params![job, format_time(started_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.reader.conn.last_insert_rowid())
    }

    /// Records how a daemon job ended.
    pub fn finish_job_run(
        &self,
        id: i64,
        result: &str,
        detail: Option<&str>,
        finished_at: DateTime<Utc>,
    ) -> Result<()> {
        self.reader
            .conn
            .execute(
                "UPDATE job_runs SET result = ?2, detail = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, result, detail, format_time(finished_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks runs and jobs left `running` by a process that stopped as interrupted.
    pub fn mark_interrupted(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let now = format_time(now);
        let runs = self
            .reader
            .conn
            .execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?1 WHERE status = 'running'",
                [&now],
            )
            .map_err(|e| self.err(e))?;
        self.reader
            .conn
            .execute(
                "UPDATE job_runs SET result = 'interrupted', finished_at = ?1 WHERE result = 'running'",
                [&now],
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
                    state.gstin,
                    state.token_expiry,
                    state.session_expiry,
                    state.needs_login as i64,
                    state.reason,
                    state.updated_at
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
                    job: r.get(0)?,
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    result: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Runs by status (for status and tests).
    pub fn run_statuses(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, status FROM runs ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    pub fn session_state(&self, gstin: &str) -> Result<Option<SessionState>> {
        self.conn
            .query_row(
                "SELECT gstin, token_expiry, session_expiry, needs_login, reason, updated_at FROM sessions WHERE gstin = ?1",
                [gstin],
                |r| {
                    Ok(SessionState {
                        gstin: r.get(0)?,
                        token_expiry: r.get(1)?,
                        session_expiry: r.get(2)?,
                        needs_login: r.get::<_, i64>(3)? != 0,
                        reason: r.get(4)?,
                        updated_at: r.get(5)?,
                    })
                },
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
        let rows = stmt
            .query_map([], |r| {
                Ok(SessionState {
                    gstin: r.get(0)?,
                    token_expiry: r.get(1)?,
                    session_expiry: r.get(2)?,
                    needs_login: r.get::<_, i64>(3)? != 0,
                    reason: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Per GSTIN, the receive time of its last answer the portal meant (ok or no_data).
    pub fn last_answer_by_gstin(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.gstin, MAX(s.received_at) FROM keys k JOIN snapshots s ON s.key_id = k.id \
                 WHERE s.outcome IN ('ok', 'no_data') GROUP BY k.gstin ORDER BY k.gstin",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, compact::time_text(r.get(1)?))))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
