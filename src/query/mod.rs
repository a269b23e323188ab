//! Compliance queries over the archive: `list`, `show`, `diff`, `changes`,
//! `balances` and `itc`. Each takes its arguments as typed on the command line (so every
//! entry point validates the same way), reads through a [`Reader`] (the archive opened
//! read-only, so queries run while a daemon writes) and returns rows as data;
//! `render::query` turns them into tables. Bad input is a [`QueryError::Input`]: one line
//! naming the flag and the value.
//!
//! Decisions:
//! - Times: RFC 3339, or a date `YYYY-MM-DD` read in IST: the end of that day
//!   (23:59:59.999 IST) for `--as-of`/`--at`, its start (00:00 IST) for `--since`.
//! - `show --as-of` and `diff --at` pick the latest snapshot of the key received
//!   at or before the instant whose outcome is `ok` or `no_data` (answers the
//!   portal meant, the rule changes follow); failures are in `list` and can be
//!   shown by ID.
//! - A `no_data` answer compares as the empty object `{}` ("no documents"), so a
//!   first amendment reads as one addition (`/b2ba`), not as an error replaced.
//! - `changes` reports every change row in business terms (`changes.rs`):
//!   the documents that moved and the kind of change
//!   ([`crate::domain::change`]); `retroactive` is an amendment after filing
//!   or a portal-side change, so an ordinary first filing is not.
//! - `list --from/--to` select month periods (`YYYY-MM`), `--period` any stored
//!   period (`2025-04`, `FY2025-26`, `-`).

pub mod liability;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::domain::catalog::{self, Group};
use crate::domain::diff::Difference;
use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::money::Heads;
use crate::domain::period::{FinancialYear, Month, Period};
use crate::domain::reconcile;
use crate::domain::time::Timestamp;
use crate::evidence::summary::Payloads;
use crate::store::{PeriodFilter, Reader, SnapshotFilter, SnapshotRow, StoreError};

mod itc;
pub use itc::{itc, ItcArgs, ItcLine};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// Bad input: the flag, the value and what is wrong with it.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueryError {
    /// Whether the query stopped because stored evidence is damaged.
    pub fn is_damage(&self) -> bool {
        matches!(self, QueryError::Store(e) if e.is_damage())
    }
}

pub type Result<T> = std::result::Result<T, QueryError>;

fn input(message: impl Into<String>) -> QueryError {
    QueryError::Input(message.into())
}

// ---------------------------------------------------------------- input

pub use crate::domain::time::DayEnd;

/// An instant option (`flag`) in the one grammar of
/// [`crate::domain::time::parse_instant`], relative to `now`.
pub fn parse_instant(flag: &str, text: &str, end: DayEnd, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    crate::domain::time::parse_instant(text, end, now).map_err(|e| input(format!("{flag} {e}")))
}

/// A GSTIN that is valid and has snapshots in the archive.
pub fn archived_gstin(store: &Reader, text: &str) -> Result<Gstin> {
    let gstin = Gstin::parse(text).map_err(|e| input(e.to_string()))?;
    if !store.has_gstin(&gstin)? {
        return Err(input(format!(
            "no snapshots for GSTIN {gstin} in archive {}",
            store.path().display()
        )));
    }
    Ok(gstin)
}

fn endpoint_name(text: &str) -> Result<String> {
    catalog::find(text)
        .map(|e| e.name.to_string())
        .ok_or_else(|| input(format!("--endpoint: {}", catalog::unknown_endpoint(text))))
}

fn group_endpoints(text: &str) -> Result<Vec<String>> {
    let group = Group::parse(text).ok_or_else(|| {
        input(format!(
            "--group {text:?}: unknown group; groups are {}",
            Group::ALL.map(Group::name).join(", ")
        ))
    })?;
    Ok(catalog::ENDPOINTS
        .iter()
        .filter(|e| e.group == group)
        .map(|e| e.name.to_string())
        .collect())
}

fn period(flag: &str, text: &str) -> Result<Period> {
    Period::parse(text).map_err(|e| input(format!("{flag}: {e}")))
}

fn month(flag: &str, text: &str) -> Result<Month> {
    Month::parse(text).map_err(|e| input(format!("{flag}: {e}")))
}

