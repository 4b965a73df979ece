//! Browser smoke test of the web UI against the real server: the app router
//! serving the built UI (`dist/`) and the catalog API over an in-memory SQLite
//! database loaded with the repository's demo catalog, visited by headless
//! Chromium (`--dump-dom`). The assertions are on what a user sees.
//!
//! Needs the built UI (`scripts/build-frontend`; `GREENROOM_DIST_DIR` or
//! `<repo>/dist`) and `chromium` on the PATH. Without them, or with
//! `GREENROOM_SKIP_UI` set, the tests print SKIPPED and pass; when `CI` is set
//! they fail instead, so CI never silently drops the browser check.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use greenroom::catalog::processing::{
    config_location_entities, run_until_idle, CONFIG_LOCATIONS_PROVIDER,
};
use greenroom::config::Config;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

/// Virtual time Chromium gives the page (fetches and WASM start-up) before dumping it.
const VIRTUAL_TIME_BUDGET_MS: u32 = 10_000;
/// Wall-clock limit for one Chromium run; it is killed when exceeded.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);
/// Page loads per address before giving up on it settling (slow, shared machines).
const LOAD_ATTEMPTS: usize = 3;

/// A demo component the pages are checked against (demo/catalog/components.yaml).
const SHIPMENT: DemoComponent = DemoComponent {
    name: "shipment-service",
    title: "Shipment Service",
    owner: "team-shipping",
};
const ROUTE_PLANNER: DemoComponent = DemoComponent {
    name: "route-planner",
    title: "Route Planner",
    owner: "team-routing",
};
const BILLING: DemoComponent = DemoComponent {
    name: "billing-service",
    title: "Billing Service",
    owner: "team-payments",
};

struct DemoComponent {
    name: &'static str,
    title: &'static str,
    owner: &'static str,
}

impl DemoComponent {
    fn path(&self) -> String {
        format!("/catalog/default/component/{}", self.name)
    }
}

/// One Chromium at a time: the tests run in parallel and a browser per test
/// would starve small machines into timeouts.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------
// Finding the prerequisites
// ---------------------------------------------------------------------------

struct UiPrerequisites {
    dist: PathBuf,
    chromium: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate lives in the repository")
        .to_path_buf()
}

/// `GREENROOM_DIST_DIR` (relative paths are taken from the repository root,
/// where the scripts run) or `<repo>/dist`.
fn dist_dir() -> PathBuf {
    match std::env::var_os("GREENROOM_DIST_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("dist"),
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Why the browser tests cannot run here, if they cannot.
fn missing_prerequisite() -> Result<UiPrerequisites, String> {
    if std::env::var_os("GREENROOM_SKIP_UI").is_some() {
        return Err("GREENROOM_SKIP_UI is set (the web UI could not be built)".into());
    }
    let dist = dist_dir();
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "the web UI is not built: {} does not exist (run scripts/build-frontend, \
             or set GREENROOM_DIST_DIR)",
            dist.join("index.html").display()
        ));
    }
    let chromium = find_on_path("chromium").ok_or_else(|| {
        "chromium is not installed (Debian: apt-get install chromium chromium-driver)".to_string()
    })?;
    Ok(UiPrerequisites { dist, chromium })
}

/// The prerequisites, or `None` after printing why the test is skipped.
/// Under CI a missing prerequisite fails the test.
fn prerequisites(test: &str) -> Option<UiPrerequisites> {
    match missing_prerequisite() {
        Ok(found) => Some(found),
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("browser test {test} cannot run in CI: {reason}")
        }
        Err(reason) => {
            eprintln!(
                "\n************************************************************\n\
                 SKIPPED {test}: {reason}\n\
                 ************************************************************\n"
            );
            None
        }
    }
}

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

