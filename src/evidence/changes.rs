//! Changes in business terms from the archive: for one change row, the two
//! answers it is between (a `no_data` answer read as `{}`), the documents
//! that moved ([`crate::domain::change::compare`]) and the kind of change
//! ([`crate::domain::change::classify`]) from the filings `return-track`
//! had shown by the time the change was detected. The one place both
//! `gstvault changes` and the bundle summary get them from, so the two
//! always agree. Reads only; the rules are the domain's.

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::catalog;
use crate::domain::change::{self, DocumentChange, Facts, Filing, Kind};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, Period};
use crate::domain::time::Timestamp;
use crate::store::{ChangeRow, Reader, SnapshotRow, StoreError};

/// One change, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    pub kind: Kind,
    /// The filing that makes it an amendment.
    pub filing: Option<Filing>,
    /// None when either payload could not be read as JSON.
    pub documents: Option<Vec<DocumentChange>>,
}

/// The filings of `period` that `return-track` showed at `at` (its latest
/// `ok` answer then); none for a period that is not a month.
pub fn filings_at(store: &Reader, gstin: &Gstin, period: &Period, at: Timestamp) -> Result<Vec<Filing>, StoreError> {
    if !matches!(period, Period::Month(_)) {
        return Ok(Vec::new());
    }
    let Some(row) = store.snapshot_as_of((gstin, "return-track", period, 0), at, &[Outcome::Ok])? else {
        return Ok(Vec::new());
    };
    Ok(payload_json(store, &row)?
        .map(|v| change::filings(&v))
        .unwrap_or_default())
}

/// The answer's portal data as JSON: `{}` for `no_data`, None when it is not JSON.
pub fn payload_json(store: &Reader, row: &SnapshotRow) -> Result<Option<Value>, StoreError> {
    if row.outcome == Outcome::NoData {
        return Ok(Some(Value::Object(serde_json::Map::new())));
    }
    let Some(sha) = &row.payload_sha256 else {
        return Ok(None);
    };
    Ok(store
        .payload(sha)?
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok()))
}

/// Filings looked up once per GSTIN, period and detection instant.
#[derive(Default)]
pub struct FilingCache {
    seen: HashMap<(Gstin, Period, i64), Vec<Filing>>,
}

impl FilingCache {
    fn get(&mut self, store: &Reader, gstin: &Gstin, period: &Period, at: Timestamp) -> Result<&[Filing], StoreError> {
        let key = (gstin.clone(), *period, at.millis());
        if !self.seen.contains_key(&key) {
            let found = filings_at(store, gstin, period, at)?;
            self.seen.insert(key.clone(), found);
        }
        Ok(&self.seen[&key])
    }
}

/// The kind of `change`, whose earlier answer is `old`.
pub fn kind_of(
    store: &Reader,
    cache: &mut FilingCache,
    change: &ChangeRow,
    old: &SnapshotRow,
) -> Result<(Kind, Option<Filing>), StoreError> {
    let group = catalog::find(&change.endpoint)
        .map(|e| e.group)
        .unwrap_or(catalog::Group::Common);
    let filings = cache.get(store, &change.gstin, &change.period, change.detected_at)?;
    let captured_on = old
        .received_at
        .to_datetime()
        .map(india_date)
        .unwrap_or(chrono::NaiveDate::MIN);
    Ok(change::classify(&Facts {
        group,
        endpoint: &change.endpoint,
        period: &change.period,
        earlier_captured_on: captured_on,
        earlier_had_data: old.outcome != Outcome::NoData,
        filings,
    }))
}

/// `change` described: its kind and the documents that moved.
pub fn describe(store: &Reader, cache: &mut FilingCache, change: &ChangeRow) -> Result<Option<Described>, StoreError> {
    let (Some(old), Some(new)) = (store.snapshot(change.previous_seq)?, store.snapshot(change.seq)?) else {
        return Ok(None);
    };
    let (kind, filing) = kind_of(store, cache, change, &old)?;
    let documents = match (payload_json(store, &old)?, payload_json(store, &new)?) {
        (Some(o), Some(n)) => Some(change::compare(&o, &n)),
        _ => None,
    };
    Ok(Some(Described {
        kind,
        filing,
        documents,
    }))
}
