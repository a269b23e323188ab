//! Renders the business's documents and settlements into the payload shapes
//! of ENDPOINTS.md and the samples, deciding per endpoint what is visible on
//! `today`. It owns the JSON field names and order (insertion order is kept,
//! so identical inputs give identical bytes) and must not generate documents
//! of its own: every number comes from `gen`.
//!
//! GSTR-1 and GSTR-2A follow GSTN's JSON schemas as Sandbox publishes them in
//! `in-co-sandbox/in-co-sandbox-docs`: GSTR-1 sections
//! `data/gst/schema/request/taxpayer/gstr-1/documents/*.json` (b2b, b2cs,
//! cdnr, nil, doc_issue, get_hsn; b2ba, b2cl and exp from the GSTR-1A
//! copies in `.../gstr-1a/documents/`), the summary as the GSTR-1 field list
//! `data/gst/schema/workbook/taxpayer/gstr-1/documents/gstr_1-v4.1.xlsx` and
//! `.../gstr-1a/documents/gstr_1a.json` define it, and GSTR-2A sections
//! `data/gst/schema/request/taxpayer/gstr-2a/*.json` (b2b, cdn, isd, impg,
//! tds, tcs). What they fix here: GSTR-1 invoices and notes carry the
//! required `updby`, `cflag` (notes and exports `flag` too) that 2A's do
//! not; B2CS rows, NIL, HSN and DOC_ISSUE carry their `chksum`; HSN is
//! `data` before the May 2025 period (the documented sample) and
//! `hsn_b2b`/`hsn_b2c` from it; the summary's `ttl_tax` is the taxable value,
//! NIL and DOC_ISSUE carry their own totals, B2B its part B2B_4A and CDNR its
//! `sub_sections`; 2A CDN groups carry the supplier's filing fields as B2B
//! groups do, IMPG's `benum` is a number and `amd` appears only as "Y", and
//! TCS rows are the operator's (`etin`, `sup_val`, `tx_val`, rates).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::gen::{self, Doc, Heads, OutKind, Paise, Settlement, FIRST_MONTH, PRODUCTS};
use super::{Answer, Business};
use crate::domain::catalog::{month_from_params, year_from_query, Endpoint, PeriodKind};
use crate::domain::period::{ledger_date, parse_ledger_date, FinancialYear, Month};

/// Rupees from paise: an integer when whole, else the shortest decimal.
pub fn rs(p: Paise) -> Value {
    if p % 100 == 0 {
        Value::from(p / 100)
    } else {
        Value::from(p as f64 / 100.0)
    }
}

/// Hex SHA-256 of the compact serialisation: the portal-style `chksum`.
pub fn chksum(v: &Value) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(v).unwrap_or_default()))
}

fn with_chksum(mut v: Value) -> Value {
    let sum = chksum(&v);
    if let Value::Object(m) = &mut v {
        m.insert("chksum".into(), Value::from(sum));
    }
    v
}

fn no_gstr1() -> Answer {
    Answer::error(
        "RET11416",
        "No document found in selected financial year. Either this document exists in a different financial year or the document number is incorrect.",
    )
}

fn no_2a() -> Answer {
    Answer::error("RET13509", "No document found for the provided Inputs")
}

fn inv_date(d: NaiveDate) -> String {
    d.format("%d-%m-%Y").to_string()
}

fn pos(state: u8) -> String {
    format!("{state:02}")
}

fn query<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn gstr1_filed(month: Month, today: NaiveDate) -> bool {
    today >= month.next().day(gen::GSTR1_DAY)
}

fn itm_det(item: &gen::Item) -> Value {
    json!({
        "rt": item.rate, "txval": rs(item.txval), "iamt": rs(item.tax.igst()),
        "camt": rs(item.tax.cgst()), "samt": rs(item.tax.sgst()), "csamt": rs(item.tax.cess())
    })
}

fn itms(doc: &Doc) -> Value {
    Value::Array(
        doc.items
            .iter()
            .enumerate()
            .map(|(i, it)| json!({"num": i + 1, "itm_det": itm_det(it)}))
            .collect(),
    )
}

fn invoice_fields(doc: &Doc) -> Value {
    json!({
        "inum": doc.num, "idt": inv_date(doc.date), "val": rs(doc.val()), "pos": pos(doc.pos),
        "rchrg": "N", "inv_typ": "R", "itms": itms(doc)
    })
}

fn note_fields(doc: &Doc) -> Value {
    json!({
        "ntty": "C", "nt_num": doc.num, "nt_dt": inv_date(doc.date), "val": rs(doc.val()), "pos": pos(doc.pos),
        "rchrg": "N", "inv_typ": "R", "itms": itms(doc)
    })
}

/// `fields` with the members a GSTR-1 document requires beside them, then
/// its `chksum`: `updby` S (uploaded by the supplier) and `cflag` N (the
/// counterparty has not acted), as GSTN's own GET B2B example has them, and
/// `flag` U (uploaded) where the schema requires it.
fn gstr1_doc(mut fields: Value, extra: &[(&str, &str)]) -> Value {
    if let Value::Object(m) = &mut fields {
        for (k, v) in extra {
            m.insert((*k).into(), Value::from(*v));
        }
    }
    with_chksum(fields)
}

/// A 2A invoice (GSTR-2A `b2b.json`: no `updby`/`cflag`).
fn invoice(doc: &Doc) -> Value {
    with_chksum(invoice_fields(doc))
}

/// A 2A note (GSTR-2A `cdn.json`).
fn note(doc: &Doc) -> Value {
    with_chksum(note_fields(doc))
}

/// A GSTR-1 B2B invoice (`b2b.json` requires `updby` and `cflag`).
fn gstr1_invoice(doc: &Doc) -> Value {
    gstr1_doc(invoice_fields(doc), &[("updby", "S"), ("cflag", "N")])
}

/// A GSTR-1 note (`cdnr.json` requires `updby`, `cflag` and `flag`).
fn gstr1_note(doc: &Doc) -> Value {
    gstr1_doc(note_fields(doc), &[("updby", "S"), ("cflag", "N"), ("flag", "U")])
}

/// The first return period whose GSTR-1 table 12 is split into B2B and B2C
/// supplies (GSTN's phase-III HSN reporting): `hsn_b2b` and `hsn_b2c` in
/// the HSN payload (`get_hsn.json`), HSN_B2B and HSN_B2C in the summary.
const HSN_SPLIT_FIRST: Month = Month { year: 2025, month: 5 };

/// Groups per-counterparty entries in counterparty order.
fn by_party(entries: Vec<(usize, Value)>) -> Vec<(usize, Vec<Value>)> {
    let mut groups: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for (p, v) in entries {
        groups.entry(p).or_default().push(v);
    }
    groups.into_iter().collect()
}

pub fn respond(
    b: &Business,
    endpoint: &Endpoint,
    params: &BTreeMap<String, String>,
    q: &[(String, String)],
    today: NaiveDate,
) -> Answer {
    let current = Month::of_date(today);
    match endpoint.period {
        PeriodKind::Month => {
            let Some(month) = month_from_params(params) else {
                return Answer::error("RT-3BGV1005", "Return period is invalid");
            };
            if month > current && endpoint.name.starts_with("gstr-3b") {
                return Answer::error("RT-3BGV1005", "Return period is invalid");
            }
            month_endpoint(b, endpoint.name, month, q, today)
        }
        PeriodKind::DateRange => {
            let (Some(from), Some(to)) = (
                query(q, "from").and_then(parse_ledger_date),
                query(q, "to").and_then(parse_ledger_date),
            ) else {
                return Answer::error("LG9001", "Invalid date format: from and to are required as DD/MM/YYYY");
            };
            if to > today {
                return Answer::error("LG9089", "To date cannot be beyond the current date");
            }
            if from > to {
                return Answer::error("LG9091", "From date cannot be after To date");
            }
            match endpoint.name {
                "ledger-cash" => cash_ledger(b, from, to),
                _ => itc_ledger(b, from, to),
            }
        }
        PeriodKind::FinancialYear => {
            let Some(fy) = year_from_query(q) else {
                return Answer::error(
                    "RET191104",
                    "Invalid financial year: expected financial_year=FY YYYY-YY",
                );
            };
            year_endpoint(b, endpoint.name, fy, today)
        }
        PeriodKind::None => current_endpoint(b, endpoint.name, params, q, today),
    }
}

fn month_endpoint(b: &Business, name: &str, month: Month, q: &[(String, String)], today: NaiveDate) -> Answer {
    if let Some(section) = name.strip_prefix("gstr-1-") {
        if !gstr1_filed(month, today) || month < FIRST_MONTH {
            return no_gstr1();
        }
        return gstr1(b, section, month, today)
            .map(Answer::Data)
            .unwrap_or_else(no_gstr1);
    }
    if let Some(section) = name.strip_prefix("gstr-1a-") {
        if !gstr1_filed(month, today) || month < FIRST_MONTH {
            return no_gstr1();
        }
        return match section {
            "summary" => Answer::Data(with_chksum(json!({
                "gstin": b.gstin().as_str(), "ret_period": month.ret_period(), "sec_sum": []
            }))),
            "declaration" => Answer::Data(declaration(b, month)),
            _ => no_gstr1(),
        };
    }
    if let Some(section) = name.strip_prefix("gstr-2a-") {
        if month < FIRST_MONTH {
            return no_2a();
        }
        return match gstr2a(b, section, month, today) {
            Some(v) if section == "isd" => Answer::Flat(v),
            Some(v) => Answer::Data(v),
            None => no_2a(),
        };
    }
    match name {
        "gstr-2b" => gstr2b(b, month, query(q, "file_number"), today),
        "gstr-3b" => match b.settlement(month).filter(|s| s.filed <= today) {
            Some(s) => Answer::Data(gstr3b(b, &s)),
            None => Answer::error("RT-3BAS1009", "No data found for the return period"),
        },
        "gstr-3b-auto-liability" => {
            if month < FIRST_MONTH || !gstr1_filed(month, today) {
                return Answer::error("RT-R3BQ1004", "GSTR-1 has not been filed for the return period");
            }
            Answer::Data(auto_liability(b, month))
        }
        "ledger-balance" => {
            if month > Month::of_date(today) {
                return Answer::error("RET191104", "Return period cannot be in the future");
            }
            Answer::Data(balance(b, month.last_day().min(today)))
        }
        "ledger-liability" => Answer::Data(liability_ledger(b, month, today)),
        "return-track" => track(b, &[month], query(q, "return_type"), today, false),
        "return-status" => Answer::error("RET191106", "Invalid Reference Id"),
        "ims-sales" => ims_sales(b, month, today),
        // The documented answer: https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/invoices/added-back-liabilities
        "ims-added-back" => Answer::error(
            "IMS0027",
            "No added back liability records available for the selected input criteria",
        ),
        "einvoice-hsn" => einvoice_hsn(b, month, today),
        _ => no_2a(),
    }
}

