//! The archive's own tests: exact bytes round-trip, dedup, change rows and
//! the append-only triggers; a schema-4 archive migrates without losing a byte.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::bodies::compress_payload;
use super::migrate::embedded;
use super::*;
use crate::domain::envelope::{parse, Reading};
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::period::Period;

/// The test key's GSTIN and period, for snapshots that borrow them.
fn fixtures() -> (&'static Gstin, &'static Period) {
    static KEY: std::sync::OnceLock<(Gstin, Period)> = std::sync::OnceLock::new();
    let (g, p) = KEY.get_or_init(|| {
        (
            Gstin::parse("27AAPFU0939F1ZV").expect("valid GSTIN"),
            Period::parse("2025-04").expect("valid period"),
        )
    });
    (g, p)
}

fn snapshot<'a>(body: &'a [u8], reading: &'a Reading, t: DateTime<Utc>) -> NewSnapshot<'a> {
    NewSnapshot {
        run_id: 1,
        gstin: fixtures().0,
        endpoint: "gstr-1-hsn",
        period: fixtures().1,
        page: 0,
        method: "GET",
        request: "/x",
        requested_at: t,
        received_at: t,
        http_status: Some(200),
        body: Some(body),
        reading: Some(reading),
        outcome: reading.outcome,
        detail: None,
        attempts: 1,
        origin: "https://api.sandbox.co.in",
    }
}

#[test]
fn bytes_round_trip_dedup_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.sqlite")).unwrap();
    let t = Utc::now();
    store.begin_run("snapshot", t).unwrap();
    let a = br#"{"code":200,"timestamp":1,"transaction_id":"a","data":{"status_cd":"1","data":{"x":1}}}"#;
    let b = br#"{"code":200,"timestamp":2,"transaction_id":"b","data":{"status_cd":"1","data":{"x":1}}}"#;
    let c = br#"{"code":200,"timestamp":3,"transaction_id":"c","data":{"status_cd":"1","data":{"x":2}}}"#;
    let (ra, rb, rc) = (parse(200, a), parse(200, b), parse(200, c));
    let first = store.append(&snapshot(a, &ra, t)).unwrap();
    let second = store.append(&snapshot(b, &rb, t)).unwrap();
    let third = store.append(&snapshot(c, &rc, t)).unwrap();
    assert_eq!((first.seq, second.seq, third.seq), (Seq(0), Seq(1), Seq(2)));
    assert!(first.new_payload_bytes > 0);
    assert_eq!(second.new_payload_bytes, 0);
    assert_eq!(second.changed_from, None);
    assert_eq!(third.changed_from, Some(Seq(1)));
    assert_eq!(store.body(Seq(0)).unwrap().unwrap(), a.to_vec());
    assert_eq!(store.body(Seq(2)).unwrap().unwrap(), c.to_vec());
    let row = store.snapshot(Seq(1)).unwrap().unwrap();
    assert_eq!(
        row.leaf_record().leaf_hash(),
        second.leaf_hash,
        "the row reads back as written"
    );
    assert_eq!(row.transaction_id.as_deref(), Some("b"));
    // Append-only: the triggers refuse edits.
    assert!(store
        .connection()
        .execute("DELETE FROM snapshots WHERE seq = 0", [])
        .is_err());
    assert!(store.connection().execute("UPDATE payloads SET size = 0", []).is_err());
}

/// An empty archive at schema 4.
fn schema_4(path: &Path) -> Connection {
    let mut conn = Connection::open(path).unwrap();
    embedded::migrations::runner()
        .set_target(refinery::Target::Version(4))
        .run(&mut conn)
        .unwrap();
    conn
}

