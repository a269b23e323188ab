//! The index's claims against the log: every row of `data/index.csv` says
//! that a payload version of an endpoint, period and page was first seen at
//! one instant and last seen at another, and each of those sightings must be
//! a log record in `records.jsonl` (whose inclusion proof the checker checks)
//! that says the same. A record without a snapshot file is allowed only as
//! such a last sighting: its payload digest is the version's, so its bytes
//! are the file of the row's first record.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::domain::digest::Digest;
use crate::evidence::report::VerifyReport;

/// The index columns a claim is checked by, with the record member each
/// must equal on the row's first record.
const FIRST: [(&str, &str); 8] = [
    ("endpoint", "endpoint"),
    ("period", "period"),
    ("page", "page"),
    ("origin", "origin"),
    ("outcome", "outcome"),
    ("first_seen", "received_at"),
    ("body_sha256", "body_sha256"),
    ("payload_sha256", "payload_sha256"),
];

/// Checks every index row against `records` (log index → exact line and its
/// JSON). Returns the log indexes that are proven last sightings (records
/// that need no snapshot file of their own).
pub(super) fn check_claims(
    index: &str,
    records: &BTreeMap<u64, (String, Value)>,
    report: &mut VerifyReport,
) -> BTreeSet<u64> {
    let mut sightings = BTreeSet::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(index.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            report.finding("file data/index.csv", format!("is not CSV ({e})"));
            return sightings;
        }
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(seq_at), Some(last_seq_at), Some(last_seen_at)) =
        (column("seq"), column("last_seen_seq"), column("last_seen"))
    else {
        report.finding("file data/index.csv", "has no seq, last_seen and last_seen_seq columns");
        return sightings;
    };
    for (number, row) in reader.records().enumerate() {
        let subject = format!("data/index.csv row {}", number + 1);
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                report.finding(subject, format!("is not a CSV row ({e})"));
                continue;
            }
        };
        let field = |i: usize| row.get(i).unwrap_or("");
        let Some(first) = field(seq_at)
            .parse::<u64>()
            .ok()
            .and_then(|s| records.get(&s).map(|r| (s, r)))
        else {
            report.finding(
                subject,
                format!(
                    "claims log entry {} but no log record in the bundle is it",
                    field(seq_at)
                ),
            );
            continue;
        };
        let (first_seq, (first_line, first_record)) = first;
        let member = |record: &Value, name: &str| match record.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        for (col, name) in FIRST {
            if let Some(i) = column(col) {
                if field(i) != member(first_record, name) {
                    report.finding(
                        subject.clone(),
                        format!("{col} {:?} is not what log record {first_seq} says", field(i)),
                    );
                }
            }
        }
        if let Some(i) = column("record_digest") {
            if field(i) != Digest::of(first_line.as_bytes()).hex() {
                report.finding(
                    subject.clone(),
                    format!("record_digest is not the digest of log record {first_seq}"),
                );
            }
        }
        let last_seq = field(last_seq_at).parse::<u64>().ok();
        match last_seq {
            Some(last) if last == first_seq => {
                if field(last_seen_at) != member(first_record, "received_at") {
                    report.finding(subject, "last_seen is not what its log record says");
                }
            }
            Some(last) if last > first_seq => match records.get(&last) {
                Some((_, record))
                    if ["endpoint", "period", "page", "payload_sha256"]
                        .iter()
                        .all(|m| member(record, m) == member(first_record, m))
                        && member(record, "received_at") == field(last_seen_at) =>
                {
                    sightings.insert(last);
                }
                Some(_) => report.finding(
                    subject,
                    format!("log record {last} is not a sighting of this version at its last_seen"),
                ),
                None => report.finding(
                    subject,
                    format!("claims it was last seen in log entry {last} but no log record in the bundle is it"),
                ),
            },
            _ => report.finding(
                subject,
                format!("last_seen_seq {:?} is not a later log entry", field(last_seq_at)),
            ),
        }
    }
    sightings
}
