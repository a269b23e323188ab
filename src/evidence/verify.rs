//! `gstvault verify --archive`: recompute everything the archive claims and
//! report each disagreement as a finding (data, not an error).
//!
//! Checked: every snapshot's body reassembles (envelope + decompressed
//! payload) to its recorded SHA-256 and size, its record digest and leaf hash
//! follow from its row (the record names the payload's digest, so a payload
//! that changed fails its bodies and a relabelled one fails its records);
//! every payload decompresses to its recorded size and is referenced (an
//! unreferenced one is also re-hashed); `seq` runs from 0 without gaps;
//! change rows agree with the snapshots they name; every checkpoint's root
//! equals the root recomputed from the rows, and its signature verifies. Each
//! payload is decompressed once per scan and each body hashed once, streamed.
//! A payload whose own copy is damaged but whose repair copy (stored again
//! by a capture that received the genuine bytes) gives its bodies is noted,
//! not a finding: what the archive serves is whole.

use std::collections::{HashMap, HashSet};

use crate::domain::digest::Digest;
use crate::domain::log::Seq;
use crate::domain::merkle::Tree;
use crate::evidence::report::{Finding, VerifyReport};
use crate::evidence::signing::PublicKey;
use crate::store::{Reader, StoreError};

/// Decompressed payloads kept while scanning, bounded in bytes.
/// Decompressed payload bytes, shared between the bodies that hold them.
type Shared = std::sync::Arc<Vec<u8>>;

struct PayloadCache {
    map: HashMap<Digest, Option<Shared>>,
    bytes: usize,
    /// Payloads whose own stored copy is damaged and whose bytes come from a
    /// repair copy (stored by a later capture of the genuine bytes).
    repaired: HashSet<Digest>,
}

const CACHE_BYTES: usize = 64 * 1024 * 1024;

impl PayloadCache {
    /// The payload's bytes; `fresh` is true when they were just decompressed
    /// (the first use since the cache last emptied).
    fn get(&mut self, store: &Reader, sha: &Digest) -> Result<(Option<Shared>, bool), String> {
        if let Some(hit) = self.map.get(sha) {
            return Ok((hit.clone(), false));
        }
        let loaded = match store.stored_payload(sha) {
            Ok(found) => found.map(std::sync::Arc::new),
            // A copy that does not decompress may have a good repair copy.
            Err(e) => match store.repaired_payload(sha).map_err(|e| e.to_string())? {
                Some(bytes) => {
                    self.repaired.insert(*sha);
                    Some(std::sync::Arc::new(bytes))
                }
                None => return Err(e.to_string()),
            },
        };
        let size = loaded.as_ref().map(|b| b.len()).unwrap_or(0);
        if self.bytes + size > CACHE_BYTES {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        self.map.insert(*sha, loaded.clone());
        Ok((loaded, true))
    }
}

/// Verifies the whole archive. `public_key` checks checkpoint signatures.
///
/// Fails only when the archive cannot be read at all.
pub fn verify_archive(store: &Reader, public_key: Option<&PublicKey>) -> Result<VerifyReport, StoreError> {
    // One read transaction: a daemon appending meanwhile cannot make the
    // snapshots, changes and checkpoints read here disagree with each other.
    store.read_consistent(|store| verify_consistent(store, public_key))
}

fn verify_consistent(store: &Reader, public_key: Option<&PublicKey>) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();

    // Payloads: the index only. A referenced payload's bytes are checked
    // through the bodies that contain them (every body is re-hashed, and a
    // payload's digest is part of each referencing record), so they are
    // decompressed and hashed once, in the snapshot scan; unreferenced ones
    // are hashed at the end.
    let payloads = store.payload_index()?;
    let recorded_sizes: HashMap<Digest, u64> = payloads.iter().copied().collect();
    report.payloads = payloads.len() as u64;

