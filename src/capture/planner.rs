//! The capture planner: decides which (endpoint, period) calls a run makes so
//! that no change a naive capture would archive is missed while little quota
//! is spent. It reasons only from what the portal itself said, as archived:
//! return tracking (which returns are filed), GSTR-1/1A summary checksums
//! (`sec_sum[].chksum`), the GSTR-2A whole-return document, and the receive
//! times of earlier answers. Anything it cannot prove unchanged, it fetches.
//!
//! A run is planned in three tiers ([`Tier`]): probes (ledgers of the current
//! and previous month, tracking, the 2A document, current-state endpoints),
//! then what depends on probes (summaries, 3B, 2A sections, 2B), then what
//! depends on summaries (GSTR-1/1A sections). Each tier is decided from the
//! archive *after* the previous tier's answers were appended, so a decision
//! always sees fresh probes. A dependent call is skipped only when every
//! probe it depends on answers the same payload now as it did when the
//! dependent was last captured; a call carried over by the budget therefore
//! stays due until it is made.
//!
//! Decision logic only: the archive is read through [`ArchiveView`] (built
//! from [`crate::store::Reader::latest_by_key`] and `answers_of`) and a payload
//! lookup; no clock, no network.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::catalog::{Endpoint, Group};
use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, FinancialYear, Month, Period};
use crate::domain::time::Timestamp;
use crate::store::{KeyLatest, Reader, StoreError};

/// Day of month M+1 on which the portal generates the GSTR-2B of month M.
pub const GSTR2B_DAY: u32 = 14;

/// The endpoints whose answer history the planner reads (its probes).
pub const PROBES: &[&str] = &[
    "return-track",
    "gstr-1-summary",
    "gstr-1a-summary",
    "gstr-2a-document",
    "ims-invoices-b2b",
    "ims-invoices-b2ba",
    "ims-invoices-cn",
    "ims-invoices-cna",
    "ims-invoices-dn",
    "ims-invoices-dna",
    "ims-invoices-ecom",
    "ims-invoices-ecoma",
    "ims-count-imports",
    "ims-count-inward",
    "ims-count-others",
];

/// IMS current-state endpoints a 2B may be regenerated from.
const IMS_CURRENT: &[&str] = &[
    "ims-invoices-b2b",
    "ims-invoices-b2ba",
    "ims-invoices-cn",
    "ims-invoices-cna",
    "ims-invoices-dn",
    "ims-invoices-dna",
    "ims-invoices-ecom",
    "ims-invoices-ecoma",
    "ims-count-imports",
    "ims-count-inward",
    "ims-count-others",
];

/// The three tiers of a planned run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Ledgers, tracking, 2A document, current-state and FY endpoints.
    Probes,
    /// Summaries, 3B, 2A sections, 2B, public tracking.
    Dependents,
    /// GSTR-1 and GSTR-1A sections, IMS sales.
    Sections,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Probes, Tier::Dependents, Tier::Sections];
}

