//! GSTR-3B in the portal's layout: tables 3.1, 3.2, 4, 5, 5.1 and 6.1 read
//! from the `gstr-3b` payload (GSTN's "GSTR-3B Details" shape, documented in
//! Sandbox's `TP/gstr-3b/gstr_3b_details` and ENDPOINTS.md R3B-1:
//! `sup_details`, `inter_sup`, `itc_elg`, `inward_sup`, `intr_ltfee`,
//! `tx_pmt`), and the same tables 3.1 and 3.2 from the
//! `gstr-3b-auto-liability` payload (the portal's own computation from GSTR-1).
//! Line labels are the form's. A table whose block is absent from the payload
//! is left out; a line whose object is absent reads as zero.
//!
//! `pditc` fields read as GSTN names them: `x_pdy` is liability head `x` paid
//! with credit of head `y` (`i_pdc`: IGST paid from CGST credit).

use serde_json::Value;

use super::{Column, Line, ReturnTable};
use crate::domain::money::paise_of;

const HEADS: [Column; 4] = [
    Column::rupees("Integrated tax"),
    Column::rupees("Central tax"),
    Column::rupees("State/UT tax"),
    Column::rupees("Cess"),
];

/// Table 3.1's lines: payload key and the form's label.
const T31: [(&str, &str); 5] = [
    (
        "osup_det",
        "(a) Outward taxable supplies (other than zero rated, nil rated and exempted)",
    ),
    ("osup_zero", "(b) Outward taxable supplies (zero rated)"),
    ("osup_nil_exmp", "(c) Other outward supplies (nil rated, exempted)"),
    ("isup_rev", "(d) Inward supplies (liable to reverse charge)"),
    ("osup_nongst", "(e) Non-GST outward supplies"),
];

/// Table 4's lines: block, `ty`, label.
const T4: [(&str, &str, &str); 9] = [
    ("itc_avl", "IMPG", "A(1) Import of goods"),
    ("itc_avl", "IMPS", "A(2) Import of services"),
    (
        "itc_avl",
        "ISRC",
        "A(3) Inward supplies liable to reverse charge (other than 1 & 2 above)",
    ),
    ("itc_avl", "ISD", "A(4) Inward supplies from ISD"),
    ("itc_avl", "OTH", "A(5) All other ITC"),
    (
        "itc_rev",
        "RUL",
        "B(1) Reversed as per rules 38, 42 & 43 of CGST Rules and section 17(5)",
    ),
    ("itc_rev", "OTH", "B(2) Reversed: others"),
    ("itc_inelg", "RUL", "D(1) Ineligible ITC: as per section 17(5) (RUL)"),
    ("itc_inelg", "OTH", "D(2) Ineligible ITC: others (OTH)"),
];

/// The label of 4(C).
pub const NET_ITC: &str = "C. Net ITC available (A) − (B)";

/// Every table of one 3B payload, in form order.
pub fn tables(r3b: &Value) -> Vec<ReturnTable> {
    let mut out = Vec::new();
    out.extend(table_3_1(r3b));
    out.extend(table_3_2(r3b));
    out.extend(table_4(r3b));
    out.extend(table_5(r3b));
    out.extend(table_5_1(r3b));
    out.extend(table_6_1(r3b));
    out
}

/// Tables 3.1 and 3.2 of the portal's auto-computed liability.
pub fn auto_liability_tables(auto: &Value) -> Vec<ReturnTable> {
    table_3_1(auto).into_iter().chain(table_3_2(auto)).collect()
}

/// 3.1 Details of outward supplies and inward supplies liable to reverse charge.
pub fn table_3_1(r3b: &Value) -> Option<ReturnTable> {
    let sup = r3b.get("sup_details")?;
    let lines = T31
        .iter()
        .map(|(key, label)| {
            let v = sup.get(*key);
            let mut values = vec![Some(amount(v.and_then(|v| v.get("txval"))))];
            values.extend(tax(v));
            Line {
                label: (*label).to_string(),
                values,
            }
        })
        .collect();
    let mut columns = vec![Column::rupees("Total taxable value")];
    columns.extend(HEADS);
    Some(ReturnTable {
        number: "3.1",
        title: "Details of outward supplies and inward supplies liable to reverse charge",
        columns,
        lines,
    })
}

