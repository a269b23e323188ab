//! The endpoint catalog: one table holding every read endpoint of the Sandbox
//! GST taxpayer API that gstvault knows (ENDPOINTS.md section 4, "Read
//! endpoint list"), with its path template, period kind and quirks.
//!
//! Both sides use it: the capture planner expands it into requests, the
//! simulator routes incoming requests through it. It does no IO.
//!
//! An *endpoint* here is one capture job: where one API path takes a fixed
//! selector (the IMS `section`, the invoice-count `type_of_goods`), each value
//! is its own endpoint, so that a snapshot is always keyed by GSTIN, endpoint
//! and period alone.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::period::{ledger_date, month_range, FinancialYear, Month, Period};

/// Endpoint groups: the names `--group` and the config's `groups` accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Ledgers,
    Gstr1,
    Gstr1a,
    Gstr2a,
    Gstr2b,
    Gstr3b,
    Gstr9,
    Common,
    Ims,
    EInvoice,
    Notices,
    Public,
}

impl Group {
    pub const ALL: [Group; 12] = [
        Group::Ledgers,
        Group::Gstr1,
        Group::Gstr1a,
        Group::Gstr2a,
        Group::Gstr2b,
        Group::Gstr3b,
        Group::Gstr9,
        Group::Common,
        Group::Ims,
        Group::EInvoice,
        Group::Notices,
        Group::Public,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Ledgers => "ledgers",
            Group::Gstr1 => "gstr-1",
            Group::Gstr1a => "gstr-1a",
            Group::Gstr2a => "gstr-2a",
            Group::Gstr2b => "gstr-2b",
            Group::Gstr3b => "gstr-3b",
            Group::Gstr9 => "gstr-9",
            Group::Common => "common",
            Group::Ims => "ims",
            Group::EInvoice => "e-invoice",
            Group::Notices => "notices",
            Group::Public => "public",
        }
    }

    pub fn parse(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an endpoint names its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    /// Path `{year}/{month}`.
    Month,
    /// Query `from`/`to` as DD/MM/YYYY; captured per calendar month, `to` clamped to today.
    DateRange,
    /// Query `financial_year=FY YYYY-YY`.
    FinancialYear,
    /// No period: the portal's current state.
    None,
}

