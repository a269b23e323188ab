//! Plan: what the next planned capture would fetch and why, decided by the
//! capture planner against the archive as it stands, without a request.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::capture::planner::{decide, naive_calls, ArchiveView, Inputs, Tier};
use crate::config::Config;
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, Period};
use crate::store::Reader;

use super::capture::Selection;
use super::Result;

/// One call the planner would make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedCall {
    pub endpoint: &'static str,
    pub period: Period,
    pub rule: &'static str,
}

/// The plan of one GSTIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GstinPlan {
    pub gstin: Gstin,
    /// Calls the planner makes.
    pub planned: u64,
    /// Calls a full capture makes.
    pub naive: u64,
    /// Planned calls per rule name.
    pub by_rule: BTreeMap<&'static str, u64>,
    /// Saved calls per reason.
    pub skipped: BTreeMap<String, u64>,
    /// Every planned call, in decision order.
    pub calls: Vec<PlannedCall>,
}

/// The plan of every selected GSTIN.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanReport {
    pub gstins: Vec<GstinPlan>,
}

impl PlanReport {
    pub fn planned(&self) -> u64 {
        self.gstins.iter().map(|g| g.planned).sum()
    }

    pub fn naive(&self) -> u64 {
        self.gstins.iter().map(|g| g.naive).sum()
    }
}

/// Decides the next planned capture of the selection at `now`. An archive
/// that does not exist yet plans a first capture of everything.
///
/// Fails on bad input (as a capture selection does) or an unreadable archive.
pub fn plan(config: &Config, selection: &Selection, now: DateTime<Utc>) -> Result<PlanReport> {
    let plan = super::capture::plan(config, selection, now, "plan")?;
    let store = if config.archive_path.exists() {
        Some(Reader::open(&config.archive_path)?)
    } else {
        None
    };
    let months = plan.from.through(plan.to);
    let today = india_date(now);
    let payload = |sha: &crate::domain::digest::Digest| -> Option<serde_json::Value> {
        let bytes = store.as_ref()?.payload(sha).ok()??;
        serde_json::from_slice(&bytes).ok()
    };
    let inputs = Inputs {
        endpoints: &plan.endpoints,
        months: &months,
        today,
        payload: &payload,
    };
    let mut report = PlanReport::default();
    for entry in &plan.gstins {
        let view = match &store {
            Some(store) => ArchiveView::load(store, &entry.gstin)?,
            None => ArchiveView::default(),
        };
        let mut gstin = GstinPlan {
            gstin: entry.gstin.clone(),
            planned: 0,
            naive: naive_calls(&plan.endpoints, &months, today),
            by_rule: BTreeMap::new(),
            skipped: BTreeMap::new(),
            calls: Vec::new(),
        };
        for tier in Tier::ALL {
            let decision = decide(tier, &inputs, &view);
            for call in &decision.fetch {
                gstin.planned += 1;
                *gstin.by_rule.entry(call.rule.name()).or_default() += 1;
                gstin.calls.push(PlannedCall {
                    endpoint: call.endpoint.name,
                    period: call.period,
                    rule: call.rule.name(),
                });
            }
            for skip in &decision.skip {
                let reason = skip.reason.to_string();
                let reason = reason.split(" (").next().unwrap_or_default().to_string();
                *gstin.skipped.entry(reason).or_default() += 1;
            }
        }
        report.gstins.push(gstin);
    }
    Ok(report)
}
