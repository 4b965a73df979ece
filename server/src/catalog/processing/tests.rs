//! Pipeline tests without a store: stages, location reading, placeholders,
//! rules, the synchronous API operations and URL reading through fakes.

use std::path::Path;
use std::sync::Arc;

use greenroom_model::{Entity, EntityRef};
use greenroom_store::{ClaimedEntity, LocationSpec, ProcessedResult};
use serde_json::{json, Value};

use super::*;
use crate::catalog::readers::tests::{fake_github, fake_web, integration};
use crate::catalog::readers::CompositeReader;
use crate::config::Config;

pub(crate) fn config_from(value: Value) -> Config {
    serde_json::from_value(value).expect("test config")
}

/// Allows every kind the tests use.
pub(crate) fn permissive_config() -> Config {
    config_from(
        json!({"catalog": {"rules": [{"allow": ["Component", "API", "Location", "Group", "User", "System", "Resource", "Domain"]}]}}),
    )
}

pub(crate) fn pipeline(config: &Config) -> Pipeline {
    Pipeline::try_new(config, Arc::new(CompositeReader::from_config(config))).expect("valid config")
}

fn claimed(entity: Entity) -> ClaimedEntity {
    ClaimedEntity {
        entity_id: "test-id".into(),
        entity_ref: EntityRef::of_entity(&entity).unwrap().canonical(),
        unprocessed: entity,
        location_key: None,
        result_hash: None,
        claim_token: "test-claim".into(),
    }
}

fn file_spec(path: &Path) -> LocationSpec {
    LocationSpec {
        kind: "file".into(),
        target: path.to_string_lossy().into_owned(),
    }
}

fn entity_from(value: Value) -> Entity {
    serde_json::from_value(value).unwrap()
}

fn annotation_of<'a>(entity: &'a Entity, key: &str) -> Option<&'a str> {
    entity["metadata"]["annotations"]
        .get(key)
        .and_then(Value::as_str)
}

fn child_refs(result: &ProcessedResult) -> Vec<String> {
    result
        .children
        .iter()
        .map(|c| c.entity_ref().to_string())
        .collect()
}

const MULTI_DOC: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: artist-web
spec:
  type: website
  lifecycle: production
  owner: team-a
  providesApis: [artist-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: artist-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: openapi
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
";

#[tokio::test]
async fn file_location_reads_every_document_and_annotates_children() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, MULTI_DOC).unwrap();
    let spec = file_spec(&file);
    let pipeline = pipeline(&permissive_config());

    let result = pipeline
        .process(&claimed(generated_location_entity(&spec)))
        .await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let processed = result.processed.as_ref().unwrap();
    assert_eq!(processed["metadata"]["namespace"], "default");
    assert_eq!(
        child_refs(&result),
        vec![
            "component:default/artist-web",
            "api:default/artist-api",
            "group:default/team-a"
        ]
    );
    let location = format!("file:{}", file.display());
    for child in &result.children {
        assert_eq!(child.location_key.as_deref(), Some(location.as_str()));
        assert_eq!(
            annotation_of(&child.entity(), "backstage.io/managed-by-location"),
            Some(location.as_str())
        );
        assert_eq!(
            annotation_of(&child.entity(), "backstage.io/managed-by-origin-location"),
            Some(location.as_str())
        );
    }
    assert!(result.refresh_keys.is_empty());

    // The component's own processing emits its relations, both directions.
    let component = pipeline
        .process(&claimed(result.children[0].entity()))
        .await;
    assert!(component.errors.is_empty(), "{:?}", component.errors);
    let relations: Vec<(String, String, String)> = component
        .relations
        .iter()
        .map(|r| {
            (
                r.source_ref.clone(),
                r.relation_type.clone(),
                r.target_ref.clone(),
            )
        })
        .collect();
    for expected in [
        (
            "component:default/artist-web",
            "ownedBy",
            "group:default/team-a",
        ),
        (
            "group:default/team-a",
            "ownerOf",
            "component:default/artist-web",
        ),
        (
            "component:default/artist-web",
            "providesApi",
            "api:default/artist-api",
        ),
        (
            "api:default/artist-api",
            "apiProvidedBy",
            "component:default/artist-web",
        ),
    ] {
        assert!(
            relations.contains(&(
                expected.0.to_string(),
                expected.1.to_string(),
                expected.2.to_string()
            )),
            "missing {expected:?} in {relations:?}"
        );
    }
    // File locations get no URL annotations.
    let processed = component.processed.unwrap();
    assert_eq!(annotation_of(&processed, "backstage.io/view-url"), None);
}

