//! Prometheus metrics: one recorder per process, the `/metrics` endpoint, and the
//! HTTP middleware. Requests are labelled by the route template (axum's
//! `MatchedPath`, e.g. `/api/catalog/entities/by-uid/{uid}`), never by the raw
//! path, so label cardinality stays bounded.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS_TOTAL: &str = "greenroom_http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "greenroom_http_request_duration_seconds";
/// The `route` label of requests no route matched.
const UNMATCHED_ROUTE: &str = "unmatched";

/// Request latency buckets (seconds): rendered as a real Prometheus histogram.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus handle; installs the global recorder on first use.
/// If another recorder was installed first, metrics go there and this handle
/// renders an empty page rather than failing the process.
pub fn prometheus_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.into()),
                DURATION_BUCKETS,
            )
            .expect("bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "a metrics recorder was already installed; /metrics will not show its data"
            );
        }
        handle
    })
}

/// The Prometheus text exposition of every recorded metric.
pub fn render_metrics() -> String {
    let handle = prometheus_handle();
    handle.run_upkeep();
    handle.render()
}

pub(super) async fn metrics_endpoint() -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        render_metrics(),
    )
        .into_response()
}

/// Middleware (`axum::middleware::from_fn(track_http_metrics)`) counting requests
/// by `{method, route, status}` and timing them by `{method, route}`.
pub async fn track_http_metrics(request: Request, next: Next) -> Response {
    // Make sure the recorder exists before the first metric is emitted.
    prometheus_handle();
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS_TOTAL, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
