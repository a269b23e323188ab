//! e-invoice lists: the API answers them through an asynchronous request
//! (what it calls a job; here an e-invoice download): submit it for one
//! supply type and month, poll it, then fetch the list from the presigned
//! object-storage URL the poll gives. The list is the evidence; the submit
//! and poll answers are bookkeeping, archived only when they are the final
//! word (a refused submit, a failed download, a download still queued).
//!
//! As the docs give it
//! (<https://developer.sandbox.co.in/api-reference/gst/compliance/endpoints/taxpayer/e-invoice/list_sales_invoices_job>,
//! <https://developer.sandbox.co.in/reference/list-purchase-e-invoices-job-status-api>):
//! the submit (POST, required query `supply_type`) answers the job id at
//! `data.job_id`; the poll (GET on the same path, `?job_id=`) answers
//! `data.status` `created`, `succeeded` or `failed`; when succeeded the list
//! is at `data["e-invoice_list_url"]`, a presigned URL on another host valid
//! about 24 h, fetched by [`crate::capture::client::Client::fetch_object`]; a
//! failed download carries GSTN's answer at `data.data` (`EINV30113`: no
//! e-invoices, archived as no data).

use tokio::sync::Mutex;

use super::recovery::{fetch_with_session, SessionSlot};
use super::{archive, archive_read, read, CaptureError, Context};
use crate::capture::client::Fetched;
use crate::domain::catalog::{Endpoint, Method, RequestSpec};
use crate::domain::envelope::{self, Outcome};
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;

/// The job answer's member at `pointer`, as text.
fn member(fetched: &Fetched, pointer: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(fetched.body.as_deref()?).ok()?;
    value.pointer(pointer)?.as_str().map(String::from)
}

/// Submits one download, polls it up to `[api] download_polls` times
/// `download_poll_secs` apart, and archives the list (or the answer that
/// ended it). A download still `created` after the last poll is archived as
/// `pending`: the next run asks again.
pub(super) async fn run_einvoice_job(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: Period,
    submit: RequestSpec,
) -> Result<(), CaptureError> {
    let Some(submitted) = fetch_with_session(ctx, slot, gstin, &submit, endpoint.auth).await else {
        ctx.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(());
    };
    let Some(job_id) = member(&submitted, "/data/job_id") else {
        // No download was made (an error, a refusal): that answer is the final word.
        archive(ctx, gstin, endpoint, &period, 0, &submit, &submitted).await?;
        return Ok(());
    };
    let poll = RequestSpec {
        method: Method::Get,
        path: submit.path.clone(),
        query: vec![("job_id".into(), job_id)],
        body: None,
    };
    let polls = ctx.download_polls.max(1);
    for n in 0..polls {
        if n > 0 {
            tokio::time::sleep(ctx.download_poll_interval).await;
        }
        let Some(polled) = fetch_with_session(ctx, slot, gstin, &poll, endpoint.auth).await else {
            ctx.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        };
        let status = member(&polled, "/data/status");
        match status.as_deref() {
            Some("created") if polled.http_status == Some(200) => {
                if n + 1 == polls {
                    let mut reading = read(&polled);
                    if let Some(r) = reading.as_mut().filter(|r| r.outcome == Outcome::Ok) {
                        r.outcome = Outcome::Pending;
                        r.detail = Some(format!(
                            "the e-invoice download was still `created` after {polls} poll(s) {} s apart: \
                             the next run asks again",
                            ctx.download_poll_interval.as_secs()
                        ));
                    }
                    archive_read(ctx, gstin, endpoint, &period, 0, &poll, &polled, reading).await?;
                }
            }
            Some("succeeded") => {
                let Some(url) = member(&polled, "/data/e-invoice_list_url") else {
                    let mut reading = read(&polled);
                    if let Some(r) = reading.as_mut().filter(|r| r.outcome == Outcome::Ok) {
                        r.outcome = Outcome::Unrecognised;
                        r.detail = Some("the download succeeded without an `e-invoice_list_url`".into());
                    }
                    archive_read(ctx, gstin, endpoint, &period, 0, &poll, &polled, reading).await?;
                    return Ok(());
                };
                let file = ctx.client.fetch_object(&url).await;
                let reading = match (&file.body, file.http_status) {
                    (Some(body), Some(status)) => Some(envelope::read_file(status, body)),
                    _ => None,
                };
                // The record names the poll that gave the URL: a presigned URL
                // is a credential for a day and stays out of the archive.
                archive_read(ctx, gstin, endpoint, &period, 0, &poll, &file, reading).await?;
                return Ok(());
            }
            Some("failed") => {
                let mut reading = read(&polled);
                if let Some(r) = reading.as_mut().filter(|r| r.outcome == Outcome::Ok) {
                    r.outcome = Outcome::ApiError;
                    r.detail = Some("the e-invoice download failed".into());
                }
                archive_read(ctx, gstin, endpoint, &period, 0, &poll, &polled, reading).await?;
                return Ok(());
            }
            other => {
                let mut reading = read(&polled);
                if let Some(r) = reading.as_mut().filter(|r| r.outcome == Outcome::Ok) {
                    r.outcome = Outcome::Unrecognised;
                    r.detail = Some(format!("unrecognised download status {other:?}"));
                }
                archive_read(ctx, gstin, endpoint, &period, 0, &poll, &polled, reading).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}
