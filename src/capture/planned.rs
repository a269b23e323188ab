//! A planned capture run: three tiers of calls, each decided by the
//! [`planner`](crate::capture::planner) from the archive as the previous tier
//! left it, within the daily call budget.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::{blocking, capture_gstin, Call, CaptureError, Context, Plan, RunTotals};
use crate::capture::client::Client;
use crate::capture::session::TokenStore;
use crate::clock::SharedClock;
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, Month, Period};
use crate::store::Store;

/// What a planned run did beyond its [`RunTotals`].
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PlannedRun {
    pub totals: RunTotals,
    /// Calls the planner made (page 0 of each key; 2B pages come on top).
    pub planned_calls: u64,
    /// Calls a naive capture of the same plan would make (page 0 of each key).
    pub naive_calls: u64,
    /// Calls due but left for the next run by the daily budget.
    pub carried_over: u64,
    /// Planned calls per rule.
    pub rules: BTreeMap<String, u64>,
}

/// Loads the planner's view of each GSTIN and decides one tier.
async fn decide_tier(
    store: &Arc<StdMutex<Store>>,
    plan: &Plan,
    months: &[Month],
    today: NaiveDate,
    tier: crate::capture::planner::Tier,
) -> Result<Vec<Vec<crate::capture::planner::Call>>, CaptureError> {
    let gstins: Vec<Gstin> = plan.gstins.iter().map(|g| g.gstin.clone()).collect();
    let endpoints = plan.endpoints.clone();
    let months = months.to_vec();
    blocking(store, move |s| {
        let mut out = Vec::new();
        for gstin in &gstins {
            let view = crate::capture::planner::ArchiveView::load(s, gstin)?;
            let lookup = |sha: &crate::domain::digest::Digest| -> Option<serde_json::Value> {
                s.payload(sha)
                    .ok()
                    .flatten()
                    .and_then(|b| serde_json::from_slice(&b).ok())
            };
            let input = crate::capture::planner::Inputs {
                endpoints: &endpoints,
                months: &months,
                today,
                payload: &lookup,
            };
            out.push(crate::capture::planner::decide(tier, &input, &view).fetch);
        }
        Ok(out)
    })
    .await
}

/// A planned capture run (the capture planner, `snapshot --planned`): three
/// tiers of calls, each decided by [`crate::capture::planner`] from the archive as the
/// previous tier left it. `daily_budget` (0: unlimited) caps the answers
/// archived per IST day across all GSTINs; the calls over it are carried to
/// the next run, most valuable first. The plan's window and endpoints are the
/// same as a full [`run`](super::run)'s; the run is recorded with the plan's kind.
pub async fn run_planned(
    plan: &Plan,
    daily_budget: u64,
    client: Arc<Client>,
    store: Arc<StdMutex<Store>>,
    tokens: TokenStore,
    clock: SharedClock,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<PlannedRun, CaptureError> {
    let started = clock.now();
    let kind = plan.kind;
    let run_id = blocking(&store, move |s| s.begin_run(kind, started)).await?;
    let months = plan.from.through(plan.to);
    let today = india_date(started);
    let ctx = Context::new(&client, &store, tokens, &clock, run_id, today, None, stop);
    let day_start = today
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(crate::domain::period::ist()).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(started);
    let mut remaining = if daily_budget == 0 {
        u64::MAX
    } else {
        let used = blocking(&store, move |s| s.answers_since(day_start)).await?;
        daily_budget.saturating_sub(used)
    };
    let naive = crate::capture::planner::naive_calls(&plan.endpoints, &months, today) * plan.gstins.len() as u64;
    let mut report = PlannedRun {
        naive_calls: naive,
        ..PlannedRun::default()
    };
    let mut needs_login: BTreeMap<Gstin, String> = BTreeMap::new();
    let mut periods: Vec<Period> = Vec::new();
    for tier in crate::capture::planner::Tier::ALL {
        if ctx.stopping() {
            break;
        }
        let decided = decide_tier(&store, plan, &months, today, tier).await?;
        // Budget: most valuable calls first across GSTINs.
        let mut all: Vec<(usize, crate::capture::planner::Call)> = decided
            .into_iter()
            .enumerate()
            .flat_map(|(i, calls)| calls.into_iter().map(move |c| (i, c)))
            .filter(|(i, _)| !needs_login.contains_key(&plan.gstins[*i].gstin))
            .collect();
        all.sort_by_key(|(_, c)| crate::capture::planner::value_key(c));
        let take = (remaining.min(all.len() as u64)) as usize;
        report.carried_over += (all.len() - take) as u64;
        all.truncate(take);
        remaining -= take as u64;
        let mut per_gstin: Vec<Vec<Call>> = vec![Vec::new(); plan.gstins.len()];
        for (i, call) in all {
            report.planned_calls += 1;
            *report.rules.entry(call.rule.name().to_string()).or_default() += 1;
            periods.push(call.period);
            per_gstin[i].push(Call {
                endpoint: call.endpoint,
                period: call.period,
            });
        }
        let work = plan
            .gstins
            .iter()
            .zip(per_gstin)
            .filter(|(_, calls)| !calls.is_empty())
            .map(|(entry, calls)| {
                let ctx = ctx.clone();
                let entry = entry.clone();
                async move {
                    let gstin = entry.gstin.clone();
                    (gstin, capture_gstin(ctx, entry, calls).await)
                }
            });
        for (gstin, result) in futures::future::join_all(work).await {
            if let Some(reason) = result? {
                needs_login.insert(gstin, reason);
            }
        }
    }
    let saved = report.naive_calls.saturating_sub(report.planned_calls);
    metrics::counter!("gstvault_calls_planned_total").increment(report.planned_calls);
    metrics::counter!("gstvault_calls_saved_total").increment(saved);
    metrics::counter!("gstvault_calls_carried_over_total").increment(report.carried_over);
    periods.sort();
    periods.dedup();
    report.totals = ctx
        .finish(plan, periods.len(), report.planned_calls, needs_login)
        .await?;
    Ok(report)
}
