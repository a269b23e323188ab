//! Health conditions as data: what is wrong that the operator must hear of
//! without polling (a GSTIN that needs a login or whose API access lapses
//! soon, a capture that failed or went stale, a log not covered by a signed
//! checkpoint, damage). [`conditions`] computes the set from plain facts and
//! a [`Policy`]; the daemon gathers the facts from the archive, `/healthz`
//! prints one reason line per [`Condition`] and the daemon's alerts send each
//! condition once when it starts and once when it clears, keyed by
//! [`Condition::key`]. Pure: "now" and every fact are arguments; nothing here
//! reads the archive or a clock.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::domain::gstin::Gstin;
use crate::domain::schedule::Schedule;
use crate::domain::time::Timestamp;

/// What kind of thing is wrong. Its [`Kind::name`] starts every condition
/// key and is the `kind` of the alert webhook's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A GSTIN needs `gstvault login`: never logged in, refused, or its API
    /// access lapsed.
    NeedsLogin,
    /// A GSTIN's API access lapses within `[alerts] session_warning_days`; a
    /// refresh cannot extend it, only a new login.
    SessionLapsing,
    /// A GSTIN's newest capture run failed for it.
    CaptureFailed,
    /// A GSTIN's last answer is older than twice the capture schedule's interval.
    CaptureStale,
    /// Log entries beyond the newest signed checkpoint, with no capture running.
    CheckpointUnsigned,
    /// Log entries waiting for a signature longer than twice the checkpoint
    /// schedule's interval while a capture runs.
    CheckpointStale,
    /// Damage to stored evidence found by a capture, a checkpoint or the verify job.
    ArchiveDamaged,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::NeedsLogin,
        Kind::SessionLapsing,
        Kind::CaptureFailed,
        Kind::CaptureStale,
        Kind::CheckpointUnsigned,
        Kind::CheckpointStale,
        Kind::ArchiveDamaged,
    ];

    /// The stored and sent name (`needs_login`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::NeedsLogin => "needs_login",
            Kind::SessionLapsing => "session_lapsing",
            Kind::CaptureFailed => "capture_failed",
            Kind::CaptureStale => "capture_stale",
            Kind::CheckpointUnsigned => "checkpoint_unsigned",
            Kind::CheckpointStale => "checkpoint_stale",
            Kind::ArchiveDamaged => "archive_damaged",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind in words, for an e-mail subject (`needs login`).
    pub fn title(self) -> &'static str {
        match self {
            Kind::NeedsLogin => "needs login",
            Kind::SessionLapsing => "session lapsing",
            Kind::CaptureFailed => "capture failed",
            Kind::CaptureStale => "capture stale",
            Kind::CheckpointUnsigned => "checkpoint unsigned",
            Kind::CheckpointStale => "checkpoint stale",
            Kind::ArchiveDamaged => "archive damaged",
        }
    }
}

/// One thing wrong now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: Kind,
    /// The GSTIN it is about; None for the archive's own conditions.
    pub gstin: Option<Gstin>,
    /// One line for a person: what is wrong and, where there is one, what to do.
    pub reason: String,
}

impl Condition {
    /// The stable key: the kind's name, and `:<GSTIN>` for a GSTIN's
    /// condition (`needs_login:27AAPFU0939F1ZV`, `checkpoint_unsigned`). The
    /// same trouble keeps its key while its reason changes.
    pub fn key(&self) -> String {
        match &self.gstin {
            Some(gstin) => format!("{}:{gstin}", self.kind.name()),
            None => self.kind.name().to_string(),
        }
    }
}

/// A GSTIN's session as the archive records it (`sessions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionFacts {
    /// When the portal's API access ends (the taxpayer enables it for up
    /// to 30 days); None when the portal did not say.
    pub session_expiry: Option<Timestamp>,
    pub needs_login: bool,
    pub reason: Option<String>,
}

/// The calls of a GSTIN's newest finished capture run that made any for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunCalls {
    pub run_id: i64,
    /// Answers about the data (`ok`, `no_data`).
    pub answered: u64,
    /// GSTN business errors (`api_error`): answers the portal meant.
    pub api_errors: u64,
    /// Requests that got no answer after the client's retries (`http_error`, `transport_error`).
    pub failed: u64,
    /// The first failed call in log order: endpoint, period, outcome and detail in one line.
    pub first_failure: Option<String>,
}

