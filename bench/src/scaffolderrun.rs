//! The `scaffolder-bench` run: the real server with the shipped templates,
//! the demo organisation and a local Git host (bare repositories under the
//! temporary directory, reached as `file://` or through `git daemon`);
//! sequential tasks of the Rust-service template, each timed from just
//! before `POST /api/scaffolder/v2/tasks` until the task is seen
//! `completed`, then checked (repository pushed, claim committed, component
//! in the catalog) outside the timed window.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use greenroom_model::scaffolder::{Task, TaskEvent, TaskStatus};
use serde_json::{json, Value};

use crate::appconfig::{scaffolder_app_config_yaml, BenchDatabase, ScaffolderSetup};
use crate::cli::check_counts;
use crate::git::{file_on_branch, init_bare, seed_bare_repo};
use crate::gitdaemon::GitDaemon;
use crate::harness::{start_server_with_config, with_temp_dir, StartedServer};
use crate::probe::Api;
use crate::server::{check_server_bin, ServerProcess};
use crate::taskevents::{readable_log, task_timings, TaskTimings};
use crate::taskvalues::{by_name_path, task_values, REPO_OWNER};

pub const TEMPLATE_REF: &str = "template:default/rust-service";
/// Repository files the run reads, relative to the repository root.
pub const TEMPLATES_LOCATION: &str = "templates/all.yaml";
pub const DEMO_LOCATION: &str = "demo/catalog/all.yaml";
pub const EXAMPLE_VALUES: &str = "templates/rust-service/examples/values.yaml";
pub const GITOPS_SOURCE: &str = "deploy/gitops";
/// How often a running task's status is asked for: bounds how late the end
/// of a task is seen (the server's event stream polls only every 200 ms).
pub const POLL_EVERY: Duration = Duration::from_millis(10);
/// How long a completed task's component may take to be served.
const CATALOG_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the server pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RemoteKind {
    /// `file://<root>`: git pushes to the bare repositories directly.
    File,
    /// `git://127.0.0.1:<port>`: `git daemon` serving the same root.
    Daemon,
}

