//! The `ui-bench` run: a generated catalog behind the real server, which
//! also serves the built web UI; headless Chromium loads `/catalog` with a
//! fresh profile per sample (cold), then reloads it (warm), and reports what
//! it downloaded and when the table first showed rows.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use greenroom_webdriver::fantoccini;
use greenroom_webdriver::ChromeDriver;

use crate::appconfig::BenchDatabase;
use crate::cli::check_counts;
use crate::generate::{describe, CatalogPlan};
use crate::harness::{start_server, with_catalog, CatalogSetup, StartedServer};
use crate::perf::{
    self, cross_check_row, kb, p50_max, resource_table, PageLoad, Refetch, ResourceKind,
    COLLECT_SCRIPT, CROSS_CHECK_HEADERS, ENTITIES_QUERY_PATH, FACETS_PATH, FIRST_ROWS_MARK,
};
use crate::probe::Api;
use crate::report::{fmt_ms, info_row, markdown, table, Row};
use crate::run::{database_label, wait_until_stitched, DbKind};
use crate::server::{check_server_bin, ServerProcess};

/// Chromium's window, the same for every sample.
const WINDOW: (u32, u32) = (1280, 800);
/// How often the page is asked whether the first-rows mark is there. The
/// mark carries its own timestamp, so this only bounds the waiting.
const POLL_EVERY: Duration = Duration::from_millis(50);
/// After the mark, how long to wait for the rest of the first view (the
/// kind facets) to finish downloading.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Resource entries unchanged for this long count as settled.
const SETTLED_FOR: Duration = Duration::from_millis(300);

#[derive(Debug, Clone)]
pub struct UiOptions {
    pub entities: usize,
    pub db: DbKind,
    pub pg_url: String,
    pub server_bin: PathBuf,
    /// The built web UI (`index.html`, JS, WASM, CSS and their `.gz`).
    pub dist: PathBuf,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    /// Cold page loads, each in a fresh browser profile.
    pub samples: usize,
    /// Reload once after each cold load and measure that too.
    pub warm: bool,
    pub per_file: usize,
    pub stitch_timeout: Duration,
    /// Limit for one page load until its first rows.
    pub page_timeout: Duration,
    pub seed: u64,
    pub keep: bool,
}

impl UiOptions {
    pub fn validate(&self) -> anyhow::Result<()> {
        check_counts(&[("--samples", self.samples), ("--per-file", self.per_file)])?;
        if self.stitch_timeout.is_zero() || self.page_timeout.is_zero() {
            bail!("--stitch-timeout and --page-timeout must be at least 1 second");
        }
        check_server_bin(&self.server_bin)?;
        check_dist(&self.dist)?;
        for (what, path, flag) in [
            ("Chromium", &self.chromium, "--chromium"),
            ("chromedriver", &self.chromedriver, "--chromedriver"),
        ] {
            if !path.is_file() {
                bail!(
                    "{what} not found at {}; install Chromium and its driver \
                     (Debian: `apt-get install chromium chromium-driver`) or pass {flag}",
                    path.display()
                );
            }
        }
        Ok(())
    }
}

