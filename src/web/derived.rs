//! What the web view's pages compute from the archive for one GSTIN (its
//! outcome counts, its keys' summaries, its changes, its year's charts, the
//! search's index of its documents), kept in memory and stamped with the
//! archive's head (the newest log entry) and the IST day it was computed on.
//!
//! The archive is append-only, so a result computed at head N is exactly what
//! the same computation gives at head N for as long as the head stays N; the
//! day is in the stamp because what "now" means (the financial year charted,
//! whether a period is closed) moves with the date. A page asks with the
//! stamp it reads at the start of its request and gets either the kept
//! result of that stamp or a fresh one; a result of another stamp is never
//! served. One computation per key runs at a time: a second request for the
//! same key waits for the first one's result instead of computing it again.
//! At most [`CAPACITY`] results are kept, the least recently used dropped
//! first, so memory stays bounded whatever the number of GSTINs.
//! [`warmer`] computes the results of every configured GSTIN after the head
//! moves, so the first visitor after a capture run does not wait for them.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use super::{PageError, WebState};
use crate::domain::catalog::{self, Group};
use crate::domain::change::Kind;
use crate::domain::digest::Digest;
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::period::{Month, Period};
use crate::evidence::summary::YearSeries;
use crate::query::{self, DetectedChange, QueryError};
use crate::store::{KeySummary, Reader};

/// Results kept at most (five topics for twenty GSTINs, and room to spare).
pub const CAPACITY: usize = 128;

/// What a result is of.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Topic {
    /// How many keys have each outcome as their latest answer.
    OutcomeCounts,
    /// Every key's answers, failures and changes (the GSTIN grid).
    Keys,
    /// Every change of the GSTIN in business terms.
    Changes,
    /// The current financial year's chart series.
    Charts,
    /// The documents of the latest GSTR-1, 1A, 2A, 2B and IMS answers.
    Documents,
    /// Every GSTIN's last answer about its data (kept once for the archive).
    LastAnswers,
}

impl Topic {
    /// Results of this topic kept at most, when fewer than [`CAPACITY`]: a
    /// GSTIN's changes in business terms run to megabytes on a large
    /// archive, so only the most recently viewed few are kept.
    fn bound(self) -> Option<usize> {
        match self {
            Topic::Changes => Some(CHANGES_KEPT),
            _ => None,
        }
    }
}

/// GSTINs whose changes are kept at most.
pub const CHANGES_KEPT: usize = 4;

/// The archive state a result belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The newest log entry (0 for an empty archive).
    pub head: u64,
    /// The IST date "now" fell on.
    pub day: NaiveDate,
}

type Value = Arc<dyn Any + Send + Sync>;

struct Slot {
    stamp: Stamp,
    used: u64,
    /// Locked while the result is computed: the single flight.
    value: Arc<Mutex<Option<Value>>>,
}

/// The kept results by topic and GSTIN, and the use counter for eviction.
type Slots = (HashMap<(Topic, Option<Gstin>), Slot>, u64);

/// The kept results.
#[derive(Default)]
pub struct Derived {
    slots: Mutex<Slots>,
}

impl Derived {
    /// The result of `topic` for `gstin` at `stamp`: the kept one, or
    /// `compute`'s (kept when it succeeds; an error is returned, not kept).
    pub fn get<T: Any + Send + Sync>(
        &self,
        topic: Topic,
        gstin: &Gstin,
        stamp: Stamp,
        compute: impl FnOnce() -> Result<T, PageError>,
    ) -> Result<Arc<T>, PageError> {
        self.kept((topic, Some(gstin.clone())), stamp, compute)
    }

    /// The result of an archive-wide `topic` at `stamp`, as [`Derived::get`].
    pub fn get_all<T: Any + Send + Sync>(
        &self,
        topic: Topic,
        stamp: Stamp,
        compute: impl FnOnce() -> Result<T, PageError>,
    ) -> Result<Arc<T>, PageError> {
        self.kept((topic, None), stamp, compute)
    }

