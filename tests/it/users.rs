//! The web view's accounts through the binary: `user add` (admin, auditor
//! with grants and a window), `user list` without a hash, Argon2id PHC
//! strings that verify, `user passwd`, `user remove` (the account can no
//! longer log in), bad input as one line and exit 2 with the password never
//! echoed, the daemon's writer lock named plainly, and an access log that
//! SQLite itself refuses to update or delete.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use gstvault::app::users::verify_password;
use gstvault::domain::time::Timestamp;
use gstvault::store::access::{AccessLog, AccessRow};
use gstvault::store::{Reader, WriterLock};

use crate::support::config_text;

const ADMIN_PASSWORD: &str = "admin password LEAKCANARY 1";
const AUDITOR_PASSWORD: &str = "auditor password LEAKCANARY 2";
const NEW_PASSWORD: &str = "changed password LEAKCANARY 3";

/// Runs the binary in `dir` with `stdin` (None: no standard input at all).
fn gstvault(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .current_dir(dir)
        .env_remove("GSTVAULT_CONFIG")
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // A command that refuses its arguments exits without reading its
        // input: the pipe closing under the write is that, not a failure.
        match child.stdin.take().unwrap().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
            _ => {}
        }
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    for password in [ADMIN_PASSWORD, AUDITOR_PASSWORD, NEW_PASSWORD] {
        assert!(
            !stdout.contains(password) && !stderr.contains(password),
            "{args:?} printed a password"
        );
    }
    assert!(
        !stdout.contains("$argon2") && !stderr.contains("$argon2"),
        "{args:?} printed a hash"
    );
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gstvault.toml"),
        config_text("http://127.0.0.1:9", &gstvault::sim::demo_gstins(), ""),
    )
    .unwrap();
    dir
}