/// GSTIN, endpoint, period and page of one snapshot key, as typed.
#[derive(Clone, Debug, Default)]
pub struct KeyArgs {
    pub gstin: Option<String>,
    pub endpoint: Option<String>,
    pub period: Option<String>,
    pub page: u32,
}

struct Key {
    gstin: Gstin,
    endpoint: String,
    period: Period,
    page: u32,
}

impl KeyArgs {
    fn resolve(&self, store: &Reader, what: &str) -> Result<Key> {
        let (Some(g), Some(e), Some(p)) = (&self.gstin, &self.endpoint, &self.period) else {
            return Err(input(format!(
                "{what}: give a snapshot ID, or --gstin, --endpoint and --period"
            )));
        };
        let endpoint = endpoint_name(e)?;
        let period = period("--period", p)?;
        let gstin = archived_gstin(store, g)?;
        Ok(Key {
            gstin,
            endpoint,
            period,
            page: self.page,
        })
    }
}

fn snapshot_by_id(store: &Reader, id: u64) -> Result<SnapshotRow> {
    store.snapshot(Seq(id))?.ok_or_else(|| {
        input(format!(
            "snapshot {id}: no such snapshot in archive {} (the log has {})",
            store.path().display(),
            store.snapshot_count().unwrap_or(0)
        ))
    })
}

fn as_of_snapshot(store: &Reader, key: &Key, as_of: DateTime<Utc>) -> Result<SnapshotRow> {
    store
        .snapshot_as_of(
            (&key.gstin, &key.endpoint, &key.period, key.page),
            Timestamp::of(as_of),
            &Outcome::ANSWERED,
        )?
        .ok_or_else(|| {
            input(format!(
                "no answer of {} {} {}{} was received at or before {}",
                key.gstin,
                key.endpoint,
                key.period,
                if key.page > 0 {
                    format!(" page {}", key.page)
                } else {
                    String::new()
                },
                crate::domain::time::when(as_of)
            ))
        })
}

// ---------------------------------------------------------------- list

/// `list` arguments as typed.
#[derive(Clone, Debug, Default)]
pub struct ListArgs {
    pub gstin: Option<String>,
    pub endpoint: Option<String>,
    pub group: Option<String>,
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub since: Option<String>,
    /// At most this many rows; 0 means all.
    pub limit: u64,
    /// Only the snapshots of this capture run.
    pub run: Option<i64>,
    /// Only failed calls.
    pub failed: bool,
    /// What `--since 7d` counts back from (None: the wall clock).
    pub now: Option<DateTime<Utc>>,
}

/// How a listed snapshot's payload compares with the key's previous answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The first answer of its key.
    First,
    /// The same payload as the previous answer.
    Same,
    /// A different payload: a change.
    Changed,
    /// A failure: no portal data to compare.
    NotCompared,
}

impl Comparison {
    /// `first`, `same`, `changed`, or `-`.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::First => "first",
            Comparison::Same => "same",
            Comparison::Changed => "changed",
            Comparison::NotCompared => "-",
        }
    }
}

/// One listed snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListRow {
    pub seq: Seq,
    pub received_at: Timestamp,
    pub gstin: Gstin,
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    pub outcome: Outcome,
    pub payload_sha256: Option<Digest>,
    pub change: Comparison,
    /// The answer it changed from.
    pub previous: Option<Seq>,
    /// Why the call failed ([`crate::domain::run::failure_cause`]), when it did.
    pub cause: Option<String>,
}

