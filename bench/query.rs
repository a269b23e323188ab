//! Row 5, queries: a synthetic archive of N snapshots (1,000,000 at full
//! scale) written through `Store::append_bulk`, then `list`, `show --as-of`,
//! `diff --at T1 --at T2` and `changes --since` on random keys through the
//! same `query::` functions the CLI calls, on the archive opened read-only;
//! then the signer's guard on it: the first checkpoint signed (its root
//! recomputed from every row) and the tip check every capture starts with.
//!
//! The archive: 20 GSTINs × 25 month endpoints × 24 months (FY 2024-25 and
//! 2025-26) captured once a day until N snapshots exist; a key's payload
//! changes with probability 0.8% per capture (about 2% of the snapshots carry
//! a distinct payload) and 0.5% of requests end as transport errors. Every row
//! is valid: the envelope is read with `envelope::parse`, the record digest and
//! leaf hash come from `SnapshotRow::leaf_record`, and a change row is written
//! when an answer's payload differs from the previous one.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gstvault::domain::catalog::{self, PeriodKind};
use gstvault::domain::digest::Digest;
use gstvault::domain::envelope::{parse, Outcome};
use gstvault::domain::gstin::Gstin;
use gstvault::domain::log::Seq;
use gstvault::domain::period::{FinancialYear, Period};
use gstvault::domain::time::Timestamp;
use gstvault::query::{self, ChangesArgs, DiffArgs, KeyArgs, ListArgs, ShowArgs};
use gstvault::store::{format_time, BulkSnapshot, ChangeRow, SnapshotRow, Store};
use rand::{Rng, SeedableRng};

use crate::table::{count, Line, Table};
use crate::Scale;

const GSTINS: usize = 20;
const ENDPOINTS: usize = 25;
const BATCH: usize = 10_000;
const CHANGE_PROBABILITY: f64 = 0.008;
const TRANSPORT_ERROR_PROBABILITY: f64 = 0.005;

pub fn gstins() -> Vec<Gstin> {
    (0..GSTINS)
        .map(|i| Gstin::compose(27, &format!("AABCK{:04}M", 1000 + i), '1').expect("valid GSTIN"))
        .collect()
}

pub fn endpoints() -> Vec<&'static str> {
    catalog::default_set()
        .into_iter()
        .filter(|e| matches!(e.period, PeriodKind::Month | PeriodKind::DateRange))
        .map(|e| e.name)
        .take(ENDPOINTS)
        .collect()
}

fn months() -> Vec<gstvault::domain::period::Month> {
    let mut months = FinancialYear { start_year: 2024 }.months();
    months.extend(FinancialYear { start_year: 2025 }.months());
    months
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).unwrap()
}

