//! The web view over HTTP, against an archive captured from the simulator:
//! each page for each role, and each refusal as the issue lists them (no
//! session → the login page; out of scope, an expired grant, an unknown
//! snapshot or a path traversal → the same 404; a missing CSRF token → 403;
//! a bad GSTIN or period → 400 naming it), the security headers on every
//! answer, login rate limits, a removed account logged out at once, no
//! secret or hash on any page, and every view in the access log.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Duration;
use gstvault::app::users::{add, remove, AddUser};
use gstvault::evidence::bundle::export::ExportRequest;
use gstvault::store::access::AccessLog;
use gstvault::web::archive::ArchiveAccounts;
use gstvault::web::{WebOptions, WebState};

use crate::bundle::{fixture_key, request};
use crate::support::World;

const ADMIN: (&str, &str) = ("alice", "alice password LEAKCANARY");
const AUDITOR: (&str, &str) = ("bob", "bob password LEAKCANARY");
const STAFF: (&str, &str) = ("carol", "carol password LEAKCANARY");

/// A browser without JavaScript: follows no redirects, keeps cookies.
struct Visitor {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
    bytes: Vec<u8>,
}

impl Visitor {
    fn new(addr: SocketAddr) -> Visitor {
        Visitor {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let response = request
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = set.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap().to_vec();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    async fn login(&mut self, (name, password): (&str, &str)) -> Answer {
        let page = self.get("/login").await;
        let csrf = field(&page.body, "csrf");
        self.post("/login", &[("name", name), ("password", password), ("csrf", &csrf)])
            .await
    }
}

/// The value of the hidden input `name` in `html`.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn world_with_web(until: Option<String>) -> (World, SocketAddr, String) {
    let world = World::build(|_| {}, 8).await;
    world.login_all().await;
    let gstins = world.gstins();
    world
        .capture(&world.plan(&gstins[..2], None, "2026-04", "2026-05"))
        .await;
    // One bundle of the first GSTIN, into the configured bundles folder.
    let (key, _) = fixture_key("test");
    let bundle = ExportRequest {
        out_dir: world.config.bundles_dir.clone(),
        ..request(&world, &world.config.bundles_dir, "2026-05")
    };
    let exported =
        gstvault::app::export::export(&mut world.store.lock().unwrap(), &key, &bundle, world.clock.now()).unwrap();
    let now = world.clock.now();
    for ((name, password), role, gstin, until) in [
        (ADMIN, "admin", None, None),
        (AUDITOR, "auditor", Some(gstins[1].to_string()), until),
        (STAFF, "staff", None, None),
    ] {
        let request = AddUser {
            name: name.into(),
            role: role.into(),
            gstins: gstin.into_iter().collect(),
            from: None,
            to: None,
            until,
        };
        add(&world.config, &request, password, now).unwrap();
    }
    let addr = serve_web(
        &world,
        world.config.clone(),
        WebOptions {
            session_minutes: 7 * 24 * 60,
            ..WebOptions::default()
        },
    )
    .await;
    (world, addr, exported.bundle_id)
}

/// The web view of `config`'s archive on a free loopback port, on the
/// world's clock, with `options`; serves until the test ends.
async fn serve_web(world: &World, config: gstvault::config::Config, options: WebOptions) -> SocketAddr {
    let config = Arc::new(config);
    let state = Arc::new(WebState::new(
        Arc::clone(&config),
        Arc::new(ArchiveAccounts::new(&config.archive_path)),
        Arc::new(AccessLog::open(&config.archive_path).unwrap()),
        world.clock.clone(),
        options,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(gstvault::web::serve(state, listener, std::future::pending()));
    addr
}

/// Adds the admin account [`ADMIN`].
fn add_admin(world: &World) {
    let request = AddUser {
        name: ADMIN.0.into(),
        role: "admin".into(),
        ..Default::default()
    };
    add(&world.config, &request, ADMIN.1, world.clock.now()).unwrap();
}

fn assert_headers(a: &Answer, what: &str) {
    let csp = a.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(a.headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(a.headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(a.headers["cache-control"], "no-store", "{what}");
    for secret in ["LEAKCANARY", "$argon2", "secret_test", "gv_session="] {
        assert!(!a.body.contains(secret), "{what} shows {secret}");
    }
    assert!(!a.body.contains("<script"), "{what}: no JavaScript");
}

#[tokio::test]
async fn each_page_for_each_role_and_each_refusal() {
    let (world, addr, bundle_id) = world_with_web(None).await;
    let gstins = world.gstins();
    let (own, other) = (gstins[1].to_string(), gstins[0].to_string());

    // No session: every page sends you to the login page.
    let mut nobody = Visitor::new(addr);
    for path in ["/", &format!("/gstin/{own}"), "/bundles", "/access", "/snapshot/1/raw"] {
        let a = nobody.get(path).await;
        assert_eq!(
            (a.status, a.headers["location"].to_str().unwrap()),
            (303, "/login"),
            "{path}"
        );
        assert_headers(&a, path);
    }
    let login = nobody.get("/login").await;
    assert_eq!(login.status, 200);
    assert_headers(&login, "login page");
    let cookie = &login.headers[reqwest::header::SET_COOKIE];
    let cookie = cookie.to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    // A login without its CSRF token is refused; a wrong password says so.
    let a = nobody
        .post("/login", &[("name", ADMIN.0), ("password", ADMIN.1), ("csrf", "")])
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = nobody.login((ADMIN.0, "wrong password, twelve")).await;
    assert_eq!(a.status, 401);
    assert!(a.body.contains("Name or password is wrong"));

    // Admin: every page.
    let mut admin = Visitor::new(addr);
    let a = admin.login(ADMIN).await;
    assert_eq!((a.status, a.headers["location"].to_str().unwrap()), (303, "/"));
    let session = a
        .headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("gv_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict") && !session.contains("Secure"),
        "{session}"
    );
    let overview = admin.get("/").await;
    assert_eq!(overview.status, 200);
    assert_headers(&overview, "overview");
    for g in &gstins {
        assert!(overview.body.contains(g.as_str()), "admin sees {g}");
    }
    // Open findings: the financial year's closed months that do not agree.
    assert!(overview.body.contains("Open findings"), "{}", overview.body);
    assert!(
        overview.body.contains("could not be reconciled (FY ") || overview.body.contains(" differ (FY "),
        "the captured months' findings are counted: {}",
        overview.body
    );
    assert!(
        overview.body.contains("Simulated data"),
        "answers from a simulator say so"
    );
    let page = admin.get(&format!("/gstin/{own}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<caption>"), "tables are labelled");
    // Each chart's months link to the pages that show their figures with their snapshots.
    for href in [
        format!("/gstin/{own}/itc?month=2026-04"),
        format!("/gstin/{own}/return/gstr-3b/2026-04"),
        format!("/gstin/{own}/changes?period=2026-04"),
    ] {
        let escaped = href.replace('/', "&#x2f;");
        assert!(
            page.body.contains(&format!("href=\"{escaped}\"")),
            "the GSTIN page links {href}"
        );
    }
    let r3b = admin.get(&format!("/gstin/{own}/return/gstr-3b/2026-04")).await;
    assert_eq!(r3b.status, 200, "{}", r3b.body);
    assert!(
        r3b.body.contains("Table 3.1") && r3b.body.contains("Table 6.1"),
        "the 3B in the form's layout"
    );
    let changes = admin.get(&format!("/gstin/{own}/changes?kind=amendment")).await;
    assert_eq!(changes.status, 200);
    let bundles = admin.get("/bundles").await;
    assert_eq!(bundles.status, 200);
    assert!(bundles.body.contains(&bundle_id), "{}", bundles.body);
    let access = admin.get("/access").await;
    assert_eq!(access.status, 200);
    assert!(access.body.contains("login refused for alice"), "refusals are logged");
    assert!(access.body.contains("/bundles"), "views are logged");

    // A bundle downloads as the recorded bytes, with their SHA-256.
    let zip = admin.get(&format!("/bundles/{bundle_id}")).await;
    assert_eq!(zip.status, 200);
    let sha = gstvault::domain::digest::Digest::of(&zip.bytes).hex();
    assert_eq!(zip.headers["x-content-sha256"].to_str().unwrap(), sha);
    assert!(bundles.body.contains(&sha), "the bundles page shows the file's SHA-256");

    // A snapshot and its exact bytes.
    let seq = {
        let store = world.store.lock().unwrap();
        let row = store
            .list_snapshots(&gstvault::store::SnapshotFilter {
                gstin: Some(gstins[1].clone()),
                endpoints: vec!["gstr-3b".into()],
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .find(|r| r.payload_sha256.is_some())
            .unwrap();
        row.seq
    };
    let snapshot = admin.get(&format!("/snapshot/{}", seq.0)).await;
    assert_eq!(snapshot.status, 200);
    let raw = admin.get(&format!("/snapshot/{}/raw", seq.0)).await;
    assert_eq!(raw.status, 200);
    let stored = world.store.lock().unwrap().body(seq).unwrap().unwrap();
    assert_eq!(raw.bytes, stored, "the exact bytes received");
    let body_sha = gstvault::domain::digest::Digest::of(&stored).hex();
    assert!(
        snapshot.body.contains(&body_sha),
        "the snapshot page shows their SHA-256"
    );
    assert_eq!(raw.headers["x-content-sha256"].to_str().unwrap(), body_sha);

    // Balances, ITC and the document search.
    let balances = admin.get(&format!("/gstin/{own}/balances?fy=2026-27")).await;
    assert_eq!(balances.status, 200, "{}", balances.body);
    assert!(balances.body.contains("2026-04"), "{}", balances.body);
    let itc = admin.get(&format!("/gstin/{own}/itc?month=2026-04")).await;
    assert_eq!(itc.status, 200, "{}", itc.body);
    let (number, holder) = {
        let store = world.store.lock().unwrap();
        let row = store
            .list_snapshots(&gstvault::store::SnapshotFilter {
                gstin: Some(gstins[0].clone()),
                endpoints: vec!["gstr-1-b2b".into()],
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .rev()
            .find(|r| r.outcome == gstvault::domain::envelope::Outcome::Ok)
            .unwrap();
        let payload = store.payload(row.payload_sha256.as_ref().unwrap()).unwrap().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        (
            value["b2b"][0]["inv"][0]["inum"].as_str().unwrap().to_string(),
            gstins[0].to_string(),
        )
    };
    let found = admin.get(&format!("/search?q={}", number.replace('/', "%2F"))).await;
    assert_eq!(found.status, 200);
    // minijinja escapes `/` as `&#x2f;` (the browser shows `/`).
    let shown = number.replace('/', "&#x2f;");
    assert!(
        found.body.contains(&shown) && found.body.contains(&holder),
        "{number}: {}",
        found.body
    );
    assert_eq!(admin.get(&format!("/search?q={}", "x".repeat(65))).await.status, 400);

    // Bad input: 400 naming it; unknown things and traversal: 404.
    for (path, status, says) in [
        ("/gstin/27AAPFU0939F1ZX".to_string(), 400, "check"),
        ("/gstin/nonsense".to_string(), 400, "15 characters"),
        (format!("/gstin/{own}/return/gstr-3b/2026-13"), 400, "period"),
        (
            format!("/gstin/{own}/return/gstr-3b/2026-04?as_of=yesterday"),
            400,
            "as of",
        ),
        (format!("/gstin/{own}/changes?kind=sideways"), 400, "kind"),
        (format!("/gstin/{own}/changes?page=0"), 400, "page"),
        (format!("/gstin/{own}/changes?page=two"), 400, "page"),
        (format!("/gstin/{own}/changes?page=99"), 404, "Not found"),
        ("/snapshot/abc".to_string(), 400, "snapshot"),
        ("/snapshot/999999999".to_string(), 404, "Not found"),
        (
            format!("/gstin/{own}/return/no-such-endpoint/2026-04"),
            404,
            "Not found",
        ),
        ("/bundles/..%2F..%2Fgstvault.toml".to_string(), 404, "Not found"),
        ("/bundles/../../gstvault.toml".to_string(), 404, "Not found"),
        ("/static/../gstvault.toml".to_string(), 404, "Not found"),
        ("/nowhere".to_string(), 404, "Not found"),
    ] {
        let a = admin.get(&path).await;
        assert_eq!(a.status, status, "{path}: {}", a.body);
        assert!(a.body.contains(says), "{path}: {}", a.body);
        assert_headers(&a, &path);
    }

    // Auditor: only the granted GSTIN; anything else is the same 404.
    let mut auditor = Visitor::new(addr);
    assert_eq!(auditor.login(AUDITOR).await.status, 303);
    let overview = auditor.get("/").await;
    assert!(
        overview.body.contains(&own) && !overview.body.contains(&other),
        "{}",
        overview.body
    );
    assert_eq!(auditor.get(&format!("/gstin/{own}")).await.status, 200);
    let unknown = auditor.get("/nowhere").await.body;
    for path in [
        format!("/gstin/{other}"),
        format!("/gstin/{other}/return/gstr-3b/2026-04"),
        format!("/gstin/{other}/changes"),
        format!("/bundles/{bundle_id}"),
        "/access".to_string(),
    ] {
        let a = auditor.get(&path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.body, unknown, "{path}: out of scope reads as unknown");
    }
    let bundles = auditor.get("/bundles").await;
    assert!(
        !bundles.body.contains(&bundle_id),
        "the other GSTIN's bundle is not listed"
    );
    let other_snapshot = {
        let store = world.store.lock().unwrap();
        store
            .list_snapshots(&gstvault::store::SnapshotFilter {
                gstin: Some(gstins[0].clone()),
                ..Default::default()
            })
            .unwrap()[0]
            .seq
    };
    assert_eq!(
        auditor.get(&format!("/snapshot/{}", other_snapshot.0)).await.status,
        404
    );
    assert_eq!(
        auditor.get(&format!("/snapshot/{}/raw", other_snapshot.0)).await.status,
        404
    );

    // Staff: every GSTIN, but not the access log.
    let mut staff = Visitor::new(addr);
    assert_eq!(staff.login(STAFF).await.status, 303);
    assert_eq!(staff.get(&format!("/gstin/{other}")).await.status, 200);
    assert_eq!(staff.get("/access").await.status, 404);

    // Logout: a POST with the session's CSRF token; without it, 403.
    let page = auditor.get("/").await;
    let csrf = field(&page.body, "csrf");
    assert_eq!(auditor.post("/logout", &[("csrf", "")]).await.status, 403);
    assert_eq!(auditor.post("/logout", &[]).await.status, 403);
    let out = auditor.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.headers["location"].to_str().unwrap()), (303, "/login"));
    assert_eq!(auditor.get("/").await.status, 303, "logged out");

    // A removed account is logged out at once.
    remove(&world.config, STAFF.0, world.clock.now()).unwrap();
    assert_eq!(staff.get("/").await.status, 303);
    assert_eq!(staff.login(STAFF).await.status, 401);

    // Every request is in the access log, with who and what.
    let log = world.store.lock().unwrap().access_log(0).unwrap();
    assert!(log
        .iter()
        .any(|r| r.user == "alice" && r.what.starts_with("download bundle") && r.status == 200));
    assert!(log
        .iter()
        .any(|r| r.user == "bob" && r.status == 404 && r.path == format!("/gstin/{other}")));
    assert!(log.iter().any(|r| r.user == "-" && r.path == "/" && r.status == 303));
    assert!(log
        .iter()
        .all(|r| !r.path.contains("LEAKCANARY") && !r.what.contains("LEAKCANARY")));
}

#[tokio::test]
async fn an_expired_grant_sees_nothing_and_logins_are_rate_limited() {
    // The world's clock starts at crate::support's start instant (2026-06-25).
    let until = (gstvault::domain::period::india_date(crate::support::start_instant()) + Duration::days(1)).to_string();
    let (world, addr, _) = world_with_web(Some(until)).await;
    let own = world.gstins()[1].to_string();
    let mut auditor = Visitor::new(addr);
    assert_eq!(auditor.login(AUDITOR).await.status, 303);
    assert_eq!(auditor.get(&format!("/gstin/{own}")).await.status, 200);
    // The grant ends: the same session now sees nothing.
    // Two days on: within a week-long session, past the grant's last day.
    world.sim.sim.advance(Duration::days(2));
    let a = auditor.get(&format!("/gstin/{own}")).await;
    assert_eq!(a.status, 404, "an expired grant answers the one 404");
    assert!(!auditor.get("/").await.body.contains(&own));
    // Wrong passwords: five an account a minute, then 429 even for the right one.
    let mut guesser = Visitor::new(addr);
    for _ in 0..5 {
        assert_eq!(guesser.login((ADMIN.0, "not the password at all")).await.status, 401);
    }
    assert_eq!(guesser.login(ADMIN).await.status, 429);
}

#[tokio::test]
async fn the_daemon_serves_the_web_view_when_web_listen_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = "capture = \"\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\nsession_refresh = \"\"\nverify = \"\"";
    let (sim, mut config) = crate::daemon::setup(dir.path(), quiet, World::builder().seed(6)).await;
    config.web.listen = Some("127.0.0.1:0".parse().unwrap());
    let daemon =
        gstvault::daemon::Daemon::new(config, crate::support::credentials(), Arc::new(sim.sim.clone())).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(daemon.clone().serve(async move {
        let _ = rx.await;
    }));
    let addr = loop {
        if let Some(addr) = daemon.web_listening() {
            break addr;
        }
        tokio::task::yield_now().await;
    };
    let mut visitor = Visitor::new(addr);
    let login = visitor.get("/login").await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.body.contains("Log in"));
    assert_eq!(visitor.get("/").await.status, 303);
    tx.send(()).unwrap();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn built_in_tls_serves_the_web_view_with_secure_cookies() {
    let world = World::build(|_| {}, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("web.crt"), dir.path().join("web.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let mut config = world.config.clone();
    config.web.tls = Some((cert_path, key_path));
    let (addr, _task) = gstvault::web::start(
        Arc::new(config),
        world.clock.clone(),
        "127.0.0.1:0".parse().unwrap(),
        std::future::pending(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http.get(format!("https://{addr}/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
    // Plain HTTP to the TLS port gets no page.
    let plain = reqwest::Client::new().get(format!("http://{addr}/login")).send().await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    // A missing key file is refused, naming it.
    let mut broken = world.config.clone();
    broken.web.tls = Some((dir.path().join("web.crt"), dir.path().join("missing.key")));
    let error = gstvault::web::start(
        Arc::new(broken),
        world.clock.clone(),
        "127.0.0.1:0".parse().unwrap(),
        std::future::pending(),
    )
    .await
    .err()
    .unwrap();
    assert!(format!("{error:#}").contains("missing.key"), "{error:#}");
}

/// The web view keeps what its pages compute per archive head: after a new
/// capture, the very next visit shows it. The demo's August credit note
/// arrives with the second capture; the changes timeline, the search and
/// the GSTIN grid visited before it do not show it, and after it they do.
#[tokio::test]
async fn a_capture_shows_at_once_on_pages_seen_before_it() {
    use chrono::{TimeZone, Utc};
    use gstvault::domain::catalog;
    let now = Utc.with_ymd_and_hms(2026, 12, 20, 9, 0, 0).unwrap();
    let world = World::builder()
        .seed(2026)
        .start_at(now - Duration::days(15))
        .keygen()
        .start()
        .await;
    world.login_all().await;
    // The GSTIN with the simulator's August credit note between the captures.
    let (gstin, number) = crate::changes::august_credit_note(&world, now - Duration::days(15), now);
    let plan = |names: &[&str]| {
        let endpoints: Vec<&'static catalog::Endpoint> = names.iter().map(|n| catalog::find(n).unwrap()).collect();
        world.plan(std::slice::from_ref(&gstin), Some(endpoints), "2026-08", "2026-11")
    };
    let others = ["gstr-1-summary", "gstr-1-b2b", "return-track"];
    world.capture(&plan(&["gstr-1-cdnr"])).await;
    world.capture(&plan(&others)).await;
    // Fifteen days on, the note is on the portal; the other returns are
    // captured again first, on the same day as the credit notes after them.
    world.sim.sim.advance(Duration::days(15));
    world.login_all().await;
    world.capture(&plan(&others)).await;
    add_admin(&world);
    let (bound, _server) = gstvault::web::start(
        Arc::new(world.config.clone()),
        world.clock.clone(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        std::future::pending(),
    )
    .await
    .unwrap();
    let mut visitor = Visitor::new(bound);
    assert_eq!(visitor.login(ADMIN).await.status, 303);
    let pages = [
        format!("/gstin/{gstin}/changes"),
        format!("/search?q={}", number.replace('/', "%2F")),
    ];
    // The search echoes its question in its form: count the note's mentions.
    let shown = number.replace('/', "&#x2f;");
    let mut before = Vec::new();
    for page in &pages {
        let answer = visitor.get(page).await;
        assert_eq!(answer.status, 200, "{page}");
        before.push(answer.body.matches(&shown).count());
    }
    assert_eq!(before, [0, 1], "the note is nowhere before its capture");
    let grid_before = visitor.get(&format!("/gstin/{gstin}")).await.body;

    // The same day, the credit notes: the archive's head moves, not the date.
    world.capture(&plan(&["gstr-1-cdnr"])).await;
    for (page, before) in pages.iter().zip(before) {
        let after = visitor.get(page).await.body.matches(&shown).count();
        assert!(after > before, "{page} after the capture shows {number}");
    }
    let grid_after = visitor.get(&format!("/gstin/{gstin}")).await.body;
    assert_ne!(grid_before, grid_after, "the grid counts the new answers");
}

/// Behind a TLS proxy (`[web] behind_tls_proxy`) the browser's address is
/// the one the proxy appended last to `X-Forwarded-For`: the access log
/// records it and the per-address login limit counts it, so one browser's
/// guesses do not lock out everyone behind the same proxy. Entries before
/// it are the browser's own word and ignored; without the setting the
/// header is ignored altogether.
#[tokio::test]
async fn behind_a_proxy_the_browsers_address_is_the_proxys_last_forwarded_for() {
    let world = World::build(|_| {}, 8).await;
    let serve_with = |behind: bool| {
        let mut config = world.config.clone();
        config.web.behind_tls_proxy = behind;
        serve_web(&world, config, WebOptions::default())
    };
    let last_address = || {
        gstvault::store::Reader::open(&world.config.archive_path)
            .unwrap()
            .access_log(1)
            .unwrap()
            .remove(0)
            .address
    };
    let forwarded = |visitor: &Visitor, path: &str, chain: &str| {
        visitor
            .http
            .get(format!("{}{path}", visitor.base))
            .header("x-forwarded-for", chain)
    };
    // Behind the proxy: the last entry, never the browser's claim before it.
    let proxied = serve_with(true).await;
    let mut visitor = Visitor::new(proxied);
    let request = forwarded(&visitor, "/login", "6.6.6.6, 203.0.113.7");
    assert_eq!(visitor.send(request).await.status, 200);
    assert_eq!(last_address(), "203.0.113.7");
    // Not behind one: the header is anybody's, and ignored.
    let mut direct = Visitor::new(serve_with(false).await);
    let request = forwarded(&direct, "/login", "203.0.113.7");
    assert_eq!(direct.send(request).await.status, 200);
    assert_eq!(last_address(), "127.0.0.1");

    // Twenty wrong passwords from one browser behind the proxy, for twenty
    // accounts: that browser is limited, another behind the same proxy is not.
    let mut statuses = Vec::new();
    for i in 0..21 {
        statuses.push(wrong_login(&mut visitor, &format!("user{i}"), "198.51.100.1").await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let mut other = Visitor::new(proxied);
    assert_ne!(wrong_login(&mut other, "user0x", "198.51.100.2").await, 429);
}

/// A login with a wrong password, through a proxy that forwards `from`.
async fn wrong_login(visitor: &mut Visitor, account: &str, from: &str) -> u16 {
    let page = visitor
        .http
        .get(format!("{}/login", visitor.base))
        .header("x-forwarded-for", from);
    let csrf = field(&visitor.send(page).await.body, "csrf");
    let post = visitor
        .http
        .post(format!("{}/login", visitor.base))
        .header("x-forwarded-for", from)
        .form(&[("name", account), ("password", "wrong password"), ("csrf", &csrf)]);
    visitor.send(post).await.status
}

/// The changes timeline in pages, newest first: each line on exactly one
/// page, "Older changes" and "Newer changes" links that keep the filters,
/// and the caption counting the lines of every page.
#[tokio::test]
async fn the_changes_timeline_pages_its_lines_newest_first() {
    let crate::changes::AmendedAugust { world, gstin, number } = crate::changes::amended_august().await;
    add_admin(&world);
    let addr = serve_web(
        &world,
        world.config.clone(),
        WebOptions {
            changes_per_page: 2,
            ..WebOptions::default()
        },
    )
    .await;
    let mut visitor = Visitor::new(addr);
    assert_eq!(visitor.login(ADMIN).await.status, 303);

    let rows = |body: &str| -> Vec<String> {
        let tbody = body
            .split("<tbody>")
            .nth(1)
            .unwrap_or("")
            .split("</tbody>")
            .next()
            .unwrap_or("");
        tbody.split("<tr>").skip(1).map(|r| r.to_string()).collect()
    };
    let href = |body: &str, id: &str| -> Option<String> {
        let marker = "<a href=\"";
        body.split(marker)
            .skip(1)
            .find(|a| a.contains(&format!("id=\"{id}\"")))
            .map(|a| {
                a.split('"')
                    .next()
                    .unwrap()
                    .replace("&#x2f;", "/")
                    .replace("&amp;", "&")
            })
    };
    let mut path = format!("/gstin/{gstin}/changes?group=gstr-1");
    let mut seen = Vec::new();
    let mut pages = 0;
    let total = loop {
        let page = visitor.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        pages += 1;
        let lines = rows(&page.body);
        assert!(!lines.is_empty() && lines.len() <= 2, "{path}: {} lines", lines.len());
        assert_eq!(
            href(&page.body, "newer").is_some(),
            pages > 1,
            "{path}: a newer link from page 2 on"
        );
        seen.extend(lines);
        match href(&page.body, "older") {
            Some(next) => {
                assert!(
                    next.contains("group=gstr-1&") && next.ends_with(&format!("page={}", pages + 1)),
                    "{next}"
                );
                path = next;
            }
            None => {
                let caption = page
                    .body
                    .split("<caption>")
                    .nth(1)
                    .unwrap()
                    .split("</caption>")
                    .next()
                    .unwrap();
                break caption
                    .split(" of ")
                    .nth(1)
                    .and_then(|t| t.split_whitespace().next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or_else(|| panic!("a total in {caption}"));
            }
        }
    };
    assert!(pages >= 2, "{total} lines in {pages} page(s)");
    assert_eq!(seen.len(), total, "every line on one page");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no line on two pages");
    let shown = number.replace('/', "&#x2f;");
    assert_eq!(
        seen.iter().filter(|r| r.contains(&shown)).count(),
        1,
        "the August note on one page"
    );
    // Newest first across the pages: the detection times never rise.
    let detected: Vec<&str> = seen
        .iter()
        .map(|r| r.split("<td>").nth(1).unwrap().split("</td>").next().unwrap())
        .collect();
    assert!(detected.windows(2).all(|w| w[0] >= w[1]), "{detected:?}");
}
