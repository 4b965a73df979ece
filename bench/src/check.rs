//! Checks a set of catalog entities the way Backstage would before accepting
//! them: name, tag and annotation formats, required spec fields per kind, and
//! that every reference in a spec resolves to an entity of the same set.
//!
//! The benchmark uses it to prove its generated catalogs are valid (an
//! invalid catalog would measure error handling, not stitching), and the demo
//! catalog test uses it to keep the demo consistent.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

static ENTITY_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$").expect("regex"));
static DNS_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:\-+[a-z0-9]+)*$").expect("regex"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$").expect("regex"));

/// Backstage `isValidObjectName`: 1..63 characters, alphanumeric at both ends.
pub fn is_valid_entity_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 63 && ENTITY_NAME.is_match(name)
}

/// Backstage `isValidDnsLabel`, used for namespaces.
pub fn is_valid_namespace(namespace: &str) -> bool {
    !namespace.is_empty() && namespace.len() <= 63 && DNS_LABEL.is_match(namespace)
}

/// Backstage tag rule: lower case, `:`, `+`, `#`, single dashes between groups.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.len() <= 63 && TAG.is_match(tag)
}

/// Annotation and label keys: `[dns-subdomain/]entity-name`.
pub fn is_valid_annotation_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix
        .is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(is_valid_namespace));
    prefix_ok && !name.contains('/') && is_valid_entity_name(name)
}

/// Parses `[kind:][namespace/]name` into the canonical lower-cased
/// `kind:namespace/name`, applying the referencing field's defaults.
pub fn canonical_ref(
    reference: &str,
    default_kind: Option<&str>,
    default_namespace: &str,
) -> Result<String, String> {
    let (kind, rest) = match (reference.find(':'), reference.find('/')) {
        (Some(colon), slash) if slash.is_none_or(|s| colon < s) => {
            (Some(&reference[..colon]), &reference[colon + 1..])
        }
        _ => (None, reference),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, rest),
    };
    let kind = kind.or(default_kind).ok_or_else(|| {
        format!("reference '{reference}' has no kind and the field has no default kind")
    })?;
    let namespace = namespace.unwrap_or(default_namespace);
    if kind.is_empty() || namespace.is_empty() || name.is_empty() {
        return Err(format!("reference '{reference}' has an empty part"));
    }
    Ok(format!(
        "{}:{}/{}",
        kind.to_lowercase(),
        namespace.to_lowercase(),
        name.to_lowercase()
    ))
}

/// The canonical ref of an entity, or None when kind or name is missing.
pub fn entity_ref(entity: &Value) -> Option<String> {
    let kind = entity.get("kind")?.as_str()?;
    let metadata = entity.get("metadata")?;
    let name = metadata.get("name")?.as_str()?;
    let namespace = metadata
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    Some(format!(
        "{}:{}/{}",
        kind.to_lowercase(),
        namespace.to_lowercase(),
        name.to_lowercase()
    ))
}

/// A reference-carrying spec field: which kinds use it, whether it holds a
/// list, and the kind assumed when the reference omits one (Backstage's
/// BuiltinKindsEntityProcessor table).
struct RefField {
    field: &'static str,
    kinds: &'static [&'static str],
    default_kind: Option<&'static str>,
}

const REF_FIELDS: &[RefField] = &[
    RefField {
        field: "owner",
        kinds: &["component", "api", "resource", "system", "domain"],
        default_kind: Some("group"),
    },
    RefField {
        field: "system",
        kinds: &["component", "api", "resource"],
        default_kind: Some("system"),
    },
    RefField {
        field: "subcomponentOf",
        kinds: &["component"],
        default_kind: Some("component"),
    },
    RefField {
        field: "domain",
        kinds: &["system"],
        default_kind: Some("domain"),
    },
    RefField {
        field: "subdomainOf",
        kinds: &["domain"],
        default_kind: Some("domain"),
    },
    RefField {
        field: "providesApis",
        kinds: &["component"],
        default_kind: Some("api"),
    },
    RefField {
        field: "consumesApis",
        kinds: &["component"],
        default_kind: Some("api"),
    },
    RefField {
        field: "dependsOn",
        kinds: &["component", "resource"],
        default_kind: None,
    },
    RefField {
        field: "dependencyOf",
        kinds: &["component", "resource"],
        default_kind: None,
    },
    RefField {
        field: "memberOf",
        kinds: &["user"],
        default_kind: Some("group"),
    },
    RefField {
        field: "parent",
        kinds: &["group"],
        default_kind: Some("group"),
    },
    RefField {
        field: "children",
        kinds: &["group"],
        default_kind: Some("group"),
    },
    RefField {
        field: "members",
        kinds: &["group"],
        default_kind: Some("user"),
    },
];

