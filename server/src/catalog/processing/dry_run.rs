//! Synchronous processing for the API: dry-run location registration and
//! POST /validate-entity. Nothing here writes to the store.

use std::collections::HashSet;

use greenroom_model::{annotations, Entity, EntityRef};
use greenroom_store::{DeferredEntity, LocationSpec, ProcessingError};
use serde_json::Value;

use super::locations::{generated_location_entity, parse_location_ref};
use super::pipeline::error;
use super::Pipeline;

/// Guards against a location tree that keeps growing (each file may emit more
/// locations); far above any real registration.
const MAX_DRY_RUN_ENTITIES: usize = 10_000;

impl Pipeline {
    /// Processes the generated Location entity of `spec` and everything it
    /// yields, recursively and in memory, like Backstage's dry-run
    /// (depth-first, last emitted first). The first failing entity stops the
    /// run with its errors; a ref emitted twice is `Duplicate nested entity: <ref>`.
    pub async fn dry_run_location(
        &self,
        spec: &LocationSpec,
    ) -> Result<Vec<Entity>, Vec<ProcessingError>> {
        let mut pending = vec![generated_location_entity(spec)];
        let mut seen = HashSet::new();
        let mut entities = Vec::new();
        while let Some(entity) = pending.pop() {
            let outcome = self.run_stages(&entity).await;
            let processed = match outcome.processed {
                Some(processed) if outcome.errors.is_empty() => processed,
                _ => return Err(outcome.errors),
            };
            let entity_ref = EntityRef::of_entity(&processed)
                .map(|r| r.canonical())
                .unwrap_or_default();
            if !seen.insert(entity_ref.clone()) {
                return Err(vec![error(
                    "InputError",
                    format!("Duplicate nested entity: {entity_ref}"),
                )]);
            }
            if entities.len() >= MAX_DRY_RUN_ENTITIES {
                return Err(vec![error(
                    "InputError",
                    format!(
                        "Location {}:{} yields more than {MAX_DRY_RUN_ENTITIES} entities",
                        spec.kind, spec.target
                    ),
                )]);
            }
            pending.extend(outcome.children.iter().map(DeferredEntity::entity));
            entities.push(processed);
        }
        Ok(entities)
    }

    /// POST /validate-entity: `location_ref` must be `url:<target>`; the entity
    /// runs through the full pipeline with both location annotations defaulting
    /// to it (the entity's own annotations win).
    pub async fn validate_entity(
        &self,
        entity: Value,
        location_ref: &str,
    ) -> Result<(), Vec<ProcessingError>> {
        let location = parse_location_ref(location_ref).map_err(|e| vec![error("TypeError", e)])?;
        if location.kind != "url" {
            return Err(vec![error(
                "TypeError",
                format!(
                    "Invalid location ref {location_ref}, only 'url:<target>' is supported, e.g. url:https://host/path"
                ),
            )]);
        }
        let Value::Object(mut entity) = entity else {
            return Err(vec![error("InputError", "Entity envelope failed validation before processing; caused by TypeError: <root> must be object")]);
        };
        let metadata = entity
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(metadata) = metadata.as_object_mut() {
            let annotations = metadata
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(annotations) = annotations.as_object_mut() {
                for key in [
                    annotations::MANAGED_BY_LOCATION,
                    annotations::MANAGED_BY_ORIGIN_LOCATION,
                ] {
                    annotations
                        .entry(key)
                        .or_insert_with(|| Value::String(location_ref.to_string()));
                }
            }
        }
        let outcome = self.run_stages(&entity).await;
        if outcome.processed.is_some() && outcome.errors.is_empty() {
            Ok(())
        } else {
            Err(outcome.errors)
        }
    }
}
