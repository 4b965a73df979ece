//! Template entities: checking them, validating submitted values against
//! their parameter pages, and finding the directory their files live in.

use std::path::PathBuf;

use greenroom_model::annotations;
use greenroom_model::scaffolder::{parameter_pages, ValueError, TEMPLATE_API_VERSION};
use greenroom_model::Entity;
use serde_json::Value;

use super::actions::TemplateSource;
use crate::scm::ScmHosts;

/// A Template entity the scaffolder can run.
pub fn check_template(entity: &Entity) -> Result<(), String> {
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_version = entity
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !kind.eq_ignore_ascii_case("template") {
        return Err(format!("The entity is a {kind}, not a Template"));
    }
    if api_version != TEMPLATE_API_VERSION {
        return Err(format!(
            "Template has apiVersion {api_version}; only {TEMPLATE_API_VERSION} templates can run"
        ));
    }
    Ok(())
}

/// `instance.a.b` from a JSON pointer `/a/b`.
fn property(pointer: &str) -> String {
    if pointer.is_empty() || pointer == "/" {
        "instance".to_string()
    } else {
        format!("instance{}", pointer.replace('/', "."))
    }
}

/// Checks `values` against every parameter page, as Backstage's router does
/// before it creates a task. Each problem names its field.
pub fn validate_values(template: &Entity, values: &Value) -> Vec<ValueError> {
    let spec = template
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    if !values.is_object() {
        errors.push(ValueError {
            property: "instance".into(),
            path: vec![],
            message: "values must be an object".into(),
            name: "type".into(),
            stack: "instance values must be an object".into(),
        });
        return errors;
    }
    for page in parameter_pages(&spec) {
        let schema = Value::Object(page);
        let validator = match jsonschema::validator_for(&schema) {
            Ok(v) => v,
            Err(e) => {
                errors.push(ValueError {
                    property: "instance".into(),
                    path: vec![],
                    message: format!("the template's parameter schema is invalid: {e}"),
                    name: "schema".into(),
                    stack: String::new(),
                });
                continue;
            }
        };
        for e in validator.iter_errors(values) {
            let pointer = e.instance_path().to_string();
            let mut path: Vec<String> = pointer
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect();
            let name = keyword_name(&e);
            if name == "required" {
                if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
                    if let Some(p) = property.as_str() {
                        path.push(p.to_string());
                    }
                }
            }
            let message = e.to_string();
            errors.push(ValueError {
                property: property(&pointer),
                stack: format!("{} {message}", property(&pointer)),
                path,
                message,
                name,
            });
        }
    }
    errors
}

fn keyword_name(e: &jsonschema::ValidationError<'_>) -> String {
    e.schema_path()
        .to_string()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The template's base URL (Backstage's `templateInfo.baseUrl`): where its
/// descriptor was read from, `file://<path>` or a URL.
pub fn template_base_url(template: &Entity) -> Option<String> {
    let annotation = template
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| {
            a.get(annotations::SOURCE_LOCATION)
                .or_else(|| a.get(annotations::MANAGED_BY_LOCATION))
        })
        .and_then(Value::as_str)?;
    let (kind, target) = annotation.split_once(':')?;
    match kind {
        "file" => Some(format!("file://{target}")),
        "url" => Some(target.to_string()),
        _ => None,
    }
}

/// Where a template's files are, from its base URL. `file` locations are read
/// in place; a template on a plain Git host is cloned (the returned guard
/// removes the clone).
pub async fn template_source(
    base_url: Option<&str>,
    scm: &ScmHosts,
) -> (TemplateSource, Option<tempfile::TempDir>) {
    let Some(base) = base_url else {
        return (
            TemplateSource::Unavailable(
                "The template has no location to fetch its files from".into(),
            ),
            None,
        );
    };
    if let Some(path) = base.strip_prefix("file://") {
        let path = PathBuf::from(path);
        let dir = if base.ends_with('/') {
            path
        } else {
            path.parent().map(PathBuf::from).unwrap_or(path)
        };
        return (TemplateSource::Directory(dir), None);
    }
    match crate::scm::checkout_dir(scm, base, "template").await {
        Ok((dir, guard)) => (TemplateSource::Directory(dir), Some(guard)),
        Err(why) => (TemplateSource::Unavailable(why), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Entity {
        json!({
            "apiVersion": TEMPLATE_API_VERSION, "kind": "Template",
            "metadata": {"name": "t"},
            "spec": {"type": "service", "steps": [], "parameters": [
                {"title": "One", "required": ["name"], "properties": {
                    "name": {"type": "string", "pattern": "^[a-z-]+$", "ui:autofocus": true},
                    "size": {"type": "integer", "minimum": 1, "maximum": 5}
                }},
                {"title": "Two", "required": ["repoUrl"], "properties": {"repoUrl": {"type": "string"}}}
            ]}
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn valid_values_pass() {
        let errors = validate_values(
            &template(),
            &json!({"name": "ok", "size": 3, "repoUrl": "h?owner=o&repo=r"}),
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn each_problem_names_its_field() {
        let errors = validate_values(&template(), &json!({"name": "Not OK", "size": 9}));
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.path.join("."), e.name.clone()))
            .collect();
        assert!(
            fields.contains(&("name".into(), "pattern".into())),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("size".into(), "maximum".into())),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("repoUrl".into(), "required".into())),
            "{fields:?}"
        );
        let size = errors.iter().find(|e| e.name == "maximum").unwrap();
        assert_eq!(size.property, "instance.size");
    }

    #[test]
    fn only_v1beta3_templates_run() {
        assert!(check_template(&template()).is_ok());
        let mut old = template();
        old.insert("apiVersion".into(), json!("backstage.io/v1beta2"));
        assert!(check_template(&old).unwrap_err().contains("v1beta3"));
    }
}