#[tokio::test]
async fn nested_location_resolves_relative_targets_against_its_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("root/team")).unwrap();
    std::fs::create_dir_all(dir.path().join("shared")).unwrap();
    std::fs::write(
        dir.path().join("root/all.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: nested\nspec:\n  targets:\n    - ./team/a.yaml\n    - ../shared/b.yaml\n",
    )
    .unwrap();
    let component = |name: &str| {
        format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n")
    };
    std::fs::write(dir.path().join("root/team/a.yaml"), component("a")).unwrap();
    std::fs::write(dir.path().join("shared/b.yaml"), component("b")).unwrap();
    let pipeline = pipeline(&permissive_config());
    let root = file_spec(&dir.path().join("root/all.yaml"));

    let first = pipeline
        .process(&claimed(generated_location_entity(&root)))
        .await;
    assert_eq!(child_refs(&first), vec!["location:default/nested"]);
    let nested = pipeline.process(&claimed(first.children[0].entity())).await;
    assert!(nested.errors.is_empty(), "{:?}", nested.errors);
    // spec.type defaulted to the parent location's type (file).
    assert_eq!(nested.processed.as_ref().unwrap()["spec"].get("type"), None);
    assert_eq!(
        child_refs(&nested),
        vec!["component:default/a", "component:default/b"]
    );
    let a_location = format!("file:{}", dir.path().join("root/team/a.yaml").display());
    let b_location = format!("file:{}", dir.path().join("shared/b.yaml").display());
    assert_eq!(
        nested.children[0].location_key.as_deref(),
        Some(a_location.as_str())
    );
    assert_eq!(
        nested.children[1].location_key.as_deref(),
        Some(b_location.as_str())
    );
    let origin = format!("file:{}", dir.path().join("root/all.yaml").display());
    assert_eq!(
        annotation_of(
            &nested.children[1].entity(),
            "backstage.io/managed-by-origin-location"
        ),
        Some(origin.as_str())
    );
}

#[tokio::test]
async fn glob_targets_read_every_match() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["first", "second"] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"),
        )
        .unwrap();
    }
    let spec = LocationSpec {
        kind: "file".into(),
        target: format!("{}/*.yaml", dir.path().display()),
    };
    let result = pipeline(&permissive_config())
        .process(&claimed(generated_location_entity(&spec)))
        .await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(
        child_refs(&result),
        vec!["component:default/first", "component:default/second"]
    );
    assert_eq!(
        result.children[1].location_key,
        Some(format!("file:{}", dir.path().join("second.yaml").display()))
    );
}

fn file_entity(dir: &Path, value: Value) -> Entity {
    let location = format!("file:{}", dir.join("catalog-info.yaml").display());
    let mut entity = entity_from(value);
    entity["metadata"]["annotations"] = json!({
        "backstage.io/managed-by-location": location,
        "backstage.io/managed-by-origin-location": location,
    });
    entity
}

#[tokio::test]
async fn text_json_and_yaml_placeholders_are_substituted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(
        dir.path().join("specs/openapi.yaml"),
        "openapi: 3.0.0\ninfo:\n  title: Petstore\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("specs/data.json"), r#"{"a": [1, 2]}"#).unwrap();
    std::fs::write(dir.path().join("specs/data.yaml"), "b: true\n").unwrap();
    let entity = file_entity(
        dir.path(),
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "petstore"},
            "spec": {
                "type": "openapi", "lifecycle": "production", "owner": "team-a",
                "definition": {"$text": "./specs/openapi.yaml"},
                "extras": [{"$json": "specs/data.json"}, {"$yaml": "./specs/data.yaml"}],
                "untouched": {"$text": "x", "other": 1},
                "unknownResolver": {"$foo": "bar"}
            }
        }),
    );
    let result = pipeline(&permissive_config())
        .process(&claimed(entity))
        .await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let spec = &result.processed.unwrap()["spec"];
    assert_eq!(
        spec["definition"],
        "openapi: 3.0.0\ninfo:\n  title: Petstore\n"
    );
    assert_eq!(spec["extras"], json!([{"a": [1, 2]}, {"b": true}]));
    assert_eq!(spec["untouched"], json!({"$text": "x", "other": 1}));
    assert_eq!(spec["unknownResolver"], json!({"$foo": "bar"}));
}