// ---------------------------------------------------------------- GSTR-1

/// The B2BA amendments and late credit notes of `month` visible on `today`.
fn gstr1_events(b: &Business, month: Month, today: NaiveDate) -> (Vec<(Doc, Doc)>, Vec<Doc>) {
    let outward = b.outward(month);
    let b2b: Vec<&Doc> = outward.invoices.iter().filter(|d| d.kind == OutKind::B2b).collect();
    let mut amendments = Vec::new();
    let mut notes = Vec::new();
    for e in gen::events_for(&b.inner.keyed, month)
        .into_iter()
        .filter(|e| e.effective <= today)
    {
        let original = b2b[e.index % b2b.len()];
        match e.kind {
            gen::EventKind::B2baAmendment => {
                amendments.push((original.clone(), gen::amended(original, e.amount_pct, b.inner.state)));
            }
            gen::EventKind::LateCreditNote => {
                let num = format!("CN/{}/L{}", gen::fy_tag(month), e.effective.format("%d%m"));
                notes.push(gen::credit_note(
                    original,
                    num,
                    e.effective,
                    e.amount_pct,
                    b.inner.state,
                ));
            }
            gen::EventKind::LateSupplierFiling => {}
        }
    }
    (amendments, notes)
}

fn party_groups(b: &Business, entries: Vec<(usize, Value)>, key: &str) -> Value {
    Value::Array(
        by_party(entries)
            .into_iter()
            .map(|(p, list)| json!({"ctin": b.inner.customers[p].gstin.as_str(), "cfs": "Y", key: list}))
            .collect(),
    )
}

/// One GSTR-1 section's payload, None when it has no documents.
fn gstr1(b: &Business, section: &str, month: Month, today: NaiveDate) -> Option<Value> {
    let outward = b.outward(month);
    match section {
        "summary" => Some(gstr1_summary(b, month, today)),
        "b2b" => {
            let entries = outward
                .of_kind(OutKind::B2b)
                .map(|d| (d.party.unwrap_or(0), gstr1_invoice(d)))
                .collect();
            Some(json!({"b2b": party_groups(b, entries, "inv")}))
        }
        "b2ba" => {
            let (amendments, _) = gstr1_events(b, month, today);
            if amendments.is_empty() {
                return None;
            }
            let entries = amendments
                .iter()
                .map(|(original, revised)| {
                    let mut v = json!({"oinum": original.num, "oidt": inv_date(original.date)});
                    if let (Value::Object(m), Value::Object(inv)) = (&mut v, gstr1_invoice(revised)) {
                        m.extend(inv);
                    }
                    (original.party.unwrap_or(0), v)
                })
                .collect();
            Some(json!({"b2ba": party_groups(b, entries, "inv")}))
        }
        "b2cl" => {
            let mut groups: BTreeMap<u8, Vec<Value>> = BTreeMap::new();
            for d in outward.of_kind(OutKind::B2cl) {
                groups.entry(d.pos).or_default().push(with_chksum(json!({
                    "inum": d.num, "idt": inv_date(d.date), "val": rs(d.val()), "itms": itms(d)
                })));
            }
            (!groups.is_empty()).then(|| {
                json!({"b2cl": groups.into_iter().map(|(p, inv)| json!({"pos": pos(p), "inv": inv})).collect::<Vec<_>>()})
            })
        }
        "b2cs" => {
            let rows = b2cs_rows(b, &outward.retail);
            Some(json!({"b2cs": rows}))
        }
        "cdnr" => {
            let (_, late) = gstr1_events(b, month, today);
            let entries: Vec<(usize, Value)> = outward
                .notes
                .iter()
                .chain(late.iter())
                .map(|d| (d.party.unwrap_or(0), gstr1_note(d)))
                .collect();
            (!entries.is_empty()).then(|| json!({"cdnr": party_groups(b, entries, "nt")}))
        }
        "exp" => {
            let inv: Vec<Value> = outward
                .of_kind(OutKind::Exp)
                .map(|d| {
                    // `exp.json`: `flag` required; items flat, no `itm_det`.
                    with_chksum(json!({
                        "inum": d.num, "idt": inv_date(d.date), "val": rs(d.val()), "flag": "U",
                        "sbpcode": "INMAA1", "sbnum": format!("{}", 1_000_000 + d.date.ordinal() * 997),
                        "sbdt": inv_date(d.date),
                        "itms": d.items.iter().map(|i| json!({"txval": rs(i.txval), "rt": 0, "iamt": 0, "csamt": 0})).collect::<Vec<_>>()
                    }))
                })
                .collect();
            (!inv.is_empty()).then(|| json!({"exp": [{"exp_typ": "WOPAY", "inv": inv}]}))
        }
        "nil" => Some(json!({"nil": with_chksum(json!({"inv": [
            {"sply_ty": "INTRB2B", "nil_amt": rs(outward.nil.0), "expt_amt": 0, "ngsup_amt": 0},
            {"sply_ty": "INTRB2C", "nil_amt": 0, "expt_amt": rs(outward.nil.1), "ngsup_amt": 0}
        ]}))})),
        "hsn" => {
            let hsn = if month >= HSN_SPLIT_FIRST {
                let (b2b, b2c) = hsn_parts(&outward);
                json!({"flag": "N", "hsn_b2b": hsn_rows(b2b.into_iter(), true), "hsn_b2c": hsn_rows(b2c.into_iter(), true)})
            } else {
                json!({"flag": "N", "data": hsn_rows(outward.invoices.iter().chain(outward.retail.iter()), true)})
            };
            Some(json!({"hsn": with_chksum(hsn)}))
        }
        "doc-issue" => Some(doc_issue(&outward)),
        _ => None,
    }
}

/// Table 12's two parts: supplies to registered persons (B2B invoices) and
/// the rest (B2CL, exports, B2CS).
fn hsn_parts(outward: &gen::MonthOutward) -> (Vec<&Doc>, Vec<&Doc>) {
    outward
        .invoices
        .iter()
        .chain(outward.retail.iter())
        .partition(|d| d.kind == OutKind::B2b)
}

fn b2cs_rows(b: &Business, retail: &[Doc]) -> Vec<Value> {
    let mut groups: BTreeMap<(u8, i64), (Paise, Heads)> = BTreeMap::new();
    for d in retail {
        for i in &d.items {
            let e = groups.entry((d.pos, i.rate)).or_default();
            e.0 += i.txval;
            e.1 += i.tax;
        }
    }
    groups
        .into_iter()
        .map(|((p, rt), (txval, tax))| {
            with_chksum(json!({
                "sply_ty": if p == b.inner.state { "INTRA" } else { "INTER" }, "pos": pos(p), "typ": "OE", "rt": rt,
                "txval": rs(txval), "iamt": rs(tax.igst()), "camt": rs(tax.cgst()), "samt": rs(tax.sgst()), "csamt": rs(tax.cess())
            }))
        })
        .collect()
}

/// HSN-wise totals of the items of `docs` (by product, which fixes HSN and rate).
fn hsn_rows<'a>(docs: impl Iterator<Item = &'a Doc>, with_desc: bool) -> Vec<Value> {
    let mut groups: BTreeMap<usize, (i64, Paise, Heads)> = BTreeMap::new();
    for d in docs {
        for i in &d.items {
            let e = groups.entry(i.product).or_default();
            e.0 += i.qty;
            e.1 += i.txval;
            e.2 += i.tax;
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(n, (p, (qty, txval, tax)))| {
            let product = &PRODUCTS[p];
            let mut v = json!({"num": n + 1, "hsn_sc": product.hsn});
            if let Value::Object(m) = &mut v {
                if with_desc {
                    m.insert("desc".into(), Value::from(product.desc));
                }
                for (k, val) in [
                    ("uqc", Value::from(product.uqc)),
                    ("qty", Value::from(qty)),
                    ("rt", Value::from(product.rate)),
                    ("txval", rs(txval)),
                    ("iamt", rs(tax.igst())),
                    ("camt", rs(tax.cgst())),
                    ("samt", rs(tax.sgst())),
                    ("csamt", rs(tax.cess())),
                ] {
                    m.insert(k.into(), val);
                }
            }
            v
        })
        .collect()
}

fn doc_range(num: usize, docs: &[Doc]) -> Option<Value> {
    let (first, last) = (docs.first()?, docs.last()?);
    Some(
        json!({"num": num, "from": first.num, "to": last.num, "totnum": docs.len(), "cancel": 0, "net_issue": docs.len()}),
    )
}

fn doc_issue(outward: &gen::MonthOutward) -> Value {
    let invoices: Vec<Value> = [doc_range(1, &outward.invoices), doc_range(2, &outward.retail)]
        .into_iter()
        .flatten()
        .collect();
    let mut det = vec![json!({"doc_num": 1, "doc_typ": "Invoices for outward supply", "docs": invoices})];
    if let Some(notes) = doc_range(1, &outward.notes) {
        det.push(json!({"doc_num": 5, "doc_typ": "Credit Note", "docs": [notes]}));
    }
    json!({"doc_issue": with_chksum(json!({"flag": "N", "doc_det": det}))})
}

/// One `sec_sum` row: `ttl_val` the records' value, `ttl_tax` their taxable
/// value (the summary schema's "total taxable value of records", not a tax).
fn sec_sum(name: &str, payload: &Value, t: &Totals) -> Value {
    json!({
        "sec_nm": name, "chksum": chksum(payload), "ttl_rec": t.count, "ttl_val": rs(t.val),
        "ttl_igst": rs(t.tax.igst()), "ttl_cgst": rs(t.tax.cgst()), "ttl_sgst": rs(t.tax.sgst()),
        "ttl_cess": rs(t.tax.cess()), "ttl_tax": rs(t.taxable)
    })
}

/// What a summary row totals: records, their value, taxable value and tax.
#[derive(Default)]
struct Totals {
    count: usize,
    val: Paise,
    taxable: Paise,
    tax: Heads,
}

fn totals<'a>(docs: impl Iterator<Item = &'a Doc>) -> Totals {
    docs.fold(Totals::default(), |t, d| Totals {
        count: t.count + 1,
        val: t.val + d.val(),
        taxable: t.taxable + d.txval(),
        tax: t.tax + d.tax(),
    })
}

