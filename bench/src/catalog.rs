//! `catalog-bench`: measures the catalog of the real `greenroom` binary at
//! scale (stitching throughput, read latencies, memory) and prints a
//! markdown table. It is a measurement: it exits 0 whatever the verdicts,
//! and non-zero only when it could not measure.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use greenroom_bench::cli::{default_server_bin, finish, CatalogArgs};
use greenroom_bench::report::markdown;
use greenroom_bench::run::{run, Options};

#[derive(Debug, Parser)]
#[command(
    name = "catalog-bench",
    about = "Measure the Greenroom catalog at scale against the real server binary"
)]
struct Args {
    #[command(flatten)]
    catalog: CatalogArgs,
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

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        entities: args.catalog.entities,
        db: args.catalog.db,
        pg_url: args.catalog.pg_url,
        server_bin: args.server_bin.unwrap_or_else(default_server_bin),
        samples: args.samples,
        warmup: args.warmup,
        keep: args.keep,
        per_file: args.per_file,
        stitch_timeout: Duration::from_secs(args.stitch_timeout),
        seed: args.seed,
    };
    finish(
        "catalog-bench",
        run(&options).await.map(|rows| markdown(&rows)),
    )
}