/// Why a call is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// Ledgers of the current and previous month: every run.
    LedgerOpenMonth,
    /// Return tracking of an open month: every run.
    TrackOpenMonth,
    /// A summary of a filed month: every run (its checksums drive the sections).
    SummaryProbe,
    /// The GSTR-2A whole-return document of an open month: every run.
    DocumentProbe,
    /// Endpoints answering the portal's current state (IMS): every run.
    CurrentState,
    /// Nothing archived for this key yet.
    NeverCaptured,
    /// The last attempt failed (transport or HTTP error): try again.
    LastAttemptFailed,
    /// The section's `sec_sum` entry changed since it was last captured.
    SectionChecksumChanged,
    /// A return shows filed in tracking since this was last captured.
    ReturnFiledNotYetCaptured,
    /// The document (or tracking) this derives from changed since its capture.
    DocumentChanged,
    /// GSTR-2B: due (on or after the 14th of M+1) and not generated when last asked.
    NotGeneratedWhenAsked,
    /// A month left its changing window (or a period passed its amendment
    /// deadline) after it was last captured: one last capture.
    ClosingCapture,
    /// No probe can prove the answer unchanged.
    CannotProve,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::LedgerOpenMonth => "ledger-open-month",
            Rule::TrackOpenMonth => "track-open-month",
            Rule::SummaryProbe => "summary-probe",
            Rule::DocumentProbe => "document-probe",
            Rule::CurrentState => "current-state",
            Rule::NeverCaptured => "never-captured",
            Rule::LastAttemptFailed => "last-attempt-failed",
            Rule::SectionChecksumChanged => "section-checksum-changed",
            Rule::ReturnFiledNotYetCaptured => "return-filed-not-yet-captured",
            Rule::DocumentChanged => "document-changed",
            Rule::NotGeneratedWhenAsked => "not-generated-when-asked",
            Rule::ClosingCapture => "closing-capture",
            Rule::CannotProve => "cannot-prove",
        }
    }

    /// Lower is more valuable: probes and open-month ledgers first.
    fn rank(self) -> u8 {
        match self {
            Rule::TrackOpenMonth | Rule::LedgerOpenMonth => 0,
            Rule::SummaryProbe | Rule::DocumentProbe => 1,
            Rule::NeverCaptured | Rule::LastAttemptFailed => 2,
            Rule::SectionChecksumChanged | Rule::ReturnFiledNotYetCaptured | Rule::DocumentChanged => 3,
            Rule::NotGeneratedWhenAsked | Rule::CurrentState => 4,
            Rule::ClosingCapture | Rule::CannotProve => 5,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call is not made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// Proven unchanged by the named probe or fact.
    Unchanged(&'static str),
    /// The return is not filed (or generated) yet, and the archive holds the
    /// portal's "nothing yet" answer.
    NotFiledYet,
    /// The amendment window of the period is over and its closing capture is archived.
    ClosedPeriod,
    /// Over the daily call budget: due again next run.
    BudgetCarriedOver,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Unchanged(by) => write!(f, "unchanged ({by})"),
            Skip::NotFiledYet => f.write_str("not-filed-yet"),
            Skip::ClosedPeriod => f.write_str("closed-period"),
            Skip::BudgetCarriedOver => f.write_str("budget-carried-over"),
        }
    }
}

/// One planned call.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub endpoint: &'static Endpoint,
    pub period: Period,
    pub rule: Rule,
}

/// One call not made.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub endpoint: &'static Endpoint,
    pub period: Period,
    pub reason: Skip,
}

/// The decision of one tier for one GSTIN.
#[derive(Clone, Debug, Default)]
pub struct Decision {
    pub fetch: Vec<Call>,
    pub skip: Vec<Skipped>,
}

/// A probe's payload digest as one answer left it (None: an answer that
/// carried no payload, such as a business error).
type ProbeDigest = Option<Digest>;

/// What the archive says about one GSTIN (page 0 of every key).
#[derive(Clone, Debug, Default)]
pub struct ArchiveView {
    latest: HashMap<(String, Period), KeyLatest>,
    /// Probe answers in archive order: (received at, payload SHA-256).
    history: HashMap<(String, Period), Vec<(Timestamp, ProbeDigest)>>,
    /// Keys whose latest answer of some page after 0 failed (2B).
    failed_pages: std::collections::HashSet<(String, Period)>,
}

impl ArchiveView {
    /// Reads the view of `gstin` from the archive.
    pub fn load(store: &Reader, gstin: &Gstin) -> Result<ArchiveView, StoreError> {
        let mut view = ArchiveView::default();
        for k in store.latest_by_key(gstin)? {
            if k.page == 0 {
                view.latest.insert((k.endpoint.clone(), k.period), k);
            } else if failed(k.outcome) {
                view.failed_pages.insert((k.endpoint.clone(), k.period));
            }
        }
        for answer in store.answers_of(gstin, PROBES)? {
            if answer.page == 0 {
                view.history
                    .entry((answer.endpoint, answer.period))
                    .or_default()
                    .push((answer.received_at, answer.payload_sha256));
            }
        }
        Ok(view)
    }

    fn latest(&self, endpoint: &str, period: &Period) -> Option<&KeyLatest> {
        self.latest.get(&(endpoint.to_string(), *period))
    }

    /// The latest answered payload hash of a probe, and the one current at `at`.
    fn probe(&self, endpoint: &str, period: &Period, at: Timestamp) -> (Option<ProbeDigest>, Option<ProbeDigest>) {
        let Some(h) = self.history.get(&(endpoint.to_string(), *period)) else {
            return (None, None);
        };
        let now = h.last().map(|(_, s)| *s);
        let then = h.iter().take_while(|(r, _)| *r <= at).last().map(|(_, s)| *s);
        (now, then)
    }
}

/// Whether an answer is to be asked again: the request, not the portal,
/// failed; the portal was still preparing it (`pending`); or gstvault could
/// not read it (`unrecognised`: nothing can be proven from it).
fn failed(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::TransportError | Outcome::HttpError | Outcome::Pending | Outcome::Unrecognised
    )
}

