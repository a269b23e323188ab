//! Evidence bundles: golden bytes, verification by standard tools and by
//! gstvault, tampered bundles and archives with their exact findings, hostile ZIPs.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use gstvault::app::export::export;
use gstvault::domain::period::Month;
use gstvault::evidence::bundle::check::check_bundle;
use gstvault::evidence::bundle::export::ExportRequest;
use gstvault::evidence::scope::Scope;
use gstvault::evidence::signing::{PublicKey, SigningKey};

use crate::support::World;

pub(crate) fn fixture_key(name: &str) -> (SigningKey, PublicKey) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let key = SigningKey::load(&dir.join(format!("{name}.key")), None).unwrap();
    let public = PublicKey::parse(&std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap()).unwrap();
    (key, public)
}

/// A world with one GSTIN captured for 2026-04..2026-05, reproducibly.
pub(crate) async fn captured_world() -> World {
    let world = World::build(|_| {}, 1).await;
    world.login_all().await;
    world.store.lock().unwrap().init_archive_id("golden0000000000").unwrap();
    let gstin = world.gstins()[0].clone();
    world.capture(&world.plan(&[gstin], None, "2026-04", "2026-05")).await;
    let (key, _) = fixture_key("test");
    gstvault::evidence::checkpoint::record(&mut world.store.lock().unwrap(), &key, world.clock.now(), Some(1)).unwrap();
    world
}

pub(crate) fn request(world: &World, out: &Path, month: &str) -> ExportRequest {
    ExportRequest {
        gstin: world.gstins()[0].clone(),
        legal_name: Some("Golden Traders".into()),
        organization: "gstvault tests".into(),
        scope: Scope::Month(Month::parse(month).unwrap()),
        as_of: world.clock.now(),
        out_dir: out.to_path_buf(),
        template: None,
    }
}

pub(crate) fn findings(report: &gstvault::evidence::report::VerifyReport) -> BTreeSet<(String, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.subject.clone(), f.message.clone()))
        .collect()
}

/// The golden bundle's SHA-256: a fixed scenario must give these exact bytes on any machine.
const GOLDEN_SHA256: &str = "98ed4be4ec3cc19dea1f6000a6f7484f09d99f99e1523759cf8797118668e244";

#[tokio::test]
async fn golden_bundle_is_reproducible_and_verifies() {
    let world = captured_world().await;
    let (key, public) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let mut store = world.store.lock().unwrap();
    let first = export(
        &mut store,
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    let bytes = std::fs::read(&first.path).unwrap();
    // Export again: byte-identical, signature included.
    let again_dir = tempfile::tempdir().unwrap();
    let second = export(
        &mut store,
        &key,
        &request(&world, again_dir.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&second.path).unwrap(),
        bytes,
        "re-export is byte-identical"
    );
    assert_eq!(
        first.path.file_name().unwrap(),
        "gstvault_27AAPFU0939F1ZV_2026-05_2026-06-25_ee2e48a759c25346.zip"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&first.path).unwrap().permissions().mode() & 0o777,
        0o600,
        "owner-only"
    );
    let report = check_bundle(&first.path, Some(&public), None).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
    assert!(report.snapshots > 20);
    eprintln!("golden bundle sha256 {}", first.sha256);
    assert_eq!(first.sha256.hex(), GOLDEN_SHA256, "the golden bundle changed");
}

