//! Conditional decisions (reference 8.2, 8.3): a criteria tree of rules over a
//! resource. For catalog entities the tree becomes an [`EntityFilter`], so a
//! list request with an ownership rule is one SQL query over the search rows,
//! not a check per entity; a single entity is matched in memory against the
//! same rows.

use greenroom_model::filter::EntityFilter;
use greenroom_model::{Entity, Relation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const ENTITY_RESOURCE: &str = "catalog-entity";
pub const TASK_RESOURCE: &str = "scaffolder-task";
pub const TEMPLATE_RESOURCE: &str = "scaffolder-template";

/// Backstage's permission criteria, in its JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Criteria {
    AllOf {
        #[serde(rename = "allOf")]
        all_of: Vec<Criteria>,
    },
    AnyOf {
        #[serde(rename = "anyOf")]
        any_of: Vec<Criteria>,
    },
    Not {
        not: Box<Criteria>,
    },
    Rule(RuleCondition),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCondition {
    pub rule: String,
    pub resource_type: String,
    #[serde(default)]
    pub params: Value,
}

/// The rules of each resource type and the parameters they take.
pub fn known_rules() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            ENTITY_RESOURCE,
            "IS_ENTITY_OWNER",
            "Allow entities owned by the given claims (default: the caller's ownership refs)",
        ),
        (
            ENTITY_RESOURCE,
            "IS_ENTITY_KIND",
            "Allow entities of the given kinds",
        ),
        (
            ENTITY_RESOURCE,
            "HAS_ANNOTATION",
            "Allow entities with the annotation (and value)",
        ),
        (
            ENTITY_RESOURCE,
            "HAS_LABEL",
            "Allow entities with the label (and value)",
        ),
        (
            ENTITY_RESOURCE,
            "HAS_METADATA",
            "Allow entities with the metadata key (and value)",
        ),
        (
            ENTITY_RESOURCE,
            "HAS_SPEC",
            "Allow entities with the spec key (and value)",
        ),
        (
            TASK_RESOURCE,
            "IS_TASK_OWNER",
            "Allow tasks created by the given users (default: the caller)",
        ),
        (TEMPLATE_RESOURCE, "HAS_TAG", "Allow templates with the tag"),
    ]
}

/// Checks a criteria tree: known rules of the resource type, required
/// parameters present. `resource_type` is the permission's.
pub fn validate(c: &Criteria, resource_type: &str) -> Result<(), String> {
    match c {
        Criteria::AllOf { all_of: items } | Criteria::AnyOf { any_of: items } => {
            if items.is_empty() {
                return Err("allOf/anyOf need at least one condition".into());
            }
            items.iter().try_for_each(|i| validate(i, resource_type))
        }
        Criteria::Not { not } => validate(not, resource_type),
        Criteria::Rule(r) => {
            if r.resource_type != resource_type {
                return Err(format!(
                    "rule {} is for {}, not {resource_type}",
                    r.rule, r.resource_type
                ));
            }
            if !known_rules()
                .iter()
                .any(|(t, name, _)| *t == resource_type && *name == r.rule)
            {
                return Err(format!("unknown rule {} for {resource_type}", r.rule));
            }
            let needs = |key: &str| -> Result<(), String> {
                match r.params.get(key) {
                    Some(Value::String(s)) if !s.is_empty() => Ok(()),
                    Some(Value::Array(a)) if !a.is_empty() => Ok(()),
                    _ => Err(format!("rule {} needs params.{key}", r.rule)),
                }
            };
            match r.rule.as_str() {
                "IS_ENTITY_OWNER" => needs("claims"),
                "IS_ENTITY_KIND" => needs("kinds"),
                "HAS_ANNOTATION" => needs("annotation"),
                "HAS_LABEL" => needs("label"),
                "HAS_METADATA" | "HAS_SPEC" => needs("key"),
                "IS_TASK_OWNER" => needs("createdBy"),
                "HAS_TAG" => needs("tag"),
                _ => Ok(()),
            }
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.to_lowercase()],
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_lowercase))
            .collect(),
        _ => Vec::new(),
    }
}

fn key_filter(key: String, value: Option<&Value>) -> EntityFilter {
    EntityFilter::Key {
        key: key.to_lowercase(),
        values: value
            .and_then(|v| v.as_str())
            .map(|v| vec![v.to_lowercase()]),
    }
}

