//! The capture planner's reads: per key the latest answer and the latest
//! answer the portal meant, a GSTIN's answer history of given endpoints, and
//! the answers archived since an instant (the daily budget).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::rows::{digest_at, millis_at, outcome_at, period_at, Answer, KeyLatest};
use super::{compact, Reader, Result};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;

impl Reader {
    /// The planner's view of one GSTIN: per key (endpoint, period, page), the
    /// latest answer of any outcome and the latest answer the portal meant
    /// ([`Outcome::MEANT`]) with its payload hash.
    pub fn latest_by_key(&self, gstin: &Gstin) -> Result<Vec<KeyLatest>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.endpoint, k.period, k.page, MAX(s.seq), s.outcome, s.received_at \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id WHERE k.gstin = ?1 GROUP BY k.id",
            )
            .map_err(|e| self.err(e))?;
        let mut out: BTreeMap<(String, Period, u32), KeyLatest> = BTreeMap::new();
        let rows = stmt
            .query_map([gstin.as_str()], |r| {
                Ok(KeyLatest {
                    endpoint: r.get(0)?,
                    period: period_at(r, 1)?,
                    page: r.get::<_, i64>(2)? as u32,
                    outcome: outcome_at(r, 4)?,
                    received_at: millis_at(r, 5)?,
                    good: None,
                })
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let latest = row.map_err(|e| self.err(e))?;
            out.insert((latest.endpoint.clone(), latest.period, latest.page), latest);
        }
        let [ok, no_data, api_error] = Outcome::MEANT.map(Outcome::as_str);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.endpoint, k.period, k.page, MAX(s.seq), s.received_at, p.sha256 \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id LEFT JOIN payloads p ON p.id = s.payload_id \
                 WHERE k.gstin = ?1 AND s.outcome IN (?2, ?3, ?4) GROUP BY k.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params![gstin.as_str(), ok, no_data, api_error], |r| {
                Ok((
                    (r.get::<_, String>(0)?, period_at(r, 1)?, r.get::<_, i64>(2)? as u32),
                    millis_at(r, 4)?,
                    digest_at(r, 5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (key, received_at, sha) = row.map_err(|e| self.err(e))?;
            if let Some(k) = out.get_mut(&key) {
                k.good = Some((received_at, sha));
            }
        }
        Ok(out.into_values().collect())
    }

    /// Every answer the portal meant ([`Outcome::MEANT`]) of one GSTIN for
    /// the given endpoints, endpoint by endpoint, each in archive order.
    pub fn answers_of(&self, gstin: &Gstin, endpoints: &[&str]) -> Result<Vec<Answer>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.endpoint, k.period, k.page, s.received_at, p.sha256 \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id LEFT JOIN payloads p ON p.id = s.payload_id \
                 WHERE k.gstin = ?1 AND k.endpoint = ?2 AND s.outcome IN (?3, ?4, ?5) ORDER BY s.seq",
            )
            .map_err(|e| self.err(e))?;
        let [ok, no_data, api_error] = Outcome::MEANT.map(Outcome::as_str);
        let mut out = Vec::new();
        for endpoint in endpoints {
            let rows = stmt
                .query_map(
                    rusqlite::params![gstin.as_str(), endpoint, ok, no_data, api_error],
                    |r| {
                        Ok(Answer {
                            endpoint: r.get(0)?,
                            period: period_at(r, 1)?,
                            page: r.get::<_, i64>(2)? as u32,
                            received_at: millis_at(r, 3)?,
                            payload_sha256: digest_at(r, 4)?,
                        })
                    },
                )
                .map_err(|e| self.err(e))?;
            for row in rows {
                out.push(row.map_err(|e| self.err(e))?);
            }
        }
        Ok(out)
    }

    /// Snapshots received at or after `since` (all GSTINs): the calls spent
    /// against the daily budget.
    pub fn answers_since(&self, since: DateTime<Utc>) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM snapshots WHERE received_at >= ?1",
                [compact::millis(since)],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }
}