#[tokio::test]
async fn placeholder_failures_fail_the_entity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    std::fs::write(dir.path().join("two.yaml"), "a: 1\n---\nb: 2\n").unwrap();
    let api = |definition: Value| {
        file_entity(
            dir.path(),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "p"},
                   "spec": {"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": definition}}),
        )
    };
    let pipeline = pipeline(&permissive_config());

    let missing = pipeline
        .process(&claimed(api(json!({"$text": "./missing.yaml"}))))
        .await;
    assert!(missing.processed.is_none());
    assert_eq!(missing.errors.len(), 1);
    assert_eq!(missing.errors[0].name, "InputError");
    assert_eq!(
        missing.errors[0].message,
        format!(
            "Processor PlaceholderProcessor threw an error while preprocessing; caused by Error: Placeholder $text could not read location ./missing.yaml, NotFoundError: file {} does not exist",
            dir.path().join("missing.yaml").display()
        )
    );

    let bad_json = pipeline
        .process(&claimed(api(json!({"$json": "./bad.json"}))))
        .await;
    assert!(
        bad_json.errors[0]
            .message
            .contains("Placeholder $json failed to parse JSON data at ./bad.json"),
        "{:?}",
        bad_json.errors
    );

    let two_docs = pipeline
        .process(&claimed(api(json!({"$yaml": "./two.yaml"}))))
        .await;
    assert!(
        two_docs.errors[0]
            .message
            .ends_with("Placeholder $yaml expected to find exactly one document of data, found 2"),
        "{:?}",
        two_docs.errors
    );
}

#[tokio::test]
async fn catalog_rules_refuse_a_kind_with_not_allowed_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.yaml");
    std::fs::write(
        &file,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: fine\nspec:\n  type: service\n  lifecycle: production\n  owner: x\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: jdoe\nspec:\n  memberOf: []\n",
    )
    .unwrap();
    let spec = file_spec(&file);
    // Default rules: Component, API, Location only.
    let result = pipeline(&Config::default())
        .process(&claimed(generated_location_entity(&spec)))
        .await;
    assert!(result.processed.is_none());
    assert!(
        result.children.is_empty(),
        "a refused child fails the whole location"
    );
    let location = format!("file:{}", file.display());
    assert_eq!(result.errors.len(), 1);
    assert_eq!(result.errors[0].name, "NotAllowedError");
    assert_eq!(
        result.errors[0].message,
        format!("Entity user:default/jdoe at {location}, originated at {location}, is not of an allowed kind for that location")
    );

    // A per-location rule in catalog.locations allows it for exactly that location.
    let config = config_from(json!({"catalog": {"locations": [
        {"type": "file", "target": file.to_string_lossy(), "rules": [{"allow": ["User"]}]}
    ]}}));
    let allowed = pipeline(&config)
        .process(&claimed(generated_location_entity(&spec)))
        .await;
    assert!(allowed.errors.is_empty(), "{:?}", allowed.errors);
    assert_eq!(
        child_refs(&allowed),
        vec!["component:default/fine", "user:default/jdoe"]
    );
}

#[tokio::test]
async fn missing_targets_are_not_found_unless_optional() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let pipeline = pipeline(&permissive_config());
    let required = pipeline
        .process(&claimed(generated_location_entity(&file_spec(&missing))))
        .await;
    assert!(required.processed.is_none());
    assert_eq!(required.errors[0].name, "NotFoundError");
    assert_eq!(
        required.errors[0].message,
        format!("file {} does not exist", missing.display())
    );

    let mut optional = generated_location_entity(&file_spec(&missing));
    optional["spec"]["presence"] = json!("optional");
    let result = pipeline.process(&claimed(optional)).await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert!(result.processed.is_some());
    assert!(result.children.is_empty());
}