/// An HSN summary row: one record per HSN line of `docs`.
fn hsn_totals(docs: &[&Doc]) -> Totals {
    Totals {
        count: hsn_rows(docs.iter().copied(), false).len(),
        ..totals(docs.iter().copied())
    }
}

fn gstr1_summary(b: &Business, month: Month, today: NaiveDate) -> Value {
    let outward = b.outward(month);
    let (amendments, late) = gstr1_events(b, month, today);
    let mut sums = Vec::new();
    let payload = |section: &str| gstr1(b, section, month, today);
    if let Some(p) = payload("b2b") {
        let t = totals(outward.of_kind(OutKind::B2b));
        sums.push(sec_sum("B2B", &p, &t));
        // Its part: every B2B invoice here is regular (4A), none reverse charge, SEZ or deemed export.
        sums.push(sec_sum("B2B_4A", &p, &t));
    }
    if let Some(p) = payload("b2ba") {
        sums.push(sec_sum("B2BA", &p, &totals(amendments.iter().map(|(_, r)| r))));
    }
    if let Some(p) = payload("b2cl") {
        sums.push(sec_sum("B2CL", &p, &totals(outward.of_kind(OutKind::B2cl))));
    }
    if let Some(p) = payload("b2cs") {
        sums.push(sec_sum("B2CS", &p, &totals(outward.retail.iter())));
    }
    if let Some(p) = payload("cdnr") {
        let t = totals(outward.notes.iter().chain(late.iter()));
        let mut row = sec_sum("CDNR", &p, &t);
        if let Value::Object(m) = &mut row {
            m.insert("sub_sections".into(), json!([sec_sum("CDNR_4A", &p, &t)]));
        }
        sums.push(row);
    }
    if let Some(p) = payload("exp") {
        sums.push(sec_sum("EXP", &p, &totals(outward.of_kind(OutKind::Exp))));
    }
    if let Some(p) = payload("nil") {
        sums.push(
            json!({"sec_nm": "NIL", "chksum": chksum(&p), "ttl_rec": 2, "ttl_nilsup_amt": rs(outward.nil.0),
            "ttl_expt_amt": rs(outward.nil.1), "ttl_ngsup_amt": 0}),
        );
    }
    if let Some(p) = payload("hsn") {
        if month >= HSN_SPLIT_FIRST {
            let (b2b, b2c) = hsn_parts(&outward);
            sums.push(sec_sum("HSN_B2B", &p, &hsn_totals(&b2b)));
            sums.push(sec_sum("HSN_B2C", &p, &hsn_totals(&b2c)));
        } else {
            let all: Vec<&Doc> = outward.invoices.iter().chain(outward.retail.iter()).collect();
            sums.push(sec_sum("HSN", &p, &hsn_totals(&all)));
        }
    }
    if let Some(p) = payload("doc-issue") {
        let issued = outward.invoices.len() + outward.retail.len() + outward.notes.len();
        let rows = p["doc_issue"]["doc_det"].as_array().map_or(0, Vec::len);
        sums.push(
            json!({"sec_nm": "DOC_ISSUE", "chksum": chksum(&p), "ttl_rec": rows, "ttl_doc_issued": issued,
            "ttl_doc_cancelled": 0, "net_doc_issued": issued}),
        );
    }
    let sec = Value::Array(sums);
    json!({"gstin": b.gstin().as_str(), "ret_period": month.ret_period(), "chksum": chksum(&sec), "newSumFlag": true, "sec_sum": sec})
}

fn liab_block(name: &str, tax: Heads, val: Paise) -> Value {
    with_chksum(json!({
        "sec_nm": name, "ttl_tax": rs(tax.total()), "ttl_igst": rs(tax.igst()), "ttl_sgst": rs(tax.sgst()),
        "ttl_cgst": rs(tax.cgst()), "ttl_cess": rs(tax.cess()), "ttl_val": rs(val)
    }))
}

fn bal_block(h: Heads) -> Value {
    with_chksum(json!({
        "igst_bal": rs(h.igst()), "cgst_bal": rs(h.cgst()), "sgst_bal": rs(h.sgst()), "cess_bal": rs(h.cess()), "ttl_bal": rs(h.total())
    }))
}

fn declaration(b: &Business, month: Month) -> Value {
    let outward = b.outward(month);
    let filed = month.next().day(gen::GSTR1_DAY);
    let (cash, itc) = balances_on(b, filed);
    let val = outward.invoices.iter().chain(outward.retail.iter()).map(Doc::val).sum();
    with_chksum(json!({
        "gstin": b.gstin().as_str(), "ret_period": month.ret_period(), "r2bStaleStatus": "N",
        "declared_tmstmp": format!("{} 18:05:00", filed.format("%Y-%m-%d")),
        "liab": {
            "gstr1Liab": liab_block("TTL_LIAB_GSTR1", outward.tax(), val),
            "iffLiab": [],
            "gstr1aLiab": liab_block("TTL_LIAB_GSTR1A", Heads::default(), 0)
        },
        "bal": {"cash_bal": bal_block(cash), "itc_bal": bal_block(itc), "gstr2b_itc_bal": bal_block(b.inward(month).itc())}
    }))
}

// ---------------------------------------------------------------- GSTR-2A / 2B

fn mon_yy(d: NaiveDate) -> String {
    d.format("%b-%y").to_string()
}

fn supplier_gstin(b: &Business, p: usize) -> &str {
    b.inner.suppliers[p].gstin.as_str()
}

