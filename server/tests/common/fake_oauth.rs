//! An in-process fake of GitHub (as GitHub Enterprise lays it out: web
//! routes at the root, REST under `/api/v3`) and of GitLab (REST under
//! `/api/v4`) as OAuth identity providers: the authorization endpoint (which
//! auto-approves as the user the test signed in), the token endpoint with
//! PKCE (S256) checks and each IdP's own error shapes, the user API, and for
//! GitHub the organisation, team and user routes an org ingestion reads.
//! Every request is recorded so a test can check what the real clients sent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use super::scm_fakes::Flavor;

/// The OAuth application registered with the fake IdP.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    /// The registered callback. GitHub accepts any `redirect_uri` on the same
    /// origin under this path; GitLab only this exact URL.
    pub callback_url: String,
}

impl OAuthApp {
    pub fn new(client_id: &str, client_secret: &str, callback_url: &str) -> Self {
        OAuthApp {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            callback_url: callback_url.into(),
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    /// The `application/x-www-form-urlencoded` body, if any.
    pub form: BTreeMap<String, String>,
}

#[derive(Clone)]
struct User {
    login: String,
    id: u64,
    name: String,
    /// GitHub: the public profile email; GitLab: the account email.
    email: Option<String>,
    /// GitHub `/user/emails`: (address, primary, verified).
    emails: Vec<(String, bool, bool)>,
}

/// An authorization code and what it was issued for.
struct Grant {
    login: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    used: bool,
}

struct Team {
    org: String,
    id: u64,
    slug: String,
    name: String,
    description: Option<String>,
    parent: Option<String>,
    /// Direct members; GitHub's member listing adds the child teams' members.
    members: BTreeSet<String>,
}

#[derive(Default)]
struct Data {
    users: BTreeMap<String, User>,
    current: Option<String>,
    codes: HashMap<String, Grant>,
    /// access token -> (login, granted scopes)
    tokens: HashMap<String, (String, Vec<String>)>,
    teams: Vec<Team>,
    org_members: BTreeMap<String, BTreeSet<String>>,
    max_per_page: Option<usize>,
    token_failure: Option<StatusCode>,
    requests: Vec<Recorded>,
}

struct Inner {
    flavor: Flavor,
    app: OAuthApp,
    base: String,
    data: Mutex<Data>,
}

pub struct FakeOAuth {
    inner: Arc<Inner>,
    shutdown: tokio_util::sync::CancellationToken,
}

impl FakeOAuth {
    /// Starts the fake IdP on a loopback port with `app` registered.
    pub async fn start(flavor: Flavor, app: OAuthApp) -> FakeOAuth {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            flavor,
            app,
            base,
            data: Mutex::new(Data::default()),
        });
        let shutdown = tokio_util::sync::CancellationToken::new();
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .unwrap();
        });
        FakeOAuth { inner, shutdown }
    }

    /// `http://127.0.0.1:<port>`: GitHub's `enterpriseInstanceUrl`, GitLab's `audience`.
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    /// `127.0.0.1:<port>`: the integration's `host`.
    pub fn host(&self) -> String {
        self.inner.base.trim_start_matches("http://").to_string()
    }

    /// `<base>/api/v3` (GitHub) or `<base>/api/v4` (GitLab).
    pub fn api_base_url(&self) -> String {
        match self.inner.flavor {
            Flavor::Github => format!("{}/api/v3", self.inner.base),
            Flavor::Gitlab => format!("{}/api/v4", self.inner.base),
        }
    }

    /// Registers an account. `email` is GitHub's public profile email (and
    /// then also its primary verified address) or GitLab's account email.
    pub fn add_user(&self, login: &str, id: u64, name: &str, email: Option<&str>) {
        let user = User {
            login: login.into(),
            id,
            name: name.into(),
            email: email.map(str::to_string),
            emails: email
                .map(|e| vec![(e.to_string(), true, true)])
                .unwrap_or_default(),
        };
        self.data().users.insert(login.into(), user);
    }

    /// Adds an address to the user's GitHub `/user/emails` list.
    pub fn add_email(&self, login: &str, email: &str, primary: bool, verified: bool) {
        self.data()
            .users
            .get_mut(login)
            .expect("add_user first")
            .emails
            .push((email.into(), primary, verified));
    }

    /// The user the authorization endpoint approves as (the browser's session).
    pub fn sign_in_as(&self, login: &str) {
        assert!(self.data().users.contains_key(login), "add_user first");
        self.data().current = Some(login.into());
    }

    pub fn sign_out(&self) {
        self.data().current = None;
    }

    /// A token for the API (a personal access token), e.g. for org ingestion.
    pub fn issue_token(&self, login: &str, scopes: &[&str]) -> String {
        let token = random_token(self.inner.flavor);
        self.data().tokens.insert(
            token.clone(),
            (login.into(), scopes.iter().map(|s| s.to_string()).collect()),
        );
        token
    }

    /// Adds a team to a GitHub organisation; `parent` is the parent team's slug.
    pub fn add_team(&self, org: &str, slug: &str, name: &str, parent: Option<&str>) {
        let mut data = self.data();
        let id = 100 + data.teams.len() as u64;
        data.teams.push(Team {
            org: org.into(),
            id,
            slug: slug.into(),
            name: name.into(),
            description: Some(format!("The {name} team")),
            parent: parent.map(str::to_string),
            members: BTreeSet::new(),
        });
    }

    /// Makes `login` a direct member of a team (and so of its organisation).
    pub fn add_team_member(&self, org: &str, slug: &str, login: &str) {
        let mut data = self.data();
        let team = data
            .teams
            .iter_mut()
            .find(|t| t.org == org && t.slug == slug)
            .expect("add_team first");
        team.members.insert(login.into());
    }

    pub fn add_org_member(&self, org: &str, login: &str) {
        self.data()
            .org_members
            .entry(org.into())
            .or_default()
            .insert(login.into());
    }

    /// Caps `per_page` below GitHub's 100 so a test sees several pages.
    pub fn set_max_per_page(&self, n: usize) {
        self.data().max_per_page = Some(n);
    }

    /// The token endpoint answers `status` (e.g. 503) until cleared with `None`.
    pub fn fail_token_requests(&self, status: Option<u16>) {
        self.data().token_failure = status.map(|s| StatusCode::from_u16(s).unwrap());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.data().requests.clone()
    }

    /// The recorded requests of `method` to exactly `path`.
    pub fn find(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.inner.data.lock().unwrap()
    }
}

