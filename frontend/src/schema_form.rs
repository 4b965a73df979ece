//! The parameter forms of Software Templates: which fields one page of JSON
//! Schema shows for the current values (with the `dependencies` / `oneOf`
//! branches Backstage templates use), which control edits each field, the
//! checks made before leaving a page, and the review table. Plain functions
//! over JSON, unit-tested on the host; `pages::template_form` lays them out.

use std::collections::{HashSet, VecDeque};

use crate::api::encode_component;
use greenroom_model::scaffolder::{ParameterPage, ValueError};
use serde_json::{Map, Value};

/// The form's values: one flat object over every page, as Backstage sends it.
pub type Values = Map<String, Value>;

/// One option of a select, radio group or checkbox group.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: Value,
    pub label: String,
}

/// Which catalog entities an entity picker offers.
#[derive(Debug, Clone, PartialEq)]
pub struct PickerOptions {
    /// `filter=` sets (ORed); inside a set each key matches any of its
    /// values (an empty list: the field exists), and the keys are ANDed.
    pub filters: Vec<Vec<(String, Vec<String>)>>,
    /// The kind assumed for a typed reference without one.
    pub default_kind: Option<String>,
    pub default_namespace: String,
    /// Whether a typed value that is not in the list is accepted.
    pub allow_arbitrary: bool,
}

/// The hosts, owners and repositories a repository picker offers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RepoOptions {
    pub allowed_hosts: Vec<String>,
    pub allowed_owners: Vec<String>,
    pub allowed_repos: Vec<String>,
}

/// The control a field is edited with.
#[derive(Debug, Clone, PartialEq)]
pub enum Widget {
    Text,
    Textarea {
        rows: u32,
    },
    Password,
    Number {
        integer: bool,
    },
    Checkbox,
    Select(Vec<Choice>),
    Radio(Vec<Choice>),
    /// A list of free-text rows with add and remove buttons.
    StringList,
    /// A checkbox per allowed item.
    MultiCheck(Vec<Choice>),
    /// OwnerPicker, EntityPicker and their relatives: a combobox of catalog
    /// entities whose value is an entity reference.
    Entity(PickerOptions),
    /// Host, owner and repository; the value is `host?owner=o&repo=r`.
    RepoUrl(RepoOptions),
    /// Objects and other structures the form has no control for: JSON text.
    Json,
    Hidden,
}

/// How the review step shows a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Review {
    Show,
    /// Shown as this text instead of the value.
    Mask(String),
    Hide,
}

/// One field of a page, with everything its control needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub help: Option<String>,
    pub placeholder: Option<String>,
    pub required: bool,
    pub readonly: bool,
    pub autofocus: bool,
    pub widget: Widget,
    /// The property's schema, after any `dependencies` branch was merged in.
    pub schema: Value,
    /// EntityNamePicker: a name the catalog accepts.
    pub entity_name: bool,
    pub review: Review,
}

impl Field {
    /// The `id` of the field's control (of its first control, for groups).
    pub fn control_id(&self) -> String {
        field_id(&self.name)
    }

    /// Identifies the field for keyed lists: the same name with another
    /// schema (a different `oneOf` branch) is another field.
    pub fn key(&self) -> String {
        format!("{}\u{1f}{}", self.name, self.schema)
    }
}

/// `field-<name>`, with characters that do not belong in an id replaced.
pub fn field_id(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("field-{safe}")
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Whether a value counts as given: not absent, null or an empty string.
fn is_given(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        _ => true,
    }
}

fn schema_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        // ["string", "null"]: the first non-null type.
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// Merges `extra` into `base` (object keys of `extra` win; other values are replaced).
fn merge_schema(base: &mut Value, extra: &Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        (base, extra) => *base = extra.clone(),
    }
}

