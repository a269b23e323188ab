//! The daemon's loopback listener: `/healthz` (200, or 503 with one reason
//! line per problem: the daemon's own and the health conditions)
//! and `/metrics` (Prometheus text: counters recorded where the work
//! happens, per-GSTIN gauges computed from the archive at scrape time).

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::{Daemon, SILENCE_LIMIT};
use crate::domain::time::Timestamp;

/// The process-wide Prometheus recorder (installed once).
pub(super) fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may exist in tests; then this handle still renders what it records.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

impl Daemon {
    /// Health: the scheduler ticks, the archive is writable, its last write
    /// succeeded, and no health condition holds (one reason line each: the
    /// set the alerts are sent from).
    pub fn health(&self) -> (bool, Vec<String>) {
        let mut reasons = Vec::new();
        // The beat's age on tokio's clock, the clock the heartbeat stored it by.
        let beat = *self.heartbeat.lock().expect("heartbeat slot");
        match beat.map(|at| at.elapsed()) {
            None => reasons.push("scheduler not started".to_string()),
            Some(age) if age > SILENCE_LIMIT => reasons.push(format!("scheduler silent for {} s", age.as_secs())),
            Some(_) => {}
        }
        if let Err(e) = std::fs::OpenOptions::new().write(true).open(&self.config.archive_path) {
            reasons.push(format!("archive not writable: {e}"));
        }
        if let Some(e) = self.store_error.lock().expect("error slot").clone() {
            reasons.push(format!("last archive write failed: {e}"));
        }
        match self.conditions() {
            Ok(conditions) => reasons.extend(conditions.into_iter().map(|c| c.reason)),
            Err(e) => reasons.push(format!("health conditions unknown: {e}")),
        }
        (reasons.is_empty(), reasons)
    }

    /// Prometheus text: counters recorded as work happens, per-GSTIN gauges computed now.
    pub fn metrics_text(&self) -> String {
        let now = self.clock.now();
        if let Ok(store) = self.store.lock() {
            if let Ok(states) = store.session_states() {
                let needs: f64 = states.iter().filter(|s| s.needs_login).count() as f64;
                metrics::gauge!("gstvault_needs_login_gstins").set(needs);
                for state in states {
                    if let Some(expiry) = state.session_expiry.and_then(Timestamp::to_datetime) {
                        metrics::gauge!("gstvault_session_expires_in_seconds", "gstin" => state.gstin.to_string())
                            .set((expiry - now).num_seconds() as f64);
                    }
                }
            }
            if let Ok(last) = store.last_answer_by_gstin() {
                for (gstin, at) in last {
                    if let Some(at) = at.to_datetime() {
                        metrics::gauge!("gstvault_seconds_since_last_capture", "gstin" => gstin.to_string())
                            .set((now - at).num_seconds() as f64);
                    }
                }
            }
        }
        metrics_handle().render()
    }
}

/// Serves `/healthz` and `/metrics` on `socket` until the task is aborted.
pub(super) async fn serve(daemon: Arc<Daemon>, socket: tokio::net::TcpListener) {
    use axum::http::StatusCode;
    use axum::routing::get;
    let health = daemon.clone();
    let metrics = daemon.clone();
    let app = axum::Router::new()
        .route(
            "/healthz",
            get(move || {
                let daemon = health.clone();
                async move {
                    // Blocking: it reads the archive.
                    let (ok, reasons) = tokio::task::spawn_blocking(move || daemon.health())
                        .await
                        .unwrap_or_else(|e| (false, vec![format!("health check stopped: {e}")]));
                    if ok {
                        (StatusCode::OK, "ok\n".to_string())
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", reasons.join("\n")))
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let daemon = metrics.clone();
                async move {
                    let text = tokio::task::spawn_blocking(move || daemon.metrics_text())
                        .await
                        .unwrap_or_default();
                    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
                }
            }),
        );
    if let Err(e) = axum::serve(socket, app).await {
        tracing::error!(error = %e, "health and metrics listener stopped");
    }
}
