//! Damage to stored evidence is found, reported and never signed over,
//! deduplicated onto or served (issue 15, points 2–4). Each test alters the
//! SQLite file the way bit rot or a hand with `sqlite3` would (dropping the
//! append-only trigger first), then does what an operator does next.

use gstvault::app::capture::{Checkpointed, Mode};
use gstvault::domain::digest::Digest;
use gstvault::domain::log::Seq;
use gstvault::store::Reader;

use crate::support::World;

/// A world with a signing key, logged in, one GSTIN captured for two months
/// and checkpointed by the capture itself.
async fn signed_world() -> World {
    signed_world_at(crate::support::start_instant()).await
}

/// [`signed_world`] with the simulator's clock starting at `start`.
async fn signed_world_at(start: chrono::DateTime<chrono::Utc>) -> World {
    let world = World::builder()
        .start_at(start)
        .sim(|c| c.retry_after_secs = 0)
        .test_client()
        .concurrency(1)
        .keygen()
        .start()
        .await;
    world.login_all().await;
    let captured = capture(&world).await;
    assert!(
        matches!(captured.checkpoint, Checkpointed::Signed(_)),
        "{:?}",
        captured.checkpoint
    );
    assert!(captured.damage().is_empty(), "{:?}", captured.damage());
    world
}

async fn capture(world: &World) -> gstvault::app::capture::Captured {
    let gstin = world.gstins()[0].clone();
    world
        .capture_in(&world.plan(&[gstin], None, "2026-04", "2026-05"), Mode::Full)
        .await
}

/// A connection that can change what the triggers protect.
fn attacker(world: &World, trigger: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(world.archive_path()).unwrap();
    conn.execute_batch(&format!("DROP TRIGGER {trigger};")).unwrap();
    conn
}

fn checkpoint_count(world: &World) -> usize {
    world.store.lock().unwrap().checkpoints().unwrap().len()
}

/// The portal data (outcome ok) referenced by the most snapshots (so the next capture meets it).
fn most_shared_payload(world: &World) -> (Digest, Vec<Seq>) {
    let store = world.store.lock().unwrap();
    let mut by: std::collections::HashMap<Digest, Vec<Seq>> = Default::default();
    store
        .scan_snapshots(|row, _, _| {
            if let (Some(sha), gstvault::domain::envelope::Outcome::Ok) = (row.payload_sha256, row.outcome) {
                by.entry(sha).or_default().push(row.seq);
            }
        })
        .unwrap();
    by.into_iter().max_by_key(|(sha, seqs)| (seqs.len(), *sha)).unwrap()
}

/// Re-stores a payload with one byte changed (valid zstd, same size), as bit rot would leave it.
fn rot_payload(world: &World, sha: &Digest) {
    let bytes = world.store.lock().unwrap().payload(sha).unwrap().unwrap();
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x01;
    let compressed = zstd::bulk::compress(&changed, 3).unwrap();
    attacker(world, "payloads_append_only_update")
        .execute(
            "UPDATE payloads SET bytes = ?1 WHERE sha256 = ?2",
            rusqlite::params![compressed, &sha.0[..]],
        )
        .unwrap();
}

#[tokio::test]
async fn a_changed_checkpoint_root_makes_the_next_run_refuse_to_sign_and_report_it() {
    for case in ["the root column", "the root in the signed text"] {
        let world = signed_world().await;
        let before = world.store.lock().unwrap().snapshot_count().unwrap();
        let conn = attacker(&world, "checkpoints_append_only_update");
        if case == "the root column" {
            conn.execute("UPDATE checkpoints SET root = '00' || substr(root, 3) WHERE id = 1", [])
                .unwrap();
        } else {
            // One base64 character of the root line, which the signature covers.
            let body: String = conn
                .query_row("SELECT body FROM checkpoints WHERE id = 1", [], |r| r.get(0))
                .unwrap();
            let mut lines: Vec<String> = body.split('\n').map(str::to_string).collect();
            let first = if lines[2].starts_with('A') { "B" } else { "A" };
            lines[2].replace_range(0..1, first);
            conn.execute("UPDATE checkpoints SET body = ?1 WHERE id = 1", [lines.join("\n")])
                .unwrap();
        }
        // The sim's data moves on so the run appends.
        world.sim.sim.advance(chrono::Duration::days(1));
        let captured = capture(&world).await;
        let damage = captured.damage();
        assert!(
            damage
                .iter()
                .any(|d| d.starts_with("checkpoint 1 is damaged") && d.ends_with("run `gstvault verify --archive`")),
            "{case}: {damage:?}"
        );
        assert!(
            matches!(captured.checkpoint, Checkpointed::Refused { .. }),
            "{case}: {:?}",
            captured.checkpoint
        );
        assert_eq!(checkpoint_count(&world), 1, "{case}: nothing signed over the damage");
        // New evidence is never lost because old evidence was damaged.
        assert!(world.store.lock().unwrap().snapshot_count().unwrap() > before, "{case}");
        let text = gstvault::render::captured(&captured);
        assert!(text.contains("DAMAGE: checkpoint 1 is damaged"), "{case}: {text}");
        assert!(
            text.contains("checkpoint: NOT SIGNED: the archive is damaged"),
            "{case}: {text}"
        );
    }
}

