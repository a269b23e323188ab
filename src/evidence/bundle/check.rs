//! `gstvault verify BUNDLE.zip`: checks a bundle without trusting it.
//!
//! The ZIP is read in place; nothing is extracted or written anywhere. Hostile
//! input is bounded: entry count, per-entry and total sizes and the
//! compression ratio are capped, names with `..`, absolute paths, backslashes
//! or NUL, symlinks and duplicate names are findings, and bytes are counted as
//! read rather than trusted from headers. Every disagreement is a finding
//! naming the file or snapshot; only an unreadable or non-ZIP file is an error.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use super::*;
use crate::domain::digest::Digest;
use crate::domain::merkle;
use crate::evidence::checkpoint::{SignedCheckpoint, TreeHead};
use crate::evidence::report::{Finding, VerifyReport};
use crate::evidence::signing::PublicKey;

/// Caps on what a bundle may make us read.
const MAX_ENTRIES: usize = 200_000;
const MAX_ENTRY_BYTES: u64 = 8 << 30;
const MAX_TOTAL_BYTES: u64 = 64 << 30;
/// Tag files and proofs are read into memory; they are small in real bundles.
const MAX_TEXT_BYTES: u64 = 512 << 20;
/// A deflated entry expanding more than this is treated as a zip bomb.
const MAX_RATIO: u64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: not a ZIP archive ({message})")]
    NotZip { path: String, message: String },
}

struct Bundle {
    /// Path below the bag root → SHA-256 and size of its bytes.
    digests: BTreeMap<String, (String, u64)>,
    /// Small files kept in memory (tag files, proofs, index).
    texts: BTreeMap<String, Vec<u8>>,
    root: String,
}

fn finding(report: &mut VerifyReport, subject: impl Into<String>, message: impl Into<String>) {
    report.findings.push(Finding {
        subject: subject.into(),
        message: message.into(),
    });
}

fn is_text_file(path: &str) -> bool {
    !path.starts_with("data/") || path == INDEX_CSV || path.starts_with("data/proofs/")
}

/// Reads every entry once, hashing it, within the caps.
fn read_bundle(path: &Path, report: &mut VerifyReport) -> Result<Bundle, CheckError> {
    let file = std::fs::File::open(path).map_err(|e| CheckError::Unreadable {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| CheckError::NotZip {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if archive.len() > MAX_ENTRIES {
        return Err(CheckError::NotZip {
            path: path.display().to_string(),
            message: format!(
                "{} entries: more than the {MAX_ENTRIES} a bundle may hold",
                archive.len()
            ),
        });
    }
    if let Some(declared) = declared_entry_count(path) {
        if declared != archive.len() as u64 {
            finding(
                report,
                "ZIP directory",
                format!(
                    "{declared} entries under {} distinct names: duplicate names",
                    archive.len()
                ),
            );
        }
    }
    let mut bundle = Bundle {
        digests: BTreeMap::new(),
        texts: BTreeMap::new(),
        root: String::new(),
    };
    let mut total = 0u64;
    let mut seen_names = BTreeSet::new();
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(e) => e,
            Err(e) => {
                finding(report, format!("entry {index}"), format!("cannot be read: {e}"));
                continue;
            }
        };
        let raw_name = String::from_utf8_lossy(entry.name_raw()).to_string();
        let subject = format!("entry {raw_name:?}");
        if raw_name.contains('\0')
            || raw_name.contains('\\')
            || raw_name.starts_with('/')
            || entry.enclosed_name().is_none()
            || raw_name.split('/').any(|c| c == "..")
        {
            finding(
                report,
                subject,
                "unsafe name (absolute, `..`, backslash or NUL): ignored",
            );
            continue;
        }
        if entry.is_symlink() {
            finding(report, subject, "is a symbolic link: ignored");
            continue;
        }
        if !seen_names.insert(raw_name.clone()) {
            finding(report, subject, "appears twice in the ZIP");
            continue;
        }
        if entry.is_dir() {
            continue;
        }
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared > MAX_ENTRY_BYTES || declared / compressed > MAX_RATIO && declared > (1 << 20) {
            finding(
                report,
                subject,
                format!("declares {declared} bytes from {compressed}: refused as a zip bomb"),
            );
            continue;
        }
        let Some((root, relative)) = raw_name.split_once('/') else {
            finding(report, subject, "is outside the bag folder");
            continue;
        };
        if bundle.root.is_empty() {
            bundle.root = root.to_string();
        } else if bundle.root != root {
            finding(report, subject, format!("is outside the bag folder {}", bundle.root));
            continue;
        }
        let keep = is_text_file(relative);
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        let mut kept = Vec::new();
        let mut read = 0u64;
        let mut buffer = vec![0u8; 256 * 1024];
        let limit = if keep {
            MAX_TEXT_BYTES.min(MAX_ENTRY_BYTES)
        } else {
            MAX_ENTRY_BYTES
        };
        let mut failed = None;
        loop {
            match entry.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    read += n as u64;
                    total += n as u64;
                    if read > limit || total > MAX_TOTAL_BYTES {
                        failed = Some("is larger than gstvault reads: refused".to_string());
                        break;
                    }
                    sha2::Digest::update(&mut hasher, &buffer[..n]);
                    if keep {
                        kept.extend_from_slice(&buffer[..n]);
                    }
                }
                Err(e) => {
                    failed = Some(format!("cannot be read: {e}"));
                    break;
                }
            }
        }
        if let Some(message) = failed {
            finding(report, format!("file {relative}"), message);
            continue;
        }
        let digest = Digest(sha2::Digest::finalize(hasher).into()).hex();
        report.bytes_hashed += read;
        bundle.digests.insert(relative.to_string(), (digest, read));
        if keep {
            bundle.texts.insert(relative.to_string(), kept);
        }
    }
    Ok(bundle)
}