/// Everything a decision needs besides the archive.
pub struct Inputs<'a> {
    pub endpoints: &'a [&'static Endpoint],
    pub months: &'a [Month],
    pub today: NaiveDate,
    /// Parsed payload by SHA-256 (None when not stored or not JSON).
    pub payload: &'a dyn Fn(&Digest) -> Option<Value>,
}

/// The endpoint's tier.
pub fn tier_of(endpoint: &Endpoint) -> Tier {
    let name = endpoint.name;
    match endpoint.group {
        Group::Gstr1 | Group::Gstr1a if name.ends_with("-summary") => Tier::Dependents,
        Group::Gstr1 | Group::Gstr1a => Tier::Sections,
        Group::Gstr2a if name == "gstr-2a-document" => Tier::Probes,
        Group::Gstr2a | Group::Gstr2b | Group::Gstr3b => Tier::Dependents,
        Group::Public if name == "public-track" => Tier::Dependents,
        Group::Ims if name == "ims-sales" => Tier::Sections,
        _ => Tier::Probes,
    }
}

/// Decides one tier for one GSTIN.
pub fn decide(tier: Tier, input: &Inputs<'_>, view: &ArchiveView) -> Decision {
    let mut decision = Decision::default();
    for &endpoint in input.endpoints.iter().filter(|e| tier_of(e) == tier) {
        for period in endpoint.period.periods(input.months) {
            if endpoint.request("00AAAAA0000A1Z5", &period, input.today).is_none() {
                continue; // the naive capture would not ask either
            }
            match decide_one(endpoint, period, input, view) {
                Ok(rule) => decision.fetch.push(Call { endpoint, period, rule }),
                Err(reason) => decision.skip.push(Skipped {
                    endpoint,
                    period,
                    reason,
                }),
            }
        }
    }
    decision
}

