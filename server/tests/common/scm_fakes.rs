//! In-process fakes of the GitHub REST API (v3, as GitHub Enterprise serves
//! it under `/api/v3`) and the GitLab REST API (v4), speaking their wire
//! formats for the calls Greenroom makes. Git itself is real: repositories
//! are bare repositories served over smart HTTP by `git http-backend`, which
//! checks the same token as the API. Every API request is recorded so a test
//! can check what the real clients (octocrab, reqwest) sent, field by field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Github,
    Gitlab,
}

/// One API request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
}

struct Inner {
    flavor: Flavor,
    token: String,
    root: tempfile::TempDir,
    base: String,
    requests: Mutex<Vec<Recorded>>,
    /// GitHub accounts: login -> "User" | "Organization"; GitLab groups: path -> id.
    accounts: BTreeMap<String, (String, u64)>,
    pulls: Mutex<u64>,
}

pub struct FakeForge {
    inner: Arc<Inner>,
    shutdown: tokio_util::sync::CancellationToken,
}

impl FakeForge {
    /// Starts the fake on a loopback port. `accounts`: (name, GitHub account
    /// type or GitLab namespace kind).
    pub async fn start(flavor: Flavor, token: &str, accounts: &[(&str, &str)]) -> FakeForge {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            flavor,
            token: token.to_string(),
            root: tempfile::tempdir().unwrap(),
            base,
            requests: Mutex::new(Vec::new()),
            accounts: accounts
                .iter()
                .enumerate()
                .map(|(i, (name, kind))| (name.to_string(), (kind.to_string(), 40 + i as u64)))
                .collect(),
            pulls: Mutex::new(0),
        });
        let shutdown = tokio_util::sync::CancellationToken::new();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .unwrap();
        });
        FakeForge { inner, shutdown }
    }

    /// `127.0.0.1:<port>`: the integration's `host`.
    pub fn host(&self) -> String {
        self.inner.base.trim_start_matches("http://").to_string()
    }

    pub fn base(&self) -> &str {
        &self.inner.base
    }

    pub fn api_base_url(&self) -> String {
        match self.inner.flavor {
            Flavor::Github => format!("{}/api/v3", self.inner.base),
            Flavor::Gitlab => format!("{}/api/v4", self.inner.base),
        }
    }

    /// The bare repository `<owner>/<name>.git`.
    pub fn repo_dir(&self, owner: &str, name: &str) -> PathBuf {
        self.inner
            .root
            .path()
            .join(owner)
            .join(format!("{name}.git"))
    }

    /// Creates a repository holding `files` on `branch` (as if made earlier).
    pub fn seed(&self, owner: &str, name: &str, branch: &str, files: &Path) {
        let dir = self.repo_dir(owner, name);
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        let work = tempfile::tempdir().unwrap();
        super::git::copy_tree(files, work.path());
        super::git::git(work.path(), &["init", "-q", "-b", branch]);
        super::git::git(work.path(), &["add", "-A"]);
        super::git::git(work.path(), &["commit", "-q", "-m", "seed"]);
        super::git::git(
            self.inner.root.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.path().to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
        );
    }

    /// A file at a revision of a repository, if there.
    pub fn show(&self, owner: &str, name: &str, rev: &str, path: &str) -> Option<String> {
        show(&self.repo_dir(owner, name), rev, path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// The recorded requests of `method` whose path ends with `suffix`.
    pub fn find(&self, method: &str, suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .collect()
    }
}

impl Drop for FakeForge {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn show(repo: &Path, rev: &str, path: &str) -> Option<Vec<u8>> {
    let out = std::process::Command::new("git")
        .arg(format!("--git-dir={}", repo.display()))
        .args(["show", &format!("{rev}:{path}")])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn has_branch(repo: &Path, branch: &str) -> bool {
    std::process::Command::new("git")
        .arg(format!("--git-dir={}", repo.display()))
        .args([
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
}

/// The token of an API request: GitHub takes `Bearer`/`token`, GitLab `PRIVATE-TOKEN`.
fn api_token(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(t.to_string());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    auth.strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("token "))
        .map(str::to_string)
}

/// The token of a Git request: basic auth with GitHub's or GitLab's fixed user.
fn git_token(headers: &HeaderMap, flavor: Flavor) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.strip_prefix("Basic ")?)
        .ok()?;
    let (user, token) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(u, t)| (u.to_string(), t.to_string()))?;
    let expected = match flavor {
        Flavor::Github => "x-access-token",
        Flavor::Gitlab => "oauth2",
    };
    (user == expected).then_some(token)
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    if path.contains(".git/") {
        if git_token(&parts.headers, inner.flavor).as_deref() != Some(inner.token.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Basic realm=\"fake\"")],
                "bad credentials",
            )
                .into_response();
        }
        return git_http_backend(
            &inner,
            &parts.method,
            &path,
            parts.uri.query(),
            &parts.headers,
            body,
        )
        .await;
    }
    if api_token(&parts.headers).as_deref() != Some(inner.token.as_str()) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Bad credentials"}),
        );
    }
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        body: json_body.clone(),
    });
    let query = parts.uri.query().unwrap_or("").to_string();
    match inner.flavor {
        Flavor::Github => match path.strip_prefix("/api/v3") {
            Some(route) => github(&inner, &parts.method, route, &query, json_body),
            None => not_found(),
        },
        Flavor::Gitlab => match path.strip_prefix("/api/v4") {
            Some(route) => gitlab(&inner, &parts.method, route, &query, json_body),
            None => not_found(),
        },
    }
}

