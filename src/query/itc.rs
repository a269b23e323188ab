//! `itc`: a month's GSTR-2B ITC by bucket, section, part and head as the
//! archive held it at an instant (`--as-of`, default now), and with
//! `--against` the difference from another instant. Reads the 2B as
//! [`crate::domain::returns::gstr2b`] does (both nestings, both shapes);
//! returns rows as data for `render::query::itc_table`.
//!
//! Decisions:
//! - The 2B of an instant is the latest `ok` page 0 received at or before it
//!   and, when that names a file count (`fc`), the latest of each page 1..fc.
//! - Difference = the figure at `--as-of` − the figure at `--against`; a line
//!   absent at one instant has no figure there (blank) and counts as zero in
//!   the difference. A section the reader cannot read is a line of its own
//!   with the reason, never a zero.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{archived_gstin, input, month, parse_instant, DayEnd, Result};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::money::Heads;
use crate::domain::period::{Month, Period};
use crate::domain::returns::gstr2b;
use crate::domain::time::Timestamp;
use crate::store::Reader;

/// `itc` arguments as typed.
#[derive(Clone, Debug, Default)]
pub struct ItcArgs {
    pub gstin: String,
    pub month: String,
    pub as_of: Option<String>,
    pub against: Option<String>,
}

/// One figure of the month's GSTR-2B ITC statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItcLine {
    pub gstin: Gstin,
    pub month: String,
    /// `ITC available`, ..., or `could not read`.
    pub bucket: String,
    pub section: String,
    /// `total` or the part (`b2b`, `cdnr`, ...).
    pub part: String,
    /// At `--as-of`; None when the 2B then had no such line.
    pub heads: Option<Heads>,
    /// At `--against`, when asked.
    pub against: Option<Heads>,
    /// heads − against, when `--against` was asked.
    pub difference: Option<Heads>,
    /// Why a section could not be read; empty otherwise.
    pub note: String,
    /// The 2B snapshots read at `--as-of` (and `--against`), by log position.
    pub snapshots: Vec<Seq>,
    pub as_of: Timestamp,
    pub against_at: Option<Timestamp>,
}

/// The 2B pages archived at `at`, with their log positions.
fn pages_at(store: &Reader, gstin: &Gstin, period: &Period, at: Timestamp) -> Result<(Vec<Value>, Vec<Seq>)> {
    let mut values = Vec::new();
    let mut seqs = Vec::new();
    let read = |page: u32, values: &mut Vec<Value>, seqs: &mut Vec<Seq>| -> Result<Option<Value>> {
        let Some(row) = store.snapshot_as_of((gstin, "gstr-2b", period, page), at, &[Outcome::Ok])? else {
            return Ok(None);
        };
        seqs.push(row.seq);
        let Some(sha) = &row.payload_sha256 else {
            return Ok(None);
        };
        let value = store
            .payload(sha)?
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if let Some(v) = &value {
            values.push(v.clone());
        }
        Ok(value)
    };
    let Some(first) = read(0, &mut values, &mut seqs)? else {
        return Ok((values, seqs));
    };
    let fc = first
        .get("fc")
        .or_else(|| first.pointer("/data/fc"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    for page in 1..=fc.min(u64::from(u32::MAX)) as u32 {
        read(page, &mut values, &mut seqs)?;
    }
    Ok((values, seqs))
}

type LineKey = (usize, String, String, String);

/// The statement's lines keyed in display order, and the unreadable sections.
fn statement(pages: &[Value]) -> (BTreeMap<LineKey, Heads>, Vec<(String, String)>) {
    let refs: Vec<&Value> = pages.iter().collect();
    let mut lines = BTreeMap::new();
    let mut unreadable = Vec::new();
    if let Some(g) = gstr2b::read(&refs) {
        for (i, l) in g.lines.iter().enumerate() {
            let bucket = gstr2b::BUCKETS.iter().position(|(b, _)| *b == l.bucket).unwrap_or(9);
            let part = l.part.clone().unwrap_or_else(|| "total".to_string());
            // Sections keep the document's order within a bucket.
            lines.insert((bucket * 1000 + i, l.bucket.clone(), l.section.clone(), part), l.heads);
        }
        unreadable = g.unreadable.iter().map(|u| (u.section.clone(), u.text())).collect();
    }
    (lines, unreadable)
}

/// The month's 2B ITC at `--as-of` (and `--against`). Fails on bad input or
/// an archive that cannot be read; an instant with no 2B archived gives no
/// figures (and no lines when neither instant has one).
pub fn itc(store: &Reader, args: &ItcArgs, now: DateTime<Utc>) -> Result<Vec<ItcLine>> {
    let m: Month = month("--month", &args.month)?;
    let gstin = archived_gstin(store, &args.gstin)?;
    let as_of = match &args.as_of {
        Some(t) => parse_instant("--as-of", t, DayEnd::End, now)?,
        None => now,
    };
    let against = match &args.against {
        Some(t) => Some(parse_instant("--against", t, DayEnd::End, now)?),
        None => None,
    };
    if against == Some(as_of) {
        return Err(input("--against: the same instant as --as-of"));
    }
    let period = Period::Month(m);
    let as_of = Timestamp::of(as_of);
    let against = against.map(Timestamp::of);
    let (now_pages, mut seqs) = pages_at(store, &gstin, &period, as_of)?;
    let (then_pages, then_seqs) = match against {
        Some(t) => pages_at(store, &gstin, &period, t)?,
        None => (Vec::new(), Vec::new()),
    };
    for s in then_seqs {
        if !seqs.contains(&s) {
            seqs.push(s);
        }
    }
    let (now_lines, mut unreadable) = statement(&now_pages);
    let (then_lines, then_unreadable) = statement(&then_pages);
    for u in then_unreadable {
        if !unreadable.contains(&u) {
            unreadable.push(u);
        }
    }
    // One line per (bucket, section, part) of either instant, in display order.
    let mut keys: Vec<(usize, String, String, String)> = Vec::new();
    for (order, bucket, section, part) in now_lines.keys().chain(then_lines.keys()) {
        if !keys.iter().any(|(_, b, s, p)| b == bucket && s == section && p == part) {
            keys.push((*order, bucket.clone(), section.clone(), part.clone()));
        }
    }
    keys.sort_by_key(|k| (k.0 / 1000, k.0));
    let find = |lines: &BTreeMap<LineKey, Heads>, b: &str, s: &str, p: &str| {
        lines
            .iter()
            .find(|((_, lb, ls, lp), _)| lb == b && ls == s && lp == p)
            .map(|(_, h)| *h)
    };
    let mut out: Vec<ItcLine> = keys
        .into_iter()
        .map(|(_, bucket, section, part)| {
            let heads = find(&now_lines, &bucket, &section, &part);
            let then = against.and(find(&then_lines, &bucket, &section, &part));
            let difference = against.map(|_| heads.unwrap_or_default().minus(&then.unwrap_or_default()));
            ItcLine {
                gstin: gstin.clone(),
                month: m.to_string(),
                bucket: gstr2b::bucket_label(&bucket).to_string(),
                section,
                part,
                heads,
                against: then,
                difference,
                note: String::new(),
                snapshots: seqs.clone(),
                as_of,
                against_at: against,
            }
        })
        .collect();
    for (section, text) in unreadable {
        out.push(ItcLine {
            gstin: gstin.clone(),
            month: m.to_string(),
            bucket: "could not read".to_string(),
            section,
            part: String::new(),
            heads: None,
            against: None,
            difference: None,
            note: text,
            snapshots: seqs.clone(),
            as_of,
            against_at: against,
        });
    }
    Ok(out)
}