/// The payload of one key at one version: supplier groups of invoices; each
/// version adds an invoice and revises another's value, as amendments do.
fn payload(gstin: usize, endpoint: usize, period: &str, version: u32) -> String {
    let mut invoices = Vec::new();
    for n in 0..(8 + version as usize) {
        let revised = (n as u32) == version % 8 && version > 0;
        let txval = 10_000 + (gstin * 7919 + endpoint * 104_729 + n * 1_299_709) % 900_000;
        let txval = if revised {
            txval + 1_000 * version as usize
        } else {
            txval
        };
        invoices.push(format!(
            "{{\"inum\":\"INV/{period}/{n:04}\",\"idt\":\"15-{}-{}\",\"val\":{}.{:02},\"txval\":{txval},\"rt\":18,\"iamt\":{}.00,\"chksum\":\"{:016x}\"}}",
            &period[5..7],
            &period[0..4],
            txval * 118 / 100,
            n % 100,
            txval * 18 / 100,
            (txval as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ version as u64
        ));
    }
    format!(
        "{{\"b2b\":[{{\"ctin\":\"29AABCK{:04}M1Z5\",\"cfs\":\"Y\",\"inv\":[{}]}}],\"chksum\":\"v{version}\"}}",
        gstin,
        invoices.join(",")
    )
}

/// Writes `rows` snapshots into a new archive at `path`.
fn generate(path: &Path, rows: u64) {
    let mut store = Store::open(path).expect("archive opens");
    let gstins = gstins();
    let endpoints = endpoints();
    let months = months();
    let periods: Vec<String> = months.iter().map(|m| m.to_string()).collect();
    let period_values: Vec<Period> = months.iter().map(|m| Period::Month(*m)).collect();
    let keys = gstins.len() * endpoints.len() * periods.len();

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let start = start();
    // Per key: current version, last answered (seq, payload digest).
    let mut version: Vec<u32> = vec![0; keys];
    let mut last: Vec<Option<(u64, Digest)>> = vec![None; keys];
    let mut stored: HashSet<Digest> = HashSet::new();
    let mut batch: Vec<BulkSnapshot> = Vec::with_capacity(BATCH);
    let mut seq: u64 = 0;
    let mut runs: HashMap<u64, i64> = HashMap::new();
    let mut changes = 0u64;
    'outer: for day in 0u64.. {
        let run_started = start + Duration::days(day as i64);
        let run_id = *runs
            .entry(day)
            .or_insert_with(|| store.begin_run("snapshot", run_started).expect("run starts"));
        for key in 0..keys {
            if seq >= rows {
                break 'outer;
            }
            let (g, rest) = (
                key / (endpoints.len() * periods.len()),
                key % (endpoints.len() * periods.len()),
            );
            let (e, p) = (rest / periods.len(), rest % periods.len());
            let received = run_started + Duration::milliseconds(key as i64 * 40);
            if day > 0 && rng.random_bool(CHANGE_PROBABILITY) {
                version[key] += 1;
            }
            let failed = rng.random_bool(TRANSPORT_ERROR_PROBABILITY);
            let request = format!("/gst/compliance/tax-payer/bench/{}/{}", endpoints[e], periods[p]);
            let inner = payload(g, e, &periods[p], version[key]);
            let body = format!(
                "{{\"code\":200,\"timestamp\":{},\"transaction_id\":\"gen-{seq}\",\"data\":{{\"status_cd\":\"1\",\"data\":{inner}}}}}",
                received.timestamp_millis()
            )
            .into_bytes();
            let reading = parse(200, &body);
            debug_assert_eq!(reading.outcome, Outcome::Ok);
            let span = reading.payload.clone();
            let payload_bytes = &body[span.clone()];
            let payload_sha = Digest::of(payload_bytes);
            let mut row = SnapshotRow {
                seq: Seq(seq),
                run_id,
                gstin: gstins[g].clone(),
                endpoint: endpoints[e].to_string(),
                period: period_values[p],
                page: 0,
                method: "GET".into(),
                request,
                requested_at: Timestamp::of(received - Duration::milliseconds(30)),
                received_at: Timestamp::of(received),
                http_status: None,
                transaction_id: None,
                status_cd: None,
                error_cd: None,
                outcome: Outcome::TransportError,
                detail: Some("connection reset".into()),
                attempts: 1,
                body_sha256: None,
                body_size: None,
                payload_sha256: None,
                chksums: "{}".into(),
                origin: Some("https://api.sandbox.co.in".into()),
            };
            let mut item = BulkSnapshot {
                row: row.clone(),
                payload_offset: None,
                envelope: None,
                payload: None,
                change: None,
            };
            if !failed {
                row.http_status = Some(200);
                row.transaction_id = reading.transaction_id.clone();
                row.status_cd = reading.status_cd.clone();
                row.outcome = Outcome::Ok;
                row.detail = None;
                row.body_sha256 = Some(Digest::of(&body));
                row.body_size = Some(body.len() as u64);
                row.payload_sha256 = Some(payload_sha);
                row.chksums = serde_json::to_string(&reading.chksums).expect("chksums serialise");
                let mut envelope = body[..span.start].to_vec();
                envelope.extend_from_slice(&body[span.end..]);
                item.payload_offset = Some(span.start as u64);
                item.envelope = Some(envelope);
                if stored.insert(payload_sha) {
                    item.payload = Some(payload_bytes.to_vec());
                }
                if let Some((previous_seq, old)) = &last[key] {
                    if *old != payload_sha {
                        changes += 1;
                        item.change = Some(ChangeRow {
                            seq: Seq(seq),
                            previous_seq: Seq(*previous_seq),
                            gstin: row.gstin.clone(),
                            endpoint: row.endpoint.clone(),
                            period: row.period,
                            page: 0,
                            old_payload_sha256: *old,
                            new_payload_sha256: payload_sha,
                            detected_at: row.received_at,
                        });
                    }
                }
                last[key] = Some((seq, payload_sha));
            }
            item.row = row;
            batch.push(item);
            seq += 1;
            if batch.len() == BATCH {
                store.append_bulk(&batch).expect("bulk append");
                batch.clear();
            }
        }
    }
    if !batch.is_empty() {
        store.append_bulk(&batch).expect("bulk append");
    }
    eprintln!(
        "    {} snapshots, {} distinct payloads, {changes} changes, {} runs",
        count(seq),
        count(stored.len() as u64),
        runs.len()
    );
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(table: &mut Table, name: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p50 = percentile(&ms, 0.5);
    table.add(Line {
        row: 5,
        what: format!("{name} (n = {})", ms.len()),
        ours: format!("p50 {p50:.2} ms, p99 {:.2} ms", percentile(&ms, 0.99)),
        theirs: String::new(),
        ratio: String::new(),
        target: "p50 < 50 ms".into(),
        met: Some(p50 < 50.0),
    });
}

pub fn row(dir: &Path, scale: &Scale, table: &mut Table) {
    eprintln!("[5] queries: generating {} snapshots", count(scale.query_rows));
    std::fs::create_dir_all(dir).expect("query dir");
    let path = dir.join("archive.sqlite");
    let started = Instant::now();
    generate(&path, scale.query_rows);
    eprintln!("    built in {:.1} s", started.elapsed().as_secs_f64());
    let store = gstvault::store::Reader::open(&path).expect("archive opens read-only");
    let n = scale.query_samples;
    let gstins = gstins();
    let endpoints = endpoints();
    let months = months();
    let start = start();
    let days = scale.query_rows as i64 / (gstins.len() * endpoints.len() * months.len()) as i64;
    let days = days.max(1);
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
        let _ = gstvault::render::query::list_table(&rows).human();
        list_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        list_rows += rows.len();
    }
    report(table, "query list (gstin+ep+range)", list_ms);

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
        let _ = gstvault::render::query::pretty_body(&shown);
        show_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    report(table, "query show --as-of", show_ms);

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
        let _ = gstvault::render::query::diff_table(&diffed).human();
        diff_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        diffs += diffed.differences.len();
    }
    report(table, "query diff --at T1 --at T2", diff_ms);

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
                now: Some(now),
                endpoint: None,
                group: None,
                kind: None,
            },
        )
        .unwrap();
        let _ = gstvault::render::query::changes_table(&rows).human();
        changes_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        changes += rows.len();
    }
    report(table, "query changes --since 7d", changes_ms);
    eprintln!("    {list_rows} rows listed, {diffs} differences, {changes} changes found");
    drop(store);
    guard(dir, &path, scale, table);
}

