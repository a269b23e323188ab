//! Builds a synthetic archive for the query benchmark (`bench_query`):
//!
//!     cargo run --release --example gen_archive -- [ROWS] [PATH] [--append]
//!
//! Defaults: 1,000,000 snapshots into /tmp/gstvault-bench/archive.sqlite (an
//! existing file is replaced). 20 GSTINs × 25 month endpoints × 24 months
//! (FY 2024-25 and 2025-26) are captured once a day until ROWS snapshots exist;
//! a key's payload changes with probability 0.8% per capture (about 2% of the
//! snapshots carry a distinct payload) and 0.5% of requests end as transport
//! errors. Every row is valid: the envelope is read with `envelope::parse`,
//! the record digest and leaf hash come from `SnapshotRow::leaf_record`, and a
//! change row is written when an answer's payload differs from the previous one.
//!
//! Rows go in through `Store::append_bulk`, one transaction per 10,000; with
//! `--append` they go through `Store::append` one by one instead (to compare).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gstvault::catalog::{self, PeriodKind};
use gstvault::digest::Digest;
use gstvault::envelope::{parse, Outcome};
use gstvault::gstin::Gstin;
use gstvault::period::FinancialYear;
use gstvault::store::{format_time, BulkSnapshot, ChangeRow, NewSnapshot, SnapshotRow, Store};
use rand::{Rng, SeedableRng};

const GSTINS: usize = 20;
const ENDPOINTS: usize = 25;
const BATCH: usize = 10_000;
const CHANGE_PROBABILITY: f64 = 0.008;
const TRANSPORT_ERROR_PROBABILITY: f64 = 0.005;

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let via_append = args.iter().any(|a| a == "--append");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let rows: u64 = positional
        .first()
        .map(|s| s.parse().expect("ROWS is a number"))
        .unwrap_or(1_000_000);
    let path = positional
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/gstvault-bench/archive.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let started = Instant::now();
    let mut store = Store::open(&path).expect("archive opens");

    let gstins: Vec<Gstin> = (0..GSTINS)
        .map(|i| Gstin::compose(27, &format!("AABCK{:04}M", 1000 + i), '1').expect("valid GSTIN"))
        .collect();
    let endpoints: Vec<&'static str> = catalog::default_set()
        .into_iter()
        .filter(|e| matches!(e.period, PeriodKind::Month | PeriodKind::DateRange))
        .map(|e| e.name)
        .take(ENDPOINTS)
        .collect();
    let mut months = FinancialYear { start_year: 2024 }.months();
    months.extend(FinancialYear { start_year: 2025 }.months());
    let periods: Vec<String> = months.iter().map(|m| m.to_string()).collect();
    let keys = gstins.len() * endpoints.len() * periods.len();

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).unwrap();
    // Per key: current version, last answered (seq, payload digest).
    let mut version: Vec<u32> = vec![0; keys];
    let mut last: Vec<Option<(u64, String)>> = vec![None; keys];
    let mut stored: HashSet<String> = HashSet::new();
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
            if via_append {
                let appended = store
                    .append(&NewSnapshot {
                        run_id,
                        gstin: gstins[g].as_str(),
                        endpoint: endpoints[e],
                        period: &periods[p],
                        page: 0,
                        method: "GET",
                        request: &request,
                        requested_at: received - Duration::milliseconds(30),
                        received_at: received,
                        http_status: (!failed).then_some(200),
                        body: (!failed).then_some(body.as_slice()),
                        reading: (!failed).then_some(&reading),
                        outcome: if failed { Outcome::TransportError } else { Outcome::Ok },
                        detail: failed.then(|| "connection reset".to_string()),
                        attempts: 1,
                    })
                    .expect("append");
                changes += u64::from(appended.changed_from.is_some());
                seq += 1;
                continue;
            }
            let span = reading.payload.clone();
            let payload_bytes = &body[span.clone()];
            let payload_sha = Digest::of(payload_bytes).hex();
            let mut row = SnapshotRow {
                seq,
                run_id,
                gstin: gstins[g].to_string(),
                endpoint: endpoints[e].to_string(),
                period: periods[p].clone(),
                page: 0,
                method: "GET".into(),
                request,
                requested_at: format_time(received - Duration::milliseconds(30)),
                received_at: format_time(received),
                http_status: None,
                transaction_id: None,
                status_cd: None,
                error_cd: None,
                outcome: "transport_error".into(),
                detail: Some("connection reset".into()),
                attempts: 1,
                body_sha256: None,
                body_size: None,
                payload_sha256: None,
                chksums: "{}".into(),
                record_digest: String::new(),
                leaf_hash: String::new(),
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
                row.outcome = "ok".into();
                row.detail = None;
                row.body_sha256 = Some(Digest::of(&body).hex());
                row.body_size = Some(body.len() as u64);
                row.payload_sha256 = Some(payload_sha.clone());
                row.chksums = serde_json::to_string(&reading.chksums).expect("chksums serialise");
                let mut envelope = body[..span.start].to_vec();
                envelope.extend_from_slice(&body[span.end..]);
                item.payload_offset = Some(span.start as u64);
                item.envelope = Some(envelope);
                if stored.insert(payload_sha.clone()) {
                    item.payload = Some(payload_bytes.to_vec());
                }
                if let Some((previous_seq, old)) = &last[key] {
                    if *old != payload_sha {
                        changes += 1;
                        item.change = Some(ChangeRow {
                            seq,
                            previous_seq: *previous_seq,
                            gstin: row.gstin.clone(),
                            endpoint: row.endpoint.clone(),
                            period: row.period.clone(),
                            page: 0,
                            old_payload_sha256: old.clone(),
                            new_payload_sha256: payload_sha.clone(),
                            detected_at: row.received_at.clone(),
                        });
                    }
                }
                last[key] = Some((seq, payload_sha));
            }
            let record = row.leaf_record();
            row.record_digest = record.record_digest().hex();
            row.leaf_hash = record.leaf_hash().hex();
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
    let seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{} snapshots ({} via {}), {} distinct payloads, {} changes, {} runs: {:.1} s ({:.0} rows/s), {} ({:.0} MiB)",
        store.snapshot_count().unwrap(),
        rows,
        if via_append {
            "Store::append"
        } else {
            "Store::append_bulk"
        },
        store.payload_index().unwrap().len(),
        changes,
        runs.len(),
        seconds,
        seq as f64 / seconds,
        path.display(),
        size as f64 / 1048576.0
    );
}
