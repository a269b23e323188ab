//! Text for people: what the command line, the demo and the benchmark print.
//! [`table`] is the one table renderer (aligned text, JSON, CSV); [`query`]
//! lays out the query rows; [`users`] the accounts; the functions here describe a capture run, a
//! verification and an exported bundle. Pure: strings in, strings out.

pub mod query;
pub mod table;
pub mod users;

use chrono::{DateTime, Utc};

use crate::app::bundles::{Chain, FileState};
use crate::app::capture::{Captured, Checkpointed};
use crate::app::plan::PlanReport;
use crate::app::status::Status;
use crate::capture::RunTotals;
use crate::config::Config;
use crate::domain::catalog::{self, Group};
use crate::domain::envelope::Outcome;
use crate::domain::schedule::JobKind;
use crate::domain::time::{Timestamp, Zone};
use crate::evidence::bundle::export::Exported;
use crate::evidence::report::VerifyReport;
use table::{Cell, Table};

/// A byte count in binary units: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The totals of one capture run, as `snapshot` and the demo print them.
pub fn run_totals(s: &RunTotals) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "run {}: {} GSTIN(s), {} endpoint(s), {} period(s): {} call(s) planned, {} snapshot(s)\n",
        s.run_id, s.gstins, s.endpoints, s.periods, s.planned, s.snapshots
    ));
    out.push_str(&format!(
        "  ok {}  no-data {}  pending {}  unrecognised {}  failed {} (api {}, http {}, transport {})\n",
        s.count(Outcome::Ok),
        s.count(Outcome::NoData),
        s.count(Outcome::Pending),
        s.unrecognised(),
        s.failed(),
        s.count(Outcome::ApiError),
        s.count(Outcome::HttpError),
        s.count(Outcome::TransportError)
    ));
    out.push_str(&format!(
        "  requests {}  retries {}  received {}  new payload bytes stored {}  changes found {}\n",
        s.requests,
        s.retries,
        human_bytes(s.bytes_received),
        human_bytes(s.new_payload_bytes),
        s.changes
    ));
    for (gstin, reason) in &s.needs_login {
        out.push_str(&format!("  NEEDS LOGIN {gstin}: {reason}\n"));
    }
    if s.skipped > 0 {
        out.push_str(&format!("  skipped {} call(s) of GSTINs that need login\n", s.skipped));
    }
    let mut causes: Vec<(&String, &u64)> = s.failures.iter().collect();
    causes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (cause, count) in causes.iter().take(MAX_CAUSES) {
        out.push_str(&format!("  FAILED {count} call(s): {cause}\n"));
    }
    if causes.len() > MAX_CAUSES {
        let rest: u64 = causes[MAX_CAUSES..].iter().map(|(_, n)| **n).sum();
        out.push_str(&format!(
            "  FAILED {rest} more call(s) with {} other cause(s): see `gstvault list --run {} --failed`\n",
            causes.len() - MAX_CAUSES,
            s.run_id
        ));
    }
    if s.status == crate::domain::run::RunStatus::Interrupted {
        out.push_str("  INTERRUPTED: the calls not made wait for the next run\n");
    }
    out
}

/// Failure causes a run summary names one by one.
const MAX_CAUSES: usize = 5;

/// A whole capture: the planner's counts, the run's totals and its checkpoint.
pub fn captured(c: &Captured) -> String {
    let mut out = String::new();
    if let Some(p) = &c.planner {
        out.push_str(&format!(
            "planner: {} call(s) planned of {} a full capture makes, {} saved, {} carried over\n",
            p.planned,
            p.naive,
            p.naive.saturating_sub(p.planned),
            p.carried_over
        ));
    }
    out.push_str(&run_totals(&c.totals));
    for line in c.damage() {
        out.push_str(&format!("  DAMAGE: {line}\n"));
    }
    out.push_str(&checkpointed(&c.checkpoint));
    out
}

/// One line on the checkpoint that ended a run.
pub fn checkpointed(c: &Checkpointed) -> String {
    match c {
        Checkpointed::Signed(row) => format!(
            "  checkpoint: log size {} root {} (signed, key ID {})\n",
            row.size, row.root, row.key_id
        ),
        Checkpointed::NoKey { key } => format!(
            "  checkpoint: NOT SIGNED: no signing key at {} (run `gstvault keygen`)\n",
            key.display()
        ),
        Checkpointed::NothingAppended => "  checkpoint: nothing appended, nothing to sign\n".to_string(),
        Checkpointed::Failed { reason } => format!("  checkpoint: NOT SIGNED: {reason}\n"),
        Checkpointed::Refused { .. } => "  checkpoint: NOT SIGNED: the archive is damaged (see DAMAGE above)\n".into(),
    }
}

