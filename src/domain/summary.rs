//! The bundle summary as data: everything the bundle's PDF (`summary.pdf`)
//! shows, computed by the domain core from archived payloads and never typed
//! in. The PDF renderer lays this out; queries reuse the same rows. Pure: no IO.

use serde::Serialize;

use super::money::Heads;
use super::returns::filing::Filing;
use super::returns::ledger::{Ledger, SetOff, Statement};
use super::returns::ReturnMonth;

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
    /// The portal's status or error code for an answer without data
    /// (`RET11416`), empty for `ok`.
    pub code: String,
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

/// A change detected between two snapshots, in business terms
/// ([`super::change`]): one line per document that moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    pub detected_at: String,
    pub endpoint: String,
    pub period: String,
    pub kind: super::change::Kind,
    /// The ARN of the filing that makes it an amendment.
    pub arn: Option<String>,
    /// None when no document moved (only the answer's totals, checksums or
    /// dates did, or its payload could not be read).
    pub document: Option<super::change::DocumentChange>,
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
    /// Filing status of each return and period in scope, from return tracking.
    pub filings: Vec<FilingRow>,
    /// GSTR-3B of each month in the portal's layout.
    pub gstr3b: Vec<ReturnMonth>,
    /// The portal's auto-computed 3B liability (tables 3.1, 3.2) of each month.
    pub auto_liability: Vec<ReturnMonth>,
    /// GSTR-1 table-wise summary of each month.
    pub gstr1: Vec<ReturnMonth>,
    /// GSTR-9 of a financial-year bundle, when archived (its period is the FY).
    pub gstr9: Vec<ReturnMonth>,
    /// The cash and credit ledger of each month: opening, credits, debits, closing.
    pub ledgers: Vec<LedgerRow>,
    /// Each month's set-off of its 3B liability, explained.
    pub set_offs: Vec<SetOffRow>,
}

/// One filing, with the snapshot it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilingRow {
    pub filing: Filing,
    /// `return-track 2026-04, log entry 1234`.
    pub source: String,
}

/// One month of one ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerRow {
    pub month: String,
    pub statement: Statement,
    /// True when the ledger's range ends before the month does (captured
    /// mid-month): its closing balance is the balance at capture, not at month end.
    pub partial: bool,
    pub source: String,
}

/// One ledger over a financial year: the row as the ledger section shows
/// it, and the breaks between months ([`Statement::breaks`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerYear {
    pub row: LedgerRow,
    pub breaks: Heads,
}

/// One month's set-off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetOffRow {
    pub month: String,
    pub set_off: SetOff,
    pub source: String,
}

/// Which part of the summary a finding is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Ledgers,
    SetOff,
    Payments,
    Outward,
    Itc,
}

/// One finding of the summary: anything but "agrees", in section order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub section: Section,
    pub period: String,
    pub verdict: Verdict,
    /// The finding as its section words it.
    pub what: String,
    /// What the difference is of, e.g. "GSTR-1 − GSTR-3B".
    pub of: &'static str,
    /// By head; None where the heads are not comparable (or nothing was compared).
    pub by_head: Option<Heads>,
    /// The difference in total, paise (0 when nothing was compared).
    pub total: i64,
}

/// How many rows agree, differ and could not be reconciled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub agrees: usize,
    pub differs: usize,
    pub could_not_reconcile: usize,
}