/// Spec fields the kind's JSON schema requires (`children` and `memberOf`
/// may be empty lists but must be present).
fn required_spec_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "component" => &["type", "lifecycle", "owner"],
        "api" => &["type", "lifecycle", "owner", "definition"],
        "resource" => &["type", "owner"],
        "system" | "domain" => &["owner"],
        "group" => &["type", "children"],
        "user" => &["memberOf"],
        _ => &[],
    }
}

/// Every problem found in `entities`, as human-readable lines naming the
/// entity; empty when the set is valid and closed under its references.
pub fn check_entities(entities: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut known = HashSet::new();
    for (index, entity) in entities.iter().enumerate() {
        match entity_ref(entity) {
            Some(r) => {
                if !known.insert(r.clone()) {
                    problems.push(format!("{r}: defined more than once"));
                }
            }
            None => problems.push(format!("entity #{index}: missing kind or metadata.name")),
        }
    }
    for entity in entities {
        let Some(this) = entity_ref(entity) else {
            continue;
        };
        check_envelope(&this, entity, &mut problems);
        check_spec(&this, entity, &known, &mut problems);
    }
    problems
}

fn check_envelope(this: &str, entity: &Value, problems: &mut Vec<String>) {
    if entity.get("apiVersion").and_then(Value::as_str).is_none() {
        problems.push(format!("{this}: missing apiVersion"));
    }
    if let Some(obj) = entity.as_object() {
        for key in obj.keys() {
            if !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()) {
                problems.push(format!("{this}: foreign root field '{key}'"));
            }
        }
    }
    let metadata = &entity["metadata"];
    let name = metadata["name"].as_str().unwrap_or_default();
    if !is_valid_entity_name(name) {
        problems.push(format!("{this}: invalid metadata.name '{name}'"));
    }
    if let Some(ns) = metadata.get("namespace").and_then(Value::as_str) {
        if !is_valid_namespace(ns) {
            problems.push(format!("{this}: invalid metadata.namespace '{ns}'"));
        }
    }
    for tag in metadata["tags"].as_array().into_iter().flatten() {
        let tag = tag.as_str().unwrap_or_default();
        if !is_valid_tag(tag) {
            problems.push(format!("{this}: invalid tag '{tag}'"));
        }
    }
    for key in ["annotations", "labels"] {
        for (k, v) in metadata[key].as_object().into_iter().flatten() {
            if !is_valid_annotation_key(k) {
                problems.push(format!("{this}: invalid {key} key '{k}'"));
            }
            if !v.is_string() {
                problems.push(format!("{this}: {key} value of '{k}' is not a string"));
            }
        }
    }
    for link in metadata["links"].as_array().into_iter().flatten() {
        let target = link["url"].as_str().unwrap_or_default();
        if url::Url::parse(target).is_err() {
            problems.push(format!("{this}: link url '{target}' does not parse"));
        }
    }
}

