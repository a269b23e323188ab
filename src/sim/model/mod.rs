//! The simulated business: one monthly-filing taxpayer per GSTIN, derived
//! deterministically from (GSTIN, seed). It owns what the portal would answer
//! for every catalog endpoint on a given date, and must do no IO and read no
//! clock: `today` is always an argument, and a month's documents depend only
//! on (GSTIN, seed, month), never on what was asked before.
//!
//! Timeline of return period M (all dates IST): invoices dated in M; GSTR-1
//! filed on the 11th of M+1 (GSTR-1 sections, summary, GSTR-1A summary and
//! declaration, 3B auto-liability, IMS sales appear); suppliers file on days
//! 10–13 of M+1 (GSTR-2A `b2b`/`cdn` per supplier, `impg`/`tds`/`tcs` from
//! the 10th, `isd` from the 13th); GSTR-2B generated on the 14th; a challan
//! on day 17–19 for the cash the 3B needs (sometimes rounded up); GSTR-3B
//! filed on the 20th (3B, liability ledger, ITC credit and utilisation, cash
//! debit). GSTR-9 figures of a FY appear on 1 May after it ends.
//!
//! Planted scenarios (see [`Business::plants`] and [`Business::events`]):
//! 1. One month per FY claims more ITC in 3B table 4A(5) OTH than its 2B
//!    (₹2,000–8,000); the ITC ledger credit follows the 3B claim.
//! 2. Another month per FY reports less outward tax in 3B than GSTR-1
//!    (₹1,500–6,000, CGST/SGST halves, capped at the month's tax).
//! 3. On days 1, 8, 15 and 22 of every month (through 2035) one event amends a
//!    period 2–4 months earlier (so that period's own filings are complete):
//!    a B2BA amendment (`gstr-1-b2ba`, `gstr-1-summary`), a late credit note
//!    (`gstr-1-cdnr`, `gstr-1-summary`) or a late supplier filing
//!    (`gstr-2a-b2b`, `gstr-2a-document`). Nothing else reads event data: 3B,
//!    2B (a static statement), ledgers, HSN, doc-issue, GSTR-1A, GSTR-9, IMS
//!    and e-invoice views are built from the regular documents only, which is
//!    what makes each event's endpoint list exact.
//! 4. Ledgers of the current month change as challans and filings happen.
//!
//! Choices where the portal is undocumented: GSTR-1 sections without documents
//! and GSTR-1 before filing answer `RET11416`; GSTR-2A `RET13509`; 2B before
//! generation `RET2B1023`; 3B before filing `RT-3BAS1009`; auto-liability before
//! GSTR-1 `RT-R3BQ1004`; 3B months after the current month `RT-3BGV1005`;
//! GSTR-9 details (never saved), GSTR-9 before 1 May and IMS sections without
//! records `RET13509`; added-back liabilities `IMS0027` (the documented answer); track without filings
//! `RET13510`; bad ledger dates `LG9001`, `from` after `to` `LG9091`, `to`
//! after today `LG9089`; status look-ups with an unknown `reference_id`
//! `RET191106`; e-invoice reads older than 6 months `EINV0006`, unknown IRN
//! `EINV2283`, a download of a supply type without e-invoices `EINV30113`;
//! an unknown notice reference `RET191106`. The liability ledger's balance
//! is what is still owed (debits raise it, as in the documented sample).
//!
//! Notices: in about one month in twelve the business receives a notice
//! (ASMT-10, DRC-01B, DRC-01C or GSTR-3A) about an earlier period, visible
//! from its date of issue; `notices` lists them and `notice-details` gives
//! each one's details (shapes of the docs repo's notice schemas).

mod gen;
mod render;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::catalog::Endpoint;
use crate::domain::gstin::Gstin;
use crate::domain::period::{FinancialYear, Month};

pub use gen::{EventKind, Heads, Paise, Plants, Settlement, FIRST_MONTH};
use gen::{Keyed, MonthInward, MonthOutward, Party};

