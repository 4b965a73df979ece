//! Local `$ref` resolution and schema summaries: the small tree of types,
//! properties, items and enum values the page shows for a JSON Schema.
//!
//! A schema can refer to itself, fan out exponentially through shared
//! references or simply be huge, so a summary stops at a recursion, at a
//! nesting depth, and after a number of nodes (per summary and per document).

use super::{field, flag, MAX_LIST};
use serde_json::Value;

/// Deepest nesting of a summary; deeper schemas show only their type.
pub const MAX_SCHEMA_DEPTH: usize = 8;
/// Nodes in one summary.
pub const MAX_SCHEMA_NODES: usize = 200;
/// Nodes in all the summaries of one document.
pub const MAX_DOCUMENT_NODES: usize = 10_000;
/// Longest chain of references to references.
const MAX_REF_HOPS: usize = 16;

/// Why a `$ref` could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefProblem {
    /// Another file or a URL: only references inside the document are followed.
    External,
    /// No such place in the document.
    Missing,
    /// The reference leads back to itself.
    Cycle,
}

/// Follows `#/...` JSON pointers inside one document.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    root: &'a Value,
}

impl<'a> Resolver<'a> {
    pub fn new(root: &'a Value) -> Self {
        Resolver { root }
    }

    /// The value a local reference (`#/components/schemas/Pet`) points at.
    pub fn pointer(&self, reference: &str) -> Option<&'a Value> {
        let path = reference.strip_prefix('#')?;
        if path.is_empty() {
            return Some(self.root);
        }
        let path = path.strip_prefix('/')?;
        path.split('/').try_fold(self.root, |value, raw| {
            let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            let segment = decoded.replace("~1", "/").replace("~0", "~");
            match value {
                Value::Object(map) => map.get(&segment),
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
                _ => None,
            }
        })
    }

    /// `value` itself, or what its `$ref` (chain) finally points at, with the
    /// references followed on the way.
    pub fn deref(
        &self,
        value: &'a Value,
    ) -> Result<(&'a Value, Vec<&'a str>), (RefProblem, &'a str)> {
        let mut current = value;
        let mut chain: Vec<&'a str> = Vec::new();
        while let Some(reference) = ref_of(current) {
            if chain.contains(&reference) || chain.len() >= MAX_REF_HOPS {
                return Err((RefProblem::Cycle, reference));
            }
            if !reference.starts_with('#') {
                return Err((RefProblem::External, reference));
            }
            current = self
                .pointer(reference)
                .ok_or((RefProblem::Missing, reference))?;
            chain.push(reference);
        }
        Ok((current, chain))
    }

    /// Like [`Resolver::deref`], but a reference that cannot be followed
    /// yields `Value::Null` (for objects whose fields are merely read).
    pub fn resolve(&self, value: &'a Value) -> &'a Value {
        self.deref(value).map(|(v, _)| v).unwrap_or(&Value::Null)
    }
}

/// The `$ref` of a reference object.
pub fn ref_of(value: &Value) -> Option<&str> {
    value.get("$ref").and_then(Value::as_str)
}

/// The name a reference is shown by: its last path segment
/// (`#/components/schemas/Pet` → `Pet`, `common.yaml#/Error` → `Error`).
pub fn ref_name(reference: &str) -> String {
    let tail = reference.rsplit('/').next().unwrap_or(reference);
    let tail = percent_encoding::percent_decode_str(tail).decode_utf8_lossy();
    let name = tail.replace("~1", "/").replace("~0", "~");
    if name.is_empty() {
        reference.to_string()
    } else {
        name
    }
}

/// Why a summary node shows no children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The schema contains itself here.
    Recursive,
    /// Nested deeper than [`MAX_SCHEMA_DEPTH`].
    TooDeep,
    /// The summary (or the document) used up its node budget.
    TooLarge,
    /// A `$ref` that could not be followed, with why.
    Unresolved(RefProblem),
}

/// A summary of one schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// The name of the `$ref` this schema came from.
    pub ref_name: Option<String>,
    /// `object`, `string`, `array`, `string | null`... empty when undeclared.
    pub type_name: String,
    pub format: String,
    pub description: String,
    pub enum_values: Vec<String>,
    pub properties: Vec<Property>,
    pub items: Option<Box<Schema>>,
    /// `oneOf` or `anyOf`, with `variants`.
    pub combinator: Option<&'static str>,
    pub variants: Vec<Schema>,
    /// The named schemas an `allOf` merged into this one.
    pub includes: Vec<String>,
    /// Entries (properties, enum values, variants) left out by the list cap.
    pub omitted: usize,
    pub stop: Option<Stop>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub required: bool,
    pub schema: Schema,
}

