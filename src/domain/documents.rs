//! The documents and rows of a return payload, read at the level the return
//! works in: an invoice, a note, a table row or a ledger entry, each with its
//! section (B2B, B2BA, CDNR, CDNRA, B2CS, HSN, DOC_ISSUE…, the 2A/2B
//! sections, GSTR-3B tables such as 3.1(a) and 4(A), ledger entries), its
//! counterparty GSTIN, document number and date, taxable value and tax by
//! head in paise. It owns how a payload is walked and how a document is
//! told apart from a group of documents; [`super::change`] pairs two
//! readings. Pure: no IO, no clock, never fails: a payload it cannot read
//! gives no documents (the change model says so), and a document whose
//! figures sit where the reader does not look says so in
//! [`Document::unread`] instead of reading as a zero.
//!
//! Reading rules. Sources: GSTN's GSTR-1 and GSTR-2A JSON schemas as
//! Sandbox publishes them in `in-co-sandbox/in-co-sandbox-docs`
//! (`data/gst/schema/request/taxpayer/gstr-1/documents/*.json`, the GSTR-1
//! field list `data/gst/schema/workbook/taxpayer/gstr-1/documents/gstr_1-v4.1.xlsx`,
//! the sections missing there from `.../gstr-1a/documents/*.json`, and
//! `data/gst/schema/request/taxpayer/gstr-2a/*.json`); the 2B and 3B
//! schemas as `returns::gstr2b` and `reconcile` cite them; `ENDPOINTS.md`.
//! - Sections are the payload's top-level members (`b2b`, `cdnr`, `txpd`,
//!   …), the members of 2B's `docdata`, and nested objects (3B
//!   `sup_details.osup_det`, the ITC ledger's `itcLdgDtls.tr`, GSTR-1
//!   `hsn.data` or, from the May 2025 period, `hsn.hsn_b2b` and
//!   `hsn.hsn_b2c`, read as HSN_B2B and HSN_B2C; GSTR-1 `ecom.b2b`,
//!   `supeco.clttx`). A 2B passed through one level deeper (`{chksum,
//!   data:{…}}`) is read inside its `data`.
//! - An element of a section array that holds an array of documents (`inv`,
//!   `nt`, 2A ISD's `doclist`) is a group: each of its documents is one
//!   [`Document`]. A group names its counterparty by `ctin` (GSTR-1 ECOM's
//!   table-15 groups by the supplier `stin`, else the receiver `rtin`) and,
//!   in 2B and 2A, its return period (`supprd`); a group without a GSTIN
//!   (B2CL by `pos`, EXP by `exp_typ`) keys its documents by those fields.
//!   Other arrays (`docs` of DOC_ISSUE) make a group only under a GSTIN.
//!   Anything else is a document or a row itself.
//! - A row without a group names its counterparty by `ctin`, the TDS
//!   deductor `gstin_ded`, the SEZ supplier `sgstin` (2A IMPGSEZ), and in
//!   2A TCS and GSTR-1 SUPECO the e-commerce operator `etin` (elsewhere
//!   `etin` is the operator a supply went through, not the counterparty);
//!   2A IMPG has none.
//! - A document is named by its number (`inum`, `nt_num`, `ntnum`, `docnum`,
//!   `boenum`, `benum` (a number in 2A IMPG), `ref_no`, `arn`…; an
//!   amendment by its revised number, the original being `oinum`/`ont_num`);
//!   a row without one by its identifying fields (`sec_nm`, `ty`, `pos`,
//!   `rt`, `hsn_sc`, …), else by its position. A return summary's `sec_sum`
//!   row is the section's total (`B2BA total`). Dates are kept as written
//!   (GSTR-1 and 2A: `DD-MM-YYYY`).
//! - Amounts: a level that states its own totals (`txval`, an advance's
//!   `ad_amt`, TDS `amt_ded`, TCS `tx_val`, SUPECO `suppval`;
//!   `iamt`/`igst`, `camt`/`cgst`, `samt`/`sgst`, `csamt`/`cess`, the
//!   summary's `ttl_*`, the ITC ledger's `igstTaxAmt`…; a cash ledger's head
//!   object by its `tot`) is taken at its word; otherwise its items (`itms`,
//!   `items`: GSTR-1/2A B2B, CDNR and B2CL one level down in `itm_det`, EXP,
//!   AT and TXPD flat) are summed. A note's figures are read as written: a
//!   credit note (`ntty` C) is not made negative, the reader of a total
//!   decides by `ntty`.
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
    /// Why its taxable value and tax could not be read, when its figures sit
    /// under a member the reader does not know: they are then unknown, not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
    /// The counterparty's filing status its group states (`cfs` `Y`/`N`):
    /// in 2A whether the supplier has filed the GSTR-1/IFF the document is
    /// in (`R1_Fil_Status`; a supplier that has not filed still shows its
    /// uploaded documents), in GSTR-1 the recipient's; None where the
    /// return does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty_filed: Option<bool>,
}

