//! Backstage's TechDocs API on the real app: `/sync` builds an entity's mkdocs
//! project and streams its progress, the metadata and static routes serve the
//! published site, pages become search documents that point at their sections,
//! a changed source is rebuilt, and docs from hosts that are not configured are
//! refused.

mod common;

use std::time::{Duration, Instant};

use common::paths::repo_root;
use common::server::{config, Server};
use common::techdocs::sync;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A copy of the fixture site (catalog file and mkdocs project) that the test
/// may change.
fn site_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::git::copy_tree(&repo_root().join("tests/techdocs/site"), dir.path());
    dir
}

async fn start(site: tempfile::TempDir, extra_catalog: Option<&str>) -> Server {
    let mut cfg = config(&[]);
    let mut locations = vec![
        json!({"type": "file", "target": site.path().join("catalog-info.yaml").to_string_lossy()}),
    ];
    if let Some(text) = extra_catalog {
        let file = site.path().join("extra.yaml");
        std::fs::write(&file, text).unwrap();
        locations.push(json!({"type": "file", "target": file.to_string_lossy()}));
    }
    cfg["catalog"]["locations"] = json!(locations);
    // Builds happen on /sync only, so the test sees each one.
    cfg["techdocs"] = json!({"builder": "local", "refreshIntervalSeconds": false});
    Server::start(cfg, vec![site]).await
}

async fn get(server: &Server, path: &str) -> reqwest::Response {
    client().get(server.url(path)).send().await.unwrap()
}

