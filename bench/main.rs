//! The benchmark harness: gstvault next to what a firm would otherwise do,
//! measured in one run on one machine, printed as one table.
//!
//!     cargo bench --bench harness          # release build, the full scale (about 6 minutes)
//!     cargo test --bench harness           # the seconds-long smoke variant CI runs
//!
//! Rows (numbers are the issue-8 targets, judged as ratios from the same run):
//! 1. capture: N GSTINs × 12 months × the default endpoint set from the
//!    in-process simulator, rate limit off. Baseline: the same requests
//!    replayed by a fetch-only client that stores nothing. Peer: one `curl`
//!    process per request into files (8 at a time, as `xargs -P 8` would),
//!    then one `git commit` for the capture.
//! 2. storage: 30 captures with 2% of the payloads changing per capture; the
//!    archive next to the distinct payload bytes and the git peer's `.git`
//!    after `git gc`.
//! 3. export: one GSTIN's FY bundle and a 1 GiB bundle, seconds and peak RSS
//!    of the exporting process; peer: the same payload files bagged with
//!    `bagit.py` and zipped with `zip -X`.
//! 4. verify: `verify --archive` and bundle verification throughput next to
//!    `sha256sum` over the same bundle.
//! 5. queries: p50/p99 of list, show --as-of, diff on a 1,000,000-snapshot
//!    synthetic archive.
//! 6. web view: `gstvault serve` on that archive, 20 users at once asking
//!    every page: p95 per page and the server's peak RSS.
//!
//! `BENCH_ONLY=1,3` runs some rows; `BENCH_DIR` sets the work directory
//! (default: a temporary one, removed at the end).

// Tests and benchmarks stop at the first surprise: unwrapping is how they say so.
#![allow(clippy::unwrap_used)]

mod capture;
mod export;
// The shared simulator + archive harness, also included by the integration tests.
#[path = "../tests/harness/mod.rs"]
mod harness;
mod peers;
mod query;
mod storage;
mod table;
mod verify;
mod web;

use std::path::PathBuf;

use table::Table;

/// How big each row is: the full scale, or the smoke variant that only proves
/// the harness still runs (its numbers are not judged).
#[derive(Clone, Debug)]
pub struct Scale {
    pub full: bool,
    pub capture_gstins: usize,
    pub months: u32,
    pub storage_gstins: usize,
    pub storage_captures: usize,
    pub export_mib: usize,
    pub query_rows: u64,
    pub query_samples: usize,
    /// Requests in flight: gstvault's `[api] concurrency`, the fetch-only
    /// client's and the number of curl processes at a time.
    pub concurrency: usize,
}

impl Scale {
    fn full() -> Scale {
        Scale {
            full: true,
            capture_gstins: 50,
            months: 12,
            storage_gstins: 3,
            storage_captures: 30,
            export_mib: 1024,
            query_rows: 1_000_000,
            query_samples: 200,
            concurrency: 8,
        }
    }

    fn smoke() -> Scale {
        Scale {
            full: false,
            capture_gstins: 2,
            months: 2,
            storage_gstins: 1,
            storage_captures: 3,
            export_mib: 4,
            query_rows: 24_000,
            query_samples: 10,
            concurrency: 4,
        }
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        })
        .map(|kib| format!("{:.0} GiB", kib / 1048576.0))
        .unwrap_or_else(|| "? GiB".into());
    format!("{cpu}, {cores} cores, {memory}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(export::CHILD_FLAG) {
        export::child(&args[2..]);
        return;
    }
    // `cargo bench` passes --bench; `cargo test` runs the binary without it.
    let scale = if args.iter().any(|a| a == "--bench") {
        Scale::full()
    } else {
        Scale::smoke()
    };
    let only: Option<Vec<u32>> = std::env::var("BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let wanted = |row: u32| only.as_ref().is_none_or(|o| o.contains(&row));
    peers::require_tools();

    let temp = tempfile::Builder::new()
        .prefix("gstvault-bench-")
        .tempdir()
        .expect("temp dir");
    let work = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&work).expect("work dir");

    let started = std::time::Instant::now();
    let mut table = Table::new(scale.full);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // The export row's FY bundle comes from the capture row's archive.
    let mut captured = None;
    if wanted(1) || wanted(3) {
        captured = Some(runtime.block_on(capture::row(&work.join("capture"), &scale, &mut table, wanted(1))));
    }
    if wanted(2) {
        storage::row(&work.join("storage"), &scale, &mut table);
    }
    if wanted(3) || wanted(4) {
        let synthetic = export::row(&work.join("export"), captured.as_ref(), &scale, &mut table, wanted(3));
        if wanted(4) {
            verify::row(&synthetic, &mut table);
        }
    }
    // The web row runs on the query row's archive.
    if wanted(5) || wanted(6) {
        query::row(&work.join("query"), &scale, &mut table);
    }
    if wanted(6) {
        web::row(&work.join("query"), &scale, &mut table, &runtime);
    }
    drop(runtime);

    println!();
    println!(
        "gstvault bench ({}), {}, {}, {:.0} s",
        if scale.full {
            "full scale, release build"
        } else {
            "smoke variant: tiny sizes, numbers not judged"
        },
        chrono::Utc::now().format("%Y-%m-%d"),
        machine(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", table.render());
    if scale.full && table.missed() > 0 {
        println!("{} target(s) missed", table.missed());
    }
}