fn init_bare(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let ok = std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .current_dir(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn github_repo(inner: &Inner, owner: &str, name: &str, extra: Value) -> Value {
    let mut repo = json!({
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "owner": {"login": owner},
        "html_url": format!("{}/{owner}/{name}", inner.base),
        "clone_url": format!("{}/{owner}/{name}.git", inner.base),
        "url": format!("{}/api/v3/repos/{owner}/{name}", inner.base),
        "default_branch": "main"
    });
    if let (Some(r), Some(e)) = (repo.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    repo
}

fn github(inner: &Inner, method: &Method, route: &str, query: &str, body: Value) -> Response {
    let seg: Vec<&str> = route.trim_matches('/').split('/').collect();
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["users", login]) => match inner.accounts.get(*login) {
            Some((kind, id)) => json_response(
                StatusCode::OK,
                json!({"login": login, "id": id, "type": kind}),
            ),
            None => not_found(),
        },
        ("POST", ["orgs", _, "repos"]) | ("POST", ["user", "repos"]) => {
            let owner = if seg[0] == "orgs" {
                seg[1].to_string()
            } else {
                // The token's own user.
                inner
                    .accounts
                    .iter()
                    .find(|(_, (k, _))| k == "User")
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default()
            };
            let name = body["name"].as_str().unwrap_or_default().to_string();
            let dir = inner.root.path().join(&owner).join(format!("{name}.git"));
            if dir.exists() {
                return json_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({
                        "message": "Repository creation failed.",
                        "errors": [{"resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"}],
                        "documentation_url": "https://docs.github.com/rest/repos/repos#create-an-organization-repository"
                    }),
                );
            }
            init_bare(&dir);
            json_response(
                StatusCode::CREATED,
                github_repo(
                    inner,
                    &owner,
                    &name,
                    json!({"private": body["private"], "description": body["description"]}),
                ),
            )
        }
        ("GET", ["repos", owner, name]) => {
            if inner
                .root
                .path()
                .join(owner)
                .join(format!("{name}.git"))
                .exists()
            {
                json_response(StatusCode::OK, github_repo(inner, owner, name, json!({})))
            } else {
                not_found()
            }
        }
        ("PATCH", ["repos", owner, name]) => {
            json_response(StatusCode::OK, github_repo(inner, owner, name, body))
        }
        ("PUT", ["repos", _, _, "topics"]) => {
            json_response(StatusCode::OK, json!({"names": body["names"]}))
        }
        ("PUT", ["repos", _, _, "collaborators", _]) => StatusCode::NO_CONTENT.into_response(),
        ("PUT", ["orgs", _, "teams", _, "repos", _, _]) => StatusCode::NO_CONTENT.into_response(),
        ("PUT", ["repos", _, _, "branches", _, "protection"]) => {
            json_response(StatusCode::OK, json!({"url": "protection"}))
        }
        ("POST", ["repos", owner, name, "pulls"]) => {
            let dir = inner.root.path().join(owner).join(format!("{name}.git"));
            let head = body["head"].as_str().unwrap_or_default();
            if !has_branch(&dir, head) {
                return json_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}),
                );
            }
            let number = {
                let mut n = inner.pulls.lock().unwrap();
                *n += 1;
                *n
            };
            json_response(
                StatusCode::CREATED,
                json!({"id": 1000 + number, "number": number, "state": "open", "title": body["title"],
                       "html_url": format!("{}/{owner}/{name}/pull/{number}", inner.base)}),
            )
        }
        ("POST", ["repos", _, _, "pulls", _, "requested_reviewers"]) => {
            json_response(StatusCode::CREATED, json!({}))
        }
        ("GET", ["repos", owner, name, "contents", rest @ ..]) => {
            let rev = query
                .split('&')
                .find_map(|p| p.strip_prefix("ref="))
                .unwrap_or("HEAD");
            let dir = inner.root.path().join(owner).join(format!("{name}.git"));
            match show(&dir, rev, &rest.join("/")) {
                Some(bytes) => json_response(
                    StatusCode::OK,
                    json!({"type": "file", "encoding": "base64", "path": rest.join("/"),
                           "content": base64::engine::general_purpose::STANDARD.encode(bytes)}),
                ),
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn gitlab_project(inner: &Inner, full_path: &str, id: u64) -> Value {
    json!({
        "id": id,
        "path_with_namespace": full_path,
        "http_url_to_repo": format!("{}/{full_path}.git", inner.base),
        "web_url": format!("{}/{full_path}", inner.base),
        "default_branch": Value::Null
    })
}

/// Project ids are stable per path: a hash is enough for a test.
fn project_id(full_path: &str) -> u64 {
    full_path
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        % 100_000
}

fn gitlab(inner: &Inner, method: &Method, route: &str, query: &str, body: Value) -> Response {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let seg: Vec<&str> = route.trim_matches('/').split('/').collect();
    let by_id = |id: &str| -> Option<String> {
        // A numeric id or a URL-encoded path.
        let wanted = decode(id);
        if wanted.contains('/') {
            return Some(wanted);
        }
        let id: u64 = wanted.parse().ok()?;
        walk_projects(inner.root.path())
            .into_iter()
            .find(|p| project_id(p) == id)
    };
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["namespaces", ns]) => match inner.accounts.get(&decode(ns)) {
            Some((kind, id)) => json_response(
                StatusCode::OK,
                json!({"id": id, "kind": kind, "full_path": decode(ns)}),
            ),
            None => json_response(
                StatusCode::NOT_FOUND,
                json!({"message": "404 Namespace Not Found"}),
            ),
        },
        ("POST", ["projects"]) => {
            let ns_id = body["namespace_id"].as_u64();
            let Some((ns, _)) = inner
                .accounts
                .iter()
                .find(|(_, (_, id))| Some(*id) == ns_id)
            else {
                return json_response(
                    StatusCode::NOT_FOUND,
                    json!({"message": "404 Namespace Not Found"}),
                );
            };
            let name = body["path"]
                .as_str()
                .or(body["name"].as_str())
                .unwrap_or_default();
            let full = format!("{ns}/{name}");
            let dir = inner.root.path().join(format!("{full}.git"));
            if dir.exists() {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"message": {"name": ["has already been taken"], "path": ["has already been taken"]}}),
                );
            }
            init_bare(&dir);
            json_response(
                StatusCode::CREATED,
                gitlab_project(inner, &full, project_id(&full)),
            )
        }
        ("GET", ["projects", id]) => match by_id(id) {
            Some(full) if inner.root.path().join(format!("{full}.git")).exists() => {
                let mut p = gitlab_project(inner, &full, project_id(&full));
                p["default_branch"] = json!("main");
                json_response(StatusCode::OK, p)
            }
            _ => json_response(
                StatusCode::NOT_FOUND,
                json!({"message": "404 Project Not Found"}),
            ),
        },
        ("PUT", ["projects", id]) => match by_id(id) {
            Some(full) => json_response(
                StatusCode::OK,
                gitlab_project(inner, &full, project_id(&full)),
            ),
            None => json_response(
                StatusCode::NOT_FOUND,
                json!({"message": "404 Project Not Found"}),
            ),
        },
        ("GET", ["projects", id, "repository", "files", file, "raw"]) => {
            let rev = query
                .split('&')
                .find_map(|p| p.strip_prefix("ref="))
                .unwrap_or("HEAD");
            let shown = by_id(id).and_then(|full| {
                show(
                    &inner.root.path().join(format!("{full}.git")),
                    &decode(rev),
                    &decode(file),
                )
            });
            match shown {
                Some(bytes) => {
                    (StatusCode::OK, [("content-type", "text/plain")], bytes).into_response()
                }
                None => json_response(
                    StatusCode::NOT_FOUND,
                    json!({"message": "404 File Not Found"}),
                ),
            }
        }
        ("POST", ["projects", id, "merge_requests"]) => {
            let Some(full) = by_id(id) else {
                return json_response(
                    StatusCode::NOT_FOUND,
                    json!({"message": "404 Project Not Found"}),
                );
            };
            let source = body["source_branch"].as_str().unwrap_or_default();
            if !has_branch(&inner.root.path().join(format!("{full}.git")), source) {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"message": ["Source branch does not exist"]}),
                );
            }
            let iid = {
                let mut n = inner.pulls.lock().unwrap();
                *n += 1;
                *n
            };
            json_response(
                StatusCode::CREATED,
                json!({"id": 500 + iid, "iid": iid, "state": "opened", "title": body["title"],
                       "web_url": format!("{}/{full}/-/merge_requests/{iid}", inner.base)}),
            )
        }
        _ => json_response(StatusCode::NOT_FOUND, json!({"message": "404 Not Found"})),
    }
}

/// `group/name` of every bare repository under the root.
fn walk_projects(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            match path.to_str().and_then(|p| p.strip_suffix(".git")) {
                Some(p) => out.push(
                    Path::new(p)
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                ),
                None => stack.push(path),
            }
        }
    }
    out
}

/// Smart HTTP through `git http-backend` (CGI).
async fn git_http_backend(
    inner: &Inner,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", inner.root.path())
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", path)
        .env("REQUEST_METHOD", method.as_str())
        .env("QUERY_STRING", query.unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", "greenroom")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git http-backend runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let out = child.wait_with_output().await.unwrap();
    let _ = writer.await;
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            out.stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        });
    let Some((at, sep)) = split else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
            .into_response();
    };
    let head = String::from_utf8_lossy(&out.stdout[..at]).into_owned();
    let mut response = Response::builder().status(StatusCode::OK);
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
            response = response.status(code);
        } else {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(out.stdout[at + sep..].to_vec()))
        .unwrap()
}
