//! Builds the bundle's [`Summary`] from the archive: the snapshot index, and
//! the figures and differences the domain core ([`crate::domain::reconcile`],
//! [`crate::domain::change`]) computes from archived payloads. Nothing here is typed in:
//! every amount comes from a payload as the portal returned it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::change::DocumentChange;
use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::money::Heads;
use crate::domain::period::{Month, Period};
use crate::domain::reconcile::{self, MonthEvidence};
use crate::domain::returns::{self, gstr1, gstr3b, gstr9, ledger, ReturnMonth};
use crate::domain::summary::{
    ChangeLine, CompareRow, FilingRow, IndexRow, LedgerRow, PaymentRow, SetOffRow, Summary, Verdict,
};
use crate::domain::time::Timestamp;
use crate::evidence::changes::FilingCache;
use crate::evidence::scope::Scope;
use crate::evidence::scope::Version;
use crate::evidence::signing::KeyInfo;
use crate::store::{ChangeRow, CheckpointRow, Reader, SnapshotRow, StoreError};

/// Most change lines a summary lists (the index and the archive hold the rest).
const MAX_CHANGES: usize = 500;

/// Most document lines those changes give (one change of a big return can
/// move hundreds of documents; the archive holds them all).
const MAX_CHANGE_LINES: usize = 2000;

/// Changes whose payloads are held in memory at once while their lines are made.
const DIFF_CHUNK: usize = 32;

pub struct SummaryInput<'a> {
    pub gstin: &'a Gstin,
    pub legal_name: Option<String>,
    pub organization: String,
    pub scope: Scope,
    pub as_of: DateTime<Utc>,
    pub bundle_id: String,
    pub checkpoint: &'a CheckpointRow,
    pub key: &'a KeyInfo,
    /// Every snapshot in scope up to the as-of instant, in log order.
    pub rows: &'a [SnapshotRow],
    pub versions: &'a [Version],
}

/// The latest parsed payload of each (endpoint, period, page).
pub type Payloads = BTreeMap<(String, Period, u32), Value>;

/// The endpoints reconciliation reads.
pub const RECONCILED_ENDPOINTS: [&str; 10] = [
    "gstr-9",
    "gstr-9-auto-calculated",
    "ledger-balance",
    "ledger-cash",
    "ledger-itc",
    "gstr-3b",
    "gstr-3b-auto-liability",
    "gstr-1-summary",
    "gstr-2b",
    "return-track",
];

/// The log entry of the latest `ok` answer of each (endpoint, period, page):
/// the snapshot a figure of the summary comes from.
pub fn latest_seqs(rows: &[SnapshotRow]) -> BTreeMap<(String, Period, u32), u64> {
    rows.iter()
        .filter(|r| r.outcome == Outcome::Ok && r.payload_sha256.is_some())
        .map(|r| ((r.endpoint.clone(), r.period, r.page), r.seq.0))
        .collect()
}

/// The latest `ok` payload of each (endpoint, period, page) in `rows`, for the
/// endpoints reconciliation reads (parsed JSON is large: the rest stays unread).
pub fn latest_payloads(store: &Reader, rows: &[SnapshotRow]) -> Result<Payloads, StoreError> {
    let mut latest: BTreeMap<(String, Period, u32), &SnapshotRow> = BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| r.outcome == Outcome::Ok && RECONCILED_ENDPOINTS.contains(&r.endpoint.as_str()))
    {
        latest.insert((row.endpoint.clone(), row.period, row.page), row);
    }
    let mut out = BTreeMap::new();
    for (key, row) in latest {
        let Some(sha) = &row.payload_sha256 else { continue };
        if let Some(bytes) = store.payload(sha)? {
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                out.insert(key, value);
            }
        }
    }
    Ok(out)
}

/// Month evidence for reconciliation from the latest payloads.
pub fn month_evidence(payloads: &Payloads, month: Month) -> MonthEvidence<'_> {
    let period = Period::Month(month);
    let get = |endpoint: &str| payloads.get(&(endpoint.to_string(), period, 0));
    let gstr2b: Vec<&Value> = payloads
        .range((String::from("gstr-2b"), period, 0)..=(String::from("gstr-2b"), period, u32::MAX))
        .map(|(_, v)| v)
        .collect();
    MonthEvidence {
        month,
        ledger_balance: get("ledger-balance"),
        ledger_cash: get("ledger-cash"),
        ledger_itc: get("ledger-itc"),
        gstr3b: get("gstr-3b"),
        gstr1_summary: get("gstr-1-summary"),
        gstr2b,
    }
}