/// 3.2 Inter-state supplies to unregistered persons, composition taxable
/// persons and UIN holders, by place of supply.
pub fn table_3_2(r3b: &Value) -> Option<ReturnTable> {
    let inter = r3b.get("inter_sup")?;
    let mut lines = Vec::new();
    for (key, who) in [
        ("unreg_details", "Unregistered persons"),
        ("comp_details", "Composition taxable persons"),
        ("uin_details", "UIN holders"),
    ] {
        for row in rows(inter.get(key)) {
            let pos = row.get("pos").and_then(Value::as_str).unwrap_or("?");
            lines.push(Line {
                label: format!("{who}, place of supply {pos}"),
                values: vec![Some(amount(row.get("txval"))), Some(amount(row.get("iamt")))],
            });
        }
    }
    Some(ReturnTable {
        number: "3.2",
        title: "Of the supplies in 3.1(a), inter-State supplies to unregistered persons, composition taxable persons and UIN holders",
        columns: vec![Column::rupees("Taxable value"), Column::rupees("Integrated tax")],
        lines,
    })
}

/// 4 Eligible ITC: A available by type, B reversed, C net, D ineligible.
pub fn table_4(r3b: &Value) -> Option<ReturnTable> {
    let elg = r3b.get("itc_elg")?;
    let row = |block: &str, ty: &str| {
        rows(elg.get(block))
            .filter(|r| r.get("ty").and_then(Value::as_str) == Some(ty))
            .fold([0i64; 4], |acc, r| {
                let t = tax_of(r);
                [acc[0] + t[0], acc[1] + t[1], acc[2] + t[2], acc[3] + t[3]]
            })
    };
    let mut lines: Vec<Line> = T4[..7]
        .iter()
        .map(|(block, ty, label)| line(label, row(block, ty)))
        .collect();
    lines.push(line(NET_ITC, tax_of(elg.get("itc_net").unwrap_or(&Value::Null))));
    lines.extend(T4[7..].iter().map(|(block, ty, label)| line(label, row(block, ty))));
    Some(ReturnTable {
        number: "4",
        title: "Eligible ITC",
        columns: HEADS.to_vec(),
        lines,
    })
}

/// 5 Values of exempt, nil-rated and non-GST inward supplies.
pub fn table_5(r3b: &Value) -> Option<ReturnTable> {
    let details = r3b.get("inward_sup")?.get("isup_details")?;
    let pick = |ty: &str| {
        rows(Some(details))
            .find(|r| r.get("ty").and_then(Value::as_str) == Some(ty))
            .map(|r| vec![Some(amount(r.get("inter"))), Some(amount(r.get("intra")))])
            .unwrap_or_else(|| vec![Some(0), Some(0)])
    };
    Some(ReturnTable {
        number: "5",
        title: "Values of exempt, nil-rated and non-GST inward supplies",
        columns: vec![
            Column::rupees("Inter-State supplies"),
            Column::rupees("Intra-State supplies"),
        ],
        lines: vec![
            Line {
                label: "From a supplier under composition scheme, exempt and nil rated supply".into(),
                values: pick("GST"),
            },
            Line {
                label: "Non-GST supply".into(),
                values: pick("NONGST"),
            },
        ],
    })
}

/// 5.1 Interest and late fee payable.
pub fn table_5_1(r3b: &Value) -> Option<ReturnTable> {
    let fees = r3b.get("intr_ltfee")?;
    let of = |key: &str| tax_of(fees.get(key).unwrap_or(&Value::Null));
    Some(ReturnTable {
        number: "5.1",
        title: "Interest and late fee payable",
        columns: HEADS.to_vec(),
        lines: vec![
            line("Interest", of("intr_details")),
            line("Late fee", of("ltfee_details")),
        ],
    })
}

/// The 6.1 columns.
pub const T61_COLUMNS: [Column; 8] = [
    Column::rupees("Tax payable"),
    Column::rupees("Paid through ITC: Integrated tax"),
    Column::rupees("Paid through ITC: Central tax"),
    Column::rupees("Paid through ITC: State/UT tax"),
    Column::rupees("Paid through ITC: Cess"),
    Column::rupees("Tax paid in cash"),
    Column::rupees("Interest paid in cash"),
    Column::rupees("Late fee paid in cash"),
];

