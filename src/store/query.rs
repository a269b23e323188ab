//! Read-only SQL for the compliance queries (`crate::query`): filtered
//! snapshot lists, "the latest answer of a key at or before T", change rows
//! by GSTIN and time. Every query is served by an index of `migrations/`
//! (V5): no query here scans the snapshots table (the unit tests check the
//! plans). Times are compared as the stored integer milliseconds.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension};

use super::rows::{
    digest_at, gstin_at, millis_at, outcome_at, period_at, row_to_change, row_to_snapshot, seq_at, ChangeRow,
    SnapshotRow, CHANGE_COLUMNS, CHANGE_FROM, SNAPSHOT_COLUMNS, SNAPSHOT_FROM,
};
use super::{Reader, Result};
use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::period::{Month, Period};
use crate::domain::time::Timestamp;

/// Which snapshots a list selects; every filter is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotFilter {
    pub gstin: Option<Gstin>,
    /// Any of these endpoints (empty: all).
    pub endpoints: Vec<String>,
    pub period: Option<PeriodFilter>,
    /// Received at or after.
    pub since: Option<Timestamp>,
    /// Received at or before.
    pub until: Option<Timestamp>,
    /// At most this many rows (None: all).
    pub limit: Option<u64>,
    /// Only the snapshots of this capture run.
    pub run_id: Option<i64>,
    /// Only failures ([`Outcome::is_failure`]).
    pub failed: bool,
}

/// A period filter: one period, or the months of an inclusive range (either
/// end open); a month range never selects a financial year or `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeriodFilter {
    Exactly(Period),
    Months { from: Option<Month>, to: Option<Month> },
}

/// One row of a snapshot list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedSnapshot {
    pub seq: Seq,
    pub gstin: Gstin,
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    pub received_at: Timestamp,
    pub outcome: Outcome,
    pub http_status: Option<u16>,
    pub error_cd: Option<String>,
    /// What went wrong, when it did (the transport error, a cap hit).
    pub detail: Option<String>,
    /// Requests made for this answer (retries included).
    pub attempts: u32,
    pub payload_sha256: Option<Digest>,
    /// The previous answer of the key when this one changed the payload.
    pub changed_from: Option<Seq>,
    /// Whether an earlier answer ([`Outcome::ANSWERED`]) of the same key exists.
    pub has_previous: bool,
}

