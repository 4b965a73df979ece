//! `search-bench` itself: generate the catalog, start the server on a
//! SQLite file, wait until every entity is stitched and the search index has
//! caught up, sample query latencies; then stop the server, delete
//! `search-index/`, start it again and time the rebuild, and sample again.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

use crate::appconfig::BenchDatabase;
use crate::cli::check_counts;
use crate::generate::CatalogPlan;
use crate::harness::{start_server, with_catalog, CatalogSetup};
use crate::probe::Api;
use crate::run::{DbKind, GENERATED_KINDS};
use crate::searchqueries::{
    check_answer, check_next_page, number_of_results, query_set, Expect, QueryClass,
};
use crate::server::{check_server_bin, ServerProcess};
use crate::stats::{read_cpu_secs, read_status_kb, read_write_bytes, LatencySummary};

/// Where the server keeps the index of a SQLite file database: beside it.
pub const INDEX_DIR: &str = "search-index";
/// The server log of the first start, renamed before the restart.
pub const FIRST_LOG: &str = "server-first.log";
/// The message the server logs after each catch-up of its index.
pub const CATCH_UP_MESSAGE: &str = "search index updated";
/// The log filter the server gets unless `RUST_LOG` is set: warnings, plus
/// the search follower's one line per catch-up.
const SERVER_LOG_FILTER: &str = "warn,greenroom::search=info";
const STITCH_POLL: Duration = Duration::from_millis(250);
const REBUILD_POLL: Duration = Duration::from_millis(100);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub entities: usize,
    pub server_bin: PathBuf,
    /// Timed requests per query class.
    pub samples: usize,
    /// Untimed requests per query class before them.
    pub warmup: usize,
    /// Distinct queries per class.
    pub queries: usize,
    pub keep: bool,
    pub per_file: usize,
    pub stitch_timeout: Duration,
    /// Longest wait for the index to catch up: after stitching on the first
    /// start, after the process start on the rebuild.
    pub index_timeout: Duration,
    pub seed: u64,
}

impl SearchOptions {
    pub fn validate(&self) -> anyhow::Result<()> {
        check_counts(&[
            ("--samples", self.samples),
            ("--per-file", self.per_file),
            ("--queries", self.queries),
        ])?;
        if self.stitch_timeout.is_zero() || self.index_timeout.is_zero() {
            bail!("--stitch-timeout and --index-timeout must be at least 1 second");
        }
        check_server_bin(&self.server_bin)
    }
}

/// `search-index/`: bytes of every file under it, and what its `meta.json`
/// says about segments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexFiles {
    pub bytes: u64,
    pub files: usize,
    pub segments: Option<usize>,
    /// Documents still in segments but deleted (replaced or removed).
    pub deleted_docs: Option<u64>,
}

/// The server's own account of its catch-ups, from its log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatchUps {
    pub passes: usize,
    pub indexed: u64,
    pub removed: u64,
    pub total: Duration,
    pub longest: Duration,
}

/// Latencies of one query class (or of all of them).
#[derive(Debug, Clone)]
pub struct ClassLatency {
    /// None: every class together.
    pub class: Option<QueryClass>,
    pub distinct: usize,
    pub summary: LatencySummary,
    /// Median `numberOfResults` of the class's distinct queries.
    pub median_results: u64,
    pub example: String,
}

/// One server start, from spawn until its query samples are taken.
#[derive(Debug, Clone, Default)]
pub struct ServerPhase {
    /// First answer of the search route, any status.
    pub first_answer: Option<(Duration, u16)>,
    /// First 200 of the search route and its `numberOfResults`.
    pub first_ok: Option<(Duration, u64)>,
    /// All generated entities stitched (first start only).
    pub stitched: Option<Duration>,
    pub cpu_at_stitched: Option<f64>,
    /// The search answers 200 with every catalog entity.
    pub complete: Duration,
    pub documents: u64,
    pub cpu_at_complete: Option<f64>,
    pub written_at_complete: Option<u64>,
    pub rss_at_complete_kb: Option<u64>,
    pub index_at_complete: IndexFiles,
    pub latencies: Vec<ClassLatency>,
    /// Server CPU time (user + system) per timed query, on average.
    pub cpu_per_query: Option<Duration>,
    pub index_at_end: IndexFiles,
    pub hwm_kb: Option<u64>,
    pub catch_ups: Option<CatchUps>,
}