/// A schema-4 archive (text times and digests, stored leaf hashes) opened
/// by this version: every row, body and checkpoint root comes through.
#[test]
fn schema_4_archives_migrate_without_losing_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    // Rows as this version writes them, to copy into a schema-4 file.
    let mut source = Store::open(&dir.path().join("source.sqlite")).unwrap();
    let t = DateTime::parse_from_rfc3339("2026-06-01T10:00:00.123Z")
        .unwrap()
        .with_timezone(&Utc);
    source.begin_run("snapshot", t).unwrap();
    let uuid = "129433ac-e6bc-7f0b-aca6-9920bfc62b95";
    let bodies: Vec<Vec<u8>> = [(uuid, 1), ("TXN-7", 1), ("c", 2)]
        .iter()
        .enumerate()
        .map(|(i, (tid, x))| {
            format!(r#"{{"code":200,"timestamp":{i},"transaction_id":"{tid}","data":{{"status_cd":"1","data":{{"x":{x}}}}}}}"#)
                .into_bytes()
        })
        .collect();
    for (i, body) in bodies.iter().enumerate() {
        let reading = parse(200, body);
        source
            .append(&snapshot(
                body,
                &reading,
                t + chrono::Duration::milliseconds(i as i64 * 1001),
            ))
            .unwrap();
    }
    // Schema-4 rows had no origin (leaf encoding v1).
    let rows: Vec<SnapshotRow> = (0..3)
        .map(|i| SnapshotRow {
            origin: None,
            ..source.snapshot(Seq(i)).unwrap().unwrap()
        })
        .collect();
    let changes = source.all_changes().unwrap();
    assert_eq!(changes.len(), 1);
    let mut tree = crate::domain::merkle::Tree::new();
    rows.iter().for_each(|r| tree.push(r.record_digest()));

    let path = dir.path().join("v4.sqlite");
    let conn = schema_4(&path);
    conn.execute(
        "INSERT INTO runs (id, kind, started_at, status) VALUES (1, 'snapshot', 'x', 'completed')",
        [],
    )
    .unwrap();
    for (row, body) in rows.iter().zip(&bodies) {
        let payload = source.payload(row.payload_sha256.as_ref().unwrap()).unwrap().unwrap();
        let offset = body
            .windows(payload.len())
            .position(|w| w == payload.as_slice())
            .unwrap();
        let mut envelope = body[..offset].to_vec();
        envelope.extend_from_slice(&body[offset + payload.len()..]);
        conn.execute(
            "INSERT OR IGNORE INTO payloads (sha256, size, codec, bytes) VALUES (?1, ?2, 'zstd', ?3)",
            params![
                row.payload_sha256.map(|d| d.hex()),
                payload.len() as i64,
                compress_payload(&payload).unwrap()
            ],
        )
        .unwrap();
        let record = row.leaf_record();
        conn.execute(
            "INSERT INTO snapshots (seq, run_id, gstin, endpoint, period, page, method, request, requested_at,
                 received_at, http_status, transaction_id, status_cd, error_cd, outcome, detail, attempts,
                 body_sha256, body_size, payload_sha256, payload_offset, envelope, chksums, record_digest, leaf_hash)
             VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                 ?22, ?23, ?24)",
            params![
                row.seq.0 as i64,
                record.gstin,
                record.endpoint,
                record.period,
                record.page,
                record.method,
                record.request,
                record.requested_at,
                record.received_at,
                record.http_status,
                record.transaction_id,
                record.status_cd,
                record.error_cd,
                record.outcome,
                record.detail,
                row.attempts,
                record.body_sha256,
                record.body_size.map(|s| s as i64),
                record.payload_sha256,
                offset as i64,
                envelope,
                row.chksums,
                record.record_digest().hex(),
                record.leaf_hash().hex()
            ],
        )
        .unwrap();
    }
    let c = &changes[0];
    conn.execute(
        "INSERT INTO changes (seq, previous_seq, gstin, endpoint, period, page, old_payload_sha256,
             new_payload_sha256, detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            c.seq.0 as i64,
            c.previous_seq.0 as i64,
            c.gstin.as_str(),
            c.endpoint,
            c.period.to_string(),
            c.page,
            c.old_payload_sha256.hex(),
            c.new_payload_sha256.hex(),
            c.detected_at.to_string()
        ],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO checkpoints (size, root, origin, body, signature, key_id, created_at)
         VALUES (3, ?1, 'o', 'b', 's', 'k', 'x')",
        [tree.root().hex()],
    )
    .unwrap();
    drop(conn);

    let migrated = Store::open(&path).unwrap();
    for (row, body) in rows.iter().zip(&bodies) {
        assert_eq!(&migrated.snapshot(row.seq).unwrap().unwrap(), row);
        assert_eq!(&migrated.body(row.seq).unwrap().unwrap(), body);
    }
    assert_eq!(migrated.all_changes().unwrap(), changes);
    assert_eq!(migrated.tree(3).root().unwrap(), tree.root());
    // The renamed tables' references hold, and the log goes on.
    let dangling: Option<String> = migrated
        .connection()
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
        .unwrap();
    assert_eq!(dangling, None);
    let mut migrated = migrated;
    let next = br#"{"code":200,"timestamp":9,"transaction_id":"d","data":{"status_cd":"1","data":{"x":3}}}"#;
    let reading = parse(200, next);
    let appended = migrated.append(&snapshot(next, &reading, t)).unwrap();
    assert_eq!((appended.seq, appended.changed_from), (Seq(3), Some(Seq(2))));
    assert_eq!(migrated.body(Seq(3)).unwrap().unwrap(), next.to_vec());
    let fourth = migrated.snapshot(Seq(3)).unwrap().unwrap();
    assert_eq!(fourth.origin.as_deref(), Some("https://api.sandbox.co.in"));
    assert_eq!(fourth.leaf_record().v, 2, "new rows are leaf encoding v2");
    tree.push(fourth.record_digest());
    assert_eq!(migrated.tree(4).root().unwrap(), tree.root());
    // Schema 10: the same connection that migrated takes the new outcomes.
    let unknown =
        br#"{"code":200,"timestamp":9,"transaction_id":"e","data":{"status_cd":"0","error":{"error_cd":"NEW0001"}}}"#;
    let reading = parse(200, unknown);
    assert_eq!(reading.outcome, crate::domain::envelope::Outcome::Unrecognised);
    let appended = migrated.append(&snapshot(unknown, &reading, t)).unwrap();
    let fifth = migrated.snapshot(appended.seq).unwrap().unwrap();
    assert_eq!(fifth.outcome, crate::domain::envelope::Outcome::Unrecognised);
    tree.push(fifth.record_digest());
    assert_eq!(migrated.tree(5).root().unwrap(), tree.root());
    // The canonical UUID went to 16 bytes, the other ids stayed text.
    let types: Vec<String> = migrated
        .connection()
        .prepare("SELECT typeof(transaction_id) FROM snapshots WHERE seq < 3 ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(types, ["blob", "text", "text"]);
    // A checkpoint whose root the rows do not give stops the open, with a clear error.
    drop(migrated);
    let path2 = dir.path().join("v4-bad.sqlite");
    let conn = schema_4(&path2);
    conn.execute(
        "INSERT INTO checkpoints (size, root, origin, body, signature, key_id, created_at)
         VALUES (0, 'ff', 'o', 'b', 's', 'k', 'x')",
        [],
    )
    .unwrap();
    drop(conn);
    let err = Store::open(&path2).err().expect("refused").to_string();
    assert!(err.contains("checkpoint 1's root"), "{err}");
    // A read-only open (queries, verify) cannot migrate: it says what to do.
    let path3 = dir.path().join("v4-unmigrated.sqlite");
    drop(schema_4(&path3));
    let err = Reader::open(&path3).err().expect("refused").to_string();
    assert!(
        err.contains("archive schema 4 is older than this gstvault's 11"),
        "{err}"
    );
    assert!(Reader::open(&path).is_ok());
}

