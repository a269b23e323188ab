//! Returns in the portal's own layout: each archived return payload read into
//! the tables the GST portal shows for it (GSTR-3B tables 3.1 to 6.1, the
//! GSTR-1 table-wise summary, the GSTR-2B ITC summary read as GSTN documents it, filing status from return tracking, the cash
//! and credit ledgers with the set-off explained). A table is data
//! ([`ReturnTable`]: numbered, titled, columns and labelled lines of paise or
//! counts), so the PDF, the workbook, the queries and the web view lay out the
//! same figures. The form's own words (table numbers and line labels) are
//! GSTN's and live here, not in a template. Pure: no IO; a field that is
//! missing reads as blank, never as an error.

pub mod filing;
pub mod gstr1;
pub mod gstr2b;
pub mod gstr3b;
pub mod gstr9;
pub mod ledger;

use serde::Serialize;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Paise, shown as rupees.
    Rupees,
    /// A number of records or documents.
    Count,
}

/// One column of a return table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: &'static str,
    pub unit: Unit,
}

impl Column {
    pub const fn rupees(name: &'static str) -> Column {
        Column {
            name,
            unit: Unit::Rupees,
        }
    }

    pub const fn count(name: &'static str) -> Column {
        Column {
            name,
            unit: Unit::Count,
        }
    }
}

/// One labelled line of a table: a value per column, blank where the form
/// has no cell (`None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    pub label: String,
    pub values: Vec<Option<i64>>,
}

/// One table of a return, as the portal numbers and titles it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReturnTable {
    /// `3.1`, `4`, `6.1`, `GSTR-1`.
    pub number: &'static str,
    pub title: &'static str,
    pub columns: Vec<Column>,
    pub lines: Vec<Line>,
}

impl ReturnTable {
    /// The value of `column` in the line labelled `label`.
    pub fn value(&self, label: &str, column: &str) -> Option<i64> {
        let c = self.columns.iter().position(|col| col.name == column)?;
        self.lines
            .iter()
            .find(|l| l.label == label)?
            .values
            .get(c)
            .copied()
            .flatten()
    }
}

/// One month's tables of one return, with the snapshot they come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReturnMonth {
    /// `2026-04`.
    pub month: String,
    /// Where the figures come from: endpoint and log entry (`gstr-3b, log entry 1234`).
    pub source: String,
    /// The log entry (`seq`) of the snapshot, for links.
    pub seq: Option<u64>,
    pub tables: Vec<ReturnTable>,
}

/// The financial-year total of each table over `months`: lines with the same
/// label are added column by column (a blank stays blank only when it is
/// blank in every month), in the order they first appear.
pub fn totals(months: &[ReturnMonth]) -> Vec<ReturnTable> {
    let mut out: Vec<ReturnTable> = Vec::new();
    for month in months {
        for table in &month.tables {
            let total = match out.iter_mut().find(|t| t.number == table.number) {
                Some(t) => t,
                None => {
                    out.push(ReturnTable {
                        lines: Vec::new(),
                        ..table.clone()
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            for line in &table.lines {
                match total.lines.iter_mut().find(|l| l.label == line.label) {
                    Some(sum) => {
                        for (s, v) in sum.values.iter_mut().zip(&line.values) {
                            *s = match (*s, *v) {
                                (None, None) => None,
                                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
                            };
                        }
                    }
                    None => total.lines.push(line.clone()),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_lines_by_label_and_keep_blanks() {
        let table = |v: i64, extra: bool| {
            let mut lines = vec![Line {
                label: "(a)".into(),
                values: vec![Some(v), None],
            }];
            if extra {
                lines.push(Line {
                    label: "(b)".into(),
                    values: vec![None, Some(7)],
                });
            }
            ReturnTable {
                number: "3.1",
                title: "t",
                columns: vec![Column::rupees("x"), Column::rupees("y")],
                lines,
            }
        };
        let month = |v, extra| ReturnMonth {
            month: "2026-04".into(),
            source: String::new(),
            seq: None,
            tables: vec![table(v, extra)],
        };
        let fy = totals(&[month(100, false), month(250, true)]);
        assert_eq!(fy.len(), 1);
        assert_eq!(fy[0].lines[0].values, vec![Some(350), None]);
        assert_eq!(fy[0].lines[1].values, vec![None, Some(7)]);
        assert_eq!(fy[0].value("(a)", "x"), Some(350));
    }
}