#[derive(Debug)]
pub struct SearchMeasured {
    pub plan: CatalogPlan,
    pub first: ServerPhase,
    pub rebuild: ServerPhase,
}

/// When the index counts as caught up.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Once every generated entity is stitched: as many results as the
    /// catalog's `totalItems` of every kind.
    Stitched { entities: usize },
    /// This many results.
    Documents(u64),
}

pub async fn run_search(opts: &SearchOptions) -> anyhow::Result<SearchMeasured> {
    opts.validate()?;
    let setup = CatalogSetup {
        entities: opts.entities,
        seed: opts.seed,
        per_file: opts.per_file,
        db: DbKind::Sqlite,
        pg_url: "",
        keep: opts.keep,
        dir_prefix: "greenroom-search-bench-",
        kept_files: &[
            "catalog",
            "app-config.yaml",
            "catalog.sqlite",
            INDEX_DIR,
            FIRST_LOG,
            "server.log",
        ],
    };
    let done = with_catalog(&setup, async |plan, dir, location_file, database| {
        let first = run_server(
            opts,
            plan,
            dir,
            location_file,
            database,
            Target::Stitched {
                entities: plan.total(),
            },
        )
        .await?;
        std::fs::rename(dir.join("server.log"), dir.join(FIRST_LOG))
            .context("cannot rename server.log")?;
        let index = dir.join(INDEX_DIR);
        if !index.is_dir() {
            bail!(
                "the server kept no search index in {} (beside the SQLite file)",
                index.display()
            );
        }
        std::fs::remove_dir_all(&index)
            .with_context(|| format!("cannot remove {}", index.display()))?;
        eprintln!("stopped the server and removed {INDEX_DIR}/; starting it again to rebuild");
        let rebuild = run_server(
            opts,
            plan,
            dir,
            location_file,
            database,
            Target::Documents(first.documents),
        )
        .await?;
        Ok((first, rebuild))
    })
    .await?;
    let (first, rebuild) = done.measured;
    Ok(SearchMeasured {
        plan: done.plan,
        first,
        rebuild,
    })
}

/// Starts the server, measures one phase and stops it; then reads its log.
async fn run_server(
    opts: &SearchOptions,
    plan: &CatalogPlan,
    dir: &Path,
    location_file: &Path,
    database: &BenchDatabase,
    target: Target,
) -> anyhow::Result<ServerPhase> {
    let mut env: Vec<(&str, &OsStr)> = vec![("GREENROOM_LOG_FORMAT", OsStr::new("json"))];
    if std::env::var_os("RUST_LOG").is_none() {
        env.push(("RUST_LOG", OsStr::new(SERVER_LOG_FILTER)));
    }
    let started = start_server(&opts.server_bin, dir, location_file, database, &env)?;
    let mut server = started.process;
    eprintln!(
        "started {} (pid {}) on 127.0.0.1:{}",
        opts.server_bin.display(),
        server.pid,
        started.port
    );
    let outcome = measure_phase(
        opts,
        plan,
        dir,
        started.port,
        &mut server,
        started.spawned,
        target,
    )
    .await;
    let log_file = server.log_file.clone();
    let mut phase = server.stop_after(outcome).await?;
    phase.catch_ups = std::fs::read_to_string(&log_file)
        .ok()
        .and_then(|log| parse_catch_ups(&log));
    Ok(phase)
}

