//! The financial-year charts, drawn as the PDF's own vector graphics:
//! plotters lays each chart out (axes, ticks, labels, legend) on
//! [`PdfBackend`], a plotters backend that records lines, rectangles, polygons
//! and text in PDF points with the PDF's embedded fonts, which the layout then
//! puts on the page. Integer backend units (a tenth of a point) and no clock
//! or randomness keep the bytes the same for the same summary.

use plotters::prelude::*;
use plotters_backend::{
    text_anchor::{HPos, VPos},
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
};
use printpdf::{Color as PdfColor, Line, LinePoint, Op, PaintMode, Point, Polygon, PolygonRing, Pt, Rgb, WindingOrder};

use super::{Face, Fonts, Layout};
use crate::domain::charts::MonthPoint;
use crate::domain::money::rupees;

/// Backend units per PDF point.
const SCALE: f32 = 10.0;

/// One piece of text a chart drew: face, size, colour, baseline start, text.
type DrawnText = (Face, f32, [u8; 3], (f32, f32), String);

/// What a chart drew, in points from the chart box's bottom-left corner.
#[derive(Default)]
struct Drawn {
    shapes: Vec<Op>,
    texts: Vec<DrawnText>,
}

/// A plotters backend that records the chart for the PDF.
struct PdfBackend<'a> {
    fonts: &'a Fonts,
    width: u32,
    height: u32,
    drawn: &'a mut Drawn,
}

#[derive(Debug)]
struct NoError;

impl std::fmt::Display for NoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("chart drawing cannot fail")
    }
}

impl std::error::Error for NoError {}

fn rgb(c: BackendColor) -> PdfColor {
    PdfColor::Rgb(Rgb {
        r: f32::from(c.rgb.0) / 255.0,
        g: f32::from(c.rgb.1) / 255.0,
        b: f32::from(c.rgb.2) / 255.0,
        icc_profile: None,
    })
}

impl PdfBackend<'_> {
    fn point(&self, (x, y): BackendCoord) -> LinePoint {
        LinePoint {
            p: Point {
                x: Pt(x as f32 / SCALE),
                y: Pt((self.height as i32 - y) as f32 / SCALE),
            },
            bezier: false,
        }
    }

    fn stroke(&mut self, points: Vec<LinePoint>, color: BackendColor, width: u32, closed: bool) {
        if color.alpha == 0.0 || points.len() < 2 {
            return;
        }
        self.drawn.shapes.extend([
            Op::SetOutlineColor { col: rgb(color) },
            Op::SetOutlineThickness {
                pt: Pt((width.max(1) as f32 / SCALE).max(0.3)),
            },
            Op::DrawLine {
                line: Line {
                    points,
                    is_closed: closed,
                },
            },
        ]);
    }

    fn fill(&mut self, points: Vec<LinePoint>, color: BackendColor) {
        if color.alpha == 0.0 || points.len() < 3 {
            return;
        }
        self.drawn.shapes.extend([
            Op::SetFillColor { col: rgb(color) },
            Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing { points }],
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                },
            },
        ]);
    }

    fn face(style: &impl BackendTextStyle) -> Face {
        match style.style() {
            FontStyle::Bold => Face::Bold,
            _ => Face::Sans,
        }
    }
}

