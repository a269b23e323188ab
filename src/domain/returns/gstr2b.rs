//! GSTR-2B's ITC statement read as GSTN documents it: the `itcsumm` summary
//! by bucket (`itcavl`, `itcunavl`, `itcrev`, `itcRejected`), section and
//! part, in paise by head, and the GSTR-3B table-4 figure each section is the
//! source of. It owns the 2B field names; it must do no IO, and never turn a
//! shape it does not recognise into a zero: that is an [`Unreadable`] entry
//! naming the section, which the reconciliation reports as a finding.
//!
//! Sources (read 2026-12-01):
//! - Sandbox, "GSTR-2B" (<https://developer.sandbox.co.in/docs/gstr-2b>): the
//!   document (`gstin`, `rtnprd`, `version`, `gendt`, `itcsumm`, `docdata`)
//!   is the answer's `data.data`; `itcsumm.itcavl.nonrevsup` carries head
//!   totals (`igst`, `cgst`, `sgst`, `cess`) and parts (`b2b`, ...).
//! - Vayana, "Gst Returns Download Lite for GSTR-2b"
//!   (<https://docs.enriched-api.vayana.com/routes/basic/gstn/apis/returns/Gstr-Download-Lite-Api/gstr-2b>):
//!   GSTN's own answer `{chksum, data:{gstin, rtnprd, version, gendt,
//!   itcsumm, ...}}`, so a pass-through puts the document one level deeper;
//!   `itcavl` has `nonrevsup` (b2b, b2ba, cdnr, cdnra, ecom, ecoma), `isdsup`
//!   (isd, isda), `revsup`, `imports` and `othersup`.
//! - GSTN's GSTR-2B summary layout (the portal's Excel "ITC Available" and
//!   "ITC not available" sheets, as GSTN-facing clients reproduce them):
//!   `nonrevsup` → 3B 4A(5), `isdsup` → 4A(4), `revsup` → 3.1(d) and 4A(3),
//!   `imports` (impg, impga, impgsez, impgseza) → 4A(1); `othersup` holds the
//!   credit notes (`cdnr`, `cdnra`, reverse charge `cdnrrev`/`cdnrarev`, ISD
//!   `isd`/`isda`), to be netted off the ITC of 4A(5), 4A(3) and 4A(4);
//!   `nonrevsup.cdnr` there is debit notes, which add. `itcunavl` is reported
//!   in 3B 4D(2); `itcrev` (rule 37A reversals) in 4B(2); `itcRejected` (IMS
//!   era, from the October 2024 period) cannot be claimed at all.
//! - GST-PRIMER.md ("GSTR-2B's ITC summary and GSTR-3B table 4").
//!
//! Without `itcsumm` on any page the figures are summed from `docdata`,
//! each document once: its tax sits on the document (`igst`, `cgst`, `sgst`,
//! `cess`); the pre-IMS `items` list is never summed, since the IMS-era
//! shape has none.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::domain::money::{paise_of_decimal, Heads};

/// The four buckets of `itcsumm`, in the portal's order, with a label.
pub const BUCKETS: [(&str, &str); 4] = [
    ("itcavl", "ITC available"),
    ("itcunavl", "ITC not available"),
    ("itcrev", "ITC reversal"),
    ("itcRejected", "ITC rejected (IMS)"),
];

/// The sections of a bucket GSTN documents.
pub const SECTIONS: [&str; 5] = ["nonrevsup", "isdsup", "revsup", "imports", "othersup"];

/// The label of a bucket key (`itcavl` → "ITC available").
pub fn bucket_label(bucket: &str) -> &'static str {
    BUCKETS
        .iter()
        .find(|(k, _)| *k == bucket)
        .map(|(_, l)| *l)
        .unwrap_or("unknown")
}

/// Which 2B shape the payload is: before IMS (documents carry `items`)
/// or the IMS era (from the October 2024 period).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    PreIms,
    Ims,
}

/// Where the figures came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The `itcsumm` summary.
    Summary,
    /// Summed from `docdata` (no page carried `itcsumm`).
    Documents,
}

/// One figure of the statement: a section's total (`part` None) or a part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `itcavl`, `itcunavl`, `itcrev`, `itcRejected`.
    pub bucket: String,
    /// `nonrevsup`, ..., or `total` for a bucket that carries heads itself.
    pub section: String,
    pub part: Option<String>,
    pub heads: Heads,
}

