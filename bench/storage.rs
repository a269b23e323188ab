//! Row 2, storage: 30 captures of the same keys with 2% of the payloads
//! changing per capture (each change an amendment: one invoice added, one
//! revised), appended through `Store::append_batch` (the capture writer's
//! group commit) with change detection and a signed checkpoint per capture,
//! as the daemon does. Every answer is an envelope like the portal's: its own
//! transaction id and timestamp around the payload. The git peer commits the
//! same answer bytes after every capture, one file per GSTIN, endpoint and
//! period. Compared: the archive file, the distinct payload bytes it holds,
//! and `.git` after `git gc`.

use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use gstvault::domain::catalog::{self, PeriodKind};
use gstvault::domain::envelope::{parse, Outcome};
use gstvault::domain::gstin::Gstin;
use gstvault::domain::period::{Month, Period};
use gstvault::domain::run::RunStatus;
use gstvault::evidence::signing::{keygen, SigningKey};
use gstvault::store::{NewSnapshot, Store};
use rand::{Rng, SeedableRng};

use crate::peers;
use crate::table::{bytes, count, Line, Table};
use crate::Scale;

/// Share of the payloads that change from one capture to the next.
const CHURN: f64 = 0.02;
/// Answers per transaction, as the capture writer's largest group commit.
const BATCH: usize = 256;

