//! The charts of a financial year, laid out by plotters on any backend: the
//! PDF's own vector backend (`evidence::pdf::charts`) and SVG for the web
//! view draw the same series ([`crate::domain::charts`]) the same way. No
//! clock, no randomness: the same series give the same drawing.

use plotters::prelude::*;

use crate::domain::money::rupees;

/// The chart colours: the template's accent, then fixed companions.
const SERIES: [RGBColor; 4] = [
    RGBColor(0x4f, 0x7d, 0xb0),
    RGBColor(0xc0, 0x50, 0x4d),
    RGBColor(0x9b, 0xbb, 0x59),
    RGBColor(0xf7, 0x96, 0x46),
];

/// Short month labels: `Apr`, …, from `2026-04`.
fn month_label(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    month
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| NAMES.get(m.wrapping_sub(1)))
        .map_or_else(|| month.to_string(), |s| (*s).to_string())
}

/// Axis labels in whole rupees, Indian grouping.
fn axis_rupees(paise: f64) -> String {
    let text = rupees(paise.round() as i64);
    text.trim_end_matches(".00").to_string()
}

/// One chart's series: a name and a value (paise, or a count) per month.
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// How a chart shows its series.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lines,
    Bars,
    Stacked,
}

pub fn draw<DB: DrawingBackend>(
    backend: DB,
    scale: f32,
    months: &[String],
    series: &[Series],
    kind: Kind,
    money: bool,
    font: f32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let root = backend.into_drawing_area();
    let n = months.len().max(1);
    let top = match kind {
        Kind::Stacked => (0..n)
            .map(|i| {
                series
                    .iter()
                    .filter_map(|s| s.values.get(i).copied().flatten())
                    .sum::<f64>()
            })
            .fold(0.0, f64::max),
        _ => series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .fold(0.0, f64::max),
    };
    let bottom = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .fold(0.0, f64::min);
    // Headroom above the highest point for the legend.
    let top = if top <= bottom { bottom + 1.0 } else { top * 1.3 };
    let size = |pt: f32| ((pt * scale) as i32).max(1);
    let label = ("sans-serif", f64::from(size(font))).into_font().color(&BLACK);
    let mut chart = ChartBuilder::on(&root)
        .margin(size(3.0))
        .x_label_area_size(size(font * 2.2))
        .y_label_area_size(size(font * 6.5))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), bottom..top)?;
    let labels = months.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).map(|m| month_label(m)).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_labels(5)
        .y_label_formatter(&|v| if money { axis_rupees(*v) } else { format!("{v:.0}") })
        .label_style(label.clone())
        .max_light_lines(0)
        .bold_line_style(RGBColor(0xaa, 0xb3, 0xbf))
        .axis_style(RGBColor(0x5b, 0x64, 0x70))
        .draw()?;
    let count = series.len().max(1) as f64;
    let mut base = vec![0.0f64; n];
    for (k, s) in series.iter().enumerate() {
        let color = SERIES[k % SERIES.len()];
        let swatch = if kind == Kind::Lines && k == 0 {
            RGBColor(0x9b, 0xb7, 0xd4)
        } else {
            color
        };
        let drawn = match kind {
            Kind::Lines => {
                let points: Vec<(f64, f64)> = s
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
                    .collect();
                // The first series drawn wide and light, the next thin on top:
                // where they agree both stay visible.
                let width = if k == 0 { size(2.4) } else { size(0.8) };
                chart.draw_series(LineSeries::new(
                    points.clone(),
                    Color::stroke_width(&swatch, width as u32),
                ))?;
                chart.draw_series(points.into_iter().map(|p| Circle::new(p, size(1.1), color.filled())))?
            }
            Kind::Bars => {
                let width = 0.8 / count;
                chart.draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                    let x = i as f64 - 0.4 + width * k as f64;
                    v.map(|v| Rectangle::new([(x, 0.0), (x + width * 0.92, v)], color.filled()))
                }))?
            }
            Kind::Stacked => chart.draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                let from = base[i];
                let v = (*v)?;
                base[i] += v;
                Some(Rectangle::new(
                    [(i as f64 - 0.35, from), (i as f64 + 0.35, from + v)],
                    color.filled(),
                ))
            }))?,
        };
        let key = size(font * 1.2);
        drawn
            .label(s.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - key / 3), (x + key, y + key / 3)], swatch.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(label)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xaa, 0xb3, 0xbf))
        .margin(size(2.0))
        .legend_area_size(size(font * 1.6))
        .draw()?;
    root.present()?;
    Ok(())
}
