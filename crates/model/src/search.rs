//! The flattened, lower-cased key/value rows computed for every stitched entity
//! (reference section 2.3). They define what filters, facets, ordering and
//! full-text filtering match, identically on SQLite and PostgreSQL.

use crate::entity_ref::DEFAULT_NAMESPACE;
use crate::relations::Relation;
use crate::Entity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// One row of the search table. `value` is lower-cased (None for null leaves and
/// for values longer than 200 characters); `original_value` keeps the spelling
/// for facets and display.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchRow {
    pub key: String,
    pub value: Option<String>,
    pub original_value: Option<String>,
}

/// Search columns are indexed; longer keys are dropped and longer values nulled.
pub const MAX_KEY_LENGTH: usize = 200;
pub const MAX_VALUE_LENGTH: usize = 200;

/// Paths left out of the generic walk: either not worth indexing or always
/// emitted explicitly below (so that a missing value is searchable as null).
const SPECIAL_KEYS: [&str; 7] = [
    "attachments",
    "relations",
    "status",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.etag",
];

/// A raw (not yet lower-cased) leaf: `None` is a JSON null / missing value.
struct Kv {
    key: String,
    value: Option<String>,
}

/// Builds the search rows of a stitched entity and its outgoing relations.
/// Fails when two keys differ only in casing (Backstage rejects such entities).
pub fn build_search_rows(
    entity: &Entity,
    relations: &[Relation],
) -> Result<Vec<SearchRow>, String> {
    let mut raw = Vec::new();
    let mut seen_item_keys = HashSet::new();
    for (key, value) in entity {
        visit(key, value, &mut raw, &mut seen_item_keys);
    }

    let metadata = entity.get("metadata").and_then(Value::as_object);
    let meta_string = |field: &str| {
        metadata
            .and_then(|m| m.get(field))
            .and_then(scalar_to_string)
    };
    raw.push(Kv {
        key: "metadata.name".into(),
        value: meta_string("name"),
    });
    let namespace = meta_string("namespace");
    let namespace_missing = namespace.as_deref().is_none_or(str::is_empty);
    raw.push(Kv {
        key: "metadata.namespace".into(),
        value: namespace,
    });
    raw.push(Kv {
        key: "metadata.uid".into(),
        value: meta_string("uid"),
    });
    if namespace_missing {
        raw.push(Kv {
            key: "metadata.namespace".into(),
            value: Some(DEFAULT_NAMESPACE.into()),
        });
    }
    for relation in relations {
        raw.push(Kv {
            key: format!("relations.{}", relation.relation_type),
            value: Some(relation.target_ref.clone()),
        });
    }

    check_case_duplicates(&raw)?;

    let mut seen_rows = HashSet::new();
    let mut rows = Vec::with_capacity(raw.len());
    for kv in raw {
        let key = kv.key.to_lowercase();
        if key.chars().count() > MAX_KEY_LENGTH {
            continue;
        }
        let (value, original_value) = match kv.value {
            Some(v) => {
                let lower = v.to_lowercase();
                if lower.chars().count() <= MAX_VALUE_LENGTH {
                    (Some(lower), Some(v))
                } else {
                    (None, None)
                }
            }
            None => (None, None),
        };
        // Identical (key, value) pairs, e.g. from a repeated tag, are stored once.
        if seen_rows.insert((key.clone(), value.clone())) {
            rows.push(SearchRow {
                key,
                value,
                original_value,
            });
        }
    }
    Ok(rows)
}

fn visit(path: &str, current: &Value, out: &mut Vec<Kv>, seen_item_keys: &mut HashSet<String>) {
    if SPECIAL_KEYS.contains(&path) {
        return;
    }
    match current {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push(Kv {
                key: path.to_string(),
                value: scalar_to_string(current),
            });
        }
        Value::Array(items) => {
            for item in items {
                // Arrays keep the path of the array itself; string items are also
                // emitted as `path.<item>` = true so several can be required at once.
                visit(path, item, out, seen_item_keys);
                if let Value::String(s) = item {
                    let item_key = format!("{path}.{s}");
                    if seen_item_keys.insert(item_key.to_lowercase()) {
                        out.push(Kv {
                            key: item_key,
                            value: Some("true".into()),
                        });
                    }
                }
            }
        }
        Value::Object(map) => {
            for (key, value) in map {
                visit(&format!("{path}.{key}"), value, out, seen_item_keys);
            }
        }
    }
}

/// JavaScript's `String(value)` for scalars; None for null and containers.
pub(crate) fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(js_number_string(n)),
        _ => None,
    }
}

/// Whole floats print without a fraction, as in JavaScript (`1.0` → `1`).
fn js_number_string(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e21 => {
            format!("{f:.0}")
        }
        _ => n.to_string(),
    }
}

