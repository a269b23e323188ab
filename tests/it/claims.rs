//! Every claim in a bundle is provable from the log (issue 15, points 7 and
//! 8): each timeline entry's first and last sighting is a log record with
//! its inclusion proof, a key holder who edits the index and signs again is
//! caught, and the source of the answers is recorded and shown, simulated
//! data marked as such.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use gstvault::app::export::export;
use gstvault::domain::digest::Digest;
use gstvault::domain::period::Month;
use gstvault::evidence::bundle::check::check_bundle;
use gstvault::evidence::bundle::export::ExportRequest;
use gstvault::evidence::scope::Scope;
use gstvault::evidence::signing::{PublicKey, SigningKey};

use crate::support::World;

fn key() -> (SigningKey, PublicKey) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let key = SigningKey::load(&dir.join("test.key"), None).unwrap();
    let public = PublicKey::parse(&std::fs::read_to_string(dir.join("test.pub")).unwrap()).unwrap();
    (key, public)
}

/// One GSTIN captured twice for 2026-05 (most answers the same both times),
/// then exported: a bundle whose timeline entries were seen twice.
async fn twice_captured_bundle(out: &Path) -> (World, std::path::PathBuf) {
    let world = World::build(|_| {}, 1).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let plan = world.plan(std::slice::from_ref(&gstin), None, "2026-05", "2026-05");
    world.capture(&plan).await;
    world.sim.sim.advance(chrono::Duration::hours(2));
    world.capture(&plan).await;
    let (key, _) = key();
    let request = ExportRequest {
        gstin,
        legal_name: None,
        organization: "gstvault tests".into(),
        scope: Scope::Month(Month::parse("2026-05").unwrap()),
        as_of: world.clock.now(),
        out_dir: out.to_path_buf(),
        template: None,
    };
    let exported = export(&mut world.store.lock().unwrap(), &key, &request, world.clock.now()).unwrap();
    (world, exported.path)
}

/// Every entry of a bundle ZIP, by its path below the bag folder.
fn entries(path: &Path) -> (String, BTreeMap<String, Vec<u8>>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    let mut root = String::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let (top, relative) = name.split_once('/').unwrap();
        root = top.to_string();
        let relative = relative.to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.insert(relative, bytes);
    }
    (root, out)
}

/// What a key holder could do: edit the bundle's files, then write every
/// manifest again and sign the tag manifest with the archive's own key.
fn forge(source: &Path, target: &Path, edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) {
    let (root, mut files) = entries(source);
    edit(&mut files);
    let manifest: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("data/"))
        .map(|(p, b)| format!("{}  {p}\n", Digest::of(b).hex()))
        .collect();
    files.insert("manifest-sha256.txt".into(), manifest.into_bytes());
    let tagmanifest: String = files
        .iter()
        .filter(|(p, _)| !p.starts_with("data/") && !p.starts_with("tagmanifest"))
        .map(|(p, b)| format!("{}  {p}\n", Digest::of(b).hex()))
        .collect();
    let old_signature = String::from_utf8(files["tagmanifest-sha256.txt.minisig"].clone()).unwrap();
    let comment = old_signature
        .lines()
        .find_map(|l| l.strip_prefix("trusted comment: "))
        .unwrap()
        .to_string();
    let (key, _) = key();
    files.insert(
        "tagmanifest-sha256.txt.minisig".into(),
        key.sign(tagmanifest.as_bytes(), &comment).into_bytes(),
    );
    files.insert("tagmanifest-sha256.txt".into(), tagmanifest.into_bytes());
    let mut writer = zip::ZipWriter::new(std::fs::File::create(target).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, bytes) in files {
        writer.start_file(format!("{root}/{path}"), options).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap();
}