impl Document {
    /// Whether it reduces the tax of its section's total: a credit note or
    /// refund voucher (`ntty` C or R in GSTR-1 and 2A), a 2B credit note
    /// (`typ` C), an ISD credit note (2A `isd_docty` ISDCN, 2B `doctyp`
    /// ISDC). A debit note (`ntty` D) adds, as an invoice does. Its figures
    /// themselves are as written, never negated.
    pub fn is_credit(&self) -> bool {
        let is = |k: &str, values: &[&str]| {
            self.value
                .get(k)
                .and_then(Value::as_str)
                .is_some_and(|v| values.contains(&v.trim()))
        };
        is("ntty", &["C", "R"]) || is("typ", &["C"]) || is("isd_docty", &["ISDCN"]) || is("doctyp", &["ISDC"])
    }
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

/// Arrays inside a group that hold its documents (2A ISD: `doclist`).
const GROUP_CHILDREN: &[&str] = &["inv", "nt", "doclist", "docs", "doc", "itms_list"];

/// Of those, the arrays that are documents even in a group without a GSTIN
/// (GSTR-1 B2CL by `pos`, EXP by `exp_typ`).
const DOCUMENT_ARRAYS: &[&str] = &["inv", "nt", "doclist"];

/// A group's counterparty, in order (GSTR-1 ECOM table 15: `stin`, `rtin`).
const GROUP_GSTINS: &[&str] = &["ctin", "stin", "rtin"];

/// A row's counterparty when it has no group: TDS deductor, SEZ supplier.
const ROW_GSTINS: &[&str] = &["ctin", "gstin_ded", "sgstin"];

/// Sections whose rows name the e-commerce operator as the counterparty
/// (`etin`): 2A TCS, GSTR-1 SUPECO (table 14).
const OPERATOR_SECTIONS: &[&str] = &["tcs", "supeco", "supecoa"];

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

/// Taxable value: `txval`; an advance's `ad_amt` (AT, TXPD); the TDS base
/// `amt_ded`; TCS `tx_val`; SUPECO `suppval`.
const TAXABLE: &[&str] = &[
    "txval",
    "ttl_txval",
    "taxable_value",
    "ad_amt",
    "amt_ded",
    "tx_val",
    "suppval",
];
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
            Value::Object(_) if states_amounts(child) => out.push(document(&here, &Group::NONE, child, None)),
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
        let children = |names: &[&str]| {
            names.iter().find_map(|k| {
                element
                    .get(*k)
                    .and_then(Value::as_array)
                    .filter(|a| a.iter().all(Value::is_object))
            })
        };
        let gstin = GROUP_GSTINS
            .iter()
            .find_map(|k| element.get(*k).and_then(Value::as_str));
        let group = match gstin {
            Some(_) => children(GROUP_CHILDREN),
            None => children(DOCUMENT_ARRAYS),
        };
        match group {
            Some(children) => {
                let of = Group {
                    ctin: gstin,
                    period: element.get("supprd").and_then(Value::as_str),
                    label: match gstin {
                        Some(_) => None,
                        None => row_label(element),
                    },
                    filed: match element.get("cfs").and_then(Value::as_str).map(str::trim) {
                        Some("Y") => Some(true),
                        Some("N") => Some(false),
                        _ => None,
                    },
                };
                for (i, child) in children.iter().enumerate() {
                    out.push(document(path, &of, child, Some(i)));
                }
            }
            None => out.push(document(path, &Group::NONE, element, Some(index))),
        }
    }
}

