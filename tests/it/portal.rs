//! The portal's real session and error rules (issue 16), each as a user
//! would notice it, against the simulator: access tokens refreshed before
//! they lapse, API access that ends and says so, OTP calls sent exactly
//! once, a wrong OTP named as such, no-data and access codes, unknown codes
//! counted apart, e-invoice downloads per supply type through the object
//! store byte for byte, 2B past 1,000 pages, notices, large returns and the
//! documented headers. Time is the simulator's clock, moved by the tests.

use std::collections::BTreeSet;

use chrono::Duration;
use gstvault::domain::catalog;
use gstvault::domain::envelope::Outcome;
use gstvault::domain::period::Period;
use gstvault::sim::{self, Faults, OtpFault};
use gstvault::store::SnapshotRow;

use crate::support::World;

fn endpoints(names: &[&str]) -> Option<Vec<&'static catalog::Endpoint>> {
    Some(names.iter().map(|n| catalog::find(n).unwrap()).collect())
}

fn rows_of(world: &World, run_id: i64) -> Vec<SnapshotRow> {
    world.store.lock().unwrap().snapshots_of_run(run_id).unwrap()
}

/// 1. A capture that starts within `refresh_before_expiry_mins` of the access
/// token's end refreshes first: no request goes out with the old token.
#[tokio::test]
async fn a_capture_within_the_refresh_margin_refreshes_before_its_first_request() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let old = world.sim.sim.session_serial(&gstin).unwrap();
    // The token lives 6 h; the margin is the config's 30 minutes.
    world.sim.sim.advance(Duration::hours(6) - Duration::minutes(10));
    let served_before = world.sim.sim.served().len();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        endpoints(&["ledger-balance", "gstr-3b"]),
        "2026-04",
        "2026-05",
    );
    let totals = world.capture(&plan).await;
    assert!(totals.needs_login.is_empty(), "{totals:?}");
    assert_eq!(world.sim.sim.refreshes(), 1, "one refresh, before the first request");
    let served = &world.sim.sim.served()[served_before..];
    assert_eq!(served.len(), 4);
    assert!(
        served.iter().all(|s| s.session.is_some_and(|n| n > old)),
        "no request carried the old token: {served:?}"
    );
    // The archive knows the new token's end, and API access is as before.
    let state = world.store.lock().unwrap().session_state(&gstin).unwrap().unwrap();
    let token_end = state.token_expiry.unwrap().to_datetime().unwrap();
    assert!(token_end > world.clock.now() + Duration::hours(5), "{state:?}");
}

/// 1. A refresh never extends API access; once `session_expiry` passes, the
/// GSTIN needs login, says when access ended, and nothing is sent for it.
#[tokio::test]
async fn api_access_ends_at_session_expiry_and_no_refresh_extends_it() {
    let world = World::new(|c| c.api_access_ttl = std::time::Duration::from_secs(8 * 3600)).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let logged_in = world.store.lock().unwrap().session_state(&gstin).unwrap().unwrap();
    let access_end = logged_in.session_expiry.unwrap();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        endpoints(&["ledger-balance"]),
        "2026-05",
        "2026-05",
    );
    // Within the margin of the token's end: refreshed, but only up to the access end.
    world.sim.sim.advance(Duration::hours(6) - Duration::minutes(5));
    let totals = world.capture(&plan).await;
    assert!(totals.needs_login.is_empty(), "{totals:?}");
    assert_eq!(world.sim.sim.refreshes(), 1);
    let refreshed = world.store.lock().unwrap().session_state(&gstin).unwrap().unwrap();
    assert_eq!(
        refreshed.session_expiry,
        Some(access_end),
        "a refresh never extends API access"
    );
    assert_eq!(
        refreshed.token_expiry,
        Some(access_end),
        "the new token ends with API access"
    );
    // Past the access end: needs login, no request, no refresh attempted.
    world.sim.sim.advance(Duration::hours(3));
    let served_before = world.sim.sim.served().len();
    let totals = world.capture(&plan).await;
    let reason = totals.needs_login.get(&gstin).expect("needs login");
    assert!(reason.starts_with("API access ended at 2026-06-25 "), "{reason}");
    assert!(
        reason.contains(" +05:30") && reason.contains(&format!("gstvault login {gstin}")),
        "{reason}"
    );
    assert_eq!(world.sim.sim.served().len(), served_before, "nothing was sent");
    assert_eq!(world.sim.sim.refreshes(), 1, "no refresh was tried");
    // And the portal itself refuses a refresh after session_expiry (AUTH4038).
    let session = gstvault::capture::session::TokenStore::new(&world.config.sessions_dir)
        .load(&gstin)
        .unwrap();
    let refused = world.client.refresh_session(&session).await.unwrap_err();
    assert_eq!(refused.access_ended().map(|r| &r[..8]), Some("API acce"), "{refused}");
    assert!(refused.to_string().contains("AUTH4038"), "{refused}");
}

