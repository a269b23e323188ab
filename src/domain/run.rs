//! A capture run's status, as the `runs` table records it and `status`,
//! the daemon and the run summary report it.

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
