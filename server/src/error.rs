//! One error type for every HTTP route, rendered as Backstage's error body:
//!
//! ```json
//! {"error":{"name":"NotFoundError","message":"..."},
//!  "request":{"method":"GET","url":"/entities/by-uid/x"},
//!  "response":{"statusCode":404}}
//! ```
//!
//! The request half of the body is only known to the router, not to the handler
//! that fails, so rendering happens in two steps: [`ApiError::into_response`]
//! attaches the error to the response as an extension, and the
//! [`error_body_layer`] middleware (installed on each plugin router) rewrites
//! such responses with the method and the plugin-relative URL of the request.
//! Internal (5xx) details are logged and never returned.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use greenroom_store::StoreError;
use serde_json::json;

/// Bodies larger than this are refused with 413 (Backstage's body parser limit).
pub const BODY_LIMIT_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or fails validation.
    #[error("{0}")]
    Input(String),
    /// 401: missing or invalid credentials.
    #[error("{0}")]
    Authentication(String),
    /// 403: the caller may not do this (permission denied, readonly mode).
    #[error("{0}")]
    NotAllowed(String),
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 409
    #[error("{0}")]
    Conflict(String),
    /// 413: body over [`BODY_LIMIT_BYTES`].
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 501
    #[error("{0}")]
    NotImplemented(String),
    /// 503
    #[error("{0}")]
    ServiceUnavailable(String),
    /// 500: the details are logged; clients see a generic message.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn input(message: impl Into<String>) -> Self {
        Self::Input(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
    pub fn not_allowed(message: impl Into<String>) -> Self {
        Self::NotAllowed(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// The Backstage error name (`error.name` in the body).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Input(_) => "InputError",
            Self::Authentication(_) => "AuthenticationError",
            Self::NotAllowed(_) => "NotAllowedError",
            Self::NotFound(_) => "NotFoundError",
            Self::Conflict(_) => "ConflictError",
            Self::PayloadTooLarge(_) => "PayloadTooLargeError",
            Self::NotImplemented(_) => "NotImplementedError",
            Self::ServiceUnavailable(_) => "ServiceUnavailableError",
            Self::Internal(_) => "Error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Input(_) => StatusCode::BAD_REQUEST,
            Self::Authentication(_) => StatusCode::UNAUTHORIZED,
            Self::NotAllowed(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message clients see; internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "Internal server error".to_string(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Input(m) => Self::Input(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The error as carried from a handler to [`error_body_layer`].
#[derive(Debug, Clone)]
struct RenderedError {
    name: &'static str,
    message: String,
    status: StatusCode,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // 503 is a state the caller is told about (an index being built,
        // a readonly replica), not a failure of the server.
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %self, "request failed");
        }
        let rendered = RenderedError {
            name: self.name(),
            message: self.public_message(),
            status,
        };
        // Without the middleware (e.g. a router used on its own) the body still
        // has the Backstage shape, only with an unknown request.
        let mut response = error_body(status, &rendered, "", "").into_response();
        response.extensions_mut().insert(rendered);
        response
    }
}

fn error_body(status: StatusCode, err: &RenderedError, method: &str, url: &str) -> Response {
    let body = json!({
        "error": {"name": err.name, "message": err.message},
        "request": {"method": method, "url": url},
        "response": {"statusCode": status.as_u16()},
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Middleware: fills `request.method` and `request.url` of error bodies.
/// Install it on a plugin router *before* nesting it, so the URI it sees is
/// the plugin-relative one (the part after `/api/<plugin>`).
pub async fn error_body_layer(request: Request, next: Next) -> Response {
    let method: Method = request.method().clone();
    let url = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let response = next.run(request).await;
    let rendered = match response.extensions().get::<RenderedError>().cloned() {
        Some(rendered) => rendered,
        None if is_plain_error(&response) => plain_error(response).await,
        None => return response,
    };
    let mut rewritten = error_body(rendered.status, &rendered, method.as_str(), &url);
    rewritten.extensions_mut().insert(rendered);
    rewritten
}

/// An error response not produced by [`ApiError`] (e.g. an axum extractor
/// rejection such as an undecodable path parameter): plain text, not JSON.
fn is_plain_error(response: &Response) -> bool {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    (status.is_client_error() || status.is_server_error()) && !is_json
}

/// Turns a plain-text error response into a [`RenderedError`], keeping its
/// status and (for 4xx) its text as the message.
async fn plain_error(response: Response) -> RenderedError {
    let status = response.status();
    let name = match status {
        StatusCode::BAD_REQUEST => "InputError",
        StatusCode::UNAUTHORIZED => "AuthenticationError",
        StatusCode::FORBIDDEN => "NotAllowedError",
        StatusCode::NOT_FOUND => "NotFoundError",
        StatusCode::CONFLICT => "ConflictError",
        StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLargeError",
        StatusCode::NOT_IMPLEMENTED => "NotImplementedError",
        StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailableError",
        _ => "Error",
    };
    let message = if status.is_server_error() {
        tracing::error!(status = status.as_u16(), "request failed");
        "Internal server error".to_string()
    } else {
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        if text.is_empty() {
            "<no reason given>".to_string()
        } else {
            text
        }
    };
    RenderedError {
        name,
        message,
        status,
    }
}

/// Fallback for unknown routes (and wrong methods) under a plugin router.
pub async fn not_found_fallback(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "No route for {} {}",
        request.method(),
        request.uri().path()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn names_and_statuses_follow_backstage() {
        let cases = [
            (ApiError::input("x"), "InputError", 400),
            (
                ApiError::Authentication("x".into()),
                "AuthenticationError",
                401,
            ),
            (ApiError::not_allowed("x"), "NotAllowedError", 403),
            (ApiError::not_found("x"), "NotFoundError", 404),
            (ApiError::conflict("x"), "ConflictError", 409),
            (
                ApiError::PayloadTooLarge("x".into()),
                "PayloadTooLargeError",
                413,
            ),
            (
                ApiError::NotImplemented("x".into()),
                "NotImplementedError",
                501,
            ),
            (
                ApiError::ServiceUnavailable("x".into()),
                "ServiceUnavailableError",
                503,
            ),
            (ApiError::internal("x"), "Error", 500),
        ];
        for (err, name, status) in cases {
            assert_eq!(err.name(), name);
            assert_eq!(err.status().as_u16(), status);
        }
    }

    #[test]
    fn store_errors_map_to_api_errors() {
        assert!(
            matches!(ApiError::from(StoreError::NotFound("a".into())), ApiError::NotFound(m) if m == "a")
        );
        assert!(
            matches!(ApiError::from(StoreError::Conflict("b".into())), ApiError::Conflict(m) if m == "b")
        );
        assert!(
            matches!(ApiError::from(StoreError::Input("c".into())), ApiError::Input(m) if m == "c")
        );
        assert!(matches!(
            ApiError::from(StoreError::Decode("d".into())),
            ApiError::Internal(_)
        ));
    }

    #[tokio::test]
    async fn body_carries_request_method_and_relative_url() {
        let app = Router::new()
            .route(
                "/things/{id}",
                get(|| async { ApiError::not_found("No thing") }),
            )
            .layer(axum::middleware::from_fn(error_body_layer));
        let app = Router::new().nest("/api/demo", app);
        let response = app
            .oneshot(
                Request::get("/api/demo/things/1?x=y")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        assert_eq!(
            body_json(response).await,
            json!({
                "error": {"name": "NotFoundError", "message": "No thing"},
                "request": {"method": "GET", "url": "/things/1?x=y"},
                "response": {"statusCode": 404}
            })
        );
    }

    #[tokio::test]
    async fn extractor_rejections_get_the_error_body() {
        let app = Router::new()
            .route(
                "/n/{n}",
                get(
                    |axum::extract::Path(n): axum::extract::Path<u32>| async move { n.to_string() },
                ),
            )
            .layer(axum::middleware::from_fn(error_body_layer));
        let response = app
            .oneshot(Request::get("/n/abc").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(response).await;
        assert_eq!(body["error"]["name"], "InputError");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("abc"),
            "{body}"
        );
        assert_eq!(body["request"], json!({"method": "GET", "url": "/n/abc"}));
        assert_eq!(body["response"], json!({"statusCode": 400}));
    }

    #[tokio::test]
    async fn internal_details_are_not_returned() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async { ApiError::internal("secret connection string") }),
            )
            .layer(axum::middleware::from_fn(error_body_layer));
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_json(response).await;
        assert_eq!(body["error"]["message"], "Internal server error");
        assert!(!body.to_string().contains("secret"));
    }
}
