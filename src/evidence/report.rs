//! A verify report: what a verification found, as data. A finding is not an
//! error: `verify` (archive) and the bundle checker both fill one report, and
//! the command line turns it into text, JSON and an exit code.
//!
//! A report stays small whatever it is given: it keeps the first
//! [`MAX_FINDINGS`] findings and counts the rest (`findings_omitted`), and a
//! subject, message or note longer than a name may be is cut to its first
//! [`MAX_NAME_CHARS`] characters with an ellipsis and its full length
//! ([`clip`]), so a hostile bundle cannot make the report, or what is printed
//! of it, large.

/// Findings kept in a report; the rest are counted in `findings_omitted`.
pub const MAX_FINDINGS: usize = 100;
/// Characters of a name (an entry, a path in a manifest) echoed in a finding.
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of a whole subject, message or note; longer ones are clipped
/// (a safety net: names inside them are clipped to [`MAX_NAME_CHARS`] first).
const MAX_TEXT_CHARS: usize = 1_000;

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
    /// The first [`MAX_FINDINGS`] findings.
    pub findings: Vec<Finding>,
    /// Findings found after the first [`MAX_FINDINGS`]: counted, not kept.
    pub findings_omitted: u64,
    pub snapshots: u64,
    pub payloads: u64,
    pub checkpoints: u64,
    pub bytes_hashed: u64,
    /// Facts worth knowing that are not findings (e.g. signatures not checked).
    pub notes: Vec<String>,
}

impl VerifyReport {
    pub fn intact(&self) -> bool {
        self.findings.is_empty() && self.findings_omitted == 0
    }

    /// Every finding, kept or counted.
    pub fn finding_count(&self) -> u64 {
        self.findings.len() as u64 + self.findings_omitted
    }

    pub(crate) fn finding(&mut self, subject: impl Into<String>, message: impl Into<String>) {
        if self.findings.len() >= MAX_FINDINGS {
            self.findings_omitted += 1;
            return;
        }
        self.findings.push(Finding {
            subject: clip_to(&subject.into(), MAX_TEXT_CHARS),
            message: clip_to(&message.into(), MAX_TEXT_CHARS),
        });
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.notes.push(clip_to(&note.into(), MAX_TEXT_CHARS));
    }
}

/// A name as a finding shows it: whole when it has at most [`MAX_NAME_CHARS`]
/// characters, else its first ones, an ellipsis and its full length in bytes
/// (`data/aaaa…(104857600 bytes)`).
pub fn clip(name: &str) -> String {
    clip_to(name, MAX_NAME_CHARS)
}

fn clip_to(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…({} bytes)", &text[..end], text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_clipped_with_their_length() {
        assert_eq!(clip("data/a"), "data/a");
        let long = "é".repeat(300);
        let clipped = clip(&long);
        assert_eq!(clipped, format!("{}…(600 bytes)", "é".repeat(200)));
    }

    #[test]
    fn findings_past_the_cap_are_counted() {
        let mut report = VerifyReport::default();
        for i in 0..MAX_FINDINGS + 5 {
            report.finding(format!("entry {i}"), "x".repeat(5_000));
        }
        assert_eq!(report.findings.len(), MAX_FINDINGS);
        assert_eq!(report.findings_omitted, 5);
        assert_eq!(report.finding_count(), MAX_FINDINGS as u64 + 5);
        assert!(!report.intact());
        assert!(report.findings[0].message.ends_with("…(5000 bytes)"));
    }
}
