//! Runs the published `@backstage/catalog-client` npm package, unchanged, against
//! the real `greenroom` binary: `tests/catalog-client/compat.test.mjs` checks that
//! every call answers as it does against Backstage.
//!
//! Each run starts a static HTTP server for `tests/catalog-client/fixtures/remote`
//! (registered by the script as a `url` location), writes a temporary app-config
//! (fixture `file` location, reading allow-list for the static server, a fresh
//! database), starts the binary, waits for readiness and for the fixture to be
//! stitched, then runs `node --test`.
//!
//! Needs `node`/`npm` on PATH. Outside CI a missing `node` skips the test loudly;
//! with `CI` set it fails. The PostgreSQL variant needs `GREENROOM_TEST_PG_URL`
//! (a server URL whose user may create databases); it creates and drops a
//! database of its own per run, and fails under CI when the variable is unset.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use common::paths::{free_port, repo_root};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tower_http::services::ServeDir;

/// One Greenroom + node run at a time: the machine has few cores and each run
/// takes a couple of them.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STITCH_TIMEOUT: Duration = Duration::from_secs(120);
const NODE_TIMEOUT: Duration = Duration::from_secs(600);
/// Components in `fixtures/catalog.yaml`.
const FIXTURE_COMPONENTS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_client_against_sqlite() {
    let _serial = SERIAL.lock().await;
    let Some(project) = prepare_node_project().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let database = json!({
        "client": "better-sqlite3",
        "connection": { "filename": dir.path().join("catalog.sqlite") },
    });
    if let Err(error) = run_compat_suite(&project, dir.path(), database).await {
        panic!("catalog-client compatibility run on SQLite failed: {error:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_client_against_postgres() {
    let _serial = SERIAL.lock().await;
    let Some(admin_url) = std::env::var("GREENROOM_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if in_ci() {
            panic!("GREENROOM_TEST_PG_URL is not set: CI must run the catalog-client test against PostgreSQL");
        }
        eprintln!("\n!!!!! SKIPPED catalog_client_against_postgres: set GREENROOM_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it !!!!!\n");
        return;
    };
    let Some(project) = prepare_node_project().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TempPgDatabase::create(&admin_url)
        .await
        .expect("create a PostgreSQL database for the run");
    let database = json!({ "client": "pg", "connection": db.url.as_str() });
    let outcome = run_compat_suite(&project, dir.path(), database).await;
    let dropped = db.drop_database().await;
    if let Err(error) = outcome {
        panic!("catalog-client compatibility run on PostgreSQL failed: {error:#}");
    }
    dropped.expect("drop the run's PostgreSQL database");
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// `tests/catalog-client`, with its npm dependencies installed; `None` when the
/// test must be skipped (no `node`, outside CI).
async fn prepare_node_project() -> Option<PathBuf> {
    let project = repo_root()
        .join("tests/catalog-client")
        .canonicalize()
        .expect("tests/catalog-client exists");
    match Command::new("node").arg("--version").output().await {
        Ok(out) if out.status.success() => {}
        other => {
            let why = match other {
                Ok(out) => format!("`node --version` exited with {}", out.status),
                Err(error) => format!("`node` cannot be run: {error}"),
            };
            if in_ci() {
                panic!("{why}; CI must have Node.js to run the catalog-client compatibility test");
            }
            eprintln!("\n!!!!! SKIPPED catalog-client compatibility test: {why}. Install Node.js (>= 18.17) to run it. !!!!!\n");
            return None;
        }
    }
    if !project
        .join("node_modules/@backstage/catalog-client/package.json")
        .exists()
    {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&project)
            .output()
            .await
            .expect("`npm` cannot be run (it ships with Node.js)");
        assert!(
            out.status.success(),
            "`npm ci` in {} failed ({}):\n{}\n{}",
            project.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(project)
}

/// Starts the fixture server and Greenroom, waits for the fixture catalog, runs
/// the node suite, and stops everything again.
async fn run_compat_suite(project: &Path, dir: &Path, database: Value) -> Result<()> {
    let fixtures = StaticServer::start(&project.join("fixtures/remote")).await?;
    let catalog_file = project.join("fixtures/catalog.yaml");
    let port = free_port()?;
    let config_path = dir.join("app-config.yaml");
    let config = app_config(port, fixtures.addr, &catalog_file, database);
    // JSON is YAML: no quoting rules to get wrong for paths and URLs.
    std::fs::write(&config_path, serde_json::to_string_pretty(&config)?)?;

    let log_path = dir.join("greenroom.log");
    let mut server = GreenroomProcess::spawn(&config_path, dir, &log_path)?;
    let base_url = format!("http://127.0.0.1:{port}");
    let outcome = async {
        server.wait_ready(&base_url).await?;
        wait_for_fixture(&mut server, &base_url).await?;
        run_node(project, &base_url, &fixtures.base_url(), &catalog_file).await
    }
    .await;
    server.stop().await;
    outcome.map_err(|error| {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(200).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        anyhow::anyhow!(
            "{error:#}\n---- greenroom log (last {} lines) ----\n{}",
            tail.len(),
            tail.join("\n")
        )
    })
}

/// The app-config the expectations in compat.test.mjs assume.
fn app_config(port: u16, fixtures: SocketAddr, catalog_file: &Path, database: Value) -> Value {
    json!({
        "backend": {
            "baseUrl": format!("http://127.0.0.1:{port}"),
            "listen": { "port": port, "host": "127.0.0.1" },
            "database": database,
            "reading": { "allow": [ { "host": fixtures.to_string() } ] },
        },
        "catalog": {
            "rules": [
                { "allow": ["Component", "System", "API", "Resource", "Location", "Group", "User", "Template", "Domain"] }
            ],
            "locations": [ { "type": "file", "target": catalog_file } ],
        },
    })
}

async fn wait_for_fixture(server: &mut GreenroomProcess, base_url: &str) -> Result<()> {
    let url = format!("{base_url}/api/catalog/entities?filter=kind=component");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < STITCH_TIMEOUT {
        server.ensure_running()?;
        match client.get(&url).send().await {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                if status.is_success() {
                    let count = serde_json::from_str::<Vec<Value>>(&body).map(|v| v.len());
                    if count.as_ref().is_ok_and(|n| *n == FIXTURE_COMPONENTS) {
                        return Ok(());
                    }
                    last = format!("{status}: {count:?} components");
                } else {
                    last = format!("{status}: {body}");
                }
            }
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("the {FIXTURE_COMPONENTS} fixture components were not stitched within {STITCH_TIMEOUT:?}; GET {url} -> {last}")
}

async fn run_node(
    project: &Path,
    base_url: &str,
    fixtures_url: &str,
    catalog_file: &Path,
) -> Result<()> {
    let run = Command::new("node")
        .args(["--test", "--test-reporter=spec", "compat.test.mjs"])
        .current_dir(project)
        .env("GREENROOM_URL", base_url)
        .env("GREENROOM_FIXTURE_BASE_URL", fixtures_url)
        .env("GREENROOM_FIXTURE_CATALOG", catalog_file)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(NODE_TIMEOUT, run)
        .await
        .with_context(|| format!("node --test did not finish within {NODE_TIMEOUT:?}"))??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "---- node --test compat.test.mjs ----\n{stdout}\n{stderr}---- end of node output ----"
    );
    ensure!(
        out.status.success(),
        "node --test compat.test.mjs failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    Ok(())
}

/// Serves a directory over HTTP on 127.0.0.1 for as long as it lives.
struct StaticServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl StaticServer {
    async fn start(root: &Path) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new().fallback_service(ServeDir::new(root));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("fixture server stopped: {error}");
            }
        });
        Ok(Self { addr, task })
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `greenroom` binary under test, killed when dropped.
struct GreenroomProcess {
    child: Child,
}

impl GreenroomProcess {
    fn spawn(config: &Path, work_dir: &Path, log: &Path) -> Result<Self> {
        let log = std::fs::File::create(log)?;
        let child = Command::new(env!("CARGO_BIN_EXE_greenroom"))
            .arg("--config")
            .arg(config)
            // Its own directory, so no app-config.yaml of the repository is merged in.
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("spawn the greenroom binary")?;
        Ok(Self { child })
    }

    fn ensure_running(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            Some(status) => bail!("greenroom exited early with {status}"),
            None => Ok(()),
        }
    }

    async fn wait_ready(&mut self, base_url: &str) -> Result<()> {
        let url = format!("{base_url}/.backstage/health/v1/readiness");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < READY_TIMEOUT {
            self.ensure_running()?;
            match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last = format!("status {}", response.status()),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("greenroom was not ready within {READY_TIMEOUT:?}: GET {url} -> {last}")
    }

    async fn stop(&mut self) {
        if let Err(error) = self.child.kill().await {
            eprintln!("could not stop greenroom: {error}");
        }
    }
}

/// A database of its own on the PostgreSQL server named by `GREENROOM_TEST_PG_URL`.
struct TempPgDatabase {
    admin_url: String,
    name: String,
    url: url::Url,
}

impl TempPgDatabase {
    async fn create(admin_url: &str) -> Result<Self> {
        let name = format!("greenroom_cc_{}", uuid::Uuid::new_v4().simple());
        let mut url = url::Url::parse(admin_url).context("GREENROOM_TEST_PG_URL is not a URL")?;
        url.set_path(&format!("/{name}"));
        let mut admin = PgConnection::connect(admin_url)
            .await
            .context("connect to GREENROOM_TEST_PG_URL")?;
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await?;
        admin.close().await?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    async fn drop_database(self) -> Result<()> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name).as_str())
            .await?;
        admin.close().await?;
        Ok(())
    }
}
