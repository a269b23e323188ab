//! Changes in business terms: what moved between two payloads of one
//! endpoint and period, document by document ([`compare`]: an invoice, note,
//! table row or ledger entry added, removed or changed, with its taxable
//! value and tax by head before and after), and what kind of change it is
//! ([`classify`]). The same rows feed `gstvault changes`, the bundle's PDF
//! and workbook, and later the web view, so they are plain serialisable
//! data, independent of any layout. Pure: no IO, no clock ("when" is the
//! capture time of the earlier answer, an argument).
//!
//! The kinds, decided in this order:
//! 1. *Amendment after filing*: the endpoint is the taxpayer's own return
//!    (GSTR-1 and its sections, GSTR-1A, GSTR-3B, GSTR-9) and the period was
//!    **filed** before the earlier answer was captured. Filed means a
//!    `return-track` answer archived by the time the change was detected
//!    lists that return and period with status `Filed`, an ARN and a date
//!    of filing (`dof`) earlier than the IST date the earlier answer was
//!    captured on (the same day proves nothing: the capture may have come
//!    first). A section of its own (`B2BA`, `CDNRA`, …) is named as the
//!    amendment section. GSTR-1A counts against GSTR-1's filing: it amends it.
//!    What the portal computes beside a return (3B auto-liability, GSTR-9's
//!    auto-calculated figures and table 8A) is not the taxpayer's filing.
//! 2. *First filing*: the earlier answer had no data (`no_data`, read as
//!    `{}`) and the new one has: a return or section filed, a statement
//!    generated.
//! 3. *Portal-side change*: the endpoint is one the portal computes or
//!    others file into (ledgers, GSTR-2A, GSTR-2B, IMS, e-invoices,
//!    notices, public data) and the period was **closed** when the earlier
//!    answer was captured: a month before the IST month of that capture, a
//!    financial year that had ended; the current-state period `-` never is.
//! 4. *In progress*: anything else; an open period filling up (ledger
//!    entries of the current month, a return not yet proven filed).
//!
//! A change is *retroactive* when it is an amendment after filing or a
//! portal-side change: data of a filed return or a closed period moved.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use super::catalog::Group;
use super::documents::{self, Document};
use super::money::Heads;
use super::period::{Month, Period};

/// What kind of change a change of a period's data is (module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    FirstFiling,
    #[serde(rename = "amendment")]
    AmendmentAfterFiling,
    PortalSide,
    InProgress,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::FirstFiling,
        Kind::AmendmentAfterFiling,
        Kind::PortalSide,
        Kind::InProgress,
    ];

    /// The machine name, as `changes --kind` takes it: `first-filing`,
    /// `amendment`, `portal-side`, `in-progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::FirstFiling => "first-filing",
            Kind::AmendmentAfterFiling => "amendment",
            Kind::PortalSide => "portal-side",
            Kind::InProgress => "in-progress",
        }
    }

    /// For people: "first filing", "amendment after filing", …
    pub fn label(self) -> &'static str {
        match self {
            Kind::FirstFiling => "first filing",
            Kind::AmendmentAfterFiling => "amendment after filing",
            Kind::PortalSide => "portal-side change",
            Kind::InProgress => "in progress",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Data of a filed return or a closed period moved.
    pub fn is_retroactive(self) -> bool {
        matches!(self, Kind::AmendmentAfterFiling | Kind::PortalSide)
    }
}

/// What happened to one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Added,
    Removed,
    Changed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Removed => "removed",
            Action::Changed => "changed",
        }
    }
}

/// One document (invoice, note, row, ledger entry) added, removed or changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentChange {
    pub action: Action,
    /// `B2B`, `CDNRA`, `3.1(a)`, `ENTRY`, … ([`documents`]).
    pub section: String,
    pub counterparty: Option<String>,
    pub number: Option<String>,
    pub date: Option<String>,
    /// Paise; None on the side where the document is absent or states none.
    pub taxable_before: Option<i64>,
    pub taxable_after: Option<i64>,
    /// None on the side where the document is absent.
    pub tax_before: Option<Heads>,
    pub tax_after: Option<Heads>,
    /// Why its figures could not be read on a side ([`Document::unread`]):
    /// its taxable value and tax there are unknown, not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
}