fn gstr2a(b: &Business, section: &str, month: Month, today: NaiveDate) -> Option<Value> {
    let inward = b.inward(month);
    let next = month.next();
    match section {
        "b2b" => {
            let mut groups: BTreeMap<usize, (NaiveDate, Vec<Value>)> = BTreeMap::new();
            for d in &inward.invoices {
                let s = d.party.unwrap_or(0);
                let filed = inward.filing_date(s, month);
                if filed <= today {
                    groups.entry(s).or_insert((filed, Vec::new())).1.push(invoice(d));
                }
            }
            for e in gen::events_for(&b.inner.keyed, month) {
                if e.kind == gen::EventKind::LateSupplierFiling && e.effective <= today {
                    let d = gen::late_invoice(&b.inner.keyed, &e, &b.inner.suppliers, b.inner.state);
                    groups
                        .entry(d.party.unwrap_or(0))
                        .or_insert((e.effective, Vec::new()))
                        .1
                        .push(invoice(&d));
                }
            }
            (!groups.is_empty()).then(|| {
                let list: Vec<Value> = groups
                    .into_iter()
                    .map(|(s, (filed, inv))| {
                        json!({
                            "ctin": supplier_gstin(b, s), "cfs": "Y", "cfs3b": "Y", "fldtr1": filed.format("%d-%b-%y").to_string(),
                            "flprdr1": mon_yy(month.first_day()), "dtcancel": "", "inv": inv
                        })
                    })
                    .collect();
                json!({"b2b": list})
            })
        }
        "cdn" => {
            let entries: Vec<(usize, Value)> = inward
                .notes
                .iter()
                .filter(|d| inward.filing_date(d.party.unwrap_or(0), month) <= today)
                .map(|d| (d.party.unwrap_or(0), note(d)))
                .collect();
            (!entries.is_empty()).then(|| {
                // `cdn.json`: a group carries the supplier's filing as a B2B group does.
                let list: Vec<Value> = by_party(entries)
                    .into_iter()
                    .map(|(s, nt)| {
                        let filed = inward.filing_date(s, month);
                        json!({"ctin": supplier_gstin(b, s), "cfs": "Y", "cfs3b": "Y", "fldtr1": filed.format("%d-%b-%y").to_string(),
                            "flprdr1": mon_yy(month.first_day()), "dtcancel": "", "nt": nt})
                    })
                    .collect();
                json!({"cdn": list})
            })
        }
        "isd" => {
            if inward.isd.is_empty() || today < next.day(13) {
                return None;
            }
            let docs: Vec<Value> = inward
                .isd
                .iter()
                .map(|d| {
                    with_chksum(json!({
                        "docnum": d.docnum, "docdt": inv_date(d.date), "isd_docty": "ISD", "itc_elg": "Y",
                        "iamt": rs(d.tax.igst()), "camt": rs(d.tax.cgst()), "samt": rs(d.tax.sgst()), "cess": rs(d.tax.cess())
                    }))
                })
                .collect();
            Some(json!({"isd": [{"ctin": b.inner.isd.gstin.as_str(), "cfs": "Y", "doclist": docs}]}))
        }
        "impg" => {
            if inward.imports.is_empty() || today < next.day(10) {
                return None;
            }
            let list: Vec<Value> = inward
                .imports
                .iter()
                // `impg.json`: `benum` a number; `amd` only "Y" (amended), so absent here.
                .map(|d| {
                    let benum = d
                        .benum
                        .parse::<u64>()
                        .map_or_else(|_| Value::from(d.benum.as_str()), Value::from);
                    json!({
                        "refdt": inv_date(next.day(10)), "portcd": d.portcd, "benum": benum, "bedt": inv_date(d.date),
                        "txval": rs(d.txval), "iamt": rs(d.igst), "csamt": 0
                    })
                })
                .collect();
            Some(json!({"impg": list}))
        }
        "tds" | "tcs" => {
            let kind = usize::from(section == "tcs");
            let list: Vec<Value> = inward
                .tds
                .iter()
                .filter(|t| t.kind == kind && today >= next.day(10))
                .map(|t| {
                    if kind == 0 {
                        // `tds.json`: the deductor and the amount tax was deducted on.
                        return json!({
                            "gstin_ded": b.inner.deductor.gstin.as_str(), "amt_ded": rs(t.base), "iamt": rs(t.tax.igst()),
                            "camt": rs(t.tax.cgst()), "samt": rs(t.tax.sgst())
                        });
                    }
                    // `tcs.json`: the operator (`etin`), gross and taxable value, rate and amount by head.
                    // The rate in per cent, as hundredths: 1% is `rs(100)`, written 1.
                    let rate = |tax: Paise| rs(if t.base == 0 { 0 } else { tax * 10_000 / t.base });
                    with_chksum(json!({
                        "etin": b.inner.operator.gstin.as_str(), "sup_val": rs(t.base), "tx_val": rs(t.base),
                        "irt": rate(t.tax.igst()), "iamt": rs(t.tax.igst()), "crt": rate(t.tax.cgst()), "camt": rs(t.tax.cgst()),
                        "srt": rate(t.tax.sgst()), "samt": rs(t.tax.sgst()), "csrt": 0, "csamt": rs(t.tax.cess())
                    }))
                })
                .collect();
            (!list.is_empty()).then(|| json!({section: list}))
        }
        "document" => {
            let mut whole = Map::new();
            for s in ["b2b", "cdn", "isd", "impg", "tds", "tcs"] {
                if let Some(Value::Object(m)) = gstr2a(b, s, month, today) {
                    whole.extend(m);
                }
            }
            (!whole.is_empty()).then(|| {
                let mut v = json!({"gstin": b.gstin().as_str(), "fp": month.ret_period()});
                if let Value::Object(m) = &mut v {
                    m.extend(whole);
                }
                v
            })
        }
        _ => None,
    }
}

fn tax_fields(t: Heads) -> Value {
    json!({"igst": rs(t.igst()), "cgst": rs(t.cgst()), "sgst": rs(t.sgst()), "cess": rs(t.cess())})
}

/// The first return period of the IMS era: its 2B documents carry no `items`
/// and its summary has `itcRejected` (GST-PRIMER.md; `domain::returns::gstr2b`).
pub const IMS_FIRST: Month = Month { year: 2024, month: 10 };

/// GSTR-2B documents in page order: (section, supplier or none, rendered entry).
/// Tax sits on each document (`txval`, `igst`, ...); before the IMS era each
/// B2B invoice and note also lists its `items`. Invoices rejected in IMS are
/// left out (they are totalled in `itcRejected`).
fn gstr2b_docs(b: &Business, month: Month) -> Vec<(&'static str, Option<usize>, Value)> {
    let inward = b.inward(month);
    let ims = month >= IMS_FIRST;
    let item_rows = |d: &Doc| -> Vec<Value> {
        d.items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                json!({"num": i + 1, "rt": it.rate, "txval": rs(it.txval), "igst": rs(it.tax.igst()),
                    "cgst": rs(it.tax.cgst()), "sgst": rs(it.tax.sgst()), "cess": rs(it.tax.cess())})
            })
            .collect()
    };
    let with_tax = |mut v: Value, d: &Doc| {
        if let Value::Object(m) = &mut v {
            let t = d.tax();
            m.insert("txval".into(), rs(d.txval()));
            m.insert("igst".into(), rs(t.igst()));
            m.insert("cgst".into(), rs(t.cgst()));
            m.insert("sgst".into(), rs(t.sgst()));
            m.insert("cess".into(), rs(t.cess()));
            if !ims {
                m.insert("items".into(), Value::Array(item_rows(d)));
            }
        }
        v
    };
    let mut docs = Vec::new();
    let mut invoices: Vec<&Doc> = inward.invoices.iter().filter(|d| !b.is_rejected(&d.num)).collect();
    invoices.sort_by_key(|d| d.party);
    for d in invoices {
        docs.push((
            "b2b",
            d.party,
            with_tax(
                json!({"inum": d.num, "typ": "R", "dt": inv_date(d.date), "val": rs(d.val()), "pos": pos(d.pos),
                    "rev": "N", "itcavl": "Y", "rsn": "", "diffprcnt": 1, "srctyp": "e-Invoice"}),
                d,
            ),
        ));
    }
    for d in &inward.notes {
        docs.push((
            "cdnr",
            d.party,
            with_tax(
                json!({"ntnum": d.num, "typ": "C", "suptyp": "R", "dt": inv_date(d.date), "val": rs(d.val()),
                    "pos": pos(d.pos), "rev": "N", "itcavl": "Y", "rsn": ""}),
                d,
            ),
        ));
    }
    for d in &inward.isd {
        docs.push((
            "isd",
            None,
            json!({"ctin": b.inner.isd.gstin.as_str(), "trdnm": b.inner.isd.name, "doctyp": "ISDI", "docnum": d.docnum,
                "docdt": inv_date(d.date), "itcelg": "Y", "igst": rs(d.tax.igst()), "cgst": rs(d.tax.cgst()),
                "sgst": rs(d.tax.sgst()), "cess": rs(d.tax.cess())}),
        ));
    }
    for d in &inward.imports {
        docs.push((
            "impg",
            None,
            json!({"refdt": inv_date(month.next().day(10)), "portcode": d.portcd, "boenum": d.benum,
                "boedt": inv_date(d.date), "isamd": "N", "txval": rs(d.txval), "igst": rs(d.igst), "cess": 0}),
        ));
    }
    docs
}

fn gstr2b(b: &Business, month: Month, file_number: Option<&str>, today: NaiveDate) -> Answer {
    let generated = month.next().day(gen::GSTR2B_DAY);
    if month < FIRST_MONTH || today < generated {
        return Answer::error("RET2B1023", "GSTR-2B not available");
    }
    let docs = gstr2b_docs(b, month);
    if docs.is_empty() {
        return Answer::error("RET2B1016", "No details available to view");
    }
    let mut pages: Vec<&[(&str, Option<usize>, Value)]> = docs.chunks(b.page_size).collect();
    while pages.len() < b.min_2b_pages {
        pages.push(&[]);
    }
    let page = match file_number {
        None if pages.len() > 1 => {
            return Answer::Paged {
                file_count: pages.len(),
            }
        }
        None => 0,
        Some(n) => match n.parse::<usize>() {
            Ok(k) if (1..=pages.len()).contains(&k) => k - 1,
            _ => {
                return Answer::error(
                    "RET2B1020",
                    format!("Invalid file number: expected 1 to {}", pages.len()),
                )
            }
        },
    };
    let inward = b.inward(month);
    let (rejected, accepted): (Vec<&Doc>, Vec<&Doc>) = inward.invoices.iter().partition(|d| b.is_rejected(&d.num));
    let b2b = accepted.iter().fold(Heads::default(), |a, d| a + d.tax());
    let rejected = rejected.iter().fold(Heads::default(), |a, d| a + d.tax());
    let cdnr = inward.notes.iter().fold(Heads::default(), |a, d| a + d.tax());
    let isd = inward.isd.iter().fold(Heads::default(), |a, d| a + d.tax);
    let impg = Heads([inward.imports.iter().map(|d| d.igst).sum(), 0, 0, 0]);
    let with = |total: Heads, key: &str, part: Heads| {
        let mut v = tax_fields(total);
        if let Value::Object(m) = &mut v {
            m.insert(key.into(), tax_fields(part));
        }
        v
    };
    // GSTN's shape (`domain::returns::gstr2b`): B2B invoices (and debit notes)
    // in `nonrevsup`, credit notes in `othersup`, to be netted off 4A(5).
    let mut itcavl = Map::new();
    itcavl.insert("nonrevsup".into(), with(b2b, "b2b", b2b));
    itcavl.insert("isdsup".into(), with(isd, "isd", isd));
    itcavl.insert("imports".into(), with(impg, "impg", impg));
    if !inward.notes.is_empty() {
        itcavl.insert("othersup".into(), with(cdnr, "cdnr", cdnr));
    }
    let mut itcsumm = Map::new();
    itcsumm.insert("itcavl".into(), Value::Object(itcavl));
    itcsumm.insert("itcunavl".into(), json!({"nonrevsup": tax_fields(Heads::default())}));
    if month >= IMS_FIRST {
        itcsumm.insert("itcrev".into(), json!({"nonrevsup": tax_fields(Heads::default())}));
        itcsumm.insert(
            "itcRejected".into(),
            json!({"nonrevsup": with(rejected, "b2b", rejected)}),
        );
    }
    let itcsumm = Value::Object(itcsumm);
    let mut others: Vec<(&str, Vec<Value>)> = Vec::new();
    let mut suppliers: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let mut notes: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for (section, party, v) in pages[page].iter() {
        match (*section, party) {
            ("b2b", Some(p)) => suppliers.entry(*p).or_default().push(v.clone()),
            ("cdnr", Some(p)) => notes.entry(*p).or_default().push(v.clone()),
            (s, _) => match others.iter_mut().find(|(k, _)| *k == s) {
                Some((_, list)) => list.push(v.clone()),
                None => others.push((s, vec![v.clone()])),
            },
        }
    }
    let group = |map: BTreeMap<usize, Vec<Value>>, key: &str| -> Value {
        Value::Array(
            map.into_iter()
                .map(|(p, list)| {
                    let s = &b.inner.suppliers[p];
                    json!({"ctin": s.gstin.as_str(), "trdnm": s.name, "supfildt": inv_date(inward.filing_date(p, month)),
                        "supprd": month.ret_period(), key: list})
                })
                .collect(),
        )
    };
    let mut ordered = Map::new();
    if !suppliers.is_empty() {
        ordered.insert("b2b".into(), group(suppliers, "inv"));
    }
    if !notes.is_empty() {
        ordered.insert("cdnr".into(), group(notes, "nt"));
    }
    for (k, list) in others {
        ordered.insert(k.into(), Value::Array(list));
    }
    Answer::Data(json!({
        "gstin": b.gstin().as_str(), "rtnprd": month.ret_period(), "version": "1.0", "gendt": inv_date(generated),
        "itcsumm": itcsumm, "docdata": ordered
    }))
}

