//! The capture planner's reads: per key the latest answer and the latest
//! answer the portal meant, a GSTIN's answer history of given endpoints, and
//! the answers archived since an instant (the daily budget).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::rows::{AnswerRow, KeyLatest};
use super::{compact, Reader, Result};

impl Reader {
    /// The planner's view of one GSTIN: per key (endpoint, period, page), the
    /// latest answer of any outcome and the latest answer the portal meant
    /// (`ok`, `no_data` or `api_error`) with its payload hash.
    pub fn latest_by_key(&self, gstin: &str) -> Result<Vec<KeyLatest>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.endpoint, k.period, k.page, MAX(s.seq), s.outcome, s.received_at \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id WHERE k.gstin = ?1 GROUP BY k.id",
            )
            .map_err(|e| self.err(e))?;
        let mut out: BTreeMap<(String, String, u32), KeyLatest> = BTreeMap::new();
        let rows = stmt
            .query_map([gstin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u32,
                    r.get::<_, String>(4)?,
                    compact::time_text(r.get(5)?),
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (endpoint, period, page, outcome, received_at) = row.map_err(|e| self.err(e))?;
            out.insert(
                (endpoint.clone(), period.clone(), page),
                KeyLatest {
                    endpoint,
                    period,
                    page,
                    outcome,
                    received_at,
                    good: None,
                },
            );
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.endpoint, k.period, k.page, MAX(s.seq), s.received_at, p.sha256 \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id LEFT JOIN payloads p ON p.id = s.payload_id \
                 WHERE k.gstin = ?1 AND s.outcome IN ('ok', 'no_data', 'api_error') GROUP BY k.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([gstin], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u32,
                    compact::time_text(r.get(4)?),
                    r.get::<_, Option<Vec<u8>>>(5)?.map(|b| compact::blob_hex(&b)),
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (endpoint, period, page, received_at, sha) = row.map_err(|e| self.err(e))?;
            if let Some(k) = out.get_mut(&(endpoint, period, page)) {
                k.good = Some((received_at, sha.unwrap_or_default()));
            }
        }
        Ok(out.into_values().collect())
    }

    /// Every `ok`/`no_data`/`api_error` answer of one GSTIN for the given endpoints, in
    /// archive order: (endpoint, period, page, received_at, payload SHA-256).
    pub fn answers_of(&self, gstin: &str, endpoints: &[&str]) -> Result<Vec<AnswerRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT k.endpoint, k.period, k.page, s.received_at, p.sha256 \
                 FROM keys k JOIN snapshots s ON s.key_id = k.id LEFT JOIN payloads p ON p.id = s.payload_id \
                 WHERE k.gstin = ?1 AND k.endpoint = ?2 AND s.outcome IN ('ok', 'no_data', 'api_error') ORDER BY s.seq",
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for endpoint in endpoints {
            let rows = stmt
                .query_map(rusqlite::params![gstin, endpoint], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)? as u32,
                        compact::time_text(r.get(3)?),
                        r.get::<_, Option<Vec<u8>>>(4)?
                            .map(|b| compact::blob_hex(&b))
                            .unwrap_or_default(),
                    ))
                })
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