impl DrawingBackend for PdfBackend<'_> {
    type ErrorType = NoError;

    fn get_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<NoError>> {
        let (x, y) = point;
        let square = [(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)]
            .map(|p| self.point(p))
            .to_vec();
        self.fill(square, color);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        let points = vec![self.point(from), self.point(to)];
        self.stroke(points, style.color(), style.stroke_width(), false);
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        let (l, t) = upper_left;
        let (r, b) = bottom_right;
        let corners = [(l, t), (r, t), (r, b), (l, b)].map(|p| self.point(p)).to_vec();
        if fill {
            self.fill(corners, style.color());
        } else {
            self.stroke(corners, style.color(), style.stroke_width(), true);
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        let points = path.into_iter().map(|p| self.point(p)).collect();
        self.stroke(points, style.color(), style.stroke_width(), false);
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        // An octagon: at chart sizes a marker, not a figure.
        let r = radius as f32;
        let points = (0..8)
            .map(|i| {
                let a = std::f32::consts::PI / 4.0 * i as f32;
                self.point((
                    center.0 + (r * a.cos()).round() as i32,
                    center.1 + (r * a.sin()).round() as i32,
                ))
            })
            .collect();
        if fill {
            self.fill(points, style.color());
        } else {
            self.stroke(points, style.color(), style.stroke_width(), true);
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        let points = vert.into_iter().map(|p| self.point(p)).collect();
        self.fill(points, style.color());
        Ok(())
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        let face = Self::face(style);
        let size = style.size() as f32 / SCALE;
        let width = self.fonts.width(face, size, text);
        let anchor = style.anchor();
        let x = pos.0 as f32 / SCALE
            - match anchor.h_pos {
                HPos::Left => 0.0,
                HPos::Center => width / 2.0,
                HPos::Right => width,
            };
        // Plotters' y grows downwards; the PDF's baseline upwards.
        let y_top = (self.height as i32 - pos.1) as f32 / SCALE;
        let baseline = match anchor.v_pos {
            VPos::Top => y_top - size * 0.78,
            VPos::Center => y_top - size * 0.36,
            VPos::Bottom => y_top + size * 0.22,
        };
        let c = style.color().rgb;
        self.drawn
            .texts
            .push((face, size, [c.0, c.1, c.2], (x, baseline), text.to_string()));
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<NoError>> {
        let size = style.size() as f32 / SCALE;
        let width = self.fonts.width(Self::face(style), size, text);
        Ok(((width * SCALE).ceil() as u32, (size * SCALE).ceil() as u32))
    }
}

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
pub(super) struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// How a chart shows its series.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Lines,
    Bars,
    Stacked,
}

fn draw(
    backend: PdfBackend<'_>,
    months: &[String],
    series: &[Series],
    kind: Kind,
    money: bool,
    font: f32,
) -> Result<(), DrawingAreaErrorKind<NoError>> {
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
    let size = |pt: f32| ((pt * SCALE) as i32).max(1);
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

impl Layout<'_> {
    /// One chart across the text width, `height` points tall, below the cursor.
    pub(super) fn chart(
        &mut self,
        title: &str,
        height: f32,
        months: &[String],
        series: &[Series],
        kind: Kind,
        money: bool,
    ) {
        let t = self.t;
        let size = t.fonts.table_size + 1.5;
        self.ensure(height + size * 2.5);
        self.y -= size * 1.6;
        let col = t.colors.accent.clone();
        self.text(Face::Bold, size, &col, self.left, self.y, title);
        self.y -= size * 0.4;
        let width = self.right - self.left;
        let mut drawn = Drawn::default();
        let backend = PdfBackend {
            fonts: self.fonts,
            width: (width * SCALE) as u32,
            height: (height * SCALE) as u32,
            drawn: &mut drawn,
        };
        // Plotters fails only on a backend error, and this backend has none;
        // a chart it could not lay out is left blank rather than failing the bundle.
        let _ = draw(backend, months, series, kind, money, t.fonts.table_size - 0.5);
        let (x0, y0) = (self.left, self.y - height);
        let shift = |ops: Vec<Op>| -> Vec<Op> {
            ops.into_iter()
                .map(|op| match op {
                    Op::DrawLine { mut line } => {
                        for p in &mut line.points {
                            p.p.x = Pt(p.p.x.0 + x0);
                            p.p.y = Pt(p.p.y.0 + y0);
                        }
                        Op::DrawLine { line }
                    }
                    Op::DrawPolygon { mut polygon } => {
                        for ring in &mut polygon.rings {
                            for p in &mut ring.points {
                                p.p.x = Pt(p.p.x.0 + x0);
                                p.p.y = Pt(p.p.y.0 + y0);
                            }
                        }
                        Op::DrawPolygon { polygon }
                    }
                    other => other,
                })
                .collect()
        };
        let shapes = shift(drawn.shapes);
        self.page().shapes.extend(shapes);
        for (face, size, c, (x, y), text) in drawn.texts {
            let col = format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
            self.text(face, size, &col, x0 + x, y0 + y, &text);
        }
        self.y -= height;
    }

    /// The charts of a financial year: ITC, ledgers, liability, changes.
    pub(super) fn charts(&mut self, points: &[MonthPoint]) {
        let c = &self.t.charts;
        self.heading(&c.title, &c.intro, 200.0);
        let months: Vec<String> = points.iter().map(|p| p.month.clone()).collect();
        let paise = |v: Option<i64>| v.map(|v| v as f64);
        for (head, pick) in [
            (
                "IGST",
                (|h: &crate::domain::money::Heads| h.igst) as fn(&crate::domain::money::Heads) -> i64,
            ),
            ("CGST", |h| h.cgst),
            ("SGST", |h| h.sgst),
        ] {
            let series = vec![
                Series {
                    name: c.itc_2b.clone(),
                    values: points.iter().map(|p| paise(p.itc_2b.as_ref().map(pick))).collect(),
                },
                Series {
                    name: c.itc_3b.clone(),
                    values: points.iter().map(|p| paise(p.itc_3b.as_ref().map(pick))).collect(),
                },
            ];
            let title = format!("{} ({head}, ₹)", c.itc_title);
            self.chart(&title, 88.0, &months, &series, Kind::Lines, true);
        }
        let ledgers = vec![
            Series {
                name: c.cash.clone(),
                values: points.iter().map(|p| paise(p.cash_closing)).collect(),
            },
            Series {
                name: c.credit.clone(),
                values: points.iter().map(|p| paise(p.credit_closing)).collect(),
            },
        ];
        self.chart(&c.ledger_title, 100.0, &months, &ledgers, Kind::Lines, true);
        let liability = vec![
            Series {
                name: c.liability.clone(),
                values: points.iter().map(|p| paise(p.liability)).collect(),
            },
            Series {
                name: c.paid.clone(),
                values: points.iter().map(|p| paise(p.paid)).collect(),
            },
        ];
        self.chart(&c.liability_title, 100.0, &months, &liability, Kind::Bars, true);
        let changes: Vec<Series> = crate::domain::change::Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| Series {
                name: self.t.changes.kind(*kind).to_string(),
                values: points.iter().map(|p| Some(p.changes[i].1 as f64)).collect(),
            })
            .collect();
        self.chart(&c.changes_title, 100.0, &months, &changes, Kind::Stacked, false);
    }
}
