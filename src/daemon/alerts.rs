//! Alerts: each health condition (`domain::health`) is sent once when it
//! starts and once when it clears, to the `[alerts]` webhook (a JSON POST,
//! docs/FORMATS.md "Alert webhook") and by e-mail over SMTP. This module is
//! the daemon's only HTTP client (reqwest; the API's is `capture::client`)
//! and the only SMTP (lettre).
//!
//! What was raised lives in the archive's `alerts` table, so a restarted
//! daemon raises nothing twice and sends a condition that cleared while it
//! was down as cleared. [`Alerts::reconcile`] compares the condition set with
//! the open rows and records every edge at once; delivery happens later, on
//! a task of its own fed by a queue, so a slow or unreachable receiver never
//! holds up a capture. A webhook is retried with exponential backoff on
//! connection errors, timeouts, 5xx and 429 (never on another 4xx), an
//! e-mail on anything but a permanent SMTP refusal; what is still
//! undelivered at a stop stays `pending` and is sent after the next start.
//! The webhook URL may carry a token: logs, errors and the table name only
//! its scheme and host, and the SMTP password is never logged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Context as _, Result};
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials as SmtpCredentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::config::{Config, EmailSettings, SmtpTls, WebhookUrl};
use crate::domain::gstin::Gstin;
use crate::domain::health::{ist_text, transitions, Condition, Delivery, Kind, Transition};
use crate::domain::time::Timestamp;
use crate::store::{AlertRow, Store, StoreError};

/// One webhook attempt's limit, connecting included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait between two attempts.
const RETRY_MAX: Duration = Duration::from_secs(60);

/// One edge of one condition, as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub transition: Transition,
    /// The condition's key ([`Condition::key`]).
    pub condition: String,
    pub kind: Kind,
    pub gstin: Option<Gstin>,
    /// The reason line as raised (a cleared alert says what no longer holds).
    pub reason: String,
    /// When the condition was raised.
    pub since: Timestamp,
    /// When this edge happened.
    pub at: Timestamp,
}

/// Who sends: the archive and the machine, in every alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The archive id (the checkpoint origin's suffix).
    pub archive: String,
    /// `[archive] organization`, when set.
    pub organization: Option<String>,
    pub host: String,
}

impl Alert {
    fn of_row(row: &AlertRow, transition: Transition) -> Alert {
        Alert {
            transition,
            condition: row.condition.clone(),
            kind: row.kind,
            gstin: row.gstin.clone(),
            reason: row.reason.clone(),
            since: row.raised_at,
            at: match transition {
                Transition::Raised => row.raised_at,
                Transition::Cleared => row.cleared_at.unwrap_or(row.raised_at),
            },
        }
    }

    /// The webhook's JSON body (docs/FORMATS.md, "Alert webhook").
    pub fn webhook_body(&self, origin: &Origin) -> serde_json::Value {
        json!({
            "gstvault_alert": 1,
            "state": self.transition.as_str(),
            "condition": self.condition,
            "kind": self.kind.name(),
            "gstin": self.gstin.as_ref().map(Gstin::as_str),
            "reason": self.reason,
            "since": self.since.to_string(),
            "at": self.at.to_string(),
            "archive": origin.archive,
            "organization": origin.organization,
            "host": origin.host,
        })
    }

    /// The e-mail's subject: `gstvault: RAISED needs login: 27AAPFU0939F1ZV`.
    pub fn subject(&self) -> String {
        let state = match self.transition {
            Transition::Raised => "RAISED",
            Transition::Cleared => "CLEARED",
        };
        match &self.gstin {
            Some(gstin) => format!("gstvault: {state} {}: {gstin}", self.kind.title()),
            None => format!("gstvault: {state} {}", self.kind.title()),
        }
    }

    /// The e-mail's plain-text body, times in IST, lines wrapped at 72
    /// characters (so it travels as plain 7-bit text, not quoted-printable).
    pub fn text(&self, origin: &Origin) -> String {
        let headline = match self.transition {
            Transition::Raised => format!("RAISED: {}", self.reason),
            Transition::Cleared => format!("CLEARED, no longer holds: {}", self.reason),
        };
        let archive = match &origin.organization {
            Some(organization) => format!("{} ({organization})", origin.archive),
            None => origin.archive.clone(),
        };
        format!(
            "{}\n\ncondition: {}\nsince:     {}\nat:        {}\narchive:   {archive}\nhost:      {}\n\n\
             gstvault's daemon sends each condition once when it starts and once\n\
             when it clears; its /healthz lists every condition that holds now.\n",
            wrap(&headline, 72),
            self.condition,
            ist_text(self.since),
            ist_text(self.at),
            origin.host,
        )
    }
}

