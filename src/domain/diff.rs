//! Structural difference between two JSON payloads of the same endpoint and
//! period ("what changed between two snapshots"), and its one-line summary for
//! the bundle's change list. It owns how array elements are paired: by their
//! business reference (invoice number, counterparty GSTIN, ledger reference…),
//! so one inserted invoice or ledger entry reads as one addition, not as every
//! later element changed. Pure: no IO, no clock, never fails. The references
//! are the identifying fields of GSTN's return schemas (GSTR-1 and GSTR-2A as
//! Sandbox publishes them in `in-co-sandbox/in-co-sandbox-docs`,
//! `data/gst/schema/request/taxpayer/gstr-1/documents/*.json` and
//! `.../gstr-2a/*.json`; GSTR-2B's `docdata`).
//!
//! Paths are JSON-pointer-like (`/`-separated, `~0`/`~1` escapes) with keyed
//! array elements named by their key, e.g. `/b2b[ctin=29AABCK4521M1Z5]/inv[inum=INV-7]/val`,
//! and positional ones by index (`/tr/3`). Numbers compare by value (`1` equals
//! `1.0`). Output order: additions and changes in the document order of `new`,
//! then removals in the document order of `old`. A keyed array whose elements
//! only moved reports nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

/// Business references tried, in order, to pair elements of arrays of objects;
/// the first that every element of both arrays carries, uniquely per array, wins.
const KEYS: &[&[&str]] = &[
    &["ref_no"],
    // GSTR-2A/2B groups (`docdata.b2b`, `ecom`, …) carry the supplier's return
    // period: one operator appears once per `supprd` (GSTR-2B schema, docdata).
    &["ctin", "supprd"],
    &["ctin"],
    // GSTR-1 ECOM (table 15) groups: supplier and receiver (`ecom.json`).
    &["stin", "rtin"],
    &["inum"],
    &["nt_num"],
    &["ntnum"],
    &["docnum"],
    &["boenum"],
    &["benum"],
    &["sec_nm"],
    &["ty"],
    &["hsn_sc", "rt"],
    &["hsn_sc"],
    &["num"],
    &["doc_num"],
    &["liab_id"],
    &["trans_typ"],
    &["arn", "rtntype", "ret_prd"],
    &["arn", "rtntype"],
    &["stin", "inum"],
    &["dt", "ref_no"],
    &["pos", "rt"],
    &["pos"],
    &["sply_ty"],
    // GSTR-1 EXP groups: with and without payment of IGST (`exp.json`).
    &["exp_typ"],
    &["Irn"],
    &["quarter"],
    // Rows named by a counterparty alone: SUPECO and 2A TCS by the operator
    // (`etin`), 2A TDS by the deductor (`gstin_ded`) (`supeco.json`, `tcs.json`, `tds.json`).
    &["etin"],
    &["gstin_ded"],
];

/// Paths listed per kind in a summary before "and N more".
const SUMMARY_PATHS: usize = 3;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One difference: at `path`, `old` became `new` (None on the side where it is absent).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub path: String,
    pub kind: ChangeKind,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// A difference as found: values borrowed from the two documents, so a
/// summary of thousands of differences copies no value.
struct Found<'a> {
    path: String,
    kind: ChangeKind,
    old: Option<&'a Value>,
    new: Option<&'a Value>,
}

/// Differences in output order, borrowed.
fn found<'a>(old: &'a Value, new: &'a Value) -> Vec<Found<'a>> {
    let mut changes = Vec::new();
    let mut removals = Vec::new();
    walk("", old, new, &mut changes, &mut removals);
    changes.extend(removals);
    changes
}

/// Every difference from `old` to `new`; empty when they are equal (numbers by value).
pub fn diff(old: &Value, new: &Value) -> Vec<Difference> {
    found(old, new)
        .into_iter()
        .map(|f| Difference {
            path: f.path,
            kind: f.kind,
            old: f.old.cloned(),
            new: f.new.cloned(),
        })
        .collect()
}