impl DocumentChange {
    /// Tax after minus tax before, by head (an absent side counts as zero).
    pub fn tax_change(&self) -> Heads {
        self.tax_after
            .unwrap_or_default()
            .minus(&self.tax_before.unwrap_or_default())
    }

    /// Taxable value after minus before (an absent side counts as zero).
    pub fn taxable_change(&self) -> i64 {
        self.taxable_after.unwrap_or(0) - self.taxable_before.unwrap_or(0)
    }

    /// The document as a person names it: `CN/26-27/L2211 of 22-11-2026,
    /// 29AABCK4521M1Z5` (number, date, counterparty, as present; empty for
    /// a section total).
    pub fn name(&self) -> String {
        let mut text = self.number.clone().unwrap_or_default();
        if let Some(date) = &self.date {
            text.push_str(&format!(" of {date}"));
        }
        if let Some(ctin) = &self.counterparty {
            text.push_str(&format!(", {ctin}"));
        }
        text.trim_start().to_string()
    }

    /// One line: `CDNR added CN/26-27/L2211 of 22-11-2026, 29AABCK4521M1Z5`,
    /// and why its figures are unknown when they could not be read.
    pub fn line(&self) -> String {
        let line = format!("{} {} {}", self.section, self.action.as_str(), self.name())
            .trim_end()
            .to_string();
        match &self.unread {
            Some(why) => format!("{line} (figures not read: {why})"),
            None => line,
        }
    }

    /// Whether its section is an amendment section of its return (`B2BA`, `CDNRA`, `ECOMA`…).
    pub fn in_amendment_section(&self) -> bool {
        AMENDMENT_SECTIONS.contains(&self.section.as_str())
    }
}

/// Sections that amend documents of an earlier period (GSTR-1, 2A, 2B).
const AMENDMENT_SECTIONS: &[&str] = &[
    "B2BA", "B2CLA", "B2CSA", "CDNRA", "CDNURA", "EXPA", "ATA", "TXPA", "TXPDA", "ECOMA", "SUPECOA", "ISDA", "IMPGA",
    "IMPGSEZA", "CDNA", "B2BA_REV",
];

/// Document by document, what changed from `old` to `new` (each a payload,
/// `{}` for no data): additions and changes in `new`'s order, then removals
/// in `old`'s. Empty when no document moved (only totals, checksums or dates
/// of the answer itself did).
pub fn compare(old: &Value, new: &Value) -> Vec<DocumentChange> {
    let before = documents::read(old);
    let after = documents::read(new);
    let old_by_key: std::collections::HashMap<&str, &Document> = before.iter().map(|d| (d.key.as_str(), d)).collect();
    let new_keys: std::collections::HashSet<&str> = after.iter().map(|d| d.key.as_str()).collect();
    let mut out = Vec::new();
    for d in &after {
        match old_by_key.get(d.key.as_str()) {
            None => out.push(change(Action::Added, None, Some(d))),
            Some(o) if !super::diff::diff(&o.value, &d.value).is_empty() => {
                out.push(change(Action::Changed, Some(o), Some(d)))
            }
            Some(_) => {}
        }
    }
    for o in before.iter().filter(|o| !new_keys.contains(o.key.as_str())) {
        out.push(change(Action::Removed, Some(o), None));
    }
    out
}

