//! The bundle's workbook (`data/summary.xlsx`): the [`Summary`] the PDF shows,
//! as a spreadsheet an auditor can sort, filter and add up. One sheet per
//! section of the PDF (cover facts, ledger balances, 3B liability and
//! payment, GSTR-1 vs 3B, GSTR-2B vs 3B ITC, changes, notes), a sheet of the
//! findings after the cover and the snapshot index last. Amounts are numbers
//! in rupees (from the summary's paise) with an Indian-grouping format;
//! periods, times (IST, as the PDF writes them) and hashes are text, so a
//! spreadsheet never turns `2026-04` into a date; every sheet has its header
//! row frozen and every table a filter.
//!
//! The only code that knows rust_xlsxwriter. Like [`crate::evidence::pdf`] it
//! owns layout only: it adds up no figure the summary does not hold (the
//! one exception, a payment finding's liability less what was paid, is said
//! on its row), does no IO and reads no clock. The document's dates are the
//! summary's as-of instant and the package's entries carry the fixed ZIP
//! epoch, so the same summary gives the same bytes.

use rust_xlsxwriter::{
    Chart, ChartType, Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, IgnoreError, Workbook,
    Worksheet, XlsxError,
};

use crate::domain::money::Heads;
use crate::domain::returns::{ReturnMonth, Unit};
use crate::domain::summary::{CompareRow, Section, Summary};

#[derive(Debug, thiserror::Error)]
#[error("the workbook could not be written: {0}")]
pub struct WorkbookError(String);

impl From<XlsxError> for WorkbookError {
    fn from(e: XlsxError) -> Self {
        WorkbookError(e.to_string())
    }
}

mod itc;
use itc::{itc_sheet, itc_summary_sheet};

/// The sheets, in workbook order. The findings come right after the cover;
/// the snapshot index is the appendix.
pub const SHEETS: [&str; 18] = [
    COVER,
    FINDINGS,
    CHARTS,
    FILINGS,
    GSTR3B,
    AUTO_LIABILITY,
    GSTR1,
    GSTR9,
    LEDGERS,
    SET_OFF,
    BALANCES,
    PAYMENTS,
    OUTWARD,
    ITC,
    ITC_SUMMARY,
    CHANGES,
    NOTES,
    INDEX,
];
pub const COVER: &str = "Cover";
pub const FINDINGS: &str = "Findings";
pub const CHARTS: &str = "Charts";
pub const FILINGS: &str = "Filing status";
pub const GSTR3B: &str = "GSTR-3B";
pub const AUTO_LIABILITY: &str = "3B auto liability";
pub const GSTR1: &str = "GSTR-1 table-wise";
pub const GSTR9: &str = "GSTR-9";
pub const LEDGERS: &str = "Ledgers";
pub const SET_OFF: &str = "Set-off";
pub const BALANCES: &str = "Ledger balances";
pub const PAYMENTS: &str = "3B liability vs payment";
pub const OUTWARD: &str = "GSTR-1 vs 3B";
pub const ITC: &str = "3B table 4 vs 2B";
pub const ITC_SUMMARY: &str = "GSTR-2B ITC summary";
pub const CHANGES: &str = "Changes";
pub const NOTES: &str = "Notes";
pub const INDEX: &str = "Index";

/// Rupees with Indian digit grouping (1,23,45,678.90, as the PDF writes
/// them), one number format per size of amount, chosen per cell. A
/// spreadsheet format has at most two conditional sections, and LibreOffice
/// drops the minus sign of a negative amount (a difference) in the sections
/// after the first, and shows it in Western grouping; a format of one
/// section prints the minus sign in Excel and LibreOffice alike, and its
/// literal commas are right for amounts of its number of digits. Below a lakh
/// Indian and Western grouping agree: plain `#,##0.00`.
fn rupee_format(groups: usize) -> String {
    if groups == 0 {
        "#,##0.00".to_string()
    } else {
        format!("{}##0.00", r"##\,".repeat(groups))
    }
}

/// The literal commas (beyond the thousands) Indian grouping puts in an
/// amount: none below a lakh, 2 up to a crore, one more per hundredfold.
fn comma_groups(paise: i64) -> usize {
    let digits = (paise.unsigned_abs() / 100)
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    if digits <= 5 {
        0
    } else {
        (digits - 3).div_ceil(2)
    }
}

/// Enough formats for any `i64` of paise (17 digits of rupees).
const RUPEE_FORMATS: usize = 8;

const HEADER_FILL: u32 = 0xE6EBF1;
const FLAG_FILL: u32 = 0xFBE4E1;
const FLAG_TEXT: u32 = 0x8F1D14;
const AMOUNT_WIDTH: f64 = 15.0;

/// One cell as the workbook writes it.
enum Cell<'a> {
    Text(&'a str),
    /// Paise, written as rupees.
    Amount(i64),
    /// A whole number (a page, a log size, a count).
    Count(u64),
    Empty,
}

/// The formats of one workbook; a flagged row (a finding other than
/// "agrees") has its own fill and text colour, as in the PDF.
struct Styles {
    header: Format,
    amount_header: Format,
    label: Format,
    /// Plain and flagged.
    rows: [RowStyle; 2],
}

struct RowStyle {
    text: Format,
    count: Format,
    /// A number on the cover, aligned with the text around it.
    fact: Format,
    /// By [`comma_groups`].
    amounts: [Format; RUPEE_FORMATS],
}

