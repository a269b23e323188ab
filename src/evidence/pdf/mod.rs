//! The bundle's PDF summary: lays a [`Summary`] out as a paged, printable
//! statutory document (cover, snapshot index, balance and reconciliation
//! tables, changes, notes, how to verify by hand), with layout and wording
//! from a [`Template`] (`templates/summary.toml` built in; a firm may pass its
//! own text).
//!
//! It owns layout only: it computes no figures (the domain core fills the
//! `Summary`) and does no IO at all. Fonts and the built-in template are
//! compiled in, so the output never depends on the machine, and it reads no
//! clock: every date and identifier inside the PDF comes from the report, so
//! the same report and template give the same bytes everywhere.

mod changes;

use printpdf::{
    Color, FontId, Line, LinePoint, Op, PageAnnotId, PageAnnotation, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, TextMatrix,
};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

mod charts;
mod returns;

use crate::domain::envelope::Outcome;
use crate::domain::money::{rupees, Heads};
use crate::domain::summary::{CompareRow, Section, Summary};

mod itc;

const BUILTIN: &str = include_str!("../../../templates/summary.toml");
const SANS: &[u8] = include_bytes!("../../../templates/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../templates/fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../../templates/fonts/DejaVuSansMono.ttf");

/// Resource names double as the `XXXXXX+` subset tag, so they are six capitals
/// (and fixed, where printpdf would draw them from a process-global counter).
const FONT_IDS: [&str; 3] = ["GVSANS", "GVBOLD", "GVMONO"];

const MM: f32 = 72.0 / 25.4;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("template is not valid TOML: {0}")]
    Syntax(String),
    #[error("template key `{key}`: {problem}")]
    Key { key: String, problem: String },
    #[error("embedded font {0} could not be parsed")]
    Font(&'static str),
    #[error("PDF could not be written: {0}")]
    Write(String),
}

fn key_error(key: impl Into<String>, problem: impl Into<String>) -> PdfError {
    PdfError::Key {
        key: key.into(),
        problem: problem.into(),
    }
}

// ---------------------------------------------------------------- template

