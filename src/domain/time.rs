//! Instants as the archive keeps them: [`Timestamp`], whole milliseconds
//! since the Unix epoch in UTC, the precision of every stored time and of
//! the log's records. Its text is RFC 3339 in UTC with milliseconds
//! (`2026-05-01T04:30:00.000Z`), the one time format of the archive, the
//! leaf encoding and the bundle's machine-readable files. Pure: no clock.
//!
//! What a person reads shows an instant in a display [`Zone`] (IST unless
//! `[display] timezone` says otherwise) to the second, with its offset:
//! `2026-05-01 10:00:00 +05:30`.

use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// The zone a person reads times in: a fixed offset from UTC (India has
/// one zone and no daylight saving; IST is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(FixedOffset);

impl Default for Zone {
    fn default() -> Zone {
        Zone::IST
    }
}

impl Zone {
    /// India Standard Time, UTC+05:30.
    pub const IST: Zone = Zone(match FixedOffset::east_opt(5 * 3600 + 30 * 60) {
        Some(offset) => offset,
        None => panic!("IST is a valid offset"),
    });
    /// UTC.
    pub const UTC: Zone = Zone(match FixedOffset::east_opt(0) {
        Some(offset) => offset,
        None => panic!("UTC is a valid offset"),
    });

    /// `IST` or `Asia/Kolkata` (the same), `UTC`, or an offset `+05:30` / `-04:00`.
    pub fn parse(text: &str) -> Option<Zone> {
        match text.trim() {
            "IST" | "Asia/Kolkata" | "Asia/Calcutta" => Some(Zone::IST),
            "UTC" | "Z" | "Etc/UTC" => Some(Zone::UTC),
            other => {
                let (sign, rest) = match other.as_bytes().first()? {
                    b'+' => (1, &other[1..]),
                    b'-' => (-1, &other[1..]),
                    _ => return None,
                };
                let (h, m) = rest.split_once(':')?;
                if h.len() != 2 || m.len() != 2 {
                    return None;
                }
                let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
                if h > 14 || m > 59 {
                    return None;
                }
                FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Zone)
            }
        }
    }

    /// The zone every time a person reads is shown in: what
    /// [`Zone::set_display`] set (the command line sets `[display]
    /// timezone` once, on loading the config), IST until then.
    pub fn display() -> Zone {
        DISPLAY.get().copied().unwrap_or_default()
    }

    /// Sets [`Zone::display`] for the process; the first call wins.
    pub fn set_display(zone: Zone) {
        let _ = DISPLAY.set(zone);
    }

    /// The offset from UTC.
    pub fn offset(self) -> FixedOffset {
        self.0
    }

    /// For a person: `2026-05-01 10:00:00 +05:30` (to the second).
    pub fn human(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0).format("%Y-%m-%d %H:%M:%S %:z").to_string()
    }

    /// For a spreadsheet: RFC 3339 in this zone to the second, `2026-05-01T10:00:00+05:30`.
    pub fn rfc3339(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0).to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

static DISPLAY: std::sync::OnceLock<Zone> = std::sync::OnceLock::new();

/// An instant as a person reads it: in the display zone, to the second,
/// with its offset (`2026-12-21 06:00:00 +05:30`).
pub fn when(t: DateTime<Utc>) -> String {
    Zone::display().human(t)
}

/// [`when`] for a stored instant.
pub fn when_stored(t: Timestamp) -> String {
    t.to_datetime().map(when).unwrap_or_else(|| t.to_string())
}

/// Which end of a date an instant option means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayEnd {
    /// 00:00:00.000 IST (`--since`).
    Start,
    /// 23:59:59.999 IST, or now when that day is not over (`--as-of`, `--at`).
    End,
}

/// The one grammar of every option that takes an instant (`--as-of`,
/// `--at`, `--since`): an RFC 3339 instant (`2026-05-01T10:00:00+05:30`), a
/// date read as an India calendar day (`2026-05-01`: its start or its end
/// as `end` says, the end of today being now), or a duration before `now`
/// (`90m`, `12h`, `7d`, `2w`). The error says what was expected.
pub fn parse_instant(text: &str, end: DayEnd, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    use chrono::{NaiveDate, NaiveTime, TimeZone};
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let time = match end {
            DayEnd::Start => NaiveTime::MIN,
            DayEnd::End => NaiveTime::from_hms_milli_opt(23, 59, 59, 999).expect("valid time"),
        };
        let local = Zone::IST
            .offset()
            .from_local_datetime(&date.and_time(time))
            .single()
            .expect("IST has no gaps");
        let t = local.with_timezone(&Utc);
        return Ok(if end == DayEnd::End { t.min(now) } else { t });
    }
    if let Some(ago) = relative(text) {
        return now
            .checked_sub_signed(ago)
            .ok_or_else(|| format!("{text:?}: too far back"));
    }
    Err(format!(
        "{text:?}: not an instant: give RFC 3339 (2026-05-01T10:00:00+05:30), a date (2026-05-01, a day in IST) \
         or a time ago (90m, 12h, 7d, 2w)"
    ))
}