/// Snapshots matching the filters, by receive time, then log order.
pub fn list(store: &Reader, args: &ListArgs) -> Result<Vec<ListRow>> {
    let mut filter = SnapshotFilter {
        limit: (args.limit > 0).then_some(args.limit),
        run_id: args.run,
        failed: args.failed,
        ..SnapshotFilter::default()
    };
    match (&args.endpoint, &args.group) {
        (Some(_), Some(_)) => return Err(input("give --endpoint or --group, not both")),
        (Some(e), None) => filter.endpoints = vec![endpoint_name(e)?],
        (None, Some(g)) => filter.endpoints = group_endpoints(g)?,
        (None, None) => {}
    }
    filter.period = match (&args.period, &args.from, &args.to) {
        (Some(p), None, None) => Some(PeriodFilter::Exactly(period("--period", p)?)),
        (None, Some(f), Some(t)) => {
            let (from, to) = (month("--from", f)?, month("--to", t)?);
            if from > to {
                return Err(input(format!("--from {from} is after --to {to}")));
            }
            Some(PeriodFilter::Months {
                from: Some(from),
                to: Some(to),
            })
        }
        (None, Some(f), None) => Some(PeriodFilter::Months {
            from: Some(month("--from", f)?),
            to: None,
        }),
        (None, None, Some(t)) => Some(PeriodFilter::Months {
            from: None,
            to: Some(month("--to", t)?),
        }),
        (None, None, None) => None,
        _ => return Err(input("give --period, or --from/--to, not both")),
    };
    filter.since = match &args.since {
        Some(t) => Some(Timestamp::of(parse_instant(
            "--since",
            t,
            DayEnd::Start,
            args.now.unwrap_or_else(Utc::now),
        )?)),
        None => None,
    };
    if let Some(g) = &args.gstin {
        filter.gstin = Some(archived_gstin(store, g)?);
    }
    Ok(store
        .list_snapshots(&filter)?
        .into_iter()
        .map(|s| {
            let answered = s.outcome.is_answered() && s.payload_sha256.is_some();
            let change = match (answered, s.changed_from, s.has_previous) {
                (false, _, _) => Comparison::NotCompared,
                (true, Some(_), _) => Comparison::Changed,
                (true, None, true) => Comparison::Same,
                (true, None, false) => Comparison::First,
            };
            let cause = crate::domain::run::failure_cause(
                s.outcome,
                s.http_status,
                s.error_cd.as_deref(),
                s.detail.as_deref(),
                s.attempts,
            );
            ListRow {
                cause,
                seq: s.seq,
                received_at: s.received_at,
                gstin: s.gstin,
                endpoint: s.endpoint,
                period: s.period,
                page: s.page,
                outcome: s.outcome,
                payload_sha256: s.payload_sha256,
                change,
                previous: s.changed_from,
            }
        })
        .collect())
}

// ---------------------------------------------------------------- show

/// `show` arguments as typed: a snapshot ID, or a key and an instant.
#[derive(Clone, Debug, Default)]
pub struct ShowArgs {
    pub id: Option<u64>,
    pub key: KeyArgs,
    pub as_of: Option<String>,
}

/// A snapshot and the exact bytes received for it (None: a transport error, no body).
#[derive(Clone, Debug)]
pub struct Shown {
    pub row: SnapshotRow,
    pub body: Option<Vec<u8>>,
}

/// The snapshot by ID, or the latest answer of the key at or before `--as-of` (default `now`).
pub fn show(store: &Reader, args: &ShowArgs, now: DateTime<Utc>) -> Result<Shown> {
    let row = match args.id {
        Some(id) => {
            if args.key.gstin.is_some() || args.key.endpoint.is_some() || args.key.period.is_some() {
                return Err(input("give a snapshot ID or --gstin/--endpoint/--period, not both"));
            }
            snapshot_by_id(store, id)?
        }
        None => {
            let key = args.key.resolve(store, "show")?;
            let as_of = match &args.as_of {
                Some(t) => parse_instant("--as-of", t, DayEnd::End, now)?,
                None => now,
            };
            as_of_snapshot(store, &key, as_of)?
        }
    };
    let body = store.body(row.seq)?;
    Ok(Shown { row, body })
}

// ---------------------------------------------------------------- diff

/// `diff` arguments as typed: two snapshot IDs, or a key and one or two instants
/// (one instant: from it to `now`).
#[derive(Clone, Debug, Default)]
pub struct DiffArgs {
    pub ids: Vec<u64>,
    pub key: KeyArgs,
    pub at: Vec<String>,
}

/// The differences between two snapshots' payloads.
#[derive(Clone, Debug, PartialEq)]
pub struct Diffed {
    pub from: SnapshotRow,
    pub to: SnapshotRow,
    pub differences: Vec<Difference>,
}