async fn measure_phase(
    opts: &SearchOptions,
    plan: &CatalogPlan,
    dir: &Path,
    port: u16,
    server: &mut ServerProcess,
    spawned: Instant,
    target: Target,
) -> anyhow::Result<ServerPhase> {
    let api = Api::new(port, Duration::from_secs(30))?;
    let mut phase = wait_for_index(opts, &api, server, spawned, target).await?;
    let index = dir.join(INDEX_DIR);
    phase.cpu_at_complete = read_cpu_secs(server.pid);
    phase.written_at_complete = read_write_bytes(server.pid);
    phase.rss_at_complete_kb = read_status_kb(server.pid, "VmRSS");
    phase.index_at_complete = index_files(&index)?;
    let catalog = api.count_entities(&[]).await?;
    if catalog != phase.documents {
        bail!(
            "the search has {} documents but the catalog now serves {catalog} entities",
            phase.documents
        );
    }
    let api = Api::new(port, Duration::from_secs(10))?;
    (phase.latencies, phase.cpu_per_query) = measure_queries(opts, plan, &api, server).await?;
    phase.index_at_end = index_files(&index)?;
    server.ensure_running()?;
    phase.hwm_kb = read_status_kb(server.pid, "VmHWM");
    Ok(phase)
}

/// Polls `GET /api/search/query?term=&pageLimit=1` (and, on the first
/// start, the stitched count as `catalog-bench` does) until the search
/// answers 200 with as many results as the target.
async fn wait_for_index(
    opts: &SearchOptions,
    api: &Api,
    server: &mut ServerProcess,
    spawned: Instant,
    target: Target,
) -> anyhow::Result<ServerPhase> {
    let probe = api.url("/api/search/query", &[("term", ""), ("pageLimit", "1")])?;
    let poll = match target {
        Target::Stitched { .. } => STITCH_POLL,
        Target::Documents(_) => REBUILD_POLL,
    };
    let mut phase = ServerPhase::default();
    let mut stitched_count = None;
    let mut catalog_total = None;
    let mut last_progress = Instant::now();
    loop {
        server.ensure_running()?;
        let expected = match target {
            Target::Documents(n) => Some(n),
            Target::Stitched { entities } => {
                if phase.stitched.is_none() {
                    if let Ok(count) = api.count_entities(GENERATED_KINDS).await {
                        stitched_count = Some(count);
                        if count >= entities as u64 {
                            let now = spawned.elapsed();
                            phase.stitched = Some(now);
                            phase.cpu_at_stitched = read_cpu_secs(server.pid);
                            eprintln!(
                                "all {entities} entities stitched after {:.1} s",
                                now.as_secs_f64()
                            );
                        }
                    }
                }
                if phase.stitched.is_some() {
                    catalog_total = Some(api.count_entities(&[]).await?);
                }
                catalog_total
            }
        };
        let search = match api.get_any(&probe).await {
            Ok((status, body)) => {
                let now = spawned.elapsed();
                phase.first_answer.get_or_insert((now, status.as_u16()));
                if status == reqwest::StatusCode::OK {
                    let json: Value = serde_json::from_slice(&body)
                        .with_context(|| format!("GET {probe} did not return JSON"))?;
                    let found =
                        number_of_results(&json).map_err(|e| anyhow!("GET {probe}: {e}"))?;
                    if phase.first_ok.is_none() {
                        eprintln!(
                            "search answers 200 after {:.1} s with {found} results",
                            now.as_secs_f64()
                        );
                    }
                    phase.first_ok.get_or_insert((now, found));
                    if expected == Some(found) {
                        phase.complete = now;
                        phase.documents = found;
                        eprintln!(
                            "search index caught up after {:.1} s: {found} documents",
                            now.as_secs_f64()
                        );
                        return Ok(phase);
                    }
                    format!("200 with {found} results")
                } else {
                    status.to_string()
                }
            }
            Err(e) => format!("{e:#}"),
        };
        let elapsed = spawned.elapsed();
        let status = || {
            format!(
                "stitched {}, catalog total {}, search {}",
                stitched_count.map_or("?".into(), |c| c.to_string()),
                catalog_total.map_or("?".into(), |c: u64| c.to_string()),
                search
            )
        };
        if phase.stitched.is_none() && matches!(target, Target::Stitched { .. }) {
            if elapsed > opts.stitch_timeout {
                bail!(
                    "not every entity was stitched within {} s ({})",
                    opts.stitch_timeout.as_secs(),
                    status()
                );
            }
        } else if elapsed.saturating_sub(phase.stitched.unwrap_or_default()) > opts.index_timeout {
            bail!(
                "the search index did not catch up within {} s (expected {} results; {})",
                opts.index_timeout.as_secs(),
                expected.map_or("?".into(), |n| n.to_string()),
                status()
            );
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            eprintln!("  {:>6.1} s: {}", elapsed.as_secs_f64(), status());
        }
        tokio::time::sleep(poll).await;
    }
}