/// The built UI must exist and set the first-rows mark (an older build
/// would make every sample wait for a mark that never comes).
pub fn check_dist(dist: &Path) -> anyhow::Result<()> {
    let index = dist.join("index.html");
    if !index.is_file() {
        bail!(
            "the web UI is not built: {} does not exist; run `scripts/build-frontend --release` \
             (or pass --dist / set GREENROOM_DIST_DIR)",
            index.display()
        );
    }
    let mut wasm_files = 0;
    for entry in
        std::fs::read_dir(dist).with_context(|| format!("cannot read {}", dist.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            wasm_files += 1;
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            if contains(&bytes, FIRST_ROWS_MARK.as_bytes()) {
                return Ok(());
            }
        }
    }
    if wasm_files == 0 {
        bail!(
            "{} has no .wasm file; run `scripts/build-frontend --release`",
            dist.display()
        );
    }
    bail!(
        "the web UI in {} does not set the performance mark `{FIRST_ROWS_MARK}` \
         (built before the mark was added?); rebuild it with `scripts/build-frontend --release`",
        dist.display()
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// One cold load and, when asked for, the reload after it.
struct Sample {
    cold: PageLoad,
    warm: Option<PageLoad>,
}

struct Measured {
    stitched: Duration,
    browser: String,
    samples: Vec<Sample>,
    refetched: Vec<Refetch>,
}

/// Runs the benchmark and returns its markdown report. The server,
/// chromedriver, browsers, temporary directory and database are gone
/// afterwards on every path (unless `keep`).
pub async fn run_ui(opts: &UiOptions) -> anyhow::Result<String> {
    opts.validate()?;
    let setup = CatalogSetup {
        entities: opts.entities,
        seed: opts.seed,
        per_file: opts.per_file,
        db: opts.db,
        pg_url: &opts.pg_url,
        keep: opts.keep,
        dir_prefix: "greenroom-ui-bench-",
        kept_files: &[
            "catalog",
            "app-config.yaml",
            "server.log",
            "chromedriver.log",
        ],
    };
    let done = with_catalog(&setup, async |plan, dir, location_file, database| {
        measure(opts, plan, dir, location_file, database).await
    })
    .await?;
    Ok(render(opts, &done.plan, &done.database, &done.measured))
}

async fn measure(
    opts: &UiOptions,
    plan: &CatalogPlan,
    dir: &Path,
    location_file: &Path,
    database: &BenchDatabase,
) -> anyhow::Result<Measured> {
    let StartedServer {
        process: mut server,
        port,
        spawned,
    } = start_server(
        &opts.server_bin,
        dir,
        location_file,
        database,
        &[("GREENROOM_DIST_DIR", opts.dist.as_os_str())],
    )?;
    eprintln!(
        "started {} (pid {}) on 127.0.0.1:{port}, web UI from {}",
        opts.server_bin.display(),
        server.pid,
        opts.dist.display()
    );
    let outcome = measure_running(opts, plan, dir, port, &mut server, spawned).await;
    server.stop_after(outcome).await
}

async fn measure_running(
    opts: &UiOptions,
    plan: &CatalogPlan,
    dir: &Path,
    port: u16,
    server: &mut ServerProcess,
    spawned: Instant,
) -> anyhow::Result<Measured> {
    let api = Api::new(port, Duration::from_secs(30))?;
    let (_, stitched) =
        wait_until_stitched(&api, server, plan.total(), spawned, opts.stitch_timeout).await?;

    let driver = ChromeDriver::start(&opts.chromedriver, &dir.join("chromedriver.log")).await?;
    eprintln!(
        "started {} (pid {}) on 127.0.0.1:{}",
        opts.chromedriver.display(),
        driver.pid,
        driver.port
    );
    let outcome = browse(opts, dir, port, server, &driver).await;
    driver.stop().await;
    let (browser, samples) = outcome?;

    let first = &samples[0].cold;
    eprintln!(
        "refetching the {} URLs of the first page with Accept-Encoding: gzip",
        first.entries().count()
    );
    let refetched = refetch_all(first).await?;
    server.ensure_running()?;
    Ok(Measured {
        stitched,
        browser,
        samples,
        refetched,
    })
}

/// The cold (and warm) samples, one browser session each.
async fn browse(
    opts: &UiOptions,
    dir: &Path,
    port: u16,
    server: &mut ServerProcess,
    driver: &ChromeDriver,
) -> anyhow::Result<(String, Vec<Sample>)> {
    let url = format!("http://127.0.0.1:{port}/catalog");
    let mut browser = String::from("Chromium");
    let mut samples = Vec::with_capacity(opts.samples);
    for i in 1..=opts.samples {
        let profile = dir.join(format!("chromium-profile-{i}"));
        std::fs::create_dir_all(&profile)
            .with_context(|| format!("cannot create {}", profile.display()))?;
        let client = driver
            .session_within(&opts.chromium, &profile, WINDOW, opts.page_timeout)
            .await?;
        if let Some(version) = client
            .capabilities()
            .and_then(|c| c.get("browserVersion"))
            .and_then(|v| v.as_str())
        {
            browser = format!("Chromium {version} (headless)");
        }
        let outcome = one_sample(opts, &client, &url).await;
        // Closing quits this Chromium; a hung one goes with chromedriver's group.
        let _ = tokio::time::timeout(Duration::from_secs(20), client.close()).await;
        let _ = std::fs::remove_dir_all(&profile);
        let sample = outcome.with_context(|| format!("sample {i} of {url}"))?;
        server.ensure_running()?;
        eprintln!(
            "  sample {i}/{}: cold first rows {}{}",
            opts.samples,
            sample
                .cold
                .first_rows_time()
                .map(fmt_ms)
                .unwrap_or_default(),
            match sample.warm.as_ref().and_then(PageLoad::first_rows_time) {
                Some(t) => format!(", warm {}", fmt_ms(t)),
                None => String::new(),
            }
        );
        samples.push(sample);
    }
    Ok((browser, samples))
}

async fn one_sample(
    opts: &UiOptions,
    client: &fantoccini::Client,
    url: &str,
) -> anyhow::Result<Sample> {
    tokio::time::timeout(opts.page_timeout, client.goto(url))
        .await
        .with_context(|| {
            format!(
                "loading {url} took longer than {} s",
                opts.page_timeout.as_secs()
            )
        })?
        .with_context(|| format!("cannot load {url}"))?;
    let cold = wait_for_first_rows(client, opts.page_timeout)
        .await
        .context("cold load")?;
    let warm = if opts.warm {
        tokio::time::timeout(opts.page_timeout, client.refresh())
            .await
            .with_context(|| {
                format!(
                    "reloading {url} took longer than {} s",
                    opts.page_timeout.as_secs()
                )
            })?
            .with_context(|| format!("cannot reload {url}"))?;
        Some(
            wait_for_first_rows(client, opts.page_timeout)
                .await
                .context("warm reload")?,
        )
    } else {
        None
    };
    Ok(Sample { cold, warm })
}

async fn collect(client: &fantoccini::Client) -> anyhow::Result<PageLoad> {
    let value = client
        .execute(COLLECT_SCRIPT, vec![serde_json::json!(FIRST_ROWS_MARK)])
        .await
        .context("cannot read the performance entries from the page")?;
    serde_json::from_value(value).context("unexpected performance entries from the page")
}

/// Polls until the first-rows mark is set, then until the first view's API
/// requests have completed and no new resource entries arrive; returns the
/// page's entries at that point.
async fn wait_for_first_rows(
    client: &fantoccini::Client,
    timeout: Duration,
) -> anyhow::Result<PageLoad> {
    let started = Instant::now();
    let mut load = collect(client).await?;
    while load.first_rows.is_none() {
        if started.elapsed() >= timeout {
            bail!(
                "the catalog table did not show rows within {} s: no performance mark `{FIRST_ROWS_MARK}` \
                 ({} table rows in the page; its text starts: {:?}). If rows are shown, the built UI \
                 predates the mark: rebuild it with `scripts/build-frontend --release`",
                timeout.as_secs(),
                load.rows,
                load.text.chars().take(200).collect::<String>()
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
        load = collect(client).await?;
    }
    if load.rows == 0 {
        eprintln!("warning: the first-rows mark is set but the page shows no table rows");
    }
    let settle_started = Instant::now();
    let mut stable_since = Instant::now();
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let next = collect(client).await?;
        if next.resources.len() != load.resources.len() {
            stable_since = Instant::now();
        }
        load = next;
        if load.api_requests_done() && stable_since.elapsed() >= SETTLED_FOR {
            return Ok(load);
        }
        if settle_started.elapsed() >= SETTLE_TIMEOUT {
            eprintln!(
                "warning: the page's requests had not settled {} s after the first rows \
                 (requests to {ENTITIES_QUERY_PATH} and {FACETS_PATH} done: {}); using what was loaded",
                SETTLE_TIMEOUT.as_secs(),
                load.api_requests_done()
            );
            return Ok(load);
        }
    }
}

/// Fetches every URL of `load` again with `Accept-Encoding: gzip`: the body
/// as received and its size after gunzip.
async fn refetch_all(load: &PageLoad) -> anyhow::Result<Vec<Refetch>> {
    // This reqwest build has no decompression: the body arrives as sent.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut out = Vec::new();
    for entry in load.entries() {
        let url = url::Url::parse(&entry.name)
            .with_context(|| format!("resource name {} is not a URL", entry.name))?;
        if !matches!(url.host_str(), Some("127.0.0.1")) {
            bail!("the page loaded {url}, which is not on 127.0.0.1");
        }
        let response = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT_ENCODING, "gzip")
            .header(reqwest::header::ACCEPT, "*/*")
            .send()
            .await
            .with_context(|| format!("GET {url} failed"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("GET {url} returned {status}");
        }
        let encoding = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .with_context(|| format!("GET {url}: reading the body failed"))?;
        let decoded = match encoding.as_deref() {
            Some("gzip") => gunzipped_len(&body).with_context(|| format!("GET {url}: bad gzip"))?,
            _ => body.len() as u64,
        };
        out.push(Refetch {
            path: entry.path(),
            content_encoding: encoding,
            body_bytes: body.len() as u64,
            decoded_bytes: decoded,
        });
    }
    Ok(out)
}

/// The length of `gz` after gunzip.
pub fn gunzipped_len(gz: &[u8]) -> anyhow::Result<u64> {
    let mut decoder = flate2::read::GzDecoder::new(gz);
    let mut sink = Vec::new();
    decoder.read_to_end(&mut sink)?;
    Ok(sink.len() as u64)
}

fn durations(samples: &[&PageLoad], pick: impl Fn(&PageLoad) -> Option<Duration>) -> Vec<Duration> {
    samples.iter().filter_map(|l| pick(l)).collect()
}

fn p50_max_text(samples: &[Duration]) -> String {
    match p50_max(samples) {
        Some((p50, max)) => format!("{} / {}", fmt_ms(p50), fmt_ms(max)),
        None => "–".into(),
    }
}

fn requests(count: usize) -> String {
    match count {
        1 => "1 request".into(),
        n => format!("{n} requests"),
    }
}

fn opt_ms(d: Option<Duration>) -> String {
    d.map(fmt_ms).unwrap_or_else(|| "–".into())
}

fn render(
    opts: &UiOptions,
    plan: &CatalogPlan,
    database: &BenchDatabase,
    measured: &Measured,
) -> String {
    let first = &measured.samples[0].cold;
    let total = first.totals();
    let mut rows: Vec<Row> = vec![
        info_row("catalog", describe(plan)),
        info_row("database", database_label(database)),
        info_row("browser", measured.browser.clone()),
        info_row(
            "all entities stitched (from server start)",
            format!("{:.1} s", measured.stitched.as_secs_f64()),
        ),
        perf::size_row(&total),
        info_row(
            "first page: sum of encodedBodySize / decodedBodySize",
            format!("{} / {}", kb(total.encoded), kb(total.decoded)),
        ),
    ];
    for kind in [
        ResourceKind::Html,
        ResourceKind::Js,
        ResourceKind::Wasm,
        ResourceKind::Css,
        ResourceKind::Api,
        ResourceKind::Other,
    ] {
        let part = first.totals_of(kind);
        if part.count > 0 {
            rows.push(info_row(
                &format!(
                    "of which {} ({}): transfer / decoded",
                    kind.label(),
                    requests(part.count)
                ),
                format!("{} / {}", kb(part.transfer), kb(part.decoded)),
            ));
        }
    }
    let api_encodings: Vec<String> = first
        .entries()
        .zip(&measured.refetched)
        .filter(|(e, _)| e.kind() == ResourceKind::Api)
        .map(|(_, r)| {
            format!(
                "{}: {}",
                r.path.split('?').next().unwrap_or_default(),
                r.content_encoding.as_deref().unwrap_or("not compressed")
            )
        })
        .collect();
    if !api_encodings.is_empty() {
        rows.push(info_row(
            "API responses with Accept-Encoding: gzip",
            api_encodings.join("; "),
        ));
    }
    let mismatches: Vec<&str> = first
        .entries()
        .zip(&measured.refetched)
        .filter(|(e, r)| e.encoded() != r.body_bytes || e.decoded() != r.decoded_bytes)
        .map(|(_, r)| r.path.as_str())
        .collect();
    rows.push(info_row(
        "cross-check: refetched body bytes equal the browser's encoded/decoded sizes",
        if mismatches.is_empty() {
            format!("all {} URLs", measured.refetched.len())
        } else {
            format!(
                "{} of {} URLs differ: {}",
                mismatches.len(),
                measured.refetched.len(),
                mismatches.join(", ")
            )
        },
    ));

    if let Some(warm) = &measured.samples[0].warm {
        let total = warm.totals();
        rows.push(info_row(
            "warm reload (sample 1): sum of transferSize (revalidated, not re-downloaded)",
            format!("{} ({})", kb(total.transfer), requests(total.count)),
        ));
    }

    let cold: Vec<&PageLoad> = measured.samples.iter().map(|s| &s.cold).collect();
    let warm: Vec<&PageLoad> = measured
        .samples
        .iter()
        .filter_map(|s| s.warm.as_ref())
        .collect();
    rows.extend(perf::first_rows_rows(
        "cold (fresh profile)",
        &durations(&cold, PageLoad::first_rows_time),
    ));
    if !warm.is_empty() {
        rows.extend(perf::first_rows_rows(
            "warm (reload)",
            &durations(&warm, PageLoad::first_rows_time),
        ));
    }
    for (label, loads) in [("cold", &cold), ("warm", &warm)] {
        if loads.is_empty() {
            continue;
        }
        rows.push(info_row(
            &format!("{label}: first contentful paint p50 / max"),
            p50_max_text(&durations(loads, |l| {
                l.first_contentful_paint.map(perf::ms)
            })),
        ));
        for path in [ENTITIES_QUERY_PATH, FACETS_PATH] {
            rows.push(info_row(
                &format!("{label}: {path} as the browser saw it (duration) p50 / max"),
                p50_max_text(&durations(loads, |l| l.request_duration(path))),
            ));
        }
    }

    let mut out = format!(
        "## ui-bench: first page `/catalog` with {} entities\n\n{}",
        plan.total(),
        markdown(&rows)
    );

    out.push_str("\n### Resources of the first page (cold, sample 1)\n\n");
    out.push_str(&resource_table(first));

    out.push_str("\n### Cross-check: the same URLs fetched with `Accept-Encoding: gzip`\n\n");
    let cross: Vec<Vec<String>> = first
        .entries()
        .zip(&measured.refetched)
        .map(|(e, r)| cross_check_row(e, r))
        .collect();
    out.push_str(&table(CROSS_CHECK_HEADERS, &cross));

    out.push_str("\n### First-page API requests as the browser saw them\n\n");
    let mut api_rows = Vec::new();
    for (i, sample) in measured.samples.iter().enumerate() {
        let loads = std::iter::once(("cold", &sample.cold))
            .chain(sample.warm.as_ref().map(|w| ("warm", w)));
        for (label, load) in loads {
            for e in load.api_requests() {
                api_rows.push(vec![
                    format!("{} {label}", i + 1),
                    e.path(),
                    format!("{:.1}", e.start_time),
                    format!("{:.1}", e.duration),
                    format!("{:.1}", (e.response_start - e.request_start).max(0.0)),
                    e.transfer().to_string(),
                    e.decoded().to_string(),
                ]);
            }
        }
    }
    out.push_str(&table(
        &[
            "sample",
            "request",
            "start (ms)",
            "duration (ms)",
            "waiting for first byte (ms)",
            "transfer (bytes)",
            "decoded (bytes)",
        ],
        &api_rows,
    ));

    out.push_str("\n### Time to first rows per sample\n\n");
    let per_sample: Vec<Vec<String>> = measured
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let nav_end = s.cold.navigation.first().map(|n| perf::ms(n.response_end));
            let wasm_end = s
                .cold
                .resources
                .iter()
                .find(|e| e.kind() == ResourceKind::Wasm)
                .map(|e| perf::ms(e.response_end));
            vec![
                (i + 1).to_string(),
                opt_ms(nav_end),
                opt_ms(wasm_end),
                opt_ms(s.cold.first_contentful_paint.map(perf::ms)),
                opt_ms(s.cold.first_rows_time()),
                opt_ms(s.cold.request_duration(ENTITIES_QUERY_PATH)),
                opt_ms(s.cold.request_duration(FACETS_PATH)),
                opt_ms(s.warm.as_ref().and_then(PageLoad::first_rows_time)),
                opt_ms(
                    s.warm
                        .as_ref()
                        .and_then(|w| w.request_duration(ENTITIES_QUERY_PATH)),
                ),
                opt_ms(
                    s.warm
                        .as_ref()
                        .and_then(|w| w.request_duration(FACETS_PATH)),
                ),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "sample",
            "cold HTML received",
            "cold WASM received",
            "cold first paint",
            "cold first rows",
            "cold by-query",
            "cold entity-facets",
            "warm first rows",
            "warm by-query",
            "warm entity-facets",
        ],
        &per_sample,
    ));
    if !opts.warm {
        out.push_str("\n(warm reloads skipped: --no-warm)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn options(dir: &Path) -> UiOptions {
        let exe = std::env::current_exe().unwrap();
        UiOptions {
            entities: 100,
            db: DbKind::Sqlite,
            pg_url: String::new(),
            server_bin: exe.clone(),
            dist: dir.to_path_buf(),
            chromium: exe.clone(),
            chromedriver: exe,
            samples: 2,
            warm: true,
            per_file: 10,
            stitch_timeout: Duration::from_secs(5),
            page_timeout: Duration::from_secs(5),
            seed: 1,
            keep: false,
        }
    }

    #[test]
    fn a_missing_dist_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = options(dir.path()).validate().unwrap_err().to_string();
        assert!(err.contains("index.html does not exist"), "{err}");
        assert!(err.contains("scripts/build-frontend --release"), "{err}");
    }

    #[test]
    fn a_dist_without_the_mark_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        let err = check_dist(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no .wasm file"), "{err}");
        std::fs::write(dir.path().join("app_bg.wasm"), b"\0asm old build").unwrap();
        let err = check_dist(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FIRST_ROWS_MARK), "{err}");
        let mut with_mark = b"\0asm...".to_vec();
        with_mark.extend_from_slice(FIRST_ROWS_MARK.as_bytes());
        std::fs::write(dir.path().join("app_bg.wasm"), with_mark).unwrap();
        check_dist(dir.path()).unwrap();
        assert!(options(dir.path()).validate().is_ok());
    }

    #[test]
    fn zero_samples_and_missing_browsers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = UiOptions {
            samples: 0,
            ..options(dir.path())
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--samples"));
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        std::fs::write(dir.path().join("x.wasm"), FIRST_ROWS_MARK).unwrap();
        let err = UiOptions {
            chromedriver: dir.path().join("no-driver"),
            ..options(dir.path())
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(err.contains("chromedriver not found"), "{err}");
        assert!(
            err.contains("apt-get install chromium chromium-driver"),
            "{err}"
        );
    }

    #[test]
    fn gunzipped_len_counts_the_original_bytes() {
        let original = "catalog ".repeat(1000);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(original.as_bytes()).unwrap();
        let gz = encoder.finish().unwrap();
        assert!(gz.len() < original.len());
        assert_eq!(gunzipped_len(&gz).unwrap(), original.len() as u64);
        assert!(gunzipped_len(b"not gzip").is_err());
    }
}