/// What the portal answers for one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Success: the value goes under `data.data` with `status_cd "1"`.
    Data(Value),
    /// Success with the flat envelope quirk: the value is `data` itself.
    Flat(Value),
    /// GSTR-2B too large: `status_cd "3"` with the file count.
    Paged { file_count: usize },
    /// A GSTN business error (`error_cd`).
    Error { code: &'static str, message: String },
    /// A GSTN business error of a public endpoint (key `error_code`).
    PublicError { code: &'static str, message: String },
}

impl Answer {
    pub fn error(code: &'static str, message: impl Into<String>) -> Answer {
        Answer::Error {
            code,
            message: message.into(),
        }
    }

    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Answer::Error { code, .. } | Answer::PublicError { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A later-day change to a past period (scenario 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEvent {
    /// First IST date on which the change is visible.
    pub effective: NaiveDate,
    pub kind: EventKind,
    pub period: Month,
    /// Catalog endpoint names whose payload for `period` changes on `effective`.
    pub endpoints: Vec<&'static str>,
}

/// The business behind one GSTIN. Cheap to clone; caches generated months.
#[derive(Clone)]
pub struct Business {
    inner: Arc<Inner>,
    page_size: usize,
    /// GSTR-2B pages at least (empty pages past the documents).
    min_2b_pages: usize,
    /// Inward invoice numbers the business rejected in IMS: the 2B of their
    /// month, regenerated, moves them from `itcavl` to `itcRejected`.
    ims_rejected: Arc<std::collections::BTreeSet<String>>,
}

struct Inner {
    gstin: Gstin,
    keyed: Keyed,
    state: u8,
    legal_name: String,
    customers: Vec<Party>,
    suppliers: Vec<Party>,
    /// ISD registration of the same PAN, TDS deductor, e-commerce operator.
    isd: Party,
    deductor: Party,
    operator: Party,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    outward: HashMap<Month, Arc<MonthOutward>>,
    inward: HashMap<Month, Arc<MonthInward>>,
    /// Settlements from FIRST_MONTH onwards, contiguous.
    settlements: Vec<Arc<Settlement>>,
}

/// Default number of GSTR-2B documents per page.
pub const DEFAULT_PAGE_SIZE: usize = 40;

impl Business {
    pub fn new(gstin: &Gstin, seed: u64) -> Business {
        let keyed = Keyed::new(gstin, seed);
        let state: u8 = gstin.state_code().parse().unwrap_or(27);
        let mut rng = keyed.rng(&["identity"]);
        let legal_name = gen::company_name(&mut rng);
        let customers = gen::parties(&keyed, state, "customers", 7);
        let suppliers = gen::parties(&keyed, state, "suppliers", 6);
        let other_state = gen::STATES.iter().copied().find(|s| *s != state).unwrap_or(29);
        let isd = Party {
            gstin: Gstin::compose(other_state, gstin.pan(), '2').unwrap_or_else(|_| customers[0].gstin.clone()),
            name: format!("{legal_name} (ISD)"),
        };
        let deductor = gen::party(&mut rng, state, 'G');
        let operator = gen::party(&mut rng, other_state, 'C');
        Business {
            inner: Arc::new(Inner {
                gstin: gstin.clone(),
                keyed,
                state,
                legal_name,
                customers,
                suppliers,
                isd,
                deductor,
                operator,
                cache: Mutex::new(Cache::default()),
            }),
            page_size: DEFAULT_PAGE_SIZE,
            min_2b_pages: 1,
            ims_rejected: Arc::default(),
        }
    }

    /// The same business with another GSTR-2B page size (documents per file).
    pub fn with_page_size(mut self, page_size: usize) -> Business {
        self.page_size = page_size.max(1);
        self
    }

    /// The same business with a GSTR-2B of at least `pages` pages: the
    /// pages past its documents carry the header and summary only (a large
    /// GSTIN's 2B, for paging tests).
    pub fn with_min_2b_pages(mut self, pages: usize) -> Business {
        self.min_2b_pages = pages.max(1);
        self
    }

    /// The same business having rejected, in IMS, the first B2B invoice of
    /// `month` not yet rejected; also gives its number and tax. None when the
    /// month has no such invoice. The 3B already filed keeps its claim.
    pub fn with_ims_rejection(mut self, month: Month) -> Option<(Business, String, Heads)> {
        let inward = self.inward(month);
        let doc = inward.invoices.iter().find(|d| !self.is_rejected(&d.num))?;
        let mut rejected = (*self.ims_rejected).clone();
        rejected.insert(doc.num.clone());
        self.ims_rejected = Arc::new(rejected);
        Some((self, doc.num.clone(), doc.tax()))
    }

    pub(crate) fn is_rejected(&self, num: &str) -> bool {
        self.ims_rejected.contains(num)
    }

    pub fn gstin(&self) -> &Gstin {
        &self.inner.gstin
    }

    pub fn legal_name(&self) -> &str {
        &self.inner.legal_name
    }

    /// Every planted event from the business's first month through 2035, in date order.
    pub fn events(&self) -> Vec<PlannedEvent> {
        let mut out = Vec::new();
        let mut m = FIRST_MONTH;
        while m <= gen::LAST_EVENT_MONTH {
            for day in gen::EVENT_DAYS {
                if let Some(e) = gen::event_on(&self.inner.keyed, m.day(day)) {
                    out.push(PlannedEvent {
                        effective: e.effective,
                        kind: e.kind,
                        period: e.period,
                        endpoints: e.kind.endpoints(),
                    });
                }
            }
            m = m.next();
        }
        out
    }

    /// Planted events effective in `from..=to`.
    pub fn events_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<PlannedEvent> {
        self.events()
            .into_iter()
            .filter(|e| e.effective >= from && e.effective <= to)
            .collect()
    }

    /// The planted scenarios 1 and 2 of a financial year.
    pub fn plants(&self, fy: FinancialYear) -> Plants {
        gen::plants(&self.inner.keyed, fy)
    }

    /// The settlement (3B payment) of a return period; None before the business existed.
    pub fn settlement(&self, month: Month) -> Option<Arc<Settlement>> {
        if month < FIRST_MONTH {
            return None;
        }
        let index = FIRST_MONTH.months_until(month) as usize;
        loop {
            let (len, before) = {
                let cache = self.lock();
                if let Some(s) = cache.settlements.get(index) {
                    return Some(s.clone());
                }
                let len = cache.settlements.len();
                let before = cache
                    .settlements
                    .last()
                    .map(|s| (s.itc_after, s.cash_after))
                    .unwrap_or_default();
                (len, before)
            };
            let period = FIRST_MONTH.through(month).get(len).copied().unwrap_or(month);
            let settlement = Arc::new(self.compute_settlement(period, before.0, before.1));
            let mut cache = self.lock();
            if cache.settlements.len() == len {
                cache.settlements.push(settlement);
            }
        }
    }

    fn compute_settlement(&self, period: Month, itc_before: Heads, cash_before: Heads) -> Settlement {
        let outward = self.outward(period);
        let inward = self.inward(period);
        let plants = self.plants(period.financial_year());
        let tax = outward.tax();
        let liability = tax - gen::short_payment(&plants, period, tax);
        let mut claim = inward.itc();
        if plants.itc_excess_month == period {
            claim += plants.itc_excess;
        }
        gen::settle(&self.inner.keyed, period, liability, claim, itc_before, cash_before)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn outward(&self, month: Month) -> Arc<MonthOutward> {
        if let Some(m) = self.lock().outward.get(&month) {
            return m.clone();
        }
        let generated = Arc::new(gen::outward(
            &self.inner.keyed,
            self.inner.state,
            &self.inner.customers,
            month,
        ));
        self.lock().outward.entry(month).or_insert(generated).clone()
    }

    pub(crate) fn inward(&self, month: Month) -> Arc<MonthInward> {
        if let Some(m) = self.lock().inward.get(&month) {
            return m.clone();
        }
        let generated = Arc::new(gen::inward(
            &self.inner.keyed,
            self.inner.state,
            &self.inner.suppliers,
            month,
        ));
        self.lock().inward.entry(month).or_insert(generated).clone()
    }

    /// What the portal answers on `today` for `endpoint` with the routed path
    /// parameters and the request's query pairs.
    pub fn respond(
        &self,
        endpoint: &Endpoint,
        params: &BTreeMap<String, String>,
        query: &[(String, String)],
        today: NaiveDate,
    ) -> Answer {
        render::respond(self, endpoint, params, query, today)
    }

    /// The e-invoice list behind a finished download (`sales` or
    /// `purchases` of `month`, one supply type): the list, or `EINV30113`
    /// when the supply type has no e-invoices.
    pub fn einvoice_list(&self, purchases: bool, supply_type: &str, month: Month, today: NaiveDate) -> Answer {
        render::einvoice_list(self, purchases, supply_type, month, today)
    }
}

#[cfg(test)]
mod tests;