impl Drop for FakeOAuth {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}

/// Tokens shaped like the real ones: GitHub `gho_` + 36 alphanumerics, GitLab 64 hex.
fn random_token(flavor: Flavor) -> String {
    match flavor {
        Flavor::Github => {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            let mut rng = rand::thread_rng();
            let tail: String = (0..36)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("gho_{tail}")
        }
        Flavor::Gitlab => random_hex(32),
    }
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding.
fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn pairs(raw: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn html(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "text/html; charset=utf-8")],
        format!("<!DOCTYPE html><html><body><p>{text}</p></body></html>"),
    )
        .into_response()
}

fn redirect(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", location)
        .body(Body::empty())
        .unwrap()
}

/// `base` with `params` appended to its query.
fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: pairs(parts.uri.query().unwrap_or("")),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        form: if is_form {
            pairs(&String::from_utf8_lossy(&body))
        } else {
            BTreeMap::new()
        },
    };
    inner.data.lock().unwrap().requests.push(recorded.clone());
    let r = &recorded;
    match (inner.flavor, r.method.as_str(), r.path.as_str()) {
        (Flavor::Github, "GET", "/login/oauth/authorize")
        | (Flavor::Gitlab, "GET", "/oauth/authorize") => authorize(&inner, r),
        (Flavor::Github, "POST", "/login/oauth/access_token") => github_token(&inner, r),
        (Flavor::Gitlab, "POST", "/oauth/token") => gitlab_token(&inner, r),
        (Flavor::Github, "GET", path) if path.starts_with("/api/v3/") => {
            github_api(&inner, r, &path["/api/v3".len()..], &parts.headers)
        }
        (Flavor::Gitlab, "GET", "/api/v4/user") => gitlab_user(&inner, &parts.headers),
        _ => match inner.flavor {
            Flavor::Github => json_response(
                StatusCode::NOT_FOUND,
                json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
            ),
            Flavor::Gitlab => {
                json_response(StatusCode::NOT_FOUND, json!({"error": "404 Not Found"}))
            }
        },
    }
}

/// Whether the IdP accepts `redirect_uri` for the registered callback.
fn redirect_allowed(flavor: Flavor, registered: &str, requested: &str) -> bool {
    match flavor {
        Flavor::Gitlab => registered == requested,
        Flavor::Github => {
            let (Ok(reg), Ok(req)) = (url::Url::parse(registered), url::Url::parse(requested))
            else {
                return false;
            };
            reg.origin() == req.origin() && req.path().starts_with(reg.path())
        }
    }
}