fn tool(name: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn standard_tools_validate_a_fresh_bundle() {
    let needed = ["unzip", "sha256sum", "bagit.py", "minisign"];
    let missing: Vec<&str> = needed.iter().copied().filter(|t| !tool(t)).collect();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {missing:?} (see .ci/run)"
        );
        eprintln!("skipped: {missing:?} not installed here (.ci/run installs them)");
        return;
    }
    let world = captured_world().await;
    let (key, _) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let exported = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    let run = |cmd: &str, dir: &Path| {
        let out = Command::new("sh").arg("-c").arg(cmd).current_dir(dir).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    run(&format!("unzip -q {}", exported.path.display()), unpacked.path());
    let bag = unpacked.path().join(exported.path.file_stem().unwrap());
    run("sha256sum -c --quiet manifest-sha256.txt", &bag);
    run("sha256sum -c --quiet tagmanifest-sha256.txt", &bag);
    let bagit = run("bagit.py --validate .", &bag);
    assert!(bagit.contains("is valid"), "{bagit}");
    let signed = run("minisign -Vm tagmanifest-sha256.txt -p gstvault.pub", &bag);
    assert!(signed.contains(&format!("bundle={}", exported.bundle_id)), "{signed}");
    run("minisign -Vm checkpoint.txt -p gstvault.pub", &bag);
    // A same-size edit of a payload is caught by the full validation.
    let victim = std::fs::read_dir(bag.join("data/snapshots/gstr-3b/2026-05"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'1' { b'2' } else { b'1' };
    std::fs::write(&victim, bytes).unwrap();
    let out = Command::new("bagit.py")
        .arg("--validate")
        .arg(".")
        .current_dir(&bag)
        .output()
        .unwrap();
    assert!(!out.status.success(), "bagit.py must reject an edited payload");
}

/// Copies a bundle, letting `edit` drop (None) or replace entries by their path below the bag root.
pub(crate) fn rewrite(source: &Path, target: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(source).unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(target).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let relative = name.split_once('/').unwrap().1.to_string();
        if let Some(bytes) = edit(&relative, bytes) {
            writer.start_file(name, options).unwrap();
            writer.write_all(&bytes).unwrap();
        }
    }
    writer.finish().unwrap();
}

/// Rewrites one entry of a bundle (None drops it).
type Edit<'a> = dyn FnMut(&str, Vec<u8>) -> Option<Vec<u8>> + 'a;

#[tokio::test]
async fn tampered_bundles_give_their_findings() {
    let world = captured_world().await;
    let (key, public) = fixture_key("test");
    let (other, _) = fixture_key("other");
    let out = tempfile::tempdir().unwrap();
    let good = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    let dir = out.path();
    let snapshot = {
        let report = check_bundle(&good.path, Some(&public), None).unwrap();
        assert!(report.intact());
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&good.path).unwrap()).unwrap();
        let names: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
            .collect();
        names
            .into_iter()
            .find(|n| n.contains("/data/snapshots/gstr-3b/"))
            .unwrap()
            .split_once('/')
            .unwrap()
            .1
            .to_string()
    };
    let seq: String = snapshot
        .rsplit("_s")
        .next()
        .unwrap()
        .trim_end_matches(".json")
        .to_string();
    let check = |name: &str, edit: &mut Edit<'_>| {
        let path = dir.join(name);
        rewrite(&good.path, &path, edit);
        findings(&check_bundle(&path, Some(&public), None).unwrap())
    };
    let set = |items: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };

    // One changed payload byte.
    let found = check("byte.zip", &mut |p, mut b| {
        if p == snapshot {
            let i = b.len() / 2;
            b[i] ^= 0x01;
        }
        Some(b)
    });
    assert_eq!(
        found,
        set(&[
            (
                &format!("file {snapshot}"),
                "SHA-256 differs from manifest-sha256.txt (the file was changed)"
            ),
            (
                &format!("snapshot {seq}"),
                &format!("{snapshot} is not the body its log record names")
            ),
        ])
    );

    // A missing file.
    let found = check("missing.zip", &mut |p, b| (p != snapshot).then_some(b));
    assert!(
        found.contains(&(
            format!("file {snapshot}"),
            "is listed in manifest-sha256.txt but missing".into()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(format!("snapshot {seq}"), "its snapshot file is missing".into())),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(s, m)| s == "file bag-info.txt" && m.starts_with("Payload-Oxum")),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "{found:?}");

    // An edited manifest line.
    let found = check("manifest.zip", &mut |p, b| {
        if p == "manifest-sha256.txt" {
            let text = String::from_utf8(b).unwrap();
            let line = text.lines().find(|l| l.ends_with(&snapshot)).unwrap().to_string();
            let forged = format!("{}{}", "0".repeat(64), &line[64..]);
            return Some(text.replace(&line, &forged).into_bytes());
        }
        Some(b)
    });
    assert_eq!(
        found,
        set(&[
            (
                &format!("file {snapshot}"),
                "SHA-256 differs from manifest-sha256.txt (the file was changed)"
            ),
            (
                "file manifest-sha256.txt",
                "SHA-256 differs from tagmanifest-sha256.txt (the file was changed)"
            ),
        ])
    );

    // A swapped signature (another key signed the same tag manifest).
    let found = check("signature.zip", &mut |p, b| {
        if p == "tagmanifest-sha256.txt.minisig" {
            return Some(other.sign(b"whatever", "gstvault bundle").into_bytes());
        }
        Some(b)
    });
    assert_eq!(found.len(), 1, "{found:?}");
    let (subject, message) = found.iter().next().unwrap();
    assert_eq!(subject, "file tagmanifest-sha256.txt.minisig");
    assert!(message.starts_with("does not verify"), "{message}");

    // A forged checkpoint: another root, signed by another key.
    let found = check("checkpoint.zip", &mut |p, b| match p {
        "checkpoint.txt" | "checkpoint.txt.minisig" => {
            let head = gstvault::evidence::checkpoint::TreeHead {
                origin: "gstvault.archive/golden0000000000".into(),
                size: 99,
                root: gstvault::domain::digest::Digest::of(b"forged"),
            };
            let signed = head.sign(&other).as_note(&other).unwrap();
            Some(
                if p == "checkpoint.txt" {
                    signed.note
                } else {
                    signed.signature
                }
                .into_bytes(),
            )
        }
        _ => Some(b),
    });
    assert!(
        found.contains(&(
            "file checkpoint.txt".into(),
            "SHA-256 differs from tagmanifest-sha256.txt (the file was changed)".into()
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(s, m)| s == "file checkpoint.txt" && m.starts_with("signature does not verify")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, m)| m == "inclusion proof does not lead to the checkpoint root"),
        "{found:?}"
    );
}

