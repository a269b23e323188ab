//! Health conditions and alerts (issue 16): `/healthz` turns 503 with one
//! reason line per condition and 200 once all clear; a webhook receiver on
//! loopback gets exactly one "raised" and one "cleared" per edge, retried
//! through 5xx and 429 but not 4xx; a restarted daemon raises nothing twice
//! and sends what cleared while it was down. The e-mail channel and the
//! secrets of both channels are checked on the binary (tests/it/secrets.rs)
//! against the SMTP sink here. Everything on 127.0.0.1, waiting on events.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gstvault::config::Config;
use gstvault::daemon::{Daemon, JobResult};
use gstvault::domain::health::Delivery;
use gstvault::domain::schedule::JobKind;
use gstvault::sim::{self, Faults, RunningSimulator};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

use crate::support::{credentials, World};

/// Every cron schedule off but a nightly capture (02:30 IST by the wall
/// clock: nothing fires within a test; the schedule only sets how old a
/// capture may get).
const NIGHTLY_CAPTURE_ONLY: &str =
    "capture = \"0 30 2 * * *\"\ncheckpoint = \"\"\nexport_month = \"\"\nexport_year = \"\"\n\
     session_refresh = \"\"\nverify = \"\"";

/// A webhook receiver: answers each POST with the next status of its script
/// (then 200) and records every request.
pub(crate) struct Hook {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<(u16, Value)>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

#[derive(Clone)]
struct HookState {
    requests: Arc<Mutex<Vec<(u16, Value)>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Hook {
    pub(crate) async fn start() -> Hook {
        use axum::extract::State;
        async fn receive(State(state): State<HookState>, body: axum::body::Bytes) -> axum::http::StatusCode {
            let status = state.script.lock().unwrap().pop_front().unwrap_or(200);
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            state.requests.lock().unwrap().push((status, body));
            axum::http::StatusCode::from_u16(status).unwrap()
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let app = axum::Router::new().fallback(receive).with_state(HookState {
            requests: requests.clone(),
            script: script.clone(),
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Hook { addr, requests, script }
    }

    /// The URL, with a token in its path and query as real webhooks have.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook/T0KEN-in-path?token=T0KEN-in-query", self.addr)
    }

    /// Answers the next POSTs with these statuses.
    fn answer(&self, statuses: &[u16]) {
        self.script.lock().unwrap().extend(statuses);
    }

    fn requests(&self) -> Vec<(u16, Value)> {
        self.requests.lock().unwrap().clone()
    }

    /// (state, condition) of every alert it accepted, in order.
    fn edges(&self) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| {
                (
                    body["state"].as_str().unwrap().to_string(),
                    body["condition"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// One mail the sink accepted: the AUTH PLAIN credentials sent (decoded,
/// NULs as spaces) and the message as transmitted.
#[derive(Clone, Debug)]
pub(crate) struct Mail {
    pub auth: Option<String>,
    pub data: String,
}

/// A minimal SMTP server on loopback (test only): EHLO offering AUTH PLAIN,
/// MAIL, RCPT, DATA, QUIT; it keeps what it is sent.
pub(crate) struct SmtpSink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub(crate) async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (keep, notify) = (mails.clone(), arrived.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, keep.clone(), notify.clone()));
            }
        });
        SmtpSink { addr, mails, arrived }
    }

    pub(crate) fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (at most a minute) until `n` mails have arrived.
    pub(crate) async fn wait_for(&self, n: usize) {
        tokio::time::timeout(Duration::from_secs(60), async {
            while self.mails.lock().unwrap().len() < n {
                self.arrived.notified().await;
            }
        })
        .await
        .expect("the mail arrives");
    }
}

async fn smtp_session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>, arrived: Arc<Notify>) {
    use base64::Engine as _;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut auth = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            let mut encoded = line[10..].trim().to_string();
            if encoded.is_empty() {
                let _ = write.write_all(b"334 \r\n").await;
                encoded = lines.next_line().await.ok().flatten().unwrap_or_default();
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap_or_default();
            auth = Some(String::from_utf8_lossy(&decoded).replace('\0', " "));
            b"235 2.7.0 accepted\r\n"
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 end with a dot\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(&line);
                data.push('\n');
            }
            mails.lock().unwrap().push(Mail {
                auth: auth.clone(),
                data,
            });
            arrived.notify_one();
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"]
            .iter()
            .any(|c| upper.starts_with(c))
        {
            b"250 ok\r\n"
        } else {
            b"502 not here\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// One demo GSTIN (not logged in) under `dir`, a signing key, the webhook to
/// `hook` (retries 1 ms apart), `daemon_section`.
async fn world(
    dir: &Path,
    hook: &Hook,
    daemon_section: &str,
    sim: impl FnOnce(&mut sim::SimConfig) + Send + 'static,
) -> World {
    World::builder()
        .gstins(sim::demo_gstins()[..1].to_vec())
        .test_client()
        .sim(sim)
        .capture("groups = [\"ledgers\", \"gstr-3b\"]")
        .daemon(daemon_section)
        .alerts(&format!("webhook = \"{}\"\nretry_base_ms = 1", hook.url()))
        .dir(dir)
        .keygen()
        .start()
        .await
}

fn daemon(config: &Config, sim: &RunningSimulator) -> Arc<Daemon> {
    Daemon::new(config.clone(), credentials(), Arc::new(sim.sim.clone())).unwrap()
}

/// Evaluates now and waits until what that raised or cleared was delivered.
async fn settle(daemon: &Daemon) {
    daemon.evaluate_alerts();
    daemon.alerts_sent().await;
}

/// `GET /healthz` of a serving daemon: status and body.
async fn healthz(addr: SocketAddr) -> (u16, String) {
    let answer = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// Asserts /healthz is 503 with exactly one line containing `needle`.
async fn unhealthy_with(addr: SocketAddr, needle: &str) -> String {
    let (status, body) = healthz(addr).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body.lines().filter(|l| l.contains(needle)).count(),
        1,
        "one reason line with {needle:?}:\n{body}"
    );
    body
}

async fn healthy(addr: SocketAddr) {
    assert_eq!(healthz(addr).await, (200, "ok\n".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_the_webhook_follow_every_condition_from_start_to_clear() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let section = format!("listen = \"127.0.0.1:0\"\n{NIGHTLY_CAPTURE_ONLY}");
    let world = world(dir.path(), &hook, &section, |c| c.retry_after_secs = 0).await;
    let config = world.config.clone();
    let gstin = config.gstins[0].gstin.clone();
    let daemon = daemon(&config, &world.sim);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(daemon.clone().serve(async move {
        let _ = stopped.await;
    }));
    let addr = loop {
        if let Some(addr) = daemon.listening() {
            break addr;
        }
        tokio::task::yield_now().await;
    };
    // The first heartbeat comes as soon as the daemon serves.
    for _ in 0..10_000 {
        if !daemon.health().1.iter().any(|r| r.starts_with("scheduler")) {
            break;
        }
        tokio::task::yield_now().await;
    }

    // a. Never logged in.
    settle(&daemon).await;
    let body = unhealthy_with(addr, "needs login: never logged in").await;
    assert_eq!(body.lines().count(), 1, "{body}");
    world.login_all().await;
    settle(&daemon).await;
    healthy(addr).await;

    // c. A capture whose every call fails, then one that succeeds.
    world.sim.sim.set_faults(Faults {
        error_5xx: 1.0,
        seed: 3,
        ..Faults::default()
    });
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    daemon.alerts_sent().await;
    unhealthy_with(addr, &format!("{gstin}: last capture failed: run 1: ")).await;
    world.sim.sim.set_faults(Faults::default());
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    daemon.alerts_sent().await;
    healthy(addr).await;

    // d. The key gone: the capture's entries stay unsigned until a checkpoint.
    let moved = config.signing_key.with_extension("moved");
    std::fs::rename(&config.signing_key, &moved).unwrap();
    world.sim.sim.advance(chrono::Duration::hours(1));
    let result = daemon.run_job(JobKind::Capture).await;
    assert!(
        matches!(&result, JobResult::Ok(d) if d.contains("no signing key")),
        "{result:?}"
    );
    daemon.alerts_sent().await;
    unhealthy_with(addr, "checkpoint unsigned: ").await;
    std::fs::rename(&moved, &config.signing_key).unwrap();
    assert!(matches!(daemon.run_job(JobKind::Checkpoint).await, JobResult::Ok(_)));
    daemon.alerts_sent().await;
    healthy(addr).await;

    // c. Time passes: more than twice the nightly interval without a capture.
    world.sim.sim.advance(chrono::Duration::hours(49));
    settle(&daemon).await;
    unhealthy_with(addr, &format!("{gstin}: capture stale: last answer captured ")).await;
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    daemon.alerts_sent().await;
    healthy(addr).await;

    // b. The login's 30 days of API access run out (and the capture is stale again).
    world.sim.sim.advance(chrono::Duration::days(26));
    settle(&daemon).await;
    let body = unhealthy_with(addr, &format!("{gstin}: API access lapses at ")).await;
    assert!(body.contains(" +05:30 (a refresh cannot extend it)"), "{body}");
    world.login_all().await;
    settle(&daemon).await;
    unhealthy_with(addr, &format!("{gstin}: capture stale: ")).await;
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Ok(_)));
    daemon.alerts_sent().await;
    healthy(addr).await;

    // e. Damage to a checkpoint (nothing is signed over it), then repaired.
    let attacker = rusqlite::Connection::open(&config.archive_path).unwrap();
    // The newest checkpoint: the one every run's tip check reads.
    let (newest, root): (i64, String) = attacker
        .query_row("SELECT id, root FROM checkpoints ORDER BY id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    attacker
        .execute_batch(&format!(
            "DROP TRIGGER checkpoints_append_only_update;
             UPDATE checkpoints SET root = '00' || substr(root, 3) WHERE id = {newest};"
        ))
        .unwrap();
    world.sim.sim.advance(chrono::Duration::hours(1));
    assert!(matches!(daemon.run_job(JobKind::Capture).await, JobResult::Failed(_)));
    daemon.alerts_sent().await;
    let body = unhealthy_with(addr, "archive damaged: verify --archive found").await;
    assert!(body.contains("checkpoint unsigned: "), "the refused checkpoint: {body}");
    attacker
        .execute(
            "UPDATE checkpoints SET root = ?1 WHERE id = ?2",
            rusqlite::params![root, newest],
        )
        .unwrap();
    attacker
        .execute_batch(
            "CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
             BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;",
        )
        .unwrap();
    let result = daemon.run_job(JobKind::Verify).await;
    assert!(
        matches!(&result, JobResult::Ok(d) if d.starts_with("archive intact")),
        "{result:?}"
    );
    assert!(matches!(daemon.run_job(JobKind::Checkpoint).await, JobResult::Ok(_)));
    daemon.alerts_sent().await;
    healthy(addr).await;

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    let key = |kind: &str| format!("{kind}:{gstin}");
    let edge = |state: &str, condition: &str| (state.to_string(), condition.to_string());
    assert_eq!(
        hook.edges(),
        vec![
            edge("raised", &key("needs_login")),
            edge("cleared", &key("needs_login")),
            edge("raised", &key("capture_failed")),
            edge("cleared", &key("capture_failed")),
            edge("raised", "checkpoint_unsigned"),
            edge("cleared", "checkpoint_unsigned"),
            edge("raised", &key("capture_stale")),
            edge("cleared", &key("capture_stale")),
            edge("raised", &key("session_lapsing")),
            edge("raised", &key("capture_stale")),
            edge("cleared", &key("session_lapsing")),
            edge("cleared", &key("capture_stale")),
            edge("raised", "checkpoint_unsigned"),
            edge("raised", "archive_damaged"),
            edge("cleared", "archive_damaged"),
            edge("cleared", "checkpoint_unsigned"),
        ],
        "exactly one raised and one cleared per edge"
    );
    // Every body is the documented one.
    let (_, first) = &hook.requests()[0];
    assert_eq!(first["gstvault_alert"], 1);
    assert_eq!(first["kind"], "needs_login");
    assert_eq!(first["gstin"], gstin.as_str());
    assert!(first["reason"].as_str().unwrap().contains("never logged in"));
    assert!(first["since"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["since"], first["at"]);
    let archive = daemon.store().lock().unwrap().archive_id().unwrap();
    assert_eq!(first["archive"], archive.as_str());
    let (_, cleared) = &hook.requests()[1];
    assert_eq!(cleared["since"], first["since"], "a cleared alert says since when");
    // The table holds every edge as delivered.
    let rows = daemon.store().lock().unwrap().alerts().unwrap();
    assert_eq!(rows.len(), 8, "eight times raised");
    assert!(rows
        .iter()
        .all(|r| r.raised_delivery == Delivery::Sent && r.cleared_delivery == Some(Delivery::Sent)));
}

#[tokio::test]
async fn a_webhook_is_retried_through_5xx_and_429_but_not_through_another_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let world = world(dir.path(), &hook, NIGHTLY_CAPTURE_ONLY, |_| {}).await;
    let daemon = daemon(&world.config, &world.sim);
    hook.answer(&[500, 429, 503]);
    settle(&daemon).await;
    let statuses: Vec<u16> = hook.requests().iter().map(|r| r.0).collect();
    assert_eq!(statuses, [500, 429, 503, 200], "retried until delivered");
    let bodies: Vec<Value> = hook.requests().into_iter().map(|r| r.1).collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "the same alert each time");
    assert_eq!(bodies[0]["state"], "raised");
    let rows = daemon.store().lock().unwrap().alerts().unwrap();
    assert_eq!(rows[0].raised_delivery, Delivery::Sent);

    // A 404 is an answer: not retried, recorded as failed without the URL's token.
    hook.answer(&[404]);
    world.login_all().await;
    settle(&daemon).await;
    let statuses: Vec<u16> = hook.requests().iter().map(|r| r.0).collect();
    assert_eq!(statuses, [500, 429, 503, 200, 404]);
    let row = daemon.store().lock().unwrap().alerts().unwrap().remove(0);
    assert_eq!(row.cleared_delivery, Some(Delivery::Failed));
    let error = row.last_error.unwrap();
    assert_eq!(
        error,
        format!("webhook http://{}/<redacted>: HTTP 404 (not retried)", hook.addr)
    );

    // Unreachable: every attempt is made (1 + webhook_retries), then it is failed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = std::fs::read_to_string(&world.config.source).unwrap().replace(
        &format!("webhook = \"{}\"", hook.url()),
        &format!("webhook = \"http://{closed}/hook/T0KEN-in-path\"\nwebhook_retries = 2"),
    );
    drop(daemon);
    std::fs::write(&world.config.source, text).unwrap();
    let config = Config::load(Path::new(&world.config.source)).unwrap();
    let daemon = Daemon::new(config, credentials(), Arc::new(world.sim.sim.clone())).unwrap();
    world.sim.sim.advance(chrono::Duration::hours(49));
    settle(&daemon).await;
    let row = daemon.store().lock().unwrap().open_alerts().unwrap().remove(0);
    assert_eq!(row.condition, format!("capture_stale:{}", world.config.gstins[0].gstin));
    assert_eq!(row.raised_delivery, Delivery::Failed);
    let error = row.last_error.unwrap();
    assert!(error.ends_with(", 3 attempts"), "{error}");
    assert!(!error.contains("T0KEN"), "{error}");
}

#[tokio::test]
async fn a_restart_sends_nothing_twice_and_what_cleared_meanwhile_as_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let world = world(dir.path(), &hook, NIGHTLY_CAPTURE_ONLY, |_| {}).await;
    let gstin = world.config.gstins[0].gstin.clone();
    let first = daemon(&world.config, &world.sim);
    settle(&first).await;
    assert_eq!(hook.edges(), [("raised".to_string(), format!("needs_login:{gstin}"))]);
    drop(first);
    // Restarted with the condition still there: nothing new is sent.
    let second = daemon(&world.config, &world.sim);
    settle(&second).await;
    assert_eq!(hook.edges().len(), 1, "{:?}", hook.edges());
    drop(second);
    // Logged in while no daemon ran: the next one sends it as cleared, once.
    world.login_all().await;
    let third = daemon(&world.config, &world.sim);
    settle(&third).await;
    settle(&third).await;
    assert_eq!(
        hook.edges(),
        [
            ("raised".to_string(), format!("needs_login:{gstin}")),
            ("cleared".to_string(), format!("needs_login:{gstin}")),
        ]
    );
    drop(third);

    // An edge recorded but not delivered when the daemon went away (the
    // receiver down) is sent by the next daemon.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = std::fs::read_to_string(&world.config.source).unwrap();
    std::fs::write(
        &world.config.source,
        text.replace(
            &format!("webhook = \"{}\"\nretry_base_ms = 1", hook.url()),
            &format!("webhook = \"http://{down}/hook\"\nretry_base_ms = 60000\nwebhook_retries = 1"),
        ),
    )
    .unwrap();
    let config = Config::load(Path::new(&world.config.source)).unwrap();
    let fourth = Daemon::new(config, credentials(), Arc::new(world.sim.sim.clone())).unwrap();
    // The portal refused the session.
    let refused = gstvault::capture::session::session_state(&gstin, None, Some("refused".into()), world.sim.sim.now());
    world.store.lock().unwrap().put_session_state(&refused).unwrap();
    fourth.evaluate_alerts();
    // Gone while its first attempt waits a minute for the retry.
    drop(fourth);
    let rows = gstvault::store::Reader::open(&world.config.archive_path)
        .unwrap()
        .alerts()
        .unwrap();
    assert_eq!(rows.last().unwrap().raised_delivery, Delivery::Pending);
    std::fs::write(&world.config.source, text).unwrap();
    let fifth = daemon(&world.config, &world.sim);
    settle(&fifth).await;
    settle(&fifth).await;
    assert_eq!(
        hook.edges().last(),
        Some(&("raised".to_string(), format!("needs_login:{gstin}")))
    );
    assert_eq!(hook.edges().len(), 3, "{:?}", hook.edges());
    let rows = fifth.store().lock().unwrap().alerts().unwrap();
    assert_eq!(rows.last().unwrap().raised_delivery, Delivery::Sent);
}
