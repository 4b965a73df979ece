//! Browser tests of the web UI: the real server (the built UI from `dist/`,
//! the catalog API, the processing engine) on 127.0.0.1 with the repository's
//! demo catalog on an in-memory SQLite database, driven by headless Chromium
//! through chromedriver. Each test types, clicks and presses keys as a user
//! does, and checks what a user sees: text, rows, links, the address.
//!
//! Accessibility is checked with axe-core (installed by `scripts/test` into
//! tests/accessibility) on every main page in both themes.
//!
//! Needs the built UI (`scripts/build-frontend`; `GREENROOM_DIST_DIR` or
//! `<repo>/dist`), `chromium` and `chromedriver` on the PATH, and axe-core.
//! Without them, or with `GREENROOM_SKIP_UI` set, the tests print SKIPPED and
//! pass; when `CI` is set they fail instead, so CI never drops the browser check.
//!
//! `GREENROOM_SCREENSHOTS=<dir>` makes the accessibility test also save a
//! screenshot of each page in each theme there (`scripts/screenshots`).

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use common::browser::{axe_script, axe_violations, can_run, Ui};
use common::file_host::FileHost;
use common::server::{config, Server, DEMO_CATALOG};
use greenroom_webdriver::fantoccini::key::Key;
use greenroom_webdriver::{poll, Browser, WAIT_TIMEOUT};
use serde_json::json;

// ---------------------------------------------------------------------------
// A Git host to import from, and a server that may read from it
// ---------------------------------------------------------------------------

/// The demo catalog, with `host` (`host:port`) allowed for `url` locations.
async fn server_reading_from(host: &str) -> Server {
    let mut config = config(&[DEMO_CATALOG]);
    config["backend"]["reading"] = json!({"allow": [{"host": host}]});
    Server::start(config, Vec::new()).await
}

/// The visible text of the table rows' first cells (the entity names).
async fn row_names(browser: &Browser) -> anyhow::Result<Vec<String>> {
    browser.texts("table.entities tbody tr td.name").await
}

/// Waits until the catalog table shows rows that differ from `before`.
async fn wait_rows_change(browser: &Browser, before: &[String]) -> Vec<String> {
    poll("the table rows to change", WAIT_TIMEOUT, || async {
        let rows = row_names(browser).await?;
        Ok((!rows.is_empty() && rows != before).then_some(rows))
    })
    .await
    .unwrap()
}

/// Waits for the table to have exactly `n` rows.
async fn wait_row_count(browser: &Browser, n: usize) -> Vec<String> {
    poll(&format!("{n} table rows"), WAIT_TIMEOUT, || async {
        let rows = row_names(browser).await?;
        Ok((rows.len() == n).then_some(rows))
    })
    .await
    .unwrap()
}