/// One edge to deliver: the row it updates and what to send.
struct Outgoing {
    alert_id: i64,
    alert: Alert,
}

/// The webhook: its URL (a secret), the client and the retry policy.
struct Webhook {
    url: WebhookUrl,
    http: reqwest::Client,
}

/// E-mail: the SMTP transport (holding the password), sender and recipients.
struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

/// Where alerts go.
struct Channels {
    webhook: Option<Webhook>,
    email: Option<Email>,
    retries: u32,
    retry_base: Duration,
    origin: Origin,
}

/// The daemon's alerts: the channels, the queue to the delivery task and
/// what is in flight.
pub(super) struct Alerts {
    channels: Arc<Channels>,
    queue: mpsc::UnboundedSender<Outgoing>,
    /// The queue's receiving end until the delivery task starts (at the
    /// first reconcile, which runs on tokio's runtime).
    waiting: StdMutex<Option<mpsc::UnboundedReceiver<Outgoing>>>,
    /// Edges queued or being delivered; the stop waits for none within its grace.
    in_flight: Arc<watch::Sender<usize>>,
    /// Whether the edges an earlier process left pending were queued again.
    resumed: AtomicBool,
}

impl Alerts {
    /// The channels `[alerts]` configures, for the archive `archive`.
    ///
    /// Fails when e-mail logs in and its password variable is unset, or an
    /// address or the SMTP host is refused.
    pub(super) fn new(config: &Config, archive: String) -> Result<Alerts> {
        let webhook = match &config.alerts.webhook {
            Some(url) => Some(Webhook {
                url: url.clone(),
                http: reqwest::Client::builder()
                    .timeout(ATTEMPT_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("gstvault/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .context("cannot build the alert webhook's HTTP client")?,
            }),
            None => None,
        };
        let email = match &config.alerts.email {
            Some(settings) => Some(email(config, settings)?),
            None => None,
        };
        let host = hostname::get()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into());
        let (queue, receiver) = mpsc::unbounded_channel();
        Ok(Alerts {
            channels: Arc::new(Channels {
                webhook,
                email,
                retries: config.alerts.webhook_retries,
                retry_base: config.alerts.retry_base,
                origin: Origin {
                    archive,
                    organization: Some(config.organization.clone()).filter(|o| !o.trim().is_empty()),
                    host,
                },
            }),
            queue,
            waiting: StdMutex::new(Some(receiver)),
            in_flight: Arc::new(watch::Sender::new(0)),
            resumed: AtomicBool::new(false),
        })
    }

    fn has_channel(&self) -> bool {
        self.channels.webhook.is_some() || self.channels.email.is_some()
    }

    /// Starts the delivery task once; must run on tokio's runtime.
    pub(super) fn start(&self, store: Arc<StdMutex<Store>>) {
        let Some(receiver) = self.waiting.lock().expect("alert queue slot").take() else {
            return;
        };
        tokio::spawn(deliver_all(
            receiver,
            self.channels.clone(),
            store,
            self.in_flight.clone(),
        ));
    }

    fn send(&self, alert_id: i64, alert: Alert) {
        self.in_flight.send_modify(|n| *n += 1);
        if self.queue.send(Outgoing { alert_id, alert }).is_err() {
            self.in_flight.send_modify(|n| *n -= 1);
        }
    }

    /// Records every edge between the open alerts and `current` at `now`
    /// and queues its delivery: a condition with no open row is raised, an
    /// open row whose condition no longer holds is cleared. The first call
    /// also queues what an earlier process left undelivered. Returns the
    /// number of edges recorded.
    ///
    /// Fails when the archive cannot be read or written.
    pub(super) fn reconcile(
        &self,
        store: &mut Store,
        current: &[Condition],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        if !self.resumed.swap(true, Ordering::SeqCst) && self.has_channel() {
            for row in store.alerts_to_deliver()? {
                if row.raised_delivery == Delivery::Pending {
                    self.send(row.id, Alert::of_row(&row, Transition::Raised));
                }
                if row.cleared_delivery == Some(Delivery::Pending) {
                    self.send(row.id, Alert::of_row(&row, Transition::Cleared));
                }
            }
        }
        let delivery = if self.has_channel() {
            Delivery::Pending
        } else {
            Delivery::Unsent
        };
        let open = store.open_alerts()?;
        let keys = open.iter().map(|row| row.condition.clone()).collect();
        let (raise, clear) = transitions(&keys, current);
        for key in &clear {
            let Some(row) = open.iter().find(|row| &row.condition == key) else {
                continue;
            };
            store.clear_alert(row.id, now, delivery)?;
            tracing::info!(condition = %key, reason = %row.reason, "alert cleared");
            if delivery == Delivery::Pending {
                let mut alert = Alert::of_row(row, Transition::Cleared);
                alert.at = Timestamp::of(now);
                self.send(row.id, alert);
            }
        }
        for condition in &raise {
            let id = store.raise_alert(condition, now, delivery)?;
            let key = condition.key();
            tracing::warn!(condition = %key, reason = %condition.reason, "alert raised");
            if delivery == Delivery::Pending {
                let at = Timestamp::of(now);
                self.send(
                    id,
                    Alert {
                        transition: Transition::Raised,
                        condition: key,
                        kind: condition.kind,
                        gstin: condition.gstin.clone(),
                        reason: condition.reason.clone(),
                        since: at,
                        at,
                    },
                );
            }
        }
        Ok(raise.len() + clear.len())
    }

    /// Waits until every queued edge was delivered (or given up on).
    pub(super) async fn idle(&self) {
        let mut in_flight = self.in_flight.subscribe();
        let _ = in_flight.wait_for(|n| *n == 0).await;
    }

    /// [`Alerts::idle`], or `deadline`.
    pub(super) async fn drained(&self, deadline: tokio::time::Instant) {
        let _ = tokio::time::timeout_at(deadline, self.idle()).await;
    }
}

/// The e-mail channel of `settings`.
fn email(config: &Config, settings: &EmailSettings) -> Result<Email> {
    let mailbox = |key: &str, address: &str| -> Result<Mailbox> {
        address.parse::<Mailbox>().map_err(|e| {
            anyhow!(
                "config {}: {key}: {address:?} is not an e-mail address: {e}",
                config.source
            )
        })
    };
    let from = mailbox("alerts.from", &settings.from)?;
    let to = settings
        .to
        .iter()
        .enumerate()
        .map(|(i, address)| mailbox(&format!("alerts.to[{i}]"), address))
        .collect::<Result<Vec<_>>>()?;
    let refused = |e: lettre::transport::smtp::Error| {
        anyhow!("config {}: alerts.smtp_host {:?}: {e}", config.source, settings.host)
    };
    let builder = match settings.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str()),
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(refused)?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(refused)?,
    };
    let mut builder = builder.port(settings.port).timeout(Some(Duration::from_secs(30)));
    if let (Some(username), Some(password)) = (&settings.username, config.smtp_password()?) {
        builder = builder.credentials(SmtpCredentials::new(username.clone(), password.expose().to_string()));
    }
    Ok(Email {
        transport: builder.build(),
        from,
        to,
    })
}