impl RunCalls {
    /// Whether the run failed for the GSTIN: any request went unanswered, or
    /// no call got an answer about the data (every one a business error).
    pub fn failed(&self) -> bool {
        self.failed > 0 || self.answered == 0
    }
}

/// What health needs to know of one configured GSTIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GstinFacts {
    pub gstin: Gstin,
    /// None: never logged in (no `sessions` row).
    pub session: Option<SessionFacts>,
    /// Its newest finished run with calls for it; None: none yet.
    pub last_run: Option<RunCalls>,
    /// The receive time of its newest answer about the data.
    pub last_answer: Option<Timestamp>,
}

/// The newest signed checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub size: u64,
    pub at: Timestamp,
}

/// The log against its checkpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointFacts {
    /// Entries in the log.
    pub log_size: u64,
    pub signed: Option<SignedCheckpoint>,
    /// The receive time of the first entry beyond the newest checkpoint.
    pub first_unsigned_at: Option<Timestamp>,
    /// A capture is running: its entries are signed when it ends.
    pub appending: bool,
    /// Whether a signing key is configured (for the reason's advice).
    pub key_configured: bool,
}

/// Everything [`conditions`] looks at.
#[derive(Clone, Debug)]
pub struct Facts {
    /// The configured GSTINs, in config order.
    pub gstins: Vec<GstinFacts>,
    pub checkpoint: CheckpointFacts,
    /// Damage found and not yet cleared by a verification, in one line.
    pub damage: Option<String>,
    /// Since when daemons watch the archive (its first daemon job): a GSTIN
    /// never captured is stale counting from here.
    pub watching_since: DateTime<Utc>,
}

/// The thresholds: `[alerts]` and `[daemon]`.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    /// Warn this long before a GSTIN's API access lapses (`session_warning_days`).
    pub session_warning: Duration,
    /// The capture schedule; None: captures are not scheduled, so none is stale.
    pub capture: Option<&'a Schedule>,
    /// The checkpoint schedule; None: no checkpoint is stale.
    pub checkpoint: Option<&'a Schedule>,
}