/// The catalog filter equivalent to `c` (validated, entity rules only).
pub fn to_entity_filter(c: &Criteria) -> EntityFilter {
    match c {
        Criteria::AllOf { all_of } => {
            EntityFilter::All(all_of.iter().map(to_entity_filter).collect())
        }
        Criteria::AnyOf { any_of } => {
            EntityFilter::Any(any_of.iter().map(to_entity_filter).collect())
        }
        Criteria::Not { not } => EntityFilter::Not(Box::new(to_entity_filter(not))),
        Criteria::Rule(r) => {
            let p = &r.params;
            let text = |k: &str| {
                p.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            match r.rule.as_str() {
                "IS_ENTITY_OWNER" => EntityFilter::Key {
                    key: "relations.ownedby".into(),
                    values: Some(strings(&p["claims"])),
                },
                "IS_ENTITY_KIND" => EntityFilter::Key {
                    key: "kind".into(),
                    values: Some(strings(&p["kinds"])),
                },
                "HAS_ANNOTATION" => key_filter(
                    format!("metadata.annotations.{}", text("annotation")),
                    p.get("value"),
                ),
                "HAS_LABEL" => {
                    key_filter(format!("metadata.labels.{}", text("label")), p.get("value"))
                }
                "HAS_METADATA" => key_filter(format!("metadata.{}", text("key")), p.get("value")),
                "HAS_SPEC" => key_filter(format!("spec.{}", text("key")), p.get("value")),
                // Rules of other resources never reach an entity filter (validated).
                _ => EntityFilter::Any(Vec::new()),
            }
        }
    }
}

/// Whether `filter` matches `entity`, evaluated over the entity's search rows
/// exactly as the store evaluates it in SQL.
pub fn entity_matches(filter: &EntityFilter, entity: &Entity) -> bool {
    let relations: Vec<Relation> = entity
        .get("relations")
        .and_then(|r| serde_json::from_value::<Vec<Value>>(r.clone()).ok())
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    Some(Relation {
                        source_ref: String::new(),
                        relation_type: r.get("type")?.as_str()?.to_string(),
                        target_ref: r.get("targetRef")?.as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .or_else(|| greenroom_model::relations::emit_relations(entity).ok())
        .unwrap_or_default();
    let mut bare = entity.clone();
    bare.remove("relations");
    let Ok(rows) = greenroom_model::search::build_search_rows(&bare, &relations) else {
        return false;
    };
    let rows: Vec<(String, Option<String>)> = rows.into_iter().map(|r| (r.key, r.value)).collect();
    matches_rows(filter, &rows)
}

fn matches_rows(filter: &EntityFilter, rows: &[(String, Option<String>)]) -> bool {
    match filter {
        EntityFilter::All(items) => items.iter().all(|i| matches_rows(i, rows)),
        EntityFilter::Any(items) => items.iter().any(|i| matches_rows(i, rows)),
        EntityFilter::Not(inner) => !matches_rows(inner, rows),
        EntityFilter::Key { key, values } => rows.iter().any(|(k, v)| {
            k == key
                && match values {
                    None => true,
                    Some(vals) => v.as_ref().is_some_and(|v| vals.contains(v)),
                }
        }),
        EntityFilter::HasPrefix { key, prefix } => rows
            .iter()
            .any(|(k, v)| k == key && v.as_ref().is_some_and(|v| v.starts_with(prefix.as_str()))),
    }
}

/// Whether a scaffolder task created by `created_by` satisfies `c`.
pub fn task_matches(c: &Criteria, created_by: Option<&str>) -> bool {
    match c {
        Criteria::AllOf { all_of } => all_of.iter().all(|i| task_matches(i, created_by)),
        Criteria::AnyOf { any_of } => any_of.iter().any(|i| task_matches(i, created_by)),
        Criteria::Not { not } => !task_matches(not, created_by),
        Criteria::Rule(r) => match r.rule.as_str() {
            "IS_TASK_OWNER" => created_by
                .is_some_and(|by| strings(&r.params["createdBy"]).contains(&by.to_lowercase())),
            _ => false,
        },
    }
}

/// Whether a template with `tags` satisfies `c`.
pub fn template_matches(c: &Criteria, tags: &[String]) -> bool {
    match c {
        Criteria::AllOf { all_of } => all_of.iter().all(|i| template_matches(i, tags)),
        Criteria::AnyOf { any_of } => any_of.iter().any(|i| template_matches(i, tags)),
        Criteria::Not { not } => !template_matches(not, tags),
        Criteria::Rule(r) => match r.rule.as_str() {
            "HAS_TAG" => r.params["tag"]
                .as_str()
                .is_some_and(|t| tags.iter().any(|x| x.eq_ignore_ascii_case(t))),
            _ => false,
        },
    }
}

/// A rule condition with its parameters (for building trees in code and tests).
pub fn rule(resource_type: &str, name: &str, params: Value) -> Criteria {
    Criteria::Rule(RuleCondition {
        rule: name.into(),
        resource_type: resource_type.into(),
        params: if params.is_null() { json!({}) } else { params },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(owner: &str, labels: Value) -> Entity {
        serde_json::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "svc", "labels": labels, "annotations": {"github.com/project-slug": "o/r"}},
            "spec": {"type": "service", "lifecycle": "production", "owner": owner},
            "relations": [{"type": "ownedBy", "targetRef": format!("group:default/{owner}")}]
        }))
        .unwrap()
    }

    #[test]
    fn ownership_kind_label_and_annotation_rules_match_like_the_store() {
        let e = component("team-a", json!({"tier": "gold"}));
        let owner = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "IS_ENTITY_OWNER",
            json!({"claims": ["user:default/alice", "group:default/team-a"]}),
        ));
        assert!(entity_matches(&owner, &e));
        assert!(!entity_matches(&owner, &component("team-b", json!({}))));
        let kind = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "IS_ENTITY_KIND",
            json!({"kinds": ["component"]}),
        ));
        assert!(entity_matches(&kind, &e));
        let label = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "HAS_LABEL",
            json!({"label": "tier", "value": "GOLD"}),
        ));
        assert!(entity_matches(&label, &e));
        let no_label = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "HAS_LABEL",
            json!({"label": "tier", "value": "silver"}),
        ));
        assert!(!entity_matches(&no_label, &e));
        let annotation = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "HAS_ANNOTATION",
            json!({"annotation": "github.com/project-slug"}),
        ));
        assert!(entity_matches(&annotation, &e));
        let spec = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "HAS_SPEC",
            json!({"key": "lifecycle", "value": "production"}),
        ));
        assert!(entity_matches(&spec, &e));
        let not_owner = to_entity_filter(&Criteria::Not {
            not: Box::new(rule(
                ENTITY_RESOURCE,
                "IS_ENTITY_OWNER",
                json!({"claims": ["group:default/team-a"]}),
            )),
        });
        assert!(!entity_matches(&not_owner, &e));
    }

    #[test]
    fn an_entity_without_stored_relations_is_matched_on_its_spec() {
        let mut e = component("team-a", json!({}));
        e.remove("relations");
        let owner = to_entity_filter(&rule(
            ENTITY_RESOURCE,
            "IS_ENTITY_OWNER",
            json!({"claims": ["group:default/team-a"]}),
        ));
        assert!(entity_matches(&owner, &e));
    }

    #[test]
    fn criteria_use_backstages_json_shape_and_are_validated() {
        let c: Criteria = serde_json::from_value(json!({"anyOf": [
            {"rule": "IS_ENTITY_OWNER", "resourceType": "catalog-entity", "params": {"claims": ["group:default/a"]}},
            {"not": {"rule": "IS_ENTITY_KIND", "resourceType": "catalog-entity", "params": {"kinds": ["resource"]}}}
        ]}))
        .unwrap();
        assert!(validate(&c, ENTITY_RESOURCE).is_ok());
        assert_eq!(
            serde_json::to_value(&c).unwrap()["anyOf"][1]["not"]["rule"],
            "IS_ENTITY_KIND"
        );
        assert!(validate(&c, TASK_RESOURCE).is_err());
        let unknown = rule(ENTITY_RESOURCE, "IS_COOL", json!({}));
        assert!(validate(&unknown, ENTITY_RESOURCE)
            .unwrap_err()
            .contains("unknown rule"));
        let missing = rule(ENTITY_RESOURCE, "HAS_LABEL", json!({}));
        assert!(validate(&missing, ENTITY_RESOURCE)
            .unwrap_err()
            .contains("params.label"));
        assert!(validate(&Criteria::AnyOf { any_of: vec![] }, ENTITY_RESOURCE).is_err());
    }

    #[test]
    fn task_and_template_rules() {
        let owner = rule(
            TASK_RESOURCE,
            "IS_TASK_OWNER",
            json!({"createdBy": ["user:default/alice"]}),
        );
        assert!(task_matches(&owner, Some("user:default/Alice")));
        assert!(!task_matches(&owner, Some("user:default/bob")));
        assert!(!task_matches(&owner, None));
        let tag = rule(TEMPLATE_RESOURCE, "HAS_TAG", json!({"tag": "golden"}));
        assert!(template_matches(&tag, &["golden".into()]));
        assert!(!template_matches(&tag, &[]));
    }
}