/// The 6.1 lines, one per liability head.
pub const T61_LINES: [&str; 4] = ["Integrated tax", "Central tax", "State/UT tax", "Cess"];

/// 6.1 Payment of tax: per liability head, the tax payable, what was paid
/// through ITC by the credit head used, and what was paid in cash.
pub fn table_6_1(r3b: &Value) -> Option<ReturnTable> {
    let pmt = r3b.get("tx_pmt")?;
    let head_keys = ["igst", "cgst", "sgst", "cess"];
    let mut payable = [0i64; 4];
    for row in rows(pmt.get("net_tax_pay")) {
        for (i, k) in head_keys.iter().enumerate() {
            payable[i] += amount(row.get(*k).and_then(|h| h.get("tx")));
        }
    }
    let used = used_credit(r3b);
    let mut cash = [[0i64; 3]; 4];
    for row in rows(pmt.get("pdcash")) {
        for (i, p) in ["i", "c", "s", "cs"].iter().enumerate() {
            cash[i][0] += amount(row.get(format!("{p}pd")));
            cash[i][1] += amount(row.get(format!("{p}_intrpd")));
            cash[i][2] += amount(row.get(format!("{p}_lfeepd")));
        }
    }
    let lines = T61_LINES
        .iter()
        .enumerate()
        .map(|(liab, label)| {
            let mut values = vec![Some(payable[liab])];
            values.extend((0..4).map(|credit| PAID_WITH[liab][credit].map(|_| used[credit][liab])));
            values.extend(cash[liab].iter().map(|v| Some(*v)));
            Line {
                label: (*label).to_string(),
                values,
            }
        })
        .collect();
    Some(ReturnTable {
        number: "6.1",
        title: "Payment of tax",
        columns: T61_COLUMNS.to_vec(),
        lines,
    })
}

/// `PAID_WITH[liability][credit]`: the `pditc` field of liability head paid
/// with credit head, where the law allows it (None: never, e.g. SGST with
/// CGST credit, or anything but cess with cess).
const PAID_WITH: [[Option<&str>; 4]; 4] = [
    [Some("i_pdi"), Some("i_pdc"), Some("i_pds"), None],
    [Some("c_pdi"), Some("c_pdc"), None, None],
    [Some("s_pdi"), None, Some("s_pds"), None],
    [None, None, None, Some("cs_pdcs")],
];

/// Credit used from the 3B's `pditc`: `[credit head][liability head]`, paise.
pub fn used_credit(r3b: &Value) -> [[i64; 4]; 4] {
    let mut used = [[0i64; 4]; 4];
    let Some(pmt) = r3b.get("tx_pmt") else { return used };
    for row in rows(pmt.get("pditc")) {
        for (liab, by_credit) in PAID_WITH.iter().enumerate() {
            for (credit, field) in by_credit.iter().enumerate() {
                if let Some(field) = field {
                    used[credit][liab] += amount(row.get(*field));
                }
            }
        }
    }
    used
}

fn line(label: &str, heads: [i64; 4]) -> Line {
    Line {
        label: label.to_string(),
        values: heads.iter().map(|v| Some(*v)).collect(),
    }
}

fn amount(v: Option<&Value>) -> i64 {
    v.map(paise_of).unwrap_or(0)
}

/// `{iamt, camt, samt, csamt}` as four cells.
fn tax(v: Option<&Value>) -> Vec<Option<i64>> {
    tax_of(v.unwrap_or(&Value::Null)).iter().map(|x| Some(*x)).collect()
}

fn tax_of(v: &Value) -> [i64; 4] {
    ["iamt", "camt", "samt", "csamt"].map(|k| amount(v.get(k)))
}

