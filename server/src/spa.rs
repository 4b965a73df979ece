//! Serving the built single-page app (`dist/`, produced by `scripts/build-frontend`).
//!
//! The router returned by [`spa_service`] only has a fallback, so it can be merged
//! after the API routes: files that exist are served with their content type
//! (precompressed `.gz` siblings when the client accepts gzip), and every other
//! GET outside the API answers `index.html` so that client-side routes such as
//! `/catalog/default/component/foo` survive a reload. Unknown `/api` and
//! `/.backstage` paths get a Backstage-shaped 404 instead of the app shell.
//! When the app has not been built, a small page explains how to build it; the
//! API keeps working either way.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    response::{Html, IntoResponse, Response},
    Json, Router,
};
use std::{path::PathBuf, sync::Arc};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// Path prefixes owned by the backend: never answered with the app shell.
const RESERVED_PREFIXES: [&str; 2] = ["/api", "/.backstage"];

/// Shown on every app route while `dist/index.html` does not exist.
const NOT_BUILT_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Greenroom: web UI not built</title></head>
<body>
<h1>The Greenroom web UI is not built</h1>
<p>The API is running under <code>/api</code>. To build the web UI, run
<code>./scripts/build-frontend</code> (or start everything with <code>./scripts/run</code>)
from the repository root, then reload this page.</p>
</body>
</html>
"#;

/// A router serving the single-page app from `dist_dir`, generic over the
/// application state so it can be merged into the main router.
pub fn spa_service<S>(dist_dir: PathBuf) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let files = Arc::new(SpaFiles { dist_dir });
    Router::new().fallback(move |request: Request| {
        let files = Arc::clone(&files);
        async move { files.serve(request).await }
    })
}

struct SpaFiles {
    dist_dir: PathBuf,
}