/// The real app on 127.0.0.1 with the demo catalog processed; stops when dropped.
struct Server {
    base: String,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Server {
    async fn start(dist: PathBuf) -> Server {
        let demo = repo_root().join("demo/catalog/all.yaml");
        let config = Config::from_value(json!({
            "backend": {
                "baseUrl": "http://127.0.0.1",
                "listen": {"host": "127.0.0.1", "port": 0},
                "database": {"client": "better-sqlite3", "connection": ":memory:"}
            },
            "catalog": {
                "rules": [{"allow": [
                    "Component", "System", "API", "Resource", "Location",
                    "Group", "User", "Template", "Domain"
                ]}],
                "locations": [{"type": "file", "target": demo.to_string_lossy()}]
            }
        }))
        .expect("valid test configuration");
        let state = greenroom::connect(config).await.expect("connect");
        state
            .store
            .replace_provider_entities(
                CONFIG_LOCATIONS_PROVIDER,
                config_location_entities(&state.config),
            )
            .await
            .expect("register the demo catalog location");
        run_until_idle(state.store.as_ref(), &state.pipeline)
            .await
            .expect("process the demo catalog");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let router = greenroom::app(state, dist);
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .expect("serve the app");
        });
        Server { base, shutdown }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        http_client()
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

// ---------------------------------------------------------------------------
// Headless Chromium
// ---------------------------------------------------------------------------

/// The DOM of `url` after the page settled, as serialised by `--dump-dom`.
/// Reloads (bounded) while the page still shows a loading status.
async fn load_page(chromium: &Path, url: &str) -> String {
    let _one_browser = BROWSER.lock().await;
    let mut dom = String::new();
    for _ in 0..LOAD_ATTEMPTS {
        dom = dump_dom(chromium, url).await;
        if is_settled(&dom) {
            return dom;
        }
    }
    panic!(
        "{url} did not finish loading after {LOAD_ATTEMPTS} attempts; visible text: {}",
        visible_text(&dom)
    );
}

/// The app mounted into the body and no `role="status"` (loading) line remains.
fn is_settled(dom: &str) -> bool {
    dom.contains("<main id=\"main\"") && !dom.contains("role=\"status\"")
}

async fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("temporary Chromium profile");
    let mut command = tokio::process::Command::new(chromium);
    command
        .args(browser_flags(profile.path()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
        .arg("--dump-dom")
        .arg(url);
    let (stdout, stderr) = run_chromium(command, url).await;
    assert!(
        stdout.contains("<html"),
        "chromium printed no DOM for {url}; its stderr:\n{}",
        tail(&stderr)
    );
    stdout
}

/// Headless, isolated from the user's profile, and unable to reach any host
/// but 127.0.0.1: every other name resolves to nothing and no proxy is used.
fn browser_flags(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]
    .into_iter()
    .map(String::from)
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// Runs Chromium to completion in its own process group, killing the whole
/// group (renderers included) when it exceeds [`CHROMIUM_TIMEOUT`].
async fn run_chromium(mut command: tokio::process::Command, url: &str) -> (String, String) {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start chromium");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let run = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (read_out, read_err, status) = tokio::join!(
            stdout.read_to_end(&mut out),
            stderr.read_to_end(&mut err),
            child.wait()
        );
        read_out.expect("read chromium stdout");
        read_err.expect("read chromium stderr");
        let status = status.expect("wait for chromium");
        (status, out, err)
    };
    match tokio::time::timeout(CHROMIUM_TIMEOUT, run).await {
        Ok((status, out, err)) => {
            let err = String::from_utf8_lossy(&err).into_owned();
            assert!(
                status.success(),
                "chromium failed ({status}) on {url}; its stderr:\n{}",
                tail(&err)
            );
            (String::from_utf8_lossy(&out).into_owned(), err)
        }
        Err(_) => {
            if let Some(pid) = pid {
                kill_process_group(pid);
            }
            panic!("chromium did not finish {url} within {CHROMIUM_TIMEOUT:?}; it was killed");
        }
    }
}

/// Best effort: SIGKILL to the group `process_group(0)` gave the browser.
/// The browser process itself is also killed when its handle is dropped.
fn kill_process_group(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

// ---------------------------------------------------------------------------
// Reading the DOM like a user
// ---------------------------------------------------------------------------

/// The text a user reads: tags, scripts and styles removed, entities decoded,
/// whitespace collapsed.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag = &rest[open..];
        let skip_to = ["script", "style", "noscript"]
            .into_iter()
            .find(|name| starts_with_tag(tag, name))
            .and_then(|name| {
                let close = format!("</{name}>");
                tag.find(&close).map(|end| end + close.len())
            })
            .or_else(|| tag.find('>').map(|end| end + 1))
            .unwrap_or(tag.len());
        rest = &tag[skip_to..];
    }
    text.push_str(rest);
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn starts_with_tag(tag: &str, name: &str) -> bool {
    tag.len() > name.len() + 1
        && tag[1..].to_ascii_lowercase().starts_with(name)
        && matches!(tag.as_bytes()[name.len() + 1], b'>' | b' ' | b'\n' | b'\t')
}

/// The markup of each `<open ...>...</close>` element, in document order (not nested).
fn elements<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let boundary = after.as_bytes().get(open.len()).copied();
        if !matches!(boundary, Some(b'>' | b' ')) {
            rest = &after[open.len()..];
            continue;
        }
        let Some(end) = after.find(&close) else { break };
        found.push(&after[..end + close.len()]);
        rest = &after[end + close.len()..];
    }
    found
}