impl RemoteKind {
    pub fn describe(self) -> &'static str {
        match self {
            RemoteKind::File => "file:// bare repositories (createRepositories: true)",
            RemoteKind::Daemon => {
                "git daemon on 127.0.0.1 (git://, repositories created before each task)"
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScaffolderOptions {
    pub server_bin: PathBuf,
    /// The repository root: templates, demo catalog, GitOps example.
    pub repo: PathBuf,
    pub remote: RemoteKind,
    pub runs: usize,
    pub warmup: usize,
    pub task_timeout: Duration,
    pub start_timeout: Duration,
    pub keep: bool,
}

impl ScaffolderOptions {
    pub fn validate(&self) -> anyhow::Result<()> {
        check_counts(&[("--runs", self.runs)])?;
        if self.task_timeout.is_zero() || self.start_timeout.is_zero() {
            bail!("--task-timeout and --start-timeout must be at least 1 second");
        }
        check_server_bin(&self.server_bin)?;
        for file in [TEMPLATES_LOCATION, DEMO_LOCATION, EXAMPLE_VALUES] {
            if !self.repo.join(file).is_file() {
                bail!("{} not found", self.repo.join(file).display());
            }
        }
        if !self.repo.join(GITOPS_SOURCE).is_dir() {
            bail!("{} not found", self.repo.join(GITOPS_SOURCE).display());
        }
        Ok(())
    }
}

/// One timed task.
#[derive(Debug, Clone)]
pub struct TaskRun {
    /// Just before the POST until the task was seen `completed`.
    pub elapsed: Duration,
    /// From seeing it completed until the catalog served its component.
    pub to_catalog: Duration,
    pub timings: TaskTimings,
}

/// Everything the report needs.
#[derive(Debug, Clone)]
pub struct Measured {
    pub runs: Vec<TaskRun>,
    /// Step id → the template's step name.
    pub step_names: HashMap<String, String>,
}

/// Runs the benchmark; the server, `git daemon` and the temporary directory
/// are gone afterwards on every path (unless `keep`).
pub async fn run_scaffolder(opts: &ScaffolderOptions) -> anyhow::Result<Measured> {
    opts.validate()?;
    let mut kept_files = vec!["git", "app-config.yaml", "server.log", "greenroom.sqlite"];
    if opts.remote == RemoteKind::Daemon {
        kept_files.push("git-daemon.log");
    }
    with_temp_dir(
        "greenroom-scaffolder-bench-",
        opts.keep,
        &kept_files,
        async |dir| measure(opts, dir).await,
    )
    .await
}

async fn measure(opts: &ScaffolderOptions, dir: &Path) -> anyhow::Result<Measured> {
    let git_root = dir.join("git");
    seed_bare_repo(
        &opts.repo.join(GITOPS_SOURCE),
        &git_root.join("platform/gitops.git"),
        &dir.join("gitops-seed"),
    )
    .await
    .context("cannot seed the GitOps repository")?;
    let mut daemon = match opts.remote {
        RemoteKind::Daemon => {
            let daemon = GitDaemon::start(&git_root, &dir.join("git-daemon.log")).await?;
            eprintln!(
                "started git daemon (pid {}) on 127.0.0.1:{}",
                daemon.pid, daemon.port
            );
            Some(daemon)
        }
        RemoteKind::File => None,
    };
    let remote_base_url = match &daemon {
        Some(daemon) => daemon.base_url(),
        None => format!("file://{}", git_root.display()),
    };
    let working_directory = dir.join("workspaces");
    std::fs::create_dir_all(&working_directory)
        .with_context(|| format!("cannot create {}", working_directory.display()))?;
    let database = BenchDatabase::Sqlite {
        file: dir.join("greenroom.sqlite").to_string_lossy().into_owned(),
    };
    let templates = opts.repo.join(TEMPLATES_LOCATION);
    let demo = opts.repo.join(DEMO_LOCATION);
    let locations = [templates.as_path(), demo.as_path()];
    let setup = ScaffolderSetup {
        locations: &locations,
        remote_base_url: &remote_base_url,
        create_repositories: opts.remote == RemoteKind::File,
        working_directory: &working_directory,
    };
    let StartedServer {
        process: mut server,
        port,
        ..
    } = start_server_with_config(&opts.server_bin, dir, &[], |port| {
        scaffolder_app_config_yaml(port, &database, &setup)
    })?;
    eprintln!(
        "started {} (pid {}) on 127.0.0.1:{port}, pushing to {remote_base_url}",
        opts.server_bin.display(),
        server.pid
    );
    let outcome = measure_running(opts, &git_root, port, &mut server, daemon.as_mut()).await;
    let outcome = server.stop_after(outcome).await;
    if let Some(daemon) = daemon {
        daemon.stop().await;
    }
    outcome
}

async fn measure_running(
    opts: &ScaffolderOptions,
    git_root: &Path,
    port: u16,
    server: &mut ServerProcess,
    mut daemon: Option<&mut GitDaemon>,
) -> anyhow::Result<Measured> {
    let api = Api::new(port, Duration::from_secs(30))?;
    let example = read_example_values(&opts.repo.join(EXAMPLE_VALUES))?;
    // The template and the entities its values refer to (owner, system)
    // must be in the catalog before the first task.
    let mut needed = vec![by_name_path(TEMPLATE_REF)?];
    for field in ["owner", "system"] {
        if let Some(reference) = example.get(field).and_then(Value::as_str) {
            needed.push(by_name_path(reference)?);
        }
    }
    wait_for_entities(&api, server, &needed, opts.start_timeout).await?;

    let total = opts.warmup + opts.runs;
    let mut runs = Vec::with_capacity(opts.runs);
    let mut step_names = HashMap::new();
    for i in 1..=total {
        let name = format!("bench-svc-{i}");
        let repo = git_root.join(REPO_OWNER).join(format!("{name}.git"));
        if daemon.is_some() {
            // git daemon cannot create repositories: the push needs one.
            init_bare(&repo).await?;
        }
        let values = task_values(&example, &name)?;
        let (elapsed, task, events) = timed_task(&api, server, &values, opts.task_timeout).await?;
        let seen_completed = Instant::now();
        let to_catalog = check_work(&api, git_root, &repo, &name, seen_completed).await?;
        if let Some(daemon) = daemon.as_deref_mut() {
            daemon.ensure_running()?;
        }
        let timings = task_timings(&task.created_at, &events)
            .with_context(|| format!("cannot read the events of task {}", task.id))?;
        let label = if i <= opts.warmup {
            format!("warm-up {i}/{}", opts.warmup)
        } else {
            format!("run {}/{}", i - opts.warmup, opts.runs)
        };
        eprintln!(
            "{label} {name}: {:.1} ms to completed (server {:.1} ms), in the catalog {:.1} ms later",
            elapsed.as_secs_f64() * 1000.0,
            timings.server_total.as_secs_f64() * 1000.0,
            to_catalog.as_secs_f64() * 1000.0
        );
        step_names.extend(
            task.spec
                .steps
                .iter()
                .map(|s| (s.id.clone(), s.name.clone())),
        );
        if i > opts.warmup {
            runs.push(TaskRun {
                elapsed,
                to_catalog,
                timings,
            });
        }
    }
    server.ensure_running()?;
    Ok(Measured { runs, step_names })
}

fn read_example_values(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_saphyr::from_str(&text).with_context(|| format!("{} is not valid YAML", path.display()))
}

/// Polls `GET /api/catalog/entities/by-name/<path>` for each path until
/// all are served.
async fn wait_for_entities(
    api: &Api,
    server: &mut ServerProcess,
    paths: &[String],
    timeout: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut missing: Vec<&String> = paths.iter().collect();
    let mut last_error = None;
    while started.elapsed() < timeout {
        server.ensure_running()?;
        let mut still = Vec::new();
        for path in missing {
            let url = api.url(&format!("/api/catalog/entities/by-name/{path}"), &[])?;
            match api.exists(&url).await {
                Ok(true) => {}
                Ok(false) => still.push(path),
                Err(e) => {
                    still.push(path);
                    last_error = Some(e);
                }
            }
        }
        missing = still;
        if missing.is_empty() {
            eprintln!(
                "{} in the catalog after {:.1} s",
                paths.join(", "),
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&str> = missing.iter().map(|p| p.as_str()).collect();
    match last_error {
        Some(e) => bail!(
            "not in the catalog within {} s: {}; last error: {e:#}",
            timeout.as_secs(),
            missing.join(", ")
        ),
        None => bail!(
            "not in the catalog within {} s: {}",
            timeout.as_secs(),
            missing.join(", ")
        ),
    }
}

/// Creates one task and follows it until it ends. Returns the time from just
/// before the POST until `completed` was seen, the task and its events; a
/// task that fails, is cancelled or does not end in time is an error with
/// its log.
async fn timed_task(
    api: &Api,
    server: &mut ServerProcess,
    values: &Value,
    timeout: Duration,
) -> anyhow::Result<(Duration, Task, Vec<TaskEvent>)> {
    let tasks_url = api.url("/api/scaffolder/v2/tasks", &[])?;
    let body = json!({"templateRef": TEMPLATE_REF, "values": values});

    let started = Instant::now();
    let created = api
        .post_json(&tasks_url, &body, reqwest::StatusCode::CREATED)
        .await?;
    let id = created["id"]
        .as_str()
        .with_context(|| format!("POST {tasks_url} returned no task id: {created}"))?
        .to_string();
    let task_url = api.url(&format!("/api/scaffolder/v2/tasks/{id}"), &[])?;
    let (elapsed, task) = loop {
        let (_, answer) = api.timed_get_json(&task_url).await?;
        let task: Task = serde_json::from_value(answer)
            .with_context(|| format!("GET {task_url} did not return a task"))?;
        if task.status.is_final() {
            break (started.elapsed(), task);
        }
        if started.elapsed() > timeout {
            let log = readable_log(&task_events(api, &id).await?);
            bail!(
                "task {id} did not end within {} s (status {}); its log:\n{log}",
                timeout.as_secs(),
                task.status.as_str()
            );
        }
        server.ensure_running()?;
        tokio::time::sleep(POLL_EVERY).await;
    };

    let events = task_events(api, &id).await?;
    if task.status != TaskStatus::Completed {
        bail!(
            "task {id} ended {}; its log:\n{}",
            task.status.as_str(),
            readable_log(&events)
        );
    }
    Ok((elapsed, task, events))
}

async fn task_events(api: &Api, id: &str) -> anyhow::Result<Vec<TaskEvent>> {
    let url = api.url(&format!("/api/scaffolder/v2/tasks/{id}/events"), &[])?;
    let (_, events) = api.timed_get_json(&url).await?;
    serde_json::from_value(events).with_context(|| format!("GET {url} did not return task events"))
}

/// After the timing: the component is served by the catalog (returns how
/// long after `completed_at` that was), the new repository has
/// `catalog-info.yaml` on `main`, and the GitOps repository has the claim
/// and the Flux objects of the new service.
async fn check_work(
    api: &Api,
    git_root: &Path,
    repo: &Path,
    name: &str,
    completed_at: Instant,
) -> anyhow::Result<Duration> {
    let entity_url = api.url(
        &format!("/api/catalog/entities/by-name/component/default/{name}"),
        &[],
    )?;
    while !api.exists(&entity_url).await? {
        if completed_at.elapsed() > CATALOG_TIMEOUT {
            bail!(
                "component:default/{name} was not in the catalog {} s after its task completed",
                CATALOG_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let to_catalog = completed_at.elapsed();

    if !file_on_branch(repo, "main", "catalog-info.yaml").await? {
        bail!(
            "the task completed but {} has no catalog-info.yaml on main",
            repo.display()
        );
    }
    let gitops = git_root.join("platform/gitops.git");
    for file in [
        format!("apps/{name}/claims/appstack-{name}.yaml"),
        format!("apps/{name}/flux.yaml"),
    ] {
        if !file_on_branch(&gitops, "main", &file).await? {
            bail!("the task completed but the GitOps repository has no {file} on main");
        }
    }
    Ok(to_catalog)
}
