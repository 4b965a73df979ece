//! Secrets and tokens never reach the log: the real binary runs with debug
//! logging while people sign in (guest, LDAP with right and wrong passwords,
//! GitHub through the fake), create and use API tokens and identity tokens;
//! then the captured log is searched for every secret that was in play.

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::fake_oauth::{FakeOAuth, Flavor, OAuthApp};
use common::paths::repo_root;
use common::slapd::{self, Slapd, ADMIN_DN, ADMIN_PASSWORD, SEED};
use serde_json::{json, Value};

const CLIENT_SECRET: &str = "gh-client-secret-5f1e0c";
const ALICE_PASSWORD: &str = "alice-password";
const WRONG_PASSWORD: &str = "wrong-password-9d2b71";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_tokens_never_appear_in_the_log() {
    if !slapd::available() {
        return;
    }
    let directory = Slapd::start(SEED);
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let fake = FakeOAuth::start(
        Flavor::Github,
        OAuthApp::new(
            "gr-app",
            CLIENT_SECRET,
            &format!("{base}/api/auth/github/handler/frame"),
        ),
    )
    .await;
    fake.add_user("alice", 1, "Alice Anderson", Some("alice@example.org"));
    fake.sign_in_as("alice");
    let config = json!({
        "app": {"baseUrl": base},
        "backend": {
            "baseUrl": base,
            "listen": {"host": "127.0.0.1", "port": port},
            "database": {"client": "better-sqlite3", "connection": dir.path().join("g.db").to_string_lossy()}
        },
        "catalog": {
            "rules": [{"allow": ["User", "Group", "Component", "Location"]}],
            "providers": {"ldapOrg": {"directory": {
                "target": directory.url(),
                "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
                "users": {"dn": "ou=people,dc=example,dc=org", "options": {"filter": "(objectClass=inetOrgPerson)", "scope": "sub"}},
                "groups": {"dn": "ou=groups,dc=example,dc=org", "options": {"filter": "(objectClass=groupOfNames)", "scope": "sub"}}
            }}}
        },
        "auth": {"providers": {
            "guest": {},
            "ldap": {"development": {
                "url": directory.url(),
                "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
                "users": {"baseDn": "ou=people,dc=example,dc=org"}
            }},
            "github": {"development": {"clientId": "gr-app", "clientSecret": CLIENT_SECRET, "enterpriseInstanceUrl": fake.base()}}
        }}
    });
    let config_file = dir.path().join("app-config.yaml");
    std::fs::write(&config_file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let log_file = dir.path().join("greenroom.log");
    let log = std::fs::File::create(&log_file).unwrap();
    let _server = Running(
        Command::new(env!("CARGO_BIN_EXE_greenroom"))
            .arg("--config")
            .arg(&config_file)
            .current_dir(repo_root())
            .env("RUST_LOG", "debug")
            .env("GREENROOM_DIST_DIR", dir.path())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start greenroom"),
    );
    let client = http();
    let mut up = false;
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthcheck"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        up,
        "server did not start:\n{}",
        std::fs::read_to_string(&log_file).unwrap()
    );
    let mut secrets: Vec<(String, String)> = vec![
        ("GitHub client secret".into(), CLIENT_SECRET.into()),
        ("LDAP bind secret".into(), ADMIN_PASSWORD.into()),
        ("LDAP user password".into(), ALICE_PASSWORD.into()),
        ("wrong password".into(), WRONG_PASSWORD.into()),
    ];

    // Guest: a session cookie and an identity token.
    let r = client
        .post(format!("{base}/api/auth/guest/refresh"))
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    secrets.push((
        "guest session".into(),
        cookie_of(&r, "greenroom-session").unwrap(),
    ));
    let body: Value = r.json().await.unwrap();
    let jwt = body["backstageIdentity"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(("identity token".into(), jwt.clone()));

    // LDAP: wrong password, then right (once ingestion made alice a user).
    let login = |password: &'static str| {
        client
            .post(format!("{base}/api/auth/ldap/login"))
            .header("X-Requested-With", "XMLHttpRequest")
            .json(&json!({"username": "alice", "password": password}))
            .send()
    };
    assert_eq!(login(WRONG_PASSWORD).await.unwrap().status(), 401);
    let mut signed_in = None;
    for _ in 0..100 {
        let r = login(ALICE_PASSWORD).await.unwrap();
        if r.status() == 200 {
            signed_in = cookie_of(&r, "greenroom-session");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    secrets.push(("LDAP session".into(), signed_in.expect("alice signs in")));

    // GitHub: the whole redirect dance; the access token the fake issued.
    let start = client
        .get(format!(
            "{base}/api/auth/github/start?env=development&flow=redirect&redirectUrl={}",
            url::form_urlencoded::byte_serialize(format!("{base}/").as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    let nonce = cookie_of(&start, "github-nonce").unwrap();
    secrets.push((
        "PKCE verifier".into(),
        nonce.split_once('.').unwrap().1.to_string(),
    ));
    let to_idp = start.headers()["location"].to_str().unwrap().to_string();
    let back = client.get(&to_idp).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let code: HashMap<String, String> = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    secrets.push(("OAuth code".into(), code["code"].clone()));
    let landed = client
        .get(&back)
        .header("cookie", format!("github-nonce={nonce}"))
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), 302);
    secrets.push((
        "GitHub session".into(),
        cookie_of(&landed, "greenroom-session").unwrap(),
    ));
    let user_call = fake.find("GET", "/api/v3/user");
    let access = user_call[0]
        .headers
        .get("authorization")
        .expect("token sent")
        .clone();
    secrets.push((
        "GitHub access token".into(),
        access.split(' ').next_back().unwrap().to_string(),
    ));

    // An API token: created, used, revoked, used again.
    let created: Value = client
        .post(format!("{base}/api/auth/tokens"))
        .bearer_auth(&jwt)
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_token = created["token"].as_str().unwrap().to_string();
    secrets.push(("API token".into(), api_token.clone()));
    assert_eq!(
        client
            .get(format!("{base}/api/catalog/entities"))
            .bearer_auth(&api_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    client
        .delete(format!(
            "{base}/api/auth/tokens/{}",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .get(format!("{base}/api/catalog/entities"))
            .bearer_auth(&api_token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // A forged token, refused (its text is the caller's, but still not logged).
    let forged = format!("{jwt}x");
    assert_eq!(
        client
            .get(format!("{base}/api/catalog/entities"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    drop(_server);
    let text = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        text.contains("greenroom listening"),
        "the log was captured:\n{text}"
    );
    assert!(text.lines().count() > 20, "debug logging was on:\n{text}");
    for (what, secret) in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !text.contains(secret.as_str()),
            "the {what} appears in the log"
        );
    }
}