/// The properties (in order) and required names of a page for the current
/// values: the page's own, plus those of every `dependencies` entry that
/// applies. A `oneOf` entry applies the first branch whose condition on the
/// dependency's field holds (an unset boolean counts as `false`); a plain
/// schema entry or a list of names applies once the field has a value.
pub fn resolve_page(schema: &Value, values: &Values) -> (Map<String, Value>, Vec<String>) {
    let mut props = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required = strings(schema.get("required"));
    let mut pending: VecDeque<(String, Value)> = VecDeque::new();
    let queue = |pending: &mut VecDeque<(String, Value)>, schema: &Value| {
        if let Some(deps) = schema.get("dependencies").and_then(Value::as_object) {
            pending.extend(deps.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    };
    queue(&mut pending, schema);
    let mut rounds = 0;
    while let Some((key, dependency)) = pending.pop_front() {
        rounds += 1;
        if rounds > 200 {
            break;
        }
        let explicit = is_given(values.get(&key));
        let current = if explicit {
            values.get(&key).cloned()
        } else if props.get(&key).and_then(schema_type) == Some("boolean") {
            Some(Value::Bool(false))
        } else {
            None
        };
        let apply = |branch: &Value,
                     props: &mut Map<String, Value>,
                     required: &mut Vec<String>,
                     pending: &mut VecDeque<(String, Value)>| {
            if let Some(extra) = branch.get("properties").and_then(Value::as_object) {
                for (name, property) in extra {
                    if *name == key {
                        continue;
                    }
                    match props.get_mut(name) {
                        Some(existing) => merge_schema(existing, property),
                        None => {
                            props.insert(name.clone(), property.clone());
                        }
                    }
                }
            }
            for name in strings(branch.get("required")) {
                if !required.contains(&name) {
                    required.push(name);
                }
            }
            queue(pending, branch);
        };
        match &dependency {
            Value::Array(_) if explicit => {
                for name in strings(Some(&dependency)) {
                    if !required.contains(&name) {
                        required.push(name);
                    }
                }
            }
            Value::Object(object) => {
                let branches = object
                    .get("oneOf")
                    .or_else(|| object.get("anyOf"))
                    .and_then(Value::as_array);
                if let Some(branches) = branches {
                    let Some(current) = &current else { continue };
                    let chosen = branches.iter().find(|branch| {
                        branch
                            .get("properties")
                            .and_then(|p| p.get(&key))
                            .is_some_and(|condition| check_schema(condition, current).is_none())
                    });
                    if let Some(branch) = chosen {
                        apply(branch, &mut props, &mut required, &mut pending);
                    }
                }
                if explicit
                    && (object.contains_key("properties") || object.contains_key("required"))
                {
                    apply(&dependency, &mut props, &mut required, &mut pending);
                }
            }
            _ => {}
        }
    }
    // `ui:order`: the listed names first, in that order ("*" stands for the rest).
    if let Some(order) = schema.get("ui:order").and_then(Value::as_array) {
        let order: Vec<&str> = order.iter().filter_map(Value::as_str).collect();
        let mut before = Vec::new();
        let mut after = Vec::new();
        let star = order.iter().position(|n| *n == "*");
        for (i, name) in order.iter().enumerate() {
            if *name == "*" {
                continue;
            }
            if let Some(property) = props.get(*name) {
                let entry = (name.to_string(), property.clone());
                if star.is_some_and(|s| i > s) {
                    after.push(entry);
                } else {
                    before.push(entry);
                }
            }
        }
        let listed: HashSet<&str> = order.iter().copied().collect();
        let rest: Vec<(String, Value)> = props
            .iter()
            .filter(|(name, _)| !listed.contains(name.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        props = before.into_iter().chain(rest).chain(after).collect();
    }
    (props, required)
}

/// The fields a page shows for the current values, in order.
pub fn page_fields(schema: &Value, values: &Values) -> Vec<Field> {
    let (props, required) = resolve_page(schema, values);
    props
        .into_iter()
        .map(|(name, property)| {
            let is_required = required.contains(&name);
            field_of(name, property, is_required)
        })
        .collect()
}

/// The fields of every page, for the current values.
pub fn all_fields(pages: &[ParameterPage], values: &Values) -> Vec<Vec<Field>> {
    pages
        .iter()
        .map(|page| page_fields(&page.schema, values))
        .collect()
}

fn choices(schema: &Value) -> Vec<Choice> {
    let Some(values) = schema.get("enum").and_then(Value::as_array) else {
        return Vec::new();
    };
    let names = schema.get("enumNames").and_then(Value::as_array);
    values
        .iter()
        .enumerate()
        .map(|(i, value)| Choice {
            value: value.clone(),
            label: names
                .and_then(|n| n.get(i))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| display_scalar(value)),
        })
        .collect()
}

/// A scalar as plain text (strings without quotes).
pub fn display_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn ui_options(property: &Value) -> &Value {
    property.get("ui:options").unwrap_or(&Value::Null)
}

/// `catalogFilter` of a picker: one object or a list of them; each key's
/// value is a string, a list of strings or `{exists: true}`.
fn catalog_filter(filter: &Value) -> Vec<Vec<(String, Vec<String>)>> {
    let sets: Vec<&Value> = match filter {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![filter],
        _ => Vec::new(),
    };
    sets.into_iter()
        .filter_map(Value::as_object)
        .map(|set| {
            set.iter()
                .map(|(key, value)| {
                    let values = match value {
                        Value::Object(_) => Vec::new(),
                        other => strings(Some(other)),
                    };
                    (key.clone(), values)
                })
                .collect()
        })
        .filter(|set: &Vec<(String, Vec<String>)>| !set.is_empty())
        .collect()
}

fn picker_options(ui_field: &str, property: &Value) -> PickerOptions {
    let options = ui_options(property);
    let allowed_kinds = strings(options.get("allowedKinds"));
    let mut filters = options
        .get("catalogFilter")
        .map(catalog_filter)
        .unwrap_or_default();
    if filters.is_empty() && !allowed_kinds.is_empty() {
        filters = vec![vec![("kind".to_string(), allowed_kinds)]];
    }
    if filters.is_empty() {
        match ui_field {
            "OwnerPicker" => {
                filters = vec![vec![(
                    "kind".to_string(),
                    vec!["Group".to_string(), "User".to_string()],
                )]]
            }
            "MyGroupsPicker" => {
                filters = vec![vec![("kind".to_string(), vec!["Group".to_string()])]]
            }
            _ => {}
        }
    }
    let default_kind = str_of(options, "defaultKind")
        .map(str::to_string)
        .or_else(|| {
            (ui_field == "OwnerPicker" || ui_field == "MyGroupsPicker").then(|| "Group".to_string())
        });
    PickerOptions {
        filters,
        default_kind,
        default_namespace: str_of(options, "defaultNamespace")
            .unwrap_or(greenroom_model::entity_ref::DEFAULT_NAMESPACE)
            .to_string(),
        allow_arbitrary: options
            .get("allowArbitraryValues")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }
}

fn widget_of(property: &Value) -> (Widget, bool) {
    let ui_field = str_of(property, "ui:field").unwrap_or_default();
    let ui_widget = str_of(property, "ui:widget").unwrap_or_default();
    let kind = schema_type(property);
    let options = ui_options(property);
    match ui_field {
        "OwnerPicker" | "EntityPicker" | "OwnedEntityPicker" | "MyGroupsPicker" => {
            return (Widget::Entity(picker_options(ui_field, property)), false)
        }
        "RepoUrlPicker" => {
            return (
                Widget::RepoUrl(RepoOptions {
                    allowed_hosts: strings(options.get("allowedHosts")),
                    allowed_owners: strings(options.get("allowedOwners")),
                    allowed_repos: strings(options.get("allowedRepos")),
                }),
                false,
            )
        }
        "EntityTagsPicker" => return (Widget::StringList, false),
        "EntityNamePicker" => return (Widget::Text, true),
        _ => {}
    }
    if ui_widget == "hidden" {
        return (Widget::Hidden, false);
    }
    let widget = match kind {
        Some("boolean") => match ui_widget {
            "radio" | "select" => {
                let yes_no = vec![
                    Choice {
                        value: Value::Bool(true),
                        label: "Yes".into(),
                    },
                    Choice {
                        value: Value::Bool(false),
                        label: "No".into(),
                    },
                ];
                if ui_widget == "radio" {
                    Widget::Radio(yes_no)
                } else {
                    Widget::Select(yes_no)
                }
            }
            _ => Widget::Checkbox,
        },
        Some("number") | Some("integer") if property.get("enum").is_none() => Widget::Number {
            integer: kind == Some("integer"),
        },
        Some("array") => {
            let items = property.get("items").unwrap_or(&Value::Null);
            if items.get("enum").is_some() {
                Widget::MultiCheck(choices(items))
            } else if matches!(schema_type(items), None | Some("string"))
                && items.get("properties").is_none()
            {
                Widget::StringList
            } else {
                Widget::Json
            }
        }
        Some("object") => Widget::Json,
        _ if property.get("enum").is_some() => {
            if ui_widget == "radio" {
                Widget::Radio(choices(property))
            } else {
                Widget::Select(choices(property))
            }
        }
        _ => match ui_widget {
            "textarea" => Widget::Textarea {
                rows: options
                    .get("rows")
                    .and_then(Value::as_u64)
                    .unwrap_or(5)
                    .clamp(2, 40) as u32,
            },
            "password" => Widget::Password,
            _ => Widget::Text,
        },
    };
    (widget, false)
}

fn field_of(name: String, property: Value, required: bool) -> Field {
    let (widget, entity_name) = widget_of(&property);
    let review_opts = property
        .get("ui:backstage")
        .and_then(|b| b.get("review"))
        .unwrap_or(&Value::Null);
    let review = if review_opts.get("show").and_then(Value::as_bool) == Some(false)
        || widget == Widget::Hidden
    {
        Review::Hide
    } else if let Some(mask) = str_of(review_opts, "mask") {
        Review::Mask(mask.to_string())
    } else if widget == Widget::Password {
        Review::Mask("******".to_string())
    } else {
        Review::Show
    };
    Field {
        title: str_of(&property, "title")
            .filter(|t| !t.is_empty())
            .unwrap_or(&name)
            .to_string(),
        description: str_of(&property, "description").map(str::to_string),
        help: str_of(&property, "ui:help").map(str::to_string),
        placeholder: str_of(&property, "ui:placeholder").map(str::to_string),
        readonly: property.get("ui:readonly").and_then(Value::as_bool) == Some(true)
            || property.get("readOnly").and_then(Value::as_bool) == Some(true),
        autofocus: property.get("ui:autofocus").and_then(Value::as_bool) == Some(true),
        name,
        required,
        widget,
        entity_name,
        review,
        schema: property,
    }
}

// ---------------------------------------------------------------------------
// Defaults and submission
// ---------------------------------------------------------------------------

/// The `default`s of fields that have no value and whose default was never
/// applied (a default fills a field once; clearing it afterwards sticks).
/// Marks them in `seeded`.
pub fn take_defaults(
    fields: &[Vec<Field>],
    values: &Values,
    seeded: &mut HashSet<String>,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for field in fields.iter().flatten() {
        if let Some(default) = field.schema.get("default") {
            if !values.contains_key(&field.name) && seeded.insert(field.name.clone()) {
                out.push((field.name.clone(), default.clone()));
            }
        }
    }
    out
}

/// What is sent: the values of the fields shown on some page (values of
/// fields in a branch that is no longer chosen are left out).
pub fn submitted_values(fields: &[Vec<Field>], values: &Values) -> Values {
    let mut out = Values::new();
    for field in fields.iter().flatten() {
        if let Some(value) = values.get(&field.name) {
            if !value.is_null() {
                out.insert(field.name.clone(), value.clone());
            }
        }
    }
    out
}

/// The field a server error belongs to: the first path segment, else the
/// name after `instance.` in its property.
pub fn error_field(error: &ValueError) -> Option<String> {
    if let Some(first) = error.path.first().filter(|p| !p.is_empty()) {
        return Some(first.clone());
    }
    let rest = error.property.strip_prefix("instance.")?;
    let name: String = rest
        .chars()
        .take_while(|c| *c != '.' && *c != '[')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The index of the page that shows `name`, if any.
pub fn page_of(fields: &[Vec<Field>], name: &str) -> Option<usize> {
    fields
        .iter()
        .position(|page| page.iter().any(|f| f.name == name))
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(target_arch = "wasm32")]
fn pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    use wasm_bindgen::{JsCast, JsValue};
    // Built through Reflect so an invalid pattern is an error, not a trap.
    let constructor = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("RegExp")).ok()?;
    let constructor: js_sys::Function = constructor.dyn_into().ok()?;
    let args = js_sys::Array::of2(&JsValue::from_str(pattern), &JsValue::from_str("u"));
    let regex: js_sys::RegExp = js_sys::Reflect::construct(&constructor, &args)
        .ok()?
        .dyn_into()
        .ok()?;
    Some(regex.test(text))
}

#[cfg(not(target_arch = "wasm32"))]
fn pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    regex::Regex::new(pattern).ok().map(|r| r.is_match(text))
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn type_message(expected: &str) -> String {
    match expected {
        "string" => "Must be text".into(),
        "number" => "Must be a number".into(),
        "integer" => "Must be a whole number".into(),
        "boolean" => "Must be true or false".into(),
        "array" => "Must be a list".into(),
        "object" => "Must be an object".into(),
        other => format!("Must be of type {other}"),
    }
}

/// The first way `value` breaks `schema` (type, const, enum, string
/// lengths and pattern, number bounds, list sizes and items), in words.
pub fn check_schema(schema: &Value, value: &Value) -> Option<String> {
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, value) => return Some(type_message(t)),
        Some(Value::Array(types)) => {
            let types: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
                return Some(type_message(types[0]));
            }
        }
        _ => {}
    }
    if let Some(expected) = schema.get("const") {
        if expected != value {
            return Some(format!("Must be {}", display_scalar(expected)));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(display_scalar).collect();
            return Some(format!("Must be one of: {}", list.join(", ")));
        }
    }
    match value {
        Value::String(text) => {
            let length = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if length < min {
                    return Some(format!(
                        "Must be at least {}",
                        plural(min, "character", "characters")
                    ));
                }
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if length > max {
                    return Some(format!(
                        "Must be at most {}",
                        plural(max, "character", "characters")
                    ));
                }
            }
            if let Some(pattern) = str_of(schema, "pattern") {
                if pattern_matches(pattern, text) == Some(false) {
                    return Some(format!("Must match the pattern {pattern}"));
                }
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or_default();
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
            if let Some(min) = bound("minimum") {
                if n < min {
                    return Some(format!("Must be at least {}", number_text(min)));
                }
            }
            if let Some(max) = bound("maximum") {
                if n > max {
                    return Some(format!("Must be at most {}", number_text(max)));
                }
            }
            if let Some(min) = bound("exclusiveMinimum") {
                if n <= min {
                    return Some(format!("Must be more than {}", number_text(min)));
                }
            }
            if let Some(max) = bound("exclusiveMaximum") {
                if n >= max {
                    return Some(format!("Must be less than {}", number_text(max)));
                }
            }
            if let Some(step) = bound("multipleOf").filter(|s| *s > 0.0) {
                let ratio = n / step;
                if (ratio - ratio.round()).abs() > 1e-9 {
                    return Some(format!("Must be a multiple of {}", number_text(step)));
                }
            }
        }
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if count < min {
                    return Some(format!("Needs at least {}", plural(min, "item", "items")));
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if count > max {
                    return Some(format!("Takes at most {}", plural(max, "item", "items")));
                }
            }
            if schema.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        return Some(format!("Item {} repeats an earlier item", i + 1));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    if let Some(problem) = check_schema(item_schema, item) {
                        return Some(format!("Item {}: {}", i + 1, lower_first(&problem)));
                    }
                }
            }
        }
        _ => {}
    }
    None
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A name the catalog accepts (`metadata.name`): letters, digits, `-`, `_`
/// and `.`, starting and ending with a letter or digit, at most 63 characters.
pub fn is_entity_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What is wrong with a field's value, if anything.
pub fn field_error(field: &Field, value: Option<&Value>) -> Option<String> {
    if field.widget == Widget::Hidden {
        return None;
    }
    if let Widget::RepoUrl(options) = &field.widget {
        let text = value.and_then(Value::as_str).unwrap_or_default();
        let parts = RepoUrl::parse(text);
        if parts.is_empty() {
            return field
                .required
                .then(|| format!("{} is required", field.title));
        }
        if parts.host.is_empty() {
            return Some("Choose or enter the host".into());
        }
        if parts.owner.is_empty() {
            return Some("Enter the owner of the repository".into());
        }
        if parts.repo.is_empty() {
            return Some("Enter the name of the repository".into());
        }
        if !options.allowed_owners.is_empty() && !options.allowed_owners.contains(&parts.owner) {
            return Some(format!(
                "The owner must be one of: {}",
                options.allowed_owners.join(", ")
            ));
        }
        if !options.allowed_repos.is_empty() && !options.allowed_repos.contains(&parts.repo) {
            return Some(format!(
                "The repository must be one of: {}",
                options.allowed_repos.join(", ")
            ));
        }
        return None;
    }
    let missing = match (&field.widget, value) {
        // An untouched checkbox is "no", which is an answer.
        (Widget::Checkbox, _) => false,
        (_, value) => !is_given(value),
    };
    if missing {
        return field
            .required
            .then(|| format!("{} is required", field.title));
    }
    let value = value?;
    if field.widget == Widget::Json
        && value.is_string()
        && schema_type(&field.schema) != Some("string")
    {
        return Some(match schema_type(&field.schema) {
            Some("array") => "Enter a JSON list, like [\"a\", \"b\"]".into(),
            _ => "Enter a JSON object, like {\"key\": \"value\"}".into(),
        });
    }
    if let Widget::Entity(options) = &field.widget {
        let text = value.as_str().unwrap_or_default();
        if greenroom_model::EntityRef::parse(
            text,
            options.default_kind.as_deref(),
            &options.default_namespace,
        )
        .is_err()
        {
            return Some(if options.allow_arbitrary {
                "Enter an entity reference, like group:default/team-a".into()
            } else {
                "Choose an entity from the list".into()
            });
        }
    }
    if field.entity_name {
        if let Some(name) = value.as_str() {
            if !is_entity_name(name) {
                return Some(
                    "Must start and end with a letter or digit and contain only letters, digits, hyphens, underscores and periods (at most 63 characters)"
                        .into(),
                );
            }
        }
    }
    check_schema(&field.schema, value)
}

