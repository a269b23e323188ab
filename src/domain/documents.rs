//! The documents and rows of a return payload, read at the level the return
//! works in: an invoice, a note, a table row or a ledger entry, each with its
//! section (B2B, B2BA, CDNR, CDNRA, B2CS, HSN, DOC_ISSUE…, the 2A/2B
//! sections, GSTR-3B tables such as 3.1(a) and 4(A), ledger entries), its
//! counterparty GSTIN, document number and date, taxable value and tax by
//! head in paise. It owns how a payload is walked and how a document is
//! told apart from a group of documents; [`super::change`] pairs two
//! readings. Pure: no IO, no clock, never fails (a payload it cannot read
//! gives no documents, and the change model says so).
//!
//! Reading rules (from the GSTN GSTR-1, 2A, 2B and 3B JSON schemas as the
//! Sandbox docs show them, `ENDPOINTS.md`):
//! - Sections are the payload's top-level members (`b2b`, `cdnr`, …), the
//!   members of 2B's `docdata`, and nested objects (3B `sup_details.osup_det`,
//!   the ITC ledger's `itcLdgDtls.tr`). A 2B passed through one level deeper
//!   (`{chksum, data:{…}}`) is read inside its `data`.
//! - An element of a section array that carries a counterparty (`ctin`) and
//!   an array of documents (`inv`, `nt`, …) is a group: each of its documents
//!   is one [`Document`] with the group's GSTIN and return period (`supprd`,
//!   2B and 2A key their groups by both). Anything else is a document or a
//!   row itself.
//! - A document is named by its number (`inum`, `nt_num`, `ntnum`, `docnum`,
//!   `boenum`, `ref_no`, `arn`…); a row without one by its identifying fields
//!   (`sec_nm`, `ty`, `pos`, `rt`, `hsn_sc`, …), else by its position. A
//!   return summary's `sec_sum` row is the section's total (`B2BA total`).
//! - Amounts: a level that states its own totals (`txval`, `iamt`/`igst`,
//!   `camt`/`cgst`, `samt`/`sgst`, `csamt`/`cess`, the summary's `ttl_*`, the
//!   ITC ledger's `igstTaxAmt`…; a cash ledger's head object by its `tot`)
//!   is taken at its word; otherwise its items (`itms`, `items`) are summed.

use serde::Serialize;
use serde_json::Value;

use super::money::{paise_of, Heads};

/// One invoice, note, table row or ledger entry of a payload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Document {
    /// `B2B`, `CDNRA`, `3.1(a)`, `ENTRY`…
    pub section: String,
    /// The counterparty's GSTIN (`ctin`), when the return names one.
    pub counterparty: Option<String>,
    /// The document number, or the row's identifying fields (`pos=27,rt=18`).
    pub number: Option<String>,
    /// As the portal writes it (`05-08-2026`, `05/08/2026`).
    pub date: Option<String>,
    /// Taxable value in paise, when the document states one.
    pub taxable: Option<i64>,
    pub tax: Heads,
    /// What pairs it with the same document in another payload of the
    /// endpoint: section, counterparty, period, number, unique per payload.
    #[serde(skip)]
    pub key: String,
    /// The document as received, to tell whether it changed.
    #[serde(skip)]
    pub value: Value,
}

/// Fields that name a document.
const NUMBER_FIELDS: &[&str] = &[
    "inum", "nt_num", "ntnum", "docnum", "doc_num", "boenum", "benum", "ref_no", "arn", "irn", "Irn", "refnum",
];

/// Fields that date a document.
const DATE_FIELDS: &[&str] = &[
    "idt", "nt_dt", "dt", "docdt", "boedt", "dpt_dt", "dof", "doc_dt", "bedt",
];

/// Fields that identify a row without a document number.
const ROW_FIELDS: &[&str] = &[
    "sec_nm",
    "ty",
    "typ",
    "sply_ty",
    "exp_typ",
    "pos",
    "hsn_sc",
    "uqc",
    "rt",
    "trans_typ",
    "rtntype",
    "ret_prd",
    "liab_id",
    "desc",
];

/// Arrays inside a group that hold its documents.
const GROUP_CHILDREN: &[&str] = &["inv", "nt", "docs", "doc", "itms_list"];

