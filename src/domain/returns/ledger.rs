//! The cash and credit ledgers as an auditor reads them: per ledger answer,
//! opening balance, credits, debits and closing balance by tax head, with the
//! ledger's own arithmetic checked (closing = opening + credits − debits); and
//! the set-off of a month's 3B liability explained in the legal order
//! (section 49(5) CGST Act and rule 88A): IGST credit first, against IGST
//! and then CGST and SGST; CGST credit against CGST then IGST, never SGST;
//! SGST credit against SGST then IGST, never CGST; cess only against cess.
//!
//! Shapes read (ENDPOINTS.md L-2, L-3): the cash ledger's `op_bal`, `cl_bal`
//! and `tr[]` cells `{tx, intr, pen, fee, oth[, tot]}` per head (`igstbal`,
//! `igst`, …), and the credit ledger's `itcLdgDtls` with `igstTaxBal` and
//! `igstTaxAmt` per head; `tr_typ` is `Cr` or `Dr`.

use serde::Serialize;
use serde_json::Value;

use crate::domain::money::{paise_of, rupees, Heads};

/// Which ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ledger {
    Cash,
    Credit,
}

impl Ledger {
    pub fn name(self) -> &'static str {
        match self {
            Ledger::Cash => "Electronic cash ledger",
            Ledger::Credit => "Electronic credit ledger",
        }
    }
}

/// One ledger answer: its date range and its movement by head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub ledger: Ledger,
    /// The range as the portal gave it: `01/04/2026`.
    pub from: String,
    pub to: String,
    pub opening: Heads,
    pub credits: Heads,
    pub debits: Heads,
    pub closing: Heads,
    /// Entries in the range.
    pub entries: usize,
    /// Opening + credits − debits − closing: zero when the ledger adds up.
    pub discrepancy: Heads,
}

/// The statement of a cash ledger answer; None when it has no balances.
pub fn cash(ledger: &Value) -> Option<Statement> {
    let cell = |v: Option<&Value>| -> i64 {
        match v {
            Some(Value::Object(m)) => match m.get("tot") {
                Some(tot) => paise_of(tot),
                None => ["tx", "intr", "pen", "fee", "oth"]
                    .iter()
                    .map(|k| m.get(*k).map(paise_of).unwrap_or(0))
                    .sum(),
            },
            Some(other) => paise_of(other),
            None => 0,
        }
    };
    let bal = |b: &Value| heads(|h| cell(b.get(format!("{h}bal"))));
    statement(Ledger::Cash, ledger, bal, |tr| heads(|h| cell(tr.get(h))))
}

/// The statement of a credit (ITC) ledger answer; None when it has no balances.
pub fn credit(ledger: &Value) -> Option<Statement> {
    let dtls = ledger.get("itcLdgDtls").unwrap_or(ledger);
    let of = |v: &Value, suffix: &str| heads(|h| v.get(format!("{h}{suffix}")).map(paise_of).unwrap_or(0));
    statement(Ledger::Credit, dtls, |b| of(b, "TaxBal"), |tr| of(tr, "TaxAmt"))
}

fn statement(
    ledger: Ledger,
    v: &Value,
    balance: impl Fn(&Value) -> Heads,
    amount: impl Fn(&Value) -> Heads,
) -> Option<Statement> {
    let opening = balance(v.get("op_bal").filter(|b| b.is_object())?);
    let closing = balance(v.get("cl_bal").filter(|b| b.is_object())?);
    let mut credits = Heads::default();
    let mut debits = Heads::default();
    let entries = v.get("tr").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    for tr in entries {
        match tr.get("tr_typ").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("cr") => credits = credits.plus(&amount(tr)),
            Some(t) if t.eq_ignore_ascii_case("dr") => debits = debits.plus(&amount(tr)),
            _ => {}
        }
    }
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some(Statement {
        ledger,
        from: text("fr_dt"),
        to: text("to_dt"),
        opening,
        credits,
        debits,
        closing,
        entries: entries.len(),
        discrepancy: opening.plus(&credits).minus(&debits).minus(&closing),
    })
}

