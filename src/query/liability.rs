//! `gstvault liability`: a month's (or a year's) GSTR-3B liability by table,
//! as filed and as the portal auto-computed it from GSTR-1, side by side and
//! their difference, as archived at an instant. Tables 3.1 and 3.2 from both
//! (`gstr-3b`, `gstr-3b-auto-liability`), and from the 3B as filed 5.1
//! (interest and late fee) and 6.1 (tax payable and how it was paid). Rows are
//! data; `render::query::liability_table` prints them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{archived_gstin, input, month, parse_instant, Result};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::period::{FinancialYear, Period};
use crate::domain::returns::{gstr3b, ReturnTable};
use crate::domain::time::{DayEnd, Timestamp};
use crate::store::Reader;

/// `liability` arguments as typed.
#[derive(Clone, Debug, Default)]
pub struct LiabilityArgs {
    pub gstin: String,
    pub month: Option<String>,
    pub fy: Option<String>,
    pub as_of: Option<String>,
}

/// Which figure a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The GSTR-3B as filed.
    Filed,
    /// The portal's auto-computed liability.
    AutoComputed,
    /// Filed − auto-computed.
    Difference,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Filed => "3B filed",
            Basis::AutoComputed => "auto-computed",
            Basis::Difference => "filed − auto",
        }
    }
}

/// One line of one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LiabilityLine {
    pub gstin: Gstin,
    pub month: String,
    /// `3.1`.
    pub table: &'static str,
    pub line: String,
    pub basis: Basis,
    /// The form's columns and their paise (blank where the form has no cell).
    pub values: Vec<(&'static str, Option<i64>)>,
    /// The snapshot the figures come from (none for a difference).
    pub seq: Option<u64>,
    pub as_of: Timestamp,
}

/// The liability lines of each month asked, in month and form order.
pub fn liability(store: &Reader, args: &LiabilityArgs, now: DateTime<Utc>) -> Result<Vec<LiabilityLine>> {
    let months = match (&args.fy, &args.month) {
        (Some(fy), None) => FinancialYear::parse(fy)
            .map_err(|e| input(format!("--fy: {e}")))?
            .months(),
        (None, Some(m)) => vec![month("--month", m)?],
        _ => return Err(input("give --fy or --month")),
    };
    let as_of = match &args.as_of {
        Some(t) => parse_instant("--as-of", t, DayEnd::End, now)?,
        None => now,
    };
    let gstin = archived_gstin(store, &args.gstin)?;
    let at = Timestamp::of(as_of);
    let mut out = Vec::new();
    for m in months {
        let period = Period::Month(m);
        let read = |endpoint: &str| -> Result<Option<(u64, Value)>> {
            let Some(row) = store.snapshot_as_of((&gstin, endpoint, &period, 0), at, &[Outcome::Ok])? else {
                return Ok(None);
            };
            let Some(sha) = &row.payload_sha256 else {
                return Ok(None);
            };
            Ok(store
                .payload(sha)?
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .map(|v| (row.seq.0, v)))
        };
        let filed = read("gstr-3b")?;
        let auto = read("gstr-3b-auto-liability")?;
        let filed_tables: Vec<ReturnTable> = filed
            .as_ref()
            .map(|(_, v)| {
                [
                    gstr3b::table_3_1(v),
                    gstr3b::table_3_2(v),
                    gstr3b::table_5_1(v),
                    gstr3b::table_6_1(v),
                ]
                .into_iter()
                .flatten()
                .collect()
            })
            .unwrap_or_default();
        let auto_tables = auto
            .as_ref()
            .map(|(_, v)| gstr3b::auto_liability_tables(v))
            .unwrap_or_default();
        let mut push = |table: &ReturnTable, basis: Basis, seq: Option<u64>, values: Vec<Vec<Option<i64>>>| {
            for (line, values) in table.lines.iter().zip(values) {
                out.push(LiabilityLine {
                    gstin: gstin.clone(),
                    month: m.to_string(),
                    table: table.number,
                    line: line.label.clone(),
                    basis,
                    values: table.columns.iter().map(|c| c.name).zip(values).collect(),
                    seq,
                    as_of: at,
                });
            }
        };
        for table in &filed_tables {
            let values = table.lines.iter().map(|l| l.values.clone()).collect();
            push(table, Basis::Filed, filed.as_ref().map(|(s, _)| *s), values);
            let Some(other) = auto_tables.iter().find(|t| t.number == table.number) else {
                continue;
            };
            let values = other.lines.iter().map(|l| l.values.clone()).collect();
            push(other, Basis::AutoComputed, auto.as_ref().map(|(s, _)| *s), values);
            // The difference of lines both have (3.2's places of supply may differ).
            let diff = ReturnTable {
                lines: table
                    .lines
                    .iter()
                    .filter(|l| other.lines.iter().any(|o| o.label == l.label))
                    .cloned()
                    .collect(),
                ..table.clone()
            };
            let values = diff
                .lines
                .iter()
                .map(|l| {
                    let o = other.lines.iter().find(|o| o.label == l.label).expect("filtered");
                    l.values
                        .iter()
                        .zip(&o.values)
                        .map(|(a, b)| match (a, b) {
                            (None, None) => None,
                            (a, b) => Some(a.unwrap_or(0) - b.unwrap_or(0)),
                        })
                        .collect()
                })
                .collect();
            push(&diff, Basis::Difference, None, values);
        }
        if filed_tables.is_empty() {
            for table in &auto_tables {
                let values = table.lines.iter().map(|l| l.values.clone()).collect();
                push(table, Basis::AutoComputed, auto.as_ref().map(|(s, _)| *s), values);
            }
        }
    }
    Ok(out)
}
