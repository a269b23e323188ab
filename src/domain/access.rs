//! Who may see what in the web view: an account's role and grants as a
//! [`Viewer`]. Admin and staff see every GSTIN; an auditor sees only the
//! GSTINs (and, optionally, the months) granted, until the grant expires.
//! Pure: "today" (IST) is an argument.

use chrono::NaiveDate;

use super::gstin::Gstin;
use super::period::{Month, Period};

/// An account's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Staff,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Staff, Role::Auditor]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// One GSTIN an auditor may see, optionally only some months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub gstin: Gstin,
    pub from: Option<Month>,
    pub to: Option<Month>,
}

/// A logged-in account, as the web view checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
    pub grants: Vec<Grant>,
    /// The last IST day the account may see anything.
    pub until: Option<NaiveDate>,
}

impl Viewer {
    pub fn expired(&self, today_ist: NaiveDate) -> bool {
        self.until.is_some_and(|u| today_ist > u)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn may_see_gstin(&self, gstin: &Gstin, today_ist: NaiveDate) -> bool {
        if self.expired(today_ist) {
            return false;
        }
        match self.role {
            Role::Admin | Role::Staff => true,
            Role::Auditor => self.grants.iter().any(|g| &g.gstin == gstin),
        }
    }

    pub fn may_see(&self, gstin: &Gstin, period: &Period, today_ist: NaiveDate) -> bool {
        if !self.may_see_gstin(gstin, today_ist) {
            return false;
        }
        if self.role != Role::Auditor {
            return true;
        }
        self.grants.iter().filter(|g| &g.gstin == gstin).any(|g| {
            let (lo, hi) = (g.from, g.to);
            if lo.is_none() && hi.is_none() {
                return true;
            }
            let inside = |m: Month| lo.is_none_or(|l| m >= l) && hi.is_none_or(|h| m <= h);
            match period {
                Period::Month(m) => inside(*m),
                Period::Year(fy) => lo.is_none_or(|l| fy.last_month() >= l) && hi.is_none_or(|h| fy.first_month() <= h),
                Period::Current => false,
            }
        })
    }
}
