//! Compliance queries against archives captured from the simulator: as-of
//! lookups, exact bytes, the diff of a planted amendment, the change list,
//! balances, the three output formats, and the binary's exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use chrono::Duration;
use gstvault::domain::catalog::{self, PeriodKind};
use gstvault::domain::diff::ChangeKind;
use gstvault::domain::digest::Digest;
use gstvault::domain::envelope::Outcome;
use gstvault::domain::log::Seq;
use gstvault::domain::period::{india_date, Month};
use gstvault::domain::time::Timestamp;
use gstvault::query::{self, BalancesArgs, ChangesArgs, Comparison, DiffArgs, KeyArgs, ListArgs, ShowArgs};
use gstvault::render::table::{parse_csv, Format};
use gstvault::sim::model::EventKind;
use gstvault::store::format_time;
use serde_json::Value;

use crate::support::World;

fn key(gstin: &str, endpoint: &str, period: &str) -> KeyArgs {
    KeyArgs {
        gstin: Some(gstin.to_string()),
        endpoint: Some(endpoint.to_string()),
        period: Some(period.to_string()),
        page: 0,
    }
}

fn month_endpoints() -> Vec<&'static catalog::Endpoint> {
    catalog::default_set()
        .into_iter()
        .filter(|e| matches!(e.period, PeriodKind::Month | PeriodKind::DateRange))
        .collect()
}

#[tokio::test]
async fn as_of_picks_the_latest_answer_and_raw_is_the_received_bytes() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        Some(vec![catalog::find("ledger-balance").unwrap()]),
        "2026-05",
        "2026-05",
    );
    let t1 = world.clock.now();
    world.capture(&plan).await;
    world.sim.sim.advance(Duration::hours(5));
    let t2 = world.clock.now();
    world.capture(&plan).await;

    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let rows = query::list(
        &store,
        &ListArgs {
            gstin: Some(gstin.to_string()),
            endpoint: Some("ledger-balance".into()),
            period: Some("2026-05".into()),
            ..ListArgs::default()
        },
    )
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].change, Comparison::First);
    assert!(
        rows[1].change == Comparison::Same || rows[1].change == Comparison::Changed,
        "{rows:?}"
    );

    let show_at = |as_of: String| {
        query::show(
            &store,
            &ShowArgs {
                id: None,
                key: key(gstin.as_str(), "ledger-balance", "2026-05"),
                as_of: Some(as_of),
            },
            world.clock.now(),
        )
    };
    // Between the captures: the first; after both: the second; before any: none.
    let between = show_at(format_time(t2 - Duration::minutes(1))).unwrap();
    assert_eq!(between.row.seq, rows[0].seq);
    let after = show_at(format_time(t2 + Duration::minutes(1))).unwrap();
    assert_eq!(after.row.seq, rows[1].seq);
    let error = show_at(format_time(t1 - Duration::minutes(1))).unwrap_err().to_string();
    assert!(error.starts_with("no answer of "), "{error}");
    // A date means the end of that IST day: both captures are on 2026-06-25 IST.
    assert_eq!(show_at("2026-06-25".into()).unwrap().row.seq, rows[1].seq);

    // The bytes shown raw are the bytes the simulator served.
    let served: BTreeMap<String, String> = world
        .sim
        .sim
        .served()
        .into_iter()
        .filter_map(|s| s.transaction_id.clone().map(|t| (t, s.body_sha256.clone())))
        .collect();
    for shown in [&between, &after] {
        let body = shown.body.as_ref().expect("a body");
        let transaction = shown.row.transaction_id.as_ref().unwrap();
        assert_eq!(served.get(transaction), Some(&Digest::of(body).hex()));
        assert_eq!(Some(body.clone()), store.body(shown.row.seq).unwrap());
        let pretty: Value = serde_json::from_str(&gstvault::render::query::pretty_body(shown).unwrap()).unwrap();
        assert_eq!(pretty, serde_json::from_slice::<Value>(body).unwrap());
    }
    // By ID gives the same snapshot.
    let by_id = query::show(
        &store,
        &ShowArgs {
            id: Some(rows[0].seq.0),
            ..ShowArgs::default()
        },
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(by_id.body, between.body);
}