/// The calls a naive capture of these endpoints and months makes (page 0 only).
pub fn naive_calls(endpoints: &[&'static Endpoint], months: &[Month], today: NaiveDate) -> u64 {
    endpoints
        .iter()
        .map(|e| {
            e.period
                .periods(months)
                .iter()
                .filter(|p| e.request("00AAAAA0000A1Z5", p, today).is_some())
                .count() as u64
        })
        .sum()
}

/// Orders calls by value: rule rank, then open periods with the nearest deadline
/// (newest first). Stable, so equal calls keep catalog order.
pub fn order_by_value(calls: &mut [Call]) {
    calls.sort_by_key(value_key);
}

/// The sort key of [`order_by_value`].
pub fn value_key(call: &Call) -> (u8, std::cmp::Reverse<Period>) {
    (call.rule.rank(), std::cmp::Reverse(call.period))
}

fn ist_date(received: Timestamp) -> Option<NaiveDate> {
    received.to_datetime().map(india_date)
}

/// The deadline after which a period can no longer change.
fn deadline(period: &Period) -> Option<NaiveDate> {
    match period {
        Period::Month(m) => Some(m.financial_year().amendment_deadline()),
        Period::Year(fy) => Some(fy.amendment_deadline()),
        Period::Current => None,
    }
}

fn decide_one(
    endpoint: &'static Endpoint,
    period: Period,
    input: &Inputs<'_>,
    view: &ArchiveView,
) -> Result<Rule, Skip> {
    let name = endpoint.name;
    let latest = view.latest(name, &period);
    let Some(latest) = latest else {
        return Ok(Rule::NeverCaptured);
    };
    let page_failed = view.failed_pages.contains(&(name.to_string(), period));
    let Some((captured_at, _)) = latest.good.filter(|_| !failed(latest.outcome) && !page_failed) else {
        return Ok(Rule::LastAttemptFailed);
    };
    let captured_on = ist_date(captured_at);
    // Closed periods: one capture after the deadline, then only on request.
    if let Some(d) = deadline(&period) {
        if d < input.today {
            return if captured_on.is_some_and(|c| c > d) {
                Err(Skip::ClosedPeriod)
            } else {
                Ok(Rule::ClosingCapture)
            };
        }
    }
    let current = Month::of_date(input.today);
    // A month whose window `[M, last]` closed: one capture after `last` ends.
    let closing = |last: Month, why: &'static str| -> Result<Rule, Skip> {
        if captured_on.is_some_and(|c| c > last.last_day()) {
            Err(Skip::Unchanged(why))
        } else {
            Ok(Rule::ClosingCapture)
        }
    };
    let month = match period {
        Period::Month(m) => Some(m),
        _ => None,
    };
    let filed = |m: Month, code: &str| track_shows(view, input, m, code);
    // dep: whether probe `dep` answered differently now than when this key was captured.
    let dep_changed = |dep: &str, p: &Period| -> bool {
        let (now, then) = view.probe(dep, p, captured_at);
        now.is_none() || now != then
    };

    match (endpoint.group, name, month) {
        (Group::Ledgers, _, Some(m)) => {
            if m >= current.prev() {
                Ok(Rule::LedgerOpenMonth)
            } else {
                closing(m.next(), "ledger month closed")
            }
        }
        (_, "return-track", Some(_)) => Ok(Rule::TrackOpenMonth),
        (_, "gstr-2a-document", Some(_)) => Ok(Rule::DocumentProbe),
        (_, "gstr-1-summary" | "gstr-1a-summary", Some(m)) => {
            if filed(m, "GSTR1") == Some(true) {
                Ok(Rule::SummaryProbe)
            } else if latest.outcome == Outcome::NoData && filed(m, "GSTR1") == Some(false) {
                Err(Skip::NotFiledYet)
            } else {
                Ok(Rule::CannotProve)
            }
        }
        (Group::Gstr3b, "gstr-3b", Some(m)) => {
            let track = Period::Month(m);
            match filed(m, "GSTR3B") {
                Some(true) if dep_changed("return-track", &track) => Ok(Rule::ReturnFiledNotYetCaptured),
                Some(true) => Err(Skip::Unchanged("return-track")),
                Some(false) if latest.outcome == Outcome::NoData => Err(Skip::NotFiledYet),
                _ => Ok(Rule::CannotProve),
            }
        }
        (Group::Gstr3b, _, Some(m)) => {
            let p = Period::Month(m);
            if dep_changed("return-track", &p) || dep_changed("gstr-1-summary", &p) {
                Ok(Rule::DocumentChanged)
            } else {
                Err(Skip::Unchanged("return-track, gstr-1-summary"))
            }
        }
        (Group::Gstr2a, _, Some(m)) => section_of_document(name, m, captured_at, input, view),
        (Group::Gstr2b, "gstr-2b", Some(m)) => {
            if latest.outcome == Outcome::Ok {
                // Fixed at generation; regenerable from IMS actions until the 3B is filed.
                let ims_changed = IMS_CURRENT.iter().any(|ims| dep_changed(ims, &Period::Current));
                if filed(m, "GSTR3B") != Some(true) && ims_changed {
                    Ok(Rule::DocumentChanged)
                } else {
                    Err(Skip::Unchanged("gstr-2b generated; IMS and 3B"))
                }
            } else if input.today >= m.next().day(GSTR2B_DAY) {
                Ok(Rule::NotGeneratedWhenAsked)
            } else if latest.outcome == Outcome::NoData {
                Err(Skip::NotFiledYet)
            } else {
                Ok(Rule::CannotProve)
            }
        }
        (Group::Gstr1, _, Some(m)) => {
            section_of_summary("gstr-1-summary", name, "gstr-1-", m, captured_at, input, view)
        }
        (Group::Gstr1a, "gstr-1a-declaration", Some(m)) => {
            if dep_changed("gstr-1a-summary", &Period::Month(m)) {
                Ok(Rule::DocumentChanged)
            } else {
                Err(Skip::Unchanged("gstr-1a-summary"))
            }
        }
        (Group::Gstr1a, _, Some(m)) => {
            section_of_summary("gstr-1a-summary", name, "gstr-1a-", m, captured_at, input, view)
        }
        (Group::Ims, "ims-sales", Some(m)) => {
            if m >= current.prev().prev() {
                Ok(Rule::CurrentState)
            } else if dep_changed("gstr-1-summary", &Period::Month(m)) {
                Ok(Rule::DocumentChanged)
            } else {
                closing(m.next().next(), "IMS window closed")
            }
        }
        (Group::Ims, _, Some(m)) => {
            if m >= current.prev().prev() {
                Ok(Rule::CurrentState)
            } else {
                closing(m.next().next(), "IMS window closed")
            }
        }
        (Group::EInvoice, "einvoice-hsn", Some(m)) => {
            if m >= current.prev() {
                Ok(Rule::CurrentState)
            } else {
                closing(m.next(), "e-invoice month closed")
            }
        }
        (Group::Public, "public-track", _) => {
            let Period::Year(fy) = period else {
                return Ok(Rule::CannotProve);
            };
            let months: Vec<Month> = input
                .months
                .iter()
                .copied()
                .filter(|m| m.financial_year() == fy)
                .collect();
            if !covers_year(&months, fy, input.today) {
                return Ok(Rule::CannotProve);
            }
            if months.iter().any(|m| dep_changed("return-track", &Period::Month(*m))) {
                Ok(Rule::DocumentChanged)
            } else {
                Err(Skip::Unchanged("return-track"))
            }
        }
        (Group::Ims | Group::Notices, _, None) => Ok(Rule::CurrentState),
        _ => Ok(Rule::CannotProve),
    }
}