fn change(action: Action, old: Option<&Document>, new: Option<&Document>) -> DocumentChange {
    let named = new.or(old).expect("a side is present");
    DocumentChange {
        action,
        section: named.section.clone(),
        counterparty: named.counterparty.clone(),
        number: named.number.clone(),
        date: named.date.clone(),
        taxable_before: old.and_then(|d| d.taxable),
        taxable_after: new.and_then(|d| d.taxable),
        tax_before: old.map(|d| d.tax),
        tax_after: new.map(|d| d.tax),
        unread: new
            .and_then(|d| d.unread.clone())
            .or_else(|| old.and_then(|d| d.unread.clone())),
    }
}

/// One filed return as `return-track` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filing {
    /// `GSTR1`, `GSTR3B`, … as the portal writes `rtntype`.
    pub return_type: String,
    /// Written `2026-08`.
    #[serde(serialize_with = "as_text")]
    pub period: Month,
    pub arn: String,
    pub filed_on: NaiveDate,
}

fn as_text<S: serde::Serializer>(month: &Month, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(month)
}

/// The filed returns of a `return-track` (or public track) payload
/// (`EFiledlist`: `rtntype`, `ret_prd` MMYYYY, `status`, `arn`, `dof`
/// DD-MM-YYYY). Rows not `Filed`, without an ARN, or whose period or date
/// cannot be read prove no filing and are left out.
pub fn filings(track: &Value) -> Vec<Filing> {
    let list = track
        .get("EFiledlist")
        .or_else(|| track.get("efiledlist"))
        .and_then(Value::as_array);
    let text = |row: &Value, k: &str| row.get(k).and_then(Value::as_str).unwrap_or("").trim().to_string();
    list.into_iter()
        .flatten()
        .filter_map(|row| {
            let ret_prd = text(row, "ret_prd");
            let arn = text(row, "arn");
            if !text(row, "status").eq_ignore_ascii_case("filed") || arn.is_empty() || ret_prd.len() != 6 {
                return None;
            }
            let period = Month::new(ret_prd[2..].parse().ok()?, ret_prd[..2].parse().ok()?)?;
            Some(Filing {
                return_type: text(row, "rtntype").to_ascii_uppercase(),
                period,
                arn,
                filed_on: NaiveDate::parse_from_str(&text(row, "dof"), "%d-%m-%Y").ok()?,
            })
        })
        .collect()
}

/// What the portal computes from other returns, though listed with the
/// return it feeds: its changes are portal-side.
const COMPUTED: &[&str] = &["gstr-3b-auto-liability", "gstr-9-auto-calculated", "gstr-9-table-8a"];

/// The return whose filing makes a change of `endpoint` (of `group`) an
/// amendment; None for what the portal computes or others file into.
pub fn own_return(group: Group, endpoint: &str) -> Option<&'static str> {
    if COMPUTED.contains(&endpoint) {
        return None;
    }
    match group {
        Group::Gstr1 | Group::Gstr1a => Some("GSTR1"),
        Group::Gstr3b => Some("GSTR3B"),
        Group::Gstr9 => Some("GSTR9"),
        _ => None,
    }
}

/// Whether `period` was closed on IST date `on`: a month before `on`'s
/// month, a financial year that had ended; never `-`.
pub fn is_closed(period: &Period, on: NaiveDate) -> bool {
    let month = Month::of_date(on);
    match period {
        Period::Month(m) => *m < month,
        Period::Year(fy) => fy.last_month() < month,
        Period::Current => false,
    }
}

/// What [`classify`] looks at.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub group: Group,
    /// The endpoint's catalog name.
    pub endpoint: &'a str,
    pub period: &'a Period,
    /// The IST date the earlier answer (the one the change is from) was captured.
    pub earlier_captured_on: NaiveDate,
    /// Whether the earlier answer carried data (not `no_data`).
    pub earlier_had_data: bool,
    /// Filings on record when the change was detected ([`filings`]).
    pub filings: &'a [Filing],
}

