//! The benchmark itself: generate, configure, start the server, wait until
//! every entity is stitched, sample read latencies and memory, tear down.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::appconfig::BenchDatabase;
use crate::cli::check_counts;
use crate::generate::{describe, CatalogPlan};
use crate::harness::{start_server, with_catalog, CatalogSetup, StartedServer};
use crate::probe::Api;
use crate::report::{info_row, latency_row, rss_row, stitch_row, Row};
use crate::server::{check_server_bin, RunningServer, ServerProcess};
use crate::stats::{read_cpu_secs, read_status_kb, read_write_bytes, LatencySummary};

/// Kinds the generator emits; the stitched count is taken over these so the
/// Location entities the server adds for locations are not counted.
pub const GENERATED_KINDS: &[&str] = &[
    "Group",
    "User",
    "Domain",
    "System",
    "Resource",
    "API",
    "Component",
];
const PAGE: usize = 50;
const POLL_EVERY: Duration = Duration::from_millis(250);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
const RSS_SAMPLE_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub entities: usize,
    pub db: DbKind,
    pub pg_url: String,
    pub server_bin: PathBuf,
    pub samples: usize,
    pub warmup: usize,
    pub keep: bool,
    pub per_file: usize,
    pub stitch_timeout: Duration,
    pub seed: u64,
}

impl Options {
    pub fn validate(&self) -> anyhow::Result<()> {
        check_counts(&[("--samples", self.samples), ("--per-file", self.per_file)])?;
        if self.stitch_timeout.is_zero() {
            bail!("--stitch-timeout must be at least 1 second");
        }
        check_server_bin(&self.server_bin)?;
        Ok(())
    }
}

/// Runs the whole benchmark and returns the result rows. The temporary
/// directory and database are removed on every path (unless `keep`).
pub async fn run(opts: &Options) -> anyhow::Result<Vec<Row>> {
    opts.validate()?;
    let setup = CatalogSetup {
        entities: opts.entities,
        seed: opts.seed,
        per_file: opts.per_file,
        db: opts.db,
        pg_url: &opts.pg_url,
        keep: opts.keep,
        dir_prefix: "greenroom-bench-",
        kept_files: &["catalog", "app-config.yaml", "server.log"],
    };
    let done = with_catalog(&setup, async |plan, dir, location_file, database| {
        measure(opts, plan, dir, location_file, database).await
    })
    .await?;
    let mut rows = vec![
        info_row("catalog", describe(&done.plan)),
        info_row("database", database_label(&done.database)),
    ];
    rows.extend(done.measured);
    Ok(rows)
}

pub fn database_label(database: &BenchDatabase) -> String {
    match database {
        BenchDatabase::Sqlite { .. } => "SQLite (file)".into(),
        BenchDatabase::Postgres { .. } => "PostgreSQL (fresh database)".into(),
    }
}

/// Starts the server, measures, and always stops it (killing on drop
/// covers cancellation).
async fn measure(
    opts: &Options,
    plan: &CatalogPlan,
    dir: &Path,
    location_file: &Path,
    database: &BenchDatabase,
) -> anyhow::Result<Vec<Row>> {
    let StartedServer {
        process: mut server,
        port,
        spawned,
    } = start_server(&opts.server_bin, dir, location_file, database, &[])?;
    eprintln!(
        "started {} (pid {}) on 127.0.0.1:{port}",
        opts.server_bin.display(),
        server.pid
    );

    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample_rss(server.pid, peak_rss.clone()));
    let outcome = measure_running(opts, plan, port, &mut server, spawned, &peak_rss).await;
    sampler.abort();
    server.stop_after(outcome).await
}

async fn sample_rss(pid: u32, peak: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(RSS_SAMPLE_EVERY);
    loop {
        tick.tick().await;
        match read_status_kb(pid, "VmRSS") {
            Some(kb) => {
                peak.fetch_max(kb, Ordering::Relaxed);
            }
            None => return,
        }
    }
}

