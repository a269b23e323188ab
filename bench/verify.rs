//! Row 4, verify: `verify --archive` (every payload and body re-hashed, every
//! leaf and checkpoint re-derived) and bundle verification on the export
//! row's synthetic archive and its bundle, as MiB/s of bytes hashed, next to
//! `sha256sum` over the bundle file: this machine's hashing limit.

use std::process::{Command, Stdio};
use std::time::Instant;

use gstvault::evidence::signing::PublicKey;

use crate::export::Synthetic;
use crate::table::{bytes, Line, Table};

fn rate(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1048576.0 / seconds
}

pub fn row(synthetic: &Synthetic, table: &mut Table) {
    eprintln!("[4] verify");
    let public = PublicKey::parse(&std::fs::read_to_string(&synthetic.public).expect("public key")).expect("key");

    let size = std::fs::metadata(&synthetic.bundle).expect("bundle").len();
    // sha256sum first: it also brings the bundle into the page cache for both.
    let started = Instant::now();
    let status = Command::new("sha256sum")
        .arg(&synthetic.bundle)
        .stdout(Stdio::null())
        .status()
        .expect("sha256sum runs");
    let sha = rate(size, started.elapsed().as_secs_f64());
    assert!(status.success());

    let started = Instant::now();
    let store = gstvault::store::Reader::open(&synthetic.archive).expect("archive opens");
    let archive = gstvault::evidence::verify::verify_archive(&store, Some(&public)).expect("verify --archive");
    let archive_rate = rate(archive.bytes_hashed, started.elapsed().as_secs_f64());
    assert!(archive.intact(), "{:?}", archive.findings);

    let started = Instant::now();
    let checked =
        gstvault::evidence::bundle::check::check_bundle(&synthetic.bundle, Some(&public), None).expect("verify bundle");
    let bundle_rate = rate(checked.bytes_hashed, started.elapsed().as_secs_f64());
    assert!(checked.intact(), "{:?}", checked.findings);

    for (what, hashed, r) in [
        ("verify --archive", archive.bytes_hashed, archive_rate),
        ("verify BUNDLE.zip", checked.bytes_hashed, bundle_rate),
    ] {
        table.add(Line {
            row: 4,
            what: format!("{what} ({} hashed)", bytes(hashed)),
            ours: format!("{r:.0} MiB/s"),
            theirs: format!("sha256sum {sha:.0} MiB/s"),
            ratio: format!("{:.2}×", r / sha),
            target: "≥ 0.7×".into(),
            met: Some(r / sha >= 0.7),
        });
    }
}
