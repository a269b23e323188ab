//! Benchmark of the compliance queries against an archive from `gen_archive`:
//!
//!     cargo run --release --example gen_archive
//!     cargo run --release --example bench_query -- [PATH] [N]
//!
//! Runs `list` (GSTIN, endpoint, a three-month period range), `show --as-of`
//! (lookup, body rebuilt, pretty-printed), `diff --at T1 --at T2` and
//! `changes --gstin --since` N times each (default 200) on random keys through
//! the same `query::` functions the CLI calls, on an archive opened read-only,
//! and prints p50 and p99 latencies. Target: p50 under 50 ms each.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use gstvault::catalog::{self, PeriodKind};
use gstvault::gstin::Gstin;
use gstvault::period::FinancialYear;
use gstvault::query::{self, ChangesArgs, DiffArgs, KeyArgs, ListArgs, ShowArgs};
use gstvault::store::{format_time, Store};
use rand::{Rng, SeedableRng};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut ms: Vec<f64>, rows: usize) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name:<22} n={:<4} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} rows/differences in total)",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0),
        rows
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/gstvault-bench/archive.sqlite"));
    let n: usize = args.get(1).map(|s| s.parse().expect("N is a number")).unwrap_or(200);
    let store = Store::open_read_only(&path).expect("archive opens read-only");
    println!(
        "archive {}: {} snapshots",
        path.display(),
        store.snapshot_count().unwrap()
    );

    // The same keys gen_archive writes.
    let gstins: Vec<Gstin> = (0..20)
        .map(|i| Gstin::compose(27, &format!("AABCK{:04}M", 1000 + i), '1').unwrap())
        .collect();
    let endpoints: Vec<&'static str> = catalog::default_set()
        .into_iter()
        .filter(|e| matches!(e.period, PeriodKind::Month | PeriodKind::DateRange))
        .map(|e| e.name)
        .take(25)
        .collect();
    let mut months = FinancialYear { start_year: 2024 }.months();
    months.extend(FinancialYear { start_year: 2025 }.months());
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).unwrap();
    let days = 1_000_000 / (gstins.len() * endpoints.len() * months.len()) as i64;
    let now = start + Duration::days(days + 1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let key = |rng: &mut rand_chacha::ChaCha8Rng| {
        let g = &gstins[rng.random_range(0..gstins.len())];
        let e = endpoints[rng.random_range(0..endpoints.len())];
        let m = rng.random_range(0..months.len() - 3);
        (g.to_string(), e.to_string(), months[m], months[m + 2])
    };
    let instant = |rng: &mut rand_chacha::ChaCha8Rng| start + Duration::minutes(rng.random_range(0..days * 24 * 60));

    let (mut list_ms, mut list_rows) = (Vec::new(), 0);
    for _ in 0..n {
        let (g, e, from, to) = key(&mut rng);
        let t = Instant::now();
        let rows = query::list(
            &store,
            &ListArgs {
                gstin: Some(g),
                endpoint: Some(e),
                from: Some(from.to_string()),
                to: Some(to.to_string()),
                limit: 1000,
                ..ListArgs::default()
            },
        )
        .unwrap();
        let _ = query::list_table(&rows).human();
        list_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        list_rows += rows.len();
    }
    report("list (gstin+ep+range)", list_ms, list_rows);

    let mut show_ms = Vec::new();
    for _ in 0..n {
        let (g, e, from, _) = key(&mut rng);
        let as_of = format_time(instant(&mut rng) + Duration::days(1));
        let t = Instant::now();
        let shown = query::show(
            &store,
            &ShowArgs {
                id: None,
                key: KeyArgs {
                    gstin: Some(g),
                    endpoint: Some(e),
                    period: Some(from.to_string()),
                    page: 0,
                },
                as_of: Some(as_of),
            },
            now,
        )
        .unwrap();
        let _ = shown.pretty();
        show_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    report("show --as-of", show_ms, n);

    let (mut diff_ms, mut diffs) = (Vec::new(), 0);
    for _ in 0..n {
        let (g, e, from, _) = key(&mut rng);
        let t1 = instant(&mut rng) + Duration::days(1);
        let t2 = t1 + Duration::days(rng.random_range(1..days.max(2)));
        let t = Instant::now();
        let diffed = query::diff(
            &store,
            &DiffArgs {
                ids: vec![],
                key: KeyArgs {
                    gstin: Some(g),
                    endpoint: Some(e),
                    period: Some(from.to_string()),
                    page: 0,
                },
                at: vec![format_time(t1), format_time(t2)],
            },
            now,
        )
        .unwrap();
        let _ = query::diff_table(&diffed).human();
        diff_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        diffs += diffed.differences.len();
    }
    report("diff --at T1 --at T2", diff_ms, diffs);

    let (mut changes_ms, mut changes) = (Vec::new(), 0);
    for _ in 0..n.min(50) {
        let (g, ..) = key(&mut rng);
        let since = format_time(now - Duration::days(7));
        let t = Instant::now();
        let rows = query::changes(
            &store,
            &ChangesArgs {
                gstin: Some(g),
                since: Some(since),
                retroactive: false,
                limit: 0,
            },
        )
        .unwrap();
        let _ = query::changes_table(&rows).human();
        changes_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        changes += rows.len();
    }
    report("changes --since 7d", changes_ms, changes);
}
