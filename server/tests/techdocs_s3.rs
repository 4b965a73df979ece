//! The S3 docs storage (`techdocs.publisher.type: awsS3`) against a real
//! S3-compatible server: moto, which speaks S3's wire protocol and checks
//! every request's Signature Version 4 against the access keys of its IAM.
//! Sites are published, read back, replaced (a removed file is gone) and
//! listed; the metadata is written after the other files; refused credentials
//! are a clear error that does not hold the secret; and two instances of the
//! app on one bucket serve the site that one of them built.
//!
//! moto comes from `scripts/s3-test-server` (a pinned virtualenv in the
//! fixtures cache), which the tests run themselves; each test starts its own
//! `moto_server` on a free loopback port. Outside CI, when moto cannot be had
//! (no python3 or no package index) or `GREENROOM_SKIP_S3` is set, the tests
//! print SKIPPED and pass; in CI (`CI` set) that is a failure.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::paths::repo_root;
use common::server::{config, Server};
use common::techdocs::sync;
use greenroom::techdocs::s3::{S3Settings, S3Storage};
use greenroom::techdocs::storage::{DocsStorage, SiteKey};
use regex::Regex;
use serde_json::{json, Value};

const BUCKET: &str = "docs";
const METADATA: &str = "techdocs_metadata.json";
/// What a URL path segment keeps as is.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// `moto_server`, prepared once per test run by `scripts/s3-test-server`;
/// None (after saying why) when it cannot be had outside CI.
fn moto_server(test: &str) -> Option<PathBuf> {
    if std::env::var_os("GREENROOM_SKIP_S3").is_some() && !in_ci() {
        eprintln!("\nSKIPPED {test}: GREENROOM_SKIP_S3 is set\n");
        return None;
    }
    static PREPARED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let prepared = PREPARED.get_or_init(|| {
        let script = repo_root().join("scripts/s3-test-server");
        let output = std::process::Command::new(&script)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed ({}); its messages are above",
                script.display(),
                output.status
            ));
        }
        let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} printed no moto_server", script.display()))
        }
    });
    match prepared {
        Ok(path) => Some(path.clone()),
        Err(e) if !in_ci() => {
            eprintln!("\nSKIPPED {test}: moto, the S3 test server, is not available: {e}\n");
            None
        }
        Err(e) => panic!(
            "{test}: moto, the S3 test server, is required in CI: {e}. \
             scripts/s3-test-server installs it from the package index into a virtualenv."
        ),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A running `moto_server`, stopped when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
    _log_dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An IAM user's access key on the moto server.
struct AccessKey {
    id: String,
    secret: String,
}

/// An `Authorization` header that names a service, for moto's routing, and
/// that only passes while signatures are not checked. Without one, moto takes
/// a request as anonymous and refuses to show a private object.
fn unchecked(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    )
}