    // Snapshots, in log order, keeping the recomputed record digests for the tree.
    let mut digests: Vec<Digest> = Vec::new();
    let mut referenced: HashSet<Digest> = HashSet::new();
    let mut payload_of_seq: HashMap<Seq, Option<Digest>> = HashMap::new();
    let mut cache = PayloadCache {
        map: HashMap::new(),
        bytes: 0,
        repaired: HashSet::new(),
    };
    let mut expected_seq = 0u64;
    let mut pending: Vec<Finding> = Vec::new();
    let mut payload_findings: Vec<(Digest, Finding)> = Vec::new();
    let mut hashed = 0u64;
    let mut gap_reported = false;
    store.scan_snapshots(|row, offset, envelope| {
        let subject = format!("snapshot {}", row.seq);
        let mut add = |message: String| {
            pending.push(Finding {
                subject: subject.clone(),
                message,
            })
        };
        if row.seq.0 != expected_seq && !gap_reported {
            add(format!(
                "log sequence jumps from {} to {}: snapshot rows are missing",
                expected_seq, row.seq
            ));
            gap_reported = true;
        }
        expected_seq = row.seq.0 + 1;
        digests.push(row.record_digest());
        payload_of_seq.insert(row.seq, row.payload_sha256);
        match (&row.payload_sha256, offset, envelope) {
            (Some(sha), Some(offset), Some(envelope)) => {
                referenced.insert(*sha);
                match cache.get(store, sha) {
                    Ok((Some(payload), fresh)) => {
                        if fresh && recorded_sizes.get(sha) != Some(&(payload.len() as u64)) {
                            payload_findings.push((
                                *sha,
                                Finding {
                                    subject: format!("payload {}", sha.short()),
                                    message: format!(
                                        "decompresses to {} bytes, recorded {:?}",
                                        payload.len(),
                                        recorded_sizes.get(sha)
                                    ),
                                },
                            ));
                        }
                        if offset > envelope.len() {
                            add("payload offset lies outside the stored envelope".into());
                            return;
                        }
                        // Hash the reassembled body without building it.
                        let body_digest = |payload: &[u8]| {
                            let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
                            sha2::Digest::update(&mut hasher, &envelope[..offset]);
                            sha2::Digest::update(&mut hasher, payload);
                            sha2::Digest::update(&mut hasher, &envelope[offset..]);
                            Some(Digest(sha2::Digest::finalize(hasher).into()))
                        };
                        let mut payload = payload;
                        hashed += (envelope.len() + payload.len()) as u64;
                        if body_digest(&payload) != row.body_sha256 {
                            // The payload row's copy may be damaged and a
                            // later capture have stored the genuine bytes.
                            match store.repaired_payload(sha) {
                                Ok(Some(copy)) if body_digest(&copy) == row.body_sha256 => {
                                    cache.repaired.insert(*sha);
                                    payload = std::sync::Arc::new(copy);
                                    cache.map.insert(*sha, Some(payload.clone()));
                                }
                                _ => add("stored bytes do not hash to the recorded body SHA-256".into()),
                            }
                        }
                        let body_len = (envelope.len() + payload.len()) as u64;
                        if Some(body_len) != row.body_size {
                            add(format!("stored body is {body_len} bytes, recorded {:?}", row.body_size));
                        }
                    }
                    Ok((None, _)) => add(format!("payload {} is missing", sha.short())),
                    Err(e) => add(e),
                }
            }
            (None, _, None) if row.body_sha256.is_none() => {}
            _ => add("stored body parts are incomplete".into()),
        }
    })?;
    // A payload whose own copy is damaged but whose repair copy gives every
    // body is whole again: noted, not a finding.
    let repaired = cache.repaired;
    report.findings.extend(
        payload_findings
            .into_iter()
            .filter(|(sha, _)| !repaired.contains(sha))
            .map(|(_, finding)| finding),
    );
    report.findings.append(&mut pending);
    let mut repaired: Vec<Digest> = repaired.into_iter().collect();
    repaired.sort();
    for sha in repaired {
        report.notes.push(format!(
            "payload {}: its stored copy is damaged; the genuine bytes, stored again by a later capture, \
             are served instead",
            sha.short()
        ));
    }
    report.bytes_hashed += hashed;
    report.snapshots = digests.len() as u64;

    for (sha, size) in &payloads {
        if referenced.contains(sha) {
            continue;
        }
        let subject = format!("payload {}", sha.short());
        report.finding(subject.clone(), "no snapshot references this payload");
        match store.stored_payload(sha) {
            Ok(Some(bytes)) => {
                report.bytes_hashed += bytes.len() as u64;
                if bytes.len() as u64 != *size || Digest::of(&bytes) != *sha {
                    report.finding(subject, "bytes do not match their recorded size and SHA-256");
                }
            }
            Ok(None) => {}
            Err(e) => report.finding(subject, e.to_string()),
        }
    }