/// Whether `months` holds every month of `fy` that has begun by `today`.
fn covers_year(months: &[Month], fy: FinancialYear, today: NaiveDate) -> bool {
    fy.months()
        .into_iter()
        .filter(|m| m.first_day() <= today)
        .all(|m| months.contains(&m))
}

/// Whether tracking (as last archived) shows `code` filed for month `m`.
/// None when tracking was not answered.
fn track_shows(view: &ArchiveView, input: &Inputs<'_>, m: Month, code: &str) -> Option<bool> {
    let k = view.latest("return-track", &Period::Month(m))?;
    let (_, sha) = k.good.as_ref()?;
    match k.outcome {
        Outcome::NoData => return Some(false),
        Outcome::Ok => {}
        _ => return None,
    }
    let value = (input.payload)(sha.as_ref()?)?;
    let rows = value.get("EFiledlist")?.as_array()?;
    let ret = m.ret_period();
    Some(rows.iter().any(|r| {
        r.get("rtntype").and_then(Value::as_str) == Some(code)
            && r.get("ret_prd").and_then(Value::as_str) == Some(ret.as_str())
            && r.get("status")
                .and_then(Value::as_str)
                .is_none_or(|s| s.eq_ignore_ascii_case("filed"))
    }))
}

/// A GSTR-1/1A section: re-fetched when its `sec_sum` entry in the summary
/// differs from the entry current when the section was last captured.
fn section_of_summary(
    summary: &str,
    name: &str,
    prefix: &str,
    m: Month,
    captured_at: Timestamp,
    input: &Inputs<'_>,
    view: &ArchiveView,
) -> Result<Rule, Skip> {
    let p = Period::Month(m);
    let (now, then) = view.probe(summary, &p, captured_at);
    let (Some(now), Some(then)) = (now, then) else {
        return Ok(Rule::CannotProve);
    };
    if now == then {
        return Err(Skip::Unchanged(if prefix == "gstr-1-" {
            "gstr-1-summary"
        } else {
            "gstr-1a-summary"
        }));
    }
    let section = name.strip_prefix(prefix).unwrap_or(name);
    let entry = |sha: ProbeDigest| -> Option<Option<Value>> {
        let v = (input.payload)(&sha?)?;
        let list = v.get("sec_sum")?.as_array()?;
        Some(
            list.iter()
                .find(|s| {
                    s.get("sec_nm")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.to_ascii_lowercase().replace('_', "-") == section)
                })
                .cloned(),
        )
    };
    match (entry(now), entry(then)) {
        (Some(a), Some(b)) if a == b => Err(Skip::Unchanged("sec_sum chksum")),
        (Some(_), Some(_)) => Ok(Rule::SectionChecksumChanged),
        (Some(_), None) => Ok(Rule::ReturnFiledNotYetCaptured),
        _ => Ok(Rule::CannotProve),
    }
}

/// A GSTR-2A section: re-fetched when the whole-return document changed since
/// its capture (for the sections the document carries, when its part changed).
fn section_of_document(
    name: &str,
    m: Month,
    captured_at: Timestamp,
    input: &Inputs<'_>,
    view: &ArchiveView,
) -> Result<Rule, Skip> {
    let p = Period::Month(m);
    let (now, then) = view.probe("gstr-2a-document", &p, captured_at);
    let (Some(now), Some(then)) = (now, then) else {
        return Ok(Rule::CannotProve);
    };
    if now == then {
        return Err(Skip::Unchanged("gstr-2a-document"));
    }
    let key = name.strip_prefix("gstr-2a-").unwrap_or(name);
    if !matches!(key, "b2b" | "cdn" | "isd" | "impg" | "tds" | "tcs") {
        return Ok(Rule::DocumentChanged);
    }
    let part = |sha: ProbeDigest| -> Option<Option<Value>> {
        let v = (input.payload)(&sha?)?;
        // A "no document" answer has no `fp`: the section is absent too.
        Some(v.as_object().and_then(|o| o.get(key)).cloned())
    };
    match (part(now), part(then)) {
        (Some(a), Some(b)) if a == b => Err(Skip::Unchanged("gstr-2a-document part")),
        _ => Ok(Rule::DocumentChanged),
    }
}
