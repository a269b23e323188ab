//! `verify NEW --previous OLD`: is OLD the bundle NEW extends? OLD is read
//! with the same hostile-safe reader (its tag and proof files only), and
//! each way it can fail to be NEW's predecessor is its own finding: another
//! GSTIN, another log, newer (by checkpoint size or as-of, said which), a
//! checkpoint the key did not sign, NEW's consistency proof starting from
//! another checkpoint than OLD's, or the same log size with another root.
//! Whether the proof itself holds (else the log was rewritten) is checked
//! with the bundle, on `consistency.txt`.

use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::read::{read_bundle, Reading};
use super::{signed_head, Facts};
use crate::domain::digest::Digest;
use crate::evidence::report::{clip, VerifyReport};
use crate::evidence::signing::PublicKey;

const SUBJECT: &str = "previous bundle";

fn instant(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// Checks `path` as the predecessor of the bundle of `new`, whose
/// consistency proof starts from `start` (None: it has none).
pub(super) fn check(
    new: &Facts,
    start: Option<(u64, Digest)>,
    key: Option<&PublicKey>,
    path: &Path,
    report: &mut VerifyReport,
) {
    let mut prior = VerifyReport::default();
    let old = match read_bundle(path, Reading::KeptOnly, &mut prior) {
        Ok(old) => old,
        Err(e) => return report.finding(SUBJECT, e.to_string()),
    };
    for finding in prior.findings {
        report.finding(format!("{SUBJECT} {}", finding.subject), finding.message);
    }
    report.findings_omitted += prior.findings_omitted;
    let old_head = signed_head(&old, key, report, "previous bundle ");
    let old = Facts::of(&old, old_head);

    match (&old.gstin, &new.gstin) {
        (Some(o), Some(n)) if o != n => {
            return report.finding(
                SUBJECT,
                format!(
                    "is a bundle of GSTIN {}, this one of {}: not its predecessor",
                    clip(o),
                    clip(n)
                ),
            )
        }
        (None, _) => return report.finding(SUBJECT, "names no GSTIN: not a predecessor of this bundle"),
        _ => {}
    }
    let (Some(old_head), Some(new_head)) = (&old.head, &new.head) else {
        if old.head.is_none() {
            report.finding(SUBJECT, "has no readable checkpoint");
        }
        return;
    };
    if old_head.origin != new_head.origin {
        return report.finding(
            SUBJECT,
            format!(
                "its checkpoint is of another log ({}), this bundle's of {}: not its predecessor",
                clip(&old_head.origin),
                clip(&new_head.origin)
            ),
        );
    }

    // Older: a checkpoint no larger and an earlier as-of.
    let mut newer = false;
    if old_head.size > new_head.size {
        report.finding(
            SUBJECT,
            format!(
                "is newer: its checkpoint covers {} snapshots, this bundle's {}",
                old_head.size, new_head.size
            ),
        );
        newer = true;
    }
    match (
        old.as_of.as_deref().and_then(instant),
        new.as_of.as_deref().and_then(instant),
    ) {
        (Some(o), Some(n)) if o >= n => {
            report.finding(
                SUBJECT,
                format!(
                    "is not older: its as-of {} is not before this bundle's {}",
                    clip(old.as_of.as_deref().unwrap_or_default()),
                    clip(new.as_of.as_deref().unwrap_or_default())
                ),
            );
            newer = true;
        }
        (Some(_), Some(_)) => {}
        (None, _) => report.finding(SUBJECT, "its bag-info.txt has no As-Of instant"),
        (_, None) => report.finding("file bag-info.txt", "has no As-Of instant"),
    }
    if newer {
        return;
    }

    if old_head.size == new_head.size {
        if old_head.root != new_head.root {
            report.finding(
                SUBJECT,
                format!(
                    "its checkpoint has this bundle's log size {} but another root: the log was rewritten",
                    new_head.size
                ),
            );
        }
        // The same checkpoint: nothing to prove.
        return;
    }
    match start {
        None => report.finding(SUBJECT, "this bundle has no consistency proof to check it against"),
        Some((size, root)) if size == old_head.size && root == old_head.root => {}
        Some((size, root)) => report.finding(
            SUBJECT,
            format!(
                "this bundle's consistency proof starts from another checkpoint (size {size}, root {}) than the previous bundle's (size {}, root {})",
                root.short(),
                old_head.size,
                old_head.root.short()
            ),
        ),
    }
}
