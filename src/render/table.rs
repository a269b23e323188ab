//! Query results as text: an aligned human table (amounts in rupees with
//! Indian digit grouping, 12,34,567.00), JSON (an array of one object per row,
//! keyed by column name; amounts as numbers of rupees) or CSV (RFC 4180, a
//! header row, amounts as plain decimals 1234567.00). The three carry the same
//! rows and columns. Pure: no IO.

use serde_json::{Map, Value};

use crate::domain::money::rupees;
use crate::domain::time::Timestamp;

/// One cell of a result table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Paise.
    Amount(i64),
    Bool(bool),
    /// A SHA-256 in hex: its first 12 digits in the human table, whole elsewhere.
    Hash(String),
    /// A JSON value: compact text in the table and CSV, the value itself in JSON.
    Json(Value),
    /// An instant: in the display zone to the second in the table
    /// (`2026-05-01 10:00:00 +05:30`) and the CSV (`2026-05-01T10:00:00+05:30`),
    /// RFC 3339 in UTC to the millisecond in JSON, as the archive stores it.
    Time(Timestamp),
    /// Text a spreadsheet would turn into a date or a number (a period
    /// `2026-08`, a document date): as is in the table and JSON, and in CSV
    /// as the formula `="2026-08"`, which Excel, LibreOffice and Google
    /// Sheets all keep as that text.
    Literal(String),
    /// Absent value: blank in the table and CSV, `null` in JSON.
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn period(p: impl ToString) -> Cell {
        Cell::Literal(p.to_string())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Cell {
        s.map(|s| Cell::Text(s.into())).unwrap_or(Cell::Empty)
    }

    fn human(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Literal(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Amount(p) => rupees(*p),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Cell::Hash(h) => h.chars().take(12).collect(),
            Cell::Json(v) => v.to_string(),
            Cell::Time(t) => super::when_stored(*t),
            Cell::Empty => String::new(),
        }
    }

    fn csv(&self) -> String {
        match self {
            Cell::Time(t) => t
                .to_datetime()
                .map(|t| super::zone().rfc3339(t))
                .unwrap_or_else(|| t.to_string()),
            Cell::Amount(p) => plain_rupees(*p),
            Cell::Bool(b) => b.to_string(),
            Cell::Hash(h) => h.clone(),
            Cell::Literal(s) => format!("=\"{}\"", s.replace('"', "\"\"")),
            other => other.human(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(s) | Cell::Literal(s) => Value::String(s.clone()),
            Cell::Int(i) => Value::from(*i),
            Cell::Amount(p) => serde_json::Number::from_f64(*p as f64 / 100.0)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Hash(h) => Value::String(h.clone()),
            Cell::Json(v) => v.clone(),
            Cell::Time(t) => Value::String(t.to_string()),
            Cell::Empty => Value::Null,
        }
    }

    fn right_aligned(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Amount(_))
    }
}

/// Paise as a plain decimal without grouping: -123456789 → "-1234567.89".
pub fn plain_rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A result: named columns and rows of cells (each row as long as `columns`).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// How to print a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Csv,
}

impl Table {
    pub fn new(columns: Vec<&'static str>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width");
        self.rows.push(row);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Human => self.human(),
            Format::Json => self.json(),
            Format::Csv => self.csv(),
        }
    }

    /// Columns padded to their widest cell (characters, not bytes); numbers right-aligned.
    pub fn human(&self) -> String {
        let cells: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(Cell::human).collect()).collect();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([c.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let right: Vec<bool> = (0..self.columns.len())
            .map(|i| self.rows.first().is_some_and(|r| r[i].right_aligned()))
            .collect();
        let line = |texts: Vec<&str>| -> String {
            let mut out = String::new();
            for (i, t) in texts.iter().enumerate() {
                let pad = widths[i].saturating_sub(t.chars().count());
                if i > 0 {
                    out.push_str("  ");
                }
                if right[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(t);
                } else {
                    out.push_str(t);
                    out.push_str(&" ".repeat(pad));
                }
            }
            let mut out = out.trim_end().to_string();
            out.push('\n');
            out
        };
        let mut out = line(self.columns.clone());
        for row in &cells {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        out
    }

    /// One JSON array of row objects, pretty-printed.
    pub fn json(&self) -> String {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut object = Map::new();
                for (c, cell) in self.columns.iter().zip(r) {
                    object.insert(c.to_string(), cell.json());
                }
                Value::Object(object)
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&Value::Array(rows)).expect("JSON values serialise");
        text.push('\n');
        text
    }

    /// RFC 4180: header row, fields quoted when they hold a comma, quote or line break.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let mut line = |fields: Vec<String>| {
            let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&quoted.join(","));
            out.push_str("\r\n");
        };
        line(self.columns.iter().map(|c| c.to_string()).collect());
        for row in &self.rows {
            line(row.iter().map(Cell::csv).collect());
        }
        out
    }
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Parses CSV produced by [`Table::csv`] back into rows of fields (header first).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(vec!["name", "amount", "note"]);
        t.push(vec![Cell::text("a"), Cell::Amount(123456700), Cell::text("x, \"y\"")]);
        t.push(vec![Cell::text("bbbb"), Cell::Amount(-5), Cell::Empty]);
        t
    }

    #[test]
    fn human_aligns_and_groups_rupees() {
        let text = sample().human();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "name        amount  note");
        assert_eq!(lines[1], "a     12,34,567.00  x, \"y\"");
        assert_eq!(lines[2], "bbbb         -0.05");
    }

    #[test]
    fn csv_periods_stay_text_in_a_spreadsheet() {
        let mut t = Table::new(vec!["month", "fy"]);
        t.push(vec![Cell::period("2026-04"), Cell::period("FY2026-27")]);
        assert_eq!(parse_csv(&t.csv())[1], vec!["=\"2026-04\"", "=\"FY2026-27\""]);
        assert!(t.json().contains("\"month\": \"2026-04\""), "{}", t.json());
        assert!(t.human().contains("2026-04"));
    }

    #[test]
    fn csv_and_json_carry_the_same_rows() {
        let t = sample();
        let csv = parse_csv(&t.csv());
        assert_eq!(csv[0], vec!["name", "amount", "note"]);
        assert_eq!(csv[1], vec!["a", "1234567.00", "x, \"y\""]);
        assert_eq!(csv[2], vec!["bbbb", "-0.05", ""]);
        let json: Value = serde_json::from_str(&t.json()).unwrap();
        assert_eq!(json[0]["amount"], serde_json::json!(1234567.0));
        assert_eq!(json[1]["note"], Value::Null);
        assert_eq!(plain_rupees(-123456789), "-1234567.89");
    }
}
