//! The web view in a real browser: Debian's headless Chromium driven through
//! chromedriver (WebDriver, fantoccini), against the simulator and the web
//! view in-process on loopback. The demo's sequence on the simulator clock
//! (see [`crate::changes::amended_august`]) gives an archive whose August
//! GSTR-1 credit notes changed after filing; the browser logs in as an
//! auditor granted that GSTIN, opens the GSTIN, opens the CDNR return as of
//! the first capture's day, compares it with the later snapshot and reads
//! the added note's number and tax from the page, downloads August's bundle
//! and checks that the file's SHA-256 is the one the bundles page shows (and
//! the one recorded at export), loads the comparison at phone width without
//! the page overflowing sideways, and logs out. Each step leaves a
//! screenshot in `<target>/tmp/browser-screenshots/`, its path printed.
//!
//! Without `chromedriver` on PATH the test says so and passes, except in CI
//! (`CI` set), which installs `chromium` and `chromium-driver` (`.ci/run`)
//! and fails without them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt as _;
use gstvault::app::users::AddUser;
use gstvault::domain::period::Period;
use gstvault::store::{PeriodFilter, Reader, SnapshotFilter};
use sha2::{Digest as _, Sha256};

use crate::changes::{amended_august, AmendedAugust};

const AUDITOR: &str = "ca.sharma";
const PASSWORD: &str = "browser test password 2026";

