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
    crate::process::signal(daemon.id(), crate::process::Signal::TERM).unwrap();
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

const WEBHOOK_PATH_TOKEN: &str = "LEAKCANARY_HOOK_PATH_3e7f";
const WEBHOOK_QUERY_TOKEN: &str = "LEAKCANARY_HOOK_QUERY_81ac";
const SMTP_PASSWORD: &str = "LEAKCANARY_SMTP_PASSWORD_5d09";

/// The binary's alerts: the e-mail reaches a loopback SMTP sink with the
/// documented subject, logged in with the password from its variable; the
/// webhook, unreachable, fails and is logged. Neither the webhook's token
/// (path and query) nor the SMTP password appears in a log line, `config
/// show`, `config check`, the archive or the mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_mail_arrives_and_no_webhook_token_or_smtp_password_leaks() {
    let sim = crate::support::simulator(22, |_| {}).await;
    let sink = crate::alerts::SmtpSink::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gstin = sim::demo_gstins()[0].clone();
    let config = format!(
        "{}\n[logging]\nformat = \"json\"\nlevel = \"debug\"\n\
         [daemon]\ncapture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"\nverify = \"\"\n\
         [alerts]\nwebhook = \"http://{closed}/hook/{WEBHOOK_PATH_TOKEN}?token={WEBHOOK_QUERY_TOKEN}\"\n\
         webhook_retries = 1\nretry_base_ms = 1\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_tls = \"none\"\n\
         smtp_username = \"gstvault-alerts\"\nsmtp_password_env = \"LEAK_SMTP_PASSWORD\"\n\
         from = \"gstvault@example.com\"\nto = [\"ops@example.com\", \"ca@example.com\"]\n",
        crate::support::config_text(&sim.base_url, std::slice::from_ref(&gstin), ""),
        sink.addr.port()
    );
    std::fs::write(dir.path().join("gstvault.toml"), config).unwrap();
    let command = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gstvault"));
        c.current_dir(dir.path())
            .env_remove("GSTVAULT_CONFIG")
            .env_remove("RUST_LOG")
            .env("GSTVAULT_TEST_KEY", sim::DEMO_API_KEY)
            .env("GSTVAULT_TEST_SECRET", sim::DEMO_API_SECRET)
            .env("LEAK_SMTP_PASSWORD", SMTP_PASSWORD)
            .stdin(Stdio::null())
            .args(args);
        c
    };
    let printed = |args: &[&str]| {
        let out = command(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let shown = printed(&["config", "show"]);
    assert!(
        shown.contains(&format!("webhook = \"http://{closed}/<redacted>\"")),
        "{shown}"
    );
    assert!(shown.contains("# LEAK_SMTP_PASSWORD is set, value redacted"), "{shown}");
    let checked = printed(&["config", "check"]);
    assert!(
        checked.contains(&format!(
            "alerts: /healthz, webhook http://{closed}/<redacted> (1 retries); e-mail via 127.0.0.1:{} (no TLS) \
             from gstvault@example.com to ops@example.com, ca@example.com",
            sink.addr.port()
        )),
        "{checked}"
    );
    // The daemon: nobody logged in, so `needs_login` is raised at its start.
    let log = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
    let daemon = command(&["daemon"])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    sink.wait_for(1).await;
    crate::process::signal(daemon.id(), crate::process::Signal::TERM).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut daemon = daemon;
        daemon.wait().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0));
    let logs = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    // The stop waited for the alert's delivery: its failure on the webhook is logged.
    assert!(logs.contains("alert not delivered"), "{logs}");
    assert!(
        logs.contains(&format!("webhook http://{closed}/<redacted>: ")),
        "{logs}"
    );

    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.data
            .contains(&format!("Subject: gstvault: RAISED needs login: {gstin}\n")),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("To: ops@example.com, ca@example.com"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("Content-Transfer-Encoding: 7bit"), "{}", mail.data);
    let words = mail.data.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!(
            "RAISED: {gstin} needs login: never logged in: run `gstvault login {gstin}`"
        )),
        "{}",
        mail.data
    );
    assert!(
        mail.auth.as_deref() == Some(&format!(" gstvault-alerts {SMTP_PASSWORD}")),
        "logged in with the password from the variable: {:?}",
        mail.auth
    );
    let archive = text_columns(&dir.path().join("archive.sqlite"));
    assert!(archive.contains("needs_login"), "the alert is in the archive");
    for (name, text) in [
        ("config show", &shown),
        ("config check", &checked),
        ("daemon logs", &logs),
        ("the archive", &archive),
        ("the mail", &mail.data),
    ] {
        for secret in [WEBHOOK_PATH_TOKEN, WEBHOOK_QUERY_TOKEN, SMTP_PASSWORD] {
            assert!(!text.contains(secret), "{secret} leaked into {name}");
        }
    }
}
