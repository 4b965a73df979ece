//! Browser test of permission-aware controls: signed in (as the guest mapped
//! to a member of team-web) under the example policy in `deploy/permission`,
//! the entity page offers Refresh and Unregister on the team's own component
//! and hides them on another team's; the audit log page says it is for
//! admins. The server enforces the same rules (see `permission_matrix.rs`).
//!
//! Needs what `ui_browser.rs` needs; without it (and outside CI) the test
//! prints SKIPPED and passes.

mod common;

use common::browser::{can_run, visible, Ui};
use common::paths::repo_root;
use common::server::{config, Server, DEMO_CATALOG};
use greenroom_webdriver::{poll, WAIT_TIMEOUT};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controls_follow_the_policy() {
    if !can_run("ui_permissions", &[]) {
        return;
    }
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["auth"] = json!({"providers": {"guest": {"userEntityRef": "user:default/yuki.tanaka"}}});
    cfg["permission"] = json!({
        "enabled": true,
        "policyFile": repo_root().join("deploy/permission/policy.yaml").to_string_lossy()
    });
    let ui = Ui::start(Server::start(cfg, Vec::new()).await).await;
    let b = &ui.browser;
    ui.open("/").await;
    b.click(".sign-in-provider[data-provider=guest]")
        .await
        .unwrap();
    b.wait_for("#user-menu-button").await.unwrap();

    // The team's own component: both actions are offered.
    ui.open("/catalog/default/component/kestrel-ui-kit").await;
    for id in ["#entity-refresh", "#entity-unregister"] {
        poll(id, WAIT_TIMEOUT, || async {
            Ok(visible(b, &format!("{id}:not([disabled])"))
                .await
                .then_some(()))
        })
        .await
        .unwrap();
    }

    // Another team's component: the page shows, the actions do not.
    ui.open("/catalog/default/component/invoice-renderer").await;
    b.wait_for_text("h1", "Invoice Renderer").await.unwrap();
    for id in ["#entity-refresh", "#entity-unregister"] {
        poll(id, WAIT_TIMEOUT, || async {
            Ok((!visible(b, id).await).then_some(()))
        })
        .await
        .unwrap();
    }

    // The audit log is for admins.
    ui.open("/settings/audit").await;
    b.wait_for("#audit-forbidden").await.unwrap();
    ui.finish().await;
}
