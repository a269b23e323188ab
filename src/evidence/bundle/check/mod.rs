//! `gstvault verify BUNDLE.zip`: checks a bundle without trusting it.
//!
//! The ZIP is read in place; nothing is extracted or written anywhere.
//! `read` walks every central-directory entry (duplicates included,
//! whatever the end record) and checks its structure before reading a byte of
//! data: duplicate names, a local header naming another file, entries sharing
//! bytes, out of order, outside the file or the declared size, unsafe names,
//! symlinks and zip bombs are findings. Bytes are counted as read rather than
//! trusted from headers, and what a bundle may make us read and hold is
//! capped (entry count, bytes read, one memory budget for the names, the tag
//! and proof files and index kept, and the records the index's claims are
//! checked against), so any input costs time in proportion to its real size
//! and bounded memory. Then the BagIt manifests, the signatures, every
//! snapshot's inclusion proof, the index's claims (`claims`) and, with
//! `--previous`, the older bundle
//! (`previous`: same GSTIN, older, signed by the same key, the start of the
//! consistency proof) are checked. Every disagreement is a finding naming the
//! file or snapshot (names clipped, findings capped by the report); only an
//! unreadable or non-ZIP file is an error.

mod previous;
mod read;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;
use crate::domain::digest::Digest;
use crate::domain::merkle;
use crate::evidence::checkpoint::{CheckpointNote, TreeHead};
use crate::evidence::report::{clip, VerifyReport};
use crate::evidence::signing::PublicKey;
use read::{read_bundle, Bundle, Reading, MAX_ENTRIES, MAX_HELD_BYTES};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: not a ZIP archive ({message})")]
    NotZip { path: String, message: String },
}

fn file_subject(path: &str) -> String {
    format!("file {}", clip(path))
}

/// A kept file as UTF-8 text; a finding when it is missing or not text. A
/// file that was read but not kept (over the memory budget) was reported
/// when it was read.
fn text<'a>(bundle: &'a Bundle, report: &mut VerifyReport, path: &str) -> Option<&'a str> {
    match bundle.texts.get(path) {
        None => {
            if !bundle.digests.contains_key(path) {
                report.finding(file_subject(path), "is missing");
            }
            None
        }
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(t) => Some(t),
            Err(_) => {
                report.finding(file_subject(path), "is not UTF-8 text");
                None
            }
        },
    }
}

/// A kept file as UTF-8 text, None when it was not kept (its absence is a
/// finding elsewhere); a finding when it is not text.
fn kept_text<'a>(bundle: &'a Bundle, report: &mut VerifyReport, path: &str) -> Option<&'a str> {
    let bytes = bundle.texts.get(path)?;
    let text = std::str::from_utf8(bytes).ok();
    if text.is_none() {
        report.finding(file_subject(path), "is not UTF-8 text");
    }
    text
}

/// The value of `label` in bag-info.txt.
fn bag_info<'a>(bundle: &'a Bundle, label: &str) -> Option<&'a str> {
    let info = std::str::from_utf8(bundle.texts.get("bag-info.txt")?).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix(label)?.strip_prefix(':'))
        .map(str::trim)
}

/// Parses `<hex>  <path>` manifest lines; malformed lines are findings. At
/// most one line per entry a bundle may hold is read.
fn manifest_lines<'a>(text: &'a str, name: &str, report: &mut VerifyReport) -> BTreeMap<&'a str, Digest> {
    let mut out = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        if number >= MAX_ENTRIES {
            report.finding(
                format!("{name} line {}", number + 1),
                format!("more lines than the {MAX_ENTRIES} files a bundle may hold: the rest is not read"),
            );
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line
            .split_once(char::is_whitespace)
            .map(|(h, p)| (h, p.trim_start().trim_start_matches('*')));
        match parsed.and_then(|(hash, path)| Some((Digest::from_hex(hash)?, path))) {
            Some((hash, path)) if !path.is_empty() => {
                if out.insert(path, hash).is_some() {
                    report.finding(
                        format!("{name} line {}", number + 1),
                        format!("{} is listed twice", clip(path)),
                    );
                }
            }
            _ => report.finding(format!("{name} line {}", number + 1), "is not `<sha256>  <path>`"),
        }
    }
    out
}

/// Every file a manifest (`name`) lists is there with the SHA-256 it lists.
fn compare_listed(bundle: &Bundle, listed: &BTreeMap<&str, Digest>, name: &str, report: &mut VerifyReport) {
    for (file, expected) in listed {
        match bundle.digests.get(*file) {
            None => report.finding(file_subject(file), format!("is listed in {name} but missing")),
            Some((actual, _)) if actual != expected => report.finding(
                file_subject(file),
                format!("SHA-256 differs from {name} (the file was changed)"),
            ),
            _ => {}
        }
    }
}