#[tokio::test]
async fn tampered_archives_give_their_findings() {
    let world = captured_world().await;
    let (_, public) = fixture_key("test");
    let path = world.config.archive_path.clone();
    let intact = gstvault::evidence::verify::verify_archive(&world.store.lock().unwrap(), Some(&public)).unwrap();
    assert!(intact.intact(), "{:?}", intact.findings);
    // An attacker with SQLite access drops the append-only triggers first.
    let attacker = rusqlite::Connection::open(&path).unwrap();
    attacker
        .execute_batch("DROP TRIGGER snapshots_append_only_update; DROP TRIGGER snapshots_append_only_delete;")
        .unwrap();

    // A stored byte flipped in one snapshot's envelope.
    // (The envelope's timestamp when the envelope is stored as a template, else its raw bytes.)
    attacker
        .execute(
            "UPDATE snapshots SET envelope_ts_delta = envelope_ts_delta + 1,
                 envelope = CAST(replace(CAST(envelope AS TEXT), '\"code\":200', '\"code\":201') AS BLOB)
             WHERE seq = 5",
            [],
        )
        .unwrap();
    let report = gstvault::evidence::verify::verify_archive(&world.store.lock().unwrap(), Some(&public)).unwrap();
    assert_eq!(
        findings(&report),
        [(
            "snapshot 5".to_string(),
            "stored bytes do not hash to the recorded body SHA-256".to_string()
        )]
        .into_iter()
        .collect()
    );

    // A snapshot row deleted (one whose payload other rows share, so only the log breaks).
    let victim: i64 = attacker
        .query_row(
            "SELECT s.seq FROM snapshots s WHERE s.seq > 10 AND s.seq NOT IN (SELECT seq FROM changes) AND s.seq NOT IN (SELECT previous_seq FROM changes)
               AND (SELECT COUNT(*) FROM snapshots t WHERE t.payload_id = s.payload_id) > 1 ORDER BY s.seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    attacker
        .execute("DELETE FROM snapshots WHERE seq = ?1", [victim])
        .unwrap();
    let report = gstvault::evidence::verify::verify_archive(&world.store.lock().unwrap(), Some(&public)).unwrap();
    let found = findings(&report);
    assert!(
        found.contains(&(
            format!("snapshot {}", victim + 1),
            format!(
                "log sequence jumps from {victim} to {}: snapshot rows are missing",
                victim + 1
            )
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(s, m)| s.starts_with("checkpoint ") && m.starts_with("covers")),
        "{found:?}"
    );
    assert!(found.contains(&(
        "snapshot 5".to_string(),
        "stored bytes do not hash to the recorded body SHA-256".to_string()
    )));
    // Every leaf after the gap moved, so the stored tree no longer matches: one finding.
    assert!(
        found
            .iter()
            .any(|(s, m)| s == "merkle tiles" && m.contains("stored tiles differ from the tree of the rows")),
        "{found:?}"
    );
    assert_eq!(found.len(), 4, "{found:?}");
}

#[tokio::test]
async fn a_changed_field_no_longer_gives_the_signed_root() {
    let world = captured_world().await;
    let (_, public) = fixture_key("test");
    let attacker = rusqlite::Connection::open(&world.config.archive_path).unwrap();
    attacker
        .execute_batch("DROP TRIGGER snapshots_append_only_update;")
        .unwrap();
    // The portal's status code of one answer rewritten; its bytes are untouched.
    attacker
        .execute("UPDATE snapshots SET status_cd = '0' WHERE seq = 7", [])
        .unwrap();
    let report = gstvault::evidence::verify::verify_archive(&world.store.lock().unwrap(), Some(&public)).unwrap();
    let found = findings(&report);
    assert!(
        found.contains(&(
            "checkpoint 1".to_string(),
            format!(
                "root differs from the root recomputed over snapshots 0..{}",
                report.snapshots
            )
        )),
        "{found:?}"
    );
    assert!(found.iter().any(|(s, _)| s == "merkle tiles"), "{found:?}");
    assert_eq!(found.len(), 2, "{found:?}");
}

#[tokio::test]
async fn a_tampered_merkle_tile_is_found_and_stops_export() {
    let world = captured_world().await;
    let (key, public) = fixture_key("test");
    let path = world.config.archive_path.clone();
    let attacker = rusqlite::Connection::open(&path).unwrap();
    // The lowest stored hashes replaced (the tiles are derived data, not append-only).
    let tampered = attacker
        .execute(
            "UPDATE merkle_tiles SET hashes = zeroblob(length(hashes)) WHERE level = 1",
            [],
        )
        .unwrap();
    let report = gstvault::evidence::verify::verify_archive(&world.store.lock().unwrap(), Some(&public)).unwrap();
    assert_eq!(
        findings(&report),
        [(
            "merkle tiles".to_string(),
            format!(
                "{tampered} of {} stored tiles differ from the tree of the rows, first 1/0 (proofs read from them would not verify)",
                rusqlite::Connection::open(&world.config.archive_path)
                    .unwrap()
                    .query_row("SELECT COUNT(*) FROM merkle_tiles", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            )
        )]
        .into_iter()
        .collect()
    );
    // Export reads its proofs from the stored tree: the signed root no longer follows, so no bundle.
    let out = tempfile::tempdir().unwrap();
    let err = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .expect_err("refused");
    assert!(err.to_string().contains("verify --archive"), "{err}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "nothing written");
}

#[tokio::test]
async fn consistency_with_the_previous_bundle_is_checked() {
    let world = captured_world().await;
    let (key, public) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let first = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    // Time passes, the portal changes, a new capture and checkpoint.
    world.sim.sim.advance(chrono::Duration::days(20));
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    world.capture(&world.plan(&[gstin], None, "2026-04", "2026-06")).await;
    gstvault::evidence::checkpoint::record(&mut world.store.lock().unwrap(), &key, world.clock.now(), Some(2)).unwrap();
    let second = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(
        second.previous.as_deref(),
        Some("gstvault_27AAPFU0939F1ZV_2026-05_2026-06-25_ee2e48a759c25346.zip")
    );
    let report = check_bundle(&second.path, Some(&public), Some(&first.path)).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
    // A bundle of another archive (a rewritten history) does not extend the first.
    let other_world = World::build(|c| c.seed = 99, 1).await;
    other_world.login_all().await;
    let gstin = other_world.gstins()[0].clone();
    other_world
        .capture(&other_world.plan(std::slice::from_ref(&gstin), None, "2026-04", "2026-05"))
        .await;
    other_world.sim.sim.advance(chrono::Duration::days(20));
    other_world.login_all().await;
    other_world
        .capture(&other_world.plan(&[gstin], None, "2026-04", "2026-06"))
        .await;
    gstvault::evidence::checkpoint::record(
        &mut other_world.store.lock().unwrap(),
        &key,
        other_world.clock.now(),
        None,
    )
    .unwrap();
    let rewritten = export(
        &mut other_world.store.lock().unwrap(),
        &key,
        &request(&other_world, &out.path().join("other"), "2026-05"),
        other_world.clock.now(),
    )
    .unwrap();
    let report = check_bundle(&rewritten.path, Some(&public), Some(&first.path)).unwrap();
    assert!(!report.intact());
    assert!(
        report.findings.iter().any(|f| f.subject == "previous bundle"),
        "{:?}",
        report.findings
    );
}

/// Twenty days on: the portal moves, a capture of the first GSTIN and a checkpoint.
async fn a_later_capture(world: &World, key: &SigningKey) {
    world.sim.sim.advance(chrono::Duration::days(20));
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    world.capture(&world.plan(&[gstin], None, "2026-04", "2026-06")).await;
    gstvault::evidence::checkpoint::record(&mut world.store.lock().unwrap(), key, world.clock.now(), None).unwrap();
}

/// Regression (issue 15): `--previous` accepted another GSTIN's bundle and a
/// newer bundle, and a bundle whose proof starts from a later checkpoint
/// than the one given was called rewritten. Each now has its own finding.
#[tokio::test]
async fn the_previous_bundle_must_be_an_older_one_of_the_same_gstin() {
    let world = captured_world().await;
    let (key, public) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let export_of = |gstin: usize| {
        let request = ExportRequest {
            gstin: world.gstins()[gstin].clone(),
            ..request(&world, out.path(), "2026-05")
        };
        export(&mut world.store.lock().unwrap(), &key, &request, world.clock.now()).unwrap()
    };
    let first = export_of(0);
    // Another GSTIN of the same archive, captured and signed.
    let other = world.gstins()[1].clone();
    world
        .capture(&world.plan(std::slice::from_ref(&other), None, "2026-04", "2026-05"))
        .await;
    gstvault::evidence::checkpoint::record(&mut world.store.lock().unwrap(), &key, world.clock.now(), None).unwrap();
    let another = export_of(1);
    a_later_capture(&world, &key).await;
    let second = export_of(0);
    a_later_capture(&world, &key).await;
    let third = export_of(0);
    let label = |bundle: &Path, name: &str| bag_info(bundle, name).unwrap();
    let short = |bundle: &Path| label(bundle, "Checkpoint-Root")[..12].to_string();
    let previous = |text: String| -> BTreeSet<(String, String)> { [("previous bundle".to_string(), text)].into() };

    let report = check_bundle(&second.path, Some(&public), Some(&first.path)).unwrap();
    assert!(report.intact(), "{:?}", report.findings);

    let report = check_bundle(&second.path, Some(&public), Some(&another.path)).unwrap();
    assert_eq!(
        findings(&report),
        previous(format!(
            "is a bundle of GSTIN {other}, this one of {}: not its predecessor",
            world.gstins()[0]
        ))
    );

    let report = check_bundle(&first.path, Some(&public), Some(&second.path)).unwrap();
    assert_eq!(
        findings(&report),
        [
            format!(
                "is newer: its checkpoint covers {} snapshots, this bundle's {}",
                label(&second.path, "Checkpoint-Size"),
                label(&first.path, "Checkpoint-Size")
            ),
            format!(
                "is not older: its as-of {} is not before this bundle's {}",
                label(&second.path, "As-Of"),
                label(&first.path, "As-Of")
            ),
        ]
        .into_iter()
        .map(|m| ("previous bundle".to_string(), m))
        .collect()
    );

    // The third bundle's proof starts from the second's checkpoint, not the first's.
    let report = check_bundle(&third.path, Some(&public), Some(&first.path)).unwrap();
    assert_eq!(
        findings(&report),
        previous(format!(
            "this bundle's consistency proof starts from another checkpoint (size {}, root {}) than the previous bundle's (size {}, root {})",
            label(&second.path, "Checkpoint-Size"),
            short(&second.path),
            label(&first.path, "Checkpoint-Size"),
            short(&first.path)
        ))
    );
    let report = check_bundle(&third.path, Some(&public), Some(&second.path)).unwrap();
    assert!(report.intact(), "{:?}", report.findings);

    // The previous bundle's checkpoint must be signed by the key this one is checked with.
    let (_, other_public) = fixture_key("other");
    let report = check_bundle(&second.path, Some(&other_public), Some(&first.path)).unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.subject == "previous bundle file checkpoint.txt"
                && f.message.starts_with("signature does not verify")),
        "{:?}",
        report.findings
    );
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])], symlink: Option<(&str, &str)>, deflate: bool) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    if let Some((name, target)) = symlink {
        writer.add_symlink(name, target, options).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn hostile_zips_give_findings_or_one_error_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| -> PathBuf { dir.path().join(n) };
    let before: BTreeSet<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();

    write_zip(
        &p("dotdot.zip"),
        &[("bag/bagit.txt", b"x"), ("bag/../../evil", b"x"), ("/abs/evil", b"x")],
        None,
        false,
    );
    let found = findings(&check_bundle(&p("dotdot.zip"), None, None).unwrap());
    assert!(
        found.contains(&(
            "entry \"bag/../../evil\"".into(),
            "unsafe name (absolute, `..`, backslash or NUL): ignored".into()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "entry \"/abs/evil\"".into(),
            "unsafe name (absolute, `..`, backslash or NUL): ignored".into()
        )),
        "{found:?}"
    );

    write_zip(
        &p("link.zip"),
        &[("bag/bagit.txt", b"x")],
        Some(("bag/data/link", "/etc/passwd")),
        false,
    );
    let found = findings(&check_bundle(&p("link.zip"), None, None).unwrap());
    assert!(
        found.contains(&("entry \"bag/data/link\"".into(), "is a symbolic link: ignored".into())),
        "{found:?}"
    );

    // Duplicate names: write two same-length names, then make them equal in the raw bytes.
    write_zip(
        &p("dup.zip"),
        &[("bag/data/a1", b"one"), ("bag/data/a2", b"two")],
        None,
        false,
    );
    let raw = std::fs::read(p("dup.zip")).unwrap();
    let mut bytes = raw.clone();
    let needle = b"bag/data/a2";
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + needle.len() - 1] = b'1';
        }
        i += 1;
    }
    std::fs::write(p("dup.zip"), bytes).unwrap();
    let found = findings(&check_bundle(&p("dup.zip"), None, None).unwrap());
    assert!(
        found.contains(&(
            "ZIP directory".into(),
            "2 entries under 1 distinct names: duplicate names".into()
        )),
        "{found:?}"
    );

    // A zip bomb: 64 MiB of zeros deflated to a few KiB.
    write_zip(&p("bomb.zip"), &[("bag/data/zeros", &vec![0u8; 64 << 20])], None, true);
    let found = findings(&check_bundle(&p("bomb.zip"), None, None).unwrap());
    assert!(
        found
            .iter()
            .any(|(s, m)| s == "entry \"bag/data/zeros\"" && m.ends_with("refused as a zip bomb")),
        "{found:?}"
    );

    // Not a ZIP, truncated ZIP, empty file, missing file: one clear error.
    std::fs::write(p("text.zip"), b"this is not a zip").unwrap();
    let good = std::fs::read(p("dotdot.zip")).unwrap();
    std::fs::write(p("truncated.zip"), &good[..good.len() / 2]).unwrap();
    std::fs::write(p("empty.zip"), b"").unwrap();
    for name in ["text.zip", "truncated.zip", "empty.zip", "absent.zip"] {
        let error = check_bundle(&p(name), None, None).unwrap_err().to_string();
        assert!(error.starts_with(&p(name).display().to_string()), "{error}");
        assert!(!error.contains('\n'));
    }
    let after: BTreeSet<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(
        after
            .difference(&before)
            .all(|n| !n.to_string_lossy().contains("gstvault")),
        "nothing extracted"
    );
}