fn check_case_duplicates(raw: &[Kv]) -> Result<(), String> {
    let mut spellings: HashSet<&str> = HashSet::new();
    let mut lowers: HashSet<String> = HashSet::new();
    let mut duplicates: Vec<String> = Vec::new();
    for kv in raw {
        if !spellings.insert(kv.key.as_str()) {
            continue; // the same spelling repeated (arrays, relations) is fine
        }
        let lower = kv.key.to_lowercase();
        if !lowers.insert(lower.clone()) && !duplicates.contains(&lower) {
            duplicates.push(lower);
        }
    }
    if duplicates.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Entity has duplicate keys that vary only in casing, '{}'",
        duplicates.join("', '")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(v: Value) -> Entity {
        v.as_object().unwrap().clone()
    }

    fn row(key: &str, value: Option<&str>, original: Option<&str>) -> SearchRow {
        SearchRow {
            key: key.into(),
            value: value.map(Into::into),
            original_value: original.map(Into::into),
        }
    }

    fn find<'a>(rows: &'a [SearchRow], key: &str) -> Vec<&'a SearchRow> {
        rows.iter().filter(|r| r.key == key).collect()
    }

    #[test]
    fn walks_leaves_arrays_and_special_keys() {
        let e = entity(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "Artist-Web", "namespace": "default", "uid": "u-1", "etag": "e",
                "tags": ["Java", "data", "java"],
                "annotations": {"backstage.io/orphan": "true"},
                "nothing": null
            },
            "spec": {"type": "service", "items": [{"i": 1, "j": "K"}, {"i": 2.0, "j": "l"}], "flag": false},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/x"}],
            "status": {"items": []}
        }));
        let rel = Relation {
            source_ref: "component:default/artist-web".into(),
            relation_type: "ownedBy".into(),
            target_ref: "group:default/team-a".into(),
        };
        let rows = build_search_rows(&e, &[rel]).unwrap();
        assert_eq!(
            rows,
            vec![
                row(
                    "apiversion",
                    Some("backstage.io/v1alpha1"),
                    Some("backstage.io/v1alpha1")
                ),
                row("kind", Some("component"), Some("Component")),
                row("metadata.tags", Some("java"), Some("Java")),
                row("metadata.tags.java", Some("true"), Some("true")),
                row("metadata.tags", Some("data"), Some("data")),
                row("metadata.tags.data", Some("true"), Some("true")),
                row(
                    "metadata.annotations.backstage.io/orphan",
                    Some("true"),
                    Some("true")
                ),
                row("metadata.nothing", None, None),
                row("spec.type", Some("service"), Some("service")),
                row("spec.items.i", Some("1"), Some("1")),
                row("spec.items.j", Some("k"), Some("K")),
                row("spec.items.i", Some("2"), Some("2")),
                row("spec.items.j", Some("l"), Some("l")),
                row("spec.flag", Some("false"), Some("false")),
                row("metadata.name", Some("artist-web"), Some("Artist-Web")),
                row("metadata.namespace", Some("default"), Some("default")),
                row("metadata.uid", Some("u-1"), Some("u-1")),
                row(
                    "relations.ownedby",
                    Some("group:default/team-a"),
                    Some("group:default/team-a")
                ),
            ]
        );
    }

    #[test]
    fn missing_namespace_and_uid_are_searchable() {
        let e = entity(json!({"kind": "User", "metadata": {"name": "a"}}));
        let rows = build_search_rows(&e, &[]).unwrap();
        assert_eq!(
            find(&rows, "metadata.namespace"),
            vec![
                &row("metadata.namespace", None, None),
                &row("metadata.namespace", Some("default"), Some("default"))
            ]
        );
        assert_eq!(
            find(&rows, "metadata.uid"),
            vec![&row("metadata.uid", None, None)]
        );
    }

    #[test]
    fn long_values_are_nulled_and_long_keys_dropped() {
        let long = "x".repeat(201);
        let ok = "y".repeat(200);
        let e = entity(
            json!({"kind": "A", "metadata": {"name": "a", "annotations": {"v": long, "w": ok}},
            "spec": {long.clone(): "z"}}),
        );
        let rows = build_search_rows(&e, &[]).unwrap();
        assert_eq!(
            find(&rows, "metadata.annotations.v"),
            vec![&row("metadata.annotations.v", None, None)]
        );
        assert_eq!(
            find(&rows, "metadata.annotations.w")[0].value.as_deref(),
            Some(ok.as_str())
        );
        assert!(rows.iter().all(|r| !r.key.starts_with("spec.")));
    }

    #[test]
    fn keys_varying_only_in_case_are_rejected() {
        let e = entity(
            json!({"kind": "A", "metadata": {"name": "a"}, "spec": {"foo": 1, "Foo": 2, "bar": 1, "BAR": 2}}),
        );
        assert_eq!(
            build_search_rows(&e, &[]).unwrap_err(),
            "Entity has duplicate keys that vary only in casing, 'spec.foo', 'spec.bar'"
        );
    }

    #[test]
    fn duplicate_rows_are_stored_once() {
        let e = entity(json!({"kind": "A", "metadata": {"name": "a", "tags": ["x", "x"]}}));
        let rows = build_search_rows(&e, &[]).unwrap();
        assert_eq!(find(&rows, "metadata.tags").len(), 1);
        assert_eq!(find(&rows, "metadata.tags.x").len(), 1);
    }
}
