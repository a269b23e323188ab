//! Read-only SQL for the compliance queries ([`crate::query`]): filtered
//! snapshot lists, "the latest answer of a key at or before T", change rows
//! by GSTIN and time.
//! Every query is served by an index of `migrations/` (V5): no query here
//! scans the snapshots table (the unit tests check the plans).
//!
//! Times come in as archive time text ([`super::format_time`]) and are
//! compared as the stored integer milliseconds.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension};

use super::rows::{
    row_to_change, row_to_snapshot, ChangeRow, SnapshotRow, CHANGE_COLUMNS, CHANGE_FROM, SNAPSHOT_COLUMNS,
    SNAPSHOT_FROM,
};
use super::{compact, Reader, Result};

/// Outcomes that are the portal's answer about the data (changes compare only these).
pub const ANSWERED: &[&str] = &["ok", "no_data"];

/// Which snapshots a list selects; every filter is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotFilter {
    pub gstin: Option<String>,
    /// Any of these endpoints (empty: all).
    pub endpoints: Vec<String>,
    pub period: Option<PeriodFilter>,
    /// Received at or after (stored time format).
    pub since: Option<String>,
    /// Received at or before (stored time format).
    pub until: Option<String>,
    /// At most this many rows (None: all).
    pub limit: Option<u64>,
}

/// A period filter: one stored period, or an inclusive range of stored periods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeriodFilter {
    Exactly(String),
    Between(String, String),
}

/// One row of a snapshot list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedSnapshot {
    pub seq: u64,
    pub gstin: String,
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    pub received_at: String,
    pub outcome: String,
    pub http_status: Option<u16>,
    pub error_cd: Option<String>,
    pub payload_sha256: Option<String>,
    /// The previous answer of the key when this one changed the payload.
    pub changed_from: Option<u64>,
    /// Whether an earlier answer (`ok`/`no_data`) of the same key exists.
    pub has_previous: bool,
}