    fn kept<T: Any + Send + Sync>(
        &self,
        key: (Topic, Option<Gstin>),
        stamp: Stamp,
        compute: impl FnOnce() -> Result<T, PageError>,
    ) -> Result<Arc<T>, PageError> {
        let topic = key.0;
        let cell = {
            let mut guard = self.slots.lock().map_err(|_| poisoned())?;
            let (slots, tick) = &mut *guard;
            *tick += 1;
            let used = *tick;
            let slot = slots.entry(key.clone()).or_insert_with(|| Slot {
                stamp,
                used,
                value: Arc::default(),
            });
            if slot.stamp != stamp {
                *slot = Slot {
                    stamp,
                    used,
                    value: Arc::default(),
                };
            }
            slot.used = used;
            let cell = Arc::clone(&slot.value);
            // Beyond a topic's own bound, then beyond the whole bound, the
            // least recently used other result goes.
            let evict = |slots: &mut HashMap<(Topic, Option<Gstin>), Slot>, only: Option<Topic>| {
                slots
                    .iter()
                    .filter(|(k, _)| **k != key && only.is_none_or(|t| k.0 == t))
                    .min_by_key(|(_, s)| s.used)
                    .map(|(k, _)| k.clone())
                    .map(|oldest| slots.remove(&oldest))
                    .is_some()
            };
            if let Some(bound) = topic.bound() {
                while slots.keys().filter(|k| k.0 == topic).count() > bound && evict(slots, Some(topic)) {}
            }
            while slots.len() > CAPACITY && evict(slots, None) {}
            cell
        };
        let mut value = cell.lock().map_err(|_| poisoned())?;
        if let Some(kept) = value.as_ref() {
            return Arc::clone(kept)
                .downcast::<T>()
                .map_err(|_| PageError::Internal(format!("web view: a kept {topic:?} result has another type")));
        }
        let fresh = Arc::new(compute()?);
        *value = Some(Arc::clone(&fresh) as Value);
        Ok(fresh)
    }

    /// The kept result of `topic` for `gstin` at `stamp`, if there is one
    /// (nothing is computed).
    pub fn peek<T: Any + Send + Sync>(&self, topic: Topic, gstin: &Gstin, stamp: Stamp) -> Option<Arc<T>> {
        let cell = {
            let guard = self.slots.lock().ok()?;
            let slot = guard.0.get(&(topic, Some(gstin.clone())))?;
            if slot.stamp != stamp {
                return None;
            }
            Arc::clone(&slot.value)
        };
        let value = cell.try_lock().ok()?;
        value.as_ref().and_then(|v| Arc::clone(v).downcast::<T>().ok())
    }

