//! `/.backstage/health/v1/{liveness,readiness}` (reference section 0): liveness is
//! always `{"status":"ok"}`; readiness runs the registered checks (e.g. a database
//! ping) and answers 503 `{"status":"error", ...}` when one fails.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

/// One readiness probe. `Err` carries a short reason that is returned to the
/// caller, so keep secrets and connection strings out of it.
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync + 'static {
    async fn check(&self) -> Result<(), String>;
}

type BoxedCheck = Arc<dyn ReadinessCheck>;

/// The named checks readiness runs, in order.
#[derive(Clone, Default)]
pub struct HealthChecks {
    checks: Vec<(String, BoxedCheck)>,
}

impl HealthChecks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check object.
    pub fn with(mut self, name: impl Into<String>, check: impl ReadinessCheck) -> Self {
        self.checks.push((name.into(), Arc::new(check)));
        self
    }

    /// Adds a check from an async closure, e.g.
    /// `with_fn("database", move || { let s = store.clone(); async move { s.ping().await.map_err(|e| e.to_string()) } })`.
    pub fn with_fn<F, Fut>(self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.with(
            name,
            FnCheck(move || Box::pin(check()) as Pin<Box<dyn Future<Output = _> + Send>>),
        )
    }

    /// Runs every check; the failures by name (empty when ready).
    pub async fn failures(&self) -> Map<String, Value> {
        let mut failed = Map::new();
        for (name, check) in &self.checks {
            if let Err(reason) = check.check().await {
                failed.insert(name.clone(), Value::String(reason));
            }
        }
        failed
    }
}

struct FnCheck<F>(F);

#[async_trait::async_trait]
impl<F> ReadinessCheck for FnCheck<F>
where
    F: Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync + 'static,
{
    async fn check(&self) -> Result<(), String> {
        (self.0)().await
    }
}

pub(super) async fn liveness() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub(super) async fn readiness(State(checks): State<HealthChecks>) -> (StatusCode, Json<Value>) {
    let failed = checks.failures().await;
    if failed.is_empty() {
        return (StatusCode::OK, Json(json!({ "status": "ok" })));
    }
    tracing::warn!(checks = ?failed, "readiness check failed");
    let names: Vec<&str> = failed.keys().map(String::as_str).collect();
    let message = format!("Backend is not ready: {} check failed", names.join(", "));
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "error", "message": message, "checks": failed })),
    )
}
