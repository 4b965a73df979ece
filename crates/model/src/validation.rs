//! Entity validation (reference sections 1.1-1.5): the ingestion chain
//! envelope schema → default namespace → no foreign root fields → field formats
//! → kind validation. Messages follow Backstage: JSON-schema errors read like
//! ajv's (`/spec must have required property 'owner' - missingProperty: owner`),
//! field-format errors like `FieldFormatEntityPolicy`.

use crate::entity_ref::{EntityRef, DEFAULT_NAMESPACE};
use crate::Entity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One validation or processing error, in Backstage's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    /// Backstage error name, e.g. `InputError`.
    pub name: String,
    /// Dotted path of the offending field (`metadata.name`, `spec.owner`), when known.
    pub field: Option<String>,
    pub message: String,
}

impl ValidationError {
    pub fn input(field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            name: "InputError".into(),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

pub const API_VERSION_V1ALPHA1: &str = "backstage.io/v1alpha1";
pub const API_VERSION_V1BETA1: &str = "backstage.io/v1beta1";
pub const API_VERSION_TEMPLATE_V1BETA3: &str = "scaffolder.backstage.io/v1beta3";

const FORMAT_DOC: &str = "To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md";

/// Root fields a descriptor may carry (`NoForeignRootFieldsEntityPolicy`).
const KNOWN_ROOT_FIELDS: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];

/// Validates a raw descriptor document and returns the entity with
/// `metadata.namespace` filled in. Envelope errors stop validation (nothing
/// else can be checked); after that every error is collected, in the order of
/// Backstage's policy chain, so the first one is what Backstage would report.
pub fn validate_entity(raw: &Value) -> Result<Entity, Vec<ValidationError>> {
    let envelope_errors = check_envelope(raw);
    if !envelope_errors.is_empty() {
        return Err(envelope_errors);
    }
    let entity = with_default_namespace(raw.as_object().expect("envelope checked"));

    let mut errors = Vec::new();
    for key in entity
        .keys()
        .filter(|k| !KNOWN_ROOT_FIELDS.contains(&k.as_str()))
    {
        errors.push(ValidationError::input(
            Some(key),
            format!("Unknown field {key}"),
        ));
    }
    check_field_formats(&entity, &mut errors);
    check_kind(&entity, &mut errors);

    if errors.is_empty() {
        Ok(entity)
    } else {
        Err(errors)
    }
}

/// `DefaultNamespaceEntityPolicy`: a missing namespace becomes `default`
/// (placed right after `name`, where people expect to read it).
fn with_default_namespace(entity: &Entity) -> Entity {
    let mut out = entity.clone();
    let Some(Value::Object(meta)) = out.get_mut("metadata") else {
        return out;
    };
    if meta.contains_key("namespace") {
        return out;
    }
    let mut rebuilt = serde_json::Map::with_capacity(meta.len() + 1);
    for (k, v) in std::mem::take(meta) {
        let is_name = k == "name";
        rebuilt.insert(k, v);
        if is_name {
            rebuilt.insert("namespace".into(), Value::String(DEFAULT_NAMESPACE.into()));
        }
    }
    *meta = rebuilt;
    out
}

// ---------------------------------------------------------------------------
// JSON-schema style checks (ajv message format)
// ---------------------------------------------------------------------------

/// Collects schema errors with ajv's message shape and a dotted field path.
struct SchemaCheck<'a> {
    errors: &'a mut Vec<ValidationError>,
}

/// ajv's `instancePath` (JSON pointer; `<root>` for the document itself).
fn json_pointer(path: &[&str]) -> String {
    if path.is_empty() {
        return "<root>".to_string();
    }
    path.iter()
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect()
}

