//! Sign-in end to end through the real server: LDAP against a real slapd
//! whose users and nested groups the LDAP provider ingested into the catalog
//! (with rate limiting of failed attempts), and GitHub and GitLab through
//! in-process fakes of their OAuth and user APIs: the browser is redirected,
//! the callback exchanges the code, the user lands signed in as their
//! catalog entity; a forged or missing state is refused.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::fake_oauth::{FakeOAuth, Flavor, OAuthApp};
use common::server::{config, Server, DEMO_CATALOG};
use common::slapd::{self, Slapd, ADMIN_DN, ADMIN_PASSWORD, SEED};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn ldap_login(server: &Server, username: &str, password: &str) -> reqwest::Response {
    client()
        .post(server.url("/api/auth/ldap/login"))
        .header("X-Requested-With", "XMLHttpRequest")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_users_in_nested_groups_sign_in_as_their_ingested_entities() {
    if !slapd::available() {
        return;
    }
    let directory = Slapd::start(SEED);
    let mut cfg = config(&[]);
    cfg["auth"] = json!({"providers": {"ldap": {"development": {
        "url": directory.url(),
        "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
        "users": {"baseDn": "ou=people,dc=example,dc=org", "filter": "(objectClass=inetOrgPerson)"}
    }}}});
    cfg["catalog"]["providers"] = json!({"ldapOrg": {"directory": {
        "target": directory.url(),
        "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
        "users": {"dn": "ou=people,dc=example,dc=org", "options": {"filter": "(objectClass=inetOrgPerson)", "scope": "sub"}},
        "groups": {"dn": "ou=groups,dc=example,dc=org", "options": {"filter": "(objectClass=groupOfNames)", "scope": "sub"}},
        "schedule": {"frequency": {"minutes": 60}, "timeout": {"minutes": 1}}
    }}});
    let server = Server::start(cfg, Vec::new()).await;

    // The provider runs at start; the users appear once processed.
    let mut response = ldap_login(&server, "alice", "alice-password").await;
    for _ in 0..100 {
        if response.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        response = ldap_login(&server, "alice", "alice-password").await;
    }
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    let identity = &body["backstageIdentity"]["identity"];
    assert_eq!(identity["userEntityRef"], "user:default/alice");
    // alice is in backend, which is inside engineering.
    assert_eq!(
        identity["ownershipEntityRefs"],
        json!([
            "user:default/alice",
            "group:default/backend",
            "group:default/engineering"
        ])
    );
    assert_eq!(body["profile"]["email"], "alice@example.org");
    let session: Value = client()
        .get(server.url("/api/auth/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["provider"], "ldap");
    assert_eq!(session["profile"]["displayName"], "Alice Anderson");

    // Wrong and empty passwords, and filter tricks, are one clear refusal.
    for (user, password) in [
        ("alice", "nope"),
        ("alice", ""),
        ("*", "alice-password"),
        ("alice)(uid=*", "alice-password"),
    ] {
        let r = ldap_login(&server, user, password).await;
        assert_eq!(r.status(), 401, "{user}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["message"], "Invalid username or password");
    }
    // Guessing stops: after five failures the account answers 429, even with the right password.
    for _ in 0..4 {
        assert_eq!(ldap_login(&server, "bob", "guess").await.status(), 401);
    }
    let r = ldap_login(&server, "bob", "guess").await;
    assert_eq!(r.status(), 401);
    let r = ldap_login(&server, "bob", "bob-password").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // Without the XHR header the route refuses before touching the directory.
    let r = client()
        .post(server.url("/api/auth/ldap/login"))
        .json(&json!({"username": "carol", "password": "carol-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// A browser with a cookie jar, following redirects one hop at a time.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: client(),
            cookies: HashMap::new(),
        }
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let r = self
            .http
            .get(url)
            .header("cookie", cookie.join("; "))
            .send()
            .await
            .unwrap();
        for set in r.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        r
    }
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 302, "expected a redirect");
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn oauth_server(flavor: Flavor) -> (Server, FakeOAuth, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let id = if flavor == Flavor::Github {
        "github"
    } else {
        "gitlab"
    };
    let callback = format!("{base}/api/auth/{id}/handler/frame");
    let fake = FakeOAuth::start(
        flavor,
        OAuthApp::new("greenroom-app", "client-secret-value", &callback),
    )
    .await;
    fake.add_user(
        "hannah.becker",
        4242,
        "Hannah Becker",
        Some("hannah@example.com"),
    );
    fake.sign_in_as("hannah.becker");
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["backend"]["baseUrl"] = json!(base);
    cfg["app"] = json!({"baseUrl": base});
    let provider = if flavor == Flavor::Github {
        json!({"clientId": "greenroom-app", "clientSecret": "client-secret-value", "enterpriseInstanceUrl": fake.base()})
    } else {
        json!({"clientId": "greenroom-app", "clientSecret": "client-secret-value", "audience": fake.base()})
    };
    cfg["auth"] = json!({"providers": {id: {"development": provider}}});
    let server = Server::start_on(cfg, Vec::new(), listener).await;
    (server, fake, base)
}

async fn oauth_round_trip(flavor: Flavor) {
    let (server, fake, base) = oauth_server(flavor).await;
    let id = if flavor == Flavor::Github {
        "github"
    } else {
        "gitlab"
    };
    let mut browser = Browser::new();
    // Not signed in yet.
    assert_eq!(
        browser
            .get(&server.url("/api/catalog/entities"))
            .await
            .status(),
        401
    );

    let app_page = format!("{base}/catalog?kind=component");
    let start = server.url(&format!(
        "/api/auth/{id}/start?env=development&flow=redirect&redirectUrl={}",
        url::form_urlencoded::byte_serialize(app_page.as_bytes()).collect::<String>()
    ));
    let to_idp = location(&browser.get(&start).await);
    assert!(to_idp.starts_with(fake.base()), "{to_idp}");
    let idp = url::Url::parse(&to_idp).unwrap();
    let q: HashMap<String, String> = idp.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.contains_key("state"));
    assert!(browser.cookies.contains_key(&format!("{id}-nonce")));

    // The IdP sends the browser back with a code; the callback signs it in.
    let back = location(&browser.get(&to_idp).await);
    assert!(
        back.starts_with(&format!("{base}/api/auth/{id}/handler/frame")),
        "{back}"
    );
    let landed = browser.get(&back).await;
    assert_eq!(location(&landed), app_page);
    assert!(browser.cookies.contains_key("greenroom-session"));
    assert!(
        !browser.cookies.contains_key(&format!("{id}-nonce")),
        "the nonce is spent"
    );
    let session: Value = browser
        .get(&server.url("/api/auth/session"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["userEntityRef"], "user:default/hannah.becker");
    assert_eq!(session["provider"], id);
    assert!(session["ownershipEntityRefs"]
        .as_array()
        .unwrap()
        .contains(&json!("group:default/team-payments")));
    assert_eq!(
        browser
            .get(&server.url("/api/catalog/entities?filter=kind=api"))
            .await
            .status(),
        200
    );

    // A callback with a state this browser was not given is refused.
    let mut other = Browser::new();
    let forged = location(&other.get(&start).await);
    let forged_back = location(&other.get(&forged).await);
    let mut attacker = Browser::new();
    assert_eq!(
        attacker.get(&forged_back).await.status(),
        401,
        "no nonce cookie"
    );
    let tampered = forged_back.replace("state=", "state=00");
    assert_eq!(
        other.get(&tampered).await.status(),
        401,
        "state not matching the nonce"
    );
    assert!(!other.cookies.contains_key("greenroom-session"));

    // A person who is not in the catalog is not signed in; the app is told why.
    fake.add_user("stranger", 7, "Stranger", None);
    fake.sign_in_as("stranger");
    let mut newcomer = Browser::new();
    let to_idp = location(&newcomer.get(&start).await);
    let back = location(&newcomer.get(&to_idp).await);
    let refused = location(&newcomer.get(&back).await);
    assert!(
        refused.starts_with(&app_page) && refused.contains("signInError="),
        "{refused}"
    );
    assert!(!newcomer.cookies.contains_key("greenroom-session"));

    // The popup flow (Backstage's frontend): the callback page posts the
    // response to the opener, at the app's origin only.
    fake.sign_in_as("hannah.becker");
    let mut popup = Browser::new();
    let origin = url::form_urlencoded::byte_serialize(base.as_bytes()).collect::<String>();
    let to_idp = location(
        &popup
            .get(&server.url(&format!(
                "/api/auth/{id}/start?env=development&origin={origin}"
            )))
            .await,
    );
    let back = location(&popup.get(&to_idp).await);
    let page = popup.get(&back).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("authorization_response") && html.contains("backstageIdentity"),
        "{html}"
    );
    assert!(
        html.contains(&format!("\"targetOrigin\":\"{base}\"")),
        "{html}"
    );
    assert!(popup.cookies.contains_key("greenroom-session"));

    // A redirect off the app is refused up front (no open redirect).
    let evil = server.url(&format!("/api/auth/{id}/start?env=development&flow=redirect&redirectUrl=http%3A%2F%2Fevil.example%2F"));
    assert_eq!(Browser::new().get(&evil).await.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_sign_in_round_trip() {
    oauth_round_trip(Flavor::Github).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_sign_in_round_trip() {
    oauth_round_trip(Flavor::Gitlab).await;
}
