//! What the benchmark commands do around their own measurement: generate
//! the catalog into a temporary directory, provide the database (a fresh
//! PostgreSQL database or a SQLite file in that directory), clean both up on
//! every path, and start the server with an app-config for them.
//! `scaffolder-bench` brings its own catalog and uses only the temporary
//! directory, Ctrl-C handling and server start.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Context};
use greenroom_webdriver::free_port;

use crate::appconfig::{app_config_yaml, BenchDatabase};
use crate::generate::{describe, write_catalog, CatalogPlan};
use crate::pg::TempDatabase;
use crate::run::DbKind;
use crate::server::ServerProcess;

/// The settings [`with_catalog`] needs from a command's options.
#[derive(Debug, Clone, Copy)]
pub struct CatalogSetup<'a> {
    pub entities: usize,
    pub seed: u64,
    pub per_file: usize,
    pub db: DbKind,
    pub pg_url: &'a str,
    /// Keep the temporary directory and the PostgreSQL database.
    pub keep: bool,
    /// Start of the temporary directory's name.
    pub dir_prefix: &'a str,
    /// What the temporary directory holds, named when it is kept.
    pub kept_files: &'a [&'a str],
}

/// What [`with_catalog`] returns: the catalog and database it measured with,
/// and what the measurement returned.
#[derive(Debug)]
pub struct CatalogRun<T> {
    pub plan: CatalogPlan,
    pub database: BenchDatabase,
    pub measured: T,
}

/// Generates the catalog into a temporary directory, creates the database,
/// and runs `measure` with the plan, the directory, the Location file and
/// the database. Ctrl-C ends the measurement; on every path the database is
/// dropped and the directory removed afterwards (unless `keep`).
pub async fn with_catalog<T>(
    setup: &CatalogSetup<'_>,
    measure: impl AsyncFnOnce(&CatalogPlan, &Path, &Path, &BenchDatabase) -> anyhow::Result<T>,
) -> anyhow::Result<CatalogRun<T>> {
    let plan = CatalogPlan::new(setup.entities, setup.seed).map_err(|e| anyhow!(e))?;
    with_plan(setup, plan, measure).await
}

/// [`with_catalog`] for a plan the caller made (such as one with
/// [`CatalogPlan::with_owner_groups`]); `setup.entities` and `setup.seed`
/// are not used.
pub async fn with_plan<T>(
    setup: &CatalogSetup<'_>,
    plan: CatalogPlan,
    measure: impl AsyncFnOnce(&CatalogPlan, &Path, &Path, &BenchDatabase) -> anyhow::Result<T>,
) -> anyhow::Result<CatalogRun<T>> {
    let workdir = tempfile::Builder::new()
        .prefix(setup.dir_prefix)
        .tempdir()
        .context("cannot create a temporary directory")?;
    let dir = workdir.path().to_path_buf();

    let started = Instant::now();
    let written = write_catalog(&dir, &plan, setup.per_file)?;
    eprintln!(
        "generated {} in {} files ({:.1} MB) in {:.1} s under {}",
        describe(&plan),
        written.entity_files.len(),
        written.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        dir.display()
    );

    let temp_db = match setup.db {
        DbKind::Postgres => Some(TempDatabase::create(setup.pg_url).await?),
        DbKind::Sqlite => None,
    };
    let database = match &temp_db {
        Some(db) => BenchDatabase::Postgres {
            url: db.url.clone(),
        },
        None => BenchDatabase::Sqlite {
            file: dir.join("catalog.sqlite").to_string_lossy().into_owned(),
        },
    };

    let outcome = interruptible(measure(&plan, &dir, &written.location_file, &database)).await;

    if let Some(db) = temp_db {
        let name = db.name.clone();
        if setup.keep {
            eprintln!("kept database {name}");
        } else {
            match db.drop_now().await {
                Ok(()) => eprintln!("dropped database {name}"),
                Err(e) => eprintln!("warning: could not drop database {name}: {e:#}"),
            }
        }
    }
    keep_or_remove(workdir, setup.keep, setup.kept_files);
    Ok(CatalogRun {
        plan,
        database,
        measured: outcome?,
    })
}

