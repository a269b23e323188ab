//! The binary: bad input gets one clear line, exit code 2, and nothing written.

use std::process::Command;

use crate::process::against_simulator;
use crate::support::{config_text, simulator};

fn gstvault(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir)
        .env_remove("GSTVAULT_CONFIG")
        .env("GSTVAULT_TEST_KEY", "key_test_x")
        .env("GSTVAULT_TEST_SECRET", "secret_test_x")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let gstins = gstvault::sim::demo_gstins();
    // Port 9 (discard) on loopback: nothing in these tests may reach it.
    std::fs::write(
        dir.path().join("gstvault.toml"),
        config_text("http://127.0.0.1:9", &gstins, ""),
    )
    .unwrap();
    dir
}

#[test]
fn bad_snapshot_input_is_one_line_exit_2_nothing_written() {
    let dir = setup();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["snapshot", "--gstin", "27AAPFU0939F1ZW"],
            "error: GSTIN \"27AAPFU0939F1ZW\" fails its check character",
        ),
        (
            vec!["snapshot", "--gstin", "24ABKCS2033B1ZV"],
            "error: GSTIN 24ABKCS2033B1ZV is not in config",
        ),
        (
            vec!["snapshot", "--endpoint", "gstr-1-nope"],
            "error: --endpoint: unknown endpoint \"gstr-1-nope\"; did you mean gstr-1-",
        ),
        (
            vec!["snapshot", "--group", "gstr-4"],
            "error: --group \"gstr-4\": unknown group",
        ),
        (
            vec!["snapshot", "--from", "2999-01"],
            "error: --from 2999-01 is in the future",
        ),
        (
            vec!["snapshot", "--from", "2025-13"],
            "error: --from: period \"2025-13\" is not a month",
        ),
        (
            vec!["snapshot", "--from", "2025-06", "--to", "2025-04"],
            "error: --from 2025-06 is after --to 2025-04",
        ),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = gstvault(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with(expected),
            "{args:?}\n got: {stderr}\nwant: {expected}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
    assert!(!dir.path().join("archive.sqlite").exists(), "nothing was written");
}

#[test]
fn missing_key_variable_is_named() {
    let dir = setup();
    let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir.path())
        .env_remove("GSTVAULT_TEST_KEY")
        .env_remove("GSTVAULT_CONFIG")
        .args(["snapshot"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("environment variable GSTVAULT_TEST_KEY (named by api.key_env in gstvault.toml) is not set"),
        "{stderr}"
    );
    assert!(!dir.path().join("archive.sqlite").exists());
}

