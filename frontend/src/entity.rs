//! Reading the pieces the pages show out of an entity document, and the app's
//! own entity page paths. Plain functions over JSON so they are unit-tested on
//! the host; the pages only lay the results out.

use crate::api::encode_component;
use greenroom_model::{entity_ref::DEFAULT_NAMESPACE, Entity, EntityRef};
use serde_json::Value;
use std::collections::BTreeMap;

/// The app's page for an entity: `/catalog/:namespace/:kind/:name`, with kind and
/// namespace lower-cased as Backstage's UI does (names keep their spelling).
pub fn entity_path(entity_ref: &EntityRef) -> String {
    format!(
        "/catalog/{}/{}/{}",
        encode_component(&entity_ref.namespace.to_lowercase()),
        encode_component(&entity_ref.kind.to_lowercase()),
        encode_component(&entity_ref.name)
    )
}

/// `kind:namespace/name`, leaving out the default namespace, as Backstage prints refs.
pub fn humanize_ref(entity_ref: &EntityRef) -> String {
    let kind = entity_ref.kind.to_lowercase();
    if entity_ref.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE) {
        format!("{kind}:{}", entity_ref.name)
    } else {
        format!("{kind}:{}/{}", entity_ref.namespace, entity_ref.name)
    }
}

/// A route parameter as written in the address bar, percent-decoded.
pub fn decode_param(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

/// `entity[section][key]` when it is a string.
pub fn entity_str<'a>(entity: &'a Entity, section: &str, key: &str) -> Option<&'a str> {
    entity.get(section).and_then(|s| str_at(s, &[key]))
}

pub fn namespace_of(entity: &Entity) -> &str {
    entity_str(entity, "metadata", "namespace").unwrap_or(DEFAULT_NAMESPACE)
}

/// A link to another entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityLink {
    pub label: String,
    pub href: String,
}

impl EntityLink {
    pub fn to(entity_ref: &EntityRef) -> Self {
        EntityLink {
            label: humanize_ref(entity_ref),
            href: entity_path(entity_ref),
        }
    }
}

/// The fields an [`EntitySummary`] reads: list requests ask only for these
/// (`fields=`), which keeps a page of rows a few kilobytes.
pub const SUMMARY_FIELDS: &str = "kind,metadata.name,metadata.namespace,metadata.title,\
metadata.description,spec.type,spec.owner,spec.lifecycle";

/// One row of the catalog table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySummary {
    /// `metadata.title` when set, else the name.
    pub display_name: String,
    pub href: Option<String>,
    pub kind: String,
    pub spec_type: String,
    /// Linked when `spec.owner` is a valid reference (default kind Group).
    pub owner: Option<EntityLink>,
    pub owner_text: String,
    pub lifecycle: String,
    pub description: String,
}

impl EntitySummary {
    pub fn of(entity: &Entity) -> Self {
        let name = entity_str(entity, "metadata", "name").unwrap_or_default();
        let owner_text = entity_str(entity, "spec", "owner")
            .unwrap_or_default()
            .to_string();
        let owner = EntityRef::parse(&owner_text, Some("Group"), namespace_of(entity))
            .ok()
            .map(|r| EntityLink::to(&r));
        EntitySummary {
            display_name: entity_str(entity, "metadata", "title")
                .unwrap_or(name)
                .to_string(),
            href: EntityRef::of_entity(entity).map(|r| entity_path(&r)),
            kind: entity
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            spec_type: entity_str(entity, "spec", "type")
                .unwrap_or_default()
                .to_string(),
            owner,
            owner_text,
            lifecycle: entity_str(entity, "spec", "lifecycle")
                .unwrap_or_default()
                .to_string(),
            description: entity_str(entity, "metadata", "description")
                .unwrap_or_default()
                .to_string(),
        }
    }
}

/// How a JSON value is shown: short scalars and lists of scalars as text,
/// anything structured as indented JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Text(String),
    Json(String),
}

pub fn field_value(value: &Value) -> FieldValue {
    fn scalar(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => Some(String::new()),
            Value::Array(_) | Value::Object(_) => None,
        }
    }
    if let Some(text) = scalar(value) {
        return FieldValue::Text(text);
    }
    if let Value::Array(items) = value {
        if let Some(parts) = items.iter().map(scalar).collect::<Option<Vec<_>>>() {
            return FieldValue::Text(parts.join(", "));
        }
    }
    FieldValue::Json(serde_json::to_string_pretty(value).unwrap_or_default())
}