// ---------------------------------------------------------------- GSTR-3B

fn amounts(txval: Option<Paise>, t: Heads) -> Value {
    let mut v = json!({});
    if let Value::Object(m) = &mut v {
        if let Some(x) = txval {
            m.insert("txval".into(), rs(x));
        }
        m.insert("iamt".into(), rs(t.igst()));
        m.insert("camt".into(), rs(t.cgst()));
        m.insert("samt".into(), rs(t.sgst()));
        m.insert("csamt".into(), rs(t.cess()));
    }
    v
}

fn unreg_details(b: &Business, outward: &gen::MonthOutward) -> Value {
    let mut by_pos: BTreeMap<u8, (Paise, Paise)> = BTreeMap::new();
    for d in outward.of_kind(OutKind::B2cl).chain(outward.of_kind(OutKind::B2cs)) {
        if d.pos != b.inner.state {
            let e = by_pos.entry(d.pos).or_default();
            e.0 += d.txval();
            e.1 += d.tax().igst();
        }
    }
    Value::Array(
        by_pos
            .into_iter()
            .map(|(p, (tx, i))| json!({"pos": pos(p), "txval": rs(tx), "iamt": rs(i)}))
            .collect(),
    )
}

fn sup_details(outward: &gen::MonthOutward, tax: Heads) -> Value {
    json!({
        "osup_det": amounts(Some(outward.taxable()), tax),
        "osup_zero": amounts(Some(outward.exports()), Heads::default()),
        "osup_nil_exmp": amounts(Some(outward.nil.0 + outward.nil.1), Heads::default()),
        "osup_nongst": amounts(Some(0), Heads::default()),
        "isup_rev": amounts(Some(0), Heads::default())
    })
}

fn ty(kind: &str, t: Heads) -> Value {
    let mut v = amounts(None, t);
    if let Value::Object(m) = &mut v {
        m.insert("ty".into(), Value::from(kind));
    }
    v
}

fn liab_id(b: &Business, s: &Settlement) -> u64 {
    let digest = Sha256::digest(format!("{}{}", b.gstin(), s.period).as_bytes());
    700_000_000 + u64::from(u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 99_999_999)
}

fn gstr3b(b: &Business, s: &Settlement) -> Value {
    let outward = b.outward(s.period);
    let inward = b.inward(s.period);
    let isd = inward.isd.iter().fold(Heads::default(), |a, d| a + d.tax);
    let impg = Heads([inward.imports.iter().map(|d| d.igst).sum(), 0, 0, 0]);
    let oth = s.claim - isd - impg;
    let id = liab_id(b, s);
    let heads3 = |t: Heads| {
        json!({"cess": {"fee": 0, "intr": 0, "tx": rs(t.cess())}, "cgst": {"fee": 0, "intr": 0, "tx": rs(t.cgst())},
            "igst": {"fee": 0, "intr": 0, "tx": rs(t.igst())}, "liab_ldg_id": id, "sgst": {"fee": 0, "intr": 0, "tx": rs(t.sgst())},
            "tran_desc": "Other than Reverse Charge", "trans_typ": 30002})
    };
    let u = &s.used;
    let c = s.cash_paid;
    json!({
        "gstin": b.gstin().as_str(),
        "ret_period": s.period.ret_period(),
        "sup_details": sup_details(&outward, s.liability),
        "inter_sup": {"unreg_details": unreg_details(b, &outward), "comp_details": [], "uin_details": []},
        "itc_elg": {
            "itc_avl": [ty("IMPG", impg), ty("IMPS", Heads::default()), ty("ISRC", Heads::default()), ty("ISD", isd), ty("OTH", oth)],
            "itc_rev": [ty("RUL", Heads::default()), ty("OTH", Heads::default())],
            "itc_net": amounts(None, s.claim),
            "itc_inelg": [ty("RUL", Heads::default()), ty("OTH", Heads::default())]
        },
        "intr_ltfee": {"intr_details": amounts(None, Heads::default()), "ltfee_details": amounts(None, Heads::default())},
        "tx_pmt": {
            "adjnegliab": [],
            "net_tax_pay": [heads3(s.liability)],
            "pdcash": [{"c_intrpd": 0, "c_lfeepd": 0, "cpd": rs(c.cgst()), "cs_intrpd": 0, "cs_lfeepd": 0, "cspd": rs(c.cess()),
                "i_intrpd": 0, "i_lfeepd": 0, "ipd": rs(c.igst()), "liab_ldg_id": id, "s_intrpd": 0, "s_lfeepd": 0,
                "spd": rs(c.sgst()), "trans_typ": 30002}],
            // GSTN names these <liability head>_pd<credit head>; `u` is [credit][liability].
            "pditc": {"c_pdc": rs(u[1][1]), "c_pdi": rs(u[0][1]), "cs_pdcs": rs(u[3][3]), "i_pdc": rs(u[1][0]), "i_pdi": rs(u[0][0]),
                "i_pds": rs(u[2][0]), "liab_ldg_id": id, "s_pdi": rs(u[0][2]), "s_pds": rs(u[2][2]), "trans_typ": 30002},
            "pdnls": [],
            "tx_py": [heads3(Heads::default())]
        }
    })
}

fn auto_liability(b: &Business, month: Month) -> Value {
    let outward = b.outward(month);
    json!({
        "gstin": b.gstin().as_str(), "ret_period": month.ret_period(),
        "r1_filed_date": inv_date(month.next().day(gen::GSTR1_DAY)),
        "sup_details": sup_details(&outward, outward.tax()),
        "inter_sup": {"unreg_details": unreg_details(b, &outward), "comp_details": [], "uin_details": []}
    })
}

// ---------------------------------------------------------------- ledgers

/// One cash or ITC ledger movement.
struct Entry {
    date: NaiveDate,
    time: String,
    desc: &'static str,
    ref_no: String,
    credit: bool,
    period: Month,
    amount: Heads,
}

fn ref_no(prefix: &str, b: &Business, date: NaiveDate, n: u32) -> String {
    format!(
        "{prefix}{}{}{:07}",
        b.gstin().state_code(),
        date.format("%d%m%y"),
        (liab_id_seed(b, date) + n) % 10_000_000
    )
}

