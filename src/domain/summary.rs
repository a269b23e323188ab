//! The bundle summary as data: everything the bundle's PDF (`summary.pdf`)
//! shows, computed by the domain core from archived payloads and never typed
//! in. The PDF renderer lays this out; queries reuse the same rows. Pure: no IO.

use serde::Serialize;

use super::money::Heads;

/// One row of the snapshot index: one timeline entry (a payload version
/// and the unbroken run of captures that received it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexRow {
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    pub first_seen: String,
    pub last_seen: String,
    /// The log entries proving first and last seen: `12`, or `12, 340`.
    pub log_entries: String,
    pub outcome: String,
    /// First 12 hex digits of the payload SHA-256.
    pub short_hash: String,
}

/// Month-end balances from the archived ledgers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BalanceRow {
    /// `2025-04`.
    pub month: String,
    /// Cash ledger closing balance (all minor heads) by head.
    pub cash: Heads,
    /// ITC ledger closing balance by head.
    pub itc: Heads,
    /// Where the figures come from (endpoint names), or why missing.
    pub source: String,
}

/// What a reconciliation row found: the three counts the cover gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The figures agree (within ₹1 per head).
    Agrees,
    /// The figures differ: the finding says by how much and what it means.
    Differs,
    /// One side is missing or unreadable: nothing was compared, and the
    /// finding says what is missing. Never read as agreeing.
    CouldNotReconcile,
}

impl Verdict {
    /// "agrees", "differs", "could not be reconciled".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Agrees => "agrees",
            Verdict::Differs => "differs",
            Verdict::CouldNotReconcile => "could not be reconciled",
        }
    }

    /// Anything but agreeing is a finding.
    pub fn is_finding(self) -> bool {
        self != Verdict::Agrees
    }
}

/// GSTR-3B liability and payment against the ledger debits of the same period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentRow {
    pub month: String,
    /// 3B tax payable (net_tax_pay / outward tax).
    pub liability: Heads,
    /// 3B paid in cash (`pdcash`).
    pub paid_cash: Heads,
    /// 3B paid through ITC (`pditc`), by the head debited.
    pub paid_itc: Heads,
    /// Cash ledger debits for the period.
    pub cash_debits: Heads,
    /// ITC ledger debits for the period.
    pub itc_debits: Heads,
    /// "agrees", or what differs, or what could not be checked.
    pub finding: String,
    pub verdict: Verdict,
}

/// Two figures by head that should agree (GSTR-1 vs 3B outward tax; 2B ITC vs 3B ITC claimed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompareRow {
    pub month: String,
    pub left: Heads,
    pub right: Heads,
    /// left − right.
    pub difference: Heads,
    /// "agrees", or the auditor's reading (short payment, excess ITC, ...).
    pub finding: String,
    pub verdict: Verdict,
}

/// One row of GSTR-3B table 4 against its GSTR-2B source (`reconcile::itc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItcRow {
    pub month: String,
    /// `4A(1)` ... `4D(2)`, or `4` when a whole return is missing, `2B` for a
    /// 2B section that feeds no row.
    pub table: String,
    /// What the 2B figure is made of (`2B itcavl.nonrevsup − othersup cdnr, cdnra`),
    /// or that 2B has no source for the row.
    pub source: String,
    pub gstr2b: Heads,
    pub gstr3b: Heads,
    /// gstr2b − gstr3b.
    pub difference: Heads,
    pub finding: String,
    pub verdict: Verdict,
}

/// One figure of the GSTR-2B ITC summary: a section's total or one of its parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItcSummaryRow {
    pub month: String,
    /// `ITC available`, `ITC not available`, `ITC reversal`, `ITC rejected (IMS)`.
    pub bucket: String,
    /// `nonrevsup`, `othersup`, ...
    pub section: String,
    /// `total`, or the part (`b2b`, `cdnr`, ...).
    pub part: String,
    pub heads: Heads,
}

/// A change detected between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    pub detected_at: String,
    pub endpoint: String,
    pub period: String,
    /// One line: what changed (paths added, removed, changed).
    pub what_changed: String,
}

/// The whole summary of one bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub gstin: String,
    pub legal_name: Option<String>,
    /// `2025-04` or `FY2025-26`.
    pub period: String,
    /// RFC 3339.
    pub as_of: String,
    pub bundle_id: String,
    pub organization: String,
    pub checkpoint_origin: String,
    pub checkpoint_size: u64,
    pub checkpoint_root: String,
    pub key_id: String,
    pub key_fingerprint: String,
    /// The API origins the bundle's answers were fetched from (`domain::origin`).
    pub sources: Vec<String>,
    /// True when any answer came from a simulator (a loopback origin): every
    /// page then says it is simulated data, not portal evidence.
    pub simulated: bool,
    pub snapshots: Vec<IndexRow>,
    pub balances: Vec<BalanceRow>,
    pub payments: Vec<PaymentRow>,
    /// GSTR-1 outward tax (left) vs GSTR-3B outward tax (right).
    pub outward: Vec<CompareRow>,
    /// GSTR-3B table 4 row by row against its GSTR-2B source.
    pub itc: Vec<ItcRow>,
    /// GSTR-2B ITC by bucket, section and head.
    pub itc_summary: Vec<ItcSummaryRow>,
    pub changes: Vec<ChangeLine>,
    /// Things the summary could not compute, said plainly.
    pub notes: Vec<String>,
}
