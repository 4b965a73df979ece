use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

async fn call(app: &Router, path: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn liveness_and_readiness_are_ok_without_checks() {
    let app: Router = router(HealthChecks::new());
    for path in [LIVENESS_PATH, READINESS_PATH] {
        let (status, body) = call(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"status": "ok"}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn readiness_reports_failed_checks_with_503() {
    let checks = HealthChecks::new()
        .with_fn("cache", || async { Ok(()) })
        .with_fn("database", || async {
            Err("connection refused".to_string())
        });
    let app: Router = router(checks);
    let (status, body) = call(&app, READINESS_PATH).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["checks"], json!({"database": "connection refused"}));
    assert!(body["message"].as_str().unwrap().contains("database"));
    // Liveness does not depend on the checks.
    assert_eq!(call(&app, LIVENESS_PATH).await.0, StatusCode::OK);
}

#[tokio::test]
async fn readiness_accepts_check_objects() {
    struct AlwaysReady;
    #[async_trait::async_trait]
    impl ReadinessCheck for AlwaysReady {
        async fn check(&self) -> Result<(), String> {
            Ok(())
        }
    }
    let app: Router = router(HealthChecks::new().with("always", AlwaysReady));
    assert_eq!(call(&app, READINESS_PATH).await.0, StatusCode::OK);
}

#[tokio::test]
async fn http_metrics_are_labelled_by_matched_route_not_raw_path() {
    let app: Router = Router::new()
        .route("/things/{id}", get(|| async { "thing" }))
        .merge(router(HealthChecks::new()))
        .layer(axum::middleware::from_fn(track_http_metrics));
    assert_eq!(call(&app, "/things/7731942").await.0, StatusCode::OK);
    assert_eq!(call(&app, "/things/7731943").await.0, StatusCode::OK);
    assert_eq!(
        call(&app, "/no/such/route/5550123").await.0,
        StatusCode::NOT_FOUND
    );

    let (status, text) = call(&app, METRICS_PATH).await;
    assert_eq!(status, StatusCode::OK);
    let counted = text
        .lines()
        .find(|l| l.starts_with(HTTP_REQUESTS_TOTAL) && l.contains(r#"route="/things/{id}""#))
        .unwrap_or_else(|| panic!("no request counter for the route template in:\n{text}"));
    assert!(
        counted.contains(r#"method="GET""#) && counted.contains(r#"status="200""#),
        "{counted}"
    );
    assert!(
        counted.trim_end().ends_with(" 2"),
        "both requests counted under one label set: {counted}"
    );
    assert!(
        text.lines().any(|l| l.starts_with(HTTP_REQUESTS_TOTAL)
            && l.contains(r#"route="unmatched""#)
            && l.contains(r#"status="404""#)),
        "unmatched requests use the 'unmatched' label:\n{text}"
    );
    assert!(
        text.contains(&format!("{HTTP_REQUEST_DURATION_SECONDS}_bucket"))
            && text.contains(r#"le="0.005""#),
        "duration is a histogram:\n{text}"
    );
    for raw in ["7731942", "7731943", "5550123", "/no/such/route"] {
        assert!(
            !text.contains(raw),
            "raw path {raw} leaked into labels:\n{text}"
        );
    }
}
