//! The final ("stitched") entity served by the API (reference section 3.3):
//! processed entity + its outgoing relations + processing errors + uid +
//! orphan mark, with an etag that is a hash of everything else.

use crate::annotations::{EDIT_URL, ORPHAN, VIEW_URL};
use crate::location::is_javascript_url;
use crate::relations::{wire_relations, Relation};
use crate::{Entity, EntityRef};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Status item type of catalog processing errors.
pub const PROCESSING_STATUS_TYPE: &str = "backstage.io/catalog-processing";

/// Replacement for `javascript:` URLs in the view/edit annotations.
pub const REJECTED_ANNOTATION_URL: &str =
    "https://backstage.io/annotation-rejected-for-security-reasons";

/// Builds the stitched entity. Only relations whose source is this entity are
/// surfaced; `errors` are `(error name, message)` pairs from processing.
pub fn compose_final_entity(
    processed: &Entity,
    relations: &[Relation],
    errors: &[(String, String)],
    uid: &str,
    orphan: bool,
) -> Entity {
    let mut entity = processed.clone();
    let own_ref = EntityRef::of_entity(processed).map(|r| r.canonical());

    let metadata = entity
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = metadata {
        meta.insert("uid".into(), Value::String(uid.to_string()));
        meta.remove("etag");
        if orphan {
            annotations_mut(meta).insert(ORPHAN.into(), Value::String("true".into()));
        }
        if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
            for key in [VIEW_URL, EDIT_URL] {
                if annotations
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(is_javascript_url)
                {
                    annotations.insert(key.into(), Value::String(REJECTED_ANNOTATION_URL.into()));
                }
            }
        }
    }

    let outgoing: Vec<Relation> = relations
        .iter()
        .filter(|r| own_ref.as_deref() == Some(r.source_ref.as_str()))
        .cloned()
        .collect();
    entity.insert("relations".into(), wire_relations(&outgoing));

    if !errors.is_empty() {
        let items: Vec<Value> = errors
            .iter()
            .map(|(name, message)| {
                json!({
                    "type": PROCESSING_STATUS_TYPE,
                    "level": "error",
                    "message": format!("{name}: {message}"),
                    "error": { "name": name, "message": message },
                })
            })
            .collect();
        entity.insert("status".into(), json!({ "items": items }));
    }

    let etag = entity_hash(&Value::Object(entity.clone()));
    if let Some(Value::Object(meta)) = entity.get_mut("metadata") {
        meta.insert("etag".into(), Value::String(etag));
    }
    entity
}

fn annotations_mut(meta: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let slot = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just ensured an object")
}

/// Hex SHA-256 of a value's canonical JSON (object keys sorted), so the hash
/// does not depend on key order.
pub fn entity_hash(v: &Value) -> String {
    let mut hasher = Sha256::new();
    write_canonical(v, &mut hasher);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_canonical(v: &Value, hasher: &mut Sha256) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                hasher.update(Value::String(k.clone()).to_string().as_bytes());
                hasher.update(b":");
                write_canonical(&map[k], hasher);
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                write_canonical(item, hasher);
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relations::{OWNED_BY, OWNER_OF};

    fn processed() -> Entity {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "web", "namespace": "default", "etag": "stale",
                "annotations": {"backstage.io/view-url": " JavaScript:alert(1)", "backstage.io/edit-url": "https://ok"}},
            "spec": {"type": "service", "owner": "team-a"}
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn rels() -> Vec<Relation> {
        vec![
            Relation {
                source_ref: "component:default/web".into(),
                relation_type: OWNED_BY.into(),
                target_ref: "group:default/team-a".into(),
            },
            Relation {
                source_ref: "group:default/team-a".into(),
                relation_type: OWNER_OF.into(),
                target_ref: "component:default/web".into(),
            },
        ]
    }

    #[test]
    fn composes_uid_relations_status_orphan_and_etag() {
        let errors = vec![("InputError".to_string(), "bad thing".to_string())];
        let e = compose_final_entity(&processed(), &rels(), &errors, "uid-1", true);
        let meta = e["metadata"].as_object().unwrap();
        assert_eq!(meta["uid"], "uid-1");
        assert_eq!(meta["annotations"]["backstage.io/orphan"], "true");
        assert_eq!(
            meta["annotations"]["backstage.io/view-url"],
            REJECTED_ANNOTATION_URL
        );
        assert_eq!(meta["annotations"]["backstage.io/edit-url"], "https://ok");
        assert_eq!(
            e["relations"],
            json!([{"type": "ownedBy", "targetRef": "group:default/team-a",
                "target": {"kind": "group", "namespace": "default", "name": "team-a"}}])
        );
        assert_eq!(
            e["status"],
            json!({"items": [{"type": "backstage.io/catalog-processing", "level": "error",
                "message": "InputError: bad thing", "error": {"name": "InputError", "message": "bad thing"}}]})
        );
        let etag = meta["etag"].as_str().unwrap();
        assert_eq!(etag.len(), 64);
        let mut without = e.clone();
        without["metadata"].as_object_mut().unwrap().remove("etag");
        assert_eq!(etag, entity_hash(&Value::Object(without)));
    }

    #[test]
    fn no_status_or_orphan_when_clean() {
        let e = compose_final_entity(&processed(), &[], &[], "u", false);
        assert!(e.get("status").is_none());
        assert!(e["metadata"]["annotations"]
            .get("backstage.io/orphan")
            .is_none());
        assert_eq!(e["relations"], json!([]));
        let mut p = processed();
        p["metadata"].as_object_mut().unwrap().remove("annotations");
        let e = compose_final_entity(&p, &[], &[], "u", true);
        assert_eq!(
            e["metadata"]["annotations"],
            json!({"backstage.io/orphan": "true"})
        );
    }

    #[test]
    fn etag_changes_with_content_only() {
        let a = compose_final_entity(&processed(), &rels(), &[], "u", false);
        let b = compose_final_entity(&processed(), &rels(), &[], "u", false);
        assert_eq!(a["metadata"]["etag"], b["metadata"]["etag"]);
        let c = compose_final_entity(&processed(), &rels(), &[], "u2", false);
        assert_ne!(a["metadata"]["etag"], c["metadata"]["etag"]);
    }

    #[test]
    fn hash_ignores_key_order() {
        assert_eq!(
            entity_hash(&json!({"a": 1, "b": [1, "x"]})),
            entity_hash(&json!({"b": [1, "x"], "a": 1}))
        );
        assert_ne!(
            entity_hash(&json!({"a": 1})),
            entity_hash(&json!({"a": "1"}))
        );
        assert_eq!(
            entity_hash(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