impl Summary {
    /// Every finding, in the order of the PDF's sections.
    /// For a financial-year summary, each ledger over the year (the FY
    /// total row of the ledger section): None for a month's summary or a
    /// ledger with fewer than two months. The row's month is the period
    /// (`FY 2026-27`) and its source names the months it adds.
    pub fn ledger_years(&self) -> Vec<LedgerYear> {
        if !self.period.starts_with("FY") {
            return Vec::new();
        }
        [Ledger::Cash, Ledger::Credit]
            .into_iter()
            .filter_map(|kind| {
                let months: Vec<&LedgerRow> = self.ledgers.iter().filter(|r| r.statement.ledger == kind).collect();
                let statements: Vec<&Statement> = months.iter().map(|r| &r.statement).collect();
                if statements.len() < 2 {
                    return None;
                }
                let statement = crate::domain::returns::ledger::over(&statements)?;
                let breaks = statement.breaks(&statements);
                Some(LedgerYear {
                    row: LedgerRow {
                        month: self.period.clone(),
                        partial: months.last().is_some_and(|r| r.partial),
                        source: format!(
                            "the {} months above, {} to {}",
                            months.len(),
                            months[0].month,
                            months[months.len() - 1].month
                        ),
                        statement,
                    },
                    breaks,
                })
            })
            .collect()
    }

    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for row in self.ledgers.iter().filter(|r| !r.statement.discrepancy.is_zero()) {
            out.push(Finding {
                section: Section::Ledgers,
                period: row.month.clone(),
                verdict: Verdict::Differs,
                what: format!(
                    "{} does not add up: opening + credits − debits − closing = ₹{}",
                    row.statement.ledger.name(),
                    crate::domain::money::rupees(row.statement.discrepancy.total())
                ),
                of: "opening + credits − debits − closing",
                by_head: Some(row.statement.discrepancy),
                total: row.statement.discrepancy.total(),
            });
        }
        for year in self.ledger_years().iter().filter(|y| !y.breaks.is_zero()) {
            out.push(Finding {
                section: Section::Ledgers,
                period: year.row.month.clone(),
                verdict: Verdict::Differs,
                what: format!(
                    "{} over the year: a month opens at other than the last month's closing (₹{} in all; a month not archived, or a balance not carried forward)",
                    year.row.statement.ledger.name(),
                    crate::domain::money::rupees(year.breaks.total().abs())
                ),
                of: "closing − next month's opening, summed",
                by_head: Some(year.breaks),
                total: year.breaks.total(),
            });
        }
        for row in &self.set_offs {
            for problem in &row.set_off.problems {
                out.push(Finding {
                    section: Section::SetOff,
                    period: row.month.clone(),
                    verdict: Verdict::Differs,
                    what: problem.clone(),
                    of: "set-off order",
                    by_head: None,
                    total: 0,
                });
            }
        }
        for row in self.payments.iter().filter(|r| r.verdict.is_finding()) {
            // 3B's ITC paid is by the credit head consumed, not by the liability's
            // head (IGST credit pays CGST): only the total is comparable.
            let compared = row.verdict == Verdict::Differs;
            out.push(Finding {
                section: Section::Payments,
                period: row.month.clone(),
                verdict: row.verdict,
                what: row.finding.clone(),
                of: "3B liability − paid in cash − paid through ITC (total)",
                by_head: None,
                total: if compared {
                    row.liability.total() - row.paid_cash.total() - row.paid_itc.total()
                } else {
                    0
                },
            });
        }
        for row in self.outward.iter().filter(|r| r.verdict.is_finding()) {
            let compared = row.verdict == Verdict::Differs;
            out.push(Finding {
                section: Section::Outward,
                period: row.month.clone(),
                verdict: row.verdict,
                what: row.finding.clone(),
                of: "GSTR-1 − GSTR-3B",
                by_head: compared.then_some(row.difference),
                total: if compared { row.difference.total() } else { 0 },
            });
        }
        for row in self.itc.iter().filter(|r| r.verdict.is_finding()) {
            let compared = row.verdict == Verdict::Differs;
            out.push(Finding {
                section: Section::Itc,
                period: row.month.clone(),
                verdict: row.verdict,
                what: format!("3B table {}: {}", row.table, row.finding),
                of: "GSTR-2B − GSTR-3B, one row of table 4",
                by_head: compared.then_some(row.difference),
                total: if compared { row.difference.total() } else { 0 },
            });
        }
        out
    }

    /// The reconciliation rows counted by verdict (ledger arithmetic and
    /// set-off count too: each ledger month and each set-off is a row).
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        let mut add = |v: Verdict| match v {
            Verdict::Agrees => c.agrees += 1,
            Verdict::Differs => c.differs += 1,
            Verdict::CouldNotReconcile => c.could_not_reconcile += 1,
        };
        for row in &self.ledgers {
            add(if row.statement.discrepancy.is_zero() {
                Verdict::Agrees
            } else {
                Verdict::Differs
            });
        }
        for row in &self.set_offs {
            add(if row.set_off.problems.is_empty() {
                Verdict::Agrees
            } else {
                Verdict::Differs
            });
        }
        self.payments.iter().for_each(|r| add(r.verdict));
        self.outward.iter().for_each(|r| add(r.verdict));
        self.itc.iter().for_each(|r| add(r.verdict));
        c
    }
}
