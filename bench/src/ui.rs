//! `ui-bench`: measures the web UI served by the real `greenroom` binary
//! with a generated catalog: what the browser downloads for the first page
//! (`/catalog`) and how long until the catalog table shows its first rows,
//! cold and warm, in headless Chromium driven through chromedriver. Prints
//! markdown to stdout (progress on stderr). It is a measurement: it exits 0
//! whatever the verdicts, and non-zero only when it could not measure.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use greenroom_bench::cli::{default_server_bin, finish, repo_root, CatalogArgs};
use greenroom_bench::uirun::{run_ui, UiOptions};
use greenroom_webdriver::find_on_path;

#[derive(Debug, Parser)]
#[command(
    name = "ui-bench",
    about = "Measure the Greenroom web UI (first-page download size, time to first rows) in headless Chromium"
)]
struct Args {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// Cold page loads, each in a fresh browser profile (each followed by a warm reload).
    #[arg(long, default_value_t = 5)]
    samples: usize,
    /// Skip the warm reload after each cold load.
    #[arg(long)]
    no_warm: bool,
    /// The built web UI, passed to the server as GREENROOM_DIST_DIR
    /// [default: $GREENROOM_DIST_DIR (relative to the repository), else <repo>/dist].
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Server binary [default: <cargo target dir>/release/greenroom].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Chromium binary [default: `chromium` on PATH].
    #[arg(long)]
    chromium: Option<PathBuf>,
    /// chromedriver binary [default: `chromedriver` on PATH].
    #[arg(long)]
    chromedriver: Option<PathBuf>,
    /// Entities per generated YAML file.
    #[arg(long, default_value_t = 1000)]
    per_file: usize,
    /// Give up when stitching takes longer than this many seconds.
    #[arg(long, default_value_t = 600)]
    stitch_timeout: u64,
    /// Give up when one page load has shown no rows after this many seconds.
    #[arg(long, default_value_t = 60)]
    page_timeout: u64,
    /// Seed of the catalog generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the temporary directory (catalog, app-config.yaml, server.log,
    /// chromedriver.log) and the PostgreSQL database.
    #[arg(long)]
    keep: bool,
}

/// `--dist`, else `GREENROOM_DIST_DIR` (relative to the repository root, as
/// for the build script), else `<repo>/dist`; made absolute because the
/// server runs in a temporary directory.
fn dist_dir(flag: Option<PathBuf>) -> PathBuf {
    let dir = match flag {
        Some(dir) => dir,
        None => match std::env::var_os("GREENROOM_DIST_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => repo_root().join(dir),
            None => repo_root().join("dist"),
        },
    };
    std::path::absolute(&dir).unwrap_or(dir)
}

fn on_path(names: &[&str]) -> PathBuf {
    names
        .iter()
        .find_map(|name| find_on_path(name))
        .unwrap_or_else(|| PathBuf::from(names[0]))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = UiOptions {
        entities: args.catalog.entities,
        db: args.catalog.db,
        pg_url: args.catalog.pg_url,
        server_bin: args.server_bin.unwrap_or_else(default_server_bin),
        dist: dist_dir(args.dist),
        chromium: args
            .chromium
            .unwrap_or_else(|| on_path(&["chromium", "chromium-browser"])),
        chromedriver: args
            .chromedriver
            .unwrap_or_else(|| on_path(&["chromedriver"])),
        samples: args.samples,
        warm: !args.no_warm,
        per_file: args.per_file,
        stitch_timeout: Duration::from_secs(args.stitch_timeout),
        page_timeout: Duration::from_secs(args.page_timeout),
        seed: args.seed,
        keep: args.keep,
    };
    finish("ui-bench", run_ui(&options).await)
}
