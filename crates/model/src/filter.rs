//! Entity filters: the `filter=` query syntax of GET endpoints (reference 2.2) and
//! the JSON predicate language of the POST endpoints (2.5) both parse into
//! [`EntityFilter`], which the store turns into SQL over the search rows.
//! Also the ordering (`order=`, `orderField=`) and field projection (`fields=`)
//! parameters of the entity listing endpoints (2.4, 2.5).

use crate::Entity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A filter over search rows. Keys and values are already lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityFilter {
    /// Every child matches (an empty list matches everything).
    All(Vec<EntityFilter>),
    /// At least one child matches (an empty list matches nothing).
    Any(Vec<EntityFilter>),
    Not(Box<EntityFilter>),
    /// `key` exists (values None) or equals one of `values` (case-insensitive).
    Key {
        key: String,
        values: Option<Vec<String>>,
    },
    /// Some value of `key` starts with `prefix`.
    HasPrefix {
        key: String,
        prefix: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    /// Parses `asc` / `desc` (exact spelling, as Backstage does).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asc" => Some(SortOrder::Asc),
            "desc" => Some(SortOrder::Desc),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// One sort key. `field` is a search-table key (lower-cased when parsed here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderField {
    pub field: String,
    pub order: SortOrder,
}

// ---------------------------------------------------------------------------
// GET `filter=` syntax
// ---------------------------------------------------------------------------

/// Parses the repeated `filter=` query parameters. Each parameter is one set
/// (sets are ORed); inside a set, comma-separated statements are ANDed, and a key
/// repeated inside one set matches any of its values. No (non-empty) parameter
/// gives `Ok(None)`.
pub fn parse_filter_params(params: &[String]) -> Result<Option<EntityFilter>, String> {
    let mut sets = Vec::new();
    for param in params {
        if let Some(set) = parse_filter_set(param)? {
            sets.push(set);
        }
    }
    Ok(match sets.len() {
        0 => None,
        1 => sets.pop(),
        _ => Some(EntityFilter::Any(sets)),
    })
}

/// One `filter=` value, e.g. `kind=component,spec.type=service,spec.owner`.
fn parse_filter_set(set: &str) -> Result<Option<EntityFilter>, String> {
    // Keyed conditions in first-seen order; a key's values accumulate.
    let mut by_key: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for statement in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = match statement.find('=') {
            Some(i) => (statement[..i].trim(), Some(statement[i + 1..].trim())),
            None => (statement, None),
        };
        if key.is_empty() {
            return Err(format!(
                "Invalid filter, '{statement}' is not a valid statement (expected a string on the form a=b or a= or a)"
            ));
        }
        let key = key.to_lowercase();
        let idx = match by_key.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                by_key.push((key, None));
                by_key.len() - 1
            }
        };
        if let Some(v) = value {
            by_key[idx]
                .1
                .get_or_insert_with(Vec::new)
                .push(v.to_lowercase());
        }
    }
    let mut conditions: Vec<EntityFilter> = by_key
        .into_iter()
        .map(|(key, values)| EntityFilter::Key { key, values })
        .collect();
    Ok(match conditions.len() {
        0 => None,
        1 => conditions.pop(),
        _ => Some(EntityFilter::All(conditions)),
    })
}

// ---------------------------------------------------------------------------
// JSON predicate language
// ---------------------------------------------------------------------------

/// Parses a JSON filter predicate (`query` of the POST endpoints):
/// `{key: value}` (equals), `{key: {$exists|$in|$hasPrefix|$contains: ..}}`,
/// `{$all: [..]}`, `{$any: [..]}`, `{$not: {..}}`. Several keys in one object are
/// ANDed. Scalar values compare as lower-cased strings.
pub fn parse_predicate(v: &Value) -> Result<EntityFilter, String> {
    let obj = v.as_object().ok_or_else(|| {
        format!(
            "Invalid filter predicate, expected an object but got {}",
            json_type(v)
        )
    })?;
    let has_operator = obj.keys().any(|k| k.starts_with('$'));
    if has_operator {
        if obj.len() != 1 {
            return Err(format!(
                "Invalid filter predicate, an operator object must contain exactly one operator but got keys {}",
                quoted_keys(obj)
            ));
        }
        let (op, arg) = obj.iter().next().expect("one entry");
        return match op.as_str() {
            "$all" => Ok(EntityFilter::All(predicate_list(op, arg)?)),
            "$any" => Ok(EntityFilter::Any(predicate_list(op, arg)?)),
            "$not" => Ok(EntityFilter::Not(Box::new(parse_predicate(arg)?))),
            other => Err(format!(
                "Invalid filter predicate, unknown operator '{other}'"
            )),
        };
    }
    let mut conditions = Vec::with_capacity(obj.len());
    for (key, value) in obj {
        if key.trim().is_empty() {
            return Err("Invalid filter predicate, keys must not be empty".to_string());
        }
        conditions.push(parse_key_condition(&key.trim().to_lowercase(), value)?);
    }
    Ok(if conditions.len() == 1 {
        conditions.pop().expect("one")
    } else {
        EntityFilter::All(conditions)
    })
}