/// The FY charts' series of `gstin` as archived at `as_of` (the web view's
/// GSTIN page): the same reconciliations and ledgers a year's bundle draws,
/// from the same payloads (each key's latest answer with data as of
/// `as_of`), with `changes` (each changed document's period and kind) given.
/// `keys` are the GSTIN's archived keys ([`Reader::key_summaries`]); only
/// those of the reconciled endpoints in the year's months (and the month
/// after, whose ledgers record the year's last payment) are read, one
/// indexed lookup each, not the year's every snapshot row.
pub fn year_series(
    store: &Reader,
    gstin: &Gstin,
    fy: crate::domain::period::FinancialYear,
    as_of: DateTime<Utc>,
    keys: &[crate::store::KeySummary],
    changes: Vec<(String, crate::domain::change::Kind)>,
) -> Result<YearSeries, StoreError> {
    let mut months = fy.months();
    months.push(fy.last_month().next());
    let mut payloads: Payloads = BTreeMap::new();
    for k in keys.iter().filter(|k| {
        RECONCILED_ENDPOINTS.contains(&k.endpoint.as_str())
            && matches!(k.period, Period::Month(m) if months.contains(&m))
    }) {
        let key = (gstin, k.endpoint.as_str(), &k.period, k.page);
        let Some(row) = store.snapshot_as_of(key, Timestamp::of(as_of), &[Outcome::Ok])? else {
            continue;
        };
        let Some(sha) = &row.payload_sha256 else { continue };
        if let Some(bytes) = store.payload(sha)? {
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                payloads.insert((k.endpoint.clone(), k.period, k.page), value);
            }
        }
    }
    let evidence: Vec<MonthEvidence<'_>> = months.iter().map(|m| month_evidence(&payloads, *m)).collect();
    let month_rows = reconcile::month_rows(&evidence);
    let (mut payments, mut balances, mut itc, mut ledgers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut verdicts = Vec::new();
    for (e, row) in evidence.iter().zip(month_rows).take(months.len() - 1) {
        if e.ledger_balance.is_some() || e.ledger_cash.is_some() || e.gstr3b.is_some() {
            balances.push(row.balance);
        }
        verdicts.extend(row.payment.iter().map(|r| (e.month, r.verdict)));
        verdicts.extend(row.outward.iter().map(|r| (e.month, r.verdict)));
        verdicts.extend(row.itc.iter().map(|r| (e.month, r.verdict)));
        payments.extend(row.payment);
        itc.extend(row.itc);
        for (ledger, read) in [
            (e.ledger_cash, ledger::cash as fn(&Value) -> Option<ledger::Statement>),
            (e.ledger_itc, ledger::credit),
        ] {
            if let Some(statement) = ledger.and_then(read) {
                ledgers.push(LedgerRow {
                    month: e.month.to_string(),
                    statement,
                    partial: false,
                    source: String::new(),
                });
            }
        }
    }
    let points = crate::domain::charts::series_of(&crate::domain::charts::Figures {
        payments: &payments,
        balances: &balances,
        itc: &itc,
        ledgers: &ledgers,
        changes,
    });
    Ok(YearSeries { points, verdicts })
}

/// A year's chart series and the verdict of each reconciliation row behind
/// them (3B payment, GSTR-1 against 3B, 3B table 4 against 2B), by month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearSeries {
    pub points: Vec<crate::domain::charts::MonthPoint>,
    pub verdicts: Vec<(Month, Verdict)>,
}

/// `endpoint 2026-04, log entry 1234`.
fn source_of(seqs: &BTreeMap<(String, Period, u32), u64>, endpoint: &str, period: Period) -> (String, Option<u64>) {
    match seqs.get(&(endpoint.to_string(), period, 0)) {
        Some(seq) => (format!("{endpoint} {period}, log entry {seq}"), Some(*seq)),
        None => (format!("{endpoint} {period}"), None),
    }
}