/// GET authorize: checks the request, then approves as the signed-in user
/// and sends the browser back with a fresh code and the same `state`.
fn authorize(inner: &Inner, r: &Recorded) -> Response {
    let q = &r.query;
    let param = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if param("client_id") != inner.app.client_id {
        return html(StatusCode::NOT_FOUND, "Unknown OAuth application.");
    }
    let redirect_uri = match q.get("redirect_uri") {
        // GitHub defaults to the registered callback; GitLab requires it.
        None if inner.flavor == Flavor::Github => inner.app.callback_url.clone(),
        None => {
            return html(
                StatusCode::BAD_REQUEST,
                "The redirect URI included is not valid.",
            )
        }
        Some(uri) => uri.clone(),
    };
    let state = param("state");
    if !redirect_allowed(inner.flavor, &inner.app.callback_url, &redirect_uri) {
        return match inner.flavor {
            Flavor::Github => redirect(&with_query(
                &inner.app.callback_url,
                &[
                    ("error", "redirect_uri_mismatch"),
                    ("error_description", "The redirect_uri MUST match the registered callback URL for this application."),
                    ("error_uri", "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch"),
                    ("state", state),
                ],
            )),
            Flavor::Gitlab => html(StatusCode::BAD_REQUEST, "The redirect URI included is not valid."),
        };
    }
    // From here on, errors go back to the client (RFC 6749 4.1.2.1).
    let refuse = |error: &str, description: &str| {
        redirect(&with_query(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", state),
            ],
        ))
    };
    if inner.flavor == Flavor::Gitlab && param("response_type") != "code" {
        return refuse(
            "unsupported_response_type",
            "The authorization server does not support this response type.",
        );
    }
    // This fake insists on what Greenroom must always send.
    if state.is_empty() {
        return refuse("invalid_request", "state is required");
    }
    if param("code_challenge_method") != "S256" || param("code_challenge").len() != 43 {
        return refuse("invalid_request", "Code challenge is required (S256).");
    }
    let mut data = inner.data.lock().unwrap();
    let Some(login) = data.current.clone() else {
        return html(StatusCode::OK, "Sign in to continue.");
    };
    let code = match inner.flavor {
        Flavor::Github => random_hex(10),
        Flavor::Gitlab => random_hex(32),
    };
    data.codes.insert(
        code.clone(),
        Grant {
            login,
            client_id: inner.app.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            challenge: param("code_challenge").to_string(),
            scopes: param("scope")
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            used: false,
        },
    );
    redirect(&with_query(
        &redirect_uri,
        &[("code", &code), ("state", state)],
    ))
}

/// The client credentials from the form body or HTTP Basic (RFC 6749 2.3.1).
fn client_credentials(r: &Recorded) -> (String, String) {
    if let Some(basic) = r
        .headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (id, secret) = decoded.split_once(':').unwrap_or((&decoded, ""));
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return (unescape(id), unescape(secret));
    }
    let get = |k: &str| r.form.get(k).cloned().unwrap_or_default();
    (get("client_id"), get("client_secret"))
}

/// Checks a code exchange; `Err((error, description))` in RFC 6749 terms.
/// A code is spent by any attempt that names it, as the IdPs do, so a wrong
/// verifier cannot be retried.
fn redeem(
    inner: &Inner,
    r: &Recorded,
) -> Result<(String, Vec<String>), (&'static str, &'static str)> {
    let (client_id, client_secret) = client_credentials(r);
    if client_id != inner.app.client_id || client_secret != inner.app.client_secret {
        return Err(("invalid_client", "client credentials"));
    }
    let mut data = inner.data.lock().unwrap();
    let form = |k: &str| r.form.get(k).map(String::as_str);
    let grant = form("code")
        .and_then(|code| data.codes.get_mut(code))
        .filter(|g| !g.used && g.client_id == client_id)
        .ok_or(("invalid_grant", "code"))?;
    grant.used = true;
    if form("redirect_uri").is_some_and(|uri| uri != grant.redirect_uri) {
        return Err(("invalid_grant", "redirect_uri"));
    }
    if form("code_verifier").map(s256).as_deref() != Some(grant.challenge.as_str()) {
        return Err(("invalid_grant", "code_verifier"));
    }
    let (login, scopes) = (grant.login.clone(), grant.scopes.clone());
    let token = random_token(inner.flavor);
    data.tokens.insert(token.clone(), (login, scopes.clone()));
    Ok((token, scopes))
}

