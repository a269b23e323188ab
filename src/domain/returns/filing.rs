//! Filing status from return tracking: which return of which period was
//! filed, when, how and under which ARN, read from the `return-track`
//! payload's `EFiledlist` (`rtntype`, `ret_prd` MMYYYY, `arn`, `dof`
//! DD-MM-YYYY, `mof`, `status`, `valid`; ENDPOINTS.md C-2). A row whose
//! period or date cannot be read keeps the portal's text.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use crate::domain::period::Month;

/// One filed (or otherwise tracked) return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filing {
    /// `GSTR-1`, `GSTR-3B`, … (the portal's `GSTR1` written as the form is named).
    pub form: String,
    /// `2026-04`, or the portal's `ret_prd` when it is not MMYYYY.
    pub period: String,
    /// `Filed`, `Submitted`, … as the portal says.
    pub status: String,
    pub arn: String,
    /// `2026-05-11`, or the portal's `dof` when it is not a date.
    pub filed_on: String,
    /// `ONLINE`, `OFFLINE`, … as the portal says.
    pub mode: String,
    /// The portal's `valid` flag (`Y`/`N`), empty when absent.
    pub valid: String,
}

impl Filing {
    /// True when the portal calls it filed.
    pub fn is_filed(&self) -> bool {
        self.status.eq_ignore_ascii_case("filed")
    }
}

/// `GSTR1` → `GSTR-1`, `GSTR3B` → `GSTR-3B`, `GSTR9` → `GSTR-9`.
pub fn form_name(rtntype: &str) -> String {
    let upper = rtntype.trim().to_ascii_uppercase();
    match upper.strip_prefix("GSTR") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('-') => format!("GSTR-{rest}"),
        _ => upper,
    }
}

/// `042026` → `2026-04`.
pub fn ret_period_month(ret_prd: &str) -> Option<Month> {
    if ret_prd.len() != 6 || !ret_prd.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Month::new(ret_prd[2..].parse().ok()?, ret_prd[..2].parse().ok()?)
}

/// The filings of one `return-track` payload, in the portal's order.
pub fn filings(track: &Value) -> Vec<Filing> {
    let list = track
        .get("EFiledlist")
        .or_else(|| track.get("efiledlist"))
        .and_then(Value::as_array);
    let text = |row: &Value, k: &str| row.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    list.into_iter()
        .flatten()
        .map(|row| {
            let ret_prd = text(row, "ret_prd");
            let dof = text(row, "dof");
            Filing {
                form: form_name(&text(row, "rtntype")),
                period: ret_period_month(&ret_prd).map(|m| m.to_string()).unwrap_or(ret_prd),
                status: text(row, "status"),
                arn: text(row, "arn"),
                filed_on: NaiveDate::parse_from_str(&dof, "%d-%m-%Y")
                    .map(|d| d.to_string())
                    .unwrap_or(dof),
                mode: text(row, "mof"),
                valid: text(row, "valid"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn track_rows_read_as_filings() {
        let f = filings(&json!({"EFiledlist": [
            {"arn": "AA2904260012345X", "ret_prd": "042026", "mof": "ONLINE", "dof": "11-05-2026", "rtntype": "GSTR1", "status": "Filed", "valid": "Y"},
            {"arn": "AB", "ret_prd": "Q1", "dof": "someday", "rtntype": "GSTR3B", "status": "Submitted"}
        ]}));
        assert_eq!(f[0].form, "GSTR-1");
        assert_eq!(f[0].period, "2026-04");
        assert_eq!(f[0].filed_on, "2026-05-11");
        assert!(f[0].is_filed());
        assert_eq!(f[1].form, "GSTR-3B");
        assert_eq!(f[1].period, "Q1");
        assert_eq!(f[1].filed_on, "someday");
        assert!(!f[1].is_filed());
        assert!(filings(&json!({"other": 1})).is_empty());
    }
}