async fn measure_running(
    opts: &Options,
    plan: &CatalogPlan,
    port: u16,
    server: &mut ServerProcess,
    spawned: Instant,
    peak_rss: &AtomicU64,
) -> anyhow::Result<Vec<Row>> {
    let api = Api::new(port, Duration::from_secs(30))?;
    let (first_answer, stitched) =
        wait_until_stitched(&api, server, plan.total(), spawned, opts.stitch_timeout).await?;
    let mut rows = vec![
        info_row(
            "server answering after",
            format!("{:.2} s", first_answer.as_secs_f64()),
        ),
        stitch_row(plan.total(), stitched),
    ];
    // Less sensitive to a noisy neighbour than the elapsed time: what the
    // ingestion cost, whatever else the machine was doing. On PostgreSQL the
    // database's own processes do the storage work and are not counted.
    if let Some(secs) = read_cpu_secs(server.pid) {
        let whose = match opts.db {
            DbKind::Sqlite => "greenroom process CPU time until stitched (user + system)",
            DbKind::Postgres => {
                "greenroom process CPU time until stitched (user + system, PostgreSQL not included)"
            }
        };
        rows.push(info_row(whose, format!("{secs:.1} s")));
    }
    if opts.db == DbKind::Sqlite {
        if let Some(bytes) = read_write_bytes(server.pid) {
            rows.push(info_row(
                "bytes written to storage until stitched (WAL and database file)",
                format!("{:.0} MB", bytes as f64 / 1e6),
            ));
        }
    }
    if let Some(kb) = read_status_kb(server.pid, "VmRSS") {
        rows.push(info_row(
            "RSS right after stitching",
            format!("{:.1} MB", kb as f64 / 1024.0),
        ));
    }
    let api = Api::new(port, Duration::from_secs(10))?;
    rows.extend(measure_latencies(opts, plan, &api, server).await?);
    server.ensure_running()?;
    let hwm = read_status_kb(server.pid, "VmHWM").context("cannot read VmHWM of the server")?;
    rows.push(info_row(
        "max sampled VmRSS (every 200 ms)",
        format!("{:.1} MB", peak_rss.load(Ordering::Relaxed) as f64 / 1024.0),
    ));
    rows.push(rss_row("server peak RSS (VmHWM)", hwm));
    Ok(rows)
}

