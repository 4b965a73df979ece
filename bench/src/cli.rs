//! Command-line pieces the benchmark commands share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::run::DbKind;

/// The options both commands start with: the catalog's size and the
/// database behind the server.
#[derive(Debug, Clone, clap::Args)]
pub struct CatalogArgs {
    /// Number of generated entities (at least 10).
    #[arg(long, default_value_t = 100_000)]
    pub entities: usize,
    /// Database backend of the server.
    #[arg(long, value_enum, default_value_t = DbKind::Sqlite)]
    pub db: DbKind,
    /// Administrative PostgreSQL URL (loopback only); a fresh database is
    /// created next to it for the run and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
}

/// `$CARGO_TARGET_DIR/release/greenroom`, else the `release` folder next to
/// the folder this binary was built into, else `target/release/greenroom`.
pub fn default_server_bin() -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.to_path_buf())
        });
    target_dir
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("release")
        .join("greenroom")
}

/// The repository this crate was built from (the parent of `bench/`): where
/// the built UI, the shipped templates and the demo catalog are.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Prints the report to stdout and exits 0, or prints the error as
/// `<command>: error: …` to stderr and exits 1: a measurement fails only
/// when it could not measure, whatever its verdicts.
pub fn finish(command: &str, outcome: anyhow::Result<String>) -> ExitCode {
    match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{command}: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Fails with `<flag> must be at least 1` for the first `(flag, count)`
/// whose count is 0.
pub fn check_counts(counts: &[(&str, usize)]) -> anyhow::Result<()> {
    match counts.iter().find(|(_, count)| *count == 0) {
        Some((flag, _)) => anyhow::bail!("{flag} must be at least 1"),
        None => Ok(()),
    }
}
