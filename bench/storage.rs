//! Row 2, storage: daily captures against a simulator whose clock moves one
//! day between them (ledger entries, late amendments: the portal's own
//! churn), each followed by a signed checkpoint as the daemon does. The git
//! peer commits the same answer bytes after every capture, as files named by
//! GSTIN, endpoint and period. Compared: the archive file, the distinct
//! payload bytes it holds, and `.git` after `git gc`.

use std::path::{Path, PathBuf};

use chrono::Duration;
use gstvault::signing::{keygen, SigningKey};

use crate::capture::Portal;
use crate::peers;
use crate::table::{bytes, count, Line, Table};
use crate::Scale;

/// What the export row reuses: an archive with history, and its key.
pub struct HistoryArchive {
    pub archive: PathBuf,
    pub key: PathBuf,
    pub gstin: String,
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub from: gstvault::period::Month,
}

pub async fn row(dir: &Path, scale: &Scale, table: &mut Table, report: bool) -> HistoryArchive {
    eprintln!(
        "[2] storage: {} GSTINs × {} months, {} daily captures",
        scale.storage_gstins, scale.months, scale.storage_captures
    );
    let portal = Portal::start(dir, scale.storage_gstins, scale.months, scale.concurrency).await;
    let key_path = dir.join("bench.key");
    let public_path = dir.join("bench.pub");
    keygen(&key_path, &public_path, None).expect("keygen");
    let key = SigningKey::load(&key_path, None).expect("key loads");
    let repo = dir.join("git-peer");
    peers::git_init(&repo);
    let (mut ours, mut git_seconds) = (0.0, 0.0);
    let (mut snapshots, mut changed, mut later_snapshots) = (0u64, 0u64, 0u64);
    for capture in 0..scale.storage_captures {
        if capture > 0 {
            portal.sim.sim.advance(Duration::days(1));
        }
        let started = std::time::Instant::now();
        let summary = portal.capture().await;
        {
            let store = portal.store.lock().unwrap();
            gstvault::checkpoint::record(&store, &key, portal.clock.now(), Some(summary.run_id)).expect("checkpoint");
        }
        ours += started.elapsed().as_secs_f64();
        snapshots += summary.snapshots;
        if capture > 0 {
            changed += summary.changes;
            later_snapshots += summary.snapshots;
        }
        // The peer's files: the exact answer bytes gstvault received.
        let started = std::time::Instant::now();
        {
            let store = portal.store.lock().unwrap();
            for row in store.snapshots_of_run(summary.run_id).expect("run rows") {
                let Some(body) = store.body(row.seq).expect("body") else {
                    continue;
                };
                let file = repo.join(format!(
                    "{}/{}/{}.p{}.json",
                    row.gstin, row.endpoint, row.period, row.page
                ));
                std::fs::create_dir_all(file.parent().unwrap()).expect("peer dir");
                std::fs::write(&file, body).expect("peer file");
            }
        }
        git_seconds += started.elapsed().as_secs_f64();
        git_seconds += peers::git_commit(&repo, &format!("capture {capture}"));
    }
    let archive = portal.archive_path();
    let (archive_bytes, distinct) = {
        let store = portal.store.lock().unwrap();
        store
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("wal checkpoint");
        let distinct: i64 = store
            .connection()
            .query_row("SELECT COALESCE(SUM(size), 0) FROM payloads", [], |r| r.get(0))
            .expect("payload sizes");
        let wal = std::fs::metadata(format!("{}-wal", archive.display())).map_or(0, |m| m.len());
        (
            std::fs::metadata(&archive).expect("archive").len() + wal,
            distinct as u64,
        )
    };
    let (git_bytes, gc_seconds) = peers::git_gc_size(&repo);
    let churn = changed as f64 / later_snapshots.max(1) as f64 * 100.0;
    eprintln!(
        "    {} snapshots, {churn:.2}% changed per capture; archive {} vs distinct payloads {} vs git {}; \
         gstvault {ours:.1} s, git {git_seconds:.1} s + gc {gc_seconds:.1} s",
        count(snapshots),
        bytes(archive_bytes),
        bytes(distinct),
        bytes(git_bytes)
    );
    if report {
        table.add(Line {
            row: 2,
            what: format!(
                "storage: {} captures of {} GSTINs, {} snapshots, {churn:.1}% of payloads changed per capture",
                scale.storage_captures,
                scale.storage_gstins,
                count(snapshots)
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
    let gstin = portal.plan.gstins[0].gstin.to_string();
    let from = portal.plan.from;
    let as_of = portal.clock.now();
    drop(portal);
    HistoryArchive {
        archive,
        key: key_path,
        gstin,
        as_of,
        from,
    }
}