/// One ledger over consecutive statements (a financial year's months, in
/// order): the first opening, the credits and debits added, the last
/// closing. Its discrepancy is the year's arithmetic, which is the months'
/// own discrepancies plus every break between a month's closing and the
/// next month's opening (a month not archived, or a ledger that does not
/// carry its balance forward); [`Statement::breaks`] tells the two apart.
/// None for no statements.
pub fn over(statements: &[&Statement]) -> Option<Statement> {
    let (first, last) = (statements.first()?, statements.last()?);
    let sum = |f: fn(&Statement) -> &Heads| statements.iter().fold(Heads::default(), |a, s| a.plus(f(s)));
    let credits = sum(|s| &s.credits);
    let debits = sum(|s| &s.debits);
    Some(Statement {
        ledger: first.ledger,
        from: first.from.clone(),
        to: last.to.clone(),
        opening: first.opening,
        credits,
        debits,
        closing: last.closing,
        entries: statements.iter().map(|s| s.entries).sum(),
        discrepancy: first.opening.plus(&credits).minus(&debits).minus(&last.closing),
    })
}

impl Statement {
    /// For a statement [`over`] `months`: the part of its discrepancy that
    /// no month accounts for, the sum of (closing − next opening) between
    /// consecutive months. Zero when every month opens where the last closed.
    pub fn breaks(&self, months: &[&Statement]) -> Heads {
        months.iter().fold(self.discrepancy, |a, m| a.minus(&m.discrepancy))
    }
}

fn heads(f: impl Fn(&str) -> i64) -> Heads {
    Heads {
        igst: f("igst"),
        cgst: f("cgst"),
        sgst: f("sgst"),
        cess: f("cess"),
    }
}

const HEAD: [&str; 4] = ["IGST", "CGST", "SGST", "cess"];

/// A month's set-off, explained: one sentence per credit head used, and the
/// departures from the legal order, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SetOff {
    pub explanation: Vec<String>,
    pub problems: Vec<String>,
}

