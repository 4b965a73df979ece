//! `catalog:write`, `catalog:register`, `catalog:fetch`.

use async_trait::async_trait;
use greenroom_model::{Entity, EntityRef};
use greenroom_store::LocationSpec;
use serde_json::{json, Value};

use super::{object_schema, Action, ActionContext, ActionError};
use crate::catalog::processing::generated_location_entity;

/// YAML text of a JSON value, ending with a newline.
pub(crate) fn to_yaml(value: &Value) -> Result<String, ActionError> {
    let mut text = serde_saphyr::to_string(value)
        .map_err(|e| ActionError::new(format!("cannot write YAML: {e}")))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

pub struct Write;

#[async_trait]
impl Action for Write {
    fn id(&self) -> &'static str {
        "catalog:write"
    }
    fn description(&self) -> &'static str {
        "Writes the catalog-info.yaml for your template"
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "filePath": {"type": "string", "description": "Defaults to catalog-info.yaml"},
                "entity": {"type": "object", "description": "You can provide the same values used in the Entity schema."}
            }),
            &["entity"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let path = ctx
            .str_input("filePath")
            .unwrap_or("catalog-info.yaml")
            .to_string();
        let entity = ctx.input["entity"].clone();
        ctx.workspace.write(&path, to_yaml(&entity)?.as_bytes())?;
        ctx.log(format!("Writing {path}"));
        Ok(())
    }
}

/// `repoContentsUrl` + `catalogInfoPath`, the way the SCM integrations resolve
/// a path from the repository root (`.../blob/<branch>` + `/catalog-info.yaml`).
pub(crate) fn catalog_info_url(repo_contents_url: &str, path: &str) -> String {
    format!(
        "{}/{}",
        repo_contents_url.trim_end_matches('/'),
        path.trim_start_matches("./").trim_start_matches('/')
    )
}

/// The entity a registration is about: the first Component that is not a
/// generated one, else the first non-generated entity, else the first.
fn main_entity_ref(entities: &[Entity]) -> Option<String> {
    let generated = |e: &&Entity| {
        e.get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .is_some_and(|n| n.starts_with("generated-"))
    };
    let kind = |e: &&Entity| e.get("kind").and_then(Value::as_str) == Some("Component");
    entities
        .iter()
        .filter(|e| !generated(e))
        .find(kind)
        .or_else(|| entities.iter().find(|e| !generated(e)))
        .or_else(|| entities.first())
        .and_then(EntityRef::of_entity)
        .map(|r| r.canonical())
}

pub struct Register;

#[async_trait]
impl Action for Register {
    fn id(&self) -> &'static str {
        "catalog:register"
    }
    fn description(&self) -> &'static str {
        "Registers entities from a catalog descriptor file in the workspace into the software catalog."
    }
    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "oneOf": [
                {"required": ["catalogInfoUrl"]},
                {"required": ["repoContentsUrl"]}
            ],
            "properties": {
                "catalogInfoUrl": {"type": "string", "description": "An absolute URL pointing to the catalog info file location"},
                "repoContentsUrl": {"type": "string", "description": "An absolute URL pointing to the root of a repository directory tree"},
                "catalogInfoPath": {"type": "string", "description": "A relative path from the repo root pointing to the catalog info file, defaults to /catalog-info.yaml"},
                "optional": {"type": "boolean", "description": "Permit the registered location to optionally exist. Default: false"}
            }
        })
    }
    fn output_schema(&self) -> Option<Value> {
        Some(object_schema(
            json!({
                "entityRef": {"type": "string", "examples": ["component:default/example"]},
                "catalogInfoUrl": {"type": "string"}
            }),
            &[],
        ))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let url = match (
            ctx.str_input("catalogInfoUrl"),
            ctx.str_input("repoContentsUrl"),
        ) {
            (Some(url), _) => url.to_string(),
            (None, Some(base)) => catalog_info_url(
                base,
                ctx.str_input("catalogInfoPath")
                    .unwrap_or("/catalog-info.yaml"),
            ),
            (None, None) => {
                return Err(ActionError::new(
                    "Missing repoContentsUrl or catalogInfoUrl in the input",
                ))
            }
        };
        let optional = ctx.bool_input("optional").unwrap_or(false);
        ctx.output("catalogInfoUrl", json!(url));
        let Some(catalog) = ctx.services.catalog.clone().filter(|_| !ctx.dry_run) else {
            ctx.log(format!("Dry run: would register {url} in the catalog"));
            ctx.output("entityRef", json!("component:default/example"));
            return Ok(());
        };
        ctx.log(format!("Registering {url} in the catalog"));
        let spec = LocationSpec {
            kind: "url".into(),
            target: url.clone(),
        };
        // Read and check the descriptor before storing anything, so a file
        // that cannot be read or holds invalid entities leaves no location.
        let entities = match catalog.pipeline.dry_run_location(&spec).await {
            Ok(entities) => entities,
            Err(errors) => {
                let message = errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                if optional {
                    ctx.log(format!("Not registering {url} (optional): {message}"));
                    return Ok(());
                }
                return Err(ActionError::new(format!(
                    "Cannot register {url}: {message}"
                )));
            }
        };
        match catalog
            .store
            .find_location(&spec.kind, &spec.target)
            .await
            .map_err(|e| ActionError::new(e.to_string()))?
        {
            Some(existing) => {
                ctx.log(format!(
                    "{url} is already registered (location {}); refreshing it",
                    existing.id
                ));
                if let Some(r) = existing.entity_ref {
                    let _ = catalog.store.schedule_refresh(&r, false).await;
                }
            }
            None => {
                catalog
                    .store
                    .add_location(&spec, generated_location_entity(&spec))
                    .await
                    .map_err(|e| ActionError::new(format!("Cannot register {url}: {e}")))?;
            }
        }
        if let Some(entity_ref) = main_entity_ref(&entities) {
            ctx.log(format!("Registered {entity_ref}"));
            ctx.output("entityRef", json!(entity_ref));
        }
        Ok(())
    }
}

