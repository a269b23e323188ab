//! What a bundle covers: its [`Scope`] (one month or one financial year) and
//! the distinct payload [`Version`]s of the snapshots in it. Shared by the
//! exporter and the summary it carries; reads nothing, writes nothing.

use std::collections::BTreeMap;

use crate::domain::period::{FinancialYear, Month};
use crate::store::SnapshotRow;

/// What a bundle covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Month(Month),
    Year(FinancialYear),
}

impl Scope {
    /// The stored period values a bundle of this scope includes.
    pub fn periods(&self) -> Vec<String> {
        match self {
            Scope::Month(m) => vec![m.to_string()],
            Scope::Year(fy) => {
                let mut out: Vec<String> = fy.months().iter().map(Month::to_string).collect();
                out.push(fy.to_string());
                out
            }
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
    pub last_seen: String,
    pub seen: u64,
}

/// Groups snapshots into distinct payload versions (transport failures, which
/// have no bytes, are left out), ordered by the first snapshot's log index.
pub fn versions(rows: &[SnapshotRow]) -> Vec<Version> {
    let mut by_key: BTreeMap<(String, String, u32, String), Version> = BTreeMap::new();
    for row in rows {
        let Some(payload) = row.payload_sha256.clone() else {
            continue;
        };
        let key = (row.endpoint.clone(), row.period.clone(), row.page, payload);
        by_key
            .entry(key)
            .and_modify(|v| {
                v.last_seen = row.received_at.clone();
                v.seen += 1;
            })
            .or_insert_with(|| Version {
                first: row.clone(),
                last_seen: row.received_at.clone(),
                seen: 1,
            });
    }
    let mut out: Vec<Version> = by_key.into_values().collect();
    out.sort_by_key(|v| v.first.seq);
    out
}