fn predicate_list(op: &str, arg: &Value) -> Result<Vec<EntityFilter>, String> {
    let items = arg.as_array().ok_or_else(|| {
        format!(
            "Invalid filter predicate, {op} expects an array but got {}",
            json_type(arg)
        )
    })?;
    items.iter().map(parse_predicate).collect()
}

/// The condition for one search key: a scalar (equals) or an operator object.
fn parse_key_condition(key: &str, value: &Value) -> Result<EntityFilter, String> {
    if let Some(s) = scalar_string(value) {
        return Ok(EntityFilter::Key {
            key: key.to_string(),
            values: Some(vec![s]),
        });
    }
    let obj = value.as_object().ok_or_else(|| {
        format!(
            "Invalid filter predicate for '{key}', expected a string, number, boolean or operator object but got {}",
            json_type(value)
        )
    })?;
    if obj.len() != 1 || !obj.keys().all(|k| k.starts_with('$')) {
        return Err(format!(
            "Invalid filter predicate for '{key}', an operator object must contain exactly one operator but got keys {}",
            quoted_keys(obj)
        ));
    }
    let (op, arg) = obj.iter().next().expect("one entry");
    match op.as_str() {
        "$exists" => {
            let exists = arg.as_bool().ok_or_else(|| {
                format!("Invalid filter predicate for '{key}', $exists expects a boolean")
            })?;
            let f = EntityFilter::Key {
                key: key.to_string(),
                values: None,
            };
            Ok(if exists {
                f
            } else {
                EntityFilter::Not(Box::new(f))
            })
        }
        "$in" => {
            let items = arg.as_array().ok_or_else(|| {
                format!("Invalid filter predicate for '{key}', $in expects an array")
            })?;
            let values = items
                .iter()
                .map(|i| {
                    scalar_string(i).ok_or_else(|| {
                        format!("Invalid filter predicate for '{key}', $in values must be strings, numbers or booleans")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(EntityFilter::Key {
                key: key.to_string(),
                values: Some(values),
            })
        }
        "$hasPrefix" => {
            let prefix = arg.as_str().ok_or_else(|| {
                format!("Invalid filter predicate for '{key}', $hasPrefix expects a string")
            })?;
            Ok(EntityFilter::HasPrefix {
                key: key.to_string(),
                prefix: prefix.to_lowercase(),
            })
        }
        "$contains" => parse_contains(key, arg),
        other => Err(format!(
            "Invalid filter predicate for '{key}', unknown operator '{other}'"
        )),
    }
}

/// `$contains` on an array field. Array items are indexed under the array's own
/// path, so containing a scalar is "some value of key equals it". An object
/// argument matches its properties beneath the key; for `relations` the
/// `{type, targetRef}` pair maps to the `relations.<type>` search key.
fn parse_contains(key: &str, arg: &Value) -> Result<EntityFilter, String> {
    if let Some(s) = scalar_string(arg) {
        return Ok(EntityFilter::Key {
            key: key.to_string(),
            values: Some(vec![s]),
        });
    }
    let obj = arg.as_object().ok_or_else(|| {
        format!("Invalid filter predicate for '{key}', $contains expects a string, number, boolean or object")
    })?;
    if key == "relations" {
        let rel_type = obj.get("type").and_then(Value::as_str);
        let target = obj.get("targetRef").and_then(scalar_string);
        if let Some(rel_type) = rel_type {
            let values = target.map(|t| vec![t]);
            return Ok(EntityFilter::Key {
                key: format!("relations.{}", rel_type.to_lowercase()),
                values,
            });
        }
    }
    let mut conditions = Vec::new();
    for (sub, value) in obj {
        conditions.push(parse_key_condition(
            &format!("{key}.{}", sub.to_lowercase()),
            value,
        )?);
    }
    Ok(if conditions.len() == 1 {
        conditions.pop().expect("one")
    } else {
        EntityFilter::All(conditions)
    })
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn quoted_keys(obj: &serde_json::Map<String, Value>) -> String {
    obj.keys()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON type name used in messages (`null`, `array`, `string`, ...).
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// ---------------------------------------------------------------------------
// Ordering
// ---------------------------------------------------------------------------

/// GET /entities `order=asc:metadata.name` (repeatable, also comma-free).
pub fn parse_order_params(params: &[String]) -> Result<Vec<OrderField>, String> {
    params
        .iter()
        .map(|item| {
            let invalid = || {
                format!(
                    "Invalid order parameter \"{item}\", expected \"<asc or desc>:<field name>\""
                )
            };
            let (order, field) = item.split_once(':').ok_or_else(invalid)?;
            let order = SortOrder::parse(order).ok_or_else(invalid)?;
            if field.is_empty() {
                return Err(invalid());
            }
            Ok(OrderField {
                field: field.to_lowercase(),
                order,
            })
        })
        .collect()
}

/// GET /entities/by-query `orderField=metadata.name,desc` (order optional, default asc).
pub fn parse_order_field_params(params: &[String]) -> Result<Vec<OrderField>, String> {
    params
        .iter()
        .map(|item| {
            let (field, order) = match item.split_once(',') {
                Some((f, o)) => (f.trim(), Some(o.trim())),
                None => (item.trim(), None),
            };
            if field.is_empty() {
                return Err(format!(
                    "Invalid order field \"{item}\", the field name must not be empty"
                ));
            }
            let order = match order {
                None => SortOrder::Asc,
                Some(o) => SortOrder::parse(o)
                    .ok_or_else(|| "Invalid order field order, must be asc or desc".to_string())?,
            };
            Ok(OrderField {
                field: field.to_lowercase(),
                order,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Field projection
// ---------------------------------------------------------------------------

/// `fields=a,b` and/or repeated `fields` params. Empty → Ok(None) (no projection).
pub fn parse_fields(params: &[String]) -> Result<Option<Vec<String>>, String> {
    let fields: Vec<String> = params
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = fields.iter().find(|f| f.contains('[')) {
        return Err(format!(
            "Invalid field \"{bad}\", array type fields are not supported"
        ));
    }
    Ok(if fields.is_empty() {
        None
    } else {
        Some(fields)
    })
}

/// Copies only the requested dotted paths of `entity`, keeping the nesting.
/// A path segment may itself contain dots (`metadata.annotations.backstage.io/x`):
/// at every level the longest existing key that prefixes the remaining path wins,
/// backtracking to shorter keys when the longer one leads nowhere.
pub fn project_fields(entity: &Entity, fields: &[String]) -> Entity {
    let mut out = Entity::new();
    for field in fields {
        if let Some((segments, value)) = resolve_path(entity, field) {
            insert_path(&mut out, &segments, value.clone());
        }
    }
    out
}

/// Finds the key segments and value of `path` inside `obj`.
fn resolve_path<'a>(obj: &'a Entity, path: &str) -> Option<(Vec<String>, &'a Value)> {
    if let Some(v) = obj.get(path) {
        return Some((vec![path.to_string()], v));
    }
    // Candidate keys that are a dot-terminated prefix of the path, longest first.
    let mut candidates: Vec<&String> = obj
        .keys()
        .filter(|k| {
            path.len() > k.len() && path.starts_with(k.as_str()) && path.as_bytes()[k.len()] == b'.'
        })
        .collect();
    candidates.sort_by_key(|k| std::cmp::Reverse(k.len()));
    for key in candidates {
        if let Some(Value::Object(child)) = obj.get(key) {
            if let Some((mut rest, v)) = resolve_path(child, &path[key.len() + 1..]) {
                rest.insert(0, key.clone());
                return Some((rest, v));
            }
        }
    }
    None
}

fn insert_path(out: &mut Entity, segments: &[String], value: Value) {
    match segments {
        [] => {}
        [last] => {
            out.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = out
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Entity::new()));
            if let Value::Object(map) = child {
                insert_path(map, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str, values: Option<&[&str]>) -> EntityFilter {
        EntityFilter::Key {
            key: k.to_string(),
            values: values.map(|vs| vs.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn no_filter_params_is_none() {
        assert_eq!(parse_filter_params(&[]).unwrap(), None);
        assert_eq!(parse_filter_params(&s(&["", " , "])).unwrap(), None);
    }

    #[test]
    fn filter_sets_are_ored_and_statements_anded() {
        let f = parse_filter_params(&s(&[
            "kind=User,metadata.namespace=default",
            "kind=group,spec.type",
        ]))
        .unwrap();
        assert_eq!(
            f,
            Some(EntityFilter::Any(vec![
                EntityFilter::All(vec![
                    key("kind", Some(&["user"])),
                    key("metadata.namespace", Some(&["default"]))
                ]),
                EntityFilter::All(vec![key("kind", Some(&["group"])), key("spec.type", None)]),
            ]))
        );
    }

    #[test]
    fn repeated_key_in_a_set_is_value_in_and_values_are_trimmed_and_lowercased() {
        let f = parse_filter_params(&s(&[" a = 1 , B = 2 , a = X "])).unwrap();
        assert_eq!(
            f,
            Some(EntityFilter::All(vec![
                key("a", Some(&["1", "x"])),
                key("b", Some(&["2"]))
            ]))
        );
    }

    #[test]
    fn key_with_empty_value_means_equals_empty() {
        let f = parse_filter_params(&s(&["spec.type="])).unwrap();
        assert_eq!(f, Some(key("spec.type", Some(&[""]))));
    }

    #[test]
    fn value_may_contain_equals_signs() {
        let f = parse_filter_params(&s(&["metadata.annotations.x=a=b"])).unwrap();
        assert_eq!(f, Some(key("metadata.annotations.x", Some(&["a=b"]))));
    }

    #[test]
    fn empty_key_is_rejected_with_backstage_message() {
        assert_eq!(
            parse_filter_params(&s(&["x=2,=a"])).unwrap_err(),
            "Invalid filter, '=a' is not a valid statement (expected a string on the form a=b or a= or a)"
        );
        assert_eq!(
            parse_filter_params(&s(&["="])).unwrap_err(),
            "Invalid filter, '=' is not a valid statement (expected a string on the form a=b or a= or a)"
        );
    }

    #[test]
    fn predicate_equals_and_implicit_and() {
        let f = parse_predicate(&json!({"kind": "Component", "spec.type": "Service"})).unwrap();
        assert_eq!(
            f,
            EntityFilter::All(vec![
                key("kind", Some(&["component"])),
                key("spec.type", Some(&["service"]))
            ])
        );
        let f = parse_predicate(&json!({"Metadata.Generation": 1, "spec.flag": true})).unwrap();
        assert_eq!(
            f,
            EntityFilter::All(vec![
                key("metadata.generation", Some(&["1"])),
                key("spec.flag", Some(&["true"]))
            ])
        );
    }

    #[test]
    fn predicate_operators() {
        assert_eq!(
            parse_predicate(&json!({"spec.owner": {"$exists": true}})).unwrap(),
            key("spec.owner", None)
        );
        assert_eq!(
            parse_predicate(&json!({"spec.owner": {"$exists": false}})).unwrap(),
            EntityFilter::Not(Box::new(key("spec.owner", None)))
        );
        assert_eq!(
            parse_predicate(&json!({"kind": {"$in": ["API", "Component", 3]}})).unwrap(),
            key("kind", Some(&["api", "component", "3"]))
        );
        assert_eq!(
            parse_predicate(&json!({"metadata.name": {"$hasPrefix": "Art"}})).unwrap(),
            EntityFilter::HasPrefix {
                key: "metadata.name".into(),
                prefix: "art".into()
            }
        );
        assert_eq!(
            parse_predicate(&json!({"metadata.tags": {"$contains": "Java"}})).unwrap(),
            key("metadata.tags", Some(&["java"]))
        );
        assert_eq!(
            parse_predicate(&json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/a"}}}))
                .unwrap(),
            key("relations.ownedby", Some(&["group:default/a"]))
        );
    }

    #[test]
    fn predicate_combinators() {
        let f = parse_predicate(&json!({"$any": [
            {"$all": [{"kind": "component"}, {"$not": {"spec.type": "website"}}]},
            {"kind": "api"}
        ]}))
        .unwrap();
        assert_eq!(
            f,
            EntityFilter::Any(vec![
                EntityFilter::All(vec![
                    key("kind", Some(&["component"])),
                    EntityFilter::Not(Box::new(key("spec.type", Some(&["website"])))),
                ]),
                key("kind", Some(&["api"])),
            ])
        );
        assert_eq!(
            parse_predicate(&json!({"$all": []})).unwrap(),
            EntityFilter::All(vec![])
        );
    }

    #[test]
    fn predicate_errors() {
        assert_eq!(
            parse_predicate(&json!({"$all": [], "$any": []})).unwrap_err(),
            "Invalid filter predicate, an operator object must contain exactly one operator but got keys '$all', '$any'"
        );
        assert_eq!(
            parse_predicate(&json!({"kind": {"$in": ["a"], "$exists": true}})).unwrap_err(),
            "Invalid filter predicate for 'kind', an operator object must contain exactly one operator but got keys '$in', '$exists'"
        );
        assert_eq!(
            parse_predicate(&json!({"$nope": []})).unwrap_err(),
            "Invalid filter predicate, unknown operator '$nope'"
        );
        assert_eq!(
            parse_predicate(&json!({"kind": {"$regex": "x"}})).unwrap_err(),
            "Invalid filter predicate for 'kind', unknown operator '$regex'"
        );
        assert_eq!(
            parse_predicate(&json!("kind")).unwrap_err(),
            "Invalid filter predicate, expected an object but got string"
        );
        assert_eq!(
            parse_predicate(&json!({"$all": {}})).unwrap_err(),
            "Invalid filter predicate, $all expects an array but got object"
        );
        assert_eq!(
            parse_predicate(&json!({"kind": null})).unwrap_err(),
            "Invalid filter predicate for 'kind', expected a string, number, boolean or operator object but got null"
        );
        assert_eq!(
            parse_predicate(&json!({"kind": {"$exists": "yes"}})).unwrap_err(),
            "Invalid filter predicate for 'kind', $exists expects a boolean"
        );
        assert_eq!(
            parse_predicate(&json!({"kind": {"$in": [{}]}})).unwrap_err(),
            "Invalid filter predicate for 'kind', $in values must be strings, numbers or booleans"
        );
    }

    #[test]
    fn order_params() {
        assert_eq!(
            parse_order_params(&s(&["asc:metadata.name", "desc:spec.type"])).unwrap(),
            vec![
                OrderField {
                    field: "metadata.name".into(),
                    order: SortOrder::Asc
                },
                OrderField {
                    field: "spec.type".into(),
                    order: SortOrder::Desc
                },
            ]
        );
        for bad in ["metadata.name", "up:metadata.name", "asc:", "ASC:x"] {
            assert_eq!(
                parse_order_params(&s(&[bad])).unwrap_err(),
                format!(
                    "Invalid order parameter \"{bad}\", expected \"<asc or desc>:<field name>\""
                )
            );
        }
    }

    #[test]
    fn order_field_params() {
        assert_eq!(
            parse_order_field_params(&s(&["metadata.name", "spec.type,desc", "kind, asc"]))
                .unwrap(),
            vec![
                OrderField {
                    field: "metadata.name".into(),
                    order: SortOrder::Asc
                },
                OrderField {
                    field: "spec.type".into(),
                    order: SortOrder::Desc
                },
                OrderField {
                    field: "kind".into(),
                    order: SortOrder::Asc
                },
            ]
        );
        assert_eq!(
            parse_order_field_params(&s(&["metadata.name,up"])).unwrap_err(),
            "Invalid order field order, must be asc or desc"
        );
        assert_eq!(
            parse_order_field_params(&s(&[",asc"])).unwrap_err(),
            "Invalid order field \",asc\", the field name must not be empty"
        );
    }

    #[test]
    fn fields_params() {
        assert_eq!(parse_fields(&[]).unwrap(), None);
        assert_eq!(
            parse_fields(&s(&["kind, metadata.name", "spec"])).unwrap(),
            Some(s(&["kind", "metadata.name", "spec"]))
        );
        assert_eq!(
            parse_fields(&s(&["kind,relations[0]"])).unwrap_err(),
            "Invalid field \"relations[0]\", array type fields are not supported"
        );
    }

    #[test]
    fn projection_keeps_structure_and_only_present_values() {
        let e = json!({
            "kind": "Component",
            "metadata": {"name": "a", "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "y"}},
            "spec": {"type": "service"}
        });
        let e = e.as_object().unwrap();
        let p = project_fields(
            e,
            &s(&[
                "kind",
                "metadata.annotations.backstage.io/techdocs-ref",
                "metadata.missing",
                "spec.type.deep",
            ]),
        );
        assert_eq!(
            Value::Object(p),
            json!({"kind": "Component", "metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}})
        );
        let p = project_fields(e, &s(&["metadata"]));
        assert_eq!(p.get("metadata"), e.get("metadata"));
    }

    #[test]
    fn projection_backtracks_from_longer_dotted_keys() {
        let e = json!({"a.b": {"x": 1}, "a": {"b": {"c": 2}}});
        let p = project_fields(e.as_object().unwrap(), &s(&["a.b.c"]));
        assert_eq!(Value::Object(p), json!({"a": {"b": {"c": 2}}}));
        let p = project_fields(e.as_object().unwrap(), &s(&["a.b.x"]));
        assert_eq!(Value::Object(p), json!({"a.b": {"x": 1}}));
    }
}