/// Every condition that holds at `now`, GSTINs in config order first (each
/// one's conditions in [`Kind`] order), then the archive's.
///
/// The rules:
/// - `needs_login`: the `sessions` row says so, there is none, or its
///   API access has lapsed (`session_expiry` ≤ now).
/// - `session_lapsing`: API access lapses within `session_warning`
///   (at exactly that distance too).
/// - `capture_failed`: the GSTIN's newest finished run with calls for it had
///   unanswered requests or no answer about the data ([`RunCalls::failed`]).
/// - `capture_stale`: its newest answer (or, never captured, the start of
///   watching) is more than twice the capture schedule's interval old
///   ([`Schedule::interval_after`] that instant).
///   Neither capture condition is raised for a GSTIN that needs login: the
///   login is the cause and its condition says what to do.
/// - `checkpoint_unsigned`: entries beyond the newest signed checkpoint and
///   no capture running (a running capture signs at its end).
/// - `checkpoint_stale`: while a capture runs, the first unsigned entry is
///   more than twice the checkpoint schedule's interval old (the checkpoint
///   job signs a growing log). An old checkpoint over a log that has not
///   grown is fine: there is nothing to sign.
/// - `archive_damaged`: damage was found.
pub fn conditions(facts: &Facts, policy: &Policy<'_>, now: DateTime<Utc>) -> Vec<Condition> {
    let mut out = Vec::new();
    let now_ms = Timestamp::of(now).millis();
    for g in &facts.gstins {
        let gstin = &g.gstin;
        let condition = |kind: Kind, reason: String| Condition {
            kind,
            gstin: Some(gstin.clone()),
            reason,
        };
        let login = format!("run `gstvault login {gstin}`");
        let needs_login = match &g.session {
            None => Some(format!("{gstin} needs login: never logged in: {login}")),
            Some(s) if s.needs_login => Some(format!(
                "{gstin} needs login: {}",
                s.reason.clone().unwrap_or_else(|| login.clone())
            )),
            Some(SessionFacts {
                session_expiry: Some(expiry),
                ..
            }) if expiry.millis() <= now_ms => Some(format!(
                "{gstin} needs login: its API access lapsed at {}: {login}",
                ist_text(*expiry)
            )),
            Some(_) => None,
        };
        if let Some(reason) = needs_login {
            out.push(condition(Kind::NeedsLogin, reason));
            continue;
        }
        if let Some(expiry) = g.session.as_ref().and_then(|s| s.session_expiry) {
            if expiry.millis() - now_ms <= policy.session_warning.num_milliseconds() {
                out.push(condition(
                    Kind::SessionLapsing,
                    format!(
                        "{gstin}: API access lapses at {} (a refresh cannot extend it): {login} before then",
                        ist_text(expiry)
                    ),
                ));
            }
        }
        if let Some(run) = g.last_run.as_ref().filter(|r| r.failed()) {
            let total = run.answered + run.api_errors + run.failed;
            let what = if run.failed > 0 {
                format!("{} of {total} calls got no answer", run.failed)
            } else {
                format!("none of {total} calls got an answer about the data")
            };
            let first = run
                .first_failure
                .as_ref()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default();
            out.push(condition(
                Kind::CaptureFailed,
                format!("{gstin}: last capture failed: run {}: {what}{first}", run.run_id),
            ));
        }
        if let Some(schedule) = policy.capture {
            let (since, what) = match g.last_answer {
                Some(at) => (at, format!("last answer captured {}", ist_text(at))),
                None => {
                    let since = Timestamp::of(facts.watching_since);
                    (since, format!("no answer captured since {}", ist_text(since)))
                }
            };
            if let Some(limit) = stale_after(schedule, since) {
                if now_ms - since.millis() > limit.num_milliseconds() {
                    out.push(condition(
                        Kind::CaptureStale,
                        format!(
                            "{gstin}: capture stale: {what}, more than twice the capture schedule's interval ({}) ago",
                            span(limit / 2)
                        ),
                    ));
                }
            }
        }
    }
    let c = &facts.checkpoint;
    let signed_size = c.signed.map_or(0, |s| s.size);
    if c.log_size > signed_size {
        let unsigned = c.log_size - signed_size;
        let newest = match c.signed {
            Some(s) => format!("the newest signed checkpoint (size {}, {})", s.size, ist_text(s.at)),
            None => "a signed checkpoint (none yet)".to_string(),
        };
        if !c.appending {
            let advice = if c.key_configured {
                "; the capture job's log says why"
            } else {
                "; no signing key: run `gstvault keygen`"
            };
            out.push(Condition {
                kind: Kind::CheckpointUnsigned,
                gstin: None,
                reason: format!("checkpoint unsigned: {unsigned} log entries beyond {newest}{advice}"),
            });
        } else if let (Some(schedule), Some(first)) = (policy.checkpoint, c.first_unsigned_at) {
            if let Some(limit) = stale_after(schedule, first) {
                if now_ms - first.millis() > limit.num_milliseconds() {
                    out.push(Condition {
                        kind: Kind::CheckpointStale,
                        gstin: None,
                        reason: format!(
                            "checkpoint stale: {unsigned} log entries beyond {newest} wait for a signature since {}, \
                             more than twice the checkpoint schedule's interval ({})",
                            ist_text(first),
                            span(limit / 2)
                        ),
                    });
                }
            }
        }
    }
    if let Some(damage) = &facts.damage {
        out.push(Condition {
            kind: Kind::ArchiveDamaged,
            gstin: None,
            reason: format!("archive damaged: {damage}"),
        });
    }
    out
}

/// Twice the schedule's interval around `since`.
fn stale_after(schedule: &Schedule, since: Timestamp) -> Option<Duration> {
    schedule.interval_after(since.to_datetime()?).map(|i| i * 2)
}

/// Which alerts a new condition set starts and ends: the conditions whose
/// key is not open (to raise, in the set's order) and the open keys no
/// longer in the set (to clear, in key order).
pub fn transitions<'a>(open: &BTreeSet<String>, current: &'a [Condition]) -> (Vec<&'a Condition>, Vec<String>) {
    let keys: BTreeSet<String> = current.iter().map(Condition::key).collect();
    let mut seen = BTreeSet::new();
    let raise = current
        .iter()
        .filter(|c| !open.contains(&c.key()) && seen.insert(c.key()))
        .collect();
    let clear = open.iter().filter(|k| !keys.contains(*k)).cloned().collect();
    (raise, clear)
}

/// Which edge of a condition an alert reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    Raised,
    Cleared,
}

impl Transition {
    /// The webhook body's `state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Raised => "raised",
            Transition::Cleared => "cleared",
        }
    }
}

/// Where the delivery of one transition stands, as the `alerts` table records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Not yet delivered to every configured channel (sent again after a restart).
    Pending,
    Sent,
    /// A channel refused or stayed unreachable through every attempt.
    Failed,
    /// No channel is configured: recorded, nothing to send.
    Unsent,
}