/// 1. `status` shows until when API access lasts (IST) and why a login is needed.
#[tokio::test]
async fn status_shows_access_until_in_ist_and_the_reason_to_log_in() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let status = gstvault::app::status::status(&world.config, world.clock.now()).unwrap();
    let text = gstvault::render::status(&status);
    // Logged in at 2026-06-25 10:00 IST with 30 days of API access.
    assert!(text.contains("access_until"), "{text}");
    assert!(text.contains("2026-07-25 10:00:00 +05:30"), "{text}");
    assert!(!status.needs_login(), "{text}");
    // 31 days later nobody ran a capture, yet status knows access ended.
    let later = world.clock.now() + Duration::days(31);
    let status = gstvault::app::status::status(&world.config, later).unwrap();
    assert!(status.needs_login());
    let text = gstvault::render::status(&status);
    assert!(
        text.contains("YES: API access ended at 2026-07-25 10:00:00 +05:30"),
        "{text}"
    );
}

/// 2. OTP generate is sent exactly once even when it fails on the way, and
/// the error says it was not retried and what to do.
#[tokio::test]
async fn otp_requests_are_sent_once_and_say_so_when_they_fail() {
    let world = World::new(|c| c.retry_after_secs = 0).await;
    let entry = world.config.gstins[0].clone();
    world.sim.sim.set_faults(Faults {
        otp: Some(OtpFault::Status(503)),
        ..Faults::default()
    });
    let err = gstvault::app::login::request_otp(&world.client, &entry)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "OTP request failed (HTTP 503); not retried: request a new OTP with `gstvault login {} --request-only`",
            entry.gstin
        )
    );
    assert_eq!(
        world.sim.sim.otp_calls().len(),
        1,
        "exactly one OTP request reached the portal"
    );
    // A connection reset mid-answer: still one request.
    world.sim.sim.set_faults(Faults {
        otp: Some(OtpFault::Reset),
        ..Faults::default()
    });
    let err = gstvault::app::login::request_otp(&world.client, &entry)
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("OTP request failed (torn body"), "{err}");
    assert_eq!(world.sim.sim.otp_calls().len(), 2);
    // OTP verify: one attempt, and the OTP is single-use.
    world.sim.sim.set_faults(Faults::default());
    gstvault::app::login::request_otp(&world.client, &entry).await.unwrap();
    world.sim.sim.set_faults(Faults {
        otp: Some(OtpFault::Status(502)),
        ..Faults::default()
    });
    let err = gstvault::app::login::verify_otp(&world.config, &world.client, &entry, sim::TEST_OTP, world.clock.now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "OTP verification failed (HTTP 502); not retried (an OTP is single-use): request a new OTP with \
             `gstvault login {} --request-only`",
            entry.gstin
        )
    );
    let calls = world.sim.sim.otp_calls();
    assert_eq!(calls.iter().filter(|c| c.step == "verify").count(), 1, "{calls:?}");
    // Every OTP call carried the documented x-source.
    assert!(
        calls.iter().all(|c| c.x_source.as_deref() == Some("primary")),
        "{calls:?}"
    );
}

/// 3. A wrong or reused OTP says so, not "AUTH4033: Invalid Session".
#[tokio::test]
async fn a_wrong_or_used_otp_says_so_and_what_to_do() {
    let world = World::new(|_| {}).await;
    let entry = world.config.gstins[0].clone();
    let expected = format!(
        "the OTP was wrong or has expired (AUTH4033 Invalid Session); request a new one with \
         `gstvault login {} --request-only`",
        entry.gstin
    );
    let wrong = gstvault::app::login::log_in(&world.config, &world.client, &entry, "000000", world.clock.now())
        .await
        .unwrap_err();
    assert_eq!(wrong.to_string(), expected);
    // The right OTP once, then again: an OTP is single-use.
    gstvault::app::login::log_in(&world.config, &world.client, &entry, sim::TEST_OTP, world.clock.now())
        .await
        .unwrap();
    let reused =
        gstvault::app::login::verify_otp(&world.config, &world.client, &entry, sim::TEST_OTP, world.clock.now())
            .await
            .unwrap_err();
    assert_eq!(reused.to_string(), expected);
}

