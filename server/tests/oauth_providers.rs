//! GitHub (Enterprise layout) and GitLab sign-in through the real `oauth2`
//! and `reqwest` clients against in-process fake IdPs, and GitHub
//! organisation ingestion through octocrab against the same fake.

mod common;

use std::collections::BTreeMap;

use common::fake_oauth::{FakeOAuth, Flavor, OAuthApp};
use greenroom::auth::oauth::{OAuthError, OAuthFlavor, OAuthProvider};
use greenroom::catalog::providers::github_org::github_org_providers;
use greenroom::config::Config;
use serde_json::{json, Value};
use url::Url;

const GITHUB_CALLBACK: &str = "http://127.0.0.1:7007/api/auth/github/handler/frame";
const GITLAB_CALLBACK: &str = "http://127.0.0.1:7007/api/auth/gitlab/handler/frame";
const SECRET: &str = "client-secret-value";

fn query(url: &Url) -> BTreeMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// A browser that does not follow redirects, so the test sees the 302.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows `authorize` as the signed-in user's browser would and returns
/// the callback URL the IdP redirected to.
async fn approve(authorize: &Url) -> Url {
    let response = browser().get(authorize.clone()).send().await.unwrap();
    assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap();
    Url::parse(location).unwrap()
}

/// Runs the browser half of the flow; returns (code, verifier).
async fn code_for(provider: &OAuthProvider, state: &str) -> (String, String) {
    let (url, verifier) = provider.authorize_url(state, &[]);
    let callback = approve(&url).await;
    let q = query(&callback);
    assert_eq!(q["state"], state);
    (q["code"].clone(), verifier)
}