/// What a bundle says about itself that the `--previous` check compares.
pub(super) struct Facts {
    gstin: Option<String>,
    as_of: Option<String>,
    head: Option<TreeHead>,
}

impl Facts {
    fn of(bundle: &Bundle, head: Option<TreeHead>) -> Facts {
        let first_record = || {
            let records = std::str::from_utf8(bundle.texts.get(RECORDS)?).ok()?;
            Record::string(&serde_json::from_str::<Record>(records.lines().next()?).ok()?.gstin)
        };
        Facts {
            gstin: bag_info(bundle, "GSTIN").map(str::to_string).or_else(first_record),
            as_of: bag_info(bundle, "As-Of").map(str::to_string),
            head,
        }
    }
}

/// The members of a log record the checks use, as their raw JSON (unknown
/// members are skipped without being held).
#[derive(serde::Deserialize)]
struct Record {
    seq: Option<u64>,
    gstin: Option<Box<RawValue>>,
    endpoint: Option<Box<RawValue>>,
    period: Option<Box<RawValue>>,
    page: Option<Box<RawValue>>,
    origin: Option<Box<RawValue>>,
    outcome: Option<Box<RawValue>>,
    received_at: Option<Box<RawValue>>,
    body_sha256: Option<Box<RawValue>>,
    payload_sha256: Option<Box<RawValue>>,
}

/// A member's raw JSON longer than this is not parsed: no field of a log
/// record is that long, and its JSON could take many times its size.
const MAX_MEMBER_BYTES: usize = 1024;

impl Record {
    fn string(raw: &Option<Box<RawValue>>) -> Option<String> {
        serde_json::from_str(raw.as_ref()?.get()).ok()
    }

    /// The members the index's claims are checked against, as JSON values
    /// (a member too long to be one stands as a text saying so), and about
    /// the bytes they hold.
    fn claimed(&self) -> (Value, u64) {
        let mut members = serde_json::Map::new();
        let mut size = 0u64;
        members.insert("seq".into(), self.seq.map(Value::from).unwrap_or(Value::Null));
        for (name, raw) in [
            ("gstin", &self.gstin),
            ("endpoint", &self.endpoint),
            ("period", &self.period),
            ("page", &self.page),
            ("origin", &self.origin),
            ("outcome", &self.outcome),
            ("received_at", &self.received_at),
            ("body_sha256", &self.body_sha256),
            ("payload_sha256", &self.payload_sha256),
        ] {
            let Some(raw) = raw else { continue };
            let text = raw.get();
            let value = if text.len() > MAX_MEMBER_BYTES {
                Value::String(format!("(a value of {} bytes)", text.len()))
            } else {
                serde_json::from_str(text).unwrap_or(Value::Null)
            };
            size += text.len().min(MAX_MEMBER_BYTES) as u64 * 2 + 64;
            members.insert(name.into(), value);
        }
        (Value::Object(members), size)
    }
}

/// The signed checkpoint of a bundle, its signature checked with `key`.
/// `subject` prefixes the findings ("" or "previous bundle ").
fn signed_head(bundle: &Bundle, key: Option<&PublicKey>, report: &mut VerifyReport, subject: &str) -> Option<TreeHead> {
    let note = std::str::from_utf8(bundle.texts.get(CHECKPOINT)?).ok();
    let signature = String::from_utf8_lossy(bundle.texts.get(CHECKPOINT_SIG)?).to_string();
    let Some(checkpoint) = note.and_then(|n| CheckpointNote::parse(n, &signature)) else {
        report.finding(format!("{subject}file {CHECKPOINT}"), "is not a signed checkpoint note");
        return None;
    };
    if let Some(key) = key {
        if let Err(e) = checkpoint.verify(key) {
            report.finding(
                format!("{subject}file {CHECKPOINT}"),
                format!("signature does not verify: {e}"),
            );
        }
    }
    Some(checkpoint.head)
}