#[test]
fn config_show_redacts_and_init_writes_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = gstvault(dir.path(), &["config", "init"]);
    assert_eq!(code, 0, "{stdout}");
    let written = std::fs::read_to_string(dir.path().join("gstvault.toml")).unwrap();
    assert_eq!(written, gstvault::config::EXAMPLE);
    let (code, _, stderr) = gstvault(dir.path(), &["config", "init"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"));
    let shown = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir.path())
        .env("GSTVAULT_API_KEY", "key_live_SECRETVALUE123")
        .env("GSTVAULT_API_SECRET", "secret_live_SECRETVALUE456")
        .args(["config", "show"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("GSTVAULT_API_KEY is set, value redacted"), "{text}");
    assert!(!text.contains("SECRETVALUE"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_the_test_otp_stores_an_owner_only_session() {
    let sim = simulator(1, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = gstvault::sim::demo_gstins();
    std::fs::write(
        dir.path().join("gstvault.toml"),
        config_text(&sim.base_url, &gstins, ""),
    )
    .unwrap();
    let run = |args: Vec<String>| against_simulator(dir.path().to_path_buf(), args);
    let g = gstins[0].to_string();
    let (code, _, stderr) = run(vec!["login".into(), g.clone()]).await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("stdin is not a terminal")
            && stderr.contains(&format!(
                "`gstvault login {g} --request-only`, then `gstvault login {g} --otp NNNNNN --no-request`"
            )),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(vec!["login".into(), g.clone(), "--otp".into(), "111111".into()]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("AUTH4033"), "a wrong OTP is refused: {stderr}");
    let (code, stdout, stderr) = run(vec![
        "login".into(),
        g.clone(),
        "--otp".into(),
        gstvault::sim::TEST_OTP.into(),
    ])
    .await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("logged in {g}")), "{stdout}");
    let token = dir.path().join(format!("archive.sqlite.sessions/{g}.json"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&token).unwrap().permissions().mode() & 0o777, 0o600);
    let archive = std::fs::read(dir.path().join("archive.sqlite")).unwrap();
    let token_text = std::fs::read_to_string(&token).unwrap();
    let value: serde_json::Value = serde_json::from_str(&token_text).unwrap();
    let secret = value["access_token"].as_str().unwrap();
    assert!(
        !String::from_utf8_lossy(&archive).contains(secret),
        "the token never enters the archive"
    );
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    // The capture that follows uses the session.
    let (code, stdout, stderr) = run(vec![
        "snapshot".into(),
        "--gstin".into(),
        g.clone(),
        "--from".into(),
        "2026-05".into(),
        "--to".into(),
        "2026-05".into(),
        "--group".into(),
        "ledgers".into(),
    ])
    .await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("ok 4"), "{stdout}");
}

#[test]
fn plan_names_its_rules_and_the_calls_it_saves() {
    let dir = setup();
    let (code, stdout, stderr) = gstvault(dir.path(), &["plan", "--from", "2026-04", "--to", "2026-05", "--calls"]);
    assert_eq!(code, 0, "{stderr}");
    // Nothing archived yet: everything is due, by rule.
    assert!(
        stdout.contains("never-captured") && stdout.contains("fetch "),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l.starts_with("total: ")), "{stdout}");
    assert!(!dir.path().join("archive.sqlite").exists(), "plan writes nothing");
}

/// Regression: `gstvault snapshot` never signed a checkpoint although every
/// run that appends must end in one. Without a key it says so plainly; with
/// one, the run's checkpoint covers the whole log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_ends_in_a_signed_checkpoint_or_says_plainly_why_not() {
    let sim = simulator(1, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = &gstvault::sim::demo_gstins()[..1];
    std::fs::write(
        dir.path().join("gstvault.toml"),
        config_text(&sim.base_url, gstins, "") + "[capture]\ngroups = [\"ledgers\"]\n",
    )
    .unwrap();
    let run = |args: Vec<String>| against_simulator(dir.path().to_path_buf(), args);
    let g = gstins[0].to_string();
    let snapshot = || {
        vec![
            "snapshot".to_string(),
            "--from".into(),
            "2026-05".into(),
            "--to".into(),
            "2026-05".into(),
        ]
    };
    let (code, _, stderr) = run(vec!["login".into(), g, "--otp".into(), gstvault::sim::TEST_OTP.into()]).await;
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stdout, stderr) = run(snapshot()).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("checkpoint: NOT SIGNED: no signing key at") && stdout.contains("run `gstvault keygen`"),
        "{stdout}"
    );
    let archive = dir.path().join("archive.sqlite");
    assert!(gstvault::store::Reader::open(&archive)
        .unwrap()
        .checkpoints()
        .unwrap()
        .is_empty());

    let (code, _, stderr) = run(vec!["keygen".into()]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = run(snapshot()).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let store = gstvault::store::Reader::open(&archive).unwrap();
    let checkpoints = store.checkpoints().unwrap();
    assert_eq!(checkpoints.len(), 1, "{stdout}");
    assert_eq!(
        checkpoints[0].size,
        store.snapshot_count().unwrap(),
        "it covers the whole log"
    );
    assert!(checkpoints[0].run_id.is_some(), "it names the run");
    assert!(
        stdout.contains(&format!(
            "checkpoint: log size {} root {}",
            checkpoints[0].size, checkpoints[0].root
        )),
        "{stdout}"
    );
    let (code, stdout, _) = run(vec!["verify".into(), "--archive".into()]).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        !stdout.contains("unsigned"),
        "no unsigned tail after a signed run: {stdout}"
    );
}