#[test]
fn accounts_are_added_listed_verified_changed_and_removed_through_the_binary() {
    let dir = setup();
    let gstins = gstvault::sim::demo_gstins();
    let (g1, g2) = (gstins[0].to_string(), gstins[1].to_string());
    let archive = dir.path().join("archive.sqlite");

    let (code, out, err) = gstvault(
        dir.path(),
        &["user", "add", "boss", "--role", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "added admin boss (every GSTIN)");
    let (code, out, err) = gstvault(
        dir.path(),
        &[
            "user",
            "add",
            "ca.sharma",
            "--role",
            "auditor",
            "--gstin",
            &g1,
            "--gstin",
            &g2,
            "--from",
            "2025-04",
            "--to",
            "2026-03",
            "--until",
            "2999-12-31",
            "--password-stdin",
        ],
        Some(&format!("{AUDITOR_PASSWORD}\r\n")),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{g1} 2025-04..2026-03")), "{out}");

    // Listed by name, what each may see, never a hash.
    let (code, out, _) = gstvault(dir.path(), &["user", "list"], None);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("name") && lines[0].contains("role") && lines[0].contains("gstins"));
    assert!(lines[1].starts_with("boss") && lines[1].contains("admin") && lines[1].contains("all"));
    assert!(
        lines[2].starts_with("ca.sharma") && lines[2].contains("2999-12-31"),
        "{out}"
    );
    assert!(
        lines[2].contains(&format!("{g1} 2025-04..2026-03; {g2} 2025-04..2026-03")),
        "{out}"
    );
    let (_, json, _) = gstvault(dir.path(), &["user", "list", "--json"], None);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["role"], "auditor");
    let (_, csv, _) = gstvault(dir.path(), &["user", "list", "--csv"], None);
    assert!(csv.starts_with("name,role,gstins,until,created_at"), "{csv}");

    // Stored as Argon2id PHC strings that verify their password only.
    let hash = |name: &str| Reader::open(&archive).unwrap().viewer(name).unwrap().map(|(_, h)| h);
    let auditor_hash = hash("ca.sharma").unwrap();
    assert!(auditor_hash.starts_with("$argon2id$"), "{auditor_hash}");
    assert!(
        verify_password(&auditor_hash, AUDITOR_PASSWORD),
        "the line ending is not part of it"
    );
    assert!(!verify_password(&auditor_hash, ADMIN_PASSWORD));
    assert!(verify_password(&hash("boss").unwrap(), ADMIN_PASSWORD));
    let (viewer, _) = Reader::open(&archive).unwrap().viewer("ca.sharma").unwrap().unwrap();
    assert_eq!(viewer.grants.len(), 2);

    // A name a live account has is refused.
    let (code, _, err) = gstvault(
        dir.path(),
        &["user", "add", "boss", "--role", "staff", "--password-stdin"],
        Some(NEW_PASSWORD),
    );
    assert_eq!(code, 2);
    assert!(err.contains("user \"boss\" exists already"), "{err}");

    // A new password replaces the old one.
    let (code, out, err) = gstvault(
        dir.path(),
        &["user", "passwd", "ca.sharma", "--password-stdin"],
        Some(&format!("{NEW_PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "password of ca.sharma changed");
    let changed = hash("ca.sharma").unwrap();
    assert!(verify_password(&changed, NEW_PASSWORD) && !verify_password(&changed, AUDITOR_PASSWORD));
    let (code, _, err) = gstvault(
        dir.path(),
        &["user", "passwd", "nobody", "--password-stdin"],
        Some(NEW_PASSWORD),
    );
    assert_eq!(code, 2);
    assert!(err.contains("no user \"nobody\""), "{err}");

    // Removed: no longer a viewer, no longer listed.
    let (code, out, err) = gstvault(dir.path(), &["user", "remove", "ca.sharma"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("removed ca.sharma"));
    assert_eq!(hash("ca.sharma"), None);
    let (_, out, _) = gstvault(dir.path(), &["user", "list"], None);
    assert!(!out.contains("ca.sharma"), "{out}");
    let (code, _, _) = gstvault(dir.path(), &["user", "remove", "ca.sharma"], None);
    assert_eq!(code, 2, "removed once");
}

#[test]
fn bad_account_input_is_one_line_exit_2_and_never_echoes_the_password() {
    let dir = setup();
    let gstin = gstvault::sim::demo_gstins()[0].to_string();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["--role", "auditor", "--gstin", "27AAPFU0939F1ZW"],
            AUDITOR_PASSWORD,
            "error: --gstin: GSTIN \"27AAPFU0939F1ZW\" fails its check character",
        ),
        (
            vec!["--role", "auditor", "--gstin", &gstin],
            "LEAKCANARY",
            "error: the password has 10 characters: at least 12 are needed",
        ),
        (
            vec!["--role", "auditor"],
            AUDITOR_PASSWORD,
            "error: user alice: an auditor sees only the GSTINs granted: give at least one --gstin",
        ),
        (
            vec!["--role", "staff", "--gstin", &gstin],
            AUDITOR_PASSWORD,
            "error: --gstin: an account of role staff sees every GSTIN",
        ),
        (
            vec!["--role", "owner"],
            AUDITOR_PASSWORD,
            "error: --role \"owner\": one of admin, staff, auditor",
        ),
        (
            vec!["--role", "auditor", "--gstin", &gstin, "--until", "next year"],
            AUDITOR_PASSWORD,
            "error: --until \"next year\": not a date (expected YYYY-MM-DD",
        ),
        (
            vec!["--role", "auditor", "--gstin", &gstin, "--from", "2025-13"],
            AUDITOR_PASSWORD,
            "error: --from: period \"2025-13\" is not a month",
        ),
    ];
    for (flags, password, expected) in cases {
        let mut args = vec!["user", "add", "alice", "--password-stdin"];
        args.extend(flags);
        let (code, _, err) = gstvault(dir.path(), &args, Some(password));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with(expected), "{args:?}\n got: {err}\nwant: {expected}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!err.contains(password), "{err}");
    }
    let (code, _, err) = gstvault(dir.path(), &["user", "add", "Alice", "--role", "admin"], None);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: user name \"Alice\": 1 to 32 characters"),
        "{err}"
    );
    // No terminal and no --password-stdin: refused, nothing asked.
    let (code, _, err) = gstvault(dir.path(), &["user", "add", "alice", "--role", "admin"], None);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: user add alice: stdin is not a terminal") && err.contains("--password-stdin"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
    let (code, _, err) = gstvault(dir.path(), &["user", "passwd", "alice"], None);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: user passwd alice: stdin is not a terminal"),
        "{err}"
    );
    assert!(!dir.path().join("archive.sqlite").exists(), "nothing was written");
}

#[test]
fn the_daemon_holding_the_writer_lock_is_named_and_the_access_log_only_grows() {
    let dir = setup();
    let archive = dir.path().join("archive.sqlite");
    let (code, _, err) = gstvault(
        dir.path(),
        &["user", "add", "boss", "--role", "admin", "--password-stdin"],
        Some(ADMIN_PASSWORD),
    );
    assert_eq!(code, 0, "{err}");

    // A daemon writes the archive: the lock's file names it.
    let lock = WriterLock::acquire(&archive).unwrap();
    std::fs::write(&lock.path, "pid 4242 since 2026-05-01T04:30:00.000Z command daemon\n").unwrap();
    let (code, _, err) = gstvault(dir.path(), &["user", "remove", "boss"], None);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: user remove: the daemon (pid 4242) is writing to archive")
            && err.contains("stop the daemon"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
    // The web server's narrow writer appends beside it, lock or not.
    let log = AccessLog::open(&archive).unwrap();
    log.append(&AccessRow {
        at: Timestamp::of(chrono::Utc::now()),
        user: "boss".into(),
        address: "127.0.0.1".into(),
        method: "GET".into(),
        path: "/".into(),
        status: 200,
        what: "overview".into(),
    })
    .unwrap();
    drop(lock);
    let rows = Reader::open(&archive).unwrap().access_log(10).unwrap();
    assert_eq!((rows.len(), rows[0].user.as_str(), rows[0].status), (1, "boss", 200));

    let conn = rusqlite::Connection::open(&archive).unwrap();
    for sql in [
        "UPDATE access_log SET user_name = 'someone else'",
        "DELETE FROM access_log",
    ] {
        let refused = conn.execute(sql, []).unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{sql}: {refused}");
    }
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}
