//! The scaffolder task store contract, on SQLite and PostgreSQL: exclusive
//! claims, takeover of tasks whose heartbeat went stale, writes refused to a
//! worker that lost its claim, checkpoints, cancellation, retry and events.

use std::collections::HashSet;
use std::sync::Arc;

use greenroom_model::scaffolder::TaskStatus;
use greenroom_store::testing::TestPostgres;
use greenroom_store::*;
use serde_json::json;

fn new_task(id: &str, by: &str) -> NewTask {
    NewTask {
        id: id.into(),
        spec:
            json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "parameters": {}, "steps": []})
                .to_string(),
        sealed_secrets: Some("sealed".into()),
        created_by: Some(by.into()),
    }
}

async fn claims_are_exclusive(store: Arc<dyn TaskStore>) {
    for i in 0..20 {
        store
            .create_task(new_task(&format!("t{i:02}"), "user:default/a"))
            .await
            .unwrap();
    }
    // Four claimers race for twenty tasks: every task is claimed exactly once.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(c) = store.claim_task(60_000).await.unwrap() {
                mine.push(c.task.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 20, "{all:?}");
    assert_eq!(unique.len(), 20);
    // Oldest first.
    let (tasks, total) = store
        .list_tasks(&TaskQuery {
            status: vec![TaskStatus::Processing],
            order: Some(("created_at".into(), true)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 20);
    assert_eq!(tasks[0].id, "t00");
}

async fn stale_tasks_are_taken_over_and_the_old_worker_is_locked_out(store: Arc<dyn TaskStore>) {
    store
        .create_task(new_task("a", "user:default/a"))
        .await
        .unwrap();
    let first = store.claim_task(60_000).await.unwrap().expect("claimed");
    assert!(!first.recovered);
    assert_eq!(first.sealed_secrets.as_deref(), Some("sealed"));
    let step = json!({"steps": {"one": {"status": "completed", "output": {"x": 1}}}});
    assert!(store
        .checkpoint(
            "a",
            &first.claim_token,
            &step,
            Some("c25hcHNob3Q="),
            &json!({"message": "Finished step one"})
        )
        .await
        .unwrap());
    // Not stale yet.
    assert!(store.claim_task(60_000).await.unwrap().is_none());
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let second = store.claim_task(10).await.unwrap().expect("taken over");
    assert!(second.recovered);
    assert_eq!(second.checkpoint, Some(step));
    assert_eq!(second.workspace.as_deref(), Some("c25hcHNob3Q="));
    // The first worker can no longer write anything.
    assert_eq!(
        store.heartbeat("a", &first.claim_token).await.unwrap(),
        Heartbeat::Lost
    );
    assert_eq!(
        store
            .append_event("a", &first.claim_token, "log", &json!({"message": "late"}))
            .await
            .unwrap(),
        None
    );
    assert!(!store
        .complete_task("a", &first.claim_token, TaskStatus::Completed, &json!({}))
        .await
        .unwrap());
    assert_eq!(
        store.heartbeat("a", &second.claim_token).await.unwrap(),
        Heartbeat::Held {
            cancel_requested: false
        }
    );
    assert!(store
        .complete_task(
            "a",
            &second.claim_token,
            TaskStatus::Completed,
            &json!({"message": "done"})
        )
        .await
        .unwrap());
    let events = store.list_events("a", None).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["log", "recovered", "completion"]);
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    let after_first = store.list_events("a", Some(events[0].id)).await.unwrap();
    assert_eq!(after_first.len(), 2);
    let task = store.get_task("a").await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Completed);
    // Secrets and the workspace snapshot are gone once the task ended.
    let again = store.claim_task(0).await.unwrap();
    assert!(again.is_none());
}

async fn cancel_and_retry(store: Arc<dyn TaskStore>) {
    store
        .create_task(new_task("open", "user:default/a"))
        .await
        .unwrap();
    assert_eq!(
        store.cancel_task("open").await.unwrap(),
        TaskStatus::Cancelled
    );
    let types: Vec<String> = store
        .list_events("open", None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["cancelled", "completion"]);

    store
        .create_task(new_task("running", "user:default/b"))
        .await
        .unwrap();
    let claim = store.claim_task(60_000).await.unwrap().unwrap();
    assert_eq!(claim.task.id, "running");
    assert_eq!(
        store.cancel_task("running").await.unwrap(),
        TaskStatus::Processing
    );
    assert_eq!(
        store
            .heartbeat("running", &claim.claim_token)
            .await
            .unwrap(),
        Heartbeat::Held {
            cancel_requested: true
        }
    );
    assert!(store
        .complete_task(
            "running",
            &claim.claim_token,
            TaskStatus::Failed,
            &json!({"message": "failed"})
        )
        .await
        .unwrap());
    // Only ended tasks can be retried; a retried one is claimed again with its checkpoint.
    store
        .create_task(new_task("busy", "user:default/b"))
        .await
        .unwrap();
    assert!(matches!(
        store.retry_task("busy", None).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.retry_task("nope", None).await,
        Err(StoreError::NotFound(_))
    ));
    store
        .retry_task("running", Some("new-secrets".into()))
        .await
        .unwrap();
    let (by_b, total) = store
        .list_tasks(&TaskQuery {
            created_by: vec!["user:default/b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert!(by_b
        .iter()
        .any(|t| t.id == "running" && t.status == TaskStatus::Open));
    let mut claimed = Vec::new();
    while let Some(c) = store.claim_task(60_000).await.unwrap() {
        claimed.push((c.task.id, c.sealed_secrets));
    }
    assert!(
        claimed.contains(&("running".to_string(), Some("new-secrets".to_string()))),
        "{claimed:?}"
    );
    assert!(matches!(
        store.cancel_task("nope").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store
        .list_tasks(&TaskQuery {
            order: Some(("drop table".into(), true)),
            ..Default::default()
        })
        .await
        .is_err());
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = greenroom_store::SqlStore::sqlite(None).await.unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestPostgres::create().await else { return };
                    let store = db.store().await;
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}

contract!(
    claims_are_exclusive,
    stale_tasks_are_taken_over_and_the_old_worker_is_locked_out,
    cancel_and_retry,
);