/// The payload of an answered snapshot as JSON: `ok` → the payload, `no_data` → `{}`.
pub fn document(store: &Reader, row: &SnapshotRow) -> Result<Value> {
    match row.outcome {
        Outcome::NoData => Ok(Value::Object(serde_json::Map::new())),
        Outcome::Ok => {
            let missing = |what: String| StoreError::Corrupt {
                path: store.path().display().to_string(),
                seq: row.seq.0,
                message: what,
            };
            let sha = row.payload_sha256.ok_or_else(|| missing("no payload digest".into()))?;
            let bytes = store
                .payload(&sha)?
                .ok_or_else(|| missing(format!("payload {sha} is missing")))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| input(format!("snapshot {}: the payload is not JSON ({e})", row.seq)))
        }
        other => Err(input(format!(
            "snapshot {}: outcome {other} carries no portal data to compare",
            row.seq
        ))),
    }
}

/// Structural diff (arrays matched by business reference) of two snapshots of one endpoint.
pub fn diff(store: &Reader, args: &DiffArgs, now: DateTime<Utc>) -> Result<Diffed> {
    let (from, to) = match (args.ids.as_slice(), args.at.as_slice()) {
        ([a, b], []) => {
            if args.key.gstin.is_some() || args.key.endpoint.is_some() || args.key.period.is_some() {
                return Err(input(
                    "give two snapshot IDs or --gstin/--endpoint/--period with --at, not both",
                ));
            }
            (snapshot_by_id(store, *a)?, snapshot_by_id(store, *b)?)
        }
        ([], [t]) | ([], [t, _]) => {
            let key = args.key.resolve(store, "diff")?;
            let first = parse_instant("--at", t, DayEnd::End, now)?;
            let second = match args.at.get(1) {
                Some(t) => parse_instant("--at", t, DayEnd::End, now)?,
                None => now,
            };
            (
                as_of_snapshot(store, &key, first)?,
                as_of_snapshot(store, &key, second)?,
            )
        }
        _ => {
            return Err(input(
                "diff: give two snapshot IDs, or --gstin, --endpoint, --period and one or two --at instants",
            ))
        }
    };
    if from.endpoint != to.endpoint {
        return Err(input(format!(
            "snapshots {} ({}) and {} ({}) are of different endpoints",
            from.seq, from.endpoint, to.seq, to.endpoint
        )));
    }
    let differences = crate::domain::diff::diff(&document(store, &from)?, &document(store, &to)?);
    Ok(Diffed { from, to, differences })
}

// ---------------------------------------------------------------- changes

mod changes;
pub use changes::{changes, is_retroactive, ChangesArgs, DetectedChange};

// ---------------------------------------------------------------- balances

/// `balances` arguments as typed.
#[derive(Clone, Debug, Default)]
pub struct BalancesArgs {
    pub gstin: String,
    /// The financial year (give it or `month`).
    pub fy: Option<String>,
    /// One month (give it or `fy`).
    pub month: Option<String>,
    pub as_of: Option<String>,
}

/// Month-end balances beside the month's GSTR-3B liability and payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BalanceLine {
    pub gstin: Gstin,
    pub month: String,
    pub cash: Heads,
    pub itc: Heads,
    /// None when no GSTR-3B answer was archived.
    pub liability: Option<Heads>,
    pub paid_cash: Option<Heads>,
    pub paid_itc: Option<Heads>,
    /// The payment reconciliation's finding, or why there is none.
    pub finding: String,
    /// Where the balances come from.
    pub source: String,
    /// The snapshots the line is read from (ledgers and the 3B), by log position.
    pub snapshots: Vec<Seq>,
    /// The instant the line shows the archive as of.
    pub as_of: Timestamp,
}

/// Endpoints whose latest `ok` payloads feed the balances.
const BALANCE_ENDPOINTS: [&str; 4] = ["ledger-balance", "ledger-cash", "ledger-itc", "gstr-3b"];