/// chromedriver on a free loopback port, killed (with the browsers it
/// started, its process group) when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts chromedriver and waits until it answers `/status`.
    async fn start() -> Driver {
        use std::os::unix::process::CommandExt as _;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let status = format!("{}/status", driver.url);
        for _ in 0..200 {
            if let Ok(r) = http.get(&status).send().await {
                if r.status().is_success() {
                    return driver;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not answer {status} within 10 s");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any Chromium it left behind.
        let _ = crate::process::signal_group(self.child.id(), crate::process::Signal::KILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(name: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Where the screenshots go, emptied first.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Chromium's switches for a browser that never leaves loopback. Left to
/// itself Chromium calls Google at start (component and safe-browsing
/// updates, sync, metrics, DNS prefetch), and a CI machine that allows no
/// traffic past loopback ends the whole run on it. So every background
/// service is off, every host name but the loopback address fails inside
/// the browser without a DNS query, and anything still trying goes to a
/// trap proxy of the test's own on loopback ([`Trap`]; loopback itself is
/// never proxied). The test ends by asking for an outside page and checking
/// that the trap, not the network, received it.
const HERMETIC_SWITCHES: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--dns-prefetch-disable",
    "--disable-features=OptimizationHints,MediaRouter,DialMediaRouteProvider,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,SafeBrowsingEnhancedProtection,NetworkTimeServiceQuerying",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1366,768",
];

/// The browser's proxy: a loopback listener that answers every request with
/// 502 and writes down what was asked (the request line, e.g.
/// `CONNECT clients2.google.com:443`), so nothing Chromium tries reaches a
/// network, and the test can say what it tried.
struct Trap {
    port: u16,
    asked: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Trap {
    async fn start() -> Trap {
        use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = asked.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut stream = tokio::io::BufReader::new(stream);
                    let mut line = String::new();
                    if stream.read_line(&mut line).await.is_ok() && !line.trim().is_empty() {
                        log.lock().unwrap().push(line.trim().to_string());
                    }
                    let _ = stream
                        .get_mut()
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Trap { port, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// Headless Chromium at 1366×768 that downloads into `downloads` without
/// asking, with its own empty profile in `profile`, and no way off loopback.
async fn browser(driver: &Driver, trap: &Trap, downloads: &Path, profile: &Path) -> Client {
    let mut args: Vec<String> = HERMETIC_SWITCHES.iter().map(|s| s.to_string()).collect();
    args.push(format!("--proxy-server=http://127.0.0.1:{}", trap.port));
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut options = serde_json::json!({
        "args": args,
        "prefs": {
            "download.default_directory": downloads.to_str().unwrap(),
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
        },
    });
    if Path::new("/usr/bin/chromium").exists() {
        options["binary"] = "/usr/bin/chromium".into();
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session (is the chromium package installed?)")
}

/// The steps' screenshots, numbered in order.
struct Shots {
    dir: PathBuf,
    taken: usize,
}

impl Shots {
    async fn take(&mut self, client: &Client, step: &str) {
        self.taken += 1;
        // A missing value shows as nothing, never as a template's "None".
        let text = client.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
        assert!(!text.contains("None"), "{step}: {text}");
        let path = self.dir.join(format!("{:02}-{step}.png", self.taken));
        std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
        println!("screenshot: {}", path.display());
    }
}

/// The text of every cell of the rows of the table `selector`.
async fn rows(client: &Client, selector: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for row in client
        .find_all(Locator::Css(&format!("{selector} tbody tr")))
        .await
        .unwrap()
    {
        let mut cells = Vec::new();
        for cell in row.find_all(Locator::Css("td, th")).await.unwrap() {
            cells.push(cell.text().await.unwrap());
        }
        out.push(cells);
    }
    out
}

/// Clicks `selector` and waits until the browser has left the page for
/// the one it leads to (a click returns before the navigation it starts).
async fn follow(client: &Client, selector: Locator<'_>) {
    let page = client.find(Locator::Css("html")).await.unwrap();
    client.find(selector).await.unwrap().click().await.unwrap();
    for _ in 0..400 {
        if page.tag_name().await.is_err() {
            let ready = client.execute("return document.readyState", vec![]).await;
            if ready.is_ok_and(|r| r == "complete") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the click led nowhere within 10 s");
}

async fn path_of(client: &Client) -> String {
    let url = client.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The file downloaded into `dir` once Chromium has finished writing it.
async fn downloaded(dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    for _ in 0..400 {
        let partial = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"));
        if path.exists() && !partial {
            return std::fs::read(&path).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    panic!(
        "{name} was not downloaded within 20 s; {} holds {found:?}",
        dir.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_logs_in_compares_an_amended_return_downloads_a_bundle_and_logs_out() {
    if !on_path("chromedriver") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and chromium-driver (see .ci/run)"
        );
        eprintln!("skipped: chromedriver not installed here (apt-get install chromium chromium-driver)");
        return;
    }
    let AmendedAugust { world, gstin, number } = amended_august().await;
    let now = world.clock.now();
    let selection = gstvault::app::export::Selection {
        gstin: gstin.to_string(),
        month: Some("2026-08".into()),
        ..Default::default()
    };
    let exported = gstvault::app::export::export_once(&world.config, &selection, now).unwrap();
    let file_name = exported.path.file_name().unwrap().to_str().unwrap().to_string();
    let request = AddUser {
        name: AUDITOR.into(),
        role: "auditor".into(),
        gstins: vec![gstin.to_string()],
        ..Default::default()
    };
    gstvault::app::users::add(&world.config, &request, PASSWORD, now).unwrap();
    // The two answers of August's credit notes: before and after the note.
    let versions: Vec<u64> = Reader::open(&world.config.archive_path)
        .unwrap()
        .list_snapshots(&SnapshotFilter {
            gstin: Some(gstin.clone()),
            endpoints: vec!["gstr-1-cdnr".into()],
            period: Some(PeriodFilter::Exactly(Period::parse("2026-08").unwrap())),
            ..Default::default()
        })
        .unwrap()
        .iter()
        .filter(|r| r.page == 0)
        .map(|r| r.seq.0)
        .collect();
    let [before, after] = versions[..] else {
        panic!("two captures of August's CDNR: {versions:?}")
    };

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (bound, server) = gstvault::web::start(
        Arc::new(world.config.clone()),
        world.clock.clone(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        async move {
            let _ = stopped.await;
        },
    )
    .await
    .unwrap();
    let base = format!("http://{bound}");
    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let trap = Trap::start().await;
    let client = browser(&driver, &trap, downloads.path(), profile.path()).await;
    let mut shots = Shots {
        dir: screenshot_dir(),
        taken: 0,
    };

    let steps = async {
        // Log in.
        client.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(path_of(&client).await, "/login", "no session: the login page");
        client
            .find(Locator::Css("#name"))
            .await
            .unwrap()
            .send_keys(AUDITOR)
            .await
            .unwrap();
        client
            .find(Locator::Css("#password"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        shots.take(&client, "login").await;
        follow(&client, Locator::Css("#login")).await;
        assert_eq!(path_of(&client).await, "/");
        let overview = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(overview.contains(gstin.as_str()), "{overview}");
        assert_eq!(
            client.find_all(Locator::Css("main tbody tr")).await.unwrap().len(),
            1,
            "the auditor sees only the GSTIN granted"
        );
        shots.take(&client, "overview").await;

        // Open the GSTIN.
        follow(&client, Locator::LinkText(gstin.as_str())).await;
        assert_eq!(path_of(&client).await, format!("/gstin/{gstin}"));
        shots.take(&client, "gstin").await;

        // Open August's credit notes as of the first capture's day.
        let link = format!("a[href='/gstin/{gstin}/return/gstr-1-cdnr/2026-08']");
        follow(&client, Locator::Css(&link)).await;
        let as_of = client.find(Locator::Css("#as_of")).await.unwrap();
        as_of.send_keys("2026-12-05").await.unwrap();
        follow(&client, Locator::Css("#show")).await;
        let shown = client.find(Locator::Css("#shown")).await.unwrap().text().await.unwrap();
        assert_eq!(
            shown,
            format!("snapshot {before}"),
            "as of 5 December: the first capture"
        );
        let main = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(!main.contains(&number), "the note came after 5 December: {main}");
        shots.take(&client, "return-as-of").await;

        // Compare with the later snapshot: the added note, its number and tax.
        client
            .find(Locator::Css("#compare"))
            .await
            .unwrap()
            .select_by_value(&after.to_string())
            .await
            .unwrap();
        let chosen = client
            .execute("return document.getElementById('compare').value", vec![])
            .await
            .unwrap();
        assert_eq!(
            chosen,
            serde_json::json!(after.to_string()),
            "the later snapshot chosen"
        );
        follow(&client, Locator::Css("#show")).await;
        assert_eq!(
            path_of(&client).await,
            format!("/gstin/{gstin}/return/gstr-1-cdnr/2026-08?as_of=2026-12-05&compare={after}")
        );
        let heading = client
            .find(Locator::Css("#differences"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(heading, format!("Changes from snapshot {before} to snapshot {after}"));
        let changes = rows(&client, "#changes").await;
        let note = changes
            .iter()
            .find(|r| r[2].starts_with(&number))
            .unwrap_or_else(|| panic!("{number} in the comparison: {changes:?}"));
        assert_eq!((note[0].as_str(), note[1].as_str()), ("CDNR", "added"), "{note:?}");
        assert_eq!((note[4].as_str(), note[5].as_str()), ("216.32", "216.32"), "{note:?}");
        client
            .execute("document.getElementById('differences').scrollIntoView()", vec![])
            .await
            .unwrap();
        shots.take(&client, "compare").await;

        // The later snapshot: its exact bytes, and their SHA-256.
        follow(&client, Locator::Css(&format!("a[href='/snapshot/{after}']"))).await;
        assert_eq!(path_of(&client).await, format!("/snapshot/{after}"));
        let body_sha = client
            .find(Locator::Css("#body-sha256"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body_sha.len(), 64, "{body_sha}");
        client.find(Locator::Css("#raw")).await.unwrap();
        shots.take(&client, "snapshot").await;

        // Download August's bundle: the file's SHA-256 is the one shown and recorded.
        follow(&client, Locator::LinkText("Bundles")).await;
        assert_eq!(path_of(&client).await, "/bundles");
        let row = client
            .find(Locator::Id(&exported.bundle_id))
            .await
            .expect("the exported bundle is listed");
        let shown_sha = row.find(Locator::Css("td.sha")).await.unwrap().text().await.unwrap();
        assert_eq!(shown_sha, exported.sha256.hex());
        shots.take(&client, "bundles").await;
        let download = row.find(Locator::Css("a.download")).await.unwrap();
        assert_eq!(download.text().await.unwrap(), file_name);
        download.click().await.unwrap();
        let bytes = downloaded(downloads.path(), &file_name).await;
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            shown_sha,
            "the file served is the bundle"
        );
        assert_eq!(bytes, std::fs::read(&exported.path).unwrap());

        // Phone width: the comparison loads, its table is reachable, nothing overflows sideways.
        client.set_window_size(390, 844).await.unwrap();
        client
            .goto(&format!(
                "{base}/gstin/{gstin}/return/gstr-1-cdnr/2026-08?as_of=2026-12-05&compare={after}"
            ))
            .await
            .unwrap();
        let table = client.find(Locator::Css("#changes")).await.unwrap();
        let widths = client
            .execute(
                "arguments[0].scrollIntoView(); const d = document.documentElement; \
                 return [d.scrollWidth, d.clientWidth, document.body.scrollWidth, window.innerWidth];",
                vec![serde_json::to_value(&table).unwrap()],
            )
            .await
            .unwrap();
        let widths: Vec<u64> = serde_json::from_value(widths).unwrap();
        assert!(widths[3] <= 420, "a phone-width window: {widths:?}");
        assert!(
            widths[0] <= widths[1] && widths[2] <= widths[1],
            "the page overflows sideways at phone width (scroll, client, body, inner): {widths:?}"
        );
        assert!(table.is_displayed().await.unwrap());
        assert!(rows(&client, "#changes")
            .await
            .iter()
            .any(|r| r[2].starts_with(&number)));
        shots.take(&client, "phone-compare").await;
        client.set_window_size(1366, 768).await.unwrap();

        // Log out: the next page is the login page.
        client.goto(&format!("{base}/")).await.unwrap();
        follow(&client, Locator::Css("#logout")).await;
        assert_eq!(path_of(&client).await, "/login");
        client.goto(&format!("{base}/gstin/{gstin}")).await.unwrap();
        assert_eq!(path_of(&client).await, "/login", "logged out: sent to the login page");
        client.find(Locator::Css("#login")).await.unwrap();
        shots.take(&client, "logged-out").await;

        // Off loopback: an outside page reaches the trap, never a network.
        let _ = client.goto("http://outside.gstvault.invalid/evidence").await;
        let asked = trap.asked();
        assert!(
            asked.iter().any(|line| line.contains("outside.gstvault.invalid")),
            "the outside request went past the trap proxy: {asked:?}"
        );
        eprintln!("the browser's requests off loopback, all answered by the trap: {asked:?}");
    };
    let result = std::panic::AssertUnwindSafe(steps).catch_unwind().await;
    let _ = client.close().await;
    drop(driver);
    let _ = stop.send(());
    let _ = server.await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
