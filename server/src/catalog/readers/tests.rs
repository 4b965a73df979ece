//! Reader tests against in-process fakes that speak the GitHub contents API and
//! the GitLab repository files API, plus a plain web server for the allow-list.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;

use super::*;
use crate::config::{Config, ReadingAllow, ScmIntegration};

const TOKEN: &str = "s3cret";

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("127.0.0.1:{}", addr.port())
}

type Files = Arc<HashMap<String, String>>;

/// GitHub: `GET /api/repos/{owner}/{repo}/contents/{path}?ref=`; raw media type
/// returns the bytes, anything else the JSON object with base64 content.
async fn github_contents(
    State(files): State<Files>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("token {TOKEN}"))
    {
        return (StatusCode::UNAUTHORIZED, r#"{"message":"Bad credentials"}"#).into_response();
    }
    let key = format!(
        "{owner}/{repo}@{}:{path}",
        query.get("ref").map(String::as_str).unwrap_or("")
    );
    let Some(content) = files.get(&key) else {
        return (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#).into_response();
    };
    let raw =
        headers.get("accept").and_then(|v| v.to_str().ok()) == Some("application/vnd.github.raw");
    if raw && !path.ends_with("json-form.yaml") {
        content.clone().into_response()
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
        let body = serde_json::json!({"type": "file", "encoding": "base64", "path": path,
            "content": format!("{}\n{}", &encoded[..4], &encoded[4..])});
        axum::Json(body).into_response()
    }
}

/// GitLab: `GET /api/v4/projects/{url-encoded project}/repository/files/{url-encoded path}/raw?ref=`.
async fn gitlab_file(
    State(files): State<Files>,
    Path((project, path)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if headers.get("private-token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"message":"401 Unauthorized"}"#,
        )
            .into_response();
    }
    let key = format!(
        "{project}@{}:{path}",
        query.get("ref").map(String::as_str).unwrap_or("")
    );
    match files.get(&key) {
        Some(content) => content.clone().into_response(),
        None => (StatusCode::NOT_FOUND, r#"{"message":"404 File Not Found"}"#).into_response(),
    }
}

pub(crate) async fn fake_github(files: &[(&str, &str)]) -> String {
    let files: Files = Arc::new(
        files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    serve(
        Router::new()
            .route(
                "/api/repos/{owner}/{repo}/contents/{*path}",
                get(github_contents),
            )
            .with_state(files),
    )
    .await
}

async fn fake_gitlab(files: &[(&str, &str)]) -> String {
    let files: Files = Arc::new(
        files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    serve(
        Router::new()
            .route(
                "/api/v4/projects/{project}/repository/files/{path}/raw",
                get(gitlab_file),
            )
            .with_state(files),
    )
    .await
}

pub(crate) async fn fake_web(files: &[(&str, &str)]) -> String {
    let files: Files = Arc::new(
        files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    serve(
        Router::new()
            .fallback(get(
                |State(files): State<Files>, uri: axum::http::Uri| async move {
                    match files.get(uri.path()) {
                        Some(c) => c.clone().into_response(),
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                },
            ))
            .with_state(files),
    )
    .await
}

pub(crate) fn integration(host: &str, api: &str, token: Option<&str>) -> ScmIntegration {
    ScmIntegration {
        host: host.into(),
        token: token.map(Into::into),
        api_base_url: Some(api.into()),
        raw_base_url: None,
        base_url: None,
        apps: None,
    }
}

#[tokio::test]
async fn github_reader_reads_blob_through_contents_api_with_token() {
    let host = fake_github(&[("acme/svc@main:dir/catalog-info.yaml", "kind: Component\n")]).await;
    let reader = GithubReader::new(&[integration(
        &host,
        &format!("http://{host}/api"),
        Some(TOKEN),
    )]);
    let text = reader
        .read_url(&format!(
            "http://{host}/acme/svc/blob/main/dir/catalog-info.yaml"
        ))
        .await
        .unwrap();
    assert_eq!(text, "kind: Component\n");
}

#[tokio::test]
async fn github_reader_decodes_base64_json_form() {
    let host = fake_github(&[("acme/svc@v2:json-form.yaml", "kind: API\nmetadata: {}\n")]).await;
    let reader = GithubReader::new(&[integration(
        &host,
        &format!("http://{host}/api"),
        Some(TOKEN),
    )]);
    let text = reader
        .read_url(&format!("http://{host}/acme/svc/blob/v2/json-form.yaml"))
        .await
        .unwrap();
    assert_eq!(text, "kind: API\nmetadata: {}\n");
}

#[tokio::test]
async fn github_reader_maps_404_to_not_found_and_401_to_other() {
    let host = fake_github(&[]).await;
    let url = format!("http://{host}/acme/svc/blob/main/missing.yaml");
    let reader = GithubReader::new(&[integration(
        &host,
        &format!("http://{host}/api"),
        Some(TOKEN),
    )]);
    let err = reader.read_url(&url).await.unwrap_err();
    assert_eq!(
        err,
        ReadError::NotFound(format!(
            "{url} could not be read as http://{host}/api/repos/acme/svc/contents/missing.yaml?ref=main, 404 Not Found"
        ))
    );
    let unauthenticated =
        GithubReader::new(&[integration(&host, &format!("http://{host}/api"), None)]);
    let err = unauthenticated.read_url(&url).await.unwrap_err();
    assert!(
        matches!(&err, ReadError::Other(m) if m.ends_with("401 Unauthorized")),
        "{err:?}"
    );
}

#[tokio::test]
async fn github_reader_rejects_non_blob_urls() {
    let host = fake_github(&[]).await;
    let reader = GithubReader::new(&[integration(
        &host,
        &format!("http://{host}/api"),
        Some(TOKEN),
    )]);
    let err = reader
        .read_url(&format!("http://{host}/acme/svc/tree/main/x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ReadError::Other(m) if m.starts_with("Incorrectly formatted GitHub URL")),
        "{err:?}"
    );
}

#[tokio::test]
async fn gitlab_reader_reads_nested_project_with_private_token() {
    let host = fake_gitlab(&[(
        "group/sub/project@main:dir/catalog-info.yaml",
        "kind: System\n",
    )])
    .await;
    let reader = GitlabReader::new(&[integration(
        &host,
        &format!("http://{host}/api/v4"),
        Some(TOKEN),
    )]);
    let base = format!("http://{host}/group/sub/project/-/blob/main");
    assert_eq!(
        reader
            .read_url(&format!("{base}/dir/catalog-info.yaml"))
            .await
            .unwrap(),
        "kind: System\n"
    );
    let err = reader
        .read_url(&format!("{base}/nope.yaml"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "NotFoundError");
    let anonymous =
        GitlabReader::new(&[integration(&host, &format!("http://{host}/api/v4"), None)]);
    let err = anonymous
        .read_url(&format!("{base}/dir/catalog-info.yaml"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ReadError::Other(m) if m.ends_with("401 Unauthorized")),
        "{err:?}"
    );
}

#[tokio::test]
async fn composite_reader_routes_by_host_and_enforces_the_allow_list() {
    let gh = fake_github(&[("acme/svc@main:catalog-info.yaml", "from github")]).await;
    let web = fake_web(&[("/catalog/a.yaml", "from web")]).await;
    let mut config = Config::default();
    config
        .integrations
        .github
        .push(integration(&gh, &format!("http://{gh}/api"), Some(TOKEN)));
    config.backend.reading.allow.push(ReadingAllow {
        host: web.clone(),
        paths: vec!["/catalog/".into()],
    });
    let reader = CompositeReader::from_config(&config);

    assert_eq!(
        reader
            .read_url(&format!("http://{gh}/acme/svc/blob/main/catalog-info.yaml"))
            .await
            .unwrap(),
        "from github"
    );
    assert_eq!(
        reader
            .read_url(&format!("http://{web}/catalog/a.yaml"))
            .await
            .unwrap(),
        "from web"
    );

    let missing = reader
        .read_url(&format!("http://{web}/catalog/missing.yaml"))
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        ReadError::NotFound(format!(
            "could not read http://{web}/catalog/missing.yaml, 404 Not Found"
        ))
    );

    let outside_paths = reader
        .read_url(&format!("http://{web}/private/a.yaml"))
        .await
        .unwrap_err();
    assert_eq!(outside_paths.name(), "NotAllowedError");

    let denied = reader
        .read_url("http://127.0.0.1:1/catalog/a.yaml")
        .await
        .unwrap_err();
    match denied {
        ReadError::NotAllowed(message) => {
            assert!(
                message.starts_with(
                    "Reading from 'http://127.0.0.1:1/catalog/a.yaml' is not allowed."
                ),
                "{message}"
            );
            assert!(message.contains("'127.0.0.1:1'"), "{message}");
        }
        other => panic!("expected NotAllowed, got {other:?}"),
    }
}

#[test]
fn composite_reader_checks_a_url_without_reading_it() {
    let mut config = Config::default();
    config.backend.reading.allow.push(ReadingAllow {
        host: "docs.example.com".into(),
        paths: vec!["/catalog/".into()],
    });
    let reader = CompositeReader::from_config(&config);
    // Integration hosts (github.com is always known) and allowed hosts pass.
    assert_eq!(
        reader.check_allowed("https://github.com/acme/svc/blob/main/catalog-info.yaml"),
        Ok(())
    );
    assert_eq!(
        reader.check_allowed("https://docs.example.com/catalog/a.yaml"),
        Ok(())
    );
    assert_eq!(
        reader.check_allowed("https://docs.example.com/private/a.yaml"),
        Err(ReadError::NotAllowed(
            "Reading from 'https://docs.example.com/private/a.yaml' is not allowed. You may need to configure an integration for the target host 'docs.example.com', or add it to the configured list of allowed hosts at 'backend.reading.allow'".into()
        ))
    );
    assert_eq!(
        reader
            .check_allowed("http://elsewhere.example:8080/a.yaml")
            .unwrap_err()
            .name(),
        "NotAllowedError"
    );
    assert_eq!(
        reader.check_allowed("not a url"),
        Err(ReadError::Other(
            "Invalid URL 'not a url', relative URL without a base".into()
        ))
    );
}

#[test]
fn file_reader_reads_paths_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/b.yaml"), "b").unwrap();
    std::fs::write(dir.path().join("sub/a.yaml"), "a").unwrap();
    std::fs::write(dir.path().join("sub/c.txt"), "c").unwrap();

    let single = read_file_target(dir.path().join("sub/a.yaml").to_str().unwrap()).unwrap();
    assert_eq!(
        single,
        vec![FileDocument {
            path: dir.path().join("sub/a.yaml"),
            text: "a".into()
        }]
    );

    let globbed = read_file_target(dir.path().join("*/*.yaml").to_str().unwrap()).unwrap();
    assert_eq!(
        globbed.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(),
        vec!["a", "b"]
    );

    let missing = dir.path().join("nope.yaml");
    assert_eq!(
        read_file_target(missing.to_str().unwrap()).unwrap_err(),
        ReadError::NotFound(format!("file {} does not exist", missing.display()))
    );
    assert_eq!(
        read_file_target(dir.path().join("*.json").to_str().unwrap())
            .unwrap_err()
            .name(),
        "NotFoundError"
    );
    assert_eq!(
        read_file_target(&format!("{}/", dir.path().display()))
            .unwrap_err()
            .name(),
        "Error"
    );
    assert_eq!(
        read_file_target("relative/a.yaml").unwrap_err().name(),
        "Error"
    );
}