#[tokio::test]
async fn planted_mismatches_show_in_the_pdf() {
    if !tool("pdftotext") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install pdftotext (poppler-utils, see .ci/run)"
        );
        eprintln!("skipped: pdftotext not installed here");
        return;
    }
    let world = World::build(|_| {}, 8).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let fy = gstvault::domain::period::FinancialYear { start_year: 2025 };
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), None, "2025-04", "2026-05"))
        .await;
    let (key, _) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let request = ExportRequest {
        scope: Scope::Year(fy),
        ..request(&world, out.path(), "2026-05")
    };
    let exported = export(&mut world.store.lock().unwrap(), &key, &request, world.clock.now()).unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&exported.path).unwrap()).unwrap();
    let name = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .find(|n| n.ends_with("data/summary.pdf"))
        .unwrap();
    let mut pdf = Vec::new();
    archive.by_name(&name).unwrap().read_to_end(&mut pdf).unwrap();
    let pdf_path = out.path().join("summary.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let text = Command::new("pdftotext").arg(&pdf_path).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout).replace('\n', " ");
    let plants = world.sim.sim.model(&gstin).plants(fy);
    assert!(text.contains(gstin.as_str()));
    let rupees = gstvault::domain::money::rupees;
    let excess = format!("excess ITC: 3B claims ₹{}", rupees(plants.itc_excess.total()));
    let short = format!(
        "short payment: GSTR-1 exceeds 3B by ₹{}",
        rupees(plants.short_payment.total())
    );
    assert!(
        text.contains(&excess),
        "the planted excess ITC of {} shows: {excess}",
        plants.itc_excess_month
    );
    assert!(
        text.contains(&short),
        "the planted short payment of {} shows: {short}",
        plants.short_payment_month
    );
}