fn assert_rejected(result: Result<impl std::fmt::Debug, OAuthError>, secrets: &[&str]) {
    match result {
        Err(OAuthError::Rejected(message)) => {
            for secret in secrets {
                assert!(!message.contains(secret), "{message} leaks a secret");
            }
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

async fn github_idp() -> FakeOAuth {
    let fake = FakeOAuth::start(
        Flavor::Github,
        OAuthApp::new("gh-client", SECRET, GITHUB_CALLBACK),
    )
    .await;
    fake.add_user("alice", 1001, "Alice Liddell", Some("alice@example.com"));
    fake.sign_in_as("alice");
    fake
}

fn github_provider(fake: &FakeOAuth, secret: &str) -> OAuthProvider {
    OAuthProvider::from_value(
        OAuthFlavor::Github,
        &json!({
            "clientId": "gh-client",
            "clientSecret": secret,
            "enterpriseInstanceUrl": fake.base(),
            "additionalScopes": ["user:email"],
        }),
        GITHUB_CALLBACK,
    )
    .unwrap()
}

#[tokio::test]
async fn github_enterprise_sign_in() {
    let fake = github_idp().await;
    let provider = github_provider(&fake, SECRET);

    let (url, verifier) = provider.authorize_url("state-123", &["read:org".into()]);
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        format!("{}/login/oauth/authorize", fake.base())
    );
    let q = query(&url);
    assert_eq!(q["client_id"], "gh-client");
    assert_eq!(q["redirect_uri"], GITHUB_CALLBACK);
    assert_eq!(q["state"], "state-123");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "read:user user:email read:org");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);

    let callback = approve(&url).await;
    assert_eq!(
        callback.as_str().split('?').next().unwrap(),
        GITHUB_CALLBACK
    );
    let cq = query(&callback);
    assert_eq!(cq["state"], "state-123");
    let code = &cq["code"];

    let identity = provider.exchange(code, &verifier).await.unwrap();
    assert_eq!(identity.provider, "github");
    assert_eq!(identity.username, "alice");
    assert_eq!(identity.user_id.as_deref(), Some("1001"));
    assert_eq!(identity.email.as_deref(), Some("alice@example.com"));
    assert_eq!(identity.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(
        identity.picture.as_deref(),
        Some(format!("{}/avatars/u/1001", fake.base()).as_str())
    );
    // GitHub's comma-separated scopes come back space-separated.
    assert_eq!(
        identity.scope.as_deref(),
        Some("read:user user:email read:org")
    );
    let token = identity.access_token.clone().unwrap();
    assert!(token.starts_with("gho_"));
    assert!(!format!("{identity:?}").contains(&token));

    // What went over the wire: the form-encoded exchange with the verifier
    // and secret in the body, then the profile read with the new token.
    let exchange = &fake.find("POST", "/login/oauth/access_token")[0];
    assert_eq!(exchange.form["client_id"], "gh-client");
    assert_eq!(exchange.form["client_secret"], SECRET);
    assert_eq!(exchange.form["grant_type"], "authorization_code");
    assert_eq!(exchange.form["redirect_uri"], GITHUB_CALLBACK);
    assert_eq!(exchange.form["code_verifier"], verifier);
    assert_eq!(exchange.headers["accept"], "application/json");
    let profile = &fake.find("GET", "/api/v3/user")[0];
    assert_eq!(profile.headers["authorization"], format!("Bearer {token}"));
    assert!(profile.headers.contains_key("user-agent"));
    // The public email was set: no need for /user/emails.
    assert!(fake.find("GET", "/api/v3/user/emails").is_empty());

    // A code is good for one exchange only.
    assert_rejected(
        provider.exchange(code, &verifier).await,
        &[code, &verifier, SECRET],
    );
}

#[tokio::test]
async fn github_refusals_are_rejected() {
    let fake = github_idp().await;
    let provider = github_provider(&fake, SECRET);

    // Another verifier than the one whose challenge the IdP holds.
    let (code, verifier) = code_for(&provider, "s1").await;
    let (_, other_verifier) = provider.authorize_url("unused", &[]);
    assert_rejected(
        provider.exchange(&code, &other_verifier).await,
        &[&code, &verifier, &other_verifier, SECRET],
    );
    // The failed attempt spent the code.
    assert_rejected(provider.exchange(&code, &verifier).await, &[SECRET]);

    // A wrong client secret.
    let wrong = github_provider(&fake, "not-the-secret");
    let (code, verifier) = code_for(&wrong, "s2").await;
    let err = wrong.exchange(&code, &verifier).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Rejected(m) if m.contains("incorrect_client_credentials")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-secret"));

    // GitHub answered each refusal with 200 and an error body.
    let answers = fake.find("POST", "/login/oauth/access_token");
    assert_eq!(answers.len(), 3);
}

#[tokio::test]
async fn github_email_falls_back_to_the_primary_verified_address() {
    let fake = github_idp().await;
    fake.add_user("carol", 1003, "Carol", None);
    fake.add_email("carol", "old@example.com", false, true);
    fake.add_email("carol", "carol@corp.example", true, true);
    fake.sign_in_as("carol");
    let provider = github_provider(&fake, SECRET);
    let (code, verifier) = code_for(&provider, "s").await;
    let identity = provider.exchange(&code, &verifier).await.unwrap();
    assert_eq!(identity.username, "carol");
    assert_eq!(identity.email.as_deref(), Some("carol@corp.example"));
    assert_eq!(fake.find("GET", "/api/v3/user/emails").len(), 1);
}

#[tokio::test]
async fn an_idp_that_fails_is_unavailable() {
    let fake = github_idp().await;
    let provider = github_provider(&fake, SECRET);
    let (code, verifier) = code_for(&provider, "s").await;
    fake.fail_token_requests(Some(503));
    let err = provider.exchange(&code, &verifier).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Unavailable(m) if m.contains("503")),
        "{err:?}"
    );
    // The outage did not spend the code.
    fake.fail_token_requests(None);
    assert_eq!(
        provider.exchange(&code, &verifier).await.unwrap().username,
        "alice"
    );

    // Nobody listening.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dead = OAuthProvider::from_value(
        OAuthFlavor::Github,
        &json!({"clientId": "gh-client", "clientSecret": SECRET, "enterpriseInstanceUrl": dead_url}),
        GITHUB_CALLBACK,
    )
    .unwrap();
    let err = dead.exchange("code", "verifier").await.unwrap_err();
    assert!(matches!(err, OAuthError::Unavailable(_)), "{err:?}");
}

async fn gitlab_idp() -> FakeOAuth {
    let fake = FakeOAuth::start(
        Flavor::Gitlab,
        OAuthApp::new("gl-client", SECRET, GITLAB_CALLBACK),
    )
    .await;
    fake.add_user("bob", 2002, "Bob Builder", Some("bob@example.com"));
    fake.sign_in_as("bob");
    fake
}

fn gitlab_provider(fake: &FakeOAuth, secret: &str) -> OAuthProvider {
    OAuthProvider::from_value(
        OAuthFlavor::Gitlab,
        &json!({"clientId": "gl-client", "clientSecret": secret, "audience": fake.base()}),
        GITLAB_CALLBACK,
    )
    .unwrap()
}

