//! Returns in the portal's layout and findings first, against the archive:
//! the GSTR-3B tables of a bundle's summary equal sums the test recomputes
//! from the archived payloads by its own reading; a month with nothing to
//! reconcile is "could not be reconciled", never agreeing; the planted
//! mismatches are listed on the PDF's cover with their difference.

use std::io::Read;
use std::process::Command;

use serde_json::Value;

use gstvault::app::export::export;
use gstvault::domain::envelope::Outcome;
use gstvault::domain::money::rupees;
use gstvault::domain::period::{FinancialYear, Month, Period};
use gstvault::domain::returns::gstr3b::NET_ITC;
use gstvault::domain::summary::{Section, Verdict};
use gstvault::domain::time::Timestamp;
use gstvault::evidence::bundle::export::ExportRequest;
use gstvault::evidence::scope::Scope;

use crate::bundle::{fixture_key, request};
use crate::support::World;
use crate::workbook::summary_of;

/// Rupees in a payload to paise, the test's own way: the JSON number's text.
fn paise(v: Option<&Value>) -> i64 {
    let Some(v) = v else { return 0 };
    let text = v.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{frac:0<2}");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    whole.trim_start_matches('-').parse::<i64>().unwrap() * 100 * sign + sign * frac[..2].parse::<i64>().unwrap()
}

