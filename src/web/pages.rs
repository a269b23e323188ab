//! The web view's pages: the GSTINs in scope, a GSTIN's grid of endpoint
//! groups by month, a return as of any instant in the portal's layout with
//! its versions and a comparison in business terms, the changes timeline, a
//! snapshot and its exact bytes, the bundles and their files, and the access
//! log for admins. Each handler validates its parameters into domain types,
//! checks the viewer's scope, reads through a [`crate::store::Reader`] and
//! renders a template; what it showed goes to the access log.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Authed;
use super::templates::STYLESHEET;
use super::{PageError, WebState};
use crate::domain::catalog::{self, Group};
use crate::domain::change::{self, Kind};
use crate::domain::gstin::Gstin;
use crate::domain::log::Seq;
use crate::domain::money::{rupees, Heads};
use crate::domain::period::{Month, Period};
use crate::domain::returns;
use crate::domain::time::{DayEnd, Timestamp, Zone};
use crate::query::{self, QueryError};

type Page = Result<Response, PageError>;

fn query_error(e: QueryError) -> PageError {
    match e {
        QueryError::Input(m) => PageError::BadRequest(m),
        QueryError::Store(e) => PageError::store(e),
    }
}

fn gstin_param(text: &str) -> Result<Gstin, PageError> {
    Gstin::parse(text).map_err(|e| PageError::BadRequest(e.to_string()))
}

fn period_param(text: &str) -> Result<Period, PageError> {
    Period::parse(text).map_err(|e| PageError::BadRequest(format!("period: {e}")))
}

fn seq_param(text: &str) -> Result<Seq, PageError> {
    text.parse::<u64>()
        .map(Seq)
        .map_err(|_| PageError::BadRequest(format!("snapshot {text:?}: not a snapshot number")))
}

fn time(state: &WebState, t: Timestamp) -> String {
    t.to_datetime()
        .map(|t| state.config.display_zone.human(t))
        .unwrap_or_else(|| t.to_string())
}

fn heads_text(h: &Heads) -> String {
    rupees(h.total())
}

/// The viewer and navigation every page template gets.
fn chrome(auth: &Authed) -> Value {
    serde_json::json!({
        "name": auth.viewer.name,
        "role": auth.viewer.role.as_str(),
        "admin": auth.viewer.is_admin(),
    })
}

fn html(state: &WebState, name: &str, ctx: minijinja::Value) -> Page {
    Ok(Html(state.templates.render(name, ctx)).into_response())
}

/// A configured GSTIN the viewer may see, else the one 404.
fn visible(state: &WebState, auth: &Authed, gstin: &Gstin) -> Result<(), PageError> {
    let configured = state.config.gstins.iter().any(|g| &g.gstin == gstin);
    if configured && auth.viewer.may_see_gstin(gstin, Authed::today(state)) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

fn legal_name(state: &WebState, gstin: &Gstin) -> String {
    state
        .config
        .gstins
        .iter()
        .find(|g| &g.gstin == gstin)
        .and_then(|g| g.legal_name.clone())
        .unwrap_or_default()
}

pub async fn stylesheet() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET).into_response()
}

pub async fn not_found() -> Response {
    PageError::NotFound.into_response()
}

// ---------------------------------------------------------------- overview

#[derive(Serialize)]
struct OverviewRow {
    gstin: String,
    legal_name: String,
    last_capture: String,
    answers: String,
    session: String,
    needs_login: bool,
    bundle: Option<String>,
    bundle_id: Option<String>,
    /// The current financial year's reconciliation rows that do not agree.
    findings: String,
    differs: bool,
}

/// "2 differ, 3 could not be reconciled (FY 2026-27 to 2026-10)": the rows
/// of the financial year's closed months (before `today`'s) that do not
/// agree; the month under way is left out, its returns are not due yet.
fn open_findings(verdicts: &[(Month, crate::domain::summary::Verdict)], today: chrono::NaiveDate) -> (String, bool) {
    use crate::domain::summary::Verdict;
    let this_month = Month::of_date(today);
    let closed: Vec<&(Month, Verdict)> = verdicts.iter().filter(|(m, _)| *m < this_month).collect();
    let count = |v: Verdict| closed.iter().filter(|(_, x)| *x == v).count();
    let (differs, unreconciled) = (count(Verdict::Differs), count(Verdict::CouldNotReconcile));
    let Some(last) = closed.iter().map(|(m, _)| *m).max() else {
        return ("no closed month yet".into(), false);
    };
    let fy = this_month.financial_year().label();
    let text = match (differs, unreconciled) {
        (0, 0) => format!("all agree (FY {fy} to {last})"),
        (d, 0) => format!("{d} differ (FY {fy} to {last})"),
        (0, u) => format!("{u} could not be reconciled (FY {fy} to {last})"),
        (d, u) => format!("{d} differ, {u} could not be reconciled (FY {fy} to {last})"),
    };
    (text, differs > 0)
}

pub async fn overview(State(state): State<Arc<WebState>>, auth: Authed) -> Response {
    let page = overview_page(&state, &auth).await;
    auth.respond(page, "overview")
}

