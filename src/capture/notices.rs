//! Notices and orders: after the notices list is archived, each notice's
//! details are fetched by the list's reference id (`notices[].refId`) and
//! archived as endpoint `notice-details`, period `-`, one page per notice
//! (the page a number fixed by the reference id, so each notice keeps its
//! own history). Shapes: the docs repo's schemas
//! `data/gst/schema/request/taxpayer/notices/list_notices.json` and
//! `get_notice_details.json`
//! (<https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/notices/list_notices>).

use tokio::sync::Mutex;

use super::recovery::{fetch_with_session, SessionSlot};
use super::{archive, read, CaptureError, Context};
use crate::capture::client::Fetched;
use crate::domain::catalog::{self, Auth};
use crate::domain::envelope::Outcome;
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;

/// The reference ids the archived notices list names, in list order, each once.
fn reference_ids(list: &Fetched) -> Vec<String> {
    let Some(body) = list.body.as_deref() else {
        return Vec::new();
    };
    let Some(reading) = read(list).filter(|r| r.outcome == Outcome::Ok) else {
        return Vec::new();
    };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body[reading.payload]) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = Vec::new();
    for notice in payload.get("notices").and_then(|n| n.as_array()).into_iter().flatten() {
        if let Some(id) = notice.get("refId").and_then(|r| r.as_str()) {
            if !id.is_empty() && !ids.iter().any(|known| known == id) {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// Fetches and archives the details of every notice in `list`.
pub(super) async fn notice_details(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    list: &Fetched,
) -> Result<(), CaptureError> {
    let Some(endpoint) = catalog::find("notice-details") else {
        return Ok(());
    };
    for reference_id in reference_ids(list) {
        let spec = catalog::notice_details_request(&reference_id);
        let Some(fetched) = fetch_with_session(ctx, slot, gstin, &spec, Auth::Taxpayer).await else {
            ctx.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        };
        let page = catalog::notice_page(&reference_id);
        archive(ctx, gstin, endpoint, &Period::Current, page, &spec, &fetched).await?;
    }
    Ok(())
}
