//! Row 6, the web view: `gstvault daemon` with `[web] listen` (the release
//! binary, its own process, its jobs unscheduled so nothing but the web view
//! runs) on row 5's synthetic archive (1,000,000 snapshots at full scale),
//! logged in as an admin, then 20 users at once asking every page: p95 per
//! page, and the daemon's peak RSS under that load.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::table::{Line, Table};
use crate::Scale;

const USERS: usize = 20;
const PASSWORD: &str = "bench password for the web row";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server's peak resident set (VmHWM), MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let page = http.get(format!("{base}/login")).send().await.unwrap();
    let cookie = page
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let html = page.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_string();
    let answer = http
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[("name", "bench"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "the bench user logs in");
    answer
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("gv_session="))
        .unwrap()
}

pub fn row(dir: &Path, scale: &Scale, table: &mut Table, runtime: &tokio::runtime::Runtime) {
    let archive = dir.join("archive.sqlite");
    assert!(archive.exists(), "row 6 runs on row 5's archive");
    let gstins = crate::query::gstins();
    let config = dir.join("gstvault.toml");
    // A free loopback port for the web view, and no job scheduled.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let quiet = "capture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"\nverify = \"\"";
    let text = crate::harness::World::builder()
        .test_client()
        .gstins(gstins.clone())
        .daemon(quiet)
        .config_text("http://127.0.0.1:9");
    std::fs::write(&config, format!("{text}\n[web]\nlisten = \"127.0.0.1:{port}\"\n")).unwrap();
    let bin = env!("CARGO_BIN_EXE_gstvault");
    let mut add = Command::new(bin)
        .args([
            "-c",
            config.to_str().unwrap(),
            "user",
            "add",
            "bench",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(add.wait().unwrap().success(), "user add");
    let child = Command::new(bin)
        .args(["-c", config.to_str().unwrap(), "daemon"])
        .env("GSTVAULT_TEST_KEY", "bench-key-unused")
        .env("GSTVAULT_TEST_SECRET", "bench-secret-unused")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    // Up when the login page answers (the daemon binds after opening the archive).
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the daemon's web view did not come up"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = server.0.id();

    let rounds = if scale.full { 10 } else { 2 };
    let g = gstins[3].to_string();
    let endpoint = crate::query::endpoints()[0];
    let pages: Vec<(&str, String)> = vec![
        ("overview", "/".into()),
        ("GSTIN grid and charts", format!("/gstin/{g}")),
        (
            "return as of",
            format!("/gstin/{g}/return/{endpoint}/2025-06?as_of=2026-01-05"),
        ),
        ("changes", format!("/gstin/{g}/changes")),
        ("balances", format!("/gstin/{g}/balances?fy=2025-26")),
        ("ITC", format!("/gstin/{g}/itc?month=2025-06")),
        ("snapshot", "/snapshot/12345".into()),
        ("raw bytes", "/snapshot/12345/raw".into()),
        ("bundles", "/bundles".into()),
        ("search", "/search?q=INV".into()),
        ("access log", "/access".into()),
    ];
    let samples: Vec<(usize, f64)> = runtime.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let session = login(&http, &base).await;
        let mut tasks = Vec::new();
        for user in 0..USERS {
            let (http, base, session, pages) = (http.clone(), base.clone(), session.clone(), pages.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for round in 0..rounds {
                    for i in 0..pages.len() {
                        // Each user walks the pages from a different start.
                        let page = (i + user + round) % pages.len();
                        let t = Instant::now();
                        let answer = http
                            .get(format!("{base}{}", pages[page].1))
                            .header(reqwest::header::COOKIE, &session)
                            .send()
                            .await
                            .unwrap();
                        let status = answer.status();
                        let _ = answer.bytes().await.unwrap();
                        assert!(status.is_success(), "{} answered {status}", pages[page].1);
                        out.push((page, t.elapsed().as_secs_f64() * 1000.0));
                    }
                }
                out
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let rss = peak_rss_mib(pid);
    drop(server);
    for (i, (name, _)) in pages.iter().enumerate() {
        let mut ms: Vec<f64> = samples.iter().filter(|(p, _)| *p == i).map(|(_, ms)| *ms).collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let p95 = ms[((ms.len() as f64 - 1.0) * 0.95).round() as usize];
        table.add(Line {
            row: 6,
            what: format!("web {name} ({USERS} users, n = {})", ms.len()),
            ours: format!("p50 {:.1} ms, p95 {p95:.1} ms", ms[ms.len() / 2]),
            theirs: String::new(),
            ratio: String::new(),
            target: "p95 < 100 ms".into(),
            met: Some(p95 < 100.0),
        });
    }
    table.add(Line {
        row: 6,
        what: format!("daemon with the web view, peak RSS, {USERS} users"),
        ours: format!("{rss:.1} MiB"),
        theirs: String::new(),
        ratio: String::new(),
        target: "< 60 MB".into(),
        met: Some(rss < 60.0 * 1e6 / 1048576.0),
    });
}