#[tokio::test]
async fn a_changed_snapshot_column_makes_signing_refuse() {
    let world = signed_world().await;
    attacker(&world, "snapshots_append_only_update")
        .execute("UPDATE snapshots SET http_status = 201 WHERE seq = 5", [])
        .unwrap();
    world.sim.sim.advance(chrono::Duration::days(1));
    let captured = capture(&world).await;
    assert!(
        matches!(&captured.checkpoint, Checkpointed::Refused { damage } if damage.contains("is damaged")),
        "{:?}",
        captured.checkpoint
    );
    assert_eq!(checkpoint_count(&world), 1);
    assert!(!captured.damage().is_empty());

    // Signing directly (export and the daemon's checkpoint job do) refuses too.
    let key = gstvault::app::keys::require_signing_key(&world.config).unwrap();
    let err = gstvault::evidence::checkpoint::record(&mut world.store.lock().unwrap(), &key, world.clock.now(), None)
        .unwrap_err();
    assert!(err.is_damage(), "{err}");
    assert!(err.to_string().ends_with("run `gstvault verify --archive`"), "{err}");
}

#[tokio::test]
async fn a_rotted_payload_is_reported_by_the_next_run_that_meets_it_and_repaired() {
    let world = signed_world().await;
    let (sha, holders) = most_shared_payload(&world);
    rot_payload(&world, &sha);
    // Reads refuse what no longer hashes to its digest.
    let err = world.store.lock().unwrap().body(holders[0]).unwrap_err();
    assert!(err.is_damage(), "{err}");

    let captured = capture(&world).await;
    let repaired: Vec<&String> = captured
        .totals
        .damage
        .iter()
        .filter(|d| d.contains(&sha.short()))
        .collect();
    assert_eq!(repaired.len(), 1, "reported once: {:?}", captured.totals.damage);
    assert!(repaired[0].contains("stored again as a repair copy"), "{}", repaired[0]);
    assert!(captured.totals.new_payload_bytes > 0, "the genuine bytes are stored");

    // Every snapshot holding the payload, old and new, reads genuine bytes again.
    {
        let store = world.store.lock().unwrap();
        for seq in &holders {
            let row = store.snapshot(*seq).unwrap().unwrap();
            let body = store.body(*seq).unwrap().unwrap();
            assert_eq!(Some(Digest::of(&body)), row.body_sha256);
        }
        assert_eq!(store.payload(&sha).unwrap().map(|b| Digest::of(&b)), Some(sha));
        let report = gstvault::evidence::verify::verify_archive(&store, None).unwrap();
        assert!(report.intact(), "{:?}", report.findings);
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains(&sha.short()) && n.contains("stored copy is damaged")),
            "{:?}",
            report.notes
        );
    }

    // The next run finds it repaired: nothing to report.
    let again = capture(&world).await;
    assert!(again.damage().is_empty(), "{:?}", again.damage());
}

#[tokio::test]
async fn dedup_never_references_a_damaged_copy_within_one_run() {
    // Two GSTINs answering the same bytes: the first answer of the run
    // confirms (or repairs) the stored copy, later ones reuse it.
    let world = signed_world().await;
    let (sha, _) = most_shared_payload(&world);
    rot_payload(&world, &sha);
    let captured = capture(&world).await;
    assert_eq!(
        captured
            .totals
            .damage
            .iter()
            .filter(|d| d.contains(&sha.short()))
            .count(),
        1,
        "{:?}",
        captured.totals.damage
    );
    let repairs: i64 = rusqlite::Connection::open(world.archive_path())
        .unwrap()
        .query_row("SELECT COUNT(*) FROM payload_repairs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(repairs, 1, "one repair copy, not one per answer");
}

/// Runs the binary on the world's config, off the async runtime.
async fn binary(world: &World, args: &[&str]) -> (Option<i32>, String, String) {
    let args = args.iter().map(|a| a.to_string()).collect();
    crate::process::against_simulator(world.dir().to_path_buf(), args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_raw_diff_and_export_refuse_damaged_bytes() {
    let world = signed_world().await;
    let (sha, holders) = most_shared_payload(&world);
    let seq = holders[0].0.to_string();
    let (code, raw, _) = binary(&world, &["show", &seq, "--raw"]).await;
    assert_eq!(code, Some(0));
    assert!(!raw.is_empty());
    rot_payload(&world, &sha);

    let (code, stdout, stderr) = binary(&world, &["show", &seq, "--raw"]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "no damaged byte is written");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("snapshot {seq} is damaged")), "{stderr}");
    assert!(stderr.contains("run `gstvault verify --archive`"), "{stderr}");

    let other = holders.get(1).unwrap_or(&holders[0]).0.to_string();
    let (code, _, stderr) = binary(&world, &["diff", &seq, &other]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is damaged"), "{stderr}");

    let (code, _, stderr) = binary(
        &world,
        &[
            "export",
            "--gstin",
            &world.gstins()[0].to_string(),
            "--month",
            "2026-04",
        ],
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(
        std::fs::read_dir(world.dir().join("bundles"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "no bundle of damaged bytes"
    );
    let _ = Reader::open(&world.archive_path()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_exits_1_when_the_archive_is_damaged() {
    // The binary reads the wall clock: the simulator's starts there too, so
    // the sessions the world logged in are valid for it.
    let world = signed_world_at(chrono::Utc::now()).await;
    attacker(&world, "checkpoints_append_only_update")
        .execute("UPDATE checkpoints SET root = '00' || substr(root, 3) WHERE id = 1", [])
        .unwrap();
    let gstin = world.gstins()[0].to_string();
    let (code, stdout, stderr) = binary(
        &world,
        &["snapshot", "--gstin", &gstin, "--from", "2026-04", "--to", "2026-04"],
    )
    .await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("DAMAGE: checkpoint 1 is damaged"), "{stdout}");
    assert!(!stdout.contains("NEEDS LOGIN"), "exit 1 is for the damage: {stdout}");
    assert!(stdout.contains("checkpoint: NOT SIGNED"), "{stdout}");
}