impl Schema {
    /// The type with its format: `string (date-time)`, `array of Pet`.
    pub fn type_label(&self) -> String {
        let base = if self.type_name == "array" {
            match &self.items {
                Some(items) => format!("array of {}", items.short_label()),
                None => "array".to_string(),
            }
        } else {
            self.type_name.clone()
        };
        if self.format.is_empty() {
            base
        } else if base.is_empty() {
            format!("({})", self.format)
        } else {
            format!("{base} ({})", self.format)
        }
    }

    /// The reference name when there is one, else the type label; `oneOf`s
    /// list their variants. Used for one-line cells such as a parameter's type.
    pub fn short_label(&self) -> String {
        if let Some(name) = &self.ref_name {
            return name.clone();
        }
        if let Some(combinator) = self.combinator {
            let names: Vec<String> = self.variants.iter().map(Schema::short_label).collect();
            return format!("{combinator}: {}", names.join(" | "));
        }
        let label = self.type_label();
        if label.is_empty() {
            "any".to_string()
        } else {
            label
        }
    }
}

/// Builds summaries for one document, sharing its node budget.
pub struct Summarizer<'a> {
    resolver: Resolver<'a>,
    document_budget: usize,
}

struct Walk<'a> {
    /// References being expanded, outermost first.
    stack: Vec<&'a str>,
    budget: usize,
}

impl<'a> Summarizer<'a> {
    pub fn new(root: &'a Value) -> Self {
        Summarizer {
            resolver: Resolver::new(root),
            document_budget: MAX_DOCUMENT_NODES,
        }
    }

    pub fn resolver(&self) -> Resolver<'a> {
        self.resolver
    }

    /// The summary of `schema` (a schema object or a reference to one).
    pub fn summarize(&mut self, schema: &'a Value) -> Schema {
        let mut walk = Walk {
            stack: Vec::new(),
            budget: MAX_SCHEMA_NODES,
        };
        self.node(schema, 0, &mut walk)
    }

    fn exhausted(&self, walk: &Walk<'a>) -> bool {
        walk.budget == 0 || self.document_budget == 0
    }

    fn node(&mut self, value: &'a Value, depth: usize, walk: &mut Walk<'a>) -> Schema {
        if self.exhausted(walk) {
            return Schema {
                ref_name: ref_of(value).map(ref_name),
                stop: Some(Stop::TooLarge),
                ..Schema::default()
            };
        }
        walk.budget -= 1;
        self.document_budget -= 1;

        let Some(reference) = ref_of(value) else {
            return self.body(value, depth, walk);
        };
        let name = Some(ref_name(reference));
        if walk.stack.contains(&reference) {
            return Schema {
                ref_name: name,
                stop: Some(Stop::Recursive),
                ..Schema::default()
            };
        }
        match self.resolver.deref(value) {
            Err((problem, _)) => Schema {
                ref_name: name,
                stop: Some(Stop::Unresolved(problem)),
                ..Schema::default()
            },
            Ok((target, chain)) => {
                if chain.iter().skip(1).any(|r| walk.stack.contains(r)) {
                    return Schema {
                        ref_name: name,
                        stop: Some(Stop::Recursive),
                        ..Schema::default()
                    };
                }
                let mark = walk.stack.len();
                walk.stack.extend(chain);
                let mut schema = self.body(target, depth, walk);
                walk.stack.truncate(mark);
                schema.ref_name = name;
                schema
            }
        }
    }

    fn body(&mut self, value: &'a Value, depth: usize, walk: &mut Walk<'a>) -> Schema {
        let Some(object) = value.as_object() else {
            // `true` / `{}`-like schemas accept anything.
            return Schema::default();
        };
        let mut schema = Schema {
            type_name: type_name(value),
            format: field(value, "format"),
            description: field(value, "description"),
            ..Schema::default()
        };
        if let Some(values) = value.get("enum").and_then(Value::as_array) {
            schema.enum_values = values.iter().take(MAX_LIST).map(enum_text).collect();
            schema.omitted += values.len().saturating_sub(MAX_LIST);
        } else if let Some(constant) = value.get("const") {
            schema.enum_values = vec![enum_text(constant)];
        }

        let has_children = ["properties", "items", "allOf", "oneOf", "anyOf"]
            .iter()
            .any(|k| object.contains_key(*k));
        if !has_children {
            return schema;
        }
        if depth >= MAX_SCHEMA_DEPTH {
            schema.stop = Some(Stop::TooDeep);
            return schema;
        }

        let required: Vec<&str> = value
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = value.get("properties").and_then(Value::as_object) {
            for (shown, (name, property)) in properties.iter().take(MAX_LIST).enumerate() {
                if self.exhausted(walk) {
                    schema.omitted += properties.len().min(MAX_LIST) - shown;
                    schema.stop = Some(Stop::TooLarge);
                    break;
                }
                let child = self.node(property, depth + 1, walk);
                schema.properties.push(Property {
                    name: name.clone(),
                    required: required.contains(&name.as_str()),
                    schema: child,
                });
            }
            schema.omitted += properties.len().saturating_sub(MAX_LIST);
        }
        if let Some(items) = value
            .get("items")
            .filter(|i| i.is_object() && !self.exhausted(walk))
        {
            schema.items = Some(Box::new(self.node(items, depth + 1, walk)));
        }
        if let Some(parts) = value.get("allOf").and_then(Value::as_array) {
            for part in parts.iter().take(MAX_LIST) {
                if self.exhausted(walk) {
                    schema.stop = Some(Stop::TooLarge);
                    break;
                }
                let part = self.node(part, depth + 1, walk);
                merge_all_of(&mut schema, part);
            }
        }
        for combinator in ["oneOf", "anyOf"] {
            if let Some(variants) = value.get(combinator).and_then(Value::as_array) {
                schema.combinator = Some(combinator);
                for (shown, variant) in variants.iter().take(MAX_LIST).enumerate() {
                    if self.exhausted(walk) {
                        schema.omitted += variants.len().min(MAX_LIST) - shown;
                        schema.stop = Some(Stop::TooLarge);
                        break;
                    }
                    let variant = self.node(variant, depth + 1, walk);
                    schema.variants.push(variant);
                }
                schema.omitted += variants.len().saturating_sub(MAX_LIST);
                break;
            }
        }
        schema
    }
}

