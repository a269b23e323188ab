//! Row 4, verify: `verify --archive` (every payload and body re-hashed, every
//! leaf and checkpoint re-derived) and bundle verification on the export
//! row's synthetic archive and its bundle, as MiB/s of bytes hashed, next to
//! `sha256sum` over the bundle file: this machine's hashing limit. Then the
//! hostile corpus (`tests/fixtures/hostile/make.py`, written from that
//! bundle), each case verified by the `gstvault` binary: the slowest case's
//! MiB/s of file and the highest peak RSS.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gstvault::evidence::signing::PublicKey;

use crate::export::Synthetic;
use crate::peers;
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
    hostile(synthetic, sha, table);
}

/// `gstvault verify CASE --pubkey KEY` as a child: seconds, and its peak RSS
/// (VmHWM) sampled every 2 ms. Findings exit 1 and a non-ZIP 2; a crash
/// (no exit code) fails the row.
fn verify_child(case: &Path, public: &Path) -> (f64, u64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .arg("verify")
        .arg(case)
        .arg("--pubkey")
        .arg(public)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gstvault verify starts");
    let pid = child.id().to_string();
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for gstvault") {
            break status;
        }
        peak = peak.max(peers::vm_hwm(&pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(
        status.code().is_some(),
        "gstvault verify {} crashed: {status}",
        case.display()
    );
    (started.elapsed().as_secs_f64(), peak)
}

/// The hostile corpus from the synthetic bundle: the slowest case as MiB/s of
/// its file (time in proportion to the real size), the highest peak RSS.
fn hostile(synthetic: &Synthetic, sha: f64, table: &mut Table) {
    let dir = synthetic.bundle.with_extension("hostile");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/make.py");
    let made = Command::new("python3")
        .arg(&script)
        .arg(&synthetic.bundle)
        .arg(&dir)
        .status()
        .expect("python3 runs");
    assert!(made.success(), "{} failed", script.display());
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    cases.sort();
    let (mut slowest, mut slowest_case, mut peak, mut total) = (f64::MAX, String::new(), 0, 0);
    for case in &cases {
        let size = std::fs::metadata(case).expect("case").len();
        let (seconds, rss) = verify_child(case, &synthetic.public);
        let r = rate(size, seconds);
        let name = case.file_name().unwrap_or_default().to_string_lossy().to_string();
        eprintln!(
            "    hostile {name}: {} in {seconds:.3} s, peak RSS {}",
            bytes(size),
            bytes(rss)
        );
        if r < slowest {
            (slowest, slowest_case) = (r, name);
        }
        (peak, total) = (peak.max(rss), total + size);
    }
    std::fs::remove_dir_all(&dir).ok();
    table.add(Line {
        row: 4,
        what: format!(
            "verify hostile corpus ({} ZIPs, {} of files)",
            cases.len(),
            bytes(total)
        ),
        ours: format!("slowest {slowest:.0} MiB/s ({slowest_case}), peak RSS {}", bytes(peak)),
        theirs: format!("sha256sum {sha:.0} MiB/s"),
        ratio: format!("{:.2}×", slowest / sha),
        target: "≥ 0.7×, RSS < 150 MB".into(),
        met: Some(slowest / sha >= 0.7 && peak < 150 * 1000 * 1000),
    });
}