/// The returns of each month in the portal's layout: filing status, GSTR-3B
/// and its auto-computed liability, the GSTR-1 table-wise summary, the
/// ledgers and the set-off, each with the snapshot it comes from.
fn returns_in_layout(
    report: &mut Summary,
    payloads: &Payloads,
    seqs: &BTreeMap<(String, Period, u32), u64>,
    months: &[Month],
) {
    for &month in months {
        let period = Period::Month(month);
        let get = |endpoint: &str| payloads.get(&(endpoint.to_string(), period, 0));
        if let Some(track) = get("return-track") {
            let (source, _) = source_of(seqs, "return-track", period);
            for filing in returns::filing::filings(track) {
                report.filings.push(FilingRow {
                    filing,
                    source: source.clone(),
                });
            }
        }
        let month_of = |endpoint: &str, tables: Vec<returns::ReturnTable>| {
            let (source, seq) = source_of(seqs, endpoint, period);
            ReturnMonth {
                month: month.to_string(),
                source,
                seq,
                tables,
            }
        };
        if let Some(r3b) = get("gstr-3b") {
            report.gstr3b.push(month_of("gstr-3b", gstr3b::tables(r3b)));
            let used = gstr3b::used_credit(r3b);
            let cash = gstr3b::table_6_1(r3b)
                .map(|t| Heads {
                    igst: t.value("Integrated tax", "Tax paid in cash").unwrap_or(0),
                    cgst: t.value("Central tax", "Tax paid in cash").unwrap_or(0),
                    sgst: t.value("State/UT tax", "Tax paid in cash").unwrap_or(0),
                    cess: t.value("Cess", "Tax paid in cash").unwrap_or(0),
                })
                .unwrap_or_default();
            report.set_offs.push(SetOffRow {
                month: month.to_string(),
                set_off: ledger::set_off(&used, &cash),
                source: source_of(seqs, "gstr-3b", period).0,
            });
        }
        if let Some(auto) = get("gstr-3b-auto-liability") {
            report
                .auto_liability
                .push(month_of("gstr-3b-auto-liability", gstr3b::auto_liability_tables(auto)));
        }
        if let Some(table) = get("gstr-1-summary").and_then(gstr1::table) {
            report.gstr1.push(month_of("gstr-1-summary", vec![table]));
        }
        for (endpoint, read) in [
            ("ledger-cash", ledger::cash as fn(&Value) -> Option<ledger::Statement>),
            ("ledger-itc", ledger::credit),
        ] {
            if let Some(statement) = get(endpoint).and_then(read) {
                let partial =
                    crate::domain::period::parse_ledger_date(&statement.to).is_some_and(|to| to < month.last_day());
                report.ledgers.push(LedgerRow {
                    month: month.to_string(),
                    statement,
                    partial,
                    source: source_of(seqs, endpoint, period).0,
                });
            }
        }
    }
}

/// The documents that moved in each of `changes` (None: a payload is not
/// JSON), in order. A key's changes chain (one's new payload is the next
/// one's old), so the last document parsed is kept. A `no_data` side is `{}`.
fn change_documents(
    changes: &[(&ChangeRow, bool, bool)],
    bytes: &HashMap<Digest, Option<Vec<u8>>>,
) -> Vec<Option<Vec<DocumentChange>>> {
    let document = |sha: &Digest, no_data: bool| -> Option<Value> {
        if no_data {
            return Some(Value::Object(serde_json::Map::new()));
        }
        bytes
            .get(sha)
            .and_then(|b| b.as_deref())
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
    };
    let mut kept: Option<(Digest, Option<Value>)> = None;
    changes
        .iter()
        .map(|(change, old_no_data, new_no_data)| {
            let old = match kept.take() {
                Some((sha, value)) if sha == change.old_payload_sha256 && !old_no_data => value,
                _ => document(&change.old_payload_sha256, *old_no_data),
            };
            let new = document(&change.new_payload_sha256, *new_no_data);
            let documents = match (&old, &new) {
                (Some(old), Some(new)) => Some(crate::domain::change::compare(old, new)),
                _ => None,
            };
            kept = Some((change.new_payload_sha256, new));
            documents
        })
        .collect()
}

/// A time in the summary: IST to the second with its offset, whatever the
/// exporter's `[display] timezone` (a bundle's bytes never depend on who
/// exported it, and its readers are Indian auditors).
fn ist(t: Timestamp) -> String {
    t.to_datetime()
        .map(|t| crate::domain::time::Zone::IST.human(t))
        .unwrap_or_else(|| t.to_string())
}

