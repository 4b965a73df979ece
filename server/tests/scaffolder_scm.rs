//! The scaffolder against GitHub and GitLab, through in-process fakes of their
//! REST APIs (the real clients talk to them: octocrab for GitHub, reqwest for
//! GitLab) and real Git over smart HTTP (`git http-backend`):
//! - a template read from a GitHub location creates a repository with
//!   `publish:github` (the creation request checked field by field), pushes to
//!   it, registers the component from it and opens a pull request on the
//!   GitOps repository for its claim;
//! - a repository that already exists fails the task with GitHub's reason and
//!   leaves nothing in the catalog;
//! - `publish:gitlab` and `publish:gitlab:merge-request` against GitLab.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::git::copy_tree;
use common::paths::repo_root;
use common::scm_fakes::{FakeForge, Flavor};
use common::server::{config, Server, DEMO_CATALOG};
use greenroom::scaffolder::actions::XrdSet;
use serde_json::{json, Value};

const TOKEN: &str = "test-token-5b1c9e";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The shipped Rust-service template, made to publish to GitHub with every
/// setting the test checks, and to open a pull request for its claim.
fn github_template(dir: &Path) {
    let shipped = repo_root().join("templates/rust-service");
    copy_tree(&shipped, &dir.join("rust"));
    let text = std::fs::read_to_string(shipped.join("template.yaml")).unwrap();
    let publish = "      action: publish:git
      input:
        repoUrl: ${{ parameters.repoUrl }}
        defaultBranch: main
";
    assert!(text.contains(publish), "the shipped template changed");
    let text = text
        .replace(
            publish,
            "      action: publish:github
      input:
        repoUrl: ${{ parameters.repoUrl }}
        defaultBranch: trunk
        repoVisibility: internal
        topics: [rust, payments]
        homepageUrl: https://docs.example.com/${{ parameters.name }}
        hasWiki: false
        deleteBranchOnMerge: true
        collaborators:
          - team: platform
            access: push
        requiredApprovingReviewCount: 2
",
        )
        .replace("pullRequest: false", "pullRequest: true")
        .replace("          ref: main\n", "          ref: trunk\n");
    std::fs::write(dir.join("rust/template.yaml"), text).unwrap();
}

async fn start_with_github(gh: &FakeForge, extra_locations: Vec<Value>) -> Server {
    let work = tempfile::tempdir().unwrap();
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["integrations"] = json!({"github": [{
        "host": gh.host(), "apiBaseUrl": gh.api_base_url(), "token": TOKEN
    }]});
    cfg["scaffolder"] = json!({
        "workingDirectory": work.path(),
        "gitops": {"repoUrl": format!("{}?owner=acme&repo=gitops", gh.host())}
    });
    cfg["catalog"]["locations"]
        .as_array_mut()
        .unwrap()
        .extend(extra_locations);
    Server::start(cfg, vec![work]).await
}