/// The elements of an array, or the value itself when it is a single object.
fn rows(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let slice: &[Value] = match v {
        Some(Value::Array(a)) => a,
        Some(o @ Value::Object(_)) => std::slice::from_ref(o),
        _ => &[],
    };
    slice.iter()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "ret_period": "042026",
            "sup_details": {
                "osup_det": {"txval": 100000.50, "iamt": 9000.09, "camt": 4500, "samt": 4500, "csamt": 0},
                "osup_zero": {"txval": 2500, "iamt": 0, "camt": 0, "samt": 0, "csamt": 0},
                "isup_rev": {"txval": 1000, "iamt": 180, "camt": 0, "samt": 0, "csamt": 0}
            },
            "inter_sup": {"unreg_details": [{"pos": "29", "txval": 5000, "iamt": 900}], "comp_details": [], "uin_details": []},
            "itc_elg": {
                "itc_avl": [{"ty": "IMPG", "iamt": 1800}, {"ty": "OTH", "iamt": 500, "camt": 250.25, "samt": 250.25}],
                "itc_rev": [{"ty": "RUL", "camt": 10, "samt": 10}],
                "itc_net": {"iamt": 2300, "camt": 240.25, "samt": 240.25, "csamt": 0},
                "itc_inelg": [{"ty": "OTH", "iamt": 7}]
            },
            "intr_ltfee": {"intr_details": {"iamt": 12.5}, "ltfee_details": {"camt": 25, "samt": 25}},
            "tx_pmt": {
                "net_tax_pay": [{"igst": {"tx": 9180.09}, "cgst": {"tx": 4500}, "sgst": {"tx": 4500}, "cess": {"tx": 0}}],
                "pdcash": [{"ipd": 6880.09, "cpd": 4000, "spd": 4000, "i_intrpd": 12.5, "c_lfeepd": 25, "s_lfeepd": 25}],
                "pditc": {"i_pdi": 2300, "c_pdc": 240.25, "s_pds": 240.25, "c_pdi": 0, "i_pdc": 0}
            }
        })
    }

    #[test]
    fn tables_follow_the_form() {
        let t = tables(&sample());
        let numbers: Vec<&str> = t.iter().map(|t| t.number).collect();
        assert_eq!(numbers, ["3.1", "3.2", "4", "5.1", "6.1"]);
        let t31 = &t[0];
        assert_eq!(t31.value(T31[0].1, "Total taxable value"), Some(10_000_050));
        assert_eq!(t31.value(T31[0].1, "Integrated tax"), Some(900_009));
        assert_eq!(t31.value(T31[3].1, "Integrated tax"), Some(18_000));
        assert_eq!(t31.value(T31[4].1, "Central tax"), Some(0));
        assert_eq!(
            t[1].value("Unregistered persons, place of supply 29", "Integrated tax"),
            Some(90_000)
        );
        let t4 = &t[2];
        assert_eq!(t4.value("A(1) Import of goods", "Integrated tax"), Some(180_000));
        assert_eq!(t4.value("A(5) All other ITC", "Central tax"), Some(25_025));
        assert_eq!(t4.value(NET_ITC, "State/UT tax"), Some(24_025));
        assert_eq!(
            t4.value("D(2) Ineligible ITC: others (OTH)", "Integrated tax"),
            Some(700)
        );
        let t61 = &t[4];
        assert_eq!(t61.value("Integrated tax", "Tax payable"), Some(918_009));
        assert_eq!(
            t61.value("Integrated tax", "Paid through ITC: Integrated tax"),
            Some(230_000)
        );
        assert_eq!(t61.value("Integrated tax", "Tax paid in cash"), Some(688_009));
        assert_eq!(t61.value("Central tax", "Late fee paid in cash"), Some(2_500));
        // SGST is never paid with CGST credit: that cell is blank, not zero.
        assert_eq!(t61.value("State/UT tax", "Paid through ITC: Central tax"), None);
    }

    #[test]
    fn used_credit_is_by_credit_then_liability_head() {
        let u =
            used_credit(&json!({"tx_pmt": {"pditc": {"i_pdi": 10, "c_pdi": 2, "s_pdi": 3, "i_pdc": 4, "cs_pdcs": 1}}}));
        assert_eq!(u[0], [1000, 200, 300, 0]);
        assert_eq!(u[1][0], 400);
        assert_eq!(u[3][3], 100);
    }
}