#[tokio::test]
async fn diff_of_a_planted_b2ba_amendment_is_exactly_its_addition() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let model = world.sim.sim.model(&gstin);
    let today = india_date(world.clock.now());
    let events = model.events();
    let b2ba = |e: &&gstvault::sim::model::PlannedEvent| e.kind == EventKind::B2baAmendment;
    // The next B2BA event whose period shows no amendment before it.
    let event = events
        .iter()
        .filter(b2ba)
        .filter(|e| e.effective > today && e.period < Month::of_date(today).prev())
        .filter(|e| {
            !events
                .iter()
                .filter(b2ba)
                .any(|o| o.period == e.period && o.effective < e.effective)
        })
        .min_by_key(|e| e.effective)
        .expect("the model plants a B2BA amendment")
        .clone();
    let month = event.period.to_string();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        Some(vec![catalog::find("gstr-1-b2ba").unwrap()]),
        &month,
        &month,
    );
    let before = world.clock.now();
    world.capture(&plan).await;
    world
        .sim
        .sim
        .advance(Duration::days((event.effective - today).num_days()));
    world.login_all().await;
    let after = world.clock.now();
    assert_eq!(india_date(after), event.effective);
    world.capture(&plan).await;

    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let diffed = query::diff(
        &store,
        &DiffArgs {
            ids: vec![],
            key: key(gstin.as_str(), "gstr-1-b2ba", &month),
            at: vec![
                format_time(before + Duration::minutes(1)),
                format_time(after + Duration::minutes(1)),
            ],
        },
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(diffed.from.outcome, Outcome::NoData, "no amendment before the event");
    assert_eq!(diffed.to.outcome, Outcome::Ok);
    // Exactly one addition: the b2ba section with one party holding the one amended invoice.
    assert_eq!(diffed.differences.len(), 1, "{:?}", diffed.differences);
    let d = &diffed.differences[0];
    assert_eq!((d.path.as_str(), &d.kind, &d.old), ("/b2ba", &ChangeKind::Added, &None));
    let added = d.new.as_ref().unwrap().as_array().unwrap();
    assert_eq!(added.len(), 1);
    let invoices = added[0]["inv"].as_array().unwrap();
    assert_eq!(invoices.len(), 1);
    assert!(invoices[0]["oinum"].is_string() && invoices[0]["inum"].is_string());
    // The same through IDs, with one --at (from it to now), and in the table.
    let by_ids = query::diff(
        &store,
        &DiffArgs {
            ids: vec![diffed.from.seq.0, diffed.to.seq.0],
            ..DiffArgs::default()
        },
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(by_ids, diffed);
    let one_at = query::diff(
        &store,
        &DiffArgs {
            ids: vec![],
            key: key(gstin.as_str(), "gstr-1-b2ba", &month),
            at: vec![format_time(before + Duration::minutes(1))],
        },
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(one_at, diffed);
    let table = gstvault::render::query::diff_table(&diffed);
    assert_eq!(table.rows.len(), 1);
    assert!(table.human().lines().nth(1).unwrap().starts_with("added  /b2ba  "));
    assert_eq!(
        gstvault::render::query::describe_diff(&diffed)
            .rsplit(": ")
            .next()
            .unwrap(),
        "1 added (/b2ba)"
    );
}

#[tokio::test]
async fn changes_lists_exactly_the_planted_events_of_closed_months() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let today = india_date(world.clock.now());
    let current = Month::of_date(today);
    // Closed months whose returns are all filed: nothing but events changes them.
    let (from, to) = (current.prev().prev().prev().prev().prev(), current.prev().prev());
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        Some(month_endpoints()),
        &from.to_string(),
        &to.to_string(),
    );
    world.capture(&plan).await;
    let first_capture_end = world.clock.now();
    world.sim.sim.advance(Duration::days(45));
    world.login_all().await;
    world.capture(&plan).await;
    let new_today = india_date(world.clock.now());

    let expected: BTreeSet<(String, String)> = world
        .sim
        .sim
        .model(&gstin)
        .events()
        .into_iter()
        .filter(|e| e.effective > today && e.effective <= new_today && e.period >= from && e.period <= to)
        .flat_map(|e| {
            e.endpoints
                .into_iter()
                .map(move |n| (n.to_string(), e.period.to_string()))
        })
        .collect();
    assert!(expected.len() >= 2, "the window holds planted events: {expected:?}");

    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let rows = query::changes(
        &store,
        &ChangesArgs {
            gstin: Some(gstin.to_string()),
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    let found: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.endpoint.clone(), r.period.to_string()))
        .collect();
    assert_eq!(found, expected, "{rows:#?}");
    assert_eq!(rows.len(), expected.len(), "one change per endpoint and period");
    for r in &rows {
        assert!(r.retroactive, "{r:?}");
        assert!(r.detected_at > Timestamp::of(first_capture_end));
        assert_ne!(r.what_changed, "no difference");
        // A filed GSTR-1 amended (even a first B2BA section) or a closed
        // month's 2A moved by a late supplier: never a first filing.
        let expected = if r.endpoint.starts_with("gstr-1") {
            gstvault::domain::change::Kind::AmendmentAfterFiling
        } else {
            gstvault::domain::change::Kind::PortalSide
        };
        assert_eq!(r.kind, expected, "{r:?}");
        assert!(!r.documents.is_empty(), "each event moves a document or row: {r:?}");
    }
    // --retroactive keeps them all; --since after the second capture keeps none.
    let retro = query::changes(
        &store,
        &ChangesArgs {
            gstin: Some(gstin.to_string()),
            retroactive: true,
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    assert_eq!(retro, rows);
    // --endpoint and --group keep only their endpoints' changes.
    let one = &rows[0].endpoint;
    let of_endpoint = query::changes(
        &store,
        &ChangesArgs {
            gstin: Some(gstin.to_string()),
            endpoint: Some(one.clone()),
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    assert!(!of_endpoint.is_empty() && of_endpoint.iter().all(|r| &r.endpoint == one));
    assert_eq!(of_endpoint.len(), rows.iter().filter(|r| &r.endpoint == one).count());
    let group = catalog::find(one).unwrap().group;
    let of_group = query::changes(
        &store,
        &ChangesArgs {
            gstin: Some(gstin.to_string()),
            group: Some(group.name().to_string()),
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    assert_eq!(
        of_group.len(),
        rows.iter()
            .filter(|r| catalog::find(&r.endpoint).unwrap().group == group)
            .count()
    );
    let later = query::changes(
        &store,
        &ChangesArgs {
            since: Some(format_time(world.clock.now() + Duration::minutes(1))),
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    assert!(later.is_empty());
    // The listing marks exactly these snapshots as changed.
    let listed = query::list(
        &store,
        &ListArgs {
            gstin: Some(gstin.to_string()),
            ..ListArgs::default()
        },
    )
    .unwrap();
    let changed: BTreeSet<Seq> = listed
        .iter()
        .filter(|r| r.change == Comparison::Changed)
        .map(|r| r.seq)
        .collect();
    assert_eq!(changed, rows.iter().map(|r| r.seq).collect());

    // Formats: JSON and CSV carry the same rows as the table, one per
    // document that moved (a change with none is one row).
    let table = gstvault::render::query::changes_table(&rows);
    let json: Vec<Value> = serde_json::from_str(&table.render(Format::Json)).unwrap();
    let csv = parse_csv(&table.render(Format::Csv));
    let human = table.render(Format::Human);
    let lines: usize = rows.iter().map(|r| r.documents.len().max(1)).sum();
    assert_eq!(json.len(), lines);
    assert_eq!(csv.len(), lines + 1);
    assert_eq!(human.lines().count(), lines + 1);
    assert_eq!(csv[0], table.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    let col = |name: &str| table.columns.iter().position(|c| *c == name).unwrap();
    let mut i = 0;
    for r in &rows {
        for d in 0..r.documents.len().max(1) {
            assert_eq!(json[i]["seq"], serde_json::json!(r.seq));
            assert_eq!(json[i]["kind"], serde_json::json!(r.kind.as_str()));
            assert_eq!(json[i]["retroactive"], serde_json::json!(true));
            assert_eq!(csv[i + 1][col("seq")], r.seq.to_string());
            assert_eq!(csv[i + 1][col("period")], format!("=\"{}\"", r.period));
            match r.documents.get(d) {
                Some(doc) => {
                    assert_eq!(csv[i + 1][col("section")], doc.section);
                    assert_eq!(json[i]["document"], serde_json::json!(doc.number));
                }
                None => assert_eq!(csv[i + 1][col("summary")], r.what_changed),
            }
            assert!(human.lines().nth(i + 1).unwrap().contains(&r.endpoint));
            i += 1;
        }
    }
}

#[tokio::test]
async fn balances_agree_across_formats() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let endpoints = ["ledger-balance", "ledger-cash", "ledger-itc", "gstr-3b"]
        .iter()
        .map(|n| catalog::find(n).unwrap())
        .collect();
    let plan = world.plan(std::slice::from_ref(&gstin), Some(endpoints), "2026-04", "2026-06");
    world.capture(&plan).await;
    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let rows = query::balances(
        &store,
        &BalancesArgs {
            gstin: gstin.to_string(),
            fy: Some("2026-27".into()),
            month: None,
            as_of: None,
        },
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.month.as_str()).collect::<Vec<_>>(),
        ["2026-04", "2026-05", "2026-06"]
    );
    assert!(rows[0].liability.is_some_and(|h| h.total() > 0), "{rows:#?}");
    assert_eq!(rows[0].finding, "agrees", "{rows:#?}");
    // Before any capture nothing is archived.
    let none = query::balances(
        &store,
        &BalancesArgs {
            gstin: gstin.to_string(),
            fy: Some("2026-27".into()),
            month: None,
            as_of: Some("2026-06-01".into()),
        },
        world.clock.now(),
    )
    .unwrap();
    assert!(none.is_empty());

    let table = gstvault::render::query::balances_table(&rows);
    let json: Vec<Value> = serde_json::from_str(&table.render(Format::Json)).unwrap();
    let csv = parse_csv(&table.render(Format::Csv));
    let human = table.render(Format::Human);
    let human_rows: Vec<Vec<&str>> = human
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(15).collect())
        .collect();
    assert_eq!((json.len(), csv.len() - 1, human_rows.len()), (3, 3, 3));
    assert_eq!(&csv[0][..2], ["gstin", "month"]);
    assert_eq!(csv[0].last().map(String::as_str), Some("as_of"));
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(json[i]["month"], serde_json::json!(r.month));
        assert_eq!(csv[i + 1][0], gstin.to_string(), "the CSV names its GSTIN");
        assert_eq!(
            csv[i + 1][1],
            format!("=\"{}\"", r.month),
            "a month stays text in a spreadsheet"
        );
        assert!(
            csv[i + 1].last().unwrap().ends_with("+05:30"),
            "the CSV names its as-of, in IST"
        );
        assert_eq!(r.cash.total(), r.cash.igst + r.cash.cgst + r.cash.sgst + r.cash.cess);
        assert!(!r.snapshots.is_empty(), "each line names its source snapshots: {r:?}");
        for seq in &r.snapshots {
            let row = store.snapshot(*seq).unwrap().unwrap();
            assert_eq!(
                row.period.to_string(),
                r.month,
                "a source of {} is of its month",
                r.month
            );
        }
        if r.liability.is_none() {
            // A month whose 3B is not archived: null in JSON, blank in CSV.
            assert_eq!(json[i]["3b_liability"], Value::Null);
            assert_eq!(csv[i + 1][12], "");
            continue;
        }
        for (c, column) in table.columns.iter().enumerate().skip(2).take(13) {
            let paise = |text: &str| -> i64 { (text.replace(',', "").parse::<f64>().unwrap() * 100.0).round() as i64 };
            let from_json = (json[i][*column].as_f64().unwrap() * 100.0).round() as i64;
            assert_eq!(paise(&csv[i + 1][c]), from_json, "{column}");
            assert_eq!(paise(human_rows[i][c]), from_json, "{column}");
        }
    }
    // One month: its line alone, the same figures.
    let may = query::balances(
        &store,
        &BalancesArgs {
            gstin: gstin.to_string(),
            fy: None,
            month: Some("2026-05".into()),
            as_of: None,
        },
        world.clock.now(),
    )
    .unwrap();
    assert_eq!(may, vec![rows[1].clone()]);
    let liability = gstvault::domain::money::rupees(rows[0].liability.unwrap().total());
    assert!(liability.contains(','), "Indian grouping: {liability}");
    assert!(human.lines().nth(1).unwrap().contains(&liability), "{human}");
}

fn gstvault_cli(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
        .env_remove("GSTVAULT_CONFIG")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_binary_answers_queries_and_refuses_bad_input_in_one_line() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstins = world.gstins();
    let plan = world.plan(
        &[gstins[0].clone()],
        Some(vec![
            catalog::find("ledger-balance").unwrap(),
            catalog::find("gstr-3b").unwrap(),
        ]),
        "2026-04",
        "2026-05",
    );
    world.capture(&plan).await;
    let archive = world.config.archive_path.display().to_string();
    let g = gstins[0].to_string();

    // The archive stays open for writing here, as under a daemon.
    let (code, stdout, stderr) = gstvault_cli(&["list", "--archive", &archive, "--gstin", &g]);
    assert_eq!(code, 0, "{stderr}");
    let text = String::from_utf8(stdout).unwrap();
    assert!(text.starts_with("seq  received_at"), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");

    let (code, stdout, _) = gstvault_cli(&["list", "--archive", &archive, "--gstin", &g, "--json"]);
    assert_eq!(code, 0);
    let json: Vec<Value> = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(json.len(), 4);
    let seq = json[0]["seq"].as_u64().unwrap();

    let (code, stdout, _) = gstvault_cli(&["show", &seq.to_string(), "--raw", "--archive", &archive]);
    assert_eq!(code, 0);
    let body = world.store.lock().unwrap().body(Seq(seq)).unwrap().unwrap();
    assert_eq!(stdout, body, "--raw writes the exact bytes received");

    let (code, stdout, _) = gstvault_cli(&["list", "--archive", &archive, "--gstin", &g, "--since", "2999-01-01"]);
    assert_eq!(
        (code, String::from_utf8(stdout).unwrap().as_str()),
        (0, "no snapshots match\n")
    );

    let (code, stdout, _) = gstvault_cli(&[
        "balances",
        "--archive",
        &archive,
        "--gstin",
        &g,
        "--fy",
        "2026-27",
        "--csv",
    ]);
    assert_eq!(code, 0);
    assert_eq!(parse_csv(&String::from_utf8(stdout).unwrap()).len(), 3);

    let other = gstins[1].to_string();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["list", "--gstin", "27AAPFU0939F1ZW"],
            "error: GSTIN \"27AAPFU0939F1ZW\" fails its check character".into(),
        ),
        (
            vec!["list", "--gstin", &other],
            format!("error: no snapshots for GSTIN {other} in archive"),
        ),
        (
            vec!["list", "--endpoint", "gstr-1-nope"],
            "error: --endpoint: unknown endpoint \"gstr-1-nope\"; did you mean gstr-1-".into(),
        ),
        (
            vec!["list", "--group", "gstr-4"],
            "error: --group \"gstr-4\": unknown group".into(),
        ),
        (
            vec!["list", "--period", "2025-13"],
            "error: --period: period \"2025-13\" is not a month".into(),
        ),
        (
            vec!["changes", "--since", "yesterday"],
            "error: --since \"yesterday\": not an instant".into(),
        ),
        (
            vec!["changes", "--kind", "late"],
            "error: --kind \"late\": unknown kind; kinds are first-filing, amendment, portal-side, in-progress".into(),
        ),
        (
            vec!["balances", "--gstin", &g, "--fy", "2026-28"],
            "error: --fy: period \"2026-28\" is not a financial year".into(),
        ),
        (
            vec!["show", "999999"],
            "error: snapshot 999999: no such snapshot in archive".into(),
        ),
    ];
    for (mut args, expected) in cases {
        args.extend(["--archive", archive.as_str()]);
        let (code, _, stderr) = gstvault_cli(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with(&expected),
            "{args:?}\n got: {stderr}\nwant: {expected}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
}

#[tokio::test]
async fn liability_sets_the_3b_as_filed_beside_the_portals_computation() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let fy = gstvault::domain::period::FinancialYear { start_year: 2025 };
    let plants = world.sim.sim.model(&gstin).plants(fy);
    let month = plants.short_payment_month;
    let endpoints = ["gstr-3b", "gstr-3b-auto-liability"]
        .iter()
        .map(|n| catalog::find(n).unwrap())
        .collect();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        Some(endpoints),
        &month.to_string(),
        &month.to_string(),
    );
    world.capture(&plan).await;
    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let args = query::liability::LiabilityArgs {
        gstin: gstin.to_string(),
        month: Some(month.to_string()),
        fy: None,
        as_of: None,
    };
    let rows = query::liability::liability(&store, &args, world.clock.now()).unwrap();
    let a = "(a) Outward taxable supplies (other than zero rated, nil rated and exempted)";
    use query::liability::Basis;
    let cell = |basis: Basis, column: &str| {
        rows.iter()
            .find(|r| r.table == "3.1" && r.line == a && r.basis == basis)
            .and_then(|r| r.values.iter().find(|(c, _)| *c == column))
            .and_then(|(_, v)| *v)
            .unwrap()
    };
    // The planted short payment: the 3B declares less than GSTR-1 gave the portal.
    for (head, short) in [
        ("Central tax", plants.short_payment.cgst()),
        ("State/UT tax", plants.short_payment.sgst()),
    ] {
        assert_eq!(
            cell(Basis::AutoComputed, head) - cell(Basis::Filed, head),
            short,
            "{head}"
        );
        assert_eq!(cell(Basis::Difference, head), -short, "{head}");
    }
    // Each figure names the snapshot it was read from, of its month.
    for r in rows.iter().filter(|r| r.basis != Basis::Difference) {
        let seq = r.seq.expect("a source snapshot");
        let row = store.snapshot(Seq(seq)).unwrap().unwrap();
        assert_eq!(row.period.to_string(), month.to_string());
    }
    // 6.1 comes from the 3B alone.
    assert!(rows.iter().any(|r| r.table == "6.1" && r.basis == Basis::Filed));
    let csv = parse_csv(&gstvault::render::query::liability_table(&rows).render(Format::Csv));
    assert_eq!(&csv[0][..5], ["gstin", "month", "table", "line", "basis"]);
    assert_eq!(csv[1][1], format!("=\"{month}\""));
    // As of before any capture: nothing.
    let none = query::liability::liability(
        &store,
        &query::liability::LiabilityArgs {
            as_of: Some("2020-01-01".into()),
            ..args.clone()
        },
        world.clock.now(),
    )
    .unwrap();
    assert!(none.is_empty());
}