/// index.csv as rows of named fields, and its header line.
fn index_rows(files: &BTreeMap<String, Vec<u8>>) -> Vec<BTreeMap<String, String>> {
    let text = String::from_utf8(files["data/index.csv"].clone()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn every_first_and_last_sighting_is_a_log_record_and_an_edited_index_is_caught() {
    let out = tempfile::tempdir().unwrap();
    let (_world, bundle) = twice_captured_bundle(out.path()).await;
    let (_, public) = key();
    let report = check_bundle(&bundle, Some(&public), None).unwrap();
    assert!(report.intact(), "{:?}", report.findings);

    let (_, files) = entries(&bundle);
    let rows = index_rows(&files);
    assert!(!rows[0].contains_key("seen"), "the unprovable count is gone");
    let records: BTreeMap<u64, serde_json::Value> = String::from_utf8(files["data/proofs/records.jsonl"].clone())
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["seq"].as_u64().unwrap(), v)
        })
        .collect();
    let twice: Vec<&BTreeMap<String, String>> = rows.iter().filter(|r| r["seq"] != r["last_seen_seq"]).collect();
    assert!(!twice.is_empty(), "the second capture saw most versions again");
    for row in &rows {
        let last: u64 = row["last_seen_seq"].parse().unwrap();
        let record = &records[&last];
        assert_eq!(record["received_at"].as_str().unwrap(), row["last_seen"]);
        assert_eq!(record["payload_sha256"].as_str().unwrap(), row["payload_sha256"]);
        assert_eq!(
            records[&row["seq"].parse::<u64>().unwrap()]["received_at"]
                .as_str()
                .unwrap(),
            row["first_seen"]
        );
    }
    let inclusion = String::from_utf8(files["data/proofs/inclusion.txt"].clone()).unwrap();
    assert_eq!(
        inclusion.lines().filter(|l| !l.starts_with('#')).count(),
        records.len(),
        "every record has its inclusion proof"
    );

    // A later last_seen than the log says, signed again by the key holder.
    let target = twice[0].clone();
    let forged = out.path().join("later.zip");
    forge(&bundle, &forged, |files| {
        let text = String::from_utf8(files["data/index.csv"].clone()).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{},", target["seq"])))
            .unwrap()
            .to_string();
        let edited = line.replace(&target["last_seen"], "2027-01-01T00:00:00.000Z");
        files.insert("data/index.csv".into(), text.replace(&line, &edited).into_bytes());
    });
    let report = check_bundle(&forged, Some(&public), None).unwrap();
    assert!(!report.intact());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.subject.starts_with("data/index.csv row")
                && f.message
                    == format!(
                        "log record {} is not a sighting of this version at its last_seen",
                        target["last_seen_seq"]
                    )),
        "{:?}",
        report.findings
    );

    // A sighting whose record was dropped.
    let forged = out.path().join("dropped.zip");
    let dropped = target["last_seen_seq"].clone();
    forge(&bundle, &forged, |files| {
        let text = String::from_utf8(files["data/proofs/records.jsonl"].clone()).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.starts_with(&format!("{{\"v\":2,\"seq\":{dropped},")))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(kept.len(), text.len());
        files.insert("data/proofs/records.jsonl".into(), kept.into_bytes());
    });
    let report = check_bundle(&forged, Some(&public), None).unwrap();
    assert!(
        report.findings.iter().any(|f| f.message
            == format!("claims it was last seen in log entry {dropped} but no log record in the bundle is it")),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn the_source_is_recorded_and_simulated_data_is_marked() {
    let out = tempfile::tempdir().unwrap();
    let (world, bundle) = twice_captured_bundle(out.path()).await;
    // In the archive: every snapshot row and record names its origin.
    let store = world.store.lock().unwrap();
    let row = store.snapshot(gstvault::domain::log::Seq(0)).unwrap().unwrap();
    assert_eq!(
        row.origin.as_deref(),
        Some("http://127.0.0.1"),
        "a loopback origin has no port"
    );
    drop(store);

    let (_, files) = entries(&bundle);
    let info = String::from_utf8(files["bag-info.txt"].clone()).unwrap();
    assert!(info.contains("Source-Origin: http://127.0.0.1\n"), "{info}");
    assert!(
        info.contains("Simulated-Data: yes: captured from a simulator at http://127.0.0.1, not from the GST portal"),
        "{info}"
    );
    let records = String::from_utf8(files["data/proofs/records.jsonl"].clone()).unwrap();
    assert!(records
        .lines()
        .all(|l| l.starts_with("{\"v\":2,") && l.ends_with(",\"origin\":\"http://127.0.0.1\"}")));
    let index = index_rows(&files);
    assert!(index.iter().all(|r| r["origin"] == "http://127.0.0.1"));

    // Every page of the summary says so (pdftotext is installed by .ci/run).
    let pdftotext = Path::new("/usr/bin/pdftotext");
    if !pdftotext.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install poppler-utils (see .ci/run)"
        );
        return;
    }
    let pdf = out.path().join("summary.pdf");
    std::fs::write(&pdf, &files["data/summary.pdf"]).unwrap();
    let text = std::process::Command::new(pdftotext)
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert!(pages.len() > 1);
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains("SIMULATED DATA"), "page {} is not marked: {page}", i + 1);
    }
}