#[tokio::test]
async fn bad_documents_fail_the_location() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(&permissive_config());

    let scalar = dir.path().join("scalar.yaml");
    std::fs::write(&scalar, "just a string\n").unwrap();
    let result = pipeline
        .process(&claimed(generated_location_entity(&file_spec(&scalar))))
        .await;
    assert_eq!(
        result.errors[0].message,
        "Expected object at root, got string"
    );
    assert!(result.processed.is_none());

    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: [unclosed\n").unwrap();
    let result = pipeline
        .process(&claimed(generated_location_entity(&file_spec(&broken))))
        .await;
    assert!(
        result.errors[0]
            .message
            .starts_with(&format!("YAML error at file:{}, ", broken.display())),
        "{:?}",
        result.errors
    );

    let no_name = dir.path().join("noname.yaml");
    std::fs::write(
        &no_name,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {}\n",
    )
    .unwrap();
    let result = pipeline
        .process(&claimed(generated_location_entity(&file_spec(&no_name))))
        .await;
    assert!(
        result.errors[0]
            .message
            .contains("/metadata must have required property 'name'"),
        "{:?}",
        result.errors
    );

    let unknown = LocationSpec {
        kind: "ftp".into(),
        target: "ftp://example.com/a.yaml".into(),
    };
    let result = pipeline
        .process(&claimed(generated_location_entity(&unknown)))
        .await;
    assert_eq!(
        result.errors[0].message,
        "No processor was able to handle reading of ftp:ftp://example.com/a.yaml"
    );
}

#[tokio::test]
async fn invalid_entities_fail_with_validation_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(&permissive_config());
    let invalid = file_entity(
        dir.path(),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "Not A Valid Name!"},
               "spec": {"type": "service", "lifecycle": "production", "owner": "x"}}),
    );
    let result = pipeline.process(&claimed(invalid)).await;
    assert!(result.processed.is_none());
    assert!(!result.errors.is_empty());
    assert!(
        result
            .errors
            .iter()
            .any(|e| e.message.contains("metadata.name")),
        "{:?}",
        result.errors
    );

    let no_location = entity_from(
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"}}),
    );
    let result = pipeline.process(&claimed(no_location)).await;
    assert_eq!(
        result.errors[0].message,
        "Entity 'component:default/a' does not have a location, annotation backstage.io/managed-by-location"
    );

    let not_an_envelope = entity_from(json!({"kind": "Component", "metadata": {"name": "a"}}));
    let result = pipeline.process(&claimed(not_an_envelope)).await;
    assert_eq!(
        result.errors[0].message,
        "Entity envelope failed validation before processing; caused by TypeError: <root> must have required property 'apiVersion'"
    );
}

#[tokio::test]
async fn result_hash_is_stable_and_tracks_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, MULTI_DOC).unwrap();
    let pipeline = pipeline(&permissive_config());
    let item = claimed(generated_location_entity(&file_spec(&file)));
    let first = pipeline.process(&item).await;
    let second = pipeline.process(&item).await;
    assert_eq!(first.result_hash, second.result_hash);
    assert!((100..=150).contains(&first.next_refresh_secs));
    std::fs::write(&file, MULTI_DOC.replace("artist-web", "artist-web-2")).unwrap();
    let changed = pipeline.process(&item).await;
    assert_ne!(first.result_hash, changed.result_hash);
}

const REMOTE_DOC: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: remote
spec:
  type: service
  lifecycle: production
  owner: team-a
";

#[tokio::test]
async fn url_location_through_the_allow_list() {
    let web = fake_web(&[("/catalog/all.yaml", REMOTE_DOC)]).await;
    let config = config_from(json!({"backend": {"reading": {"allow": [{"host": web}]}}}));
    let pipeline = pipeline(&config);
    let target = format!("http://{web}/catalog/all.yaml");
    let spec = LocationSpec {
        kind: "url".into(),
        target: target.clone(),
    };

    let result = pipeline
        .process(&claimed(generated_location_entity(&spec)))
        .await;
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(result.refresh_keys, vec![format!("url:{target}")]);
    assert_eq!(child_refs(&result), vec!["component:default/remote"]);

    let child = pipeline
        .process(&claimed(result.children[0].entity()))
        .await;
    let processed = child.processed.unwrap();
    assert_eq!(
        annotation_of(&processed, "backstage.io/view-url"),
        Some(target.as_str())
    );
    // No SCM integration for this host: no source-location or edit-url (as Backstage).
    assert_eq!(
        annotation_of(&processed, "backstage.io/source-location"),
        None
    );
    assert_eq!(annotation_of(&processed, "backstage.io/edit-url"), None);

    let denied = LocationSpec {
        kind: "url".into(),
        target: "http://127.0.0.1:1/catalog/all.yaml".into(),
    };
    let result = pipeline
        .process(&claimed(generated_location_entity(&denied)))
        .await;
    assert_eq!(result.errors[0].name, "NotAllowedError");
    assert!(result.errors[0].message.starts_with("Unable to read url, NotAllowedError: Reading from 'http://127.0.0.1:1/catalog/all.yaml' is not allowed."), "{:?}", result.errors);

    let missing = LocationSpec {
        kind: "url".into(),
        target: format!("http://{web}/catalog/missing.yaml"),
    };
    let result = pipeline
        .process(&claimed(generated_location_entity(&missing)))
        .await;
    assert_eq!(result.errors[0].name, "NotFoundError");
}

