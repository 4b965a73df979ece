//! One entity through the processing stages (reference 3.1), in memory:
//! envelope check → location annotations and placeholders → validation and
//! policies → reading a Location's targets → relations → catalog rules for
//! the children. Any error fails the whole result, as in Backstage: the
//! entity keeps its previous processed state and the errors are attached.

use futures::StreamExt;
use greenroom_model::relations::Relation;
use greenroom_model::{annotations, Entity, EntityRef};
use greenroom_store::{DeferredEntity, LocationSpec, ProcessingError};
use serde_json::Value;

use super::locations::{
    annotate_child, annotation, apply_location_defaults, location_ref, parse_location_ref,
};
use super::placeholders::substitute;
use super::rules::CatalogRules;
use super::sources::ReadSource;
use super::Pipeline;
use crate::catalog::readers::ReadError;

/// What processing one entity produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub processed: Option<Entity>,
    pub relations: Vec<Relation>,
    pub children: Vec<DeferredEntity>,
    pub errors: Vec<ProcessingError>,
    pub refresh_keys: Vec<String>,
}

impl Outcome {
    fn failed(errors: Vec<ProcessingError>) -> Self {
        Self {
            errors,
            ..Default::default()
        }
    }
}

pub(crate) fn error(name: &str, message: impl Into<String>) -> ProcessingError {
    ProcessingError {
        name: name.to_string(),
        message: message.into(),
    }
}

/// The minimal shape every later stage relies on (Backstage's envelope schema).
fn check_envelope(entity: &Entity) -> Result<(), ProcessingError> {
    let fail = |detail: &str| {
        error(
            "InputError",
            format!("Entity envelope failed validation before processing; caused by TypeError: {detail}"),
        )
    };
    for field in ["apiVersion", "kind"] {
        match entity.get(field) {
            None => {
                return Err(fail(&format!(
                    "<root> must have required property '{field}'"
                )))
            }
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(fail(&format!("/{field} must be a non-empty string"))),
        }
    }
    match entity.get("metadata") {
        None => Err(fail("<root> must have required property 'metadata'")),
        Some(Value::Object(meta)) => match meta.get("name") {
            None => Err(fail("/metadata must have required property 'name'")),
            Some(Value::String(s)) if !s.is_empty() => Ok(()),
            Some(_) => Err(fail("/metadata/name must be a non-empty string")),
        },
        Some(_) => Err(fail("/metadata must be object")),
    }
}

/// The entity's own location and its origin, from the annotations.
fn entity_locations(
    entity: &Entity,
    entity_ref: &str,
) -> Result<(LocationSpec, LocationSpec), ProcessingError> {
    let read = |key: &str, what: &str| {
        let value = annotation(entity, key).ok_or_else(|| {
            error(
                "InputError",
                format!("Entity '{entity_ref}' does not have {what}, annotation {key}"),
            )
        })?;
        parse_location_ref(value).map_err(|e| error("InputError", e))
    };
    Ok((
        read(annotations::MANAGED_BY_LOCATION, "a location")?,
        read(
            annotations::MANAGED_BY_ORIGIN_LOCATION,
            "an origin location",
        )?,
    ))
}

/// A Location entity's targets: `spec.target` then `spec.targets[]`.
fn location_targets(entity: &Entity) -> Result<Vec<String>, ProcessingError> {
    let spec = entity.get("spec").and_then(Value::as_object);
    let mut targets = Vec::new();
    if let Some(target) = spec.and_then(|s| s.get("target")) {
        match target.as_str() {
            Some(t) => targets.push(t.to_string()),
            None => return Err(error("InputError", "Location spec.target must be a string")),
        }
    }
    if let Some(list) = spec.and_then(|s| s.get("targets")) {
        let items = list.as_array().ok_or_else(|| {
            error(
                "InputError",
                "Location spec.targets must be an array of strings",
            )
        })?;
        for item in items {
            let t = item.as_str().ok_or_else(|| {
                error(
                    "InputError",
                    "Location spec.targets must be an array of strings",
                )
            })?;
            targets.push(t.to_string());
        }
    }
    Ok(targets)
}