/// Every problem on one page, by field name, in field order.
pub fn page_errors(fields: &[Field], values: &Values) -> Vec<(String, String)> {
    fields
        .iter()
        .filter_map(|field| {
            field_error(field, values.get(&field.name)).map(|message| (field.name.clone(), message))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Controls' values
// ---------------------------------------------------------------------------

/// The number typed into a number box: whole numbers as integers (so `3`
/// is not sent as `3.0`), `None` for an empty or unreadable box.
pub fn parse_number(text: &str) -> Option<Value> {
    let n: f64 = text.trim().parse().ok()?;
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Some(Value::from(n as i64))
    } else {
        serde_json::Number::from_f64(n).map(Value::Number)
    }
}

/// The parts of a RepoUrlPicker value, `host?owner=o&repo=r`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoUrl {
    pub host: String,
    pub owner: String,
    pub repo: String,
}

fn decode_query_value(raw: &str) -> String {
    crate::entity::decode_param(&raw.replace('+', " "))
}

impl RepoUrl {
    pub fn parse(value: &str) -> Self {
        let (host, query) = value.split_once('?').unwrap_or((value, ""));
        let mut parts = RepoUrl {
            host: host.to_string(),
            ..Default::default()
        };
        for pair in query.split('&') {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "owner" => parts.owner = decode_query_value(raw),
                "repo" => parts.repo = decode_query_value(raw),
                _ => {}
            }
        }
        parts
    }

    pub fn is_empty(&self) -> bool {
        self.host.is_empty() && self.owner.is_empty() && self.repo.is_empty()
    }

    /// `host?owner=o&repo=r` (empty parts left out; empty when all are).
    pub fn to_value(&self) -> String {
        if self.owner.is_empty() && self.repo.is_empty() {
            return self.host.clone();
        }
        let mut params = Vec::new();
        if !self.owner.is_empty() {
            params.push(format!("owner={}", encode_component(&self.owner)));
        }
        if !self.repo.is_empty() {
            params.push(format!("repo={}", encode_component(&self.repo)));
        }
        format!("{}?{}", self.host, params.join("&"))
    }
}

