//! Capture against the simulator: exact bytes, dedup, changes, sessions, faults.

use std::collections::{BTreeMap, BTreeSet};

use gstvault::domain::catalog::{self, PeriodKind};
use gstvault::sim::Faults;

use crate::support::World;

#[tokio::test]
async fn one_gstin_month_captures_every_default_endpoint_byte_exact() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let plan = world.plan(std::slice::from_ref(&gstin), None, "2026-05", "2026-05");
    let summary = world.capture(&plan).await;
    assert_eq!(summary.failed(), 0, "{summary:?}");

    let store = world.store.lock().unwrap();
    let rows = store.snapshots_of_run(summary.run_id).unwrap();
    let captured: BTreeSet<&str> = rows.iter().map(|r| r.endpoint.as_str()).collect();
    let mut expected: BTreeSet<&str> = catalog::default_set().iter().map(|e| e.name).collect();
    // Each notice the list names comes with its details.
    expected.insert("notice-details");
    assert_eq!(
        captured, expected,
        "every default endpoint is captured once for the month"
    );
    // Month endpoints ask for 2026-05; FY endpoints for FY2026-27; the rest "-".
    for row in &rows {
        let endpoint = catalog::find(&row.endpoint).unwrap();
        let period = match endpoint.period {
            PeriodKind::Month | PeriodKind::DateRange => "2026-05",
            PeriodKind::FinancialYear => "FY2026-27",
            PeriodKind::None => "-",
        };
        assert_eq!(row.period.to_string(), period, "{}", row.endpoint);
    }
    // The bytes the simulator served are the bytes the archive gives back.
    let served: BTreeMap<String, String> = world
        .sim
        .sim
        .served()
        .into_iter()
        .filter_map(|s| s.transaction_id.clone().map(|t| (t, s.body_sha256.clone())))
        .collect();
    for row in &rows {
        let body = store.body(row.seq).unwrap().expect("a body is stored");
        let hash = gstvault::domain::digest::Digest::of(&body).hex();
        assert_eq!(
            Some(hash.clone()),
            row.body_sha256.map(|d| d.hex()),
            "stored hash of seq {}",
            row.seq
        );
        let transaction = row.transaction_id.as_ref().expect("every answer has a transaction id");
        assert_eq!(served.get(transaction), Some(&hash), "served bytes of {}", row.endpoint);
    }
}

