//! Instants as the archive keeps them: [`Timestamp`], whole milliseconds
//! since the Unix epoch in UTC, the precision of every stored time and of
//! the log's records. Its text is RFC 3339 in UTC with milliseconds
//! (`2026-05-01T04:30:00.000Z`), the one time format of the archive, the
//! leaf encoding and the bundle's machine-readable files. Pure: no clock.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

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
