//! Builds the bundle's [`Summary`] from the archive: the snapshot index, and
//! the figures and differences the domain core ([`crate::domain::reconcile`],
//! [`crate::domain::diff`]) computes from archived payloads. Nothing here is typed in:
//! every amount comes from a payload as the portal returned it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::period::{Month, Period};
use crate::domain::reconcile::{self, MonthEvidence};
use crate::domain::summary::{ChangeLine, IndexRow, Summary};
use crate::domain::time::Timestamp;
use crate::evidence::scope::Scope;
use crate::evidence::scope::Version;
use crate::evidence::signing::KeyInfo;
use crate::store::{ChangeRow, CheckpointRow, Reader, SnapshotRow, StoreError};

/// Most change lines a summary lists (the index and the archive hold the rest).
const MAX_CHANGES: usize = 500;

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
pub const RECONCILED_ENDPOINTS: [&str; 6] = [
    "ledger-balance",
    "ledger-cash",
    "ledger-itc",
    "gstr-3b",
    "gstr-1-summary",
    "gstr-2b",
];

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

/// Builds the report. Fails only when the archive cannot be read.
/// The one-line summaries of `changes`, in order. A key's changes chain (one's
/// new payload is the next one's old), so the last document parsed is kept.
fn change_summaries(changes: &[ChangeRow], bytes: &HashMap<Digest, Option<Vec<u8>>>) -> Vec<String> {
    let document = |sha: &Digest| -> Option<Value> {
        bytes
            .get(sha)
            .and_then(|b| b.as_deref())
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
    };
    let mut kept: Option<(Digest, Option<Value>)> = None;
    changes
        .iter()
        .map(|change| {
            let old = match kept.take() {
                Some((sha, value)) if sha == change.old_payload_sha256 => value,
                _ => document(&change.old_payload_sha256),
            };
            let new = document(&change.new_payload_sha256);
            let summary = match (&old, &new) {
                (Some(old), Some(new)) => crate::domain::diff::summary(old, new),
                _ => "payload is not JSON: bytes differ".to_string(),
            };
            kept = Some((change.new_payload_sha256, new));
            summary
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

pub fn build(store: &Reader, input: &SummaryInput<'_>) -> Result<Summary, StoreError> {
    let snapshots = input
        .versions
        .iter()
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
    };
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
            continue;
        }
        report.balances.push(row.balance);
        match row.payment {
            Some(payment) => report.payments.push(payment),
            None => report.notes.push(format!(
                "{month}: GSTR-3B not filed or not archived: payment not reconciled"
            )),
        }
        match row.outward {
            Some(outward) => report.outward.push(outward),
            None => report
                .notes
                .push(format!("{month}: GSTR-1 or GSTR-3B missing: outward tax not compared")),
        }
        report.itc.extend(row.itc);
        report.itc_summary.extend(row.itc_summary);
    }
    if !report.itc_summary.is_empty() {
        report.notes.push(
            "GSTR-2B has no source for 3B table 4A(2) (imports of services), 4B(1) and 4D(1): those rows are listed only when 3B reports an amount, as not reconciled".to_string(),
        );
    }

    let changes = store.changes_for_bundle(input.gstin, &input.scope.periods(), Timestamp::of(input.as_of))?;
    // Change lines: a structural diff per change. Payloads are read in
    // chunks (bounded memory), then each half of a chunk is parsed and diffed
    // on its own thread: on a bundle of large documents this is most of the
    // export's time.
    let shown = &changes[..changes.len().min(MAX_CHANGES)];
    for chunk in shown.chunks(DIFF_CHUNK) {
        let mut bytes: HashMap<Digest, Option<Vec<u8>>> = HashMap::new();
        for change in chunk {
            for sha in [change.old_payload_sha256, change.new_payload_sha256] {
                if let std::collections::hash_map::Entry::Vacant(slot) = bytes.entry(sha) {
                    slot.insert(store.payload(&sha)?);
                }
            }
        }
        let bytes = &bytes;
        let summaries: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = chunk
                .chunks(chunk.len().div_ceil(2))
                .map(|part| scope.spawn(move || change_summaries(part, bytes)))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a diff thread panicked"))
                .collect()
        });
        for (change, summary) in chunk.iter().zip(summaries) {
            report.changes.push(ChangeLine {
                detected_at: ist(change.detected_at),
                endpoint: change.endpoint.clone(),
                period: change.period.to_string(),
                what_changed: summary,
            });
        }
    }
    if changes.len() > MAX_CHANGES {
        report.notes.push(format!(
            "{} more changes are in the archive (`gstvault changes`)",
            changes.len() - MAX_CHANGES
        ));
    }
    let failures = input.rows.iter().filter(|r| r.body_sha256.is_none()).count();
    if failures > 0 {
        report.notes.push(format!("{failures} request(s) failed without an answer (transport errors): listed in the archive, not in this bundle"));
    }
    Ok(report)
}