fn xml_text(body: &str, tag: &str) -> Vec<String> {
    let re = Regex::new(&format!("<{tag}>([^<]*)</{tag}>")).unwrap();
    re.captures_iter(body)
        .map(|c| {
            c[1].replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

impl Moto {
    /// Starts `moto_server` on a port of its choosing and waits for it.
    async fn start(program: &Path) -> Moto {
        let log_dir = tempfile::tempdir().unwrap();
        let log_path = log_dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = std::process::Command::new(program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let running = Regex::new(r"Running on (http://127\.0\.0\.1:\d+)").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let endpoint = loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(c) = running.captures(&text) {
                break c[1].to_string();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited ({status}):\n{text}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("moto_server did not start within 60 s:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        Moto {
            child,
            endpoint,
            _log_dir: log_dir,
        }
    }

    /// An IAM call; moto routes it to IAM by the service of the credential
    /// scope. Made before signatures are required, so it is not signed.
    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form = vec![("Version", "2010-05-08")];
        form.extend_from_slice(params);
        let response = client()
            .post(format!("{}/", self.endpoint))
            .header("authorization", unchecked("iam"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "IAM {params:?}: {status}\n{body}");
        body
    }

    /// A user allowed everything in S3, its access key and the bucket; then
    /// every request must be signed with a valid key.
    async fn prepare(&self) -> AccessKey {
        self.iam(&[("Action", "CreateUser"), ("UserName", "greenroom")])
            .await;
        let created = self
            .iam(&[("Action", "CreateAccessKey"), ("UserName", "greenroom")])
            .await;
        let key = AccessKey {
            id: xml_text(&created, "AccessKeyId").remove(0),
            secret: xml_text(&created, "SecretAccessKey").remove(0),
        };
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
        })
        .to_string();
        self.iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "greenroom"),
            ("PolicyName", "docs"),
            ("PolicyDocument", &policy),
        ])
        .await;
        let bucket = client()
            .put(format!("{}/{BUCKET}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(
            bucket.status().is_success(),
            "create the bucket: {bucket:?}"
        );
        self.require_signatures(true).await;
        key
    }

    /// Turns moto's signature checks on or off (off: the test looks inside
    /// the bucket with plain requests).
    async fn require_signatures(&self, on: bool) {
        let response = client()
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body(if on { "0" } else { "inf" })
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
    }

    /// The objects under `prefix` with their LastModified, signatures off.
    async fn objects(&self, prefix: &str) -> BTreeMap<String, String> {
        self.require_signatures(false).await;
        let body = client()
            .get(format!("{}/{BUCKET}", self.endpoint))
            .query(&[("list-type", "2"), ("prefix", prefix)])
            .header("authorization", unchecked("s3"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains("<IsTruncated>true"), "one page: {body}");
        let keys = xml_text(&body, "Key");
        let modified = xml_text(&body, "LastModified");
        assert_eq!(keys.len(), modified.len(), "{body}");
        self.require_signatures(true).await;
        keys.into_iter().zip(modified).collect()
    }

    /// The Content-Type an object was stored with, signatures off.
    async fn content_type(&self, key: &str) -> String {
        self.require_signatures(false).await;
        let url = format!(
            "{}/{BUCKET}/{}",
            self.endpoint,
            key.split('/')
                .map(|s| percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string())
                .collect::<Vec<_>>()
                .join("/")
        );
        let response = client()
            .head(url)
            .header("authorization", unchecked("s3"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "HEAD {key}: {response:?}");
        self.require_signatures(true).await;
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The `techdocs.publisher.awsS3` section for this server.
    fn publisher(&self, key: &AccessKey) -> Value {
        json!({
            "bucketName": BUCKET,
            "bucketRootPath": "sites/",
            "region": "us-east-1",
            "endpoint": self.endpoint,
            "s3ForcePathStyle": true,
            "credentials": {"accessKeyId": key.id, "secretAccessKey": key.secret}
        })
    }

    fn storage(&self, key: &AccessKey) -> S3Storage {
        S3Storage::new(S3Settings::from_config(Some(&self.publisher(key)), |_| None).unwrap())
            .unwrap()
    }
}

fn site(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect()
}

#[tokio::test]
async fn sites_are_published_read_replaced_and_listed_in_s3() {
    let Some(program) = moto_server("sites_are_published_read_replaced_and_listed_in_s3") else {
        return;
    };
    let moto = Moto::start(&program).await;
    let access = moto.prepare().await;
    let storage = moto.storage(&access);
    let key = SiteKey::new("default", "Component", "launchpad");
    let odd = "assets/a b&c+d=é~(1).css";
    let mut files = site(&[
        ("index.html", "<h1>Home</h1>"),
        ("guide/index.html", "<h1>Guide</h1>"),
        (odd, "body {}"),
        ("search/search_index.json", r#"{"docs": []}"#),
        (METADATA, r#"{"site_name": "Launchpad"}"#),
    ]);
    storage.publish(&key, &files).await.unwrap();

    for (path, content) in &files {
        assert_eq!(
            storage.read(&key, path).await.unwrap().as_ref(),
            Some(content),
            "{path}"
        );
    }
    assert_eq!(storage.read(&key, "missing.html").await.unwrap(), None);
    assert_eq!(storage.read(&key, "index.html/x").await.unwrap(), None);
    assert_eq!(storage.read(&key, "../../other/x").await.unwrap(), None);
    let elsewhere = SiteKey::new("default", "component", "nothing");
    assert_eq!(storage.read(&elsewhere, "index.html").await.unwrap(), None);
    assert_eq!(storage.sites().await.unwrap(), vec![key.clone()]);

    let prefix = "sites/default/component/launchpad/";
    let objects = moto.objects(prefix).await;
    let expected: BTreeSet<String> = files.keys().map(|p| format!("{prefix}{p}")).collect();
    assert_eq!(objects.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let metadata_written = &objects[&format!("{prefix}{METADATA}")];
    for (object, modified) in &objects {
        assert!(
            modified <= metadata_written,
            "{object} ({modified}) was written after the metadata ({metadata_written})"
        );
    }
    assert_eq!(
        moto.content_type(&format!("{prefix}index.html")).await,
        "text/html; charset=utf-8"
    );
    assert_eq!(
        moto.content_type(&format!("{prefix}{odd}")).await,
        "text/css; charset=utf-8"
    );

    // A new build without the guide replaces the site.
    files.remove("guide/index.html");
    files.insert("index.html".into(), b"<h1>Home, again</h1>".to_vec());
    storage.publish(&key, &files).await.unwrap();
    assert_eq!(storage.read(&key, "guide/index.html").await.unwrap(), None);
    assert_eq!(
        storage.read(&key, "index.html").await.unwrap().as_deref(),
        Some(&b"<h1>Home, again</h1>"[..])
    );
    assert!(!moto
        .objects(prefix)
        .await
        .contains_key(&format!("{prefix}guide/index.html")));

    // A second site, whose name extends the first one's, is listed beside it
    // and its publishing leaves the first alone.
    let other = SiteKey::new("default", "component", "launchpad-two");
    storage
        .publish(&other, &site(&[("index.html", "two"), (METADATA, "{}")]))
        .await
        .unwrap();
    assert_eq!(storage.sites().await.unwrap(), vec![key.clone(), other]);
    assert!(storage.read(&key, odd).await.unwrap().is_some());
}

#[tokio::test]
async fn refused_credentials_give_a_clear_error_without_the_secret() {
    let Some(program) = moto_server("refused_credentials_give_a_clear_error_without_the_secret")
    else {
        return;
    };
    let moto = Moto::start(&program).await;
    let access = moto.prepare().await;
    let key = SiteKey::new("default", "component", "launchpad");

    let wrong_secret = AccessKey {
        id: access.id.clone(),
        secret: "not-the-secret-but-a-wrong-one-0123456789".into(),
    };
    let storage = moto.storage(&wrong_secret);
    let publish = storage
        .publish(&key, &site(&[("index.html", "x"), (METADATA, "{}")]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        publish.contains("SignatureDoesNotMatch") && publish.contains("PutObject"),
        "{publish}"
    );
    assert!(publish.contains(&access.id), "names the key id: {publish}");
    let read = storage
        .read(&key, "index.html")
        .await
        .expect_err("a refused read is an error, not a missing file")
        .to_string();
    assert!(read.contains("SignatureDoesNotMatch"), "{read}");
    for message in [&publish, &read] {
        assert!(!message.contains(&wrong_secret.secret), "{message}");
        assert!(!message.contains(&access.secret), "{message}");
    }

    let unknown = moto.storage(&AccessKey {
        id: "AKIAUNKNOWNUNKNOWN00".into(),
        secret: access.secret.clone(),
    });
    let sites = unknown.sites().await.unwrap_err().to_string();
    assert!(sites.contains("InvalidAccessKeyId"), "{sites}");
    assert!(!sites.contains(&access.secret), "{sites}");

    // The right key works on the same server.
    assert_eq!(moto.storage(&access).sites().await.unwrap(), vec![]);
}

#[tokio::test]
async fn replicas_on_one_bucket_serve_the_docs_that_one_of_them_built() {
    let Some(program) = moto_server("replicas_on_one_bucket_serve_the_docs_that_one_of_them_built")
    else {
        return;
    };
    let moto = Moto::start(&program).await;
    let access = moto.prepare().await;

    let site = tempfile::tempdir().unwrap();
    common::git::copy_tree(&repo_root().join("tests/techdocs/site"), site.path());
    let mut cfg = config(&[]);
    cfg["catalog"]["locations"] = json!([
        {"type": "file", "target": site.path().join("catalog-info.yaml").to_string_lossy()}
    ]);
    cfg["techdocs"] = json!({
        "builder": "local",
        "refreshIntervalSeconds": false,
        "publisher": {"type": "awsS3", "awsS3": moto.publisher(&access)}
    });
    let builder = Server::start(cfg.clone(), Vec::new()).await;
    let reader = Server::start(cfg, Vec::new()).await;

    let guide = "/api/techdocs/static/docs/default/component/launchpad/guide/";
    assert_eq!(reader.get_status(guide).await, 404, "nothing is built yet");

    let events = sync(&builder, "default/component/launchpad").await;
    assert_eq!(
        events.last(),
        Some(&("finish".to_string(), json!({"updated": true}))),
        "{events:?}"
    );

    for server in [&builder, &reader] {
        let page = client().get(server.url(guide)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        let html = page.text().await.unwrap();
        assert!(html.contains("<h1 id=\"setup-guide\">"), "{html}");
        let metadata: Value = client()
            .get(server.url("/api/techdocs/metadata/techdocs/default/component/launchpad"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(metadata["site_name"], "Launchpad");
    }

    // The reader finds the site current and builds nothing.
    let again = sync(&reader, "default/component/launchpad").await;
    assert_eq!(
        again.last(),
        Some(&("finish".to_string(), json!({"updated": false}))),
        "{again:?}"
    );
    let objects = moto.objects("sites/default/component/launchpad/").await;
    assert!(
        objects.contains_key("sites/default/component/launchpad/guide/index.html")
            && objects.contains_key(&format!("sites/default/component/launchpad/{METADATA}")),
        "{objects:?}"
    );
}
