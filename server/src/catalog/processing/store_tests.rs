//! The loop against the real SQLite store (in memory): what a user sees after
//! processing and stitching.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use greenroom_store::{CatalogStore, LocationSpec, SqlStore};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::tests::{config_from, pipeline};
use super::*;
use crate::catalog::readers::tests::{fake_github, fake_web, integration};
use crate::config::Config;

async fn memory_store() -> Arc<dyn CatalogStore> {
    Arc::new(SqlStore::sqlite(None).await.expect("in-memory store"))
}

/// Config with the given file locations and rules allowing every kind used here.
fn config_with_files(files: &[&Path], rules: Option<Value>) -> Config {
    let locations: Vec<Value> = files
        .iter()
        .map(|f| json!({"type": "file", "target": f.to_string_lossy()}))
        .collect();
    let mut catalog = json!({"locations": locations});
    catalog["rules"] = rules.unwrap_or_else(
        || json!([{"allow": ["Component", "API", "Location", "Group", "User", "System"]}]),
    );
    config_from(json!({"catalog": catalog}))
}

/// Registers the configured locations, as start-up does.
async fn register_config_locations(store: &dyn CatalogStore, config: &Config) {
    store
        .replace_provider_entities(CONFIG_LOCATIONS_PROVIDER, config_location_entities(config))
        .await
        .expect("provider entities");
}

async fn ingest(store: &dyn CatalogStore, config: &Config) {
    register_config_locations(store, config).await;
    run_until_idle(store, &pipeline(config))
        .await
        .expect("idle");
}

fn relation_pairs(entity: &greenroom_model::Entity) -> Vec<(String, String)> {
    entity
        .get("relations")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|r| {
                    (
                        r["type"].as_str().unwrap().to_string(),
                        r["targetRef"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn component(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{extra}spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

#[tokio::test]
async fn multi_document_file_is_stitched_with_relations() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(
        &file,
        format!(
            "{}---\n{}---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n---\n",
            component("artist-web", ""),
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: artist-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition: x\n"
        ),
    )
    .unwrap();
    let store = memory_store().await;
    ingest(store.as_ref(), &config_with_files(&[&file], None)).await;

    let web = store
        .entity_by_ref("component:default/artist-web")
        .await
        .unwrap()
        .expect("component stitched");
    assert!(web["metadata"]["uid"].is_string());
    assert_eq!(
        relation_pairs(&web),
        vec![("ownedBy".to_string(), "group:default/team-a".to_string())]
    );
    assert_eq!(
        web["metadata"]["annotations"]["backstage.io/managed-by-location"],
        format!("file:{}", file.display())
    );
    let group = store
        .entity_by_ref("group:default/team-a")
        .await
        .unwrap()
        .expect("group stitched");
    let group_relations = relation_pairs(&group);
    assert!(
        group_relations.contains(&("ownerOf".into(), "component:default/artist-web".into())),
        "{group_relations:?}"
    );
    assert!(
        group_relations.contains(&("ownerOf".into(), "api:default/artist-api".into())),
        "{group_relations:?}"
    );
    assert!(store
        .entity_by_ref("api:default/artist-api")
        .await
        .unwrap()
        .is_some());
    let location = generated_location_entity(&LocationSpec {
        kind: "file".into(),
        target: file.to_string_lossy().into(),
    });
    let location_ref = greenroom_model::EntityRef::of_entity(&location)
        .unwrap()
        .canonical();
    assert!(store.entity_by_ref(&location_ref).await.unwrap().is_some());
}

#[tokio::test]
async fn an_invalid_entity_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(
        &file,
        format!(
            "{}---\n{}---\n{}",
            component("good-one", ""),
            component("-invalid-", ""),
            component("good-two", "")
        ),
    )
    .unwrap();
    let store = memory_store().await;
    ingest(store.as_ref(), &config_with_files(&[&file], None)).await;

    assert!(store
        .entity_by_ref("component:default/good-one")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .entity_by_ref("component:default/good-two")
        .await
        .unwrap()
        .is_some());
    let invalid = store
        .entity_by_ref("component:default/-invalid-")
        .await
        .unwrap()
        .expect("shown with its errors");
    let items = invalid["status"]["items"].as_array().expect("status.items");
    assert_eq!(items[0]["type"], "backstage.io/catalog-processing");
    assert_eq!(items[0]["level"], "error");
    assert_eq!(items[0]["error"]["name"], "InputError");
    assert!(
        items[0]["message"]
            .as_str()
            .unwrap()
            .contains("metadata.name"),
        "{items:?}"
    );
}

#[tokio::test]
async fn a_refused_kind_is_reported_on_the_parent_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.yaml");
    std::fs::write(&file, "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: jdoe\nspec:\n  memberOf: []\n").unwrap();
    let config = config_with_files(
        &[&file],
        Some(json!([{"allow": ["Component", "Location"]}])),
    );
    let store = memory_store().await;
    ingest(store.as_ref(), &config).await;

    assert!(store
        .entity_by_ref("user:default/jdoe")
        .await
        .unwrap()
        .is_none());
    let location = generated_location_entity(&LocationSpec {
        kind: "file".into(),
        target: file.to_string_lossy().into(),
    });
    let location_ref = greenroom_model::EntityRef::of_entity(&location)
        .unwrap()
        .canonical();
    let parent = store
        .entity_by_ref(&location_ref)
        .await
        .unwrap()
        .expect("location entity");
    let items = parent["status"]["items"].as_array().expect("status.items");
    assert_eq!(items[0]["error"]["name"], "NotAllowedError");
    assert!(
        items[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("is not of an allowed kind for that location"),
        "{items:?}"
    );
}

#[tokio::test]
async fn the_first_location_keeps_a_conflicting_entity() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, component("shared", "  description: from a\n")).unwrap();
    std::fs::write(&b, component("shared", "  description: from b\n")).unwrap();
    let store = memory_store().await;
    ingest(store.as_ref(), &config_with_files(&[&a], None)).await;
    ingest(store.as_ref(), &config_with_files(&[&a, &b], None)).await;

    let shared = store
        .entity_by_ref("component:default/shared")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shared["metadata"]["description"], "from a");
    assert_eq!(
        shared["metadata"]["annotations"]["backstage.io/managed-by-location"],
        format!("file:{}", a.display())
    );
}

