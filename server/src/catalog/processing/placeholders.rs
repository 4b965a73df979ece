//! `$text`, `$json` and `$yaml` substitutions (Backstage's PlaceholderProcessor):
//! an object whose only key is one of those, with a string value, is replaced
//! by the content the string points at. Anything else is left alone, as Backstage
//! does, so that unrelated `$`-keys pass through untouched.

use greenroom_model::Entity;
use greenroom_store::{LocationSpec, ProcessingError};
use serde_json::Value;

use super::sources::{PlaceholderReadError, Sources};

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Json,
    Yaml,
}

struct Placeholder {
    path: Vec<Segment>,
    kind: Kind,
    key: &'static str,
    reference: String,
}

fn collect(value: &Value, path: &mut Vec<Segment>, out: &mut Vec<Placeholder>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                let (key, inner) = map.iter().next().expect("one entry");
                let kind = match key.as_str() {
                    "$text" => Some((Kind::Text, "text")),
                    "$json" => Some((Kind::Json, "json")),
                    "$yaml" => Some((Kind::Yaml, "yaml")),
                    _ => None,
                };
                if let (Some((kind, key)), Some(reference)) = (kind, inner.as_str()) {
                    out.push(Placeholder { path: path.clone(), kind, key, reference: reference.to_string() });
                    return;
                }
            }
            if map.len() > 1 && map.keys().any(|k| k.starts_with('$')) {
                // Backstage leaves mixed objects alone rather than guessing.
                return;
            }
            for (key, inner) in map {
                path.push(Segment::Key(key.clone()));
                collect(inner, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                collect(inner, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn slot<'a>(entity: &'a mut Entity, path: &[Segment]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let Segment::Key(first) = first else {
        return None;
    };
    let mut current = entity.get_mut(first)?;
    for segment in rest {
        current = match segment {
            Segment::Key(k) => current.as_object_mut()?.get_mut(k)?,
            Segment::Index(i) => current.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(current)
}

fn failure(message: String) -> ProcessingError {
    ProcessingError {
        name: "InputError".into(),
        message: format!("Processor PlaceholderProcessor threw an error while preprocessing; caused by Error: {message}"),
    }
}

/// Replaces every placeholder in the entity, reading relative references
/// against `location` (the entity's managed-by-location). The first failure
/// stops processing of this entity, like a throwing Backstage processor.
pub(crate) async fn substitute(entity: &mut Entity, location: &LocationSpec, sources: &Sources) -> Result<(), ProcessingError> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    for (key, value) in entity.iter() {
        path.push(Segment::Key(key.clone()));
        collect(value, &mut path, &mut found);
        path.pop();
    }
    for placeholder in found {
        let Placeholder { path, kind, key, reference } = placeholder;
        let text = sources.read_relative(location, &reference).await.map_err(|e| {
            failure(match e {
                PlaceholderReadError::Resolve(reason) => format!(
                    "Placeholder ${key} could not form a URL out of {} and {reference}, {reason}",
                    location.target
                ),
                PlaceholderReadError::Read(err) => {
                    format!("Placeholder ${key} could not read location {reference}, {}: {err}", err.name())
                }
            })
        })?;
        let replacement = match kind {
            Kind::Text => Value::String(text),
            Kind::Json => serde_json::from_str(&text)
                .map_err(|e| failure(format!("Placeholder ${key} failed to parse JSON data at {reference}, {e}")))?,
            Kind::Yaml => {
                let documents = greenroom_model::yaml::parse_documents(&text)
                    .map_err(|e| failure(format!("Placeholder ${key} failed to parse YAML data at {reference}, {e}")))?;
                let mut values: Vec<Value> =
                    documents.into_iter().map(|d| d.value).filter(|v| !v.is_null()).collect();
                if values.len() != 1 {
                    return Err(failure(format!(
                        "Placeholder ${key} expected to find exactly one document of data, found {}",
                        values.len()
                    )));
                }
                values.remove(0)
            }
        };
        if let Some(target) = slot(entity, &path) {
            *target = replacement;
        }
    }
    Ok(())
}