#[test]
fn alerts_open_once_clear_in_place_and_leave_evidence_triggers_alone() {
    use crate::domain::health::{Condition, Delivery, Kind, Transition};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.sqlite")).unwrap();
    let t = Utc::now();
    let condition = Condition {
        kind: Kind::NeedsLogin,
        gstin: Some(fixtures().0.clone()),
        reason: "27AAPFU0939F1ZV needs login: never logged in".into(),
    };
    let id = store.raise_alert(&condition, t, Delivery::Pending).unwrap();
    assert!(
        store.raise_alert(&condition, t, Delivery::Pending).is_err(),
        "one open row per condition"
    );
    assert_eq!(store.alerts_to_deliver().unwrap().len(), 1);
    store
        .set_alert_delivery(id, Transition::Raised, Delivery::Sent, None)
        .unwrap();
    assert!(store.alerts_to_deliver().unwrap().is_empty());
    store.clear_alert(id, t, Delivery::Pending).unwrap();
    assert!(store.open_alerts().unwrap().is_empty());
    let row = &store.alerts().unwrap()[0];
    assert_eq!(row.condition, "needs_login:27AAPFU0939F1ZV");
    assert_eq!(
        (row.raised_delivery, row.cleared_delivery),
        (Delivery::Sent, Some(Delivery::Pending))
    );
    store
        .set_alert_delivery(id, Transition::Cleared, Delivery::Failed, Some("HTTP 404"))
        .unwrap();
    assert_eq!(store.alerts().unwrap()[0].last_error.as_deref(), Some("HTTP 404"));
    // Raised again after it cleared: a new row.
    store.raise_alert(&condition, t, Delivery::Unsent).unwrap();
    assert_eq!(store.alerts().unwrap().len(), 2);
    // The eleven evidence tables and the access log keep both their
    // append-only triggers; alerts and the accounts have none.
    let tables: Vec<String> = store
        .connection()
        .prepare("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%append_only%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(tables.len(), 12, "{tables:?}");
    assert!(tables.contains(&"access_log".to_string()));
    for operational in ["alerts", "users", "user_grants"] {
        assert!(!tables.contains(&operational.to_string()), "{operational}");
    }
}

#[test]
fn capture_facts_read_each_gstins_newest_finished_run_and_newest_answer() {
    use crate::domain::envelope::Outcome;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.sqlite")).unwrap();
    let t = Utc::now();
    let ok = br#"{"code":200,"timestamp":1,"transaction_id":"a","data":{"status_cd":"1","data":{"x":1}}}"#;
    let reading = parse(200, ok);
    let other = Gstin::parse("29AABCK4521M1ZC").unwrap();
    // Run 1 answers; run 2 fails for the fixture GSTIN; run 3 is still running.
    let first = store.begin_run("daemon", t).unwrap();
    store
        .append(&NewSnapshot {
            run_id: first,
            ..snapshot(ok, &reading, t)
        })
        .unwrap();
    store
        .finish_run(first, crate::domain::run::RunStatus::Completed, "{}", t)
        .unwrap();
    let second = store.begin_run("daemon", t).unwrap();
    let later = t + chrono::Duration::minutes(5);
    store
        .append(&NewSnapshot {
            run_id: second,
            body: None,
            reading: None,
            outcome: Outcome::TransportError,
            detail: Some("connection refused".into()),
            http_status: None,
            received_at: later,
            requested_at: later,
            ..snapshot(ok, &reading, t)
        })
        .unwrap();
    store
        .finish_run(second, crate::domain::run::RunStatus::Completed, "{}", t)
        .unwrap();
    let third = store.begin_run("daemon", t).unwrap();
    store
        .append(&NewSnapshot {
            run_id: third,
            ..snapshot(ok, &reading, later)
        })
        .unwrap();
    let facts = store.capture_facts(&[fixtures().0.clone(), other], 10).unwrap();
    let (run, answer) = &facts[0];
    let run = run.as_ref().unwrap();
    assert_eq!((run.run_id, run.answered, run.failed), (second, 0, 1));
    assert!(run.failed());
    assert_eq!(
        run.first_failure.as_deref(),
        Some("gstr-1-hsn 2025-04: transport_error: connection refused")
    );
    assert_eq!(
        *answer,
        Some(crate::domain::time::Timestamp::of(t)),
        "run 1's answer, not the running run's"
    );
    assert_eq!(facts[1], (None, None));
}

#[test]
fn accounts_are_unique_while_live_change_in_place_and_the_access_log_only_grows() {
    use crate::domain::access::{Grant, Role};
    use crate::domain::period::Month;
    use crate::domain::time::Timestamp;
    use crate::store::access::{AccessLog, AccessRow};
    use crate::store::NewUser;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let mut store = Store::open(&path).unwrap();
    let t = Timestamp::of(Utc::now());
    let auditor = NewUser {
        name: "ca.sharma".into(),
        role: Role::Auditor,
        password_hash: "$phc$first".into(),
        grants: vec![Grant {
            gstin: fixtures().0.clone(),
            from: Some(Month::parse("2025-04").unwrap()),
            to: None,
        }],
        until: Some(chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()),
        created_at: t,
    };
    store.add_user(&auditor).unwrap();
    let taken = store.add_user(&auditor).unwrap_err();
    assert!(matches!(taken, StoreError::Refused { .. }));
    assert!(
        taken.to_string().contains("user \"ca.sharma\" exists already"),
        "{taken}"
    );
    assert!(!format!("{auditor:?}").contains("$phc$first"));
    let (viewer, hash) = store.viewer("ca.sharma").unwrap().unwrap();
    assert_eq!(hash, "$phc$first");
    assert_eq!(
        (viewer.role, &viewer.grants, viewer.until),
        (Role::Auditor, &auditor.grants, auditor.until)
    );
    store.set_password("ca.sharma", "$phc$second").unwrap();
    assert_eq!(store.viewer("ca.sharma").unwrap().unwrap().1, "$phc$second");
    assert!(store
        .set_password("nobody", "x")
        .unwrap_err()
        .to_string()
        .contains("no user \"nobody\""));
    let listed = store.users().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].name.as_str(), listed[0].created_at), ("ca.sharma", t));
    store.remove_user("ca.sharma", t).unwrap();
    assert_eq!(
        store.viewer("ca.sharma").unwrap(),
        None,
        "a removed account cannot log in"
    );
    assert!(store.users().unwrap().is_empty());
    assert!(store.remove_user("ca.sharma", t).is_err(), "removed once");
    // The name is free again: a new account, without the old one's grants.
    store
        .add_user(&NewUser {
            role: Role::Staff,
            grants: vec![],
            ..auditor.clone()
        })
        .unwrap();
    let (again, _) = store.viewer("ca.sharma").unwrap().unwrap();
    assert_eq!((again.role, again.grants.len()), (Role::Staff, 0));

    // The web server's own connection appends beside the writer.
    let log = AccessLog::open(&path).unwrap();
    fn assert_shareable<T: Send + Sync>(_: &T) {}
    assert_shareable(&log);
    for (i, status) in [200u16, 404].into_iter().enumerate() {
        log.append(&AccessRow {
            at: Timestamp::from_millis(t.millis() + i as i64),
            user: if i == 0 { "ca.sharma".into() } else { "-".into() },
            address: "127.0.0.1".into(),
            method: "GET".into(),
            path: format!("/gstin/{i}"),
            status,
            what: "a page".into(),
        })
        .unwrap();
    }
    let rows = store.access_log(0).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![404, 200],
        "newest first"
    );
    assert_eq!(store.access_log(1).unwrap().len(), 1);
    assert_eq!(rows[0].user, "-");
    for sql in ["UPDATE access_log SET status = 200", "DELETE FROM access_log"] {
        let refused = store.connection().execute(sql, []).unwrap_err();
        assert!(
            refused.to_string().contains("access_log is append-only"),
            "{sql}: {refused}"
        );
    }
    assert!(
        AccessLog::open(&dir.path().join("none.sqlite")).is_err(),
        "no archive, no log"
    );
}
