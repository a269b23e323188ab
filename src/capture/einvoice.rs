//! e-invoice lists: the API answers them through an asynchronous request
//! (what it calls a job: submit, poll, then fetch the list from a signed
//! URL). Here that is an e-invoice download; only the list is evidence, the
//! submit and poll answers are bookkeeping and are not archived.

use tokio::sync::Mutex;

use super::recovery::{fetch_with_session, SessionSlot};
use super::{archive, CaptureError, Context};
use crate::domain::catalog::{Endpoint, RequestSpec};
use crate::domain::gstin::Gstin;
use crate::domain::period::Period;

/// e-invoice list: submit the job, poll it, download the list it points to and
/// archive the list. The submit and poll answers are bookkeeping, not evidence.
pub(super) async fn run_einvoice_job(
    ctx: &Context,
    slot: &Mutex<SessionSlot>,
    gstin: &Gstin,
    endpoint: &'static Endpoint,
    period: Period,
    submit: RequestSpec,
) -> Result<(), CaptureError> {
    let Some(submitted) = fetch_with_session(ctx, slot, gstin, &submit, endpoint.auth).await else {
        return Ok(());
    };
    let job_id = submitted
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| {
            v.pointer("/data/data/job_id")
                .and_then(|j| j.as_str())
                .map(String::from)
        });
    let Some(job_id) = job_id else {
        archive(ctx, gstin, endpoint, &period, 0, &submit, &submitted).await?;
        return Ok(());
    };
    let poll = RequestSpec {
        method: crate::domain::catalog::Method::Get,
        path: submit.path.clone(),
        query: vec![("job_id".into(), job_id)],
        body: None,
    };
    for _ in 0..10 {
        let Some(polled) = fetch_with_session(ctx, slot, gstin, &poll, endpoint.auth).await else {
            return Ok(());
        };
        let value = polled
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
        let status = value
            .as_ref()
            .and_then(|v| v.pointer("/data/data/status"))
            .and_then(|s| s.as_str())
            .map(String::from);
        let url = value
            .as_ref()
            .and_then(|v| v.pointer("/data/data/signed_url"))
            .and_then(|s| s.as_str())
            .map(String::from);
        match (status.as_deref(), url) {
            (Some("completed"), Some(url)) => {
                let file = ctx.client.fetch_signed_url(&url).await;
                let spec = RequestSpec {
                    method: crate::domain::catalog::Method::Get,
                    path: poll.path.clone(),
                    query: poll.query.clone(),
                    body: None,
                };
                archive(ctx, gstin, endpoint, &period, 0, &spec, &file).await?;
                return Ok(());
            }
            (Some("queued") | Some("processing"), _) => {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            _ => {
                archive(ctx, gstin, endpoint, &period, 0, &poll, &polled).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}