/// The entry count the end-of-central-directory record declares (None for
/// ZIP64 or when the record is not found). The ZIP reader indexes entries by
/// name, so a count above its length means duplicate names.
fn declared_entry_count(path: &Path) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    let tail = length.min(22 + 65_535);
    file.seek(SeekFrom::Start(length - tail)).ok()?;
    let mut buffer = vec![0u8; tail as usize];
    file.read_exact(&mut buffer).ok()?;
    let at = buffer.windows(4).rposition(|w| w == [0x50, 0x4b, 0x05, 0x06])?;
    let record = buffer.get(at..at + 22)?;
    let total = u16::from_le_bytes([record[10], record[11]]);
    (total != 0xFFFF).then_some(total as u64)
}

fn text<'a>(bundle: &'a Bundle, report: &mut VerifyReport, path: &str) -> Option<&'a str> {
    match bundle.texts.get(path) {
        None => {
            finding(report, format!("file {path}"), "is missing");
            None
        }
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(t) => Some(t),
            Err(_) => {
                finding(report, format!("file {path}"), "is not UTF-8 text");
                None
            }
        },
    }
}

/// Parses `<hex>  <path>` manifest lines; malformed lines are findings.
fn manifest_lines(text: &str, name: &str, report: &mut VerifyReport) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line
            .split_once(char::is_whitespace)
            .map(|(h, p)| (h, p.trim_start().trim_start_matches('*')));
        match parsed {
            Some((hash, path))
                if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) && !path.is_empty() =>
            {
                if out.insert(path.to_string(), hash.to_ascii_lowercase()).is_some() {
                    finding(
                        report,
                        format!("{name} line {}", number + 1),
                        format!("{path} is listed twice"),
                    );
                }
            }
            _ => finding(
                report,
                format!("{name} line {}", number + 1),
                "is not `<sha256>  <path>`",
            ),
        }
    }
    out
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
    let bundle = read_bundle(path, &mut report)?;

    // BagIt structure.
    match bundle.texts.get("bagit.txt") {
        Some(b) if b.as_slice() == BAGIT_TXT.as_bytes() => {}
        Some(_) => finding(&mut report, "file bagit.txt", "is not the BagIt 1.0 declaration"),
        None => finding(&mut report, "file bagit.txt", "is missing"),
    }
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
            finding(&mut report, format!("file {required}"), "is missing");
        }
    }

    // Payload manifest: every line holds, every payload file is listed.
    let manifest = text(&bundle, &mut report, MANIFEST)
        .map(|t| manifest_lines(t, MANIFEST, &mut report))
        .unwrap_or_default();
    for (file, expected) in &manifest {
        match bundle.digests.get(file) {
            None => finding(
                &mut report,
                format!("file {file}"),
                "is listed in manifest-sha256.txt but missing",
            ),
            Some((actual, _)) if actual != expected => finding(
                &mut report,
                format!("file {file}"),
                "SHA-256 differs from manifest-sha256.txt (the file was changed)",
            ),
            _ => {}
        }
    }
    let mut payload_bytes = 0u64;
    let mut payload_files = 0u64;
    for (file, (_, size)) in bundle.digests.iter().filter(|(p, _)| p.starts_with("data/")) {
        payload_bytes += size;
        payload_files += 1;
        if !manifest.contains_key(file) {
            finding(
                &mut report,
                format!("file {file}"),
                "is not listed in manifest-sha256.txt",
            );
        }
    }
    report.snapshots = bundle
        .digests
        .keys()
        .filter(|p| p.starts_with("data/snapshots/"))
        .count() as u64;
    if let Some(info) = text(&bundle, &mut report, "bag-info.txt") {
        let oxum = info
            .lines()
            .find_map(|l| l.strip_prefix("Payload-Oxum:"))
            .map(str::trim);
        let expected = format!("{payload_bytes}.{payload_files}");
        if oxum != Some(expected.as_str()) {
            finding(
                &mut report,
                "file bag-info.txt",
                format!("Payload-Oxum {oxum:?} but the payload is {expected}"),
            );
        }
    }

    // Tag manifest.
    let tagmanifest_text = text(&bundle, &mut report, TAGMANIFEST).map(str::to_string);
    if let Some(t) = &tagmanifest_text {
        let tags = manifest_lines(t, TAGMANIFEST, &mut report);
        if !tags.contains_key(MANIFEST) {
            finding(
                &mut report,
                format!("file {TAGMANIFEST}"),
                "does not cover manifest-sha256.txt",
            );
        }
        for (file, expected) in &tags {
            match bundle.digests.get(file) {
                None => finding(
                    &mut report,
                    format!("file {file}"),
                    "is listed in tagmanifest-sha256.txt but missing",
                ),
                Some((actual, _)) if actual != expected => finding(
                    &mut report,
                    format!("file {file}"),
                    "SHA-256 differs from tagmanifest-sha256.txt (the file was changed)",
                ),
                _ => {}
            }
        }
    }

    // The key: the auditor's, or the bundle's own copy.
    let bundled_key = bundle
        .texts
        .get(PUBLIC_KEY)
        .and_then(|b| PublicKey::parse(&String::from_utf8_lossy(b)).ok());
    let key = match (public_key, &bundled_key) {
        (Some(k), _) => Some(k),
        (None, Some(k)) => {
            report.notes.push(format!(
                "checked with the bundle's own public key {} (fingerprint {}): compare it with the key you trust, or pass --pubkey",
                k.info.key_id, k.info.fingerprint
            ));
            Some(k)
        }
        (None, None) => {
            finding(&mut report, "signature", "no public key: pass --pubkey KEY.pub");
            None
        }
    };

    // Signatures.
    let mut signed_head: Option<TreeHead> = None;
    if let (Some(key), Some(tagmanifest)) = (key, &tagmanifest_text) {
        if let Some(signature) = bundle
            .texts
            .get(TAGMANIFEST_SIG)
            .map(|b| String::from_utf8_lossy(b).to_string())
        {
            match key.verify(tagmanifest.as_bytes(), &signature) {
                Ok(comment) => report.notes.push(format!("signed: {comment}")),
                Err(e) => finding(
                    &mut report,
                    format!("file {TAGMANIFEST_SIG}"),
                    format!("does not verify: {e}"),
                ),
            }
        }
    }
    if let (Some(body), Some(signature)) = (bundle.texts.get(CHECKPOINT), bundle.texts.get(CHECKPOINT_SIG)) {
        let body = String::from_utf8_lossy(body).to_string();
        match TreeHead::parse(&body) {
            None => finding(&mut report, format!("file {CHECKPOINT}"), "is not a checkpoint"),
            Some(head) => {
                let signed = SignedCheckpoint {
                    head: head.clone(),
                    body,
                    signature: String::from_utf8_lossy(signature).to_string(),
                };
                if let Some(key) = key {
                    if let Err(e) = signed.verify(key) {
                        finding(
                            &mut report,
                            format!("file {CHECKPOINT}"),
                            format!("signature does not verify: {e}"),
                        );
                    }
                }
                signed_head = Some(head);
                report.checkpoints = 1;
            }
        }
    }

    // Inclusion of every snapshot in the checkpoint's tree.
    if let (Some(head), Some(records), Some(inclusion)) =
        (&signed_head, bundle.texts.get(RECORDS), bundle.texts.get(INCLUSION))
    {
        let proofs: BTreeMap<u64, Vec<Digest>> = String::from_utf8_lossy(inclusion)
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                let seq = parts.next()?.parse().ok()?;
                let path: Option<Vec<Digest>> = parts.map(Digest::from_hex).collect();
                Some((seq, path?))
            })
            .collect();
        let files_by_seq: BTreeMap<u64, String> = bundle
            .digests
            .keys()
            .filter(|p| p.starts_with("data/snapshots/"))
            .filter_map(|p| {
                let stem = p.rsplit('/').next()?.strip_suffix(".json")?;
                let seq_part = stem
                    .split('_')
                    .find(|s| s.starts_with('s') && s[1..].chars().all(|c| c.is_ascii_digit()))?;
                Some((seq_part[1..].parse().ok()?, p.clone()))
            })
            .collect();
        let mut recorded = BTreeSet::new();
        let mut by_seq: BTreeMap<u64, (String, serde_json::Value)> = BTreeMap::new();
        let mut fileless: Vec<u64> = Vec::new();
        for (number, line) in String::from_utf8_lossy(records).lines().enumerate() {
            let subject = format!("{RECORDS} line {}", number + 1);
            let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
                finding(&mut report, subject, "is not a log record");
                continue;
            };
            let Some(seq) = record.get("seq").and_then(|s| s.as_u64()) else {
                finding(&mut report, subject, "has no seq");
                continue;
            };
            recorded.insert(seq);
            by_seq.insert(seq, (line.to_string(), record.clone()));
            let subject = format!("snapshot {seq}");
            let digest = Digest::of(line.as_bytes());
            match proofs.get(&seq) {
                None => finding(&mut report, subject.clone(), "has no inclusion proof"),
                Some(path) => {
                    if !merkle::verify_inclusion(head.root, head.size, &digest.0, seq, path) {
                        finding(
                            &mut report,
                            subject.clone(),
                            "inclusion proof does not lead to the checkpoint root",
                        );
                    }
                }
            }
            let body_sha = record.get("body_sha256").and_then(|s| s.as_str());
            if let Some(file) = files_by_seq.get(&seq) {
                if body_sha != bundle.digests.get(file).map(|(d, _)| d.as_str()) {
                    finding(
                        &mut report,
                        subject,
                        format!("{file} is not the body its log record names"),
                    );
                }
            } else if body_sha.is_some() {
                fileless.push(seq);
            }
        }
        // A record without a file must be a proven last sighting of a version.
        let sightings = bundle
            .texts
            .get(INDEX_CSV)
            .map(|index| claims::check_claims(&String::from_utf8_lossy(index), &by_seq, &mut report))
            .unwrap_or_default();
        for seq in fileless {
            if !sightings.contains(&seq) {
                finding(&mut report, format!("snapshot {seq}"), "its snapshot file is missing");
            }
        }
        for (seq, file) in &files_by_seq {
            if !recorded.contains(seq) {
                finding(
                    &mut report,
                    format!("file {file}"),
                    "has no log record in records.jsonl",
                );
            }
        }
    }

    // Consistency with the previous bundle.
    let consistency = bundle
        .texts
        .get(CONSISTENCY)
        .map(|b| String::from_utf8_lossy(b).to_string());
    let mut old_head: Option<(u64, Digest)> = None;
    if let (Some(text), Some(head)) = (&consistency, &signed_head) {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
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
                    finding(
                        &mut report,
                        format!("file {CONSISTENCY}"),
                        "the consistency proof does not hold: the log was rewritten since the previous bundle",
                    );
                }
                old_head = Some((size, root));
            }
            _ => finding(&mut report, format!("file {CONSISTENCY}"), "is not a consistency proof"),
        }
    }
    if let Some(previous) = previous {
        let mut prior = VerifyReport::default();
        match read_bundle(previous, &mut prior) {
            Err(e) => finding(&mut report, "previous bundle", e.to_string()),
            Ok(prior_bundle) => {
                let prior_head = prior_bundle
                    .texts
                    .get(CHECKPOINT)
                    .and_then(|b| TreeHead::parse(&String::from_utf8_lossy(b)));
                match (prior_head, &signed_head) {
                    (Some(prior_head), Some(head)) if prior_head.size == head.size => {
                        if prior_head.root != head.root {
                            finding(
                                &mut report,
                                "previous bundle",
                                "same log size but a different root: the log was rewritten",
                            );
                        }
                    }
                    (Some(prior_head), Some(_)) => match old_head {
                        Some((size, root)) if size == prior_head.size && root == prior_head.root => {}
                        Some(_) => finding(
                            &mut report,
                            "previous bundle",
                            "this bundle's consistency proof starts from another checkpoint",
                        ),
                        None => finding(
                            &mut report,
                            "previous bundle",
                            "this bundle has no consistency proof to check it against",
                        ),
                    },
                    _ => finding(&mut report, "previous bundle", "has no readable checkpoint"),
                }
            }
        }
    }
    Ok(report)
}