/// Verifies a bundle. `public_key` is the key the auditor trusts; without it
/// the bundle's own copy is used and a note says so. `previous` is an older
/// bundle of the same GSTIN whose checkpoint this one must extend.
///
/// Fails only when the file cannot be read or is not a ZIP.
pub fn check_bundle(
    path: &Path,
    public_key: Option<&PublicKey>,
    previous: Option<&Path>,
) -> Result<VerifyReport, CheckError> {
    let mut report = VerifyReport::default();
    let bundle = read_bundle(path, Reading::Everything, &mut report)?;

    // BagIt structure.
    match bundle.texts.get("bagit.txt") {
        Some(b) if b.as_slice() == BAGIT_TXT.as_bytes() => {}
        Some(_) => report.finding("file bagit.txt", "is not the BagIt 1.0 declaration"),
        None if bundle.digests.contains_key("bagit.txt") => {}
        None => report.finding("file bagit.txt", "is missing"),
    }
    // data/summary.xlsx is not required: bundles exported before gstvault
    // wrote it must still verify. Where it is, the manifest covers it like
    // every payload file (a file under data/ not listed is a finding).
    for required in [
        SUMMARY_PDF,
        INDEX_CSV,
        RECORDS,
        INCLUSION,
        CHECKPOINT,
        CHECKPOINT_SIG,
        TAGMANIFEST_SIG,
    ] {
        if !bundle.digests.contains_key(required) {
            report.finding(format!("file {required}"), "is missing");
        }
    }

    // Payload manifest: every line holds, every payload file is listed.
    let manifest = text(&bundle, &mut report, MANIFEST)
        .map(|t| manifest_lines(t, MANIFEST, &mut report))
        .unwrap_or_default();
    compare_listed(&bundle, &manifest, MANIFEST, &mut report);
    let mut payload_bytes = 0u64;
    let mut payload_files = 0u64;
    for (file, (_, size)) in bundle.digests.iter().filter(|(p, _)| p.starts_with("data/")) {
        payload_bytes += size;
        payload_files += 1;
        if !manifest.contains_key(file.as_str()) {
            report.finding(file_subject(file), "is not listed in manifest-sha256.txt");
        }
    }
    report.snapshots = bundle
        .digests
        .keys()
        .filter(|p| p.starts_with("data/snapshots/"))
        .count() as u64;
    if text(&bundle, &mut report, "bag-info.txt").is_some() {
        let oxum = bag_info(&bundle, "Payload-Oxum");
        let expected = format!("{payload_bytes}.{payload_files}");
        if oxum != Some(expected.as_str()) {
            report.finding(
                "file bag-info.txt",
                format!("Payload-Oxum {:?} but the payload is {expected}", oxum.map(clip)),
            );
        }
    }

    // Tag manifest.
    let tagmanifest = text(&bundle, &mut report, TAGMANIFEST);
    if let Some(t) = tagmanifest {
        let tags = manifest_lines(t, TAGMANIFEST, &mut report);
        if !tags.contains_key(MANIFEST) {
            report.finding(format!("file {TAGMANIFEST}"), "does not cover manifest-sha256.txt");
        }
        compare_listed(&bundle, &tags, TAGMANIFEST, &mut report);
    }

    // The key: the auditor's, or the bundle's own copy.
    let bundled_key = bundle
        .texts
        .get(PUBLIC_KEY)
        .and_then(|b| PublicKey::parse(&String::from_utf8_lossy(b)).ok());
    let key = match (public_key, &bundled_key) {
        (Some(k), _) => Some(k),
        (None, Some(k)) => {
            report.note(format!(
                "checked with the bundle's own public key {} (fingerprint {}): compare it with the key you trust, or pass --pubkey",
                k.info.key_id, k.info.fingerprint
            ));
            Some(k)
        }
        (None, None) => {
            report.finding("signature", "no public key: pass --pubkey KEY.pub");
            None
        }
    };

    // Signatures.
    if let (Some(key), Some(tagmanifest)) = (key, tagmanifest) {
        if let Some(signature) = bundle.texts.get(TAGMANIFEST_SIG) {
            match key.verify(tagmanifest.as_bytes(), &String::from_utf8_lossy(signature)) {
                Ok(comment) => report.note(format!("signed: {comment}")),
                Err(e) => report.finding(format!("file {TAGMANIFEST_SIG}"), format!("does not verify: {e}")),
            }
        }
    }
    let head = signed_head(&bundle, key, &mut report, "");
    if head.is_some() {
        report.checkpoints = 1;
    }
    if let Some(head) = &head {
        check_inclusion(&bundle, head, &mut report);
    }

    // Consistency with the previous bundle.
    let start = head
        .as_ref()
        .and_then(|head| check_consistency(&bundle, head, &mut report));
    if let Some(previous) = previous {
        previous::check(&Facts::of(&bundle, head), start, key, previous, &mut report);
    }
    Ok(report)
}

