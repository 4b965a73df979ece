//! The demo catalog must be something Backstage accepts as is: every file the
//! root Location lists exists, every entity is well-formed, and every spec
//! reference resolves inside the demo.

use std::path::{Path, PathBuf};

use greenroom_bench::check::check_entities;
use serde_json::Value;

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/catalog")
}

fn read_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

fn demo_entities() -> Vec<Value> {
    let root = read_documents(&demo_dir().join("all.yaml"));
    assert_eq!(root.len(), 1, "all.yaml holds exactly the root Location");
    assert_eq!(root[0]["kind"], "Location");
    let targets = root[0]["spec"]["targets"].as_array().expect("spec.targets");
    let mut entities = root.clone();
    for target in targets {
        let target = target.as_str().expect("target is a string");
        assert!(
            !target.starts_with('/') && !target.contains("://"),
            "targets are relative: {target}"
        );
        entities.extend(read_documents(&demo_dir().join(target)));
    }
    entities
}

#[test]
fn demo_catalog_is_valid_and_closed() {
    let entities = demo_entities();
    let problems = check_entities(&entities);
    assert!(
        problems.is_empty(),
        "demo catalog problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn demo_catalog_has_the_promised_shape() {
    let entities = demo_entities();
    let count = |kind: &str| entities.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(count("Domain"), 2);
    assert!((3..=4).contains(&count("System")));
    // Ten demo services and libraries, and Greenroom itself (documented).
    assert!((8..=11).contains(&count("Component")));
    assert!(count("Group") >= 5 && count("User") >= 10);
    assert!(count("Resource") >= 4);
    let component_types: Vec<&str> = entities
        .iter()
        .filter(|e| e["kind"] == "Component")
        .filter_map(|e| e["spec"]["type"].as_str())
        .collect();
    for expected in ["service", "website", "library"] {
        assert!(
            component_types.contains(&expected),
            "no {expected} component"
        );
    }
}

#[test]
fn group_parents_and_children_agree() {
    let entities = demo_entities();
    for group in entities.iter().filter(|e| e["kind"] == "Group") {
        let name = group["metadata"]["name"].as_str().unwrap();
        for child in group["spec"]["children"].as_array().unwrap() {
            let child_entity = entities
                .iter()
                .find(|e| e["kind"] == "Group" && e["metadata"]["name"] == *child)
                .unwrap_or_else(|| panic!("child {child} of {name} missing"));
            assert_eq!(child_entity["spec"]["parent"], name, "parent of {child}");
        }
    }
}

/// Each inline API definition must be a real document of its declared type,
/// not a placeholder: YAML ones parse and carry their spec version and
/// operations, proto and GraphQL ones declare services and types.
#[test]
fn api_definitions_are_complete_documents() {
    let entities = demo_entities();
    let apis: Vec<&Value> = entities.iter().filter(|e| e["kind"] == "API").collect();
    let mut seen_types = Vec::new();
    for api in apis {
        let name = api["metadata"]["name"].as_str().unwrap();
        let kind = api["spec"]["type"].as_str().unwrap();
        let definition = api["spec"]["definition"].as_str().unwrap();
        seen_types.push(kind.to_string());
        match kind {
            "openapi" => {
                let doc: Value = serde_saphyr::from_str(definition)
                    .unwrap_or_else(|e| panic!("{name}: definition is not YAML: {e}"));
                assert!(
                    doc["openapi"].as_str().unwrap().starts_with("3.0"),
                    "{name}"
                );
                assert!(doc["paths"].as_object().unwrap().len() >= 3, "{name} paths");
                assert!(doc["tags"].as_array().unwrap().len() >= 2, "{name} tags");
                assert!(
                    doc["components"]["schemas"].as_object().unwrap().len() >= 4,
                    "{name}"
                );
                assert_local_refs_resolve(name, &doc, &doc);
            }
            "asyncapi" => {
                let doc: Value = serde_saphyr::from_str(definition)
                    .unwrap_or_else(|e| panic!("{name}: definition is not YAML: {e}"));
                assert!(
                    doc["asyncapi"].as_str().unwrap().starts_with("2.6"),
                    "{name}"
                );
                assert!(!doc["channels"].as_object().unwrap().is_empty(), "{name}");
                assert!(!doc["components"]["messages"]
                    .as_object()
                    .unwrap()
                    .is_empty());
                assert_local_refs_resolve(name, &doc, &doc);
            }
            "grpc" => {
                assert!(definition.contains("syntax = \"proto3\";"), "{name}");
                assert!(definition.contains("service "), "{name}");
                assert_eq!(
                    definition.matches('{').count(),
                    definition.matches('}').count()
                );
            }
            "graphql" => {
                assert!(definition.contains("type Query"), "{name}");
                assert_eq!(
                    definition.matches('{').count(),
                    definition.matches('}').count()
                );
            }
            other => panic!("{name}: unexpected API type {other}"),
        }
    }
    seen_types.sort();
    assert_eq!(
        seen_types,
        ["asyncapi", "graphql", "grpc", "openapi", "openapi"]
    );
}

/// Every `$ref: '#/a/b'` inside a document points at an existing node.
fn assert_local_refs_resolve(api: &str, root: &Value, node: &Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let pointer = r
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{api}: external ref {r}"));
                assert!(root.pointer(pointer).is_some(), "{api}: dangling $ref {r}");
            }
            map.values()
                .for_each(|v| assert_local_refs_resolve(api, root, v));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_local_refs_resolve(api, root, v)),
        _ => {}
    }
}
