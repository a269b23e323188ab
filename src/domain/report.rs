//! The evidence summary as data: everything the bundle's PDF shows, computed
//! by the domain core from archived payloads and never typed in. The PDF
//! renderer lays this out; queries reuse the same rows.
//!
//! Money is held in paise (`i64`) so sums are exact; [`rupees`] formats it
//! with Indian digit grouping (12,34,567.00). Pure: no IO.

use serde::Serialize;

/// Amounts by tax head, in paise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Heads {
    pub igst: i64,
    pub cgst: i64,
    pub sgst: i64,
    pub cess: i64,
}

impl Heads {
    pub fn total(&self) -> i64 {
        self.igst + self.cgst + self.sgst + self.cess
    }

    pub fn minus(&self, other: &Heads) -> Heads {
        Heads {
            igst: self.igst - other.igst,
            cgst: self.cgst - other.cgst,
            sgst: self.sgst - other.sgst,
            cess: self.cess - other.cess,
        }
    }

    pub fn plus(&self, other: &Heads) -> Heads {
        Heads {
            igst: self.igst + other.igst,
            cgst: self.cgst + other.cgst,
            sgst: self.sgst + other.sgst,
            cess: self.cess + other.cess,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Heads::default()
    }
}

/// One row of the snapshot index: one distinct payload version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexRow {
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    pub first_seen: String,
    pub last_seen: String,
    /// How many captures saw this version.
    pub seen: u64,
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
    /// "agrees", or what differs.
    pub finding: String,
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
}

/// A change detected between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    pub detected_at: String,
    pub endpoint: String,
    pub period: String,
    /// One line: what changed (paths added, removed, changed).
    pub summary: String,
}

/// The whole summary of one bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
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
    pub snapshots: Vec<IndexRow>,
    pub balances: Vec<BalanceRow>,
    pub payments: Vec<PaymentRow>,
    /// GSTR-1 outward tax (left) vs GSTR-3B outward tax (right).
    pub outward: Vec<CompareRow>,
    /// GSTR-2B ITC available (left) vs GSTR-3B ITC claimed (right).
    pub itc: Vec<CompareRow>,
    pub changes: Vec<ChangeLine>,
    /// Things the summary could not compute, said plainly.
    pub notes: Vec<String>,
}

/// Formats paise as rupees with Indian digit grouping: 123456789 → "12,34,567.89".
pub fn rupees(paise: i64) -> String {
    let negative = paise < 0;
    let abs = paise.unsigned_abs();
    let whole = (abs / 100).to_string();
    let fraction = abs % 100;
    let grouped = if whole.len() <= 3 {
        whole
    } else {
        let (head, last3) = whole.split_at(whole.len() - 3);
        let mut parts: Vec<String> = Vec::new();
        let mut rest = head.to_string();
        while rest.len() > 2 {
            let split = rest.len() - 2;
            parts.insert(0, rest[split..].to_string());
            rest.truncate(split);
        }
        if !rest.is_empty() {
            parts.insert(0, rest);
        }
        format!("{},{}", parts.join(","), last3)
    };
    format!("{}{}.{:02}", if negative { "-" } else { "" }, grouped, fraction)
}

/// Rupees as a JSON number (e.g. 1234.5) to paise, rounding half away from zero.
pub fn paise_of(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i * 100
            } else {
                (n.as_f64().unwrap_or(0.0) * 100.0).round() as i64
            }
        }
        serde_json::Value::String(s) => s.trim().parse::<f64>().map(|f| (f * 100.0).round() as i64).unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indian_grouping() {
        assert_eq!(rupees(123456700), "12,34,567.00");
        assert_eq!(rupees(0), "0.00");
        assert_eq!(rupees(99), "0.99");
        assert_eq!(rupees(100000), "1,000.00");
        assert_eq!(rupees(10000000), "1,00,000.00");
        assert_eq!(rupees(-123456789012), "-1,23,45,67,890.12");
        assert_eq!(paise_of(&serde_json::json!(376705.19)), 37670519);
        assert_eq!(paise_of(&serde_json::json!(0.3)), 30);
    }
}
