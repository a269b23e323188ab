//! Periods and calendar arithmetic: return months, financial years, the
//! Indian date the portal reasons in, and the default capture window.
//!
//! Pure functions of their arguments: nothing here reads a clock. Callers pass
//! "now" in, which is what lets tests and the simulator move time at will.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// India Standard Time, the zone of every portal date.
pub fn ist() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("IST offset is valid")
}

/// The portal's calendar date at instant `now`.
pub fn india_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&ist()).date_naive()
}

/// A return month, e.g. 2025-04.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

/// A financial year April–March, named by the calendar year it starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FinancialYear {
    pub start_year: i32,
}

/// What a snapshot is "of": one month, one financial year, or no period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Month(Month),
    Year(FinancialYear),
    /// Endpoints that answer with the portal's current state (IMS pool).
    Current,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("period {0:?} is not a month (expected YYYY-MM, e.g. 2025-04)")]
    BadMonth(String),
    #[error("period {0:?} is not a financial year (expected YYYY-YY, e.g. 2025-26)")]
    BadYear(String),
    #[error("period {0:?} is not a month (YYYY-MM), a financial year (FY2025-26) or '-'")]
    BadPeriod(String),
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1990..=2999).contains(&year)).then_some(Month { year, month })
    }

    /// Parses `YYYY-MM`.
    pub fn parse(input: &str) -> Result<Month, PeriodError> {
        let bad = || PeriodError::BadMonth(input.to_string());
        let (y, m) = input.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Month::new(year, month).ok_or_else(bad)
    }

    pub fn of_date(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("date after 1990")
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// A date in this month, clamped to its length.
    pub fn day(self, day: u32) -> NaiveDate {
        let last = self.last_day().day();
        NaiveDate::from_ymd_opt(self.year, self.month, day.clamp(1, last)).expect("clamped day")
    }

    pub fn financial_year(self) -> FinancialYear {
        FinancialYear {
            start_year: if self.month >= 4 { self.year } else { self.year - 1 },
        }
    }

    /// `MMYYYY`, the return-period form inside payloads.
    pub fn ret_period(self) -> String {
        format!("{:02}{}", self.month, self.year)
    }

    /// Path segments `{year}`, `{month}`.
    pub fn path_year(self) -> String {
        format!("{}", self.year)
    }
    pub fn path_month(self) -> String {
        format!("{:02}", self.month)
    }

    /// Every month from `self` to `last`, inclusive.
    pub fn through(self, last: Month) -> Vec<Month> {
        let mut out = Vec::new();
        let mut m = self;
        while m <= last {
            out.push(m);
            m = m.next();
        }
        out
    }

    /// Number of months from `self` to `other` (negative when other is earlier).
    pub fn months_until(self, other: Month) -> i32 {
        (other.year - self.year) * 12 + other.month as i32 - self.month as i32
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

impl FinancialYear {
    /// Parses `YYYY-YY`, `FY YYYY-YY` or `FYYYYY-YY`.
    pub fn parse(input: &str) -> Result<FinancialYear, PeriodError> {
        let bad = || PeriodError::BadYear(input.to_string());
        let trimmed = input.trim();
        let body = trimmed.strip_prefix("FY").map(str::trim).unwrap_or(trimmed);
        let (a, b) = body.split_once('-').ok_or_else(bad)?;
        if a.len() != 4 || b.len() != 2 {
            return Err(bad());
        }
        let start: i32 = a.parse().map_err(|_| bad())?;
        let end: i32 = b.parse().map_err(|_| bad())?;
        if (start + 1) % 100 != end || !(1990..=2999).contains(&start) {
            return Err(bad());
        }
        Ok(FinancialYear { start_year: start })
    }

    pub fn first_month(self) -> Month {
        Month {
            year: self.start_year,
            month: 4,
        }
    }

    pub fn last_month(self) -> Month {
        Month {
            year: self.start_year + 1,
            month: 3,
        }
    }

    pub fn months(self) -> Vec<Month> {
        self.first_month().through(self.last_month())
    }

    /// `2025-26`.
    pub fn label(self) -> String {
        format!("{}-{:02}", self.start_year, (self.start_year + 1) % 100)
    }

    /// `FY 2025-26`, the API's `financial_year` value.
    pub fn api_value(self) -> String {
        format!("FY {}", self.label())
    }

    /// The last day amendments and ITC claims of this year are allowed:
    /// 30 November after the year ends (GST-PRIMER.md).
    pub fn amendment_deadline(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.start_year + 1, 11, 30).expect("valid date")
    }

    /// GSTR-9 due date: 31 December after the year.
    pub fn annual_return_due(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.start_year + 1, 12, 31).expect("valid date")
    }

    pub fn next(self) -> FinancialYear {
        FinancialYear {
            start_year: self.start_year + 1,
        }
    }

    pub fn prev(self) -> FinancialYear {
        FinancialYear {
            start_year: self.start_year - 1,
        }
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{}", self.label())
    }
}