    // Change rows name snapshots that exist and whose payloads they quote.
    for change in store.all_changes()? {
        let subject = format!("change {}", change.seq);
        match (
            payload_of_seq.get(&change.previous_seq),
            payload_of_seq.get(&change.seq),
        ) {
            (Some(old), Some(new)) => {
                if *old != Some(change.old_payload_sha256) || *new != Some(change.new_payload_sha256) {
                    report.finding(subject, "payload digests differ from the snapshots the change names");
                }
            }
            _ => report.finding(subject, "names a snapshot that is not in the log"),
        }
    }

    // Merkle tiles: the stored tree that bundle proofs are read from must be
    // the tree of the rows.
    match crate::domain::merkle::MemoryTiles::of(&digests) {
        Ok(expected) => {
            let mut keys: Vec<&(u8, u64)> = expected.tiles.keys().collect();
            keys.sort();
            let differing: Vec<String> = keys
                .iter()
                .filter(|&&&(level, index)| {
                    let stored = crate::domain::merkle::TileSource::stored_tile(store, level, index);
                    stored.as_ref().ok().and_then(|t| t.as_ref()) != expected.tiles.get(&(level, index))
                })
                .map(|(level, index)| format!("{level}/{index}"))
                .collect();
            if let Some(first) = differing.first() {
                report.finding(
                    "merkle tiles",
                    format!(
                        "{} of {} stored tiles differ from the tree of the rows, first {first} \
                         (proofs read from them would not verify)",
                        differing.len(),
                        keys.len()
                    ),
                );
            }
        }
        Err(e) => report.finding("merkle tiles", e),
    }

    // Checkpoints: recompute each root over the rows as they are now.
    let checkpoints = store.checkpoints()?;
    let mut prefix_tree = Tree::new();
    let mut sorted = checkpoints.clone();
    sorted.sort_by_key(|c| (c.size, c.id));
    let mut pushed = 0usize;
    for checkpoint in &sorted {
        report.checkpoints += 1;
        let subject = format!("checkpoint {}", checkpoint.id);
        let Some(signed) = checkpoint.signed() else {
            report.finding(subject, "stored text is not a checkpoint");
            continue;
        };
        if signed.head.size != checkpoint.size
            || signed.head.root != checkpoint.root
            || signed.head.origin != checkpoint.origin
        {
            report.finding(subject.clone(), "row and signed text disagree");
        }
        if checkpoint.size > digests.len() as u64 {
            report.finding(
                subject,
                format!(
                    "covers {} snapshots but the log holds {}",
                    checkpoint.size,
                    digests.len()
                ),
            );
            continue;
        }
        while (pushed as u64) < checkpoint.size {
            prefix_tree.push(digests[pushed]);
            pushed += 1;
        }
        if prefix_tree.root() != signed.head.root {
            report.finding(
                subject.clone(),
                format!(
                    "root differs from the root recomputed over snapshots 0..{}",
                    checkpoint.size
                ),
            );
        }
        if let Some(key) = public_key {
            if key.info.key_id != checkpoint.key_id {
                report.finding(
                    subject,
                    format!(
                        "signed by key {} but the public key given is {}",
                        checkpoint.key_id, key.info.key_id
                    ),
                );
            } else if let Err(e) = signed.verify(key) {
                report.finding(subject, format!("signature does not verify: {e}"));
            }
        }
    }
    if public_key.is_none() && !checkpoints.is_empty() {
        report
            .notes
            .push("checkpoint signatures not checked: no public key".into());
    }
    if checkpoints.is_empty() {
        report
            .notes
            .push("no checkpoint is stored yet (run `gstvault keygen`; captures then sign one)".into());
    } else if let Some(last) = sorted.last() {
        if last.size < report.snapshots {
            report.notes.push(format!(
                "{} snapshot(s) after the last checkpoint are not yet signed",
                report.snapshots - last.size
            ));
        }
    }
    Ok(report)
}
