// TEMPORARY until the model branch lands: minimal versions of the model functions.
use greenroom_model::relations::Relation;
use greenroom_model::search::SearchRow;
use greenroom_model::Entity;
use serde_json::{json, Value};

pub fn compose_final_entity(
    p: &Entity,
    rels: &[Relation],
    errors: &[(String, String)],
    uid: &str,
    orphan: bool,
) -> Entity {
    let mut e = p.clone();
    let meta = e
        .entry("metadata")
        .or_insert(json!({}))
        .as_object_mut()
        .unwrap();
    meta.insert("uid".into(), json!(uid));
    if orphan {
        let a = meta
            .entry("annotations")
            .or_insert(json!({}))
            .as_object_mut()
            .unwrap();
        a.insert("backstage.io/orphan".into(), json!("true"));
    }
    e.insert(
        "relations".into(),
        json!(rels
            .iter()
            .map(|r| json!({"type": r.relation_type, "targetRef": r.target_ref}))
            .collect::<Vec<_>>()),
    );
    if !errors.is_empty() {
        e.insert("status".into(), json!({"items": errors.iter().map(|(n, m)| json!({"type": "backstage.io/catalog-processing", "level": "error", "message": format!("{n}: {m}"), "error": {"name": n, "message": m}})).collect::<Vec<_>>()}));
    }
    let h = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(
            serde_json::to_string(&e).unwrap().as_bytes(),
        ))
    };
    e.get_mut("metadata")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("etag".into(), json!(h));
    e
}

pub fn build_search_rows(e: &Entity, rels: &[Relation]) -> Result<Vec<SearchRow>, String> {
    fn walk(path: &str, v: &Value, out: &mut Vec<SearchRow>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if matches!(
                        p.as_str(),
                        "relations"
                            | "status"
                            | "metadata.uid"
                            | "metadata.etag"
                            | "metadata.name"
                            | "metadata.namespace"
                    ) {
                        continue;
                    }
                    walk(&p, v, out);
                }
            }
            Value::Array(a) => {
                for i in a {
                    if let Value::String(s) = i {
                        out.push(SearchRow {
                            key: format!("{path}.{}", s.to_lowercase()),
                            value: Some("true".into()),
                            original_value: Some("true".into()),
                        });
                    }
                    walk(path, i, out);
                }
            }
            Value::Null => out.push(SearchRow {
                key: path.to_lowercase(),
                value: None,
                original_value: None,
            }),
            other => {
                let s = match other {
                    Value::String(s) => s.clone(),
                    o => o.to_string(),
                };
                out.push(SearchRow {
                    key: path.to_lowercase(),
                    value: Some(s.to_lowercase()),
                    original_value: Some(s),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk("", &Value::Object(e.clone()), &mut out);
    let m = e.get("metadata").unwrap();
    for k in ["name", "namespace", "uid"] {
        let s = m
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        out.push(SearchRow {
            key: format!("metadata.{k}"),
            value: Some(s.to_lowercase()),
            original_value: Some(s),
        });
    }
    for r in rels {
        out.push(SearchRow {
            key: format!("relations.{}", r.relation_type.to_lowercase()),
            value: Some(r.target_ref.clone()),
            original_value: Some(r.target_ref.clone()),
        });
    }
    Ok(out)
}