/// Runs `measure` in a new temporary directory named `<prefix>…` and
/// removes the directory afterwards on every path, Ctrl-C included (unless
/// `keep`, when it names what the directory holds: `kept_files`).
pub async fn with_temp_dir<T>(
    prefix: &str,
    keep: bool,
    kept_files: &[&str],
    measure: impl AsyncFnOnce(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let workdir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .context("cannot create a temporary directory")?;
    let outcome = interruptible(measure(workdir.path())).await;
    keep_or_remove(workdir, keep, kept_files);
    outcome
}

/// `work`, or an "interrupted" error when Ctrl-C comes first, so that the
/// caller's clean-up still runs (dropping `work` kills its child processes).
pub async fn interruptible<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::select! {
        outcome = work => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    }
}

/// Keeps the temporary directory (saying where it is) or removes it.
fn keep_or_remove(workdir: tempfile::TempDir, keep: bool, kept_files: &[&str]) {
    if keep {
        let kept = workdir.keep();
        eprintln!("kept {} ({})", kept.display(), kept_files.join(", "));
    } else if let Err(e) = workdir.close() {
        eprintln!("warning: could not remove the temporary directory: {e}");
    }
}

/// A server started by [`start_server`] or [`start_server_with_config`].
pub struct StartedServer {
    pub process: ServerProcess,
    pub port: u16,
    /// Just before the process was spawned.
    pub spawned: Instant,
}

/// Writes `app-config.yaml` for a free port, `database` and `location_file`
/// into `dir` and starts `server_bin` with it there (with the extra `env`),
/// its output going to `server.log` in `dir`.
pub fn start_server(
    server_bin: &Path,
    dir: &Path,
    location_file: &Path,
    database: &BenchDatabase,
    env: &[(&str, &OsStr)],
) -> anyhow::Result<StartedServer> {
    start_server_with_config(server_bin, dir, env, |port| {
        app_config_yaml(port, database, location_file)
    })
}

/// Picks a free port, writes `config(port)` as `app-config.yaml` into `dir`
/// and starts `server_bin` with it there (with the extra `env`), its output
/// going to `server.log` in `dir`.
pub fn start_server_with_config(
    server_bin: &Path,
    dir: &Path,
    env: &[(&str, &OsStr)],
    config: impl FnOnce(u16) -> anyhow::Result<String>,
) -> anyhow::Result<StartedServer> {
    let port = free_port()?;
    let config_file = dir.join("app-config.yaml");
    std::fs::write(&config_file, config(port)?)
        .with_context(|| format!("cannot write {}", config_file.display()))?;
    let spawned = Instant::now();
    let process =
        ServerProcess::start_with_env(server_bin, &config_file, dir, &dir.join("server.log"), env)?;
    Ok(StartedServer {
        process,
        port,
        spawned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn setup(keep: bool) -> CatalogSetup<'static> {
        CatalogSetup {
            entities: 100,
            seed: 1,
            per_file: 10,
            db: DbKind::Sqlite,
            pg_url: "",
            keep,
            dir_prefix: "greenroom-harness-test-",
            kept_files: &["catalog"],
        }
    }

    #[tokio::test]
    async fn the_measurement_sees_the_catalog_and_the_directory_goes_afterwards() {
        let mut seen = None;
        let done = with_catalog(&setup(false), async |plan, dir, location_file, database| {
            assert!(location_file.starts_with(dir) && location_file.is_file());
            let BenchDatabase::Sqlite { file } = database else {
                panic!("not a SQLite file: {database:?}");
            };
            assert_eq!(Path::new(file), dir.join("catalog.sqlite"));
            seen = Some(dir.to_path_buf());
            Ok(plan.total())
        })
        .await
        .unwrap();
        assert_eq!(done.measured, done.plan.total());
        assert!(!seen.unwrap().exists());
    }

    /// Runs a measurement that fails; returns the directory it was given.
    async fn failed_run(keep: bool) -> PathBuf {
        let mut seen = None;
        let err = with_catalog(&setup(keep), async |_, dir, _, _| -> anyhow::Result<()> {
            seen = Some(dir.to_path_buf());
            anyhow::bail!("measurement failed")
        })
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), "measurement failed");
        seen.unwrap()
    }

    #[tokio::test]
    async fn a_failed_measurement_still_removes_the_directory() {
        assert!(!failed_run(false).await.exists());
    }

    #[tokio::test]
    async fn keep_leaves_the_directory() {
        let dir = failed_run(true).await;
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
