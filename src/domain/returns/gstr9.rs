//! GSTR-9 (the annual return) in the form's layout: tables 4, 5, 6, 8 and 9
//! read from the `gstr-9-auto-calculated` payload (GSTN's computed annual
//! figures, ENDPOINTS.md R9-1: `table4` … `table9`, each with its `chksum`)
//! or from a saved `gstr-9`. Each entry of a table that holds amounts
//! (`txval`, `iamt`, `camt`, `samt`, `csamt`) is a line, labelled as the form
//! labels it; an entry the form's list here does not know keeps its key, so
//! nothing archived is dropped.

use serde_json::Value;

use super::{Column, Line, ReturnTable};
use crate::domain::money::paise_of;

/// The tables read, their numbers and titles.
const TABLES: [(&str, &str, &str); 5] = [
    (
        "table4",
        "GSTR-9 4",
        "Outward and inward supplies on which tax is payable",
    ),
    ("table5", "GSTR-9 5", "Outward supplies on which tax is not payable"),
    ("table6", "GSTR-9 6", "ITC availed during the financial year"),
    ("table8", "GSTR-9 8", "Other ITC-related information"),
    (
        "table9",
        "GSTR-9 9",
        "Tax paid as declared in returns filed during the financial year",
    ),
];

/// Known entries and the form's labels.
const LABELS: [(&str, &str); 28] = [
    ("b2c", "4A Supplies made to un-registered persons (B2C)"),
    ("b2b", "4B Supplies made to registered persons (B2B)"),
    ("exp", "4C Zero rated supply (export) on payment of tax"),
    ("sez", "4D Supply to SEZs on payment of tax"),
    ("deemed", "4E Deemed exports"),
    ("at", "4F Advances on which tax has been paid but invoice not issued"),
    ("rchrg", "4G Inward supplies on which tax is paid on reverse charge"),
    ("sub_total", "4H Sub-total (A to G above)"),
    ("sub_totalAG", "4H Sub-total (A to G above)"),
    ("cr_nt", "4I / 5H Credit notes issued"),
    ("dr_nt", "4J / 5I Debit notes issued"),
    ("amd_pos", "4K / 5J Supplies declared through amendments (+)"),
    ("amd_neg", "4L / 5K Supplies reduced through amendments (−)"),
    ("sub_totalKL", "4M Sub-total (I to L above)"),
    ("sup_adv", "4N Supplies and advances on which tax is to be paid"),
    ("zero_rtd", "5A Zero rated supply (export) without payment of tax"),
    ("exmt", "5D Exempted"),
    ("nil", "5E Nil rated"),
    ("non_gst", "5F Non-GST supply"),
    ("itc_3b", "6A Total ITC availed through GSTR-3B"),
    ("itc_2b", "8A ITC as per GSTR-2B"),
    ("itc_tot", "8B ITC as per sum total of 6(B) and 6(H) above"),
    (
        "itc_inwd_supp",
        "8C ITC on inward supplies received during the year but availed in the next",
    ),
    ("differ", "8D Difference [A − (B + C)]"),
    ("txpyble", "9 Tax payable"),
    ("txpaid_cash", "9 Paid through cash"),
    ("txpaid_itc", "9 Paid through ITC"),
    ("intr", "9 Interest"),
];

/// Every table of one GSTR-9 payload, in form order; the payload may be the
/// tables themselves or carry them one level down (`data`).
pub fn tables(gstr9: &Value) -> Vec<ReturnTable> {
    let root = if gstr9.get("table4").is_none() {
        gstr9.get("data").unwrap_or(gstr9)
    } else {
        gstr9
    };
    TABLES
        .iter()
        .filter_map(|(key, number, title)| {
            let table = root.get(*key)?.as_object()?;
            let lines = table
                .iter()
                .filter(|(_, v)| {
                    v.is_object()
                        && ["txval", "iamt", "camt", "samt", "csamt"]
                            .iter()
                            .any(|k| v.get(*k).is_some())
                })
                .map(|(entry, v)| {
                    let label = LABELS
                        .iter()
                        .find(|(k, _)| k == entry)
                        .map_or_else(|| entry.clone(), |(_, l)| (*l).to_string());
                    let cell = |k: &str| v.get(k).map(paise_of);
                    Line {
                        label,
                        values: vec![cell("txval"), cell("iamt"), cell("camt"), cell("samt"), cell("csamt")],
                    }
                })
                .collect();
            Some(ReturnTable {
                number,
                title,
                columns: vec![
                    Column::rupees("Taxable value"),
                    Column::rupees("Integrated tax"),
                    Column::rupees("Central tax"),
                    Column::rupees("State/UT tax"),
                    Column::rupees("Cess"),
                ],
                lines,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_in_form_order_with_unknown_entries_kept() {
        let t = tables(&json!({
            "table9": {"txpyble": {"iamt": 100.5, "camt": 20}, "chksum": "x"},
            "table4": {"b2b": {"txval": 1000, "iamt": 180}, "odd_entry": {"iamt": 1}, "chksum": "y"}
        }));
        assert_eq!(t.iter().map(|t| t.number).collect::<Vec<_>>(), ["GSTR-9 4", "GSTR-9 9"]);
        assert_eq!(
            t[0].value("4B Supplies made to registered persons (B2B)", "Taxable value"),
            Some(100_000)
        );
        assert_eq!(t[0].value("odd_entry", "Integrated tax"), Some(100));
        assert_eq!(t[1].value("9 Tax payable", "Integrated tax"), Some(10_050));
        assert_eq!(t[1].value("9 Tax payable", "Taxable value"), None);
    }
}