    /// How many results are kept (for tests).
    pub fn len(&self) -> usize {
        self.slots.lock().map(|s| s.0.len()).unwrap_or(0)
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ------------------------------------------------------------ the topics

/// `gstin`'s outcome counts: how many keys have each outcome as their latest answer.
pub fn outcome_counts(
    state: &WebState,
    reader: &Reader,
    gstin: &Gstin,
    stamp: Stamp,
) -> Result<Arc<Vec<(Outcome, u64)>>, PageError> {
    state.derived.get(Topic::OutcomeCounts, gstin, stamp, || {
        reader.latest_outcome_counts(gstin).map_err(PageError::store)
    })
}

/// Each GSTIN's last answer about its data.
pub fn last_answers(
    state: &WebState,
    reader: &Reader,
    stamp: Stamp,
) -> Result<Arc<std::collections::BTreeMap<Gstin, crate::domain::time::Timestamp>>, PageError> {
    state.derived.get_all(Topic::LastAnswers, stamp, || {
        Ok(reader
            .last_answer_by_gstin()
            .map_err(PageError::store)?
            .into_iter()
            .collect())
    })
}

/// Every key of `gstin`, summarised.
pub fn keys(state: &WebState, reader: &Reader, gstin: &Gstin, stamp: Stamp) -> Result<Arc<Vec<KeySummary>>, PageError> {
    state.derived.get(Topic::Keys, gstin, stamp, || {
        reader.key_summaries(gstin).map_err(PageError::store)
    })
}

/// Every change of `gstin` in business terms, in log order (the changes
/// timeline filters them; the charts count them).
pub fn changes(
    state: &WebState,
    reader: &Reader,
    gstin: &Gstin,
    stamp: Stamp,
) -> Result<Arc<Vec<DetectedChange>>, PageError> {
    state
        .derived
        .get(Topic::Changes, gstin, stamp, || changes_of(state, reader, gstin))
}

fn changes_of(state: &WebState, reader: &Reader, gstin: &Gstin) -> Result<Vec<DetectedChange>, PageError> {
    let args = query::ChangesArgs {
        gstin: Some(gstin.to_string()),
        now: Some(state.now()),
        ..Default::default()
    };
    match query::changes(reader, &args) {
        Ok(rows) => Ok(rows),
        // A GSTIN with nothing archived yet has no changes.
        Err(QueryError::Input(_)) if !reader.has_gstin(gstin).map_err(PageError::store)? => Ok(Vec::new()),
        Err(QueryError::Input(m)) => Err(PageError::BadRequest(m)),
        Err(QueryError::Store(e)) => Err(PageError::store(e)),
    }
}

/// The chart series of the financial year of `stamp`'s day, as archived,
/// and the verdicts of the reconciliations behind them (the overview's
/// open findings).
pub fn charts(state: &WebState, reader: &Reader, gstin: &Gstin, stamp: Stamp) -> Result<Arc<YearSeries>, PageError> {
    let summaries = keys(state, reader, gstin, stamp)?;
    state.derived.get(Topic::Charts, gstin, stamp, || {
        // The changes are counted; they are kept only when a page shows them.
        let changed = match state.derived.peek::<Vec<DetectedChange>>(Topic::Changes, gstin, stamp) {
            Some(kept) => kept,
            None => Arc::new(changes_of(state, reader, gstin)?),
        };
        let counted: Vec<(String, Kind)> = changed
            .iter()
            .flat_map(|c| std::iter::repeat_n((c.period.to_string(), c.kind), c.documents.len().max(1)))
            .collect();
        let fy = Month::of_date(stamp.day).financial_year();
        crate::evidence::summary::year_series(reader, gstin, fy, state.now(), &summaries, counted)
            .map_err(PageError::store)
    })
}

/// The documents a search can find in one GSTIN: per key (endpoint,
/// period, page) of a return of documents, its latest answer with a payload
/// and the numbers and counterparty GSTINs of the documents in it, upper
/// case, one per line. A search matches the lines, then reads only the
/// payloads that match to show their documents.
#[derive(Debug, Default)]
pub struct DocumentIndex {
    pub keys: Vec<IndexedKey>,
}

/// One key of a [`DocumentIndex`].
#[derive(Debug)]
pub struct IndexedKey {
    pub endpoint: String,
    pub period: Period,
    pub seq: Seq,
    pub payload: Digest,
    /// Each document's number and counterparty, `\n`-separated, upper case.
    pub text: String,
}

/// The endpoints a document search reads: the returns of documents.
pub fn searchable(endpoint: &str) -> bool {
    catalog::find(endpoint).is_some_and(|e| {
        matches!(
            e.group,
            Group::Gstr1 | Group::Gstr1a | Group::Gstr2a | Group::Gstr2b | Group::Ims
        )
    })
}

/// `gstin`'s [`DocumentIndex`].
pub fn documents(
    state: &WebState,
    reader: &Reader,
    gstin: &Gstin,
    stamp: Stamp,
) -> Result<Arc<DocumentIndex>, PageError> {
    let summaries = keys(state, reader, gstin, stamp)?;
    state.derived.get(Topic::Documents, gstin, stamp, || {
        let mut index = DocumentIndex::default();
        for k in summaries.iter().filter(|k| searchable(&k.endpoint)) {
            // The latest answer with a payload: the latest one, or (when it
            // failed) the newest before it that has one.
            let row = match reader.snapshot(k.latest).map_err(PageError::store)? {
                Some(row) if row.payload_sha256.is_some() => Some((row.seq, row.payload_sha256)),
                _ => reader
                    .list_snapshots(&crate::store::SnapshotFilter {
                        gstin: Some(gstin.clone()),
                        endpoints: vec![k.endpoint.clone()],
                        period: Some(crate::store::PeriodFilter::Exactly(k.period)),
                        ..Default::default()
                    })
                    .map_err(PageError::store)?
                    .into_iter()
                    .filter(|r| r.page == k.page && r.payload_sha256.is_some())
                    .max_by_key(|r| (r.received_at, r.seq))
                    .map(|r| (r.seq, r.payload_sha256)),
            };
            let Some((seq, Some(payload))) = row else { continue };
            let Some(bytes) = reader.payload(&payload).map_err(PageError::store)? else {
                continue;
            };
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                continue;
            };
            let mut text = String::new();
            for d in crate::domain::documents::read(&value) {
                for t in [&d.number, &d.counterparty].into_iter().flatten() {
                    text.push_str(&t.to_ascii_uppercase());
                    text.push('\n');
                }
            }
            if !text.is_empty() {
                index.keys.push(IndexedKey {
                    endpoint: k.endpoint.clone(),
                    period: k.period,
                    seq,
                    payload,
                    text,
                });
            }
        }
        Ok(index)
    })
}

/// Computes every topic of every configured GSTIN at the archive's stamp
/// now, one GSTIN at a time through the reader pool, so the pages that
/// follow find them kept. Returns the stamp it warmed.
pub async fn warm(state: &Arc<WebState>) -> Result<Stamp, PageError> {
    let gstins: Vec<Gstin> = state.config.gstins.iter().map(|g| g.gstin.clone()).collect();
    let mut warmed = None;
    for gstin in gstins {
        let st = Arc::clone(state);
        warmed = Some(
            state
                .read(move |reader| {
                    let stamp = st.stamp(reader)?;
                    last_answers(&st, reader, stamp)?;
                    outcome_counts(&st, reader, &gstin, stamp)?;
                    charts(&st, reader, &gstin, stamp)?;
                    documents(&st, reader, &gstin, stamp)?;
                    Ok(stamp)
                })
                .await?,
        );
    }
    match warmed {
        Some(stamp) => Ok(stamp),
        None => {
            let st = Arc::clone(state);
            state.read(move |reader| st.stamp(reader)).await
        }
    }
}

/// Warms ([`warm`]) at start and whenever the archive's head or the day
/// has moved, looking every `every`; a failed warm-up is logged and tried
/// again at the next look (the pages compute what they need themselves).
pub async fn warmer(state: Arc<WebState>, every: std::time::Duration) {
    let mut last: Option<Stamp> = None;
    loop {
        let st = Arc::clone(&state);
        let now = state.read(move |reader| st.stamp(reader)).await;
        match now {
            Ok(stamp) if Some(stamp) == last => {}
            Ok(_) => match warm(&state).await {
                Ok(stamp) => last = Some(stamp),
                Err(e) => tracing::warn!("web view: warming the pages' results: {e:?}"),
            },
            Err(e) => tracing::warn!("web view: reading the archive's head: {e:?}"),
        }
        tokio::time::sleep(every).await;
    }
}

fn poisoned() -> PageError {
    PageError::Internal("web view: a page computation panicked earlier".into())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn gstin(i: usize) -> Gstin {
        Gstin::compose(27, &format!("AABCK{:04}M", 1000 + i), '1').unwrap()
    }

    fn stamp(head: u64) -> Stamp {
        Stamp {
            head,
            day: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        }
    }

    #[test]
    fn a_result_is_kept_for_its_stamp_and_recomputed_for_another() {
        let d = Derived::default();
        let runs = AtomicUsize::new(0);
        let compute = |v: u64| {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(v)
        };
        let g = gstin(0);
        assert_eq!(*d.get(Topic::Keys, &g, stamp(10), || compute(1)).unwrap(), 1);
        assert_eq!(*d.get(Topic::Keys, &g, stamp(10), || compute(2)).unwrap(), 1, "kept");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // The head moved: the kept result is not served.
        assert_eq!(*d.get(Topic::Keys, &g, stamp(11), || compute(3)).unwrap(), 3);
        // Another day at the same head is another stamp too.
        let tomorrow = Stamp {
            day: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            ..stamp(11)
        };
        assert_eq!(*d.get(Topic::Keys, &g, tomorrow, || compute(4)).unwrap(), 4);
        // Topics and GSTINs are kept apart.
        assert_eq!(*d.get(Topic::Charts, &g, tomorrow, || compute(5)).unwrap(), 5);
        assert_eq!(*d.get(Topic::Keys, &gstin(1), tomorrow, || compute(6)).unwrap(), 6);
        assert_eq!(runs.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn an_error_is_not_kept_and_memory_is_bounded() {
        let d = Derived::default();
        let g = gstin(0);
        let failed: Result<Arc<u64>, _> = d.get(Topic::Keys, &g, stamp(1), || Err(PageError::Internal("busy".into())));
        assert!(failed.is_err());
        assert_eq!(
            *d.get(Topic::Keys, &g, stamp(1), || Ok(7u64)).unwrap(),
            7,
            "the error was not kept"
        );
        for i in 0..CAPACITY + 40 {
            d.get(Topic::Documents, &gstin(i % 9000), stamp(1), || Ok(i)).unwrap();
        }
        assert_eq!(d.len(), CAPACITY);
    }

    #[test]
    fn only_the_most_recent_gstins_changes_are_kept() {
        let d = Derived::default();
        for i in 0..CHANGES_KEPT + 3 {
            d.get(Topic::Changes, &gstin(i), stamp(1), || Ok(i)).unwrap();
            d.get(Topic::Keys, &gstin(i), stamp(1), || Ok(i)).unwrap();
        }
        assert_eq!(d.len(), CHANGES_KEPT + (CHANGES_KEPT + 3));
        // The oldest GSTINs' changes went, their keys stayed.
        assert!(d.peek::<usize>(Topic::Changes, &gstin(0), stamp(1)).is_none());
        assert_eq!(d.peek::<usize>(Topic::Keys, &gstin(0), stamp(1)).as_deref(), Some(&0));
        let newest = CHANGES_KEPT + 2;
        assert_eq!(
            d.peek::<usize>(Topic::Changes, &gstin(newest), stamp(1)).as_deref(),
            Some(&newest)
        );
        assert!(
            d.peek::<usize>(Topic::Changes, &gstin(newest), stamp(2)).is_none(),
            "another stamp"
        );
    }

    #[test]
    fn concurrent_requests_for_one_key_compute_it_once() {
        let d = Arc::new(Derived::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (d, runs, arrived) = (Arc::clone(&d), Arc::clone(&runs), Arc::clone(&arrived));
                std::thread::spawn(move || {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    *d.get(Topic::Changes, &gstin(3), stamp(5), || {
                        runs.fetch_add(1, Ordering::SeqCst);
                        // The first computation lasts until every request has arrived.
                        while arrived.load(Ordering::SeqCst) < 8 {
                            std::thread::yield_now();
                        }
                        Ok(42u64)
                    })
                    .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 42);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