/// The kind of a change (module doc), with the filing that makes it an amendment.
pub fn classify(facts: &Facts<'_>) -> (Kind, Option<Filing>) {
    if let (Some(form), Period::Month(month)) = (own_return(facts.group, facts.endpoint), facts.period) {
        let filed = facts
            .filings
            .iter()
            .filter(|f| f.return_type == form && f.period == *month && f.filed_on < facts.earlier_captured_on)
            .min_by_key(|f| f.filed_on);
        if let Some(filing) = filed {
            return (Kind::AmendmentAfterFiling, Some(filing.clone()));
        }
    }
    if !facts.earlier_had_data {
        return (Kind::FirstFiling, None);
    }
    if own_return(facts.group, facts.endpoint).is_none() && is_closed(facts.period, facts.earlier_captured_on) {
        return (Kind::PortalSide, None);
    }
    (Kind::InProgress, None)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn note(num: &str, igst: f64) -> Value {
        json!({"ntty": "C", "nt_num": num, "nt_dt": "22-11-2026", "val": 100.0 + igst,
            "itms": [{"num": 1, "itm_det": {"rt": 18, "txval": 100.0, "iamt": igst, "camt": 0, "samt": 0, "csamt": 0}}]})
    }

    fn cdnr(notes: Vec<Value>) -> Value {
        json!({"cdnr": [{"ctin": "29AABCK4521M1Z5", "cfs": "Y", "nt": notes}]})
    }

    #[test]
    fn one_added_note_reads_as_one_added_document_with_its_tax() {
        let old = cdnr(vec![note("CN-1", 18.0)]);
        let new = cdnr(vec![note("CN-1", 18.0), note("CN/26-27/L2211", 216.32)]);
        let changes = compare(&old, &new);
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert_eq!((c.action, c.section.as_str()), (Action::Added, "CDNR"));
        assert_eq!(c.number.as_deref(), Some("CN/26-27/L2211"));
        assert_eq!(c.counterparty.as_deref(), Some("29AABCK4521M1Z5"));
        assert_eq!((c.tax_before, c.taxable_before), (None, None));
        assert_eq!(
            c.tax_change(),
            Heads {
                igst: 21632,
                ..Heads::default()
            }
        );
        assert_eq!(c.taxable_change(), 10000);
        // Changed and removed; equal numbers written differently are no change.
        let mut edited = new.clone();
        edited["cdnr"][0]["nt"][0]["itms"][0]["itm_det"]["iamt"] = json!(20);
        edited["cdnr"][0]["nt"][1]["val"] = json!(316.32);
        edited["cdnr"][0]["nt"].as_array_mut().unwrap().remove(1);
        let changes = compare(&new, &edited);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            (changes[0].action, changes[0].number.as_deref()),
            (Action::Changed, Some("CN-1"))
        );
        assert_eq!(changes[0].tax_change().igst, 200);
        assert_eq!(changes[1].action, Action::Removed);
        assert!(compare(&old, &old).is_empty());
        // No data to data: every document added.
        assert_eq!(compare(&json!({}), &new).len(), 2);
    }

    #[test]
    fn one_added_ecom_document_is_one_addition() {
        // One e-commerce operator per supplier return period (2B `docdata.ecom`).
        let group = |supprd: &str, inums: &[&str]| {
            json!({"ctin": "29AAACE1234F1Z5", "supprd": supprd,
                "inv": inums.iter().map(|i| json!({"inum": i, "txval": 100, "igst": 18})).collect::<Vec<_>>()})
        };
        let old = json!({"docdata": {"ecom": [group("062026", &["E-1"]), group("072026", &["E-1"]), group("082026", &["E-3"])]}});
        let new = json!({"docdata": {"ecom": [group("062026", &["E-1"]), group("072026", &["E-1", "E-9"]), group("082026", &["E-3"])]}});
        let changes = compare(&old, &new);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            (changes[0].action, changes[0].number.as_deref()),
            (Action::Added, Some("E-9"))
        );
        assert_eq!(changes[0].section, "ECOM");
    }

    fn facts<'a>(group: Group, period: &'a Period, on: &str, had_data: bool, filings: &'a [Filing]) -> Facts<'a> {
        Facts {
            group,
            endpoint: "",
            period,
            earlier_captured_on: NaiveDate::parse_from_str(on, "%Y-%m-%d").unwrap(),
            earlier_had_data: had_data,
            filings,
        }
    }

    #[test]
    fn the_kinds() {
        let august = Period::parse("2026-08").unwrap();
        let track = json!({"EFiledlist": [
            {"arn": "AA270826000001X", "ret_prd": "082026", "mof": "ONLINE", "dof": "11-09-2026", "rtntype": "GSTR1", "status": "Filed", "valid": "Y"},
            {"arn": "", "ret_prd": "082026", "dof": "20-09-2026", "rtntype": "GSTR3B", "status": "Filed"},
            {"arn": "AA270826000009X", "ret_prd": "082026", "dof": "20-09-2026", "rtntype": "GSTR3B", "status": "Submitted"}
        ]});
        let filed = filings(&track);
        assert_eq!(filed.len(), 1, "only a filed row with an ARN proves a filing");
        // A filed GSTR-1 whose data moved: an amendment, even a new section (B2BA) from no data.
        let (kind, filing) = classify(&facts(Group::Gstr1, &august, "2026-11-16", false, &filed));
        assert_eq!(kind, Kind::AmendmentAfterFiling);
        assert_eq!(filing.unwrap().arn, "AA270826000001X");
        // Filed the day of the earlier capture, or after it: not proven before it.
        let (kind, _) = classify(&facts(Group::Gstr1, &august, "2026-09-11", false, &filed));
        assert_eq!(kind, Kind::FirstFiling, "the ordinary first filing is no amendment");
        let (kind, _) = classify(&facts(Group::Gstr1, &august, "2026-09-05", true, &filed));
        assert_eq!(kind, Kind::InProgress);
        // 3B without a proven filing, closed month: still in progress (no filing on record).
        let (kind, _) = classify(&facts(Group::Gstr3b, &august, "2026-11-16", true, &filed));
        assert_eq!(kind, Kind::InProgress);
        // Portal-side: 2A, 2B, ledgers of a closed period; open periods are in progress.
        let (kind, _) = classify(&facts(Group::Gstr2a, &august, "2026-11-16", true, &filed));
        assert_eq!(kind, Kind::PortalSide);
        let (kind, _) = classify(&facts(Group::Ledgers, &august, "2026-08-31", true, &[]));
        assert_eq!(kind, Kind::InProgress);
        let mut auto = facts(Group::Gstr3b, &august, "2026-11-16", true, &filed);
        auto.endpoint = "gstr-3b-auto-liability";
        assert_eq!(
            classify(&auto).0,
            Kind::PortalSide,
            "computed by the portal from GSTR-1"
        );
        let (kind, _) = classify(&facts(Group::Gstr2b, &august, "2026-11-16", false, &[]));
        assert_eq!(kind, Kind::FirstFiling);
        let (kind, _) = classify(&facts(Group::Common, &Period::Current, "2030-01-01", true, &[]));
        assert_eq!(kind, Kind::InProgress);
        assert!(Kind::AmendmentAfterFiling.is_retroactive() && Kind::PortalSide.is_retroactive());
        assert!(!Kind::FirstFiling.is_retroactive() && !Kind::InProgress.is_retroactive());
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
    }

    #[test]
    fn closed_means_before_the_ist_month() {
        let on = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let p = |text: &str| Period::parse(text).unwrap();
        assert!(is_closed(&p("2026-06"), on));
        assert!(!is_closed(&p("2026-07"), on));
        assert!(is_closed(&p("FY2025-26"), on));
        assert!(!is_closed(&p("FY2026-27"), on));
        assert!(!is_closed(&p("-"), on));
    }
}