fn liab_id_seed(b: &Business, date: NaiveDate) -> u32 {
    let d = Sha256::digest(format!("{}{date}", b.gstin()).as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Settlements whose money moved on or before `to`.
fn settlements_until(b: &Business, to: NaiveDate) -> Vec<std::sync::Arc<Settlement>> {
    let last = Month::of_date(to).prev();
    if last < FIRST_MONTH {
        return Vec::new();
    }
    FIRST_MONTH
        .through(last)
        .into_iter()
        .filter_map(|m| b.settlement(m))
        .collect()
}

fn cash_entries(b: &Business, to: NaiveDate) -> Vec<Entry> {
    let mut out = Vec::new();
    for s in settlements_until(b, to) {
        if let Some(ch) = &s.challan {
            if ch.date <= to {
                out.push(Entry {
                    date: ch.date,
                    time: ch.time.clone(),
                    desc: "Deposit",
                    ref_no: ch.cin.clone(),
                    credit: true,
                    period: s.period,
                    amount: ch.amount,
                });
            }
        }
        if s.filed <= to && !s.cash_paid.is_zero() {
            let ref_no = ref_no("DC", b, s.filed, 1);
            out.push(Entry {
                date: s.filed,
                time: "18:30:00".into(),
                desc: "Other than reverse charge",
                ref_no,
                credit: false,
                period: s.period,
                amount: s.cash_paid,
            });
        }
    }
    out
}

fn itc_entries(b: &Business, to: NaiveDate) -> Vec<Entry> {
    let mut out = Vec::new();
    for s in settlements_until(b, to) {
        if s.filed > to {
            continue;
        }
        if !s.claim.is_zero() {
            let ref_no = ref_no("AB", b, s.filed, 2);
            out.push(Entry {
                date: s.filed,
                time: String::new(),
                desc: "ITC accrued through - Inputs",
                ref_no,
                credit: true,
                period: s.period,
                amount: s.claim,
            });
        }
        let used = s.itc_used();
        if !used.is_zero() {
            let ref_no = ref_no("DI", b, s.filed, 3);
            out.push(Entry {
                date: s.filed,
                time: String::new(),
                desc: "Other than reverse charge",
                ref_no,
                credit: false,
                period: s.period,
                amount: used,
            });
        }
    }
    out
}

/// Cash and ITC balances per head at the end of `date`.
pub(super) fn balances_on(b: &Business, date: NaiveDate) -> (Heads, Heads) {
    let sum = |entries: Vec<Entry>| {
        entries.into_iter().fold(
            Heads::default(),
            |acc, e| {
                if e.credit {
                    acc + e.amount
                } else {
                    acc - e.amount
                }
            },
        )
    };
    (sum(cash_entries(b, date)), sum(itc_entries(b, date)))
}

fn minor(tx: Paise, with_tot: bool) -> Value {
    let mut v = json!({"tx": rs(tx), "intr": 0, "pen": 0, "fee": 0, "oth": 0});
    if with_tot {
        if let Value::Object(m) = &mut v {
            m.insert("tot".into(), rs(tx));
        }
    }
    v
}

fn cash_bal(desc: &str, h: Heads) -> Value {
    json!({"desc": desc, "tot_rng_bal": rs(h.total()), "igstbal": minor(h.igst(), true), "cgstbal": minor(h.cgst(), true),
        "sgstbal": minor(h.sgst(), true), "cessbal": minor(h.cess(), true)})
}

fn cash_ledger(b: &Business, from: NaiveDate, to: NaiveDate) -> Answer {
    let mut bal = Heads::default();
    let mut op = Heads::default();
    let mut tr = Vec::new();
    for e in cash_entries(b, to) {
        if e.credit {
            bal += e.amount;
        } else {
            bal = bal - e.amount;
        }
        if e.date < from {
            op = bal;
            continue;
        }
        let mut v = json!({"dpt_dt": ledger_date(e.date), "rpt_dt": ledger_date(e.date), "dpt_time": e.time, "desc": e.desc,
            "ref_no": e.ref_no, "tr_typ": if e.credit { "Cr" } else { "Dr" }, "ret_period": e.period.ret_period()});
        if let Value::Object(m) = &mut v {
            for (i, name) in Heads::NAMES.iter().enumerate() {
                m.insert((*name).into(), minor(e.amount.0[i], true));
            }
            m.insert("tot_tr_amt".into(), rs(e.amount.total()));
            for (i, name) in Heads::NAMES.iter().enumerate() {
                m.insert(format!("{name}bal"), minor(bal.0[i], true));
            }
            m.insert("tot_rng_bal".into(), rs(bal.total()));
        }
        tr.push(v);
    }
    Answer::Data(json!({
        "gstin": b.gstin().as_str(), "fr_dt": ledger_date(from), "to_dt": ledger_date(to),
        "op_bal": cash_bal("Opening Balance", op), "cl_bal": cash_bal("Closing Balance", bal), "tr": tr
    }))
}

fn itc_bal(desc: &str, h: Heads) -> Value {
    json!({"desc": desc, "igstTaxBal": rs(h.igst()), "cgstTaxBal": rs(h.cgst()), "sgstTaxBal": rs(h.sgst()),
        "cessTaxBal": rs(h.cess()), "tot_rng_bal": rs(h.total())})
}

fn itc_ledger(b: &Business, from: NaiveDate, to: NaiveDate) -> Answer {
    let mut bal = Heads::default();
    let mut op = Heads::default();
    let mut tr = Vec::new();
    for e in itc_entries(b, to) {
        if e.credit {
            bal += e.amount;
        } else {
            bal = bal - e.amount;
        }
        if e.date < from {
            op = bal;
            continue;
        }
        let a = e.amount;
        tr.push(json!({
            "dt": ledger_date(e.date), "desc": e.desc, "ref_no": e.ref_no, "ret_period": e.period.ret_period(),
            "tr_typ": if e.credit { "Cr" } else { "Dr" },
            "igstTaxAmt": rs(a.igst()), "cgstTaxAmt": rs(a.cgst()), "sgstTaxAmt": rs(a.sgst()), "cessTaxAmt": rs(a.cess()),
            "tot_tr_amt": rs(a.total()),
            "igstTaxBal": rs(bal.igst()), "cgstTaxBal": rs(bal.cgst()), "sgstTaxBal": rs(bal.sgst()), "cessTaxBal": rs(bal.cess()),
            "tot_rng_bal": rs(bal.total())
        }));
    }
    Answer::Data(json!({
        "itcLdgDtls": {"gstin": b.gstin().as_str(), "fr_dt": ledger_date(from), "to_dt": ledger_date(to),
            "op_bal": itc_bal("Opening Balance", op), "cl_bal": itc_bal("Closing Balance", bal), "tr": tr},
        "provCrdBalList": {"provCrdBal": []}
    }))
}

fn balance(b: &Business, on: NaiveDate) -> Value {
    let (cash, itc) = balances_on(b, on);
    let mut cash_bal = Map::new();
    for (i, name) in Heads::NAMES.iter().enumerate() {
        cash_bal.insert((*name).into(), minor(cash.0[i], false));
        cash_bal.insert(format!("{name}_tot_bal"), rs(cash.0[i]));
    }
    json!({
        "gstin": b.gstin().as_str(),
        "cash_bal": cash_bal,
        "itc_bal": {"igst_bal": rs(itc.igst()), "cgst_bal": rs(itc.cgst()), "sgst_bal": rs(itc.sgst()), "cess_bal": rs(itc.cess())},
        "itc_blck_bal": {"igst_blck_bal": 0, "cgst_blck_bal": 0, "sgst_blck_bal": 0, "cess_blck_bal": 0}
    })
}

fn liability_ledger(b: &Business, month: Month, today: NaiveDate) -> Value {
    let mut tr = Vec::new();
    let mut bal = Heads::default();
    if let Some(s) = b.settlement(month).filter(|s| s.filed <= today) {
        let by_itc = s.discharged_by_itc();
        let moves = [
            (
                "Other than reverse charge",
                "",
                true,
                s.liability,
                ref_no("LI", b, s.filed, 4),
            ),
            (
                "Other than reverse charge",
                "credit",
                false,
                by_itc,
                ref_no("DI", b, s.filed, 3),
            ),
            (
                "Other than reverse charge",
                "cash",
                false,
                s.cash_paid,
                ref_no("DC", b, s.filed, 1),
            ),
        ];
        for (desc, dschrg, debit, amount, ref_no) in moves {
            if amount.is_zero() {
                continue;
            }
            bal = if debit { bal + amount } else { bal - amount };
            let mut v = json!({"dt": ledger_date(s.filed), "desc": desc, "dschrg_typ": dschrg, "ref_no": ref_no,
                "tr_typ": if debit { "Dr" } else { "Cr" }});
            if let Value::Object(m) = &mut v {
                for (i, name) in Heads::NAMES.iter().enumerate() {
                    m.insert((*name).into(), minor(amount.0[i], true));
                }
                m.insert("tot_tr_amt".into(), rs(amount.total()));
                for (i, name) in Heads::NAMES.iter().enumerate() {
                    m.insert(format!("{name}bal"), minor(bal.0[i], true));
                }
                m.insert("tot_rng_bal".into(), rs(bal.total()));
            }
            tr.push(v);
        }
    }
    json!({"gstin": b.gstin().as_str(), "fr_dt": month.ret_period(), "to_dt": month.ret_period(),
        "cl_bal": cash_bal("Closing Balance", bal), "tr": tr})
}

// ---------------------------------------------------------------- tracking, FY reads

fn arn(b: &Business, form: &str, month: Month) -> String {
    let d = Sha256::digest(format!("{}{form}{month}", b.gstin()).as_bytes());
    let n = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 10_000_000;
    format!(
        "AA{}{:02}{:02}{n:07}{}",
        b.gstin().state_code(),
        month.month,
        month.year % 100,
        (b'A' + d[4] % 26) as char
    )
}

fn track(b: &Business, months: &[Month], return_type: Option<&str>, today: NaiveDate, public: bool) -> Answer {
    let wanted = return_type.map(|r| r.to_ascii_lowercase().replace(['-', '_'], ""));
    let mut rows = Vec::new();
    for &m in months.iter().filter(|m| **m >= FIRST_MONTH) {
        for (form, code, day) in [
            ("gstr1", "GSTR1", gen::GSTR1_DAY),
            ("gstr3b", "GSTR3B", gen::GSTR3B_DAY),
        ] {
            let dof = m.next().day(day);
            if dof > today || wanted.as_deref().is_some_and(|w| w != form) {
                continue;
            }
            rows.push(
                json!({"arn": arn(b, code, m), "ret_prd": m.ret_period(), "mof": "ONLINE", "dof": inv_date(dof),
                "rtntype": code, "status": "Filed", "valid": "Y"}),
            );
        }
    }
    if rows.is_empty() {
        let message = "No Record found for the provided Inputs".to_string();
        return if public {
            Answer::PublicError {
                code: "RET13510",
                message,
            }
        } else {
            Answer::Error {
                code: "RET13510",
                message,
            }
        };
    }
    Answer::Data(json!({"EFiledlist": rows}))
}

fn preference(fy: FinancialYear) -> Value {
    let quarters: Vec<Value> = ["Q1", "Q2", "Q3", "Q4"]
        .iter()
        .map(|q| json!({"quarter": q, "preference": "M"}))
        .collect();
    json!({"fy": fy.label(), "response": quarters})
}

fn fy_started(fy: FinancialYear, today: NaiveDate) -> bool {
    fy.first_month().first_day() <= today
}

/// GSTR-9 figures are computed once the year's last 3B is in: 1 May after the FY.
fn gstr9_ready(fy: FinancialYear, today: NaiveDate) -> bool {
    today >= fy.last_month().next().next().first_day()
}

fn year_endpoint(b: &Business, name: &str, fy: FinancialYear, today: NaiveDate) -> Answer {
    if !fy_started(fy, today) {
        return Answer::error("RET191104", "Financial year cannot be in the future");
    }
    let not_ready = || Answer::error("RET13509", "No document found for the provided Inputs");
    match name {
        "filing-preference" => Answer::Data(preference(fy)),
        "public-preference" => Answer::Data(
            json!({"gstin": b.gstin().as_str(), "fy": fy.label(), "response": preference(fy)["response"].clone()}),
        ),
        "public-track" => track(b, &fy.months(), None, today, true),
        "aato" => Answer::Data(aato(b, fy)),
        "gstr-9" => not_ready(),
        "gstr-9-auto-calculated" if gstr9_ready(fy, today) => Answer::Data(gstr9(b, fy)),
        "gstr-9-table-8a" if gstr9_ready(fy, today) => Answer::Data(table_8a(b, fy)),
        _ => not_ready(),
    }
}

fn aato(b: &Business, fy: FinancialYear) -> Value {
    let turnover: Paise = fy
        .prev()
        .months()
        .into_iter()
        .filter(|m| *m >= FIRST_MONTH)
        .map(|m| {
            let o = b.outward(m);
            o.taxable() + o.exports() + o.nil.0 + o.nil.1
        })
        .sum();
    let rupees = turnover / 100;
    json!({"gstin": b.gstin().as_str(), "fy": fy.label(), "pan": b.gstin().pan(), "gsttofil": rupees, "pantofil": rupees,
        "estgstto": rupees, "estpanto": rupees, "finalgstto": rupees, "finalpanto": rupees, "tpdecto": []})
}

fn gstr9(b: &Business, fy: FinancialYear) -> Value {
    let months: Vec<Month> = fy.months().into_iter().filter(|m| *m >= FIRST_MONTH).collect();
    let mut b2b = (0, Heads::default());
    let mut b2c = (0, Heads::default());
    let mut exp = 0;
    let mut cr = (0, Heads::default());
    let mut nil = 0;
    let mut itc_3b = Heads::default();
    let mut itc_2b = Heads::default();
    let mut payable = Heads::default();
    let mut cash = Heads::default();
    let mut by_itc = Heads::default();
    for &m in &months {
        let o = b.outward(m);
        for d in o.invoices.iter().chain(o.retail.iter()) {
            match d.kind {
                OutKind::B2b => b2b = (b2b.0 + d.txval(), b2b.1 + d.tax()),
                OutKind::Exp => exp += d.txval(),
                _ => b2c = (b2c.0 + d.txval(), b2c.1 + d.tax()),
            }
        }
        for d in &o.notes {
            cr = (cr.0 + d.txval(), cr.1 + d.tax());
        }
        nil += o.nil.0 + o.nil.1;
        itc_2b += b.inward(m).itc();
        if let Some(s) = b.settlement(m) {
            itc_3b += s.claim;
            payable += s.liability;
            cash += s.cash_paid;
            by_itc += s.discharged_by_itc();
        }
    }
    let sub = (b2b.0 + b2c.0 - cr.0, b2b.1 + b2c.1 - cr.1);
    json!({
        "gstin": b.gstin().as_str(), "fp": fy.last_month().ret_period(), "hsnMinLen": 6,
        "table4": with_chksum(json!({"b2c": amounts(Some(b2c.0), b2c.1), "b2b": amounts(Some(b2b.0), b2b.1),
            "exp": amounts(Some(exp), Heads::default()), "cr_nt": amounts(Some(cr.0), cr.1), "sub_total": amounts(Some(sub.0), sub.1)})),
        "table5": with_chksum(json!({"zero_rtd": amounts(Some(exp), Heads::default()), "nil": amounts(Some(nil), Heads::default())})),
        "table6": with_chksum(json!({"itc_3b": amounts(None, itc_3b)})),
        "table8": with_chksum(json!({"itc_2b": amounts(None, itc_2b), "itc_tot": amounts(None, itc_3b), "differ": amounts(None, itc_2b - itc_3b)})),
        "table9": with_chksum(json!({"txpyble": amounts(None, payable), "txpaid_cash": amounts(None, cash), "txpaid_itc": amounts(None, by_itc)}))
    })
}

fn table_8a(b: &Business, fy: FinancialYear) -> Value {
    let mut groups: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for m in fy.months().into_iter().filter(|m| *m >= FIRST_MONTH) {
        let inward = b.inward(m);
        for d in &inward.invoices {
            let t = d.tax();
            let s = d.party.unwrap_or(0);
            groups.entry(s).or_default().push(json!({"inum": d.num, "idt": inv_date(d.date), "val": rs(d.val()),
                "pos": pos(d.pos), "txval": rs(d.txval()), "iamt": rs(t.igst()), "camt": rs(t.cgst()), "samt": rs(t.sgst()),
                "csamt": rs(t.cess()), "fp": m.ret_period(), "filingDate": inv_date(inward.filing_date(s, m))}));
        }
    }
    let b2b: Vec<Value> = groups
        .into_iter()
        .map(|(s, inv)| json!({"ctin": supplier_gstin(b, s), "inv": inv}))
        .collect();
    json!({"gstin": b.gstin().as_str(), "fp": fy.last_month().ret_period(), "b2b": b2b})
}

// ---------------------------------------------------------------- IMS, e-invoice, identifier reads

fn action_of(num: &str, settled: bool) -> &'static str {
    let d = Sha256::digest(num.as_bytes());
    match (settled, d[0] % 10) {
        (true, 0) => "P",
        (true, _) => "A",
        (false, 0..=6) => "N",
        (false, _) => "A",
    }
}

/// The IMS pool: inward documents of the last two closed months, once their suppliers filed.
fn ims_pool(b: &Business, notes: bool, today: NaiveDate) -> Vec<(Month, Doc, NaiveDate)> {
    let current = Month::of_date(today);
    let mut out = Vec::new();
    for m in [current.prev().prev(), current.prev()] {
        if m < FIRST_MONTH {
            continue;
        }
        let inward = b.inward(m);
        let docs = if notes { &inward.notes } else { &inward.invoices };
        for d in docs {
            let filed = inward.filing_date(d.party.unwrap_or(0), m);
            if filed <= today {
                out.push((m, d.clone(), filed));
            }
        }
    }
    out
}

fn current_endpoint(
    b: &Business,
    name: &str,
    params: &BTreeMap<String, String>,
    q: &[(String, String)],
    today: NaiveDate,
) -> Answer {
    let current = Month::of_date(today);
    match name {
        "ims-invoices-b2b" | "ims-invoices-cn" => {
            let notes = name.ends_with("cn");
            let rows: Vec<Value> = ims_pool(b, notes, today)
                .into_iter()
                .filter(|(m, d, _)| query(q, "status").is_none_or(|s| ims_status(action_of(&d.num, *m < current.prev())) == s))
                .map(|(m, d, _)| {
                    let t = d.tax();
                    let mut v = json!({"stin": supplier_gstin(b, d.party.unwrap_or(0)), "inum": d.num, "idt": inv_date(d.date),
                        "val": rs(d.val()), "txval": rs(d.txval()), "iamt": rs(t.igst()), "camt": rs(t.cgst()),
                        "samt": rs(t.sgst()), "cess": rs(t.cess()), "pos": pos(d.pos), "inv_typ": "R", "rtnprd": m.ret_period(),
                        "srcform": "R1", "srcfilstatus": "Filed", "action": action_of(&d.num, m < current.prev()),
                        "ispendactblocked": "N"});
                    let hash = chksum(&v);
                    if let Value::Object(map) = &mut v {
                        map.insert("hash".into(), Value::from(hash));
                    }
                    v
                })
                .collect();
            if rows.is_empty() {
                return no_2a();
            }
            Answer::Data(json!({ if notes { "cn" } else { "b2b" }: rows }))
        }
        n if n.starts_with("ims-invoices-") => no_2a(),
        "ims-count-inward" | "ims-count-imports" | "ims-count-others" => {
            let count = |docs: Vec<(Month, Doc, NaiveDate)>| {
                let mut c = [0usize; 4];
                for (m, d, _) in &docs {
                    match action_of(&d.num, *m < current.prev()) {
                        "N" => c[0] += 1,
                        "R" => c[1] += 1,
                        "P" => c[2] += 1,
                        _ => c[3] += 1,
                    }
                }
                (
                    json!({"noaction": c[0], "reject": c[1], "pending": c[2], "accept": c[3]}),
                    docs.len(),
                )
            };
            match name {
                "ims-count-inward" => {
                    let (b2b, n1) = count(ims_pool(b, false, today));
                    let (cn, n2) = count(ims_pool(b, true, today));
                    Answer::Data(json!({"b2b": b2b, "cn": cn, "ttl_cnt": n1 + n2}))
                }
                "ims-count-imports" => {
                    let n: usize = [current.prev().prev(), current.prev()]
                        .into_iter()
                        .filter(|m| *m >= FIRST_MONTH && today >= m.next().day(10))
                        .map(|m| b.inward(m).imports.len())
                        .sum();
                    Answer::Data(json!({"impg": {"noaction": n, "reject": 0, "pending": 0, "accept": 0}, "ttl_cnt": n}))
                }
                _ => Answer::Data(json!({"ttl_cnt": 0})),
            }
        }
        "einvoice-by-irn" => einvoice_by_irn(b, params.get("irn").map(String::as_str).unwrap_or(""), today),
        "notices" => notice_list(b, today),
        "notice-details" => notice_details(b, params.get("reference_id").map(String::as_str).unwrap_or(""), today),
        _ => Answer::error("RET191106", "Invalid Reference Id"),
    }
}

fn ims_status(action: &str) -> &'static str {
    match action {
        "A" => "accepted",
        "R" => "rejected",
        "P" => "pending",
        _ => "no_action_taken",
    }
}