fn payload(world: &World, gstin: &gstvault::domain::gstin::Gstin, endpoint: &str, month: &str) -> (u64, Value) {
    let store = world.store.lock().unwrap();
    let period = Period::Month(Month::parse(month).unwrap());
    let row = store
        .snapshot_as_of(
            (gstin, endpoint, &period, 0),
            Timestamp::of(world.clock.now()),
            &[Outcome::Ok],
        )
        .unwrap()
        .unwrap_or_else(|| panic!("{endpoint} {month} archived"));
    let bytes = store.payload(row.payload_sha256.as_ref().unwrap()).unwrap().unwrap();
    (row.seq.0, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn gstr3b_tables_are_the_archived_figures_in_the_forms_layout() {
    let world = World::build(|_| {}, 8).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), None, "2025-04", "2026-05"))
        .await;
    let out = tempfile::tempdir().unwrap();
    let fy = ExportRequest {
        scope: Scope::Year(FinancialYear { start_year: 2025 }),
        ..request(&world, out.path(), "2026-05")
    };
    let (key, _) = fixture_key("test");
    let exported = export(&mut world.store.lock().unwrap(), &key, &fy, world.clock.now()).unwrap();
    let summary = summary_of(&world, &fy, &exported.bundle_id, exported.checkpoint_size);
    assert_eq!(summary.gstr3b.len(), 12, "every month of the year has its 3B");
    for month in &summary.gstr3b {
        let (seq, r3b) = payload(&world, &gstin, "gstr-3b", &month.month);
        assert_eq!(month.seq, Some(seq), "{}: the figures name their snapshot", month.month);
        assert!(month.source.contains(&format!("log entry {seq}")), "{}", month.source);
        let table = |n: &str| month.tables.iter().find(|t| t.number == n).unwrap();

        // 3.1(a): the taxable value and tax of osup_det.
        let det = r3b.pointer("/sup_details/osup_det");
        let t31 = table("3.1");
        let a = "(a) Outward taxable supplies (other than zero rated, nil rated and exempted)";
        assert_eq!(
            t31.value(a, "Total taxable value"),
            Some(paise(det.and_then(|d| d.get("txval"))))
        );
        assert_eq!(
            t31.value(a, "Integrated tax"),
            Some(paise(det.and_then(|d| d.get("iamt"))))
        );
        assert_eq!(
            t31.value(a, "Central tax"),
            Some(paise(det.and_then(|d| d.get("camt"))))
        );

        // 4: each A row is its `itc_avl` type; A − B is the net the 3B states.
        let t4 = table("4");
        let avl = r3b.pointer("/itc_elg/itc_avl").and_then(Value::as_array).unwrap();
        let rev = r3b.pointer("/itc_elg/itc_rev").and_then(Value::as_array).unwrap();
        let mut a_sum = [0i64; 4];
        for row in avl {
            for (i, k) in ["iamt", "camt", "samt", "csamt"].iter().enumerate() {
                a_sum[i] += paise(row.get(*k));
            }
        }
        let mut b_sum = [0i64; 4];
        for row in rev {
            for (i, k) in ["iamt", "camt", "samt", "csamt"].iter().enumerate() {
                b_sum[i] += paise(row.get(*k));
            }
        }
        let oth = avl.iter().find(|r| r["ty"] == "OTH").unwrap();
        assert_eq!(
            t4.value("A(5) All other ITC", "Integrated tax"),
            Some(paise(oth.get("iamt")))
        );
        for (i, head) in ["Integrated tax", "Central tax", "State/UT tax", "Cess"]
            .iter()
            .enumerate()
        {
            let lines_a: i64 = t4
                .lines
                .iter()
                .filter(|l| l.label.starts_with("A("))
                .map(|l| l.values[i].unwrap())
                .sum();
            assert_eq!(lines_a, a_sum[i], "{} 4A {head}", month.month);
            assert_eq!(
                t4.value(NET_ITC, head),
                Some(a_sum[i] - b_sum[i]),
                "{} 4C {head}",
                month.month
            );
        }
        // 6.1: the tax payable is net_tax_pay's.
        let t61 = table("6.1");
        let payable: i64 = r3b
            .pointer("/tx_pmt/net_tax_pay")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|r| paise(r.pointer("/igst/tx")))
            .sum();
        assert_eq!(t61.value("Integrated tax", "Tax payable"), Some(payable));
    }
    // The FY totals are the months added up.
    let totals = gstvault::domain::returns::totals(&summary.gstr3b);
    let t31 = totals.iter().find(|t| t.number == "3.1").unwrap();
    let a = "(a) Outward taxable supplies (other than zero rated, nil rated and exempted)";
    let by_hand: i64 = summary
        .gstr3b
        .iter()
        .map(|m| {
            let (_, r3b) = payload(&world, &gstin, "gstr-3b", &m.month);
            paise(r3b.pointer("/sup_details/osup_det/iamt"))
        })
        .sum();
    assert_eq!(t31.value(a, "Integrated tax"), Some(by_hand));

    // Filing status: every month's 3B and GSTR-1 with its ARN from return tracking.
    for m in (FinancialYear { start_year: 2025 }).months() {
        for form in ["GSTR-1", "GSTR-3B"] {
            let row = summary
                .filings
                .iter()
                .find(|f| f.filing.form == form && f.filing.period == m.to_string())
                .unwrap_or_else(|| panic!("{form} {m} has a filing row"));
            assert!(row.filing.is_filed() && row.filing.arn.starts_with("AA"), "{row:?}");
        }
    }
    // The GSTR-1 table-wise summary of each month has its B2B line.
    assert!(summary
        .gstr1
        .iter()
        .all(|m| m.tables[0].lines.iter().any(|l| l.label.contains("B2B"))));
    // GSTR-9: the portal's computed annual return, table by table.
    let (seq, r9) = {
        let store = world.store.lock().unwrap();
        let period = Period::Year(FinancialYear { start_year: 2025 });
        let row = store
            .snapshot_as_of(
                (&gstin, "gstr-9-auto-calculated", &period, 0),
                Timestamp::of(world.clock.now()),
                &[Outcome::Ok],
            )
            .unwrap()
            .expect("the year's computed GSTR-9 is archived");
        let bytes = store.payload(row.payload_sha256.as_ref().unwrap()).unwrap().unwrap();
        (row.seq.0, serde_json::from_slice::<Value>(&bytes).unwrap())
    };
    let r9_month = summary.gstr9.first().expect("GSTR-9 in the FY summary");
    assert_eq!(r9_month.seq, Some(seq));
    let t4 = r9_month.tables.iter().find(|t| t.number == "GSTR-9 4").unwrap();
    assert_eq!(
        t4.value("4B Supplies made to registered persons (B2B)", "Integrated tax"),
        Some(paise(r9.pointer("/table4/b2b/iamt")))
    );
    let t9 = r9_month.tables.iter().find(|t| t.number == "GSTR-9 9").unwrap();
    assert_eq!(
        t9.value("9 Tax payable", "Central tax"),
        Some(paise(r9.pointer("/table9/txpyble/camt")))
    );

    // The ledgers add up, and every set-off follows the legal order.
    assert!(!summary.ledgers.is_empty());
    assert!(
        summary.ledgers.iter().all(|l| l.statement.discrepancy.is_zero()),
        "{:?}",
        summary.ledgers
    );
    assert!(summary.set_offs.iter().all(|s| s.set_off.problems.is_empty()));

    // Each ledger over the year: April's opening, the months' credits and
    // debits added, March's closing, recomputed here from the statements;
    // the simulator carries every balance forward, so no month breaks.
    let years = summary.ledger_years();
    assert_eq!(years.len(), 2, "cash and credit over the year");
    for year in &years {
        let months: Vec<_> = summary
            .ledgers
            .iter()
            .filter(|l| l.statement.ledger == year.row.statement.ledger)
            .map(|l| &l.statement)
            .collect();
        assert_eq!(months.len(), 12, "{:?}", year.row.statement.ledger);
        let s = &year.row.statement;
        assert_eq!(s.opening, months[0].opening);
        assert_eq!(s.closing, months[11].closing);
        assert_eq!(s.credits.igst, months.iter().map(|m| m.credits.igst).sum::<i64>());
        assert_eq!(s.debits.cgst, months.iter().map(|m| m.debits.cgst).sum::<i64>());
        assert!(year.breaks.is_zero() && s.discrepancy.is_zero(), "{year:?}");
        assert_eq!(year.row.month, summary.period);
        assert_eq!(year.row.source, "the 12 months above, 2025-04 to 2026-03");
    }
    // A month whose opening is not the last closing is a finding of the year.
    let mut broken = summary.clone();
    let june = broken
        .ledgers
        .iter_mut()
        .find(|l| l.month == "2025-06" && l.statement.ledger == gstvault::domain::returns::ledger::Ledger::Cash)
        .unwrap();
    // June opens ₹500 above May's closing and still adds up by itself.
    june.statement.opening.igst += 50_000;
    june.statement.debits.igst += 50_000;
    let findings = broken.findings();
    let finding = findings
        .iter()
        .find(|f| f.period == summary.period && f.what.starts_with("Electronic cash ledger over the year"))
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert_eq!(finding.total, -50_000, "{finding:?}");
    assert!(finding.what.contains("500.00 in all"), "{}", finding.what);
}

