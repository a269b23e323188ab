//! Who may see what in the web view: an account's [`Role`], the GSTINs an
//! auditor is granted ([`Grant`], optionally for a window of months), and the
//! last IST day the account may see anything (`until`). A [`Viewer`] answers
//! "may this account see this GSTIN, this period, today?" from those facts
//! alone; the rules for account names and passwords live here too. Pure: no
//! IO, no clock ("today" is an argument), no password hashing (that is
//! `app::users`).

use chrono::NaiveDate;

use super::gstin::Gstin;
use super::period::{Month, Period};

/// What an account is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Sees every GSTIN and the access log; manages accounts.
    Admin,
    /// The firm's compliance team: sees every GSTIN.
    Staff,
    /// A statutory auditor: sees only the GSTINs (and periods) granted.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Staff, Role::Auditor];

    /// The stored and typed name: `admin`, `staff`, `auditor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    /// The role named `text` exactly (lower case), or None.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One GSTIN an auditor may see, for the months `from..=to` (an absent end is
/// open; both absent: every period, the current-state endpoints too).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    pub gstin: Gstin,
    pub from: Option<Month>,
    pub to: Option<Month>,
}

impl Grant {
    /// Whether the grant limits the periods at all.
    pub fn has_window(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// Whether `period` falls in the window: a month inside it, a financial
    /// year with a month inside it, the current state only without a window.
    pub fn covers(&self, period: &Period) -> bool {
        let after_from = |m: Month| self.from.is_none_or(|from| m >= from);
        let before_to = |m: Month| self.to.is_none_or(|to| m <= to);
        match period {
            Period::Month(m) => after_from(*m) && before_to(*m),
            // Overlap of [first, last] and [from, to].
            Period::Year(fy) => before_to(fy.first_month()) && after_from(fy.last_month()),
            Period::Current => !self.has_window(),
        }
    }

    /// `27AAPFU0939F1ZV`, `27AAPFU0939F1ZV 2025-04..2026-03`, `… 2025-04..`, `… ..2026-03`.
    pub fn describe(&self) -> String {
        if !self.has_window() {
            return self.gstin.to_string();
        }
        let end = |m: Option<Month>| m.map(|m| m.to_string()).unwrap_or_default();
        format!("{} {}..{}", self.gstin, end(self.from), end(self.to))
    }
}

/// A logged-in account as the web view checks it: no password, no hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
    /// What an auditor may see; empty for admin and staff, who see everything.
    pub grants: Vec<Grant>,
    /// The last IST day the account may see anything; None: no end.
    pub until: Option<NaiveDate>,
}

impl Viewer {
    /// Whether the account's last day has passed (`today_ist` is after `until`).
    pub fn expired(&self, today_ist: NaiveDate) -> bool {
        self.until.is_some_and(|until| today_ist > until)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admin and staff see every GSTIN, an auditor only the granted ones;
    /// nobody sees anything once expired.
    pub fn may_see_gstin(&self, gstin: &Gstin, today_ist: NaiveDate) -> bool {
        if self.expired(today_ist) {
            return false;
        }
        match self.role {
            Role::Admin | Role::Staff => true,
            Role::Auditor => self.grants.iter().any(|g| &g.gstin == gstin),
        }
    }

    /// [`Viewer::may_see_gstin`], and for an auditor a grant of that GSTIN
    /// whose window covers `period` ([`Grant::covers`]).
    pub fn may_see(&self, gstin: &Gstin, period: &Period, today_ist: NaiveDate) -> bool {
        if !self.may_see_gstin(gstin, today_ist) {
            return false;
        }
        match self.role {
            Role::Admin | Role::Staff => true,
            Role::Auditor => self.grants.iter().any(|g| &g.gstin == gstin && g.covers(period)),
        }
    }
}

/// The longest account name.
pub const MAX_NAME_CHARS: usize = 32;
/// The shortest password.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// An account name: 1 to 32 characters of `a-z`, `0-9`, `.`, `_`, `-`,
/// starting with a letter.
///
/// Fails with a one-line reason naming the name.
pub fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if name.len() <= MAX_NAME_CHARS && starts_with_letter && name.chars().all(allowed) {
        return Ok(());
    }
    // The name is shown only when it is printable and short: it is typed input.
    let shown: String = name.chars().take(40).filter(|c| !c.is_control()).collect();
    Err(format!(
        "user name {shown:?}: 1 to {MAX_NAME_CHARS} characters of a-z, 0-9, '.', '_' and '-', starting with a letter"
    ))
}