/// Explains `used` (`[credit head][liability head]`, paise, from the 3B's
/// `pditc`) and `cash_tax` (tax paid in cash by liability head).
pub fn set_off(used: &[[i64; 4]; 4], cash_tax: &Heads) -> SetOff {
    let mut out = SetOff::default();
    for (credit, row) in used.iter().enumerate() {
        let total: i64 = row.iter().sum();
        if total == 0 {
            continue;
        }
        let parts: Vec<String> = row
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(liab, v)| format!("₹{} against {}", rupees(*v), HEAD[liab]))
            .collect();
        out.explanation.push(format!(
            "{} credit of ₹{} used: {}.",
            HEAD[credit],
            rupees(total),
            parts.join(", ")
        ));
    }
    if out.explanation.is_empty() {
        out.explanation
            .push("No ITC was used: the liability was paid in cash, if at all.".into());
    }
    // IGST credit may go to CGST or SGST only once IGST liability is met from it.
    let igst_to_others = used[0][1] + used[0][2];
    let igst_otherwise = used[1][0] + used[2][0] + cash_tax.igst;
    if igst_to_others > 0 && igst_otherwise > 0 {
        out.problems.push(format!(
            "IGST credit of ₹{} was used against CGST/SGST while ₹{} of IGST liability was met otherwise (CGST/SGST credit or cash): contrary to the set-off order of section 49(5) and rule 88A, IGST credit meets IGST first",
            rupees(igst_to_others),
            rupees(igst_otherwise)
        ));
    }
    // CGST or SGST credit may go to IGST only after IGST credit is used up;
    // with IGST credit used on CGST/SGST at the same time, it was not.
    let others_to_igst = used[1][0] + used[2][0];
    if others_to_igst > 0 && igst_to_others > 0 {
        out.problems.push(format!(
            "CGST/SGST credit of ₹{} was used against IGST while IGST credit went to CGST/SGST: rule 88A wants IGST credit used first",
            rupees(others_to_igst)
        ));
    }
    let cross = [(1, 2), (2, 1)];
    for (credit, liab) in cross {
        if used[credit][liab] != 0 {
            out.problems.push(format!(
                "{} credit used against {}: not allowed (section 49(5))",
                HEAD[credit], HEAD[liab]
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cash_statement_adds_up() {
        let c = |tx: f64| json!({"tx": tx, "intr": 0, "pen": 0, "fee": 0, "oth": 0});
        let ledger = json!({
            "fr_dt": "01/04/2026", "to_dt": "30/04/2026",
            "op_bal": {"igstbal": c(100.0), "cgstbal": c(0.0), "sgstbal": c(0.0), "cessbal": c(0.0)},
            "cl_bal": {"igstbal": c(130.5), "cgstbal": c(10.0), "sgstbal": c(10.0), "cessbal": c(0.0)},
            "tr": [
                {"tr_typ": "Cr", "igst": c(50.5), "cgst": c(10.0), "sgst": c(10.0)},
                {"tr_typ": "Dr", "igst": c(20.0)}
            ]
        });
        let s = cash(&ledger).unwrap();
        assert_eq!(s.opening.igst, 10_000);
        assert_eq!(s.credits.igst, 5_050);
        assert_eq!(s.debits.igst, 2_000);
        assert_eq!(s.closing.igst, 13_050);
        assert!(s.discrepancy.is_zero());
        assert_eq!(s.entries, 2);
    }

    #[test]
    fn a_year_adds_its_months_and_finds_a_month_that_does_not_open_at_the_last_closing() {
        let c = |tx: f64| json!({"tx": tx, "intr": 0, "pen": 0, "fee": 0, "oth": 0});
        let month = |from: &str, to: &str, open: f64, cr: f64, dr: f64, close: f64| {
            cash(&json!({
                "fr_dt": from, "to_dt": to,
                "op_bal": {"igstbal": c(open)}, "cl_bal": {"igstbal": c(close)},
                "tr": [{"tr_typ": "Cr", "igst": c(cr)}, {"tr_typ": "Dr", "igst": c(dr)}]
            }))
            .unwrap()
        };
        let april = month("01/04/2026", "30/04/2026", 100.0, 50.0, 30.0, 120.0);
        let may = month("01/05/2026", "31/05/2026", 120.0, 10.0, 0.0, 130.0);
        let year = over(&[&april, &may]).unwrap();
        assert_eq!((year.from.as_str(), year.to.as_str()), ("01/04/2026", "31/05/2026"));
        assert_eq!(
            (
                year.opening.igst,
                year.credits.igst,
                year.debits.igst,
                year.closing.igst
            ),
            (10_000, 6_000, 3_000, 13_000)
        );
        assert!(year.discrepancy.is_zero() && year.breaks(&[&april, &may]).is_zero());
        assert_eq!(year.entries, 4);
        // June opens ₹5 above May's closing, and itself adds up: a break, not a bad month.
        let june = month("01/06/2026", "30/06/2026", 135.0, 0.0, 35.0, 100.0);
        let months = [&april, &may, &june];
        let year = over(&months).unwrap();
        assert_eq!(year.discrepancy.igst, -500);
        assert_eq!(year.breaks(&months).igst, -500);
        assert!(over(&[]).is_none());
    }

    #[test]
    fn credit_statement_finds_a_ledger_that_does_not_add_up() {
        let b = |i: f64| json!({"igstTaxBal": i, "cgstTaxBal": 0, "sgstTaxBal": 0, "cessTaxBal": 0});
        let ledger = json!({"itcLdgDtls": {
            "op_bal": b(1000.0), "cl_bal": b(1500.0),
            "tr": [{"tr_typ": "Cr", "igstTaxAmt": 600}]
        }});
        let s = credit(&ledger).unwrap();
        assert_eq!(s.discrepancy.igst, 10_000);
    }

    #[test]
    fn set_off_in_the_legal_order_is_explained_without_problems() {
        // IGST credit 1,17,174.53: 90,904.84 against IGST, the rest against CGST and SGST.
        let mut used = [[0i64; 4]; 4];
        used[0] = [9_090_484, 1_313_485, 1_313_484, 0];
        used[1][1] = 50_000;
        let s = set_off(&used, &Heads::default());
        assert_eq!(
            s.explanation[0],
            "IGST credit of ₹1,17,174.53 used: ₹90,904.84 against IGST, ₹13,134.85 against CGST, ₹13,134.84 against SGST."
        );
        assert_eq!(s.explanation[1], "CGST credit of ₹500.00 used: ₹500.00 against CGST.");
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }

    #[test]
    fn set_off_out_of_order_is_a_problem() {
        let mut used = [[0i64; 4]; 4];
        used[0][1] = 10_000;
        used[1][0] = 5_000;
        let s = set_off(&used, &Heads::default());
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        assert!(s.problems[0].contains("rule 88A"));
    }
}
