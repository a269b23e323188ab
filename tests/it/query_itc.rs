//! `gstvault itc`: a month's GSTR-2B ITC by section and head as archived at
//! an instant, and `--against` the difference between two captures of a 2B
//! that the portal regenerated (an invoice rejected in IMS) in between.

use chrono::Duration;
use gstvault::domain::catalog;
use gstvault::domain::money::Heads;
use gstvault::domain::period::Month;
use gstvault::query::{self, ItcArgs};
use gstvault::render::table::{parse_csv, Format};
use serde_json::Value;

use crate::support::World;

#[tokio::test]
async fn itc_against_reports_the_difference_between_two_captures_of_a_2b() {
    let world = World::new(|_| {}).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let plan = world.plan(
        std::slice::from_ref(&gstin),
        Some(vec![catalog::find("gstr-2b").unwrap()]),
        "2026-05",
        "2026-05",
    );
    world.capture(&plan).await;
    let first = world.clock.now();
    world.sim.sim.advance(Duration::hours(2));

    // The business rejects one invoice in IMS; the portal regenerates the 2B.
    let month = Month::parse("2026-05").unwrap();
    let (number, tax) = world
        .sim
        .sim
        .reject_in_ims(&gstin, month)
        .expect("a B2B invoice to reject");
    let rejected = Heads {
        igst: tax.0[0],
        cgst: tax.0[1],
        sgst: tax.0[2],
        cess: tax.0[3],
    };
    assert!(rejected.total() > 0, "{number}");
    world.capture(&plan).await;

    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let args = |as_of: Option<String>, against: Option<String>| ItcArgs {
        gstin: gstin.to_string(),
        month: "2026-05".into(),
        as_of,
        against,
    };
    let rows = query::itc(&store, &args(None, Some(first.to_rfc3339())), world.clock.now()).unwrap();
    let line = |bucket: &str, section: &str, part: &str| {
        rows.iter()
            .find(|r| r.bucket == bucket && r.section == section && r.part == part)
            .unwrap_or_else(|| panic!("no line {bucket} {section} {part}: {rows:#?}"))
    };
    // Available B2B ITC fell by the rejected invoice's tax; rejected ITC rose by it.
    let b2b = line("ITC available", "nonrevsup", "b2b");
    assert_eq!(b2b.difference, Some(Heads::default().minus(&rejected)), "{b2b:?}");
    assert_eq!(b2b.against.unwrap().minus(&b2b.heads.unwrap()), rejected);
    let total = line("ITC available", "nonrevsup", "total");
    assert_eq!(total.difference, Some(Heads::default().minus(&rejected)));
    let gone = line("ITC rejected (IMS)", "nonrevsup", "b2b");
    assert_eq!(gone.heads, Some(rejected));
    assert_eq!(gone.against, Some(Heads::default()));
    assert_eq!(gone.difference, Some(rejected));
    // Untouched sections differ by nothing.
    for r in rows.iter().filter(|r| r.section == "isdsup" || r.section == "imports") {
        assert_eq!(r.difference, Some(Heads::default()), "{r:?}");
    }
    assert!(rows.iter().all(|r| r.note.is_empty()), "{rows:#?}");
    assert_eq!(rows[0].snapshots.len(), 2, "both captures are named: {rows:?}");

    // Without --against: the figures at the instant, no difference.
    let then = query::itc(&store, &args(Some(first.to_rfc3339()), None), world.clock.now()).unwrap();
    let b2b_then = then
        .iter()
        .find(|r| r.bucket == "ITC available" && r.section == "nonrevsup" && r.part == "b2b")
        .unwrap();
    assert_eq!(b2b_then.heads, b2b.against);
    assert!(then.iter().all(|r| r.difference.is_none() && r.against_at.is_none()));

    // Before the first capture nothing was archived.
    let none = query::itc(&store, &args(Some("2026-06-01".into()), None), world.clock.now()).unwrap();
    assert!(none.is_empty(), "{none:?}");
    let bad = query::itc(&store, &args(None, Some("yesterday".into())), world.clock.now()).unwrap_err();
    assert!(bad.to_string().starts_with("--against \"yesterday\""), "{bad}");

    // The table: the same figures as JSON, CSV (GSTIN, month as text, as-of columns) and text.
    let table = gstvault::render::query::itc_table(&rows);
    let json: Vec<Value> = serde_json::from_str(&table.render(Format::Json)).unwrap();
    let csv = parse_csv(&table.render(Format::Csv));
    assert_eq!(json.len(), rows.len());
    assert_eq!(&csv[0][..5], ["gstin", "month", "bucket", "section", "part"]);
    let diff_total = table.columns.iter().position(|c| *c == "diff_total").unwrap();
    let i = rows
        .iter()
        .position(|r| r.bucket == "ITC available" && r.part == "b2b")
        .unwrap();
    assert_eq!(csv[i + 1][0], gstin.to_string());
    assert_eq!(csv[i + 1][1], "2026-05");
    let paise = |text: &str| -> i64 { gstvault::domain::money::paise_of_decimal(&text.replace(',', "")).unwrap() };
    assert_eq!(paise(&csv[i + 1][diff_total]), -rejected.total());
    assert_eq!(
        (json[i]["diff_total"].as_f64().unwrap() * 100.0).round() as i64,
        -rejected.total()
    );
    assert!(
        csv[i + 1].last().unwrap().ends_with("+05:30"),
        "the against instant, in IST"
    );
}
