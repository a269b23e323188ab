//! Benchmark of the capture planner: a simulated evolution of N GSTINs over D
//! days (default 20 GSTINs, 60 days; `BENCH_GSTINS`, `BENCH_DAYS` override),
//! captured once a day naively on one simulator and with the planner on an
//! identical one (same seed, same clock). Both start with one full capture.
//! Prints the calls each side made and checks that the planned archive holds
//! every payload version the naive archive holds (0 missed), and that planned
//! calls are at most 15% of the naive ones.
//!
//! `cargo run --release --example bench_planner`

// Tests and benchmarks stop at the first surprise: unwrapping is how they say so.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use gstvault::app::capture::{Captured, Mode};
use gstvault::domain::gstin::Gstin;
use gstvault::domain::period::{default_window, india_date};

// The shared simulator + archive harness, also included by the integration tests.
#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::World;

/// One side of the comparison: seed 7, `Retry-After` 0, 16 requests in flight.
async fn side(gstins: &[Gstin]) -> World {
    World::builder()
        .sim(|c| c.retry_after_secs = 0)
        .gstins(gstins.to_vec())
        .concurrency(16)
        .start()
        .await
}

/// A capture of the default window as of the side's clock.
async fn capture(side: &World, mode: Mode) -> Captured {
    let (from, to) = default_window(india_date(side.clock.now()));
    let plan = side.plan_months(&side.gstins(), None, from, to);
    side.capture_in(&plan, mode).await
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_GSTINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let days: i64 = std::env::var("BENCH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let gstins = harness::gstins(n);
    let naive = side(&gstins).await;
    let planned = side(&gstins).await;
    let began = std::time::Instant::now();
    // Day 0: one full capture on both sides.
    for s in [&naive, &planned] {
        s.login_all().await;
        capture(s, Mode::Full).await;
    }
    let (naive_base, planned_base) = (naive.requests(), planned.requests());
    let mut rules: BTreeMap<String, u64> = BTreeMap::new();
    for day in 1..=days {
        for s in [&naive, &planned] {
            s.sim.sim.advance(chrono::Duration::days(1));
            s.login_all().await;
        }
        capture(&naive, Mode::Full).await;
        let run = capture(&planned, Mode::Planned { daily_budget: 0 }).await;
        for (rule, count) in run.planner.expect("a planned run").rules {
            *rules.entry(rule).or_default() += count;
        }
        if day % 10 == 0 {
            eprintln!(
                "day {day} ({}): naive {} calls, planned {} calls",
                india_date(naive.clock.now()),
                naive.requests() - naive_base,
                planned.requests() - planned_base
            );
        }
    }
    let naive_calls = naive.requests() - naive_base;
    let planned_calls = planned.requests() - planned_base;
    let a = naive.versions();
    let b = planned.versions();
    let naive_versions: usize = a.values().map(|v| v.len()).sum();
    let mut missed = 0usize;
    for (key, versions) in &a {
        let have = b.get(key);
        for v in versions {
            if !have.is_some_and(|h| h.contains(v)) {
                missed += 1;
                if missed <= 20 {
                    eprintln!("missed: {key:?} {v:?}");
                }
            }
        }
    }
    let ratio = planned_calls as f64 / naive_calls.max(1) as f64;
    println!(
        "GSTINs {n}, days {days} (after one full capture each), {:.0?}",
        began.elapsed()
    );
    println!("naive calls:   {naive_calls}");
    println!(
        "planned calls: {planned_calls} ({:.1}% of naive, {} saved)",
        ratio * 100.0,
        naive_calls - planned_calls.min(naive_calls)
    );
    println!("payload versions archived by naive: {naive_versions}; missed by planned: {missed}");
    println!("planned calls by rule (page 0): {rules:?}");
    assert_eq!(missed, 0, "the planner missed payload versions");
    assert!(
        ratio <= 0.15,
        "planned calls are {:.1}% of naive (limit 15%)",
        ratio * 100.0
    );
}