/// The fields of an object section (`spec`, `metadata.labels`, ...) in document order.
pub fn object_fields(value: Option<&Value>) -> Vec<(String, FieldValue)> {
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), field_value(v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A processing problem stored on the entity (`status.items`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusProblem {
    pub level: String,
    pub name: String,
    pub message: String,
}

/// The entries of `status.items`, errors first. The catalog keeps an entity
/// that failed processing and records why here, so the page must show it.
pub fn status_problems(entity: &Entity) -> Vec<StatusProblem> {
    let items = entity
        .get("status")
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut problems: Vec<StatusProblem> = items
        .iter()
        .map(|item| StatusProblem {
            level: str_at(item, &["level"]).unwrap_or("error").to_string(),
            name: str_at(item, &["error", "name"])
                .unwrap_or("Error")
                .to_string(),
            message: str_at(item, &["error", "message"])
                .or_else(|| str_at(item, &["message"]))
                .unwrap_or("(no message)")
                .to_string(),
        })
        .collect();
    problems.sort_by_key(|p| p.level != "error");
    problems
}

/// `relations` grouped by type (sorted), targets sorted and linked.
pub fn relation_groups(entity: &Entity) -> Vec<(String, Vec<EntityLink>)> {
    let mut groups: BTreeMap<String, Vec<EntityLink>> = BTreeMap::new();
    let relations = entity
        .get("relations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for relation in relations {
        let (Some(kind), Some(target)) = (
            str_at(relation, &["type"]),
            str_at(relation, &["targetRef"]),
        ) else {
            continue;
        };
        let link = match EntityRef::parse(target, None, DEFAULT_NAMESPACE) {
            Ok(target_ref) => EntityLink::to(&target_ref),
            // Keep a malformed target visible rather than hiding the relation.
            Err(_) => EntityLink {
                label: target.to_string(),
                href: String::new(),
            },
        };
        groups.entry(kind.to_string()).or_default().push(link);
    }
    groups
        .into_iter()
        .map(|(kind, mut links)| {
            links.sort_by(|a, b| a.label.cmp(&b.label));
            links.dedup();
            (kind, links)
        })
        .collect()
}

/// `metadata.links` entries that have a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLink {
    pub title: String,
    pub url: String,
}

pub fn external_links(entity: &Entity) -> Vec<ExternalLink> {
    let links = entity
        .get("metadata")
        .and_then(|m| m.get("links"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    links
        .iter()
        .filter_map(|link| {
            let url = str_at(link, &["url"])?;
            // Only web links become anchors: `javascript:` and friends never do.
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return None;
            }
            let title = str_at(link, &["title"]).unwrap_or(url);
            Some(ExternalLink {
                title: title.to_string(),
                url: url.to_string(),
            })
        })
        .collect()
}

/// `metadata.tags` as strings.
pub fn tags(entity: &Entity) -> Vec<String> {
    entity
        .get("metadata")
        .and_then(|m| m.get("tags"))
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Links from the location annotations: the source (`backstage.io/source-location`,
/// else the managed-by location), a view and an edit URL. Only `url:` locations
/// and web addresses become links (a `file:` location has nowhere to go).
pub fn location_links(entity: &Entity) -> Vec<ExternalLink> {
    let annotation = |key: &str| {
        entity
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    };
    let web = |target: &str| {
        let url = target.strip_prefix("url:").unwrap_or(target);
        (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_string())
    };
    let mut links = Vec::new();
    let source = annotation("backstage.io/source-location")
        .or_else(|| annotation("backstage.io/managed-by-location"))
        .and_then(web);
    if let Some(url) = source {
        links.push(ExternalLink {
            title: "View source".into(),
            url,
        });
    }
    for (key, title) in [
        ("backstage.io/view-url", "View"),
        ("backstage.io/edit-url", "Edit"),
    ] {
        if let Some(url) = annotation(key).and_then(web) {
            links.push(ExternalLink {
                title: title.into(),
                url,
            });
        }
    }
    links
}

/// The entity a spec field refers to (`spec.owner`, `spec.system`, ...), linked,
/// with the kind Backstage assumes when the reference leaves it out.
pub fn spec_ref_link(entity: &Entity, field: &str, default_kind: &str) -> Option<EntityLink> {
    let target = entity_str(entity, "spec", field)?;
    EntityRef::parse(target, Some(default_kind), namespace_of(entity))
        .ok()
        .map(|r| EntityLink::to(&r))
}

/// The relations of the given types, as refs (targets that do not parse are skipped).
pub fn relation_targets(entity: &Entity, types: &[&str]) -> Vec<(String, EntityRef)> {
    relations_where(entity, |kind| {
        types.iter().any(|t| t.eq_ignore_ascii_case(kind))
    })
}

/// `(relation type, target ref)` of the relations whose type `keep` accepts
/// (targets that do not parse are skipped).
pub fn relations_where(entity: &Entity, keep: impl Fn(&str) -> bool) -> Vec<(String, EntityRef)> {
    entity
        .get("relations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|relation| {
            let kind = str_at(relation, &["type"])?;
            if !keep(kind) {
                return None;
            }
            let target =
                EntityRef::parse(str_at(relation, &["targetRef"])?, None, DEFAULT_NAMESPACE)
                    .ok()?;
            Some((kind.to_string(), target))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(value: Value) -> Entity {
        match value {
            Value::Object(map) => map,
            _ => panic!("test entity must be an object"),
        }
    }

    fn petstore() -> Entity {
        entity(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "petstore",
                "namespace": "Shop",
                "description": "Sells pets",
                "tags": ["java", "web"],
                "links": [
                    {"url": "https://example.com/dash", "title": "Dashboard"},
                    {"url": "javascript:alert(1)", "title": "bad"},
                    {"url": "http://example.com/plain"}
                ]
            },
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", "system": "zoo"},
            "relations": [
                {"type": "ownedBy", "targetRef": "group:shop/team-a"},
                {"type": "dependsOn", "targetRef": "resource:default/db"},
                {"type": "dependsOn", "targetRef": "component:default/auth"},
                {"type": "partOf", "targetRef": "not a ref:"}
            ]
        }))
    }

    #[test]
    fn entity_paths_lower_case_kind_and_namespace_only() {
        let r = EntityRef::new("Component", "Shop", "PetStore");
        assert_eq!(entity_path(&r), "/catalog/shop/component/PetStore");
        let odd = EntityRef::new("Component", "default", "a b/c");
        assert_eq!(entity_path(&odd), "/catalog/default/component/a%20b%2Fc");
    }

    #[test]
    fn refs_are_humanized_without_the_default_namespace() {
        assert_eq!(
            humanize_ref(&EntityRef::new("Group", "default", "team-a")),
            "group:team-a"
        );
        assert_eq!(
            humanize_ref(&EntityRef::new("Group", "shop", "team-a")),
            "group:shop/team-a"
        );
    }

    #[test]
    fn params_are_percent_decoded() {
        assert_eq!(decode_param("a%20b"), "a b");
        assert_eq!(decode_param("petstore"), "petstore");
    }

    #[test]
    fn summary_reads_table_columns() {
        let summary = EntitySummary::of(&petstore());
        assert_eq!(summary.display_name, "petstore");
        assert_eq!(
            summary.href.as_deref(),
            Some("/catalog/shop/component/petstore")
        );
        assert_eq!(summary.kind, "Component");
        assert_eq!(summary.spec_type, "service");
        assert_eq!(summary.lifecycle, "production");
        assert_eq!(summary.description, "Sells pets");
        // The owner is resolved in the entity's own namespace with default kind Group.
        assert_eq!(
            summary.owner,
            Some(EntityLink {
                label: "group:Shop/team-a".into(),
                href: "/catalog/shop/group/team-a".into()
            })
        );
    }

    #[test]
    fn summary_prefers_title_and_tolerates_missing_fields() {
        let bare = entity(
            json!({"kind": "Location", "metadata": {"name": "root", "title": "Root location"}}),
        );
        let summary = EntitySummary::of(&bare);
        assert_eq!(summary.display_name, "Root location");
        assert_eq!(
            summary.href.as_deref(),
            Some("/catalog/default/location/root")
        );
        assert_eq!(summary.owner, None);
        assert_eq!(summary.owner_text, "");
        assert_eq!(summary.spec_type, "");

        let broken = entity(json!({"metadata": {}}));
        assert_eq!(EntitySummary::of(&broken).href, None);
    }

    #[test]
    fn field_values_are_text_or_json() {
        assert_eq!(field_value(&json!("x")), FieldValue::Text("x".into()));
        assert_eq!(field_value(&json!(3)), FieldValue::Text("3".into()));
        assert_eq!(
            field_value(&json!(["a", "b"])),
            FieldValue::Text("a, b".into())
        );
        assert_eq!(
            field_value(&json!({"a": 1})),
            FieldValue::Json("{\n  \"a\": 1\n}".into())
        );
        assert!(matches!(
            field_value(&json!([{"a": 1}])),
            FieldValue::Json(_)
        ));
    }

    #[test]
    fn object_fields_keep_document_order() {
        let e = petstore();
        let keys: Vec<String> = object_fields(e.get("spec"))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["type", "lifecycle", "owner", "system"]);
        assert!(object_fields(None).is_empty());
        assert!(object_fields(Some(&json!("not an object"))).is_empty());
    }

    #[test]
    fn status_problems_list_errors_first() {
        let e = entity(json!({
            "kind": "Component", "metadata": {"name": "x"},
            "status": {"items": [
                {"type": "backstage.io/catalog-processing", "level": "warning", "message": "odd", "error": {"name": "Warn", "message": "odd field"}},
                {"type": "backstage.io/catalog-processing", "level": "error", "message": "bad",
                 "error": {"name": "InputError", "message": "Policy check failed: spec.type must be a string"}}
            ]}
        }));
        let problems = status_problems(&e);
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].level, "error");
        assert_eq!(problems[0].name, "InputError");
        assert_eq!(
            problems[0].message,
            "Policy check failed: spec.type must be a string"
        );
        assert_eq!(problems[1].level, "warning");
        assert!(status_problems(&petstore()).is_empty());
    }

    #[test]
    fn relations_are_grouped_sorted_and_linked() {
        let groups = relation_groups(&petstore());
        let names: Vec<&str> = groups.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["dependsOn", "ownedBy", "partOf"]);
        assert_eq!(
            groups[0].1,
            vec![
                EntityLink {
                    label: "component:auth".into(),
                    href: "/catalog/default/component/auth".into()
                },
                EntityLink {
                    label: "resource:db".into(),
                    href: "/catalog/default/resource/db".into()
                },
            ]
        );
        assert_eq!(groups[1].1[0].href, "/catalog/shop/group/team-a");
        // A malformed target stays visible, unlinked.
        assert_eq!(
            groups[2].1[0],
            EntityLink {
                label: "not a ref:".into(),
                href: String::new()
            }
        );
    }

    #[test]
    fn only_web_links_are_kept() {
        let links = external_links(&petstore());
        assert_eq!(
            links,
            vec![
                ExternalLink {
                    title: "Dashboard".into(),
                    url: "https://example.com/dash".into()
                },
                ExternalLink {
                    title: "http://example.com/plain".into(),
                    url: "http://example.com/plain".into()
                },
            ]
        );
    }

    #[test]
    fn tags_are_read() {
        assert_eq!(tags(&petstore()), ["java", "web"]);
        assert!(tags(&entity(json!({"metadata": {}}))).is_empty());
    }

    #[test]
    fn location_links_come_from_url_annotations_only() {
        let with = |annotations: Value| {
            entity(
                json!({"kind": "Component", "metadata": {"name": "x", "annotations": annotations}}),
            )
        };
        let links = location_links(&with(json!({
            "backstage.io/managed-by-location": "url:https://git.example.com/org/x/blob/main/catalog-info.yaml",
            "backstage.io/source-location": "url:https://git.example.com/org/x/tree/main/",
            "backstage.io/edit-url": "https://git.example.com/org/x/edit/main/catalog-info.yaml",
            "backstage.io/view-url": "javascript:alert(1)"
        })));
        assert_eq!(
            links,
            vec![
                ExternalLink {
                    title: "View source".into(),
                    url: "https://git.example.com/org/x/tree/main/".into()
                },
                ExternalLink {
                    title: "Edit".into(),
                    url: "https://git.example.com/org/x/edit/main/catalog-info.yaml".into()
                },
            ]
        );
        let file = location_links(&with(
            json!({"backstage.io/managed-by-location": "file:/srv/catalog.yaml"}),
        ));
        assert!(file.is_empty());
    }

    #[test]
    fn spec_refs_take_the_default_kind_and_the_entity_namespace() {
        let owner = spec_ref_link(&petstore(), "owner", "Group").unwrap();
        assert_eq!(owner.href, "/catalog/shop/group/team-a");
        let system = spec_ref_link(&petstore(), "system", "System").unwrap();
        // Labels keep the namespace as written; addresses are lower case.
        assert_eq!(system.label, "system:Shop/zoo");
        assert_eq!(system.href, "/catalog/shop/system/zoo");
        assert_eq!(spec_ref_link(&petstore(), "domain", "Domain"), None);
    }

    #[test]
    fn relation_targets_filter_by_type() {
        let deps = relation_targets(&petstore(), &["dependsOn"]);
        assert_eq!(deps.len(), 2);
        assert!(deps.iter().all(|(t, _)| t == "dependsOn"));
    }
}
