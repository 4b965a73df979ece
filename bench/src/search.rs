//! `search-bench`: the search index of the real `greenroom` binary at scale:
//! how long rebuilding `search-index/` from the database takes, query
//! latencies over a mixed, checked query set, the index size on disk and the
//! server's memory. Prints markdown to stdout (progress on stderr); exits
//! non-zero only when it could not measure (server missing or exiting,
//! timeouts, wrong answers).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use greenroom_bench::cli::{default_server_bin, finish};
use greenroom_bench::searchreport::render;
use greenroom_bench::searchrun::{run_search, SearchOptions};

#[derive(Debug, Parser)]
#[command(
    name = "search-bench",
    about = "Measure the Greenroom search index (rebuild time, query latency, size) against the real server binary"
)]
struct Args {
    /// Number of generated entities (at least 10).
    #[arg(long, default_value_t = 100_000)]
    entities: usize,
    /// Server binary [default: <cargo target dir>/release/greenroom].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Timed requests per query class (classes are interleaved).
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Untimed requests per query class before sampling.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Distinct queries per query class, each checked before sampling.
    #[arg(long, default_value_t = 20)]
    queries: usize,
    /// Keep the temporary directory (catalog, app-config.yaml, SQLite file,
    /// search-index/, server-first.log, server.log).
    #[arg(long)]
    keep: bool,
    /// Entities per generated YAML file.
    #[arg(long, default_value_t = 1000)]
    per_file: usize,
    /// Give up when stitching takes longer than this many seconds.
    #[arg(long, default_value_t = 600)]
    stitch_timeout: u64,
    /// Give up when the index has not caught up this many seconds after
    /// stitching (first start) or after the process start (rebuild).
    #[arg(long, default_value_t = 600)]
    index_timeout: u64,
    /// Seed of the catalog generator and of the query set.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = SearchOptions {
        entities: args.entities,
        server_bin: args.server_bin.unwrap_or_else(default_server_bin),
        samples: args.samples,
        warmup: args.warmup,
        queries: args.queries,
        keep: args.keep,
        per_file: args.per_file,
        stitch_timeout: Duration::from_secs(args.stitch_timeout),
        index_timeout: Duration::from_secs(args.index_timeout),
        seed: args.seed,
    };
    finish(
        "search-bench",
        run_search(&options).await.map(|measured| render(&measured)),
    )
}
