//! Browser test of TechDocs: the real server (the built UI from `dist/`, the
//! catalog, TechDocs and search APIs) on 127.0.0.1 with a documented
//! component whose docs are a small mkdocs project
//! (`tests/techdocs/site/`), driven by headless Chromium through
//! chromedriver. Opening the docs builds them (the reader follows the sync
//! stream); the entity page's Docs tab shows them and follows a link to
//! another page inside the tab; the docs explorer lists only documented
//! entities and opens the reader, whose navigation, table of contents and
//! search work; all of it passes axe-core in both themes.
//!
//! Needs what `ui_browser.rs` needs (the built UI, `chromium`,
//! `chromedriver`, axe-core). Without them, or with `GREENROOM_SKIP_UI` set,
//! the test prints SKIPPED and passes; when `CI` is set it fails instead.

mod common;

use std::time::Duration;

use common::browser::{axe_script, axe_violations, can_run, visible, Ui};
use common::server::{config, Server};
use greenroom_webdriver::{poll, Browser};
use serde_json::json;

const FIXTURE: &str = "tests/techdocs/site/catalog-info.yaml";

/// The content of the page shown.
const CONTENT: &str = "#gr-docs-content";
/// The first build of the site happens while the test waits.
const BUILD_TIMEOUT: Duration = Duration::from_secs(90);

async fn docs_ui(test: &str) -> Option<Ui> {
    if !can_run(test, &[]) {
        return None;
    }
    let server = Server::start(config(&[FIXTURE]), Vec::new()).await;
    Some(Ui::start(server).await)
}

/// Waits (through the first build) until the page's first heading shows `text`.
async fn wait_heading(b: &Browser, text: &str) -> String {
    poll(
        &format!("the page heading {text:?}"),
        BUILD_TIMEOUT,
        || async {
            let seen = b.texts(&format!("{CONTENT} h1")).await?;
            if let Some(found) = seen.iter().find(|t| t.contains(text)) {
                return Ok(Some(found.clone()));
            }
            let errors = b.texts(".error-box").await?;
            anyhow::ensure!(errors.is_empty(), "the reader shows an error: {errors:?}");
            anyhow::bail!("headings {seen:?}")
        },
    )
    .await
    .unwrap()
}

async fn wait_path(b: &Browser, want: &str) {
    poll(
        &format!("the address {want}"),
        greenroom_webdriver::WAIT_TIMEOUT,
        || async { Ok((b.path().await? == want).then_some(())) },
    )
    .await
    .unwrap();
}

