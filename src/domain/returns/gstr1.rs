//! GSTR-1 table-wise totals, as the portal's "GSTR-1 summary" lays them out:
//! one line per section of the `gstr-1-summary` payload's `sec_sum`
//! (`sec_nm`, `ttl_rec`, `ttl_val`, `ttl_igst`, `ttl_cgst`, `ttl_sgst`,
//! `ttl_cess`), labelled with the GSTR-1 table numbers of the form (4A–4C
//! and 6B–6C B2B, 5 B2CL, 6A exports, 7 B2CS, 8 nil, 9A/9B/9C amendments and
//! notes, 10 amended B2CS, 11 advances, 12 HSN, 13 documents, 14 and 15
//! e-commerce). Sections in form order; a section the form does not list is
//! shown under its own name after them, never dropped.
//!
//! Source: GSTN's GSTR-1 summary schema ("new summary format",
//! `newSumFlag`), as Sandbox publishes it in `in-co-sandbox/in-co-sandbox-docs`:
//! the field list `data/gst/schema/workbook/taxpayer/gstr-1/documents/gstr_1-v4.1.xlsx`
//! (linked from `api-reference/gst/compliance/endpoints/taxpayer/gstr-1/documents/gstr_1.mdx`)
//! and the same summary for GSTR-1A, `data/gst/schema/request/taxpayer/gstr-1a/documents/gstr_1a.json`.
//! What it settles here:
//! - Section names (`seclist`): B2B is followed by its parts B2B_4A, B2B_4B,
//!   B2B_6C, B2B_SEZWP, B2B_SEZWOP (and B2BA by B2BA_4A…), each a line of
//!   its own marked "(part of B2B)", never added to B2B; advances adjusted
//!   are `TXPD` (the older `TXP` is read too); HSN is split into HSN_B2B and
//!   HSN_B2C from the May 2025 period; e-commerce is SUPECOM (table 14) and
//!   ECOM (table 15); `TTL_LIAB` is GSTN's own total.
//! - `ttl_val` is the records' value and `ttl_tax` their *taxable* value
//!   (not a tax). NIL carries no `ttl_val` but `ttl_nilsup_amt`,
//!   `ttl_expt_amt` and `ttl_ngsup_amt`, whose sum is its value here;
//!   DOC_ISSUE counts `net_doc_issued` (and `ttl_doc_issued`,
//!   `ttl_doc_cancelled`), its `ttl_rec` being the number of its rows.
//! - Figures are numbers (`multipleOf 0.01`); a client that passes them on
//!   as numeric strings (`"5197.46"`) reads the same.

use serde_json::Value;

use super::{Column, Line, ReturnTable};
use crate::domain::money::paise_of;

