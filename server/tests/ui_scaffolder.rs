//! Browser test of the scaffolder UI: the real server (built UI from `dist/`,
//! catalog and scaffolder APIs, task workers) on 127.0.0.1 with the demo
//! catalog and the shipped Software Templates, publishing to Git
//! repositories in a temporary directory (`integrations.git` with a
//! `file://` base; the GitOps repository is `deploy/gitops` committed there).
//! Headless Chromium through chromedriver picks the Rust service template,
//! fills its form as a user does (typing, the owner picker, the repository
//! picker), reviews, creates, and watches the task page stream the log to
//! the output links. The scaffolder pages are also checked with axe-core in
//! both themes.
//!
//! Needs what `ui_browser.rs` needs (the built UI, `chromium`,
//! `chromedriver`, axe-core) and `git`. Without them, or with
//! `GREENROOM_SKIP_UI` set, the test prints SKIPPED and passes; when `CI` is
//! set it fails instead.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::browser::{axe_script, axe_violations, can_run, focused_id, visible, Ui};
use common::git::seed_gitops;
use common::server::{config, Server, DEMO_CATALOG, TEMPLATES};
use greenroom_webdriver::fantoccini::key::Key;
use greenroom_webdriver::{poll, WAIT_TIMEOUT};
use serde_json::json;

/// How long a whole task run may take (clone, render, push, register, claim).
const TASK_TIMEOUT: Duration = Duration::from_secs(120);

/// The Git host name the templates' repository pickers allow.
const GIT_HOST: &str = "git.localhost";

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

/// The demo catalog and the shipped templates, publishing to bare repositories
/// behind `file://<temporary directory>` (`<owner>/<repo>.git`, with the
/// GitOps repository at `platform/gitops.git`).
async fn start_server() -> Server {
    let git = tempfile::tempdir().unwrap();
    seed_gitops(git.path());
    let work = tempfile::tempdir().unwrap();
    let mut config = config(&[DEMO_CATALOG, TEMPLATES]);
    config["integrations"] = json!({
        "git": [{
            "host": GIT_HOST,
            "remoteBaseUrl": format!("file://{}", git.path().display()),
            "createRepositories": true
        }]
    });
    config["scaffolder"] = json!({
        "workingDirectory": work.path().to_string_lossy(),
        "gitops": {"repoUrl": format!("{GIT_HOST}?owner=platform&repo=gitops")}
    });
    Server::start(config, vec![git, work]).await
}