/// GitHub's token endpoint answers 200 even to refusals, as JSON when the
/// client sends `Accept: application/json`, otherwise form-encoded.
fn github_token(inner: &Inner, r: &Recorded) -> Response {
    if let Some(status) = inner.data.lock().unwrap().token_failure {
        return html(status, "Unicorn! This page is taking too long to load.");
    }
    let body = match redeem(inner, r) {
        Ok((token, scopes)) => json!({
            "access_token": token,
            "token_type": "bearer",
            // GitHub separates granted scopes with commas.
            "scope": scopes.join(","),
        }),
        Err(("invalid_client", _)) => json!({
            "error": "incorrect_client_credentials",
            "error_description": "The client_id and/or client_secret passed are incorrect.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"
        }),
        Err((_, "redirect_uri")) => json!({
            "error": "redirect_uri_mismatch",
            "error_description": "The redirect_uri MUST match the registered callback URL for this application.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2"
        }),
        Err(_) => json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
        }),
    };
    let wants_json = r
        .headers
        .get("accept")
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return json_response(StatusCode::OK, body);
    }
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            body.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())),
        )
        .finish();
    (
        StatusCode::OK,
        [(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        form,
    )
        .into_response()
}

/// GitLab (Doorkeeper) answers RFC 6749 errors: 401 for client
/// authentication, 400 for everything about the grant.
fn gitlab_token(inner: &Inner, r: &Recorded) -> Response {
    if let Some(status) = inner.data.lock().unwrap().token_failure {
        return html(status, "GitLab is not responding.");
    }
    if r.form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server."}),
        );
    }
    match redeem(inner, r) {
        Ok((token, scopes)) => json_response(
            StatusCode::OK,
            json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 7200,
                "refresh_token": random_hex(32),
                "scope": scopes.join(" "),
                "created_at": 1_700_000_000u64,
            }),
        ),
        Err(("invalid_client", _)) => json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."}),
        ),
        Err(_) => json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."}),
        ),
    }
}

/// The bearer token of an API request (`Bearer`, GitHub's `token`, GitLab's `PRIVATE-TOKEN`).
fn bearer(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(t.to_string());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    auth.strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("token "))
        .map(str::to_string)
}

fn github_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string()}),
    )
}

fn github_api(inner: &Inner, r: &Recorded, route: &str, headers: &HeaderMap) -> Response {
    if !headers.contains_key("user-agent") {
        return github_error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        );
    }
    let data = inner.data.lock().unwrap();
    let Some((login, scopes)) = bearer(headers).and_then(|t| data.tokens.get(&t).cloned()) else {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    let api = format!("{}/api/v3", inner.base);
    let seg: Vec<&str> = route.trim_matches('/').split('/').collect();
    match seg.as_slice() {
        ["user"] => json_response(StatusCode::OK, full_user(inner, &data.users[&login])),
        ["user", "emails"] => {
            if !scopes.iter().any(|s| s == "user:email" || s == "user") {
                return github_error(StatusCode::NOT_FOUND, "Not Found");
            }
            let emails: Vec<Value> = data.users[&login]
                .emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({"email": email, "primary": primary, "verified": verified, "visibility": if *primary {Value::from("private")} else {Value::Null}})
                })
                .collect();
            json_response(StatusCode::OK, Value::Array(emails))
        }
        ["users", login] => match data.users.get(*login) {
            Some(user) => json_response(StatusCode::OK, full_user(inner, user)),
            None => github_error(StatusCode::NOT_FOUND, "Not Found"),
        },
        ["orgs", org, "teams"] => {
            let teams: Vec<Value> = data
                .teams
                .iter()
                .filter(|t| t.org == *org)
                .map(|t| {
                    let mut team = team_json(inner, t);
                    team["parent"] = t
                        .parent
                        .as_ref()
                        .and_then(|p| data.teams.iter().find(|x| x.org == *org && &x.slug == p))
                        .map(|p| team_json(inner, p))
                        .unwrap_or(Value::Null);
                    team
                })
                .collect();
            page(r, &api, route, teams, data.max_per_page)
        }
        ["orgs", org, "teams", slug, "members"] => {
            if !data.teams.iter().any(|t| t.org == *org && t.slug == *slug) {
                return github_error(StatusCode::NOT_FOUND, "Not Found");
            }
            // GitHub: "Team members will include the members of child teams."
            let members = team_members_with_children(&data, org, slug);
            let users = members
                .iter()
                .filter_map(|l| data.users.get(l))
                .map(|u| simple_user(inner, u))
                .collect();
            page(r, &api, route, users, data.max_per_page)
        }
        ["orgs", org, "members"] => {
            let mut members: BTreeSet<String> =
                data.org_members.get(*org).cloned().unwrap_or_default();
            for team in data.teams.iter().filter(|t| t.org == *org) {
                members.extend(team.members.iter().cloned());
            }
            let users = members
                .iter()
                .filter_map(|l| data.users.get(l))
                .map(|u| simple_user(inner, u))
                .collect();
            page(r, &api, route, users, data.max_per_page)
        }
        _ => github_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn team_members_with_children(data: &Data, org: &str, slug: &str) -> BTreeSet<String> {
    let mut members = BTreeSet::new();
    let mut pending = vec![slug.to_string()];
    while let Some(current) = pending.pop() {
        for team in data.teams.iter().filter(|t| t.org == org) {
            if team.slug == current {
                members.extend(team.members.iter().cloned());
            }
            if team.parent.as_deref() == Some(current.as_str()) {
                pending.push(team.slug.clone());
            }
        }
    }
    members
}