#[tokio::test]
async fn a_flipped_payload_byte_fails_every_body_that_holds_it() {
    let world = captured_world().await;
    let path = world.config.archive_path.clone();
    let attacker = rusqlite::Connection::open(&path).unwrap();
    attacker
        .execute_batch("DROP TRIGGER payloads_append_only_update;")
        .unwrap();
    let sha: String = attacker
        .query_row(
            "SELECT lower(hex(p.sha256)) FROM snapshots s JOIN payloads p ON p.id = s.payload_id
             WHERE s.outcome = 'ok' ORDER BY s.seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let holders: i64 = attacker
        .query_row(
            "SELECT COUNT(*) FROM snapshots s JOIN payloads p ON p.id = s.payload_id WHERE lower(hex(p.sha256)) = ?1",
            [&sha],
            |r| r.get(0),
        )
        .unwrap();
    // Re-store the payload with one byte changed (valid zstd, same size).
    let digest = gstvault::domain::digest::Digest::from_hex(&sha).unwrap();
    let bytes = world.store.lock().unwrap().payload(&digest).unwrap().unwrap();
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] = if changed[middle] == b'1' { b'2' } else { b'1' };
    let compressed = zstd::bulk::compress(&changed, 3).unwrap();
    attacker
        .execute(
            "UPDATE payloads SET bytes = ?1 WHERE lower(hex(sha256)) = ?2",
            rusqlite::params![compressed, sha],
        )
        .unwrap();
    let report = gstvault::evidence::verify::verify_archive(&world.store.lock().unwrap(), None).unwrap();
    let failing = report
        .findings
        .iter()
        .filter(|f| f.message == "stored bytes do not hash to the recorded body SHA-256")
        .count();
    assert_eq!(failing as i64, holders, "{:?}", report.findings);
    assert_eq!(report.findings.len() as i64, holders);
}