async fn hash(b: &Browser) -> String {
    b.execute("return location.hash", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The text of the navigation link marked as the current page.
async fn current_nav(b: &Browser) -> Vec<String> {
    b.texts(".docs-nav a[aria-current=page]").await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_tab_shows_the_docs_and_follows_their_links() {
    let Some(ui) = docs_ui("the_docs_tab_shows_the_docs_and_follows_their_links").await else {
        return;
    };
    let b = &ui.browser;

    // A documented entity has a Docs tab; one without docs has none.
    ui.open("/catalog/default/component/countdown").await;
    b.wait_for("[role=tab]").await.unwrap();
    let tabs = b.texts("[role=tab]").await.unwrap();
    assert!(!tabs.iter().any(|t| t == "Docs"), "{tabs:?}");
    ui.open("/catalog/default/component/launchpad").await;
    b.wait_for_text("[role=tab]", "Docs").await.unwrap();
    b.click("#tab-docs").await.unwrap();
    wait_path(b, "/catalog/default/component/launchpad?tab=docs").await;

    // The first visit builds the site, then shows its index page.
    wait_heading(b, "Launchpad").await;
    b.wait_for_text(".docs-site-name", "Launchpad")
        .await
        .unwrap();
    assert_eq!(current_nav(b).await, ["Home"]);
    b.wait_for_text(&format!("{CONTENT} .admonition"), "You need a launch pad")
        .await
        .unwrap();

    // The link to the other page stays in the tab and shows that page at
    // the place it names.
    let link = format!("{CONTENT} a[href*='page=guide/']");
    let href = b.attrs(&link, "href").await.unwrap();
    assert_eq!(
        href,
        [Some(
            "/catalog/default/component/launchpad?tab=docs&page=guide/#setup".to_string()
        )]
    );
    b.click(&link).await.unwrap();
    wait_path(
        b,
        "/catalog/default/component/launchpad?tab=docs&page=guide/",
    )
    .await;
    let heading = wait_heading(b, "Setup guide").await;
    assert!(heading.contains("Setup guide"), "{heading}");
    assert!(visible(b, &format!("{CONTENT} h1")).await);
    assert_eq!(hash(b).await, "#setup");
    assert_eq!(current_nav(b).await, ["Setup guide"]);
    // The page's parts: a table, a code block, an admonition, its contents.
    b.wait_for_text(&format!("{CONTENT} table"), "Fuelling")
        .await
        .unwrap();
    b.wait_for_text(&format!("{CONTENT} pre"), "launchpad init --pad 39A")
        .await
        .unwrap();
    b.wait_for_text(&format!("{CONTENT} .admonition"), "Nobody may stay")
        .await
        .unwrap();
    let toc = b.texts(".docs-toc a").await.unwrap();
    assert!(
        toc.iter().any(|t| t == "Setup") && toc.iter().any(|t| t == "Configuration"),
        "{toc:?}"
    );
    assert_eq!(
        b.attrs(".docs-toc a", "href").await.unwrap()[0].as_deref(),
        Some("/catalog/default/component/launchpad?tab=docs&page=guide/#setup")
    );

    // Back returns to the first page, still in the tab.
    b.client.back().await.unwrap();
    wait_path(b, "/catalog/default/component/launchpad?tab=docs").await;
    wait_heading(b, "Launchpad").await;
    // A reload keeps the page.
    b.client.forward().await.unwrap();
    wait_heading(b, "Setup guide").await;
    b.client.refresh().await.unwrap();
    wait_heading(b, "Setup guide").await;
    assert_eq!(current_nav(b).await, ["Setup guide"]);
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_lists_documented_entities_and_opens_the_reader() {
    let Some(ui) = docs_ui("the_explorer_lists_documented_entities_and_opens_the_reader").await
    else {
        return;
    };
    let b = &ui.browser;

    // Only the documented component is listed.
    ui.open("/docs").await;
    b.wait_for_text("table.docs-table td.name", "Launchpad")
        .await
        .unwrap();
    let names = b.texts("table.docs-table td.name").await.unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names.iter().any(|n| n.contains("countdown")), "{names:?}");
    assert_eq!(b.title().await.unwrap(), "Documentation · Greenroom");
    // Filters live in the address.
    b.wait_for("#docs-filter-kind option[value=Component]")
        .await
        .unwrap();
    b.select("#docs-filter-kind", "Component").await.unwrap();
    wait_path(b, "/docs?kind=Component").await;
    b.wait_for_text("table.docs-table td.name", "Launchpad")
        .await
        .unwrap();
    b.fill("#docs-filter-text", "nothing-like-this")
        .await
        .unwrap();
    b.wait_for_text("p.empty", "No documented entities match")
        .await
        .unwrap();
    ui.open("/docs").await;

    // The reader, from the explorer.
    b.click("table.docs-table td.name a[href^='/docs/']")
        .await
        .unwrap();
    wait_path(b, "/docs/default/component/launchpad/").await;
    wait_heading(b, "Launchpad").await;
    b.wait_for_text("h1.docs-site-name", "Launchpad")
        .await
        .unwrap();
    b.wait_for_text(".docs-description", "How to run the Launchpad service")
        .await
        .unwrap();

    // The navigation: sections open and close; a page opens in the reader.
    let section = ".docs-nav-section > button";
    assert_eq!(
        b.attrs(section, "aria-expanded").await.unwrap(),
        [Some("false".to_string())]
    );
    b.click(section).await.unwrap();
    assert_eq!(
        b.attrs(section, "aria-expanded").await.unwrap(),
        [Some("true".to_string())]
    );
    b.click(".docs-nav a[href='/docs/default/component/launchpad/guide/']")
        .await
        .unwrap();
    wait_path(b, "/docs/default/component/launchpad/guide/").await;
    wait_heading(b, "Setup guide").await;
    assert_eq!(current_nav(b).await, ["Setup guide"]);
    assert_eq!(
        b.title().await.unwrap(),
        "Setup guide · Launchpad · Docs · Greenroom"
    );
    // The table of contents goes to a heading of the page.
    b.click(".docs-toc a[href$='#configuration']")
        .await
        .unwrap();
    poll(
        "the fragment",
        greenroom_webdriver::WAIT_TIMEOUT,
        || async { Ok((hash(b).await == "#configuration").then_some(())) },
    )
    .await
    .unwrap();
    // Content tabs switch with their labels.
    let tab_text = |text: &'static str| async move {
        b.execute(
            "return [...document.querySelectorAll(arguments[0])].filter(e => e.offsetParent !== null).map(e => e.textContent).join(' ')",
            vec![json!(format!("{CONTENT} .tabbed-block"))],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .contains(text)
    };
    assert_eq!(
        b.texts(&format!("{CONTENT} .tabbed-labels label"))
            .await
            .unwrap(),
        ["Linux", "macOS"]
    );
    assert!(tab_text("as a service user").await);
    assert!(!tab_text("Homebrew").await);
    b.click(&format!("{CONTENT} .tabbed-labels label:nth-child(2)"))
        .await
        .unwrap();
    assert!(tab_text("Homebrew").await);
    assert!(!tab_text("as a service user").await);
    // The "previous page" link leads back; links between pages are reader addresses.
    b.click(".docs-pager a[rel=prev]").await.unwrap();
    wait_path(b, "/docs/default/component/launchpad/").await;
    wait_heading(b, "Launchpad").await;

    // Addresses without the final slash, of pages that do not exist, of
    // entities that do not exist.
    ui.open("/docs/default/component/launchpad").await;
    wait_heading(b, "Launchpad").await;
    ui.open("/docs/default/component/launchpad/guide/").await;
    wait_heading(b, "Setup guide").await;
    ui.open("/docs/default/component/launchpad/nowhere/").await;
    b.wait_for_text(".error-box", "no page at this address")
        .await
        .unwrap();
    ui.open("/docs/default/component/no-such-thing").await;
    b.wait_for(".error-box").await.unwrap();
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_searches_its_site() {
    let Some(ui) = docs_ui("the_reader_searches_its_site").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/docs/default/component/launchpad/").await;
    wait_heading(b, "Launchpad").await;
    // The pages reach the search index after their build.
    let results = ".docs-search-results li.search-result";
    poll("search results", BUILD_TIMEOUT, || async {
        b.fill("#docs-search-term", "fuelling").await?;
        b.press(&greenroom_webdriver::fantoccini::key::Key::Enter.to_string())
            .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok((!b.texts(results).await?.is_empty()).then_some(()))
    })
    .await
    .unwrap();
    let marks = b.texts(&format!("{results} mark")).await.unwrap();
    assert!(
        marks.iter().any(|m| m.eq_ignore_ascii_case("fuelling")),
        "{marks:?}"
    );
    b.click(&format!("{results} a")).await.unwrap();
    wait_heading(b, "Setup guide").await;
    assert!(b
        .path()
        .await
        .unwrap()
        .starts_with("/docs/default/component/launchpad/guide/"));
    assert!(!visible(b, ".docs-search-results").await);
    ui.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn techdocs_pass_axe_in_light_and_dark_themes() {
    let Some(ui) = docs_ui("techdocs_pass_axe_in_light_and_dark_themes").await else {
        return;
    };
    let axe = std::fs::read_to_string(axe_script()).expect("read axe-core");
    let b = &ui.browser;
    let mut failures = Vec::new();
    for theme in ["light", "dark"] {
        ui.use_theme(theme).await;
        let pages: [(&str, &str); 3] = [
            ("/docs/default/component/launchpad/guide/", "Setup guide"),
            ("/catalog/default/component/launchpad?tab=docs", "Launchpad"),
            ("/docs", ""),
        ];
        for (path, heading) in pages {
            ui.open(path).await;
            if heading.is_empty() {
                b.wait_for("table.docs-table").await.unwrap();
            } else {
                wait_heading(b, heading).await;
                // Sections open, so their pages are checked too.
                b.execute(
                    "document.querySelectorAll('.docs-nav-section > button[aria-expanded=false]').forEach(b => b.click())",
                    vec![],
                )
                .await
                .unwrap();
            }
            b.wait_gone("[role=status].loading").await.unwrap();
            // The reader has finished asking for a newer build.
            b.wait_gone(".docs-sync.running").await.unwrap();
            for violation in axe_violations(b, &axe).await {
                failures.push(format!("{path} [{theme}] {violation}"));
            }
        }
    }
    ui.finish().await;
    assert!(
        failures.is_empty(),
        "axe-core found {} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