/// The delivery task: one edge at a time, in the order recorded.
async fn deliver_all(
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    channels: Arc<Channels>,
    store: Arc<StdMutex<Store>>,
    in_flight: Arc<watch::Sender<usize>>,
) {
    while let Some(out) = queue.recv().await {
        let errors = channels.deliver(&out.alert).await;
        let (delivery, error) = if errors.is_empty() {
            (Delivery::Sent, None)
        } else {
            (Delivery::Failed, Some(errors.join("; ")))
        };
        if let Some(error) = &error {
            tracing::error!(
                condition = %out.alert.condition,
                state = out.alert.transition.as_str(),
                %error,
                "alert not delivered"
            );
        }
        if let Ok(mut store) = store.lock() {
            if let Err(e) = store.set_alert_delivery(out.alert_id, out.alert.transition, delivery, error.as_deref()) {
                tracing::error!(error = %e, "cannot record an alert's delivery");
            }
        }
        in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Channels {
    /// Sends `alert` to every channel; one line per channel that failed.
    async fn deliver(&self, alert: &Alert) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(webhook) = &self.webhook {
            if let Err(e) = self.post(webhook, alert).await {
                errors.push(format!("webhook {}: {e}", webhook.url));
            }
        }
        if let Some(email) = &self.email {
            if let Err(e) = self.mail(email, alert).await {
                errors.push(format!("e-mail: {e}"));
            }
        }
        errors
    }

    /// The wait before attempt `attempt + 1` (the first retry waits the base).
    fn backoff(&self, attempt: u32) -> Duration {
        self.retry_base
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(RETRY_MAX)
    }

    async fn post(&self, webhook: &Webhook, alert: &Alert) -> Result<(), String> {
        let body = serde_json::to_vec(&alert.webhook_body(&self.origin)).map_err(|e| e.to_string())?;
        let mut attempt = 0;
        loop {
            let sent = webhook
                .http
                .post(webhook.url.expose())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let failure = match sent {
                Ok(answer) if answer.status().is_success() => return Ok(()),
                Ok(answer) if answer.status().is_server_error() || answer.status().as_u16() == 429 => {
                    format!("HTTP {}", answer.status().as_u16())
                }
                Ok(answer) => return Err(format!("HTTP {} (not retried)", answer.status().as_u16())),
                // Without the URL: its path or query may carry a token.
                Err(e) => error_chain(&e.without_url()),
            };
            if attempt >= self.retries {
                return Err(format!("{failure}, {} attempts", attempt + 1));
            }
            let wait = self.backoff(attempt);
            tracing::warn!(
                condition = %alert.condition,
                webhook = %webhook.url,
                error = %failure,
                retry_in_ms = wait.as_millis() as u64,
                "alert webhook failed; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn mail(&self, email: &Email, alert: &Alert) -> Result<(), String> {
        let date = alert
            .at
            .to_datetime()
            .map(SystemTime::from)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut builder = Message::builder()
            .from(email.from.clone())
            .subject(alert.subject())
            .date(date)
            .header(ContentType::TEXT_PLAIN);
        for to in &email.to {
            builder = builder.to(to.clone());
        }
        let message = builder.body(alert.text(&self.origin)).map_err(|e| e.to_string())?;
        let mut attempt = 0;
        loop {
            let failure = match email.transport.send(message.clone()).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_permanent() => return Err(format!("{e} (not retried)")),
                Err(e) => error_chain(&e),
            };
            if attempt >= self.retries {
                return Err(format!("{failure}, {} attempts", attempt + 1));
            }
            let wait = self.backoff(attempt);
            tracing::warn!(condition = %alert.condition, error = %failure, "alert e-mail failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// `text` with its words on lines of at most `width` characters (a longer
/// word stands on a line of its own).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// An error and its causes in one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(transition: Transition) -> Alert {
        Alert {
            transition,
            condition: "needs_login:27AAPFU0939F1ZV".into(),
            kind: Kind::NeedsLogin,
            gstin: Some(Gstin::parse("27AAPFU0939F1ZV").unwrap()),
            reason: "27AAPFU0939F1ZV needs login: never logged in: run `gstvault login 27AAPFU0939F1ZV`".into(),
            since: Timestamp::parse("2026-06-25T04:30:00Z").unwrap(),
            at: Timestamp::parse("2026-06-25T05:00:00Z").unwrap(),
        }
    }

    fn origin() -> Origin {
        Origin {
            archive: "0123456789abcdef".into(),
            organization: Some("Acme Traders".into()),
            host: "vault1".into(),
        }
    }

    #[test]
    fn the_webhook_body_is_the_documented_json() {
        let body = alert(Transition::Cleared).webhook_body(&origin());
        assert_eq!(
            body.to_string(),
            r#"{"gstvault_alert":1,"state":"cleared","condition":"needs_login:27AAPFU0939F1ZV","kind":"needs_login","gstin":"27AAPFU0939F1ZV","reason":"27AAPFU0939F1ZV needs login: never logged in: run `gstvault login 27AAPFU0939F1ZV`","since":"2026-06-25T04:30:00.000Z","at":"2026-06-25T05:00:00.000Z","archive":"0123456789abcdef","organization":"Acme Traders","host":"vault1"}"#
        );
        let mut archive_wide = alert(Transition::Raised);
        archive_wide.gstin = None;
        let body = archive_wide.webhook_body(&Origin {
            organization: None,
            ..origin()
        });
        assert_eq!((&body["gstin"], &body["organization"]), (&json!(null), &json!(null)));
    }

    #[test]
    fn subjects_and_text_name_the_edge_the_condition_and_ist_times() {
        assert_eq!(
            alert(Transition::Raised).subject(),
            "gstvault: RAISED needs login: 27AAPFU0939F1ZV"
        );
        let mut damaged = alert(Transition::Cleared);
        damaged.kind = Kind::ArchiveDamaged;
        damaged.gstin = None;
        assert_eq!(damaged.subject(), "gstvault: CLEARED archive damaged");
        let text = alert(Transition::Raised).text(&origin());
        assert!(
            text.starts_with(
                "RAISED: 27AAPFU0939F1ZV needs login: never logged in: run `gstvault\nlogin 27AAPFU0939F1ZV`\n"
            ),
            "{text}"
        );
        assert!(text.lines().all(|l| l.len() <= 72), "{text}");
        assert!(
            text.contains("since:     2026-06-25 10:00:00 +05:30\nat:        2026-06-25 10:30:00 +05:30"),
            "{text}"
        );
        assert!(text.contains("archive:   0123456789abcdef (Acme Traders)"), "{text}");
    }
}
