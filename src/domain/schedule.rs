//! The daemon's schedules: every reason the daemon acts is one [`JobKind`],
//! each with a cron expression (with seconds, evaluated in India time) parsed
//! once by `croner` exactly as `tokio-cron-scheduler` parses it, so what
//! `config check` prints is what the daemon does. Pure: "now" is an argument.

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;

use crate::domain::period::{ist, FinancialYear, Month};

/// Why the daemon does something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// One capture pass over the window that can still change.
    Capture,
    /// Each GSTIN's bundle of the previous month.
    ExportMonth,
    /// Each GSTIN's bundle of the previous financial year.
    ExportYear,
    /// Sign a checkpoint when the log grew.
    Checkpoint,
    /// Refresh taxpayer sessions that are about to lapse.
    SessionRefresh,
    /// Verify the whole archive (`verify --archive`).
    Verify,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::Capture,
        JobKind::ExportMonth,
        JobKind::ExportYear,
        JobKind::Checkpoint,
        JobKind::SessionRefresh,
        JobKind::Verify,
    ];

    /// The job's name in config keys, logs, metrics and `status`.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Capture => "capture",
            JobKind::ExportMonth => "export_month",
            JobKind::ExportYear => "export_year",
            JobKind::Checkpoint => "checkpoint",
            JobKind::SessionRefresh => "session_refresh",
            JobKind::Verify => "verify",
        }
    }

    pub fn parse(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Where a daemon job's run stands, as the `job_runs` table records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Started and not finished (or its process died: marked interrupted at the next start).
    Running,
    Ok,
    Failed,
    /// Stopped by a shutdown before it finished.
    Interrupted,
    /// Not run: the previous run of the same job was still going.
    Skipped,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Running,
        JobState::Ok,
        JobState::Failed,
        JobState::Interrupted,
        JobState::Skipped,
    ];

    /// The stored and printed name (also the metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Ok => "ok",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
            JobState::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One scheduled job.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub kind: JobKind,
    pub expression: String,
    cron: Cron,
}

impl Schedule {
    /// Parses a cron expression the way tokio-cron-scheduler does (seconds required).
    pub fn parse(kind: JobKind, expression: &str) -> Result<Schedule, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(expression)
            .map_err(|e| {
                format!("{expression:?} is not a cron expression with seconds (sec min hour dom month dow): {e}")
            })?;
        Ok(Schedule {
            kind,
            expression: expression.to_string(),
            cron,
        })
    }

    /// The next `count` instants strictly after `after`, evaluated in IST.
    pub fn next_fires(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(count);
        let mut from = after.with_timezone(&ist());
        for _ in 0..count {
            match self.cron.find_next_occurrence(&from, false) {
                Ok(next) => {
                    out.push(next.with_timezone(&Utc));
                    from = next;
                }
                Err(_) => break,
            }
        }
        out
    }
}

impl Schedule {
    /// The schedule's interval around `after`: the longest gap between
    /// consecutive fire times among the next eight after it. Health calls a
    /// job's result stale after twice this; taking the longest gap means an
    /// irregular schedule (weekdays only, the 1st of each month) is judged by
    /// its longest wait, never by its shortest. None when it fires fewer than
    /// twice more.
    pub fn interval_after(&self, after: DateTime<Utc>) -> Option<chrono::Duration> {
        let fires = self.next_fires(after, 8);
        fires.windows(2).map(|pair| pair[1] - pair[0]).max()
    }
}

/// The month a monthly export at `now` bundles: the previous month (IST).
pub fn export_month_at(now: DateTime<Utc>) -> Month {
    Month::of_date(crate::domain::period::india_date(now)).prev()
}

/// The year a yearly export at `now` bundles: the last FY whose amendment
/// deadline has passed.
pub fn export_year_at(now: DateTime<Utc>) -> FinancialYear {
    let today = crate::domain::period::india_date(now);
    let mut fy = Month::of_date(today).financial_year().prev();
    while fy.amendment_deadline() >= today {
        fy = fy.prev();
    }
    fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ist_time(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        ist().with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn monthly_export_fires_on_the_21st_across_month_and_year_ends() {
        let s = Schedule::parse(JobKind::ExportMonth, "0 0 6 21 * *").unwrap();
        let fires = s.next_fires(ist_time(2026, 11, 25, 12, 0), 3);
        assert_eq!(
            fires,
            vec![
                ist_time(2026, 12, 21, 6, 0),
                ist_time(2027, 1, 21, 6, 0),
                ist_time(2027, 2, 21, 6, 0)
            ]
        );
        assert_eq!(export_month_at(fires[1]).to_string(), "2026-12");
        // Exactly at a fire time, the next one is the following month.
        assert_eq!(
            s.next_fires(ist_time(2026, 12, 21, 6, 0), 1),
            vec![ist_time(2027, 1, 21, 6, 0)]
        );
    }

    #[test]
    fn nightly_capture_crosses_month_end_in_india_time() {
        let s = Schedule::parse(JobKind::Capture, "0 30 2 * * *").unwrap();
        let fires = s.next_fires(ist_time(2026, 1, 31, 3, 0), 2);
        assert_eq!(fires, vec![ist_time(2026, 2, 1, 2, 30), ist_time(2026, 2, 2, 2, 30)]);
        // 02:30 IST is 21:00 UTC the day before.
        assert_eq!(fires[0], Utc.with_ymd_and_hms(2026, 1, 31, 21, 0, 0).unwrap());
    }

    #[test]
    fn the_interval_is_the_longest_gap_between_the_next_fires() {
        let nightly = Schedule::parse(JobKind::Capture, "0 30 2 * * *").unwrap();
        assert_eq!(
            nightly.interval_after(ist_time(2026, 1, 31, 3, 0)),
            Some(chrono::Duration::days(1))
        );
        let hourly = Schedule::parse(JobKind::Checkpoint, "0 0 * * * *").unwrap();
        assert_eq!(
            hourly.interval_after(ist_time(2026, 1, 31, 3, 10)),
            Some(chrono::Duration::hours(1))
        );
        // Weekdays only: the weekend's gap of three days, whatever day it is now.
        let weekdays = Schedule::parse(JobKind::Capture, "0 30 2 * * Mon-Fri").unwrap();
        assert_eq!(
            weekdays.interval_after(ist_time(2026, 1, 27, 3, 0)),
            Some(chrono::Duration::days(3))
        );
    }

    #[test]
    fn yearly_export_waits_for_the_amendment_deadline() {
        assert_eq!(export_year_at(ist_time(2026, 12, 1, 7, 0)).label(), "2025-26");
        assert_eq!(export_year_at(ist_time(2026, 11, 30, 7, 0)).label(), "2024-25");
    }
}