impl RowStyle {
    fn new(flagged: bool) -> RowStyle {
        let base = if flagged {
            Format::new()
                .set_background_color(Color::RGB(FLAG_FILL))
                .set_font_color(Color::RGB(FLAG_TEXT))
        } else {
            Format::new()
        };
        let base = base.set_align(FormatAlign::Top);
        RowStyle {
            text: base.clone().set_text_wrap(),
            count: base.clone().set_num_format("0"),
            fact: base.clone().set_num_format("0").set_align(FormatAlign::Left),
            amounts: std::array::from_fn(|groups| base.clone().set_num_format(rupee_format(groups))),
        }
    }

    fn amount(&self, paise: i64) -> &Format {
        &self.amounts[comma_groups(paise).min(RUPEE_FORMATS - 1)]
    }
}

impl Styles {
    fn new() -> Styles {
        Styles {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(HEADER_FILL))
                .set_border_bottom(FormatBorder::Thin)
                .set_align(FormatAlign::Top)
                .set_text_wrap(),
            label: Format::new().set_bold().set_align(FormatAlign::Top),
            amount_header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(HEADER_FILL))
                .set_border_bottom(FormatBorder::Thin)
                .set_align(FormatAlign::Top)
                .set_align(FormatAlign::Right),
            rows: [RowStyle::new(false), RowStyle::new(true)],
        }
    }
}

/// Writes one cell; an empty cell of a flagged row still gets its fill.
fn write_cell(sheet: &mut Worksheet, style: &RowStyle, row: u32, col: u16, cell: &Cell<'_>) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(text) => sheet.write_string_with_format(row, col, *text, &style.text)?,
        // Exact: paise below 2^53 are exact doubles, and the quotient is
        // the double nearest the rupee amount, written in its shortest form.
        Cell::Amount(paise) => sheet.write_number_with_format(row, col, *paise as f64 / 100.0, style.amount(*paise))?,
        Cell::Count(n) => sheet.write_number_with_format(row, col, *n as f64, &style.count)?,
        Cell::Empty => sheet.write_blank(row, col, &style.text)?,
    };
    Ok(())
}

/// Points per line of text at the default font (Excel's default row height).
const LINE_HEIGHT: f64 = 15.0;

/// The lines `text` wraps to in a column `width` characters wide, by words.
/// Neither Excel nor LibreOffice sizes the rows of a file it did not lay out
/// itself, so the writer gives wrapped rows their height.
fn lines(text: &str, width: f64) -> usize {
    let per_line = (width * 1.05).floor().max(1.0) as usize;
    let mut lines = 1;
    let mut used = 0;
    for word in text.split(' ') {
        let len = word.chars().count();
        if used > 0 && used + 1 + len > per_line {
            lines += 1;
            used = 0;
        }
        let end = used + usize::from(used > 0) + len;
        if end > per_line {
            // A word longer than a line, at the start of one: broken.
            lines += (end - 1) / per_line;
            used = (end - 1) % per_line + 1;
        } else {
            used = end;
        }
    }
    lines
}

/// A sheet laid out as a table: the header row (frozen, repeated on every
/// printed page), the column widths, and a filter over the header and the
/// data rows.
struct Table {
    widths: Vec<f64>,
}

impl Table {
    fn new(sheet: &mut Worksheet, styles: &Styles, columns: &[(&str, f64)], rows: usize) -> Result<Table, XlsxError> {
        for (col, (title, width)) in (0u16..).zip(columns) {
            let format = if title.ends_with("(₹)") {
                &styles.amount_header
            } else {
                &styles.header
            };
            sheet.write_string_with_format(0, col, *title, format)?;
            sheet.set_column_width(col, *width)?;
        }
        let last_col = columns.len().saturating_sub(1) as u16;
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, rows as u32, last_col)?;
        sheet.set_repeat_rows(0, 0)?;
        sheet.set_landscape();
        sheet.set_print_fit_to_pages(1, 0);
        Ok(Table {
            widths: columns.iter().map(|(_, w)| *w).collect(),
        })
    }

    /// Writes one row of cells from column 0, as tall as its longest text.
    fn row(
        &self,
        sheet: &mut Worksheet,
        styles: &Styles,
        row: u32,
        cells: &[Cell<'_>],
        flagged: bool,
    ) -> Result<(), XlsxError> {
        let style = &styles.rows[usize::from(flagged)];
        let mut height = 1;
        for ((col, cell), width) in (0u16..).zip(cells).zip(&self.widths) {
            write_cell(sheet, style, row, col, cell)?;
            if let Cell::Text(text) = cell {
                height = height.max(lines(text, *width));
            }
        }
        if height > 1 {
            sheet.set_row_height(row, LINE_HEIGHT * height as f64)?;
        }
        Ok(())
    }
}

fn heads(heads: &Heads) -> [Cell<'static>; 5] {
    [
        Cell::Amount(heads.igst),
        Cell::Amount(heads.cgst),
        Cell::Amount(heads.sgst),
        Cell::Amount(heads.cess),
        Cell::Amount(heads.total()),
    ]
}

const HEADS: [(&str, f64); 5] = [
    ("IGST (₹)", AMOUNT_WIDTH),
    ("CGST (₹)", AMOUNT_WIDTH),
    ("SGST (₹)", AMOUNT_WIDTH),
    ("Cess (₹)", AMOUNT_WIDTH),
    ("Total (₹)", AMOUNT_WIDTH + 1.0),
];

fn flagged(finding: &str) -> bool {
    finding.trim() != "agrees"
}

/// The columns of a sheet of figures by head: month, figure, the heads, and
/// the finding.
fn figure_columns() -> Vec<(&'static str, f64)> {
    let mut columns = vec![("Month", 9.0), ("Figure", 22.0)];
    columns.extend(HEADS);
    columns.push(("Finding", 60.0));
    columns
}

