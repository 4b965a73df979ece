//! Search documents and the catalog collator: an entity becomes one document
//! of type `software-catalog` with Backstage's fields (title, text, location,
//! kind, type, owner, lifecycle, namespace), plus what Greenroom also
//! matches on: the entity's name and tags, and for APIs the operation ids,
//! paths and summaries of their OpenAPI definition.

use greenroom_model::Entity;
use serde_json::{json, Value};

/// Backstage's document type of catalog entities.
pub const CATALOG_TYPE: &str = "software-catalog";

/// One searchable document.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDocument {
    /// Unique in the index: the entity ref for catalog documents.
    pub id: String,
    pub doc_type: String,
    pub name: String,
    pub title: String,
    pub text: String,
    pub location: String,
    pub kind: String,
    pub namespace: String,
    pub component_type: String,
    pub lifecycle: String,
    /// `spec.owner` as written.
    pub owner: String,
    pub tags: Vec<String>,
    /// Text that matches with a lower weight: API definitions, docs headings.
    pub extra_text: String,
    /// More fields of the stored document (an object, or null for none).
    pub extra: Value,
}

impl SearchDocument {
    /// The document as the API returns it (Backstage's field names).
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "title": self.title,
            "text": self.text,
            "location": self.location,
            "name": self.name,
            "kind": self.kind,
            "namespace": self.namespace,
            "componentType": self.component_type,
            "type": self.component_type,
            "lifecycle": self.lifecycle,
            "owner": self.owner,
            "tags": self.tags,
        });
        if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), &self.extra) {
            out.extend(extra.clone());
        }
        out
    }
}

/// A string field of an entity by path, or "".
fn field<'a>(entity: &'a Entity, path: &[&str]) -> &'a str {
    match path.split_first() {
        Some((first, rest)) => entity.get(*first).map_or("", |v| str_at(v, rest)),
        None => "",
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The owner's short name and full ref, both lowercased: a filter on either matches.
pub fn owner_keys(owner: &str) -> Vec<String> {
    let owner = owner.trim().to_lowercase();
    if owner.is_empty() {
        return Vec::new();
    }
    let (kind, rest) = match owner.split_once(':') {
        Some((k, r)) => (k.to_string(), r.to_string()),
        None => ("group".to_string(), owner.clone()),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, n)) => (ns.to_string(), n.to_string()),
        None => ("default".to_string(), rest),
    };
    vec![name.clone(), format!("{kind}:{namespace}/{name}")]
}

/// The words of a Software Template beyond its description: the titles and
/// descriptions of its form's steps and fields, and its steps' names and
/// actions, so "which template asks for a database" finds it.
fn template_text(entity: &Entity) -> String {
    let spec = entity.get("spec");
    let mut words: Vec<&str> = Vec::new();
    fn take<'a>(words: &mut Vec<&'a str>, v: Option<&'a Value>) {
        if let Some(t) = v.and_then(Value::as_str) {
            words.push(t);
        }
    }
    let parameters = spec.and_then(|s| s.get("parameters"));
    let pages: Vec<&Value> = match parameters {
        Some(Value::Array(pages)) => pages.iter().collect(),
        Some(page @ Value::Object(_)) => vec![page],
        _ => Vec::new(),
    };
    for page in pages {
        take(&mut words, page.get("title"));
        take(&mut words, page.get("description"));
        for property in page
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.values())
        {
            take(&mut words, property.get("title"));
            take(&mut words, property.get("description"));
        }
    }
    for step in spec
        .and_then(|s| s.get("steps"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        take(&mut words, step.get("name"));
        take(&mut words, step.get("action"));
    }
    words.join(" ")
}

/// The catalog collator (Backstage's `defaultCatalogCollatorEntityTransformer`).
pub fn from_entity(entity: &Entity) -> SearchDocument {
    let kind = field(entity, &["kind"]).to_string();
    let name = field(entity, &["metadata", "name"]).to_string();
    let namespace = match field(entity, &["metadata", "namespace"]) {
        "" => "default".to_string(),
        ns => ns.to_string(),
    };
    let title = match field(entity, &["metadata", "title"]) {
        "" => name.clone(),
        t => t.to_string(),
    };
    let mut text: Vec<&str> = vec![field(entity, &["metadata", "description"])];
    if kind.eq_ignore_ascii_case("user") || kind.eq_ignore_ascii_case("group") {
        text.push(field(entity, &["spec", "profile", "displayName"]));
    }
    if kind.eq_ignore_ascii_case("user") {
        text.push(field(entity, &["spec", "profile", "email"]));
    }
    let text = text
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" : ");
    let component_type = match field(entity, &["spec", "type"]) {
        "" => "other".to_string(),
        t => t.to_string(),
    };
    let tags = entity
        .get("metadata")
        .and_then(|m| m.get("tags"))
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let extra_text = if kind.eq_ignore_ascii_case("api") {
        api_definition_text(field(entity, &["spec", "definition"]))
    } else if kind.eq_ignore_ascii_case("template") {
        template_text(entity)
    } else {
        String::new()
    };
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(&s.to_lowercase(), percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    };
    SearchDocument {
        id: format!(
            "{}:{}/{}",
            kind.to_lowercase(),
            namespace.to_lowercase(),
            name.to_lowercase()
        ),
        doc_type: CATALOG_TYPE.to_string(),
        location: format!(
            "/catalog/{}/{}/{}",
            encode(&namespace),
            encode(&kind),
            encode(&name)
        ),
        name,
        title,
        text,
        kind,
        namespace,
        component_type,
        lifecycle: field(entity, &["spec", "lifecycle"]).to_string(),
        owner: field(entity, &["spec", "owner"]).to_string(),
        tags,
        extra_text,
        extra: Value::Null,
    }
}