/// Layout and wording of the summary, parsed from TOML.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    page: PageSpec,
    fonts: FontSizes,
    colors: Colors,
    cover: CoverText,
    simulated: SimulatedText,
    footer: FooterText,
    labels: Labels,
    snapshots: IndexText,
    filings: TableText,
    returns: ReturnsText,
    ledgers: LedgerText,
    charts: ChartText,
    balances: BalanceText,
    payments: PaymentText,
    outward: CompareText,
    itc: itc::ItcText,
    itc_summary: itc::ItcSummaryText,
    changes: changes::ChangesText,
    notes: SectionText,
    verify: VerifyText,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSpec {
    width_mm: f32,
    height_mm: f32,
    margin_top_mm: f32,
    margin_bottom_mm: f32,
    margin_left_mm: f32,
    margin_right_mm: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FontSizes {
    title_size: f32,
    heading_size: f32,
    body_size: f32,
    table_size: f32,
    footer_size: f32,
    mono_size: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Colors {
    text: String,
    muted: String,
    accent: String,
    rule: String,
    header_fill: String,
    flag_fill: String,
    flag_text: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverText {
    title: String,
    subtitle: String,
    gstin: String,
    legal_name: String,
    legal_name_unknown: String,
    period: String,
    as_of: String,
    bundle_id: String,
    organization: String,
    checkpoint_origin: String,
    checkpoint_size: String,
    checkpoint_root: String,
    key_id: String,
    key_fingerprint: String,
    source: String,
    contents: String,
    findings: String,
    counts: String,
    proves: String,
    no_findings: String,
    finding_where: String,
    details: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexText {
    title: String,
    intro: String,
    columns: Vec<String>,
    widths: Vec<f32>,
    /// One paragraph per column group; the outcomes' legend follows from the code.
    legend: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnsText {
    gstr3b_title: String,
    gstr3b_intro: String,
    auto_title: String,
    auto_intro: String,
    gstr1_title: String,
    gstr1_intro: String,
    gstr9_title: String,
    gstr9_intro: String,
    /// `{number}` and `{title}` of the form's table.
    table: String,
    month: String,
    line: String,
    fy_total: String,
    source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChartText {
    title: String,
    intro: String,
    itc_title: String,
    itc_2b: String,
    itc_3b: String,
    ledger_title: String,
    cash: String,
    credit: String,
    liability_title: String,
    liability: String,
    paid: String,
    changes_title: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerText {
    title: String,
    intro: String,
    columns: Vec<String>,
    widths: Vec<f32>,
    cash: String,
    credit: String,
    opening: String,
    credits: String,
    debits: String,
    closing: String,
    /// `{to}`: the last date the ledger answer covers.
    at_capture: String,
    adds_up: String,
    /// The year row's check when every month opened at the last closing.
    year_adds_up: String,
    /// `{amount}`: closing − next month's opening, summed over the year.
    year_breaks: String,
    set_off_title: String,
    set_off_intro: String,
    set_off_columns: Vec<String>,
    set_off_widths: Vec<f32>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulatedText {
    /// Printed across the top of every page of a bundle with simulated data.
    banner: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FooterText {
    left: String,
    right: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    none: String,
    finding: String,
    marker: String,
    continued: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionText {
    title: String,
    intro: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableText {
    title: String,
    intro: String,
    columns: Vec<String>,
    widths: Vec<f32>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BalanceText {
    title: String,
    intro: String,
    columns: Vec<String>,
    widths: Vec<f32>,
    cash: String,
    itc: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentText {
    title: String,
    intro: String,
    columns: Vec<String>,
    widths: Vec<f32>,
    liability: String,
    paid_cash: String,
    cash_debits: String,
    paid_itc: String,
    itc_debits: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareText {
    title: String,
    intro: String,
    columns: Vec<String>,
    widths: Vec<f32>,
    left: String,
    right: String,
    difference: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyText {
    title: String,
    intro: String,
    bundle_file: String,
    steps: Vec<String>,
}

const PLACEHOLDERS: [&str; 13] = [
    "gstin",
    "legal_name",
    "period",
    "as_of",
    "bundle_id",
    "bundle_file",
    "organization",
    "checkpoint_origin",
    "checkpoint_size",
    "checkpoint_root",
    "key_id",
    "key_fingerprint",
    "source",
];

impl Template {
    /// The built-in template (templates/summary.toml, include_str!).
    pub fn builtin() -> Template {
        Template::parse(BUILTIN).expect("the built-in template is valid (tested)")
    }

    /// Parse a firm's own template text; errors name the key. Keys left out keep
    /// the built-in value, so a firm only writes what it changes.
    pub fn parse(text: &str) -> Result<Template, PdfError> {
        let mut base: toml::Table = BUILTIN
            .parse()
            .map_err(|e| PdfError::Syntax(format!("built-in: {e}")))?;
        let over: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| PdfError::Syntax(e.to_string()))?;
        merge(&mut base, over, "")?;
        let template: Template = toml::Value::Table(base)
            .try_into()
            .map_err(|e: toml::de::Error| PdfError::Syntax(e.to_string()))?;
        template.validate()?;
        Ok(template)
    }

    fn validate(&self) -> Result<(), PdfError> {
        let p = &self.page;
        for (key, v, lo, hi) in [
            ("page.width_mm", p.width_mm, 70.0, 1000.0),
            ("page.height_mm", p.height_mm, 70.0, 1000.0),
            ("page.margin_top_mm", p.margin_top_mm, 0.0, 60.0),
            ("page.margin_bottom_mm", p.margin_bottom_mm, 0.0, 60.0),
            ("page.margin_left_mm", p.margin_left_mm, 0.0, 60.0),
            ("page.margin_right_mm", p.margin_right_mm, 0.0, 60.0),
            ("fonts.title_size", self.fonts.title_size, 4.0, 48.0),
            ("fonts.heading_size", self.fonts.heading_size, 4.0, 36.0),
            ("fonts.body_size", self.fonts.body_size, 4.0, 24.0),
            ("fonts.table_size", self.fonts.table_size, 4.0, 24.0),
            ("fonts.footer_size", self.fonts.footer_size, 4.0, 24.0),
            ("fonts.mono_size", self.fonts.mono_size, 4.0, 24.0),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err(key_error(key, format!("{v} is outside {lo}..={hi}")));
            }
        }
        if p.width_mm - p.margin_left_mm - p.margin_right_mm < 60.0
            || p.height_mm - p.margin_top_mm - p.margin_bottom_mm < 60.0
        {
            return Err(key_error("page", "the margins leave less than 60 mm of text area"));
        }
        let c = &self.colors;
        for (key, v) in [
            ("colors.text", &c.text),
            ("colors.muted", &c.muted),
            ("colors.accent", &c.accent),
            ("colors.rule", &c.rule),
            ("colors.header_fill", &c.header_fill),
            ("colors.flag_fill", &c.flag_fill),
            ("colors.flag_text", &c.flag_text),
        ] {
            if hex_color(v).is_none() {
                return Err(key_error(key, format!("{v:?} is not a colour like \"#1f3a5f\"")));
            }
        }
        for (name, columns, widths, want) in [
            ("snapshots", &self.snapshots.columns, &self.snapshots.widths, 8),
            ("filings", &self.filings.columns, &self.filings.widths, 7),
            ("ledgers", &self.ledgers.columns, &self.ledgers.widths, 8),
            (
                "ledgers.set_off",
                &self.ledgers.set_off_columns,
                &self.ledgers.set_off_widths,
                2,
            ),
            ("balances", &self.balances.columns, &self.balances.widths, 8),
            ("payments", &self.payments.columns, &self.payments.widths, 7),
            ("outward", &self.outward.columns, &self.outward.widths, 7),
            ("itc", &self.itc.columns, &self.itc.widths, 7),
            ("itc_summary", &self.itc_summary.columns, &self.itc_summary.widths, 7),
            ("changes", &self.changes.columns, &self.changes.widths, 7),
        ] {
            if columns.len() != want {
                return Err(key_error(
                    format!("{name}.columns"),
                    format!("needs {want} entries, has {}", columns.len()),
                ));
            }
            if widths.len() != want {
                return Err(key_error(
                    format!("{name}.widths"),
                    format!("needs {want} entries, has {}", widths.len()),
                ));
            }
            if widths.iter().any(|w| !(*w > 0.0 && w.is_finite())) {
                return Err(key_error(
                    format!("{name}.widths"),
                    "every width must be a positive number",
                ));
            }
        }
        let mut texts: Vec<(String, &str)> = vec![
            ("cover.title".into(), &self.cover.title),
            ("cover.subtitle".into(), &self.cover.subtitle),
            ("cover.proves".into(), &self.cover.proves),
            ("footer.left".into(), &self.footer.left),
            ("footer.right".into(), &self.footer.right),
            ("verify.intro".into(), &self.verify.intro),
            ("verify.bundle_file".into(), &self.verify.bundle_file),
        ];
        for (i, step) in self.verify.steps.iter().enumerate() {
            texts.push((format!("verify.steps[{i}]"), step));
        }
        for (key, text) in texts {
            let footer = key.starts_with("footer.");
            let bundle_file = key == "verify.bundle_file";
            for name in placeholders_in(text) {
                let known = PLACEHOLDERS.contains(&name) && !(bundle_file && name == "bundle_file")
                    || footer && (name == "page" || name == "pages");
                if !known {
                    return Err(key_error(key, format!("unknown placeholder {{{name}}}")));
                }
            }
        }
        Ok(())
    }
}

/// Overlays `over` on the built-in table so that a firm's template may be
/// partial, while a misspelt or misplaced key is named in the error.
fn merge(base: &mut toml::Table, over: toml::Table, path: &str) -> Result<(), PdfError> {
    for (key, value) in over {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let Some(slot) = base.get_mut(&key) else {
            return Err(key_error(full, "unknown key"));
        };
        match (slot, value) {
            (toml::Value::Table(inner), toml::Value::Table(value)) => merge(inner, value, &full)?,
            (slot @ toml::Value::Float(_), toml::Value::Integer(i)) => *slot = toml::Value::Float(i as f64),
            (toml::Value::Array(slot), toml::Value::Array(value)) => {
                let float = slot.first().is_some_and(|v| v.is_float());
                let mut items = Vec::with_capacity(value.len());
                for (i, item) in value.into_iter().enumerate() {
                    items.push(match item {
                        toml::Value::Integer(n) if float => toml::Value::Float(n as f64),
                        item if slot.first().is_some_and(|first| first.type_str() != item.type_str()) => {
                            return Err(key_error(
                                format!("{full}[{i}]"),
                                format!("expected {}", slot[0].type_str()),
                            ))
                        }
                        item => item,
                    });
                }
                *slot = items;
            }
            (slot, value) if slot.type_str() == value.type_str() => *slot = value,
            (slot, value) => {
                return Err(key_error(
                    full,
                    format!("expected {}, found {}", slot.type_str(), value.type_str()),
                ))
            }
        }
    }
    Ok(())
}

fn placeholders_in(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        found.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    found
}

fn fill(text: &str, vars: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

fn hex_color(text: &str) -> Option<[f32; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| {
        u8::from_str_radix(&hex[i..i + 2], 16)
            .ok()
            .map(|v| f32::from(v) / 255.0)
    };
    Some([channel(0)?, channel(2)?, channel(4)?])
}

fn color(text: &str) -> Color {
    let [r, g, b] = hex_color(text).unwrap_or([0.0; 3]);
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

// ---------------------------------------------------------------- rendering

/// Render the summary. Deterministic: the same Summary and Template give
/// byte-identical output, also when called twice in one process and across
/// processes/machines.
pub fn render(report: &Summary, template: &Template) -> Result<Vec<u8>, PdfError> {
    render_counted(report, template).map(|(bytes, _)| bytes)
}

fn render_counted(report: &Summary, template: &Template) -> Result<(Vec<u8>, usize), PdfError> {
    let fonts = Fonts::load()?;
    let mut layout = Layout::new(template, &fonts, variables(report, template));
    layout.sections(report);
    layout.cover(report);
    layout.footers();
    if report.simulated {
        layout.banners();
    }
    let page_count = layout.pages.len();

    let t = template;
    let mut doc = PdfDocument::new(&format!("{} – {} – {}", t.cover.title, report.gstin, report.period));
    for (id, font) in FONT_IDS.iter().zip([&fonts.sans, &fonts.bold, &fonts.mono]) {
        doc.resources
            .fonts
            .map
            .insert(FontId((*id).into()), PdfFont::new(font.clone()));
    }
    for (i, (name, page)) in layout.bookmarks.iter().enumerate() {
        doc.bookmarks.map.insert(
            PageAnnotId(format!("{i:04}")),
            PageAnnotation {
                name: name.clone(),
                page: page + 1,
            },
        );
    }
    let info = &mut doc.metadata.info;
    info.author = report.organization.clone();
    info.creator = "gstvault".into();
    info.producer = "gstvault (printpdf)".into();
    info.subject = format!(
        "GSTIN {} · {} · bundle {}",
        report.gstin, report.period, report.bundle_id
    );
    info.identifier = report.bundle_id.clone();
    // The report's as-of stands in for "now"; an unparsable one leaves the
    // epoch rather than reading the clock.
    if let Some(at) = chrono::DateTime::parse_from_str(&report.as_of, "%Y-%m-%d %H:%M:%S %:z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&report.as_of))
        .ok()
        .and_then(|at| printpdf::OffsetDateTime::from_unix_timestamp(at.timestamp()).ok())
    {
        info.creation_date = at;
        info.modification_date = at;
        info.metadata_date = at;
    }
    let (w, h) = (printpdf::Mm(t.page.width_mm), printpdf::Mm(t.page.height_mm));
    doc.pages = layout
        .pages
        .into_iter()
        .map(|page| PdfPage::new(w, h, page.into_ops()))
        .collect();

    let options = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&options, &mut warnings);
    // printpdf fills the trailer /ID from a process-global counter; derive it
    // from the bundle instead (ISO 32000 §14.4 wants it unique per document).
    let digest = Sha256::digest(format!(
        "gstvault-summary\n{}\n{}\n{}",
        report.bundle_id, report.gstin, report.as_of
    ));
    let id = lopdf::Object::String(digest[..16].to_vec(), lopdf::StringFormat::Hexadecimal);
    lo.trailer.set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    // printpdf always names a PDF/X version in /Info; this file claims no PDF/X conformance.
    if let Ok(info) = lo.trailer.get(b"Info").and_then(lopdf::Object::as_reference) {
        if let Ok(lopdf::Object::Dictionary(dict)) = lo.get_object_mut(info) {
            dict.remove(b"GTS_PDFXVersion");
        }
    }
    compress_streams(&mut lo)?;
    let mut bytes = Vec::new();
    lo.save_to(&mut bytes).map_err(|e| PdfError::Write(e.to_string()))?;
    Ok((bytes, page_count))
}

/// zlib level for the PDF's streams: lopdf's own `compress` uses 9, which
/// was a sixth of a year bundle's export time for a few percent of a PDF
/// that is small either way (issue 8, export row). 3 is zlib's fastest
/// matcher that still finds repeats well: the golden sample is 132,763 bytes
/// against 122,589 at 6 and 179,051 at 1.
const DEFLATE_LEVEL: u32 = 3;

/// Flate-compresses every stream that allows it and is not filtered yet, as
/// `lopdf::Document::compress` does, at [`DEFLATE_LEVEL`].
fn compress_streams(doc: &mut lopdf::Document) -> Result<(), PdfError> {
    let mut streams: Vec<&mut lopdf::Stream> = doc
        .objects
        .values_mut()
        .filter_map(|object| match object {
            lopdf::Object::Stream(stream) if stream.allows_compression && stream.dict.get(b"Filter").is_err() => {
                Some(stream)
            }
            _ => None,
        })
        .collect();
    // Streams compress independently: half on a second core (the exporting
    // thread is waiting for this PDF by now). The bytes do not depend on it.
    let total: usize = streams.iter().map(|s| s.content.len()).sum();
    let mut prefix = 0;
    let half = streams
        .iter()
        .position(|s| {
            prefix += s.content.len();
            prefix * 2 >= total
        })
        .map_or(0, |i| i + 1);
    let (first, second) = streams.split_at_mut(half);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| compress_each(first));
        let mine = compress_each(second);
        other.join().expect("stream compression does not panic").and(mine)
    })
}

fn compress_each(streams: &mut [&mut lopdf::Stream]) -> Result<(), PdfError> {
    use std::io::Write as _;
    for stream in streams {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(DEFLATE_LEVEL));
        encoder
            .write_all(&stream.content)
            .map_err(|e| PdfError::Write(e.to_string()))?;
        let compressed = encoder.finish().map_err(|e| PdfError::Write(e.to_string()))?;
        if compressed.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(compressed);
        }
    }
    Ok(())
}

fn variables(report: &Summary, t: &Template) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("gstin", report.gstin.clone()),
        (
            "legal_name",
            report
                .legal_name
                .clone()
                .unwrap_or_else(|| t.cover.legal_name_unknown.clone()),
        ),
        ("period", report.period.clone()),
        ("as_of", report.as_of.clone()),
        ("bundle_id", report.bundle_id.clone()),
        ("organization", report.organization.clone()),
        ("checkpoint_origin", report.checkpoint_origin.clone()),
        ("checkpoint_size", report.checkpoint_size.to_string()),
        ("checkpoint_root", report.checkpoint_root.clone()),
        ("key_id", report.key_id.clone()),
        ("key_fingerprint", report.key_fingerprint.clone()),
        ("source", report.sources.join(", ")),
    ];
    let bundle_file = fill(&t.verify.bundle_file, &vars);
    vars.push(("bundle_file", bundle_file));
    vars
}

struct Fonts {
    sans: ParsedFont,
    bold: ParsedFont,
    mono: ParsedFont,
    /// Each face's advance of every ASCII char, in font units: nearly all
    /// the text a summary measures, looked up without the font's cmap.
    ascii: [[u16; 128]; 3],
}

impl Fonts {
    fn load() -> Result<Fonts, PdfError> {
        let parse = |bytes: &[u8], name: &'static str| {
            ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(PdfError::Font(name))
        };
        let mut fonts = Fonts {
            sans: parse(SANS, "DejaVuSans")?,
            bold: parse(BOLD, "DejaVuSans-Bold")?,
            mono: parse(MONO, "DejaVuSansMono")?,
            ascii: [[0; 128]; 3],
        };
        for (i, face) in [Face::Sans, Face::Bold, Face::Mono].into_iter().enumerate() {
            let mut table = [0u16; 128];
            for (c, advance) in (0u32..).zip(table.iter_mut()) {
                *advance = fonts.advance(face, c);
            }
            fonts.ascii[i] = table;
        }
        Ok(fonts)
    }

    /// `c`'s advance in `face`, in font units, from the font itself.
    fn advance(&self, face: Face, c: u32) -> u16 {
        let font = self.get(face);
        font.get_horizontal_advance(font.lookup_glyph_index(c).unwrap_or(0))
    }

    fn get(&self, face: Face) -> &ParsedFont {
        match face {
            Face::Sans => &self.sans,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    /// Advance width in points, as the viewer will lay it out: printpdf maps
    /// each char to one glyph with no kerning, so summing advances is exact.
    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let font = self.get(face);
        let upem = f32::from(font.pdf_font_metrics.units_per_em.max(1));
        let ascii = &self.ascii[face as usize];
        let units: u32 = text
            .chars()
            .map(|c| match ascii.get(c as usize) {
                Some(advance) => u32::from(*advance),
                None => u32::from(self.advance(face, c as u32)),
            })
            .sum();
        units as f32 * size / upem
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Sans = 0,
    Bold = 1,
    Mono = 2,
}

impl Face {
    fn handle(self) -> PdfFontHandle {
        let i = match self {
            Face::Sans => 0,
            Face::Bold => 1,
            Face::Mono => 2,
        };
        PdfFontHandle::External(FontId(FONT_IDS[i].into()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

#[derive(Default)]
struct PageOps {
    /// Fills and rules, painted before the text so they sit behind it.
    shapes: Vec<Op>,
    text: Vec<Op>,
    /// The font and fill colour the text ops have set so far: set again only
    /// when they change (the page's text is one BT..ET section, whose state
    /// carries from one string to the next), which halves the operators of
    /// a table page.
    font: Option<(Face, f32)>,
    fill: Option<String>,
}

impl PageOps {
    fn into_ops(self) -> Vec<Op> {
        let mut ops = self.shapes;
        if !self.text.is_empty() {
            ops.push(Op::StartTextSection);
            ops.extend(self.text);
            ops.push(Op::EndTextSection);
        }
        ops
    }
}

struct Cell {
    text: String,
    span: usize,
    align: Align,
    face: Face,
    /// Figures are never cut or wrapped: a too-long amount is set smaller instead.
    shrink: bool,
}

impl Cell {
    fn new(text: impl Into<String>, span: usize, align: Align, face: Face, shrink: bool) -> Cell {
        Cell {
            text: text.into(),
            span,
            align,
            face,
            shrink,
        }
    }
    fn left(text: impl Into<String>) -> Cell {
        Cell::new(text, 1, Align::Left, Face::Sans, false)
    }
    fn right(text: impl Into<String>) -> Cell {
        Cell::new(text, 1, Align::Right, Face::Sans, true)
    }
    fn mono(text: impl Into<String>) -> Cell {
        Cell::new(text, 1, Align::Left, Face::Mono, false)
    }
    fn spanning(text: impl Into<String>, span: usize) -> Cell {
        Cell::new(text, span, Align::Left, Face::Sans, false)
    }
}

struct Row {
    cells: Vec<Cell>,
    flagged: bool,
}

/// Rows that stay together on one page (a month's figures and its finding).
type Group = Vec<Row>;

struct TableSpec<'s> {
    title: &'s str,
    columns: &'s [String],
    widths: &'s [f32],
    aligns: Vec<Align>,
}

const CELL_PAD: f32 = 2.6;
const MAX_CELL_LINES: usize = 10;

struct Layout<'a> {
    t: &'a Template,
    fonts: &'a Fonts,
    vars: Vec<(&'static str, String)>,
    pages: Vec<PageOps>,
    /// Baseline cursor, points from the page bottom.
    y: f32,
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
    bookmarks: Vec<(String, usize)>,
    /// The section being laid out, for the cover's list of findings.
    current: Option<Section>,
    /// Where each section starts: its numbered title and page.
    section_pages: Vec<(Section, String, usize)>,
    /// The page of each flagged group: section, its first cell (the month), page.
    finding_pages: Vec<(Section, String, usize)>,
    /// The number of the last numbered section; None once in the appendix.
    number: Option<usize>,
}

impl<'a> Layout<'a> {
    fn new(t: &'a Template, fonts: &'a Fonts, vars: Vec<(&'static str, String)>) -> Layout<'a> {
        let p = &t.page;
        let top = (p.height_mm - p.margin_top_mm) * MM;
        Layout {
            t,
            fonts,
            vars,
            // Page 0 is the cover, drawn last so that it can list section pages.
            pages: vec![PageOps::default()],
            y: top,
            left: p.margin_left_mm * MM,
            right: (p.width_mm - p.margin_right_mm) * MM,
            top,
            // Room for the footer line below the text area.
            bottom: p.margin_bottom_mm * MM + t.fonts.footer_size * 2.2,
            bookmarks: Vec::new(),
            current: None,
            section_pages: Vec::new(),
            finding_pages: Vec::new(),
            number: Some(0),
        }
    }

    fn page(&mut self) -> &mut PageOps {
        self.pages.last_mut().expect("there is always a page")
    }

    fn new_page(&mut self) {
        self.pages.push(PageOps::default());
        self.y = self.top;
    }

    fn ensure(&mut self, height: f32) {
        if self.y - height < self.bottom {
            self.new_page();
        }
    }

    fn text_at(&mut self, page: usize, face: Face, size: f32, col: &str, (x, y): (f32, f32), text: &str) {
        if text.is_empty() {
            return;
        }
        let page = &mut self.pages[page];
        if page.font != Some((face, size)) {
            page.font = Some((face, size));
            page.text.push(Op::SetFont {
                font: face.handle(),
                size: Pt(size),
            });
        }
        if page.fill.as_deref() != Some(col) {
            page.fill = Some(col.to_string());
            page.text.push(Op::SetFillColor { col: color(col) });
        }
        page.text.extend([
            Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x), Pt(y)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
        ]);
    }

    fn text(&mut self, face: Face, size: f32, col: &str, x: f32, y: f32, text: &str) {
        let page = self.pages.len() - 1;
        self.text_at(page, face, size, col, (x, y), text);
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, col: &str) {
        let rect = Rect {
            x: Pt(x),
            y: Pt(y),
            width: Pt(w),
            height: Pt(h),
            mode: Some(PaintMode::Fill),
            winding_order: None,
        };
        let page = self.page();
        page.shapes.push(Op::SetFillColor { col: color(col) });
        page.shapes.push(Op::DrawRectangle { rectangle: rect });
    }

    fn rule_at(&mut self, page: usize, x1: f32, x2: f32, y: f32, col: &str, thickness: f32) {
        let point = |x: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        self.pages[page].shapes.extend([
            Op::SetOutlineColor { col: color(col) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: vec![point(x1), point(x2)],
                    is_closed: false,
                },
            },
        ]);
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, col: &str, thickness: f32) {
        let page = self.pages.len() - 1;
        self.rule_at(page, x1, x2, y, col, thickness);
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.fonts.width(face, size, text)
    }

    /// Cuts `text` to `max` points, ending in "…" when anything was cut.
    fn fit(&self, face: Face, size: f32, text: &str, max: f32) -> String {
        if self.width(face, size, text) <= max {
            return text.to_string();
        }
        let ellipsis = self.width(face, size, "…");
        let mut out = String::new();
        let mut used = 0.0;
        for c in text.chars() {
            let w = self.width(face, size, c.encode_utf8(&mut [0; 4]));
            if used + w + ellipsis > max {
                break;
            }
            used += w;
            out.push(c);
        }
        out.trim_end().to_string() + "…"
    }

    /// Greedy line breaking at spaces, and inside a word (after `/`, `_`, `-`
    /// or anywhere) only when the word alone is wider than the line.
    fn wrap(&self, face: Face, size: f32, text: &str, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(face, size, &candidate) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let mut rest = word.to_string();
                while self.width(face, size, &rest) > max {
                    let cut = self.break_point(face, size, &rest, max);
                    lines.push(rest[..cut].to_string());
                    rest = rest[cut..].to_string();
                }
                line = rest;
            }
            lines.push(line);
        }
        lines
    }

    fn break_point(&self, face: Face, size: f32, word: &str, max: f32) -> usize {
        let mut fits = 0;
        let mut soft = 0;
        for (i, c) in word.char_indices() {
            let end = i + c.len_utf8();
            if self.width(face, size, &word[..end]) > max {
                break;
            }
            fits = end;
            if matches!(c, '/' | '_' | '-' | '.' | ',') {
                soft = end;
            }
        }
        let cut = if soft > 0 { soft } else { fits };
        cut.max(word.chars().next().map_or(1, char::len_utf8))
    }

    fn paragraph(&mut self, face: Face, size: f32, col: &str, text: &str, indent: f32, gap_after: f32) {
        let lead = size * 1.35;
        let lines = self.wrap(face, size, text, self.right - self.left - indent);
        for line in lines {
            self.ensure(lead);
            self.y -= lead;
            let x = self.left + indent;
            self.text(face, size, col, x, self.y + size * 0.3, &line);
        }
        self.y -= gap_after;
    }

    /// A numbered or bulleted item with a hanging indent.
    fn item(&mut self, marker: &str, text: &str) {
        let size = self.t.fonts.body_size;
        let lead = size * 1.35;
        let indent = self.width(Face::Sans, size, "00.  ");
        let lines = self.wrap(Face::Sans, size, text, self.right - self.left - indent);
        self.ensure(lead * lines.len().min(3) as f32);
        for (i, line) in lines.iter().enumerate() {
            self.ensure(lead);
            self.y -= lead;
            let base = self.y + size * 0.3;
            if i == 0 {
                let text_col = self.t.colors.text.clone();
                self.text(Face::Sans, size, &text_col, self.left, base, marker);
            }
            let col = self.t.colors.text.clone();
            self.text(Face::Sans, size, &col, self.left + indent, base, line);
        }
        self.y -= size * 0.4;
    }

    fn heading(&mut self, title: &str, intro: &str, keep: f32) {
        let t = self.t;
        let size = t.fonts.heading_size;
        let intro_h = self
            .wrap(Face::Sans, t.fonts.body_size, intro, self.right - self.left)
            .len() as f32
            * t.fonts.body_size
            * 1.35;
        if self.y < self.top {
            self.y -= size * 1.2;
        }
        self.ensure(size * 2.0 + intro_h + keep);
        self.y -= size * 1.4;
        let title = match &mut self.number {
            Some(n) => {
                *n += 1;
                format!("{n}. {title}")
            }
            None => title.to_string(),
        };
        self.text(Face::Bold, size, &t.colors.accent, self.left, self.y, &title);
        let page = self.pages.len() - 1;
        if let Some(section) = self.current {
            self.section_pages.push((section, title.clone(), page));
        }
        self.bookmarks.push((title, page));
        self.y -= size * 0.5;
        if !intro.is_empty() {
            self.paragraph(
                Face::Sans,
                t.fonts.body_size,
                &t.colors.muted,
                intro,
                0.0,
                t.fonts.body_size * 0.6,
            );
        }
    }

    fn none(&mut self) {
        let t = self.t;
        self.paragraph(Face::Sans, t.fonts.body_size, &t.colors.text, &t.labels.none, 0.0, 0.0);
    }

    // ------------------------------------------------------------ tables

    fn column_xs(&self, widths: &[f32]) -> Vec<f32> {
        let total: f32 = widths.iter().sum();
        let scale = (self.right - self.left) / total;
        let mut xs = vec![self.left];
        for w in widths {
            xs.push(xs.last().copied().unwrap_or(self.left) + w * scale);
        }
        xs
    }

    /// Lays out one row: the lines of each cell and the row height.
    fn cell_lines(&self, row: &Row, xs: &[f32], bold: bool) -> (Vec<(usize, Vec<String>, f32)>, f32) {
        let size = self.t.fonts.table_size;
        let lead = size * 1.3;
        let mut col = 0;
        let mut out = Vec::new();
        let mut lines_max = 1;
        for cell in &row.cells {
            let end = (col + cell.span).min(xs.len() - 1);
            let avail = xs[end] - xs[col] - 2.0 * CELL_PAD;
            let face = if bold && cell.face == Face::Sans {
                Face::Bold
            } else {
                cell.face
            };
            let (lines, cell_size) = if cell.shrink {
                let w = self.width(face, size, &cell.text);
                let shrunk = if w > avail && w > 0.0 {
                    (size * avail / w).max(3.0)
                } else {
                    size
                };
                (vec![cell.text.clone()], shrunk)
            } else {
                let mut lines = self.wrap(face, size, &cell.text, avail);
                if lines.len() > MAX_CELL_LINES {
                    let rest = lines[MAX_CELL_LINES - 1..].join(" ");
                    lines.truncate(MAX_CELL_LINES - 1);
                    lines.push(self.fit(face, size, &rest, avail));
                }
                (lines, size)
            };
            lines_max = lines_max.max(lines.len());
            out.push((col, lines, cell_size));
            col = end;
        }
        (out, lines_max as f32 * lead + 2.0 * CELL_PAD)
    }

    fn draw_row(&mut self, row: &Row, xs: &[f32], header: bool) {
        let t = self.t;
        let bold = header || row.flagged;
        let (cells, height) = self.cell_lines(row, xs, bold);
        let size = t.fonts.table_size;
        let lead = size * 1.3;
        let top = self.y;
        let width = xs[xs.len() - 1] - xs[0];
        if header {
            self.fill_rect(xs[0], top - height, width, height, &t.colors.header_fill);
        } else if row.flagged {
            self.fill_rect(xs[0], top - height, width, height, &t.colors.flag_fill);
        }
        let col = if row.flagged {
            &t.colors.flag_text
        } else {
            &t.colors.text
        };
        for ((start, lines, cell_size), cell) in cells.into_iter().zip(&row.cells) {
            let end = (start + cell.span).min(xs.len() - 1);
            let face = if bold && cell.face == Face::Sans {
                Face::Bold
            } else {
                cell.face
            };
            for (i, line) in lines.iter().enumerate() {
                let base = top - CELL_PAD - lead * i as f32 - size;
                let x = match cell.align {
                    Align::Left => xs[start] + CELL_PAD,
                    Align::Right => xs[end] - CELL_PAD - self.width(face, cell_size, line),
                };
                self.text(face, cell_size, col, x, base + size * 0.1, line);
            }
        }
        self.y -= height;
    }

    fn header_row(&self, spec: &TableSpec<'_>) -> Row {
        let cells = spec
            .columns
            .iter()
            .zip(&spec.aligns)
            .map(|(name, align)| Cell::new(name.clone(), 1, *align, Face::Sans, false))
            .collect();
        Row { cells, flagged: false }
    }

    fn table(&mut self, spec: &TableSpec<'_>, groups: &[Group]) {
        let t = self.t;
        let xs = self.column_xs(spec.widths);
        let header = self.header_row(spec);
        self.draw_row(&header, &xs, true);
        for group in groups {
            let group_h: f32 = group.iter().map(|row| self.cell_lines(row, &xs, row.flagged).1).sum();
            if self.y - group_h < self.bottom {
                self.new_page();
                let size = t.fonts.table_size + 1.0;
                self.y -= size * 1.2;
                let title = format!("{} {}", spec.title, t.labels.continued);
                self.text(Face::Bold, size, &t.colors.accent, self.left, self.y, &title);
                self.y -= size * 0.6;
                self.draw_row(&header, &xs, true);
            }
            if let (Some(section), Some(first)) = (self.current, group.first()) {
                if group.iter().any(|r| r.flagged) {
                    let month = first.cells.first().map(|c| c.text.clone()).unwrap_or_default();
                    self.finding_pages.push((section, month, self.pages.len() - 1));
                }
            }
            for row in group {
                self.draw_row(row, &xs, false);
            }
            let y = self.y;
            self.rule(xs[0], xs[xs.len() - 1], y, &t.colors.rule, 0.4);
        }
        self.y -= t.fonts.body_size;
    }

    /// The table header and one group must fit below a section heading.
    fn keep_for_table(&self) -> f32 {
        self.t.fonts.table_size * 1.3 * 9.0
    }

    // ------------------------------------------------------------ sections

    fn sections(&mut self, report: &Summary) {
        self.new_page();
        let t = self.t;
        let fy = report.period.starts_with("FY");

        if fy {
            self.charts(&crate::domain::charts::series(report));
            self.new_page();
        }
        self.filings(report);
        let r = &t.returns;
        self.return_section(&r.gstr3b_title, &r.gstr3b_intro, &report.gstr3b, fy);
        self.return_section(&r.auto_title, &r.auto_intro, &report.auto_liability, fy);
        self.return_section(&r.gstr1_title, &r.gstr1_intro, &report.gstr1, fy);
        if fy {
            self.return_section(&r.gstr9_title, &r.gstr9_intro, &report.gstr9, false);
        }
        self.ledgers(report);

        let b = &t.balances;
        self.heading(&b.title, &b.intro, self.keep_for_table());
        if report.balances.is_empty() {
            self.none();
        } else {
            let groups: Vec<Group> = report
                .balances
                .iter()
                .map(|row| {
                    let mut cash = vec![Cell::left(&row.month), Cell::left(&b.cash)];
                    cash.extend(amounts(&row.cash));
                    cash.push(Cell::left(&row.source));
                    let mut itc = vec![Cell::left(""), Cell::left(&b.itc)];
                    itc.extend(amounts(&row.itc));
                    itc.push(Cell::left(""));
                    vec![
                        Row {
                            cells: cash,
                            flagged: false,
                        },
                        Row {
                            cells: itc,
                            flagged: false,
                        },
                    ]
                })
                .collect();
            let aligns = [0, 0, 1, 1, 1, 1, 1, 0].map(align).to_vec();
            let spec = TableSpec {
                title: &b.title,
                columns: &b.columns,
                widths: &b.widths,
                aligns,
            };
            self.table(&spec, &groups);
        }

        let p = &t.payments;
        self.current = Some(Section::Payments);
        self.heading(&p.title, &p.intro, self.keep_for_table());
        if report.payments.is_empty() {
            self.none();
        } else {
            let groups: Vec<Group> = report
                .payments
                .iter()
                .map(|row| {
                    let figures = [
                        (&p.liability, &row.liability),
                        (&p.paid_cash, &row.paid_cash),
                        (&p.cash_debits, &row.cash_debits),
                        (&p.paid_itc, &row.paid_itc),
                        (&p.itc_debits, &row.itc_debits),
                    ];
                    self.figure_group(&row.month, &figures, &row.finding)
                })
                .collect();
            self.figure_table(&p.title, &p.columns, &p.widths, &groups);
        }

        self.current = Some(Section::Outward);
        self.compare(&t.outward, &report.outward);
        self.current = Some(Section::Itc);
        self.itc_rows(&report.itc);
        self.current = None;
        self.itc_summary(&report.itc_summary);

        self.changes(report);

        let body = t.fonts.body_size * 1.35;
        self.heading(&t.notes.title, &t.notes.intro, body * 2.0);
        if report.notes.is_empty() {
            self.none();
        }
        for note in &report.notes {
            self.item("•", note);
        }

        let v = &t.verify;
        let intro = fill(&v.intro, &self.vars);
        self.heading(&v.title, &intro, body * 3.0);
        let steps: Vec<String> = v.steps.iter().map(|s| fill(s, &self.vars)).collect();
        for (i, step) in steps.iter().enumerate() {
            self.item(&format!("{}.", i + 1), step);
        }

        self.index(report);
    }

    /// Appendix A: the snapshot index, sorted, with a legend of its columns
    /// and of every outcome.
    fn index(&mut self, report: &Summary) {
        let t = self.t;
        self.new_page();
        self.number = None;
        self.heading(&t.snapshots.title, &t.snapshots.intro, t.fonts.body_size * 6.0);
        for line in &t.snapshots.legend {
            self.item("•", line);
        }
        for outcome in Outcome::ALL {
            self.item("•", &format!("{}: {}.", outcome.as_str(), outcome.meaning()));
        }
        self.y -= t.fonts.body_size * 0.6;
        if report.snapshots.is_empty() {
            self.none();
            return;
        }
        let groups: Vec<Group> = report
            .snapshots
            .iter()
            .map(|s| {
                let outcome = if s.code.is_empty() {
                    s.outcome.clone()
                } else {
                    format!("{} {}", s.outcome, s.code)
                };
                vec![Row {
                    cells: vec![
                        Cell::left(&s.endpoint),
                        Cell::left(&s.period),
                        Cell::right(s.page.to_string()),
                        Cell::left(&s.first_seen),
                        Cell::left(&s.last_seen),
                        Cell::left(&s.log_entries),
                        Cell::left(outcome),
                        Cell::mono(&s.short_hash),
                    ],
                    flagged: false,
                }]
            })
            .collect();
        let aligns = [0, 0, 1, 0, 0, 0, 0, 0].map(align).to_vec();
        let spec = TableSpec {
            title: &t.snapshots.title,
            columns: &t.snapshots.columns,
            widths: &t.snapshots.widths,
            aligns,
        };
        self.table(&spec, &groups);
    }

    fn compare(&mut self, text: &CompareText, rows: &[CompareRow]) {
        self.heading(&text.title, &text.intro, self.keep_for_table());
        if rows.is_empty() {
            self.none();
            return;
        }
        let groups: Vec<Group> = rows
            .iter()
            .map(|row| {
                let figures = [
                    (&text.left, &row.left),
                    (&text.right, &row.right),
                    (&text.difference, &row.difference),
                ];
                self.figure_group(&row.month, &figures, &row.finding)
            })
            .collect();
        self.figure_table(&text.title, &text.columns, &text.widths, &groups);
    }

    /// A table of figures by head: month, figure, the four heads and the
    /// total, as every reconciliation section lays them out.
    fn figure_table(&mut self, title: &str, columns: &[String], widths: &[f32], groups: &[Group]) {
        let aligns = [0, 0, 1, 1, 1, 1, 1].map(align).to_vec();
        let spec = TableSpec {
            title,
            columns,
            widths,
            aligns,
        };
        self.table(&spec, groups);
    }

    /// One month: a row per figure by head, then the finding, all flagged
    /// when the finding is anything but "agrees".
    fn figure_group(&mut self, month: &str, figures: &[(&String, &Heads)], finding: &str) -> Group {
        let flagged = finding.trim() != "agrees";
        let mut group: Group = figures
            .iter()
            .enumerate()
            .map(|(i, (label, heads))| {
                let mut cells = vec![Cell::left(if i == 0 { month } else { "" }), Cell::left(label.as_str())];
                cells.extend(amounts(heads));
                Row { cells, flagged }
            })
            .collect();
        let marker = if flagged {
            format!("{} ", self.t.labels.marker)
        } else {
            String::new()
        };
        let text = format!("{marker}{}: {finding}", self.t.labels.finding);
        group.push(Row {
            cells: vec![Cell::left(""), Cell::spanning(text, 6)],
            flagged,
        });
        group
    }

    // ------------------------------------------------------------ cover, footers

    /// The cover, findings first: drawn after the sections (so that it can
    /// give their pages), on as many pages as it needs, in front of them.
    fn cover(&mut self, report: &Summary) {
        let body = std::mem::take(&mut self.pages);
        let mut shift = 0;
        let mut cover = Vec::new();
        // More cover pages move every page number; a second pass settles it.
        for _ in 0..4 {
            self.pages = vec![PageOps::default()];
            self.y = self.top;
            self.draw_cover(report, shift);
            cover = std::mem::take(&mut self.pages);
            if cover.len() == shift + 1 {
                break;
            }
            shift = cover.len() - 1;
        }
        let shift = cover.len() - 1;
        self.pages = cover;
        self.pages.extend(body.into_iter().skip(1));
        for bookmark in &mut self.bookmarks {
            bookmark.1 += shift;
        }
        let title = fill(&self.t.cover.title, &self.vars);
        self.bookmarks.insert(0, (title, 0));
    }

    /// Where a finding is: its section's numbered title and the page of its
    /// row (1-based, with `shift` cover pages more than one).
    fn finding_place(&self, section: Section, period: &str, shift: usize) -> Option<(String, usize)> {
        let (_, title, start) = self.section_pages.iter().find(|(s, _, _)| *s == section)?;
        let page = self
            .finding_pages
            .iter()
            .find(|(s, m, _)| *s == section && m == period)
            .map_or(*start, |(_, _, p)| *p);
        Some((title.clone(), page + 1 + shift))
    }

    fn draw_cover(&mut self, report: &Summary, shift: usize) {
        let t = self.t;
        let c = &t.cover;
        let title = fill(&c.title, &self.vars);
        self.y -= t.fonts.title_size * 1.2;
        self.text(
            Face::Bold,
            t.fonts.title_size,
            &t.colors.accent,
            self.left,
            self.y,
            &title,
        );
        self.y -= t.fonts.title_size * 0.6;
        let y = self.y;
        self.rule(self.left, self.right, y, &t.colors.accent, 1.2);
        self.y -= t.fonts.body_size * 0.6;
        let subtitle = fill(&c.subtitle, &self.vars);
        self.paragraph(
            Face::Sans,
            t.fonts.body_size,
            &t.colors.muted,
            &subtitle,
            0.0,
            t.fonts.body_size * 1.2,
        );

        let legal = report
            .legal_name
            .clone()
            .unwrap_or_else(|| c.legal_name_unknown.clone());
        let facts: [(&str, String, Face); 4] = [
            (&c.gstin, report.gstin.clone(), Face::Bold),
            (&c.legal_name, legal, Face::Sans),
            (&c.period, report.period.clone(), Face::Sans),
            (&c.as_of, report.as_of.clone(), Face::Sans),
        ];
        self.fields(&facts);

        // Findings first: the counts, what the bundle proves, every finding.
        let size = t.fonts.body_size;
        self.cover_heading(&c.findings);
        let counts = report.counts();
        let line = fill(
            &c.counts,
            &[
                ("agrees", counts.agrees.to_string()),
                ("differs", counts.differs.to_string()),
                ("unreconciled", counts.could_not_reconcile.to_string()),
            ],
        );
        let flagged = counts.differs + counts.could_not_reconcile > 0;
        let (face, col) = if flagged {
            (Face::Bold, &t.colors.flag_text)
        } else {
            (Face::Sans, &t.colors.text)
        };
        self.paragraph(face, size, col, &line, 0.0, size * 0.5);
        let proves = fill(&c.proves, &self.vars);
        self.paragraph(Face::Sans, size, &t.colors.muted, &proves, 0.0, size * 0.6);
        let findings = report.findings();
        if findings.is_empty() {
            self.paragraph(Face::Sans, size, &t.colors.text, &c.no_findings, 0.0, size * 0.6);
        }
        for f in &findings {
            let place = self
                .finding_place(f.section, &f.period, shift)
                .map(|(section, page)| fill(&c.finding_where, &[("section", section), ("page", page.to_string())]))
                .unwrap_or_default();
            let amount = match f.by_head {
                Some(h) if !h.is_zero() => format!(" Difference ({}): {}.", f.of, by_head(&h)),
                _ if f.total != 0 => format!(" Difference ({}): {}.", f.of, signed(f.total)),
                _ => String::new(),
            };
            let text = format!(
                "{} · {} · {}: {}.{amount}",
                f.period,
                f.verdict.as_str(),
                place,
                f.what.trim_end_matches('.')
            );
            self.flag_item(&t.labels.marker, &text);
        }

        self.cover_heading(&c.details);
        let details: [(&str, String, Face); 8] = [
            (&c.bundle_id, report.bundle_id.clone(), Face::Mono),
            (&c.organization, report.organization.clone(), Face::Sans),
            (&c.checkpoint_origin, report.checkpoint_origin.clone(), Face::Mono),
            (&c.checkpoint_size, report.checkpoint_size.to_string(), Face::Sans),
            (&c.checkpoint_root, report.checkpoint_root.clone(), Face::Mono),
            (&c.key_id, report.key_id.clone(), Face::Mono),
            (&c.key_fingerprint, report.key_fingerprint.clone(), Face::Mono),
            (&c.source, report.sources.join(", "), Face::Mono),
        ];
        self.fields(&details);

        self.cover_heading(&c.contents);
        let entries: Vec<(String, usize)> = self.bookmarks.clone();
        for (title, page) in entries {
            self.ensure(size * 1.6);
            self.y -= size * 1.6;
            let number = (page + 1 + shift).to_string();
            let nw = self.width(Face::Sans, size, &number);
            let title = self.fit(Face::Sans, size, &title, self.right - self.left - nw - 12.0);
            self.text(Face::Sans, size, &t.colors.text, self.left, self.y, &title);
            self.text(Face::Sans, size, &t.colors.text, self.right - nw, self.y, &number);
            let dots_from = self.left + self.width(Face::Sans, size, &title) + 4.0;
            let y = self.y;
            self.rule(dots_from, self.right - nw - 4.0, y, &t.colors.rule, 0.3);
        }
    }

    fn cover_heading(&mut self, text: &str) {
        let t = self.t;
        self.ensure(t.fonts.heading_size * 4.0);
        self.y -= t.fonts.heading_size * 1.6;
        self.text(
            Face::Bold,
            t.fonts.heading_size,
            &t.colors.accent,
            self.left,
            self.y,
            text,
        );
        self.y -= t.fonts.heading_size * 0.5;
    }

    /// Labelled values, one per line, with rules between.
    fn fields(&mut self, fields: &[(&str, String, Face)]) {
        let t = self.t;
        let size = t.fonts.body_size;
        let label_w = (self.right - self.left) * 0.32;
        for (label, value, face) in fields {
            let vsize = if *face == Face::Mono { t.fonts.mono_size } else { size };
            let lines = self.wrap(*face, vsize, value, self.right - self.left - label_w);
            let lead = size * 1.5;
            self.ensure(lead + lines.len() as f32 * vsize * 1.3);
            self.y -= lead;
            self.text(Face::Sans, size, &t.colors.muted, self.left, self.y, label);
            for (i, line) in lines.iter().enumerate() {
                let y = self.y - i as f32 * vsize * 1.3;
                self.text(*face, vsize, &t.colors.text, self.left + label_w, y, line);
            }
            self.y -= (lines.len().max(1) - 1) as f32 * vsize * 1.3 + size * 0.45;
            let y = self.y;
            self.rule(self.left, self.right, y, &t.colors.rule, 0.3);
        }
    }

    /// An item in the finding colour.
    fn flag_item(&mut self, marker: &str, text: &str) {
        let t = self.t;
        let size = t.fonts.body_size;
        let lead = size * 1.35;
        let indent = self.width(Face::Sans, size, "00.  ");
        let lines = self.wrap(Face::Sans, size, text, self.right - self.left - indent);
        let col = t.colors.flag_text.clone();
        for (i, line) in lines.iter().enumerate() {
            self.ensure(lead);
            self.y -= lead;
            let base = self.y + size * 0.3;
            if i == 0 {
                self.text(Face::Bold, size, &col, self.left, base, marker);
            }
            self.text(Face::Sans, size, &col, self.left + indent, base, line);
        }
        self.y -= size * 0.4;
    }

    fn footers(&mut self) {
        let t = self.t;
        let total = self.pages.len();
        let size = t.fonts.footer_size;
        let base = t.page.margin_bottom_mm * MM;
        for page in 0..total {
            let mut vars = self.vars.clone();
            vars.push(("page", (page + 1).to_string()));
            vars.push(("pages", total.to_string()));
            let right = fill(&t.footer.right, &vars);
            let rw = self.width(Face::Sans, size, &right);
            let left = fill(&t.footer.left, &vars);
            let left = self.fit(Face::Sans, size, &left, self.right - self.left - rw - 12.0);
            self.rule_at(page, self.left, self.right, base + size * 1.4, &t.colors.rule, 0.4);
            self.text_at(page, Face::Sans, size, &t.colors.muted, (self.left, base), &left);
            self.text_at(page, Face::Sans, size, &t.colors.muted, (self.right - rw, base), &right);
        }
    }
}

impl Layout<'_> {
    /// The simulated-data banner across the top of every page, in the
    /// finding colours, above the top margin's first line.
    fn banners(&mut self) {
        let t = self.t;
        let size = t.fonts.footer_size * 1.15;
        let banner = fill(&t.simulated.banner, &self.vars);
        let text = self.fit(Face::Bold, size, &banner, self.right - self.left);
        let y = self.top + size * 1.4;
        for page in 0..self.pages.len() {
            self.rule_at(page, self.left, self.right, y - size * 0.5, &t.colors.flag_text, 0.8);
            self.text_at(page, Face::Bold, size, &t.colors.flag_text, (self.left, y), &text);
        }
    }
}

fn align(right: u8) -> Align {
    if right == 1 {
        Align::Right
    } else {
        Align::Left
    }
}

/// `₹1,024.00`, `−₹21,347.36`.
fn signed(paise: i64) -> String {
    if paise < 0 {
        format!("−₹{}", rupees(-paise))
    } else {
        format!("₹{}", rupees(paise))
    }
}

/// The heads that are not zero: `IGST −₹21,347.36, CGST ₹1,024.00`.
fn by_head(h: &Heads) -> String {
    [("IGST", h.igst), ("CGST", h.cgst), ("SGST", h.sgst), ("cess", h.cess)]
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(name, v)| format!("{name} {}", signed(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn amounts(heads: &Heads) -> Vec<Cell> {
    [heads.igst, heads.cgst, heads.sgst, heads.cess, heads.total()]
        .into_iter()
        .map(|p| Cell::right(rupees(p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::summary::{BalanceRow, ChangeLine, IndexRow, ItcRow, ItcSummaryRow, PaymentRow, Verdict};

    fn heads(seed: i64) -> Heads {
        Heads {
            igst: seed * 7919,
            cgst: seed * 3541,
            sgst: seed * 3541,
            cess: seed * 13,
        }
    }

    /// A bundle big enough that every table spans pages.
    pub(super) fn sample() -> Summary {
        let months: Vec<String> = (0..14)
            .map(|i| format!("{}-{:02}", 2024 + (3 + i) / 12, (3 + i) % 12 + 1))
            .collect();
        let endpoints = [
            "gstr3b/summary",
            "ledgers/cash",
            "ledgers/itc",
            "gstr1/b2b",
            "gstr2b/itc_available",
            "returns/gstr1/e-invoice/amended_credit_debit_notes_of_registered_recipients_with_very_long_name",
        ];
        let snapshots = (0..120)
            .map(|i| IndexRow {
                endpoint: endpoints[i % endpoints.len()].to_string(),
                period: months[i % months.len()].clone(),
                page: (i % 3) as u32 + 1,
                first_seen: format!("2025-05-{:02}T10:{:02}:00+05:30", i % 28 + 1, i % 60),
                last_seen: format!("2025-06-{:02}T18:{:02}:00+05:30", i % 28 + 1, (i * 7) % 60),
                log_entries: format!("{}, {}", i * 3, i * 3 + 37),
                outcome: if i % 17 == 0 { "api_error" } else { "ok" }.to_string(),
                code: if i % 17 == 0 {
                    "RET191106".to_string()
                } else {
                    String::new()
                },
                short_hash: format!("{:012x}", (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16),
            })
            .collect();
        let balances = months
            .iter()
            .enumerate()
            .map(|(i, m)| BalanceRow {
                month: m.clone(),
                cash: if i == 2 {
                    Heads {
                        igst: 123456700,
                        ..Heads::default()
                    }
                } else {
                    heads(i as i64 * 101 + 5)
                },
                itc: heads(i as i64 * 977 + 11),
                source: "ledgers/cash, ledgers/itc".to_string(),
            })
            .collect();
        let payments = months
            .iter()
            .take(12)
            .enumerate()
            .map(|(i, m)| {
                let liability = heads(i as i64 * 4001 + 100);
                let paid_cash = heads(i as i64 * 2000 + 50);
                let paid_itc = liability.minus(&paid_cash);
                let short = i == 4;
                PaymentRow {
                    month: m.clone(),
                    liability,
                    paid_cash,
                    paid_itc,
                    cash_debits: if short { paid_cash.minus(&heads(3)) } else { paid_cash },
                    itc_debits: paid_itc,
                    verdict: if short { Verdict::Differs } else { Verdict::Agrees },
                    finding: if short {
                        "short payment: cash ledger debits are 23,757.00 IGST less than GSTR-3B paid in cash"
                            .to_string()
                    } else {
                        "agrees".to_string()
                    },
                }
            })
            .collect();
        let compare = |flag: usize, reading: &str| -> Vec<CompareRow> {
            months
                .iter()
                .take(12)
                .enumerate()
                .map(|(i, m)| {
                    let left = heads(i as i64 * 5003 + 7);
                    let right = if i == flag { left.minus(&heads(1000)) } else { left };
                    CompareRow {
                        month: m.clone(),
                        left,
                        right,
                        difference: left.minus(&right),
                        verdict: if i == flag { Verdict::Differs } else { Verdict::Agrees },
                        finding: if i == flag {
                            reading.to_string()
                        } else {
                            "agrees".to_string()
                        },
                    }
                })
                .collect()
        };
        let changes = (0..30)
            .map(|i| ChangeLine {
                detected_at: format!("2025-06-{:02}T09:{:02}:00+05:30", i % 28 + 1, i),
                endpoint: endpoints[i % endpoints.len()].to_string(),
                period: months[i % months.len()].clone(),
                kind: crate::domain::change::Kind::ALL[i % 4],
                arn: (i % 4 == 1).then(|| format!("AA27062500{i:05}X")),
                document: (i % 6 != 5).then(|| crate::domain::change::DocumentChange {
                    action: [
                        crate::domain::change::Action::Added,
                        crate::domain::change::Action::Changed,
                        crate::domain::change::Action::Removed,
                    ][i % 3],
                    section: ["B2B", "CDNRA", "3.1(a)", "ENTRY"][i % 4].to_string(),
                    counterparty: (i % 2 == 0).then(|| "29AABCK4521M1Z5".to_string()),
                    number: Some(format!("INV/24-25/{i:04}")),
                    date: Some(format!("{:02}-05-2025", i % 28 + 1)),
                    taxable_before: (i % 3 != 0).then_some(1_000_000 + i as i64 * 137),
                    taxable_after: (i % 3 != 2).then_some(1_200_000 + i as i64 * 91),
                    tax_before: (i % 3 != 0).then_some(Heads {
                        igst: 180_000,
                        ..Heads::default()
                    }),
                    tax_after: (i % 3 != 2).then_some(Heads {
                        cgst: 108_000,
                        sgst: 108_000,
                        ..Heads::default()
                    }),
                    unread: None,
                }),
            })
            .collect();
        Summary {
            gstin: "27AAPFU0939F1ZV".to_string(),
            legal_name: Some("Umbrella Trading & Logistics Private Limited".to_string()),
            period: "FY2024-25".to_string(),
            as_of: "2025-06-30T18:30:00+05:30".to_string(),
            bundle_id: "b-2025-06-30-27AAPFU0939F1ZV-0007".to_string(),
            organization: "Kulkarni & Rao, Chartered Accountants".to_string(),
            checkpoint_origin: "gstvault.kulkarni-rao.in/log/v1".to_string(),
            checkpoint_size: 4821,
            checkpoint_root: "9f2c4e1ab7d0835c6e4f21a9b0c7d3e58f6a1b2c3d4e5f60718293a4b5c6d7e8".to_string(),
            key_id: "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3".to_string(),
            key_fingerprint: "SHA256:4b1c9e0f7a2d6c3b8e5f1a0d9c7b6e4f3a2d1c0b9e8f7a6d5c4b3a2f1e0d9c8b".to_string(),
            sources: vec!["https://api.sandbox.co.in".to_string()],
            simulated: false,
            snapshots,
            balances,
            payments,
            outward: compare(7, "GSTR-1 exceeds GSTR-3B: outward tax under-declared in GSTR-3B"),
            itc: compare(9, "excess ITC: 3B claims ₹10.00 (IGST) above 2B (DRC-01C)")
                .into_iter()
                .map(|r| ItcRow {
                    month: r.month,
                    table: "4A(5)".to_string(),
                    source: "2B itcavl.nonrevsup − othersup cdnr, cdnra (credit notes)".to_string(),
                    gstr2b: r.left,
                    gstr3b: r.right,
                    difference: r.difference,
                    finding: r.finding,
                    verdict: r.verdict,
                })
                .collect(),
            itc_summary: months
                .iter()
                .take(3)
                .flat_map(|m| {
                    [("nonrevsup", "total"), ("nonrevsup", "b2b"), ("othersup", "total"), ("othersup", "cdnr")]
                        .into_iter()
                        .enumerate()
                        .map(|(j, (section, part))| ItcSummaryRow {
                            month: m.clone(),
                            bucket: "ITC available".to_string(),
                            section: section.to_string(),
                            part: part.to_string(),
                            heads: heads(j as i64 * 311 + 5),
                        })
                })
                .collect(),
            changes,
            notes: vec![
                "GSTR-2B for 2025-05 was not yet generated on the portal when this bundle was made; section 5 stops at 2025-03.".to_string(),
                "The cash ledger answer for 2024-07 was an API error on every capture; its month-end balance is carried from the previous month's closing balance.".to_string(),
            ],
            filings: Vec::new(),
            gstr3b: months
                .iter()
                .take(3)
                .map(|m| crate::domain::returns::ReturnMonth {
                    month: m.clone(),
                    source: format!("gstr-3b {m}, log entry 12"),
                    seq: Some(12),
                    tables: crate::domain::returns::gstr3b::tables(&serde_json::json!({
                        "sup_details": {"osup_det": {"txval": 1234567.5, "iamt": 90904.84, "camt": 13134.85, "samt": 13134.84}},
                        "itc_elg": {"itc_avl": [{"ty": "OTH", "iamt": 117174.53}], "itc_net": {"iamt": 117174.53}},
                        "tx_pmt": {"net_tax_pay": [{"igst": {"tx": 90904.84}}], "pditc": {"i_pdi": 90904.84, "c_pdi": 13134.85, "s_pdi": 13134.84}}
                    })),
                })
                .collect(),
            auto_liability: Vec::new(),
            gstr1: Vec::new(),
            gstr9: Vec::new(),
            ledgers: Vec::new(),
            set_offs: Vec::new(),
        }
    }

    /// The golden digest of `render(sample())`: any change in output, across
    /// runs, machines or dependency updates, shows up here first.
    const GOLDEN: &str = "d59c9d5bf9d33247f293e37228df91726af96e2bd8718600d6b8605bf4d3890a";

    #[test]
    fn builtin_template_parses() {
        let t = Template::builtin();
        assert_eq!(t.snapshots.columns.len(), 8);
        assert!(!t.verify.steps.is_empty());
    }

    #[test]
    fn template_errors_name_the_key() {
        let err = Template::parse("[snapshots]\ncolums = []\n").unwrap_err().to_string();
        assert!(err.contains("snapshots.colums"), "{err}");
        let err = Template::parse("[page]\nwidth_mm = \"wide\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("page.width_mm"), "{err}");
        let err = Template::parse("[colors]\ntext = \"red\"\n").unwrap_err().to_string();
        assert!(err.contains("colors.text"), "{err}");
        let err = Template::parse("[verify]\nsteps = [\"open {bundel_file}\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("verify.steps[0]") && err.contains("bundel_file"), "{err}");
        let err = Template::parse("[changes]\ncolumns = [\"a\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("changes.columns"), "{err}");
        let t = Template::parse("[page]\nwidth_mm = 297\nheight_mm = 210\n[cover]\ntitle = \"Evidence\"\n").unwrap();
        assert_eq!(t.page.width_mm, 297.0);
        assert_eq!(t.cover.title, "Evidence");
        assert_eq!(t.notes.title, Template::builtin().notes.title);
    }

    #[test]
    fn render_is_deterministic_and_golden() {
        let report = sample();
        let template = Template::builtin();
        let (a, pages) = render_counted(&report, &template).unwrap();
        let b = render(&report, &template).unwrap();
        assert!(a == b, "two renders in one process differ");
        assert!(pages > 2, "{pages} pages");
        assert!(a.starts_with(b"%PDF-"));
        let digest = hex::encode(Sha256::digest(&a));
        assert_eq!(digest, GOLDEN, "output changed; {} bytes, {pages} pages", a.len());
    }

    #[test]
    fn text_is_extractable() {
        let pdftotext = std::path::Path::new("/usr/bin/pdftotext");
        if !pdftotext.exists() {
            return;
        }
        let bytes = render(&sample(), &Template::builtin()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.pdf");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new(pdftotext)
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("27AAPFU0939F1ZV"));
        assert!(text.contains("12,34,567.00"));
        assert!(text.contains("excess ITC"));
        assert!(text.contains("short payment"));
        assert!(text.contains("GSTR-3B table 4 ITC vs GSTR-2B, row by row"));
        assert!(text.contains("4A(5) GSTR-2B"));
        assert!(text.contains("2B source: 2B itcavl.nonrevsup − othersup cdnr, cdnra"));
        assert!(text.contains("GSTR-2B ITC summary"));
        assert!(text.contains("How to verify this bundle by hand"));
        assert!(text.contains("b-2025-06-30-27AAPFU0939F1ZV-0007"));
        assert!(text.matches('\u{c}').count() > 2, "page count");
    }

    /// The text of each page of a rendered summary (pdftotext), or None
    /// where pdftotext is not installed.
    fn page_texts(report: &Summary) -> Option<Vec<String>> {
        let pdftotext = std::path::Path::new("/usr/bin/pdftotext");
        if !pdftotext.exists() {
            return None;
        }
        let bytes = render(report, &Template::builtin()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.pdf");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new(pdftotext)
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
        pages.retain(|p| !p.trim().is_empty());
        Some(pages)
    }

    #[test]
    fn simulated_data_is_marked_on_every_page_and_portal_data_on_none() {
        let mut report = sample();
        report.sources = vec!["http://127.0.0.1".to_string()];
        report.simulated = true;
        let Some(pages) = page_texts(&report) else { return };
        assert!(pages.len() > 2);
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.contains("SIMULATED DATA") && page.contains("not from the GST portal"),
                "page {}: {page}",
                i + 1
            );
        }
        assert!(pages[0].contains("http://127.0.0.1"), "the cover names the source");
        let portal = page_texts(&sample()).unwrap();
        assert!(portal.iter().all(|p| !p.contains("SIMULATED")));
        assert!(portal[0].contains("https://api.sandbox.co.in"));
    }

    #[test]
    fn table_4_rows_at_zero_on_both_sides_are_left_off_the_page() {
        let pdftotext = std::path::Path::new("/usr/bin/pdftotext");
        if !pdftotext.exists() {
            return;
        }
        let mut report = sample();
        let zero = |table: &str, verdict: Verdict, finding: &str| ItcRow {
            month: "2024-04".to_string(),
            table: table.to_string(),
            source: "2B itcrev".to_string(),
            gstr2b: Heads::default(),
            gstr3b: Heads::default(),
            difference: Heads::default(),
            finding: finding.to_string(),
            verdict,
        };
        report.itc.push(zero("4B(2)", Verdict::Agrees, "agrees"));
        report.itc.push(zero(
            "4D(2)",
            Verdict::CouldNotReconcile,
            "could not read 2B section itcunavl.nonrevsup (not an object)",
        ));
        let bytes = render(&report, &Template::builtin()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.pdf");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new(pdftotext)
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("4B(2) GSTR-2B"), "nothing to read");
        assert!(text.contains("4D(2) GSTR-2B"), "a finding is shown at zero");
    }

    #[test]
    fn empty_report_renders() {
        let mut report = sample();
        report.snapshots.clear();
        report.balances.clear();
        report.payments.clear();
        report.outward.clear();
        report.itc.clear();
        report.itc_summary.clear();
        report.changes.clear();
        report.notes.clear();
        report.legal_name = None;
        let bytes = render(&report, &Template::builtin()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