#[tokio::test]
async fn url_location_through_github_with_token() {
    let gh = fake_github(&[
        ("acme/svc@main:catalog/all.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets: [./api.yaml, /root.yaml]\n"),
        ("acme/svc@main:catalog/api.yaml", "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: svc-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: ./openapi.yaml\n"),
        ("acme/svc@main:catalog/openapi.yaml", "openapi: 3.0.0\n"),
        ("acme/svc@main:root.yaml", REMOTE_DOC),
    ])
    .await;
    let mut config = permissive_config();
    config.integrations.github.push(integration(
        &gh,
        &format!("http://{gh}/api"),
        Some("s3cret"),
    ));
    let pipeline = pipeline(&config);
    let target = format!("http://{gh}/acme/svc/blob/main/catalog/all.yaml");
    let spec = LocationSpec {
        kind: "url".into(),
        target: target.clone(),
    };

    let entities = pipeline.dry_run_location(&spec).await.unwrap();
    let refs: Vec<String> = entities
        .iter()
        .map(|e| EntityRef::of_entity(e).unwrap().canonical())
        .collect();
    assert_eq!(refs.len(), 4, "{refs:?}");
    assert!(refs[0].starts_with("location:default/generated-"));
    assert_eq!(refs[1], "location:default/more");
    // Depth-first, last emitted first, like Backstage's dry run.
    assert_eq!(
        &refs[2..],
        ["component:default/remote", "api:default/svc-api"]
    );
    let api = &entities[3];
    assert_eq!(api["spec"]["definition"], "openapi: 3.0.0\n");
    assert_eq!(
        annotation_of(api, "backstage.io/edit-url"),
        Some(format!("http://{gh}/acme/svc/edit/main/catalog/api.yaml").as_str())
    );
    assert_eq!(
        annotation_of(api, "backstage.io/source-location"),
        Some(format!("url:http://{gh}/acme/svc/tree/main/catalog/").as_str())
    );
    assert_eq!(
        annotation_of(api, "backstage.io/managed-by-origin-location"),
        Some(format!("url:{target}").as_str())
    );
    assert_eq!(
        annotation_of(&entities[2], "backstage.io/managed-by-location"),
        Some(format!("url:http://{gh}/acme/svc/blob/main/root.yaml").as_str())
    );

    // Without the token the fake answers 401: the location reports the read error.
    let mut anonymous = permissive_config();
    anonymous
        .integrations
        .github
        .push(integration(&gh, &format!("http://{gh}/api"), None));
    let errors = self::pipeline(&anonymous)
        .dry_run_location(&spec)
        .await
        .unwrap_err();
    assert_eq!(errors[0].name, "Error");
    assert!(errors[0].message.contains("401 Unauthorized"), "{errors:?}");
}

#[tokio::test]
async fn dry_run_rejects_duplicate_nested_entities() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), REMOTE_DOC).unwrap();
    std::fs::write(dir.path().join("b.yaml"), REMOTE_DOC).unwrap();
    let spec = LocationSpec {
        kind: "file".into(),
        target: format!("{}/*.yaml", dir.path().display()),
    };
    let errors = pipeline(&permissive_config())
        .dry_run_location(&spec)
        .await
        .unwrap_err();
    assert_eq!(
        errors,
        vec![greenroom_store::ProcessingError {
            name: "InputError".into(),
            message: "Duplicate nested entity: component:default/remote".into()
        }]
    );
}