/// 4. No-data codes are archived as no data (IMS0027, EINV30113 below,
/// GTR2B-002 with its reason); an unknown code is archived with its code and
/// counted as unrecognised; API access switched off on the portal marks the
/// GSTIN needs-login with what to do.
#[tokio::test]
async fn no_data_unknown_and_access_codes_from_the_portal() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstins = world.gstins();
    world
        .sim
        .sim
        .plant_error("gstr-3b", "XYZ0001", "A code nobody documented");
    world.sim.sim.plant_error(
        "gstr-2b",
        "GTR2B-002",
        "GSTR-2B is not generated as GSTR-3B for the previous period is not filed",
    );
    world.sim.sim.switch_off_api_access(&gstins[1], true);
    // The portal ends the third's API access before gstvault's records say so.
    world.sim.sim.end_api_access(&gstins[2]);
    let plan = world.plan(
        &gstins,
        endpoints(&["ims-added-back", "gstr-3b", "gstr-2b"]),
        "2026-05",
        "2026-05",
    );
    let totals = world.capture(&plan).await;
    let rows = rows_of(&world, totals.run_id);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.endpoint == name && r.gstin == gstins[0])
            .unwrap()
    };
    assert_eq!(
        (row("ims-added-back").outcome, row("ims-added-back").error_cd.as_deref()),
        (Outcome::NoData, Some("IMS0027"))
    );
    let gtr = row("gstr-2b");
    assert_eq!(
        (gtr.outcome, gtr.error_cd.as_deref()),
        (Outcome::NoData, Some("GTR2B-002"))
    );
    assert!(
        gtr.detail
            .as_deref()
            .unwrap()
            .contains("previous period's GSTR-3B was not filed"),
        "{gtr:?}"
    );
    let unknown = row("gstr-3b");
    assert_eq!(
        (unknown.outcome, unknown.error_cd.as_deref()),
        (Outcome::Unrecognised, Some("XYZ0001"))
    );
    assert_eq!(totals.unrecognised(), 1);
    assert_eq!(
        totals.failed(),
        0,
        "an unrecognised answer is not folded into the failures"
    );
    let text = gstvault::render::run_totals(&totals);
    assert!(text.contains("unrecognised 1"), "{text}");
    // API access switched off: needs login, with what to do, nothing archived.
    let reason = totals.needs_login.get(&gstins[1]).expect("needs login");
    assert!(
        reason.contains("RET11402") && reason.contains("enable API access"),
        "{reason}"
    );
    assert!(rows.iter().all(|r| r.gstin != gstins[1]), "refusals are not archived");
    let state = world.store.lock().unwrap().session_state(&gstins[1]).unwrap().unwrap();
    assert!(state.needs_login && state.reason.as_deref() == Some(reason.as_str()));
    // AUTH4038 from the portal: API access ended; no refresh is tried.
    let ended = totals.needs_login.get(&gstins[2]).expect("needs login");
    assert!(
        ended.contains("AUTH4038") && ended.contains(&format!("gstvault login {}", gstins[2])),
        "{ended}"
    );
    assert!(rows.iter().all(|r| r.gstin != gstins[2]));
    assert_eq!(world.sim.sim.refreshes(), 0);
}