/// What a document inherits from the group it is in.
struct Group<'a> {
    ctin: Option<&'a str>,
    /// The supplier's return period (`supprd`).
    period: Option<&'a str>,
    /// A group without a GSTIN: its identifying fields (`pos=27`).
    label: Option<String>,
    /// 2A: the counterparty's filing status (`cfs`).
    filed: Option<bool>,
}

impl Group<'_> {
    const NONE: Group<'static> = Group {
        ctin: None,
        period: None,
        label: None,
        filed: None,
    };
}

/// The section's label: the 3B table or ledger part a block is, else the
/// top-level member in capitals (`b2ba` → `B2BA`, `doc_issue` → `DOC_ISSUE`).
fn label(path: &[&str]) -> String {
    if let Some(last) = path.last() {
        if let Some((_, table)) = TABLES_3B.iter().find(|(k, _)| k == last) {
            return (*table).to_string();
        }
    }
    // GSTR-1 table 12 split in two from the May 2025 period: `hsn.hsn_b2b`, `hsn.hsn_b2c`.
    if let ["hsn", part, ..] = path {
        if part.starts_with("hsn_") {
            return part.to_ascii_uppercase();
        }
    }
    path.first().map(|s| s.to_ascii_uppercase()).unwrap_or_default()
}

/// A row's identifying fields, `pos=27,rt=18`; None when it has none.
fn row_label(v: &Value) -> Option<String> {
    let parts: Vec<String> = ROW_FIELDS
        .iter()
        .filter_map(|k| v.get(*k).and_then(scalar_text).map(|t| format!("{k}={t}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn document(path: &[&str], group: &Group<'_>, v: &Value, index: Option<usize>) -> Document {
    let field = |names: &[&str]| names.iter().find_map(|k| v.get(*k).and_then(scalar_text));
    let number = field(NUMBER_FIELDS).or_else(|| row_label(v));
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
        group.ctin.or(group.label.as_deref()).unwrap_or(""),
        group.period.unwrap_or(""),
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
    let operator = path
        .first()
        .filter(|p| OPERATOR_SECTIONS.contains(p))
        .and_then(|_| v.get("etin").and_then(scalar_text));
    let unread = (taxable.is_none() && tax == Heads::default())
        .then(|| hidden_figures(v))
        .flatten()
        .map(|member| format!("its figures sit under `{member}`, which the reader does not know"));
    Document {
        section,
        counterparty: group
            .ctin
            .map(str::to_string)
            .or_else(|| field(ROW_GSTINS))
            .or(operator),
        number,
        date: field(DATE_FIELDS),
        taxable,
        tax,
        key,
        value: v.clone(),
        unread,
        counterparty_filed: group.filed,
    }
}

/// A return summary's breakdowns of a section row (GSTR-1 summary schema:
/// CDNR's `sub_sections` CDNR_4A…, `cpty_sum` per counterparty), not its figures.
const BREAKDOWNS: &[&str] = &["sub_sections", "cpty_sum"];

/// The member of a document that read as no figures at all under which
/// figures still sit (an amount field at any depth): a shape the reader does
/// not know.
fn hidden_figures(v: &Value) -> Option<&str> {
    fn has_figures(v: &Value) -> bool {
        match v {
            Value::Object(m) => states_amounts(v) || m.values().any(has_figures),
            Value::Array(a) => a.iter().any(has_figures),
            _ => false,
        }
    }
    let Value::Object(members) = v else { return None };
    members
        .iter()
        .filter(|(k, _)| !BREAKDOWNS.contains(&k.as_str()))
        .find(|(_, child)| has_figures(child))
        .map(|(k, _)| k.as_str())
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

    /// A fixture's payload: the Sandbox answer's `data.data` (`data` for the flat ISD answer).
    fn fixture(name: &str) -> Value {
        let text = match name {
            "gstr1-b2b.json" => include_str!("../../tests/fixtures/gstn/gstr1-b2b.json"),
            "gstr1-b2ba.json" => include_str!("../../tests/fixtures/gstn/gstr1-b2ba.json"),
            "gstr1-cdnr.json" => include_str!("../../tests/fixtures/gstn/gstr1-cdnr.json"),
            "gstr1-b2cl.json" => include_str!("../../tests/fixtures/gstn/gstr1-b2cl.json"),
            "gstr1-exp.json" => include_str!("../../tests/fixtures/gstn/gstr1-exp.json"),
            "gstr1-hsn-b2b-b2c.json" => include_str!("../../tests/fixtures/gstn/gstr1-hsn-b2b-b2c.json"),
            "gstr1-hsn.json" => include_str!("../../tests/fixtures/samples/gstr1-hsn.json"),
            "gstr2a-document.json" => include_str!("../../tests/fixtures/gstn/gstr2a-document.json"),
            "gstr2a-isd.json" => include_str!("../../tests/fixtures/gstn/gstr2a-isd.json"),
            other => panic!("no fixture {other}"),
        };
        let answer: Value = serde_json::from_str(text).unwrap();
        let data = answer["data"].clone();
        match data.get("data") {
            Some(inner) => inner.clone(),
            None => data,
        }
    }

    fn paise(rupees: &str) -> i64 {
        crate::domain::money::paise_of_decimal(rupees).unwrap()
    }

    fn heads(igst: &str, cgst: &str, sgst: &str) -> Heads {
        Heads {
            igst: paise(igst),
            cgst: paise(cgst),
            sgst: paise(sgst),
            cess: 0,
        }
    }

    /// Tax by head, credit notes subtracted ([`Document::is_credit`]).
    fn net(docs: &[&Document]) -> Heads {
        docs.iter().fold(Heads::default(), |acc, d| {
            if d.is_credit() {
                acc.minus(&d.tax)
            } else {
                acc.plus(&d.tax)
            }
        })
    }

    fn taxable(docs: &[&Document]) -> i64 {
        docs.iter()
            .map(|d| if d.is_credit() { -1 } else { 1 } * d.taxable.unwrap())
            .sum()
    }

    fn of<'a>(docs: &'a [Document], section: &str) -> Vec<&'a Document> {
        docs.iter().filter(|d| d.section == section).collect()
    }

    #[test]
    fn gstr1_sections_on_schema_shaped_fixtures() {
        // B2B (gstr-1/documents/b2b.json): one invoice with two rate lines, two inter-state.
        let docs = read(&fixture("gstr1-b2b.json"));
        assert_eq!(docs.len(), 3);
        let first = &docs[0];
        assert_eq!(
            (first.section.as_str(), first.number.as_deref(), first.date.as_deref()),
            ("B2B", Some("INV/25-26/0101"), Some("05-07-2025"))
        );
        assert_eq!(first.counterparty.as_deref(), Some("27AAACR5055K1Z7"));
        // Two lines: 18% on 10,000.00 (CGST 900 + SGST 900) and 5% on 2,000.00 (50 + 50).
        assert_eq!(first.taxable, Some(paise("12000")));
        assert_eq!(first.tax, heads("0", "950", "950"));
        // Section: taxable 12,000 + 50,000 + 25,000 = 87,000.00; IGST 9,000 + 3,000 = 12,000.00.
        let all: Vec<&Document> = docs.iter().collect();
        assert_eq!(taxable(&all), paise("87000"));
        assert_eq!(net(&all), heads("12000", "950", "950"));
        assert!(docs
            .iter()
            .all(|d| d.unread.is_none() && d.counterparty_filed == Some(true)));

        // B2BA (gstr-1a/documents/b2ba.json): the revised invoice, its original in `oinum`/`oidt`.
        let docs = read(&fixture("gstr1-b2ba.json"));
        assert_eq!(docs.len(), 1);
        let amended = &docs[0];
        assert_eq!(
            (
                amended.section.as_str(),
                amended.number.as_deref(),
                amended.date.as_deref()
            ),
            ("B2BA", Some("INV/25-26/0041"), Some("14-06-2025"))
        );
        assert_eq!(amended.value["oinum"], "INV/25-26/0041");
        assert_eq!(amended.value["oidt"], "14-06-2025");
        // 18% on the revised 42,000.00: IGST 7,560.00.
        assert_eq!(
            (amended.taxable, amended.tax),
            (Some(paise("42000")), heads("7560", "0", "0"))
        );

        // CDNR (gstr-1/documents/cdnr.json): two credit notes and a debit note (`ntty` D adds).
        let docs = read(&fixture("gstr1-cdnr.json"));
        let notes: Vec<&Document> = docs.iter().collect();
        assert_eq!(notes.len(), 3);
        assert_eq!(
            notes
                .iter()
                .map(|d| (d.number.as_deref().unwrap(), d.is_credit()))
                .collect::<Vec<_>>(),
            [
                ("CN/25-26/0007", true),
                ("DN/25-26/0002", false),
                ("CN/25-26/0008", true)
            ]
        );
        assert_eq!(notes[1].date.as_deref(), Some("25-07-2025"));
        assert_eq!(notes[1].tax, heads("120", "0", "0"));
        // Net: IGST −900.00 + 120.00 = −780.00; CGST and SGST −10.01 (5% of 400.50 is 20.025, halved and
        // written 10.01); taxable −5,000.00 + 1,000.00 − 400.50 = −4,400.50.
        assert_eq!(net(&notes), heads("-780", "-10.01", "-10.01"));
        assert_eq!(taxable(&notes), paise("-4400.50"));

        // B2CL (b2cl.json) groups invoices by `pos`, EXP (exp.json) by `exp_typ`: no ctin, yet groups.
        let docs = read(&fixture("gstr1-b2cl.json"));
        assert_eq!(
            docs.iter().map(|d| d.number.as_deref().unwrap()).collect::<Vec<_>>(),
            ["INV/25-26/0104", "INV/25-26/0105"]
        );
        assert!(docs.iter().all(|d| d.counterparty.is_none() && d.section == "B2CL"));
        assert_ne!(docs[0].key, docs[1].key);
        // IGST 45,000.00 (18% of 2,50,000) + 36,000.00 (12% of 3,00,000) = 81,000.00.
        assert_eq!(net(&docs.iter().collect::<Vec<_>>()), heads("81000", "0", "0"));
        let docs = read(&fixture("gstr1-exp.json"));
        assert_eq!(docs.len(), 2);
        // The invoice date, not the shipping bill's (`sbdt` 20-07-2025); flat items, no `itm_det`.
        assert_eq!(
            (docs[0].date.as_deref(), docs[0].taxable, docs[0].tax),
            (Some("18-07-2025"), Some(paise("100000")), heads("18000", "0", "0"))
        );
        assert_eq!((docs[1].taxable, docs[1].tax), (Some(paise("80000")), Heads::default()));

        // HSN from the May 2025 period (get_hsn.json): two parts under their own names.
        let docs = read(&fixture("gstr1-hsn-b2b-b2c.json"));
        let b2b = of(&docs, "HSN_B2B");
        let b2c = of(&docs, "HSN_B2C");
        assert_eq!((b2b.len(), b2c.len()), (3, 3));
        // B2B: 60,000 + 2,000 + 25,000 = 87,000.00, the B2B section's taxable value.
        assert_eq!(taxable(&b2b), paise("87000"));
        assert_eq!(net(&b2b), heads("12000", "950", "950"));
        // B2C: 3,70,000 + 3,05,000 + 80,000 = 7,55,000.00; IGST 63,000 + 36,600 = 99,600.00.
        assert_eq!(taxable(&b2c), paise("755000"));
        assert_eq!(net(&b2c), heads("99600", "1800", "1800"));
        assert_ne!(b2b[0].key, b2c[0].key, "one HSN code in both parts");
        // Before it, one list `data` (the documented sample): 13,46,201.00 taxable, IGST 2,37,746.00.
        let docs = read(&fixture("gstr1-hsn.json"));
        assert_eq!(docs.len(), 1);
        assert_eq!(
            (docs[0].section.as_str(), docs[0].taxable, docs[0].tax),
            ("HSN", Some(paise("1346201")), heads("237746", "2285", "2285"))
        );
    }

    #[test]
    fn gstr1_advances_and_ecommerce_tables() {
        // AT and TXPD (at.json, gstr-1a/documents/txp.json): the advance in `ad_amt`, flat items.
        let advances = json!({
            "at": [{"pos": "29", "sply_ty": "INTER", "chksum": "a1", "itms": [{"rt": 18, "ad_amt": 20000, "iamt": 3600, "csamt": 0}]}],
            "txpd": [{"pos": "29", "sply_ty": "INTER", "chksum": "a2", "itms": [{"rt": 18, "ad_amt": 10000, "iamt": 1800, "csamt": 0}]}]
        });
        let docs = read(&advances);
        assert_eq!(
            docs.iter()
                .map(|d| (d.section.as_str(), d.taxable, d.tax.igst))
                .collect::<Vec<_>>(),
            [("AT", Some(2_000_000), 360_000), ("TXPD", Some(1_000_000), 180_000)]
        );
        // SUPECO (supeco.json, table 14): the operator is the counterparty, the supply value `suppval`.
        let supeco = json!({"supeco": {"clttx": [{"etin": "27AADCE9910H1CZ", "suppval": 50000, "igst": 0, "cgst": 125, "sgst": 125, "cess": 0, "flag": "N"}]}});
        let row = &read(&supeco)[0];
        assert_eq!(
            (row.section.as_str(), row.counterparty.as_deref(), row.taxable),
            ("SUPECO", Some("27AADCE9910H1CZ"), Some(5_000_000))
        );
        assert_eq!(row.tax, heads("0", "125", "125"));
        // ECOM (ecom.json, table 15): groups by supplier `stin` and receiver `rtin`, invoices inside.
        let ecom = json!({"ecom": {"b2b": [{"stin": "29AABCK4521M1Z5", "rtin": "27AAACR5055K1Z7", "inv": [
            {"inum": "E/77", "idt": "09-07-2025", "val": 1180, "pos": "27", "sply_ty": "INTER", "inv_typ": "R", "flag": "N", "chksum": "e1",
             "itms": [{"num": 1, "itm_det": {"rt": 18, "txval": 1000, "iamt": 180, "camt": 0, "samt": 0, "csamt": 0}}]}]}]}});
        let d = &read(&ecom)[0];
        assert_eq!(
            (
                d.section.as_str(),
                d.number.as_deref(),
                d.counterparty.as_deref(),
                d.tax.igst
            ),
            ("ECOM", Some("E/77"), Some("29AABCK4521M1Z5"), 18_000)
        );
    }

    #[test]
    fn gstr2a_sections_on_schema_shaped_fixtures() {
        let docs = read(&fixture("gstr2a-document.json"));
        // B2B (gstr-2a/b2b.json): a filed supplier's two invoices, and one of a supplier that has not filed.
        let b2b = of(&docs, "B2B");
        assert_eq!(b2b.len(), 3);
        assert_eq!(
            b2b.iter()
                .map(|d| (d.number.as_deref().unwrap(), d.counterparty_filed))
                .collect::<Vec<_>>(),
            [
                ("SI/0451", Some(true)),
                ("SI/0477", Some(true)),
                ("GJ/25/1120", Some(false))
            ]
        );
        // SI/0477 has two rate lines: 18% on 10,000 (900 + 900) and 28% on 5,000 (700 + 700).
        assert_eq!(
            (b2b[1].taxable, b2b[1].tax),
            (Some(paise("15000")), heads("0", "1600", "1600"))
        );
        // cfs N is read, not dropped: 20,000 + 15,000 + 10,000 = 45,000.00 taxable; IGST 1,800 (the
        // Gujarat supplier), CGST/SGST 1,800 + 1,600 = 3,400.00 each.
        assert_eq!(taxable(&b2b), paise("45000"));
        assert_eq!(net(&b2b), heads("1800", "3400", "3400"));
        let filed: Vec<&Document> = b2b
            .iter()
            .copied()
            .filter(|d| d.counterparty_filed == Some(true))
            .collect();
        assert_eq!(net(&filed), heads("0", "3400", "3400"));
        // CDN (cdn.json): a credit note (C) reduces, a debit note (D) adds: CGST/SGST −180 + 45 = −135.00.
        let cdn = of(&docs, "CDN");
        assert_eq!(cdn.len(), 2);
        assert_eq!(
            (cdn[0].number.as_deref(), cdn[0].date.as_deref(), cdn[0].is_credit()),
            (Some("CRN/117"), Some("26-07-2025"), true)
        );
        assert!(!cdn[1].is_credit());
        assert_eq!(net(&cdn), heads("0", "-135", "-135"));
        // IMPG (impg.json): no counterparty, named by the bill of entry (`benum` a number, `bedt`).
        let impg = of(&docs, "IMPG");
        assert_eq!(
            impg.iter()
                .map(|d| (
                    d.number.as_deref().unwrap(),
                    d.date.as_deref().unwrap(),
                    d.counterparty.is_none()
                ))
                .collect::<Vec<_>>(),
            [("4512876", "15-07-2025", true), ("4519003", "28-07-2025", true)]
        );
        // IGST 54,000 + 9,000 (the amended bill, `amd` Y) = 63,000.00.
        assert_eq!(net(&impg), heads("63000", "0", "0"));
        // IMPGSEZ (impgsez.json): the SEZ supplier `sgstin` is the counterparty.
        let sez = of(&docs, "IMPGSEZ");
        assert_eq!(
            (sez[0].counterparty.as_deref(), sez[0].tax.igst),
            (Some("27AADCS0472N1ZK"), paise("7200"))
        );
        // TDS (tds.json) by the deductor on `amt_ded`; TCS (tcs.json) by the operator `etin` on `tx_val`.
        let tds = of(&docs, "TDS")[0];
        assert_eq!(
            (tds.counterparty.as_deref(), tds.taxable, tds.tax),
            (
                Some("27AAAGM0289C1ZQ"),
                Some(paise("500000")),
                heads("0", "5000", "5000")
            )
        );
        let tcs = of(&docs, "TCS")[0];
        assert_eq!(
            (tcs.counterparty.as_deref(), tcs.taxable, tcs.tax),
            (Some("27AADCE9910H1CZ"), Some(paise("100000")), heads("0", "250", "250"))
        );
        assert!(docs.iter().all(|d| d.unread.is_none()), "{docs:?}");

        // ISD (isd.json), the flat answer: documents in `doclist` under the ISD's ctin.
        let isd = read(&fixture("gstr2a-isd.json"));
        assert_eq!(
            isd.iter()
                .map(|d| (
                    d.number.as_deref().unwrap(),
                    d.counterparty.as_deref().unwrap(),
                    d.is_credit()
                ))
                .collect::<Vec<_>>(),
            [
                ("ISD/25-26/0031", "27AAPFU0939F2ZU", false),
                ("ISDCN/25-26/0004", "27AAPFU0939F2ZU", true)
            ]
        );
        // CGST/SGST 1,500 − 200 (the ISD credit note) = 1,300.00 each; `cess` read as cess.
        assert_eq!(net(&isd.iter().collect::<Vec<_>>()), heads("0", "1300", "1300"));
    }

    #[test]
    fn figures_under_an_unknown_member_are_unread_not_zero() {
        // A group whose documents sit under a name the reader does not know reads as one
        // document whose figures are unknown, not as a zero.
        let payload =
            json!({"isd": [{"ctin": "27AAPFU0939F2ZU", "cfs": "Y", "doc_items": [{"docnum": "1", "camt": 5}]}]});
        let docs = read(&payload);
        assert_eq!(docs.len(), 1);
        let why = docs[0].unread.as_deref().unwrap();
        assert!(why.contains("`doc_items`"), "{why}");
        let changes = crate::domain::change::compare(&json!({}), &payload);
        assert!(changes[0].line().contains("figures not read"), "{}", changes[0].line());
        // A summary row with zero totals beside its parts, a document range, a nil row: no figures hidden.
        let quiet = json!({
            "sec_sum": [{"sec_nm": "CDNR", "ttl_rec": 0, "ttl_val": 0, "ttl_igst": 0, "sub_sections": [{"sec_nm": "CDNR_4A", "ttl_igst": 0}]}],
            "doc_issue": {"doc_det": [{"doc_num": 1, "docs": [{"num": 1, "from": "A1", "to": "A9", "totnum": 9, "cancel": 0, "net_issue": 9}]}]},
            "nil": {"inv": [{"sply_ty": "INTRB2B", "nil_amt": 10, "expt_amt": 0, "ngsup_amt": 0}]}
        });
        let docs = read(&quiet);
        assert_eq!(docs.len(), 3);
        assert!(docs.iter().all(|d| d.unread.is_none()), "{docs:?}");
    }
}
