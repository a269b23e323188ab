//! Hostile bundle ZIPs: the corpus `tests/fixtures/hostile/make.py` writes
//! from a real bundle, each case with the exact findings (or error) listed
//! beside it in its `expected.txt`; none verifies INTACT, and the largest are
//! verified by the `gstvault` binary in bounded memory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use gstvault::app::export::export;
use gstvault::evidence::bundle::check::check_bundle;

use crate::bundle::{captured_world, findings, fixture_key, request};

/// What a case must give, as `expected.txt` lists it.
#[derive(Default)]
struct Expected {
    findings: BTreeSet<(String, String)>,
    /// Every finding, kept and omitted (default: the listed ones).
    total: Option<u64>,
    error: Option<String>,
}

/// Exports the golden scenario's May bundle and runs the generator on it.
async fn corpus(dir: &Path) -> (BTreeMap<String, Expected>, PathBuf) {
    let world = captured_world().await;
    let (key, _) = fixture_key("test");
    let bundle = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, dir, "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    let out = dir.join("hostile");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/make.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&bundle.path)
        .arg(&out)
        .status()
        .expect("python3 runs (the CI machine has it)");
    assert!(status.success(), "{} failed", script.display());
    let mut cases: BTreeMap<String, Expected> = BTreeMap::new();
    for line in std::fs::read_to_string(out.join("expected.txt")).unwrap().lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let (case, subject, message) = (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap());
        let expected = cases.entry(case.to_string()).or_default();
        match subject {
            "!total" => expected.total = Some(message.parse().unwrap()),
            "!error" => expected.error = Some(message.to_string()),
            _ => {
                expected.findings.insert((subject.to_string(), message.to_string()));
            }
        }
    }
    (cases, out)
}

/// Runs contrib/verify-bundle.py (the stdlib reference verifier) on
/// `[bundle, public key, previous?]`: its exit code and what it printed; None
/// where minisign is not installed (CI installs it: then it must run).
pub(crate) fn reference_verifier(args: &[&Path]) -> Option<(Option<i32>, String)> {
    let have = Command::new("sh")
        .args(["-c", "command -v minisign"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install minisign (see .ci/run)"
        );
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/verify-bundle.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(args[0]).arg("--pubkey").arg(args[1]);
    if let Some(previous) = args.get(2) {
        command.arg("--previous").arg(previous);
    }
    let out = command.output().expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.code(), text))
}

#[tokio::test]
async fn the_reference_verifier_accepts_the_bundle_and_refuses_every_hostile_case() {
    let dir = tempfile::tempdir().unwrap();
    let (cases, out) = corpus(dir.path()).await;
    let key = public_key_file();
    let good = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .unwrap();
    let Some((code, text)) = reference_verifier(&[&good, &key]) else {
        return;
    };
    assert_eq!(code, Some(0), "{text}");
    for case in cases.keys() {
        let (code, text) = reference_verifier(&[&out.join(case), &key]).unwrap();
        assert!(matches!(code, Some(1) | Some(2)), "{case}: exit {code:?}: {text}");
        assert!(
            !text.contains("\nINTACT") && !text.starts_with("INTACT"),
            "{case}: {text}"
        );
        assert!(text.len() < 100 * 1024, "{case}: {} bytes printed", text.len());
    }
}

fn public_key_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys/test.pub")
}

#[tokio::test]
async fn every_hostile_case_gives_its_exact_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (cases, out) = corpus(dir.path()).await;
    let (_, public) = fixture_key("test");
    for required in [
        "zip64-duplicate.zip",
        "classic-duplicate.zip",
        "name-mismatch.zip",
        "overlap.zip",
        "proofs-budget.zip",
        "huge-declared.zip",
        "huge-deflated.zip",
        "long-names.zip",
        "out-of-order.zip",
        "outside.zip",
        "size-mismatch.zip",
        "truncated.zip",
    ] {
        assert!(cases.contains_key(required), "the corpus has {required}");
    }
    for (case, expected) in &cases {
        let path = out.join(case);
        let result = check_bundle(&path, Some(&public), None);
        if let Some(error) = &expected.error {
            let got = result.map(|r| format!("{:?}", r.findings)).unwrap_err().to_string();
            assert_eq!(got, format!("{}: {error}", path.display()), "{case}");
            continue;
        }
        let report = result.unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(!report.intact(), "{case} must not verify INTACT");
        assert_eq!(findings(&report), expected.findings, "{case}");
        assert_eq!(
            report.finding_count(),
            expected.total.unwrap_or(expected.findings.len() as u64),
            "{case}"
        );
        // What is printed stays small, whatever the names.
        let printed = gstvault::render::verify_report(&report);
        assert!(printed.len() < 100 * 1024, "{case}: {} bytes printed", printed.len());
        if let Some(total) = expected.total.filter(|t| *t > 100) {
            assert!(
                printed.contains(&format!("… and {} more findings\n", total - 100)),
                "{case}: {printed}"
            );
        }
    }
}

/// Runs `gstvault verify CASE --pubkey KEY` as a child, sampling its peak
/// resident set (VmHWM in /proc) every 2 ms; returns it, the exit code and
/// the bytes it printed.
fn verify_in_child(case: &Path, printed: &Path) -> (u64, Option<i32>, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .arg("verify")
        .arg(case)
        .arg("--pubkey")
        .arg(public_key_file())
        .stdout(std::fs::File::create(printed).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        let kib = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        });
        peak = peak.max(kib.unwrap_or(0) * 1024);
        std::thread::sleep(Duration::from_millis(2));
    };
    (peak, code, std::fs::metadata(printed).unwrap().len())
}

#[tokio::test]
async fn the_largest_cases_verify_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = corpus(dir.path()).await;
    for case in [
        "overlap.zip",
        "proofs-budget.zip",
        "huge-declared.zip",
        "huge-deflated.zip",
        "long-names.zip",
    ] {
        let (peak, code, printed) = verify_in_child(&out.join(case), &dir.path().join("printed.txt"));
        eprintln!("{case}: peak RSS {:.1} MB, {printed} bytes printed", peak as f64 / 1e6);
        assert_eq!(code, Some(1), "{case}: findings exit 1");
        assert!(peak > 0, "{case}: the child's VmHWM was sampled");
        assert!(peak < 150 * 1000 * 1000, "{case}: peak RSS {peak} bytes");
        assert!(printed < 100 * 1024, "{case}: {printed} bytes printed");
    }
}