/// A password: at least 12 characters, not one character repeated.
///
/// Fails with a one-line reason that never contains the password.
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password has {chars} characters: at least {MIN_PASSWORD_CHARS} are needed"
        ));
    }
    let mut distinct = password.chars();
    let first = distinct.next();
    if distinct.all(|c| Some(c) == first) {
        return Err("the password is one character repeated: choose another".into());
    }
    Ok(())
}

/// [`check_password`], and not the account's own name.
///
/// Fails as [`check_password`] does, or when the password is the name.
pub fn check_password_for(name: &str, password: &str) -> Result<(), String> {
    check_password(password)?;
    if password == name {
        return Err("the password is the user's name: choose another".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::FinancialYear;

    fn gstin(text: &str) -> Gstin {
        Gstin::parse(text).unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap()
    }

    const GRANTED: &str = "27AAPFU0939F1ZV";
    const OTHER: &str = "29AABCK4521M1ZC";

    fn viewer(role: Role, grants: Vec<Grant>, until: Option<&str>) -> Viewer {
        Viewer {
            name: "someone".into(),
            role,
            grants,
            until: until.map(day),
        }
    }

    fn grant(from: Option<&str>, to: Option<&str>) -> Grant {
        Grant {
            gstin: gstin(GRANTED),
            from: from.map(month),
            to: to.map(month),
        }
    }

    #[test]
    fn roles_have_one_name_each() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse(""), None);
    }

    #[test]
    fn admin_and_staff_see_every_gstin_and_period_an_auditor_only_the_granted() {
        let today = day("2026-05-01");
        let periods = [
            Period::Month(month("2025-04")),
            Period::Year(FinancialYear { start_year: 2025 }),
            Period::Current,
        ];
        for role in [Role::Admin, Role::Staff] {
            let v = viewer(role, vec![], None);
            assert!(v.may_see_gstin(&gstin(OTHER), today));
            assert!(periods.iter().all(|p| v.may_see(&gstin(OTHER), p, today)));
        }
        let auditor = viewer(Role::Auditor, vec![grant(None, None)], None);
        assert!(auditor.may_see_gstin(&gstin(GRANTED), today));
        assert!(!auditor.may_see_gstin(&gstin(OTHER), today));
        assert!(periods.iter().all(|p| auditor.may_see(&gstin(GRANTED), p, today)));
        assert!(periods.iter().all(|p| !auditor.may_see(&gstin(OTHER), p, today)));
        assert!(!viewer(Role::Auditor, vec![], None).may_see_gstin(&gstin(GRANTED), today));
        assert!(viewer(Role::Admin, vec![], None).is_admin());
        assert!(!viewer(Role::Staff, vec![], None).is_admin());
        assert!(!auditor.is_admin());
    }

    #[test]
    fn nobody_sees_anything_after_the_last_day() {
        for role in Role::ALL {
            let v = viewer(role, vec![grant(None, None)], Some("2026-03-31"));
            let p = Period::Month(month("2025-04"));
            assert!(!v.expired(day("2026-03-31")), "the last day is still in");
            assert!(v.may_see(&gstin(GRANTED), &p, day("2026-03-31")));
            assert!(v.expired(day("2026-04-01")));
            assert!(!v.may_see_gstin(&gstin(GRANTED), day("2026-04-01")));
            assert!(!v.may_see(&gstin(GRANTED), &p, day("2026-04-01")));
        }
        assert!(!viewer(Role::Auditor, vec![], None).expired(day("2999-12-31")));
    }

    #[test]
    fn a_window_admits_its_months_the_years_it_overlaps_and_no_current_state() {
        let today = day("2026-05-01");
        let v = viewer(Role::Auditor, vec![grant(Some("2025-10"), Some("2026-03"))], None);
        let sees = |p: &str| v.may_see(&gstin(GRANTED), &Period::parse(p).unwrap(), today);
        assert!(sees("2025-10") && sees("2026-03") && sees("2025-12"), "inclusive");
        assert!(!sees("2025-09") && !sees("2026-04"));
        assert!(sees("FY2025-26"), "the window is inside it");
        assert!(!sees("FY2024-25") && !sees("FY2026-27"));
        assert!(!sees("-"), "current state shows today's data, outside any window");
        // A window across a year end overlaps both years.
        let across = viewer(Role::Auditor, vec![grant(Some("2025-03"), Some("2025-04"))], None);
        for fy in ["FY2024-25", "FY2025-26"] {
            assert!(across.may_see(&gstin(GRANTED), &Period::parse(fy).unwrap(), today));
        }
        // Open ends.
        let from = viewer(Role::Auditor, vec![grant(Some("2025-04"), None)], None);
        assert!(from.may_see(&gstin(GRANTED), &Period::parse("2030-01").unwrap(), today));
        assert!(!from.may_see(&gstin(GRANTED), &Period::parse("2025-03").unwrap(), today));
        assert!(!from.may_see(&gstin(GRANTED), &Period::parse("FY2024-25").unwrap(), today));
        let to = viewer(Role::Auditor, vec![grant(None, Some("2025-03"))], None);
        assert!(to.may_see(&gstin(GRANTED), &Period::parse("2019-01").unwrap(), today));
        assert!(to.may_see(&gstin(GRANTED), &Period::parse("FY2024-25").unwrap(), today));
        assert!(!to.may_see(&gstin(GRANTED), &Period::parse("FY2025-26").unwrap(), today));
        // Another GSTIN's grant does not widen this one's window.
        let two = viewer(
            Role::Auditor,
            vec![
                grant(Some("2025-10"), Some("2025-10")),
                Grant {
                    gstin: gstin(OTHER),
                    from: None,
                    to: None,
                },
            ],
            None,
        );
        assert!(!two.may_see(&gstin(GRANTED), &Period::parse("2025-11").unwrap(), today));
        assert!(two.may_see(&gstin(OTHER), &Period::parse("2025-11").unwrap(), today));
        // Admin and staff have no windows.
        let staff = viewer(Role::Staff, vec![], None);
        assert!(staff.may_see(&gstin(GRANTED), &Period::Current, today));
    }

    #[test]
    fn grants_describe_their_window() {
        assert_eq!(grant(None, None).describe(), GRANTED);
        assert_eq!(
            grant(Some("2025-04"), Some("2026-03")).describe(),
            format!("{GRANTED} 2025-04..2026-03")
        );
        assert_eq!(grant(Some("2025-04"), None).describe(), format!("{GRANTED} 2025-04.."));
        assert_eq!(grant(None, Some("2026-03")).describe(), format!("{GRANTED} ..2026-03"));
    }

    #[test]
    fn names_are_short_lower_case_and_start_with_a_letter() {
        for good in ["a", "ca.sharma", "audit_2026", "r-k", &"x".repeat(32)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "1abc",
            ".abc",
            "Alice",
            "al ice",
            "al/ice",
            "ål",
            &"x".repeat(33),
            "a\n",
        ] {
            let e = check_name(bad).unwrap_err();
            assert!(e.starts_with("user name "), "{e}");
            assert!(!e.contains('\n'), "one line: {e:?}");
        }
    }

    #[test]
    fn passwords_are_long_not_one_character_and_not_the_name() {
        assert_eq!(check_password("correct horse battery"), Ok(()));
        assert_eq!(check_password("abcdefghijkl"), Ok(()), "12 is enough");
        let short = check_password("abcdefghijk").unwrap_err();
        assert!(
            short.contains("11 characters") && short.contains("at least 12"),
            "{short}"
        );
        assert!(!short.contains("abcdefghijk"), "never the password: {short}");
        // Characters, not bytes.
        assert!(check_password("ééééééé1").is_err());
        assert!(check_password("aaaaaaaaaaaaaaaa")
            .unwrap_err()
            .contains("one character repeated"));
        assert!(check_password_for("ca.sharma.2026", "ca.sharma.2026")
            .unwrap_err()
            .contains("the user's name"));
        assert_eq!(check_password_for("ca.sharma", "ca.sharma.2026"), Ok(()));
        assert!(check_password_for("x", "short").is_err());
    }
}