async fn overview_page(state: &Arc<WebState>, auth: &Authed) -> Page {
    let today = Authed::today(state);
    let config = Arc::clone(&state.config);
    let now = state.now();
    let visible: Vec<Gstin> = config
        .gstins
        .iter()
        .map(|g| g.gstin.clone())
        .filter(|g| auth.viewer.may_see_gstin(g, today))
        .collect();
    let st = Arc::clone(state);
    let rows = state
        .read(move |reader| {
            let stamp = st.stamp(reader)?;
            let last = super::derived::last_answers(&st, reader, stamp)?;
            let status = crate::app::status::status_with(&st.config, now, reader, &last)
                .map_err(|e| PageError::Internal(e.to_string()))?;
            let mut rows = Vec::new();
            for g in status.gstins.iter().filter(|g| visible.contains(&g.gstin)) {
                let counts = outcome_counts(&super::derived::outcome_counts(&st, reader, &g.gstin, stamp)?);
                let year = super::derived::charts(&st, reader, &g.gstin, stamp)?;
                let findings = open_findings(&year.verdicts, stamp.day);
                let session = if g.needs_login {
                    format!("needs login: {}", g.reason.clone().unwrap_or_default())
                } else {
                    match g.session.as_ref().and_then(|s| s.session_expiry) {
                        Some(until) => format!("valid until {}", time(&st, until)),
                        None => "no session yet".to_string(),
                    }
                };
                rows.push(OverviewRow {
                    gstin: g.gstin.to_string(),
                    legal_name: legal_name(&st, &g.gstin),
                    last_capture: g.last_capture.map(|t| time(&st, t)).unwrap_or_else(|| "never".into()),
                    answers: counts,
                    session,
                    needs_login: g.needs_login,
                    bundle: g
                        .last_bundle
                        .as_ref()
                        .map(|b| format!("{} as of {}", b.period, time(&st, b.as_of))),
                    bundle_id: g.last_bundle.as_ref().map(|b| b.bundle_id.clone()),
                    findings: findings.0,
                    differs: findings.1,
                });
            }
            Ok(rows)
        })
        .await?;
    html(
        state,
        "overview.html",
        context! { viewer => chrome(auth), csrf => &auth.csrf, gstins => rows },
    )
}