impl Delivery {
    pub const ALL: [Delivery; 4] = [Delivery::Pending, Delivery::Sent, Delivery::Failed, Delivery::Unsent];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Sent => "sent",
            Delivery::Failed => "failed",
            Delivery::Unsent => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Delivery> {
        Delivery::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// `t` as a person reads it, the one convention of every time shown
/// ([`crate::domain::time::when_stored`]): `2026-06-25 10:00:00 +05:30`.
pub fn ist_text(t: Timestamp) -> String {
    crate::domain::time::when_stored(t)
}

/// A duration in the largest whole unit that fits: `1 day`, `3 days`, `6 h`, `15 min`.
fn span(d: Duration) -> String {
    if d.num_days() > 0 && d == Duration::days(d.num_days()) {
        match d.num_days() {
            1 => "1 day".to_string(),
            n => format!("{n} days"),
        }
    } else if d.num_hours() > 0 && d == Duration::hours(d.num_hours()) {
        format!("{} h", d.num_hours())
    } else if d.num_minutes() > 0 && d == Duration::minutes(d.num_minutes()) {
        format!("{} min", d.num_minutes())
    } else {
        format!("{} s", d.num_seconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::JobKind;
    use chrono::TimeZone;

    fn gstin() -> Gstin {
        Gstin::parse("27AAPFU0939F1ZV").unwrap()
    }

    /// 2026-06-25 10:00 IST.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 25, 4, 30, 0).unwrap()
    }

    fn at(offset: Duration) -> Timestamp {
        Timestamp::of(now() + offset)
    }

    /// A healthy GSTIN: logged in for 20 more days, captured an hour ago.
    fn healthy() -> GstinFacts {
        GstinFacts {
            gstin: gstin(),
            session: Some(SessionFacts {
                session_expiry: Some(at(Duration::days(20))),
                needs_login: false,
                reason: None,
            }),
            last_run: Some(RunCalls {
                run_id: 4,
                answered: 10,
                ..RunCalls::default()
            }),
            last_answer: Some(at(-Duration::hours(1))),
        }
    }

    fn facts(gstins: Vec<GstinFacts>) -> Facts {
        Facts {
            gstins,
            checkpoint: CheckpointFacts {
                log_size: 10,
                signed: Some(SignedCheckpoint {
                    size: 10,
                    at: at(-Duration::hours(1)),
                }),
                first_unsigned_at: None,
                appending: false,
                key_configured: true,
            },
            damage: None,
            watching_since: now() - Duration::days(1),
        }
    }

    fn nightly() -> Schedule {
        Schedule::parse(JobKind::Capture, "0 30 2 * * *").unwrap()
    }

    fn hourly() -> Schedule {
        Schedule::parse(JobKind::Checkpoint, "0 0 * * * *").unwrap()
    }

    fn keys(facts: &Facts, now: DateTime<Utc>) -> Vec<String> {
        let capture = nightly();
        let checkpoint = hourly();
        let policy = Policy {
            session_warning: Duration::days(5),
            capture: Some(&capture),
            checkpoint: Some(&checkpoint),
        };
        conditions(facts, &policy, now).iter().map(Condition::key).collect()
    }

    #[test]
    fn a_healthy_archive_has_no_condition() {
        assert!(keys(&facts(vec![healthy()]), now()).is_empty());
    }

    #[test]
    fn needs_login_from_the_row_a_missing_row_or_lapsed_access_and_nothing_else_for_that_gstin() {
        let mut g = healthy();
        g.session = Some(SessionFacts {
            session_expiry: Some(at(Duration::days(1))),
            needs_login: true,
            reason: Some("session refresh failed (AUTH4033): run `gstvault login 27AAPFU0939F1ZV`".into()),
        });
        // A failed, stale capture of a GSTIN that needs login is its login's fault.
        g.last_run = Some(RunCalls {
            run_id: 5,
            failed: 3,
            ..RunCalls::default()
        });
        g.last_answer = Some(at(-Duration::days(9)));
        let all = facts(vec![g.clone()]);
        let capture = nightly();
        let policy = Policy {
            session_warning: Duration::days(5),
            capture: Some(&capture),
            checkpoint: None,
        };
        let found = conditions(&all, &policy, now());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key(), "needs_login:27AAPFU0939F1ZV");
        assert_eq!(
            found[0].reason,
            "27AAPFU0939F1ZV needs login: session refresh failed (AUTH4033): run `gstvault login 27AAPFU0939F1ZV`"
        );
        g.session = None;
        let found = conditions(&facts(vec![g.clone()]), &policy, now());
        assert_eq!(
            found[0].reason,
            "27AAPFU0939F1ZV needs login: never logged in: run `gstvault login 27AAPFU0939F1ZV`"
        );
        let mut lapsed = healthy();
        lapsed.session.as_mut().unwrap().session_expiry = Some(at(Duration::zero()));
        let found = conditions(&facts(vec![lapsed]), &policy, now());
        assert_eq!(
            found.iter().map(|c| c.reason.as_str()).collect::<Vec<_>>(),
            ["27AAPFU0939F1ZV needs login: its API access lapsed at 2026-06-25 10:00:00 +05:30: run `gstvault login 27AAPFU0939F1ZV`"]
        );
    }

    #[test]
    fn session_lapsing_from_exactly_the_warning_distance() {
        let mut g = healthy();
        g.session.as_mut().unwrap().session_expiry = Some(at(Duration::days(5) + Duration::milliseconds(1)));
        assert!(keys(&facts(vec![g.clone()]), now()).is_empty());
        g.session.as_mut().unwrap().session_expiry = Some(at(Duration::days(5)));
        let all = facts(vec![g]);
        assert_eq!(keys(&all, now()), ["session_lapsing:27AAPFU0939F1ZV"]);
        let policy = Policy {
            session_warning: Duration::days(5),
            capture: None,
            checkpoint: None,
        };
        assert_eq!(
            conditions(&all, &policy, now())[0].reason,
            "27AAPFU0939F1ZV: API access lapses at 2026-06-30 10:00:00 +05:30 (a refresh cannot extend it): \
             run `gstvault login 27AAPFU0939F1ZV` before then"
        );
        // Purely by time passing: a day later the same facts are still within, a
        // week later the access has lapsed and a login is needed.
        assert_eq!(
            keys(&all, now() + Duration::days(1)),
            ["session_lapsing:27AAPFU0939F1ZV"]
        );
        assert_eq!(keys(&all, now() + Duration::days(7)), ["needs_login:27AAPFU0939F1ZV"]);
    }

    #[test]
    fn capture_failed_on_unanswered_calls_or_no_answer_but_not_on_business_errors_beside_answers() {
        let mut g = healthy();
        g.last_run = Some(RunCalls {
            run_id: 7,
            answered: 8,
            api_errors: 2,
            failed: 0,
            first_failure: None,
        });
        assert!(
            keys(&facts(vec![g.clone()]), now()).is_empty(),
            "business errors are answers"
        );
        g.last_run = Some(RunCalls {
            run_id: 7,
            answered: 8,
            api_errors: 0,
            failed: 2,
            first_failure: Some("gstr-3b 2026-05: http_error: HTTP 503".into()),
        });
        let policy = Policy {
            session_warning: Duration::days(5),
            capture: None,
            checkpoint: None,
        };
        let found = conditions(&facts(vec![g.clone()]), &policy, now());
        assert_eq!(found[0].key(), "capture_failed:27AAPFU0939F1ZV");
        assert_eq!(
            found[0].reason,
            "27AAPFU0939F1ZV: last capture failed: run 7: 2 of 10 calls got no answer (first: gstr-3b 2026-05: http_error: HTTP 503)"
        );
        g.last_run = Some(RunCalls {
            run_id: 8,
            answered: 0,
            api_errors: 4,
            failed: 0,
            first_failure: Some("ledgers-cash 2026-06: api_error: RET11402".into()),
        });
        let found = conditions(&facts(vec![g]), &policy, now());
        assert_eq!(
            found[0].reason,
            "27AAPFU0939F1ZV: last capture failed: run 8: none of 4 calls got an answer about the data (first: ledgers-cash 2026-06: api_error: RET11402)"
        );
    }

    #[test]
    fn capture_stale_after_exactly_twice_the_interval() {
        let mut g = healthy();
        // The nightly capture: stale once the last answer is more than 48 h old.
        g.last_answer = Some(at(-Duration::hours(48)));
        assert!(keys(&facts(vec![g.clone()]), now()).is_empty());
        g.last_answer = Some(at(-Duration::hours(48) - Duration::milliseconds(1)));
        let all = facts(vec![g]);
        assert_eq!(keys(&all, now()), ["capture_stale:27AAPFU0939F1ZV"]);
        let capture = nightly();
        let policy = Policy {
            session_warning: Duration::days(5),
            capture: Some(&capture),
            checkpoint: None,
        };
        assert_eq!(
            conditions(&all, &policy, now())[0].reason,
            "27AAPFU0939F1ZV: capture stale: last answer captured 2026-06-23 09:59:59 +05:30, more than twice the capture \
             schedule's interval (1 day) ago"
        );
        // Without a capture schedule nothing is stale.
        let policy = Policy {
            capture: None,
            ..policy
        };
        assert!(conditions(&all, &policy, now()).is_empty());
    }

    #[test]
    fn a_gstin_never_captured_is_stale_counting_from_the_start_of_watching() {
        let mut g = healthy();
        g.last_run = None;
        g.last_answer = None;
        let mut all = facts(vec![g]);
        all.watching_since = now() - Duration::hours(47);
        assert!(keys(&all, now()).is_empty());
        all.watching_since = now() - Duration::hours(49);
        assert_eq!(keys(&all, now()), ["capture_stale:27AAPFU0939F1ZV"]);
    }

    #[test]
    fn unsigned_entries_raise_once_no_capture_runs_and_stale_only_past_twice_the_interval() {
        let mut all = facts(vec![healthy()]);
        all.checkpoint.log_size = 14;
        all.checkpoint.first_unsigned_at = Some(at(-Duration::minutes(5)));
        all.checkpoint.key_configured = false;
        let policy = Policy {
            session_warning: Duration::days(5),
            capture: None,
            checkpoint: None,
        };
        assert_eq!(
            conditions(&all, &policy, now())[0].reason,
            "checkpoint unsigned: 4 log entries beyond the newest signed checkpoint (size 10, 2026-06-25 09:00:00 +05:30); \
             no signing key: run `gstvault keygen`"
        );
        assert_eq!(keys(&all, now()), ["checkpoint_unsigned"]);
        // A capture that is still appending signs at its end ...
        all.checkpoint.appending = true;
        all.checkpoint.first_unsigned_at = Some(at(-Duration::hours(2)));
        assert!(keys(&all, now()).is_empty());
        // ... unless its entries have waited more than twice the hourly checkpoint's interval.
        all.checkpoint.first_unsigned_at = Some(at(-Duration::hours(2) - Duration::milliseconds(1)));
        assert_eq!(keys(&all, now()), ["checkpoint_stale"]);
        // No checkpoint at all over a log.
        all.checkpoint.appending = false;
        all.checkpoint.signed = None;
        all.checkpoint.key_configured = true;
        assert_eq!(
            conditions(&all, &policy, now())[0].reason,
            "checkpoint unsigned: 14 log entries beyond a signed checkpoint (none yet); the capture job's log says why"
        );
    }

    #[test]
    fn an_old_checkpoint_over_a_log_that_did_not_grow_is_fine() {
        let mut all = facts(vec![healthy()]);
        all.checkpoint.signed = Some(SignedCheckpoint {
            size: 10,
            at: at(-Duration::days(60)),
        });
        assert!(keys(&all, now()).is_empty());
        all.checkpoint = CheckpointFacts::default();
        assert!(keys(&all, now()).is_empty(), "an empty log needs no checkpoint");
    }

    #[test]
    fn damage_is_a_condition_of_the_archive_last() {
        let mut g = healthy();
        g.session = None;
        let mut all = facts(vec![g]);
        all.damage = Some("checkpoint 1 is damaged: root differs".into());
        assert_eq!(keys(&all, now()), ["needs_login:27AAPFU0939F1ZV", "archive_damaged"]);
    }

    #[test]
    fn transitions_raise_new_keys_once_and_clear_keys_gone() {
        let c = |kind: Kind| Condition {
            kind,
            gstin: Some(gstin()),
            reason: "r".into(),
        };
        let current = vec![c(Kind::NeedsLogin), c(Kind::CaptureStale), c(Kind::CaptureStale)];
        let open: BTreeSet<String> = ["needs_login:27AAPFU0939F1ZV".to_string(), "archive_damaged".to_string()].into();
        let (raise, clear) = transitions(&open, &current);
        assert_eq!(
            raise.iter().map(|c| c.key()).collect::<Vec<_>>(),
            ["capture_stale:27AAPFU0939F1ZV"]
        );
        assert_eq!(clear, ["archive_damaged"]);
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.name()), Some(kind));
        }
        for d in Delivery::ALL {
            assert_eq!(Delivery::parse(d.as_str()), Some(d));
        }
    }
}