/// Checks the page in both themes, saving screenshots to
/// `GREENROOM_SCREENSHOTS` when set; returns the violations.
async fn check_page(ui: &Ui, axe: &str, name: &str) -> Vec<String> {
    let b = &ui.browser;
    let screenshots = std::env::var_os("GREENROOM_SCREENSHOTS").map(PathBuf::from);
    let mut failures = Vec::new();
    for theme in ["light", "dark"] {
        b.execute(
            &format!("document.documentElement.setAttribute('data-theme', '{theme}')"),
            vec![],
        )
        .await
        .unwrap();
        for violation in axe_violations(b, axe).await {
            failures.push(format!("{name} [{theme}] {violation}"));
        }
        if let Some(dir) = &screenshots {
            std::fs::create_dir_all(dir).unwrap();
            let png = b.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{theme}.png")), png).unwrap();
        }
    }
    b.execute(
        "document.documentElement.setAttribute('data-theme', 'light')",
        vec![],
    )
    .await
    .unwrap();
    failures
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_a_rust_service_from_its_template_and_watch_the_task() {
    if !can_run(
        "create_a_rust_service_from_its_template_and_watch_the_task",
        &["git"],
    ) {
        return;
    }
    let axe = std::fs::read_to_string(axe_script()).expect("read axe-core");
    let ui = Ui::start(start_server().await).await;
    let b = &ui.browser;
    let mut a11y = Vec::new();

    // The Create page lists the shipped templates; the search narrows them as one types.
    ui.open("/create").await;
    b.wait_for("li.template-card[data-template='rust-service']")
        .await
        .unwrap();
    let cards = b.attrs("li.template-card", "data-template").await.unwrap();
    for expected in ["rust-service", "static-website", "postgres-database"] {
        assert!(
            cards.contains(&Some(expected.into())),
            "{expected} missing: {cards:?}"
        );
    }
    a11y.extend(check_page(&ui, &axe, "create").await);
    b.fill("#template-search", "axum").await.unwrap();
    poll("only the Rust service card", WAIT_TIMEOUT, || async {
        let cards = b.attrs("li.template-card", "data-template").await?;
        Ok((cards == [Some("rust-service".to_string())]).then_some(()))
    })
    .await
    .unwrap();
    poll("the search in the address", WAIT_TIMEOUT, || async {
        Ok((b.path().await? == "/create?q=axum").then_some(()))
    })
    .await
    .unwrap();
    b.click("li.template-card[data-template='rust-service'] a.choose")
        .await
        .unwrap();

    // The form: the first page, with the name field focused (ui:autofocus).
    b.wait_for_text("h1", "Rust service (axum)").await.unwrap();
    assert_eq!(
        b.path().await.unwrap(),
        "/create/templates/default/rust-service"
    );
    b.wait_for_text("#step-heading", "Service").await.unwrap();
    poll("the name field to have the focus", WAIT_TIMEOUT, || async {
        Ok((focused_id(b).await == "field-name").then_some(()))
    })
    .await
    .unwrap();
    // Defaults are filled in, and the database size shows because a database is asked for.
    assert_eq!(
        b.execute(
            "return document.getElementById('field-region').value",
            vec![]
        )
        .await
        .unwrap(),
        json!("eu-west-1")
    );
    b.wait_for("#field-databaseSize").await.unwrap();
    a11y.extend(check_page(&ui, &axe, "template-form").await);

    // Next without the required values: messages beside the fields, focus on the first.
    b.click("form.parameter-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text("#field-name-error", "Name is required")
        .await
        .unwrap();
    b.wait_for_text("#field-owner-error", "Owner is required")
        .await
        .unwrap();
    assert_eq!(
        b.attrs("#field-name", "aria-describedby").await.unwrap(),
        [Some(
            "field-name-description field-name-help field-name-error".to_string()
        )]
    );
    poll(
        "the focus on the first field with a problem",
        WAIT_TIMEOUT,
        || async { Ok((focused_id(b).await == "field-name").then_some(())) },
    )
    .await
    .unwrap();
    a11y.extend(check_page(&ui, &axe, "template-form-errors").await);

    // A name that breaks the pattern is caught before leaving the page.
    b.fill("#field-name", "Parcel ETA").await.unwrap();
    b.click("form.parameter-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text("#field-name-error", "Must match the pattern")
        .await
        .unwrap();
    b.fill("#field-name", "parcel-eta").await.unwrap();
    b.fill("#field-description", "Estimates parcel arrival times.")
        .await
        .unwrap();

    // The owner picker suggests groups from the catalog.
    b.fill("#field-owner", "shipping").await.unwrap();
    // (Until the typed text's answer arrives the list may still show every group.)
    poll("suggestions for the typed text", WAIT_TIMEOUT, || async {
        let options = b.texts("#field-owner-options li[role=option]").await?;
        Ok((!options.is_empty() && options.iter().all(|o| o.contains("shipping"))).then_some(()))
    })
    .await
    .unwrap();
    b.wait_for_text(
        "#field-owner-options li[role=option]",
        "group:default/team-shipping",
    )
    .await
    .unwrap();
    assert_eq!(
        b.attrs("#field-owner", "aria-expanded").await.unwrap(),
        [Some("true".to_string())]
    );
    b.click("#field-owner-options li[role=option]")
        .await
        .unwrap();
    poll("the chosen owner in the box", WAIT_TIMEOUT, || async {
        let value = b
            .execute(
                "return document.getElementById('field-owner').value",
                vec![],
            )
            .await?;
        if value == json!("group:default/team-shipping") {
            return Ok(Some(()));
        }
        let options = b.texts("#field-owner-options li[role=option]").await?;
        anyhow::bail!("the box holds {value}; options {options:?}")
    })
    .await
    .unwrap();

    // The system picker by keyboard alone: type, arrow down, Enter.
    b.fill("#field-system", "shipment").await.unwrap();
    poll("system suggestions", WAIT_TIMEOUT, || async {
        let options = b.texts("#field-system-options li[role=option]").await?;
        Ok(
            (options.len() == 1 && options[0].contains("system:default/shipment-tracking"))
                .then_some(()),
        )
    })
    .await
    .unwrap();
    b.press(&Key::Down.to_string()).await.unwrap();
    assert_eq!(
        b.attrs("#field-system", "aria-activedescendant")
            .await
            .unwrap(),
        [Some("field-system-options-0".to_string())]
    );
    b.press(&Key::Enter.to_string()).await.unwrap();
    poll("the chosen system in the box", WAIT_TIMEOUT, || async {
        let value = b
            .execute(
                "return document.getElementById('field-system').value",
                vec![],
            )
            .await?;
        Ok((value == json!("system:default/shipment-tracking")).then_some(()))
    })
    .await
    .unwrap();
    // Enter chose the entity; it did not submit the page.
    assert_eq!(
        b.texts("#step-heading").await.unwrap(),
        ["Service".to_string()]
    );

    // Conditional fields: no database, no size; a database again, the size is back.
    b.click("#field-database").await.unwrap();
    b.wait_gone("#field-databaseSize").await.unwrap();
    b.click("#field-database").await.unwrap();
    b.wait_for("#field-databaseSize").await.unwrap();
    b.select("#field-databaseSize", "1").await.unwrap();

    // The repository page.
    b.click("form.parameter-form button[type=submit]")
        .await
        .unwrap();
    b.wait_for_text("#step-heading", "Repository")
        .await
        .unwrap();
    assert!(visible(b, "#field-repoUrl").await);
    b.fill("#field-repoUrl-owner", "demo").await.unwrap();
    b.fill("#field-repoUrl-repo", "parcel-eta").await.unwrap();
    b.click("form.parameter-form button[type=submit]")
        .await
        .unwrap();

    // The review lists what will be sent.
    b.wait_for_text("#step-heading", "Review").await.unwrap();
    let review = b
        .wait_for_text("table.review-table", "parcel-eta")
        .await
        .unwrap();
    for expected in [
        "group:default/team-shipping",
        "system:default/shipment-tracking",
        "Amazon Web Services",
        "Medium (2 vCPU, 8 GiB)",
        &format!("{GIT_HOST}?owner=demo&repo=parcel-eta"),
    ] {
        assert!(
            review.contains(expected),
            "review lacks {expected}: {review}"
        );
    }
    a11y.extend(check_page(&ui, &axe, "template-review").await);
    b.click("button.create").await.unwrap();

    // The task page: the log streams in, then the run completes with its output.
    let task_path = poll("the task page", WAIT_TIMEOUT, || async {
        let path = b.path().await?;
        Ok(path.starts_with("/create/tasks/").then_some(path))
    })
    .await
    .unwrap();
    b.wait_for_text("h1", "Run of Rust service (axum)")
        .await
        .unwrap();
    poll("log lines", WAIT_TIMEOUT, || async {
        Ok((!b.texts(".task-log li").await?.is_empty()).then_some(()))
    })
    .await
    .unwrap();
    let status = poll("the task to end", TASK_TIMEOUT, || async {
        let status = b.texts(".task-status").await?.join(" ");
        Ok((status.contains("Completed") || status.contains("Failed")).then_some(status))
    })
    .await
    .unwrap();
    let log = b.texts(".task-log li").await.unwrap();
    assert!(
        status.contains("Completed"),
        "the task did not complete: {status}\nerror: {:?}\nlog:\n{}",
        b.texts(".task-error").await.unwrap(),
        log.join("\n")
    );
    assert!(
        log.iter().any(|l| l.starts_with("[Publish repository]")),
        "log lines name their step: {log:?}"
    );
    let steps = b.texts(".step-list li").await.unwrap();
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert!(steps.iter().all(|s| s.contains("Completed")), "{steps:?}");
    let links = b.texts(".output-links a").await.unwrap();
    assert!(
        links.iter().any(|l| l.contains("Repository"))
            && links.iter().any(|l| l.contains("Open in catalog")),
        "{links:?}"
    );
    let hrefs = b.attrs(".output-links a", "href").await.unwrap();
    assert!(
        hrefs.contains(&Some("/catalog/default/component/parcel-eta".into())),
        "{hrefs:?}"
    );
    b.wait_for_text(".output-text", "Next steps").await.unwrap();
    assert!(b.texts("button.cancel").await.unwrap().is_empty());
    a11y.extend(check_page(&ui, &axe, "task").await);

    // Opened again later, the finished task replays its log and output.
    ui.open(&task_path).await;
    b.wait_for_text(".task-status", "Completed").await.unwrap();
    b.wait_for_text(".output-links", "Open in catalog")
        .await
        .unwrap();
    assert_eq!(b.texts(".task-log li").await.unwrap().len(), log.len());
    let start_over = b.attrs("a.start-over", "href").await.unwrap();
    assert!(
        start_over[0]
            .as_deref()
            .is_some_and(|h| h.starts_with("/create/templates/default/rust-service?formData=")),
        "{start_over:?}"
    );

    // "Start over" fills the form with the same values.
    b.click("a.start-over").await.unwrap();
    b.wait_for_text("#step-heading", "Service").await.unwrap();
    poll("the name filled in", WAIT_TIMEOUT, || async {
        let value = b
            .execute("return document.getElementById('field-name').value", vec![])
            .await?;
        Ok((value == json!("parcel-eta")).then_some(()))
    })
    .await
    .unwrap();

    // The task list has the run, and the status filter keeps it or not.
    ui.open("/create/tasks").await;
    let task_id = task_path.trim_start_matches("/create/tasks/").to_string();
    b.wait_for_text("table.task-table tbody", &task_id)
        .await
        .unwrap();
    let row = b
        .wait_for_text("table.task-table tbody tr", "Completed")
        .await
        .unwrap();
    assert!(
        row.contains("Rust service (axum)") || row.contains("rust-service"),
        "{row}"
    );
    a11y.extend(check_page(&ui, &axe, "tasks").await);
    b.select("#task-status", "failed").await.unwrap();
    b.wait_for_text("p.empty", "No tasks have this status")
        .await
        .unwrap();
    assert_eq!(b.path().await.unwrap(), "/create/tasks?status=failed");

    // The installed actions, with their inputs.
    ui.open("/create/actions").await;
    let publish = b
        .wait_for_text("section.action", "publish:git")
        .await
        .unwrap();
    assert!(publish.contains("repoUrl"), "{publish}");
    a11y.extend(check_page(&ui, &axe, "actions").await);

    ui.finish().await;
    assert!(
        a11y.is_empty(),
        "axe-core found {} problems:\n{}",
        a11y.len(),
        a11y.join("\n")
    );
}