/// `allOf` parts are shown as one object: their properties together, the
/// named parts listed as included.
fn merge_all_of(schema: &mut Schema, part: Schema) {
    if let Some(name) = part.ref_name {
        schema.includes.push(name);
    }
    if schema.type_name.is_empty() {
        schema.type_name = part.type_name;
    }
    if schema.format.is_empty() {
        schema.format = part.format;
    }
    if schema.description.is_empty() {
        schema.description = part.description;
    }
    if schema.enum_values.is_empty() {
        schema.enum_values = part.enum_values;
    }
    if schema.items.is_none() {
        schema.items = part.items;
    }
    for property in part.properties {
        if let Some(existing) = schema
            .properties
            .iter_mut()
            .find(|p| p.name == property.name)
        {
            *existing = property;
        } else if schema.properties.len() < MAX_LIST {
            schema.properties.push(property);
        } else {
            schema.omitted += 1;
        }
    }
    schema.omitted += part.omitted;
    if schema.combinator.is_none() && part.combinator.is_some() {
        schema.combinator = part.combinator;
        schema.variants = part.variants;
    }
    if schema.stop.is_none() {
        schema.stop = part.stop;
    }
}

/// `type` as written (3.1 allows a list), `| null` for 3.0's `nullable`, and
/// `object` / `array` when only `properties` / `items` say so.
fn type_name(value: &Value) -> String {
    let mut name = match value.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .take(8)
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if value.get("properties").is_some() => "object".to_string(),
        _ if value.get("items").is_some() => "array".to_string(),
        _ => String::new(),
    };
    if flag(value, "nullable") && !name.is_empty() {
        name.push_str(" | null");
    }
    name
}

