//! Operational routes: Backstage's health endpoints and the Prometheus scrape
//! endpoint, plus the middleware that records HTTP metrics.
//!
//! Wiring (in the app builder):
//! ```text
//! let app = Router::new()
//!     .merge(api_routes)
//!     .merge(ops::router(ops::HealthChecks::new().with_fn("database", move || { ... })))
//!     .layer(axum::middleware::from_fn(ops::track_http_metrics));
//! ```
//! The metrics layer must be added with `Router::layer` after the routes so each
//! request carries its `MatchedPath`.

mod health;
mod metrics;

use axum::routing::get;
use axum::Router;

pub use health::{HealthChecks, ReadinessCheck};
pub use metrics::{
    prometheus_handle, render_metrics, track_http_metrics, HTTP_REQUESTS_TOTAL,
    HTTP_REQUEST_DURATION_SECONDS,
};

pub const READINESS_PATH: &str = "/.backstage/health/v1/readiness";
pub const LIVENESS_PATH: &str = "/.backstage/health/v1/liveness";
pub const METRICS_PATH: &str = "/metrics";

/// Health and metrics routes; `checks` decide readiness.
pub fn router<S>(checks: HealthChecks) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(LIVENESS_PATH, get(health::liveness))
        .route(READINESS_PATH, get(health::readiness).with_state(checks))
        .route(METRICS_PATH, get(metrics::metrics_endpoint))
}

#[cfg(test)]
mod tests;