/// The figures of one month by head, each with its label, and the finding.
struct MonthFigures<'a> {
    month: &'a str,
    figures: Vec<(&'a str, &'a Heads)>,
    finding: &'a str,
}

/// One row per figure of a month, each with the month and the finding (so a
/// filter on either keeps whole months).
fn figure_rows(sheet: &mut Worksheet, styles: &Styles, months: &[MonthFigures<'_>]) -> Result<(), XlsxError> {
    let rows: usize = months.iter().map(|m| m.figures.len()).sum();
    let table = Table::new(sheet, styles, &figure_columns(), rows)?;
    let mut row = 1;
    for MonthFigures {
        month,
        figures,
        finding,
    } in months
    {
        for (label, amounts) in figures {
            let mut cells = vec![Cell::Text(month), Cell::Text(label)];
            cells.extend(heads(amounts));
            cells.push(Cell::Text(finding));
            table.row(sheet, styles, row, &cells, flagged(finding))?;
            row += 1;
        }
    }
    Ok(())
}

fn compare_sheet(
    sheet: &mut Worksheet,
    styles: &Styles,
    labels: [&str; 3],
    rows: &[CompareRow],
) -> Result<(), XlsxError> {
    let months: Vec<MonthFigures<'_>> = rows
        .iter()
        .map(|r| MonthFigures {
            month: &r.month,
            figures: vec![(labels[0], &r.left), (labels[1], &r.right), (labels[2], &r.difference)],
            finding: &r.finding,
        })
        .collect();
    figure_rows(sheet, styles, &months)
}

const OUTWARD_LABELS: [&str; 3] = ["GSTR-1", "GSTR-3B", "Difference"];

/// The sheet a finding's section is on.
pub fn sheet_of(section: Section) -> &'static str {
    match section {
        Section::Ledgers => LEDGERS,
        Section::SetOff => SET_OFF,
        Section::Payments => PAYMENTS,
        Section::Outward => OUTWARD,
        Section::Itc => ITC,
    }
}

/// The series of the PDF's charts as a table, and the same charts as native
/// Excel charts over it: ITC by head (2B against 3B claimed), the ledgers'
/// closing balances, 3B liability against payment, changes per period.
fn charts_sheet(sheet: &mut Worksheet, styles: &Styles, report: &Summary) -> Result<(), XlsxError> {
    let points = crate::domain::charts::series(report);
    let kinds: Vec<String> = points
        .first()
        .map(|p| {
            p.changes
                .iter()
                .map(|(k, _)| format!("Changes: {}", k.label()))
                .collect()
        })
        .unwrap_or_default();
    let mut columns: Vec<(&str, f64)> = vec![
        ("Month", 9.0),
        ("GSTR-2B IGST (₹)", AMOUNT_WIDTH),
        ("GSTR-3B claimed IGST (₹)", AMOUNT_WIDTH),
        ("GSTR-2B CGST (₹)", AMOUNT_WIDTH),
        ("GSTR-3B claimed CGST (₹)", AMOUNT_WIDTH),
        ("GSTR-2B SGST (₹)", AMOUNT_WIDTH),
        ("GSTR-3B claimed SGST (₹)", AMOUNT_WIDTH),
        ("Cash ledger closing (₹)", AMOUNT_WIDTH),
        ("Credit ledger closing (₹)", AMOUNT_WIDTH),
        ("3B liability (₹)", AMOUNT_WIDTH),
        ("Paid, cash and ITC (₹)", AMOUNT_WIDTH),
    ];
    columns.extend(kinds.iter().map(|k| (k.as_str(), 12.0)));
    let table = Table::new(sheet, styles, &columns, points.len())?;
    for (row, p) in (1u32..).zip(&points) {
        let amount = |v: Option<i64>| v.map(Cell::Amount).unwrap_or(Cell::Empty);
        let head = |h: Option<&Heads>, f: fn(&Heads) -> i64| amount(h.map(f));
        let mut cells = vec![
            Cell::Text(&p.month),
            head(p.itc_2b.as_ref(), |h| h.igst),
            head(p.itc_3b.as_ref(), |h| h.igst),
            head(p.itc_2b.as_ref(), |h| h.cgst),
            head(p.itc_3b.as_ref(), |h| h.cgst),
            head(p.itc_2b.as_ref(), |h| h.sgst),
            head(p.itc_3b.as_ref(), |h| h.sgst),
            amount(p.cash_closing),
            amount(p.credit_closing),
            amount(p.liability),
            amount(p.paid),
        ];
        cells.extend(p.changes.iter().map(|(_, n)| Cell::Count(*n as u64)));
        table.row(sheet, styles, row, &cells, false)?;
    }
    let last = points.len().max(1) as u32;
    let charts: Vec<(String, ChartType, Vec<u16>, &str)> = vec![
        (
            "GSTR-2B ITC against GSTR-3B ITC claimed: IGST".into(),
            ChartType::Line,
            vec![1, 2],
            "#,##0",
        ),
        (
            "GSTR-2B ITC against GSTR-3B ITC claimed: CGST".into(),
            ChartType::Line,
            vec![3, 4],
            "#,##0",
        ),
        (
            "GSTR-2B ITC against GSTR-3B ITC claimed: SGST".into(),
            ChartType::Line,
            vec![5, 6],
            "#,##0",
        ),
        (
            "Closing balances of the cash and credit ledgers".into(),
            ChartType::Line,
            vec![7, 8],
            "#,##0",
        ),
        (
            "GSTR-3B liability against payment".into(),
            ChartType::Column,
            vec![9, 10],
            "#,##0",
        ),
        (
            "Changes detected per return period".into(),
            ChartType::ColumnStacked,
            (11..11 + kinds.len() as u16).collect(),
            "0",
        ),
    ];
    for (i, (title, kind, cols, format)) in charts.into_iter().filter(|c| !c.2.is_empty()).enumerate() {
        let mut chart = Chart::new(kind);
        chart.title().set_name(title.as_str());
        for col in cols {
            chart
                .add_series()
                .set_name((CHARTS, 0, col))
                .set_categories((CHARTS, 1, 0, last, 0))
                .set_values((CHARTS, 1, col, last, col));
        }
        chart.y_axis().set_num_format(format);
        chart.set_width(560).set_height(260);
        // Below the table, two charts a row.
        let row = last + 3 + (i as u32 / 2) * 14;
        let col = (i as u16 % 2) * 6;
        sheet.insert_chart(row, col, &chart)?;
    }
    Ok(())
}

