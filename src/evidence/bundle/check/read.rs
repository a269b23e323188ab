//! Reading a bundle ZIP without trusting it: every central-directory entry
//! (duplicates included, whichever end record the file has), its local file
//! header and the byte range it claims are checked before a byte of its data
//! is read; then the accepted entries are hashed once, and the few tag and
//! proof files the checks parse are kept in memory within one budget.
//!
//! The ZIP format is the `zip` crate's (finding the end records, parsing
//! central-directory headers, decompressing); the structural rules a bundle
//! must keep are ours: each entry's local header and data lie inside the file,
//! before the central directory, disjoint from every other entry's and in
//! directory order, the local header names the entry as the directory does,
//! and the data is exactly the size declared.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use zip::unstable::read::ZipIterable;

use super::super::*;
use super::CheckError;
use crate::domain::digest::Digest;
use crate::evidence::report::{clip, VerifyReport};

/// Entries a bundle may have; a directory declaring more is refused whole.
pub(super) const MAX_ENTRIES: usize = 200_000;
/// Bytes of one entry's data, and of all of them, that are read at most.
const MAX_ENTRY_BYTES: u64 = 8 << 30;
const MAX_TOTAL_BYTES: u64 = 64 << 30;
/// What may be held in memory from a bundle, all of it together: entry names
/// (each counted with [`ENTRY_OVERHEAD`]) and the tag and proof files kept.
pub(super) const MAX_HELD_BYTES: u64 = 64 << 20;
const ENTRY_OVERHEAD: u64 = 128;
/// A bundle's longest name is about 150 bytes; longer names are refused.
const MAX_NAME_BYTES: usize = 1024;
/// A deflated entry expanding more than this (above 1 MiB) is a zip bomb.
const MAX_RATIO: u64 = 200;
/// Bytes of the local file header before its name and extra field.
const LOCAL_HEADER: u64 = 30;
const LOCAL_SIGNATURE: [u8; 4] = *b"PK\x03\x04";

/// The files below the bag root whose bytes the checks read.
const KEPT: [&str; 12] = [
    "bagit.txt",
    "bag-info.txt",
    MANIFEST,
    TAGMANIFEST,
    TAGMANIFEST_SIG,
    CHECKPOINT,
    CHECKPOINT_SIG,
    PUBLIC_KEY,
    RECORDS,
    INCLUSION,
    CONSISTENCY,
    INDEX_CSV,
];

/// What a bundle holds, as read.
pub(super) struct Bundle {
    /// Path below the bag root → SHA-256 and size of its bytes (every file
    /// read; with [`Reading::KeptOnly`] only the kept ones).
    pub digests: BTreeMap<String, (Digest, u64)>,
    /// The files of [`KEPT`] that were read and fit the budget.
    pub texts: BTreeMap<String, Vec<u8>>,
    /// Bytes of the budget ([`MAX_HELD_BYTES`]) taken so far: the checks
    /// that hold more (the records the index's claims are checked against)
    /// take from what is left.
    pub held: u64,
}

/// Which entries' bytes are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// Every accepted entry is hashed (the bundle being verified).
    Everything,
    /// Only the kept tag and proof files (a `--previous` bundle).
    KeptOnly,
}

/// One central-directory entry as the first pass saw it.
struct Entry {
    /// The name (None when it was refused before it was held).
    name: Option<String>,
    header_start: u64,
    data_end: u64,
    compressed: u64,
    declared: u64,
    /// Passed every check so far; its bytes are read in the second pass.
    accepted: bool,
}

fn entry_subject(name: &str) -> String {
    format!("entry {:?}", clip(name))
}