impl SchemaCheck<'_> {
    fn push(&mut self, path: &[&str], message: String) {
        let field = if path.is_empty() {
            None
        } else {
            Some(path.join("."))
        };
        let message = format!("{} {message}", json_pointer(path));
        self.errors.push(ValidationError {
            name: "InputError".into(),
            field,
            message,
        });
    }

    /// Reports each missing property; the message points at the parent object,
    /// the field at the missing key.
    fn required(&mut self, path: &[&str], obj: &serde_json::Map<String, Value>, props: &[&str]) {
        for p in props.iter().filter(|p| !obj.contains_key(**p)) {
            let mut field_path = path.to_vec();
            field_path.push(p);
            self.errors.push(ValidationError {
                name: "InputError".into(),
                field: Some(field_path.join(".")),
                message: format!(
                    "{} must have required property '{p}' - missingProperty: {p}",
                    json_pointer(path)
                ),
            });
        }
    }

    fn type_error(&mut self, path: &[&str], ty: &str) {
        self.push(path, format!("must be {ty} - type: {ty}"));
    }

    /// A string of at least one character.
    fn non_empty_string(&mut self, path: &[&str], v: &Value) {
        match v.as_str() {
            None => self.type_error(path, "string"),
            Some(s) if s.chars().count() < 1 => self.push(
                path,
                "must NOT have fewer than 1 characters - limit: 1".into(),
            ),
            Some(_) => {}
        }
    }

    fn string(&mut self, path: &[&str], v: &Value) {
        if !v.is_string() {
            self.type_error(path, "string");
        }
    }

    fn string_array(&mut self, path: &[&str], v: &Value) {
        let Some(items) = v.as_array() else {
            return self.type_error(path, "array");
        };
        for (i, item) in items.iter().enumerate() {
            let idx = i.to_string();
            let mut p = path.to_vec();
            p.push(&idx);
            self.non_empty_string(&p, item);
        }
    }

    fn object<'v>(
        &mut self,
        path: &[&str],
        v: &'v Value,
    ) -> Option<&'v serde_json::Map<String, Value>> {
        let obj = v.as_object();
        if obj.is_none() {
            self.type_error(path, "object");
        }
        obj
    }

    fn string_map(&mut self, path: &[&str], v: &Value) {
        let Some(obj) = self.object(path, v) else {
            return;
        };
        for (k, item) in obj {
            let mut p = path.to_vec();
            p.push(k);
            self.string(&p, item);
        }
    }
}

/// The envelope and metadata shape (`SchemaValidEntityPolicy`).
fn check_envelope(raw: &Value) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    let mut c = SchemaCheck {
        errors: &mut errors,
    };
    let Some(root) = raw.as_object() else {
        c.type_error(&[], "object");
        return errors;
    };
    c.required(&[], root, &["apiVersion", "kind", "metadata"]);
    if let Some(v) = root.get("apiVersion") {
        c.non_empty_string(&["apiVersion"], v);
    }
    if let Some(v) = root.get("kind") {
        c.non_empty_string(&["kind"], v);
    }
    if let Some(v) = root.get("spec") {
        c.object(&["spec"], v);
    }
    let Some(meta) = root.get("metadata") else {
        return errors;
    };
    let Some(meta) = c.object(&["metadata"], meta) else {
        return errors;
    };
    c.required(&["metadata"], meta, &["name"]);
    for field in ["name", "namespace", "title", "uid", "etag"] {
        if let Some(v) = meta.get(field) {
            c.non_empty_string(&["metadata", field], v);
        }
    }
    if let Some(v) = meta.get("description") {
        c.string(&["metadata", "description"], v);
    }
    for field in ["labels", "annotations"] {
        if let Some(v) = meta.get(field) {
            c.string_map(&["metadata", field], v);
        }
    }
    if let Some(v) = meta.get("tags") {
        c.string_array(&["metadata", "tags"], v);
    }
    if let Some(v) = meta.get("links") {
        match v.as_array() {
            None => c.type_error(&["metadata", "links"], "array"),
            Some(links) => {
                for (i, link) in links.iter().enumerate() {
                    let idx = i.to_string();
                    let path = ["metadata", "links", idx.as_str()];
                    let Some(link) = c.object(&path, link) else {
                        continue;
                    };
                    c.required(&path, link, &["url"]);
                    for field in ["url", "title", "icon", "type"] {
                        if let Some(v) = link.get(field) {
                            c.non_empty_string(&["metadata", "links", idx.as_str(), field], v);
                        }
                    }
                }
            }
        }
    }
    errors
}