/// `summarize(&diff(old, new))` without copying the differing values.
pub fn summary(old: &Value, new: &Value) -> String {
    let found = found(old, new);
    summarize_paths(found.iter().map(|f| (&f.kind, f.path.as_str())))
}

/// One line: "1 added (/b2ba[ctin=…]/inv[inum=…]), 2 changed (/chksum, …)";
/// "no difference" when `diffs` is empty. Each kind lists at most three paths.
pub fn summarize(diffs: &[Difference]) -> String {
    summarize_paths(diffs.iter().map(|d| (&d.kind, d.path.as_str())))
}

fn summarize_paths<'a>(diffs: impl Iterator<Item = (&'a ChangeKind, &'a str)> + Clone) -> String {
    if diffs.clone().next().is_none() {
        return "no difference".to_string();
    }
    let mut parts = Vec::new();
    for (kind, word) in [
        (ChangeKind::Added, "added"),
        (ChangeKind::Removed, "removed"),
        (ChangeKind::Changed, "changed"),
    ] {
        let paths: Vec<&str> = diffs.clone().filter(|(k, _)| **k == kind).map(|(_, p)| p).collect();
        if paths.is_empty() {
            continue;
        }
        let mut listed = paths.iter().take(SUMMARY_PATHS).copied().collect::<Vec<_>>().join(", ");
        if paths.len() > SUMMARY_PATHS {
            listed.push_str(&format!(" and {} more", paths.len() - SUMMARY_PATHS));
        }
        parts.push(format!("{} {word} ({listed})", paths.len()));
    }
    parts.join(", ")
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

fn walk<'a>(path: &str, old: &'a Value, new: &'a Value, changes: &mut Vec<Found<'a>>, removals: &mut Vec<Found<'a>>) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (key, new_value) in n {
                let child = format!("{path}/{}", escape(key));
                match o.get(key) {
                    Some(old_value) => walk(&child, old_value, new_value, changes, removals),
                    None => changes.push(added(child, new_value)),
                }
            }
            for (key, old_value) in o.iter().filter(|(k, _)| !n.contains_key(*k)) {
                removals.push(removed(format!("{path}/{}", escape(key)), old_value));
            }
        }
        (Value::Array(o), Value::Array(n)) => match pairing_key(o, n) {
            Some(key) => walk_keyed(path, key, o, n, changes, removals),
            None => {
                for (i, new_value) in n.iter().enumerate() {
                    let child = format!("{path}/{i}");
                    match o.get(i) {
                        Some(old_value) => walk(&child, old_value, new_value, changes, removals),
                        None => changes.push(added(child, new_value)),
                    }
                }
                for (i, old_value) in o.iter().enumerate().skip(n.len()) {
                    removals.push(removed(format!("{path}/{i}"), old_value));
                }
            }
        },
        _ if scalar_equal(old, new) => {}
        _ => changes.push(Found {
            path: display_path(path),
            kind: ChangeKind::Changed,
            old: Some(old),
            new: Some(new),
        }),
    }
}

fn walk_keyed<'a>(
    path: &str,
    key: &[&str],
    old: &'a [Value],
    new: &'a [Value],
    changes: &mut Vec<Found<'a>>,
    removals: &mut Vec<Found<'a>>,
) {
    let old_by_key: BTreeMap<String, &'a Value> = old.iter().filter_map(|v| Some((key_label(v, key)?, v))).collect();
    // A keyed element hangs off its array's path; a keyed root array gets a leading "/".
    let base = if path.is_empty() { "/" } else { path };
    let mut new_keys = BTreeSet::new();
    for new_value in new {
        let Some(label) = key_label(new_value, key) else {
            continue;
        };
        let child = format!("{base}[{label}]");
        match old_by_key.get(&label) {
            Some(old_value) => walk(&child, old_value, new_value, changes, removals),
            None => changes.push(added(child, new_value)),
        }
        new_keys.insert(label);
    }
    for old_value in old {
        if let Some(label) = key_label(old_value, key).filter(|l| !new_keys.contains(l)) {
            removals.push(removed(format!("{base}[{label}]"), old_value));
        }
    }
}