fn ims_sales(b: &Business, month: Month, today: NaiveDate) -> Answer {
    if month < FIRST_MONTH || !gstr1_filed(month, today) {
        return no_2a();
    }
    let outward = b.outward(month);
    let rows: Vec<Value> = outward
        .of_kind(OutKind::B2b)
        .map(|d| {
            let t = d.tax();
            json!({"ctin": b.inner.customers[d.party.unwrap_or(0)].gstin.as_str(), "inum": d.num, "idt": inv_date(d.date),
                "val": rs(d.val()), "txval": rs(d.txval()), "iamt": rs(t.igst()), "camt": rs(t.cgst()), "samt": rs(t.sgst()),
                "cess": rs(t.cess()), "pos": pos(d.pos), "action": action_of(&d.num, true)})
        })
        .collect();
    Answer::Data(json!({"b2b": rows}))
}

fn einvoice_window(month: Month, today: NaiveDate) -> Option<Answer> {
    let current = Month::of_date(today);
    if month > current {
        return Some(Answer::error("RET191104", "Return period cannot be in the future"));
    }
    if month.months_until(current) > 6 {
        return Some(Answer::error(
            "EINV0006",
            "E-invoice data is available only for the last 6 months",
        ));
    }
    None
}

fn einvoice_hsn(b: &Business, month: Month, today: NaiveDate) -> Answer {
    if let Some(e) = einvoice_window(month, today) {
        return e;
    }
    if month < FIRST_MONTH {
        return no_2a();
    }
    let outward = b.outward(month);
    let docs: Vec<&Doc> = outward.invoices.iter().filter(|d| d.date <= today).collect();
    if docs.is_empty() {
        return no_2a();
    }
    Answer::Data(json!({"hsn": hsn_rows(docs.into_iter(), true)}))
}