#[tokio::test]
async fn a_month_with_nothing_to_reconcile_could_not_be_reconciled() {
    let world = World::build(|_| {}, 8).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    // Only the ledgers of 2026-05 are captured: no return to reconcile them with.
    let ledgers = ["ledger-balance", "ledger-cash", "ledger-itc"]
        .map(|n| gstvault::domain::catalog::find(n).unwrap())
        .to_vec();
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), Some(ledgers), "2026-05", "2026-05"))
        .await;
    let out = tempfile::tempdir().unwrap();
    let month = request(&world, out.path(), "2026-05");
    let (key, _) = fixture_key("test");
    let exported = export(&mut world.store.lock().unwrap(), &key, &month, world.clock.now()).unwrap();
    let summary = summary_of(&world, &month, &exported.bundle_id, exported.checkpoint_size);
    let counts = summary.counts();
    let findings = summary.findings();
    for section in [Section::Payments, Section::Outward, Section::Itc] {
        let f = findings
            .iter()
            .find(|f| f.section == section)
            .unwrap_or_else(|| panic!("{section:?} is a finding: {findings:?}"));
        assert_eq!(f.verdict, Verdict::CouldNotReconcile, "{f:?}");
        assert!(
            f.what.contains("not archived") || f.what.contains("missing"),
            "{}",
            f.what
        );
    }
    assert_eq!(counts.could_not_reconcile, 3, "{counts:?}");
    assert_eq!(counts.differs, 0, "{counts:?}");
    assert!(
        summary.payments.iter().all(|p| p.verdict != Verdict::Agrees),
        "nothing reads as agreeing"
    );
    if let Some(text) = pdf_text(&exported.path, out.path()) {
        let cover = cover_of(&text);
        assert!(cover.contains("0 differ · 3 could not be reconciled"), "{cover}");
        assert!(cover.contains("2026-05 · could not be reconciled"), "{cover}");
        assert!(!cover.contains("No finding"), "{cover}");
    }
}

