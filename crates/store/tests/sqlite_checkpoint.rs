//! The SQLite store copies committed pages from the write-ahead log into the
//! database file in the background, so the writer does not have to.

use std::time::{Duration, Instant};

use greenroom_store::{CatalogStore, DeferredEntity, SqlStore};
use serde_json::json;

fn component(i: usize) -> DeferredEntity {
    let entity = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": format!("svc-{i}"), "description": "x".repeat(500)},
        "spec": {"type": "service", "owner": "team-a", "lifecycle": "production"},
    });
    let entity = entity.as_object().unwrap().clone();
    DeferredEntity::new(&entity, Some("file:/org.yaml".into())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_pages_reach_the_database_file_without_a_writer_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let store = SqlStore::sqlite(Some(&path)).await.unwrap();
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = size();
    // Far below the writer's own checkpoint threshold, so only the
    // background checkpointer can move these pages into the file.
    let entities: Vec<DeferredEntity> = (0..500).map(component).collect();
    store
        .replace_provider_entities("test", entities)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while size() < before + 200 * 1024 {
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {} bytes (was {before})",
            size()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Dropping the store stops the checkpointer; the file can then go.
    drop(store);
    tokio::time::sleep(Duration::from_millis(400)).await;
    dir.close().unwrap();
}
