//! Two `greenroom` processes on one PostgreSQL database share the processing
//! work: every entity of the initial ingestion is processed by exactly one of
//! them, exactly once, and refreshes sent to both at the same time are both
//! applied (no lost update) and visible through both APIs.
//!
//! Each process logs one JSON line per processed entity (`processed entity`,
//! field `entity_ref`, debug level of the processing engine); the test counts
//! those lines per process. Needs PostgreSQL (`GREENROOM_TEST_PG_URL`, default
//! the local server); outside CI an unreachable server skips the test loudly.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use common::paths::free_port;
use greenroom_store::testing::TestPostgres;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// Files listed by the root Location, one Group and [`COMPONENTS_PER_FILE`]
/// Components each.
const FILES: usize = 10;
/// Enough work that ingestion spans several idle polls of the other replica
/// (with 200 per file one replica sometimes finished it all alone).
const COMPONENTS_PER_FILE: usize = 1000;
const COMPONENTS: usize = FILES * COMPONENTS_PER_FILE;
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const INGEST_TIMEOUT: Duration = Duration::from_secs(120);
const REFRESH_TIMEOUT: Duration = Duration::from_secs(60);
/// Quiet time after ingestion: a second processing of any entity would show
/// up in the logs within it.
const SETTLE: Duration = Duration::from_secs(2);
const ENGINE_LOG_TARGET: &str = "greenroom::catalog::processing::engine";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_processing_without_losing_updates() {
    let Some(database) = TestPostgres::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = Catalog::generate(dir.path()).expect("write the catalog files");
    let config_path = dir.path().join("app-config.yaml");
    let mut replicas = Replicas::default();
    let outcome = async {
        // Replica a has no locations of its own and is up, polling for work,
        // before replica b registers the catalog as it starts. Started side by
        // side, the one that happened to start first on a busy machine could
        // finish the whole ingestion before the other polled at all.
        for (index, name) in ["a", "b"].into_iter().enumerate() {
            let port = free_port()?;
            let locations = (name == "b").then_some(catalog.root_file.as_path());
            let config = app_config(port, &database.url, locations);
            let config_path = config_path.with_file_name(format!("app-config-{name}.yaml"));
            // JSON is YAML: no quoting rules to get wrong for paths and URLs.
            std::fs::write(&config_path, serde_json::to_string_pretty(&config)?)?;
            replicas.spawn(name, port, &config_path, dir.path())?;
            replicas.wait_ready(index, &client()?).await?;
        }
        run_scenario(&mut replicas, &catalog).await
    }
    .await;
    if let Err(error) = outcome {
        let logs = replicas.log_tails(60);
        drop(replicas);
        panic!("{error:#}\n{logs}");
    }
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?)
}

async fn run_scenario(replicas: &mut Replicas, catalog: &Catalog) -> Result<()> {
    let client = client()?;

    // Initial ingestion, processed by both replicas.
    wait_for_ingestion(replicas, &client).await?;
    tokio::time::sleep(SETTLE).await;
    let counts: Vec<BTreeMap<String, usize>> = replicas
        .list
        .iter()
        .map(|r| processed_counts(&r.log_path))
        .collect::<Result<_>>()?;
    let per_replica: Vec<usize> = counts.iter().map(|c| c.values().sum()).collect();
    println!("entities processed per replica during ingestion: {per_replica:?}");
    check_shared_once(&counts, &catalog.expected_refs())?;

    // Two different changes, refreshed through different replicas at once.
    let (first, second) = (catalog.component(3, 7), catalog.component(7, 11));
    let changes = [
        (0, first.clone(), "changed through replica a"),
        (1, second.clone(), "changed through replica b"),
    ];
    let refreshes = changes.iter().map(|(replica, component, description)| {
        let base_url = replicas.list[*replica].base_url.clone();
        let client = client.clone();
        async move {
            catalog.set_description(component, description)?;
            let response = client
                .post(format!("{base_url}/api/catalog/refresh"))
                .json(&json!({ "entityRef": component.entity_ref() }))
                .send()
                .await?;
            let status = response.status();
            ensure!(
                status.is_success(),
                "POST /refresh {} on {base_url}: {status} {}",
                component.entity_ref(),
                response.text().await.unwrap_or_default()
            );
            Ok(())
        }
    });
    futures::future::try_join_all(refreshes).await?;
    for (_, component, description) in &changes {
        for replica in &replicas.list {
            wait_for_description(&client, &replica.base_url, component, description).await?;
        }
    }

    // Both APIs read the same catalog.
    let mut totals = Vec::new();
    for replica in &replicas.list {
        totals.push(total_items(&client, &replica.base_url, "component").await?);
    }
    ensure!(
        totals.iter().all(|t| *t == COMPONENTS as u64),
        "component totals per replica: {totals:?}, expected {COMPONENTS} on each"
    );
    Ok(())
}

