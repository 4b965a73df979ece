//! The scaffolder end to end, with the real `greenroom` binary and a real Git
//! server (`git daemon` on loopback):
//! - the shipped Rust-service template pushes a repository, commits a claim
//!   (valid against its XRD) and Flux objects to the GitOps repository, and
//!   registers the component, which the catalog serves within 2 s;
//! - a push the remote refuses fails the task with git's reason in the log and
//!   leaves nothing in the catalog;
//! - a server killed in the middle of a task resumes it after restart from the
//!   step after the last completed one, with its log intact;
//! - invalid values, unknown actions, path traversal and looping expressions
//!   get clear errors.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::git::{git, seed_gitops};
use common::paths::{free_port, repo_root};
use greenroom::scaffolder::actions::XrdSet;
use serde_json::{json, Value};

const HOST: &str = "git.test";

/// `git daemon` serving bare repositories under a temporary root, pushes allowed.
struct GitServer {
    root: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl GitServer {
    fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        let port = free_port().expect("a free port");
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", root.path().display()),
                &root.path().display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // `git daemon` runs `git-daemon` as a child: its own process
            // group lets Drop stop both.
            .process_group(0)
            .spawn()
            .expect("git daemon starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let server = GitServer { root, port, child };
        // The GitOps repository, holding the example platform (XRDs).
        seed_gitops(server.root.path());
        server
    }

    fn bare(&self, rel: &str) -> PathBuf {
        let path = self.root.path().join(rel);
        std::fs::create_dir_all(&path).unwrap();
        git(&path, &["init", "-q", "--bare"]);
        path
    }

    fn url(&self, rel: &str) -> String {
        format!("git://127.0.0.1:{}/{rel}", self.port)
    }

    /// A shallow clone of `rel` into a new temporary directory.
    fn clone(&self, rel: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["clone", "-q", &self.url(rel), "."]);
        dir
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this server created.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// A `greenroom` process with its own SQLite file, kept across restarts.
struct Portal {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Portal {
    async fn start(git: &GitServer, extra_locations: &[PathBuf]) -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port().expect("a free port");
        let mut locations = vec![
            json!({"type": "file", "target": repo_root().join("demo/catalog/all.yaml")}),
            json!({"type": "file", "target": repo_root().join("templates/all.yaml")}),
        ];
        locations.extend(
            extra_locations
                .iter()
                .map(|p| json!({"type": "file", "target": p})),
        );
        let config = json!({
            "backend": {
                "baseUrl": format!("http://127.0.0.1:{port}"),
                "listen": {"host": "127.0.0.1", "port": port},
                "database": {"client": "better-sqlite3", "connection": dir.path().join("greenroom.db")}
            },
            "integrations": {"git": [{"host": HOST, "remoteBaseUrl": format!("git://127.0.0.1:{}", git.port)}]},
            "catalog": {
                "rules": [{"allow": ["Component", "System", "API", "Resource", "Location", "Group", "User", "Template", "Domain"]}],
                "locations": locations,
                "processingInterval": {"seconds": 100}
            },
            "scaffolder": {
                "taskHeartbeatTimeoutSeconds": 2,
                "workingDirectory": dir.path(),
                "gitops": {"repoUrl": format!("{HOST}?owner=platform&repo=gitops")}
            }
        });
        std::fs::write(dir.path().join("app-config.json"), config.to_string()).unwrap();
        let mut portal = Portal {
            dir,
            port,
            child: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(40))
                .build()
                .unwrap(),
        };
        portal.spawn().await;
        portal
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("greenroom.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_greenroom"))
            .arg("--config")
            .arg(self.dir.path().join("app-config.json"))
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("greenroom starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = self
                .http
                .get(self.url("/api/catalog/entities/by-name/template/default/rust-service"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "greenroom did not come up:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("greenroom.log")).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn create_task(&self, template: &str, values: Value) -> String {
        let (status, body) = self
            .post(
                "/api/scaffolder/v2/tasks",
                json!({"templateRef": template, "values": values}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Waits until the task has ended; returns its final status and when it was seen.
    async fn wait_for_end(&self, id: &str) -> (String, Instant) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (_, task) = self.get(&format!("/api/scaffolder/v2/tasks/{id}")).await;
            let status = task["status"].as_str().unwrap_or_default().to_string();
            if matches!(status.as_str(), "completed" | "failed" | "cancelled") {
                return (status, Instant::now());
            }
            assert!(
                Instant::now() < deadline,
                "task {id} did not end: {task}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn events(&self, id: &str) -> Vec<Value> {
        let (status, events) = self
            .get(&format!("/api/scaffolder/v2/tasks/{id}/events"))
            .await;
        assert_eq!(status, 200);
        events.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.kill();
    }
}

fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["body"]["message"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_service_template_publishes_claims_and_registers() {
    let git = GitServer::start();
    git.bare("demo/parcel-eta.git");
    let portal = Portal::start(&git, &[]).await;
    let values = json!({
        "name": "parcel-eta", "description": "Predicts parcel arrival times",
        "owner": "group:default/team-shipping", "database": true, "databaseSize": "medium",
        "bucket": true, "provider": "gcp", "region": "europe-west1",
        "repoUrl": format!("{HOST}?owner=demo&repo=parcel-eta")
    });
    let id = portal
        .create_task("template:default/rust-service", values)
        .await;
    let (status, ended) = portal.wait_for_end(&id).await;
    let events = portal.events(&id).await;
    assert_eq!(status, "completed", "{:#?}", messages(&events));

    // The entity is served by the catalog within 2 s of completion.
    loop {
        let (code, entity) = portal
            .get("/api/catalog/entities/by-name/component/default/parcel-eta")
            .await;
        if code == 200 {
            assert_eq!(entity["spec"]["owner"], "group:default/team-shipping");
            break;
        }
        assert!(
            ended.elapsed() < Duration::from_secs(2),
            "the component was not in the catalog within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let completion = events.iter().find(|e| e["type"] == "completion").unwrap();
    let links = completion["body"]["output"]["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l["entityRef"] == "component:default/parcel-eta"),
        "{links:?}"
    );

    // The pushed repository holds the rendered skeleton.
    let service = git.clone("demo/parcel-eta.git");
    let cargo = std::fs::read_to_string(service.path().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"parcel-eta\""), "{cargo}");
    let info = std::fs::read_to_string(service.path().join("catalog-info.yaml")).unwrap();
    assert!(
        info.contains("parcel-eta") && !info.contains("${{"),
        "{info}"
    );

    // The GitOps repository got a claim valid against its XRD, and Flux objects.
    let gitops = git.clone("platform/gitops.git");
    let claim_path = gitops
        .path()
        .join("apps/parcel-eta/claims/appstack-parcel-eta.yaml");
    let claim_text = std::fs::read_to_string(&claim_path).unwrap();
    let claim = greenroom_model::yaml::parse_documents(&claim_text)
        .unwrap()
        .remove(0)
        .value;
    assert_eq!(claim["spec"]["parameters"]["database"]["size"], "medium");
    assert_eq!(
        claim["spec"]["parameters"]["database"]["enabled"], true,
        "types are kept"
    );
    let xrds = XrdSet::load(&gitops.path().join("platform"));
    assert!(!xrds.is_empty());
    xrds.validate_claim(&claim)
        .expect("the committed claim is valid against its XRD");
    let flux = std::fs::read_to_string(gitops.path().join("apps/parcel-eta/flux.yaml")).unwrap();
    assert!(
        flux.contains("kind: Kustomization") && flux.contains("kind: GitRepository"),
        "{flux}"
    );
    assert!(flux.contains(&git.url("demo/parcel-eta.git")), "{flux}");
    let log = self::git(gitops.path(), &["log", "--format=%s"]);
    assert!(
        log.lines().count() == 2,
        "one commit on top of the platform: {log}"
    );
    // Secrets and tokens never reach the log.
    assert!(!portal.log().contains("Authorization"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_push_fails_the_task_and_registers_nothing() {
    let git = GitServer::start();
    let repo = git.bare("demo/refused.git");
    let hook = repo.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'pushes to this repository are closed by policy' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let portal = Portal::start(&git, &[]).await;
    let id = portal
        .create_task(
            "template:default/rust-service",
            json!({"name": "refused", "description": "x", "owner": "group:default/team-shipping",
                   "database": false, "bucket": false, "provider": "aws", "region": "eu-west-1",
                   "repoUrl": format!("{HOST}?owner=demo&repo=refused")}),
        )
        .await;
    let (status, _) = portal.wait_for_end(&id).await;
    assert_eq!(status, "failed");
    let all = messages(&portal.events(&id).await).join("\n");
    assert!(all.contains("closed by policy"), "{all}");
    assert!(
        all.contains("Skipping step register because an earlier step failed"),
        "{all}"
    );
    let (_, locations) = portal.get("/api/catalog/locations").await;
    assert!(!locations.to_string().contains("refused"), "{locations}");
    let (code, _) = portal
        .get("/api/catalog/entities/by-name/component/default/refused")
        .await;
    assert_eq!(code, 404);
    // Nothing went to the GitOps repository either.
    let gitops = git.clone("platform/gitops.git");
    assert!(!gitops.path().join("apps/refused").exists());
}

fn write_template(dir: &Path, name: &str, steps: Value) -> PathBuf {
    let template = json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
        "metadata": {"name": name},
        "spec": {"type": "test", "owner": "group:default/team-platform",
                 "parameters": [{"properties": {"name": {"type": "string"}}}],
                 "steps": steps}
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, template.to_string()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_resumes_after_the_server_is_killed() {
    let git = GitServer::start();
    let fixtures = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fixtures.path().join("files")).unwrap();
    std::fs::write(fixtures.path().join("files/hello.txt"), "hello").unwrap();
    let template = write_template(
        fixtures.path(),
        "slow",
        json!([
            {"id": "fetch", "name": "fetch", "action": "fetch:plain", "input": {"url": "./files"}},
            {"id": "wait", "name": "wait", "action": "debug:wait", "input": {"seconds": 4}},
            {"id": "list", "name": "list", "action": "debug:log", "input": {"message": "done", "listWorkspace": true}}
        ]),
    );
    let mut portal = Portal::start(&git, &[template]).await;
    // The template is processed by the catalog loop.
    let deadline = Instant::now() + Duration::from_secs(30);
    while portal
        .get("/api/catalog/entities/by-name/template/default/slow")
        .await
        .0
        != 200
    {
        assert!(Instant::now() < deadline, "template not ingested");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = portal.create_task("template:default/slow", json!({})).await;
    // Kill the process while the second step runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = messages(&portal.events(&id).await);
        if all.iter().any(|m| m == "Beginning step wait") {
            break;
        }
        assert!(Instant::now() < deadline, "step 2 never started: {all:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    portal.kill();
    let before: Vec<Value> = {
        // Read the events through a new process: the database file survives.
        portal.spawn().await;
        portal.events(&id).await
    };
    let (status, _) = portal.wait_for_end(&id).await;
    assert_eq!(status, "completed", "{}", portal.log());
    let events = portal.events(&id).await;
    // The log kept everything from before the kill, in order, without gaps.
    assert!(events.len() > before.len());
    for (a, b) in before.iter().zip(events.iter()) {
        assert_eq!(a, b);
    }
    assert!(events
        .windows(2)
        .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()));
    let all = messages(&events);
    let count = |m: &str| all.iter().filter(|x| x.as_str() == m).count();
    assert_eq!(
        count("Beginning step fetch"),
        1,
        "the completed step is not run again: {all:#?}"
    );
    assert_eq!(
        count("Beginning step wait"),
        2,
        "the interrupted step runs again: {all:#?}"
    );
    assert!(events.iter().any(|e| e["type"] == "recovered"), "{all:#?}");
    assert!(
        all.iter()
            .any(|m| m.contains("Resuming after 1 completed steps")),
        "{all:#?}"
    );
    // The workspace of the completed step was restored for the later ones.
    assert!(all.iter().any(|m| m.contains("hello.txt")), "{all:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors() {
    let git = GitServer::start();
    let portal = Portal::start(&git, &[]).await;
    // Invalid values: one error per field, nothing created.
    let (status, body) = portal
        .post(
            "/api/scaffolder/v2/tasks",
            json!({"templateRef": "template:default/rust-service", "values": {"name": "Not Valid!", "provider": "mars"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let errors = body["errors"].as_array().unwrap();
    let fields: Vec<String> = errors
        .iter()
        .map(|e| e["path"][0].as_str().unwrap_or("").to_string())
        .collect();
    for field in ["name", "provider", "owner", "description", "repoUrl"] {
        assert!(
            fields.contains(&field.to_string()),
            "{field} missing from {body}"
        );
    }
    let (_, tasks) = portal.get("/api/scaffolder/v2/tasks").await;
    assert_eq!(tasks["totalTasks"], 0);

    let dry_run = |steps: Value| {
        json!({
            "template": {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
                         "metadata": {"name": "hostile"}, "spec": {"type": "x", "steps": steps}},
            "values": {},
            "directoryContents": [{"path": "skeleton/a.txt", "base64Content": "aGk="}]
        })
    };
    let cases = [
        (
            json!([{"id": "x", "action": "no:such:action"}]),
            "Template action with ID 'no:such:action' is not registered.",
        ),
        (
            json!([{"id": "x", "action": "fetch:plain", "input": {"url": "../../../etc"}}]),
            "outside its parent",
        ),
        (
            json!([{"id": "x", "action": "fetch:plain", "input": {"url": "./skeleton", "targetPath": "../../outside"}}]),
            "outside its parent",
        ),
        (
            json!([{"id": "x", "action": "catalog:write", "input": {"filePath": "/etc/evil.yaml", "entity": {}}}]),
            "outside its parent",
        ),
        (
            json!([{"id": "x", "action": "debug:log", "input": {"message": "${{ range(100000) | map('string') | join }}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"}}]),
            "budget",
        ),
        (
            json!([{"id": "x", "action": "fetch:plain"}]),
            "Invalid input passed to action fetch:plain",
        ),
    ];
    for (steps, expected) in cases {
        let (status, body) = portal
            .post("/api/scaffolder/v2/dry-run", dry_run(steps.clone()))
            .await;
        assert_eq!(status, 200, "{body}");
        let log = body["log"].to_string();
        assert!(
            log.contains(expected),
            "{steps}: expected '{expected}' in {log}"
        );
    }
    // Unknown fields and malformed bodies are refused.
    let (status, body) = portal
        .post(
            "/api/scaffolder/v2/tasks",
            json!({"templateRef": "template:default/rust-service", "values": {}, "bogus": 1}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = portal.get("/api/scaffolder/v2/tasks/does-not-exist").await;
    assert_eq!(status, 404);
    let (status, _) = portal.get("/api/scaffolder/v2/tasks?status=sideways").await;
    assert_eq!(status, 400);
}
