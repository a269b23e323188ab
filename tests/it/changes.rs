//! Changes in business terms against the simulator, as the demo makes them:
//! seed 2026, the demo GSTINs, a capture 15 days before 20 December 2026
//! and one on it. The August GSTR-1 credit note the simulator plants between
//! them reads as an amendment after filing with its document number, the
//! ARN of August's GSTR-1 and ₹216.32 of tax, in `changes` (table, JSON,
//! CSV with periods kept as text) and in the bundle's summary; `--kind`
//! keeps one kind; an ordinary first filing is not retroactive.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{Duration, TimeZone, Utc};
use gstvault::domain::catalog;
use gstvault::domain::change::{Action, Kind};
use gstvault::domain::gstin::Gstin;
use gstvault::domain::period::{india_date, Month};
use gstvault::query::{self, ChangesArgs};
use gstvault::render::table::{parse_csv, Format};
use gstvault::sim::model::EventKind;

/// `gstvault demo` moves the simulator clock this many days between its captures.
const DEMO_ADVANCE_DAYS: i64 = 15;

use crate::support::World;

/// The demo's sequence on the simulator clock, cut down to one GSTIN and
/// the GSTR-1 endpoints: a capture 15 days before 20 December 2026, the
/// clock advanced, a capture on it. Between them the simulator's event of
/// 15 December adds an August credit note to that GSTIN's filed GSTR-1.
pub(crate) struct AmendedAugust {
    pub world: World,
    pub gstin: Gstin,
    /// The credit note's number, `CN/2627/L<ddmm of its day>`.
    pub number: String,
}

/// Runs [`AmendedAugust`]'s two captures (with a signing key, so each ends
/// in a signed checkpoint and the world can export).
pub(crate) async fn amended_august() -> AmendedAugust {
    // A demo run of 20 December 2026 (the demo ran between the 15th
    // and the 30th): its first capture 15 days earlier, before the
    // simulator's event of 15 December adds an August credit note.
    let now = Utc.with_ymd_and_hms(2026, 12, 20, 9, 0, 0).unwrap();
    let start = now - Duration::days(DEMO_ADVANCE_DAYS);
    let world = World::builder().seed(2026).start_at(start).keygen().start().await;
    world.login_all().await;
    let (gstin, number) = august_credit_note(&world, start, now);
    let endpoints: Vec<&'static catalog::Endpoint> = ["gstr-1-cdnr", "gstr-1-summary", "gstr-1-b2b", "return-track"]
        .iter()
        .map(|n| catalog::find(n).unwrap())
        .collect();
    let plan = world.plan(std::slice::from_ref(&gstin), Some(endpoints), "2026-08", "2026-11");
    world.capture(&plan).await;
    world.sim.sim.advance(Duration::days(DEMO_ADVANCE_DAYS));
    world.login_all().await;
    world.capture(&plan).await;
    AmendedAugust { world, gstin, number }
}