/// Item arrays summed when a document states no totals itself.
const ITEM_ARRAYS: &[&str] = &["itms", "items", "itm_det"];

/// Top-level members that describe the payload, not its documents.
const META: &[&str] = &[
    "gstin",
    "ret_period",
    "rtnprd",
    "fp",
    "chksum",
    "version",
    "gendt",
    "newSumFlag",
];

const TAXABLE: &[&str] = &["txval", "ttl_txval", "taxable_value"];
const IGST: &[&str] = &["iamt", "igst", "ttl_igst", "igstTaxAmt", "igst_amt"];
const CGST: &[&str] = &["camt", "cgst", "ttl_cgst", "cgstTaxAmt", "cgst_amt"];
const SGST: &[&str] = &["samt", "sgst", "ttl_sgst", "sgstTaxAmt", "sgst_amt"];
const CESS: &[&str] = &["csamt", "cess", "ttl_cess", "cessTaxAmt", "cess_amt"];

/// Blocks named by what they are: GSTR-3B's by table (GST-PRIMER, 3B
/// tables), a ledger's balances and entries, return tracking's filings.
const TABLES_3B: &[(&str, &str)] = &[
    ("osup_det", "3.1(a)"),
    ("osup_zero", "3.1(b)"),
    ("osup_nil_exmp", "3.1(c)"),
    ("isup_rev", "3.1(d)"),
    ("osup_nongst", "3.1(e)"),
    ("unreg_details", "3.2 unregistered"),
    ("comp_details", "3.2 composition"),
    ("uin_details", "3.2 UIN"),
    ("itc_avl", "4(A)"),
    ("itc_rev", "4(B)"),
    ("itc_net", "4(C)"),
    ("itc_inelg", "4(D)"),
    ("intr_details", "5.1 interest"),
    ("ltfee_details", "5.1 late fee"),
    ("tx_pmt", "6.1"),
    ("op_bal", "opening balance"),
    ("cl_bal", "closing balance"),
    ("tr", "ENTRY"),
    ("EFiledlist", "FILING"),
    ("efiledlist", "FILING"),
];

/// Every document and row of `payload`, in document order. Empty for `{}`
/// (a `no_data` answer) and for a payload with nothing recognisable.
pub fn read(payload: &Value) -> Vec<Document> {
    let mut out = Vec::new();
    let root = match payload.get("data") {
        // GSTN's own `{chksum, data:{…}}` one level deeper.
        Some(inner @ Value::Object(_)) if payload.get("docdata").is_none() => inner,
        _ => payload,
    };
    let root = root.get("docdata").filter(|d| d.is_object()).unwrap_or(root);
    walk(&[], root, &mut out);
    // Keys unique per payload: a repeated key gets its occurrence number.
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for d in &mut out {
        let n = seen.entry(d.key.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            d.key = format!("{}#{n}", d.key);
        }
    }
    out
}

fn walk(path: &[&str], value: &Value, out: &mut Vec<Document>) {
    let Value::Object(members) = value else { return };
    for (name, child) in members {
        if path.is_empty() && META.contains(&name.as_str()) {
            continue;
        }
        let mut here = path.to_vec();
        here.push(name);
        match child {
            Value::Array(elements) => section(&here, elements, out),
            Value::Object(_) if states_amounts(child) => out.push(document(&here, None, None, child, None)),
            Value::Object(_) => walk(&here, child, out),
            _ => {}
        }
    }
}

fn section(path: &[&str], elements: &[Value], out: &mut Vec<Document>) {
    for (index, element) in elements.iter().enumerate() {
        if !element.is_object() {
            continue;
        }
        let children = GROUP_CHILDREN.iter().find_map(|k| {
            element
                .get(*k)
                .and_then(Value::as_array)
                .filter(|a| a.iter().all(Value::is_object))
        });
        match (element.get("ctin").and_then(Value::as_str), children) {
            (Some(ctin), Some(children)) => {
                let period = element.get("supprd").and_then(Value::as_str);
                for (i, child) in children.iter().enumerate() {
                    out.push(document(path, Some(ctin), period, child, Some(i)));
                }
            }
            _ => out.push(document(path, None, None, element, Some(index))),
        }
    }
}