impl Reader {
    /// Whether any snapshot of `gstin` is archived.
    pub fn has_gstin(&self, gstin: &Gstin) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT 1 FROM keys k JOIN snapshots s ON s.key_id = k.id WHERE k.gstin = ?1 LIMIT 1",
                [gstin.as_str()],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// Snapshots matching `filter` by receive time (then log order), with their change state.
    pub fn list_snapshots(&self, filter: &SnapshotFilter) -> Result<Vec<ListedSnapshot>> {
        let (sql, values) = list_sql(filter);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(values), |r| {
                Ok(ListedSnapshot {
                    seq: seq_at(r, 0)?,
                    gstin: gstin_at(r, 1)?,
                    endpoint: r.get(2)?,
                    period: period_at(r, 3)?,
                    page: r.get::<_, i64>(4)? as u32,
                    received_at: millis_at(r, 5)?,
                    outcome: outcome_at(r, 6)?,
                    http_status: r.get::<_, Option<i64>>(7)?.map(|s| s as u16),
                    error_cd: r.get(8)?,
                    payload_sha256: digest_at(r, 9)?,
                    changed_from: r.get::<_, Option<i64>>(10)?.map(|s| Seq(s.max(0) as u64)),
                    has_previous: r.get(11)?,
                    detail: r.get(12)?,
                    attempts: r.get::<_, i64>(13)?.max(0) as u32,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The latest snapshot of a key received at or before `as_of` whose outcome
    /// is one of `outcomes` (latest by receive time, then by log order).
    pub fn snapshot_as_of(
        &self,
        key: (&Gstin, &str, &Period, u32),
        as_of: Timestamp,
        outcomes: &[Outcome],
    ) -> Result<Option<SnapshotRow>> {
        let (gstin, endpoint, period, page) = key;
        let sql = as_of_sql(outcomes.len());
        let mut values: Vec<SqlValue> = vec![
            gstin.as_str().to_string().into(),
            endpoint.to_string().into(),
            period.to_string().into(),
            i64::from(page).into(),
            as_of.millis().into(),
        ];
        values.extend(outcomes.iter().map(|o| SqlValue::from(o.as_str().to_string())));
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut q| q.query_row(params_from_iter(values), row_to_snapshot).optional())
            .map_err(|e| self.err(e))
    }

    /// Change rows, optionally of one GSTIN, of `endpoints` (empty: all)
    /// and detected at or after `since`, by detection time (then log order).
    pub fn changes_matching(
        &self,
        gstin: Option<&Gstin>,
        endpoints: &[String],
        since: Option<Timestamp>,
        limit: Option<u64>,
    ) -> Result<Vec<ChangeRow>> {
        let (sql, values) = changes_sql(gstin, endpoints, since, limit);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(values), row_to_change)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn list_sql(f: &SnapshotFilter) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(
        "SELECT s.seq, k.gstin, k.endpoint, k.period, k.page, s.received_at, s.outcome, s.http_status, s.error_cd,
                p.sha256, c.previous_seq,
                EXISTS (SELECT 1 FROM snapshots e
                        WHERE e.key_id = s.key_id AND e.seq < s.seq AND e.outcome IN (?, ?)),
                s.detail, s.attempts
         FROM snapshots s JOIN keys k ON k.id = s.key_id LEFT JOIN payloads p ON p.id = s.payload_id
              LEFT JOIN changes c ON c.seq = s.seq WHERE 1 = 1",
    );
    let mut values: Vec<SqlValue> = Outcome::ANSWERED
        .iter()
        .map(|o| SqlValue::from(o.as_str().to_string()))
        .collect();
    if let Some(g) = &f.gstin {
        sql.push_str(" AND k.gstin = ?");
        values.push(g.as_str().to_string().into());
    }
    if !f.endpoints.is_empty() {
        sql.push_str(&format!(" AND k.endpoint IN ({})", placeholders(f.endpoints.len())));
        values.extend(f.endpoints.iter().map(|e| SqlValue::from(e.clone())));
    }
    match &f.period {
        Some(PeriodFilter::Exactly(p)) => {
            sql.push_str(" AND k.period = ?");
            values.push(p.to_string().into());
        }
        Some(PeriodFilter::Months { from, to }) => {
            // Stored months are `YYYY-MM`, which sort as text; `FY…` and `-` fall outside.
            sql.push_str(" AND k.period BETWEEN ? AND ?");
            values.push(from.map_or("0000-01".to_string(), |m| m.to_string()).into());
            values.push(to.map_or("9999-12".to_string(), |m| m.to_string()).into());
        }
        None => {}
    }
    if let Some(t) = f.since {
        sql.push_str(" AND s.received_at >= ?");
        values.push(t.millis().into());
    }
    if let Some(t) = f.until {
        sql.push_str(" AND s.received_at <= ?");
        values.push(t.millis().into());
    }
    if let Some(run) = f.run_id {
        sql.push_str(" AND s.run_id = ?");
        values.push(run.into());
    }
    if f.failed {
        let failures: Vec<Outcome> = Outcome::ALL.into_iter().filter(|o| o.is_failure()).collect();
        sql.push_str(&format!(" AND s.outcome IN ({})", placeholders(failures.len())));
        values.extend(failures.iter().map(|o| SqlValue::from(o.as_str().to_string())));
    }
    sql.push_str(" ORDER BY s.received_at, s.seq");
    if let Some(limit) = f.limit {
        sql.push_str(" LIMIT ?");
        values.push((limit.min(i64::MAX as u64) as i64).into());
    }
    (sql, values)
}

fn as_of_sql(outcomes: usize) -> String {
    format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM {SNAPSHOT_FROM}
         WHERE k.gstin = ?1 AND k.endpoint = ?2 AND k.period = ?3 AND k.page = ?4 AND s.received_at <= ?5
           AND s.outcome IN ({})
         ORDER BY s.received_at DESC, s.seq DESC LIMIT 1",
        placeholders(outcomes)
    )
}

fn changes_sql(
    gstin: Option<&Gstin>,
    endpoints: &[String],
    since: Option<Timestamp>,
    limit: Option<u64>,
) -> (String, Vec<SqlValue>) {
    let mut sql = format!("SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} WHERE 1 = 1");
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(g) = gstin {
        sql.push_str(" AND k.gstin = ?");
        values.push(g.as_str().to_string().into());
    }
    if !endpoints.is_empty() {
        sql.push_str(&format!(" AND k.endpoint IN ({})", placeholders(endpoints.len())));
        values.extend(endpoints.iter().map(|e| SqlValue::from(e.clone())));
    }
    if let Some(t) = since {
        sql.push_str(" AND c.detected_at >= ?");
        values.push(t.millis().into());
    }
    sql.push_str(" ORDER BY c.detected_at, c.seq");
    if let Some(limit) = limit {
        sql.push_str(" LIMIT ?");
        values.push((limit.min(i64::MAX as u64) as i64).into());
    }
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan's detail lines for `sql` on a fresh archive.
    fn plan(store: &Reader, sql: &str, values: Vec<SqlValue>) -> String {
        let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(params_from_iter(values), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows.join("\n")
    }

    fn full_scan(plan: &str) -> bool {
        plan.lines().any(|l| {
            let l = l.trim();
            (l.starts_with("SCAN s") || l.starts_with("SCAN snapshots") || l.starts_with("SCAN changes"))
                && !l.contains("USING")
        })
    }

    #[test]
    fn query_plans_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::Store::open(&dir.path().join("a.sqlite")).unwrap();
        let gstin = Gstin::parse("27AAPFU0939F1ZV").unwrap();
        let t = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
        let filters = [
            SnapshotFilter {
                gstin: Some(gstin.clone()),
                endpoints: vec!["ledger-cash".into(), "gstr-3b".into()],
                period: Some(PeriodFilter::Months {
                    from: Month::parse("2025-04").ok(),
                    to: Month::parse("2026-03").ok(),
                }),
                since: Some(t),
                limit: Some(100),
                ..SnapshotFilter::default()
            },
            SnapshotFilter {
                gstin: Some(gstin.clone()),
                ..SnapshotFilter::default()
            },
            SnapshotFilter {
                endpoints: vec!["gstr-3b".into()],
                period: Some(PeriodFilter::Exactly(Period::parse("2025-04").unwrap())),
                ..SnapshotFilter::default()
            },
            SnapshotFilter {
                since: Some(t),
                ..SnapshotFilter::default()
            },
        ];
        for f in &filters {
            let (sql, values) = list_sql(f);
            let p = plan(&store, &sql, values);
            assert!(!full_scan(&p), "{f:?}\n{p}");
        }
        let p = plan(
            &store,
            &as_of_sql(2),
            ["g", "e", "p"]
                .iter()
                .map(|s| SqlValue::from(s.to_string()))
                .chain([SqlValue::from(0i64), SqlValue::from(0i64)])
                .chain(Outcome::ANSWERED.map(|o| SqlValue::from(o.as_str().to_string())))
                .collect(),
        );
        assert!(p.contains("snapshots_by_key_time"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "as-of needs no sort: {p}");
        let endpoints = ["ledger-cash".to_string()];
        for (g, t) in [(Some(&gstin), Some(t)), (Some(&gstin), None), (None, Some(t))] {
            for e in [&[][..], &endpoints[..]] {
                let (sql, values) = changes_sql(g, e, t, Some(10));
                let p = plan(&store, &sql, values);
                assert!(!full_scan(&p), "{g:?} {e:?} {t:?}\n{p}");
            }
        }
    }
}