/// The first key of [`KEYS`] present in every element of both arrays and
/// unique within each; None when an element is not an object or no key fits.
fn pairing_key(old: &[Value], new: &[Value]) -> Option<&'static [&'static str]> {
    if old.is_empty() && new.is_empty() || !old.iter().chain(new).all(Value::is_object) {
        return None;
    }
    KEYS.iter().copied().find(|key| {
        [old, new].iter().all(|list| {
            let mut seen = BTreeSet::new();
            list.iter().all(|v| key_label(v, key).is_some_and(|l| seen.insert(l)))
        })
    })
}

/// `ctin=29AAB…` or `hsn_sc=1001,rt=5`; None when a part is missing or not a scalar.
fn key_label(v: &Value, key: &[&str]) -> Option<String> {
    use std::fmt::Write as _;
    let mut label = String::new();
    for (i, k) in key.iter().enumerate() {
        if i > 0 {
            label.push(',');
        }
        label.push_str(k);
        label.push('=');
        match v.get(*k)? {
            Value::String(s) => label.push_str(s),
            Value::Number(n) => write!(label, "{n}").expect("writing to a String"),
            Value::Bool(b) => write!(label, "{b}").expect("writing to a String"),
            _ => return None,
        }
    }
    Some(label)
}

fn scalar_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(i), Some(j), _, _) => i == j,
            (_, _, Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn added(path: String, value: &Value) -> Found<'_> {
    Found {
        path,
        kind: ChangeKind::Added,
        old: None,
        new: Some(value),
    }
}

