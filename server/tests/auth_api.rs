//! Sign-in, sessions, tokens, permissions and the audit log through the real
//! server: the guest provider's session cookie and its CSRF rules, identity
//! tokens (tampered, foreign and expired ones refused), personal API tokens
//! that stop at once when revoked, a YAML policy whose ownership condition
//! narrows listings, the explain and authorize endpoints, and the audit log.

mod common;

use common::server::{config, Server, DEMO_CATALOG};
use greenroom_store::Principal;
use serde_json::{json, Value};

const POLICY: &str = r#"
roles:
  admin: [group:default/team-platform]
rules:
  - name: admins
    roles: [admin]
    permissions: ["*"]
  - name: owners-manage-their-entities
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    conditions: { rule: IS_ENTITY_OWNER }
  - name: read-own-and-apis
    permissions: [catalog.entity.read]
    conditions:
      anyOf:
        - { rule: IS_ENTITY_OWNER }
        - { rule: IS_ENTITY_KIND, params: { kinds: [API, Group, User] } }
  - name: everyone-else
    permissions: ["catalog.location.read", "search.query", "scaffolder.*", "greenroom.permission.explain"]
"#;

async fn server(policy_dir: &tempfile::TempDir) -> Server {
    let policy = policy_dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["auth"] = json!({"providers": {"guest": {"userEntityRef": "user:default/hannah.becker"}}});
    cfg["permission"] = json!({"enabled": true, "policyFile": policy.to_string_lossy()});
    Server::start(cfg, Vec::new()).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn token_for(server: &Server, user: &str, groups: &[&str]) -> String {
    let mut refs = vec![format!("user:default/{user}")];
    refs.extend(groups.iter().map(|g| format!("group:default/{g}")));
    server
        .auth
        .tokens
        .issue(&Principal {
            user_entity_ref: format!("user:default/{user}"),
            ownership_refs: refs,
        })
        .await
        .unwrap()
        .0
}

async fn names(server: &Server, bearer: &str) -> Vec<String> {
    let body: Value = client()
        .get(server.url("/api/catalog/entities/by-query?filter=kind=component&limit=500&fields=metadata.name,spec.owner"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["metadata"]["name"].as_str().unwrap(),
                e["spec"]["owner"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn guest_session_cookie_csrf_and_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let http = client();
    // Not signed in: the API answers 401 with Backstage's error body.
    let r = http
        .get(server.url("/api/catalog/entities"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["name"], "AuthenticationError");
    let providers: Value = http
        .get(server.url("/api/auth/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(providers["signInRequired"], true);
    assert_eq!(providers["providers"][0]["id"], "guest");

    // The guest refresh needs the XHR header (Backstage's rule).
    let r = http
        .post(server.url("/api/auth/guest/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(server.url("/api/auth/guest/refresh"))
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let identity = &body["backstageIdentity"]["identity"];
    assert_eq!(identity["userEntityRef"], "user:default/hannah.becker");
    assert!(identity["ownershipEntityRefs"]
        .as_array()
        .unwrap()
        .contains(&json!("group:default/team-payments")));
    assert_eq!(
        body["backstageIdentity"]["token"]
            .as_str()
            .unwrap()
            .split('.')
            .count(),
        3
    );

    // The cookie signs requests in.
    let session: Value = http
        .get(server.url("/api/auth/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["userEntityRef"], "user:default/hannah.becker");
    assert_eq!(session["provider"], "guest");
    let r = http
        .get(server.url("/api/catalog/entities?filter=kind=api"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A state-changing request riding on the cookie needs the header and a same-origin Origin.
    let refresh = json!({"entityRef": "component:default/payments-api"});
    let r = http
        .post(server.url("/api/catalog/refresh"))
        .header("cookie", &cookie)
        .json(&refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "no X-Requested-With: refused as cross-site"
    );
    let r = http
        .post(server.url("/api/catalog/refresh"))
        .header("cookie", &cookie)
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Origin", "http://evil.example")
        .json(&refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "foreign Origin refused");

    // Sign out ends the session at once.
    let r = http
        .post(server.url("/api/auth/guest/logout"))
        .header("cookie", &cookie)
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let r = http
        .get(server.url("/api/catalog/entities"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn identity_tokens_verify_and_forgeries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let http = client();
    let token = token_for(&server, "hannah.becker", &["team-payments"]).await;
    let ok = http
        .get(server.url("/api/auth/v1/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let info: Value = ok.json().await.unwrap();
    assert_eq!(info["claims"]["sub"], "user:default/hannah.becker");

    let jwks: Value = http
        .get(server.url("/api/auth/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    let oidc: Value = http
        .get(server.url("/api/auth/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(oidc["jwks_uri"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/.well-known/jwks.json"));

    // Claims changed after signing (more groups): refused, not downgraded.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["ent"] = json!(["group:default/team-platform"]);
    parts[1] = b64.encode(claims.to_string());
    let tampered = parts.join(".");
    for bad in [tampered.as_str(), "not-a-token", "a.b.c"] {
        let r = http
            .get(server.url("/api/catalog/entities"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{bad}");
    }
    // A token signed by another server's key.
    let other_dir = tempfile::tempdir().unwrap();
    let other = self::server(&other_dir).await;
    let foreign = token_for(&other, "hannah.becker", &["team-platform"]).await;
    let r = http
        .get(server.url("/api/catalog/entities"))
        .bearer_auth(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn api_tokens_work_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let http = client();
    let user = token_for(&server, "hannah.becker", &["team-payments"]).await;
    let created = http
        .post(server.url("/api/auth/tokens"))
        .bearer_auth(&user)
        .json(&json!({"name": "ci script", "expiresInDays": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("grt_"));
    assert!(created["expiresAt"].is_string());
    let r = http
        .get(server.url("/api/catalog/entities?filter=kind=api"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The listing shows the token, never its secret.
    let list = http
        .get(server.url("/api/auth/tokens"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("ci script") && !list.contains(&secret));
    // A token cannot mint tokens.
    let r = http
        .post(server.url("/api/auth/tokens"))
        .bearer_auth(&secret)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Another user cannot revoke it.
    let bob = token_for(&server, "yuki.tanaka", &["team-web"]).await;
    let id = created["id"].as_str().unwrap();
    let r = http
        .delete(server.url(&format!("/api/auth/tokens/{id}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .delete(server.url(&format!("/api/auth/tokens/{id}")))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Revoked: the very next request is refused.
    let r = http
        .get(server.url("/api/catalog/entities?filter=kind=api"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn ownership_policy_narrows_reads_and_guards_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let http = client();
    let payments = token_for(&server, "hannah.becker", &["team-payments"]).await;
    let web = token_for(&server, "yuki.tanaka", &["team-web"]).await;
    let admin = token_for(&server, "liam.obrien", &["team-platform"]).await;

    let all = names(&server, &admin).await;
    let mine = names(&server, &payments).await;
    assert!(
        !mine.is_empty() && mine.len() < all.len(),
        "{mine:?} / {all:?}"
    );
    assert!(
        mine.iter().all(|n| n.ends_with(":team-payments")),
        "{mine:?}"
    );
    let theirs = names(&server, &web).await;
    assert!(
        theirs.iter().all(|n| n.ends_with(":team-web")),
        "{theirs:?}"
    );

    // A single entity another team owns does not exist for you; yours does.
    let other = all
        .iter()
        .find(|n| n.ends_with(":team-web"))
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let path = format!("/api/catalog/entities/by-name/component/default/{other}");
    assert_eq!(
        http.get(server.url(&path))
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        http.get(server.url(&path))
            .bearer_auth(&web)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Refresh: the owner may, another team may not, the admin may.
    let body = json!({"entityRef": format!("component:default/{other}")});
    for (token, status) in [(&web, 200), (&payments, 403), (&admin, 200)] {
        let r = http
            .post(server.url("/api/catalog/refresh"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status);
    }
    // No rule lets a non-admin register locations.
    let r = http
        .post(server.url("/api/catalog/locations"))
        .bearer_auth(&payments)
        .json(&json!({"type": "url", "target": "http://127.0.0.1:1/x.yaml"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Backstage's authorize endpoint and the explanation.
    let answer: Value = http
        .post(server.url("/api/permission/authorize"))
        .bearer_auth(&payments)
        .json(&json!({"items": [
            {"id": "a", "permission": {"type": "basic", "name": "catalog.location.create", "attributes": {"action": "create"}}},
            {"id": "b", "permission": {"type": "resource", "name": "catalog.entity.delete", "attributes": {"action": "delete"}, "resourceType": "catalog-entity"}},
            {"id": "c", "permission": {"type": "resource", "name": "catalog.entity.delete", "attributes": {"action": "delete"}, "resourceType": "catalog-entity"}, "resourceRef": format!("component:default/{other}")}
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["items"][0]["result"], "DENY");
    assert_eq!(answer["items"][1]["result"], "CONDITIONAL");
    assert_eq!(answer["items"][1]["conditions"]["rule"], "IS_ENTITY_OWNER");
    assert_eq!(answer["items"][2]["result"], "DENY");
    let explained: Value = http
        .post(server.url("/api/permission/explain"))
        .bearer_auth(&payments)
        .json(&json!({"permission": "catalog.entity.delete", "resourceRef": format!("component:default/{other}")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(explained["rule"], "owners-manage-their-entities");
    assert_eq!(explained["result"], "DENY");
    assert!(explained["message"]
        .as_str()
        .unwrap()
        .contains("does not satisfy"));

    // The audit log: the admin reads it, others may not.
    let r = http
        .get(server.url("/api/audit/events?outcome=denied"))
        .bearer_auth(&payments)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let events: Value = http
        .get(server.url("/api/audit/events?outcome=denied"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = events["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|e| e["actor"] == "user:default/hannah.becker"
                && e["action"] == "catalog.location.create"
                && e["status"] == 403),
        "{events}"
    );
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "catalog.entity.refresh" && e["status"] == 403),
        "{events}"
    );
}

#[tokio::test]
async fn the_policy_file_is_reloaded_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let http = client();
    let payments = token_for(&server, "hannah.becker", &["team-payments"]).await;
    let path = "/api/catalog/locations";
    assert_eq!(
        http.get(server.url(path))
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    std::fs::write(dir.path().join("policy.yaml"), "rules: []\n").unwrap();
    let mut status = 0;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        status = http
            .get(server.url(path))
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 403 {
            break;
        }
    }
    assert_eq!(status, 403, "the emptied policy denies by default");
    // A broken file keeps the last good policy.
    std::fs::write(dir.path().join("policy.yaml"), "rules: [{permissions: ").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        http.get(server.url(path))
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn search_results_follow_the_read_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let http = client();
    let payments = token_for(&server, "hannah.becker", &["team-payments"]).await;
    let admin = token_for(&server, "liam.obrien", &["team-platform"]).await;
    let search = |token: String| {
        let http = http.clone();
        let url = server.url("/api/search/query?term=&types=software-catalog&pageLimit=100");
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // The index is built in the background.
    let mut all = Value::Null;
    for _ in 0..100 {
        let (status, body) = search(admin.clone()).await;
        if status == 200 && body["numberOfResults"].as_u64().unwrap_or(0) > 30 {
            all = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let kinds_and_owners = |body: &Value| -> Vec<(String, String)> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let d = &r["document"];
                (
                    d["kind"].as_str().unwrap_or_default().to_lowercase(),
                    d["owner"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let everything = kinds_and_owners(&all);
    assert!(
        everything
            .iter()
            .any(|(k, o)| k == "component" && !o.contains("team-payments")),
        "{all}"
    );
    let (status, mine) = search(payments).await;
    assert_eq!(status, 200);
    let mine = kinds_and_owners(&mine);
    assert!(!mine.is_empty());
    for (kind, owner) in &mine {
        assert!(
            ["api", "group", "user"].contains(&kind.as_str()) || owner.contains("team-payments"),
            "{kind} owned by {owner} is not readable by team-payments"
        );
    }
}

#[tokio::test]
async fn a_policy_kept_in_git_is_followed_as_it_changes() {
    use common::git::git;
    let root = tempfile::tempdir().unwrap();
    let bare = root.path().join("platform/policy.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "--bare", "-q"]);
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    std::fs::write(work.join("policy.yaml"), POLICY).unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "policy"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "HEAD:main"]);

    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["integrations"] = json!({"git": [{"host": "git.localhost", "remoteBaseUrl": format!("file://{}", root.path().display())}]});
    cfg["auth"] = json!({"providers": {"guest": {}}});
    cfg["permission"] = json!({
        "enabled": true,
        "policyLocation": format!("git+file://{}/-/blob/main/policy.yaml", bare.display()),
        "refreshIntervalSeconds": 1
    });
    let server = Server::start(cfg, Vec::new()).await;
    let http = client();
    let payments = token_for(&server, "hannah.becker", &["team-payments"]).await;
    let locations = server.url("/api/catalog/locations");
    assert_eq!(
        http.get(&locations)
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A commit that takes the rule away is followed within the interval.
    std::fs::write(work.join("policy.yaml"), "rules: []\n").unwrap();
    git(&work, &["commit", "-qam", "lock down"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "HEAD:main"]);
    let mut status = 0;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        status = http
            .get(&locations)
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 403 {
            break;
        }
    }
    assert_eq!(status, 403);

    // A broken commit keeps the last good policy.
    std::fs::write(work.join("policy.yaml"), "rules: [{permissions: ").unwrap();
    git(&work, &["commit", "-qam", "oops"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "HEAD:main"]);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        http.get(&locations)
            .bearer_auth(&payments)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn a_missing_policy_location_stops_the_start() {
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["permission"] =
        json!({"enabled": true, "policyLocation": "http://127.0.0.1:9/policy.yaml"});
    let config = greenroom::config::Config::from_value(cfg).unwrap();
    let err = greenroom::connect(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("invalid permission configuration"), "{err}");
}