#[tokio::test]
async fn validate_entity_requires_a_url_location_and_runs_the_pipeline() {
    let pipeline = pipeline(&permissive_config());
    let valid = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"},
                       "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}});
    pipeline
        .validate_entity(valid.clone(), "url:https://example.com/catalog-info.yaml")
        .await
        .unwrap();

    let errors = pipeline
        .validate_entity(valid.clone(), "file:/tmp/a.yaml")
        .await
        .unwrap_err();
    assert_eq!(
        errors[0].message,
        "Invalid location ref file:/tmp/a.yaml, only 'url:<target>' is supported, e.g. url:https://host/path"
    );
    let errors = pipeline
        .validate_entity(valid, "nonsense")
        .await
        .unwrap_err();
    assert!(
        errors[0]
            .message
            .starts_with("Unable to parse location ref 'nonsense'"),
        "{errors:?}"
    );

    let invalid = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"},
                         "spec": {"type": "service", "lifecycle": "production"}});
    let errors = pipeline
        .validate_entity(invalid, "url:https://example.com/catalog-info.yaml")
        .await
        .unwrap_err();
    assert!(!errors.is_empty());
    let errors = pipeline
        .validate_entity(json!([1]), "url:https://example.com/x.yaml")
        .await
        .unwrap_err();
    assert_eq!(errors[0].name, "InputError");
}

#[tokio::test]
async fn analyze_location_reads_the_repository_catalog_file() {
    let gh = fake_github(&[("acme/svc@HEAD:catalog-info.yaml", REMOTE_DOC)]).await;
    let mut config = permissive_config();
    config.integrations.github.push(integration(
        &gh,
        &format!("http://{gh}/api"),
        Some("s3cret"),
    ));
    let pipeline = pipeline(&config);

    let repo = LocationSpec {
        kind: "url".into(),
        target: format!("http://{gh}/acme/svc"),
    };
    let found = pipeline.analyze_location(&repo, None).await.unwrap();
    let file = format!("http://{gh}/acme/svc/blob/HEAD/catalog-info.yaml");
    assert_eq!(found["generateEntities"], json!([]));
    assert_eq!(
        found["existingEntityFiles"][0]["location"],
        json!({"type": "url", "target": file})
    );
    assert_eq!(found["existingEntityFiles"][0]["isRegistered"], false);
    assert_eq!(
        found["existingEntityFiles"][0]["entity"]["metadata"]["name"],
        "remote"
    );

    let other = LocationSpec {
        kind: "url".into(),
        target: format!("http://{gh}/acme/other"),
    };
    let generated = pipeline
        .analyze_location(&other, Some("backstage.yaml".into()))
        .await
        .unwrap();
    assert_eq!(generated["existingEntityFiles"], json!([]));
    assert_eq!(
        generated["generateEntities"],
        json!([{"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                           "metadata": {"name": "other", "annotations": {"github.com/project-slug": "acme/other"}},
                           "spec": {"type": "other", "lifecycle": "unknown"}}, "fields": []}])
    );

    let not_url = LocationSpec {
        kind: "url".into(),
        target: "not a url".into(),
    };
    let err = pipeline.analyze_location(&not_url, None).await.unwrap_err();
    assert_eq!(
        (err.name.as_str(), err.message.as_str()),
        ("InputError", "The given location.target is not a URL")
    );
}

#[test]
fn config_locations_become_generated_location_entities() {
    let config = config_from(json!({"catalog": {"locations": [
        {"type": "file", "target": "./catalog/../examples/all.yaml"},
        {"type": "url", "target": "https://example.com/catalog-info.yaml"}
    ]}}));
    let entities = config_location_entities(&config);
    let cwd = std::env::current_dir().unwrap();
    let file_target = cwd.join("examples/all.yaml").to_string_lossy().into_owned();
    assert_eq!(
        entities[0].location_key,
        Some(format!("file:{file_target}"))
    );
    assert_eq!(
        entities[0].entity()["spec"],
        json!({"type": "file", "target": file_target})
    );
    assert_eq!(
        entities[1].entity(),
        generated_location_entity(&LocationSpec {
            kind: "url".into(),
            target: "https://example.com/catalog-info.yaml".into()
        })
    );
    assert_eq!(CONFIG_LOCATIONS_PROVIDER, "config-locations");
}

#[test]
fn invalid_configuration_is_refused_by_try_new() {
    let config = config_from(json!({"catalog": {"processingInterval": {"weeks": 1}}}));
    let reader = Arc::new(CompositeReader::from_config(&config));
    let err = Pipeline::try_new(&config, reader.clone()).err().unwrap();
    assert!(err.contains("unknown duration unit 'weeks'"), "{err}");
    // `new` falls back to the default instead of failing.
    assert_eq!(
        Pipeline::new(&config, reader).interval(),
        ProcessingInterval::default()
    );
    let disabled = config_from(json!({"catalog": {"processingInterval": false}}));
    assert!(!pipeline(&disabled).interval().is_enabled());
}