/// Sections in form order: `sec_nm` and label.
const SECTIONS: [(&str, &str); 40] = [
    ("B2B", "4A, 4B, 6B, 6C: B2B, SEZ and deemed export invoices"),
    ("B2B_4A", "4A: B2B regular (part of B2B)"),
    ("B2B_4B", "4B: B2B reverse charge (part of B2B)"),
    ("B2B_SEZWP", "6B: SEZ with payment (part of B2B)"),
    ("B2B_SEZWOP", "6B: SEZ without payment (part of B2B)"),
    ("B2B_6C", "6C: Deemed exports (part of B2B)"),
    ("B2CL", "5: B2C (large) invoices"),
    ("EXP", "6A: Export invoices"),
    ("B2CS", "7: B2C (others)"),
    ("NIL", "8A–8D: Nil rated, exempted and non-GST supplies"),
    ("CDNR", "9B: Credit/debit notes (registered)"),
    ("CDNUR", "9B: Credit/debit notes (unregistered)"),
    ("B2BA", "9A: Amended B2B invoices"),
    ("B2BA_4A", "9A: Amended B2B regular (part of B2BA)"),
    ("B2BA_4B", "9A: Amended B2B reverse charge (part of B2BA)"),
    ("B2BA_SEZWP", "9A: Amended SEZ with payment (part of B2BA)"),
    ("B2BA_SEZWOP", "9A: Amended SEZ without payment (part of B2BA)"),
    ("B2BA_6C", "9A: Amended deemed exports (part of B2BA)"),
    ("B2CLA", "9A: Amended B2C (large) invoices"),
    ("EXPA", "9A: Amended export invoices"),
    ("CDNRA", "9C: Amended credit/debit notes (registered)"),
    ("CDNURA", "9C: Amended credit/debit notes (unregistered)"),
    ("B2CSA", "10: Amended B2C (others)"),
    ("AT", "11A(1), 11A(2): Advances received"),
    ("ATA", "11A: Amended advances received"),
    ("TXPD", "11B(1), 11B(2): Advances adjusted"),
    ("TXP", "11B(1), 11B(2): Advances adjusted"),
    ("TXPDA", "11B: Amended advances adjusted"),
    ("TXPA", "11B: Amended advances adjusted"),
    ("HSN", "12: HSN-wise summary of outward supplies"),
    ("HSN_B2B", "12: HSN-wise summary, B2B supplies"),
    ("HSN_B2C", "12: HSN-wise summary, B2C supplies"),
    ("DOC_ISSUE", "13: Documents issued"),
    ("SUPECOM", "14: Supplies through e-commerce operators"),
    (
        "SUPECOM_14A",
        "14(a): Supplies on which the operator collects TCS (part of SUPECOM)",
    ),
    (
        "SUPECOM_14B",
        "14(b): Supplies on which the operator pays tax u/s 9(5) (part of SUPECOM)",
    ),
    ("SUPECOMA", "14A: Amended supplies through e-commerce operators"),
    ("ECOM", "15: Supplies u/s 9(5) by the e-commerce operator"),
    ("ECOMA", "15A: Amended supplies u/s 9(5)"),
    ("TTL_LIAB", "Total liability (GSTN's total)"),
];

/// NIL's three values (nil rated, exempted, non-GST), summed as its value.
const NIL_VALUES: [&str; 3] = ["ttl_nilsup_amt", "ttl_expt_amt", "ttl_ngsup_amt"];

/// The label of a `sec_nm`, or the name itself for a section the form does not list.
pub fn label(sec_nm: &str) -> String {
    let upper = sec_nm.to_ascii_uppercase();
    SECTIONS
        .iter()
        .find(|(name, _)| *name == upper)
        .map(|(_, label)| (*label).to_string())
        .unwrap_or(upper)
}

