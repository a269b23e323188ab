//! Benchmark: verification throughput next to `sha256sum` over the same bytes
//! (this machine's hashing limit). Issue target: verify ≥ 0.7× sha256sum.
//!
//!     cargo run --release --example bench_export -- 1024 /tmp/bench1g   # builds the archive
//!     cargo run --release --example bench_verify -- /tmp/bench1g
//!
//! Measures `verify --archive` (every payload and body re-hashed, every leaf
//! and checkpoint re-derived), `verify BUNDLE.zip` on the FY bundle of that
//! archive (exported first when absent), and `sha256sum` over the bundle file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use gstvault::bundle::export::{export, ExportRequest};
use gstvault::bundle::Scope;
use gstvault::gstin::Gstin;
use gstvault::period::FinancialYear;
use gstvault::signing::{PublicKey, SigningKey};
use gstvault::store::Store;

fn bundle(dir: &Path) -> PathBuf {
    let out = dir.join("bundles");
    if let Some(existing) = std::fs::read_dir(&out)
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
    {
        return existing.path();
    }
    let store = Store::open(&dir.join("archive.sqlite")).unwrap();
    let key = SigningKey::load(&dir.join("bench.key"), None).unwrap();
    let as_of = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let request = ExportRequest {
        gstin: Gstin::parse("27AAPFU0939F1ZV").unwrap(),
        legal_name: None,
        organization: "bench".into(),
        scope: Scope::Year(FinancialYear { start_year: 2025 }),
        as_of,
        out_dir: out,
        template: None,
    };
    export(&store, &key, &request, as_of).unwrap().path
}

fn rate(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1048576.0 / seconds
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/tmp/bench1g".into()));
    let bundle = bundle(&dir);
    let public = PublicKey::parse(&std::fs::read_to_string(dir.join("bench.pub")).unwrap()).unwrap();

    let started = Instant::now();
    let store = Store::open_read_only(&dir.join("archive.sqlite")).unwrap();
    let archive = gstvault::verify::verify_archive(&store, Some(&public)).unwrap();
    let archive_seconds = started.elapsed().as_secs_f64();
    assert!(archive.intact(), "{:?}", archive.findings);

    let started = Instant::now();
    let checked = gstvault::bundle::check::check_bundle(&bundle, Some(&public), None).unwrap();
    let bundle_seconds = started.elapsed().as_secs_f64();
    assert!(checked.intact(), "{:?}", checked.findings);

    let size = std::fs::metadata(&bundle).unwrap().len();
    let started = Instant::now();
    let status = std::process::Command::new("sha256sum")
        .arg(&bundle)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    let sha_seconds = started.elapsed().as_secs_f64();
    assert!(status.success());

    let sha = rate(size, sha_seconds);
    println!(
        "{:<28} {:>10} {:>9} {:>10} {:>12}",
        "what", "MiB", "seconds", "MiB/s", "× sha256sum"
    );
    for (what, bytes, seconds) in [
        ("verify --archive", archive.bytes_hashed, archive_seconds),
        ("verify BUNDLE.zip", checked.bytes_hashed, bundle_seconds),
        ("sha256sum BUNDLE.zip", size, sha_seconds),
    ] {
        let r = rate(bytes, seconds);
        println!(
            "{what:<28} {:>10.0} {seconds:>9.2} {r:>10.0} {:>12.2}",
            bytes as f64 / 1048576.0,
            r / sha
        );
    }
}
