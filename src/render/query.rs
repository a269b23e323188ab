//! Query rows as tables (aligned text, JSON, CSV through [`super::table`])
//! and the one-line descriptions `show` and `diff` print on stderr.

use serde_json::Value;

use super::table::{Cell, Table};
use crate::domain::diff::ChangeKind;
use crate::domain::money::Heads;
use crate::query::{BalanceLine, DetectedChange, Diffed, ItcLine, ListRow, Shown};

/// The body indented (JSON members in the order received), or as text when it is not JSON.
pub fn pretty_body(shown: &Shown) -> Option<String> {
    let body = shown.body.as_ref()?;
    Some(match serde_json::from_slice::<Value>(body) {
        Ok(v) => serde_json::to_string_pretty(&v).expect("JSON values serialise") + "\n",
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    })
}

/// One line naming the snapshot.
pub fn describe_shown(shown: &Shown) -> String {
    let r = &shown.row;
    format!(
        "snapshot {}: {} {} {}{} received {} outcome {}{}",
        r.seq,
        r.gstin,
        r.endpoint,
        r.period,
        if r.page > 0 {
            format!(" page {}", r.page)
        } else {
            String::new()
        },
        super::when_stored(r.received_at),
        r.outcome,
        r.body_sha256
            .as_ref()
            .map(|h| format!(" body sha256 {h}"))
            .unwrap_or_default(),
    ) + &crate::domain::run::failure_cause(
        r.outcome,
        r.http_status,
        r.error_cd.as_deref(),
        r.detail.as_deref(),
        r.attempts,
    )
    .map(|cause| format!("; failed: {cause}"))
    .unwrap_or_default()
}

pub fn describe_diff(diffed: &Diffed) -> String {
    format!(
        "{} {} {}: snapshot {} ({}) -> {} ({}): {}",
        diffed.to.gstin,
        diffed.to.endpoint,
        diffed.to.period,
        diffed.from.seq,
        super::when_stored(diffed.from.received_at),
        diffed.to.seq,
        super::when_stored(diffed.to.received_at),
        crate::domain::diff::summarize(&diffed.differences)
    )
}

pub fn list_table(rows: &[ListRow]) -> Table {
    let mut t = Table::new(vec![
        "seq",
        "received_at",
        "gstin",
        "endpoint",
        "period",
        "page",
        "outcome",
        "payload_sha256",
        "change",
        "previous",
        "cause",
    ]);
    for r in rows {
        t.push(vec![
            Cell::Int(r.seq.0 as i64),
            Cell::Time(r.received_at),
            Cell::text(r.gstin.as_str()),
            Cell::text(&r.endpoint),
            Cell::period(r.period),
            Cell::Int(i64::from(r.page)),
            Cell::text(r.outcome.as_str()),
            r.payload_sha256.map(|d| Cell::Hash(d.hex())).unwrap_or(Cell::Empty),
            Cell::text(r.change.as_str()),
            r.previous.map(|p| Cell::Int(p.0 as i64)).unwrap_or(Cell::Empty),
            r.cause.as_deref().map(Cell::text).unwrap_or(Cell::Empty),
        ]);
    }
    t
}

pub fn diff_table(diffed: &Diffed) -> Table {
    let mut t = Table::new(vec!["kind", "path", "old", "new"]);
    for d in &diffed.differences {
        let kind = match d.kind {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        };
        t.push(vec![
            Cell::text(kind),
            Cell::text(&d.path),
            d.old.clone().map(Cell::Json).unwrap_or(Cell::Empty),
            d.new.clone().map(Cell::Json).unwrap_or(Cell::Empty),
        ]);
    }
    t
}

/// One row per document that moved (a change in which none did is one row
/// with the JSON-path summary): the change's key and kind, the document,
/// its taxable value and total tax before and after, and the tax change by
/// head. Periods and document dates stay text in a spreadsheet.
pub fn changes_table(rows: &[DetectedChange]) -> Table {
    let mut t = Table::new(vec![
        "detected_at",
        "gstin",
        "endpoint",
        "period",
        "page",
        "kind",
        "retroactive",
        "arn",
        "section",
        "action",
        "counterparty",
        "document",
        "document_date",
        "taxable_before",
        "taxable_after",
        "tax_before",
        "tax_after",
        "igst_change",
        "cgst_change",
        "sgst_change",
        "cess_change",
        "seq",
        "previous",
        "summary",
    ]);
    let amount = |paise: Option<i64>| paise.map(Cell::Amount).unwrap_or(Cell::Empty);
    for r in rows {
        let lead = || {
            vec![
                Cell::Time(r.detected_at),
                Cell::text(r.gstin.as_str()),
                Cell::text(&r.endpoint),
                Cell::Literal(r.period.to_string()),
                Cell::Int(i64::from(r.page)),
                Cell::text(r.kind.as_str()),
                Cell::Bool(r.retroactive),
                Cell::opt_text(r.filing.as_ref().map(|f| f.arn.clone())),
            ]
        };
        let tail = |summary: String| {
            vec![
                Cell::Int(r.seq.0 as i64),
                Cell::Int(r.previous_seq.0 as i64),
                Cell::text(summary),
            ]
        };
        if r.documents.is_empty() {
            let mut row = lead();
            row.extend(std::iter::repeat_with(|| Cell::Empty).take(13));
            row.extend(tail(r.what_changed.clone()));
            t.push(row);
            continue;
        }
        for d in &r.documents {
            let change = d.tax_change();
            let mut row = lead();
            row.extend([
                Cell::text(&d.section),
                Cell::text(d.action.as_str()),
                Cell::opt_text(d.counterparty.clone()),
                Cell::opt_text(d.number.clone()),
                d.date.clone().map(Cell::Literal).unwrap_or(Cell::Empty),
                amount(d.taxable_before),
                amount(d.taxable_after),
                amount(d.tax_before.map(|h| h.total())),
                amount(d.tax_after.map(|h| h.total())),
                Cell::Amount(change.igst),
                Cell::Amount(change.cgst),
                Cell::Amount(change.sgst),
                Cell::Amount(change.cess),
            ]);
            row.extend(tail(d.line()));
            t.push(row);
        }
    }
    t
}

