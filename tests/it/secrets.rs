//! Secrets never leak: with known values for the API key and secret, the
//! tokens and the signing key's password, every log line, every text column of
//! the archive, every bundle entry and `config show` are searched: zero hits.
//! Archive, key and bundle files are owner-only.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gstvault::sim;

const API_KEY: &str = "key_live_LEAKCANARY_KEY_7f3a91";
const API_SECRET: &str = "LEAKCANARY_SECRET_9b1c22";
const KEY_PASSWORD: &str = "LEAKCANARY_PASSWORD_44d2";

fn text_columns(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut all = String::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        all.push_str(&String::from_utf8_lossy(t));
                        all.push('\n');
                    }
                    _ => {}
                }
            }
        }
    }
    all
}

fn zip_entries(path: &Path) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut all = String::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    all
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_archive_bundles_or_config_show() {
    let sim = crate::support::simulator(21, |c| {
        c.api_key = API_KEY.into();
        c.api_secret = API_SECRET.into();
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gstins = &sim::demo_gstins()[..2];
    let config = format!(
        "{}\n[capture]\ngroups = [\"ledgers\", \"gstr-3b\", \"gstr-1\"]\n[logging]\nformat = \"json\"\nlevel = \"debug\"\n\
         [daemon]\ncapture_on_start = true\nshutdown_grace_secs = 5\n",
        crate::support::config_text(&sim.base_url, gstins, "")
    )
    .replace("GSTVAULT_TEST_KEY", "LEAK_TEST_KEY")
    .replace("GSTVAULT_TEST_SECRET", "LEAK_TEST_SECRET");
    std::fs::write(dir.path().join("gstvault.toml"), config).unwrap();
    let command = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gstvault"));
        c.current_dir(dir.path())
            .env_remove("GSTVAULT_CONFIG")
            .env_remove("RUST_LOG")
            .env("LEAK_TEST_KEY", API_KEY)
            .env("LEAK_TEST_SECRET", API_SECRET)
            .env("GSTVAULT_KEY_PASSWORD", KEY_PASSWORD)
            .stdin(Stdio::null())
            .args(args);
        c
    };
    let mut output = String::new();
    let mut run = |args: &[&str]| {
        let out = command(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?}: {text}");
        output.push_str(&text);
    };
    run(&["keygen"]);
    for g in gstins {
        run(&["login", g.as_str(), "--otp", sim::TEST_OTP]);
    }
    run(&["snapshot", "--from", "2026-04", "--to", "2026-05"]);
    run(&[
        "export",
        "--gstin",
        gstins[0].as_str(),
        "--month",
        "2026-05",
        "--out",
        "bundles",
    ]);
    run(&["verify", "--archive"]);
    run(&["config", "show"]);
    run(&["status"]);
    // The daemon, with JSON debug logs, until its first capture completes.
    let log = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
    let mut daemon = command(&["daemon"])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let archive = dir.path().join("archive.sqlite");
    let started = Instant::now();
    loop {
        let done = gstvault::store::Reader::open(&archive)
            .ok()
            .and_then(|s| s.run_statuses().ok())
            .is_some_and(|runs| {
                runs.len() >= 2
                    && runs
                        .iter()
                        .all(|(_, s)| *s != gstvault::domain::run::RunStatus::Running)
            });
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "daemon capture did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    output.push_str(&std::fs::read_to_string(dir.path().join("daemon.log")).unwrap());
    assert!(
        output.contains("\"level\":\"DEBUG\""),
        "debug logs were produced and searched"
    );

    let mut secrets: Vec<String> = vec![API_KEY.into(), API_SECRET.into(), KEY_PASSWORD.into()];
    let tokens = sim.sim.issued_tokens();
    assert!(tokens.len() >= 3, "platform and taxpayer tokens were issued");
    secrets.extend(tokens);
    let secret_key_file = std::fs::read_to_string(dir.path().join("gstvault.key")).unwrap();
    let secret_key_line = secret_key_file.lines().nth(1).unwrap().to_string();
    secrets.push(secret_key_line);

    let bundles: Vec<_> = std::fs::read_dir(dir.path().join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!bundles.is_empty());
    let mut haystacks = vec![
        ("command output and logs".to_string(), output),
        ("archive".to_string(), text_columns(&archive)),
    ];
    for bundle in &bundles {
        haystacks.push((bundle.display().to_string(), zip_entries(bundle)));
        assert_eq!(mode(bundle), 0o600, "bundle owner-only");
    }
    for (name, text) in &haystacks {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret leaked into {name}");
        }
    }
    assert_eq!(mode(&archive), 0o600, "archive owner-only");
    assert_eq!(mode(&dir.path().join("gstvault.key")), 0o600, "signing key owner-only");
    assert_eq!(mode(&dir.path().join("archive.sqlite.sessions")), 0o700);
    for token_file in std::fs::read_dir(dir.path().join("archive.sqlite.sessions")).unwrap() {
        assert_eq!(mode(&token_file.unwrap().path()), 0o600, "session files owner-only");
    }
    // The key is encrypted at rest with the password.
    assert!(gstvault::evidence::signing::SigningKey::load(&dir.path().join("gstvault.key"), None).is_err());
}