async fn run_task(server: &Server, template: &str, values: Value) -> (String, Value, Vec<Value>) {
    let http = client();
    let created: Value = http
        .post(server.url("/api/scaffolder/v2/tasks"))
        .json(&json!({"templateRef": template, "values": values}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let get = |path: String| {
        let request = http.get(server.url(&path));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let task = loop {
        let task = get(format!("/api/scaffolder/v2/tasks/{id}")).await;
        if matches!(
            task["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        ) {
            break task;
        }
        assert!(Instant::now() < deadline, "task did not end: {task}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let events = get(format!("/api/scaffolder/v2/tasks/{id}/events"))
        .await
        .as_array()
        .cloned()
        .unwrap_or_default();
    (task["status"].as_str().unwrap().to_string(), task, events)
}

fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["body"]["message"].as_str().map(str::to_string))
        .collect()
}

async fn entity_status(server: &Server, path: &str) -> u16 {
    server
        .get_status(&format!("/api/catalog/entities/by-name/{path}"))
        .await
}

/// Whether the entity is in the catalog within 2 s of `since`.
async fn wait_for_entity(server: &Server, path: &str, since: Instant) -> bool {
    while since.elapsed() < Duration::from_secs(2) {
        if entity_status(server, path).await == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_from_github_publishes_with_octocrab_and_opens_a_gitops_pull_request() {
    let gh = FakeForge::start(
        Flavor::Github,
        TOKEN,
        &[("acme", "Organization"), ("octo", "User")],
    )
    .await;
    let templates = tempfile::tempdir().unwrap();
    github_template(templates.path());
    gh.seed("acme", "templates", "main", templates.path());
    gh.seed("acme", "gitops", "main", &repo_root().join("deploy/gitops"));
    let template_url = format!("{}/acme/templates/blob/main/rust/template.yaml", gh.base());
    let server = start_with_github(&gh, vec![json!({"type": "url", "target": template_url})]).await;
    assert_eq!(
        entity_status(&server, "template/default/rust-service").await,
        200,
        "the template is read from GitHub"
    );

    let values = json!({
        "name": "parcel-eta", "description": "Predicts parcel arrival times",
        "owner": "group:default/team-shipping", "database": true, "databaseSize": "medium",
        "bucket": false, "provider": "aws", "region": "eu-west-1",
        "repoUrl": format!("{}?owner=acme&repo=parcel-eta", gh.host())
    });
    let (status, task, events) = run_task(&server, "template:default/rust-service", values).await;
    let log = messages(&events);
    assert_eq!(status, "completed", "{log:#?}");
    let ended = Instant::now();

    // The creation request, field by field, as octocrab sent it.
    assert_eq!(gh.find("GET", "/api/v3/users/acme").len(), 1);
    let created = gh.find("POST", "/api/v3/orgs/acme/repos");
    assert_eq!(created.len(), 1, "{:#?}", gh.requests());
    let body = &created[0].body;
    assert_eq!(body["name"], "parcel-eta");
    assert_eq!(body["description"], "Predicts parcel arrival times");
    assert_eq!(body["visibility"], "internal");
    assert_eq!(body["private"], true);
    assert_eq!(body["homepage"], "https://docs.example.com/parcel-eta");
    assert_eq!(body["has_wiki"], false);
    assert_eq!(body["has_issues"], true);
    assert_eq!(body["delete_branch_on_merge"], true);
    let topics = gh.find("PUT", "/api/v3/repos/acme/parcel-eta/topics");
    assert_eq!(topics[0].body, json!({"names": ["rust", "payments"]}));
    let team = gh.find(
        "PUT",
        "/api/v3/orgs/acme/teams/platform/repos/acme/parcel-eta",
    );
    assert_eq!(team[0].body, json!({"permission": "push"}));
    let default_branch = gh.find("PATCH", "/api/v3/repos/acme/parcel-eta");
    assert_eq!(default_branch[0].body, json!({"default_branch": "trunk"}));
    let protection = gh.find(
        "PUT",
        "/api/v3/repos/acme/parcel-eta/branches/trunk/protection",
    );
    assert_eq!(
        protection[0].body["required_pull_request_reviews"]["required_approving_review_count"],
        2
    );
    // Settings that need the branch come after the push, the rest before.
    let order: Vec<String> = gh
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let at = |needle: &str| order.iter().position(|r| r.contains(needle)).unwrap();
    assert!(at("POST /api/v3/orgs/acme/repos") < at("/topics"));
    assert!(at("/topics") < at("PATCH /api/v3/repos/acme/parcel-eta"));

    // The push: the rendered skeleton (fetched from the template's GitHub
    // repository) on the default branch.
    let catalog_info = gh
        .show("acme", "parcel-eta", "trunk", "catalog-info.yaml")
        .expect("pushed to trunk");
    assert!(catalog_info.contains("name: parcel-eta"), "{catalog_info}");
    assert!(gh
        .show("acme", "parcel-eta", "trunk", "Cargo.toml")
        .is_some());
    assert!(gh
        .show("acme", "parcel-eta", "main", "catalog-info.yaml")
        .is_none());

    // The component, registered from GitHub's contents API.
    assert!(!gh
        .find(
            "GET",
            "/api/v3/repos/acme/parcel-eta/contents/catalog-info.yaml"
        )
        .is_empty());
    let registered = wait_for_entity(&server, "component/default/parcel-eta", ended).await;
    assert!(
        registered,
        "component:default/parcel-eta is in the catalog within 2 s"
    );

    // The claim: on a review branch of the GitOps repository with a pull
    // request, not on main; valid against its XRD.
    let pulls = gh.find("POST", "/api/v3/repos/acme/gitops/pulls");
    assert_eq!(pulls.len(), 1, "{log:#?}");
    let head = pulls[0].body["head"].as_str().unwrap().to_string();
    assert!(head.starts_with("greenroom/apps-parcel-eta-"), "{head}");
    assert_eq!(pulls[0].body["base"], "main");
    let claim_path = "apps/parcel-eta/claims/appstack-parcel-eta.yaml";
    let claim = gh
        .show("acme", "gitops", &head, claim_path)
        .expect("claim on the review branch");
    assert!(gh.show("acme", "gitops", "main", claim_path).is_none());
    let claim: Value = serde_saphyr::from_str(&claim).unwrap();
    XrdSet::load(&repo_root().join("deploy/gitops"))
        .validate_claim(&claim)
        .expect("the claim is valid against its XRD");
    let flux = gh
        .show("acme", "gitops", &head, "apps/parcel-eta/flux.yaml")
        .unwrap();
    assert!(flux.contains("branch: trunk"), "{flux}");
    assert!(
        log.iter().any(|m| m.contains("/acme/gitops/pull/1")),
        "{log:#?}"
    );

    // The token went only into headers: never into the task, its log or a URL.
    assert!(!task.to_string().contains(TOKEN));
    assert!(!events.iter().any(|e| e.to_string().contains(TOKEN)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_github_repository_fails_the_task_and_registers_nothing() {
    let gh = FakeForge::start(Flavor::Github, TOKEN, &[("acme", "Organization")]).await;
    let taken = tempfile::tempdir().unwrap();
    std::fs::write(taken.path().join("README.md"), "already here\n").unwrap();
    gh.seed("acme", "taken", "main", taken.path());
    let templates = tempfile::tempdir().unwrap();
    github_template(templates.path());
    let location = templates.path().join("rust/template.yaml");
    let server = start_with_github(&gh, vec![json!({"type": "file", "target": location})]).await;
    let values = json!({
        "name": "taken", "description": "Collides", "owner": "group:default/team-shipping",
        "database": false, "bucket": false, "provider": "aws", "region": "eu-west-1",
        "repoUrl": format!("{}?owner=acme&repo=taken", gh.host())
    });
    let (status, _, events) = run_task(&server, "template:default/rust-service", values).await;
    let log = messages(&events);
    assert_eq!(status, "failed", "{log:#?}");
    assert!(
        log.iter()
            .any(|m| m.contains("422") && m.contains("name already exists on this account")),
        "GitHub's reason is in the log: {log:#?}"
    );
    assert_eq!(entity_status(&server, "component/default/taken").await, 404);
    assert_eq!(
        gh.show("acme", "taken", "main", "README.md").as_deref(),
        Some("already here\n")
    );
    assert!(gh
        .find("POST", "/api/v3/repos/acme/gitops/pulls")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_gitlab_creates_the_project_and_a_merge_request_carries_files() {
    let gl = FakeForge::start(Flavor::Gitlab, TOKEN, &[("platform", "group")]).await;
    let config_repo = tempfile::tempdir().unwrap();
    std::fs::write(config_repo.path().join("README.md"), "libraries\n").unwrap();
    gl.seed("platform", "catalog-config", "main", config_repo.path());

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("skeleton")).unwrap();
    std::fs::write(
        dir.path().join("skeleton/README.md"),
        "# ${{ values.name }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("skeleton/catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\nspec:\n  type: library\n  lifecycle: experimental\n  owner: group:default/team-shipping\n",
    )
    .unwrap();
    let host = gl.host();
    std::fs::write(
        dir.path().join("template.yaml"),
        format!(
            r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gitlab-library
spec:
  owner: group:default/team-shipping
  type: library
  parameters:
    - title: Library
      required: [name]
      properties:
        name: {{type: string}}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{{{ parameters.name }}}}
    - id: publish
      action: publish:gitlab
      input:
        repoUrl: {host}?owner=platform&repo=${{{{ parameters.name }}}}
        description: The ${{{{ parameters.name }}}} library
        repoVisibility: internal
        topics: [rust]
        settings:
          ci_config_path: .gitlab/ci.yml
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{{{ steps.publish.output.repoContentsUrl }}}}
        catalogInfoPath: /catalog-info.yaml
    - id: mr
      action: publish:gitlab:merge-request
      input:
        repoUrl: {host}?owner=platform&repo=catalog-config
        branchName: add-${{{{ parameters.name }}}}
        title: Add ${{{{ parameters.name }}}}
        description: Registers the new library
        targetPath: libs/${{{{ parameters.name }}}}
  output:
    links:
      - title: Merge request
        url: ${{{{ steps.mr.output.mergeRequestUrl }}}}
"#
        ),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["integrations"] =
        json!({"gitlab": [{"host": host, "apiBaseUrl": gl.api_base_url(), "token": TOKEN}]});
    cfg["scaffolder"] = json!({"workingDirectory": work.path()});
    cfg["catalog"]["locations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "file", "target": dir.path().join("template.yaml")}));
    let server = Server::start(cfg, vec![work]).await;

    let (status, task, events) = run_task(
        &server,
        "template:default/gitlab-library",
        json!({"name": "geo-utils"}),
    )
    .await;
    let ended = Instant::now();
    let log = messages(&events);
    assert_eq!(status, "completed", "{log:#?}");

    let namespace = gl.find("GET", "/api/v4/namespaces/platform");
    assert_eq!(namespace.len(), 1);
    let created = gl.find("POST", "/api/v4/projects");
    assert_eq!(created.len(), 1);
    let body = &created[0].body;
    assert_eq!(body["namespace_id"], 40);
    assert_eq!(body["name"], "geo-utils");
    assert_eq!(body["visibility"], "internal");
    assert_eq!(body["description"], "The geo-utils library");
    assert_eq!(body["topics"], json!(["rust"]));
    assert_eq!(body["ci_config_path"], ".gitlab/ci.yml");
    assert_eq!(
        gl.show("platform", "geo-utils", "main", "README.md")
            .as_deref(),
        Some("# geo-utils\n")
    );
    assert!(wait_for_entity(&server, "component/default/geo-utils", ended).await);

    let mrs = gl.find("POST", "/merge_requests");
    assert_eq!(mrs.len(), 1, "{log:#?}");
    assert_eq!(mrs[0].body["source_branch"], "add-geo-utils");
    assert_eq!(mrs[0].body["target_branch"], "main");
    assert_eq!(mrs[0].body["title"], "Add geo-utils");
    assert_eq!(
        gl.show(
            "platform",
            "catalog-config",
            "add-geo-utils",
            "libs/geo-utils/README.md"
        )
        .as_deref(),
        Some("# geo-utils\n")
    );
    assert!(gl
        .show(
            "platform",
            "catalog-config",
            "main",
            "libs/geo-utils/README.md"
        )
        .is_none());
    let completion = events
        .iter()
        .find(|e| e["type"] == "completion")
        .expect("a completion event");
    assert!(
        completion["body"]["output"]["links"][0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/platform/catalog-config/-/merge_requests/1")),
        "{completion}"
    );
    assert!(!task.to_string().contains(TOKEN));
    assert!(!events.iter().any(|e| e.to_string().contains(TOKEN)));
}