async fn search(server: &Server, query: &str) -> Value {
    get(server, &format!("/api/search/query?{query}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn sync_builds_publishes_and_indexes_the_docs() {
    let site = site_copy();
    let root = site.path().to_path_buf();
    let server = start(site, None).await;

    let missing = get(
        &server,
        "/api/techdocs/metadata/techdocs/default/component/launchpad",
    )
    .await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Unable to get metadata for 'component:default/launchpad'"
    );

    let events = sync(&server, "default/component/launchpad").await;
    let (last, data) = events.last().unwrap();
    assert_eq!(
        (last.as_str(), data),
        ("finish", &json!({"updated": true})),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(e, d)| e == "log" && d.as_str().unwrap().starts_with("Built 2 pages")),
        "{events:?}"
    );

    let again = sync(&server, "default/component/launchpad").await;
    assert_eq!(
        again.last().unwrap(),
        &("finish".to_string(), json!({"updated": false})),
        "unchanged source: {again:?}"
    );

    let metadata: Value = get(
        &server,
        "/api/techdocs/metadata/techdocs/default/component/launchpad",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(metadata["site_name"], "Launchpad");
    assert_eq!(
        metadata["site_description"],
        "How to run the Launchpad service"
    );
    assert_eq!(
        metadata["nav"],
        json!([
            {"title": "Home", "url": ""},
            {"title": "Guides", "children": [{"title": "Setup guide", "url": "guide/"}]}
        ])
    );
    assert!(
        metadata["etag"].as_str().is_some_and(|e| e.len() == 32),
        "{metadata}"
    );
    assert!(metadata["build_timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(metadata["files"]
        .as_array()
        .unwrap()
        .contains(&json!("guide/index.html")));

    let entity: Value = get(
        &server,
        "/api/techdocs/metadata/entity/default/component/launchpad",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(entity["metadata"]["name"], "launchpad");
    assert_eq!(entity["locationMetadata"]["type"], "dir");

    let page = get(
        &server,
        "/api/techdocs/static/docs/default/component/launchpad/guide/",
    )
    .await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"gr-docs-content\"") && html.contains("<h1 id=\"setup-guide\">"),
        "{html}"
    );
    let index = get(
        &server,
        "/api/techdocs/static/docs/default/component/launchpad",
    )
    .await;
    assert!(
        index.text().await.unwrap().contains("href=\"guide/#"),
        "the index links to the guide"
    );
    let css = get(
        &server,
        "/api/techdocs/static/docs/default/component/launchpad/assets/greenroom-docs.css",
    )
    .await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    let upper = get(
        &server,
        "/api/techdocs/static/docs/Default/Component/Launchpad/guide/",
    )
    .await;
    assert_eq!(upper.status(), 301);
    assert_eq!(
        upper.headers()["location"],
        "/api/techdocs/static/docs/default/component/launchpad/guide/"
    );
    for bad in [
        "/api/techdocs/static/docs/default/component/launchpad/../../../../etc/passwd",
        "/api/techdocs/static/docs/default/component/launchpad/%2e%2e/%2e%2e/x",
        "/api/techdocs/static/docs/default/component/launchpad/nope.html",
        "/api/techdocs/static/docs/default/component/nobody/index.html",
        "/api/techdocs/metadata/techdocs/default/component/nobody",
    ] {
        let response = get(&server, bad).await;
        assert_eq!(response.status(), 404, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["name"], "NotFoundError", "{bad}");
    }
    assert_eq!(
        get(&server, "/api/techdocs/sync/default/component/nobody")
            .await
            .status(),
        404
    );

    // A page is a search document whose location jumps to the matching section.
    let found = search(&server, "term=homebrew&types%5B0%5D=techdocs").await;
    let first = &found["results"][0];
    assert_eq!(first["type"], "techdocs", "{found}");
    assert!(
        first["document"]["location"]
            .as_str()
            .unwrap()
            .eq("/docs/default/component/launchpad/guide/#platforms"),
        "{found}"
    );
    assert_eq!(first["document"]["entityTitle"], "Launchpad");
    assert!(
        first["highlight"]["fields"]["text"]
            .as_str()
            .unwrap()
            .contains("Homebrew"),
        "{found}"
    );
    let scoped = search(
        &server,
        "term=guide&types%5B0%5D=techdocs&filters%5Bname%5D=countdown",
    )
    .await;
    assert_eq!(
        scoped["numberOfResults"], 0,
        "filters[name] scopes to one site: {scoped}"
    );

    // A changed source is rebuilt; a removed page leaves the site and search.
    std::fs::remove_file(root.join("docs/guide.md")).unwrap();
    std::fs::write(
        root.join("docs/index.md"),
        "# Launchpad\n\nOnly the zeppelin page is left.\n",
    )
    .unwrap();
    std::fs::write(root.join("mkdocs.yml"), "site_name: Launchpad\n").unwrap();
    let rebuilt = sync(&server, "default/component/launchpad").await;
    assert_eq!(
        rebuilt.last().unwrap(),
        &("finish".to_string(), json!({"updated": true})),
        "{rebuilt:?}"
    );
    assert_eq!(
        get(
            &server,
            "/api/techdocs/static/docs/default/component/launchpad/guide/"
        )
        .await
        .status(),
        404
    );
    let gone = search(&server, "term=homebrew&types%5B0%5D=techdocs").await;
    assert_eq!(gone["numberOfResults"], 0, "{gone}");
    let fresh = search(&server, "term=zeppelin").await;
    assert_eq!(
        fresh["results"][0]["document"]["location"], "/docs/default/component/launchpad/#launchpad",
        "{fresh}"
    );
}

#[tokio::test]
async fn docs_from_unconfigured_hosts_and_broken_refs_are_refused() {
    let site = site_copy();
    let server = start(
        site,
        Some(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: remote\n  annotations:\n    backstage.io/techdocs-ref: url:https://evil.example/acme/docs/tree/main\nspec: {type: service, lifecycle: production, owner: team-rockets}\n---\n\
             apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: escaping\n  annotations:\n    backstage.io/techdocs-ref: dir:../..\nspec: {type: service, lifecycle: production, owner: team-rockets}\n---\n\
             apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: undocumented\nspec: {type: service, lifecycle: production, owner: team-rockets}\n",
        ),
    )
    .await;

    let events = sync(&server, "default/component/remote").await;
    let (last, message) = events.last().unwrap();
    assert_eq!(last, "error", "{events:?}");
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("'evil.example' is not a configured GitHub, GitLab or Git integration"),
        "{message}"
    );
    let refused = get(
        &server,
        "/api/techdocs/metadata/entity/default/component/remote",
    )
    .await;
    assert_eq!(refused.status(), 403);

    let events = sync(&server, "default/component/escaping").await;
    assert!(
        events
            .last()
            .unwrap()
            .1
            .as_str()
            .unwrap()
            .contains("leaves the folder"),
        "{events:?}"
    );

    let events = sync(&server, "default/component/undocumented").await;
    assert_eq!(
        events.last().unwrap(),
        &(
            "error".to_string(),
            json!("No backstage.io/techdocs-ref annotation provided in entity: undocumented")
        )
    );
    let started = Instant::now();
    assert_eq!(
        get(
            &server,
            "/api/techdocs/metadata/techdocs/default/component/remote"
        )
        .await
        .status(),
        404
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn docs_in_a_git_repository_are_cloned_once_per_commit() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    common::git::copy_tree(
        &repo_root().join("tests/techdocs/site"),
        &work.join("docs-site"),
    );
    let git = |args: &[&str]| common::git::git(&work, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "docs"]);
    let bare = root.path().join("git/acme/docs.git");
    std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
    common::git::git(
        root.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    git(&["remote", "add", "origin", bare.to_str().unwrap()]);

    let catalog = root.path().join("remote.yaml");
    std::fs::write(
        &catalog,
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: remote-docs\n  annotations:\n    \
             backstage.io/techdocs-ref: url:git+file://{}/-/blob/main/docs-site\nspec: {{type: service, lifecycle: production, owner: team-rockets}}\n",
            bare.display()
        ),
    )
    .unwrap();
    let mut cfg = config(&[]);
    cfg["catalog"]["locations"] = json!([{"type": "file", "target": catalog.to_string_lossy()}]);
    cfg["integrations"] = json!({"git": [{"host": "git.localhost", "remoteBaseUrl": format!("file://{}", root.path().join("git").display())}]});
    cfg["techdocs"] = json!({"refreshIntervalSeconds": false});
    let server = Server::start(cfg, vec![root]).await;

    let first = sync(&server, "default/component/remote-docs").await;
    assert_eq!(
        first.last().unwrap(),
        &("finish".to_string(), json!({"updated": true})),
        "{first:?}"
    );
    let metadata: Value = get(
        &server,
        "/api/techdocs/metadata/techdocs/default/component/remote-docs",
    )
    .await
    .json()
    .await
    .unwrap();
    let head = git(&["rev-parse", "HEAD"]);
    assert_eq!(
        metadata["etag"],
        format!("git:{}:docs-site/", head.trim()),
        "the commit is the version"
    );
    let entity: Value = get(
        &server,
        "/api/techdocs/metadata/entity/default/component/remote-docs",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(entity["locationMetadata"]["type"], "url");

    let same = sync(&server, "default/component/remote-docs").await;
    assert_eq!(
        same.last().unwrap(),
        &("finish".to_string(), json!({"updated": false})),
        "{same:?}"
    );

    std::fs::write(
        work.join("docs-site/docs/guide.md"),
        "# Setup guide\n\nNow with a quasar.\n",
    )
    .unwrap();
    git(&["commit", "-q", "-am", "change"]);
    git(&["push", "-q", "origin", "main"]);
    let changed = sync(&server, "default/component/remote-docs").await;
    assert_eq!(
        changed.last().unwrap(),
        &("finish".to_string(), json!({"updated": true})),
        "{changed:?}"
    );
    let page = get(
        &server,
        "/api/techdocs/static/docs/default/component/remote-docs/guide/",
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("Now with a quasar."), "{page}");
}
