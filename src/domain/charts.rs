//! The series the financial-year charts plot, read from the bundle
//! [`Summary`] (never computed anew): for each month of the scope, GSTR-2B
//! ITC against GSTR-3B ITC claimed by head, the cash and credit ledgers'
//! closing balances, 3B liability against what was paid, and the number of
//! changes. The PDF draws them, the workbook charts them natively, the web
//! view shows them. Pure: no IO.

use serde::Serialize;

use super::change::Kind;
use super::money::Heads;
use super::returns::ledger::Ledger;
use super::summary::Summary;

/// One month's points.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MonthPoint {
    /// `2026-04`.
    pub month: String,
    /// GSTR-2B ITC available (3B table 4A's sources), None when not reconciled.
    pub itc_2b: Option<Heads>,
    /// GSTR-3B ITC claimed, None when not archived.
    pub itc_3b: Option<Heads>,
    /// Closing balance, all heads, of the month's cash ledger answer.
    pub cash_closing: Option<i64>,
    /// Closing balance, all heads, of the month's credit ledger answer.
    pub credit_closing: Option<i64>,
    /// 3B liability, all heads.
    pub liability: Option<i64>,
    /// 3B paid in cash and through ITC, all heads.
    pub paid: Option<i64>,
    /// Changed documents of the month's period, by kind, in [`Kind::ALL`] order.
    pub changes: Vec<(Kind, usize)>,
}

/// The figures the charts are drawn from: a summary's rows, or the same
/// rows computed for a page of the web view.
pub struct Figures<'a> {
    pub payments: &'a [super::summary::PaymentRow],
    pub balances: &'a [super::summary::BalanceRow],
    pub itc: &'a [super::summary::ItcRow],
    pub ledgers: &'a [super::summary::LedgerRow],
    /// Each changed document: its period and kind.
    pub changes: Vec<(String, Kind)>,
}

/// The points of every month of `summary`, in month order.
pub fn series(summary: &Summary) -> Vec<MonthPoint> {
    series_of(&Figures {
        payments: &summary.payments,
        balances: &summary.balances,
        itc: &summary.itc,
        ledgers: &summary.ledgers,
        changes: summary.changes.iter().map(|c| (c.period.clone(), c.kind)).collect(),
    })
}

/// The points of every month of `summary`'s figures, in month order.
pub fn series_of(summary: &Figures<'_>) -> Vec<MonthPoint> {
    let mut months: Vec<String> = summary.payments.iter().map(|p| p.month.clone()).collect();
    months.extend(summary.balances.iter().map(|b| b.month.clone()));
    months.sort();
    months.dedup();
    months
        .into_iter()
        .map(|month| {
            // ITC available: the 4A rows (imports, reverse charge, ISD, all other).
            let available: Vec<_> = summary
                .itc
                .iter()
                .filter(|r| r.month == month && r.table.starts_with("4A"))
                .filter(|r| r.verdict != super::summary::Verdict::CouldNotReconcile)
                .collect();
            let sum = |f: fn(&super::summary::ItcRow) -> Heads| {
                (!available.is_empty()).then(|| available.iter().fold(Heads::default(), |a, r| a.plus(&f(r))))
            };
            let payment = summary
                .payments
                .iter()
                .find(|p| p.month == month && p.verdict != super::summary::Verdict::CouldNotReconcile);
            let closing = |ledger: Ledger| {
                summary
                    .ledgers
                    .iter()
                    .find(|l| l.month == month && l.statement.ledger == ledger)
                    .map(|l| l.statement.closing.total())
            };
            let changes = Kind::ALL
                .iter()
                .map(|kind| {
                    let n = summary
                        .changes
                        .iter()
                        .filter(|(period, k)| *period == month && k == kind)
                        .count();
                    (*kind, n)
                })
                .collect();
            MonthPoint {
                itc_2b: sum(|r| r.gstr2b),
                itc_3b: sum(|r| r.gstr3b),
                cash_closing: closing(Ledger::Cash),
                credit_closing: closing(Ledger::Credit),
                liability: payment.map(|p| p.liability.total()),
                paid: payment.map(|p| p.paid_cash.total() + p.paid_itc.total()),
                changes,
                month,
            }
        })
        .collect()
}