/// One page of `items` per GitHub's `per_page`/`page` with a `Link` header.
fn page(r: &Recorded, api: &str, route: &str, items: Vec<Value>, cap: Option<usize>) -> Response {
    let per_page = r
        .query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100)
        .min(cap.unwrap_or(100));
    let page = r
        .query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let link = |n: usize, rel: &str| {
        let mut query = r.query.clone();
        query.insert("per_page".into(), per_page.to_string());
        query.insert("page".into(), n.to_string());
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish();
        format!("<{api}{route}?{query}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = json_response(StatusCode::OK, Value::Array(slice));
    if !links.is_empty() {
        response
            .headers_mut()
            .insert("link", links.join(", ").parse().unwrap());
    }
    response
}

fn simple_user(inner: &Inner, u: &User) -> Value {
    let api = format!("{}/api/v3", inner.base);
    json!({
        "login": u.login,
        "id": u.id,
        "node_id": format!("U_kgDO{:06}", u.id),
        "avatar_url": format!("{}/avatars/u/{}", inner.base, u.id),
        "gravatar_id": "",
        "url": format!("{api}/users/{}", u.login),
        "html_url": format!("{}/{}", inner.base, u.login),
        "organizations_url": format!("{api}/users/{}/orgs", u.login),
        "repos_url": format!("{api}/users/{}/repos", u.login),
        "type": "User",
        "site_admin": false
    })
}

fn full_user(inner: &Inner, u: &User) -> Value {
    let mut user = simple_user(inner, u);
    let extra = json!({
        "name": u.name,
        "company": null,
        "blog": "",
        "location": null,
        "email": u.email,
        "hireable": null,
        "bio": null,
        "twitter_username": null,
        "public_repos": 2,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z"
    });
    user.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    user
}

fn team_json(inner: &Inner, t: &Team) -> Value {
    let api = format!("{}/api/v3", inner.base);
    json!({
        "id": t.id,
        "node_id": format!("T_kwDO{:06}", t.id),
        "url": format!("{api}/organizations/1/team/{}", t.id),
        "html_url": format!("{}/orgs/{}/teams/{}", inner.base, t.org, t.slug),
        "name": t.name,
        "slug": t.slug,
        "description": t.description,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{api}/organizations/1/team/{}/members{{/member}}", t.id),
        "repositories_url": format!("{api}/organizations/1/team/{}/repos", t.id),
    })
}

/// GitLab `GET /api/v4/user`: needs `read_user`, `read_api` or `api`.
fn gitlab_user(inner: &Inner, headers: &HeaderMap) -> Response {
    let data = inner.data.lock().unwrap();
    let Some((login, scopes)) = bearer(headers).and_then(|t| data.tokens.get(&t).cloned()) else {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"message": "401 Unauthorized"}),
        );
    };
    if !scopes
        .iter()
        .any(|s| matches!(s.as_str(), "read_user" | "read_api" | "api"))
    {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"error": "insufficient_scope", "error_description": "The request requires higher privileges than provided by the access token.", "scope": "api read_user"}),
        );
    }
    let u = &data.users[&login];
    json_response(
        StatusCode::OK,
        json!({
            "id": u.id,
            "username": u.login,
            "name": u.name,
            "state": "active",
            "locked": false,
            "avatar_url": format!("{}/uploads/-/system/user/avatar/{}/avatar.png", inner.base, u.id),
            "web_url": format!("{}/{}", inner.base, u.login),
            "created_at": "2020-01-01T00:00:00.000Z",
            "bio": "",
            "public_email": null,
            "email": u.email,
            "commit_email": u.email,
            "two_factor_enabled": false,
            "external": false
        }),
    )
}
