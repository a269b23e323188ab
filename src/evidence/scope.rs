//! What a bundle covers: its [`Scope`] (one month or one financial year) and
//! the distinct payload [`Version`]s of the snapshots in it. Shared by the
//! exporter and the summary it carries; reads nothing, writes nothing.

use std::collections::BTreeMap;

use crate::domain::digest::Digest;
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

/// One distinct payload version of one endpoint, period and page.
#[derive(Clone, Debug)]
pub struct Version {
    /// The first snapshot that returned it (its bytes go in the bundle).
    pub first: SnapshotRow,
    pub last_seen: Timestamp,
    pub seen: u64,
}

/// Groups snapshots into distinct payload versions (transport failures, which
/// have no bytes, are left out), ordered by the first snapshot's log index.
pub fn versions(rows: &[SnapshotRow]) -> Vec<Version> {
    let mut by_key: BTreeMap<(&str, Period, u32, Digest), Version> = BTreeMap::new();
    for row in rows {
        let Some(payload) = row.payload_sha256 else {
            continue;
        };
        let key = (row.endpoint.as_str(), row.period, row.page, payload);
        by_key
            .entry(key)
            .and_modify(|v| {
                v.last_seen = row.received_at;
                v.seen += 1;
            })
            .or_insert_with(|| Version {
                first: row.clone(),
                last_seen: row.received_at,
                seen: 1,
            });
    }
    let mut out: Vec<Version> = by_key.into_values().collect();
    out.sort_by_key(|v| v.first.seq);
    out
}
