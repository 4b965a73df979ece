//! Runs the real `greenroom` binary: `catalog validate` on temp files, and
//! `--against` with an in-process fake of `POST /api/catalog/entities/by-refs`.

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

const GOOD: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: shop
  providesApis:
    - payments-api
    - missing-api
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: shop
spec:
  owner: team-a
";

const BAD_NAME: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: 'not a valid name!'
spec:
  type: service
  lifecycle: production
  owner: team-a
";

async fn greenroom(args: &[&str]) -> (Output, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_greenroom"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run the greenroom binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn valid_file_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "catalog-info.yaml", GOOD);
    let (output, text) = greenroom(&["catalog", "validate", &file]).await;
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("1 file, 2 entities: no problems found"),
        "{text}"
    );
}

#[tokio::test]
async fn invalid_name_exits_one_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.yaml", BAD_NAME);
    let (output, text) = greenroom(&["catalog", "validate", &file]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("metadata.name"))
        .unwrap_or_else(|| panic!("no metadata.name error in:\n{text}"));
    assert!(
        line.starts_with(&format!("{file}:4: metadata.name: ")),
        "{line}"
    );
    assert!(text.contains("1 error"), "{text}");
}

#[tokio::test]
async fn directories_are_searched_for_catalog_info_and_missing_paths_fail() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "services/payments/catalog-info.yaml", GOOD);
    write(dir.path(), "services/broken/catalog-info.yaml", BAD_NAME);
    write(dir.path(), "services/notes.yaml", "not: [a descriptor");
    let root = dir.path().join("services").to_string_lossy().into_owned();
    let (output, text) = greenroom(&["catalog", "validate", &root]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("broken/catalog-info.yaml:4: metadata.name"),
        "{text}"
    );
    assert!(
        !text.contains("notes.yaml"),
        "only catalog-info.yaml files are searched: {text}"
    );
    assert!(text.contains("2 files, "), "{text}");

    let missing = dir.path().join("nope.yaml").to_string_lossy().into_owned();
    let (output, text) = greenroom(&["catalog", "validate", &missing]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{missing}: no such file or directory")),
        "{text}"
    );
}

/// A fake catalog that knows `known` refs and records the refs it was asked for.
async fn fake_catalog(known: &'static [&'static str]) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let app = Router::new().route(
        "/api/catalog/entities/by-refs",
        post(move |Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                let refs: Vec<String> = body["entityRefs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect();
                let items: Vec<Value> = refs
                    .iter()
                    .map(|r| {
                        if known.contains(&r.as_str()) {
                            json!({"kind": "x", "metadata": {"name": r}})
                        } else {
                            Value::Null
                        }
                    })
                    .collect();
                seen.lock().unwrap().extend(refs);
                Json(json!({ "items": items }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, asked)
}

#[tokio::test]
async fn against_reports_refs_missing_from_the_catalog() {
    let (url, asked) = fake_catalog(&["group:default/team-a", "api:default/payments-api"]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "catalog-info.yaml", GOOD);
    let (output, text) = greenroom(&["catalog", "validate", &file, "--against", &url]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    let expected = format!("{file}:12: spec.providesApis: entity api:default/missing-api does not exist in the catalog at {url}");
    assert!(
        text.contains(&expected),
        "expected {expected:?} in:\n{text}"
    );
    assert!(
        text.contains("1 error"),
        "only the missing API is an error:\n{text}"
    );

    let mut asked = asked.lock().unwrap().clone();
    asked.sort();
    // system:default/shop is defined in the file itself, so it is not asked for.
    assert_eq!(
        asked,
        vec![
            "api:default/missing-api",
            "api:default/payments-api",
            "group:default/team-a"
        ]
    );
}

#[tokio::test]
async fn against_passes_when_every_ref_exists() {
    let (url, _) = fake_catalog(&[
        "group:default/team-a",
        "api:default/payments-api",
        "api:default/missing-api",
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "catalog-info.yaml", GOOD);
    let (output, text) = greenroom(&["catalog", "validate", &file, "--against", &url]).await;
    assert_eq!(output.status.code(), Some(0), "{text}");
}

#[tokio::test]
async fn against_an_unreachable_catalog_is_an_error() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "catalog-info.yaml", GOOD);
    let url = format!("http://127.0.0.1:{port}");
    let (output, text) = greenroom(&["catalog", "validate", &file, "--against", &url]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("cannot check references against {url}")),
        "{text}"
    );
}

#[tokio::test]
async fn help_documents_every_subcommand() {
    let (output, text) = greenroom(&["--help"]).await;
    assert_eq!(output.status.code(), Some(0), "{text}");
    for needle in ["serve", "catalog", "--config", "GREENROOM_LOG_FORMAT"] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }
    let (_, text) = greenroom(&["catalog", "validate", "--help"]).await;
    for needle in ["--against", "catalog-info.yaml", "<PATH>"] {
        assert!(
            text.contains(needle),
            "validate --help lacks {needle}:\n{text}"
        );
    }
}

#[tokio::test]
async fn serve_with_an_invalid_config_fails_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "app-config.yaml",
        "backend:\n  listen:\n    port: abc\n",
    );
    let (output, text) = greenroom(&["--config", &config]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("backend.listen.port: invalid type: string \"abc\", expected u16"),
        "{text}"
    );
}

#[tokio::test]
async fn yaml_syntax_error_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "broken.yaml",
        "kind: Component\nmetadata:\n  name: [oops\n",
    );
    let (output, text) = greenroom(&["catalog", "validate", &file]).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("{file}:3: ")), "{text}");
}