/// 5. e-invoice lists: one download per supply type and month; the list is
/// fetched from the object store byte for byte, its presigned query sent
/// unchanged and without the API's headers; a supply type without
/// e-invoices is no data; a download still queued after the poll limit is
/// archived as pending.
#[tokio::test]
async fn einvoice_downloads_per_supply_type_through_the_object_store() {
    let world = World::builder()
        .sim(|c| c.retry_after_secs = 0)
        .test_client()
        .api("download_poll_secs = 0\ndownload_polls = 3")
        .start()
        .await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let downloads: Vec<&'static catalog::Endpoint> = catalog::ENDPOINTS
        .iter()
        .filter(|e| e.quirk == catalog::Quirk::Download)
        .collect();
    assert_eq!(downloads.len(), 12, "6 supply types, sales and purchases");
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        Some(downloads.clone()),
        "2026-05",
        "2026-05",
    );
    let totals = world.capture(&plan).await;
    let rows = rows_of(&world, totals.run_id);
    assert_eq!(rows.len(), 12, "{rows:?}");
    // Every submit named its supply type.
    let submits: BTreeSet<String> = world
        .sim
        .sim
        .served()
        .into_iter()
        .filter(|s| s.method == "POST")
        .map(|s| s.path_and_query)
        .collect();
    assert!(submits.iter().all(|p| p.contains("?supply_type=")), "{submits:?}");
    assert_eq!(submits.len(), 12);
    let objects = world.sim.sim.object_requests();
    assert_eq!(objects.len(), 2, "B2B sales and purchases have lists: {objects:?}");
    for object in &objects {
        assert_eq!(object.status, 200, "{object:?}");
        assert!(
            object.api_headers.is_empty(),
            "no API header reached the object store: {object:?}"
        );
        // The presigned query arrived exactly as issued, %2F, + and = included.
        assert!(object.path_and_query.contains("SIMULATOR%2F") && object.path_and_query.contains("+"));
        assert!(object.path_and_query.contains("=="));
    }
    for name in ["einvoice-sales", "einvoice-purchases"] {
        let row = rows.iter().find(|r| r.endpoint == name).unwrap();
        assert_eq!(row.outcome, Outcome::Ok, "{row:?}");
        assert!(
            row.request.contains("?job_id="),
            "the record names the poll, not the URL: {row:?}"
        );
        let body = world.store.lock().unwrap().body(row.seq).unwrap().unwrap();
        // Byte for byte what the object store served.
        let digest = gstvault::domain::digest::Digest::of(&body).hex();
        assert!(
            objects
                .iter()
                .any(|o| o.body_sha256.as_deref() == Some(digest.as_str())),
            "{name}"
        );
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(!list.as_array().unwrap().is_empty());
        assert!(list[0].get("irn").is_some() && list[0]["supplyType"] == "B2B");
    }
    for row in rows
        .iter()
        .filter(|r| r.endpoint != "einvoice-sales" && r.endpoint != "einvoice-purchases")
    {
        assert_eq!(
            (row.outcome, row.error_cd.as_deref()),
            (Outcome::NoData, Some("EINV30113")),
            "{row:?}"
        );
    }
    // The object store refuses what gstvault never sends: API headers, a re-encoded query.
    let url = {
        let issued = world.sim.sim.object_requests()[0].path_and_query.clone();
        format!("{}{issued}", world.sim.object_store_url)
    };
    let http = reqwest::Client::new();
    let with_key = http
        .get(&url)
        .header("x-api-key", sim::DEMO_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), 400);
    let reencoded = http.get(url.replace("%2F", "/")).send().await.unwrap();
    assert_eq!(reencoded.status(), 403);
    // A download that stays queued past the poll limit is archived as pending.
    world.sim.sim.set_download_ready_after_polls(100);
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        endpoints(&["einvoice-sales"]),
        "2026-05",
        "2026-05",
    );
    let totals = world.capture(&plan).await;
    let rows = rows_of(&world, totals.run_id);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, Outcome::Pending, "{:?}", rows[0]);
    assert!(
        rows[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("still `created` after 3 poll(s)"),
        "{:?}",
        rows[0]
    );
    assert_eq!(totals.count(Outcome::Pending), 1);
}

/// 6. A GSTR-2B of more than 1,000 pages is archived whole.
#[tokio::test]
async fn a_gstr2b_past_a_thousand_pages_is_not_cut_short() {
    let gstin = sim::demo_gstins()[0].clone();
    let large = gstin.clone();
    let world = World::builder()
        .sim(move |c| c.gstr2b_min_pages = vec![(large, 1003)])
        .test_client()
        .concurrency(4)
        .gstins(vec![gstin.clone()])
        .start()
        .await;
    world.login_all().await;
    let plan = world.plan(&[gstin], endpoints(&["gstr-2b"]), "2026-05", "2026-05");
    let totals = world.capture(&plan).await;
    let pages: BTreeSet<u32> = rows_of(&world, totals.run_id).iter().map(|r| r.page).collect();
    assert_eq!(pages, (0..=1003).collect::<BTreeSet<u32>>());
    assert_eq!(totals.failed(), 0);
}

