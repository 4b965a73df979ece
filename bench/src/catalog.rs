//! `catalog-bench`: measures the catalog of the real `greenroom` binary at
//! scale (stitching throughput, read latencies, memory) and prints a
//! markdown table. It is a measurement: it exits 0 whatever the verdicts,
//! and non-zero only when it could not measure.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use greenroom_bench::report::markdown;
use greenroom_bench::run::{run, DbKind, Options};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
}

#[derive(Debug, Parser)]
#[command(
    name = "catalog-bench",
    about = "Measure the Greenroom catalog at scale against the real server binary"
)]
struct Args {
    /// Number of generated entities (at least 10).
    #[arg(long, default_value_t = 100_000)]
    entities: usize,
    /// Database backend of the server.
    #[arg(long, value_enum, default_value_t = Db::Sqlite)]
    db: Db,
    /// Administrative PostgreSQL URL (loopback only); a fresh database is
    /// created next to it for the run and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Server binary [default: <cargo target dir>/release/greenroom].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Timed requests per endpoint.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Untimed requests per endpoint before sampling.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Keep the temporary directory (catalog, app-config.yaml, server.log) and the PostgreSQL database.
    #[arg(long)]
    keep: bool,
    /// Entities per generated YAML file.
    #[arg(long, default_value_t = 1000)]
    per_file: usize,
    /// Give up when stitching takes longer than this many seconds.
    #[arg(long, default_value_t = 600)]
    stitch_timeout: u64,
    /// Seed of the catalog generator and of the random by-name lookups.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// `$CARGO_TARGET_DIR/release/greenroom`, else the `release` folder next to
/// the folder this binary was built into, else `target/release/greenroom`.
fn default_server_bin() -> PathBuf {
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

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        entities: args.entities,
        db: match args.db {
            Db::Sqlite => DbKind::Sqlite,
            Db::Postgres => DbKind::Postgres,
        },
        pg_url: args.pg_url,
        server_bin: args.server_bin.unwrap_or_else(default_server_bin),
        samples: args.samples,
        warmup: args.warmup,
        keep: args.keep,
        per_file: args.per_file,
        stitch_timeout: Duration::from_secs(args.stitch_timeout),
        seed: args.seed,
    };
    let outcome = run(&options).await;
    match outcome {
        Ok(rows) => {
            println!("{}", markdown(&rows));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("catalog-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
