//! The financial-year charts, drawn as the PDF's own vector graphics:
//! plotters lays each chart out (axes, ticks, labels, legend) on
//! [`PdfBackend`], a plotters backend that records lines, rectangles, polygons
//! and text in PDF points with the PDF's embedded fonts, which the layout then
//! puts on the page. Integer backend units (a tenth of a point) and no clock
//! or randomness keep the bytes the same for the same summary.

use crate::evidence::charts::{draw, Kind, Series};
use plotters_backend::{
    text_anchor::{HPos, VPos},
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
};
use printpdf::{Color as PdfColor, Line, LinePoint, Op, PaintMode, Point, Polygon, PolygonRing, Pt, Rgb, WindingOrder};

use super::{Face, Fonts, Layout};
use crate::domain::charts::MonthPoint;

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
        let _ = draw(backend, SCALE, months, series, kind, money, t.fonts.table_size - 0.5);
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