/// Every cell of one column (0-based) of the catalog table.
async fn column(browser: &Browser, index: usize) -> Vec<String> {
    browser
        .texts(&format!(
            "table.entities tbody tr td:nth-child({})",
            index + 1
        ))
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------
// Catalog list
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_list_pages_filters_and_sorts() {
    let Some(ui) = Ui::demo("catalog_list_pages_filters_and_sorts").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/catalog").await;
    b.wait_for_text("p.summary", "Showing 46 of 46 entities")
        .await
        .unwrap();
    assert_eq!(b.title().await.unwrap(), "Software catalog · Greenroom");

    // Fewer rows per page: 20, and the next and previous pages.
    b.select("#page-size", "20").await.unwrap();
    let first = wait_row_count(b, 20).await;
    b.wait_for_text("p.summary", "Showing 20 of 46 entities")
        .await
        .unwrap();
    assert_eq!(b.path().await.unwrap(), "/catalog?limit=20");
    b.click("nav.pager a[rel=next]").await.unwrap();
    let second = wait_rows_change(b, &first).await;
    assert_eq!(second.len(), 20);
    assert!(
        second.iter().all(|n| !first.contains(n)),
        "page 2 repeats page 1: {second:?}"
    );
    assert!(
        b.path().await.unwrap().contains("cursor="),
        "the page is in the address"
    );
    b.click("nav.pager a[rel=prev]").await.unwrap();
    assert_eq!(wait_rows_change(b, &second).await, first);

    // Filter by kind: only components, with the count the facet promised.
    let kind_option = b
        .texts("#filter-kind option[value=Component]")
        .await
        .unwrap();
    let promised: usize = kind_option[0]
        .trim_start_matches("Component (")
        .trim_end_matches(')')
        .parse()
        .unwrap_or_else(|_| panic!("facet option {kind_option:?}"));
    b.select("#page-size", "50").await.unwrap();
    b.select("#filter-kind", "Component").await.unwrap();
    b.wait_for_text("p.summary", &format!("of {promised} entities"))
        .await
        .unwrap();
    assert!(column(b, 1).await.iter().all(|k| k == "Component"));
    assert_eq!(b.path().await.unwrap(), "/catalog?kind=Component");

    // Then by owner (a text box with suggestions) and by text.
    // Its suggestions (owners of components, with counts) load once the box
    // has the focus; the first page did not download them.
    assert!(b
        .texts("#filter-owner-values option")
        .await
        .unwrap()
        .is_empty());
    b.click("#filter-owner").await.unwrap();
    let suggestions = poll("owner suggestions", WAIT_TIMEOUT, || async {
        let values = b.attrs("#filter-owner-values option", "value").await?;
        Ok((!values.is_empty()).then_some(values))
    })
    .await
    .unwrap();
    assert!(
        suggestions.contains(&Some("team-shipping".into())),
        "{suggestions:?}"
    );
    b.fill("#filter-owner", "team-shipping").await.unwrap();
    b.press(&Key::Enter.to_string()).await.unwrap();
    poll("owner filter", WAIT_TIMEOUT, || async {
        let owners = column(b, 3).await;
        Ok((!owners.is_empty() && owners.iter().all(|o| o == "group:team-shipping")).then_some(()))
    })
    .await
    .unwrap();
    assert_eq!(
        b.path().await.unwrap(),
        "/catalog?kind=Component&owner=team-shipping"
    );
    b.fill("#filter-text", "shipment").await.unwrap();
    let rows = poll("the text filter", WAIT_TIMEOUT, || async {
        let rows = row_names(b).await?;
        Ok((rows == ["Shipment Service"]).then_some(rows))
    })
    .await
    .unwrap();
    assert_eq!(rows, ["Shipment Service"]);

    // Nothing matches: said in words, and "Clear filters" brings everything back.
    b.fill("#filter-text", "no-such-thing-anywhere")
        .await
        .unwrap();
    b.wait_for_text("p.empty", "No entities match these filters.")
        .await
        .unwrap();
    b.click("a.clear-filters").await.unwrap();
    b.wait_for_text("p.summary", "Showing 46 of 46 entities")
        .await
        .unwrap();
    assert_eq!(b.path().await.unwrap(), "/catalog");

    // Sorting: Name descending, then by owner; the address keeps it through a reload.
    let ascending = row_names(b).await.unwrap();
    b.click("th a.sort[href='/catalog?dir=desc']")
        .await
        .unwrap();
    let descending = wait_rows_change(b, &ascending).await;
    assert_eq!(
        b.attrs("th[aria-sort=descending] a", "href")
            .await
            .unwrap()
            .len(),
        1,
        "one column says it is sorted descending"
    );
    // Rows sort by metadata.name while the cell shows the title; the first
    // and last rows are enough to see the direction.
    assert_ne!(descending.first(), ascending.first());
    b.click("th a.sort[href='/catalog?sort=owner']")
        .await
        .unwrap();
    poll("sorted by owner", WAIT_TIMEOUT, || async {
        let owners = column(b, 3).await;
        let mut sorted = owners.clone();
        sorted.sort();
        Ok(
            (!owners.is_empty() && owners == sorted && b.path().await? == "/catalog?sort=owner")
                .then_some(()),
        )
    })
    .await
    .unwrap();
    b.client.refresh().await.unwrap();
    b.wait_for("th[aria-sort=ascending] a[href='/catalog?sort=owner&dir=desc']")
        .await
        .unwrap();
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// Entity page
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_page_overview_relations_graph_and_dependencies() {
    let Some(ui) = Ui::demo("entity_page_overview_relations_graph_and_dependencies").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/catalog/default/component/shipment-service").await;
    b.wait_for_text("h1", "Shipment Service").await.unwrap();
    assert_eq!(b.title().await.unwrap(), "shipment-service · Greenroom");

    // The about card: owner and system as links, lifecycle, tags.
    let about = b.wait_for_text("section.about", "Owner").await.unwrap();
    for expected in [
        "group:team-shipping",
        "system:shipment-tracking",
        "production",
        "service",
    ] {
        assert!(
            about.contains(expected),
            "about card lacks {expected}: {about}"
        );
    }
    let owner_links = b.attrs("section.about dd a", "href").await.unwrap();
    assert!(
        owner_links.contains(&Some("/catalog/default/group/team-shipping".into())),
        "{owner_links:?}"
    );

    // The Relations tab draws the graph from one batch request.
    b.click("#tab-relations").await.unwrap();
    b.wait_for_text("p.graph-summary", "fetched in 1 request")
        .await
        .unwrap();
    assert_eq!(
        b.path().await.unwrap(),
        "/catalog/default/component/shipment-service?tab=relations"
    );
    let refs: Vec<String> = b
        .attrs("svg.relations-graph g.node", "data-ref")
        .await
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    for expected in [
        "component:default/shipment-service",
        "group:default/team-shipping",
        "system:default/shipment-tracking",
    ] {
        assert!(
            refs.iter().any(|r| r == expected),
            "graph lacks {expected}: {refs:?}"
        );
    }
    let labels = b.texts("svg.relations-graph g.edge text").await.unwrap();
    assert!(
        labels.iter().any(|l| l == "ownedBy") && labels.iter().any(|l| l == "partOf"),
        "{labels:?}"
    );
    let depth_one = refs.len();

    // Depth 2 reaches further, one more request per level.
    b.select("#graph-depth", "2").await.unwrap();
    b.wait_for_text("p.graph-summary", "fetched in 2 requests")
        .await
        .unwrap();
    let deeper = b
        .attrs("svg.relations-graph g.node", "data-ref")
        .await
        .unwrap();
    assert!(
        deeper.len() > depth_one,
        "depth 2 shows {} nodes, depth 1 {depth_one}",
        deeper.len()
    );

    // Only ownership: the filter narrows the graph.
    b.select("#graph-depth", "1").await.unwrap();
    b.wait_for_text("p.graph-summary", "fetched in 1 request")
        .await
        .unwrap();
    for relation in [
        "partOf",
        "dependsOn",
        "providesApi",
        "consumesApi",
        "memberOf",
        "childOf",
    ] {
        b.click(&format!("#relation-{relation}")).await.unwrap();
    }
    poll("only ownedBy edges", WAIT_TIMEOUT, || async {
        let labels = b.texts("svg.relations-graph g.edge text").await?;
        Ok((!labels.is_empty() && labels.iter().all(|l| l == "ownedBy")).then_some(()))
    })
    .await
    .unwrap();

    // A node is a link: focus it and press Enter to open that entity.
    b.wait_for("g.node[data-ref='group:default/team-shipping']")
        .await
        .unwrap();
    b.execute(
        "document.querySelector(\"g.node[data-ref='group:default/team-shipping']\").focus()",
        vec![],
    )
    .await
    .unwrap();
    b.press(&Key::Enter.to_string()).await.unwrap();
    b.wait_for_text("h1", "Shipping").await.unwrap();
    assert_eq!(
        b.path().await.unwrap(),
        "/catalog/default/group/team-shipping?tab=relations"
    );

    // The group's members and owned entities.
    b.click("#tab-children").await.unwrap();
    b.wait_for_text("section[data-list='Owned entities'] h2", "Owned entities (")
        .await
        .unwrap();
    let owned = b
        .texts("section[data-list='Owned entities'] td.name")
        .await
        .unwrap();
    assert!(owned.iter().any(|n| n == "Shipment Service"), "{owned:?}");

    // Back on the component: its APIs and dependencies with links.
    ui.open("/catalog/default/component/shipment-service?tab=dependencies")
        .await;
    let provided = b
        .wait_for_text("section[data-relation=providesApi]", "Provided APIs")
        .await
        .unwrap();
    assert!(provided.contains("Shipment API"), "{provided}");
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

const IMPORTED: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: parcel-lockers
  title: Parcel Lockers
  description: Reserves and opens parcel lockers.
spec:
  type: service
  lifecycle: experimental
  owner: team-shipping
  providesApis: [parcel-lockers-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: parcel-lockers-api
  description: Locker reservations.
spec:
  type: openapi
  lifecycle: experimental
  owner: team-shipping
  definition: "openapi: 3.0.3\ninfo: {title: Lockers, version: '1'}\npaths: {}\n"
"#;

const INVALID: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Not A Valid Name!
spec:
  type: service
  lifecycle: production
  owner: team-shipping
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_analyzes_dry_runs_then_registers() {
    if !can_run("import_analyzes_dry_runs_then_registers", &[]) {
        return;
    }
    let files = HashMap::from([
        (
            "acme/parcel-lockers/blob/main/catalog-info.yaml".to_string(),
            IMPORTED.to_string(),
        ),
        (
            "acme/broken/blob/main/catalog-info.yaml".to_string(),
            INVALID.to_string(),
        ),
    ]);
    let host = FileHost::start(files).await;
    let ui = Ui::start(server_reading_from(host.host()).await).await;
    let b = &ui.browser;
    ui.open("/catalog-import").await;
    assert_eq!(
        b.title().await.unwrap(),
        "Register an existing component · Greenroom"
    );

    // A file that does not exist: the error shows inline, nothing is registered.
    b.fill(
        "#import-url",
        &format!("{}/acme/missing/blob/main/catalog-info.yaml", host.base()),
    )
    .await
    .unwrap();
    b.click("form.import-form button[type=submit]")
        .await
        .unwrap();
    let error = b
        .wait_for_text(".import-error", "cannot be imported")
        .await
        .unwrap();
    assert!(
        error.to_lowercase().contains("not found") || error.contains("404"),
        "{error}"
    );

    // A repository without a catalog file: the page suggests one to add.
    b.fill("#import-url", &format!("{}/acme/empty", host.base()))
        .await
        .unwrap();
    b.click("form.import-form button[type=submit]")
        .await
        .unwrap();
    let suggestion = b
        .wait_for_text(".import-result", "No catalog-info.yaml found")
        .await
        .unwrap();
    assert!(suggestion.contains("\"name\": \"empty\""), "{suggestion}");

    // An invalid entity: the dry run refuses it and says why.
    b.fill(
        "#import-url",
        &format!("{}/acme/broken/blob/main/catalog-info.yaml", host.base()),
    )
    .await
    .unwrap();
    b.click("form.import-form button[type=submit]")
        .await
        .unwrap();
    let error = b
        .wait_for_text(".import-error", "Not A Valid Name!")
        .await
        .unwrap();
    assert!(error.contains("metadata.name"), "{error}");

    // The real one: the dry run lists both entities before anything is stored.
    let target = format!(
        "{}/acme/parcel-lockers/blob/main/catalog-info.yaml",
        host.base()
    );
    b.fill("#import-url", &target).await.unwrap();
    b.click("form.import-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text(".review h2", "2 entities would be added")
        .await
        .unwrap();
    // In the dry run's order, which is Backstage's: the last entity of the
    // file first.
    let reviewed = b.texts(".review td.name").await.unwrap();
    assert_eq!(
        reviewed,
        ["api:parcel-lockers-api", "component:parcel-lockers"]
    );
    assert_eq!(
        ui.server
            .get_status("/api/catalog/entities/by-name/component/default/parcel-lockers")
            .await,
        404,
        "a dry run stores nothing"
    );

    // Register: the page follows the entities until the catalog has them.
    b.click(".review button.primary").await.unwrap();
    b.wait_for_text(".registered", "is in the catalog.")
        .await
        .unwrap();
    let links = b.texts(".registered li.ready a").await.unwrap();
    assert_eq!(
        links,
        ["api:parcel-lockers-api", "component:parcel-lockers"]
    );
    b.click(".registered li.ready a[href='/catalog/default/component/parcel-lockers']")
        .await
        .unwrap();
    b.wait_for_text("h1", "Parcel Lockers").await.unwrap();

    // Registering the same location again is refused before it is tried.
    ui.open("/catalog-import").await;
    b.fill("#import-url", &target).await.unwrap();
    b.click("form.import-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text(".review", "already registered")
        .await
        .unwrap();
    let disabled = b
        .wait_for(".review button.primary")
        .await
        .unwrap()
        .attr("disabled")
        .await
        .unwrap();
    assert!(disabled.is_some(), "the Register button is disabled");
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// APIs and their definitions
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_list_and_an_openapi_definition_rendered() {
    let Some(ui) = Ui::demo("api_list_and_an_openapi_definition_rendered").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/api-docs").await;
    b.wait_for("table.apis tbody tr").await.unwrap();

    // Only OpenAPI documents, then open the Shipment API.
    b.select("#api-type-filter", "openapi").await.unwrap();
    poll("only openapi rows", WAIT_TIMEOUT, || async {
        let types = b.texts("table.apis tbody tr td:nth-child(2)").await?;
        Ok((!types.is_empty() && types.iter().all(|t| t == "openapi")).then_some(types))
    })
    .await
    .unwrap();
    assert_eq!(b.path().await.unwrap(), "/api-docs?type=openapi");
    b.click("table.apis a[href='/catalog/default/api/shipment-api']")
        .await
        .unwrap();
    b.wait_for_text("h1", "Shipment API").await.unwrap();

    // The Definition tab: operations grouped by tag, method and path on each.
    b.click("#tab-definition").await.unwrap();
    b.wait_for_text(".api-definition h2", "Shipment API")
        .await
        .unwrap();
    let tags = b.attrs("section.api-tag", "data-tag").await.unwrap();
    assert_eq!(tags, [Some("shipments".into()), Some("tracking".into())]);
    let create =
        "section.api-tag[data-tag=shipments] details.operation[data-operation-id=createShipment]";
    let summary = b
        .wait_for_text(&format!("{create} > summary"), "Book a new shipment")
        .await
        .unwrap();
    assert!(
        summary.contains("POST") && summary.contains("/shipments"),
        "{summary}"
    );

    // Opening an operation shows its parameters (with shared $ref ones
    // resolved), the request body schema and every response.
    let list = "details.operation[data-operation-id=listShipments]";
    b.click(&format!("{list} > summary")).await.unwrap();
    let params = b
        .texts(&format!("{list} table.api-params tbody tr td:first-child"))
        .await
        .unwrap();
    for name in ["status", "createdAfter", "limit", "cursor"] {
        assert!(
            params.iter().any(|p| p.starts_with(name)),
            "parameters lack {name}: {params:?}"
        );
    }
    let statuses = b
        .attrs(&format!("{list} li.response"), "data-status")
        .await
        .unwrap();
    assert_eq!(statuses, [Some("200".into()), Some("401".into())]);
    b.click(&format!("{create} > summary")).await.unwrap();
    let body = b
        .wait_for_text(&format!("{create} .operation-body"), "NewShipment")
        .await
        .unwrap();
    for field in ["sender", "recipient", "parcels"] {
        assert!(body.contains(field), "request body lacks {field}: {body}");
    }

    // The raw text is one click away.
    b.click("details.raw-definition > summary").await.unwrap();
    b.wait_for_text("details.raw-definition pre", "openapi: 3.0.3")
        .await
        .unwrap();

    // An AsyncAPI document: channels with their messages (YAML, so this
    // also loads the YAML module on the way).
    ui.open("/catalog/default/api/tracking-events?tab=definition")
        .await;
    let channel = "section.api-channel[data-channel='tracking.events.v1']";
    let publish = format!("{channel} details.operation[data-operation-id=publishScan]");
    b.click(&format!("{publish} > summary")).await.unwrap();
    let messages = b
        .texts(&format!("{publish} .message .message-name"))
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("ParcelScanned") && messages[1].starts_with("DeliveryFailed"),
        "{messages:?}"
    );
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// Validator
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validator_reports_a_bad_name_with_its_line_and_field() {
    let Some(ui) = Ui::demo("validator_reports_a_bad_name_with_its_line_and_field").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/catalog-import/validate").await;
    b.fill("#descriptor", INVALID).await.unwrap();
    b.click("form.validate-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text(".validate-problems h2", "1 problem")
        .await
        .unwrap();
    let cells = b.texts(".validate-problems tbody td").await.unwrap();
    assert_eq!(cells[0], "4", "the line of the name: {cells:?}");
    assert_eq!(cells[2], "metadata.name", "{cells:?}");
    assert!(cells[3].contains("Not A Valid Name!"), "{cells:?}");

    // Fixed, it passes and names the entity it would add.
    b.fill(
        "#descriptor",
        &INVALID.replace("Not A Valid Name!", "a-valid-name"),
    )
    .await
    .unwrap();
    b.click("form.validate-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text(".validate-ok", "component:default/a-valid-name")
        .await
        .unwrap();
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// Shell: navigation, search box, theme, titles, 404, reload
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_navigation_theme_search_and_not_found() {
    let Some(ui) = Ui::demo("shell_navigation_theme_search_and_not_found").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/").await;
    let nav = b.texts("nav.sidebar a").await.unwrap();
    assert_eq!(
        nav,
        ["Home", "Catalog", "APIs", "Docs", "Create", "Search", "Settings"]
    );

    // Following the sidebar changes the page and marks the current one.
    b.click("nav.sidebar a[href='/catalog']").await.unwrap();
    b.wait_for_text("h1", "Software catalog").await.unwrap();
    assert_eq!(
        b.attrs("nav.sidebar a[aria-current=page]", "href")
            .await
            .unwrap(),
        [Some("/catalog".into())]
    );

    // The theme switch flips the theme and remembers it across a reload.
    let theme = || async {
        b.execute("return document.documentElement.dataset.theme", vec![])
            .await
            .unwrap()
    };
    let before = theme().await;
    b.click("button.theme-switch").await.unwrap();
    let after = theme().await;
    assert_ne!(before, after);
    b.client.refresh().await.unwrap();
    b.wait_for("main#main").await.unwrap();
    assert_eq!(theme().await, after, "the theme survives a reload");

    // The search box goes to the search page with the term.
    b.fill("#portal-search", "billing").await.unwrap();
    b.press(&Key::Enter.to_string()).await.unwrap();
    poll("the search page", WAIT_TIMEOUT, || async {
        Ok((b.path().await? == "/search?term=billing").then_some(()))
    })
    .await
    .unwrap();

    // Unknown addresses: a 404 page with a way back; a reload of a deep link works.
    ui.open("/no/such/page").await;
    b.wait_for_text("h1", "Page not found").await.unwrap();
    ui.open("/catalog/default/component/route-planner").await;
    b.wait_for_text("h1", "Route Planner").await.unwrap();
    ui.open("/catalog/default/component/no-such-component")
        .await;
    b.wait_for_text(".error-box", "No entity named 'no-such-component'")
        .await
        .unwrap();
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// Keyboard
// ---------------------------------------------------------------------------

/// What has the focus, as `tag#id: text`, prefixed `row ` inside a catalog row name.
async fn focused(b: &Browser) -> String {
    b.execute(
        "const e = document.activeElement; \
         return (e.closest('table.entities td.name') ? 'row ' : '') + e.tagName.toLowerCase() \
           + (e.id ? '#' + e.id : '') + ': ' + (e.innerText || e.value || '').trim().slice(0, 60);",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Presses Tab until the focus is on something whose description contains
/// `target`; fails after `max` presses.
async fn tab_to(b: &Browser, target: &str, max: usize) -> String {
    let mut seen = Vec::new();
    for _ in 0..max {
        b.press(&Key::Tab.to_string()).await.unwrap();
        let now = focused(b).await;
        if now.contains(target) {
            return now;
        }
        seen.push(now);
    }
    panic!("Tab never reached {target:?}; the focus went through {seen:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_is_usable_with_the_keyboard_alone() {
    let Some(ui) = Ui::demo("the_catalog_is_usable_with_the_keyboard_alone").await else {
        return;
    };
    let b = &ui.browser;
    ui.open("/catalog").await;
    b.wait_for_text("p.summary", "Showing").await.unwrap();

    // The first Tab stop is the skip link; Enter moves the focus to the content.
    b.press(&Key::Tab.to_string()).await.unwrap();
    assert!(
        focused(b).await.contains("Skip to content"),
        "{}",
        focused(b).await
    );
    b.press(&Key::Enter.to_string()).await.unwrap();
    assert!(
        focused(b).await.starts_with("main#main"),
        "{}",
        focused(b).await
    );

    // From there Tab reaches the kind filter; arrow keys choose a kind.
    tab_to(b, "select#filter-kind", 10).await;
    b.press(&Key::Down.to_string()).await.unwrap();
    poll("a kind chosen with the keyboard", WAIT_TIMEOUT, || async {
        Ok(b.path().await?.starts_with("/catalog?kind=").then_some(()))
    })
    .await
    .unwrap();

    // Tab on to the first entity link and open it with Enter.
    let link = tab_to(b, "row a: ", 60).await;
    let name = link.trim_start_matches("row a: ").to_string();
    b.press(&Key::Enter.to_string()).await.unwrap();
    b.wait_for_text("h1", &name).await.unwrap();

    // The entity tabs: Tab to the selected tab, arrows move between tabs.
    tab_to(b, "a#tab-overview", 20).await;
    b.press(&Key::Right.to_string()).await.unwrap();
    poll("the Relations tab", WAIT_TIMEOUT, || async {
        Ok(b.path().await?.ends_with("?tab=relations").then_some(()))
    })
    .await
    .unwrap();
    assert!(
        focused(b).await.starts_with("a#tab-relations"),
        "{}",
        focused(b).await
    );
    b.press(&Key::End.to_string()).await.unwrap();
    poll("the last tab", WAIT_TIMEOUT, || async {
        Ok(b.path().await?.ends_with("?tab=raw").then_some(()))
    })
    .await
    .unwrap();
    ui.finish().await;
}

// ---------------------------------------------------------------------------
// Accessibility (axe-core) in both themes, and screenshots
// ---------------------------------------------------------------------------

/// The pages checked, with what must be on screen before checking, and the
/// screenshot's file name.
const PAGES: &[(&str, &str, &str)] = &[
    ("/", "section.owned", "home"),
    ("/catalog", "table.entities tbody tr", "catalog"),
    (
        "/catalog/default/component/shipment-service",
        "section.about",
        "entity-overview",
    ),
    (
        "/catalog/default/component/shipment-service?tab=relations",
        "svg.relations-graph g.node",
        "entity-relations",
    ),
    (
        "/catalog/default/group/team-shipping?tab=children",
        "section[data-list='Members'] h2",
        "group-members",
    ),
    ("/api-docs", "table tbody tr", "apis"),
    (
        "/catalog/default/api/shipment-api?tab=definition",
        ".api-definition",
        "api-definition",
    ),
    ("/catalog-import", "form.import-form", "import"),
    ("/catalog-import/validate", "form.validate-form", "validate"),
    ("/no/such/page", "h1", "not-found"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_pages_pass_axe_in_light_and_dark_themes() {
    if !can_run("main_pages_pass_axe_in_light_and_dark_themes", &[]) {
        return;
    }
    let axe = std::fs::read_to_string(axe_script()).expect("read axe-core");
    let screenshots = std::env::var_os("GREENROOM_SCREENSHOTS").map(PathBuf::from);
    let ui = Ui::start(Server::demo().await).await;
    let b = &ui.browser;
    b.client
        .update_timeouts(
            greenroom_webdriver::fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(30)),
                Some(Duration::from_secs(60)),
                None,
            ),
        )
        .await
        .unwrap();
    let mut failures = Vec::new();
    for theme in ["light", "dark"] {
        ui.use_theme(theme).await;
        for (path, ready, name) in PAGES {
            ui.open(path).await;
            b.wait_for(ready)
                .await
                .unwrap_or_else(|e| panic!("{path} ({theme}): {e:#}"));
            b.wait_gone("[role=status].loading").await.unwrap();
            let applied = b
                .execute("return document.documentElement.dataset.theme", vec![])
                .await
                .unwrap();
            assert_eq!(applied, theme, "{path}");
            for violation in axe_violations(b, &axe).await {
                failures.push(format!("{path} [{theme}] {violation}"));
            }
            if let Some(dir) = &screenshots {
                std::fs::create_dir_all(dir).unwrap();
                let png = b.screenshot().await.unwrap();
                std::fs::write(dir.join(format!("{name}-{theme}.png")), png).unwrap();
            }
        }
    }
    // The check can fail: an unlabelled input and pale text are caught.
    b.execute(
        "const main = document.querySelector('main');
         main.append(document.createElement('input'));
         const pale = document.createElement('p');
         pale.textContent = 'hard to read';
         pale.style.color = '#767676';
         pale.style.background = '#808080';
         main.append(pale);",
        vec![],
    )
    .await
    .unwrap();
    let planted = axe_violations(b, &axe).await;
    for rule in ["\"label\"", "\"color-contrast\""] {
        assert!(
            planted.iter().any(|v| v.starts_with(rule)),
            "axe-core missed {rule}: {planted:?}"
        );
    }
    ui.finish().await;
    assert!(
        failures.is_empty(),
        "axe-core found {} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
