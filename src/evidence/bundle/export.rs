//! `gstvault export`: writes one evidence bundle, reproducibly and atomically.
//!
//! Reproducible: entries sorted by path, stored (no compression), every entry
//! stamped with the as-of instant and mode 0644, the PDF and the workbook
//! deterministic, the
//! signature deterministic, the checkpoint and previous bundle chosen by rules
//! that only depend on the append-only archive and the as-of instant. Atomic:
//! written to a temporary file in the output directory, fsynced, renamed.
//! Streaming: snapshot bodies are read from the archive and written one at a
//! time, so memory does not grow with the bundle.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::*;
use crate::domain::digest::Digest;
use crate::domain::log::Seq;
use crate::domain::period::Period;
use crate::domain::time::Timestamp;
use crate::evidence::scope::{versions, Scope, Version};
use crate::evidence::signing::SigningKey;
use crate::store::{BundleRow, CheckpointRow, Reader, SnapshotRow, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no snapshot of {gstin} for {period} was received at or before {as_of}")]
    Empty {
        gstin: String,
        period: String,
        as_of: String,
    },
    #[error("the archive is inconsistent ({0}): run `gstvault verify --archive`")]
    Corrupt(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("summary PDF: {0}")]
    Pdf(String),
    #[error("summary workbook: {0}")]
    Workbook(String),
    /// A bundle file under this bundle's name holds other bytes than the
    /// bundle: changed or damaged since it was written. It is left as it is.
    #[error(
        "{path}: this bundle file does not hold the bytes of bundle {bundle_id} (SHA-256 {found}, expected {expected}): \
         it was changed or damaged; it is left as it is, move it away to export the bundle again"
    )]
    Changed {
        path: String,
        bundle_id: String,
        found: Digest,
        expected: Digest,
    },
}

