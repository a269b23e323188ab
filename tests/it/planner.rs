//! The capture planner against two identical simulators: planned daily
//! captures archive every payload version naive captures archive, with far
//! fewer calls, and a daily budget carries work over to the next run.

use std::sync::atomic::Ordering;

use gstvault::app::capture::{Mode, PlannerCalls};
use gstvault::capture::Plan;

use crate::support::World;

async fn planned(world: &World, plan: &Plan, budget: u64) -> PlannerCalls {
    world
        .capture_in(plan, Mode::Planned { daily_budget: budget })
        .await
        .planner
        .expect("a planned run")
}

#[tokio::test]
async fn planned_captures_miss_no_change_and_spend_fewer_calls() {
    let naive = World::new(|_| {}).await;
    let plan_world = World::new(|_| {}).await;
    let gstins = naive.gstins()[..2].to_vec();
    for w in [&naive, &plan_world] {
        w.login_all().await;
    }
    let plan = naive.plan(&gstins, None, "2026-02", "2026-06");
    naive.capture(&plan).await;
    let first = planned(&plan_world, &plan, 0).await;
    assert_eq!(first.rules.get("never-captured").copied(), Some(first.planned));
    let (n0, p0) = (
        naive.client.stats.requests.load(Ordering::Relaxed),
        plan_world.client.stats.requests.load(Ordering::Relaxed),
    );
    for _ in 0..10 {
        for w in [&naive, &plan_world] {
            w.sim.sim.advance(chrono::Duration::days(1));
            w.login_all().await;
        }
        let mut plan = plan.clone();
        plan.to = gstvault::domain::period::Month::of_date(gstvault::domain::period::india_date(naive.clock.now()));
        naive.capture(&plan).await;
        planned(&plan_world, &plan, 0).await;
    }
    let naive_calls = naive.client.stats.requests.load(Ordering::Relaxed) - n0;
    let planned_calls = plan_world.client.stats.requests.load(Ordering::Relaxed) - p0;
    assert!(
        planned_calls * 4 < naive_calls,
        "planned {planned_calls} vs naive {naive_calls}"
    );
    let a = naive.versions();
    let b = plan_world.versions();
    let mut changed_keys = 0;
    for (key, vs) in &a {
        if vs.len() > 1 {
            changed_keys += 1;
        }
        let have = b.get(key).cloned().unwrap_or_default();
        assert!(vs.is_subset(&have), "missed versions of {key:?}");
    }
    assert!(changed_keys > 0, "the simulated days changed something");
}

#[tokio::test]
async fn budget_carries_work_over_to_the_next_run() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstins = world.gstins()[..1].to_vec();
    let plan = world.plan(&gstins, None, "2026-05", "2026-06");
    let first = planned(&world, &plan, 40).await;
    assert_eq!(first.planned, 40);
    assert!(first.carried_over > 0);
    // The same day: the budget is spent, everything is carried over.
    let second = planned(&world, &plan, 40).await;
    assert_eq!(second.planned, 0);
    // With room, the carried work is done.
    let third = planned(&world, &plan, 0).await;
    assert!(third.planned >= first.carried_over - 5, "{third:?}");
    assert_eq!(third.carried_over, 0);
}