impl Reader {
    /// Whether any snapshot of `gstin` is archived.
    pub fn has_gstin(&self, gstin: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT 1 FROM keys k JOIN snapshots s ON s.key_id = k.id WHERE k.gstin = ?1 LIMIT 1",
                [gstin],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// Snapshots matching `filter` by receive time (then log order), with their change state.
    pub fn list_snapshots(&self, filter: &SnapshotFilter) -> Result<Vec<ListedSnapshot>> {
        let (sql, values) = list_sql(filter).map_err(|t| self.bad_time(&t))?;
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(values), |r| {
                Ok(ListedSnapshot {
                    seq: r.get::<_, i64>(0)? as u64,
                    gstin: r.get(1)?,
                    endpoint: r.get(2)?,
                    period: r.get(3)?,
                    page: r.get::<_, i64>(4)? as u32,
                    received_at: compact::time_text(r.get(5)?),
                    outcome: r.get(6)?,
                    http_status: r.get::<_, Option<i64>>(7)?.map(|s| s as u16),
                    error_cd: r.get(8)?,
                    payload_sha256: r.get::<_, Option<Vec<u8>>>(9)?.map(|b| compact::blob_hex(&b)),
                    changed_from: r.get::<_, Option<i64>>(10)?.map(|s| s as u64),
                    has_previous: r.get(11)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The latest snapshot of a key received at or before `as_of` whose outcome
    /// is one of `outcomes` (latest by receive time, then by log order).
    pub fn snapshot_as_of(
        &self,
        key: (&str, &str, &str, u32),
        as_of: &str,
        outcomes: &[&str],
    ) -> Result<Option<SnapshotRow>> {
        let (gstin, endpoint, period, page) = key;
        let sql = as_of_sql(outcomes.len());
        let mut values: Vec<SqlValue> = vec![
            gstin.to_string().into(),
            endpoint.to_string().into(),
            period.to_string().into(),
            i64::from(page).into(),
            self.stored_time(as_of)?.into(),
        ];
        values.extend(outcomes.iter().map(|o| SqlValue::from(o.to_string())));
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut q| q.query_row(params_from_iter(values), row_to_snapshot).optional())
            .map_err(|e| self.err(e))
    }

    /// Change rows, optionally of one GSTIN and detected at or after `since`, by detection time (then log order).
    pub fn changes_matching(
        &self,
        gstin: Option<&str>,
        since: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<ChangeRow>> {
        let (sql, values) = changes_sql(gstin, since, limit).map_err(|t| self.bad_time(&t))?;
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

/// The stored milliseconds of a time text, or the text as the error.
fn millis(text: &str) -> std::result::Result<i64, String> {
    compact::text_millis(text).ok_or_else(|| text.to_string())
}

fn list_sql(f: &SnapshotFilter) -> std::result::Result<(String, Vec<SqlValue>), String> {
    let mut sql = String::from(
        "SELECT s.seq, k.gstin, k.endpoint, k.period, k.page, s.received_at, s.outcome, s.http_status, s.error_cd,
                p.sha256, c.previous_seq,
                EXISTS (SELECT 1 FROM snapshots e
                        WHERE e.key_id = s.key_id AND e.seq < s.seq AND e.outcome IN ('ok', 'no_data'))
         FROM snapshots s JOIN keys k ON k.id = s.key_id LEFT JOIN payloads p ON p.id = s.payload_id
              LEFT JOIN changes c ON c.seq = s.seq WHERE 1 = 1",
    );
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(g) = &f.gstin {
        sql.push_str(" AND k.gstin = ?");
        values.push(g.clone().into());
    }
    if !f.endpoints.is_empty() {
        sql.push_str(&format!(" AND k.endpoint IN ({})", placeholders(f.endpoints.len())));
        values.extend(f.endpoints.iter().map(|e| SqlValue::from(e.clone())));
    }
    match &f.period {
        Some(PeriodFilter::Exactly(p)) => {
            sql.push_str(" AND k.period = ?");
            values.push(p.clone().into());
        }
        Some(PeriodFilter::Between(from, to)) => {
            sql.push_str(" AND k.period BETWEEN ? AND ?");
            values.push(from.clone().into());
            values.push(to.clone().into());
        }
        None => {}
    }
    if let Some(t) = &f.since {
        sql.push_str(" AND s.received_at >= ?");
        values.push(millis(t)?.into());
    }
    if let Some(t) = &f.until {
        sql.push_str(" AND s.received_at <= ?");
        values.push(millis(t)?.into());
    }
    sql.push_str(" ORDER BY s.received_at, s.seq");
    if let Some(limit) = f.limit {
        sql.push_str(" LIMIT ?");
        values.push((limit.min(i64::MAX as u64) as i64).into());
    }
    Ok((sql, values))
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
    gstin: Option<&str>,
    since: Option<&str>,
    limit: Option<u64>,
) -> std::result::Result<(String, Vec<SqlValue>), String> {
    let mut sql = format!("SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} WHERE 1 = 1");
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(g) = gstin {
        sql.push_str(" AND k.gstin = ?");
        values.push(g.to_string().into());
    }
    if let Some(t) = since {
        sql.push_str(" AND c.detected_at >= ?");
        values.push(millis(t)?.into());
    }
    sql.push_str(" ORDER BY c.detected_at, c.seq");
    if let Some(limit) = limit {
        sql.push_str(" LIMIT ?");
        values.push((limit.min(i64::MAX as u64) as i64).into());
    }
    Ok((sql, values))
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
        let filters = [
            SnapshotFilter {
                gstin: Some("27AAPFU0939F1ZV".into()),
                endpoints: vec!["ledger-cash".into(), "gstr-3b".into()],
                period: Some(PeriodFilter::Between("2025-04".into(), "2026-03".into())),
                since: Some("2026-01-01T00:00:00.000Z".into()),
                limit: Some(100),
                ..SnapshotFilter::default()
            },
            SnapshotFilter {
                gstin: Some("27AAPFU0939F1ZV".into()),
                ..SnapshotFilter::default()
            },
            SnapshotFilter {
                endpoints: vec!["gstr-3b".into()],
                period: Some(PeriodFilter::Exactly("2025-04".into())),
                ..SnapshotFilter::default()
            },
            SnapshotFilter {
                since: Some("2026-01-01T00:00:00.000Z".into()),
                ..SnapshotFilter::default()
            },
        ];
        for f in &filters {
            let (sql, values) = list_sql(f).unwrap();
            let p = plan(&store, &sql, values);
            assert!(!full_scan(&p), "{f:?}\n{p}");
        }
        let p = plan(
            &store,
            &as_of_sql(2),
            ["g", "e", "p"]
                .iter()
                .map(|s| SqlValue::from(s.to_string()))
                .chain([
                    SqlValue::from(0i64),
                    SqlValue::from(0i64),
                    "ok".to_string().into(),
                    "no_data".to_string().into(),
                ])
                .collect(),
        );
        assert!(p.contains("snapshots_by_key_time"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "as-of needs no sort: {p}");
        let t = "2026-01-01T00:00:00.000Z";
        for (g, t) in [(Some("g"), Some(t)), (Some("g"), None), (None, Some(t))] {
            let (sql, values) = changes_sql(g, t, Some(10)).unwrap();
            let p = plan(&store, &sql, values);
            assert!(!full_scan(&p), "{g:?} {t:?}\n{p}");
        }
    }
}
