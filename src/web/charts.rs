//! The GSTIN page's charts as inline SVG: the same series and layout as a
//! year's bundle (`evidence::charts`), drawn by plotters' SVG backend. Inline
//! SVG needs no script and no image request, so the strict CSP stands.

use plotters::prelude::*;

use crate::domain::change::Kind as ChangeKind;
use crate::domain::charts::MonthPoint;
use crate::evidence::charts::{draw, Kind, Series};

/// One chart: its title, its SVG markup, and per month the page that shows
/// the month's figures with the snapshots they come from.
#[derive(serde::Serialize)]
pub struct Svg {
    pub title: String,
    pub svg: String,
    pub sources: Vec<Source>,
}

/// Where a month's figures of a chart are shown with their snapshots.
#[derive(serde::Serialize)]
pub struct Source {
    pub month: String,
    pub href: String,
}

/// What each chart is of: the page `source` links a month to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    Itc,
    Ledgers,
    Liability,
    Changes,
}

fn chart(title: &str, months: &[String], series: &[Series], kind: Kind, money: bool, sources: Vec<Source>) -> Svg {
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (640, 240));
        // SVG units are pixels: a scale of 1.33 px per point, as browsers use.
        let _ = draw(backend, 1.33, months, series, kind, money, 8.5);
    }
    Svg {
        title: title.to_string(),
        svg,
        sources,
    }
}

/// The four charts of a year's points; `source` gives the page of a
/// chart's month.
pub fn charts(points: &[MonthPoint], source: impl Fn(Chart, &str) -> String) -> Vec<Svg> {
    let months: Vec<String> = points.iter().map(|p| p.month.clone()).collect();
    let sources = |chart: Chart| {
        months
            .iter()
            .map(|m| Source {
                month: m.clone(),
                href: source(chart, m),
            })
            .collect::<Vec<_>>()
    };
    let paise = |v: Option<i64>| v.map(|v| v as f64);
    let total = |h: Option<&crate::domain::money::Heads>| h.map(|h| h.total() as f64);
    vec![
        chart(
            "GSTR-2B ITC available against GSTR-3B ITC claimed (₹, all heads)",
            &months,
            &[
                Series {
                    name: "GSTR-2B".into(),
                    values: points.iter().map(|p| total(p.itc_2b.as_ref())).collect(),
                },
                Series {
                    name: "GSTR-3B claimed".into(),
                    values: points.iter().map(|p| total(p.itc_3b.as_ref())).collect(),
                },
            ],
            Kind::Lines,
            true,
            sources(Chart::Itc),
        ),
        chart(
            "Closing balances of the cash and credit ledgers (₹)",
            &months,
            &[
                Series {
                    name: "Cash ledger".into(),
                    values: points.iter().map(|p| paise(p.cash_closing)).collect(),
                },
                Series {
                    name: "Credit ledger".into(),
                    values: points.iter().map(|p| paise(p.credit_closing)).collect(),
                },
            ],
            Kind::Lines,
            true,
            sources(Chart::Ledgers),
        ),
        chart(
            "GSTR-3B liability against payment (₹)",
            &months,
            &[
                Series {
                    name: "Liability".into(),
                    values: points.iter().map(|p| paise(p.liability)).collect(),
                },
                Series {
                    name: "Paid (cash and ITC)".into(),
                    values: points.iter().map(|p| paise(p.paid)).collect(),
                },
            ],
            Kind::Bars,
            true,
            sources(Chart::Liability),
        ),
        chart(
            "Changed documents per return period, by kind",
            &months,
            &ChangeKind::ALL
                .iter()
                .enumerate()
                .map(|(i, k)| Series {
                    name: k.label().to_string(),
                    values: points.iter().map(|p| Some(p.changes[i].1 as f64)).collect(),
                })
                .collect::<Vec<_>>(),
            Kind::Stacked,
            false,
            sources(Chart::Changes),
        ),
    ]
}
