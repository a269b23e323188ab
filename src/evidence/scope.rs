//! What a bundle covers: its [`Scope`] (one month or one financial year) and
//! the distinct payload [`Version`]s of the snapshots in it. Shared by the
//! exporter and the summary it carries; reads nothing, writes nothing.

use std::collections::BTreeMap;

use crate::domain::origin::Origin;
use crate::domain::period::{FinancialYear, Month, Period};
use crate::domain::time::Timestamp;
use crate::store::SnapshotRow;

/// What a bundle covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Month(Month),
    Year(FinancialYear),
}

impl Scope {
    /// The periods a bundle of this scope includes: the month, or the
    /// year's months and the year itself.
    pub fn periods(&self) -> Vec<Period> {
        match self {
            Scope::Month(m) => vec![Period::Month(*m)],
            Scope::Year(fy) => {
                let mut out: Vec<Period> = fy.months().into_iter().map(Period::Month).collect();
                out.push(Period::Year(*fy));
                out
            }
        }
    }

    /// The scope as the period the bundle is named and recorded by.
    pub fn period(&self) -> Period {
        match self {
            Scope::Month(m) => Period::Month(*m),
            Scope::Year(fy) => Period::Year(*fy),
        }
    }

    /// `2025-04` or `FY2025-26`.
    pub fn label(&self) -> String {
        match self {
            Scope::Month(m) => m.to_string(),
            Scope::Year(fy) => fy.to_string(),
        }
    }

    pub fn months(&self) -> Vec<Month> {
        match self {
            Scope::Month(m) => vec![*m],
            Scope::Year(fy) => fy.months(),
        }
    }
}

/// One entry of the timeline of one endpoint, period and page: a payload
/// version and the unbroken run of captures that received it. A version
/// that returns after another is a new entry (A, B, A is three).
#[derive(Clone, Debug)]
pub struct Version {
    /// The first snapshot of the run (its bytes go in the bundle).
    pub first: SnapshotRow,
    /// The last snapshot of the run (the same as `first` when seen once);
    /// its log record travels in the bundle too, so "last seen" is provable.
    pub last: SnapshotRow,
}

impl Version {
    pub fn last_seen(&self) -> Timestamp {
        self.last.received_at
    }

    /// The log indexes the bundle proves for this entry: first, and last when it differs.
    pub fn proven(&self) -> Vec<&SnapshotRow> {
        if self.last.seq == self.first.seq {
            vec![&self.first]
        } else {
            vec![&self.first, &self.last]
        }
    }
}

/// Where a bundle's answers came from: their distinct API origins, sorted
/// ("not recorded" for snapshots archived before origins were), and whether
/// any of them is a simulator's.
pub fn sources(rows: &[SnapshotRow]) -> (Vec<String>, bool) {
    let origins: std::collections::BTreeSet<Option<&str>> = rows.iter().map(|r| r.origin.as_deref()).collect();
    let simulated = origins.iter().flatten().any(|o| Origin::from_stored(*o).is_simulated());
    let names = origins
        .into_iter()
        .map(|o| o.unwrap_or(NOT_RECORDED).to_string())
        .collect();
    (names, simulated)
}

/// How [`sources`] names the origin of snapshots archived before schema 8.
pub const NOT_RECORDED: &str = "not recorded (archived before gstvault recorded origins)";

/// The timeline entries of snapshots given in log order (transport
/// failures, which have no bytes, are left out), ordered by their first
/// snapshot's log index.
pub fn versions(rows: &[SnapshotRow]) -> Vec<Version> {
    let mut out: Vec<Version> = Vec::new();
    // Per key, the entry still open (the latest version seen).
    let mut open: BTreeMap<(&str, Period, u32), usize> = BTreeMap::new();
    for row in rows {
        let Some(payload) = row.payload_sha256 else {
            continue;
        };
        let key = (row.endpoint.as_str(), row.period, row.page);
        match open.get(&key) {
            Some(&at) if out[at].first.payload_sha256 == Some(payload) => out[at].last = row.clone(),
            _ => {
                open.insert(key, out.len());
                out.push(Version {
                    first: row.clone(),
                    last: row.clone(),
                });
            }
        }
    }
    out.sort_by_key(|v| v.first.seq);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::digest::Digest;

    #[test]
    fn a_version_that_returns_after_another_is_a_new_entry() {
        use crate::domain::envelope::Outcome;
        use crate::domain::log::Seq;
        let row = |seq: u64, payload: u8| SnapshotRow {
            seq: Seq(seq),
            run_id: 1,
            gstin: crate::domain::gstin::Gstin::parse("27AAPFU0939F1ZV").unwrap(),
            endpoint: "ledger-cash".into(),
            period: Period::Month(Month::parse("2025-04").unwrap()),
            page: 0,
            method: "GET".into(),
            request: "/x".into(),
            requested_at: Timestamp::from_millis(seq as i64),
            received_at: Timestamp::from_millis(seq as i64),
            http_status: Some(200),
            transaction_id: None,
            status_cd: Some("1".into()),
            error_cd: None,
            outcome: Outcome::Ok,
            detail: None,
            attempts: 1,
            body_sha256: Some(Digest::of(&[payload, seq as u8])),
            body_size: Some(2),
            payload_sha256: Some(Digest::of(&[payload])),
            chksums: "{}".into(),
            origin: None,
        };
        let rows = [
            row(0, b'A'),
            row(1, b'A'),
            row(2, b'B'),
            row(3, b'A'),
            row(4, b'A'),
            row(5, b'A'),
        ];
        let timeline: Vec<(u64, u64)> = versions(&rows).iter().map(|v| (v.first.seq.0, v.last.seq.0)).collect();
        assert_eq!(timeline, vec![(0, 1), (2, 2), (3, 5)]);
        assert_eq!(versions(&rows)[1].proven().len(), 1);
        assert_eq!(versions(&rows)[2].proven().len(), 2);

        // Sources: the portal is not simulated, a loopback origin is, an
        // origin never recorded is said to be so.
        let mut portal = rows.to_vec();
        portal
            .iter_mut()
            .for_each(|r| r.origin = Some("https://api.sandbox.co.in".into()));
        assert_eq!(sources(&portal), (vec!["https://api.sandbox.co.in".to_string()], false));
        portal[0].origin = Some("http://127.0.0.1".into());
        portal[1].origin = None;
        let (names, simulated) = sources(&portal);
        assert!(simulated);
        assert_eq!(names.len(), 3);
        assert!(names.contains(&NOT_RECORDED.to_string()));
    }
}