/// Builds the report. Fails only when the archive cannot be read.
pub fn build(store: &Reader, input: &SummaryInput<'_>) -> Result<Summary, StoreError> {
    // The index is an appendix a reader looks things up in: by endpoint
    // group (in catalog order), endpoint, period, page, then first seen.
    let group_of = |endpoint: &str| {
        crate::domain::catalog::find(endpoint)
            .and_then(|e| crate::domain::catalog::Group::ALL.iter().position(|g| *g == e.group))
            .unwrap_or(usize::MAX)
    };
    let mut versions: Vec<&Version> = input.versions.iter().collect();
    versions.sort_by(|a, b| {
        (
            group_of(&a.first.endpoint),
            &a.first.endpoint,
            a.first.period,
            a.first.page,
            a.first.seq,
        )
            .cmp(&(
                group_of(&b.first.endpoint),
                &b.first.endpoint,
                b.first.period,
                b.first.page,
                b.first.seq,
            ))
    });
    let snapshots = versions
        .into_iter()
        .map(|v| IndexRow {
            endpoint: v.first.endpoint.clone(),
            period: v.first.period.to_string(),
            page: v.first.page,
            first_seen: ist(v.first.received_at),
            last_seen: ist(v.last_seen()),
            log_entries: v
                .proven()
                .iter()
                .map(|r| r.seq.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            outcome: v.first.outcome.to_string(),
            code: if v.first.outcome == Outcome::Ok {
                String::new()
            } else {
                v.first.error_cd.clone().unwrap_or_default()
            },
            short_hash: v.first.payload_sha256.map(|d| d.short()).unwrap_or_default(),
        })
        .collect();

    let payloads = latest_payloads(store, input.rows)?;
    let (sources, simulated) = crate::evidence::scope::sources(input.rows);
    let mut report = Summary {
        gstin: input.gstin.to_string(),
        legal_name: input.legal_name.clone(),
        period: input.scope.label(),
        as_of: crate::domain::time::Zone::IST.human(input.as_of),
        bundle_id: input.bundle_id.clone(),
        organization: input.organization.clone(),
        checkpoint_origin: input.checkpoint.origin.clone(),
        checkpoint_size: input.checkpoint.size,
        checkpoint_root: input.checkpoint.root.hex(),
        key_id: input.key.key_id.clone(),
        key_fingerprint: input.key.fingerprint.clone(),
        sources,
        simulated,
        snapshots,
        balances: Vec::new(),
        payments: Vec::new(),
        outward: Vec::new(),
        itc: Vec::new(),
        itc_summary: Vec::new(),
        changes: Vec::new(),
        notes: Vec::new(),
        filings: Vec::new(),
        gstr3b: Vec::new(),
        auto_liability: Vec::new(),
        gstr1: Vec::new(),
        gstr9: Vec::new(),
        ledgers: Vec::new(),
        set_offs: Vec::new(),
    };
    let seqs = latest_seqs(input.rows);
    returns_in_layout(&mut report, &payloads, &seqs, &input.scope.months());
    if let Scope::Year(fy) = input.scope {
        let period = Period::Year(fy);
        // The return as filed when archived, else GSTN's computed figures.
        for endpoint in ["gstr-9", "gstr-9-auto-calculated"] {
            let Some(payload) = payloads.get(&(endpoint.to_string(), period, 0)) else {
                continue;
            };
            let tables = gstr9::tables(payload);
            if tables.is_empty() {
                continue;
            }
            let (source, seq) = source_of(&seqs, endpoint, period);
            report.gstr9.push(ReturnMonth {
                month: fy.label(),
                source,
                seq,
                tables,
            });
            break;
        }
    }
    // The month after the scope contributes its ledgers: the last month's 3B is paid then.
    let mut months = input.scope.months();
    if let Some(last) = months.last().copied() {
        months.push(last.next());
    }
    let evidence: Vec<MonthEvidence<'_>> = months.iter().map(|m| month_evidence(&payloads, *m)).collect();
    let rows = reconcile::month_rows(&evidence);
    for (e, row) in evidence.iter().zip(rows).take(months.len() - 1) {
        let month = e.month;
        if e.ledger_balance.is_none() && e.ledger_cash.is_none() && e.gstr3b.is_none() {
            report.notes.push(format!(
                "{month}: no ledger or GSTR-3B answer archived up to the as-of time"
            ));
        } else {
            report.balances.push(row.balance);
        }
        report.payments.push(row.payment.unwrap_or_else(|| PaymentRow {
            month: month.to_string(),
            liability: Heads::default(),
            paid_cash: Heads::default(),
            paid_itc: Heads::default(),
            cash_debits: Heads::default(),
            itc_debits: Heads::default(),
            finding: "GSTR-3B not filed or not archived up to the as-of time: payment not reconciled".into(),
            verdict: Verdict::CouldNotReconcile,
        }));
        let missing = |what: &str| CompareRow {
            month: month.to_string(),
            left: Heads::default(),
            right: Heads::default(),
            difference: Heads::default(),
            finding: format!("{what} not archived up to the as-of time: not compared"),
            verdict: Verdict::CouldNotReconcile,
        };
        report.outward.push(row.outward.unwrap_or_else(|| {
            missing(match (e.gstr1_summary.is_some(), e.gstr3b.is_some()) {
                (false, false) => "GSTR-1 summary and GSTR-3B",
                (false, true) => "GSTR-1 summary",
                _ => "GSTR-3B",
            })
        }));
        report.itc.extend(row.itc);
        report.itc_summary.extend(row.itc_summary);
    }
    if !report.itc_summary.is_empty() {
        report.notes.push(
            "GSTR-2B has no source for 3B table 4A(2) (imports of services), 4B(1) and 4D(1): those rows are listed only when 3B reports an amount, as not reconciled".to_string(),
        );
    }

    let changes = store.changes_for_bundle(input.gstin, &input.scope.periods(), Timestamp::of(input.as_of))?;
    // Change lines: the documents that moved in each change, and its kind.
    // Payloads are read in chunks (bounded memory), then each half of a
    // chunk is parsed and compared on its own thread: on a bundle of large
    // documents this is most of the export's time.
    let shown = &changes[..changes.len().min(MAX_CHANGES)];
    let mut filings = FilingCache::default();
    // Bounded: lines stop at MAX_CHANGE_LINES, and once they are full the
    // remaining changes are counted, not compared (a change of a large
    // document can move thousands of them).
    let mut documents_left_out = 0usize;
    let mut changes_not_compared = 0usize;
    for (i, chunk) in shown.chunks(DIFF_CHUNK).enumerate() {
        if report.changes.len() >= MAX_CHANGE_LINES {
            changes_not_compared = shown.len() - i * DIFF_CHUNK;
            break;
        }
        let mut bytes: HashMap<Digest, Option<Vec<u8>>> = HashMap::new();
        let mut described = Vec::with_capacity(chunk.len());
        for change in chunk {
            let (Some(old), Some(new)) = (store.snapshot(change.previous_seq)?, store.snapshot(change.seq)?) else {
                continue;
            };
            let (kind, filing) = crate::evidence::changes::kind_of(store, &mut filings, change, &old)?;
            for sha in [change.old_payload_sha256, change.new_payload_sha256] {
                if let std::collections::hash_map::Entry::Vacant(slot) = bytes.entry(sha) {
                    slot.insert(store.payload(&sha)?);
                }
            }
            described.push((
                (change, old.outcome == Outcome::NoData, new.outcome == Outcome::NoData),
                (kind, filing),
            ));
        }
        let pairs: Vec<(&ChangeRow, bool, bool)> = described.iter().map(|(p, _)| *p).collect();
        let bytes = &bytes;
        let documents: Vec<Option<Vec<DocumentChange>>> = if pairs.is_empty() {
            Vec::new()
        } else {
            std::thread::scope(|scope| {
                let workers: Vec<_> = pairs
                    .chunks(pairs.len().div_ceil(2))
                    .map(|part| scope.spawn(move || change_documents(part, bytes)))
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().expect("a comparison thread panicked"))
                    .collect()
            })
        };
        for (((change, _, _), (kind, filing)), documents) in described.into_iter().zip(documents) {
            let line = |document: Option<DocumentChange>| ChangeLine {
                detected_at: ist(change.detected_at),
                endpoint: change.endpoint.clone(),
                period: change.period.to_string(),
                kind,
                arn: filing.as_ref().map(|f| f.arn.clone()),
                document,
            };
            let room = MAX_CHANGE_LINES.saturating_sub(report.changes.len());
            match documents {
                Some(list) if !list.is_empty() => {
                    documents_left_out += list.len().saturating_sub(room);
                    report
                        .changes
                        .extend(list.into_iter().take(room).map(|d| line(Some(d))));
                }
                _ if room == 0 => documents_left_out += 1,
                _ => report.changes.push(line(None)),
            }
        }
    }
    if documents_left_out > 0 {
        report.notes.push(format!(
            "{documents_left_out} more changed documents are in the archive (`gstvault changes`)"
        ));
    }
    let not_listed = changes.len().saturating_sub(MAX_CHANGES) + changes_not_compared;
    if not_listed > 0 {
        report.notes.push(format!(
            "{not_listed} more changes are in the archive (`gstvault changes`)"
        ));
    }
    let failures = input.rows.iter().filter(|r| r.body_sha256.is_none()).count();
    if failures > 0 {
        report.notes.push(format!("{failures} request(s) failed without an answer (transport errors): listed in the archive, not in this bundle"));
    }
    Ok(report)
}
