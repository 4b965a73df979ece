//! `scaffolder-bench`: how long the real `greenroom` binary takes to run the
//! shipped Rust-service template end to end (fetch, push a new repository,
//! register it, commit the claim to the GitOps repository), from
//! `POST /api/scaffolder/v2/tasks` until the task is `completed`, with the
//! repositories on a local Git host. Prints markdown to stdout (progress on
//! stderr); exits non-zero only when it could not measure (a task failed,
//! did not do its work, or the server or git daemon went away).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use greenroom_bench::cli::{default_server_bin, finish, repo_root};
use greenroom_bench::scaffolderreport::render;
use greenroom_bench::scaffolderrun::{run_scaffolder, RemoteKind, ScaffolderOptions, TEMPLATE_REF};

#[derive(Debug, Parser)]
#[command(
    name = "scaffolder-bench",
    about = "Measure Greenroom scaffolder tasks (the Rust-service template) against the real server binary and a local Git host"
)]
struct Args {
    /// Where the server pushes: bare repositories through file://, or the
    /// same repositories served by `git daemon` on 127.0.0.1.
    #[arg(long, value_enum, default_value_t = RemoteKind::File)]
    remote: RemoteKind,
    /// Timed tasks, one after the other.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Untimed tasks before the timed ones.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Server binary [default: <cargo target dir>/release/greenroom].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Give up on a task that has not ended after this many seconds.
    #[arg(long, default_value_t = 120)]
    task_timeout: u64,
    /// Give up when the template is not in the catalog this many seconds
    /// after the server started.
    #[arg(long, default_value_t = 60)]
    start_timeout: u64,
    /// Keep the temporary directory (Git repositories, app-config.yaml,
    /// server.log, git-daemon.log, the SQLite file).
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = ScaffolderOptions {
        server_bin: args.server_bin.unwrap_or_else(default_server_bin),
        repo: repo_root(),
        remote: args.remote,
        runs: args.runs,
        warmup: args.warmup,
        task_timeout: Duration::from_secs(args.task_timeout),
        start_timeout: Duration::from_secs(args.start_timeout),
        keep: args.keep,
    };
    let outcome = run_scaffolder(&options).await.map(|measured| {
        let setup = [
            ("template", TEMPLATE_REF.to_string()),
            ("remote", options.remote.describe().to_string()),
            ("database", "SQLite (file)".to_string()),
            (
                "tasks",
                format!(
                    "{} warm-up + {} timed, one at a time",
                    options.warmup, options.runs
                ),
            ),
        ];
        render(&setup, &measured)
    });
    finish("scaffolder-bench", outcome)
}