/// Every expected entity was processed, each exactly once and by exactly one
/// replica, and each replica did some of the work.
fn check_shared_once(
    counts: &[BTreeMap<String, usize>],
    expected: &BTreeSet<String>,
) -> Result<()> {
    let mut problems = Vec::new();
    let mut all_refs: BTreeSet<&String> = BTreeSet::new();
    for per_replica in counts {
        all_refs.extend(per_replica.keys());
    }
    for entity_ref in &all_refs {
        let per_replica: Vec<usize> = counts
            .iter()
            .map(|c| c.get(*entity_ref).copied().unwrap_or(0))
            .collect();
        if per_replica.iter().sum::<usize>() != 1 {
            problems.push(format!(
                "{entity_ref} processed {per_replica:?} times (per replica)"
            ));
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|r| !all_refs.contains(r)).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{} expected entities never logged as processed, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    let per_replica: Vec<usize> = counts.iter().map(|c| c.values().sum()).collect();
    if per_replica.contains(&0) {
        problems.push(format!(
            "the work was not shared: entities processed per replica {per_replica:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} problem(s) with the shared ingestion:\n{}",
            problems.len(),
            problems[..problems.len().min(20)].join("\n")
        )
    }
}

/// How often each entity ref was logged as processed in one replica's log.
fn processed_counts(log: &Path) -> Result<BTreeMap<String, usize>> {
    let text = std::fs::read_to_string(log).with_context(|| format!("read {}", log.display()))?;
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        if let Some(entity_ref) = processed_entity_ref(line) {
            *counts.entry(entity_ref).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// The `entity_ref` of a `processed entity` JSON log line.
fn processed_entity_ref(line: &str) -> Option<String> {
    let line = strip_ansi(line);
    let start = line.find('{')?;
    let event: Value = serde_json::from_str(line[start..].trim_end()).ok()?;
    if event.get("message")?.as_str()? != "processed entity"
        || event.get("target")?.as_str()? != ENGINE_LOG_TARGET
    {
        return None;
    }
    Some(event.get("entity_ref")?.as_str()?.to_owned())
}

/// Removes ANSI escape sequences (`ESC [ ... letter`), in case a log line is
/// coloured.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

async fn wait_for_ingestion(replicas: &mut Replicas, client: &reqwest::Client) -> Result<()> {
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < INGEST_TIMEOUT {
        for index in 0..replicas.list.len() {
            replicas.ensure_running(index)?;
            let base_url = &replicas.list[index].base_url;
            let components = total_items(client, base_url, "component").await;
            let groups = total_items(client, base_url, "group").await;
            match (components, groups) {
                (Ok(c), Ok(g)) if c == COMPONENTS as u64 && g == FILES as u64 => return Ok(()),
                (c, g) => last = format!("{base_url}: components {c:?}, groups {g:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("{COMPONENTS} components and {FILES} groups were not stitched within {INGEST_TIMEOUT:?}; last: {last}")
}

async fn total_items(client: &reqwest::Client, base_url: &str, kind: &str) -> Result<u64> {
    let url = format!("{base_url}/api/catalog/entities/by-query?filter=kind={kind}&limit=1");
    let response = client.get(&url).send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    ensure!(status.is_success(), "GET {url}: {status} {body}");
    body.get("totalItems")
        .and_then(Value::as_u64)
        .with_context(|| format!("GET {url}: no totalItems in {body}"))
}

async fn wait_for_description(
    client: &reqwest::Client,
    base_url: &str,
    component: &Component,
    description: &str,
) -> Result<()> {
    let url = format!(
        "{base_url}/api/catalog/entities/by-name/component/default/{}",
        component.name
    );
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < REFRESH_TIMEOUT {
        match client.get(&url).send().await {
            Ok(response) if response.status().is_success() => {
                let entity: Value = response.json().await?;
                let seen = entity
                    .pointer("/metadata/description")
                    .and_then(Value::as_str);
                if seen == Some(description) {
                    return Ok(());
                }
                last = format!("description {seen:?}");
            }
            Ok(response) => last = format!("status {}", response.status()),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("GET {url} did not show description {description:?} within {REFRESH_TIMEOUT:?}; last: {last}")
}

/// The generated catalog: a root Location listing [`FILES`] files.
struct Catalog {
    root_file: PathBuf,
    dir: PathBuf,
}

#[derive(Clone)]
struct Component {
    file: usize,
    name: String,
}

impl Component {
    fn entity_ref(&self) -> String {
        format!("component:default/{}", self.name)
    }
}

impl Catalog {
    fn generate(dir: &Path) -> Result<Self> {
        let catalog = Self {
            root_file: dir.join("catalog-root.yaml"),
            dir: dir.to_path_buf(),
        };
        let targets: Vec<String> = (0..FILES)
            .map(|f| format!("./{}", Self::file_name(f)))
            .collect();
        let root = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": { "name": "replicas-root" },
            "spec": { "targets": targets },
        });
        std::fs::write(&catalog.root_file, serde_json::to_string_pretty(&root)?)?;
        for file in 0..FILES {
            catalog.write_file(file, None)?;
        }
        Ok(catalog)
    }

    fn file_name(file: usize) -> String {
        format!("team-{file:02}.yaml")
    }

    fn component(&self, file: usize, index: usize) -> Component {
        Component {
            file,
            name: format!("service-{file:02}-{index:03}"),
        }
    }

    /// Writes one file: its Group and its Components, owned by the Group;
    /// `changed` overrides one component's description.
    fn write_file(&self, file: usize, changed: Option<(&Component, &str)>) -> Result<()> {
        let group = format!("team-{file:02}");
        let mut documents = vec![json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": { "name": group },
            "spec": { "type": "team", "children": [] },
        })];
        for index in 0..COMPONENTS_PER_FILE {
            let component = self.component(file, index);
            let description = match changed {
                Some((c, text)) if c.name == component.name => text.to_owned(),
                _ => format!("initial description of {}", component.name),
            };
            documents.push(json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": { "name": component.name, "description": description },
                "spec": { "type": "service", "lifecycle": "production", "owner": format!("group:{group}") },
            }));
        }
        let mut yaml = String::new();
        for document in documents {
            yaml.push_str("---\n");
            yaml.push_str(&serde_json::to_string(&document)?);
            yaml.push('\n');
        }
        // Write then rename: a reader never sees a half-written file.
        let path = self.dir.join(Self::file_name(file));
        let partial = path.with_extension("yaml.partial");
        std::fs::write(&partial, yaml)?;
        std::fs::rename(&partial, &path)?;
        Ok(())
    }

    fn set_description(&self, component: &Component, description: &str) -> Result<()> {
        self.write_file(component.file, Some((component, description)))
    }

    /// The refs of every entity in the files (the generated config Location
    /// is not included: its name is the server's business).
    fn expected_refs(&self) -> BTreeSet<String> {
        let mut refs = BTreeSet::from(["location:default/replicas-root".to_owned()]);
        for file in 0..FILES {
            refs.insert(format!("group:default/team-{file:02}"));
            for index in 0..COMPONENTS_PER_FILE {
                refs.insert(self.component(file, index).entity_ref());
            }
        }
        refs
    }
}

fn app_config(port: u16, database_url: &str, root_file: Option<&Path>) -> Value {
    let locations: Vec<Value> = root_file
        .map(|target| json!({ "type": "file", "target": target }))
        .into_iter()
        .collect();
    json!({
        "backend": {
            "baseUrl": format!("http://127.0.0.1:{port}"),
            "listen": { "port": port, "host": "127.0.0.1" },
            "database": { "client": "pg", "connection": database_url },
        },
        "catalog": {
            "rules": [ { "allow": ["Component", "Group", "Location"] } ],
            "locations": locations,
            // Long enough that nothing is re-processed on schedule during the test.
            "processingInterval": { "minutes": 30 },
        },
    })
}

struct Replica {
    name: String,
    child: Child,
    base_url: String,
    log_path: PathBuf,
}

/// The running `greenroom` processes; all are killed when this is dropped,
/// also when the test fails.
#[derive(Default)]
struct Replicas {
    list: Vec<Replica>,
}

impl Replicas {
    fn spawn(&mut self, name: &str, port: u16, config: &Path, dir: &Path) -> Result<()> {
        let log_path = dir.join(format!("greenroom-{name}.log"));
        let log = std::fs::File::create(&log_path)?;
        // Its own working directory, so no app-config.yaml of the repository is merged in.
        let work_dir = dir.join(format!("work-{name}"));
        std::fs::create_dir_all(&work_dir)?;
        let child = Command::new(env!("CARGO_BIN_EXE_greenroom"))
            .arg("--config")
            .arg(config)
            .current_dir(&work_dir)
            .env("RUST_LOG", format!("info,{ENGINE_LOG_TARGET}=debug"))
            .env("GREENROOM_LOG_FORMAT", "json")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("spawn the greenroom binary")?;
        self.list.push(Replica {
            name: name.to_owned(),
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
        });
        Ok(())
    }

    fn ensure_running(&mut self, index: usize) -> Result<()> {
        let replica = &mut self.list[index];
        match replica.child.try_wait()? {
            Some(status) => bail!("replica {} exited early with {status}", replica.name),
            None => Ok(()),
        }
    }

    async fn wait_ready(&mut self, index: usize, client: &reqwest::Client) -> Result<()> {
        let url = format!(
            "{}/.backstage/health/v1/readiness",
            self.list[index].base_url
        );
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < READY_TIMEOUT {
            self.ensure_running(index)?;
            match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last = format!("status {}", response.status()),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("replica was not ready within {READY_TIMEOUT:?}: GET {url} -> {last}")
    }

    /// The last lines of each replica's log, for failure messages.
    fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for replica in &self.list {
            let log = std::fs::read_to_string(&replica.log_path).unwrap_or_default();
            let tail: Vec<&str> = log
                .lines()
                .filter(|l| processed_entity_ref(l).is_none())
                .collect();
            let tail = &tail[tail.len().saturating_sub(lines)..];
            out.push_str(&format!(
                "---- replica {} log (last {} lines other than `processed entity`) ----\n{}\n",
                replica.name,
                tail.len(),
                tail.join("\n")
            ));
        }
        out
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for replica in &mut self.list {
            if let Err(error) = replica.child.start_kill() {
                eprintln!("could not stop replica {}: {error}", replica.name);
            }
        }
    }
}

#[cfg(test)]
mod log_parsing {
    use super::*;

    #[test]
    fn reads_the_entity_ref_of_a_processed_entity_line() {
        let line = format!(
            "\u{1b}[2m{{\"timestamp\":\"t\",\"level\":\"DEBUG\",\"entity_ref\":\"component:default/x\",\"message\":\"processed entity\",\"target\":\"{ENGINE_LOG_TARGET}\"}}\u{1b}[0m"
        );
        assert_eq!(
            processed_entity_ref(&line).as_deref(),
            Some("component:default/x")
        );
        assert_eq!(processed_entity_ref("not json"), None);
        assert_eq!(
            processed_entity_ref(
                r#"{"message":"processed entity","target":"other","entity_ref":"a"}"#
            ),
            None
        );
    }

    fn counts(refs: &[&str]) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in refs {
            *out.entry(r.to_string()).or_insert(0) += 1;
        }
        out
    }

    #[test]
    fn shared_ingestion_accepts_each_ref_once_on_one_replica() {
        let expected = BTreeSet::from(["a".to_owned(), "b".to_owned()]);
        assert!(check_shared_once(&[counts(&["a"]), counts(&["b"])], &expected).is_ok());
    }

    #[test]
    fn shared_ingestion_refuses_double_missing_and_unshared_work() {
        let expected = BTreeSet::from(["a".to_owned(), "b".to_owned()]);
        let both = check_shared_once(&[counts(&["a", "b"]), counts(&["a"])], &expected);
        assert!(format!("{:#}", both.unwrap_err()).contains("a processed [1, 1] times"));
        let twice = check_shared_once(&[counts(&["a", "a"]), counts(&["b"])], &expected);
        assert!(format!("{:#}", twice.unwrap_err()).contains("a processed [2, 0] times"));
        let missing = check_shared_once(&[counts(&["a"]), counts(&["c"])], &expected);
        assert!(format!("{:#}", missing.unwrap_err()).contains("never logged"));
        let unshared = check_shared_once(&[counts(&["a", "b"]), counts(&[])], &expected);
        assert!(format!("{:#}", unshared.unwrap_err()).contains("not shared"));
    }
}
