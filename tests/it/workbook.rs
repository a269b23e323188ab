//! The bundle's workbook (`data/summary.xlsx`) read back with calamine, a
//! reader that shares no code with the writer: its sheets, frozen headers
//! and filters, its amounts as numbers equal to the summary's paise, its
//! periods as text, its findings exactly the summary's rows that do not
//! agree; and the same bytes from a second export.

use std::io::{Cursor, Read};
use std::path::Path;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};

use gstvault::app::export::export;
use gstvault::domain::money::Heads;
use gstvault::domain::period::FinancialYear;
use gstvault::domain::summary::Summary;
use gstvault::evidence::bundle::export::ExportRequest;
use gstvault::evidence::scope::{versions, Scope};
use gstvault::evidence::summary::{build, SummaryInput};
use gstvault::evidence::workbook::{self, SHEETS};

use crate::bundle::{fixture_key, request};
use crate::support::World;

/// The bytes of one file of a bundle, by its path below the bag folder.
fn bundle_file(bundle: &Path, path: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let name = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .find(|n| n.split_once('/').is_some_and(|(_, rest)| rest == path))
        .unwrap_or_else(|| panic!("{path} is not in the bundle"));
    let mut bytes = Vec::new();
    zip.by_name(&name).unwrap().read_to_end(&mut bytes).unwrap();
    bytes
}