/// Something the reader could not read, and the 3B table-4 rows it leaves
/// unchecked (none: a finding of its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// `itcavl.othersup`, `docdata.b2b`, `payload`.
    pub section: String,
    pub why: String,
    pub rows: Vec<&'static str>,
}

impl Unreadable {
    /// "could not read 2B section itcavl.othersup (why)".
    pub fn text(&self) -> String {
        format!("could not read 2B section {} ({})", self.section, self.why)
    }
}

/// The 2B of one month as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gstr2b {
    pub shape: Shape,
    pub origin: Origin,
    /// `rtnprd` (`MMYYYY`) when the document names it.
    pub ret_period: Option<String>,
    /// Section totals and their parts, in the document's order.
    pub lines: Vec<Line>,
    pub unreadable: Vec<Unreadable>,
}

impl Gstr2b {
    /// A section's total, None when the 2B does not have the section.
    pub fn section(&self, bucket: &str, section: &str) -> Option<Heads> {
        self.lines
            .iter()
            .find(|l| l.bucket == bucket && l.section == section && l.part.is_none())
            .map(|l| l.heads)
    }

    /// A part of a section, None when absent.
    pub fn part(&self, bucket: &str, section: &str, part: &str) -> Option<Heads> {
        self.lines
            .iter()
            .find(|l| l.bucket == bucket && l.section == section && l.part.as_deref() == Some(part))
            .map(|l| l.heads)
    }

    /// A bucket's total over its sections (credit notes in `othersup`
    /// subtracted for `itcavl` and `itcunavl`).
    pub fn bucket_net(&self, bucket: &str) -> Heads {
        let mut total = Heads::default();
        for l in self.lines.iter().filter(|l| l.bucket == bucket && l.part.is_none()) {
            total = if l.section == "othersup" && bucket != "itcRejected" {
                total.minus(&l.heads)
            } else {
                total.plus(&l.heads)
            };
        }
        total
    }

    /// The unreadable entries that leave 3B row `table` unchecked.
    pub fn blocks(&self, table: &str) -> Vec<&Unreadable> {
        self.unreadable.iter().filter(|u| u.rows.contains(&table)).collect()
    }
}

/// Reads the 2B of one month from its pages (the page-0 answer and/or pages
/// 1..fc, in any order; each the Sandbox `data.data`). None without a page.
pub fn read(pages: &[&Value]) -> Option<Gstr2b> {
    if pages.is_empty() {
        return None;
    }
    let mut unreadable = Vec::new();
    let mut documents = Vec::new();
    let mut file_counts = 0;
    for page in pages {
        match document(page) {
            Some(d) => documents.push(d),
            // A large 2B's first answer only names its file count (`fc`).
            None if is_file_count(page) => file_counts += 1,
            None => unreadable.push(Unreadable {
                section: "payload".into(),
                why: "neither a 2B document nor GSTN's {chksum, data} around one".into(),
                rows: ALL_ROWS.to_vec(),
            }),
        }
    }
    if documents.is_empty() && file_counts > 0 && unreadable.is_empty() {
        unreadable.push(Unreadable {
            section: "pages".into(),
            why: "only the file count (fc) is archived, none of the pages it names".into(),
            rows: ALL_ROWS.to_vec(),
        });
    }
    let ret_period = documents
        .iter()
        .find_map(|d| d.get("rtnprd").and_then(Value::as_str))
        .map(str::to_string);
    let shape = shape_of(&documents, ret_period.as_deref());
    let summary = documents.iter().find_map(|d| d.get("itcsumm"));
    let (origin, lines) = match summary {
        Some(s) => (Origin::Summary, read_summary(s, &mut unreadable)),
        None => (Origin::Documents, read_documents(&documents, &mut unreadable)),
    };
    Some(Gstr2b {
        shape,
        origin,
        ret_period,
        lines,
        unreadable,
    })
}

/// Every 3B table-4 row a 2B source exists for.
const ALL_ROWS: [&str; 6] = ["4A(1)", "4A(3)", "4A(4)", "4A(5)", "4B(2)", "4D(2)"];