/// Polls the stitched count until it reaches `expected`; returns the time
/// of the first HTTP answer and the time all entities were stitched, both
/// since the server was spawned.
pub async fn wait_until_stitched(
    api: &Api,
    server: &mut impl RunningServer,
    expected: usize,
    spawned: Instant,
    timeout: Duration,
) -> anyhow::Result<(Duration, Duration)> {
    let mut first_answer = None;
    let mut last_count = None;
    let mut last_error = None;
    let mut last_progress = Instant::now();
    while spawned.elapsed() < timeout {
        server.ensure_running()?;
        match api.count_entities(GENERATED_KINDS).await {
            Ok(count) => {
                let now = spawned.elapsed();
                first_answer.get_or_insert(now);
                if count >= expected as u64 {
                    eprintln!(
                        "all {expected} entities stitched after {:.1} s (count {count})",
                        now.as_secs_f64()
                    );
                    return Ok((first_answer.unwrap_or(now), now));
                }
                last_count = Some(count);
            }
            Err(e) => last_error = Some(e),
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            match (last_count, &last_error) {
                (Some(count), _) => eprintln!(
                    "  {:>6.1} s: {count}/{expected} stitched",
                    spawned.elapsed().as_secs_f64()
                ),
                (None, Some(e)) => eprintln!(
                    "  {:>6.1} s: waiting for the server ({e})",
                    spawned.elapsed().as_secs_f64()
                ),
                (None, None) => {}
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let status = match (last_count, last_error) {
        (Some(count), _) => format!("the last count was {count}"),
        (None, Some(e)) => format!("the server never answered the count query: {e:#}"),
        (None, None) => "no request completed".into(),
    };
    bail!(
        "not all {expected} entities were stitched within {} s; {status}",
        timeout.as_secs()
    )
}

async fn measure_latencies(
    opts: &Options,
    plan: &CatalogPlan,
    api: &Api,
    server: &mut ServerProcess,
) -> anyhow::Result<Vec<Row>> {
    let limit = PAGE.to_string();
    let expected_page = plan.components.min(PAGE);
    let mut rows = Vec::new();

    let list = api.url(
        "/api/catalog/entities",
        &[("filter", "kind=component"), ("limit", &limit)],
    )?;
    let (_, body) = api.timed_get_json(&list).await?;
    let got = body.as_array().map(Vec::len);
    if got != Some(expected_page) {
        bail!("GET {list} returned {got:?} entities, expected an array of {expected_page}");
    }
    let summary = sample(opts, server, || api.timed_get(&list)).await?;
    rows.push(latency_row(
        "GET /entities?filter=kind=component&limit=50",
        &summary,
    ));

    let query = api.url(
        "/api/catalog/entities/by-query",
        &[
            ("filter", "kind=component"),
            ("orderField", "metadata.name,asc"),
            ("limit", &limit),
        ],
    )?;
    let (_, first) = api.timed_get_json(&query).await?;
    check_page(&query, &first, expected_page)?;
    let summary = sample(opts, server, || api.timed_get(&query)).await?;
    rows.push(latency_row(
        "GET /entities/by-query filter+orderField, limit 50",
        &summary,
    ));

    if plan.components > PAGE {
        let cursor = first["pageInfo"]["nextCursor"].as_str().with_context(|| {
            format!(
                "GET {query} returned no pageInfo.nextCursor with {} components",
                plan.components
            )
        })?;
        let next = api.url(
            "/api/catalog/entities/by-query",
            &[("cursor", cursor), ("limit", &limit)],
        )?;
        let (_, page) = api.timed_get_json(&next).await?;
        check_page(&next, &page, plan.components.saturating_sub(PAGE).min(PAGE))?;
        let first_names = names(&first);
        if names(&page).iter().any(|n| first_names.contains(n)) {
            bail!("the nextCursor page of {query} repeats entities of the first page");
        }
        let summary = sample(opts, server, || api.timed_get(&next)).await?;
        rows.push(latency_row(
            "GET /entities/by-query?cursor=<nextCursor> (page 2)",
            &summary,
        ));
    }

    let mut rng = StdRng::seed_from_u64(opts.seed);
    let by_name: Vec<url::Url> = (0..opts.samples + opts.warmup)
        .map(|_| {
            let name = plan.component_name(rng.gen_range(0..plan.components));
            api.url(
                &format!("/api/catalog/entities/by-name/component/default/{name}"),
                &[],
            )
        })
        .collect::<Result<_, _>>()?;
    let mut next_url = by_name.iter().cycle();
    let summary = sample(opts, server, || {
        api.timed_get(next_url.next().expect("cycle never ends"))
    })
    .await?;
    rows.push(latency_row(
        "GET /entities/by-name/component/default/<random>",
        &summary,
    ));

    let facets = api.url("/api/catalog/entity-facets", &[("facet", "spec.type")])?;
    let (_, body) = api.timed_get_json(&facets).await?;
    if body["facets"]["spec.type"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        bail!("GET {facets} returned no spec.type facet values: {body}");
    }
    let summary = sample(opts, server, || api.timed_get(&facets)).await?;
    rows.push(latency_row("GET /entity-facets?facet=spec.type", &summary));
    Ok(rows)
}

/// `opts.warmup` untimed calls, then `opts.samples` sequential timed calls.
async fn sample<F, Fut>(
    opts: &Options,
    server: &mut ServerProcess,
    mut call: F,
) -> anyhow::Result<LatencySummary>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(Duration, Vec<u8>)>>,
{
    for _ in 0..opts.warmup {
        call().await?;
    }
    let mut samples = Vec::with_capacity(opts.samples);
    for _ in 0..opts.samples {
        samples.push(call().await?.0);
    }
    server.ensure_running()?;
    LatencySummary::from_samples(&samples).context("no samples were taken")
}

fn check_page(url: &url::Url, page: &Value, expected: usize) -> anyhow::Result<()> {
    let items = page["items"].as_array().map(Vec::len);
    if items != Some(expected) {
        bail!("GET {url} returned {items:?} items, expected {expected}");
    }
    Ok(())
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(server_bin: PathBuf) -> Options {
        Options {
            entities: 100,
            db: DbKind::Sqlite,
            pg_url: String::new(),
            server_bin,
            samples: 10,
            warmup: 2,
            keep: false,
            per_file: 10,
            stitch_timeout: Duration::from_secs(5),
            seed: 1,
        }
    }

    #[test]
    fn a_missing_server_binary_explains_how_to_build_it() {
        let err = options(PathBuf::from("no/such/greenroom"))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("cargo build --release -p greenroom"), "{err}");
    }

    #[test]
    fn zero_counts_are_refused() {
        let exe = std::env::current_exe().unwrap();
        assert!(options(exe.clone()).validate().is_ok());
        let err = Options {
            samples: 0,
            ..options(exe.clone())
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--samples"));
        let err = Options {
            per_file: 0,
            ..options(exe.clone())
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--per-file"));
        let err = Options {
            stitch_timeout: Duration::ZERO,
            ..options(exe)
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--stitch-timeout"));
    }

    #[tokio::test]
    async fn a_server_that_dies_at_start_fails_the_run_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("greenroom");
        std::fs::write(
            &script,
            "#!/bin/sh\necho 'error: unknown key catalog.nope' >&2\nexit 2\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = run(&options(script)).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("exited early"), "{text}");
        assert!(text.contains("unknown key catalog.nope"), "{text}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("greenroom");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 600\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let opts = Options {
            stitch_timeout: Duration::from_secs(2),
            ..options(script)
        };
        let err = run(&opts).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("not all 100 entities were stitched within 2 s"),
            "{text}"
        );
        assert!(text.contains("never answered"), "{text}");
    }
}
