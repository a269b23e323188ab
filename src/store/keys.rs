//! One line per archived key of a GSTIN (endpoint, period, page): how many
//! answers it has, how many calls failed, how many times its payload changed,
//! and its latest answer; aggregated by SQLite over the key index, so a page
//! that summarises a GSTIN (the web view's overview and grid) does not read
//! every snapshot row.

use rusqlite::params;

use super::rows::{outcome_at, period_at};
use super::{Reader, Result};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::period::Period;

/// One key of a GSTIN, summarised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySummary {
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    /// Snapshots of the key.
    pub answers: u64,
    /// Of them, calls that got no answer or an error ([`Outcome::is_failure`]).
    pub failures: u64,
    /// Times the payload changed from the previous answer.
    pub changes: u64,
    /// The latest snapshot (by receive time, then log order) and its outcome.
    pub latest: Seq,
    pub latest_outcome: Outcome,
}

impl Reader {
    /// How many keys of `gstin` have each outcome as their latest answer.
    pub fn latest_outcome_counts(&self, gstin: &Gstin) -> Result<Vec<(Outcome, u64)>> {
        let sql = "SELECT l.outcome, COUNT(*) FROM keys k
                   JOIN snapshots l ON l.seq = (SELECT s.seq FROM snapshots s WHERE s.key_id = k.id
                                                ORDER BY s.received_at DESC, s.seq DESC LIMIT 1)
                   WHERE k.gstin = ?1 GROUP BY l.outcome ORDER BY l.outcome";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![gstin.as_str()], |r| {
                Ok((outcome_at(r, 0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every key of `gstin`, by endpoint, period and page.
    pub fn key_summaries(&self, gstin: &Gstin) -> Result<Vec<KeySummary>> {
        let sql = "SELECT k.endpoint, k.period, k.page,
                          (SELECT COUNT(*) FROM snapshots s WHERE s.key_id = k.id),
                          (SELECT COUNT(*) FROM snapshots s WHERE s.key_id = k.id
                                  AND s.outcome IN ('api_error', 'http_error', 'transport_error')),
                          (SELECT COUNT(*) FROM changes c WHERE c.key_id = k.id),
                          l.seq, l.outcome
                   FROM keys k
                   JOIN snapshots l ON l.seq = (SELECT s.seq FROM snapshots s WHERE s.key_id = k.id
                                                ORDER BY s.received_at DESC, s.seq DESC LIMIT 1)
                   WHERE k.gstin = ?1
                   ORDER BY k.endpoint, k.period, k.page";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![gstin.as_str()], |r| {
                Ok(KeySummary {
                    endpoint: r.get(0)?,
                    period: period_at(r, 1)?,
                    page: r.get::<_, i64>(2)?.max(0) as u32,
                    answers: r.get::<_, i64>(3)?.max(0) as u64,
                    failures: r.get::<_, i64>(4)?.max(0) as u64,
                    changes: r.get::<_, i64>(5)?.max(0) as u64,
                    latest: Seq(r.get::<_, i64>(6)?.max(0) as u64),
                    latest_outcome: outcome_at(r, 7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
