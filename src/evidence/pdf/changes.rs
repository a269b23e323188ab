//! The PDF's changes section: one row per document that moved (invoice,
//! note, table row, ledger entry), with the kind of change (first filing,
//! amendment after filing with the filing's ARN and the amendment section,
//! portal-side change, in progress), the document, its taxable value and
//! its tax before → after. Wording from `[changes]` in the template; the
//! rows are [`crate::domain::summary::ChangeLine`]s, built elsewhere.

use serde::Deserialize;

use super::{Align, Cell, Group, Layout, Row, TableSpec};
use crate::domain::change::{Action, DocumentChange, Kind};
use crate::domain::money::rupees;
use crate::domain::summary::Summary;

/// `[changes]` of the template.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangesText {
    pub(super) title: String,
    pub(super) intro: String,
    pub(super) columns: Vec<String>,
    pub(super) widths: Vec<f32>,
    first_filing: String,
    amendment: String,
    portal_side: String,
    in_progress: String,
    /// `{arn}` is the filing's ARN.
    filed_arn: String,
    /// `{section}` is the amendment section (B2BA, CDNRA…).
    amendment_section: String,
    added: String,
    removed: String,
    changed: String,
    /// A change in which no document moved.
    no_document: String,
}

/// Paise → `1,234.56`; absent → `-`.
fn amount(paise: Option<i64>) -> String {
    paise.map(rupees).unwrap_or_else(|| "-".to_string())
}

/// `before → after`, or the one side there is.
fn before_after(action: Action, before: Option<i64>, after: Option<i64>) -> String {
    match action {
        Action::Added => amount(after),
        Action::Removed => amount(before),
        Action::Changed => format!("{} → {}", amount(before), amount(after)),
    }
}

impl ChangesText {
    pub(super) fn kind(&self, kind: Kind) -> &str {
        match kind {
            Kind::FirstFiling => &self.first_filing,
            Kind::AmendmentAfterFiling => &self.amendment,
            Kind::PortalSide => &self.portal_side,
            Kind::InProgress => &self.in_progress,
        }
    }

    fn action(&self, action: Action) -> &str {
        match action {
            Action::Added => &self.added,
            Action::Removed => &self.removed,
            Action::Changed => &self.changed,
        }
    }

    fn document(&self, d: &DocumentChange) -> String {
        let name = d.name();
        if name.is_empty() {
            format!("{} {}", d.section, self.action(d.action))
        } else {
            format!("{} {}: {name}", d.section, self.action(d.action))
        }
    }
}

impl Layout<'_> {
    pub(super) fn changes(&mut self, report: &Summary) {
        let c = &self.t.changes;
        self.heading(&c.title, &c.intro, self.keep_for_table());
        if report.changes.is_empty() {
            self.none();
            return;
        }
        let groups: Vec<Group> = report
            .changes
            .iter()
            .map(|ch| {
                let mut kind = c.kind(ch.kind).to_string();
                if let Some(arn) = &ch.arn {
                    kind.push_str(&format!(" ({})", c.filed_arn.replace("{arn}", arn)));
                }
                if let Some(d) = ch.document.as_ref().filter(|d| d.in_amendment_section()) {
                    kind.push_str(&format!(", {}", c.amendment_section.replace("{section}", &d.section)));
                }
                let (document, taxable, tax) = match &ch.document {
                    Some(d) => (
                        c.document(d),
                        before_after(d.action, d.taxable_before, d.taxable_after),
                        before_after(
                            d.action,
                            d.tax_before.map(|h| h.total()),
                            d.tax_after.map(|h| h.total()),
                        ),
                    ),
                    None => (c.no_document.clone(), String::new(), String::new()),
                };
                let cells = vec![
                    Cell::left(&ch.detected_at),
                    Cell::left(&ch.endpoint),
                    Cell::left(&ch.period),
                    Cell::left(kind),
                    Cell::left(document),
                    Cell::right(taxable),
                    Cell::right(tax),
                ];
                vec![Row { cells, flagged: false }]
            })
            .collect();
        let mut aligns = vec![Align::Left; 5];
        aligns.extend([Align::Right, Align::Right]);
        let spec = TableSpec {
            title: &c.title,
            columns: &c.columns,
            widths: &c.widths,
            aligns,
        };
        self.table(&spec, &groups);
    }
}
