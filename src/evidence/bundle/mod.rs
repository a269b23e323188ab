//! Evidence bundles: one BagIt 1.0 bag in a reproducible ZIP, signed in
//! minisign format, with RFC 6962 inclusion proofs for every snapshot it holds
//! and a consistency proof from the GSTIN's previous bundle.
//!
//! [`export`] writes bundles (the only code that writes ZIP, through
//! `sink`'s patchable buffer); [`check`] reads
//! one without trusting it (hostile-input caps, nothing written to disk) and
//! reports findings, checking the index's claims against the log records
//! in `claims`. The layout below is the contract between the two and
//! with auditors, who check a bundle with `sha256sum -c`, `bagit.py
//! --validate` and `minisign -V` after unzipping.
//!
//! ```text
//! <name>/bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
//! <name>/tagmanifest-sha256.txt.minisig   signature over the tag manifest
//! <name>/checkpoint.txt (+ .minisig)      signed tree head the proofs lead to
//! <name>/gstvault.pub  VERIFY.txt         the signing public key; how to verify by hand
//! <name>/data/summary.pdf  data/summary.xlsx  data/index.csv
//! <name>/data/snapshots/<endpoint>/<period>/<received>_s<seq>[_p<page>].json   exact bytes
//! <name>/data/proofs/records.jsonl  inclusion.txt  [consistency.txt]
//! ```

pub mod check;
mod claims;
pub mod export;
mod sink;

use chrono::{DateTime, Utc};

use crate::domain::gstin::Gstin;
use crate::domain::period::india_date;
use crate::evidence::scope::Scope;

pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
pub const MANIFEST: &str = "manifest-sha256.txt";
pub const TAGMANIFEST: &str = "tagmanifest-sha256.txt";
pub const TAGMANIFEST_SIG: &str = "tagmanifest-sha256.txt.minisig";
pub const CHECKPOINT: &str = "checkpoint.txt";
pub const CHECKPOINT_SIG: &str = "checkpoint.txt.minisig";
pub const PUBLIC_KEY: &str = "gstvault.pub";
pub const VERIFY_TXT: &str = "VERIFY.txt";
pub const INDEX_CSV: &str = "data/index.csv";
pub const SUMMARY_PDF: &str = "data/summary.pdf";
/// The summary as a workbook, beside the PDF (`evidence::workbook`).
pub const SUMMARY_XLSX: &str = "data/summary.xlsx";
pub const RECORDS: &str = "data/proofs/records.jsonl";
pub const INCLUSION: &str = "data/proofs/inclusion.txt";
pub const CONSISTENCY: &str = "data/proofs/consistency.txt";

/// `gstvault_<GSTIN>_<period>_<as-of date>_<bundle ID>` (the as-of date in
/// IST). The bundle ID is a digest of what the bundle is (GSTIN, scope,
/// as-of instant, checkpoint), so a name never stands for two contents and
/// no export has a reason to replace a file.
pub fn bundle_name(gstin: &Gstin, scope: &Scope, as_of: DateTime<Utc>, bundle_id: &str) -> String {
    format!(
        "gstvault_{gstin}_{}_{}_{bundle_id}",
        scope.label(),
        india_date(as_of).format("%Y-%m-%d")
    )
}

/// The prefix of an export's temporary file in the output directory:
/// `.<file name>.partial-<pid>`.
pub const PARTIAL_MARK: &str = ".partial-";