/// A verification report: findings (the first 100, then how many more),
/// notes, then one verdict line.
pub fn verify_report(report: &VerifyReport) -> String {
    let mut out = String::new();
    let shown = report.findings.len().min(crate::evidence::report::MAX_FINDINGS);
    for finding in &report.findings[..shown] {
        out.push_str(&format!("FINDING {}: {}\n", finding.subject, finding.message));
    }
    let more = report.finding_count() - shown as u64;
    if more > 0 {
        out.push_str(&format!("… and {more} more findings\n"));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    // A bundle holds snapshot files, not the archive's deduplicated payloads:
    // their count is said only when there are any.
    let payloads = if report.payloads > 0 {
        format!("{} payload(s), ", report.payloads)
    } else {
        String::new()
    };
    out.push_str(&format!(
        "{}: {} snapshot(s), {payloads}{} checkpoint(s), {} hashed, {} finding(s)\n",
        if report.intact() { "INTACT" } else { "NOT INTACT" },
        report.snapshots,
        report.checkpoints,
        human_bytes(report.bytes_hashed),
        report.finding_count()
    ));
    out
}

/// What `export` wrote, or that the bundle was there already.
pub fn exported(exported: &Exported) -> String {
    if exported.existed {
        return format!(
            "bundle:   {} (exported before: nothing written)\n  id {}  sha256 {}\n",
            exported.path.display(),
            exported.bundle_id,
            exported.sha256
        );
    }
    format!(
        "bundle:   {}\n  id {}  sha256 {}\n  {} snapshot version(s), {} of payload, log size {}{}\n",
        exported.path.display(),
        exported.bundle_id,
        exported.sha256,
        exported.snapshots,
        human_bytes(exported.payload_bytes),
        exported.checkpoint_size,
        exported
            .previous
            .as_ref()
            .map(|p| format!(", consistent with {p}"))
            .unwrap_or_default()
    )
}

/// The zone times are shown in ([`Zone::display`]).
pub fn zone() -> Zone {
    Zone::display()
}

pub use crate::domain::time::{when, when_stored};

/// `config check`: what the config captures (by group) and when the daemon
/// would act next (three fire times per job after `now`).
pub fn config_check(config: &Config, now: DateTime<Utc>) -> String {
    let mut out = format!(
        "config {}: ok\narchive: {}\n",
        config.source,
        config.archive_path.display()
    );
    out.push_str(&format!(
        "gstins: {}\n",
        config
            .gstins
            .iter()
            .map(|g| g.gstin.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut groups = Table::new(vec!["group", "captured", "not_captured", "endpoints"]);
    for group in Group::ALL {
        let names: Vec<&str> = config
            .endpoints
            .iter()
            .filter(|e| e.group == group)
            .map(|e| e.name)
            .collect();
        let off: Vec<&str> = catalog::ENDPOINTS
            .iter()
            .filter(|e| e.group == group && !names.contains(&e.name))
            .map(|e| e.name)
            .collect();
        groups.push(vec![
            Cell::text(group.name()),
            Cell::Int(names.len() as i64),
            Cell::text(off.join(" ")),
            Cell::text(names.join(" ")),
        ]);
    }
    out.push('\n');
    out.push_str(&groups.human());
    let mut jobs = Table::new(vec!["daemon_job", "schedule", "next_three_fires"]);
    for kind in JobKind::ALL {
        let (expression, fires) = match config.daemon.schedule(kind) {
            Some(schedule) => (
                schedule.expression.clone(),
                schedule
                    .next_fires(now, 3)
                    .iter()
                    .map(|t| when(*t))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            None => ("off".to_string(), String::new()),
        };
        jobs.push(vec![Cell::text(kind.name()), Cell::text(expression), Cell::text(fires)]);
    }
    out.push('\n');
    out.push_str(&jobs.human());
    out.push('\n');
    out.push_str(&alerts_line(&config.alerts));
    out
}

/// `config check --online`: the API's answer to the key and secret, then
/// each GSTIN's session.
pub fn online_check(check: &crate::app::status::OnlineCheck) -> String {
    use crate::app::status::SessionCheck;
    let mut out = match &check.api {
        Ok(()) => format!("api: {} accepted the key and secret\n", check.base_url),
        Err(e) => format!("api: {}: {e}\n", check.base_url),
    };
    for (gstin, session) in &check.sessions {
        out.push_str(&match session {
            SessionCheck::Valid {
                token_expiry,
                session_expiry,
            } => format!(
                "session {gstin}: valid (token until {}, API access until {})\n",
                when(*token_expiry),
                when(*session_expiry)
            ),
            SessionCheck::Refreshable { session_expiry } => format!(
                "session {gstin}: token lapsed, refreshed by the next capture (API access until {})\n",
                when(*session_expiry)
            ),
            SessionCheck::NeedsLogin(reason) => format!("session {gstin}: NEEDS LOGIN: {reason}\n"),
        });
    }
    out
}

/// Where `[alerts]` sends, in one line (the webhook as scheme and host only).
fn alerts_line(alerts: &crate::config::AlertSettings) -> String {
    let mut channels = Vec::new();
    if let Some(webhook) = &alerts.webhook {
        channels.push(format!("webhook {webhook} ({} retries)", alerts.webhook_retries));
    }
    if let Some(email) = &alerts.email {
        let tls = match email.tls {
            crate::config::SmtpTls::None => "no TLS",
            crate::config::SmtpTls::StartTls => "STARTTLS",
            crate::config::SmtpTls::Tls => "TLS",
        };
        channels.push(format!(
            "e-mail via {}:{} ({tls}) from {} to {}",
            email.host,
            email.port,
            email.from,
            email.to.join(", ")
        ));
    }
    let to = if channels.is_empty() {
        "/healthz only (no webhook, no e-mail)".to_string()
    } else {
        format!("/healthz, {}", channels.join("; "))
    };
    format!(
        "alerts: {to}; sessions warned {} days before their API access lapses\n",
        alerts.session_warning.num_days()
    )
}

/// `status`: one table of GSTINs, one of daemon jobs. `access_until` is the
/// end of the portal's API access (`session_expiry`) in IST; `needs_login`
/// says why when a login is needed.
pub fn status(status: &Status) -> String {
    let mut gstins = Table::new(vec![
        "gstin",
        "last_capture",
        "last_bundle",
        "access_until",
        "needs_login",
    ]);
    for g in &status.gstins {
        gstins.push(vec![
            Cell::text(g.gstin.as_str()),
            g.last_capture.map_or(Cell::text("never"), Cell::Time),
            Cell::text(
                g.last_bundle
                    .as_ref()
                    .map(|b| format!("{} ({})", b.file_name, when_stored(b.created_at)))
                    .unwrap_or_else(|| "-".into()),
            ),
            g.session
                .as_ref()
                .and_then(|s| s.session_expiry)
                .map_or(Cell::text("no session"), Cell::Time),
            Cell::text(match (&g.reason, g.needs_login) {
                (Some(reason), true) => format!("YES: {reason}"),
                (None, true) => "YES".into(),
                _ => "no".into(),
            }),
        ]);
    }
    let mut jobs = Table::new(vec!["job", "last_run", "result", "next_run", "detail"]);
    for job in &status.jobs {
        let last = job.last_run.as_ref();
        jobs.push(vec![
            Cell::text(job.kind.name()),
            last.map_or(Cell::text("never"), |r| Cell::Time(r.started_at)),
            Cell::text(last.map_or("-", |r| r.result.as_str())),
            job.next_run.map_or(Cell::text("off"), |t| Cell::Time(Timestamp::of(t))),
            Cell::opt_text(last.and_then(|r| r.detail.clone())),
        ]);
    }
    let writer = match &status.writer {
        crate::store::LockState::Free => "writer: none (no daemon or snapshot is running)".to_string(),
        crate::store::LockState::Held(Some(h)) if h.command == "daemon" => {
            format!("writer: daemon running (pid {}, {})", h.pid, h.describe())
        }
        crate::store::LockState::Held(Some(h)) => format!("writer: pid {} running ({})", h.pid, h.describe()),
        crate::store::LockState::Held(None) => "writer: a gstvault process holds the lock".to_string(),
        crate::store::LockState::Stale(h) => format!(
            "writer: STALE LOCK left by pid {} ({}), which is no longer running; the next writer replaces it",
            h.pid,
            h.describe()
        ),
    };
    format!("{writer}\n\n{}\n{}", gstins.human(), jobs.human())
}

/// `plan`: every planned call (with `calls`), the totals per GSTIN, the
/// calls per rule and the saved calls per reason, and the grand total.
pub fn plan(report: &PlanReport, calls: bool) -> String {
    let mut out = String::new();
    if calls {
        let mut table = Table::new(vec!["gstin", "endpoint", "period", "rule"]);
        for g in &report.gstins {
            for call in &g.calls {
                table.push(vec![
                    Cell::text(g.gstin.as_str()),
                    Cell::text(call.endpoint),
                    Cell::text(call.period.to_string()),
                    Cell::text(call.rule),
                ]);
            }
        }
        out.push_str(&table.human());
        out.push('\n');
    }
    let mut totals = Table::new(vec!["gstin", "planned", "full", "saved"]);
    let mut reasons = Table::new(vec!["gstin", "decision", "calls", "rule_or_reason"]);
    for g in &report.gstins {
        totals.push(vec![
            Cell::text(g.gstin.as_str()),
            Cell::Int(g.planned as i64),
            Cell::Int(g.naive as i64),
            Cell::Int(g.naive.saturating_sub(g.planned) as i64),
        ]);
        for (rule, n) in &g.by_rule {
            reasons.push(vec![
                Cell::text(g.gstin.as_str()),
                Cell::text("fetch"),
                Cell::Int(*n as i64),
                Cell::text(*rule),
            ]);
        }
        for (reason, n) in &g.skipped {
            reasons.push(vec![
                Cell::text(g.gstin.as_str()),
                Cell::text("skip"),
                Cell::Int(*n as i64),
                Cell::text(reason),
            ]);
        }
    }
    out.push_str(&totals.human());
    out.push('\n');
    out.push_str(&reasons.human());
    out.push('\n');
    let (planned, naive) = (report.planned(), report.naive());
    out.push_str(&format!(
        "total: {planned} planned, {naive} full, {} saved ({:.1}% of a full capture)\n",
        naive.saturating_sub(planned),
        if naive == 0 {
            0.0
        } else {
            planned as f64 * 100.0 / naive as f64
        }
    ));
    out.push_str(
        "note: sections and dependents are decided again once this run's probes (tracking, summaries, 2A document) \
         answer, so a run can add calls the probes reveal.\n",
    );
    out
}

/// `bundles`: every recorded bundle with its predecessor and what is found
/// under its file name, then one verdict line.
pub fn bundles(chain: &Chain) -> String {
    let mut table = Table::new(vec![
        "gstin",
        "period",
        "as_of",
        "bundle_id",
        "log_size",
        "previous",
        "file",
        "sha256",
        "file_name",
    ]);
    for link in &chain.links {
        let b = &link.bundle;
        let file = match &link.file {
            FileState::Present => "present".to_string(),
            FileState::Missing => "MISSING".to_string(),
            FileState::Changed(found) => format!("CHANGED (now {})", found.short()),
        };
        let previous = match (&b.previous_bundle_id, link.previous_recorded) {
            (Some(id), true) => id.clone(),
            (Some(id), false) => format!("{id} (NOT RECORDED)"),
            (None, _) => "-".to_string(),
        };
        table.push(vec![
            Cell::text(b.gstin.as_str()),
            Cell::text(b.period.to_string()),
            Cell::Time(b.as_of),
            Cell::text(&b.bundle_id),
            link.log_size.map_or(Cell::Empty, |s| Cell::Int(s as i64)),
            Cell::text(previous),
            Cell::text(file),
            Cell::Hash(b.sha256.hex()),
            Cell::text(&b.file_name),
        ]);
    }
    let mut out = if table.is_empty() {
        "no bundles recorded\n".to_string()
    } else {
        table.human()
    };
    let broken = chain
        .links
        .iter()
        .filter(|l| l.file != FileState::Present || !l.previous_recorded)
        .count();
    out.push_str(&format!(
        "{}: {} bundle(s) in {}, {broken} missing, changed or with an unrecorded predecessor\n",
        if chain.intact() { "INTACT" } else { "NOT INTACT" },
        chain.links.len(),
        chain.dir.display()
    ));
    out
}