/// Reads a bag-info label of a bundle ZIP.
fn bag_info(zip_path: &Path, label: &str) -> Option<String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut text = String::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        if entry.name().is_ok_and(|n| n.ends_with("/bag-info.txt")) {
            entry.read_to_string(&mut text).unwrap();
        }
    }
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")).map(str::to_string))
}

/// Regression: a second export the same day replaced the first bundle (the
/// file name carried only GSTIN, period and date). Now each bundle has its
/// own file, the first is untouched, and the second names it as predecessor.
#[tokio::test]
async fn a_second_export_the_same_day_keeps_both_bundles_and_the_chain_resolves() {
    let world = captured_world().await;
    let (key, _) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let first = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    let first_bytes = std::fs::read(&first.path).unwrap();
    // An hour later, the same IST day: the portal moved on, a capture and checkpoint.
    world.sim.sim.advance(chrono::Duration::hours(1));
    let gstin = world.gstins()[0].clone();
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), None, "2026-05", "2026-05"))
        .await;
    gstvault::evidence::checkpoint::record(&mut world.store.lock().unwrap(), &key, world.clock.now(), Some(2)).unwrap();
    let second = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    assert_ne!(first.path, second.path, "each bundle has its own file");
    assert_eq!(
        std::fs::read(&first.path).unwrap(),
        first_bytes,
        "the first bundle is untouched"
    );
    assert_eq!(
        bag_info(&second.path, "Previous-Bundle-ID"),
        Some(first.bundle_id.clone())
    );
    let rows = world.store.lock().unwrap().bundles_of(&gstin).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1].previous_bundle_id.as_deref(), Some(first.bundle_id.as_str()));
    let chain = gstvault::app::bundles::chain(&world.config, None, Some(out.path())).unwrap();
    assert!(chain.intact(), "{chain:?}");
    assert_eq!(chain.links.len(), 2);
}