fn irn(supplier: &str, doc: &Doc) -> String {
    hex::encode(Sha256::digest(
        format!("{supplier}|{}|{}", doc.num, gen::fy_tag(Month::of_date(doc.date))).as_bytes(),
    ))
}

fn einvoice_entry(supplier: &str, buyer: &str, d: &Doc) -> Value {
    let t = d.tax();
    json!({"Irn": irn(supplier, d), "AckDt": format!("{} 10:00:00", d.date.format("%Y-%m-%d")), "SellerGstin": supplier,
        "BuyerGstin": buyer, "DocTyp": "INV", "DocNo": d.num, "DocDt": d.date.format("%d/%m/%Y").to_string(),
        "AssVal": rs(d.txval()), "IgstVal": rs(t.igst()), "CgstVal": rs(t.cgst()), "SgstVal": rs(t.sgst()),
        "TotInvVal": rs(d.val()), "Status": "ACT"})
}

fn einvoices(b: &Business, purchases: bool, month: Month, today: NaiveDate) -> Vec<Value> {
    if month < FIRST_MONTH {
        return Vec::new();
    }
    let own = b.gstin().as_str();
    if purchases {
        b.inward(month)
            .invoices
            .iter()
            .filter(|d| d.date <= today)
            .map(|d| einvoice_entry(supplier_gstin(b, d.party.unwrap_or(0)), own, d))
            .collect()
    } else {
        b.outward(month)
            .of_kind(OutKind::B2b)
            .filter(|d| d.date <= today)
            .map(|d| einvoice_entry(own, b.inner.customers[d.party.unwrap_or(0)].gstin.as_str(), d))
            .collect()
    }
}

/// The documents of one e-invoice supply type: B2B sales and purchases;
/// exports with payment of IGST (`EXPWP`) or without (`EXPWOP`) among the sales.
fn supply_docs(b: &Business, purchases: bool, supply_type: &str, month: Month) -> Vec<(String, Doc)> {
    let own = b.gstin().to_string();
    match (purchases, supply_type) {
        (true, "B2B") => b
            .inward(month)
            .invoices
            .iter()
            .map(|d| (supplier_gstin(b, d.party.unwrap_or(0)).to_string(), d.clone()))
            .collect(),
        (false, "B2B") => b
            .outward(month)
            .of_kind(OutKind::B2b)
            .map(|d| (own.clone(), d.clone()))
            .collect(),
        (false, "EXPWP" | "EXPWOP") => b
            .outward(month)
            .of_kind(OutKind::Exp)
            .filter(|d| (d.tax().igst() > 0) == (supply_type == "EXPWP"))
            .map(|d| (own.clone(), d.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// One download's list, in the documented entity's fields
/// (<https://developer.sandbox.co.in/reference/list-purchase-e-invoices-job-status-api>).
pub fn einvoice_list(b: &Business, purchases: bool, supply_type: &str, month: Month, today: NaiveDate) -> Answer {
    if let Some(e) = einvoice_window(month, today) {
        return e;
    }
    if month < FIRST_MONTH {
        return Answer::error("EINV30113", "No record found for the provided inputs");
    }
    let rows: Vec<Value> = supply_docs(b, purchases, supply_type, month)
        .into_iter()
        .filter(|(_, d)| d.date <= today)
        .map(|(supplier, d)| {
            json!({"docNum": d.num, "docDt": d.date.format("%d/%m/%Y").to_string(), "docType": "INV",
                "supplyType": supply_type, "totInvAmt": rs(d.val()), "irn": irn(&supplier, &d), "irnStatus": "ACT",
                "ackNo": 112_010_000_000_000u64 + u64::from(d.date.ordinal()) * 1000 + d.num.len() as u64,
                "ackDt": format!("{} 10:00", d.date.format("%Y-%m-%d"))})
        })
        .collect();
    if rows.is_empty() {
        return Answer::error("EINV30113", "No record found for the provided inputs");
    }
    Answer::Data(Value::Array(rows))
}

// ---------------------------------------------------------------- notices

/// One notice the business received.
struct Notice {
    ref_id: String,
    arn: String,
    form: &'static str,
    title: &'static str,
    module: &'static str,
    issued: NaiveDate,
    reply_by: NaiveDate,
    about: Month,
}

/// The notices issued up to `today`, oldest first.
fn notices_until(b: &Business, today: NaiveDate) -> Vec<Notice> {
    const KINDS: [(&str, &str, &str); 4] = [
        (
            "ASMT-10",
            "Notice for intimating discrepancies in the return after scrutiny",
            "ASMT",
        ),
        (
            "DRC-01B",
            "Intimation of difference in liability reported in GSTR-1 and GSTR-3B",
            "RET",
        ),
        (
            "DRC-01C",
            "Intimation of difference in ITC available in GSTR-2B and claimed in GSTR-3B",
            "RET",
        ),
        (
            "GSTR-3A",
            "Notice to return defaulter u/s 46 for not filing return",
            "RET",
        ),
    ];
    let mut out = Vec::new();
    let mut m = FIRST_MONTH.next().next();
    while m.first_day() <= today {
        let mut rng = b.inner.keyed.rng(&["notice", &m.to_string()]);
        if rand::Rng::random_range(&mut rng, 0..12u32) == 0 {
            let (form, title, module) = KINDS[rand::Rng::random_range(&mut rng, 0..KINDS.len())];
            let issued = m.day(rand::Rng::random_range(&mut rng, 2..=26u32));
            let serial: u32 = rand::Rng::random_range(&mut rng, 100_000..1_000_000);
            if issued <= today {
                let about = m.prev().prev();
                out.push(Notice {
                    ref_id: format!("ZA{:02}{}{serial}", b.inner.state, issued.format("%y%m%d")),
                    arn: format!("AD{:02}{}{serial}N", b.inner.state, issued.format("%m%y")),
                    form,
                    title,
                    module,
                    issued,
                    reply_by: issued + chrono::Duration::days(30),
                    about,
                });
            }
        }
        m = m.next();
    }
    out
}

fn notice_list(b: &Business, today: NaiveDate) -> Answer {
    let rows: Vec<Value> = notices_until(b, today)
        .iter()
        .map(|n| {
            json!({"refId": n.ref_id, "arn": n.arn, "moduleCd": n.module, "alertCd": n.form,
                "dateOfIssue": n.issued.format("%d/%m/%Y").to_string(), "dateOfRespond": n.reply_by.format("%d/%m/%Y").to_string()})
        })
        .collect();
    Answer::Data(json!({"notices": rows}))
}

fn notice_details(b: &Business, reference_id: &str, today: NaiveDate) -> Answer {
    let Some(n) = notices_until(b, today).into_iter().find(|n| n.ref_id == reference_id) else {
        return Answer::error("RET191106", "Invalid Reference Id");
    };
    let document = format!("{}_{}.pdf", n.form, n.ref_id);
    Answer::Data(
        json!({"arn": n.arn, "dateOfIssue": n.issued.format("%d/%m/%Y").to_string(),
        "noticeType": format!("{} - {}", n.form, n.title), "dueDateOfReply": n.reply_by.format("%d/%m/%Y").to_string(),
        "taxPeriod": {"from": n.about.ret_period(), "to": n.about.ret_period()},
        "maindocs": [{"docName": document, "hash": hex::encode(Sha256::digest(document.as_bytes()))}],
        "suppdocs": []}),
    )
}

fn einvoice_by_irn(b: &Business, wanted: &str, today: NaiveDate) -> Answer {
    let current = Month::of_date(today);
    let mut m = current;
    for _ in 0..=6 {
        for purchases in [false, true] {
            for v in einvoices(b, purchases, m, today) {
                if v["Irn"] == wanted {
                    return Answer::Data(v);
                }
            }
        }
        m = m.prev();
    }
    Answer::error("EINV2283", "IRN details are not found")
}