#[tokio::test]
async fn a_dropped_entity_becomes_an_orphan_and_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(
        &file,
        format!("{}---\n{}", component("stays", ""), component("goes", "")),
    )
    .unwrap();
    let config = config_with_files(&[&file], None);
    let store = memory_store().await;
    ingest(store.as_ref(), &config).await;
    assert!(store
        .entity_by_ref("component:default/goes")
        .await
        .unwrap()
        .is_some());

    std::fs::write(&file, component("stays", "")).unwrap();
    let location = generated_location_entity(&LocationSpec {
        kind: "file".into(),
        target: file.to_string_lossy().into(),
    });
    let location_ref = greenroom_model::EntityRef::of_entity(&location)
        .unwrap()
        .canonical();
    assert!(store.schedule_refresh(&location_ref, false).await.unwrap());
    run_until_idle(store.as_ref(), &pipeline(&config))
        .await
        .unwrap();

    let orphan = store
        .entity_by_ref("component:default/goes")
        .await
        .unwrap()
        .expect("kept until cleanup");
    assert_eq!(
        orphan["metadata"]["annotations"]["backstage.io/orphan"],
        "true"
    );
    let stays = store
        .entity_by_ref("component:default/stays")
        .await
        .unwrap()
        .unwrap();
    assert!(stays["metadata"]["annotations"]
        .get("backstage.io/orphan")
        .is_none());
    assert_eq!(store.delete_orphans().await.unwrap(), 1);
    assert!(store
        .entity_by_ref("component:default/goes")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn url_locations_through_the_allow_list_and_github() {
    let web = fake_web(&[("/catalog/web.yaml", &component("from-web", ""))]).await;
    let gh = fake_github(&[(
        "acme/svc@main:catalog-info.yaml",
        &component("from-github", ""),
    )])
    .await;
    let mut config = config_from(json!({"backend": {"reading": {"allow": [{"host": web}]}}}));
    config.integrations.github.push(integration(
        &gh,
        &format!("http://{gh}/api"),
        Some("s3cret"),
    ));
    let store = memory_store().await;
    for target in [
        format!("http://{web}/catalog/web.yaml"),
        format!("http://{gh}/acme/svc/blob/main/catalog-info.yaml"),
    ] {
        let spec = LocationSpec {
            kind: "url".into(),
            target,
        };
        store
            .add_location(&spec, generated_location_entity(&spec))
            .await
            .unwrap();
    }
    run_until_idle(store.as_ref(), &pipeline(&config))
        .await
        .unwrap();

    let from_web = store
        .entity_by_ref("component:default/from-web")
        .await
        .unwrap()
        .expect("read through the allow-list");
    assert_eq!(
        from_web["metadata"]["annotations"]["backstage.io/view-url"],
        format!("http://{web}/catalog/web.yaml")
    );
    let from_github = store
        .entity_by_ref("component:default/from-github")
        .await
        .unwrap()
        .expect("read through GitHub");
    assert_eq!(
        from_github["metadata"]["annotations"]["backstage.io/edit-url"],
        format!("http://{gh}/acme/svc/edit/main/catalog-info.yaml")
    );
}

#[tokio::test]
async fn the_engine_processes_in_the_background_and_stops_on_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, component("background", "")).unwrap();
    let config = config_with_files(&[&file], None);
    let store = memory_store().await;
    register_config_locations(store.as_ref(), &config).await;

    let shutdown = CancellationToken::new();
    let handle = Engine::spawn(
        store.clone(),
        Arc::new(pipeline(&config)),
        &config,
        shutdown.clone(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store
        .entity_by_ref("component:default/background")
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the engine did not process the location in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("stops promptly")
        .unwrap();
}

#[tokio::test]
async fn disabled_processing_leaves_work_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, component("never", "")).unwrap();
    let mut config = config_with_files(&[&file], None);
    config.catalog.processing_interval = Some(json!(false));
    let store = memory_store().await;
    register_config_locations(store.as_ref(), &config).await;
    let shutdown = CancellationToken::new();
    let handle = Engine::spawn(
        store.clone(),
        Arc::new(pipeline(&config)),
        &config,
        shutdown.clone(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(store
        .entity_by_ref("component:default/never")
        .await
        .unwrap()
        .is_none());
    assert!(store.pending_work().await.unwrap().unprocessed > 0);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("stops promptly")
        .unwrap();
}

/// Panics on every read: stands in for a bug in a reader or processor.
struct PanickingReader;

#[async_trait::async_trait]
impl crate::catalog::readers::UrlReader for PanickingReader {
    async fn read_url(&self, url: &str) -> Result<String, crate::catalog::readers::ReadError> {
        panic!("reader bug while reading {url}");
    }
}

#[tokio::test]
async fn a_panic_while_processing_becomes_the_entity_error_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, component("unaffected", "")).unwrap();
    let mut config = config_with_files(&[&file], None);
    config.catalog.locations.push(
        serde_json::from_value(
            json!({"type": "url", "target": "https://example.com/catalog-info.yaml"}),
        )
        .unwrap(),
    );
    let store = memory_store().await;
    register_config_locations(store.as_ref(), &config).await;
    let pipeline = Pipeline::new(&config, Arc::new(PanickingReader));
    run_until_idle(store.as_ref(), &pipeline)
        .await
        .expect("idle");

    assert!(store
        .entity_by_ref("component:default/unaffected")
        .await
        .unwrap()
        .is_some());
    let broken = store
        .query_entities(&greenroom_store::EntityQuery {
            filter: Some(greenroom_model::filter::EntityFilter::Key {
                key: "spec.target".into(),
                values: Some(vec!["https://example.com/catalog-info.yaml".into()]),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let location = broken.items.first().expect("the url location entity");
    let items = location["status"]["items"]
        .as_array()
        .expect("status.items");
    assert!(
        items
            .iter()
            .any(|i| i["error"]["message"] == "Processing failed unexpectedly"),
        "{items:?}"
    );
}