fn file_subject(relative: &str) -> String {
    format!("file {}", clip(relative))
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> CheckError {
    CheckError::Unreadable {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The local file header at `at`: its raw name, compression method and where
/// its data starts; Err with the finding's message when there is none.
fn local_header(file: &mut File, at: u64, file_len: u64) -> Result<(Vec<u8>, u16, u64), String> {
    let outside = || format!("its local file header (offset {at}) lies outside the file ({file_len} bytes): ignored");
    if at.checked_add(LOCAL_HEADER).is_none_or(|end| end > file_len) {
        return Err(outside());
    }
    let mut fixed = [0u8; LOCAL_HEADER as usize];
    file.seek(SeekFrom::Start(at))
        .and_then(|_| file.read_exact(&mut fixed))
        .map_err(|e| format!("its local file header (offset {at}) cannot be read: {e}: ignored"))?;
    if fixed[..4] != LOCAL_SIGNATURE {
        return Err(format!("there is no local file header at offset {at}: ignored"));
    }
    let method = u16::from_le_bytes([fixed[8], fixed[9]]);
    let name_len = u16::from_le_bytes([fixed[26], fixed[27]]) as u64;
    let extra_len = u16::from_le_bytes([fixed[28], fixed[29]]) as u64;
    let data_start = at + LOCAL_HEADER + name_len + extra_len;
    if data_start > file_len {
        return Err(outside());
    }
    let mut name = vec![0u8; name_len as usize];
    file.read_exact(&mut name)
        .map_err(|e| format!("its local file header (offset {at}) cannot be read: {e}: ignored"))?;
    Ok((name, method, data_start))
}

/// Reads a bundle ZIP: structural findings go to `report`; an unreadable or
/// non-ZIP file is the only error.
pub(super) fn read_bundle(path: &Path, reading: Reading, report: &mut VerifyReport) -> Result<Bundle, CheckError> {
    let metadata_file = File::open(path).map_err(|e| io_error(path, e))?;
    let file_len = metadata_file.metadata().map_err(|e| io_error(path, e))?.len();
    let mut body = File::open(path).map_err(|e| io_error(path, e))?;
    let mut zip = ZipIterable::try_new(
        BufReader::with_capacity(8 * 1024, metadata_file),
        zip::read::Config::default(),
    )
    .map_err(|e| CheckError::NotZip {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if zip.len() > MAX_ENTRIES {
        return Err(CheckError::NotZip {
            path: path.display().to_string(),
            message: format!("{} entries: more than the {MAX_ENTRIES} a bundle may hold", zip.len()),
        });
    }

    // Pass 1: every central-directory entry, nothing of its data read.
    let mut entries: Vec<Entry> = Vec::with_capacity(zip.len().min(4096));
    let mut held = 0u64;
    let mut directory_start = file_len;
    let mut root: Option<String> = None;
    let files = zip.files().map_err(|e| CheckError::NotZip {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    for (index, item) in files.enumerate() {
        let entry = match item {
            Ok(entry) => entry,
            Err(e) => {
                report.finding(
                    "ZIP directory",
                    format!("entry {index} cannot be read ({e}): the entries after it are not read"),
                );
                break;
            }
        };
        directory_start = directory_start.min(entry.central_header_start());
        let mut record = Entry {
            name: None,
            header_start: entry.header_start(),
            data_end: 0,
            compressed: entry.compressed_size(),
            declared: entry.size(),
            accepted: false,
        };
        let raw = entry.name_raw();
        if raw.len() > MAX_NAME_BYTES {
            report.finding(
                entry_subject(&String::from_utf8_lossy(raw)),
                format!(
                    "its name is {} bytes long, more than the {MAX_NAME_BYTES} a bundle's names have: ignored",
                    raw.len()
                ),
            );
            entries.push(record);
            continue;
        }
        let Ok(name) = std::str::from_utf8(raw) else {
            report.finding(
                entry_subject(&String::from_utf8_lossy(raw)),
                "its name is not UTF-8: ignored",
            );
            entries.push(record);
            continue;
        };
        held += name.len() as u64 + ENTRY_OVERHEAD;
        if held > MAX_HELD_BYTES {
            report.finding(
                "ZIP directory",
                format!(
                    "its names take more than the {} MiB gstvault holds: the entries from entry {index} on are not read",
                    MAX_HELD_BYTES >> 20
                ),
            );
            break;
        }
        record.name = Some(name.to_string());
        let subject = entry_subject(name);
        if name.contains('\0')
            || name.contains('\\')
            || name.starts_with('/')
            || entry.enclosed_name().is_none()
            || name.split('/').any(|c| c == "..")
        {
            report.finding(subject, "unsafe name (absolute, `..`, backslash or NUL): ignored");
        } else if entry.is_symlink() {
            report.finding(subject, "is a symbolic link: ignored");
        } else if entry.is_dir() {
            // Nothing to read; its name still counts for duplicates.
        } else if entry.encrypted() {
            report.finding(subject, "is encrypted: ignored");
        } else if let Some(message) = outside_the_bag(name, &mut root) {
            report.finding(subject, message);
        } else {
            match local_header(&mut body, record.header_start, file_len) {
                Err(message) => report.finding(subject, message),
                Ok((local_name, _, _)) if local_name != raw => report.finding(
                    subject,
                    format!(
                        "its local file header names it {:?}: the names differ: ignored",
                        clip(&String::from_utf8_lossy(&local_name))
                    ),
                ),
                Ok((_, method, _)) if method_number(entry.compression()).is_some_and(|m| m != method) => report
                    .finding(
                        subject,
                        format!(
                            "its local file header says compression method {method}, the central directory {}: ignored",
                            method_number(entry.compression()).unwrap_or_default()
                        ),
                    ),
                Ok((_, _, data_start)) => match data_start.checked_add(record.compressed) {
                    Some(end) if end <= file_len => {
                        record.data_end = end;
                        record.accepted = true;
                    }
                    _ => report.finding(
                        subject,
                        format!(
                            "its data ({} bytes from offset {data_start}) runs past the end of the file ({file_len} bytes): ignored",
                            record.compressed
                        ),
                    ),
                },
            }
            if record.accepted {
                if let Some(message) = size_refusal(&entry.compression(), record.compressed, record.declared) {
                    report.finding(entry_subject(name), message);
                    record.accepted = false;
                }
            }
        }
        entries.push(record);
    }
    let read_entries = entries.len();
    refuse_duplicates(&mut entries, report);
    refuse_overlaps(&mut entries, directory_start, report);

    // Pass 2: the accepted entries' bytes, in directory order.
    let mut bundle = Bundle {
        digests: BTreeMap::new(),
        texts: BTreeMap::new(),
        held: 0,
    };
    let mut total = 0u64;
    let files = zip.files().map_err(|e| io_error(path, e))?;
    for (entry, record) in files.take(read_entries).zip(&entries) {
        let (true, Some(name), Ok(entry)) = (record.accepted, &record.name, entry) else {
            continue;
        };
        let relative = name.split_once('/').map(|(_, r)| r).unwrap_or_default();
        let keep = KEPT.contains(&relative);
        if reading == Reading::KeptOnly && !keep {
            continue;
        }
        if total + record.declared > MAX_TOTAL_BYTES {
            report.finding(
                file_subject(relative),
                format!(
                    "the entries before it hold {total} bytes: more than the {} GiB gstvault reads of a bundle: not read",
                    MAX_TOTAL_BYTES >> 30
                ),
            );
            continue;
        }
        let keep = keep && held + record.declared <= MAX_HELD_BYTES;
        if KEPT.contains(&relative) && !keep {
            report.finding(
                file_subject(relative),
                format!(
                    "is {} bytes: with what is held before it, more than the {} MiB gstvault holds of a bundle: not checked",
                    record.declared,
                    MAX_HELD_BYTES >> 20
                ),
            );
        }
        let mut data = match entry.with_reader(&mut body, zip::ZipReadOptions::new()) {
            Ok(data) => data,
            Err(e) => {
                report.finding(file_subject(relative), format!("cannot be read: {e}"));
                continue;
            }
        };
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        let mut kept = Vec::new();
        if keep {
            held += record.declared;
            kept.reserve_exact(record.declared as usize);
        }
        let mut read = 0u64;
        let mut buffer = vec![0u8; 256 * 1024];
        let failed = loop {
            match data.read(&mut buffer) {
                Ok(0) => break None,
                Ok(n) => {
                    read += n as u64;
                    sha2::Digest::update(&mut hasher, &buffer[..n]);
                    if keep {
                        kept.extend_from_slice(&buffer[..n]);
                    }
                }
                Err(e) => break Some(format!("cannot be read: {e}")),
            }
        };
        total += read;
        report.bytes_hashed += read;
        let failed = failed.or_else(|| {
            (read != record.declared)
                .then(|| format!("holds {read} bytes, not the {} its entry declares", record.declared))
        });
        if let Some(message) = failed {
            report.finding(file_subject(relative), message);
            continue;
        }
        let digest = Digest(sha2::Digest::finalize(hasher).into());
        bundle.digests.insert(relative.to_string(), (digest, read));
        if keep {
            bundle.texts.insert(relative.to_string(), kept);
        }
    }
    bundle.held = held;
    Ok(bundle)
}

/// The number a local file header gives the methods bundles use.
fn method_number(method: zip::CompressionMethod) -> Option<u16> {
    match method {
        zip::CompressionMethod::Stored => Some(0),
        zip::CompressionMethod::Deflated => Some(8),
        _ => None,
    }
}

/// Every entry sits in one top folder, the bag root (the first entry's).
fn outside_the_bag(name: &str, root: &mut Option<String>) -> Option<String> {
    let Some((top, _)) = name.split_once('/') else {
        return Some("is outside the bag folder: ignored".into());
    };
    match root {
        None => {
            *root = Some(top.to_string());
            None
        }
        Some(root) if root == top => None,
        Some(root) => Some(format!("is outside the bag folder {}: ignored", clip(root))),
    }
}

/// Why an entry's declared sizes are refused before its data is read.
fn size_refusal(method: &zip::CompressionMethod, compressed: u64, declared: u64) -> Option<String> {
    if *method == zip::CompressionMethod::Stored && compressed != declared {
        return Some(format!(
            "is stored, but declares {declared} bytes for {compressed} bytes of data: ignored"
        ));
    }
    if declared > MAX_ENTRY_BYTES {
        return Some(format!(
            "declares {declared} bytes: more than the {} GiB gstvault reads of one file: ignored",
            MAX_ENTRY_BYTES >> 30
        ));
    }
    if declared / compressed.max(1) > MAX_RATIO && declared > (1 << 20) {
        return Some(format!(
            "declares {declared} bytes from {compressed}: refused as a zip bomb"
        ));
    }
    None
}

/// A name that the directory lists more than once is no file: tools disagree
/// on which copy it is (`unzip -n` takes the first, others the last), so
/// every copy is ignored.
fn refuse_duplicates(entries: &mut [Entry], report: &mut VerifyReport) {
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for entry in entries.iter() {
        if let Some(name) = &entry.name {
            *copies.entry(name.as_str()).or_default() += 1;
        }
    }
    let named = copies.values().sum::<usize>();
    if named == copies.len() {
        return;
    }
    report.finding(
        "ZIP directory",
        format!("{named} entries under {} distinct names: duplicate names", copies.len()),
    );
    let duplicated: BTreeMap<String, usize> = copies
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(name, n)| (name.to_string(), n))
        .collect();
    for (name, n) in &duplicated {
        report.finding(
            entry_subject(name),
            format!("appears {n} times in the ZIP directory: every copy ignored"),
        );
    }
    for entry in entries.iter_mut() {
        if entry.name.as_ref().is_some_and(|n| duplicated.contains_key(n)) {
            entry.accepted = false;
        }
    }
}

/// Accepted entries must own their bytes: local header and data inside the
/// file, before the central directory, disjoint from every other entry's
/// and in directory order. Entries that share bytes are all ignored; one out
/// of order is reported and still read.
fn refuse_overlaps(entries: &mut [Entry], directory_start: u64, report: &mut VerifyReport) {
    let name = |entry: &Entry| entry.name.clone().unwrap_or_default();
    for entry in entries.iter_mut().filter(|e| e.accepted) {
        if entry.data_end > directory_start {
            report.finding(
                entry_subject(&name(entry)),
                format!(
                    "its data ends at offset {}, inside the central directory (offset {directory_start}): ignored",
                    entry.data_end
                ),
            );
            entry.accepted = false;
        }
    }
    let mut order: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].accepted).collect();
    order.sort_by_key(|&i| (entries[i].header_start, entries[i].data_end));
    let mut shared = vec![false; entries.len()];
    let mut owner: Option<usize> = None;
    for &i in &order {
        if let Some(o) = owner {
            if entries[i].header_start < entries[o].data_end {
                report.finding(
                    entry_subject(&name(&entries[i])),
                    format!(
                        "shares bytes with entry {:?} (its bytes {}..{}, this one's from offset {}): both ignored",
                        clip(&name(&entries[o])),
                        entries[o].header_start,
                        entries[o].data_end,
                        entries[i].header_start
                    ),
                );
                shared[i] = true;
                shared[o] = true;
            }
        }
        if owner.is_none_or(|o| entries[i].data_end > entries[o].data_end) {
            owner = Some(i);
        }
    }
    let mut previous: Option<usize> = None;
    for i in 0..entries.len() {
        if shared[i] {
            entries[i].accepted = false;
        }
        if !entries[i].accepted {
            continue;
        }
        if let Some(p) = previous {
            if entries[i].header_start < entries[p].data_end {
                report.finding(
                    entry_subject(&name(&entries[i])),
                    format!(
                        "is out of order: its local file header (offset {}) comes before the data of {:?}, listed before it, ends (offset {})",
                        entries[i].header_start,
                        clip(&name(&entries[p])),
                        entries[p].data_end
                    ),
                );
            }
        }
        previous = Some(i);
    }
}
