//! Browser test of signing in: headless Chromium on the real server with
//! GitHub (an in-process fake of its OAuth and user APIs), LDAP (a real
//! slapd) and the guest provider. A visitor is shown the sign-in page, a
//! wrong LDAP password is refused in the form, "Sign in with GitHub" goes
//! through the IdP and lands back on the page asked for, signed in as the
//! catalog user; Settings creates an API token shown once, which works until
//! it is revoked there; signing out returns to the sign-in page.
//!
//! Needs what `ui_browser.rs` needs plus slapd; without them (and outside
//! CI) the test prints SKIPPED and passes.

mod common;

use common::browser::{can_run, Ui};
use common::fake_oauth::{FakeOAuth, Flavor, OAuthApp};
use common::server::{config, Server, DEMO_CATALOG};
use common::slapd::{self, Slapd, ADMIN_DN, ADMIN_PASSWORD, SEED};
use greenroom_webdriver::{poll, WAIT_TIMEOUT};
use serde_json::json;

async fn value_of(ui: &Ui, css: &str) -> String {
    ui.browser
        .execute(
            &format!("return document.querySelector('{css}').value"),
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_ldap_and_github_then_manage_tokens_and_sign_out() {
    if !can_run("ui_sign_in", &[]) || !slapd::available() {
        return;
    }
    let directory = Slapd::start(SEED);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeOAuth::start(
        Flavor::Github,
        OAuthApp::new(
            "gr-app",
            "gr-secret",
            &format!("{base}/api/auth/github/handler/frame"),
        ),
    )
    .await;
    fake.add_user(
        "hannah.becker",
        11,
        "Hannah Becker",
        Some("hannah@example.com"),
    );
    fake.sign_in_as("hannah.becker");
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["backend"]["baseUrl"] = json!(base);
    cfg["app"] = json!({"baseUrl": base});
    cfg["auth"] = json!({"providers": {
        "github": {"development": {"clientId": "gr-app", "clientSecret": "gr-secret", "enterpriseInstanceUrl": fake.base()}},
        "ldap": {"development": {
            "url": directory.url(),
            "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
            "users": {"baseDn": "ou=people,dc=example,dc=org"}
        }},
        "guest": {}
    }});
    let ui = Ui::start(Server::start_on(cfg, Vec::new(), listener).await).await;
    let b = &ui.browser;

    // A visitor asking for the catalog is shown the sign-in page with every provider.
    ui.open("/catalog?kind=api").await;
    b.wait_for("#sign-in").await.unwrap();
    for provider in ["github", "ldap", "guest"] {
        b.wait_for(&format!(".sign-in-provider[data-provider={provider}]"))
            .await
            .unwrap();
    }

    // LDAP: a wrong password is refused in the form, which clears the password.
    b.fill("#ldap-username", "alice").await.unwrap();
    b.fill("#ldap-password", "not-her-password").await.unwrap();
    b.click("form[data-provider=ldap] button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text("#ldap-error", "Invalid username or password")
        .await
        .unwrap();
    assert_eq!(value_of(&ui, "#ldap-password").await, "");

    // GitHub: through the IdP and back to the page asked for, signed in.
    b.click(".sign-in-provider[data-provider=github]")
        .await
        .unwrap();
    b.wait_for_text("#user-menu-button", "Hannah Becker")
        .await
        .unwrap();
    let path = b.path().await.unwrap();
    assert!(path.starts_with("/catalog"), "{path}");
    assert!(!fake.find("POST", "/login/oauth/access_token").is_empty());

    // Settings: the profile, and an API token shown once.
    ui.open("/settings").await;
    b.wait_for_text("#settings-profile", "user:hannah.becker")
        .await
        .unwrap();
    b.wait_for_text("#settings-profile", "group:team-payments")
        .await
        .unwrap();
    b.fill("#new-token-name", "deploy script").await.unwrap();
    b.click("#new-token-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for("#new-token-dialog #new-token-value")
        .await
        .unwrap();
    let token = poll("the new token", WAIT_TIMEOUT, || async {
        let v = value_of(&ui, "#new-token-value").await;
        Ok(v.starts_with("grt_").then_some(v))
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let api = |t: String| {
        let http = http.clone();
        let url = ui.server.url("/api/catalog/entities?filter=kind=api");
        async move {
            http.get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(api(token.clone()).await, 200);
    b.click("#new-token-done").await.unwrap();
    b.wait_for_text(".token-row", "deploy script")
        .await
        .unwrap();
    let page = b.texts("#settings-tokens").await.unwrap().join(" ");
    assert!(!page.contains(&token), "the token is shown only once");

    // Revoked in Settings: the script's next request is refused.
    b.click(".token-row .revoke-token").await.unwrap();
    b.click("#confirm-revoke").await.unwrap();
    b.wait_for("#no-tokens").await.unwrap();
    assert_eq!(api(token).await, 401);

    // The audit log (without a policy every signed-in user may read it)
    // shows the refused LDAP attempt, the GitHub sign-in and the token's life.
    ui.open("/settings/audit").await;
    b.wait_for_text("#audit-table", "auth.token.revoke")
        .await
        .unwrap();
    let rows = b.texts("#audit-table .audit-row").await.unwrap().join("\n");
    assert!(rows.contains("auth.token.create"), "{rows}");
    assert!(rows.contains("auth.sign-in"), "{rows}");
    assert!(
        rows.contains("user:hannah.becker") || rows.contains("user:default/hannah.becker"),
        "{rows}"
    );

    // Sign out: back to the sign-in page; the API no longer knows the browser.
    b.click("#user-menu-button").await.unwrap();
    b.click("#sign-out").await.unwrap();
    b.wait_for("#sign-in").await.unwrap();
    let status = b
        .execute(
            "return fetch('/api/auth/session', {headers: {'X-Requested-With': 'XMLHttpRequest'}}).then(r => r.status)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(401));

    // The guest button signs in at once.
    b.click(".sign-in-provider[data-provider=guest]")
        .await
        .unwrap();
    b.wait_for("#user-menu-button").await.unwrap();
    ui.finish().await;
}
