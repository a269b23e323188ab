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
            Cell::text(r.period.to_string()),
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

pub fn changes_table(rows: &[DetectedChange]) -> Table {
    let mut t = Table::new(vec![
        "detected_at",
        "gstin",
        "endpoint",
        "period",
        "page",
        "retroactive",
        "seq",
        "previous",
        "summary",
    ]);
    for r in rows {
        t.push(vec![
            Cell::Time(r.detected_at),
            Cell::text(r.gstin.as_str()),
            Cell::text(&r.endpoint),
            Cell::text(r.period.to_string()),
            Cell::Int(i64::from(r.page)),
            Cell::Bool(r.retroactive),
            Cell::Int(r.seq.0 as i64),
            Cell::Int(r.previous_seq.0 as i64),
            Cell::text(&r.what_changed),
        ]);
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
            Cell::text(&r.month),
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
