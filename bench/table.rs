//! The one table the harness prints: a Markdown table (pasted as is into the
//! README's performance section), one line per measure, with the target and
//! whether this run met it. Smoke runs print the table without verdicts.

/// One measured line.
pub struct Line {
    pub row: u32,
    pub what: String,
    pub ours: String,
    pub theirs: String,
    pub ratio: String,
    pub target: String,
    /// None: informational, no target.
    pub met: Option<bool>,
}

pub struct Table {
    judged: bool,
    lines: Vec<Line>,
}

impl Table {
    pub fn new(judged: bool) -> Table {
        Table { judged, lines: vec![] }
    }

    pub fn add(&mut self, line: Line) {
        println!(
            "  [{}] {}: {} | {} | {} {}",
            line.row, line.what, line.ours, line.theirs, line.ratio, line.target
        );
        self.lines.push(line);
    }

    /// Targets missed (0 in a smoke run: nothing is judged there).
    pub fn missed(&self) -> usize {
        if !self.judged {
            return 0;
        }
        self.lines.iter().filter(|l| l.met == Some(false)).count()
    }

    pub fn render(&self) -> String {
        let mut out = String::from("| # | measure | gstvault | peer / baseline | ratio | target | met |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for l in &self.lines {
            let met = match (self.judged, l.met) {
                (false, _) | (_, None) => "",
                (true, Some(true)) => "yes",
                (true, Some(false)) => "**no**",
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                l.row, l.what, l.ours, l.theirs, l.ratio, l.target, met
            ));
        }
        out
    }
}

/// Seconds with a sensible number of decimals.
pub fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

/// Bytes as MiB (or KiB when small).
pub fn bytes(b: u64) -> String {
    let mib = b as f64 / 1048576.0;
    if mib < 1.0 {
        format!("{:.0} KiB", b as f64 / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
}

/// A number with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
