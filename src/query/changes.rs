//! `changes`: every change row of the archive matching the filters, in
//! business terms: the documents that moved (invoice, note, row, ledger
//! entry; before → after) and the kind of change (first filing, amendment
//! after filing, portal-side change, in progress: [`crate::domain::change`]),
//! read through [`crate::evidence::changes`] so the bundle says the same.
//! `--kind` keeps one kind, `--retroactive` the amendments and portal-side
//! changes. Rows as data; `render::query::changes_table` lays them out.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{archived_gstin, endpoint_name, group_endpoints, input, parse_instant, DayEnd, Result};
use crate::domain::change::{DocumentChange, Filing, Kind};
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::period::{india_date, Period};
use crate::domain::time::Timestamp;
use crate::evidence::changes::{kind_of, payload_json, FilingCache};
use crate::store::Reader;

/// `changes` arguments as typed.
#[derive(Clone, Debug, Default)]
pub struct ChangesArgs {
    pub gstin: Option<String>,
    pub since: Option<String>,
    /// Only amendments after filing and portal-side changes.
    pub retroactive: bool,
    /// At most this many change rows are read; 0 means all.
    pub limit: u64,
    /// What `--since 7d` counts back from (None: the wall clock).
    pub now: Option<DateTime<Utc>>,
    /// Only this endpoint.
    pub endpoint: Option<String>,
    /// Only the endpoints of this group.
    pub group: Option<String>,
    /// Only this kind: `first-filing`, `amendment`, `portal-side`, `in-progress`.
    pub kind: Option<String>,
}

/// One detected change of a period's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DetectedChange {
    pub seq: Seq,
    pub previous_seq: Seq,
    pub detected_at: Timestamp,
    pub gstin: Gstin,
    pub endpoint: String,
    pub period: Period,
    pub page: u32,
    pub kind: Kind,
    /// An amendment after filing or a portal-side change ([`Kind::is_retroactive`]).
    pub retroactive: bool,
    /// The filing that makes it an amendment (ARN, date).
    pub filing: Option<Filing>,
    /// The documents that moved; empty when none did (only the answer's
    /// totals, checksums or dates) or a payload is not JSON.
    pub documents: Vec<DocumentChange>,
    /// What changed as JSON paths ([`crate::domain::diff::summarize`]); printed
    /// in the `summary` column of a change without documents.
    pub what_changed: String,
}

/// Whether `period` was already closed at `at` ([`crate::domain::change::is_closed`] on its IST date).
pub fn is_retroactive(period: &Period, at: Timestamp) -> bool {
    at.to_datetime()
        .is_some_and(|at| crate::domain::change::is_closed(period, india_date(at)))
}

/// Every change row matching the filters, described.
pub fn changes(store: &Reader, args: &ChangesArgs) -> Result<Vec<DetectedChange>> {
    let since = match &args.since {
        Some(t) => Some(Timestamp::of(parse_instant(
            "--since",
            t,
            DayEnd::Start,
            args.now.unwrap_or_else(Utc::now),
        )?)),
        None => None,
    };
    let kind = match &args.kind {
        Some(k) => Some(Kind::parse(k).ok_or_else(|| {
            input(format!(
                "--kind {k:?}: unknown kind; kinds are {}",
                Kind::ALL.map(Kind::as_str).join(", ")
            ))
        })?),
        None => None,
    };
    let gstin = match &args.gstin {
        Some(g) => Some(archived_gstin(store, g)?),
        None => None,
    };
    let endpoints = match (&args.endpoint, &args.group) {
        (Some(_), Some(_)) => return Err(input("give --endpoint or --group, not both")),
        (Some(e), None) => vec![endpoint_name(e)?],
        (None, Some(g)) => group_endpoints(g)?,
        (None, None) => Vec::new(),
    };
    let rows = store.changes_matching(
        gstin.as_ref(),
        &endpoints,
        since,
        (args.limit > 0).then_some(args.limit),
    )?;
    let mut cache = FilingCache::default();
    let mut out = Vec::new();
    for c in rows {
        let (Some(old), Some(new)) = (store.snapshot(c.previous_seq)?, store.snapshot(c.seq)?) else {
            continue;
        };
        let (found, filing) = kind_of(store, &mut cache, &c, &old)?;
        if args.retroactive && !found.is_retroactive() || kind.is_some_and(|k| k != found) {
            continue;
        }
        let (documents, what_changed) = match (payload_json(store, &old)?, payload_json(store, &new)?) {
            (Some(o), Some(n)) => (
                crate::domain::change::compare(&o, &n),
                crate::domain::diff::summary(&o, &n),
            ),
            _ => (Vec::new(), "payload is not JSON: bytes differ".to_string()),
        };
        out.push(DetectedChange {
            seq: c.seq,
            previous_seq: c.previous_seq,
            detected_at: c.detected_at,
            gstin: c.gstin,
            endpoint: c.endpoint,
            period: c.period,
            page: c.page,
            kind: found,
            retroactive: found.is_retroactive(),
            filing,
            documents,
            what_changed,
        });
    }
    Ok(out)
}