impl Period {
    /// Parses the stored form: `2025-04`, `FY2025-26` (also `2025-26` with an `FY`
    /// prefix spelled any way) or `-`.
    pub fn parse(input: &str) -> Result<Period, PeriodError> {
        let t = input.trim();
        if t == "-" {
            return Ok(Period::Current);
        }
        if t.starts_with("FY") {
            return FinancialYear::parse(t)
                .map(Period::Year)
                .map_err(|_| PeriodError::BadPeriod(input.into()));
        }
        Month::parse(t)
            .map(Period::Month)
            .map_err(|_| PeriodError::BadPeriod(input.into()))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Year(y) => y.fmt(f),
            Period::Current => f.write_str("-"),
        }
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `DD/MM/YYYY`, the ledger query date form.
pub fn ledger_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// Parses `DD/MM/YYYY`.
pub fn parse_ledger_date(input: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(input, "%d/%m/%Y").ok()
}

/// The date range of a month for range endpoints: the whole month, `to`
/// clamped to `today` (the portal answers LG9089 for a `to` after today).
/// None when the month has not started yet.
pub fn month_range(month: Month, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let from = month.first_day();
    if from > today {
        return None;
    }
    Some((from, month.last_day().min(today)))
}

/// The default capture window at `today`: every month whose data can still
/// change. The current financial year so far, plus the previous one until its
/// amendment deadline (30 November).
pub fn default_window(today: NaiveDate) -> (Month, Month) {
    let current = Month::of_date(today);
    let fy = current.financial_year();
    let first = if today <= fy.prev().amendment_deadline() {
        fy.prev().first_month()
    } else {
        fy.first_month()
    };
    (first, current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_years_round_trip() {
        let m = Month::parse("2025-04").unwrap();
        assert_eq!(m.to_string(), "2025-04");
        assert_eq!(m.financial_year().label(), "2025-26");
        assert_eq!(Month::parse("2026-01").unwrap().financial_year().label(), "2025-26");
        assert_eq!(FinancialYear::parse("FY 2025-26").unwrap().to_string(), "FY2025-26");
        assert_eq!(
            Period::parse("FY2025-26").unwrap(),
            Period::Year(FinancialYear { start_year: 2025 })
        );
        assert!(Month::parse("2025-13").is_err());
        assert!(FinancialYear::parse("2025-27").is_err());
        assert_eq!(Month::parse("2024-02").unwrap().last_day().day(), 29);
    }

    #[test]
    fn range_is_clamped_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let (from, to) = month_range(Month::parse("2026-11").unwrap(), today).unwrap();
        assert_eq!(ledger_date(from), "01/11/2026");
        assert_eq!(ledger_date(to), "25/11/2026");
        assert!(month_range(Month::parse("2026-12").unwrap(), today).is_none());
    }

    #[test]
    fn default_window_keeps_previous_year_until_november_30() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(default_window(d(2026, 11, 25)).0.to_string(), "2025-04");
        assert_eq!(default_window(d(2026, 12, 1)).0.to_string(), "2026-04");
        assert_eq!(default_window(d(2026, 12, 1)).1.to_string(), "2026-12");
    }
}