/// The text of a bundle's PDF, when pdftotext is here (CI installs it).
pub(crate) fn pdf_text(bundle: &std::path::Path, dir: &std::path::Path) -> Option<String> {
    let here = Command::new("sh")
        .arg("-c")
        .arg("command -v pdftotext")
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install pdftotext (poppler-utils)"
        );
        eprintln!("skipped: pdftotext not installed here");
        return None;
    }
    let mut archive = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let name = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .find(|n| n.ends_with("data/summary.pdf"))
        .unwrap();
    let mut pdf = Vec::new();
    archive.by_name(&name).unwrap().read_to_end(&mut pdf).unwrap();
    let path = dir.join("summary-text.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").arg(&path).arg("-").output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The cover: the text before its list of contents, on one line.
pub(crate) fn cover_of(text: &str) -> String {
    let end = text.find("\nContents\n").expect("the cover has its contents");
    text[..end].replace('\n', " ")
}

#[tokio::test]
async fn the_planted_mismatches_are_on_the_cover_with_their_difference() {
    let world = World::build(|_| {}, 8).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    let fy = FinancialYear { start_year: 2025 };
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), None, "2025-04", "2026-05"))
        .await;
    let out = tempfile::tempdir().unwrap();
    let request = ExportRequest {
        scope: Scope::Year(fy),
        ..request(&world, out.path(), "2026-05")
    };
    let (key, _) = fixture_key("test");
    let exported = export(&mut world.store.lock().unwrap(), &key, &request, world.clock.now()).unwrap();
    let Some(text) = pdf_text(&exported.path, out.path()) else {
        return;
    };
    let cover = cover_of(&text);
    let plants = world.sim.sim.model(&gstin).plants(fy);
    // By head: the month may carry other differences in other heads.
    let head = |name: &str, paise: i64| {
        if paise < 0 {
            format!("{name} −₹{}", rupees(-paise))
        } else {
            format!("{name} ₹{}", rupees(paise))
        }
    };
    let short = plants.short_payment;
    let excess = plants.itc_excess;
    for (month, what, difference) in [
        (
            plants.short_payment_month,
            "short payment: GSTR-1 exceeds 3B",
            head("CGST", short.cgst()),
        ),
        (
            plants.itc_excess_month,
            "excess ITC: 3B claims",
            if excess.igst() != 0 {
                head("IGST", -excess.igst())
            } else {
                head("CGST", -excess.cgst())
            },
        ),
    ] {
        let line = cover
            .split('▲')
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{what} is listed on the cover: {cover}"));
        assert!(line.contains(&month.to_string()), "{line}");
        assert!(line.contains("differs"), "{line}");
        assert!(line.contains(", page "), "{line}: the page it is on");
        assert!(line.contains("Difference ("), "{line}");
        assert!(line.contains(&difference), "{line}: {difference}");
    }
    assert!(cover.contains("This bundle proves that"), "{cover}");
    assert!(cover.contains("It does not prove"), "{cover}");
}
