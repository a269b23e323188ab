//! A verify report: what a verification found, as data. A finding is not an
//! error: `verify` (archive) and the bundle checker both fill one report, and
//! the command line turns it into text, JSON and an exit code.

/// One thing that is not as recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// What: "snapshot 42", "payload 3fa2…", "checkpoint 7", "change 51".
    pub subject: String,
    /// What differs.
    pub message: String,
}

/// The result of a verification.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub findings: Vec<Finding>,
    pub snapshots: u64,
    pub payloads: u64,
    pub checkpoints: u64,
    pub bytes_hashed: u64,
    /// Facts worth knowing that are not findings (e.g. signatures not checked).
    pub notes: Vec<String>,
}

impl VerifyReport {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }

    pub(crate) fn finding(&mut self, subject: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding {
            subject: subject.into(),
            message: message.into(),
        });
    }
}