/// The visible text of each body row of the entities table.
fn table_rows(dom: &str) -> Vec<String> {
    let body = elements(dom, "tbody");
    assert_eq!(
        body.len(),
        1,
        "expected one entities table; visible text: {}",
        visible_text(dom)
    );
    elements(body[0], "tr")
        .into_iter()
        .map(visible_text)
        .collect()
}

/// The visible texts of the `<option>`s of the kind filter.
fn kind_options(dom: &str) -> Vec<String> {
    let select = elements(dom, "select")
        .into_iter()
        .find(|s| s.contains("id=\"kind-filter\""))
        .unwrap_or_else(|| panic!("no kind filter; visible text: {}", visible_text(dom)));
    elements(select, "option")
        .into_iter()
        .map(visible_text)
        .collect()
}

fn selected_option(dom: &str) -> Option<String> {
    let select = elements(dom, "select")
        .into_iter()
        .find(|s| s.contains("id=\"kind-filter\""))?;
    elements(select, "option")
        .into_iter()
        .find(|o| o.contains(" selected"))
        .map(visible_text)
}

fn row_of<'a>(rows: &'a [String], title: &str) -> &'a str {
    rows.iter()
        .find(|row| row.starts_with(&format!("{title} ")))
        .unwrap_or_else(|| panic!("no table row for {title}; rows: {rows:#?}"))
}