fn enum_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => {
            let mut text = other.to_string();
            if text.len() > 80 {
                let mut end = 77;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push('…');
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summarize(doc: &Value, schema: &Value) -> Schema {
        Summarizer::new(doc).summarize(schema)
    }

    #[test]
    fn pointers_follow_escapes_and_indices() {
        let doc = json!({
            "paths": {"/a/{id}": {"get": {"x": 1}}},
            "components": {"schemas": {"Pet": {"type": "object"}, "a~b": {"type": "string"}}},
            "list": [10, 20]
        });
        let r = Resolver::new(&doc);
        assert_eq!(
            r.pointer("#/components/schemas/Pet"),
            Some(&json!({"type": "object"}))
        );
        assert_eq!(r.pointer("#/paths/~1a~1%7Bid%7D/get/x"), Some(&json!(1)));
        assert_eq!(
            r.pointer("#/components/schemas/a~0b"),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(r.pointer("#/list/1"), Some(&json!(20)));
        assert_eq!(r.pointer("#/list/9"), None);
        assert_eq!(r.pointer("#/list/-1"), None);
        assert_eq!(r.pointer("#"), Some(&doc));
        assert_eq!(r.pointer("other.yaml#/x"), None);
        assert_eq!(r.pointer("#nope"), None);
    }

    #[test]
    fn reference_names_are_their_last_segment() {
        assert_eq!(ref_name("#/components/schemas/Pet"), "Pet");
        assert_eq!(ref_name("common.yaml#/definitions/Error"), "Error");
        assert_eq!(ref_name("#/components/schemas/a~1b"), "a/b");
        assert_eq!(ref_name("#/"), "#/");
    }

    #[test]
    fn deref_follows_chains_and_reports_problems() {
        let doc = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": {"type": "string"},
                         "x": {"$ref": "#/y"}, "y": {"$ref": "#/x"}});
        let r = Resolver::new(&doc);
        let (value, chain) = r.deref(&doc["a"]).unwrap();
        assert_eq!(value, &json!({"type": "string"}));
        assert_eq!(chain, ["#/b", "#/c"]);
        assert_eq!(r.deref(&doc["x"]).unwrap_err().0, RefProblem::Cycle);
        assert_eq!(
            r.deref(&json!({"$ref": "#/zzz"})).unwrap_err().0,
            RefProblem::Missing
        );
        assert_eq!(
            r.deref(&json!({"$ref": "https://example.com/s.json"}))
                .unwrap_err()
                .0,
            RefProblem::External
        );
        assert_eq!(r.resolve(&doc["x"]), &Value::Null);
        // A self-reference.
        let selfish = json!({"s": {"$ref": "#/s"}});
        assert_eq!(
            Resolver::new(&selfish).deref(&selfish["s"]).unwrap_err().0,
            RefProblem::Cycle
        );
    }

    #[test]
    fn objects_list_properties_with_required_flags() {
        let doc = json!({"components": {"schemas": {
            "Status": {"type": "string", "enum": ["booked", "delivered"]},
            "Shipment": {"type": "object", "required": ["id"], "description": "A shipment",
                "properties": {
                    "id": {"type": "string"},
                    "status": {"$ref": "#/components/schemas/Status"},
                    "createdAt": {"type": "string", "format": "date-time", "description": "When"},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }}
        }}});
        let s = summarize(&doc, &json!({"$ref": "#/components/schemas/Shipment"}));
        assert_eq!(s.ref_name.as_deref(), Some("Shipment"));
        assert_eq!(s.type_name, "object");
        assert_eq!(s.description, "A shipment");
        let names: Vec<(&str, bool)> = s
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.required))
            .collect();
        assert_eq!(
            names,
            [
                ("id", true),
                ("status", false),
                ("createdAt", false),
                ("tags", false)
            ]
        );
        let status = &s.properties[1].schema;
        assert_eq!(status.ref_name.as_deref(), Some("Status"));
        assert_eq!(status.enum_values, ["booked", "delivered"]);
        assert_eq!(s.properties[2].schema.type_label(), "string (date-time)");
        assert_eq!(s.properties[2].schema.description, "When");
        assert_eq!(s.properties[3].schema.type_label(), "array of string");
        assert_eq!(status.short_label(), "Status");
    }

    #[test]
    fn all_of_merges_and_one_of_lists_variants() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
            "Cat": {"type": "object"}, "Dog": {"type": "object"}
        }}});
        let s = summarize(
            &doc,
            &json!({"allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}}
            ]}),
        );
        assert_eq!(s.type_name, "object");
        assert_eq!(s.includes, ["Base"]);
        let names: Vec<(&str, bool)> = s
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.required))
            .collect();
        assert_eq!(names, [("a", true), ("b", true)]);

        let pet = summarize(
            &doc,
            &json!({"oneOf": [
                {"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}
            ]}),
        );
        assert_eq!(pet.combinator, Some("oneOf"));
        assert_eq!(pet.short_label(), "oneOf: Cat | Dog");
    }

    #[test]
    fn types_are_inferred_and_nullable() {
        let doc = json!({});
        assert_eq!(
            summarize(&doc, &json!({"properties": {}})).type_name,
            "object"
        );
        assert_eq!(
            summarize(&doc, &json!({"items": {}})).type_label(),
            "array of any"
        );
        assert_eq!(
            summarize(&doc, &json!({"type": ["string", "null"]})).type_name,
            "string | null"
        );
        assert_eq!(
            summarize(&doc, &json!({"type": "integer", "nullable": true})).type_name,
            "integer | null"
        );
        assert_eq!(summarize(&doc, &json!({"const": 3})).enum_values, ["3"]);
        assert_eq!(summarize(&doc, &json!(true)), Schema::default());
        assert_eq!(
            summarize(&doc, &json!({"format": "binary"})).type_label(),
            "(binary)"
        );
    }

    #[test]
    fn cycles_stop_with_a_recursion_marker() {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"$ref": "#/components/schemas/Alias"}
            }},
            "Alias": {"$ref": "#/components/schemas/Node"},
            "Loop": {"$ref": "#/components/schemas/Loop"}
        }}});
        let s = summarize(&doc, &json!({"$ref": "#/components/schemas/Node"}));
        let child = s.properties[0].schema.items.as_ref().unwrap();
        assert_eq!(child.ref_name.as_deref(), Some("Node"));
        assert_eq!(child.stop, Some(Stop::Recursive));
        assert_eq!(s.properties[1].schema.stop, Some(Stop::Recursive));
        let l = summarize(&doc, &json!({"$ref": "#/components/schemas/Loop"}));
        assert_eq!(l.stop, Some(Stop::Unresolved(RefProblem::Cycle)));
        let missing = summarize(&doc, &json!({"$ref": "#/components/schemas/Nope"}));
        assert_eq!(missing.ref_name.as_deref(), Some("Nope"));
        assert_eq!(missing.stop, Some(Stop::Unresolved(RefProblem::Missing)));
    }

    fn count(schema: &Schema) -> usize {
        1 + schema
            .properties
            .iter()
            .map(|p| count(&p.schema))
            .sum::<usize>()
            + schema.items.as_deref().map_or(0, count)
            + schema.variants.iter().map(count).sum::<usize>()
    }

    fn depth(schema: &Schema) -> usize {
        1 + schema
            .properties
            .iter()
            .map(|p| depth(&p.schema))
            .chain(schema.items.as_deref().map(depth))
            .chain(schema.variants.iter().map(depth))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn deep_nesting_stops_at_the_depth_limit() {
        let mut nested = json!({"type": "string"});
        for _ in 0..50 {
            nested = json!({"type": "object", "properties": {"inner": nested}});
        }
        let s = summarize(&json!({}), &nested);
        assert!(depth(&s) <= MAX_SCHEMA_DEPTH + 1);
        let mut node = &s;
        while let Some(p) = node.properties.first() {
            node = &p.schema;
        }
        assert_eq!(node.stop, Some(Stop::TooDeep));
    }

    #[test]
    fn shared_references_cannot_blow_up() {
        // Each level refers to the next twice: 2^30 nodes if expanded naively.
        let mut schemas = serde_json::Map::new();
        for i in 0..30 {
            let next = format!("#/s/L{}", i + 1);
            schemas.insert(
                format!("L{i}"),
                json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
            );
        }
        schemas.insert("L30".into(), json!({"type": "string"}));
        let doc = json!({"s": schemas});
        let top = json!({"$ref": "#/s/L0"});
        let mut summarizer = Summarizer::new(&doc);
        let first = summarizer.summarize(&top);
        assert!(count(&first) <= MAX_SCHEMA_NODES);
        // The document budget runs out too, after which summaries are stubs.
        for _ in 0..(MAX_DOCUMENT_NODES / MAX_SCHEMA_NODES + 1) {
            summarizer.summarize(&top);
        }
        let late = summarizer.summarize(&top);
        assert_eq!(late.stop, Some(Stop::TooLarge));
        assert_eq!(late.ref_name.as_deref(), Some("L0"));
    }

    #[test]
    fn huge_lists_are_capped_and_counted() {
        let properties: serde_json::Map<String, Value> = (0..500)
            .map(|i| (format!("p{i}"), json!({"type": "string"})))
            .collect();
        let values: Vec<Value> = (0..1000).map(|i| json!(i)).collect();
        let doc = json!({});
        let s = summarize(&doc, &json!({"type": "object", "properties": properties}));
        assert_eq!(s.properties.len(), MAX_LIST);
        assert_eq!(s.omitted, 450);
        let e = summarize(&doc, &json!({"enum": values}));
        assert_eq!(e.enum_values.len(), MAX_LIST);
        assert_eq!(e.omitted, 950);
        let long = summarize(&doc, &json!({"enum": [{"k": "x".repeat(500)}]}));
        assert!(long.enum_values[0].chars().count() <= 78);
    }
}