#[tokio::test]
async fn second_capture_without_change_stores_almost_nothing() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let plan = world.plan(&world.gstins(), None, "2026-03", "2026-05");
    let first = world.capture(&plan).await;
    let size_after_first = world.store.lock().unwrap().payload_bytes().unwrap();
    let second = world.capture(&plan).await;
    assert_eq!(
        second.snapshots, first.snapshots,
        "the second run archives every answer again"
    );
    assert_eq!(second.new_payload_bytes, 0, "no payload is stored twice");
    assert_eq!(second.changes, 0);
    assert_eq!(world.store.lock().unwrap().payload_bytes().unwrap(), size_after_first);
    assert!(
        first.new_payload_bytes > 10_000,
        "the first run stored the payloads: {first:?}"
    );
    // What the second run does store per snapshot is its envelope's
    // timestamp and transaction id: the envelope's other bytes are a
    // template shared with the first run.
    let store = rusqlite::Connection::open(&world.config.archive_path).unwrap();
    let (raw, templates): (i64, i64) = store
        .query_row(
            "SELECT COUNT(envelope), COUNT(DISTINCT envelope_id) FROM snapshots WHERE run_id = ?1",
            [second.run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(raw, 0, "every envelope of the second run is a template");
    let first_templates: i64 = store
        .query_row(
            "SELECT COUNT(DISTINCT envelope_id) FROM snapshots WHERE run_id = ?1",
            [first.run_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(templates <= first_templates && templates < 10, "{templates} templates");
    // And the bodies still come back byte for byte.
    let store = world.store.lock().unwrap();
    for row in store.snapshots_of_run(second.run_id).unwrap() {
        let body = store.body(row.seq).unwrap().unwrap();
        assert_eq!(Some(gstvault::domain::digest::Digest::of(&body)), row.body_sha256);
    }
}

#[tokio::test]
async fn planted_amendment_is_recorded_as_exactly_that_change() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let model = world.sim.sim.model(&gstin);
    let today = gstvault::domain::period::india_date(world.clock.now());
    // The first event after today that amends a closed month of this FY or the last.
    let event = model
        .events()
        .into_iter()
        .filter(|e| e.effective > today && e.period < gstvault::domain::period::Month::of_date(today).prev())
        .min_by_key(|e| e.effective)
        .expect("the model plants later amendments");
    let month = event.period.to_string();
    // Capture only the amended month, so ledgers of the current month cannot move.
    let plan = world.plan(std::slice::from_ref(&gstin), None, &month, &month);
    world.capture(&plan).await;
    let days = (event.effective - today).num_days() + 1;
    world.sim.sim.advance(chrono::Duration::days(days));
    // Keep the session alive across the jump.
    world.login_all().await;
    let second = world.capture(&plan).await;
    let changes = world.store.lock().unwrap().changes_of_run(second.run_id).unwrap();
    let changed: BTreeSet<(String, String)> = changes
        .iter()
        .map(|c| (c.endpoint.clone(), c.period.to_string()))
        .collect();
    // Events up to the new date that touch the captured month.
    let new_today = gstvault::domain::period::india_date(world.clock.now());
    let expected: BTreeSet<(String, String)> = model
        .events()
        .into_iter()
        .filter(|e| e.effective > today && e.effective <= new_today && e.period == event.period)
        .flat_map(|e| {
            e.endpoints
                .into_iter()
                .map(move |name| (name.to_string(), e.period.to_string()))
        })
        .collect();
    assert!(!expected.is_empty());
    // FY and no-period endpoints (GSTR-9, IMS pool) move with any change; compare the month.
    let month_changes: BTreeSet<(String, String)> =
        changed.into_iter().filter(|(_, period)| *period == month).collect();
    assert_eq!(month_changes, expected, "event {:?}", event.kind);
}

#[tokio::test]
async fn session_expired_by_the_portal_mid_run_is_refreshed() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    // The portal expires every session; gstvault still believes them valid.
    world.sim.sim.expire_all_sessions();
    let plan = world.plan(
        &world.gstins(),
        Some(vec![
            catalog::find("ledger-balance").unwrap(),
            catalog::find("gstr-3b").unwrap(),
        ]),
        "2026-04",
        "2026-05",
    );
    let summary = world.capture(&plan).await;
    assert!(summary.needs_login.is_empty(), "{summary:?}");
    assert_eq!(summary.snapshots, 3 * 2 * 2);
    assert_eq!(summary.failed(), 0);
    let state = world
        .store
        .lock()
        .unwrap()
        .session_state(&world.gstins()[0])
        .unwrap()
        .unwrap();
    assert!(!state.needs_login);
}

#[tokio::test]
async fn revoked_session_marks_needs_login_and_others_complete() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstins = world.gstins();
    world.sim.sim.revoke_sessions(&gstins[1]);
    let plan = world.plan(
        &gstins,
        Some(vec![
            catalog::find("ledger-cash").unwrap(),
            catalog::find("gstr-1-b2b").unwrap(),
        ]),
        "2026-03",
        "2026-05",
    );
    let summary = world.capture(&plan).await;
    assert_eq!(
        summary.needs_login.keys().cloned().collect::<Vec<_>>(),
        vec![gstins[1].clone()]
    );
    let store = world.store.lock().unwrap();
    let rows = store.snapshots_of_run(summary.run_id).unwrap();
    for g in [&gstins[0], &gstins[2]] {
        assert_eq!(rows.iter().filter(|r| &r.gstin == g).count(), 2 * 3, "{g} completed");
    }
    assert_eq!(rows.iter().filter(|r| r.gstin == gstins[1]).count(), 0);
    let state = store.session_state(&gstins[1]).unwrap().unwrap();
    assert!(state.needs_login);
    let text = gstvault::render::run_totals(&summary);
    assert!(text.contains(&format!("NEEDS LOGIN {}", gstins[1])), "{text}");
}

#[tokio::test]
async fn rate_limits_5xx_and_torn_bodies_are_retried_and_archived() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    world.sim.sim.set_faults(Faults {
        error_5xx: 0.2,
        rate_429: 0.1,
        torn_body: 0.1,
        invalid_json: 0.05,
        seed: 11,
        ..Faults::default()
    });
    let gstin = world.gstins()[0].clone();
    let plan = world.plan(&[gstin], None, "2026-05", "2026-05");
    let summary = world.capture(&plan).await;
    let expected_jobs = catalog::default_set().len() as u64;
    assert!(summary.snapshots >= expected_jobs, "every job is archived: {summary:?}");
    assert!(summary.retries > 10, "faults were retried: {summary:?}");
    // With 6 retries almost everything ends well; what did not is archived with its outcome.
    assert!(
        summary.count(gstvault::domain::envelope::Outcome::Ok)
            + summary.count(gstvault::domain::envelope::Outcome::NoData)
            >= expected_jobs - 2,
        "{summary:?}"
    );
    let store = world.store.lock().unwrap();
    for row in store.snapshots_of_run(summary.run_id).unwrap() {
        if let Some(body) = store.body(row.seq).unwrap() {
            assert_eq!(gstvault::domain::digest::Digest::of(&body), row.body_sha256.unwrap());
        }
    }
}