impl SpaFiles {
    async fn serve(&self, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        if is_reserved(&path) {
            return reserved_not_found(request.method(), &path);
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
            )
                .into_response();
        }
        let index = self.dist_dir.join("index.html");
        // Checked per request so a UI built while the server runs is picked up.
        if !tokio::fs::try_exists(&index).await.unwrap_or(false) {
            return Html(NOT_BUILT_PAGE).into_response();
        }
        let files = ServeDir::new(&self.dist_dir)
            .precompressed_gzip()
            .fallback(ServeFile::new(index).precompressed_gzip());
        let mut response = match files.oneshot(request).await {
            Ok(response) => response.map(Body::new),
            Err(never) => match never {},
        };
        // File names are not content-hashed, so browsers must revalidate
        // (Last-Modified / If-Modified-Since keeps that cheap).
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

/// True for `/api`, `/api/...`, `/.backstage`, `/.backstage/...` (not `/apidocs`).
fn is_reserved(path: &str) -> bool {
    RESERVED_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Backstage's error body for a route no backend module handles.
fn reserved_not_found(method: &Method, path: &str) -> Response {
    let body = serde_json::json!({
        "error": { "name": "NotFoundError", "message": format!("No route for {method} {path}") },
        "request": { "method": method.as_str(), "url": path },
        "response": { "statusCode": 404 },
    });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::path::Path;

    const INDEX: &str = "<!doctype html><title>Greenroom</title><body>app-shell</body>";

    fn built_dist() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), INDEX).unwrap();
        std::fs::write(dir.path().join("style.css"), "body{margin:0}").unwrap();
        std::fs::write(
            dir.path().join("greenroom_frontend_bg.wasm"),
            b"\0asm\x01\0\0\0",
        )
        .unwrap();
        dir
    }

    async fn send(
        dist: &Path,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = spa_service::<()>(dist.to_path_buf())
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, content_type, body)
    }

    async fn get(dist: &Path, uri: &str) -> (StatusCode, Option<String>, String) {
        let (status, content_type, body) = send(dist, Method::GET, uri, &[]).await;
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn client_routes_fall_back_to_index_html() {
        let dist = built_dist();
        for uri in [
            "/",
            "/catalog",
            "/catalog/default/component/petstore",
            "/catalog/default/component/a.b",
            "/no/such/file.js",
        ] {
            let (status, content_type, body) = get(dist.path(), uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert!(content_type.unwrap().starts_with("text/html"), "{uri}");
            assert_eq!(body, INDEX, "{uri}");
        }
    }

    #[tokio::test]
    async fn wasm_is_served_as_application_wasm() {
        let dist = built_dist();
        let (status, content_type, body) = get(dist.path(), "/greenroom_frontend_bg.wasm").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/wasm"));
        assert_eq!(body.as_bytes(), b"\0asm\x01\0\0\0");
    }

    #[tokio::test]
    async fn stylesheet_is_served_as_css() {
        let dist = built_dist();
        let (status, content_type, body) = get(dist.path(), "/style.css").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.unwrap().starts_with("text/css"));
        assert_eq!(body, "body{margin:0}");
    }

    #[tokio::test]
    async fn missing_dist_serves_build_instructions() {
        let parent = tempfile::tempdir().unwrap();
        let dist = parent.path().join("dist");
        for uri in ["/", "/catalog/default/component/petstore"] {
            let (status, content_type, body) = get(&dist, uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert!(content_type.unwrap().starts_with("text/html"));
            assert!(body.contains("not built"), "{body}");
            assert!(body.contains("scripts/build-frontend"), "{body}");
        }
    }

    #[tokio::test]
    async fn dist_without_index_counts_as_not_built() {
        let dist = tempfile::tempdir().unwrap();
        std::fs::write(dist.path().join("style.css"), "body{}").unwrap();
        let (status, _, body) = get(dist.path(), "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("scripts/build-frontend"));
    }

    #[tokio::test]
    async fn backend_paths_get_a_json_404_not_the_app_shell() {
        let dist = built_dist();
        for uri in [
            "/api",
            "/api/catalog/nope",
            "/.backstage/health/v1/readiness",
        ] {
            let (status, content_type, body) = get(dist.path(), uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(content_type.as_deref(), Some("application/json"));
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"]["name"], "NotFoundError");
            assert_eq!(json["request"]["url"], uri);
            assert_eq!(json["response"]["statusCode"], 404);
        }
        // A path that merely starts with the same letters is an app route.
        let (status, _, body) = get(dist.path(), "/apidocs").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, INDEX);
    }

    #[tokio::test]
    async fn other_methods_are_rejected() {
        let dist = built_dist();
        let (status, _, _) = send(dist.path(), Method::POST, "/catalog", &[]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn head_requests_are_answered() {
        let dist = built_dist();
        let (status, content_type, body) = send(dist.path(), Method::HEAD, "/style.css", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.unwrap().starts_with("text/css"));
        assert!(body.is_empty());
    }

    #[tokio::test]
    async fn precompressed_gzip_is_preferred_when_accepted() {
        let dist = built_dist();
        let gz = b"\x1f\x8b-pretend-gzip".to_vec();
        std::fs::write(dist.path().join("greenroom_frontend_bg.wasm.gz"), &gz).unwrap();
        let mut request = Request::builder()
            .uri("/greenroom_frontend_bg.wasm")
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .body(Body::empty())
            .unwrap();
        request
            .headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let response = spa_service::<()>(dist.path().to_path_buf())
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/wasm");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.to_vec(), gz);
        // Without Accept-Encoding the plain file is sent.
        let (_, _, plain) =
            send(dist.path(), Method::GET, "/greenroom_frontend_bg.wasm", &[]).await;
        assert_eq!(plain, b"\0asm\x01\0\0\0");
    }

    #[tokio::test]
    async fn paths_cannot_escape_the_dist_dir() {
        let parent = tempfile::tempdir().unwrap();
        let dist = parent.path().join("dist");
        std::fs::create_dir(&dist).unwrap();
        std::fs::write(dist.join("index.html"), INDEX).unwrap();
        std::fs::write(parent.path().join("secret.txt"), "top-secret").unwrap();
        for uri in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
            let (_, _, body) = get(&dist, uri).await;
            assert!(
                !body.contains("top-secret"),
                "{uri} leaked a file outside dist"
            );
        }
    }

    #[tokio::test]
    async fn responses_ask_browsers_to_revalidate() {
        let dist = built_dist();
        let response = spa_service::<()>(dist.path().to_path_buf())
            .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn reserved_prefixes_match_whole_segments() {
        assert!(is_reserved("/api"));
        assert!(is_reserved("/api/catalog/entities"));
        assert!(is_reserved("/.backstage"));
        assert!(is_reserved("/.backstage/health"));
        assert!(!is_reserved("/apis"));
        assert!(!is_reserved("/catalog/api"));
        assert!(!is_reserved("/"));
    }
}