/// `/entities/by-query` for an entity picker: up to 20 entities the picker
/// allows, matching the typed text.
pub fn picker_url(options: &PickerOptions, typed: &str) -> String {
    let mut url = format!(
        "{}/entities/by-query?limit=20&orderField=metadata.name,asc&fields={}",
        crate::api::CATALOG_API,
        encode_component(
            "kind,metadata.name,metadata.namespace,metadata.title,spec.profile.displayName"
        )
    );
    for set in &options.filters {
        let statements: Vec<String> = set
            .iter()
            .flat_map(|(key, values)| {
                if values.is_empty() {
                    vec![key.clone()]
                } else {
                    values.iter().map(|v| format!("{key}={v}")).collect()
                }
            })
            .collect();
        url.push_str("&filter=");
        url.push_str(&encode_component(&statements.join(",")));
    }
    // A chosen reference (`group:default/team-a`) searches by its name.
    let term = typed.trim().rsplit(['/', ':']).next().unwrap_or_default();
    if !term.is_empty() {
        url.push_str("&fullTextFilterTerm=");
        url.push_str(&encode_component(term));
        url.push_str("&fullTextFilterFields=");
        url.push_str(&encode_component(
            "metadata.name,metadata.title,spec.profile.displayName",
        ));
    }
    url
}