/// One part of the workbook's own ZIP (its XML).
fn part(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut text = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The summary the export drew, built again the way the export builds it:
/// the scope's snapshots and the next month's ledgers, up to the as-of.
pub(crate) fn summary_of(world: &World, request: &ExportRequest, bundle_id: &str, checkpoint_size: u64) -> Summary {
    let store = world.store.lock().unwrap();
    let rows = gstvault::evidence::bundle::export::bundle_rows(&store, request).unwrap();
    let versions = versions(&rows);
    let (key, _) = fixture_key("test");
    let info = key.info();
    let checkpoint = store
        .checkpoints()
        .unwrap()
        .into_iter()
        .find(|c| c.size == checkpoint_size && c.key_id == info.key_id)
        .unwrap();
    build(
        &store,
        &SummaryInput {
            gstin: &request.gstin,
            legal_name: request.legal_name.clone(),
            organization: request.organization.clone(),
            scope: request.scope,
            as_of: request.as_of,
            bundle_id: bundle_id.to_string(),
            checkpoint: &checkpoint,
            key: &info,
            rows: &rows,
            versions: &versions,
        },
    )
    .unwrap()
}

fn text(range: &Range<Data>, row: usize, col: usize) -> String {
    match range.get((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("row {row} column {col} is not text: {other:?}"),
    }
}

/// A numeric cell in rupees, as paise (exact for the amounts of a bundle).
fn paise(range: &Range<Data>, row: usize, col: usize) -> i64 {
    match range.get((row, col)) {
        Some(Data::Float(f)) => (f * 100.0).round() as i64,
        Some(Data::Int(i)) => i * 100,
        other => panic!("row {row} column {col} is not a number: {other:?}"),
    }
}

fn heads_at(range: &Range<Data>, row: usize, col: usize) -> (Heads, i64) {
    let heads = Heads {
        igst: paise(range, row, col),
        cgst: paise(range, row, col + 1),
        sgst: paise(range, row, col + 2),
        cess: paise(range, row, col + 3),
    };
    (heads, paise(range, row, col + 4))
}

fn assert_heads(range: &Range<Data>, row: usize, col: usize, expected: &Heads, what: &str) {
    assert_eq!(heads_at(range, row, col), (*expected, expected.total()), "{what}");
}

#[tokio::test]
async fn the_workbook_reads_back_as_the_summary_and_exports_to_the_same_bytes() {
    let world = World::build(|_| {}, 8).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), None, "2025-04", "2026-05"))
        .await;
    let (key, public) = fixture_key("test");
    let first_dir = tempfile::tempdir().unwrap();
    let second_dir = tempfile::tempdir().unwrap();
    let fy = ExportRequest {
        scope: Scope::Year(FinancialYear { start_year: 2025 }),
        ..request(&world, first_dir.path(), "2026-05")
    };
    let first = export(&mut world.store.lock().unwrap(), &key, &fy, world.clock.now()).unwrap();
    let again = ExportRequest {
        out_dir: second_dir.path().to_path_buf(),
        ..fy.clone()
    };
    let second = export(&mut world.store.lock().unwrap(), &key, &again, world.clock.now()).unwrap();
    assert!(!second.existed, "written again, into another folder");
    let xlsx = bundle_file(&first.path, "data/summary.xlsx");
    assert_eq!(
        bundle_file(&second.path, "data/summary.xlsx"),
        xlsx,
        "the same as-of gives the same workbook"
    );
    assert_eq!(
        std::fs::read(&first.path).unwrap(),
        std::fs::read(&second.path).unwrap(),
        "and the same bundle"
    );
    let manifest = String::from_utf8(bundle_file(&first.path, "manifest-sha256.txt")).unwrap();
    let sha = gstvault::domain::digest::Digest::of(&xlsx).hex();
    assert!(
        manifest.contains(&format!("{sha}  data/summary.xlsx\n")),
        "listed in the manifest: {manifest}"
    );
    let report = gstvault::evidence::bundle::check::check_bundle(&first.path, Some(&public), None).unwrap();
    assert!(report.intact(), "{:?}", report.findings);

    let summary = summary_of(&world, &fy, &first.bundle_id, first.checkpoint_size);
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx.clone())).unwrap();
    assert_eq!(book.sheet_names(), SHEETS.map(String::from).to_vec());

    // Every sheet's header row is frozen; every table has a filter over its rows.
    for (i, name) in SHEETS.iter().enumerate() {
        let sheet = part(&xlsx, &format!("xl/worksheets/sheet{}.xml", i + 1));
        assert!(
            sheet.contains(r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#),
            "{name}: header not frozen"
        );
        let range = book.worksheet_range(name).unwrap();
        if *name != workbook::COVER {
            let (rows, cols) = range.get_size();
            let last_col = (b'A' + cols as u8 - 1) as char;
            let span = match (rows, cols) {
                (1, 1) => "A1".to_string(),
                _ => format!("A1:{last_col}{rows}"),
            };
            assert!(
                sheet.contains(&format!(r#"<autoFilter ref="{span}"/>"#)),
                "{name}: no filter over {span}: {sheet}"
            );
        }
    }

    // The figures are numbers equal to the summary's paise; months are text.
    let balances = book.worksheet_range(workbook::BALANCES).unwrap();
    assert_eq!(balances.height(), 1 + 2 * summary.balances.len());
    assert!(!summary.balances.is_empty());
    for (i, b) in summary.balances.iter().enumerate() {
        let (cash, itc) = (1 + 2 * i, 2 + 2 * i);
        assert_eq!(text(&balances, cash, 0), b.month);
        assert_eq!(text(&balances, itc, 0), b.month);
        assert_heads(&balances, cash, 2, &b.cash, "cash balance");
        assert_heads(&balances, itc, 2, &b.itc, "ITC balance");
        assert_eq!(text(&balances, cash, 7), b.source);
    }
    let payments = book.worksheet_range(workbook::PAYMENTS).unwrap();
    assert_eq!(payments.height(), 1 + 5 * summary.payments.len());
    for (i, p) in summary.payments.iter().enumerate() {
        let figures = [&p.liability, &p.paid_cash, &p.cash_debits, &p.paid_itc, &p.itc_debits];
        for (j, figure) in figures.into_iter().enumerate() {
            let row = 1 + 5 * i + j;
            assert_eq!(text(&payments, row, 0), p.month);
            assert_heads(&payments, row, 2, figure, &format!("{} payment figure {j}", p.month));
            assert_eq!(text(&payments, row, 7), p.finding);
        }
    }
    let itc_figures: Vec<(&str, [&Heads; 3], &str)> = summary
        .itc
        .iter()
        .map(|r| {
            (
                r.month.as_str(),
                [&r.gstr2b, &r.gstr3b, &r.difference],
                r.finding.as_str(),
            )
        })
        .collect();
    let outward_figures: Vec<(&str, [&Heads; 3], &str)> = summary
        .outward
        .iter()
        .map(|r| (r.month.as_str(), [&r.left, &r.right, &r.difference], r.finding.as_str()))
        .collect();
    for (sheet, rows) in [(workbook::OUTWARD, &outward_figures), (workbook::ITC, &itc_figures)] {
        let range = book.worksheet_range(sheet).unwrap();
        assert!(!rows.is_empty(), "{sheet}");
        assert_eq!(range.height(), 1 + 3 * rows.len(), "{sheet}");
        for (i, (month, figures, finding)) in rows.iter().enumerate() {
            for (j, figure) in figures.iter().enumerate() {
                let row = 1 + 3 * i + j;
                assert_eq!(text(&range, row, 0), *month, "{sheet}");
                assert_heads(&range, row, 2, figure, &format!("{sheet} {month} figure {j}"));
                assert_eq!(text(&range, row, 7), *finding);
            }
        }
    }
    // The 2B summary sheet: one row per section and part, numbers equal to the summary's.
    let itc_summary = book.worksheet_range(workbook::ITC_SUMMARY).unwrap();
    assert!(!summary.itc_summary.is_empty());
    assert_eq!(itc_summary.height(), 1 + summary.itc_summary.len());
    for (i, r) in summary.itc_summary.iter().enumerate() {
        assert_eq!(text(&itc_summary, i + 1, 0), r.month);
        assert_eq!(text(&itc_summary, i + 1, 2), r.section);
        assert_heads(&itc_summary, i + 1, 4, &r.heads, "2B summary");
    }

    // Findings: exactly the summary's rows whose finding is not "agrees",
    // with the difference; the scenario's planted mismatches are among them.
    let findings = book.worksheet_range(workbook::FINDINGS).unwrap();
    let expected: Vec<(String, String, String, String, Option<Heads>, i64)> = summary
        .findings()
        .into_iter()
        .map(|f| {
            (
                workbook::sheet_of(f.section).to_string(),
                f.period.clone(),
                f.verdict.as_str().to_string(),
                f.what.clone(),
                f.by_head,
                f.total,
            )
        })
        .collect();
    // Every row that does not agree is a finding; none that agrees is.
    let disagreeing = summary.payments.iter().filter(|p| p.finding != "agrees").count()
        + summary.outward.iter().filter(|r| r.finding != "agrees").count()
        + summary.itc.iter().filter(|r| r.finding != "agrees").count();
    assert!(expected.len() >= disagreeing, "{expected:?}");
    let plants = world.sim.sim.model(&gstin).plants(FinancialYear { start_year: 2025 });
    // Table 4 row by row, as captured: every row agrees but the planted
    // excess, whose 4A(5) row differs by exactly the planted amount.
    let excess = plants.itc_excess.0;
    assert_eq!(
        summary.itc.len(),
        12 * 6,
        "six compared rows a month: {:#?}",
        summary.itc
    );
    for r in &summary.itc {
        if r.month == plants.itc_excess_month.to_string() && r.table == "4A(5)" {
            let planted = Heads {
                igst: excess[0],
                cgst: excess[1],
                sgst: excess[2],
                cess: excess[3],
            };
            assert_eq!(r.difference, Heads::default().minus(&planted), "{r:?}");
            assert_eq!(r.verdict, gstvault::domain::summary::Verdict::Differs);
        } else {
            assert_eq!(r.verdict, gstvault::domain::summary::Verdict::Agrees, "{r:?}");
        }
    }
    for month in [plants.itc_excess_month, plants.short_payment_month] {
        assert!(
            expected
                .iter()
                .any(|(_, period, verdict, ..)| *period == month.to_string() && verdict == "differs"),
            "the planted mismatch of {month} is a finding"
        );
    }
    let found: Vec<(String, String, String, String, Option<Heads>, i64)> = (1..findings.height())
        .map(|row| {
            let by_head = match findings.get((row, 5)) {
                Some(Data::Empty) | None => None,
                _ => Some(heads_at(&findings, row, 5).0),
            };
            let total = match findings.get((row, 9)) {
                Some(Data::Empty) | None => 0,
                _ => paise(&findings, row, 9),
            };
            (
                text(&findings, row, 0),
                text(&findings, row, 1),
                text(&findings, row, 2),
                text(&findings, row, 3),
                by_head,
                total,
            )
        })
        .collect();
    assert_eq!(found, expected);
    let cover = book.worksheet_range(workbook::COVER).unwrap();
    let counts = summary.counts();
    for (label, count) in [
        ("Rows that agree", counts.agrees),
        ("Rows that differ", counts.differs),
        ("Rows that could not be reconciled", counts.could_not_reconcile),
    ] {
        let row = (0..cover.height()).find(|&r| text(&cover, r, 0) == label).unwrap();
        assert_eq!(paise(&cover, row, 1), count as i64 * 100, "{label}");
    }
    assert!(
        counts.differs + counts.could_not_reconcile <= expected.len(),
        "{counts:?}"
    );
    let facts: Vec<(String, Data)> = (1..cover.height())
        .map(|r| (text(&cover, r, 0), cover.get((r, 1)).cloned().unwrap_or(Data::Empty)))
        .collect();
    for (label, value) in [
        ("GSTIN", &summary.gstin),
        ("Period", &summary.period),
        ("As of (IST)", &summary.as_of),
        ("Bundle ID", &summary.bundle_id),
        ("Checkpoint root (SHA-256)", &summary.checkpoint_root),
    ] {
        assert!(
            facts.contains(&(label.to_string(), Data::String(value.clone()))),
            "cover {label}: {facts:?}"
        );
    }
    assert!(facts.contains(&(
        "Checkpoint size (snapshots)".to_string(),
        Data::Float(summary.checkpoint_size as f64)
    )));

    // The index: one row per timeline entry; periods and times are text, the page a number.
    let index = book.worksheet_range(workbook::INDEX).unwrap();
    assert_eq!(index.height(), 1 + summary.snapshots.len());
    for (i, s) in summary.snapshots.iter().enumerate() {
        let row = i + 1;
        assert_eq!(text(&index, row, 0), s.endpoint);
        assert_eq!(text(&index, row, 1), s.period, "a period is text, never a date");
        assert_eq!(index.get((row, 2)), Some(&Data::Float(f64::from(s.page))));
        assert_eq!(text(&index, row, 3), s.first_seen);
        assert_eq!(text(&index, row, 4), s.last_seen);
        assert_eq!(text(&index, row, 5), s.log_entries);
        assert_eq!(text(&index, row, 6), s.outcome);
        assert_eq!(text(&index, row, 7), s.short_hash);
    }
    assert!(
        summary.snapshots.iter().any(|s| s.period == "2025-04"),
        "month periods are in the index"
    );

    let changes = book.worksheet_range(workbook::CHANGES).unwrap();
    assert_eq!(changes.height(), 1 + summary.changes.len());
    for (i, c) in summary.changes.iter().enumerate() {
        let cells: Vec<String> = (0..4).map(|col| text(&changes, i + 1, col)).collect();
        assert_eq!(
            cells,
            [&c.detected_at, &c.endpoint, &c.period, &c.kind.label().to_string()].map(String::clone)
        );
        // Amounts are numbers: the tax after a document moved, in rupees.
        if let Some(after) = c.document.as_ref().and_then(|d| d.tax_after) {
            assert_eq!(paise(&changes, i + 1, 13), after.total());
        }
    }
    let notes = book.worksheet_range(workbook::NOTES).unwrap();
    let listed: Vec<String> = (1..notes.height()).map(|r| text(&notes, r, 0)).collect();
    assert_eq!(listed, summary.notes);
}

#[tokio::test]
async fn a_changed_or_missing_workbook_is_a_finding_of_both_verifiers() {
    let world = crate::bundle::captured_world().await;
    let (key, public) = fixture_key("test");
    let out = tempfile::tempdir().unwrap();
    let good = export(
        &mut world.store.lock().unwrap(),
        &key,
        &request(&world, out.path(), "2026-05"),
        world.clock.now(),
    )
    .unwrap();
    let public_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys/test.pub");
    if let Some((code, text)) = crate::hostile::reference_verifier(&[&good.path, &public_file]) {
        assert_eq!(
            code,
            Some(0),
            "the reference verifier accepts a bundle with its workbook: {text}"
        );
    }

    let changed = out.path().join("changed.zip");
    crate::bundle::rewrite(&good.path, &changed, |path, mut bytes| {
        if path == "data/summary.xlsx" {
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
        }
        Some(bytes)
    });
    let report = gstvault::evidence::bundle::check::check_bundle(&changed, Some(&public), None).unwrap();
    assert_eq!(
        crate::bundle::findings(&report),
        [(
            "file data/summary.xlsx".to_string(),
            "SHA-256 differs from manifest-sha256.txt (the file was changed)".to_string()
        )]
        .into_iter()
        .collect(),
    );
    if let Some((code, text)) = crate::hostile::reference_verifier(&[&changed, &public_file]) {
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("data/summary.xlsx"), "{text}");
    }

    let missing = out.path().join("missing.zip");
    crate::bundle::rewrite(&good.path, &missing, |path, bytes| {
        (path != "data/summary.xlsx").then_some(bytes)
    });
    let report = gstvault::evidence::bundle::check::check_bundle(&missing, Some(&public), None).unwrap();
    let found = crate::bundle::findings(&report);
    assert!(
        found.contains(&(
            "file data/summary.xlsx".to_string(),
            "is listed in manifest-sha256.txt but missing".to_string()
        )),
        "{found:?}"
    );
}