#[tokio::test]
async fn gitlab_sign_in() {
    let fake = gitlab_idp().await;
    let provider = gitlab_provider(&fake, SECRET);

    let (url, verifier) = provider.authorize_url("gl-state", &[]);
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        format!("{}/oauth/authorize", fake.base())
    );
    let q = query(&url);
    assert_eq!(q["client_id"], "gl-client");
    assert_eq!(q["redirect_uri"], GITLAB_CALLBACK);
    assert_eq!(q["state"], "gl-state");
    assert_eq!(q["scope"], "read_user");
    assert_eq!(q["code_challenge_method"], "S256");

    let callback = approve(&url).await;
    assert_eq!(
        callback.as_str().split('?').next().unwrap(),
        GITLAB_CALLBACK
    );
    let cq = query(&callback);
    assert_eq!(cq["state"], "gl-state");
    let code = cq["code"].clone();

    let identity = provider.exchange(&code, &verifier).await.unwrap();
    assert_eq!(identity.provider, "gitlab");
    assert_eq!(identity.username, "bob");
    assert_eq!(identity.user_id.as_deref(), Some("2002"));
    assert_eq!(identity.email.as_deref(), Some("bob@example.com"));
    assert_eq!(identity.display_name.as_deref(), Some("Bob Builder"));
    assert!(identity
        .picture
        .as_deref()
        .unwrap()
        .ends_with("/avatar/2002/avatar.png"));
    assert_eq!(identity.scope.as_deref(), Some("read_user"));
    let token = identity.access_token.clone().unwrap();
    assert_eq!(token.len(), 64);
    let debug = format!("{identity:?}");
    assert!(!debug.contains(&token), "{debug}");

    let exchange = &fake.find("POST", "/oauth/token")[0];
    assert_eq!(exchange.form["code_verifier"], verifier);
    assert_eq!(exchange.form["client_secret"], SECRET);
    assert_eq!(
        fake.find("GET", "/api/v4/user")[0].headers["authorization"],
        format!("Bearer {token}")
    );

    // Reused code (RFC 6749: 400 invalid_grant).
    let err = provider.exchange(&code, &verifier).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Rejected(m) if m.contains("invalid_grant")),
        "{err:?}"
    );
}

