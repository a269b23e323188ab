//! Benchmark: export a bundle holding ~1 GB of payloads and report the
//! exporting process's peak RSS (issue target: under 150 MB) and time.
//!
//!     cargo run --release --example bench_export -- [MEGABYTES] [DIR]
//!
//! It builds a synthetic archive (distinct 256 KiB payloads spread over the
//! months of FY 2025-26), signs a checkpoint, then runs the export in a child
//! process so the peak RSS measured is the export's alone (VmHWM).

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use gstvault::bundle::export::{export, ExportRequest};
use gstvault::bundle::Scope;
use gstvault::envelope::{parse, Outcome};
use gstvault::gstin::Gstin;
use gstvault::period::{FinancialYear, Month};
use gstvault::signing::{keygen, SigningKey};
use gstvault::store::{NewSnapshot, Store};
use rand::{Rng, SeedableRng};

const PAYLOAD_BYTES: usize = 256 * 1024;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn body(rng: &mut rand_chacha::ChaCha8Rng, index: usize) -> Vec<u8> {
    let mut inner = String::with_capacity(PAYLOAD_BYTES + 256);
    // Realistic nesting: supplier groups holding invoices, each with its own chksum.
    inner.push_str("{\"b2b\":[{\"ctin\":\"29AABCK4521M1ZC\",\"inv\":[");
    let mut n = 0;
    while inner.len() < PAYLOAD_BYTES {
        if n > 0 {
            inner.push(',');
        }
        inner.push_str(&format!(
            "{{\"inum\":\"INV-{index}-{n}\",\"val\":{}.{:02},\"txval\":{},\"chksum\":\"{:016x}\"}}",
            rng.random_range(1000..9_999_999),
            rng.random_range(0..100),
            rng.random_range(1000..9_999_999),
            rng.random::<u64>()
        ));
        n += 1;
    }
    inner.push_str("]}]}");
    format!(
        "{{\"code\":200,\"timestamp\":{},\"transaction_id\":\"bench-{index}\",\"data\":{{\"status_cd\":\"1\",\"data\":{inner}}}}}",
        1_760_000_000_000u64 + index as u64
    )
    .into_bytes()
}

fn generate(dir: &Path, megabytes: usize) -> f64 {
    let started = Instant::now();
    let gstin = Gstin::parse("27AAPFU0939F1ZV").unwrap();
    let mut store = Store::open(&dir.join("archive.sqlite")).unwrap();
    keygen(&dir.join("bench.key"), &dir.join("bench.pub"), None).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let run = store.begin_run("bench", t).unwrap();
    let months = FinancialYear { start_year: 2025 }.months();
    let endpoints = ["gstr-1-b2b", "gstr-2a-b2b", "gstr-1-cdnr", "gstr-2a-cdn"];
    let count = megabytes * 1024 * 1024 / PAYLOAD_BYTES;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for index in 0..count {
        let body = body(&mut rng, index);
        let reading = parse(200, &body);
        assert_eq!(reading.outcome, Outcome::Ok);
        let month: Month = months[index % months.len()];
        let period = month.to_string();
        let endpoint = endpoints[(index / months.len()) % endpoints.len()];
        store
            .append(&NewSnapshot {
                run_id: run,
                gstin: gstin.as_str(),
                endpoint,
                period: &period,
                page: 0,
                method: "GET",
                request: "/bench",
                requested_at: t + chrono::Duration::seconds(index as i64),
                received_at: t + chrono::Duration::seconds(index as i64),
                http_status: Some(200),
                body: Some(&body),
                reading: Some(&reading),
                outcome: Outcome::Ok,
                detail: None,
                attempts: 1,
            })
            .unwrap();
    }
    let key = SigningKey::load(&dir.join("bench.key"), None).unwrap();
    gstvault::checkpoint::record(&store, &key, t + chrono::Duration::days(1), Some(run)).unwrap();
    started.elapsed().as_secs_f64()
}

fn export_child(dir: &Path) {
    let started = Instant::now();
    let store = Store::open(&dir.join("archive.sqlite")).unwrap();
    let key = SigningKey::load(&dir.join("bench.key"), None).unwrap();
    let as_of = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let exported = export(
        &store,
        &key,
        &ExportRequest {
            gstin: Gstin::parse("27AAPFU0939F1ZV").unwrap(),
            legal_name: None,
            organization: "bench".into(),
            scope: Scope::Year(FinancialYear { start_year: 2025 }),
            as_of,
            out_dir: dir.join("bundles"),
            template: None,
        },
        as_of,
    )
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&exported.path).unwrap().len();
    println!(
        "export: {} snapshots, {:.0} MiB payload, zip {:.0} MiB, {:.1} s, {:.0} MiB/s, peak RSS {:.1} MiB",
        exported.snapshots,
        exported.payload_bytes as f64 / 1048576.0,
        size as f64 / 1048576.0,
        seconds,
        exported.payload_bytes as f64 / 1048576.0 / seconds,
        peak_rss_kib() as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--export-child") {
        export_child(Path::new(&args[2]));
        return;
    }
    let megabytes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1024);
    let keep = args.get(2).map(PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let dir = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let seconds = generate(&dir, megabytes);
    println!("generated a {megabytes} MiB archive in {seconds:.1} s");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--export-child")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
}