impl Pipeline {
    /// Runs every stage for one entity. Never panics on bad input: every
    /// problem becomes a [`ProcessingError`].
    pub(crate) async fn run_stages(&self, unprocessed: &Entity) -> Outcome {
        let mut errors = Vec::new();
        let mut entity = unprocessed.clone();
        if let Err(e) = check_envelope(&entity) {
            return Outcome::failed(vec![e]);
        }
        let Some(original_ref) = EntityRef::of_entity(&entity).map(|r| r.canonical()) else {
            return Outcome::failed(vec![error(
                "InputError",
                "Entity has no kind or metadata.name",
            )]);
        };
        let (location, origin) = match entity_locations(&entity, &original_ref) {
            Ok(pair) => pair,
            Err(e) => return Outcome::failed(vec![e]),
        };

        // Pre-processing: location annotations as defaults, then placeholders.
        apply_location_defaults(
            &mut entity,
            &location,
            &origin,
            self.sources.scm_kind(&location.target),
        );
        if let Err(e) = substitute(&mut entity, &location, &self.sources).await {
            return Outcome::failed(vec![e]);
        }

        // Policies and validation (default namespace, field formats, kind schema).
        let mut entity = match greenroom_model::validation::validate_entity(&Value::Object(entity))
        {
            Ok(valid) => valid,
            Err(validation_errors) => {
                return Outcome::failed(
                    validation_errors
                        .into_iter()
                        .map(|e| error(&e.name, e.message))
                        .collect(),
                )
            }
        };
        if EntityRef::of_entity(&entity)
            .map(|r| r.canonical())
            .as_deref()
            != Some(original_ref.as_str())
        {
            return Outcome::failed(vec![error(
                "ConflictError",
                "Fatal: The entity kind, namespace, or name changed during processing",
            )]);
        }

        let mut children = Vec::new();
        let mut refresh_keys = Vec::new();
        let is_location = entity
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case("location"));
        if is_location {
            if let Err(e) = self
                .read_location_entity(
                    &entity,
                    &original_ref,
                    &location,
                    &origin,
                    &mut children,
                    &mut refresh_keys,
                    &mut errors,
                )
                .await
            {
                errors.push(e);
                return Outcome::failed(errors);
            }
        }

        let relations = match greenroom_model::relations::emit_relations(&entity) {
            Ok(relations) => relations,
            Err(relation_errors) => {
                errors.extend(relation_errors.into_iter().map(|e| {
                    error(
                        "InputError",
                        format!(
                            "Processor BuiltinKindsEntityProcessor threw an error while postprocessing; caused by {}: {}",
                            e.name, e.message
                        ),
                    )
                }));
                return Outcome::failed(errors);
            }
        };

        if !errors.is_empty() {
            return Outcome::failed(errors);
        }
        // The stored processed entity never carries read-only fields.
        entity.remove("relations");
        entity.remove("status");
        Outcome {
            processed: Some(entity),
            relations,
            children,
            errors,
            refresh_keys,
        }
    }

    /// Reads every target of a Location entity into child entities. Per-target
    /// problems are collected into `errors`; an unreadable location type is fatal.
    #[allow(clippy::too_many_arguments)]
    async fn read_location_entity(
        &self,
        entity: &Entity,
        own_ref: &str,
        location: &LocationSpec,
        origin: &LocationSpec,
        children: &mut Vec<DeferredEntity>,
        refresh_keys: &mut Vec<String>,
        errors: &mut Vec<ProcessingError>,
    ) -> Result<(), ProcessingError> {
        let spec = entity.get("spec").and_then(Value::as_object);
        let kind = spec
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or(&location.kind)
            .to_string();
        let optional =
            spec.and_then(|s| s.get("presence")).and_then(Value::as_str) == Some("optional");
        let mut specs = Vec::new();
        for raw_target in location_targets(entity)? {
            if kind == "file"
                && (raw_target.ends_with('/') || raw_target.ends_with(std::path::MAIN_SEPARATOR))
            {
                errors.push(error(
                    "InputError",
                    format!(
                        "LocationEntityProcessor cannot handle {kind} type location with target {} that ends with a path separator",
                        location.target
                    ),
                ));
                continue;
            }
            if kind != "url" && kind != "file" {
                return Err(error(
                    "InputError",
                    format!("No processor was able to handle reading of {kind}:{raw_target}"),
                ));
            }
            let target = self
                .sources
                .resolve_target(location, &kind, &raw_target)
                .map_err(|e| error("InputError", e))?;
            if kind == "url" {
                refresh_keys.push(format!("url:{target}"));
            }
            specs.push(LocationSpec {
                kind: kind.clone(),
                target,
            });
        }
        // Two targets at a time: parsing a large YAML file is CPU work that
        // runs on a blocking thread, so a location with many targets uses
        // both cores, while only two targets' documents are in memory at once.
        // `buffered` keeps the targets' order (the first of duplicate refs wins).
        let children_of = SourceContext {
            own_ref: own_ref.to_string(),
            origin: origin.clone(),
            origin_ref: location_ref(origin),
            rules: self.rules.clone(),
        };
        let mut reads = futures::stream::iter(specs)
            .map(|spec| self.read_target(spec, optional, &children_of))
            .buffered(2);
        while let Some(read) = reads.next().await {
            let (found, problems) = read?;
            children.extend(found);
            errors.extend(problems);
        }
        Ok(())
    }

    /// Reads one target of a Location into child entities and per-target errors.
    async fn read_target(
        &self,
        spec: LocationSpec,
        optional: bool,
        context: &SourceContext,
    ) -> Result<(Vec<DeferredEntity>, Vec<ProcessingError>), ProcessingError> {
        let sources = match self.sources.read_location(&spec).await {
            Ok(sources) => sources,
            Err(ReadError::NotFound(_)) if optional => return Ok((Vec::new(), Vec::new())),
            Err(e) => {
                let message = match (&e, spec.kind.as_str()) {
                    (ReadError::NotFound(m), "file") => m.clone(),
                    _ => format!("Unable to read {}, {}: {e}", spec.kind, e.name()),
                };
                return Ok((Vec::new(), vec![error(e.name(), message)]));
            }
        };
        let mut children = Vec::new();
        let mut errors = Vec::new();
        for source in sources {
            let context = context.clone();
            let (found, problems) =
                tokio::task::spawn_blocking(move || context.children_of(&source))
                    .await
                    .map_err(|e| error("Error", format!("Reading a location failed: {e}")))??;
            children.extend(found);
            errors.extend(problems);
        }
        Ok((children, errors))
    }
}