/// The 3B rows a section is the source of.
fn rows_of(bucket: &str, section: &str) -> Vec<&'static str> {
    match (bucket, section) {
        ("itcavl", "imports") => vec!["4A(1)"],
        ("itcavl", "revsup") => vec!["4A(3)"],
        ("itcavl", "isdsup") => vec!["4A(4)"],
        ("itcavl", "nonrevsup") => vec!["4A(5)"],
        ("itcavl", "othersup") => vec!["4A(3)", "4A(4)", "4A(5)"],
        ("itcavl", _) => vec!["4A(1)", "4A(3)", "4A(4)", "4A(5)"],
        ("itcunavl", _) => vec!["4D(2)"],
        ("itcrev", _) => vec!["4B(2)"],
        _ => Vec::new(),
    }
}

/// A page that only names the file count of a large 2B (`{"fc": 3}`, also
/// inside GSTN's `data`).
fn is_file_count(page: &Value) -> bool {
    let fc = |v: &Value| {
        v.as_object()
            .is_some_and(|m| m.contains_key("fc") && !m.contains_key("itcsumm"))
    };
    fc(page) || page.get("data").is_some_and(fc)
}

/// The 2B document in a page: the page itself, or GSTN's `data` inside it.
fn document(page: &Value) -> Option<&Map<String, Value>> {
    let is_doc = |m: &Map<String, Value>| ["itcsumm", "docdata", "rtnprd"].iter().any(|k| m.contains_key(*k));
    let m = page.as_object()?;
    if is_doc(m) {
        return Some(m);
    }
    m.get("data").and_then(Value::as_object).filter(|inner| is_doc(inner))
}

fn shape_of(documents: &[&Map<String, Value>], ret_period: Option<&str>) -> Shape {
    let ims_key = documents
        .iter()
        .filter_map(|d| d.get("itcsumm").and_then(Value::as_object))
        .any(|s| s.contains_key("itcRejected") || s.contains_key("itcrej"));
    // `MMYYYY`: October 2024 on is the IMS era.
    let ims_period = ret_period
        .filter(|p| p.len() == 6)
        .and_then(|p| Some((p[2..].parse::<u32>().ok()?, p[..2].parse::<u32>().ok()?)))
        .is_some_and(|(y, m)| (y, m) >= (2024, 10));
    if ims_key || ims_period {
        Shape::Ims
    } else {
        Shape::PreIms
    }
}

const HEAD_KEYS: [&str; 4] = ["igst", "cgst", "sgst", "cess"];

/// The heads of an object: None when it has none, Err when one is not a number.
fn heads_of(m: &Map<String, Value>) -> Result<Option<Heads>, String> {
    let mut any = false;
    let mut out = [0i64; 4];
    for (i, k) in HEAD_KEYS.iter().enumerate() {
        match m.get(*k) {
            None | Some(Value::Null) => {}
            Some(v) => {
                let text = match v {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.trim().to_string(),
                    _ => return Err(format!("{k} is not a number")),
                };
                out[i] = paise_of_decimal(&text).ok_or_else(|| format!("{k} is not a number"))?;
                any = true;
            }
        }
    }
    Ok(any.then_some(Heads {
        igst: out[0],
        cgst: out[1],
        sgst: out[2],
        cess: out[3],
    }))
}

/// A section `{igst.., part: {igst..}, ...}`: its total (the heads it
/// carries, else its parts summed) and its parts.
fn read_section(v: &Value) -> Result<(Heads, Vec<(String, Heads)>), String> {
    let m = v.as_object().ok_or("not an object")?;
    let own = heads_of(m)?;
    let mut parts = Vec::new();
    for (k, part) in m {
        if HEAD_KEYS.contains(&k.as_str()) || k == "txval" {
            continue;
        }
        let pm = part.as_object().ok_or_else(|| format!("{k} is not an object"))?;
        let heads = heads_of(pm).map_err(|e| format!("{k}: {e}"))?.unwrap_or_default();
        parts.push((k.clone(), heads));
    }
    if own.is_none() && parts.is_empty() && !m.is_empty() {
        return Err("no tax heads".into());
    }
    let total = own.unwrap_or_else(|| parts.iter().fold(Heads::default(), |a, (_, h)| a.plus(h)));
    Ok((total, parts))
}