#[tokio::test]
async fn gitlab_refusals_are_rejected() {
    let fake = gitlab_idp().await;
    let provider = gitlab_provider(&fake, SECRET);

    let (code, verifier) = code_for(&provider, "s1").await;
    let (_, other_verifier) = provider.authorize_url("unused", &[]);
    let err = provider.exchange(&code, &other_verifier).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Rejected(m) if m.contains("invalid_grant")),
        "{err:?}"
    );
    for secret in [&code, &verifier, &other_verifier, SECRET] {
        assert!(!err.to_string().contains(secret));
    }

    let wrong = gitlab_provider(&fake, "not-the-secret");
    let (code, verifier) = code_for(&wrong, "s2").await;
    let err = wrong.exchange(&code, &verifier).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Rejected(m) if m.contains("invalid_client")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn the_fake_refuses_a_foreign_callback() {
    // The IdP only sends codes to the registered callback.
    let fake = gitlab_idp().await;
    let provider = OAuthProvider::from_value(
        OAuthFlavor::Gitlab,
        &json!({"clientId": "gl-client", "clientSecret": SECRET, "audience": fake.base(),
                "callbackUrl": "http://evil.example/cb"}),
        GITLAB_CALLBACK,
    )
    .unwrap();
    let (url, _) = provider.authorize_url("s", &[]);
    let response = browser().get(url).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

// --- GitHub organisation ingestion ---

/// The entity of `kind` named `name`, as a JSON value to index into.
fn by_name(entities: &[serde_json::Map<String, Value>], kind: &str, name: &str) -> Value {
    entities
        .iter()
        .find(|e| e["kind"] == kind && e["metadata"]["name"] == name)
        .map(|e| Value::Object(e.clone()))
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[tokio::test]
async fn github_org_ingestion() {
    let fake = FakeOAuth::start(
        Flavor::Github,
        OAuthApp::new("gh-client", SECRET, GITHUB_CALLBACK),
    )
    .await;
    fake.add_user("alice", 1, "Alice Liddell", Some("alice@example.com"));
    fake.add_user("bob", 2, "Bob Builder", None);
    fake.add_user("carol", 3, "Carol Danvers", Some("carol@example.com"));
    fake.add_user("dave", 4, "", None);
    fake.add_user("ingest-bot", 99, "Ingest", None);
    fake.add_team("acme", "engineering", "Engineering", None);
    fake.add_team("acme", "backend", "Backend", Some("engineering"));
    fake.add_team("acme", "frontend", "Frontend", Some("engineering"));
    fake.add_team_member("acme", "engineering", "alice");
    fake.add_team_member("acme", "backend", "bob");
    fake.add_team_member("acme", "backend", "carol");
    fake.add_team_member("acme", "frontend", "carol");
    fake.add_org_member("acme", "dave");
    // Two per page: the provider has to follow `Link: rel="next"`.
    fake.set_max_per_page(2);
    let token = fake.issue_token("ingest-bot", &["read:org", "read:user"]);

    let config = Config::from_value(json!({
        "integrations": {"github": [{
            "host": fake.host(),
            "token": token,
            "apiBaseUrl": fake.api_base_url(),
        }]}
    }))
    .unwrap();
    let section = json!({"githubOrg": {
        "id": "acme",
        "githubUrl": fake.base(),
        "orgs": ["acme"],
        "schedule": {"frequency": {"hours": 1}, "timeout": {"minutes": 5}},
    }});
    let providers = github_org_providers(Some(&section), &config).unwrap();
    assert_eq!(providers.len(), 1);
    let provider = &providers[0];
    assert_eq!(provider.name(), "GithubOrgEntityProvider:acme");

    let entities = provider.read().await.unwrap();
    for entity in &entities {
        greenroom_model::validate_entity(&Value::Object(entity.clone()))
            .unwrap_or_else(|e| panic!("{entity:?}: {e:?}"));
        assert_eq!(entity["apiVersion"], "backstage.io/v1alpha1");
        let annotations = &entity["metadata"]["annotations"];
        let location = format!("url:{}/acme", fake.base());
        assert_eq!(annotations["backstage.io/managed-by-location"], location);
        assert_eq!(
            annotations["backstage.io/managed-by-origin-location"],
            location
        );
    }
    let mut names: Vec<String> = entities
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Group:backend",
            "Group:engineering",
            "Group:frontend",
            "User:alice",
            "User:bob",
            "User:carol",
            "User:dave"
        ]
    );

    let engineering = by_name(&entities, "Group", "engineering");
    assert_eq!(
        engineering["metadata"]["annotations"]["github.com/team-slug"],
        "acme/engineering"
    );
    assert_eq!(
        engineering["metadata"]["description"],
        "The Engineering team"
    );
    assert_eq!(engineering["spec"]["type"], "team");
    assert_eq!(engineering["spec"]["profile"]["displayName"], "Engineering");
    assert_eq!(
        engineering["spec"]["children"],
        json!(["backend", "frontend"])
    );
    assert!(engineering["spec"].get("parent").is_none());
    let backend = by_name(&entities, "Group", "backend");
    assert_eq!(backend["spec"]["parent"], "engineering");
    assert_eq!(backend["spec"]["children"], json!([]));
    assert_eq!(
        backend["metadata"]["annotations"]["github.com/team-slug"],
        "acme/backend"
    );

    // GitHub lists child-team members under the parent too; memberOf is direct.
    let alice = by_name(&entities, "User", "alice");
    assert_eq!(
        alice["metadata"]["annotations"]["github.com/user-login"],
        "alice"
    );
    assert_eq!(alice["spec"]["memberOf"], json!(["engineering"]));
    assert_eq!(
        alice["spec"]["profile"],
        json!({"displayName": "Alice Liddell", "email": "alice@example.com",
               "picture": format!("{}/avatars/u/1", fake.base())})
    );
    assert_eq!(
        by_name(&entities, "User", "bob")["spec"]["memberOf"],
        json!(["backend"])
    );
    assert!(by_name(&entities, "User", "bob")["spec"]["profile"]
        .get("email")
        .is_none());
    assert_eq!(
        by_name(&entities, "User", "carol")["spec"]["memberOf"],
        json!(["backend", "frontend"])
    );
    // An organisation member in no team, with no name set.
    let dave = by_name(&entities, "User", "dave");
    assert_eq!(dave["spec"]["memberOf"], json!([]));
    assert!(dave["spec"]["profile"].get("displayName").is_none());

    // Paged reads with the integration's token.
    let pages = fake.find("GET", "/api/v3/orgs/acme/teams");
    assert_eq!(pages.len(), 2, "3 teams at 2 per page");
    assert_eq!(pages[0].query["per_page"], "100");
    assert_eq!(pages[1].query["page"], "2");
    assert_eq!(pages[0].headers["authorization"], format!("Bearer {token}"));
    assert_eq!(
        fake.find("GET", "/api/v3/orgs/acme/members").len(),
        2,
        "4 members (dave, alice, bob, carol) at 2 per page"
    );
    assert_eq!(fake.find("GET", "/api/v3/users/carol").len(), 1);
}

#[tokio::test]
async fn github_org_ingestion_fails_on_a_bad_token() {
    let fake = FakeOAuth::start(
        Flavor::Github,
        OAuthApp::new("gh-client", SECRET, GITHUB_CALLBACK),
    )
    .await;
    fake.add_team("acme", "engineering", "Engineering", None);
    let config = Config::from_value(json!({
        "integrations": {"github": [{"host": fake.host(), "token": "revoked-token", "apiBaseUrl": fake.api_base_url()}]}
    }))
    .unwrap();
    let section =
        json!({"githubOrg": [{"id": "acme", "githubUrl": fake.base(), "orgs": ["acme"]}]});
    let provider = github_org_providers(Some(&section), &config)
        .unwrap()
        .remove(0);
    let err = format!("{:#}", provider.read().await.unwrap_err());
    assert!(err.contains("Bad credentials"), "{err}");
    assert!(!err.contains("revoked-token"), "{err}");
}
