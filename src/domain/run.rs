//! A capture run's status, as the `runs` table records it and `status`,
//! the daemon and the run summary report it, and why a call of it failed
//! ([`failure_cause`]), in the words the summary, `show` and `list` use.

use std::fmt;

/// Where a capture run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished (or its process died: the next writer marks it interrupted).
    #[default]
    Running,
    /// Every planned call was made.
    Completed,
    /// Stopped early (a signal, a crash): what was answered is archived.
    Interrupted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 3] = [RunStatus::Running, RunStatus::Completed, RunStatus::Interrupted];

    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a call failed, in words an operator can act on: the transport error
/// (connection refused, TLS, timeout), the HTTP status or the API's error
/// code, and how many attempts it took. `None` when the outcome is not a
/// failure.
pub fn failure_cause(
    outcome: crate::domain::envelope::Outcome,
    http_status: Option<u16>,
    error_cd: Option<&str>,
    detail: Option<&str>,
    attempts: u32,
) -> Option<String> {
    use crate::domain::envelope::Outcome;
    let what = match outcome {
        Outcome::TransportError => detail.unwrap_or("no answer").to_string(),
        Outcome::HttpError => match (http_status, detail) {
            (Some(status), Some(detail)) => format!("HTTP {status}: {detail}"),
            (Some(status), None) => format!("HTTP {status}"),
            (None, _) => "HTTP error".to_string(),
        },
        Outcome::ApiError => match (error_cd, detail) {
            (Some(code), Some(detail)) => format!("API error {code}: {detail}"),
            (Some(code), None) => format!("API error {code}"),
            (None, Some(detail)) => format!("API error: {detail}"),
            (None, None) => "API error without a code".to_string(),
        },
        _ => return None,
    };
    Some(if attempts > 1 {
        format!("{what} (after {attempts} attempts)")
    } else {
        what
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::envelope::Outcome;

    #[test]
    fn failure_causes_name_what_to_act_on() {
        assert_eq!(
            failure_cause(
                Outcome::TransportError,
                None,
                None,
                Some("could not connect: Connection refused (os error 111)"),
                4
            )
            .as_deref(),
            Some("could not connect: Connection refused (os error 111) (after 4 attempts)")
        );
        assert_eq!(
            failure_cause(Outcome::HttpError, Some(503), None, None, 5).as_deref(),
            Some("HTTP 503 (after 5 attempts)")
        );
        assert_eq!(
            failure_cause(
                Outcome::ApiError,
                Some(200),
                Some("RET191106"),
                Some("Invalid period"),
                1
            )
            .as_deref(),
            Some("API error RET191106: Invalid period")
        );
        assert_eq!(failure_cause(Outcome::Ok, Some(200), None, None, 1), None);
        assert_eq!(
            failure_cause(Outcome::NoData, Some(200), Some("RET11416"), None, 1),
            None
        );
    }
}