// ---------------------------------------------------------------------------
// Field formats (FieldFormatEntityPolicy / makeValidator)
// ---------------------------------------------------------------------------

// The formats are plain ASCII patterns, checked by hand rather than with
// regexes: the model is also compiled into the web UI, where a regex engine
// with its Unicode tables would add hundreds of kilobytes to the download.
// Each function states the pattern it implements (Backstage's makeValidator).

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_object_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `^[a-z0-9]+(?:-+[a-z0-9]+)*$`
fn matches_dns_label(s: &str) -> bool {
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            lower_alnum(first)
                && lower_alnum(last)
                && b.iter().all(|c| lower_alnum(c) || *c == b'-')
        }
        _ => false,
    }
}

/// `^[a-zA-Z][a-z0-9A-Z]*$`
fn matches_kind(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
}

/// `^[a-z0-9A-Z]+$`
fn matches_api_version_suffix(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`
fn matches_tag(s: &str) -> bool {
    s.split('-').all(|part| {
        !part.is_empty()
            && part.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#')
            })
    })
}

fn len_between(s: &str, min: usize, max: usize) -> bool {
    let n = s.chars().count();
    (min..=max).contains(&n)
}

pub fn is_valid_object_name(s: &str) -> bool {
    len_between(s, 1, 63) && matches_object_name(s)
}

pub fn is_valid_dns_label(s: &str) -> bool {
    len_between(s, 1, 63) && matches_dns_label(s)
}

pub fn is_valid_dns_subdomain(s: &str) -> bool {
    len_between(s, 1, 253) && s.split('.').all(is_valid_dns_label)
}

pub fn is_valid_kind(s: &str) -> bool {
    len_between(s, 1, 63) && matches_kind(s)
}

/// `[prefix/]suffix` with at most one separator.
fn is_valid_prefix_and_or_suffix(
    s: &str,
    prefix: fn(&str) -> bool,
    suffix: fn(&str) -> bool,
) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [only] => suffix(only),
        [p, n] => prefix(p) && suffix(n),
        _ => false,
    }
}

pub fn is_valid_api_version(s: &str) -> bool {
    is_valid_prefix_and_or_suffix(s, is_valid_dns_subdomain, |n| {
        len_between(n, 1, 63) && matches_api_version_suffix(n)
    })
}

/// Label and annotation keys share this rule.
pub fn is_valid_label_key(s: &str) -> bool {
    is_valid_prefix_and_or_suffix(s, is_valid_dns_subdomain, is_valid_object_name)
}

pub fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || is_valid_object_name(s)
}

pub fn is_valid_tag(s: &str) -> bool {
    len_between(s, 1, 63) && matches_tag(s)
}

pub fn is_valid_url(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

const EXPECT_OBJECT_NAME: &str =
    "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total";
const EXPECT_PREFIX_SUFFIX: &str = "a valid prefix and/or suffix";
const EXPECT_DNS_LABEL: &str =
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total";
const EXPECT_TAG: &str =
    "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total";
const EXPECT_KIND: &str =
    "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total";
const EXPECT_URL: &str = "a string that is a valid url";
const EXPECT_NON_EMPTY: &str = "a non empty string";

/// `FieldFormatEntityPolicy`'s message for an invalid value.
pub fn field_format_message(field: &str, expectation: &str, value: &str) -> String {
    format!("\"{field}\" is not valid; expected {expectation} but found \"{value}\". {FORMAT_DOC}")
}

/// One format rule applied to one value. `label` is the name Backstage prints
/// (`labels.x`, `tags.0`), `path` the dotted path in the document.
fn require_format(
    errors: &mut Vec<ValidationError>,
    label: &str,
    path: &str,
    value: &str,
    valid: bool,
    expectation: &str,
) {
    if !valid {
        errors.push(ValidationError::input(
            Some(path),
            field_format_message(label, expectation, value),
        ));
    }
}

fn check_field_formats(entity: &Entity, errors: &mut Vec<ValidationError>) {
    let api_version = entity
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    require_format(
        errors,
        "apiVersion",
        "apiVersion",
        api_version,
        is_valid_api_version(api_version),
        EXPECT_PREFIX_SUFFIX,
    );
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    require_format(
        errors,
        "kind",
        "kind",
        kind,
        is_valid_kind(kind),
        EXPECT_KIND,
    );

    let Some(meta) = entity.get("metadata").and_then(Value::as_object) else {
        return;
    };
    let name = meta.get("name").and_then(Value::as_str).unwrap_or_default();
    require_format(
        errors,
        "metadata.name",
        "metadata.name",
        name,
        is_valid_object_name(name),
        EXPECT_OBJECT_NAME,
    );
    if let Some(ns) = meta.get("namespace").and_then(Value::as_str) {
        require_format(
            errors,
            "metadata.namespace",
            "metadata.namespace",
            ns,
            is_valid_dns_label(ns),
            EXPECT_DNS_LABEL,
        );
    }
    for (map_field, label_prefix) in [("labels", "labels"), ("annotations", "annotations")] {
        let Some(map) = meta.get(map_field).and_then(Value::as_object) else {
            continue;
        };
        for (k, v) in map {
            let label = format!("{label_prefix}.{k}");
            let path = format!("metadata.{map_field}.{k}");
            require_format(
                errors,
                &label,
                &path,
                k,
                is_valid_label_key(k),
                EXPECT_PREFIX_SUFFIX,
            );
            if map_field == "labels" {
                let v = v.as_str().unwrap_or_default();
                require_format(
                    errors,
                    &label,
                    &path,
                    v,
                    is_valid_label_value(v),
                    EXPECT_OBJECT_NAME,
                );
            }
        }
    }
    if let Some(tags) = meta.get("tags").and_then(Value::as_array) {
        for (i, tag) in tags.iter().enumerate() {
            let tag = tag.as_str().unwrap_or_default();
            require_format(
                errors,
                &format!("tags.{i}"),
                &format!("metadata.tags.{i}"),
                tag,
                is_valid_tag(tag),
                EXPECT_TAG,
            );
        }
    }
    if let Some(links) = meta.get("links").and_then(Value::as_array) {
        for (i, link) in links.iter().enumerate() {
            let url = link.get("url").and_then(Value::as_str).unwrap_or_default();
            let label = format!("links.{i}.url");
            require_format(
                errors,
                &label,
                &format!("metadata.{label}"),
                url,
                is_valid_url(url),
                EXPECT_URL,
            );
            for field in ["title", "icon"] {
                if let Some(v) = link.get(field).and_then(Value::as_str) {
                    let label = format!("links.{i}.{field}");
                    let valid = !v.trim().is_empty();
                    require_format(
                        errors,
                        &label,
                        &format!("metadata.{label}"),
                        v,
                        valid,
                        EXPECT_NON_EMPTY,
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Kind validation (the kinds' JSON schemas, section 1.5)
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum SpecField {
    /// string, minLength 1
    Str,
    /// array of strings with minLength 1
    StrArray,
    /// `{displayName?, email?, picture?}`
    Profile,
    /// `required` | `optional`
    Presence,
    /// any object
    Object,
    /// object or array (template parameters)
    ObjectOrArray,
    /// template steps
    Steps,
}

struct KindSchema {
    kind: &'static str,
    api_versions: &'static [&'static str],
    required: &'static [&'static str],
    fields: &'static [(&'static str, SpecField)],
}

const BACKSTAGE_VERSIONS: &[&str] = &[API_VERSION_V1ALPHA1, API_VERSION_V1BETA1];

const KIND_SCHEMAS: &[KindSchema] = &[
    KindSchema {
        kind: "Component",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["type", "lifecycle", "owner"],
        fields: &[
            ("type", SpecField::Str),
            ("lifecycle", SpecField::Str),
            ("owner", SpecField::Str),
            ("subcomponentOf", SpecField::Str),
            ("providesApis", SpecField::StrArray),
            ("consumesApis", SpecField::StrArray),
            ("dependsOn", SpecField::StrArray),
            ("dependencyOf", SpecField::StrArray),
            ("system", SpecField::Str),
        ],
    },
    KindSchema {
        kind: "API",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["type", "lifecycle", "owner", "definition"],
        fields: &[
            ("type", SpecField::Str),
            ("lifecycle", SpecField::Str),
            ("owner", SpecField::Str),
            ("definition", SpecField::Str),
            ("system", SpecField::Str),
        ],
    },
    KindSchema {
        kind: "Resource",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["type", "owner"],
        fields: &[
            ("type", SpecField::Str),
            ("owner", SpecField::Str),
            ("dependsOn", SpecField::StrArray),
            ("dependencyOf", SpecField::StrArray),
            ("system", SpecField::Str),
        ],
    },
    KindSchema {
        kind: "System",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["owner"],
        fields: &[
            ("owner", SpecField::Str),
            ("domain", SpecField::Str),
            ("type", SpecField::Str),
        ],
    },
    KindSchema {
        kind: "Domain",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["owner"],
        fields: &[
            ("owner", SpecField::Str),
            ("subdomainOf", SpecField::Str),
            ("type", SpecField::Str),
        ],
    },
    KindSchema {
        kind: "Group",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["type", "children"],
        fields: &[
            ("type", SpecField::Str),
            ("profile", SpecField::Profile),
            ("parent", SpecField::Str),
            ("children", SpecField::StrArray),
            ("members", SpecField::StrArray),
        ],
    },
    KindSchema {
        kind: "User",
        api_versions: BACKSTAGE_VERSIONS,
        required: &["memberOf"],
        fields: &[
            ("profile", SpecField::Profile),
            ("memberOf", SpecField::StrArray),
        ],
    },
    KindSchema {
        kind: "Location",
        api_versions: BACKSTAGE_VERSIONS,
        required: &[],
        fields: &[
            ("type", SpecField::Str),
            ("target", SpecField::Str),
            ("targets", SpecField::StrArray),
            ("presence", SpecField::Presence),
        ],
    },
    KindSchema {
        kind: "Template",
        api_versions: &[API_VERSION_TEMPLATE_V1BETA3],
        required: &["type", "steps"],
        fields: &[
            ("type", SpecField::Str),
            ("owner", SpecField::Str),
            ("lifecycle", SpecField::Str),
            ("parameters", SpecField::ObjectOrArray),
            ("steps", SpecField::Steps),
            ("output", SpecField::Object),
            ("secrets", SpecField::Object),
            ("presentation", SpecField::Object),
        ],
    },
];

/// The message when no kind schema accepts the entity's kind and apiVersion.
pub fn unrecognized_kind_message(entity_ref: &str) -> String {
    format!("No processor recognized the entity {entity_ref} as valid, possibly caused by a foreign kind or apiVersion")
}

/// Whether a built-in kind schema applies to this kind + apiVersion (exact
/// spelling, as the schemas' `enum`s are).
pub fn is_known_kind(kind: &str, api_version: &str) -> bool {
    KIND_SCHEMAS
        .iter()
        .any(|s| s.kind == kind && s.api_versions.contains(&api_version))
}

fn check_kind(entity: &Entity, errors: &mut Vec<ValidationError>) {
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_version = entity
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(schema) = KIND_SCHEMAS
        .iter()
        .find(|s| s.kind == kind && s.api_versions.contains(&api_version))
    else {
        let entity_ref = EntityRef::of_entity(entity)
            .map(|r| r.canonical())
            .unwrap_or_default();
        errors.push(ValidationError::input(
            Some("kind"),
            unrecognized_kind_message(&entity_ref),
        ));
        return;
    };
    let mut c = SchemaCheck { errors };
    let Some(spec) = entity.get("spec") else {
        c.required(&[], entity, &["spec"]);
        return;
    };
    let Some(spec) = spec.as_object() else { return }; // reported by the envelope check
    c.required(&["spec"], spec, schema.required);
    for (name, field) in schema.fields {
        let Some(v) = spec.get(*name) else { continue };
        let path = ["spec", *name];
        match field {
            SpecField::Str => c.non_empty_string(&path, v),
            SpecField::StrArray => c.string_array(&path, v),
            SpecField::Object => {
                c.object(&path, v);
            }
            SpecField::ObjectOrArray => {
                if !v.is_object() && !v.is_array() {
                    c.type_error(&path, "object,array");
                }
            }
            SpecField::Presence => {
                if v.as_str()
                    .is_none_or(|s| s != "required" && s != "optional")
                {
                    c.push(&path, "must be equal to one of the allowed values - allowedValues: required,optional".into());
                }
            }
            SpecField::Profile => {
                let Some(profile) = c.object(&path, v) else {
                    continue;
                };
                for key in ["displayName", "email", "picture"] {
                    if let Some(pv) = profile.get(key) {
                        c.non_empty_string(&["spec", name, key], pv);
                    }
                }
            }
            SpecField::Steps => check_steps(&mut c, v),
        }
    }
}

/// Template steps: objects with a required `action` string.
fn check_steps(c: &mut SchemaCheck<'_>, v: &Value) {
    let Some(steps) = v.as_array() else {
        return c.type_error(&["spec", "steps"], "array");
    };
    for (i, step) in steps.iter().enumerate() {
        let idx = i.to_string();
        let path = ["spec", "steps", idx.as_str()];
        let Some(step) = c.object(&path, step) else {
            continue;
        };
        c.required(&path, step, &["action"]);
        for key in ["id", "name", "action"] {
            if let Some(sv) = step.get(key) {
                c.string(&["spec", "steps", idx.as_str(), key], sv);
            }
        }
        if let Some(input) = step.get("input") {
            c.object(&["spec", "steps", idx.as_str(), "input"], input);
        }
        if let Some(cond) = step.get("if") {
            if !cond.is_string() && !cond.is_boolean() {
                c.type_error(&["spec", "steps", idx.as_str(), "if"], "string,boolean");
            }
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod format_pattern_tests {
    use super::*;

    /// Every string up to four characters over an alphabet with each class
    /// the patterns distinguish, plus longer samples.
    fn corpus() -> Vec<String> {
        let alphabet = ['a', 'Z', '7', '-', '_', '.', ':', '+', '#', '/', ' ', 'é'];
        let mut out = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    next.push(format!("{s}{c}"));
                }
            }
            out.extend(next.iter().cloned());
            frontier = next;
        }
        out.extend(
            [
                "payments-service",
                "team--a",
                "a.b_c-d",
                "-x",
                "x-",
                "c++",
                "node#js",
                "Payments Service!",
            ]
            .map(String::from),
        );
        out
    }

    #[test]
    fn hand_written_checks_match_backstages_patterns() {
        type Check = fn(&str) -> bool;
        let cases: [(&str, Check); 5] = [
            (
                r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$",
                matches_object_name,
            ),
            (r"^[a-z0-9]+(?:-+[a-z0-9]+)*$", matches_dns_label),
            (r"^[a-zA-Z][a-z0-9A-Z]*$", matches_kind),
            (r"^[a-z0-9A-Z]+$", matches_api_version_suffix),
            (r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$", matches_tag),
        ];
        let corpus = corpus();
        for (pattern, check) in cases {
            let re = regex::Regex::new(pattern).unwrap();
            for s in &corpus {
                assert_eq!(check(s), re.is_match(s), "pattern {pattern} on {s:?}");
            }
        }
    }
}