/// The `itcsumm` summary as lines.
fn read_summary(summary: &Value, unreadable: &mut Vec<Unreadable>) -> Vec<Line> {
    let mut lines = Vec::new();
    let Some(s) = summary.as_object() else {
        unreadable.push(Unreadable {
            section: "itcsumm".into(),
            why: "not an object".into(),
            rows: ALL_ROWS.to_vec(),
        });
        return lines;
    };
    for (key, value) in s {
        let bucket = match key.as_str() {
            "itcrej" => "itcRejected",
            k => match BUCKETS.iter().find(|(b, _)| *b == k) {
                Some((b, _)) => b,
                None => {
                    unreadable.push(Unreadable {
                        section: key.clone(),
                        why: "not a bucket GSTN documents".into(),
                        rows: Vec::new(),
                    });
                    continue;
                }
            },
        };
        let Some(bm) = value.as_object() else {
            unreadable.push(Unreadable {
                section: bucket.into(),
                why: "not an object".into(),
                rows: rows_of(bucket, ""),
            });
            continue;
        };
        // A bucket may carry heads itself (a reversal total) besides sections.
        match heads_of(bm) {
            Ok(Some(h)) if !bm.keys().any(|k| SECTIONS.contains(&k.as_str())) => {
                lines.push(Line {
                    bucket: bucket.into(),
                    section: "total".into(),
                    part: None,
                    heads: h,
                });
                continue;
            }
            Ok(_) => {}
            Err(why) => {
                unreadable.push(Unreadable {
                    section: bucket.into(),
                    why,
                    rows: rows_of(bucket, ""),
                });
                continue;
            }
        }
        for (section, sv) in bm {
            if HEAD_KEYS.contains(&section.as_str()) || section == "txval" {
                continue;
            }
            let name = format!("{bucket}.{section}");
            if !SECTIONS.contains(&section.as_str()) {
                unreadable.push(Unreadable {
                    section: name,
                    why: "not a section GSTN documents".into(),
                    rows: rows_of(bucket, section),
                });
                continue;
            }
            match read_section(sv) {
                Ok((total, parts)) => {
                    if section == "othersup" && bucket != "itcRejected" {
                        let known = ["cdnr", "cdnra", "cdnrrev", "cdnrarev", "isd", "isda"];
                        let assigned = parts.iter().filter(|(p, _)| known.contains(&p.as_str()));
                        let sum = assigned.fold(Heads::default(), |a, (_, h)| a.plus(h));
                        if let Some((p, _)) = parts.iter().find(|(p, _)| !known.contains(&p.as_str())) {
                            unreadable.push(Unreadable {
                                section: name.clone(),
                                why: format!("credit-note part {p} is not one GSTN documents"),
                                rows: rows_of(bucket, section),
                            });
                        } else if sum != total {
                            unreadable.push(Unreadable {
                                section: name.clone(),
                                why: "its total is not the sum of its credit-note parts, so they cannot be assigned to 3B rows".into(),
                                rows: rows_of(bucket, section),
                            });
                        }
                    }
                    lines.push(Line {
                        bucket: bucket.into(),
                        section: section.clone(),
                        part: None,
                        heads: total,
                    });
                    for (part, heads) in parts {
                        lines.push(Line {
                            bucket: bucket.into(),
                            section: section.clone(),
                            part: Some(part),
                            heads,
                        });
                    }
                }
                Err(why) => unreadable.push(Unreadable {
                    section: name,
                    why,
                    rows: rows_of(bucket, section),
                }),
            }
        }
    }
    lines
}

