//! Static checks of a template, for `greenroom template validate`: the
//! envelope, parameter pages that are valid JSON Schema, steps whose actions
//! exist, expressions that parse and refer to declared parameters and earlier
//! steps, literal inputs that fit the action's input schema, and skeleton
//! directories that exist.

use std::collections::BTreeSet;
use std::path::Path;

use greenroom_expressions::Renderer;
use greenroom_model::scaffolder::{parameter_pages, template_steps};
use greenroom_model::{validate_entity, Entity};
use serde_json::Value;

use super::actions::ActionRegistry;
use super::template::check_template;

/// One finding; `path` is the dotted field path (`spec.steps[1].input.url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    pub path: String,
    pub message: String,
    /// Warnings do not fail validation.
    pub warning: bool,
}

fn error(path: impl Into<String>, message: impl Into<String>) -> Lint {
    Lint {
        path: path.into(),
        message: message.into(),
        warning: false,
    }
}

/// Every property name declared anywhere in a schema (nested objects,
/// `dependencies`, `oneOf`/`anyOf`/`allOf` branches).
fn declared_properties(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            for (k, v) in map {
                if k != "properties" || v.is_object() {
                    declared_properties(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| declared_properties(i, out)),
        _ => {}
    }
}

fn contains_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("${{") || s.contains("{%"),
        Value::Array(a) => a.iter().any(contains_expression),
        Value::Object(m) => m.values().any(contains_expression),
        _ => false,
    }
}

