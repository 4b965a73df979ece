//! `greenroom docs build DIR --output OUT` and `greenroom docs serve DIR`: the
//! TechDocs builder for authors and CI, without the server, Python or mkdocs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Args;
use greenroom_techdocs::{build_site, BuildOptions, BuiltSite};

#[derive(Debug, Args)]
pub struct DocsBuildArgs {
    /// The folder holding mkdocs.yml (or a docs/ folder, for which one is generated).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where the site is written (created when missing; existing files are overwritten).
    #[arg(long, short, value_name = "OUT")]
    pub output: PathBuf,
    /// Treat warnings (links that resolve to nothing, nav entries without a page) as errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DocsServeArgs {
    /// The folder holding mkdocs.yml.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000", value_name = "ADDR")]
    pub addr: SocketAddr,
}

fn options(dir: &Path) -> BuildOptions {
    let fallback = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Documentation Site".into());
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    BuildOptions {
        fallback_site_name: fallback,
        build_timestamp_ms: now_ms,
        ..BuildOptions::default()
    }
}

pub fn build(args: DocsBuildArgs) -> ExitCode {
    let started = Instant::now();
    let site = match build_site(&args.dir, &options(&args.dir)) {
        Ok(site) => site,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    for warning in &site.warnings {
        eprintln!("warning: {warning}");
    }
    if args.strict && !site.warnings.is_empty() {
        eprintln!(
            "error: {} warning(s) in strict mode; nothing was written",
            site.warnings.len()
        );
        return ExitCode::FAILURE;
    }
    if let Err(err) = site.write_to(&args.output) {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    println!(
        "built {} pages in {} ms to {}",
        site.pages.len(),
        started.elapsed().as_millis(),
        args.output.display()
    );
    ExitCode::SUCCESS
}

/// The live preview: the site is rebuilt in memory when a file of the project
/// changes, and open pages reload themselves.
pub fn serve(args: DocsServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let preview = Arc::new(Preview {
            dir: args.dir.clone(),
            site: RwLock::new(Snapshot::default()),
        });
        preview.rebuild();
        tokio::spawn(watch(Arc::clone(&preview)));
        let app = Router::new()
            .route("/__greenroom/version", get(version))
            .route("/", get(|state| page(state, UrlPath(String::new()))))
            .route("/{*path}", get(page))
            .with_state(Arc::clone(&preview));
        let listener = match tokio::net::TcpListener::bind(args.addr).await {
            Ok(l) => l,
            Err(err) => {
                eprintln!("error: cannot listen on {}: {err}", args.addr);
                return ExitCode::FAILURE;
            }
        };
        println!(
            "serving {} on http://{}/ (Ctrl-C stops)",
            args.dir.display(),
            args.addr
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

#[derive(Default)]
struct Snapshot {
    files: BTreeMap<String, Vec<u8>>,
    error: Option<String>,
    version: u64,
}

struct Preview {
    dir: PathBuf,
    site: RwLock<Snapshot>,
}

impl Preview {
    fn rebuild(&self) {
        let started = Instant::now();
        let result: Result<BuiltSite, _> = build_site(&self.dir, &options(&self.dir));
        let mut snapshot = self.site.write().expect("preview lock");
        snapshot.version += 1;
        match result {
            Ok(site) => {
                for warning in &site.warnings {
                    eprintln!("warning: {warning}");
                }
                println!(
                    "built {} pages in {} ms",
                    site.pages.len(),
                    started.elapsed().as_millis()
                );
                snapshot.files = site.files;
                snapshot.error = None;
            }
            Err(err) => {
                eprintln!("error: {err}");
                snapshot.error = Some(err.to_string());
            }
        }
    }
}

/// Polls modification times: simple, portable, and cheap for a docs folder.
async fn watch(preview: Arc<Preview>) {
    let mut last = latest_change(&preview.dir);
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = latest_change(&preview.dir);
        if now != last {
            last = now;
            let p = Arc::clone(&preview);
            let _ = tokio::task::spawn_blocking(move || p.rebuild()).await;
        }
    }
}

fn latest_change(dir: &Path) -> (usize, Option<SystemTime>) {
    fn walk(dir: &Path, acc: &mut (usize, Option<SystemTime>)) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&entry.path(), acc);
            } else {
                acc.0 += 1;
                let modified = meta.modified().ok();
                if modified > acc.1 {
                    acc.1 = modified;
                }
            }
        }
    }
    let mut acc = (0, None);
    walk(dir, &mut acc);
    acc
}

async fn version(State(preview): State<Arc<Preview>>) -> String {
    preview
        .site
        .read()
        .expect("preview lock")
        .version
        .to_string()
}

/// Checks the version every second and reloads when the site was rebuilt.
const RELOAD_SCRIPT: &str = "<script>(function(){var v=null;setInterval(function(){fetch('/__greenroom/version').then(function(r){return r.text()}).then(function(t){if(v!==null&&t!==v){location.reload()}v=t}).catch(function(){})},1000)})();</script>";

async fn page(State(preview): State<Arc<Preview>>, UrlPath(path): UrlPath<String>) -> Response {
    let snapshot = preview.site.read().expect("preview lock");
    if let Some(error) = &snapshot.error {
        let body = format!(
            "<!doctype html><title>Build failed</title><h1>Build failed</h1><pre>{}</pre>{RELOAD_SCRIPT}",
            error.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
        );
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
    }
    let file = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path
    };
    let Some(bytes) = snapshot.files.get(&file) else {
        return (
            StatusCode::NOT_FOUND,
            format!("{file} is not part of the site"),
        )
            .into_response();
    };
    let mime = crate::techdocs::mime_for(&file);
    if mime.starts_with("text/html") {
        let html = String::from_utf8_lossy(bytes).replacen(
            "</body>",
            &format!("{RELOAD_SCRIPT}</body>"),
            1,
        );
        return ([(header::CONTENT_TYPE, mime)], html).into_response();
    }
    ([(header::CONTENT_TYPE, mime)], bytes.clone()).into_response()
}