/// Every snapshot's inclusion in the checkpoint's tree, and its file's bytes
/// against its log record.
fn check_inclusion(bundle: &Bundle, head: &TreeHead, report: &mut VerifyReport) {
    let (Some(records), Some(inclusion)) = (kept_text(bundle, report, RECORDS), kept_text(bundle, report, INCLUSION))
    else {
        return;
    };
    let proofs: BTreeMap<u64, Vec<Digest>> = inclusion
        .lines()
        .take(MAX_ENTRIES)
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let seq = parts.next()?.parse().ok()?;
            let path: Option<Vec<Digest>> = parts.map(Digest::from_hex).collect();
            Some((seq, path?))
        })
        .collect();
    let files_by_seq: BTreeMap<u64, &str> = bundle
        .digests
        .keys()
        .filter(|p| p.starts_with("data/snapshots/"))
        .filter_map(|p| {
            let stem = p.rsplit('/').next()?.strip_suffix(".json")?;
            let seq_part = stem
                .split('_')
                .find(|s| s.starts_with('s') && s[1..].chars().all(|c| c.is_ascii_digit()))?;
            Some((seq_part[1..].parse().ok()?, p.as_str()))
        })
        .collect();
    let mut recorded = BTreeSet::new();
    // The records the index's claims are checked against, held within what
    // is left of the budget.
    let mut by_seq: Option<BTreeMap<u64, (String, Value)>> = Some(BTreeMap::new());
    let mut held = bundle.held;
    let mut fileless: Vec<u64> = Vec::new();
    for (number, line) in records.lines().enumerate() {
        let subject = format!("{RECORDS} line {}", number + 1);
        if number >= MAX_ENTRIES {
            report.finding(
                subject,
                format!("more records than the {MAX_ENTRIES} a bundle may hold: the rest is not read"),
            );
            break;
        }
        let record = match serde_json::from_str::<Record>(line) {
            Err(_) => {
                report.finding(subject, "is not a log record");
                continue;
            }
            Ok(r) => r,
        };
        let Some(seq) = record.seq else {
            report.finding(subject, "has no seq");
            continue;
        };
        recorded.insert(seq);
        if let Some(map) = &mut by_seq {
            let (claimed, size) = record.claimed();
            held += line.len() as u64 + size + 128;
            if held > MAX_HELD_BYTES {
                report.finding(
                    format!("file {RECORDS}"),
                    format!(
                        "its records take more than the {} MiB gstvault holds of a bundle: the index's claims are not checked",
                        MAX_HELD_BYTES >> 20
                    ),
                );
                by_seq = None;
            } else {
                map.insert(seq, (line.to_string(), claimed));
            }
        }
        let subject = format!("snapshot {seq}");
        let digest = Digest::of(line.as_bytes());
        match proofs.get(&seq) {
            None => report.finding(subject.clone(), "has no inclusion proof"),
            Some(path) => {
                if !merkle::verify_inclusion(head.root, head.size, &digest.0, seq, path) {
                    report.finding(subject.clone(), "inclusion proof does not lead to the checkpoint root");
                }
            }
        }
        let body_sha = Record::string(&record.body_sha256);
        if let Some(file) = files_by_seq.get(&seq) {
            let named = body_sha.as_deref().and_then(Digest::from_hex);
            if named.as_ref() != bundle.digests.get(*file).map(|(d, _)| d) {
                report.finding(subject, format!("{} is not the body its log record names", clip(file)));
            }
        } else if body_sha.is_some() {
            fileless.push(seq);
        }
    }
    // A record without a file must be a proven last sighting of a version.
    let sightings = match (&by_seq, kept_text(bundle, report, INDEX_CSV)) {
        (Some(by_seq), Some(index)) => claims::check_claims(index, by_seq, report),
        _ => BTreeSet::new(),
    };
    for seq in fileless {
        if !sightings.contains(&seq) {
            report.finding(format!("snapshot {seq}"), "its snapshot file is missing");
        }
    }
    for (seq, file) in &files_by_seq {
        if !recorded.contains(seq) {
            report.finding(file_subject(file), "has no log record in records.jsonl");
        }
    }
}

/// The bundle's consistency proof from its previous bundle's checkpoint to
/// its own: Some(old size, old root) when it is one (whether it holds is a
/// finding), None when there is none or it cannot be read.
fn check_consistency(bundle: &Bundle, head: &TreeHead, report: &mut VerifyReport) -> Option<(u64, Digest)> {
    let text = std::str::from_utf8(bundle.texts.get(CONSISTENCY)?).ok();
    let field = |name: &str| {
        text?
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .map(str::trim)
    };
    let old_size = field("old-size").and_then(|s| s.parse::<u64>().ok());
    let old_root = field("old-root").and_then(Digest::from_hex);
    let proof: Option<Vec<Digest>> = field("proof")
        .map(|p| p.split_whitespace().map(Digest::from_hex).collect::<Option<Vec<_>>>())
        .unwrap_or(Some(vec![]));
    match (old_size, old_root, proof) {
        (Some(size), Some(root), Some(proof)) => {
            if !merkle::verify_consistency(root, size, head.root, head.size, &proof) {
                report.finding(
                    format!("file {CONSISTENCY}"),
                    "the consistency proof does not hold: the log was rewritten since the previous bundle",
                );
            }
            Some((size, root))
        }
        _ => {
            report.finding(format!("file {CONSISTENCY}"), "is not a consistency proof");
            None
        }
    }
}
