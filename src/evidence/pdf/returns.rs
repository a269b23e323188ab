//! The PDF's returns in the portal's layout: filing status, GSTR-3B and
//! GSTR-1 tables (each month, and for a financial year the FY total), the cash
//! and credit ledgers and the set-off. Laid out from
//! [`crate::domain::returns`]; every month's figures end with the snapshot
//! they come from.

use super::{align, amounts, fill, Align, Cell, Face, Group, Layout, Row, TableSpec};
use crate::domain::money::{rupees, Heads};
use crate::domain::returns::{self, ReturnMonth, ReturnTable, Unit};
use crate::domain::summary::{LedgerRow, Section, Summary};

impl Layout<'_> {
    /// A table's title inside a section, kept with the start of its table.
    fn subheading(&mut self, text: &str) {
        let t = self.t;
        let size = t.fonts.table_size + 1.5;
        let lines = self.wrap(Face::Bold, size, text, self.right - self.left);
        self.ensure(size * 1.4 * lines.len() as f32 + size + self.keep_for_table());
        self.y -= size * 0.5;
        let col = t.colors.accent.clone();
        for line in lines {
            self.y -= size * 1.3;
            self.text(Face::Bold, size, &col, self.left, self.y, &line);
        }
        self.y -= size * 0.5;
    }

    pub(super) fn filings(&mut self, report: &Summary) {
        let f = &self.t.filings;
        self.heading(&f.title, &f.intro, self.keep_for_table());
        if report.filings.is_empty() {
            self.none();
            return;
        }
        let groups: Vec<Group> = report
            .filings
            .iter()
            .map(|row| {
                let x = &row.filing;
                let cells = vec![
                    Cell::left(&x.form),
                    Cell::left(&x.period),
                    Cell::left(&x.status),
                    Cell::mono(&x.arn),
                    Cell::left(&x.filed_on),
                    Cell::left(&x.mode),
                    Cell::left(&row.source),
                ];
                vec![Row { cells, flagged: false }]
            })
            .collect();
        let spec = TableSpec {
            title: &f.title,
            columns: &f.columns,
            widths: &f.widths,
            aligns: vec![Align::Left; 7],
        };
        self.table(&spec, &groups);
    }

    /// One return's months, table by table, with the FY total when the
    /// bundle is of a financial year.
    pub(super) fn return_section(&mut self, title: &str, intro: &str, months: &[ReturnMonth], fy: bool) {
        self.heading(title, intro, self.keep_for_table());
        if months.is_empty() {
            self.none();
            return;
        }
        let totals = returns::totals(months);
        for total in &totals {
            let text = fill(
                &self.t.returns.table,
                &[("number", total.number.to_string()), ("title", total.title.to_string())],
            );
            self.subheading(&text);
            let mut groups: Vec<Group> = Vec::new();
            for month in months {
                let Some(table) = month.tables.iter().find(|t| t.number == total.number) else {
                    continue;
                };
                let mut group = self.table_rows(table, fy.then_some(month.month.as_str()));
                let label = format!("{}: {}", self.t.returns.source, month.source);
                let span = table.columns.len() + 1 + usize::from(fy);
                group.push(Row {
                    cells: vec![Cell::spanning(label, span)],
                    flagged: false,
                });
                groups.push(group);
            }
            if fy && groups.len() > 1 {
                groups.push(self.table_rows(total, Some(self.t.returns.fy_total.as_str())));
            }
            let mut columns = Vec::new();
            let mut widths = Vec::new();
            if fy {
                columns.push(self.t.returns.month.clone());
                widths.push(0.7);
            }
            columns.push(self.t.returns.line.clone());
            widths.push(if total.columns.len() > 5 { 2.0 } else { 3.2 });
            let mut aligns = vec![Align::Left; columns.len()];
            for c in &total.columns {
                columns.push(c.name.to_string());
                widths.push(1.0);
                aligns.push(align(1));
            }
            let spec = TableSpec {
                title: &text,
                columns: &columns,
                widths: &widths,
                aligns,
            };
            self.table(&spec, &groups);
        }
    }

    /// A ledger's four figures and its check: a month's own arithmetic, or
    /// for a year (`breaks`: closing − next opening, summed) whether each
    /// month opened where the last one closed.
    fn ledger_group(&self, row: &LedgerRow, breaks: Option<&Heads>) -> Group {
        let l = &self.t.ledgers;
        let s = &row.statement;
        let flagged = match breaks {
            Some(b) => !b.is_zero(),
            None => !s.discrepancy.is_zero(),
        };
        let ledger = match s.ledger {
            returns::ledger::Ledger::Cash => &l.cash,
            returns::ledger::Ledger::Credit => &l.credit,
        };
        let closing = if row.partial {
            fill(&l.at_capture, &[("to", s.to.clone())])
        } else {
            l.closing.clone()
        };
        let figures = [
            (&l.opening, &s.opening),
            (&l.credits, &s.credits),
            (&l.debits, &s.debits),
            (&closing, &s.closing),
        ];
        let mut group: Group = figures
            .iter()
            .enumerate()
            .map(|(i, (label, heads))| {
                let mut cells = vec![
                    Cell::left(if i == 0 { row.month.as_str() } else { "" }),
                    Cell::left(if i == 0 { ledger.as_str() } else { "" }),
                    Cell::left(label.as_str()),
                ];
                cells.extend(amounts(heads));
                Row { cells, flagged }
            })
            .collect();
        let check = match (breaks, flagged) {
            (Some(b), true) => format!(
                "{} {}: {}",
                self.t.labels.marker,
                self.t.labels.finding,
                fill(&l.year_breaks, &[("amount", rupees(b.total().abs()))])
            ),
            (Some(_), false) => l.year_adds_up.clone(),
            (None, true) => format!(
                "{} {}: opening + credits − debits − closing = ₹{}",
                self.t.labels.marker,
                self.t.labels.finding,
                rupees(s.discrepancy.total())
            ),
            (None, false) => l.adds_up.clone(),
        };
        group.push(Row {
            cells: vec![
                Cell::left(""),
                Cell::spanning(format!("{check} · {}: {}", self.t.returns.source, row.source), 7),
            ],
            flagged,
        });
        group
    }

    fn table_rows(&self, table: &ReturnTable, month: Option<&str>) -> Group {
        table
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let mut cells = Vec::new();
                if let Some(m) = month {
                    cells.push(Cell::left(if i == 0 { m } else { "" }));
                }
                cells.push(Cell::left(&line.label));
                for (c, v) in table.columns.iter().zip(&line.values) {
                    cells.push(match (c.unit, v) {
                        (_, None) => Cell::right(""),
                        (Unit::Rupees, Some(p)) => Cell::right(rupees(*p)),
                        (Unit::Count, Some(n)) => Cell::right(n.to_string()),
                    });
                }
                Row { cells, flagged: false }
            })
            .collect()
    }

    pub(super) fn ledgers(&mut self, report: &Summary) {
        let l = &self.t.ledgers;
        self.current = Some(Section::Ledgers);
        self.heading(&l.title, &l.intro, self.keep_for_table());
        if report.ledgers.is_empty() {
            self.none();
        } else {
            let mut groups: Vec<Group> = report.ledgers.iter().map(|row| self.ledger_group(row, None)).collect();
            for year in report.ledger_years() {
                groups.push(self.ledger_group(&year.row, Some(&year.breaks)));
            }
            let aligns = [0, 0, 0, 1, 1, 1, 1, 1].map(align).to_vec();
            let spec = TableSpec {
                title: &l.title,
                columns: &l.columns,
                widths: &l.widths,
                aligns,
            };
            self.table(&spec, &groups);
        }

        self.current = Some(Section::SetOff);
        self.heading(&l.set_off_title, &l.set_off_intro, self.keep_for_table());
        if report.set_offs.is_empty() {
            self.none();
        } else {
            let groups: Vec<Group> = report
                .set_offs
                .iter()
                .map(|row| {
                    let flagged = !row.set_off.problems.is_empty();
                    let mut text = row.set_off.explanation.join("\n");
                    for p in &row.set_off.problems {
                        text.push_str(&format!("\n{} {}", self.t.labels.marker, p));
                    }
                    text.push_str(&format!("\n{}: {}", self.t.returns.source, row.source));
                    vec![Row {
                        cells: vec![Cell::left(&row.month), Cell::left(text)],
                        flagged,
                    }]
                })
                .collect();
            let spec = TableSpec {
                title: &l.set_off_title,
                columns: &l.set_off_columns,
                widths: &l.set_off_widths,
                aligns: vec![Align::Left; 2],
            };
            self.table(&spec, &groups);
        }
        self.current = None;
    }
}