/// Checks every query of the set once, then samples them interleaved (one
/// of each class in turn), sequentially.
async fn measure_queries(
    opts: &SearchOptions,
    plan: &CatalogPlan,
    api: &Api,
    server: &mut ServerProcess,
) -> anyhow::Result<(Vec<ClassLatency>, Option<Duration>)> {
    let cases = query_set(plan, opts.seed, opts.queries);
    let mut urls: BTreeMap<QueryClass, Vec<(url::Url, u64, String)>> = BTreeMap::new();
    for case in &cases {
        let pairs = case.query_pairs();
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = api.url("/api/search/query", &borrowed)?;
        let (_, body) = api.timed_get_json(&url).await?;
        let wrong = |e: String| {
            anyhow!(
                "wrong answer to the {} query {}: {e}",
                case.class.label(),
                case.describe()
            )
        };
        check_answer(case, &body).map_err(wrong)?;
        let results = number_of_results(&body).map_err(wrong)?;
        let sampled = if case.expect == Expect::NextPage {
            let cursor = body["nextPageCursor"].as_str().unwrap_or_default();
            let mut next = borrowed.clone();
            next.push(("pageCursor", cursor));
            let next = api.url("/api/search/query", &next)?;
            let (_, page2) = api.timed_get_json(&next).await?;
            check_next_page(&body, &page2).map_err(wrong)?;
            next
        } else {
            url
        };
        urls.entry(case.class)
            .or_default()
            .push((sampled, results, case.describe()));
    }
    eprintln!(
        "checked {} queries; sampling {} + {} warm-up per class, interleaved",
        cases.len(),
        opts.samples,
        opts.warmup
    );
    let mut samples: BTreeMap<QueryClass, Vec<Duration>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut cpu_before = None;
    for round in 0..opts.warmup + opts.samples {
        if round == opts.warmup {
            cpu_before = read_cpu_secs(server.pid);
        }
        for (class, list) in &urls {
            let (url, _, _) = &list[round % list.len()];
            let (elapsed, _) = api.timed_get(url).await?;
            if round >= opts.warmup {
                samples.entry(*class).or_default().push(elapsed);
                all.push(elapsed);
            }
        }
    }
    let cpu_per_query = cpu_before
        .zip(read_cpu_secs(server.pid))
        .map(|(before, after)| {
            Duration::from_secs_f64((after - before).max(0.0) / all.len() as f64)
        });
    server.ensure_running()?;
    let mut out = Vec::new();
    for (class, list) in &urls {
        let summary = LatencySummary::from_samples(&samples[class]).context("no samples")?;
        out.push(ClassLatency {
            class: Some(*class),
            distinct: list.len(),
            summary,
            median_results: median(list.iter().map(|(_, n, _)| *n).collect()),
            example: list[0].2.clone(),
        });
    }
    out.push(ClassLatency {
        class: None,
        distinct: cases.len(),
        summary: LatencySummary::from_samples(&all).context("no samples")?,
        median_results: median(urls.values().flatten().map(|(_, n, _)| *n).collect()),
        example: String::new(),
    });
    Ok((out, cpu_per_query))
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// Sizes every file under `dir` and reads its `meta.json`.
pub fn index_files(dir: &Path) -> anyhow::Result<IndexFiles> {
    let mut out = IndexFiles::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .with_context(|| format!("cannot read {}", current.display()))?;
        for entry in entries {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                out.bytes += meta.len();
                out.files += 1;
            }
        }
    }
    if let Some(meta) = std::fs::read_to_string(dir.join("meta.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
    {
        let (segments, deleted) = segment_counts(&meta);
        out.segments = segments;
        out.deleted_docs = deleted;
    }
    Ok(out)
}

/// Segments and deleted documents in a Tantivy `meta.json`.
pub fn segment_counts(meta: &Value) -> (Option<usize>, Option<u64>) {
    let Some(segments) = meta["segments"].as_array() else {
        return (None, None);
    };
    let deleted = segments
        .iter()
        .map(|s| s["deletes"]["num_deleted_docs"].as_u64().unwrap_or(0))
        .sum();
    (Some(segments.len()), Some(deleted))
}

/// Sums the server's `search index updated` lines (JSON log format); None
/// when there are none (another `RUST_LOG` or log format).
pub fn parse_catch_ups(log: &str) -> Option<CatchUps> {
    let mut out = CatchUps::default();
    for line in log.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if event["message"] != CATCH_UP_MESSAGE {
            continue;
        }
        let field = |name: &str| {
            event[name]
                .as_u64()
                .or_else(|| event["fields"][name].as_u64())
                .unwrap_or(0)
        };
        let elapsed = Duration::from_millis(field("elapsed_ms"));
        out.passes += 1;
        out.indexed += field("indexed");
        out.removed += field("removed");
        out.total += elapsed;
        out.longest = out.longest.max(elapsed);
    }
    (out.passes > 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(server_bin: PathBuf) -> SearchOptions {
        SearchOptions {
            entities: 100,
            server_bin,
            samples: 10,
            warmup: 1,
            queries: 2,
            keep: false,
            per_file: 10,
            stitch_timeout: Duration::from_secs(5),
            index_timeout: Duration::from_secs(5),
            seed: 1,
        }
    }

    #[test]
    fn counts_and_timeouts_are_validated() {
        let exe = std::env::current_exe().unwrap();
        assert!(options(exe.clone()).validate().is_ok());
        let err = SearchOptions {
            queries: 0,
            ..options(exe.clone())
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--queries"));
        let err = SearchOptions {
            index_timeout: Duration::ZERO,
            ..options(exe)
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--index-timeout"));
        let err = options(PathBuf::from("no/such/greenroom"))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("cargo build --release"));
    }

    #[test]
    fn catch_up_lines_are_summed() {
        let log = [
            r#"{"timestamp":"t","level":"INFO","message":"search index updated","indexed":2000,"removed":0,"elapsed_ms":120,"target":"greenroom::search"}"#,
            "not json",
            r#"{"timestamp":"t","level":"WARN","message":"something else","elapsed_ms":9999}"#,
            r#"{"timestamp":"t","level":"INFO","message":"search index updated","indexed":500,"removed":2,"elapsed_ms":80,"target":"greenroom::search"}"#,
        ]
        .join("\n");
        assert_eq!(
            parse_catch_ups(&log),
            Some(CatchUps {
                passes: 2,
                indexed: 2500,
                removed: 2,
                total: Duration::from_millis(200),
                longest: Duration::from_millis(120),
            })
        );
        assert_eq!(parse_catch_ups("plain text log\n"), None);
    }

    #[test]
    fn index_files_are_sized_and_segments_counted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.idx"), vec![0u8; 100]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub").join("b"), vec![0u8; 20]).unwrap();
        let meta = json!({"segments": [
            {"segment_id": "a", "max_doc": 10, "deletes": null},
            {"segment_id": "b", "max_doc": 10, "deletes": {"num_deleted_docs": 3, "opstamp": 5}},
        ], "opstamp": 6});
        let text = meta.to_string();
        std::fs::write(dir.path().join("meta.json"), &text).unwrap();
        let files = index_files(dir.path()).unwrap();
        assert_eq!(files.bytes, 120 + text.len() as u64);
        assert_eq!(files.files, 3);
        assert_eq!((files.segments, files.deleted_docs), (Some(2), Some(3)));
        assert!(index_files(&dir.path().join("missing")).is_err());
        assert_eq!(segment_counts(&json!({})), (None, None));
    }

    #[test]
    fn medians_of_result_counts() {
        assert_eq!(median(vec![5, 1, 3]), 3);
        assert_eq!(median(vec![]), 0);
    }

    #[tokio::test]
    async fn a_server_that_dies_at_start_fails_the_run_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("greenroom");
        std::fs::write(
            &script,
            "#!/bin/sh\necho 'error: bad search config' >&2\nexit 2\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = run_search(&options(script)).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("exited early"), "{text}");
        assert!(text.contains("bad search config"), "{text}");
    }
}