/// One key's payload at one version: a supplier group of invoices; each
/// version adds an invoice and revises another's value, as amendments do.
fn payload(key: usize, period: &str, version: u32) -> String {
    let mut invoices = Vec::new();
    for n in 0..(3 + version as usize) {
        let txval = 10_000
            + (key * 7919 + n * 1_299_709) % 900_000
            + usize::from(n as u32 == version % 3) * 1_000 * version as usize;
        invoices.push(format!(
            "{{\"inum\":\"INV/{period}/{n:04}\",\"idt\":\"15-{}-{}\",\"val\":{},\"txval\":{txval},\"rt\":18,\"iamt\":{},\"chksum\":\"{:016x}\"}}",
            &period[5..7],
            &period[0..4],
            txval * 118 / 100,
            txval * 18 / 100,
            (txval as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(version)
        ));
    }
    format!(
        "{{\"b2b\":[{{\"ctin\":\"29AABCK{:04}M1Z5\",\"cfs\":\"Y\",\"inv\":[{}]}}]}}",
        key % 10_000,
        invoices.join(",")
    )
}

fn uuid(rng: &mut rand_chacha::ChaCha8Rng) -> String {
    let b: [u8; 16] = rng.random();
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

pub fn row(dir: &Path, scale: &Scale, table: &mut Table) {
    let gstins = crate::harness::gstins(scale.storage_gstins);
    let endpoints: Vec<&'static str> = catalog::default_set()
        .into_iter()
        .filter(|e| e.period == PeriodKind::Month)
        .map(|e| e.name)
        .collect();
    let to = Month::of_date(chrono::NaiveDate::from_ymd_opt(2026, 6, 25).unwrap());
    let months: Vec<Period> = {
        let from = (1..scale.months).fold(to, |m, _| m.prev());
        from.through(to).into_iter().map(Period::Month).collect()
    };
    let keys: Vec<(Gstin, &'static str, Period)> = gstins
        .iter()
        .flat_map(|g| {
            let months = &months;
            endpoints
                .iter()
                .flat_map(move |e| months.iter().map(move |m| (g.clone(), *e, *m)))
        })
        .collect();
    eprintln!(
        "[2] storage: {} keys ({} GSTINs × {} month endpoints × {} months), {} captures, {:.0}% churn",
        keys.len(),
        gstins.len(),
        endpoints.len(),
        months.len(),
        scale.storage_captures,
        CHURN * 100.0
    );
    std::fs::create_dir_all(dir).expect("storage dir");
    let archive = dir.join("archive.sqlite");
    let mut store = Store::open(&archive).expect("archive opens");
    keygen(&dir.join("bench.key"), &dir.join("bench.pub"), None).expect("keygen");
    let key = SigningKey::load(&dir.join("bench.key"), None).expect("key loads");
    let repo = dir.join("git-peer");
    peers::git_init(&repo);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let mut version = vec![0u32; keys.len()];
    let start = Utc.with_ymd_and_hms(2026, 6, 25, 0, 30, 0).unwrap();
    let (mut ours, mut git_seconds) = (0.0, 0.0);
    let (mut snapshots, mut changed, mut later) = (0u64, 0u64, 0u64);
    for capture in 0..scale.storage_captures {
        let day = start + Duration::days(capture as i64);
        if capture > 0 {
            for v in version.iter_mut() {
                if rng.random_bool(CHURN) {
                    *v += 1;
                }
            }
        }
        let bodies: Vec<Vec<u8>> = keys
            .iter()
            .enumerate()
            .map(|(i, (_, _, period))| {
                let at = day + Duration::milliseconds(i as i64 * 20);
                format!(
                    "{{\"code\":200,\"timestamp\":{},\"transaction_id\":\"{}\",\"data\":{{\"status_cd\":\"1\",\"data\":{}}}}}",
                    at.timestamp_millis(),
                    uuid(&mut rng),
                    payload(i, &period.to_string(), version[i])
                )
                .into_bytes()
            })
            .collect();
        let started = std::time::Instant::now();
        let run = store.begin_run("snapshot", day).expect("run");
        let readings: Vec<_> = bodies.iter().map(|b| parse(200, b)).collect();
        let requests: Vec<String> = keys
            .iter()
            .map(|(_, e, p)| format!("/gst/compliance/tax-payer/{e}/{p}"))
            .collect();
        for start in (0..keys.len()).step_by(BATCH) {
            let end = (start + BATCH).min(keys.len());
            let batch: Vec<NewSnapshot<'_>> = (start..end)
                .map(|i| {
                    let at = day + Duration::milliseconds(i as i64 * 20);
                    NewSnapshot {
                        run_id: run,
                        gstin: &keys[i].0,
                        endpoint: keys[i].1,
                        period: &keys[i].2,
                        page: 0,
                        method: "GET",
                        request: &requests[i],
                        requested_at: at - Duration::milliseconds(15),
                        received_at: at,
                        http_status: Some(200),
                        body: Some(&bodies[i]),
                        reading: Some(&readings[i]),
                        outcome: Outcome::Ok,
                        detail: None,
                        attempts: 1,
                        origin: "https://api.sandbox.co.in",
                    }
                })
                .collect();
            for appended in store.append_batch(&batch).expect("append") {
                snapshots += 1;
                if capture > 0 {
                    later += 1;
                    changed += u64::from(appended.changed_from.is_some());
                }
            }
        }
        store
            .finish_run(run, RunStatus::Completed, "{}", day + Duration::minutes(5))
            .expect("finish run");
        gstvault::evidence::checkpoint::record(&mut store, &key, day + Duration::minutes(5), Some(run))
            .expect("checkpoint");
        ours += started.elapsed().as_secs_f64();

        let started = std::time::Instant::now();
        for ((gstin, endpoint, period), body) in keys.iter().zip(&bodies) {
            let file = repo.join(gstin.as_str()).join(endpoint).join(format!("{period}.json"));
            if capture == 0 {
                std::fs::create_dir_all(file.parent().unwrap()).expect("peer dir");
            }
            std::fs::write(&file, body).expect("peer file");
        }
        git_seconds += started.elapsed().as_secs_f64();
        git_seconds += peers::git_commit(&repo, &format!("capture {capture}"));
    }
    let raw = rusqlite::Connection::open(&archive).expect("archive opens");
    raw.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("wal checkpoint");
    let distinct: i64 = raw
        .query_row("SELECT COALESCE(SUM(size), 0) FROM payloads", [], |r| r.get(0))
        .expect("payload sizes");
    let distinct = distinct as u64;
    let wal = std::fs::metadata(format!("{}-wal", archive.display())).map_or(0, |m| m.len());
    let archive_bytes = std::fs::metadata(&archive).expect("archive").len() + wal;
    drop(store);
    let (git_bytes, gc_seconds) = peers::git_gc_size(&repo);
    let churn = changed as f64 / later.max(1) as f64 * 100.0;
    eprintln!(
        "    {} snapshots, {churn:.2}% changed per capture; archive {} ({} B per snapshot) vs distinct payloads {} vs git {}; \
         gstvault {ours:.1} s, files + git {git_seconds:.1} s + gc {gc_seconds:.1} s",
        count(snapshots),
        bytes(archive_bytes),
        archive_bytes / snapshots.max(1),
        bytes(distinct),
        bytes(git_bytes)
    );
    table.add(Line {
        row: 2,
        what: format!(
            "storage: {} captures × {} keys, {churn:.1}% of payloads changed per capture",
            scale.storage_captures,
            count(keys.len() as u64)
        ),
        ours: format!("archive {}", bytes(archive_bytes)),
        theirs: format!(
            "git after gc {}; distinct payloads {}",
            bytes(git_bytes),
            bytes(distinct)
        ),
        ratio: format!(
            "{:.2}× git; {:.2}× distinct",
            archive_bytes as f64 / git_bytes as f64,
            archive_bytes as f64 / distinct.max(1) as f64
        ),
        target: "≤ 1.0× git".into(),
        met: Some(archive_bytes <= git_bytes),
    });
}