/// `kind:namespace/name` as Backstage writes references (kind lower-cased).
pub fn entity_ref_string(kind: &str, namespace: &str, name: &str) -> String {
    format!("{}:{namespace}/{name}", kind.to_lowercase())
}

// ---------------------------------------------------------------------------
// Review
// ---------------------------------------------------------------------------

/// How the review step shows a field's value; `None` hides the row (no
/// value, or `ui:backstage.review.show: false`).
pub fn review_text(field: &Field, value: Option<&Value>) -> Option<String> {
    if field.review == Review::Hide {
        return None;
    }
    let value = value.filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    })?;
    if let Review::Mask(mask) = &field.review {
        return Some(mask.clone());
    }
    let label_of = |choices: &[Choice], value: &Value| {
        choices
            .iter()
            .find(|c| c.value == *value)
            .map(|c| c.label.clone())
            .unwrap_or_else(|| display_scalar(value))
    };
    Some(match (&field.widget, value) {
        (Widget::Select(choices) | Widget::Radio(choices), value) => label_of(choices, value),
        (Widget::MultiCheck(choices), Value::Array(items)) => items
            .iter()
            .map(|v| label_of(choices, v))
            .collect::<Vec<_>>()
            .join(", "),
        (_, Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_string(),
        (_, Value::Array(items)) if items.iter().all(|v| !v.is_object() && !v.is_array()) => items
            .iter()
            .map(display_scalar)
            .collect::<Vec<_>>()
            .join(", "),
        (_, Value::Object(_) | Value::Array(_)) => value.to_string(),
        (_, scalar) => display_scalar(scalar),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: Value) -> Values {
        v.as_object().cloned().unwrap()
    }

    fn names(fields: &[Field]) -> Vec<&str> {
        fields.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn fields_keep_their_order_and_pick_a_control() {
        let schema = json!({
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "title": "Name", "ui:autofocus": true, "ui:help": "Lower case"},
                "notes": {"type": "string", "ui:widget": "textarea", "ui:options": {"rows": 3}},
                "token": {"type": "string", "ui:widget": "password"},
                "replicas": {"type": "integer", "minimum": 1},
                "public": {"type": "boolean"},
                "lang": {"type": "string", "enum": ["rs", "go"], "enumNames": ["Rust", "Go"]},
                "aliases": {"type": "array", "items": {"type": "string"}},
                "features": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "uniqueItems": true},
                "owner": {"type": "string", "ui:field": "OwnerPicker"},
                "repoUrl": {"type": "string", "ui:field": "RepoUrlPicker", "ui:options": {"allowedHosts": ["github.com"]}},
                "extra": {"type": "object"}
            }
        });
        let fields = page_fields(&schema, &Values::new());
        assert_eq!(
            names(&fields),
            [
                "name", "notes", "token", "replicas", "public", "lang", "aliases", "features",
                "owner", "repoUrl", "extra"
            ]
        );
        assert!(fields[0].required && fields[0].autofocus);
        assert_eq!(fields[0].title, "Name");
        assert_eq!(fields[0].help.as_deref(), Some("Lower case"));
        assert_eq!(fields[1].title, "notes");
        assert_eq!(fields[1].widget, Widget::Textarea { rows: 3 });
        assert_eq!(fields[2].widget, Widget::Password);
        assert_eq!(fields[2].review, Review::Mask("******".into()));
        assert_eq!(fields[3].widget, Widget::Number { integer: true });
        assert_eq!(fields[4].widget, Widget::Checkbox);
        match &fields[5].widget {
            Widget::Select(choices) => assert_eq!(choices[0].label, "Rust"),
            other => panic!("{other:?}"),
        }
        assert_eq!(fields[6].widget, Widget::StringList);
        assert!(matches!(fields[7].widget, Widget::MultiCheck(_)));
        match &fields[8].widget {
            Widget::Entity(options) => {
                assert_eq!(
                    options.filters,
                    vec![vec![(
                        "kind".to_string(),
                        vec!["Group".to_string(), "User".to_string()]
                    )]]
                );
                assert!(options.allow_arbitrary);
                assert_eq!(options.default_kind.as_deref(), Some("Group"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            fields[9].widget,
            Widget::RepoUrl(RepoOptions {
                allowed_hosts: vec!["github.com".into()],
                ..Default::default()
            })
        );
        assert_eq!(fields[10].widget, Widget::Json);
    }

    #[test]
    fn one_of_dependencies_show_the_chosen_branch() {
        let schema = json!({
            "properties": {
                "target": {"type": "string", "enum": ["k8s", "lambda"]},
                "useDb": {"type": "boolean"}
            },
            "dependencies": {
                "target": {"oneOf": [
                    {"properties": {"target": {"enum": ["k8s"]}, "namespace": {"type": "string"}}, "required": ["namespace"]},
                    {"properties": {"target": {"enum": ["lambda"]}, "region": {"type": "string"}}}
                ]},
                "useDb": {"oneOf": [
                    {"properties": {"useDb": {"const": false}}},
                    {"properties": {"useDb": {"const": true}, "dbName": {"type": "string"}}, "required": ["dbName"]}
                ]}
            }
        });
        let none = page_fields(&schema, &Values::new());
        assert_eq!(names(&none), ["target", "useDb"]);
        let k8s = page_fields(&schema, &values(json!({"target": "k8s"})));
        assert_eq!(names(&k8s), ["target", "useDb", "namespace"]);
        assert!(k8s[2].required);
        let lambda = page_fields(&schema, &values(json!({"target": "lambda", "useDb": true})));
        assert_eq!(names(&lambda), ["target", "useDb", "region", "dbName"]);
        assert!(lambda[3].required);
    }

    #[test]
    fn list_and_schema_dependencies_apply_once_the_field_has_a_value() {
        let schema = json!({
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "dependencies": {"a": ["b"], "b": {"properties": {"c": {"type": "number"}}}}
        });
        let fields = page_fields(&schema, &Values::new());
        assert!(!fields[1].required);
        let fields = page_fields(&schema, &values(json!({"a": "x", "b": "y"})));
        assert!(fields[1].required);
        assert_eq!(names(&fields), ["a", "b", "c"]);
    }

    #[test]
    fn ui_order_puts_listed_fields_first() {
        let schema = json!({
            "ui:order": ["c", "*", "a"],
            "properties": {"a": {}, "b": {}, "c": {}}
        });
        assert_eq!(
            names(&page_fields(&schema, &Values::new())),
            ["c", "b", "a"]
        );
    }

    #[test]
    fn validation_messages() {
        let schema = json!({
            "required": ["name", "count", "agree"],
            "properties": {
                "name": {"type": "string", "title": "Name", "minLength": 3, "maxLength": 5, "pattern": "^[a-z]+$"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "agree": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string", "minLength": 2}, "maxItems": 2},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "id": {"type": "string", "ui:field": "EntityNamePicker"}
            }
        });
        let fields = page_fields(&schema, &Values::new());
        let errors = |v: Value| page_errors(&fields, &values(v));
        assert_eq!(
            errors(json!({})),
            [
                ("name".to_string(), "Name is required".to_string()),
                ("count".to_string(), "count is required".to_string())
            ]
        );
        let found = errors(json!({
            "name": "ab", "count": 11, "tags": ["x"], "kind": "c", "id": "-bad"
        }));
        let messages: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Must be at least 3 characters",
                "Must be at most 10",
                "Item 1: must be at least 2 characters",
                "Must be one of: a, b",
                "Must start and end with a letter or digit and contain only letters, digits, hyphens, underscores and periods (at most 63 characters)"
            ]
        );
        assert_eq!(
            errors(json!({"name": "ABC", "count": 1.5})),
            [
                (
                    "name".to_string(),
                    "Must match the pattern ^[a-z]+$".to_string()
                ),
                ("count".to_string(), "Must be a whole number".to_string())
            ]
        );
        assert!(errors(
            json!({"name": "abc", "count": 2, "tags": ["xy"], "kind": "a", "id": "my-service"})
        )
        .is_empty());
        assert_eq!(
            errors(json!({"name": "abc", "count": 2, "tags": ["xy", "zz", "ww"]}))[0].1,
            "Takes at most 2 items"
        );
    }

    #[test]
    fn repository_and_entity_fields_are_checked() {
        let schema = json!({
            "required": ["repoUrl", "owner"],
            "properties": {
                "repoUrl": {"type": "string", "ui:field": "RepoUrlPicker", "ui:options": {"allowedHosts": ["github.com"], "allowedOwners": ["acme"]}},
                "owner": {"type": "string", "ui:field": "EntityPicker", "ui:options": {"allowArbitraryValues": false}}
            }
        });
        let fields = page_fields(&schema, &Values::new());
        let errors = |v: Value| page_errors(&fields, &values(v));
        assert_eq!(errors(json!({}))[0].1, "repoUrl is required");
        assert_eq!(
            errors(json!({"repoUrl": "github.com?owner=acme", "owner": "group:default/a"}))[0].1,
            "Enter the name of the repository"
        );
        assert_eq!(
            errors(json!({"repoUrl": "github.com?owner=other&repo=x", "owner": "group:default/a"}))
                [0]
            .1,
            "The owner must be one of: acme"
        );
        assert_eq!(
            errors(json!({"repoUrl": "github.com?owner=acme&repo=x", "owner": "no-kind"}))[0].1,
            "Choose an entity from the list"
        );
        assert!(errors(
            json!({"repoUrl": "github.com?owner=acme&repo=x", "owner": "group:default/a"})
        )
        .is_empty());
    }

    #[test]
    fn repo_urls_round_trip() {
        let parts = RepoUrl::parse("github.com?owner=acme&repo=my%20repo");
        assert_eq!(
            parts,
            RepoUrl {
                host: "github.com".into(),
                owner: "acme".into(),
                repo: "my repo".into()
            }
        );
        assert_eq!(parts.to_value(), "github.com?owner=acme&repo=my%20repo");
        assert_eq!(RepoUrl::parse("").to_value(), "");
        assert!(RepoUrl::parse("").is_empty());
        assert_eq!(
            RepoUrl {
                host: "h".into(),
                owner: String::new(),
                repo: "r".into()
            }
            .to_value(),
            "h?repo=r"
        );
    }

    #[test]
    fn defaults_fill_a_field_once() {
        let schema = json!({"properties": {"a": {"type": "string", "default": "x"}, "b": {"type": "boolean", "default": true}}});
        let pages = vec![page_fields(&schema, &Values::new())];
        let mut seeded = HashSet::new();
        let mut vals = values(json!({"b": false}));
        let defaults = take_defaults(&pages, &vals, &mut seeded);
        assert_eq!(defaults, [("a".to_string(), json!("x"))]);
        vals.remove("a");
        assert!(take_defaults(&pages, &vals, &mut seeded).is_empty());
    }

    #[test]
    fn submitted_values_leave_out_unchosen_branches() {
        let schema = json!({
            "properties": {"t": {"type": "string"}},
            "dependencies": {"t": {"oneOf": [
                {"properties": {"t": {"const": "a"}, "x": {"type": "string"}}},
                {"properties": {"t": {"const": "b"}, "y": {"type": "string"}}}
            ]}}
        });
        let vals = values(json!({"t": "b", "x": "stale", "y": "kept", "other": 1}));
        let fields = vec![page_fields(&schema, &vals)];
        assert_eq!(
            submitted_values(&fields, &vals),
            values(json!({"t": "b", "y": "kept"}))
        );
    }

    #[test]
    fn server_errors_name_their_field() {
        let error = |property: &str, path: &[&str]| ValueError {
            property: property.into(),
            path: path.iter().map(|s| s.to_string()).collect(),
            message: "m".into(),
            name: String::new(),
            stack: String::new(),
        };
        assert_eq!(
            error_field(&error("instance.name", &["name"])),
            Some("name".into())
        );
        assert_eq!(
            error_field(&error("instance.repo.host", &[])),
            Some("repo".into())
        );
        assert_eq!(error_field(&error("instance", &[])), None);
        let pages = vec![
            page_fields(&json!({"properties": {"name": {}}}), &Values::new()),
            page_fields(&json!({"properties": {"repo": {}}}), &Values::new()),
        ];
        assert_eq!(page_of(&pages, "repo"), Some(1));
        assert_eq!(page_of(&pages, "nope"), None);
    }

    #[test]
    fn review_masks_hides_and_labels() {
        let schema = json!({"properties": {
            "secret": {"type": "string", "ui:widget": "password"},
            "token": {"type": "string", "ui:backstage": {"review": {"mask": "(hidden)"}}},
            "internal": {"type": "string", "ui:backstage": {"review": {"show": false}}},
            "lang": {"type": "string", "enum": ["rs"], "enumNames": ["Rust"]},
            "public": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "empty": {"type": "string"}
        }});
        let fields = page_fields(&schema, &Values::new());
        let vals = values(json!({
            "secret": "s3cret", "token": "t", "internal": "i", "lang": "rs",
            "public": false, "tags": ["a", "b"], "empty": ""
        }));
        let shown: Vec<Option<String>> = fields
            .iter()
            .map(|f| review_text(f, vals.get(&f.name)))
            .collect();
        assert_eq!(
            shown,
            [
                Some("******".to_string()),
                Some("(hidden)".to_string()),
                None,
                Some("Rust".to_string()),
                Some("No".to_string()),
                Some("a, b".to_string()),
                None
            ]
        );
    }

    #[test]
    fn picker_urls_carry_filters_and_the_typed_name() {
        let schema = json!({"properties": {"e": {"ui:field": "EntityPicker", "ui:options": {
            "catalogFilter": [{"kind": ["Component", "API"], "spec.lifecycle": "production"}, {"metadata.annotations.x": {"exists": true}}]
        }}}});
        let fields = page_fields(&schema, &Values::new());
        let Widget::Entity(options) = &fields[0].widget else {
            panic!()
        };
        let url = picker_url(options, "group:default/team");
        assert!(url.contains("&filter=kind%3DComponent%2Ckind%3DAPI%2Cspec.lifecycle%3Dproduction&filter=metadata.annotations.x&"), "{url}");
        assert!(url.contains("fullTextFilterTerm=team&"), "{url}");
        assert!(!picker_url(options, "").contains("fullTextFilterTerm"));
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(parse_number("3"), Some(json!(3)));
        assert_eq!(parse_number("2.5"), Some(json!(2.5)));
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("x"), None);
        assert!(is_entity_name("my-service.v2"));
        assert!(is_entity_name("a--b"));
        assert!(!is_entity_name("a b"));
        assert!(!is_entity_name("bad-"));
        assert!(!is_entity_name(""));
        assert_eq!(field_id("a b/c"), "field-a-b-c");
        assert_eq!(
            entity_ref_string("Group", "default", "Team-A"),
            "group:default/Team-A"
        );
    }
}