impl PeriodKind {
    /// The periods a capture of `months` asks of an endpoint of this kind:
    /// each month, each financial year they touch, or the current state.
    pub fn periods(self, months: &[Month]) -> Vec<Period> {
        match self {
            PeriodKind::Month | PeriodKind::DateRange => months.iter().copied().map(Period::Month).collect(),
            PeriodKind::FinancialYear => {
                let mut years: Vec<FinancialYear> = months.iter().map(|m| m.financial_year()).collect();
                years.dedup();
                years.into_iter().map(Period::Year).collect()
            }
            PeriodKind::None => vec![Period::Current],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Which token the call carries in `authorization`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// The taxpayer session token from OTP verify / refresh.
    Taxpayer,
    /// The platform token from `/authenticate` (public endpoints).
    Platform,
}

/// Behaviour that differs from the plain envelope-and-period case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quirk {
    None,
    /// GSTR-2A ISD: payload sits directly under `data`, no inner `status_cd`.
    FlatEnvelope,
    /// GSTR-2B: `status_cd "3"` with a file count `fc`; fetch `file_number` 1..=fc.
    Paged,
    /// Needs an identifier only a write or an outside document supplies
    /// (`reference_id`, IRN): never captured by a schedule.
    NeedsIdentifier,
    /// e-invoice list, an asynchronous download (the API calls it a job):
    /// POST submits it, GET on the same path polls it, the list comes from a signed URL.
    Download,
    /// The notices list: each notice's details are fetched by its reference id
    /// (endpoint `notice-details`) and archived beside it.
    NoticeList,
    /// Public endpoint: POST with `{"gstin"}` in the body, platform token.
    PublicPost,
}

/// One capture job of the catalog.
#[derive(Debug)]
pub struct Endpoint {
    /// Stable name used in config, CLI and archive (never renamed once released).
    pub name: &'static str,
    pub group: Group,
    pub method: Method,
    /// Path template with `{year}`, `{month}` (and `{irn}`, `{reference_id}`, `{token}`) placeholders.
    pub path: &'static str,
    pub period: PeriodKind,
    /// Fixed query parameters that select this endpoint among its siblings.
    pub fixed_query: &'static [(&'static str, &'static str)],
    pub auth: Auth,
    pub quirk: Quirk,
    /// Captured unless the config narrows the set.
    pub default_on: bool,
    pub title: &'static str,
}

const TP: &str = "/gst/compliance/tax-payer";

macro_rules! ep {
    ($name:expr, $group:ident, $method:ident, $path:expr, $period:ident, $title:expr) => {
        ep!(
            $name,
            $group,
            $method,
            $path,
            $period,
            $title,
            &[],
            Taxpayer,
            None,
            true
        )
    };
    ($name:expr, $group:ident, $method:ident, $path:expr, $period:ident, $title:expr, $query:expr, $auth:ident, $quirk:ident, $default:expr) => {
        Endpoint {
            name: $name,
            group: Group::$group,
            method: Method::$method,
            path: $path,
            period: PeriodKind::$period,
            fixed_query: $query,
            auth: Auth::$auth,
            quirk: Quirk::$quirk,
            default_on: $default,
            title: $title,
        }
    };
}

/// The catalog. Order is the capture order within a period.
pub static ENDPOINTS: &[Endpoint] = &[
    // Ledgers.
    ep!(
        "ledger-balance",
        Ledgers,
        Get,
        "/gst/compliance/tax-payer/ledgers/bal/{year}/{month}",
        Month,
        "Cash ITC Balance"
    ),
    ep!(
        "ledger-cash",
        Ledgers,
        Get,
        "/gst/compliance/tax-payer/ledgers/cash",
        DateRange,
        "Cash Ledger"
    ),
    ep!(
        "ledger-itc",
        Ledgers,
        Get,
        "/gst/compliance/tax-payer/ledgers/itc",
        DateRange,
        "ITC Ledger"
    ),
    ep!(
        "ledger-liability",
        Ledgers,
        Get,
        "/gst/compliance/tax-payer/ledgers/tax/{year}/{month}",
        Month,
        "Return Liability Ledger"
    ),
    // GSTR-1: summary and 23 sections.
    ep!(
        "gstr-1-summary",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/{year}/{month}",
        Month,
        "GSTR-1 Summary"
    ),
    ep!(
        "gstr-1-at",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/at/{year}/{month}",
        Month,
        "GSTR-1 AT"
    ),
    ep!(
        "gstr-1-ata",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/ata/{year}/{month}",
        Month,
        "GSTR-1 ATA"
    ),
    ep!(
        "gstr-1-b2b",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/b2b/{year}/{month}",
        Month,
        "GSTR-1 B2B"
    ),
    ep!(
        "gstr-1-b2ba",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/b2ba/{year}/{month}",
        Month,
        "GSTR-1 B2BA"
    ),
    ep!(
        "gstr-1-b2cl",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/b2cl/{year}/{month}",
        Month,
        "GSTR-1 B2CL"
    ),
    ep!(
        "gstr-1-b2cla",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/b2cla/{year}/{month}",
        Month,
        "GSTR-1 B2CLA"
    ),
    ep!(
        "gstr-1-b2cs",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/b2cs/{year}/{month}",
        Month,
        "GSTR-1 B2CS"
    ),
    ep!(
        "gstr-1-b2csa",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/b2csa/{year}/{month}",
        Month,
        "GSTR-1 B2CSA"
    ),
    ep!(
        "gstr-1-cdnr",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/cdnr/{year}/{month}",
        Month,
        "GSTR-1 CDNR"
    ),
    ep!(
        "gstr-1-cdnra",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/cdnra/{year}/{month}",
        Month,
        "GSTR-1 CDNRA"
    ),
    ep!(
        "gstr-1-cdnur",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/cdnur/{year}/{month}",
        Month,
        "GSTR-1 CDNUR"
    ),
    ep!(
        "gstr-1-cdnura",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/cdnura/{year}/{month}",
        Month,
        "GSTR-1 CDNURA"
    ),
    ep!(
        "gstr-1-doc-issue",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/doc-issue/{year}/{month}",
        Month,
        "GSTR-1 Document Issued"
    ),
    ep!(
        "gstr-1-ecom",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/ecom/{year}/{month}",
        Month,
        "GSTR-1 ECOM"
    ),
    ep!(
        "gstr-1-ecoma",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/ecoma/{year}/{month}",
        Month,
        "GSTR-1 ECOMA"
    ),
    ep!(
        "gstr-1-exp",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/exp/{year}/{month}",
        Month,
        "GSTR-1 EXP"
    ),
    ep!(
        "gstr-1-expa",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/expa/{year}/{month}",
        Month,
        "GSTR-1 EXPA"
    ),
    ep!(
        "gstr-1-hsn",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/hsn/{year}/{month}",
        Month,
        "GSTR-1 HSN Summary"
    ),
    ep!(
        "gstr-1-nil",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/nil/{year}/{month}",
        Month,
        "GSTR-1 NIL Supplies"
    ),
    ep!(
        "gstr-1-supeco",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/supeco/{year}/{month}",
        Month,
        "GSTR-1 SUPECO"
    ),
    ep!(
        "gstr-1-supecoa",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/supecoa/{year}/{month}",
        Month,
        "GSTR-1 SUPECOA"
    ),
    ep!(
        "gstr-1-txp",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/txp/{year}/{month}",
        Month,
        "GSTR-1 TXP"
    ),
    ep!(
        "gstr-1-txpa",
        Gstr1,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1/txpa/{year}/{month}",
        Month,
        "GSTR-1 TXPA"
    ),
    // GSTR-1A: summary, the same 23 sections, declaration details.
    ep!(
        "gstr-1a-summary",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/{year}/{month}",
        Month,
        "GSTR-1A Summary"
    ),
    ep!(
        "gstr-1a-at",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/at/{year}/{month}",
        Month,
        "GSTR-1A AT"
    ),
    ep!(
        "gstr-1a-ata",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/ata/{year}/{month}",
        Month,
        "GSTR-1A ATA"
    ),
    ep!(
        "gstr-1a-b2b",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/b2b/{year}/{month}",
        Month,
        "GSTR-1A B2B"
    ),
    ep!(
        "gstr-1a-b2ba",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/b2ba/{year}/{month}",
        Month,
        "GSTR-1A B2BA"
    ),
    ep!(
        "gstr-1a-b2cl",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/b2cl/{year}/{month}",
        Month,
        "GSTR-1A B2CL"
    ),
    ep!(
        "gstr-1a-b2cla",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/b2cla/{year}/{month}",
        Month,
        "GSTR-1A B2CLA"
    ),
    ep!(
        "gstr-1a-b2cs",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/b2cs/{year}/{month}",
        Month,
        "GSTR-1A B2CS"
    ),
    ep!(
        "gstr-1a-b2csa",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/b2csa/{year}/{month}",
        Month,
        "GSTR-1A B2CSA"
    ),
    ep!(
        "gstr-1a-cdnr",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/cdnr/{year}/{month}",
        Month,
        "GSTR-1A CDNR"
    ),
    ep!(
        "gstr-1a-cdnra",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/cdnra/{year}/{month}",
        Month,
        "GSTR-1A CDNRA"
    ),
    ep!(
        "gstr-1a-cdnur",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/cdnur/{year}/{month}",
        Month,
        "GSTR-1A CDNUR"
    ),
    ep!(
        "gstr-1a-cdnura",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/cdnura/{year}/{month}",
        Month,
        "GSTR-1A CDNURA"
    ),
    ep!(
        "gstr-1a-doc-issue",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/doc-issue/{year}/{month}",
        Month,
        "GSTR-1A Document Issued"
    ),
    ep!(
        "gstr-1a-ecom",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/ecom/{year}/{month}",
        Month,
        "GSTR-1A ECOM"
    ),
    ep!(
        "gstr-1a-ecoma",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/ecoma/{year}/{month}",
        Month,
        "GSTR-1A ECOMA"
    ),
    ep!(
        "gstr-1a-exp",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/exp/{year}/{month}",
        Month,
        "GSTR-1A EXP"
    ),
    ep!(
        "gstr-1a-expa",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/expa/{year}/{month}",
        Month,
        "GSTR-1A EXPA"
    ),
    ep!(
        "gstr-1a-hsn",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/hsn/{year}/{month}",
        Month,
        "GSTR-1A HSN Summary"
    ),
    ep!(
        "gstr-1a-nil",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/nil/{year}/{month}",
        Month,
        "GSTR-1A NIL Supplies"
    ),
    ep!(
        "gstr-1a-supeco",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/supeco/{year}/{month}",
        Month,
        "GSTR-1A SUPECO"
    ),
    ep!(
        "gstr-1a-supecoa",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/supecoa/{year}/{month}",
        Month,
        "GSTR-1A SUPECOA"
    ),
    ep!(
        "gstr-1a-txp",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/txp/{year}/{month}",
        Month,
        "GSTR-1A TXP"
    ),
    ep!(
        "gstr-1a-txpa",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/txpa/{year}/{month}",
        Month,
        "GSTR-1A TXPA"
    ),
    ep!(
        "gstr-1a-declaration",
        Gstr1a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-1a/declaration-details/{year}/{month}",
        Month,
        "GSTR-1A Declaration Details"
    ),
    // GSTR-2A.
    ep!(
        "gstr-2a-document",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/{year}/{month}",
        Month,
        "GSTR-2A Document"
    ),
    ep!(
        "gstr-2a-amdhist",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/amdhist/{year}/{month}",
        Month,
        "GSTR-2A AMDHIST"
    ),
    ep!(
        "gstr-2a-b2b",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/b2b/{year}/{month}",
        Month,
        "GSTR-2A B2B"
    ),
    ep!(
        "gstr-2a-b2ba",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/b2ba/{year}/{month}",
        Month,
        "GSTR-2A B2BA"
    ),
    ep!(
        "gstr-2a-cdn",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/cdn/{year}/{month}",
        Month,
        "GSTR-2A CDN"
    ),
    ep!(
        "gstr-2a-cdna",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/cdna/{year}/{month}",
        Month,
        "GSTR-2A CDNA"
    ),
    ep!(
        "gstr-2a-ecom",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/ecom/{year}/{month}",
        Month,
        "GSTR-2A ECOM"
    ),
    ep!(
        "gstr-2a-ecoma",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/ecoma/{year}/{month}",
        Month,
        "GSTR-2A ECOMA"
    ),
    ep!(
        "gstr-2a-impg",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/impg/{year}/{month}",
        Month,
        "GSTR-2A IMPG"
    ),
    ep!(
        "gstr-2a-impgsez",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/impgsez/{year}/{month}",
        Month,
        "GSTR-2A IMPGSEZ"
    ),
    ep!(
        "gstr-2a-isd",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/isd/{year}/{month}",
        Month,
        "GSTR-2A ISD",
        &[],
        Taxpayer,
        FlatEnvelope,
        true
    ),
    ep!(
        "gstr-2a-tcs",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/tcs/{year}/{month}",
        Month,
        "GSTR-2A TCS"
    ),
    ep!(
        "gstr-2a-tds",
        Gstr2a,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2a/tds/{year}/{month}",
        Month,
        "GSTR-2A TDS"
    ),
    // GSTR-2B.
    ep!(
        "gstr-2b",
        Gstr2b,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2b/{year}/{month}",
        Month,
        "GSTR-2B Document",
        &[],
        Taxpayer,
        Paged,
        true
    ),
    ep!(
        "gstr-2b-regeneration-status",
        Gstr2b,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-2b/regenerate",
        None,
        "GSTR-2B Regeneration Status",
        &[],
        Taxpayer,
        NeedsIdentifier,
        false
    ),
    // GSTR-3B.
    ep!(
        "gstr-3b",
        Gstr3b,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-3b/{year}/{month}",
        Month,
        "GSTR-3B Details"
    ),
    ep!(
        "gstr-3b-auto-liability",
        Gstr3b,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-3b/{year}/{month}/auto-liability-calc",
        Month,
        "GSTR-3B Liability Auto Calc"
    ),
    // GSTR-9.
    ep!(
        "gstr-9",
        Gstr9,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-9",
        FinancialYear,
        "GSTR-9 Details"
    ),
    ep!(
        "gstr-9-auto-calculated",
        Gstr9,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-9/auto-calculated",
        FinancialYear,
        "GSTR-9 Auto Calculated Details"
    ),
    ep!(
        "gstr-9-table-8a",
        Gstr9,
        Get,
        "/gst/compliance/tax-payer/gstrs/gstr-9/table-8a",
        FinancialYear,
        "Section 8A Details"
    ),
    // Common.
    ep!(
        "return-status",
        Common,
        Get,
        "/gst/compliance/tax-payer/gstrs/{year}/{month}/status",
        Month,
        "GST Return status",
        &[],
        Taxpayer,
        NeedsIdentifier,
        false
    ),
    ep!(
        "return-track",
        Common,
        Get,
        "/gst/compliance/tax-payer/gstrs/{year}/{month}/track",
        Month,
        "Track Returns"
    ),
    ep!(
        "filing-preference",
        Common,
        Get,
        "/gst/compliance/tax-payer/gstrs/preference",
        FinancialYear,
        "Get Filing Preference"
    ),
    ep!(
        "aato",
        Common,
        Get,
        "/gst/compliance/tax-payer/aato",
        FinancialYear,
        "Get AATO Values"
    ),
    // IMS: one endpoint per section of the invoice pool, per count kind.
    ep!(
        "ims-invoices-b2b",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (B2B)",
        &[("section", "b2b")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-b2ba",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (B2BA)",
        &[("section", "b2ba")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-cn",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (CN)",
        &[("section", "cn")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-cna",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (CNA)",
        &[("section", "cna")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-dn",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (DN)",
        &[("section", "dn")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-dna",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (DNA)",
        &[("section", "dna")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-ecom",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (ECOM)",
        &[("section", "ecom")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoices-ecoma",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices",
        None,
        "Get Invoices (ECOMA)",
        &[("section", "ecoma")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-count-imports",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices/count",
        None,
        "Get Invoice Count (imports)",
        &[("type_of_goods", "imports")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-count-inward",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices/count",
        None,
        "Get Invoice Count (inward supplies)",
        &[("type_of_goods", "inward_supplies")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-count-others",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices/count",
        None,
        "Get Invoice Count (others)",
        &[("type_of_goods", "others")],
        Taxpayer,
        None,
        true
    ),
    ep!(
        "ims-invoice-status",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices/status",
        None,
        "Check Invoice Status",
        &[],
        Taxpayer,
        NeedsIdentifier,
        false
    ),
    ep!(
        "ims-sales",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices/{year}/{month}/sales",
        Month,
        "Get Sales Invoices"
    ),
    ep!(
        "ims-added-back",
        Ims,
        Get,
        "/gst/compliance/tax-payer/invoices/added-back-liabilities/{year}/{month}",
        Month,
        "Get Added Back Liability Records"
    ),
    // e-invoice.
    ep!(
        "einvoice-by-irn",
        EInvoice,
        Get,
        "/gst/compliance/tax-payer/e-invoice/{irn}",
        None,
        "Get e-Invoice by IRN",
        &[],
        Taxpayer,
        NeedsIdentifier,
        false
    ),
    ep!(
        "einvoice-hsn",
        EInvoice,
        Get,
        "/gst/compliance/tax-payer/e-invoices/hsn/{year}/{month}",
        Month,
        "Get E-Invoice HSN Summary"
    ),
    // e-invoice list downloads: one per supply type per month ("Supply type.
    // E.g. B2B, SEZWP, SEZWOP, DEXP, EXPWP, EXPWOP",
    // https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/e-invoice/list_purchase_invoices_job).
    // The B2B downloads keep their released names.
    ep!(
        "einvoice-sales",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/sales",
        Month,
        "List Sales E-Invoices (B2B, job)",
        &[("supply_type", "B2B")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-sales-sezwp",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/sales",
        Month,
        "List Sales E-Invoices (SEZWP, job)",
        &[("supply_type", "SEZWP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-sales-sezwop",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/sales",
        Month,
        "List Sales E-Invoices (SEZWOP, job)",
        &[("supply_type", "SEZWOP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-sales-dexp",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/sales",
        Month,
        "List Sales E-Invoices (DEXP, job)",
        &[("supply_type", "DEXP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-sales-expwp",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/sales",
        Month,
        "List Sales E-Invoices (EXPWP, job)",
        &[("supply_type", "EXPWP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-sales-expwop",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/sales",
        Month,
        "List Sales E-Invoices (EXPWOP, job)",
        &[("supply_type", "EXPWOP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-purchases",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/purchases",
        Month,
        "List Purchase E-Invoices (B2B, job)",
        &[("supply_type", "B2B")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-purchases-sezwp",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/purchases",
        Month,
        "List Purchase E-Invoices (SEZWP, job)",
        &[("supply_type", "SEZWP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-purchases-sezwop",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/purchases",
        Month,
        "List Purchase E-Invoices (SEZWOP, job)",
        &[("supply_type", "SEZWOP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-purchases-dexp",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/purchases",
        Month,
        "List Purchase E-Invoices (DEXP, job)",
        &[("supply_type", "DEXP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-purchases-expwp",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/purchases",
        Month,
        "List Purchase E-Invoices (EXPWP, job)",
        &[("supply_type", "EXPWP")],
        Taxpayer,
        Download,
        false
    ),
    ep!(
        "einvoice-purchases-expwop",
        EInvoice,
        Post,
        "/gst/compliance/tax-payer/e-invoices/{year}/{month}/purchases",
        Month,
        "List Purchase E-Invoices (EXPWOP, job)",
        &[("supply_type", "EXPWOP")],
        Taxpayer,
        Download,
        false
    ),
    // Notices and orders (front office): the list, and each notice's details
    // by its reference id (docs repo TP/notices/list_notices.mdx, get_notice_details.mdx;
    // https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/notices/list_notices).
    ep!(
        "notices",
        Notices,
        Get,
        "/gst/compliance/tax-payer/notices",
        None,
        "List Notices",
        &[],
        Taxpayer,
        NoticeList,
        true
    ),
    ep!(
        "notice-details",
        Notices,
        Get,
        "/gst/compliance/tax-payer/notices/{reference_id}",
        None,
        "Get Notice Details",
        &[],
        Taxpayer,
        NeedsIdentifier,
        false
    ),
    // A large return's files by the token its answer carried (GSTN's
    // large-file flow, "Get File Details" with the token after `est` minutes,
    // ENDPOINTS.md section 9; the Sandbox path is inferred).
    ep!(
        "file-details",
        Common,
        Get,
        "/gst/compliance/tax-payer/gstrs/file-details",
        None,
        "Get File Details (large returns)",
        &[],
        Taxpayer,
        NeedsIdentifier,
        false
    ),
    // Public (platform token, GSTIN in the body).
    ep!(
        "public-track",
        Public,
        Post,
        "/gst/compliance/public/gstrs/track",
        FinancialYear,
        "Track GST Returns (public)",
        &[],
        Platform,
        PublicPost,
        true
    ),
    ep!(
        "public-preference",
        Public,
        Post,
        "/gst/compliance/public/gstrs/preference",
        FinancialYear,
        "Get Return Preference (public)",
        &[],
        Platform,
        PublicPost,
        true
    ),
];

/// How many months back e-invoice reads reach.
pub const EINVOICE_MONTHS: i32 = 6;

/// The base every taxpayer path starts with.
pub const TAXPAYER_BASE: &str = TP;

/// GSTN error codes that mean "nothing to show for these inputs": archived
/// with outcome `no_data`, not as failures (ENDPOINTS.md sections 6 and 9).
///
/// - `IMS0027`: no added-back liability records
///   (<https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/invoices/added-back-liabilities>).
/// - `GTR2B-002`: GSTR-2B not generated because the previous GSTR-3B was not
///   filed by the cut-off (a GSTN code, ENDPOINTS.md section 9; its own detail
///   is in [`NO_DATA_DETAILS`]).
/// - `EINV30113`: no e-invoice records for the return period (the failed
///   download's answer on
///   <https://developer.sandbox.co.in/reference/list-purchase-e-invoices-job-status-api>).
pub const NO_DATA_CODES: &[&str] = &[
    "RET11416",
    "RET11417",
    "RET13508",
    "RET13509",
    "RET13510",
    "RET2B1016",
    "RET2B1018",
    "RET2B1023",
    "RT-R3BQ1004",
    "RT-3BAS1009",
    "IMS0027",
    "GTR2B-002",
    "EINV30113",
];

/// No-data codes whose answer says more than "nothing here": the reason,
/// recorded as the snapshot's detail so a person reading `list` or a bundle
/// sees why the period has no data.
pub const NO_DATA_DETAILS: &[(&str, &str)] = &[(
    "GTR2B-002",
    "GSTR-2B not generated: the previous period's GSTR-3B was not filed by the cut-off; \
     the taxpayer can generate it on demand on the portal",
)];

/// Error codes that mean the taxpayer's access token is no longer valid:
/// a session refresh may help (ENDPOINTS.md section 6).
pub const SESSION_INVALID_CODES: &[&str] = &["AUTH4033", "RET11407"];

/// Error codes that mean the portal's API access has ended: no refresh can
/// help, the GSTIN needs a new OTP login (and, when API access was switched
/// off, the taxpayer must enable it again on the GST portal). Each with the
/// reason a person can act on; `{gstin}` stands for the GSTIN.
///
/// `session_expiry` is the end of API access, at most 30 days, set by the
/// taxpayer on the portal: "an extension can be requested with valid access
/// and up to session expiry time"
/// (<https://developer.sandbox.co.in/docs/taxpayer-authentication-api-guide>).
/// How API access is enabled:
/// <https://developer.sandbox.co.in/api-reference/gst/compliance/guides/taxpayer/authentication/enable_api_access>.
/// The codes are GSTN's (ENDPOINTS.md section 9, from india-compliance's GSTN
/// clients; GSTN's auth error table names `AUTH4037` "API Access Denied").
pub const ACCESS_ENDED_CODES: &[(&str, &str)] = &[
    (
        "AUTH4038",
        "API access ended (AUTH4038 Session Expired): the portal session reached its session expiry; \
         log in again with `gstvault login {gstin}`",
    ),
    (
        "AUTH4037",
        "API access is denied (AUTH4037 API Access Denied): the taxpayer must enable API access on the GST portal \
         (View Profile > Quick Links > Manage API Access), then run `gstvault login {gstin}`",
    ),
    (
        "RET11402",
        "API access is switched off (RET11402 API Authorization Failed): the taxpayer must enable API access on \
         the GST portal (View Profile > Quick Links > Manage API Access), then run `gstvault login {gstin}`",
    ),
    (
        "RET2B1010",
        "API access is switched off (RET2B1010 API Authorization Failed): the taxpayer must enable API access on \
         the GST portal (View Profile > Quick Links > Manage API Access), then run `gstvault login {gstin}`",
    ),
];

/// Error codes OTP verify answers for an OTP that is wrong, expired or
/// already used. The Sandbox page shows `AUTH4033` "Invalid Session" for a
/// refused OTP (<https://developer.sandbox.co.in/reference/taxpayer-verify-otp-api>,
/// ENDPOINTS.md A3); GSTN's auth table names `AUTH4034` "Invalid OTP", and
/// `RET13506` reads "OTP is either expired or incorrect".
pub const OTP_REFUSED_CODES: &[&str] = &["AUTH4033", "AUTH4034", "RET13506"];

/// Error codes that mean "being prepared, ask again later": archived as
/// `pending`. `RTN_24`: a large return is being prepared as files
/// (ENDPOINTS.md section 9; india-compliance maps it to "queued").
pub const PREPARING_CODES: &[&str] = &["RTN_24"];

/// Every other GSTN or Sandbox error code gstvault knows (ENDPOINTS.md
/// sections 2, 4 and 6, <https://developer.sandbox.co.in/docs/gstn-response-codes>):
/// archived as `api_error`. A code in none of these lists is archived as
/// `unrecognised`, so a new portal code is seen, not folded into another outcome.
pub const KNOWN_ERROR_CODES: &[&str] = &[
    // Ledgers.
    "LG9001",
    "LG9089",
    "LG9091",
    // Returns: periods, references, files.
    "RT-3BGV1005",
    "RET191104",
    "RET191106",
    "RET191175",
    "RET191251",
    "RET191350",
    "RET191353",
    "RET191355",
    "RET2B1020",
    // e-invoice reads.
    "EINV0006",
    "EINV2283",
    // Platform and portal access (gstn-response-codes).
    "AUTH403",
    "AUTH_9002",
    "AUTH_9033",
    "AUTH_9035",
    "AUTH_9036",
    "AUTH113",
    "AUTH117",
    "AUTH119",
    "AUTH141",
    "AUTH143",
    "AUTH150",
    "AUTH151",
    "AUTH4032",
    "AUTH4035",
    "OTP0001",
    "OTP0002",
    "OTP0003",
    "OTP0004",
    "OTP0005",
    "OTP0006",
    "OTP0007",
    "OTP0008",
    "OTP0009",
    "OTP0010",
    "OTP0011",
    "RET11400",
    "RET11401",
    "RET11403",
    "RET11404",
    "RET11405",
    "RET11406",
    "RET11408",
    "RET11409",
    "RET11410",
    "RET11420",
    "RET12501",
    "RET12502",
    "RET12503",
    "RET12504",
    "RET12505",
];

/// How gstvault reads a GSTN error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing to show for these inputs ([`NO_DATA_CODES`]).
    NoData,
    /// The access token is no longer valid; a refresh may help.
    SessionInvalid,
    /// API access ended; the reason a person acts on ([`ACCESS_ENDED_CODES`]).
    AccessEnded(&'static str),
    /// Being prepared; ask again later ([`PREPARING_CODES`]).
    Preparing,
    /// Another business error gstvault knows.
    Known,
    /// A code gstvault does not know.
    Unrecognised,
}

/// What `code` means to gstvault.
pub fn error_kind(code: &str) -> ErrorKind {
    if NO_DATA_CODES.contains(&code) {
        ErrorKind::NoData
    } else if SESSION_INVALID_CODES.contains(&code) {
        ErrorKind::SessionInvalid
    } else if let Some((_, reason)) = ACCESS_ENDED_CODES.iter().find(|(c, _)| *c == code) {
        ErrorKind::AccessEnded(reason)
    } else if PREPARING_CODES.contains(&code) {
        ErrorKind::Preparing
    } else if KNOWN_ERROR_CODES.contains(&code) || OTP_REFUSED_CODES.contains(&code) {
        ErrorKind::Known
    } else {
        ErrorKind::Unrecognised
    }
}

pub fn find(name: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.name == name)
}

/// The error text for an endpoint name not in the catalog: what was given,
/// the nearest names (a typo, a missing dash), and where they are all listed.
pub fn unknown_endpoint(name: &str) -> String {
    let squashed = |s: &str| s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let given = squashed(name);
    let mut near: Vec<(f64, &str)> = ENDPOINTS
        .iter()
        .map(|e| {
            let score = if squashed(e.name) == given {
                2.0
            } else {
                strsim::jaro_winkler(&given, &squashed(e.name))
            };
            (score, e.name)
        })
        .filter(|(score, _)| *score >= 0.85)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let names: Vec<&str> = near.iter().take(3).map(|(_, n)| *n).collect();
    match names.as_slice() {
        [] => format!("unknown endpoint {name:?}; `gstvault config check` lists them"),
        names => format!(
            "unknown endpoint {name:?}; did you mean {}? (`gstvault config check` lists them all)",
            names.join(", ")
        ),
    }
}

/// The endpoints captured by default (ENDPOINTS.md minus identifier-only and job endpoints).
pub fn default_set() -> Vec<&'static Endpoint> {
    ENDPOINTS.iter().filter(|e| e.default_on).collect()
}

/// One concrete request for one endpoint and period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSpec {
    pub method: Method,
    pub path: String,
    /// Query pairs, unencoded, in the order sent.
    pub query: Vec<(String, String)>,
    /// JSON body for POST endpoints.
    pub body: Option<String>,
}

impl RequestSpec {
    /// `path?query` with the query percent-encoded: what the archive records as
    /// the request (no secret ever travels in path or query).
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{}?{}", self.path, q.join("&"))
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Endpoint {
    /// Whether this endpoint takes the given period at all.
    pub fn accepts(&self, period: &Period) -> bool {
        matches!(
            (self.period, period),
            (PeriodKind::Month | PeriodKind::DateRange, Period::Month(_))
                | (PeriodKind::FinancialYear, Period::Year(_))
                | (PeriodKind::None, Period::Current)
        )
    }

    /// The request for `period` for `gstin`, with `today` the portal's date.
    /// None when the period cannot be asked yet (a range month that has not begun).
    pub fn request(&self, gstin: &str, period: &Period, today: chrono::NaiveDate) -> Option<RequestSpec> {
        let mut path = self.path.to_string();
        let mut query: Vec<(String, String)> = self
            .fixed_query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match (self.period, period) {
            (PeriodKind::Month, Period::Month(m)) => {
                if m.first_day() > today {
                    return None;
                }
                // e-invoice reads only reach the last 6 months (ENDPOINTS.md O6-O8).
                if self.group == Group::EInvoice && m.months_until(Month::of_date(today)) > EINVOICE_MONTHS {
                    return None;
                }
                path = path
                    .replace("{year}", &m.path_year())
                    .replace("{month}", &m.path_month());
            }
            (PeriodKind::DateRange, Period::Month(m)) => {
                let (from, to) = month_range(*m, today)?;
                query.push(("from".into(), ledger_date(from)));
                query.push(("to".into(), ledger_date(to)));
            }
            (PeriodKind::FinancialYear, Period::Year(fy)) => {
                if fy.first_month().first_day() > today {
                    return None;
                }
                query.push(("financial_year".into(), fy.api_value()));
            }
            (PeriodKind::None, Period::Current) => {}
            _ => return None,
        }
        let body = (self.quirk == Quirk::PublicPost).then(|| format!("{{\"gstin\":\"{gstin}\"}}"));
        Some(RequestSpec {
            method: self.method,
            path,
            query,
            body,
        })
    }
}

/// The details of one notice, by the reference id the notices list gave.
pub fn notice_details_request(reference_id: &str) -> RequestSpec {
    RequestSpec {
        method: Method::Get,
        path: format!("{TP}/notices/{}", encode(reference_id)),
        query: Vec::new(),
        body: None,
    }
}

/// The page a notice's details are archived under: a number fixed by its
/// reference id (1 + the first 30 bits of the id's SHA-256), so each notice
/// keeps its own history whatever the list's order.
pub fn notice_page(reference_id: &str) -> u32 {
    let digest = crate::domain::digest::Digest::of(reference_id.as_bytes());
    let first = u32::from_be_bytes([digest.0[0], digest.0[1], digest.0[2], digest.0[3]]);
    1 + (first >> 2)
}

/// A large return's file details, by the token its answer carried.
pub fn file_details_request(token: &str) -> RequestSpec {
    RequestSpec {
        method: Method::Get,
        path: format!("{TP}/gstrs/file-details"),
        query: vec![("token".into(), token.to_string())],
        body: None,
    }
}

/// Matches an incoming request against the catalog (the simulator's router).
/// Returns the endpoint and the path parameters (`year`, `month`, `irn`).
pub fn route(
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<(&'static Endpoint, BTreeMap<String, String>)> {
    // A job endpoint is POST to submit and GET to poll, on the same path.
    let mut best: Option<(&'static Endpoint, BTreeMap<String, String>)> = None;
    for endpoint in ENDPOINTS {
        let method_ok = endpoint.method.as_str() == method || (endpoint.quirk == Quirk::Download && method == "GET");
        if !method_ok {
            continue;
        }
        let Some(params) = match_template(endpoint.path, path) else {
            continue;
        };
        // A download's poll names only its job id: any of the path's downloads routes it.
        let poll = endpoint.quirk == Quirk::Download && method == "GET";
        let selectors_match = poll
            || endpoint
                .fixed_query
                .iter()
                .all(|(k, v)| query.iter().any(|(qk, qv)| qk == k && qv.eq_ignore_ascii_case(v)));
        if !selectors_match {
            continue;
        }
        // Prefer templates with fewer placeholders (literal segments win).
        let better = match &best {
            None => true,
            Some((_, p)) => params.len() < p.len(),
        };
        if better {
            best = Some((endpoint, params));
        }
    }
    best
}

fn match_template(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (ts, ps) in t.iter().zip(p.iter()) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            params.insert(name.to_string(), ps.to_string());
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

/// Months a month-kind path parameter pair names, validated.
pub fn month_from_params(params: &BTreeMap<String, String>) -> Option<Month> {
    let year: i32 = params.get("year")?.parse().ok()?;
    let month_str = params.get("month")?;
    if month_str.len() != 2 {
        return None;
    }
    Month::new(year, month_str.parse().ok()?)
}

/// Parses the `financial_year` query value (`FY 2025-26`).
pub fn year_from_query(query: &[(String, String)]) -> Option<FinancialYear> {
    let value = query.iter().find(|(k, _)| k == "financial_year")?.1.as_str();
    FinancialYear::parse(value).ok()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_mistyped_endpoint_gets_the_nearest_names() {
        let e = unknown_endpoint("gstr3b");
        assert!(
            e.starts_with("unknown endpoint \"gstr3b\"; did you mean gstr-3b"),
            "{e}"
        );
        let e = unknown_endpoint("ledger-cahs");
        assert!(e.contains("did you mean ledger-cash"), "{e}");
        let e = unknown_endpoint("zzzz");
        assert_eq!(e, "unknown endpoint \"zzzz\"; `gstvault config check` lists them");
    }

    use super::*;

    #[test]
    fn catalog_names_are_unique_and_cover_the_list() {
        let mut names: Vec<_> = ENDPOINTS.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ENDPOINTS.len());
        // 90 rows of ENDPOINTS.md: the IMS selectors add 7 + 2 names, the e-invoice
        // job's POST and GET rows are one capture job each (−2) per supply type
        // (6 each, +10); notices, notice details and file details add 3.
        assert_eq!(ENDPOINTS.len(), 90 + 7 + 2 - 2 + 10 + 3);
        for group in Group::ALL {
            assert!(ENDPOINTS.iter().any(|e| e.group == group), "{group} has endpoints");
        }
    }

    #[test]
    fn routes_back_to_the_same_endpoint() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        for endpoint in ENDPOINTS.iter().filter(|e| e.quirk != Quirk::NeedsIdentifier) {
            let period = match endpoint.period {
                PeriodKind::Month | PeriodKind::DateRange => Period::Month(Month::parse("2026-05").unwrap()),
                PeriodKind::FinancialYear => Period::Year(FinancialYear { start_year: 2025 }),
                PeriodKind::None => Period::Current,
            };
            let spec = endpoint.request("27AAPFU0939F1ZV", &period, today).unwrap();
            let (found, _) = route(spec.method.as_str(), &spec.path, &spec.query).unwrap();
            assert_eq!(found.name, endpoint.name);
        }
    }

    #[test]
    fn range_request_is_clamped_and_encoded() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let e = find("ledger-cash").unwrap();
        let spec = e
            .request(
                "27AAPFU0939F1ZV",
                &Period::Month(Month::parse("2026-11").unwrap()),
                today,
            )
            .unwrap();
        assert_eq!(
            spec.path_and_query(),
            "/gst/compliance/tax-payer/ledgers/cash?from=01%2F11%2F2026&to=25%2F11%2F2026"
        );
        let fy = find("aato").unwrap();
        let spec = fy
            .request(
                "27AAPFU0939F1ZV",
                &Period::Year(FinancialYear { start_year: 2025 }),
                today,
            )
            .unwrap();
        assert_eq!(
            spec.path_and_query(),
            "/gst/compliance/tax-payer/aato?financial_year=FY%202025-26"
        );
    }
}