/// What turning a read file into child entities needs (owned, so it can run
/// on a blocking thread).
#[derive(Clone)]
struct SourceContext {
    own_ref: String,
    origin: LocationSpec,
    origin_ref: String,
    rules: CatalogRules,
}

impl SourceContext {
    /// Parses a read file into annotated child entities and per-document
    /// errors; a child that the catalog rules refuse fails the whole location.
    fn children_of(
        &self,
        source: &ReadSource,
    ) -> Result<(Vec<DeferredEntity>, Vec<ProcessingError>), ProcessingError> {
        let own_ref = self.own_ref.as_str();
        let origin_ref = self.origin_ref.as_str();
        let mut children = Vec::new();
        let mut errors = Vec::new();
        let read_from = location_ref(&source.location);
        let documents = match greenroom_model::yaml::parse_documents(&source.text) {
            Ok(documents) => documents,
            // The parser reports a non-object root in Backstage's own words.
            Err(e) if e.starts_with("Expected object at root") => {
                return Ok((children, vec![error("InputError", e)]));
            }
            Err(e) => {
                let message = format!("YAML error at {read_from}, {e}");
                return Ok((children, vec![error("InputError", message)]));
            }
        };
        // The parser yields only plain-object documents (null ones are skipped).
        for document in documents {
            let Value::Object(mut child) = document.value else {
                continue;
            };
            if let Err(e) = check_envelope(&child) {
                errors.push(error(&e.name, format!("{} at {read_from}", e.message)));
                continue;
            }
            let child_ref = EntityRef::of_entity(&child).map(|r| r.canonical());
            if child_ref.as_deref() == Some(own_ref) {
                tracing::warn!(
                    entity = own_ref,
                    "Entity {own_ref} emitted itself from {read_from}; ignored"
                );
                continue;
            }
            annotate_child(&mut child, &read_from, origin_ref);
            // Children must be allowed for the origin location (catalog.rules).
            if !self.rules.is_allowed(&child, &self.origin) {
                return Err(error(
                    "NotAllowedError",
                    greenroom_model::rules::not_allowed_message(
                        child_ref.as_deref().unwrap_or_default(),
                        &read_from,
                        Some(origin_ref),
                    ),
                ));
            }
            let child = DeferredEntity::new(&child, Some(read_from.clone()))
                .map_err(|e| error("InputError", format!("{e} at {read_from}")))?;
            children.push(child);
        }
        Ok((children, errors))
    }
}
