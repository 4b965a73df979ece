//! `permissions-bench`: what a permission policy costs on
//! `GET /api/catalog/entities/by-query` at scale. Stitches one generated
//! catalog, then measures the same requests against two servers on that
//! database, both requiring sign-in: one without a policy, one with an
//! ownership policy (`IS_ENTITY_OWNER`). Prints markdown to stdout (progress
//! on stderr); exits 0 whatever the verdicts, non-zero when a request fails
//! or an answer is wrong.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use greenroom_bench::cli::{finish, CatalogArgs};
use greenroom_bench::inprocess::serve_until_interrupted;
use greenroom_bench::permissionsreport::render;
use greenroom_bench::permissionsrun::{run_permissions, PermissionsOptions};

/// The server runs in this process: the same allocator as the `greenroom` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "permissions-bench",
    about = "Measure GET /api/catalog/entities/by-query without and with an ownership permission policy"
)]
struct Args {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// Timed requests per query and mode (at each concurrency level).
    #[arg(long, default_value_t = 500)]
    samples: usize,
    /// Untimed requests per query and mode before timing.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Concurrency levels to measure, comma-separated (1 = one request at a time).
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    concurrency: Vec<usize>,
    /// Page size of every query.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Teams that own the catalog's entities (one team owns about 1/N of them).
    #[arg(long, default_value_t = 200)]
    owner_groups: usize,
    /// Full-text filter term of the text query.
    #[arg(long, default_value = "pay")]
    term: String,
    /// Entities per generated YAML file.
    #[arg(long, default_value_t = 1000)]
    per_file: usize,
    /// Give up when stitching takes longer than this many seconds.
    #[arg(long, default_value_t = 600)]
    stitch_timeout: u64,
    /// Seed of the catalog generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the temporary directory (catalog, policy.yaml, SQLite file,
    /// search indexes) and the PostgreSQL database.
    #[arg(long)]
    keep: bool,
    /// Internal: serve this app-config (JSON) with the whole server until
    /// SIGINT instead of benchmarking (the benchmark stitches this way, in a
    /// child process).
    #[arg(long, hide = true)]
    config: Option<std::path::PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(config) = &args.config {
        let dist = std::env::temp_dir().join("greenroom-bench-no-ui");
        return match serve_until_interrupted(config, dist).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("permissions-bench --config: error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let options = PermissionsOptions {
        entities: args.catalog.entities,
        db: args.catalog.db,
        pg_url: args.catalog.pg_url,
        samples: args.samples,
        warmup: args.warmup,
        concurrency: args.concurrency,
        limit: args.limit,
        owner_groups: args.owner_groups,
        term: args.term,
        per_file: args.per_file,
        stitch_timeout: Duration::from_secs(args.stitch_timeout),
        seed: args.seed,
        keep: args.keep,
    };
    finish(
        "permissions-bench",
        run_permissions(&options)
            .await
            .map(|report| render(&report)),
    )
}