/// `90m`, `12h`, `7d`, `2w` as a duration.
fn relative(text: &str) -> Option<chrono::Duration> {
    let unit = text.chars().last()?;
    let count: i64 = text[..text.len() - unit.len_utf8()].parse().ok().filter(|n| *n >= 0)?;
    match unit {
        'm' => chrono::Duration::try_minutes(count),
        'h' => chrono::Duration::try_hours(count),
        'd' => chrono::Duration::try_days(count),
        'w' => chrono::Duration::try_weeks(count),
        _ => None,
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Zone::IST => f.write_str("IST (+05:30)"),
            Zone::UTC => f.write_str("UTC"),
            other => write!(f, "{}", other.0),
        }
    }
}

/// An instant to the millisecond, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `ms` milliseconds after the Unix epoch.
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch (the stored form).
    pub fn millis(self) -> i64 {
        self.0
    }

    /// `t` to the millisecond (finer digits are dropped, as the archive drops them).
    pub fn of(t: DateTime<Utc>) -> Timestamp {
        Timestamp(t.timestamp_millis())
    }

    /// The instant as a chrono time; None when it lies outside chrono's range
    /// (only a damaged row can hold such a value).
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }

    /// Parses RFC 3339 text (any offset); None when it is not RFC 3339.
    pub fn parse(text: &str) -> Option<Timestamp> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Timestamp::of(t.with_timezone(&Utc)))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Timestamp {
        Timestamp::of(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "invalid time {}", self.0),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_grammar_for_every_instant_option() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |t: &str, end| parse_instant(t, end, now).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        assert_eq!(at("2026-04-01", DayEnd::End).unwrap(), "2026-04-01T18:29:59.999Z");
        assert_eq!(at("2026-04-01", DayEnd::Start).unwrap(), "2026-03-31T18:30:00.000Z");
        // Today (IST) is not over: its end is now.
        assert_eq!(at("2026-05-01", DayEnd::End).unwrap(), "2026-05-01T12:00:00.000Z");
        assert_eq!(
            at("2026-05-01T10:00:00+05:30", DayEnd::End).unwrap(),
            "2026-05-01T04:30:00.000Z"
        );
        assert_eq!(at("7d", DayEnd::Start).unwrap(), "2026-04-24T12:00:00.000Z");
        assert_eq!(at("12h", DayEnd::End).unwrap(), "2026-05-01T00:00:00.000Z");
        assert_eq!(at("90m", DayEnd::End).unwrap(), "2026-05-01T10:30:00.000Z");
        assert_eq!(at("2w", DayEnd::End).unwrap(), "2026-04-17T12:00:00.000Z");
        for bad in ["yesterday", "7", "d", "-3d", "7y", "2026-13-01", ""] {
            let e = at(bad, DayEnd::End).unwrap_err();
            assert!(e.contains("not an instant") || e.contains("too far"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn zones_show_times_as_a_person_reads_them() {
        let t = DateTime::parse_from_rfc3339("2026-05-01T04:30:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Zone::IST.human(t), "2026-05-01 10:00:00 +05:30");
        assert_eq!(Zone::IST.rfc3339(t), "2026-05-01T10:00:00+05:30");
        assert_eq!(Zone::UTC.human(t), "2026-05-01 04:30:00 +00:00");
        assert_eq!(Zone::UTC.rfc3339(t), "2026-05-01T04:30:00+00:00");
        assert_eq!(Zone::parse("Asia/Kolkata"), Some(Zone::IST));
        assert_eq!(Zone::parse("+05:30"), Some(Zone::IST));
        assert_eq!(Zone::parse("UTC"), Some(Zone::UTC));
        assert_eq!(Zone::parse("-04:00").unwrap().human(t), "2026-05-01 00:30:00 -04:00");
        for bad in ["", "India", "+5:30", "+15:00", "05:30", "+05:60"] {
            assert_eq!(Zone::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_is_rfc3339_utc_milliseconds_and_round_trips() {
        let t = Timestamp::parse("2026-05-01T10:00:00.123456+05:30").unwrap();
        assert_eq!(t.to_string(), "2026-05-01T04:30:00.123Z");
        assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        assert_eq!(Timestamp::from_millis(t.millis()), t);
        assert_eq!(
            Timestamp::from_millis(i64::MAX).to_string(),
            format!("invalid time {}", i64::MAX)
        );
        assert!(Timestamp::parse("2026-05-01").is_none());
    }
}
