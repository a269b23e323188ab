//! GSTR-1 table-wise totals, as the portal's "GSTR-1 summary" lays them out:
//! one line per section of the `gstr-1-summary` payload's `sec_sum`
//! (`sec_nm`, `ttl_rec`, `ttl_val`, `ttl_igst`, `ttl_cgst`, `ttl_sgst`,
//! `ttl_cess`; ENDPOINTS.md R1-S), labelled with the GSTR-1 table numbers of
//! the form (4A–4C and 6B–6C B2B, 5 B2CL, 6A exports, 7 B2CS, 8 nil, 9A/9B/9C
//! amendments and notes, 10 amended B2CS, 11 advances, 12 HSN, 13 documents).
//! Sections in form order; a section the form does not list is shown under
//! its own name after them, never dropped.

use serde_json::Value;

use super::{Column, Line, ReturnTable};
use crate::domain::money::paise_of;

/// Sections in form order: `sec_nm` and label.
const SECTIONS: [(&str, &str); 19] = [
    ("B2B", "4A, 4B, 6B, 6C: B2B, SEZ and deemed export invoices"),
    ("B2CL", "5: B2C (large) invoices"),
    ("EXP", "6A: Export invoices"),
    ("B2CS", "7: B2C (others)"),
    ("NIL", "8A–8D: Nil rated, exempted and non-GST supplies"),
    ("CDNR", "9B: Credit/debit notes (registered)"),
    ("CDNUR", "9B: Credit/debit notes (unregistered)"),
    ("B2BA", "9A: Amended B2B invoices"),
    ("B2CLA", "9A: Amended B2C (large) invoices"),
    ("EXPA", "9A: Amended export invoices"),
    ("CDNRA", "9C: Amended credit/debit notes (registered)"),
    ("CDNURA", "9C: Amended credit/debit notes (unregistered)"),
    ("B2CSA", "10: Amended B2C (others)"),
    ("AT", "11A(1), 11A(2): Advances received"),
    ("ATA", "11A: Amended advances received"),
    ("TXP", "11B(1), 11B(2): Advances adjusted"),
    ("TXPA", "11B: Amended advances adjusted"),
    ("HSN", "12: HSN-wise summary of outward supplies"),
    ("DOC_ISSUE", "13: Documents issued"),
];

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
            let records = ["ttl_rec", "net_doc_issued", "ttl_doc_issued"]
                .iter()
                .find_map(|k| s.get(*k).and_then(Value::as_i64));
            let mut values = vec![records, Some(amount(s, "ttl_val"))];
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
}