/// The searchable words of an OpenAPI (or AsyncAPI) definition: its title and
/// description, every path, and each operation's id, summary and description.
/// Anything that is not such a document gives its first 64 KiB as text.
pub fn api_definition_text(definition: &str) -> String {
    const MAX: usize = 64 * 1024;
    let parsed: Option<Value> = serde_saphyr::from_str(definition).ok();
    let Some(doc) = parsed.filter(|d| d.get("paths").is_some() || d.get("channels").is_some())
    else {
        return definition.chars().take(MAX).collect();
    };
    let mut words: Vec<String> = vec![
        str_at(&doc, &["info", "title"]).to_string(),
        str_at(&doc, &["info", "description"]).to_string(),
    ];
    for section in ["paths", "channels"] {
        let Some(paths) = doc.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (path, item) in paths {
            words.push(path.clone());
            let Some(ops) = item.as_object() else {
                continue;
            };
            for op in ops.values() {
                for field in ["operationId", "summary", "description"] {
                    words.push(str_at(op, &[field]).to_string());
                }
                // `getParcelEta` is also found by `parcel` and `eta`.
                words.push(split_camel_case(str_at(op, &["operationId"])));
            }
        }
    }
    let mut text = words
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut end = text.len().min(MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn split_camel_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 8);
    let mut previous_lower = false;
    for c in word.chars() {
        if c.is_uppercase() && previous_lower {
            out.push(' ');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

#[cfg(test)]
mod template_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_are_found_by_their_form_and_steps() {
        let entity = json!({"kind": "Template", "metadata": {"name": "rust-service"}, "spec": {
            "parameters": [
                {"title": "Service", "properties": {"name": {"title": "Name", "description": "Unique service name"}}},
                {"title": "Cloud resources", "properties": {"database": {"title": "PostgreSQL database"}}}
            ],
            "steps": [{"id": "claim", "name": "Write the Crossplane claim", "action": "gitops:claim"}]
        }})
        .as_object()
        .unwrap()
        .clone();
        let doc = from_entity(&entity);
        for words in [
            "Cloud resources",
            "PostgreSQL database",
            "Unique service name",
            "Crossplane claim",
            "gitops:claim",
        ] {
            assert!(
                doc.extra_text.contains(words),
                "{words} missing: {}",
                doc.extra_text
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_become_backstage_documents() {
        let entity = |v: Value| v.as_object().cloned().unwrap();
        let doc = from_entity(&entity(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "payment-service", "title": "Payments", "description": "Takes money", "tags": ["java"]},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}
        })));
        assert_eq!(doc.id, "component:default/payment-service");
        assert_eq!(doc.location, "/catalog/default/component/payment%2Dservice");
        assert_eq!(doc.title, "Payments");
        assert_eq!(doc.text, "Takes money");
        assert_eq!(doc.to_json()["componentType"], "service");
        let user = from_entity(&entity(json!({
            "kind": "User", "metadata": {"name": "jo"},
            "spec": {"profile": {"displayName": "Jo Doe", "email": "jo@example.com"}}
        })));
        assert_eq!(user.text, "Jo Doe : jo@example.com");
        assert_eq!(user.component_type, "other");
    }

    #[test]
    fn owners_match_by_short_name_and_ref() {
        assert_eq!(owner_keys("team-a"), vec!["team-a", "group:default/team-a"]);
        assert_eq!(owner_keys("user:ops/Jo"), vec!["jo", "user:ops/jo"]);
        assert!(owner_keys("").is_empty());
    }

    #[test]
    fn openapi_definitions_give_paths_and_operations() {
        let text = api_definition_text(
            "openapi: 3.0.0\ninfo: {title: Parcels}\npaths:\n  /parcels/{id}/eta:\n    get: {operationId: getParcelEta, summary: Estimated arrival}\n",
        );
        assert!(text.contains("/parcels/{id}/eta"));
        assert!(text.contains("getParcelEta"));
        assert!(text.contains("Estimated arrival"));
        assert!(text.contains("get Parcel Eta"));
        assert_eq!(
            api_definition_text("syntax = \"proto3\";"),
            "syntax = \"proto3\";"
        );
    }
}