/// The section's label: the 3B table or ledger part a block is, else the
/// top-level member in capitals (`b2ba` → `B2BA`, `doc_issue` → `DOC_ISSUE`).
fn label(path: &[&str]) -> String {
    if let Some(last) = path.last() {
        if let Some((_, table)) = TABLES_3B.iter().find(|(k, _)| k == last) {
            return (*table).to_string();
        }
    }
    path.first().map(|s| s.to_ascii_uppercase()).unwrap_or_default()
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn document(path: &[&str], ctin: Option<&str>, period: Option<&str>, v: &Value, index: Option<usize>) -> Document {
    let field = |names: &[&str]| names.iter().find_map(|k| v.get(*k).and_then(scalar_text));
    let number = field(NUMBER_FIELDS).or_else(|| {
        let parts: Vec<String> = ROW_FIELDS
            .iter()
            .filter_map(|k| v.get(*k).and_then(scalar_text).map(|t| format!("{k}={t}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join(","))
    });
    let (taxable, tax) = amounts(v);
    let mut section = label(path);
    // A return summary's row is the total of the section it names.
    let total_of = match (path, v.get("sec_nm").and_then(scalar_text)) {
        ([only], Some(name)) if *only == "sec_sum" => Some(name),
        _ => None,
    };
    let position = match (&number, index) {
        (None, Some(i)) => format!("@{i}"),
        _ => String::new(),
    };
    let key = format!(
        "{}|{}|{}|{}|{}{position}",
        path.join("."),
        ctin.unwrap_or(""),
        period.unwrap_or(""),
        number.as_deref().unwrap_or(""),
        if number.is_none() && index.is_none() {
            "block"
        } else {
            ""
        },
    );
    let number = match total_of {
        Some(name) => {
            section = format!("{name} total");
            None
        }
        None => number,
    };
    Document {
        section,
        counterparty: ctin.map(str::to_string).or_else(|| v.get("ctin").and_then(scalar_text)),
        number,
        date: field(DATE_FIELDS),
        taxable,
        tax,
        key,
        value: v.clone(),
    }
}

/// A head's amount at this level: a number, or a cash ledger's head object by its total.
fn head(v: &Value, names: &[&str]) -> Option<i64> {
    names.iter().find_map(|k| match v.get(*k)? {
        n @ (Value::Number(_) | Value::String(_)) => {
            crate::domain::money::paise_of_decimal(scalar_text(n)?.trim()).map(|_| paise_of(n))
        }
        Value::Object(o) => o.get("tot").map(paise_of),
        _ => None,
    })
}

fn states_amounts(v: &Value) -> bool {
    [TAXABLE, IGST, CGST, SGST, CESS]
        .iter()
        .any(|names| head(v, names).is_some())
}

/// Taxable value and tax by head of one document: its own totals when it
/// states any, else the sum of its items.
fn amounts(v: &Value) -> (Option<i64>, Heads) {
    if states_amounts(v) {
        let tax = Heads {
            igst: head(v, IGST).unwrap_or(0),
            cgst: head(v, CGST).unwrap_or(0),
            sgst: head(v, SGST).unwrap_or(0),
            cess: head(v, CESS).unwrap_or(0),
        };
        return (head(v, TAXABLE), tax);
    }
    let mut taxable = None;
    let mut tax = Heads::default();
    for items in ITEM_ARRAYS.iter().filter_map(|k| v.get(*k)) {
        let list: Vec<&Value> = match items {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for item in list {
            // GSTR-1 items carry their figures one level down, in `itm_det`.
            let (t, h) = amounts(item.get("itm_det").unwrap_or(item));
            if let Some(t) = t {
                taxable = Some(taxable.unwrap_or(0) + t);
            }
            tax = tax.plus(&h);
        }
    }
    (taxable, tax)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn gstr1_invoices_and_notes_are_read_per_counterparty() {
        let payload = json!({"cdnr": [{"ctin": "29AABCK4521M1Z5", "cfs": "Y", "nt": [
            {"ntty": "C", "nt_num": "CN/26-27/L2211", "nt_dt": "22-11-2026", "val": 1418.12, "pos": "29",
             "itms": [{"num": 1, "itm_det": {"rt": 18, "txval": 1201.8, "iamt": 216.32, "camt": 0, "samt": 0, "csamt": 0}}]}
        ]}], "gstin": "27AAPFU0939F1ZV"});
        let docs = read(&payload);
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d.section, "CDNR");
        assert_eq!(d.counterparty.as_deref(), Some("29AABCK4521M1Z5"));
        assert_eq!(d.number.as_deref(), Some("CN/26-27/L2211"));
        assert_eq!(d.date.as_deref(), Some("22-11-2026"));
        assert_eq!(d.taxable, Some(120180));
        assert_eq!(
            d.tax,
            Heads {
                igst: 21632,
                ..Heads::default()
            }
        );
        assert!(read(&json!({})).is_empty());
        let summary = json!({"sec_sum": [{"sec_nm": "CDNR", "ttl_rec": 2, "ttl_val": 1418.12, "ttl_igst": 216.32}]});
        let row = &read(&summary)[0];
        assert_eq!(
            (row.section.as_str(), row.number.as_deref(), row.tax.igst),
            ("CDNR total", None, 21632)
        );
    }

    #[test]
    fn rows_2b_groups_3b_tables_and_ledger_entries() {
        // B2CS rows by their identifying fields; HSN inside `data`.
        let gstr1 = json!({"b2cs": [{"sply_ty": "INTRA", "pos": "27", "typ": "OE", "rt": 5, "txval": 100, "camt": 2.5, "samt": 2.5}],
            "hsn": {"data": [{"num": 1, "hsn_sc": "1001", "txval": 10, "iamt": 1.8}]}});
        let docs = read(&gstr1);
        assert_eq!(docs[0].section, "B2CS");
        assert_eq!(docs[0].number.as_deref(), Some("typ=OE,sply_ty=INTRA,pos=27,rt=5"));
        assert_eq!(
            docs[0].tax,
            Heads {
                cgst: 250,
                sgst: 250,
                ..Heads::default()
            }
        );
        assert_eq!((docs[1].section.as_str(), docs[1].taxable), ("HSN", Some(1000)));

        // 2B one level deeper; doc-level totals win over items (no double count); ecom groups per supprd.
        let gstr2b = json!({"chksum": "x", "data": {"rtnprd": "082026", "docdata": {
            "b2b": [{"ctin": "27AAA", "supprd": "082026", "inv": [{"inum": "S-1", "dt": "01-08-2026", "txval": 100, "igst": 18,
                "items": [{"num": 1, "txval": 100, "igst": 18}]}]}],
            "ecom": [{"ctin": "29ECO", "supprd": "072026", "inv": [{"inum": "E-1", "igst": 1}]},
                     {"ctin": "29ECO", "supprd": "082026", "inv": [{"inum": "E-1", "igst": 2}]}]}}});
        let docs = read(&gstr2b);
        assert_eq!(docs.len(), 3);
        assert_eq!(
            (docs[0].section.as_str(), docs[0].tax.igst, docs[0].taxable),
            ("B2B", 1800, Some(10000))
        );
        assert_eq!(docs[1].section, "ECOM");
        assert_ne!(docs[1].key, docs[2].key, "one operator, two return periods");

        // 3B tables by number; ledger entries and cash heads by `tot`.
        let gstr3b = json!({"ret_period": "082026", "sup_details": {"osup_det": {"txval": 1000, "iamt": 180, "camt": 0, "samt": 0, "csamt": 0}},
            "itc_elg": {"itc_avl": [{"ty": "OTH", "iamt": 50, "camt": 0, "samt": 0, "csamt": 0}]}});
        let docs = read(&gstr3b);
        assert_eq!((docs[0].section.as_str(), docs[0].tax.igst), ("3.1(a)", 18000));
        assert_eq!(
            (docs[1].section.as_str(), docs[1].number.as_deref()),
            ("4(A)", Some("ty=OTH"))
        );
        let cash = json!({"gstin": "x", "tr": [{"dpt_dt": "17/08/2026", "ref_no": "CIN1", "igst": {"tx": 10, "intr": 0, "tot": 10}, "igstbal": {"tot": 10}}]});
        let docs = read(&cash);
        assert_eq!(
            (docs[0].section.as_str(), docs[0].number.as_deref(), docs[0].tax.igst),
            ("ENTRY", Some("CIN1"), 1000)
        );
        assert_eq!(docs[0].date.as_deref(), Some("17/08/2026"));
    }
}