/// Month-end cash and ITC balances of a financial year from the latest ledgers
/// archived at or before `--as-of` (default `now`), with 3B liability and payment.
/// Months with neither a ledger nor a 3B answer are left out.
pub fn balances(store: &Reader, args: &BalancesArgs, now: DateTime<Utc>) -> Result<Vec<BalanceLine>> {
    let (fy, only) = match (&args.fy, &args.month) {
        (Some(fy), None) => (FinancialYear::parse(fy).map_err(|e| input(format!("--fy: {e}")))?, None),
        (None, Some(m)) => {
            let m = month("--month", m)?;
            (m.financial_year(), Some(m))
        }
        _ => return Err(input("give --fy or --month")),
    };
    let as_of = match &args.as_of {
        Some(t) => parse_instant("--as-of", t, DayEnd::End, now)?,
        None => now,
    };
    let gstin = archived_gstin(store, &args.gstin)?;
    let as_of = Timestamp::of(as_of);
    // The year's months and the next one: the last month's 3B is paid then.
    let mut months = fy.months();
    months.push(fy.last_month().next());
    let mut payloads = Payloads::new();
    let mut sources: BTreeMap<Month, Vec<Seq>> = BTreeMap::new();
    for m in &months {
        for endpoint in BALANCE_ENDPOINTS {
            let period = Period::Month(*m);
            let Some(row) = store.snapshot_as_of((&gstin, endpoint, &period, 0), as_of, &[Outcome::Ok])? else {
                continue;
            };
            sources.entry(*m).or_default().push(row.seq);
            let Some(sha) = &row.payload_sha256 else { continue };
            if let Some(value) = store
                .payload(sha)?
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            {
                payloads.insert((endpoint.to_string(), period, 0), value);
            }
        }
    }
    let evidence: Vec<_> = months
        .iter()
        .map(|m| crate::evidence::summary::month_evidence(&payloads, *m))
        .collect();
    let rows = reconcile::month_rows(&evidence);
    Ok(evidence
        .iter()
        .zip(rows)
        .zip(months.iter().copied())
        .take(months.len() - 1)
        .filter(|((_, _), m)| only.is_none_or(|o| o == *m))
        .filter(|((e, _), _)| {
            e.ledger_balance.is_some() || e.ledger_cash.is_some() || e.ledger_itc.is_some() || e.gstr3b.is_some()
        })
        .map(|((_, row), m)| {
            let finding = row
                .payment
                .as_ref()
                .map(|p| p.finding.clone())
                .unwrap_or_else(|| "GSTR-3B not archived: payment not reconciled".to_string());
            BalanceLine {
                month: row.balance.month.clone(),
                cash: row.balance.cash,
                itc: row.balance.itc,
                liability: row.payment.as_ref().map(|p| p.liability),
                paid_cash: row.payment.as_ref().map(|p| p.paid_cash),
                paid_itc: row.payment.as_ref().map(|p| p.paid_itc),
                finding,
                source: row.balance.source,
                gstin: gstin.clone(),
                snapshots: sources.remove(&m).unwrap_or_default(),
                as_of,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::format_time;

    #[test]
    fn dates_mean_ist_day_ends() {
        let now = Utc::now();
        let end = parse_instant("--as-of", "2026-05-01", DayEnd::End, now).unwrap();
        assert_eq!(format_time(end), "2026-05-01T18:29:59.999Z");
        let start = parse_instant("--since", "2026-05-01", DayEnd::Start, now).unwrap();
        assert_eq!(format_time(start), "2026-04-30T18:30:00.000Z");
        let exact = parse_instant("--at", "2026-05-01T00:00:00+05:30", DayEnd::End, now).unwrap();
        assert_eq!(format_time(exact), "2026-04-30T18:30:00.000Z");
        let bad = parse_instant("--since", "yesterday", DayEnd::Start, now)
            .unwrap_err()
            .to_string();
        assert!(bad.starts_with("--since \"yesterday\": not an instant"), "{bad}");
    }

    #[test]
    fn retroactive_means_closed_at_that_instant() {
        // 2026-07-01 03:00 IST is still 2026-06-30 in UTC: the IST month decides.
        let detected = Timestamp::parse("2026-06-30T21:30:00.000Z").unwrap();
        let p = |text: &str| Period::parse(text).unwrap();
        assert!(is_retroactive(&p("2026-06"), detected));
        assert!(!is_retroactive(&p("2026-07"), detected));
        assert!(is_retroactive(&p("FY2025-26"), detected));
        assert!(!is_retroactive(&p("FY2026-27"), detected));
        assert!(!is_retroactive(&p("-"), detected));
    }
}
