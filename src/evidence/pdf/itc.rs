//! The PDF's ITC sections: GSTR-3B table 4 row by row against its GSTR-2B
//! source, and the GSTR-2B ITC summary by bucket, section and head. Layout
//! only, from [`Summary`] rows; every label comes from the template
//! (`[itc]`, `[itc_summary]`).

use serde::Deserialize;

use super::{amounts, Cell, Group, Layout, Row};
use crate::domain::summary::{ItcRow, ItcSummaryRow};

/// `[itc]`: the table-4 comparison.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItcText {
    pub(super) title: String,
    pub(super) intro: String,
    pub(super) columns: Vec<String>,
    pub(super) widths: Vec<f32>,
    gstr2b: String,
    gstr3b: String,
    difference: String,
    source: String,
}

/// `[itc_summary]`: the 2B statement by section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItcSummaryText {
    pub(super) title: String,
    pub(super) intro: String,
    pub(super) columns: Vec<String>,
    pub(super) widths: Vec<f32>,
    total: String,
}

impl Layout<'_> {
    /// GSTR-3B table 4 against GSTR-2B: per month and row, the 2B figure,
    /// the 3B figure and the difference by head, the source, the finding.
    pub(super) fn itc_rows(&mut self, rows: &[ItcRow]) {
        let text = &self.t.itc;
        self.heading(&text.title, &text.intro, self.keep_for_table());
        // A row both returns leave at zero, agreeing, says nothing a reader
        // needs on paper (the workbook keeps every row).
        let rows: Vec<&ItcRow> = rows
            .iter()
            .filter(|r| r.verdict.is_finding() || !r.gstr2b.is_zero() || !r.gstr3b.is_zero())
            .collect();
        if rows.is_empty() {
            self.none();
            return;
        }
        let groups: Vec<Group> = rows
            .iter()
            .map(|row| {
                // The row's name leads its first figure, so the month column stays narrow.
                let first = format!("{} {}", row.table, text.gstr2b);
                let figures = [
                    (&first, &row.gstr2b),
                    (&text.gstr3b, &row.gstr3b),
                    (&text.difference, &row.difference),
                ];
                let mut group = self.figure_group(&row.month, &figures, &row.finding);
                let flagged = group.last().is_some_and(|r| r.flagged);
                let source = Row {
                    cells: vec![
                        Cell::left(""),
                        Cell::spanning(format!("{}: {}", text.source, row.source), 6),
                    ],
                    flagged,
                };
                let at = group.len().saturating_sub(1);
                group.insert(at, source);
                group
            })
            .collect();
        self.figure_table(&text.title, &text.columns, &text.widths, &groups);
    }

    /// The GSTR-2B ITC summary: per month, each section's total and parts by head.
    pub(super) fn itc_summary(&mut self, rows: &[ItcSummaryRow]) {
        let text = &self.t.itc_summary;
        self.heading(&text.title, &text.intro, self.keep_for_table());
        if rows.is_empty() {
            self.none();
            return;
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut last_month = "";
        for row in rows {
            let month = if row.month == last_month {
                ""
            } else {
                row.month.as_str()
            };
            last_month = &row.month;
            let what = if row.part == "total" {
                format!("{} · {} ({})", row.bucket, row.section, text.total)
            } else {
                format!("    {}", row.part)
            };
            let mut cells = vec![Cell::left(month), Cell::left(what)];
            cells.extend(amounts(&row.heads));
            groups.push(vec![Row { cells, flagged: false }]);
        }
        self.figure_table(&text.title, &text.columns, &text.widths, &groups);
    }
}