/// One sheet of a return's months: a row per table line, with the month,
/// table and line, and one column per distinct column of the form's tables
/// (blank where a table has no such cell), then the source snapshot.
fn return_sheet(sheet: &mut Worksheet, styles: &Styles, months: &[ReturnMonth]) -> Result<(), XlsxError> {
    let mut names: Vec<(&str, Unit)> = Vec::new();
    for table in months.iter().flat_map(|m| &m.tables) {
        for c in &table.columns {
            if !names.iter().any(|(n, _)| *n == c.name) {
                names.push((c.name, c.unit));
            }
        }
    }
    let titles: Vec<String> = names
        .iter()
        .map(|(n, unit)| match unit {
            Unit::Rupees => format!("{n} (₹)"),
            Unit::Count => (*n).to_string(),
        })
        .collect();
    let mut columns = vec![("Month", 9.0), ("Table", 8.0), ("Line", 48.0)];
    columns.extend(titles.iter().map(|t| (t.as_str(), AMOUNT_WIDTH)));
    columns.push(("Source", 36.0));
    let rows: usize = months.iter().flat_map(|m| &m.tables).map(|t| t.lines.len()).sum();
    let table = Table::new(sheet, styles, &columns, rows)?;
    let mut row = 1;
    for month in months {
        for t in &month.tables {
            for line in &t.lines {
                let mut cells = vec![Cell::Text(&month.month), Cell::Text(t.number), Cell::Text(&line.label)];
                for (name, unit) in &names {
                    let value = t
                        .columns
                        .iter()
                        .position(|c| c.name == *name)
                        .and_then(|i| line.values.get(i).copied().flatten());
                    cells.push(match (unit, value) {
                        (_, None) => Cell::Empty,
                        (Unit::Rupees, Some(p)) => Cell::Amount(p),
                        (Unit::Count, Some(n)) => Cell::Count(n.max(0) as u64),
                    });
                }
                cells.push(Cell::Text(&month.source));
                table.row(sheet, styles, row, &cells, false)?;
                row += 1;
            }
        }
    }
    Ok(())
}