pub struct Fetch;

#[async_trait]
impl Action for Fetch {
    fn id(&self) -> &'static str {
        "catalog:fetch"
    }
    fn description(&self) -> &'static str {
        "Returns entity or entities from the catalog by entity reference(s)"
    }
    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "entityRef": {"type": "string"},
                "entityRefs": {"type": "array", "items": {"type": "string"}},
                "optional": {"type": "boolean"},
                "defaultKind": {"type": "string"},
                "defaultNamespace": {"type": "string"}
            }
        })
    }
    fn output_schema(&self) -> Option<Value> {
        Some(object_schema(
            json!({
                "entity": {"type": "object", "examples": [{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                    "metadata": {"name": "example", "namespace": "default"},
                    "spec": {"type": "service", "lifecycle": "experimental", "owner": "group:default/example-team"}}]},
                "entities": {"type": "array"}
            }),
            &[],
        ))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let optional = ctx.bool_input("optional").unwrap_or(false);
        let default_kind = ctx.str_input("defaultKind").map(str::to_string);
        let default_ns = ctx
            .str_input("defaultNamespace")
            .unwrap_or("default")
            .to_string();
        let single = ctx.str_input("entityRef").map(str::to_string);
        let many: Vec<String> = ctx.input["entityRefs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if single.is_none() && many.is_empty() {
            return Err(ActionError::new("Missing entity reference or references"));
        }
        let Some(catalog) = ctx.services.catalog.clone() else {
            ctx.log("No catalog here: catalog:fetch returns an example entity");
            let example =
                self.output_schema().unwrap()["properties"]["entity"]["examples"][0].clone();
            ctx.output("entity", example.clone());
            ctx.output(
                "entities",
                json!(many.iter().map(|_| example.clone()).collect::<Vec<_>>()),
            );
            return Ok(());
        };
        let mut found = Vec::new();
        for reference in single.iter().chain(many.iter()) {
            let parsed = EntityRef::parse(reference, default_kind.as_deref(), &default_ns)
                .map_err(|e| {
                    ActionError::new(format!("Invalid entity reference '{reference}': {e}"))
                })?;
            let entity = catalog
                .store
                .entity_by_ref(&parsed.canonical())
                .await
                .map_err(|e| ActionError::new(e.to_string()))?;
            match entity {
                Some(e) => found.push(Value::Object(e)),
                None if optional => found.push(Value::Null),
                None => {
                    return Err(ActionError::new(format!(
                        "Entity {} not found",
                        parsed.canonical()
                    )))
                }
            }
        }
        if single.is_some() {
            ctx.output("entity", found.remove(0));
        }
        if !many.is_empty() {
            ctx.output("entities", Value::Array(found));
        }
        Ok(())
    }
}