/// Every string in a value with its path.
fn strings<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((path, s)),
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                strings(v, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                strings(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// The root references of an expression that point at a missing parameter
/// or a step that has not run yet.
fn check_references(
    renderer: &Renderer,
    path: &str,
    text: &str,
    parameters: &BTreeSet<String>,
    earlier_steps: &BTreeSet<String>,
    all_steps: &BTreeSet<String>,
    out: &mut Vec<Lint>,
) {
    if !text.contains("${{") && !text.contains("{%") {
        return;
    }
    let refs = match renderer.check(text) {
        Ok(refs) => refs,
        Err(e) => {
            out.push(error(path, format!("invalid expression: {e}")));
            return;
        }
    };
    const KNOWN_ROOTS: &[&str] = &[
        "parameters",
        "steps",
        "secrets",
        "user",
        "context",
        "environment",
        "each",
        "__status",
    ];
    for r in refs {
        let mut parts = r.split('.');
        let root = parts.next().unwrap_or_default();
        let second = parts.next();
        if !KNOWN_ROOTS.contains(&root) {
            out.push(Lint {
                path: path.to_string(),
                message: format!("'{r}' is not defined (templates see parameters, steps, secrets, user, context, environment and each)"),
                warning: true,
            });
            continue;
        }
        match (root, second) {
            ("parameters", Some(name)) if !parameters.contains(name) => out.push(error(
                path,
                format!("parameters.{name} is not declared in any parameter page"),
            )),
            ("steps", Some(id)) if !all_steps.contains(id) => {
                out.push(error(path, format!("there is no step with id '{id}'")))
            }
            ("steps", Some(id)) if !earlier_steps.contains(id) => out.push(error(
                path,
                format!("step '{id}' runs later, its output is not available here"),
            )),
            _ => {}
        }
    }
}

/// Checks a Template entity. `dir` is the directory the template file is in,
/// for checking the paths fetch actions read.
pub fn lint_template(
    entity: &Entity,
    dir: Option<&Path>,
    actions: &ActionRegistry,
    renderer: &Renderer,
) -> Vec<Lint> {
    let mut out = Vec::new();
    if let Err(e) = check_template(entity) {
        out.push(error("apiVersion", e));
        return out;
    }
    if let Err(errors) = validate_entity(&Value::Object(entity.clone())) {
        for e in errors {
            out.push(error(
                e.field.clone().unwrap_or_default(),
                e.message.clone(),
            ));
        }
    }
    let spec = entity
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if spec.get("type").and_then(Value::as_str).is_none() {
        out.push(error("spec.type", "spec.type is required"));
    }
    let pages = parameter_pages(&spec);
    let mut parameters = BTreeSet::new();
    for (i, page) in pages.iter().enumerate() {
        let schema = Value::Object(page.clone());
        if let Err(e) = jsonschema::validator_for(&schema) {
            out.push(error(
                format!("spec.parameters[{i}]"),
                format!("not a valid JSON Schema: {e}"),
            ));
        }
        declared_properties(&schema, &mut parameters);
    }
    let Some(Value::Array(raw_steps)) = spec.get("steps") else {
        out.push(error("spec.steps", "spec.steps must be a list of steps"));
        return out;
    };
    let steps = template_steps(&spec);
    if steps.len() != raw_steps.len() {
        for (i, s) in raw_steps.iter().enumerate() {
            if s.get("action").and_then(Value::as_str).is_none() {
                out.push(error(
                    format!("spec.steps[{i}]"),
                    "every step needs an action",
                ));
            }
        }
    }
    let all_ids: BTreeSet<String> = steps.iter().map(|s| s.id.clone()).collect();
    let mut seen = BTreeSet::new();
    let mut earlier = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        let at = format!("spec.steps[{i}]");
        if !seen.insert(step.id.clone()) {
            out.push(error(
                format!("{at}.id"),
                format!("step id '{}' is used twice", step.id),
            ));
        }
        let mut texts = Vec::new();
        if let Some(v) = &step.if_ {
            strings(v, format!("{at}.if"), &mut texts);
        }
        if let Some(v) = &step.each {
            strings(v, format!("{at}.each"), &mut texts);
        }
        if let Some(v) = &step.input {
            strings(v, format!("{at}.input"), &mut texts);
        }
        for (path, text) in texts {
            check_references(
                renderer,
                &path,
                text,
                &parameters,
                &earlier,
                &all_ids,
                &mut out,
            );
        }
        match actions.get(&step.action) {
            None => out.push(error(
                format!("{at}.action"),
                format!(
                    "Template action with ID '{}' is not registered.",
                    step.action
                ),
            )),
            Some(action) => lint_input(&at, action.input_schema(), step.input.as_ref(), &mut out),
        }
        if step.action.starts_with("fetch:") {
            if let (Some(dir), Some(url)) = (
                dir,
                step.input
                    .as_ref()
                    .and_then(|i| i.get("url"))
                    .and_then(Value::as_str),
            ) {
                if !url.contains("${{") && !url.contains("://") {
                    match super::workspace::safe_join(dir, url) {
                        None => out.push(error(
                            format!("{at}.input.url"),
                            format!("'{url}' leaves the template's directory"),
                        )),
                        Some(p) if !p.exists() => out.push(error(
                            format!("{at}.input.url"),
                            format!("'{url}' does not exist next to the template"),
                        )),
                        _ => {}
                    }
                }
            }
        }
        earlier.insert(step.id.clone());
    }
    if let Some(output) = spec.get("output") {
        let mut texts = Vec::new();
        strings(output, "spec.output".into(), &mut texts);
        for (path, text) in texts {
            check_references(
                renderer,
                &path,
                text,
                &parameters,
                &earlier,
                &all_ids,
                &mut out,
            );
        }
    }
    out
}

/// Required inputs present; literal inputs (no expressions) valid against
/// their property schema; unknown inputs flagged as warnings.
fn lint_input(at: &str, schema: Value, input: Option<&Value>, out: &mut Vec<Lint>) {
    let empty = serde_json::Map::new();
    let input = input.and_then(Value::as_object).unwrap_or(&empty);
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !input.contains_key(name) {
                out.push(error(
                    format!("{at}.input"),
                    format!("input '{name}' is required"),
                ));
            }
        }
    }
    for (key, value) in input {
        let Some(prop) = properties.get(key) else {
            out.push(Lint {
                path: format!("{at}.input.{key}"),
                message: format!("'{key}' is not an input of this action"),
                warning: true,
            });
            continue;
        };
        if contains_expression(value) {
            continue;
        }
        if let Ok(validator) = jsonschema::validator_for(prop) {
            for e in validator.iter_errors(value) {
                out.push(error(format!("{at}.input.{key}"), e.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lint(template: Value) -> Vec<Lint> {
        lint_template(
            template.as_object().unwrap(),
            None,
            &ActionRegistry::builtin(),
            &Renderer::new(),
        )
    }

    fn template(steps: Value) -> Value {
        json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": "t"},
            "spec": {"type": "service", "parameters": [{"properties": {"name": {"type": "string"}}}],
                     "steps": steps, "output": {"links": [{"url": "${{ steps.log.output.x }}"}]}}
        })
    }

    #[test]
    fn a_good_template_has_no_errors() {
        let found = lint(template(json!([
            {"id": "log", "action": "debug:log", "input": {"message": "Hello ${{ parameters.name }}"}}
        ])));
        assert!(found.iter().all(|l| l.warning), "{found:?}");
    }

    #[test]
    fn finds_unknown_actions_parameters_steps_and_bad_inputs() {
        let found = lint(template(json!([
            {"id": "log", "action": "debug:log", "input": {"message": "${{ parameters.nmae }} ${{ steps.later.output.x }}"}},
            {"id": "later", "action": "no:such:action"},
            {"id": "later", "action": "fetch:plain", "input": {"targetPath": 3}},
            {"id": "bad", "action": "debug:log", "input": {"message": "${{ parameters.name | }}"}}
        ])));
        let messages: Vec<String> = found
            .iter()
            .filter(|l| !l.warning)
            .map(|l| format!("{}: {}", l.path, l.message))
            .collect();
        let has = |s: &str| messages.iter().any(|m| m.contains(s));
        assert!(has("parameters.nmae is not declared"), "{messages:?}");
        assert!(has("step 'later' runs later"), "{messages:?}");
        assert!(has("'no:such:action' is not registered"), "{messages:?}");
        assert!(has("step id 'later' is used twice"), "{messages:?}");
        assert!(has("input 'url' is required"), "{messages:?}");
        assert!(has("spec.steps[2].input.targetPath"), "{messages:?}");
        assert!(
            has("spec.steps[3].input.message: invalid expression"),
            "{messages:?}"
        );
    }
}