/// `gstvault demo`, the README's first command: both captures end in a
/// signed checkpoint, every bundle and the archive verify.
#[test]
fn the_demo_signs_every_capture_and_verifies_what_it_exports() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let (code, stdout, stderr) = gstvault(dir.path(), &["demo", "--dir", demo.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let signed = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("checkpoint: log size"))
        .count();
    assert_eq!(signed, 2, "one signed checkpoint per capture: {stdout}");
    assert!(
        !stdout.contains("NOT SIGNED") && !stdout.contains("FINDING"),
        "{stdout}"
    );
    assert!(stdout.contains("verify --archive: intact"), "{stdout}");
    assert_eq!(
        stdout.matches("verify: intact").count(),
        9,
        "3 GSTINs x 3 bundles: {stdout}"
    );
    // Nothing is stamped after the wall clock: the second capture ran at now.
    let wall = chrono::Utc::now();
    let store = gstvault::store::Reader::open(&demo.join("gstvault.sqlite")).unwrap();
    let latest = store
        .list_snapshots(&gstvault::store::SnapshotFilter::default())
        .unwrap()
        .iter()
        .map(|s| s.received_at)
        .max()
        .unwrap();
    assert!(
        latest.to_datetime().unwrap() <= wall,
        "a demo answer was received after the wall clock: {latest}"
    );
    // The re-export the demo prints gives the same bundle, byte for byte,
    // from the config alone (legal names included), into a new directory.
    let line = stdout
        .lines()
        .find(|l| l.contains(" export --gstin "))
        .expect("the demo prints a re-export command");
    let args: Vec<&str> = line
        .split_whitespace()
        .skip(1)
        .take_while(|w| !w.starts_with('('))
        .collect();
    let again = dir.path().join("again");
    let mut with_out = args.clone();
    with_out.extend(["--out", again.to_str().unwrap()]);
    let (code, out, err) = gstvault(dir.path(), &with_out);
    assert_eq!(code, 0, "{line}\n{out}{err}");
    let written: Vec<std::path::PathBuf> = std::fs::read_dir(&again).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{out}");
    let original = demo.join("bundles").join(written[0].file_name().unwrap());
    assert_eq!(
        std::fs::read(&written[0]).unwrap(),
        std::fs::read(&original).expect("the same bundle ID as a demo bundle"),
        "a re-export gives the same bytes"
    );
    // And into the demo's own directory it is a no-op that reports the file.
    let (code, out, err) = gstvault(dir.path(), &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("exported before: nothing written"), "{out}");

    // The independent reference verifier, written from VERIFY.txt alone,
    // agrees on every bundle, and on each month bundle's predecessor.
    let mut bundles: Vec<std::path::PathBuf> = std::fs::read_dir(demo.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    bundles.sort();
    assert_eq!(bundles.len(), 9);
    let public = demo.join("gstvault.pub");
    for (i, bundle) in bundles.iter().enumerate() {
        let mut args = vec![bundle.as_path(), public.as_path()];
        let name = bundle.file_name().unwrap().to_string_lossy().to_string();
        // Per GSTIN: the first month bundle, the second (extends it), the FY bundle.
        if i % 3 == 1 {
            args.push(bundles[i - 1].as_path());
        }
        match crate::hostile::reference_verifier(&args) {
            None => return,
            Some((code, out)) => assert!(
                code == Some(0) && out.ends_with("INTACT: 0 finding(s)\n"),
                "{name}: {out}"
            ),
        }
    }
}

/// The demo's web view, killed (SIGINT, as Ctrl-C) when dropped.
struct DemoWeb(std::process::Child);

impl Drop for DemoWeb {
    fn drop(&mut self) {
        let _ = crate::process::signal(self.0.id(), crate::process::Signal::INT);
        let _ = self.0.wait();
    }
}

/// `gstvault demo --web`: after the demo it prints the web view's URL and a
/// demo login, and that login opens the overview of the three demo GSTINs.
#[tokio::test]
async fn demo_web_prints_a_url_and_a_login_that_opens_the_web_view() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir.path())
        .env_remove("GSTVAULT_CONFIG")
        .args(["demo", "--web", "--dir", demo.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = DemoWeb(child);
    // The reader keeps draining the demo's output after the login (a closed
    // pipe would end the demo at its next line).
    let (found, login) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut url = None;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("web view: ") {
                url = rest.split_whitespace().next().map(str::to_string);
            }
            if let Some(rest) = line.trim().strip_prefix("log in as demo, password ") {
                let password = rest.split_whitespace().next().unwrap().to_string();
                let _ = found.send((url.clone().expect("the URL before the login"), password));
            }
        }
    });
    let (url, password) =
        tokio::task::spawn_blocking(move || login.recv().expect("the demo ended without printing a web login"))
            .await
            .unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "{url}");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let form = http.get(format!("{url}login")).send().await.unwrap();
    let login_cookie = cookie(&form, "gv_login");
    let page = form.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("name", "demo")
        .append_pair("password", &password)
        .append_pair("csrf", &csrf)
        .finish();
    let login = http
        .post(format!("{url}login"))
        .header(reqwest::header::COOKIE, login_cookie)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        reqwest::StatusCode::SEE_OTHER,
        "the printed login works"
    );
    let session = cookie(&login, "gv_session");
    let overview = http
        .get(&url)
        .header(reqwest::header::COOKIE, session)
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), reqwest::StatusCode::OK);
    let page = overview.text().await.unwrap();
    for gstin in gstvault::sim::demo_gstins() {
        assert!(page.contains(&format!("href=\"/gstin/{gstin}\"")), "{gstin}: {page}");
    }
}