/// The demo GSTIN whose August GSTR-1 gets the simulator's late credit note
/// after `start` and by `now`, and the note's number (the simulator numbers
/// a late credit note `CN/<FY>/L<ddmm of its day>`).
pub(crate) fn august_credit_note(
    world: &World,
    start: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> (Gstin, String) {
    let august = Month::new(2026, 8).unwrap();
    let (gstin, event) = world
        .gstins()
        .iter()
        .find_map(|g| {
            world
                .sim
                .sim
                .model(g)
                .events_between(india_date(start) + Duration::days(1), india_date(now))
                .into_iter()
                .find(|e| e.kind == EventKind::LateCreditNote && e.period == august)
                .map(|e| (g.clone(), e))
        })
        .expect("the demo plants an August credit note");
    (gstin, format!("CN/2627/L{}", event.effective.format("%d%m")))
}

#[tokio::test]
async fn the_demos_august_credit_note_is_an_amendment_after_filing() {
    let AmendedAugust { world, gstin, number } = amended_august().await;
    let august = Month::new(2026, 8).unwrap();

    let store = gstvault::store::Reader::open(&world.config.archive_path).unwrap();
    let all = query::changes(
        &store,
        &ChangesArgs {
            gstin: Some(gstin.to_string()),
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    let cdnr = all
        .iter()
        .find(|c| c.endpoint == "gstr-1-cdnr" && c.period.to_string() == "2026-08")
        .unwrap_or_else(|| panic!("a change of August's CDNR: {all:#?}"));
    assert_eq!(cdnr.kind, Kind::AmendmentAfterFiling);
    assert!(cdnr.retroactive);
    let filing = cdnr.filing.as_ref().expect("the filing it amends");
    assert_eq!((filing.return_type.as_str(), filing.period), ("GSTR1", august));
    assert!(!filing.arn.is_empty());
    assert_eq!(cdnr.documents.len(), 1, "{:#?}", cdnr.documents);
    let note = &cdnr.documents[0];
    assert_eq!(
        (note.action, note.section.as_str(), note.number.as_deref()),
        (Action::Added, "CDNR", Some(number.as_str()))
    );
    assert_eq!(note.tax_change().total(), 21632, "₹216.32 of tax: {note:?}");
    assert_eq!(note.tax_before, None);
    assert!(note.counterparty.is_some());

    // The summary's B2B/CDNR totals moved too: also an amendment; nothing
    // here is a first filing of a filed August, and --kind keeps one kind.
    let amendments = query::changes(
        &store,
        &ChangesArgs {
            gstin: Some(gstin.to_string()),
            kind: Some("amendment".into()),
            ..ChangesArgs::default()
        },
    )
    .unwrap();
    assert!(amendments.iter().all(|c| c.kind == Kind::AmendmentAfterFiling));
    assert!(amendments.iter().any(|c| c.seq == cdnr.seq));
    assert_eq!(
        amendments.len(),
        all.iter().filter(|c| c.kind == Kind::AmendmentAfterFiling).count()
    );
    for kind in Kind::ALL {
        let of_kind = query::changes(
            &store,
            &ChangesArgs {
                gstin: Some(gstin.to_string()),
                kind: Some(kind.as_str().into()),
                ..ChangesArgs::default()
            },
        )
        .unwrap();
        assert!(of_kind.iter().all(|c| c.kind == kind));
    }
    let bad = query::changes(
        &store,
        &ChangesArgs {
            kind: Some("late".into()),
            ..ChangesArgs::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(bad.starts_with("--kind \"late\": unknown kind"), "{bad}");
    // November's GSTR-1 was filed on 11 December at the earliest: between
    // the captures nothing of it is an amendment; a first filing is never retroactive.
    for c in &all {
        assert_eq!(c.retroactive, c.kind.is_retroactive());
        if c.kind == Kind::FirstFiling {
            assert!(!c.retroactive);
        }
    }

    // Table, JSON and CSV: one row per document; the period stays text in a spreadsheet.
    let table = gstvault::render::query::changes_table(std::slice::from_ref(cdnr));
    let csv = parse_csv(&table.render(Format::Csv));
    let col = |name: &str| table.columns.iter().position(|c| *c == name).unwrap();
    assert_eq!(csv.len(), 2);
    assert_eq!(csv[1][col("gstin")], gstin.to_string());
    assert_eq!(csv[1][col("period")], "=\"2026-08\"");
    assert_eq!(csv[1][col("kind")], "amendment");
    assert_eq!(csv[1][col("document")], note.number.clone().unwrap());
    assert_eq!(csv[1][col("tax_after")], "216.32");
    assert!(csv[1][col("document_date")].starts_with("=\""));
    let json: serde_json::Value = serde_json::from_str(&table.render(Format::Json)).unwrap();
    assert_eq!(json[0]["period"], "2026-08");
    assert_eq!(json[0]["kind"], "amendment");
    assert_eq!(json[0]["arn"], serde_json::json!(filing.arn));
    assert_eq!(json[0]["tax_after"], serde_json::json!(216.32));
    let human = table.render(Format::Human);
    assert!(human.contains(&number) && human.contains("216.32"), "{human}");

    // The bundle of August says the same, in its workbook's changes sheet.
    let selection = gstvault::app::export::Selection {
        gstin: gstin.to_string(),
        month: Some("2026-08".into()),
        ..Default::default()
    };
    let exported = gstvault::app::export::export_once(&world.config, &selection, world.clock.now()).unwrap();
    let xlsx = bundle_file(&exported.path, "data/summary.xlsx");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range(gstvault::evidence::workbook::CHANGES).unwrap();
    let header: Vec<String> = (0..sheet.width())
        .map(|c| sheet.get((0, c)).unwrap().to_string())
        .collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}: {header:?}"))
    };
    let row = (1..sheet.height())
        .find(|r| sheet.get((*r, at("Endpoint"))).map(|d| d.to_string()).as_deref() == Some("gstr-1-cdnr"))
        .expect("the credit note in the workbook");
    let cell = |name: &str| sheet.get((row, at(name))).cloned();
    assert_eq!(cell("Kind"), Some(Data::String("amendment after filing".into())));
    assert_eq!(cell("ARN"), Some(Data::String(filing.arn.clone())));
    assert_eq!(cell("Document"), Some(Data::String(number.clone())));
    assert_eq!(cell("Tax after (₹)"), Some(Data::Float(216.32)));
    assert_eq!(cell("Period"), Some(Data::String("2026-08".into())));
}

/// The bytes of one file of a bundle, by its path below the bag folder.
fn bundle_file(bundle: &std::path::Path, path: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let name = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .find(|n| n.split_once('/').is_some_and(|(_, rest)| rest == path))
        .unwrap_or_else(|| panic!("{path} is not in the bundle"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(&name).unwrap(), &mut bytes).unwrap();
    bytes
}