/// "412 ok, 31 no data, 2 failed": the latest answer of each endpoint,
/// period and page.
fn outcome_counts(counts: &[(crate::domain::envelope::Outcome, u64)]) -> String {
    counts
        .iter()
        .map(|(o, n)| format!("{n} {}", o.as_str().replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------- GSTIN

#[derive(Serialize)]
struct GridCell {
    class: &'static str,
    text: String,
    /// A cell whose answers changed: the changes of its group and month.
    href: Option<String>,
}

#[derive(Serialize)]
struct GridRow {
    group: String,
    cells: Vec<GridCell>,
}

/// The returns a GSTIN page links to, by month.
const RETURN_LINKS: [(&str, &str, &str); 5] = [
    ("gstr-3b", "GSTR-3B", "3B"),
    ("gstr-1-summary", "GSTR-1 summary", "GSTR-1"),
    ("gstr-1-cdnr", "GSTR-1 credit/debit notes", "CDNR"),
    ("gstr-1-b2b", "GSTR-1 B2B invoices", "B2B"),
    ("gstr-2b", "GSTR-2B", "2B"),
];

pub async fn gstin(State(state): State<Arc<WebState>>, auth: Authed, Path(gstin): Path<String>) -> Response {
    let page = gstin_page(&state, &auth, &gstin).await;
    auth.respond(page, format!("GSTIN {gstin}"))
}

async fn gstin_page(state: &Arc<WebState>, auth: &Authed, text: &str) -> Page {
    let gstin = gstin_param(text)?;
    visible(state, auth, &gstin)?;
    let (g, st) = (gstin.clone(), Arc::clone(state));
    let (keys, points) = state
        .read(move |reader| {
            let stamp = st.stamp(reader)?;
            Ok((
                super::derived::keys(&st, reader, &g, stamp)?,
                super::derived::charts(&st, reader, &g, stamp)?,
            ))
        })
        .await?;
    let today = Authed::today(state);
    let now_month = Month::of_date(today);
    // The months of the current financial year and the one before, newest last.
    let first = now_month.financial_year().prev().first_month();
    let months: Vec<Month> = first.through(now_month);
    let months: Vec<Month> = months
        .into_iter()
        .filter(|m| auth.viewer.may_see(&gstin, &Period::Month(*m), today))
        .collect();
    // Per (group, month): answers, failures, changes.
    let mut cells: BTreeMap<(Group, Month), (u64, u64, u64)> = BTreeMap::new();
    for k in keys.iter() {
        let Period::Month(m) = k.period else { continue };
        let Some(e) = catalog::find(&k.endpoint) else { continue };
        let c = cells.entry((e.group, m)).or_default();
        c.0 += k.answers;
        c.1 += k.failures;
        c.2 += k.changes;
    }
    let grid: Vec<GridRow> = Group::ALL
        .iter()
        .map(|group| GridRow {
            group: group.name().to_string(),
            cells: months
                .iter()
                .map(|m| match cells.get(&(*group, *m)) {
                    None => GridCell {
                        class: "none",
                        text: "·".into(),
                        href: None,
                    },
                    Some((n, failed, changed)) => GridCell {
                        class: if *failed > 0 {
                            "failed"
                        } else if *changed > 0 {
                            "changed"
                        } else {
                            "ok"
                        },
                        text: match (failed, changed) {
                            (0, 0) => format!("{n}"),
                            (0, c) => format!("{n} · {c} changed"),
                            (f, _) => format!("{n} · {f} failed"),
                        },
                        href: (*changed > 0)
                            .then(|| format!("/gstin/{gstin}/changes?group={}&period={m}", group.name())),
                    },
                })
                .collect(),
        })
        .collect();
    // The charts of the current financial year, as archived now.
    let fy = now_month.financial_year();
    let points: Vec<_> = points
        .points
        .iter()
        .filter(|p| Period::parse(&p.month).is_ok_and(|period| auth.viewer.may_see(&gstin, &period, today)))
        .cloned()
        .collect();
    let charts = super::charts::charts(&points, |chart, month| {
        use super::charts::Chart;
        match chart {
            Chart::Itc => format!("/gstin/{gstin}/itc?month={month}"),
            Chart::Ledgers => format!("/gstin/{gstin}/balances?fy={}", fy.label()),
            Chart::Liability => format!("/gstin/{gstin}/return/gstr-3b/{month}"),
            Chart::Changes => format!("/gstin/{gstin}/changes?period={month}"),
        }
    });
    let returns: Vec<Value> = RETURN_LINKS
        .iter()
        .map(|(endpoint, title, short)| serde_json::json!({"endpoint": endpoint, "title": title, "short": short}))
        .collect();
    html(
        state,
        "gstin.html",
        context! {
            viewer => chrome(auth), csrf => &auth.csrf,
            gstin => gstin.as_str(), legal_name => legal_name(state, &gstin),
            months => months.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            grid => grid, returns => returns, charts => charts, fy => fy.label(),
            legend => "answers archived; changed: a later answer differed; failed: a call got no answer or an error",
        },
    )
}

// ---------------------------------------------------------------- a return

#[derive(Deserialize)]
pub struct ReturnQuery {
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    compare: String,
}

pub async fn return_page(
    State(state): State<Arc<WebState>>,
    auth: Authed,
    Path((gstin, endpoint, period)): Path<(String, String, String)>,
    Query(q): Query<ReturnQuery>,
) -> Response {
    let page = return_view(&state, &auth, &gstin, &endpoint, &period, &q).await;
    auth.respond(page, format!("{endpoint} {period} of {gstin}"))
}

#[derive(Serialize)]
struct TableView {
    number: String,
    title: String,
    columns: Vec<String>,
    lines: Vec<LineView>,
}

#[derive(Serialize)]
struct LineView {
    label: String,
    values: Vec<String>,
}

fn table_view(t: &returns::ReturnTable) -> TableView {
    TableView {
        number: t.number.to_string(),
        title: t.title.to_string(),
        columns: t.columns.iter().map(|c| c.name.to_string()).collect(),
        lines: t
            .lines
            .iter()
            .map(|l| LineView {
                label: l.label.clone(),
                values: t
                    .columns
                    .iter()
                    .zip(&l.values)
                    .map(|(c, v)| match (c.unit, v) {
                        (_, None) => String::new(),
                        (returns::Unit::Rupees, Some(p)) => rupees(*p),
                        (returns::Unit::Count, Some(n)) => n.to_string(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

async fn return_view(
    state: &Arc<WebState>,
    auth: &Authed,
    gstin_text: &str,
    endpoint: &str,
    period_text: &str,
    q: &ReturnQuery,
) -> Page {
    let gstin = gstin_param(gstin_text)?;
    let period = period_param(period_text)?;
    visible(state, auth, &gstin)?;
    if !auth.viewer.may_see(&gstin, &period, Authed::today(state)) {
        return Err(PageError::NotFound);
    }
    let Some(ep) = catalog::find(endpoint) else {
        return Err(PageError::NotFound);
    };
    let now = state.now();
    let as_of = match q.as_of.trim() {
        "" => now,
        t => query::parse_instant("as of", t, DayEnd::End, now).map_err(query_error)?,
    };
    let compare = match q.compare.trim() {
        "" => None,
        t => Some(seq_param(t)?),
    };
    let (g, name, p) = (gstin.clone(), ep.name.to_string(), period);
    let view = state
        .read(move |reader| {
            let versions = reader
                .list_snapshots(&crate::store::SnapshotFilter {
                    gstin: Some(g.clone()),
                    endpoints: vec![name.clone()],
                    period: Some(crate::store::PeriodFilter::Exactly(p)),
                    ..Default::default()
                })
                .map_err(PageError::store)?;
            let versions: Vec<_> = versions.into_iter().filter(|r| r.page == 0).collect();
            let at = Timestamp::of(as_of);
            let shown = versions
                .iter()
                .rev()
                .find(|r| r.received_at <= at && r.payload_sha256.is_some())
                .cloned();
            let payload = |row: &crate::store::ListedSnapshot| -> Result<Option<Value>, PageError> {
                let Some(sha) = &row.payload_sha256 else {
                    return Ok(None);
                };
                Ok(reader
                    .payload(sha)
                    .map_err(PageError::store)?
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok()))
            };
            let shown_payload = match &shown {
                Some(r) => payload(r)?,
                None => None,
            };
            let other = match compare {
                Some(seq) => {
                    let row = versions
                        .iter()
                        .find(|r| r.seq == seq)
                        .cloned()
                        .ok_or(PageError::NotFound)?;
                    Some((row.seq, payload(&row)?))
                }
                None => None,
            };
            Ok((versions, shown, shown_payload, other))
        })
        .await?;
    let (versions, shown, shown_payload, other) = view;
    let tables: Vec<TableView> = match (&shown_payload, ep.name) {
        (Some(v), "gstr-3b") => returns::gstr3b::tables(v).iter().map(table_view).collect(),
        (Some(v), "gstr-3b-auto-liability") => returns::gstr3b::auto_liability_tables(v)
            .iter()
            .map(table_view)
            .collect(),
        (Some(v), "gstr-1-summary") => returns::gstr1::table(v).iter().map(table_view).collect(),
        (Some(v), "gstr-9" | "gstr-9-auto-calculated") => returns::gstr9::tables(v).iter().map(table_view).collect(),
        _ => Vec::new(),
    };
    let documents: Vec<Value> = match (&shown_payload, tables.is_empty()) {
        (Some(v), true) => crate::domain::documents::read(v)
            .iter()
            .map(|d| {
                serde_json::json!({
                    "section": d.section, "counterparty": d.counterparty, "number": d.number, "date": d.date,
                    "taxable": d.taxable.map(rupees),
                    // Figures the reader could not find are unknown, never a zero.
                    "tax": d.unread.as_ref().map(|why| format!("not read: {why}")).unwrap_or_else(|| heads_text(&d.tax)),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    // Compare: the chosen version against the one shown (older → newer).
    let compare_view = match (&other, &shown, &shown_payload) {
        (Some((seq, Some(old))), Some(row), Some(new)) => {
            let (from, to, a, b) = if *seq <= row.seq {
                (*seq, row.seq, old, new)
            } else {
                (row.seq, *seq, new, old)
            };
            let rows: Vec<Value> = change::compare(a, b)
                .iter()
                .map(|d| {
                    let amount = |x: Option<i64>| x.map(rupees).unwrap_or_default();
                    let taxable = match (d.taxable_before, d.taxable_after) {
                        (Some(x), Some(y)) if x != y => format!("{} → {}", rupees(x), rupees(y)),
                        (x, y) => amount(y.or(x)),
                    };
                    let tax = match (d.tax_before, d.tax_after) {
                        (Some(x), Some(y)) if x != y => format!("{} → {}", heads_text(&x), heads_text(&y)),
                        (x, y) => y.or(x).map(|h| heads_text(&h)).unwrap_or_default(),
                    };
                    serde_json::json!({
                        "section": d.section, "action": d.action.as_str(), "document": d.name(),
                        "taxable": taxable, "tax": tax, "tax_change": rupees(d.tax_change().total()),
                    })
                })
                .collect();
            Some(serde_json::json!({"from": from.0, "to": to.0, "rows": rows}))
        }
        (Some((_, None)), _, _) | (Some(_), None, _) => Some(serde_json::json!({"from": 0, "to": 0, "rows": []})),
        _ => None,
    };
    let version_rows: Vec<Value> = versions
        .iter()
        .rev()
        .map(|r| {
            serde_json::json!({
                "seq": r.seq.0, "received": time(state, r.received_at), "outcome": r.outcome.to_string(),
                "change": match (r.payload_sha256.is_some(), r.changed_from, r.has_previous) {
                    (false, _, _) => "no answer".to_string(),
                    (true, Some(from), _) => format!("changed (from {from})"),
                    (true, None, true) => "same".to_string(),
                    (true, None, false) => "first".to_string(),
                },
            })
        })
        .collect();
    let shown_view = shown.as_ref().map(|r| {
        serde_json::json!({"seq": r.seq.0, "received": time(state, r.received_at), "outcome": r.outcome.to_string()})
    });
    html(
        state,
        "return.html",
        context! {
            viewer => chrome(auth), csrf => &auth.csrf,
            gstin => gstin.as_str(), legal_name => legal_name(state, &gstin),
            title => ep.title, endpoint => ep.name, period => period.to_string(),
            as_of => Zone::IST.human(as_of), as_of_input => q.as_of.trim(),
            versions => version_rows, compare_seq => compare.map(|s| s.0),
            shown => shown_view, tables => tables, documents => documents, compare => compare_view,
        },
    )
}

// ---------------------------------------------------------------- changes

#[derive(Deserialize)]
pub struct ChangesQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    period: String,
    /// 1 for the newest lines (`WebOptions::changes_per_page`), 2 for the next…
    #[serde(default)]
    page: String,
}

pub async fn changes(
    State(state): State<Arc<WebState>>,
    auth: Authed,
    Path(gstin): Path<String>,
    Query(q): Query<ChangesQuery>,
) -> Response {
    let page = changes_page(&state, &auth, &gstin, &q).await;
    auth.respond(page, format!("changes of {gstin}"))
}

async fn changes_page(state: &Arc<WebState>, auth: &Authed, text: &str, q: &ChangesQuery) -> Page {
    let gstin = gstin_param(text)?;
    visible(state, auth, &gstin)?;
    let period = match q.period.trim() {
        "" => None,
        p => Some(period_param(p)?),
    };
    if !q.kind.is_empty() && Kind::parse(&q.kind).is_none() {
        return Err(PageError::BadRequest(format!(
            "kind {:?}: not a kind of change",
            q.kind
        )));
    }
    if !q.group.is_empty() && !Group::ALL.iter().any(|g| g.name() == q.group) {
        return Err(PageError::BadRequest(format!(
            "group {:?}: not an endpoint group",
            q.group
        )));
    }
    let page = match q.page.trim() {
        "" => 1,
        p => p
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| PageError::BadRequest(format!("page {p:?}: not a page number")))?,
    };
    let kind = Kind::parse(&q.kind);
    let group = (!q.group.is_empty()).then(|| q.group.clone());
    let (g, st) = (gstin.clone(), Arc::clone(state));
    let rows = state
        .read(move |reader| {
            let stamp = st.stamp(reader)?;
            super::derived::changes(&st, reader, &g, stamp)
        })
        .await?;
    let today = Authed::today(state);
    // One line per changed document (or per change that moved none), newest first.
    let lines: Vec<(&query::DetectedChange, Option<&change::DocumentChange>)> = rows
        .iter()
        .rev()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .filter(|r| {
            group
                .as_deref()
                .is_none_or(|g| catalog::find(&r.endpoint).is_some_and(|e| e.group.name() == g))
        })
        .filter(|r| period.is_none_or(|p| r.period == p))
        .filter(|r| auth.viewer.may_see(&gstin, &r.period, today))
        .flat_map(|r| {
            let docs: Vec<Option<&change::DocumentChange>> = if r.documents.is_empty() {
                vec![None]
            } else {
                r.documents.iter().map(Some).collect()
            };
            docs.into_iter().map(move |d| (r, d))
        })
        .collect();
    let per_page = state.options.changes_per_page.max(1);
    let pages = lines.len().div_ceil(per_page).max(1);
    if page > pages {
        return Err(PageError::NotFound);
    }
    let rows: Vec<Value> = lines
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(r, d)| {
            let (document, tax_change) = match d {
                Some(d) => (d.line(), rupees(d.tax_change().total())),
                None => (r.what_changed.clone(), String::new()),
            };
            serde_json::json!({
                "detected": time(state, r.detected_at), "endpoint": r.endpoint, "period": r.period.to_string(),
                "kind": r.kind.label(), "seq": r.seq.0, "previous": r.previous_seq.0,
                "document": document, "tax_change": tax_change,
            })
        })
        .collect();
    // The filters again, for the links to the pages before and after this one.
    let filters = [
        ("kind", q.kind.as_str()),
        ("group", q.group.as_str()),
        ("period", q.period.trim()),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={v}&"))
    .collect::<String>();
    let link_to = |n: usize| format!("/gstin/{gstin}/changes?{filters}page={n}");
    let kinds: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| serde_json::json!({"value": k.as_str(), "label": k.label()}))
        .collect();
    let groups: Vec<&str> = Group::ALL.iter().map(|g| g.name()).collect();
    html(
        state,
        "changes.html",
        context! {
            viewer => chrome(auth), csrf => &auth.csrf, gstin => gstin.as_str(), rows => rows,
            kinds => kinds, groups => groups, kind => &q.kind, group => &q.group, period => q.period.trim(),
            page => page, pages => pages, total => lines.len(),
            newer => (page > 1).then(|| link_to(page - 1)), older => (page < pages).then(|| link_to(page + 1)),
        },
    )
}

// ---------------------------------------------------------------- snapshots

pub async fn snapshot(State(state): State<Arc<WebState>>, auth: Authed, Path(seq): Path<String>) -> Response {
    let page = snapshot_page(&state, &auth, &seq).await;
    auth.respond(page, format!("snapshot {seq}"))
}

/// The snapshot `seq` if the viewer may see it, else the one 404.
async fn visible_snapshot(
    state: &Arc<WebState>,
    auth: &Authed,
    text: &str,
) -> Result<crate::store::SnapshotRow, PageError> {
    let seq = seq_param(text)?;
    let row = state
        .read(move |reader| reader.snapshot(seq).map_err(PageError::store))
        .await?
        .ok_or(PageError::NotFound)?;
    visible(state, auth, &row.gstin)?;
    if !auth.viewer.may_see(&row.gstin, &row.period, Authed::today(state)) {
        return Err(PageError::NotFound);
    }
    Ok(row)
}

async fn snapshot_page(state: &Arc<WebState>, auth: &Authed, text: &str) -> Page {
    let row = visible_snapshot(state, auth, text).await?;
    let s = serde_json::json!({
        "seq": row.seq.0, "gstin": row.gstin.as_str(), "endpoint": row.endpoint, "period": row.period.to_string(),
        "page": row.page, "received": time(state, row.received_at), "outcome": row.outcome.to_string(),
        "code": row.error_cd, "method": row.method, "request": row.request,
        "body_sha256": row.body_sha256.map(|d| d.hex()), "payload_sha256": row.payload_sha256.map(|d| d.hex()),
        "size": row.body_size.map(|n| format!("{n} bytes")), "origin": row.origin,
    });
    html(
        state,
        "snapshot.html",
        context! { viewer => chrome(auth), csrf => &auth.csrf, s => s },
    )
}

pub async fn raw(State(state): State<Arc<WebState>>, auth: Authed, Path(seq): Path<String>) -> Response {
    let page = raw_bytes(&state, &auth, &seq).await;
    auth.respond(page, format!("download snapshot {seq}"))
}

/// The exact bytes received, with their SHA-256; damaged bytes are never
/// served (the store refuses them).
async fn raw_bytes(state: &Arc<WebState>, auth: &Authed, text: &str) -> Page {
    let row = visible_snapshot(state, auth, text).await?;
    let seq = row.seq;
    let body = state
        .read(move |reader| reader.body(seq).map_err(PageError::store))
        .await?
        .ok_or(PageError::NotFound)?;
    let sha = row.body_sha256.map(|d| d.hex()).unwrap_or_default();
    let name = format!("snapshot_{}_{}_{}.json", row.seq.0, row.endpoint, row.period);
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .map_err(|e| PageError::Internal(e.to_string()))?,
    );
    h.insert(
        "x-content-sha256",
        HeaderValue::from_str(&sha).map_err(|e| PageError::Internal(e.to_string()))?,
    );
    Ok(r)
}

// ---------------------------------------------------------------- bundles

pub async fn bundles(State(state): State<Arc<WebState>>, auth: Authed) -> Response {
    let page = bundles_page(&state, &auth).await;
    auth.respond(page, "bundles")
}

async fn visible_chain(state: &Arc<WebState>, auth: &Authed) -> Result<Vec<crate::app::bundles::Link>, PageError> {
    let config = Arc::clone(&state.config);
    let chain = state
        .blocking(move || {
            crate::app::bundles::chain(&config, None, None).map_err(|e| PageError::Internal(e.to_string()))
        })
        .await?;
    let today = Authed::today(state);
    Ok(chain
        .links
        .into_iter()
        .filter(|l| auth.viewer.may_see(&l.bundle.gstin, &l.bundle.period, today))
        .collect())
}

async fn bundles_page(state: &Arc<WebState>, auth: &Authed) -> Page {
    let links = visible_chain(state, auth).await?;
    let rows: Vec<Value> = links
        .iter()
        .map(|l| {
            let b = &l.bundle;
            let present = l.file == crate::app::bundles::FileState::Present;
            let state_text = match &l.file {
                crate::app::bundles::FileState::Present => "file present, SHA-256 matches".to_string(),
                crate::app::bundles::FileState::Missing => "file missing".to_string(),
                crate::app::bundles::FileState::Changed(d) => format!("file changed: its SHA-256 is {}", d.hex()),
            };
            serde_json::json!({
                "id": b.bundle_id, "gstin": b.gstin.as_str(), "period": b.period.to_string(), "as_of": time(state, b.as_of),
                "file": b.file_name, "sha256": b.sha256.hex(), "previous": b.previous_bundle_id,
                "present": present, "state": state_text,
            })
        })
        .collect();
    html(
        state,
        "bundles.html",
        context! { viewer => chrome(auth), csrf => &auth.csrf, links => rows },
    )
}

pub async fn bundle_download(State(state): State<Arc<WebState>>, auth: Authed, Path(id): Path<String>) -> Response {
    let page = bundle_file(&state, &auth, &id).await;
    auth.respond(page, format!("download bundle {id}"))
}

/// A bundle's file by its ID: the path comes from the archive's record,
/// never from the request, and only a file that still holds the recorded
/// bytes is served.
async fn bundle_file(state: &Arc<WebState>, auth: &Authed, id: &str) -> Page {
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PageError::NotFound);
    }
    let links = visible_chain(state, auth).await?;
    let link = links
        .into_iter()
        .find(|l| l.bundle.bundle_id == id && l.file == crate::app::bundles::FileState::Present)
        .ok_or(PageError::NotFound)?;
    let path = state.config.bundles_dir.join(&link.bundle.file_name);
    let expected = link.bundle.sha256;
    let bytes = state
        .blocking(move || std::fs::read(path).map_err(|_| PageError::NotFound))
        .await?;
    if crate::domain::digest::Digest::of(&bytes) != expected {
        return Err(PageError::NotFound);
    }
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", link.bundle.file_name))
            .map_err(|e| PageError::Internal(e.to_string()))?,
    );
    h.insert(
        "x-content-sha256",
        HeaderValue::from_str(&expected.hex()).map_err(|e| PageError::Internal(e.to_string()))?,
    );
    Ok(r)
}

// ---------------------------------------------------------------- access log

/// The newest access log lines the admins' page shows.
const ACCESS_ROWS: usize = 200;

pub async fn access_log(State(state): State<Arc<WebState>>, auth: Authed) -> Response {
    let page = access_page(&state, &auth).await;
    auth.respond(page, "access log")
}

async fn access_page(state: &Arc<WebState>, auth: &Authed) -> Page {
    if !auth.viewer.is_admin() {
        return Err(PageError::NotFound);
    }
    let rows = state.access_rows(ACCESS_ROWS).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "at": time(state, r.at), "user": r.user, "address": r.address, "method": r.method,
                "path": r.path, "status": r.status, "what": r.what,
            })
        })
        .collect();
    html(
        state,
        "access.html",
        context! { viewer => chrome(auth), csrf => &auth.csrf, rows => rows },
    )
}

// ---------------------------------------------------------------- tables: balances, ITC, search

#[derive(Serialize)]
struct Col {
    name: &'static str,
    class: &'static str,
}

#[derive(Serialize, Default)]
struct TableCell {
    text: String,
    class: &'static str,
    href: Option<String>,
}

#[derive(Serialize)]
struct TableRow {
    class: &'static str,
    cells: Vec<TableCell>,
}

fn text(t: impl Into<String>) -> TableCell {
    TableCell {
        text: t.into(),
        ..Default::default()
    }
}

fn money(p: Option<i64>) -> TableCell {
    TableCell {
        text: p.map(rupees).unwrap_or_default(),
        class: "num",
        href: None,
    }
}

fn link(t: impl Into<String>, href: String) -> TableCell {
    TableCell {
        text: t.into(),
        class: "",
        href: Some(href),
    }
}

/// The snapshots a line is read from, linked to the first.
fn snapshots_cell(seqs: &[Seq]) -> TableCell {
    TableCell {
        text: seqs.iter().map(|s| s.0.to_string()).collect::<Vec<_>>().join(" "),
        class: "",
        href: seqs.first().map(|s| format!("/snapshot/{}", s.0)),
    }
}

fn columns(names: &[&'static str], numeric_from: usize) -> Vec<Col> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| Col {
            name: n,
            class: if i >= numeric_from { "num" } else { "" },
        })
        .collect()
}

#[derive(Deserialize)]
pub struct BalancesQuery {
    #[serde(default)]
    fy: String,
    #[serde(default)]
    as_of: String,
}

pub async fn balances(
    State(state): State<Arc<WebState>>,
    auth: Authed,
    Path(gstin): Path<String>,
    Query(q): Query<BalancesQuery>,
) -> Response {
    let page = balances_page(&state, &auth, &gstin, &q).await;
    auth.respond(page, format!("balances of {gstin}"))
}

async fn balances_page(state: &Arc<WebState>, auth: &Authed, text_gstin: &str, q: &BalancesQuery) -> Page {
    let gstin = gstin_param(text_gstin)?;
    visible(state, auth, &gstin)?;
    let today = Authed::today(state);
    let fy = match q.fy.trim() {
        "" => Month::of_date(today).financial_year(),
        t => crate::domain::period::FinancialYear::parse(t).map_err(|e| PageError::BadRequest(format!("fy: {e}")))?,
    };
    let args = query::BalancesArgs {
        gstin: gstin.to_string(),
        fy: Some(fy.label().trim_start_matches("FY").to_string()),
        month: None,
        as_of: (!q.as_of.trim().is_empty()).then(|| q.as_of.trim().to_string()),
    };
    let now = state.now();
    let lines = state
        .read(move |reader| query::balances(reader, &args, now).map_err(query_error))
        .await?;
    let g = gstin.as_str().to_string();
    let rows: Vec<TableRow> = lines
        .iter()
        .filter(|l| Period::parse(&l.month).is_ok_and(|p| auth.viewer.may_see(&gstin, &p, today)))
        .map(|l| {
            let flagged = l.finding != "agrees";
            let mut cells = vec![text(&l.month)];
            cells.extend([l.cash.total(), l.itc.total()].map(|p| money(Some(p))));
            cells.extend([l.liability, l.paid_cash, l.paid_itc].map(|h| money(h.map(|h| h.total()))));
            cells.push(text(&l.finding));
            cells.push(snapshots_cell(&l.snapshots));
            TableRow {
                class: if flagged { "flag" } else { "" },
                cells,
            }
        })
        .collect();
    html(
        state,
        "table.html",
        context! {
            viewer => chrome(auth), csrf => &auth.csrf, title => format!("Balances {}", fy.label()),
            gstin => g, legal_name => legal_name(state, &gstin),
            form => vec![
                serde_json::json!({"name": "fy", "label": "Financial year", "value": q.fy.trim(), "placeholder": "2026-27"}),
                serde_json::json!({"name": "as_of", "label": "As of", "value": q.as_of.trim(), "placeholder": "2026-10-31"}),
            ],
            caption => "Month-end cash and ITC ledger balances (all heads) beside GSTR-3B liability and payment, and whether they agree; the last column names the snapshots the line is read from.",
            columns => columns(&["Month", "Cash balance", "ITC balance", "3B liability", "3B paid in cash", "3B paid through ITC", "Finding", "Snapshots"], 1),
            rows => rows, empty => "No ledger or GSTR-3B answer is archived for that year.",
        },
    )
}

#[derive(Deserialize)]
pub struct ItcQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    against: String,
}

pub async fn itc(
    State(state): State<Arc<WebState>>,
    auth: Authed,
    Path(gstin): Path<String>,
    Query(q): Query<ItcQuery>,
) -> Response {
    let page = itc_page(&state, &auth, &gstin, &q).await;
    auth.respond(page, format!("GSTR-2B ITC of {gstin}"))
}

async fn itc_page(state: &Arc<WebState>, auth: &Authed, text_gstin: &str, q: &ItcQuery) -> Page {
    let gstin = gstin_param(text_gstin)?;
    visible(state, auth, &gstin)?;
    let today = Authed::today(state);
    let month = match q.month.trim() {
        "" => Month::of_date(today).prev(),
        t => Month::parse(t).map_err(|e| PageError::BadRequest(format!("month: {e}")))?,
    };
    if !auth.viewer.may_see(&gstin, &Period::Month(month), today) {
        return Err(PageError::NotFound);
    }
    let opt = |t: &str| (!t.trim().is_empty()).then(|| t.trim().to_string());
    let args = query::ItcArgs {
        gstin: gstin.to_string(),
        month: month.to_string(),
        as_of: opt(&q.as_of),
        against: opt(&q.against),
    };
    let now = state.now();
    let lines = state
        .read(move |reader| query::itc(reader, &args, now).map_err(query_error))
        .await?;
    let against = lines.iter().any(|l| l.against_at.is_some());
    let rows: Vec<TableRow> = lines
        .iter()
        .map(|l| {
            let mut cells = vec![text(&l.bucket), text(&l.section), text(&l.part)];
            cells.extend(
                [
                    l.heads.map(|h| h.igst),
                    l.heads.map(|h| h.cgst),
                    l.heads.map(|h| h.sgst),
                    l.heads.map(|h| h.cess),
                    l.heads.map(|h| h.total()),
                ]
                .map(money),
            );
            if against {
                cells.push(money(l.against.map(|h| h.total())));
                cells.push(money(l.difference.map(|h| h.total())));
            }
            cells.push(text(&l.note));
            cells.push(snapshots_cell(&l.snapshots));
            TableRow {
                class: if l.difference.is_some_and(|d| !d.is_zero()) {
                    "flag"
                } else {
                    ""
                },
                cells,
            }
        })
        .collect();
    let mut names = vec!["Bucket", "Section", "Part", "IGST", "CGST", "SGST", "Cess", "Total"];
    if against {
        names.extend(["Total then", "Difference"]);
    }
    names.extend(["Note", "Snapshots"]);
    let mut cols = columns(&names, 3);
    let n = cols.len();
    cols[n - 2].class = "";
    cols[n - 1].class = "";
    html(
        state,
        "table.html",
        context! {
            viewer => chrome(auth), csrf => &auth.csrf, title => format!("GSTR-2B ITC {month}"),
            gstin => gstin.as_str(), legal_name => legal_name(state, &gstin),
            form => vec![
                serde_json::json!({"name": "month", "label": "Month", "value": q.month.trim(), "placeholder": month.to_string()}),
                serde_json::json!({"name": "as_of", "label": "As of", "value": q.as_of.trim(), "placeholder": "now"}),
                serde_json::json!({"name": "against", "label": "Against", "value": q.against.trim(), "placeholder": "2026-06-15"}),
            ],
            caption => "GSTR-2B ITC by section and head as archived at the instant asked; with an instant to compare against, the total then and the difference.",
            columns => cols, rows => rows, empty => "No GSTR-2B of that month is archived at that instant.",
        },
    )
}

/// Documents a search shows at most.
const SEARCH_LIMIT: usize = 200;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(State(state): State<Arc<WebState>>, auth: Authed, Query(q): Query<SearchQuery>) -> Response {
    let page = search_page(&state, &auth, &q).await;
    auth.respond(page, "search")
}

async fn search_page(state: &Arc<WebState>, auth: &Authed, q: &SearchQuery) -> Page {
    let needle = q.q.trim().to_ascii_uppercase();
    if needle.chars().count() > 64 {
        return Err(PageError::BadRequest("search: at most 64 characters".into()));
    }
    let today = Authed::today(state);
    let gstins: Vec<Gstin> = state
        .config
        .gstins
        .iter()
        .map(|g| g.gstin.clone())
        .filter(|g| auth.viewer.may_see_gstin(g, today))
        .collect();
    let viewer = auth.viewer.clone();
    let found = if needle.len() < 3 {
        Vec::new()
    } else {
        let (needle, st) = (needle.clone(), Arc::clone(state));
        state
            .read(move |reader| {
                let stamp = st.stamp(reader)?;
                let mut found = Vec::new();
                for gstin in &gstins {
                    let index = super::derived::documents(&st, reader, gstin, stamp)?;
                    // The index says which payloads hold a match; only those are read.
                    for k in index.keys.iter().filter(|k| k.text.contains(&needle)) {
                        if !viewer.may_see(gstin, &k.period, today) {
                            continue;
                        }
                        let Some(bytes) = reader.payload(&k.payload).map_err(PageError::store)? else {
                            continue;
                        };
                        let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
                            continue;
                        };
                        for d in crate::domain::documents::read(&value) {
                            let hit = |t: &Option<String>| {
                                t.as_ref().is_some_and(|t| t.to_ascii_uppercase().contains(&needle))
                            };
                            if hit(&d.number) || hit(&d.counterparty) {
                                found.push((gstin.clone(), k.endpoint.clone(), k.period, k.seq, d));
                            }
                        }
                        if found.len() >= SEARCH_LIMIT {
                            found.truncate(SEARCH_LIMIT);
                            return Ok(found);
                        }
                    }
                }
                Ok(found)
            })
            .await?
    };
    let rows: Vec<TableRow> = found
        .iter()
        .map(|(g, endpoint, period, seq, d)| TableRow {
            class: "",
            cells: vec![
                link(g.as_str(), format!("/gstin/{g}")),
                link(endpoint.clone(), format!("/gstin/{g}/return/{endpoint}/{period}")),
                text(period.to_string()),
                text(&d.section),
                text(d.number.clone().unwrap_or_default()),
                text(d.date.clone().unwrap_or_default()),
                text(d.counterparty.clone().unwrap_or_default()),
                money(d.taxable),
                money(Some(d.tax.total())),
                link(seq.0.to_string(), format!("/snapshot/{}", seq.0)),
            ],
        })
        .collect();
    html(
        state,
        "table.html",
        context! {
            viewer => chrome(auth), csrf => &auth.csrf, title => "Search documents",
            form => vec![serde_json::json!({"name": "q", "label": "Document number or GSTIN", "value": q.q.trim(), "placeholder": "INV/26-27/0042"})],
            caption => "Documents in the latest archived GSTR-1, 1A, 2A, 2B and IMS answers of the GSTINs you may see whose number or counterparty GSTIN contains the text (at most 200: a longer text finds fewer).",
            columns => columns(&["GSTIN", "Return", "Period", "Section", "Number", "Date", "Counterparty", "Taxable value", "Tax", "Snapshot"], 7),
            rows => rows,
            empty => if needle.len() < 3 { "Give at least 3 characters of a document number or GSTIN." } else { "No document matches." },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::summary::Verdict;

    #[test]
    fn open_findings_count_the_closed_months_only() {
        let m = |text: &str| Month::parse(text).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let verdicts = [
            (m("2026-04"), Verdict::Agrees),
            (m("2026-05"), Verdict::Differs),
            (m("2026-10"), Verdict::CouldNotReconcile),
            (m("2026-11"), Verdict::CouldNotReconcile),
            // The month under way: its returns are not due yet.
            (m("2026-12"), Verdict::CouldNotReconcile),
        ];
        assert_eq!(
            open_findings(&verdicts, today),
            (
                "1 differ, 2 could not be reconciled (FY 2026-27 to 2026-11)".to_string(),
                true
            )
        );
        assert_eq!(
            open_findings(&verdicts[..1], today),
            ("all agree (FY 2026-27 to 2026-04)".to_string(), false)
        );
        assert_eq!(
            open_findings(&verdicts[2..], today),
            ("2 could not be reconciled (FY 2026-27 to 2026-11)".to_string(), false)
        );
        assert_eq!(
            open_findings(&verdicts[4..], today),
            ("no closed month yet".to_string(), false)
        );
    }
}
