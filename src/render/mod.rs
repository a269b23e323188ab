//! Text for people: what the command line, the demo and the benchmark print.
//! [`table`] is the one table renderer (aligned text, JSON, CSV); [`query`]
//! lays out the query rows; the functions here describe a capture run, a
//! verification and an exported bundle. Pure: strings in, strings out.

pub mod query;
pub mod table;

use crate::app::capture::{Captured, Checkpointed};
use crate::capture::RunSummary;
use crate::domain::envelope::Outcome;
use crate::evidence::bundle::export::Exported;
use crate::evidence::report::VerifyReport;

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
pub fn run_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "run {}: {} GSTIN(s), {} endpoint(s) x {} period(s) = {} job(s), {} snapshot(s)\n",
        s.run_id, s.gstins, s.endpoints, s.periods, s.planned, s.snapshots
    ));
    out.push_str(&format!(
        "  ok {}  no-data {}  failed {} (api {}, http {}, transport {})\n",
        s.count(Outcome::Ok),
        s.count(Outcome::NoData),
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
        out.push_str(&format!("  skipped {} job(s) of GSTINs that need login\n", s.skipped));
    }
    out
}

/// A whole capture: the planner's counts, the run's totals and its checkpoint.
pub fn captured(c: &Captured) -> String {
    let mut out = String::new();
    if let Some(p) = &c.planner {
        out.push_str(&format!(
            "planner: {} call(s) planned, {} naive, {} saved, {} carried over\n",
            p.planned,
            p.naive,
            p.naive.saturating_sub(p.planned),
            p.carried_over
        ));
    }
    out.push_str(&run_summary(&c.totals));
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
    }
}

/// A verification report: findings, notes, then one verdict line.
pub fn verify_report(report: &VerifyReport) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&format!("FINDING {}: {}\n", finding.subject, finding.message));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(&format!(
        "{}: {} snapshot(s), {} payload(s), {} checkpoint(s), {} hashed, {} finding(s)\n",
        if report.intact() { "INTACT" } else { "NOT INTACT" },
        report.snapshots,
        report.payloads,
        report.checkpoints,
        human_bytes(report.bytes_hashed),
        report.findings.len()
    ));
    out
}

/// What `export` wrote.
pub fn exported(exported: &Exported) -> String {
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
