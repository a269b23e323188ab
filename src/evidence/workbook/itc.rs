//! The workbook's ITC sheets: GSTR-3B table 4 against GSTR-2B row by row
//! (three figure rows per table-4 row, as the PDF groups them) and the
//! GSTR-2B ITC summary by bucket, section and part. Layout only.

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::{figure_rows, heads, Cell, MonthFigures, Styles, Table, HEADS};
use crate::domain::summary::{ItcRow, ItcSummaryRow};

/// Month, figure (`4A(5) GSTR-2B: <source>`, `4A(5) GSTR-3B`, `4A(5)
/// Difference`), the heads and the finding.
pub(super) fn itc_sheet(sheet: &mut Worksheet, styles: &Styles, rows: &[ItcRow]) -> Result<(), XlsxError> {
    let labels: Vec<[String; 3]> = rows
        .iter()
        .map(|r| {
            [
                format!("{} GSTR-2B: {}", r.table, r.source),
                format!("{} GSTR-3B", r.table),
                format!("{} Difference", r.table),
            ]
        })
        .collect();
    let months: Vec<MonthFigures<'_>> = rows
        .iter()
        .zip(&labels)
        .map(|(r, l)| MonthFigures {
            month: &r.month,
            figures: vec![
                (l[0].as_str(), &r.gstr2b),
                (l[1].as_str(), &r.gstr3b),
                (l[2].as_str(), &r.difference),
            ],
            finding: &r.finding,
        })
        .collect();
    figure_rows(sheet, styles, &months)
}

/// Month, bucket, section, part and the heads.
pub(super) fn itc_summary_sheet(
    sheet: &mut Worksheet,
    styles: &Styles,
    rows: &[ItcSummaryRow],
) -> Result<(), XlsxError> {
    let mut columns = vec![("Month", 9.0), ("Bucket", 20.0), ("Section", 12.0), ("Part", 10.0)];
    columns.extend(HEADS);
    let table = Table::new(sheet, styles, &columns, rows.len())?;
    for (row, r) in (1u32..).zip(rows) {
        let mut cells = vec![
            Cell::Text(&r.month),
            Cell::Text(&r.bucket),
            Cell::Text(&r.section),
            Cell::Text(&r.part),
        ];
        cells.extend(heads(&r.heads));
        table.row(sheet, styles, row, &cells, false)?;
    }
    Ok(())
}