fn assert_contains(haystack: &str, needle: &str, what: &str) {
    assert!(
        haystack.contains(needle),
        "{what}: expected to see {needle:?} in: {haystack}"
    );
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_page_lists_demo_entities_and_offers_kinds() {
    let Some(ui) = prerequisites("catalog_page_lists_demo_entities_and_offers_kinds") else {
        return;
    };
    let server = Server::start(ui.dist.clone()).await;
    let dom = load_page(&ui.chromium, &server.url("/catalog")).await;
    let text = visible_text(&dom);
    assert_contains(&text, "Software catalog", "catalog heading");

    let listed = server
        .get_json("/api/catalog/entities/by-query?limit=1")
        .await;
    let total = listed["totalItems"].as_u64().expect("totalItems");
    assert_contains(
        &text,
        &format!("Showing {total} of {total} entities"),
        "summary line",
    );

    let rows = table_rows(&dom);
    assert_eq!(rows.len() as u64, total, "one row per entity: {rows:#?}");
    for component in [SHIPMENT, ROUTE_PLANNER, BILLING] {
        let row = row_of(&rows, component.title);
        // Columns: name, kind, type, owner (as a Group reference), lifecycle, description.
        assert!(
            row.starts_with(&format!(
                "{} Component service group:{} production ",
                component.title, component.owner
            )),
            "row of {}: {row}",
            component.name
        );
        assert_contains(
            &dom,
            &format!("href=\"{}\"", component.path()),
            "link to the entity page",
        );
    }
    // Sorted by metadata.name, as requested from the API.
    let position = |title: &str| rows.iter().position(|r| r.starts_with(title));
    assert!(position(BILLING.title) < position(ROUTE_PLANNER.title));
    assert!(position(ROUTE_PLANNER.title) < position(SHIPMENT.title));

    // The kind filter offers every kind the catalog has, with its count,
    // alphabetically (the API orders facets by count).
    let facets = server
        .get_json("/api/catalog/entity-facets?facet=kind")
        .await;
    let mut kinds: Vec<(String, u64)> = facets["facets"]["kind"]
        .as_array()
        .expect("kind facet")
        .iter()
        .map(|facet| {
            let value = facet["value"].as_str().expect("facet value");
            (value.to_string(), facet["count"].as_u64().expect("count"))
        })
        .collect();
    kinds.sort_by_key(|(kind, _)| kind.to_lowercase());
    let expected: Vec<String> = std::iter::once("All kinds".to_string())
        .chain(kinds.iter().map(|(kind, n)| format!("{kind} ({n})")))
        .collect();
    for kind in ["Component", "API", "System", "Group", "Resource"] {
        assert!(
            expected.iter().any(|o| o.starts_with(&format!("{kind} ("))),
            "the demo catalog has {kind} entities: {expected:?}"
        );
    }
    assert_eq!(kind_options(&dom), expected);
    assert_eq!(selected_option(&dom).as_deref(), Some("All kinds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kind_in_the_address_filters_the_table() {
    let Some(ui) = prerequisites("kind_in_the_address_filters_the_table") else {
        return;
    };
    let server = Server::start(ui.dist.clone()).await;
    let dom = load_page(&ui.chromium, &server.url("/catalog?kind=API")).await;
    let rows = table_rows(&dom);
    let apis = server
        .get_json("/api/catalog/entities/by-query?filter=kind%3DAPI&limit=1")
        .await["totalItems"]
        .as_u64()
        .expect("totalItems");
    assert!(apis > 0, "the demo catalog has APIs");
    assert_eq!(rows.len() as u64, apis, "only API rows: {rows:#?}");
    for row in &rows {
        let kind = row.split(' ').find(|word| *word == "API");
        assert!(kind.is_some(), "a non-API row under kind=API: {row}");
    }
    assert!(
        !rows.iter().any(|r| r.starts_with(SHIPMENT.title)),
        "components are filtered out: {rows:#?}"
    );
    let selected = selected_option(&dom).expect("a selected kind");
    assert!(selected.starts_with("API ("), "selected option: {selected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_page_shows_name_owner_and_relations() {
    let Some(ui) = prerequisites("entity_page_shows_name_owner_and_relations") else {
        return;
    };
    let server = Server::start(ui.dist.clone()).await;
    let dom = load_page(&ui.chromium, &server.url(&SHIPMENT.path())).await;
    let text = visible_text(&dom);

    let headings: Vec<String> = elements(&dom, "h1").into_iter().map(visible_text).collect();
    assert_eq!(headings, [SHIPMENT.title], "page heading");
    assert_contains(
        &text,
        "Component · default/shipment-service · backstage.io/v1alpha1",
        "entity ref line",
    );
    assert_contains(
        &text,
        "System of record for shipments",
        "description from the descriptor",
    );
    // The spec card shows the owner as written; the relations card links it.
    assert_contains(&text, "owner team-shipping", "spec owner");
    for (relation, target) in [
        ("ownedBy", "group:team-shipping"),
        ("partOf", "system:shipment-tracking"),
        ("providesApi", "api:shipment-api"),
        ("consumesApi", "api:tracking-events"),
        ("dependsOn", "resource:shipments-db"),
    ] {
        let group = relation_group(&dom, relation);
        assert_contains(&group, target, &format!("relation {relation}"));
    }
    assert_contains(
        &dom,
        "href=\"/catalog/default/group/team-shipping\"",
        "owner link",
    );
    assert_contains(&text, "Shipment dashboard", "external links");
    assert!(
        !text.contains("Processing problems"),
        "the demo entity processed cleanly: {text}"
    );
}

/// The visible text of the `<dd>` after the relations `<dt>` named `relation`.
fn relation_group(dom: &str, relation: &str) -> String {
    let card = elements(dom, "section")
        .into_iter()
        .find(|s| s.contains(">Relations</h2>"))
        .unwrap_or_else(|| panic!("no relations card; visible text: {}", visible_text(dom)));
    let terms = elements(card, "dt");
    let definitions = elements(card, "dd");
    terms
        .iter()
        .zip(&definitions)
        .find(|(term, _)| visible_text(term) == relation)
        .map(|(_, definition)| visible_text(definition))
        .unwrap_or_else(|| panic!("no {relation} relations in: {}", visible_text(card)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_shows_the_not_found_page() {
    let Some(ui) = prerequisites("unknown_route_shows_the_not_found_page") else {
        return;
    };
    let server = Server::start(ui.dist.clone()).await;
    let dom = load_page(&ui.chromium, &server.url("/no/such/page")).await;
    let text = visible_text(&dom);
    assert_contains(&text, "Page not found", "404 heading");
    assert_contains(&text, "There is nothing at this address.", "404 text");
    assert!(!text.contains("Software catalog"), "{text}");

    // An entity that does not exist: the page says so instead of loading forever.
    let dom = load_page(
        &ui.chromium,
        &server.url("/catalog/default/component/no-such-component"),
    )
    .await;
    let text = visible_text(&dom);
    assert_contains(&text, "(HTTP 404)", "missing entity");
}

/// The `<title>` text of a dumped page.
fn document_title(dom: &str) -> String {
    elements(dom, "title")
        .first()
        .map(|t| visible_text(t))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_the_navigation_search_box_and_theme_switch() {
    let Some(ui) = prerequisites("every_page_has_the_navigation_search_box_and_theme_switch")
    else {
        return;
    };
    let server = Server::start(ui.dist.clone()).await;
    let dom = load_page(&ui.chromium, &server.url("/catalog")).await;
    let nav = elements(&dom, "nav")
        .into_iter()
        .find(|n| n.contains(r#"aria-label="Main""#))
        .expect("a main navigation");
    let links: Vec<String> = elements(nav, "a").into_iter().map(visible_text).collect();
    assert_eq!(
        links,
        ["Home", "Catalog", "APIs", "Docs", "Create", "Search", "Settings"],
        "sidebar destinations in order"
    );
    let current: Vec<String> = elements(nav, "a")
        .into_iter()
        .filter(|a| a.contains(r#"aria-current="page""#))
        .map(visible_text)
        .collect();
    assert_eq!(current, ["Catalog"], "only the current section is marked");
    assert_eq!(document_title(&dom), "Software catalog · Greenroom");
    // Controls a screen reader can name: the search field by its label, the
    // theme switch by its text and pressed state.
    assert!(
        dom.contains(r#"<label for="portal-search""#) && dom.contains(r#"id="portal-search""#),
        "the search box has a label"
    );
    assert_contains(&visible_text(&dom), "Search the portal", "search label");
    let switch = elements(&dom, "button")
        .into_iter()
        .find(|b| b.contains("theme-switch"))
        .expect("a theme switch");
    assert_eq!(visible_text(switch), "Dark theme");
    assert!(switch.contains("aria-pressed="), "{switch}");
    // The document carries the theme the style sheet follows.
    assert!(
        dom.contains(r#"data-theme="light""#) || dom.contains(r#"data-theme="dark""#),
        "no theme on the document"
    );

    // A destination that belongs to later work says so instead of a 404.
    let dom = load_page(&ui.chromium, &server.url("/docs")).await;
    let text = visible_text(&dom);
    assert_contains(&text, "Not available yet.", "pending page");
    assert!(!text.contains("Page not found"), "{text}");
    assert_eq!(document_title(&dom), "Docs · Greenroom");

    // The validator page offers a labelled editor holding an example, and a button.
    let dom = load_page(&ui.chromium, &server.url("/catalog-import/validate")).await;
    assert_eq!(
        document_title(&dom),
        "Validate catalog-info.yaml · Greenroom"
    );
    assert!(
        dom.contains(r#"<label for="descriptor""#) && dom.contains(r#"id="descriptor""#),
        "the editor has a label"
    );
    let buttons: Vec<String> = elements(&dom, "button")
        .into_iter()
        .map(visible_text)
        .collect();
    assert!(buttons.iter().any(|b| b == "Validate"), "{buttons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_link_reload_serves_the_app() {
    let Some(ui) = prerequisites("deep_link_reload_serves_the_app") else {
        return;
    };
    let server = Server::start(ui.dist.clone()).await;
    let path = ROUTE_PLANNER.path();

    // What a reload asks the server for: the app shell, not a 404.
    let response = server.get(&path).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {path}");
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/html"),
        "content type {content_type}"
    );
    let shell = response.text().await.expect("body");
    let index = std::fs::read_to_string(ui.dist.join("index.html")).expect("read index.html");
    assert_eq!(shell, index, "the deep link serves dist/index.html");

    // And the browser opening that address directly renders the entity,
    // so the assets and API calls resolve from the root.
    let dom = load_page(&ui.chromium, &server.url(&path)).await;
    let headings: Vec<String> = elements(&dom, "h1").into_iter().map(visible_text).collect();
    assert_eq!(headings, [ROUTE_PLANNER.title], "page heading");
    assert_contains(
        &relation_group(&dom, "ownedBy"),
        &format!("group:{}", ROUTE_PLANNER.owner),
        "owner relation",
    );
}

#[test]
fn visible_text_reads_like_a_user() {
    let html = "<html><head><style>p{}</style><script type=\"module\">x<1</script></head>\
                <body><noscript>no js</noscript><p class=\"a\">Tom &amp; Jerry</p>\
                <td>a</td><td>b</td></body></html>";
    assert_eq!(visible_text(html), "Tom & Jerry a b");
}

#[test]
fn elements_finds_siblings_but_not_longer_tag_names() {
    let html = "<table><thead><tr><th>H</th></tr></thead><tbody><tr><td>1</td></tr>\
                <tr class=\"x\"><td>2</td></tr></tbody></table>";
    let body = elements(html, "tbody");
    assert_eq!(body.len(), 1);
    let rows: Vec<String> = elements(body[0], "tr")
        .into_iter()
        .map(visible_text)
        .collect();
    assert_eq!(rows, ["1", "2"]);
    assert_eq!(elements(html, "t").len(), 0);
}

#[test]
fn settled_pages_show_no_loading_status() {
    assert!(is_settled(
        "<body><main id=\"main\"><h1>x</h1></main></body>"
    ));
    assert!(!is_settled(
        "<body><main id=\"main\"><p role=\"status\">Loading</p></main></body>"
    ));
    assert!(!is_settled("<body><noscript>needs js</noscript></body>"));
}