/// Which line a document adds to: (bucket, section, part).
type Slot = (&'static str, &'static str, &'static str);

/// The `docdata` documents summed into lines, each document once.
fn read_documents(documents: &[&Map<String, Value>], unreadable: &mut Vec<Unreadable>) -> Vec<Line> {
    let mut sums: BTreeMap<Slot, Heads> = BTreeMap::new();
    let mut order: Vec<Slot> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut problem = BTreeMap::<String, (String, Vec<&'static str>)>::new();
    let mut add = |slot: Slot, heads: Heads| {
        if !sums.contains_key(&slot) {
            order.push(slot);
        }
        let e = sums.entry(slot).or_default();
        *e = e.plus(&heads);
    };
    for doc in documents {
        let Some(docdata) = doc.get("docdata") else { continue };
        let Some(docdata) = docdata.as_object() else {
            problem.insert("docdata".into(), ("not an object".into(), ALL_ROWS.to_vec()));
            continue;
        };
        for (section, list) in docdata {
            let rows: Vec<&'static str> = match section.as_str() {
                "b2b" | "b2ba" | "cdnr" | "cdnra" | "ecom" | "ecoma" => vec!["4A(3)", "4A(5)", "4D(2)"],
                "isd" | "isda" => vec!["4A(4)", "4D(2)"],
                "impg" | "impga" | "impgsez" | "impgseza" => vec!["4A(1)"],
                _ => {
                    problem.insert(
                        format!("docdata.{section}"),
                        ("not a section GSTN documents".into(), Vec::new()),
                    );
                    continue;
                }
            };
            let Some(entries) = list.as_array() else {
                problem.insert(format!("docdata.{section}"), ("not a list".into(), rows));
                continue;
            };
            for entry in entries {
                // Supplier groups (`ctin` with `inv`/`nt`/`boe`) or flat documents.
                let ctin = entry.get("ctin").and_then(Value::as_str).unwrap_or("");
                let inner = ["inv", "nt", "doclist", "boe"]
                    .iter()
                    .find_map(|k| entry.get(*k).and_then(Value::as_array));
                let docs: Vec<&Value> = match inner {
                    Some(list) => list.iter().collect(),
                    None => vec![entry],
                };
                for d in docs {
                    let Some(dm) = d.as_object() else { continue };
                    let text = |k: &str| dm.get(k).and_then(Value::as_str).unwrap_or("");
                    let num = ["inum", "ntnum", "docnum", "boenum"]
                        .iter()
                        .find_map(|k| dm.get(*k).map(Value::to_string))
                        .unwrap_or_default();
                    if !seen.insert((section.clone(), ctin.to_string(), num)) {
                        continue;
                    }
                    let heads = match heads_of(dm) {
                        Ok(Some(h)) => h,
                        Ok(None) => {
                            problem.insert(
                                format!("docdata.{section}"),
                                ("a document without tax on it".into(), rows.clone()),
                            );
                            continue;
                        }
                        Err(why) => {
                            problem.insert(format!("docdata.{section}"), (why, rows.clone()));
                            continue;
                        }
                    };
                    let rev = text("rev") == "Y";
                    let not_available = text("itcavl") == "N" || text("itcelg") == "N";
                    let rejected = text("imsStatus") == "R";
                    let credit = match section.as_str() {
                        "cdnr" | "cdnra" => text("typ") == "C",
                        "isd" | "isda" => text("doctyp") == "ISDC",
                        _ => false,
                    };
                    let bucket = if rejected {
                        "itcRejected"
                    } else if not_available {
                        "itcunavl"
                    } else {
                        "itcavl"
                    };
                    let part: &'static str = match section.as_str() {
                        "b2b" => "b2b",
                        "b2ba" => "b2ba",
                        "cdnr" if credit && rev => "cdnrrev",
                        "cdnra" if credit && rev => "cdnrarev",
                        "cdnr" => "cdnr",
                        "cdnra" => "cdnra",
                        "ecom" => "ecom",
                        "ecoma" => "ecoma",
                        "isd" => "isd",
                        "isda" => "isda",
                        "impg" => "impg",
                        "impga" => "impga",
                        "impgsez" => "impgsez",
                        _ => "impgseza",
                    };
                    let sect = if credit {
                        "othersup"
                    } else {
                        match section.as_str() {
                            "isd" | "isda" => "isdsup",
                            "impg" | "impga" | "impgsez" | "impgseza" => "imports",
                            _ if rev => "revsup",
                            _ => "nonrevsup",
                        }
                    };
                    add((bucket, sect, part), heads);
                }
            }
        }
    }
    for (section, (why, rows)) in problem {
        unreadable.push(Unreadable { section, why, rows });
    }
    // Lines in bucket and section order, each section's total before its parts.
    let mut lines = Vec::new();
    for (bucket, _) in BUCKETS {
        for section in SECTIONS {
            let parts: Vec<&Slot> = order.iter().filter(|s| s.0 == bucket && s.1 == section).collect();
            if parts.is_empty() {
                continue;
            }
            let total = parts.iter().fold(Heads::default(), |a, s| a.plus(&sums[*s]));
            lines.push(Line {
                bucket: bucket.into(),
                section: section.into(),
                part: None,
                heads: total,
            });
            for s in parts {
                lines.push(Line {
                    bucket: bucket.into(),
                    section: section.into(),
                    part: Some(s.2.into()),
                    heads: sums[s],
                });
            }
        }
    }
    lines
}