/// Exporting the same GSTIN, period and as-of again is a no-op that reports
/// the existing file; a file that no longer holds the bundle's bytes is
/// never replaced.
#[tokio::test]
async fn the_same_bundle_again_writes_nothing_and_a_changed_file_is_never_replaced() {
    let world = captured_world().await;
    let (key, _) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let req = request(&world, out.path(), "2026-05");
    let first = export(&mut world.store.lock().unwrap(), &key, &req, world.clock.now()).unwrap();
    assert!(!first.existed);
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(&first.path).unwrap().ino();
    let again = export(&mut world.store.lock().unwrap(), &key, &req, world.clock.now()).unwrap();
    assert!(again.existed, "reported as exported before");
    assert_eq!((again.path.clone(), again.sha256), (first.path.clone(), first.sha256));
    assert_eq!(
        std::fs::metadata(&first.path).unwrap().ino(),
        inode,
        "the file was not rewritten"
    );
    let gstin = world.gstins()[0].clone();
    assert_eq!(
        world.store.lock().unwrap().bundles_of(&gstin).unwrap().len(),
        1,
        "one row per bundle"
    );
    // Someone edits the file: the next export refuses to replace it.
    let mut bytes = std::fs::read(&first.path).unwrap();
    let last = bytes.len() - 30;
    bytes[last] ^= 1;
    std::fs::write(&first.path, &bytes).unwrap();
    let error = export(&mut world.store.lock().unwrap(), &key, &req, world.clock.now())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("does not hold the bytes of bundle") && error.contains("left as it is"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&first.path).unwrap(),
        bytes,
        "the changed file is left as it is"
    );
    let chain = gstvault::app::bundles::chain(&world.config, None, Some(out.path())).unwrap();
    assert!(!chain.intact());
    assert!(matches!(
        chain.links[0].file,
        gstvault::app::bundles::FileState::Changed(_)
    ));
    // Gone: exported again, byte for byte, without a second row.
    std::fs::remove_file(&first.path).unwrap();
    let restored = export(&mut world.store.lock().unwrap(), &key, &req, world.clock.now()).unwrap();
    assert_eq!(restored.sha256, first.sha256);
    assert_eq!(world.store.lock().unwrap().bundles_of(&gstin).unwrap().len(), 1);
}

/// An export killed mid-way leaves only its temporary file; the next export
/// removes it, and leaves alone one that a live export holds.
#[tokio::test]
async fn the_next_export_removes_the_temporary_file_of_an_interrupted_one() {
    let world = captured_world().await;
    let (key, _) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let stale = out
        .path()
        .join(".gstvault_27AAPFU0939F1ZV_2026-04_2026-06-25_0000000000000000.zip.partial-4242");
    std::fs::write(&stale, b"half a bundle").unwrap();
    let live = out
        .path()
        .join(".gstvault_27AAPFU0939F1ZV_2026-04_2026-06-25_1111111111111111.zip.partial-4343");
    std::fs::write(&live, b"being written").unwrap();
    let held = std::fs::OpenOptions::new().write(true).open(&live).unwrap();
    held.lock().unwrap();
    export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    assert!(!stale.exists(), "the interrupted export's file is removed");
    assert!(live.exists(), "a live export's file is left alone");
    drop(held);
}