fn check_spec(this: &str, entity: &Value, known: &HashSet<String>, problems: &mut Vec<String>) {
    let kind = entity["kind"].as_str().unwrap_or_default().to_lowercase();
    let namespace = entity["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let spec = &entity["spec"];
    for field in required_spec_fields(&kind) {
        match spec.get(*field) {
            None | Some(Value::Null) => problems.push(format!("{this}: missing spec.{field}")),
            Some(Value::String(s)) if s.is_empty() => {
                problems.push(format!("{this}: empty spec.{field}"))
            }
            Some(_) => {}
        }
    }
    for rf in REF_FIELDS
        .iter()
        .filter(|rf| rf.kinds.contains(&kind.as_str()))
    {
        let values: Vec<&Value> = match spec.get(rf.field) {
            None => continue,
            Some(Value::Array(items)) => items.iter().collect(),
            Some(single) => vec![single],
        };
        for value in values {
            let Some(reference) = value.as_str() else {
                problems.push(format!("{this}: spec.{} holds a non-string", rf.field));
                continue;
            };
            match canonical_ref(reference, rf.default_kind, namespace) {
                Ok(target) if known.contains(&target) => {}
                Ok(target) => problems.push(format!(
                    "{this}: spec.{} '{reference}' does not resolve ({target} is not defined)",
                    rf.field
                )),
                Err(e) => problems.push(format!("{this}: spec.{}: {e}", rf.field)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entity_names_follow_backstage_rule() {
        for ok in [
            "a",
            "shipment-service",
            "amara.okafor",
            "A_b-9",
            &"x".repeat(63),
        ] {
            assert!(is_valid_entity_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "a/b", &"x".repeat(64)] {
            assert!(!is_valid_entity_name(bad), "{bad}");
        }
    }

    #[test]
    fn tags_follow_backstage_rule() {
        for ok in ["rust", "c++", "c#", "k8s:prod", "design-system"] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in ["", "Rust", "a--b", "-a", "a_b", "a b"] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn annotation_keys_allow_one_dns_prefix() {
        assert!(is_valid_annotation_key("backstage.io/techdocs-ref"));
        assert!(is_valid_annotation_key("github.com/project-slug"));
        assert!(is_valid_annotation_key("plain"));
        assert!(!is_valid_annotation_key("a/b/c"));
        assert!(!is_valid_annotation_key("Bad.Prefix/x"));
    }

    #[test]
    fn references_get_field_defaults_and_are_lower_cased() {
        assert_eq!(
            canonical_ref("Team-A", Some("group"), "default").unwrap(),
            "group:default/team-a"
        );
        assert_eq!(
            canonical_ref("resource:db", None, "ops").unwrap(),
            "resource:ops/db"
        );
        assert_eq!(
            canonical_ref("api:ns/x", Some("api"), "default").unwrap(),
            "api:ns/x"
        );
        // A slash before the colon means the colon belongs to the name.
        assert_eq!(
            canonical_ref("ns/a:b", Some("api"), "default").unwrap(),
            "api:ns/a:b"
        );
    }

    #[test]
    fn references_without_kind_fail_when_field_has_no_default() {
        let err = canonical_ref("db", None, "default").unwrap_err();
        assert!(err.contains("no kind"), "{err}");
        assert!(canonical_ref("api:", Some("api"), "default").is_err());
    }

    fn valid_pair() -> Vec<Value> {
        vec![
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                   "metadata": {"name": "team-a"}, "spec": {"type": "team", "children": []}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                   "metadata": {"name": "svc", "tags": ["rust"]},
                   "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}),
        ]
    }

    #[test]
    fn a_closed_valid_set_has_no_problems() {
        assert_eq!(check_entities(&valid_pair()), Vec::<String>::new());
    }

    #[test]
    fn unresolved_references_are_reported() {
        let mut entities = valid_pair();
        entities[1]["spec"]["owner"] = json!("team-b");
        entities[1]["spec"]["dependsOn"] = json!(["resource:db", "db"]);
        let problems = check_entities(&entities);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("group:default/team-b"));
        assert!(problems[1].contains("resource:default/db"));
        assert!(problems[2].contains("no kind"));
    }

    #[test]
    fn format_and_shape_problems_are_reported() {
        let mut entities = valid_pair();
        entities[1]["metadata"]["name"] = json!("bad name");
        entities[1]["metadata"]["tags"] = json!(["Rust"]);
        entities[1]["metadata"]["links"] = json!([{"url": "not a url"}]);
        entities[1]["status"] = json!({});
        entities[0]["spec"] = json!({"type": "team"});
        entities.push(entities[0].clone());
        let problems = check_entities(&entities).join("\n");
        for expected in [
            "defined more than once",
            "invalid metadata.name 'bad name'",
            "invalid tag 'Rust'",
            "does not parse",
            "foreign root field 'status'",
            "missing spec.children",
        ] {
            assert!(
                problems.contains(expected),
                "missing '{expected}' in:\n{problems}"
            );
        }
    }
}