impl ExportError {
    /// Whether the export stopped because stored evidence is damaged.
    pub fn is_damage(&self) -> bool {
        match self {
            ExportError::Store(e) => e.is_damage(),
            ExportError::Corrupt(_) => true,
            _ => false,
        }
    }
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub gstin: Gstin,
    pub legal_name: Option<String>,
    pub organization: String,
    pub scope: Scope,
    pub as_of: DateTime<Utc>,
    pub out_dir: PathBuf,
    /// A firm's own PDF template text (None: the built-in one).
    pub template: Option<String>,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct Exported {
    pub path: PathBuf,
    pub sha256: Digest,
    pub bundle_id: String,
    pub snapshots: usize,
    pub payload_bytes: u64,
    pub checkpoint_size: u64,
    /// The bundle the consistency proof starts from (its file name).
    pub previous: Option<String>,
    /// True when the bundle was exported before and its file is there:
    /// nothing was written.
    pub existed: bool,
}

/// The bundle file path of a snapshot.
pub fn snapshot_path(row: &SnapshotRow) -> String {
    let stamp = row
        .received_at
        .to_datetime()
        .map(|t| t.format("%Y%m%dT%H%M%S%.3fZ").to_string())
        .unwrap_or_default();
    let page = if row.page > 0 {
        format!("_p{}", row.page)
    } else {
        String::new()
    };
    format!(
        "data/snapshots/{}/{}/{stamp}_s{}{page}.json",
        row.endpoint, row.period, row.seq
    )
}

enum Content {
    Bytes(Vec<u8>),
    /// A snapshot body read from the archive while writing; its digest and size are known.
    Snapshot {
        seq: Seq,
        sha256: Digest,
        size: u64,
    },
}

struct Entry {
    path: String,
    content: Content,
}

impl Entry {
    fn digest(&self) -> String {
        match &self.content {
            Content::Bytes(b) => Digest::of(b).hex(),
            Content::Snapshot { sha256, .. } => sha256.hex(),
        }
    }
    fn size(&self) -> u64 {
        match &self.content {
            Content::Bytes(b) => b.len() as u64,
            Content::Snapshot { size, .. } => *size,
        }
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The checkpoint a bundle leads its proofs to: the first one signed by `key`
/// that covers `needed` leaves; one is made now when none does yet.
fn bundle_checkpoint(
    store: &mut Store,
    key: &SigningKey,
    needed: u64,
    now: DateTime<Utc>,
) -> Result<CheckpointRow, ExportError> {
    let key_id = key.info().key_id;
    let existing = store
        .checkpoints()?
        .into_iter()
        .filter(|c| c.key_id == key_id && c.size >= needed)
        .min_by_key(|c| c.id);
    match existing {
        Some(c) => Ok(c),
        None => Ok(crate::evidence::checkpoint::record(store, key, now, None)?),
    }
}

/// The previous bundle of the GSTIN: exported at or before the as-of instant,
/// with a smaller checkpoint; the one with the largest such checkpoint.
fn previous_bundle(
    store: &Reader,
    gstin: &Gstin,
    as_of: Timestamp,
    size: u64,
) -> Result<Option<(BundleRow, CheckpointRow)>, ExportError> {
    let mut best: Option<(BundleRow, CheckpointRow)> = None;
    for bundle in store.bundles_of(gstin)? {
        if bundle.created_at > as_of {
            continue;
        }
        let Some(checkpoint) = store.checkpoint(bundle.checkpoint_id)? else {
            continue;
        };
        if checkpoint.size == 0 || checkpoint.size >= size {
            continue;
        }
        if best.as_ref().is_none_or(|(_, c)| checkpoint.size > c.size) {
            best = Some((bundle, checkpoint));
        }
    }
    Ok(best)
}

fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    let ist = t.with_timezone(&crate::domain::period::ist());
    zip::DateTime::from_date_and_time(
        ist.year().clamp(1980, 2107) as u16,
        ist.month() as u8,
        ist.day() as u8,
        ist.hour() as u8,
        ist.minute() as u8,
        ist.second() as u8,
    )
    .unwrap_or_default()
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn index_csv(versions: &[Version]) -> String {
    let mut out = String::from(
        "seq,endpoint,period,page,outcome,http_status,status_cd,error_cd,requested_at,received_at,first_seen,last_seen,last_seen_seq,origin,transaction_id,body_sha256,payload_sha256,record_digest,file\n",
    );
    for v in versions {
        let r = &v.first;
        let fields = [
            r.seq.to_string(),
            r.endpoint.clone(),
            r.period.to_string(),
            r.page.to_string(),
            r.outcome.to_string(),
            r.http_status.map(|s| s.to_string()).unwrap_or_default(),
            r.status_cd.clone().unwrap_or_default(),
            r.error_cd.clone().unwrap_or_default(),
            r.requested_at.to_string(),
            r.received_at.to_string(),
            r.received_at.to_string(),
            v.last_seen().to_string(),
            v.last.seq.to_string(),
            r.origin.clone().unwrap_or_default(),
            r.transaction_id.clone().unwrap_or_default(),
            r.body_sha256.map(|d| d.hex()).unwrap_or_default(),
            r.payload_sha256.map(|d| d.hex()).unwrap_or_default(),
            r.record_digest().hex(),
            snapshot_path(r),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// The snapshots a bundle of `request` draws on, in log order: the scope's,
/// up to the as-of, and the next month's ledgers (a month's GSTR-3B is paid
/// in the next month: those ledgers are the evidence of the payment, so
/// they travel with the bundle).
///
/// Fails when the archive cannot be read.
pub fn bundle_rows(store: &Reader, request: &ExportRequest) -> Result<Vec<SnapshotRow>, ExportError> {
    let as_of = Timestamp::of(request.as_of);
    let mut rows = store.snapshots_for_bundle(&request.gstin, &request.scope.periods(), as_of)?;
    let after: Vec<Period> = request
        .scope
        .months()
        .last()
        .map(|m| Period::Month(m.next()))
        .into_iter()
        .collect();
    rows.extend(
        store
            .snapshots_for_bundle(&request.gstin, &after, as_of)?
            .into_iter()
            .filter(|r| r.endpoint.starts_with("ledger-")),
    );
    rows.sort_by_key(|r| r.seq);
    Ok(rows)
}

/// Exports one bundle. `now` stamps checkpoints made for it and the bundle record.
///
/// Fails when nothing was archived for the scope, the archive disagrees with
/// itself, or the output cannot be written; then no file is left at the final path.
pub fn export(
    store: &mut Store,
    key: &SigningKey,
    request: &ExportRequest,
    now: DateTime<Utc>,
) -> Result<Exported, ExportError> {
    let gstin = &request.gstin;
    let as_of = Timestamp::of(request.as_of);
    let rows = bundle_rows(store, request)?;
    let versions = versions(&rows);
    if versions.is_empty() {
        return Err(ExportError::Empty {
            gstin: gstin.to_string(),
            period: request.scope.label(),
            as_of: crate::domain::time::when_stored(as_of),
        });
    }
    // The checkpoint covers every observation in scope, so the last-seen
    // times of the index are in the signed log too.
    let needed = rows.iter().map(|r| r.seq.0).max().unwrap_or(0) + 1;
    let checkpoint = bundle_checkpoint(store, key, needed, now)?;
    let head = checkpoint
        .signed()
        .ok_or_else(|| ExportError::Corrupt(format!("checkpoint {} text", checkpoint.id)))?;

    // From here on the export only reads (thousands of small queries for
    // proofs and bodies): one read transaction until the bundle is written.
    let reading = store.begin_read()?;
    // The archive's tree at the checkpoint's size; it must give the signed root.
    let tree = store.tree(checkpoint.size);
    if tree.root().map_err(ExportError::Corrupt)? != head.head.root {
        return Err(ExportError::Corrupt(format!("checkpoint {} root", checkpoint.id)));
    }

    let bundle_id = bundle_id(request, &checkpoint, &rows);

    let name = bundle_name(&request.gstin, &request.scope, request.as_of, &bundle_id);
    let file_name = format!("{name}.zip");
    std::fs::create_dir_all(&request.out_dir).map_err(|e| io_err(&request.out_dir, e))?;
    remove_stale_partials(&request.out_dir);
    let final_path = request.out_dir.join(&file_name);
    // Exported before and still whole: a no-op that reports the file.
    let recorded = store.bundle(&bundle_id)?;
    if let Some(row) = &recorded {
        if final_path.exists() {
            let found = file_digest(&final_path)?;
            if found != row.sha256 {
                return Err(changed(&final_path, &bundle_id, found, row.sha256));
            }
            let previous = match &row.previous_bundle_id {
                Some(id) => store.bundle(id)?.map(|b| b.file_name),
                None => None,
            };
            return Ok(Exported {
                path: final_path,
                sha256: found,
                bundle_id,
                snapshots: versions.len(),
                payload_bytes: 0,
                checkpoint_size: checkpoint.size,
                previous,
                existed: true,
            });
        }
    }

    let key_info = key.info();
    let report = crate::evidence::summary::build(
        store,
        &crate::evidence::summary::SummaryInput {
            gstin: &request.gstin,
            legal_name: request.legal_name.clone(),
            organization: request.organization.clone(),
            scope: request.scope,
            as_of: request.as_of,
            bundle_id: bundle_id.clone(),
            checkpoint: &checkpoint,
            key: &key_info,
            rows: &rows,
            versions: &versions,
        },
    )?;
    let template = match &request.template {
        Some(text) => crate::evidence::pdf::Template::parse(text).map_err(|e| ExportError::Pdf(e.to_string()))?,
        None => crate::evidence::pdf::Template::builtin(),
    };
    let previous = previous_bundle(store, gstin, as_of, checkpoint.size)?;
    // The PDF and the workbook (a fifth of the PDF's time) render beside
    // the proofs, which are read from the archive; the system shares the
    // threads out over the cores.
    let (pdf, workbook, proofs) = std::thread::scope(|scope| {
        let pdf = scope.spawn(|| crate::evidence::pdf::render(&report, &template));
        let workbook = scope.spawn(|| crate::evidence::workbook::render(&report));
        let proofs = proofs(&tree, &head.head, &checkpoint, &versions, previous.as_ref());
        (
            pdf.join().expect("the PDF renderer does not panic"),
            workbook.join().expect("the workbook renderer does not panic"),
            proofs,
        )
    });
    let pdf = pdf.map_err(|e| ExportError::Pdf(e.to_string()))?;
    let workbook = workbook.map_err(|e| ExportError::Workbook(e.to_string()))?;
    let (records, inclusion, consistency) = proofs?;

    // Payload files.
    let mut entries: Vec<Entry> = vec![
        Entry {
            path: SUMMARY_PDF.into(),
            content: Content::Bytes(pdf),
        },
        Entry {
            path: SUMMARY_XLSX.into(),
            content: Content::Bytes(workbook),
        },
        Entry {
            path: INDEX_CSV.into(),
            content: Content::Bytes(index_csv(&versions).into_bytes()),
        },
        Entry {
            path: RECORDS.into(),
            content: Content::Bytes(records.into_bytes()),
        },
        Entry {
            path: INCLUSION.into(),
            content: Content::Bytes(inclusion.into_bytes()),
        },
    ];
    if let Some(text) = consistency {
        entries.push(Entry {
            path: CONSISTENCY.into(),
            content: Content::Bytes(text.into_bytes()),
        });
    }
    for v in &versions {
        let (Some(sha256), Some(size)) = (v.first.body_sha256, v.first.body_size) else {
            continue;
        };
        entries.push(Entry {
            path: snapshot_path(&v.first),
            content: Content::Snapshot {
                seq: v.first.seq,
                sha256,
                size,
            },
        });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest: String = entries
        .iter()
        .map(|e| format!("{}  {}\n", e.digest(), e.path))
        .collect();
    let oxum_bytes: u64 = entries.iter().map(Entry::size).sum();
    let previous_lines = previous
        .as_ref()
        .map(|(b, c)| {
            format!(
                "Previous-Bundle-ID: {}\nPrevious-Checkpoint-Size: {}\nPrevious-Checkpoint-Root: {}\n",
                b.bundle_id, c.size, c.root
            )
        })
        .unwrap_or_default();

    // Where the answers came from; simulator data can never pass for portal evidence.
    let (sources, simulated) = crate::evidence::scope::sources(&rows);
    let source_lines = format!(
        "Source-Origin: {}\n{}",
        sources.join(", "),
        if simulated {
            format!(
                "Simulated-Data: yes: captured from a simulator at {}, not from the GST portal; not evidence\n",
                sources.join(", ")
            )
        } else {
            String::new()
        }
    );
    let bag_info = format!(
        "Source-Organization: {}\nExternal-Identifier: {bundle_id}\nExternal-Description: GST evidence of {gstin} for {} as of {as_of}\nBagging-Date: {}\nPayload-Oxum: {oxum_bytes}.{}\nBag-Software-Agent: gstvault {}\nGSTIN: {gstin}\nPeriod: {}\nAs-Of: {as_of}\nCheckpoint-Size: {}\nCheckpoint-Root: {}\nSigning-Key-ID: {}\n{source_lines}{previous_lines}",
        if request.organization.trim().is_empty() { "unspecified" } else { request.organization.trim() },
        request.scope.label(),
        india_date(request.as_of).format("%Y-%m-%d"),
        entries.len(),
        env!("CARGO_PKG_VERSION"),
        request.scope.label(),
        checkpoint.size,
        checkpoint.root,
        key_info.key_id,
    );
    let verify_txt = fill(
        include_str!("../../../templates/verify.txt"),
        &[
            ("bundle_id", &bundle_id),
            ("gstin", gstin.as_str()),
            ("period", &request.scope.label()),
            ("as_of", &as_of.to_string()),
            ("key_id", &key_info.key_id),
            ("key_fingerprint", &key_info.fingerprint),
            ("bundle_file", &file_name),
            ("bag_name", &name),
            ("note_key", &key.public().note_verifier_key(&head.head.origin)),
        ],
    );
    // checkpoint.txt is the checkpoint as a C2SP signed note (its Ed25519
    // note signature under the checkpoint origin), and its .minisig signs
    // the whole file, so both transparency-log tools and minisign read it.
    // The stored checkpoint must be this key's: never a text it did not sign.
    let note = head
        .as_note(key)
        .map_err(|e| ExportError::Corrupt(format!("checkpoint {}: {e}", checkpoint.id)))?;
    let mut tag_files: Vec<(String, Vec<u8>)> = vec![
        ("bagit.txt".into(), BAGIT_TXT.as_bytes().to_vec()),
        ("bag-info.txt".into(), bag_info.into_bytes()),
        (MANIFEST.into(), manifest.into_bytes()),
        (CHECKPOINT.into(), note.note.clone().into_bytes()),
        (CHECKPOINT_SIG.into(), note.signature.clone().into_bytes()),
        (PUBLIC_KEY.into(), key_info.public_key_text.clone().into_bytes()),
        (VERIFY_TXT.into(), verify_txt.into_bytes()),
    ];
    tag_files.sort();
    let tagmanifest: String = tag_files
        .iter()
        .map(|(p, b)| format!("{}  {p}\n", Digest::of(b).hex()))
        .collect();
    let trusted = format!(
        "gstvault bundle={bundle_id} gstin={gstin} period={} as_of={as_of} log_size={} root={}",
        request.scope.label(),
        checkpoint.size,
        checkpoint.root
    );
    let signature = key.sign(tagmanifest.as_bytes(), &trusted);
    tag_files.push((TAGMANIFEST.into(), tagmanifest.into_bytes()));
    tag_files.push((TAGMANIFEST_SIG.into(), signature.into_bytes()));
    for (path, bytes) in tag_files {
        entries.push(Entry {
            path,
            content: Content::Bytes(bytes),
        });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));

    let previous_file = previous.as_ref().map(|(b, _)| b.file_name.clone());
    let done = |sha256: Digest, existed: bool| Exported {
        path: final_path.clone(),
        sha256,
        bundle_id: bundle_id.clone(),
        snapshots: versions.len(),
        payload_bytes: oxum_bytes,
        checkpoint_size: checkpoint.size,
        previous: previous_file.clone(),
        existed,
    };
    let temp_path = request
        .out_dir
        .join(format!(".{file_name}{PARTIAL_MARK}{}", std::process::id()));
    let result = write_zip(store, &temp_path, &name, &entries, request.as_of);
    drop(reading);
    // The temporary file stays locked until it has its final name, so a
    // concurrent export never takes it for an interrupted one.
    let _partial = match result {
        Ok(file) => file,
        Err(e) => {
            let _ = std::fs::remove_file(&temp_path);
            return Err(e);
        }
    };
    let sha256 = file_digest(&temp_path)?;
    let existed = place_no_replace(&temp_path, &final_path, &bundle_id, sha256)?;
    if let Some(row) = &recorded {
        if row.sha256 != sha256 {
            return Err(ExportError::Corrupt(format!(
                "bundle {bundle_id} came out as other bytes than when it was first exported (SHA-256 {sha256}, \
                 recorded {})",
                row.sha256
            )));
        }
    } else {
        store.append_bundle(&BundleRow {
            bundle_id: bundle_id.clone(),
            gstin: gstin.clone(),
            period: request.scope.period(),
            as_of,
            checkpoint_id: checkpoint.id,
            file_name: file_name.clone(),
            sha256,
            created_at: Timestamp::of(now),
            previous_bundle_id: previous.as_ref().map(|(b, _)| b.bundle_id.clone()),
        })?;
    }
    Ok(done(sha256, existed))
}

/// The bundle's identity: the first 16 hex digits of SHA-256 over what it is:
/// GSTIN, scope, as-of instant, checkpoint, and the log positions of every
/// snapshot it draws on (so a snapshot received by the as-of instant but
/// committed after an earlier export of the same as-of makes another bundle,
/// not another content under the same ID).
fn bundle_id(request: &ExportRequest, checkpoint: &CheckpointRow, rows: &[SnapshotRow]) -> String {
    let mut text = format!(
        "gstvault bundle\n{}\n{}\n{}\n{}\n{}\n",
        request.gstin,
        request.scope.label(),
        Timestamp::of(request.as_of),
        checkpoint.size,
        checkpoint.root
    );
    for row in rows {
        text.push_str(&row.seq.to_string());
        text.push(' ');
    }
    Digest::of(text.as_bytes()).hex()[..16].to_string()
}

fn changed(path: &Path, bundle_id: &str, found: Digest, expected: Digest) -> ExportError {
    ExportError::Changed {
        path: path.display().to_string(),
        bundle_id: bundle_id.to_string(),
        found,
        expected,
    }
}

/// Gives the finished temporary file its final name without ever replacing a
/// file: a hard link fails when the name is taken. When it is taken by the
/// same bytes (another export of the same bundle won the race, or the file
/// was put back) nothing changes; other bytes are refused. The temporary
/// name is removed either way. Returns whether the final file was there.
fn place_no_replace(temp: &Path, final_path: &Path, bundle_id: &str, sha256: Digest) -> Result<bool, ExportError> {
    let linked = std::fs::hard_link(temp, final_path);
    let _ = std::fs::remove_file(temp);
    match linked {
        Ok(()) => {
            if let Some(dir) = final_path.parent().and_then(|d| std::fs::File::open(d).ok()) {
                let _ = dir.sync_all();
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let found = file_digest(final_path)?;
            if found == sha256 {
                Ok(true)
            } else {
                Err(changed(final_path, bundle_id, found, sha256))
            }
        }
        Err(e) => Err(io_err(final_path, e)),
    }
}

/// Removes the temporary files of exports that were interrupted (a crash,
/// a kill): `.<bundle>.zip.partial-<pid>` files nobody holds locked. A live
/// export holds its temporary file locked, so it is left alone.
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".gstvault_") && name.contains(&format!(".zip{PARTIAL_MARK}"))) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() {
            tracing::info!(file = %path.display(), "removing the temporary file of an interrupted export");
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The bundle's proof files: the exact leaf record of every included
/// snapshot, their audit paths, and the consistency proof from the GSTIN's
/// previous bundle. Each proof is checked against the checkpoint before it
/// ships.
fn proofs(
    tree: &crate::domain::merkle::StoredTree<'_, Reader>,
    head: &crate::evidence::checkpoint::TreeHead,
    checkpoint: &CheckpointRow,
    versions: &[Version],
    previous: Option<&(BundleRow, CheckpointRow)>,
) -> Result<(String, String, Option<String>), ExportError> {
    let mut records = String::new();
    let mut inclusion = String::from("# log-index audit-path (RFC 6962), hex SHA-256 values, root in checkpoint.txt\n");
    // Every claim of the index is a log record with its proof: the first
    // snapshot of each timeline entry and, when another, its last sighting.
    let mut proven: Vec<&SnapshotRow> = versions.iter().flat_map(Version::proven).collect();
    proven.sort_by_key(|r| r.seq);
    proven.dedup_by_key(|r| r.seq);
    for row in proven {
        let record = row.leaf_record().encode();
        records.push_str(std::str::from_utf8(&record).map_err(|e| ExportError::Corrupt(e.to_string()))?);
        records.push('\n');
        // Proofs come from the stored tree; each is checked before it ships.
        let proof = tree.inclusion_proof(row.seq.0).map_err(ExportError::Corrupt)?;
        if !crate::domain::merkle::verify_inclusion(
            head.root,
            checkpoint.size,
            &Digest::of(&record).0,
            row.seq.0,
            &proof,
        ) {
            return Err(ExportError::Corrupt(format!(
                "the stored Merkle tree gives snapshot {} an audit path that does not lead to checkpoint {}'s root \
                 (run `gstvault verify --archive`)",
                row.seq, checkpoint.id
            )));
        }
        let path: Vec<String> = proof.iter().map(Digest::hex).collect();
        inclusion.push_str(&format!("{} {}\n", row.seq, path.join(" ")));
    }
    let consistency = previous
        .map(|(bundle, old)| -> Result<String, ExportError> {
        let proof = tree.consistency_proof(old.size).map_err(ExportError::Corrupt)?;
        let old_root = old.root;
        if !crate::domain::merkle::verify_consistency(old_root, old.size, head.root, checkpoint.size, &proof) {
            return Err(ExportError::Corrupt(format!(
                "the stored Merkle tree gives no valid consistency proof from checkpoint {} to {} \
                 (run `gstvault verify --archive`)",
                old.id, checkpoint.id
            )));
        }
        let proof: Vec<String> = proof.iter().map(Digest::hex).collect();
        Ok(format!(
            "previous-bundle: {}\nprevious-file: {}\nold-size: {}\nold-root: {}\nnew-size: {}\nnew-root: {}\nproof: {}\n",
            bundle.bundle_id,
            bundle.file_name,
            old.size,
            old.root,
            checkpoint.size,
            checkpoint.root,
            proof.join(" ")
        ))
    })
        .transpose()?;
    Ok((records, inclusion, consistency))
}

fn write_zip(
    store: &Reader,
    path: &Path,
    root: &str,
    entries: &[Entry],
    as_of: DateTime<Utc>,
) -> Result<std::fs::File, ExportError> {
    let file = crate::files::create_owner_only(path).map_err(|e| io_err(path, e))?;
    file.try_lock()
        .map_err(|e| io_err(path, format!("cannot lock the temporary file: {e}")))?;
    let mut zip = zip::ZipWriter::new(sink::PatchBuffer::new(file, 256 << 10));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip_time(as_of))
        .unix_permissions(0o644)
        .system(zip::System::Unix)
        .large_file(false);
    for entry in entries {
        let size = entry.size();
        let options = options.large_file(size >= 0xFFFF_FFFF);
        zip.start_file(format!("{root}/{}", entry.path), options)
            .map_err(|e| io_err(path, e))?;
        match &entry.content {
            Content::Bytes(bytes) => zip.write_all(bytes).map_err(|e| io_err(path, e))?,
            Content::Snapshot { seq, .. } => {
                // Checked by the store: the bytes hash to the recorded SHA-256
                // (the digest the manifest and the record carry), else Damaged.
                let body = store
                    .body(*seq)?
                    .ok_or_else(|| ExportError::Corrupt(format!("snapshot {seq} has no body")))?;
                zip.write_all(&body).map_err(|e| io_err(path, e))?;
            }
        }
    }
    let writer = zip.finish().map_err(|e| io_err(path, e))?;
    let file = writer.into_inner().map_err(|e| io_err(path, e))?;
    file.sync_all().map_err(|e| io_err(path, e))?;
    Ok(file)
}

/// SHA-256 of a file, read in chunks.
pub fn file_digest(path: &Path) -> Result<Digest, ExportError> {
    use sha2::Digest as _;
    let mut file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| io_err(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(Digest(hasher.finalize().into()))
}