fn removed(path: String, value: &Value) -> Found<'_> {
    Found {
        path,
        kind: ChangeKind::Removed,
        old: Some(value),
        new: None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;
    use crate::domain::catalog;
    use crate::domain::period::{Month, Period};
    use crate::sim::model::{Answer, Business, EventKind};

    fn invoice(inum: &str, val: f64) -> Value {
        json!({"inum": inum, "idt": "05-04-2025", "val": val, "pos": "27", "itms": [{"num": 1, "itm_det": {"rt": 18, "txval": val}}]})
    }

    fn b2b(groups: Vec<(&str, Vec<Value>)>) -> Value {
        json!({"b2b": groups.into_iter().map(|(ctin, inv)| json!({"ctin": ctin, "cfs": "Y", "inv": inv})).collect::<Vec<_>>()})
    }

    #[test]
    fn an_inserted_invoice_is_one_addition() {
        let old = b2b(vec![
            ("27AAA", vec![invoice("INV-1", 100.0), invoice("INV-2", 200.0)]),
            ("29BBB", vec![invoice("INV-3", 300.0)]),
        ]);
        let new = b2b(vec![
            (
                "27AAA",
                vec![invoice("INV-1", 100.0), invoice("INV-7", 50.0), invoice("INV-2", 200.0)],
            ),
            ("29BBB", vec![invoice("INV-3", 300.0)]),
        ]);
        let d = diff(&old, &new);
        assert_eq!(
            d,
            vec![Difference {
                path: "/b2b[ctin=27AAA]/inv[inum=INV-7]".into(),
                kind: ChangeKind::Added,
                old: None,
                new: Some(invoice("INV-7", 50.0)),
            }]
        );
        assert_eq!(summarize(&d), "1 added (/b2b[ctin=27AAA]/inv[inum=INV-7])");
    }

    #[test]
    fn a_changed_value_names_its_path_and_both_values() {
        let old = b2b(vec![("27AAA", vec![invoice("INV-1", 100.0), invoice("INV-2", 200.0)])]);
        let mut new = old.clone();
        new["b2b"][0]["inv"][1]["val"] = json!(250);
        new["b2b"][0]["inv"][0]["val"] = json!(100);
        let d = diff(&old, &new);
        assert_eq!(d.len(), 1, "100 equals 100.0: {d:?}");
        assert_eq!(d[0].path, "/b2b[ctin=27AAA]/inv[inum=INV-2]/val");
        assert_eq!(d[0].kind, ChangeKind::Changed);
        assert_eq!(
            (d[0].old.clone(), d[0].new.clone()),
            (Some(json!(200.0)), Some(json!(250)))
        );
        assert!(diff(&old, &old).is_empty());
        assert_eq!(summarize(&[]), "no difference");
    }

    #[test]
    fn removals_come_after_changes() {
        let old = json!({"chksum": "a", "sec_sum": [{"sec_nm": "B2B", "ttl_val": 1}, {"sec_nm": "CDNR", "ttl_val": 2}], "gone": true});
        let new = json!({"chksum": "b", "sec_sum": [{"sec_nm": "B2B", "ttl_val": 1}]});
        let d = diff(&old, &new);
        let got: Vec<(&str, &ChangeKind)> = d.iter().map(|x| (x.path.as_str(), &x.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("/chksum", &ChangeKind::Changed),
                ("/sec_sum[sec_nm=CDNR]", &ChangeKind::Removed),
                ("/gone", &ChangeKind::Removed),
            ]
        );
        assert_eq!(d[1].old, Some(json!({"sec_nm": "CDNR", "ttl_val": 2})));
        assert_eq!(
            summarize(&d),
            "2 removed (/sec_sum[sec_nm=CDNR], /gone), 1 changed (/chksum)"
        );
    }

    #[test]
    fn without_a_unique_key_arrays_pair_by_position() {
        // `rt` alone is no key and `txval` repeats: positional.
        let old = json!({"rows": [{"rt": 5, "txval": 10}, {"rt": 5, "txval": 10}], "tags": ["a", "b"]});
        let new =
            json!({"rows": [{"rt": 5, "txval": 10}, {"rt": 5, "txval": 12}, {"rt": 12, "txval": 1}], "tags": ["a"]});
        let d = diff(&old, &new);
        let got: Vec<(&str, &ChangeKind)> = d.iter().map(|x| (x.path.as_str(), &x.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("/rows/1/txval", &ChangeKind::Changed),
                ("/rows/2", &ChangeKind::Added),
                ("/tags/1", &ChangeKind::Removed),
            ]
        );
        // A composite key when no single one fits; duplicated `inum` across suppliers needs `stin`.
        let old = json!([{"stin": "A", "inum": "1", "v": 1}, {"stin": "B", "inum": "1", "v": 1}]);
        let new = json!([{"stin": "B", "inum": "1", "v": 2}, {"stin": "A", "inum": "1", "v": 1}]);
        assert_eq!(diff(&old, &new)[0].path, "/[stin=B,inum=1]/v");
        // Escaped object keys, root scalars.
        assert_eq!(diff(&json!({"a/b": 1}), &json!({"a/b": 2}))[0].path, "/a~1b");
        assert_eq!(diff(&json!(1), &json!("1"))[0].path, "/");
    }

    #[test]
    fn ecom_groups_pair_by_operator_and_return_period() {
        // One e-commerce operator per `supprd`: `ctin` alone is no key.
        let group = |supprd: &str, inums: &[&str]| {
            json!({"ctin": "29AAACE1234F1Z5", "trdnm": "Eco", "supprd": supprd,
                "inv": inums.iter().map(|i| json!({"inum": i, "val": 10})).collect::<Vec<_>>()})
        };
        let old = json!({"docdata": {"ecom": [group("062026", &["E-1"]), group("072026", &["E-2"]), group("082026", &["E-3"])]}});
        let new = json!({"docdata": {"ecom": [group("062026", &["E-1"]), group("072026", &["E-2", "E-9"]), group("082026", &["E-3"])]}});
        let d = diff(&old, &new);
        assert_eq!(
            summarize(&d),
            "1 added (/docdata/ecom[ctin=29AAACE1234F1Z5,supprd=072026]/inv[inum=E-9])"
        );
    }

    #[test]
    fn long_lists_are_truncated() {
        let old = json!({"tr": []});
        let new = json!({"tr": (0..10).map(|i| json!({"ref_no": format!("R{i}")})).collect::<Vec<_>>()});
        assert_eq!(
            summarize(&diff(&old, &new)),
            "10 added (/tr[ref_no=R0], /tr[ref_no=R1], /tr[ref_no=R2] and 7 more)"
        );
    }

    fn ask(b: &Business, name: &str, month: Month, today: NaiveDate) -> Option<Value> {
        let endpoint = catalog::find(name).unwrap();
        let spec = endpoint
            .request(b.gstin().as_str(), &Period::Month(month), today)
            .unwrap();
        let (endpoint, params) = catalog::route(spec.method.as_str(), &spec.path, &spec.query).unwrap();
        match b.respond(endpoint, &params, &spec.query, today) {
            Answer::Data(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn a_b2ba_event_reads_as_exactly_its_additions() {
        let b = Business::new(&crate::sim::demo_gstins()[0], 7);
        let events: Vec<_> = b
            .events()
            .into_iter()
            .filter(|e| e.kind == EventKind::B2baAmendment)
            .collect();
        let first = &events[0];
        let before = first.effective.pred_opt().unwrap();

        // The period's first amendment: the summary gains a B2BA section and a new checksum.
        let old = ask(&b, "gstr-1-summary", first.period, before).unwrap();
        let new = ask(&b, "gstr-1-summary", first.period, first.effective).unwrap();
        let d = diff(&old, &new);
        let paths: Vec<(&str, &ChangeKind)> = d.iter().map(|x| (x.path.as_str(), &x.kind)).collect();
        assert_eq!(
            paths,
            vec![
                ("/chksum", &ChangeKind::Changed),
                ("/sec_sum[sec_nm=B2BA]", &ChangeKind::Added)
            ]
        );
        assert_eq!(summarize(&d), "1 added (/sec_sum[sec_nm=B2BA]), 1 changed (/chksum)");
        assert!(ask(&b, "gstr-1-b2ba", first.period, before).is_none());

        // A later amendment of a period that already has one: one invoice (or supplier group) added.
        let later = events
            .iter()
            .find(|e| ask(&b, "gstr-1-b2ba", e.period, e.effective.pred_opt().unwrap()).is_some())
            .unwrap();
        let old = ask(&b, "gstr-1-b2ba", later.period, later.effective.pred_opt().unwrap()).unwrap();
        let new = ask(&b, "gstr-1-b2ba", later.period, later.effective).unwrap();
        let d = diff(&old, &new);
        assert_eq!(d.len(), 1, "{}", summarize(&d));
        assert_eq!(d[0].kind, ChangeKind::Added);
        let added = d[0].new.as_ref().unwrap();
        let expected = match added.get("ctin").and_then(Value::as_str) {
            // The supplier's first amendment in the period: a new group.
            Some(ctin) => format!("/b2ba[ctin={ctin}]"),
            None => {
                let group = new["b2ba"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|g| g["inv"].as_array().unwrap().contains(added))
                    .unwrap();
                format!(
                    "/b2ba[ctin={}]/inv[inum={}]",
                    group["ctin"].as_str().unwrap(),
                    added["inum"].as_str().unwrap()
                )
            }
        };
        assert_eq!(d[0].path, expected);
        assert_eq!(summarize(&d), format!("1 added ({expected})"));

        let old = ask(&b, "gstr-1-summary", later.period, later.effective.pred_opt().unwrap()).unwrap();
        let new = ask(&b, "gstr-1-summary", later.period, later.effective).unwrap();
        let d = diff(&old, &new);
        assert!(d.iter().all(|x| x.kind == ChangeKind::Changed), "{d:?}");
        assert!(
            d.iter()
                .all(|x| x.path == "/chksum" || x.path.starts_with("/sec_sum[sec_nm=B2BA]/")),
            "only the B2BA section and the checksum change: {}",
            summarize(&d)
        );
        assert!(d.iter().any(|x| x.path == "/sec_sum[sec_nm=B2BA]/ttl_rec"));
    }
}