/// 7. Notices: the list and each notice's details by its reference id.
#[tokio::test]
async fn notices_are_archived_with_each_notices_details() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        endpoints(&["notices"]),
        "2026-05",
        "2026-05",
    );
    let totals = world.capture(&plan).await;
    let rows = rows_of(&world, totals.run_id);
    let list = rows.iter().find(|r| r.endpoint == "notices").unwrap();
    assert_eq!((list.outcome, list.period), (Outcome::Ok, Period::Current));
    let store = world.store.lock().unwrap();
    let body = store.body(list.seq).unwrap().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let ids: Vec<String> = value["data"]["data"]["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["refId"].as_str().unwrap().to_string())
        .collect();
    assert!(!ids.is_empty(), "the business has notices by June 2026");
    let details: Vec<&SnapshotRow> = rows.iter().filter(|r| r.endpoint == "notice-details").collect();
    assert_eq!(details.len(), ids.len());
    for id in &ids {
        let row = details
            .iter()
            .find(|r| r.request.ends_with(&format!("/notices/{id}")))
            .unwrap_or_else(|| panic!("details of {id}"));
        assert_eq!((row.outcome, row.page), (Outcome::Ok, catalog::notice_page(id)));
        let body = store.body(row.seq).unwrap().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(value["data"]["data"]["noticeType"].as_str().is_some(), "{value}");
        assert!(value["data"]["data"]["dueDateOfReply"].as_str().is_some(), "{value}");
    }
    let pages: BTreeSet<u32> = details.iter().map(|r| r.page).collect();
    assert_eq!(pages.len(), ids.len(), "each notice has its own key");
}

/// 8. A large return answered with a token and an estimate is archived as
/// pending; once ready, its files are fetched and archived byte for byte.
#[tokio::test]
async fn a_large_return_is_pending_then_its_files_are_archived() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = sim::demo_gstins()[1].clone();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        endpoints(&["gstr-2a-b2b"]),
        "2026-05",
        "2026-05",
    );
    let first = world.capture(&plan).await;
    let rows = rows_of(&world, first.run_id);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].outcome, rows[0].page), (Outcome::Pending, 0));
    assert!(
        rows[0].detail.as_deref().unwrap().contains("ready in about 20 min"),
        "{:?}",
        rows[0]
    );
    assert!(world.sim.sim.object_requests().is_empty(), "nothing to fetch yet");
    // The estimate passes; the next run fetches the files.
    world.sim.sim.advance(Duration::minutes(21));
    let second = world.capture(&plan).await;
    let rows = rows_of(&world, second.run_id);
    let pages: Vec<(u32, Outcome)> = rows.iter().map(|r| (r.page, r.outcome)).collect();
    assert_eq!(pages, vec![(0, Outcome::Pending), (1, Outcome::Ok), (2, Outcome::Ok)]);
    let objects = world.sim.sim.object_requests();
    assert_eq!(objects.len(), 2);
    assert!(
        objects.iter().all(|o| o.status == 200 && o.api_headers.is_empty()),
        "{objects:?}"
    );
    let store = world.store.lock().unwrap();
    let mut suppliers = 0;
    for row in &rows[1..] {
        assert!(row.request.contains("/gstrs/file-details?token="), "{row:?}");
        let file: serde_json::Value = serde_json::from_slice(&store.body(row.seq).unwrap().unwrap()).unwrap();
        suppliers += file["b2b"].as_array().unwrap().len();
    }
    // Together the files carry the whole section, as the model has it.
    let params = [
        ("year".to_string(), "2026".to_string()),
        ("month".to_string(), "05".to_string()),
    ]
    .into_iter()
    .collect();
    let today = gstvault::domain::period::india_date(world.clock.now());
    let whole = world
        .sim
        .sim
        .model(&gstin)
        .respond(catalog::find("gstr-2a-b2b").unwrap(), &params, &[], today);
    let sim::model::Answer::Data(whole) = whole else {
        panic!("the month has documents: {whole:?}");
    };
    assert_eq!(suppliers, whole["b2b"].as_array().unwrap().len());
}

/// 9. `x-api-version` on every API request, `x-source` on the OTP calls.
#[tokio::test]
async fn requests_carry_the_documented_headers() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let plan = world.plan(
        &world.gstins()[..1],
        endpoints(&["ledger-balance", "public-track"]),
        "2026-05",
        "2026-05",
    );
    world.capture(&plan).await;
    let served = world.sim.sim.served();
    assert!(!served.is_empty());
    assert!(
        served.iter().all(|s| s.api_version.as_deref() == Some("1.0.0")),
        "{served:?}"
    );
    let otp = world.sim.sim.otp_calls();
    assert_eq!(otp.len(), 6, "generate and verify for three GSTINs");
    assert!(otp.iter().all(|c| c.x_source.as_deref() == Some("primary")));
}