/// The signer's guard on the same archive: signing the first checkpoint
/// (the root recomputed from every row, checked against the stored tiles),
/// then the tip check every run starts with, and signing after one more
/// capture's worth of snapshots.
fn guard(dir: &Path, path: &Path, scale: &Scale, table: &mut Table) {
    let (secret, public) = (dir.join("bench.key"), dir.join("bench.pub"));
    if !secret.exists() {
        gstvault::evidence::signing::keygen(&secret, &public, None).expect("keygen");
    }
    let key = gstvault::evidence::signing::SigningKey::load(&secret, None).expect("key loads");
    let mut store = Store::open(path).expect("archive opens");
    let rows = scale.query_rows;
    let t = Instant::now();
    let signed = gstvault::evidence::checkpoint::record(&mut store, &key, start(), None).expect("signs");
    let sign_s = t.elapsed().as_secs_f64();
    assert_eq!(signed.size, store.snapshot_count().expect("count"));
    table.add(Line {
        row: 5,
        what: format!("sign a checkpoint over {} snapshots (root from every row)", count(rows)),
        ours: format!("{sign_s:.2} s, {:.0} rows/s", rows as f64 / sign_s),
        theirs: String::new(),
        ratio: String::new(),
        target: "< 10 s".into(),
        met: Some(sign_s < 10.0),
    });
    let reader = gstvault::store::Reader::open(path).expect("archive opens read-only");
    let public = key.public();
    let mut ms = Vec::new();
    for _ in 0..scale.query_samples.min(50) {
        let t = Instant::now();
        let damage = gstvault::evidence::guard::check_tip(&reader, Some(&public)).expect("tip check runs");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(damage.is_empty(), "{damage:?}");
    }
    report(
        table,
        &format!("tip check at run start ({} snapshots)", count(rows)),
        ms,
    );
}