/// The table-wise summary of one `gstr-1-summary` payload; None without `sec_sum`.
pub fn table(summary: &Value) -> Option<ReturnTable> {
    let sections: Vec<&Value> = match summary.get("sec_sum")? {
        Value::Array(a) => a.iter().collect(),
        o @ Value::Object(_) => vec![o],
        _ => return None,
    };
    let name = |s: &Value| {
        s.get("sec_nm")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase()
    };
    let order = |n: &str| SECTIONS.iter().position(|(s, _)| *s == n).unwrap_or(SECTIONS.len());
    let mut sorted = sections;
    sorted.sort_by_key(|s| order(&name(s)));
    let amount = |s: &Value, k: &str| s.get(k).map(paise_of).unwrap_or(0);
    let lines = sorted
        .into_iter()
        .map(|s| {
            // DOC_ISSUE's `ttl_rec` counts its rows, not the documents.
            let records = ["net_doc_issued", "ttl_doc_issued", "ttl_rec"]
                .iter()
                .find_map(|k| s.get(*k).and_then(Value::as_i64));
            let value = match s.get("ttl_val") {
                Some(v) => paise_of(v),
                None => NIL_VALUES.iter().map(|k| amount(s, k)).sum(),
            };
            let mut values = vec![records, Some(value)];
            values.extend(["ttl_igst", "ttl_cgst", "ttl_sgst", "ttl_cess"].map(|k| Some(amount(s, k))));
            Line {
                label: label(&name(s)),
                values,
            }
        })
        .collect();
    Some(ReturnTable {
        number: "GSTR-1",
        title: "Table-wise summary of outward supplies",
        columns: vec![
            Column::count("Records"),
            Column::rupees("Value"),
            Column::rupees("Integrated tax"),
            Column::rupees("Central tax"),
            Column::rupees("State/UT tax"),
            Column::rupees("Cess"),
        ],
        lines,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sections_in_form_order_with_unknown_ones_kept() {
        let t = table(&json!({"sec_sum": [
            {"sec_nm": "HSN", "ttl_val": 118000, "ttl_igst": 18000},
            {"sec_nm": "SUPECO", "ttl_rec": 1, "ttl_val": 10},
            {"sec_nm": "B2B", "ttl_rec": 3, "ttl_val": 118000.25, "ttl_igst": 9000, "ttl_cgst": 4500, "ttl_sgst": 4500},
            {"sec_nm": "CDNR", "ttl_rec": 1, "ttl_val": 1180, "ttl_cgst": 90, "ttl_sgst": 90}
        ]}))
        .unwrap();
        let labels: Vec<&str> = t.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "4A, 4B, 6B, 6C: B2B, SEZ and deemed export invoices",
                "9B: Credit/debit notes (registered)",
                "12: HSN-wise summary of outward supplies",
                "SUPECO"
            ]
        );
        assert_eq!(t.value(labels[0], "Records"), Some(3));
        assert_eq!(t.value(labels[0], "Value"), Some(11_800_025));
        assert_eq!(t.value(labels[1], "Central tax"), Some(9_000));
        assert_eq!(t.value(labels[2], "Records"), None);
    }

    #[test]
    fn gstn_summary_fixture_with_parts_nil_documents_and_advances() {
        let answer: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/gstn/gstr1-summary.json")).unwrap();
        let summary = &answer["data"]["data"];
        let t = table(summary).unwrap();
        let labels: Vec<&str> = t.lines.iter().map(|l| l.label.as_str()).collect();
        // Form order; B2B's parts after it, CDNR's `sub_sections` inside its row (no line of their own).
        assert_eq!(
            labels[..3],
            [
                "4A, 4B, 6B, 6C: B2B, SEZ and deemed export invoices",
                "4A: B2B regular (part of B2B)",
                "4B: B2B reverse charge (part of B2B)"
            ]
        );
        assert!(!labels.iter().any(|l| l.contains("CDNR_4A")));
        assert_eq!(labels.last(), Some(&"Total liability (GSTN's total)"));
        // B2B: 3 invoices, value 1,00,900.00, IGST 12,000.00.
        assert_eq!(t.value(labels[0], "Records"), Some(3));
        assert_eq!(t.value(labels[0], "Value"), Some(10_090_000));
        assert_eq!(t.value(labels[0], "Integrated tax"), Some(1_200_000));
        // NIL has no ttl_val: nil rated 1,500.00 + exempted 2,500.00 + non-GST 0 = 4,000.00.
        let nil = "8A–8D: Nil rated, exempted and non-GST supplies";
        assert_eq!(t.value(nil, "Value"), Some(400_000));
        // DOC_ISSUE: 13 issued − 1 cancelled = 12 (its ttl_rec 2 counts its rows).
        assert_eq!(t.value("13: Documents issued", "Records"), Some(12));
        // TXPD is GSTN's name for advances adjusted: IGST 1,800.00.
        assert_eq!(
            t.value("11B(1), 11B(2): Advances adjusted", "Integrated tax"),
            Some(180_000)
        );
        // CDNR (credit net of debit notes): CGST 10.01.
        assert_eq!(
            t.value("9B: Credit/debit notes (registered)", "Central tax"),
            Some(1_001)
        );
        assert_eq!(
            t.value("12: HSN-wise summary, B2C supplies", "Integrated tax"),
            Some(9_960_000)
        );
        // Figures passed on as numeric strings read the same.
        let mut strings = summary.clone();
        for row in strings["sec_sum"].as_array_mut().unwrap() {
            for (k, v) in row.as_object_mut().unwrap() {
                if k.starts_with("ttl_") && k != "ttl_rec" {
                    *v = Value::from(v.to_string());
                }
            }
        }
        assert_eq!(table(&strings), Some(t));
    }
}