/// The workbook of `report`. Fails only if rust_xlsxwriter refuses what it
/// is given (a sheet name, a cell beyond Excel's limits).
pub fn render(report: &Summary) -> Result<Vec<u8>, WorkbookError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    // The as-of instant stands in for "now", as in the PDF; an unparsable
    // one leaves the epoch rather than reading the clock.
    let as_of = chrono::DateTime::parse_from_str(&report.as_of, "%Y-%m-%d %H:%M:%S %:z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&report.as_of))
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let created = ExcelDateTime::from_timestamp(as_of)?;
    let title = format!("GST audit evidence summary – {} – {}", report.gstin, report.period);
    workbook.set_properties(
        &DocProperties::new()
            .set_title(&title)
            .set_subject(format!(
                "GSTIN {} · {} · bundle {}",
                report.gstin, report.period, report.bundle_id
            ))
            .set_author(&report.organization)
            .set_company(&report.organization)
            .set_keywords(format!("gstvault, bundle {}", report.bundle_id))
            .set_comment("Computed by gstvault from the archived GST portal answers in this bundle; a reading aid, the evidence is the rest of the bundle.")
            .set_creation_datetime(&created),
    );
    let banner = report.simulated.then(|| {
        format!(
            "SIMULATED DATA: captured from a simulator at {}, not from the GST portal. Not evidence.",
            report.sources.join(", ")
        )
    });
    let findings = report.findings();
    let counts = report.counts();

    for name in SHEETS {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        if let Some(text) = &banner {
            // On every printed page, as the PDF has it on every page.
            sheet.set_header(format!("&L&\"-,Bold\"{}", text.replace('&', "&&")));
            sheet.set_tab_color(Color::RGB(FLAG_TEXT));
        }
        match name {
            COVER => cover(sheet, &styles, report, banner.as_deref(), counts)?,
            FINDINGS => {
                let mut columns = vec![
                    ("Sheet", 22.0),
                    ("Period", 9.0),
                    ("Verdict", 14.0),
                    ("Finding", 60.0),
                    ("Difference of", 28.0),
                ];
                columns.extend(HEADS);
                let table = Table::new(sheet, &styles, &columns, findings.len())?;
                for (row, f) in (1u32..).zip(&findings) {
                    let mut cells = vec![
                        Cell::Text(sheet_of(f.section)),
                        Cell::Text(&f.period),
                        Cell::Text(f.verdict.as_str()),
                        Cell::Text(&f.what),
                        Cell::Text(f.of),
                    ];
                    match &f.by_head {
                        Some(h) => cells.extend(heads(h)),
                        None if f.total != 0 => cells.extend([
                            Cell::Empty,
                            Cell::Empty,
                            Cell::Empty,
                            Cell::Empty,
                            Cell::Amount(f.total),
                        ]),
                        None => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
                    }
                    table.row(sheet, &styles, row, &cells, true)?;
                }
            }
            FILINGS => {
                let columns = [
                    ("Return", 10.0),
                    ("Period", 9.0),
                    ("Status", 10.0),
                    ("ARN", 20.0),
                    ("Filed on", 11.0),
                    ("Mode", 9.0),
                    ("Source", 36.0),
                ];
                let table = Table::new(sheet, &styles, &columns, report.filings.len())?;
                for (row, f) in (1u32..).zip(&report.filings) {
                    let x = &f.filing;
                    let cells = [
                        Cell::Text(&x.form),
                        Cell::Text(&x.period),
                        Cell::Text(&x.status),
                        Cell::Text(&x.arn),
                        Cell::Text(&x.filed_on),
                        Cell::Text(&x.mode),
                        Cell::Text(&f.source),
                    ];
                    table.row(sheet, &styles, row, &cells, false)?;
                }
            }
            CHARTS => charts_sheet(sheet, &styles, report)?,
            GSTR3B => return_sheet(sheet, &styles, &report.gstr3b)?,
            AUTO_LIABILITY => return_sheet(sheet, &styles, &report.auto_liability)?,
            GSTR1 => return_sheet(sheet, &styles, &report.gstr1)?,
            GSTR9 => return_sheet(sheet, &styles, &report.gstr9)?,
            LEDGERS => {
                let mut columns = vec![("Month", 9.0), ("Ledger", 12.0), ("Figure", 22.0)];
                columns.extend(HEADS);
                columns.push(("Source", 36.0));
                let years = report.ledger_years();
                let table = Table::new(sheet, &styles, &columns, (report.ledgers.len() + years.len()) * 5)?;
                let mut row = 1;
                let year_rows = years.iter().map(|y| (&y.row, Some(&y.breaks)));
                for (l, breaks) in report.ledgers.iter().map(|l| (l, None)).chain(year_rows) {
                    let s = &l.statement;
                    let ledger = match s.ledger {
                        crate::domain::returns::ledger::Ledger::Cash => "Cash",
                        crate::domain::returns::ledger::Ledger::Credit => "Credit (ITC)",
                    };
                    let closing = if l.partial {
                        "Balance at capture"
                    } else {
                        "Closing balance"
                    };
                    // A year's last line is the breaks between its months.
                    let (flagged, check) = match breaks {
                        Some(b) => (!b.is_zero(), ("Closing − next month's opening, summed", b)),
                        None => (
                            !s.discrepancy.is_zero(),
                            ("Opening + credits − debits − closing", &s.discrepancy),
                        ),
                    };
                    for (label, amounts) in [
                        ("Opening balance", &s.opening),
                        ("Credits", &s.credits),
                        ("Debits", &s.debits),
                        (closing, &s.closing),
                        check,
                    ] {
                        let mut cells = vec![Cell::Text(&l.month), Cell::Text(ledger), Cell::Text(label)];
                        cells.extend(heads(amounts));
                        cells.push(Cell::Text(&l.source));
                        table.row(sheet, &styles, row, &cells, flagged)?;
                        row += 1;
                    }
                }
            }
            SET_OFF => {
                let columns = [
                    ("Month", 9.0),
                    ("Set-off", 80.0),
                    ("Departure from the legal order", 60.0),
                    ("Source", 36.0),
                ];
                let table = Table::new(sheet, &styles, &columns, report.set_offs.len())?;
                for (row, x) in (1u32..).zip(&report.set_offs) {
                    let explanation = x.set_off.explanation.join(" ");
                    let problems = x.set_off.problems.join("; ");
                    let cells = [
                        Cell::Text(&x.month),
                        Cell::Text(&explanation),
                        Cell::Text(&problems),
                        Cell::Text(&x.source),
                    ];
                    table.row(sheet, &styles, row, &cells, !x.set_off.problems.is_empty())?;
                }
            }
            BALANCES => {
                let mut columns = vec![("Month", 9.0), ("Ledger", 9.0)];
                columns.extend(HEADS);
                columns.push(("Source", 64.0));
                let table = Table::new(sheet, &styles, &columns, report.balances.len() * 2)?;
                for (i, b) in report.balances.iter().enumerate() {
                    for (j, (ledger, amounts)) in [("Cash", &b.cash), ("ITC", &b.itc)].into_iter().enumerate() {
                        let mut cells = vec![Cell::Text(&b.month), Cell::Text(ledger)];
                        cells.extend(heads(amounts));
                        cells.push(Cell::Text(&b.source));
                        table.row(sheet, &styles, (i * 2 + j + 1) as u32, &cells, false)?;
                    }
                }
            }
            PAYMENTS => {
                let months: Vec<MonthFigures<'_>> = report
                    .payments
                    .iter()
                    .map(|p| MonthFigures {
                        month: &p.month,
                        figures: vec![
                            ("3B tax payable", &p.liability),
                            ("3B paid in cash", &p.paid_cash),
                            ("Cash ledger debits", &p.cash_debits),
                            ("3B paid through ITC", &p.paid_itc),
                            ("ITC ledger debits", &p.itc_debits),
                        ],
                        finding: &p.finding,
                    })
                    .collect();
                figure_rows(sheet, &styles, &months)?;
            }
            OUTWARD => compare_sheet(sheet, &styles, OUTWARD_LABELS, &report.outward)?,
            ITC => itc_sheet(sheet, &styles, &report.itc)?,
            ITC_SUMMARY => itc_summary_sheet(sheet, &styles, &report.itc_summary)?,
            CHANGES => changes_sheet(sheet, &styles, &report.changes)?,
            NOTES => {
                let table = Table::new(sheet, &styles, &[("Note", 120.0)], report.notes.len())?;
                for (row, note) in (1u32..).zip(&report.notes) {
                    table.row(sheet, &styles, row, &[Cell::Text(note)], false)?;
                }
            }
            _ => {
                let columns = [
                    ("Endpoint", 24.0),
                    ("Period", 10.0),
                    ("Page", 6.0),
                    ("First seen (IST)", 26.0),
                    ("Last seen (IST)", 26.0),
                    ("Log entries", 14.0),
                    ("Outcome", 12.0),
                    ("SHA-256 prefix", 15.0),
                ];
                let table = Table::new(sheet, &styles, &columns, report.snapshots.len())?;
                for (row, s) in (1u32..).zip(&report.snapshots) {
                    let cells = [
                        Cell::Text(&s.endpoint),
                        Cell::Text(&s.period),
                        Cell::Count(u64::from(s.page)),
                        Cell::Text(&s.first_seen),
                        Cell::Text(&s.last_seen),
                        Cell::Text(&s.log_entries),
                        Cell::Text(&s.outcome),
                        Cell::Text(&s.short_hash),
                    ];
                    table.row(sheet, &styles, row, &cells, false)?;
                }
                // Log entries ("12" or "12, 340") and hash prefixes are text on purpose.
                if !report.snapshots.is_empty() {
                    let last = report.snapshots.len() as u32;
                    sheet.ignore_error_range(1, 5, last, 7, IgnoreError::NumberStoredAsText)?;
                }
            }
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// The cover: the bundle's facts as label and value, the count of findings,
/// and the simulated-data banner when the answers came from a simulator.
const COVER_WIDTHS: [f64; 2] = [40.0, 80.0];

fn cover(
    sheet: &mut Worksheet,
    styles: &Styles,
    report: &Summary,
    banner: Option<&str>,
    counts: crate::domain::summary::Counts,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, "Field", &styles.header)?;
    sheet.write_string_with_format(0, 1, "Value", &styles.header)?;
    sheet.set_column_width(0, COVER_WIDTHS[0])?;
    sheet.set_column_width(1, COVER_WIDTHS[1])?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_print_fit_to_pages(1, 0);
    let legal_name = report.legal_name.as_deref().unwrap_or("not on record");
    let sources = report.sources.join(", ");
    let data = banner.unwrap_or("answers of the GST portal");
    let facts: [(&str, Cell<'_>); 18] = [
        ("Title", Cell::Text("GST audit evidence summary")),
        ("GSTIN", Cell::Text(&report.gstin)),
        ("Legal name", Cell::Text(legal_name)),
        ("Period", Cell::Text(&report.period)),
        ("As of (IST)", Cell::Text(&report.as_of)),
        ("Bundle ID", Cell::Text(&report.bundle_id)),
        ("Organization", Cell::Text(&report.organization)),
        ("Checkpoint origin", Cell::Text(&report.checkpoint_origin)),
        ("Checkpoint size (snapshots)", Cell::Count(report.checkpoint_size)),
        ("Checkpoint root (SHA-256)", Cell::Text(&report.checkpoint_root)),
        ("Signing key ID", Cell::Text(&report.key_id)),
        ("Key fingerprint", Cell::Text(&report.key_fingerprint)),
        ("Answers fetched from", Cell::Text(&sources)),
        ("Data", Cell::Text(data)),
        ("Rows that agree", Cell::Count(counts.agrees as u64)),
        ("Rows that differ", Cell::Count(counts.differs as u64)),
        (
            "Rows that could not be reconciled",
            Cell::Count(counts.could_not_reconcile as u64),
        ),
        (
            "How to verify",
            Cell::Text("VERIFY.txt in this bundle; the PDF summary.pdf beside this workbook shows the same figures"),
        ),
    ];
    for (row, (label, value)) in (1u32..).zip(facts) {
        sheet.write_string_with_format(row, 0, label, &styles.label)?;
        let flag = (label == "Data" && banner.is_some())
            || (label == "Rows that differ" && counts.differs > 0)
            || (label == "Rows that could not be reconciled" && counts.could_not_reconcile > 0);
        let style = &styles.rows[usize::from(flag)];
        match value {
            // A fact, not a column of figures: read from the left like the text.
            Cell::Count(n) => {
                sheet.write_number_with_format(row, 1, n as f64, &style.fact)?;
            }
            Cell::Text(text) => {
                let height = lines(text, COVER_WIDTHS[1]).max(lines(label, COVER_WIDTHS[0]));
                if height > 1 {
                    sheet.set_row_height(row, LINE_HEIGHT * height as f64)?;
                }
                write_cell(sheet, style, row, 1, &value)?;
            }
            _ => write_cell(sheet, style, row, 1, &value)?,
        }
    }
    Ok(())
}

/// The changes sheet: one row per document that moved, the kind as text,
/// amounts as numbers in rupees (an absent side left empty), the tax change
/// by head.
fn opt_text(t: Option<&String>) -> Cell<'_> {
    t.map(|t| Cell::Text(t.as_str())).unwrap_or(Cell::Empty)
}

fn changes_sheet(
    sheet: &mut Worksheet,
    styles: &Styles,
    changes: &[crate::domain::summary::ChangeLine],
) -> Result<(), XlsxError> {
    let columns = [
        ("Detected at (IST)", 26.0),
        ("Endpoint", 22.0),
        ("Period", 10.0),
        ("Kind", 22.0),
        ("ARN", 18.0),
        ("Section", 10.0),
        ("Action", 9.0),
        ("Counterparty GSTIN", 18.0),
        ("Document", 20.0),
        ("Date", 11.0),
        ("Taxable before (₹)", 15.0),
        ("Taxable after (₹)", 15.0),
        ("Tax before (₹)", 15.0),
        ("Tax after (₹)", 15.0),
        ("IGST change (₹)", 15.0),
        ("CGST change (₹)", 15.0),
        ("SGST change (₹)", 15.0),
        ("Cess change (₹)", 15.0),
    ];
    let table = Table::new(sheet, styles, &columns, changes.len())?;
    let amount = |paise: Option<i64>| paise.map(Cell::Amount).unwrap_or(Cell::Empty);
    for (row, c) in (1u32..).zip(changes) {
        let mut cells = vec![
            Cell::Text(&c.detected_at),
            Cell::Text(&c.endpoint),
            Cell::Text(&c.period),
            Cell::Text(c.kind.label()),
            opt_text(c.arn.as_ref()),
        ];
        match &c.document {
            Some(d) => {
                let change = d.tax_change();
                cells.extend([
                    Cell::Text(&d.section),
                    Cell::Text(d.action.as_str()),
                    opt_text(d.counterparty.as_ref()),
                    opt_text(d.number.as_ref()),
                    opt_text(d.date.as_ref()),
                    amount(d.taxable_before),
                    amount(d.taxable_after),
                    amount(d.tax_before.map(|h| h.total())),
                    amount(d.tax_after.map(|h| h.total())),
                    Cell::Amount(change.igst),
                    Cell::Amount(change.cgst),
                    Cell::Amount(change.sgst),
                    Cell::Amount(change.cess),
                ]);
            }
            None => {
                cells.push(Cell::Text("no document moved"));
                cells.extend(std::iter::repeat_with(|| Cell::Empty).take(12));
            }
        }
        table.row(sheet, styles, row, &cells, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::domain::summary::{BalanceRow, ChangeLine, IndexRow, ItcRow, ItcSummaryRow, PaymentRow, Verdict};

    fn heads(igst: i64, cgst: i64) -> Heads {
        Heads {
            igst,
            cgst,
            sgst: cgst,
            cess: 0,
        }
    }

    fn compare(month: &str, left: Heads, right: Heads, finding: &str) -> CompareRow {
        CompareRow {
            month: month.into(),
            left,
            right,
            difference: left.minus(&right),
            verdict: if finding == "agrees" {
                Verdict::Agrees
            } else {
                Verdict::Differs
            },
            finding: finding.into(),
        }
    }

    fn sample() -> Summary {
        Summary {
            gstin: "27AAPFU0939F1ZV".into(),
            legal_name: Some("Kulkarni & Rao Traders".into()),
            period: "FY2025-26".into(),
            as_of: "2026-06-25 18:30:00 +05:30".into(),
            bundle_id: "0123456789abcdef".into(),
            organization: "Kulkarni & Rao, Chartered Accountants".into(),
            checkpoint_origin: "gstvault.archive/golden0000000000".into(),
            checkpoint_size: 4821,
            checkpoint_root: "9f".repeat(32),
            key_id: "0123456789ABCDEF".into(),
            key_fingerprint: "ab".repeat(32),
            sources: vec!["http://127.0.0.1".into()],
            simulated: true,
            snapshots: vec![IndexRow {
                endpoint: "gstr-3b".into(),
                period: "2026-04".into(),
                page: 0,
                first_seen: "2026-05-20 10:00:00 +05:30".into(),
                last_seen: "2026-06-25 10:00:00 +05:30".into(),
                log_entries: "12".into(),
                outcome: "ok".into(),
                code: String::new(),
                short_hash: "0123456789ab".into(),
            }],
            balances: vec![BalanceRow {
                month: "2026-04".into(),
                cash: heads(123_456_789_012, 5),
                itc: heads(-1_171_745_300, 99),
                source: "ledger-cash, ledger-itc".into(),
            }],
            payments: vec![PaymentRow {
                month: "2026-04".into(),
                liability: heads(9_090_484, 100),
                paid_cash: heads(0, 100),
                paid_itc: heads(9_000_000, 0),
                cash_debits: heads(0, 100),
                itc_debits: heads(9_000_000, 0),
                finding: "3B liability exceeds payment by ₹904.84 (IGST)".into(),
                verdict: Verdict::Differs,
            }],
            outward: vec![compare("2026-04", heads(500, 0), heads(500, 0), "agrees")],
            filings: Vec::new(),
            gstr3b: Vec::new(),
            auto_liability: Vec::new(),
            gstr1: Vec::new(),
            gstr9: Vec::new(),
            ledgers: Vec::new(),
            set_offs: Vec::new(),
            itc: [
                compare("2026-04", heads(100_000, 0), heads(100_000, 0), "agrees"),
                compare(
                    "2026-05",
                    heads(100_000, 0),
                    heads(11_817_453, 0),
                    "excess ITC: 3B claims ₹1,17,174.53 (IGST) above 2B (DRC-01C)",
                ),
            ]
            .into_iter()
            .map(|r| ItcRow {
                month: r.month,
                table: "4A(5)".into(),
                source: "2B itcavl.nonrevsup − othersup cdnr, cdnra (credit notes)".into(),
                gstr2b: r.left,
                gstr3b: r.right,
                difference: r.difference,
                finding: r.finding,
                verdict: r.verdict,
            })
            .collect(),
            itc_summary: vec![ItcSummaryRow {
                month: "2026-04".into(),
                bucket: "ITC available".into(),
                section: "nonrevsup".into(),
                part: "total".into(),
                heads: heads(100_000, 0),
            }],
            changes: vec![ChangeLine {
                detected_at: "2026-06-25 10:00:00 +05:30".into(),
                endpoint: "gstr-1-summary".into(),
                period: "2026-05".into(),
                kind: crate::domain::change::Kind::AmendmentAfterFiling,
                arn: Some("AA2705260000011".into()),
                document: Some(crate::domain::change::DocumentChange {
                    action: crate::domain::change::Action::Added,
                    section: "CDNR".into(),
                    counterparty: Some("29AABCK4521M1Z5".into()),
                    number: Some("CN/26-27/L2211".into()),
                    date: Some("22-05-2026".into()),
                    taxable_before: None,
                    taxable_after: Some(120_180),
                    tax_before: None,
                    tax_after: Some(heads(21_632, 0)),
                    unread: None,
                }),
            }],
            notes: vec!["2026-06: no ledger or GSTR-3B answer archived up to the as-of time".into()],
        }
    }

    fn part(xlsx: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut text = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    /// The golden digest of `render(sample())`: a change of output (a
    /// rust_xlsxwriter update, a layout change) shows here first. Bundles
    /// exported before must come out as the same bytes when exported again.
    const GOLDEN: &str = "a274f9d1255afe69e78d8cb9bba53f300771d00c44205be5676c4dc1342449ca";

    #[test]
    fn render_is_deterministic_and_golden() {
        let a = render(&sample()).unwrap();
        let b = render(&sample()).unwrap();
        assert!(a == b, "two renders in one process differ");
        assert!(a.starts_with(b"PK\x03\x04"));
        let digest = hex::encode(Sha256::digest(&a));
        assert_eq!(digest, GOLDEN, "output changed; {} bytes", a.len());
    }

    #[test]
    fn document_dates_are_the_as_of_instant() {
        let core = part(&render(&sample()).unwrap(), "docProps/core.xml");
        assert!(core.contains(">2026-06-25T13:00:00Z</dcterms:created>"), "{core}");
        assert!(core.contains(">2026-06-25T13:00:00Z</dcterms:modified>"), "{core}");
        assert!(core.contains("Kulkarni &amp; Rao, Chartered Accountants"), "{core}");
    }

    #[test]
    fn amounts_get_indian_grouping_by_size() {
        assert_eq!(rupee_format(0), "#,##0.00");
        assert_eq!(rupee_format(2), r"##\,##\,##0.00");
        let cases = [
            (0, 0),
            (9_999_999, 0),
            (10_000_000, 2),
            (-11_717_453, 2),
            (999_999_999, 2),
            (1_000_000_000, 3),
            (-123_456_789_012, 4),
            (i64::MIN, 7),
        ];
        for (paise, groups) in cases {
            assert_eq!(comma_groups(paise), groups, "{paise}");
        }
        let styles = part(&render(&sample()).unwrap(), "xl/styles.xml");
        assert!(styles.contains(r###"formatCode="##\,##\,##0.00""###), "{styles}");
    }

    #[test]
    fn wrapped_rows_are_as_tall_as_their_words_need() {
        assert_eq!(lines("", 10.0), 1);
        assert_eq!(lines("agrees", 10.0), 1);
        assert_eq!(lines("one two three", 10.0), 2);
        assert_eq!(lines("one two three four", 10.0), 2);
        assert_eq!(lines("one two three four five", 10.0), 3);
        assert_eq!(lines(&"x".repeat(25), 10.0), 3, "a word longer than a line breaks");
    }

    #[test]
    fn findings_are_the_rows_that_do_not_agree() {
        let report = sample();
        let rows = report.findings();
        let listed: Vec<(&str, &str)> = rows.iter().map(|f| (sheet_of(f.section), f.period.as_str())).collect();
        assert_eq!(listed, [(PAYMENTS, "2026-04"), (ITC, "2026-05")]);
        assert_eq!(rows[0].by_head, None);
        assert_eq!(rows[0].total, 90_484);
        assert_eq!(rows[1].by_head, Some(heads(-11_717_453, 0)));
        assert_eq!(rows[1].total, -11_717_453);
    }

    #[test]
    fn every_sheet_has_its_header_frozen_and_tables_a_filter() {
        let xlsx = render(&sample()).unwrap();
        let workbook = part(&xlsx, "xl/workbook.xml");
        for (i, name) in SHEETS.iter().enumerate() {
            assert!(workbook.contains(&format!("name=\"{name}\"")), "{name}: {workbook}");
            let sheet = part(&xlsx, &format!("xl/worksheets/sheet{}.xml", i + 1));
            assert!(
                sheet.contains(r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#),
                "{name}: {sheet}"
            );
            assert_eq!(sheet.contains("<autoFilter "), *name != COVER, "{name}");
            assert!(
                sheet.contains("SIMULATED DATA"),
                "{name}: the banner heads every printed page"
            );
        }
    }

    #[test]
    fn an_empty_summary_renders() {
        let report = Summary {
            snapshots: vec![],
            balances: vec![],
            payments: vec![],
            outward: vec![],
            itc: vec![],
            itc_summary: vec![],
            changes: vec![],
            notes: vec![],
            legal_name: None,
            simulated: false,
            as_of: "not a time".into(),
            ..sample()
        };
        let xlsx = render(&report).unwrap();
        assert!(part(&xlsx, "docProps/core.xml").contains(">1970-01-01T00:00:00Z</dcterms:created>"));
    }
}
