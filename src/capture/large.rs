//! A large return's files. Where the portal answers a return too large to
//! send at once with a token and an estimated time (`status_cd "2"`,
//! `{"token", "est"}`), that answer is archived as `pending` (page 0), and
//! the file-details call with the token gives the URLs of the files once
//! they are ready; each file is fetched (a presigned URL, like an e-invoice
//! list) and archived byte for byte as pages 1, 2, ... of the same endpoint
//! and period. Files not ready yet (`RTN_24`, or no URLs) wait for the next
//! run, which asks the return again. GSTN's large-file flow: "TaxPayer (or
//! ASP) needs to get FileDetails using the token after the 'est' Estimated
//! time returned along with token" (<https://gsthelp.charteredinfo.com/ucl/gst_large_files_api.htm>);
//! ENDPOINTS.md section 9 (`RTN_24`); the Sandbox paths are inferred.

use tokio::sync::Mutex;

use super::recovery::{fetch_with_session, SessionSlot};
use super::{archive_read, CaptureError, Context};
use crate::capture::client::Fetched;
use crate::domain::catalog::{self, Auth, Endpoint, RequestSpec};
use crate::domain::envelope::{self, LargeFile};
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;

/// The file URLs of a file-details answer (`data.data.urls[].ul`, or `data.urls`).
fn urls(answer: &Fetched) -> Vec<String> {
    let Some(value) = answer
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
    else {
        return Vec::new();
    };
    let list = value
        .pointer("/data/data/urls")
        .or_else(|| value.pointer("/data/urls"))
        .and_then(|u| u.as_array());
    list.into_iter()
        .flatten()
        .filter_map(|u| u.get("ul").and_then(|ul| ul.as_str()).map(String::from))
        .collect()
}

/// Asks for the files of `large` and archives each when they are ready.
pub(super) async fn large_return(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: Period,
    asked: &RequestSpec,
    large: LargeFile,
) -> Result<(), CaptureError> {
    let details = catalog::file_details_request(&large.token);
    let Some(answer) = fetch_with_session(ctx, slot, gstin, &details, Auth::Taxpayer).await else {
        ctx.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(());
    };
    let files = urls(&answer);
    if files.is_empty() {
        tracing::info!(
            gstin = %gstin,
            endpoint = endpoint.name,
            period = %period,
            request = %asked.path_and_query(),
            est_minutes = ?large.est_minutes,
            "large return: files not ready yet; the next run asks again"
        );
        return Ok(());
    }
    for (index, url) in files.iter().enumerate() {
        let file = ctx.client.fetch_object(url).await;
        let reading = match (&file.body, file.http_status) {
            (Some(body), Some(status)) => Some(envelope::read_file(status, body)),
            _ => None,
        };
        // The record names the file-details request (the token), never the
        // presigned URL: that is a credential for as long as it is valid.
        archive_read(
            ctx,
            gstin,
            endpoint,
            &period,
            index as u32 + 1,
            &details,
            &file,
            reading,
        )
        .await?;
    }
    Ok(())
}