pub fn balances_table(rows: &[BalanceLine]) -> Table {
    let mut t = Table::new(vec![
        "gstin",
        "month",
        "cash_igst",
        "cash_cgst",
        "cash_sgst",
        "cash_cess",
        "cash_total",
        "itc_igst",
        "itc_cgst",
        "itc_sgst",
        "itc_cess",
        "itc_total",
        "3b_liability",
        "3b_paid_cash",
        "3b_paid_itc",
        "finding",
        "snapshots",
        "as_of",
    ]);
    let total = |h: Option<Heads>| h.map(|h| Cell::Amount(h.total())).unwrap_or(Cell::Empty);
    for r in rows {
        t.push(vec![
            Cell::text(r.gstin.as_str()),
            Cell::period(&r.month),
            Cell::Amount(r.cash.igst),
            Cell::Amount(r.cash.cgst),
            Cell::Amount(r.cash.sgst),
            Cell::Amount(r.cash.cess),
            Cell::Amount(r.cash.total()),
            Cell::Amount(r.itc.igst),
            Cell::Amount(r.itc.cgst),
            Cell::Amount(r.itc.sgst),
            Cell::Amount(r.itc.cess),
            Cell::Amount(r.itc.total()),
            total(r.liability),
            total(r.paid_cash),
            total(r.paid_itc),
            Cell::text(&r.finding),
            Cell::text(r.snapshots.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ")),
            Cell::Time(r.as_of),
        ]);
    }
    t
}

/// The columns of `liability`, and the form columns each takes.
const LIABILITY_COLUMNS: [(&str, &[&str]); 13] = [
    ("taxable_value", &["Total taxable value", "Taxable value"]),
    ("igst", &["Integrated tax"]),
    ("cgst", &["Central tax"]),
    ("sgst", &["State/UT tax"]),
    ("cess", &["Cess"]),
    ("tax_payable", &["Tax payable"]),
    ("itc_igst", &["Paid through ITC: Integrated tax"]),
    ("itc_cgst", &["Paid through ITC: Central tax"]),
    ("itc_sgst", &["Paid through ITC: State/UT tax"]),
    ("itc_cess", &["Paid through ITC: Cess"]),
    ("cash_tax", &["Tax paid in cash"]),
    ("cash_interest", &["Interest paid in cash"]),
    ("cash_late_fee", &["Late fee paid in cash"]),
];

pub fn liability_table(rows: &[crate::query::liability::LiabilityLine]) -> Table {
    let mut columns = vec!["gstin", "month", "table", "line", "basis"];
    columns.extend(LIABILITY_COLUMNS.iter().map(|(c, _)| *c));
    columns.extend(["snapshot", "as_of"]);
    let mut t = Table::new(columns);
    for r in rows {
        let mut cells = vec![
            Cell::text(r.gstin.as_str()),
            Cell::period(&r.month),
            Cell::text(r.table),
            Cell::text(&r.line),
            Cell::text(r.basis.as_str()),
        ];
        for (_, names) in LIABILITY_COLUMNS {
            let value = r.values.iter().find(|(n, _)| names.contains(n)).and_then(|(_, v)| *v);
            cells.push(value.map(Cell::Amount).unwrap_or(Cell::Empty));
        }
        cells.push(r.seq.map(|s| Cell::Int(s as i64)).unwrap_or(Cell::Empty));
        cells.push(Cell::Time(r.as_of));
        t.push(cells);
    }
    t
}

/// `itc`: the 2B figures by head at `--as-of`, and with `--against` the
/// figures then and the difference (total columns only for those).
pub fn itc_table(rows: &[ItcLine]) -> Table {
    let against = rows.iter().any(|r| r.against_at.is_some());
    let mut columns = vec![
        "gstin", "month", "bucket", "section", "part", "igst", "cgst", "sgst", "cess", "total",
    ];
    if against {
        columns.extend([
            "against_igst",
            "against_cgst",
            "against_sgst",
            "against_cess",
            "against_total",
            "diff_igst",
            "diff_cgst",
            "diff_sgst",
            "diff_cess",
            "diff_total",
        ]);
    }
    columns.extend(["note", "snapshots", "as_of"]);
    if against {
        columns.push("against");
    }
    let mut t = Table::new(columns);
    let heads = |h: Option<Heads>| match h {
        Some(h) => vec![
            Cell::Amount(h.igst),
            Cell::Amount(h.cgst),
            Cell::Amount(h.sgst),
            Cell::Amount(h.cess),
            Cell::Amount(h.total()),
        ],
        None => vec![Cell::Empty; 5],
    };
    for r in rows {
        let mut cells = vec![
            Cell::text(r.gstin.as_str()),
            Cell::text(&r.month),
            Cell::text(&r.bucket),
            Cell::text(&r.section),
            Cell::text(&r.part),
        ];
        cells.extend(heads(r.heads));
        if against {
            cells.extend(heads(r.against));
            cells.extend(heads(r.difference));
        }
        cells.push(Cell::text(&r.note));
        cells.push(Cell::text(
            r.snapshots.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" "),
        ));
        cells.push(Cell::Time(r.as_of));
        if against {
            cells.push(r.against_at.map(Cell::Time).unwrap_or(Cell::Empty));
        }
        t.push(cells);
    }
    t
}
