//! `/locations` routes: register (and dry-run), list, query, read, update,
//! delete, and look up by entity (reference 2.1 and 2.6).

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use greenroom_model::filter::EntityFilter;
use greenroom_model::{annotations, Entity, EntityRef};
use greenroom_store::{Location, LocationSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::common;
use super::extract::{LenientJson, QueryParams, StrictJson};
use crate::auth::Caller;
use crate::catalog::processing::generated_location_entity;
use crate::error::ApiError;
use crate::permissions::{
    authorize, CATALOG_LOCATION_CREATE, CATALOG_LOCATION_DELETE, CATALOG_LOCATION_READ,
};
use crate::state::AppState;

/// Location types that may be registered through the API (Backstage's default).
pub const ALLOWED_LOCATION_TYPES: &[&str] = &["url"];

const READONLY_MESSAGE: &str = "This operation not allowed in readonly mode";

/// A location on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationBody {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    /// Ref of the generated `Location` entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_ref: Option<String>,
}

impl From<Location> for LocationBody {
    fn from(l: Location) -> Self {
        Self {
            id: l.id,
            kind: l.kind,
            target: l.target,
            entity_ref: l.entity_ref,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Optional,
    Required,
}

/// Body of POST `/locations` (strict: only these keys).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    pub presence: Option<Presence>,
}

/// Body of PUT `/locations/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationUpdate {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateLocationResponse {
    /// Dry runs only: whether the location is already registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    pub location: LocationBody,
    /// Dry runs: every entity the location would produce, the generated
    /// `Location` entity first. Empty otherwise.
    #[schema(value_type = Vec<Object>)]
    pub entities: Vec<Entity>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationListItem {
    pub data: LocationBody,
}

fn disallow_readonly(state: &AppState) -> Result<(), ApiError> {
    if state.config.catalog.readonly {
        Err(ApiError::not_allowed(READONLY_MESSAGE))
    } else {
        Ok(())
    }
}

fn check_allowed_type(kind: &str) -> Result<(), ApiError> {
    if ALLOWED_LOCATION_TYPES.contains(&kind) {
        Ok(())
    } else {
        let quoted: Vec<String> = ALLOWED_LOCATION_TYPES
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect();
        Err(ApiError::input(format!(
            "Registered locations must be of an allowed type [{}]",
            quoted.join(",")
        )))
    }
}

/// Backstage's `yn`: yes/true/1/y/on are true, everything else false.
fn yes_no(raw: Option<&str>) -> bool {
    raw.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "y" | "yes" | "true" | "1" | "on"
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnConflict {
    Reject,
    Refresh,
}

fn on_conflict(state: &AppState, query: &QueryParams) -> Result<OnConflict, ApiError> {
    let parse = |raw: &str, origin: &str| match raw {
        "reject" => Ok(OnConflict::Reject),
        "refresh" => Ok(OnConflict::Refresh),
        other => Err(ApiError::input(format!(
            "Invalid {origin} \"{other}\", expected \"reject\" or \"refresh\""
        ))),
    };
    match query.first("onConflict") {
        Some(raw) => parse(raw, "onConflict parameter"),
        None => Ok(
            match state.config.catalog.default_location_conflict_strategy {
                Some(crate::config::LocationConflictStrategy::Refresh) => OnConflict::Refresh,
                Some(crate::config::LocationConflictStrategy::Reject) | None => OnConflict::Reject,
            },
        ),
    }
}

fn entity_ref_of(entity: &Entity) -> Option<String> {
    EntityRef::of_entity(entity).map(|r| r.canonical())
}

#[utoipa::path(
    post, path = "/locations", tag = "locations",
    params(
        ("dryRun" = Option<String>, Query, description = "yes/no/true/false/1/0: process the target without storing anything"),
        ("onConflict" = Option<String>, Query, description = "`reject` (409 on duplicates, default) or `refresh` (return the existing location and refresh it)"),
    ),
    request_body = LocationInput,
    responses(
        (status = 201, description = "Registered (or, for a dry run, what would be registered)", body = CreateLocationResponse),
        (status = 400, description = "Invalid body, disallowed type or processing errors (dry run)", body = super::ErrorBody),
        (status = 403, description = "Readonly mode or not permitted", body = super::ErrorBody),
        (status = 409, description = "`Location <type>:<target> already exists`", body = super::ErrorBody),
    )
)]
pub async fn create_location(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
    StrictJson(input): StrictJson<LocationInput>,
) -> Result<Response, ApiError> {
    let dry_run = yes_no(query.first("dryRun"));
    if !dry_run {
        disallow_readonly(&state)?;
    }
    authorize(&state, &caller, &CATALOG_LOCATION_CREATE)?;
    let conflict = on_conflict(&state, &query)?;
    check_allowed_type(&input.kind)?;
    let spec = LocationSpec {
        kind: input.kind,
        target: input.target,
    };
    let generated = generated_location_entity(&spec);
    let body = if dry_run {
        dry_run_location(&state, &spec, entity_ref_of(&generated)).await?
    } else {
        match state.store.find_location(&spec.kind, &spec.target).await? {
            Some(existing) if conflict == OnConflict::Refresh => {
                if let Some(entity_ref) = existing
                    .entity_ref
                    .clone()
                    .or_else(|| entity_ref_of(&generated))
                {
                    state.store.schedule_refresh(&entity_ref, false).await?;
                }
                CreateLocationResponse {
                    exists: None,
                    location: existing.into(),
                    entities: vec![],
                }
            }
            Some(_) => {
                return Err(ApiError::conflict(format!(
                    "Location {}:{} already exists",
                    spec.kind, spec.target
                )))
            }
            None => {
                // Backstage stores such a location and only its Location
                // entity shows the read error; refusing it up front keeps a
                // location that can never be read out of the catalog.
                state
                    .pipeline
                    .check_readable(&spec)
                    .map_err(ApiError::input)?;
                let location = state.store.add_location(&spec, generated).await?;
                CreateLocationResponse {
                    exists: None,
                    location: location.into(),
                    entities: vec![],
                }
            }
        }
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn dry_run_location(
    state: &AppState,
    spec: &LocationSpec,
    entity_ref: Option<String>,
) -> Result<CreateLocationResponse, ApiError> {
    let exists = state
        .store
        .find_location(&spec.kind, &spec.target)
        .await?
        .is_some();
    let entities = state
        .pipeline
        .dry_run_location(spec)
        .await
        .map_err(|errors| {
            ApiError::input(
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?;
    let mut seen = HashSet::new();
    for entity in &entities {
        if let Some(r) = entity_ref_of(entity) {
            if !seen.insert(r.clone()) {
                return Err(ApiError::input(format!("Duplicate nested entity: {r}")));
            }
        }
    }
    let location = LocationBody {
        id: format!("{}:{}", spec.kind, spec.target),
        kind: spec.kind.clone(),
        target: spec.target.clone(),
        entity_ref,
    };
    Ok(CreateLocationResponse {
        exists: Some(exists),
        location,
        entities,
    })
}

#[utoipa::path(
    get, path = "/locations", tag = "locations",
    responses((status = 200, description = "Every registered location", body = Vec<LocationListItem>))
)]
pub async fn list_locations(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<LocationListItem>>, ApiError> {
    authorize(&state, &caller, &CATALOG_LOCATION_READ)?;
    let locations = state.store.list_locations().await?;
    Ok(Json(
        locations
            .into_iter()
            .map(|l| LocationListItem { data: l.into() })
            .collect(),
    ))
}

pub const DEFAULT_LOCATIONS_LIMIT: u64 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LocationsQueryBody {
    /// Page size, at least 1 (default 1000).
    pub limit: Option<u64>,
    /// A predicate over `id`, `type` and `target`.
    #[schema(value_type = Option<Object>)]
    pub query: Option<Value>,
    pub cursor: Option<String>,
}

/// Opaque cursor of POST /locations/by-query.
#[derive(Debug, Serialize, Deserialize)]
struct LocationsCursor {
    offset: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationsQueryResponse {
    pub items: Vec<LocationBody>,
    pub total_items: u64,
    pub page_info: LocationsPageInfo,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationsPageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Evaluates a parsed predicate against a location's fields (case-insensitive).
fn location_matches(filter: &EntityFilter, location: &Location) -> bool {
    let field = |key: &str| -> Option<String> {
        match key {
            "id" => Some(location.id.to_lowercase()),
            "type" => Some(location.kind.to_lowercase()),
            "target" => Some(location.target.to_lowercase()),
            "entityref" => location.entity_ref.as_ref().map(|r| r.to_lowercase()),
            _ => None,
        }
    };
    match filter {
        EntityFilter::All(children) => children.iter().all(|c| location_matches(c, location)),
        EntityFilter::Any(children) => children.iter().any(|c| location_matches(c, location)),
        EntityFilter::Not(inner) => !location_matches(inner, location),
        EntityFilter::Key { key, values } => match (field(key), values) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some(values)) => values.contains(&v),
        },
        EntityFilter::HasPrefix { key, prefix } => {
            field(key).is_some_and(|v| v.starts_with(prefix.as_str()))
        }
    }
}

#[utoipa::path(
    post, path = "/locations/by-query", tag = "locations",
    request_body = LocationsQueryBody,
    responses(
        (status = 200, description = "A page of locations", body = LocationsQueryResponse),
        (status = 400, description = "Malformed body, predicate or cursor", body = super::ErrorBody),
    )
)]
pub async fn query_locations(
    State(state): State<AppState>,
    caller: Caller,
    LenientJson(body): LenientJson<LocationsQueryBody>,
) -> Result<Json<LocationsQueryResponse>, ApiError> {
    authorize(&state, &caller, &CATALOG_LOCATION_READ)?;
    let limit = body.limit.unwrap_or(DEFAULT_LOCATIONS_LIMIT);
    if limit < 1 {
        return Err(ApiError::input(
            "Malformed request body, limit must be at least 1",
        ));
    }
    let (offset, query) = match body.cursor {
        Some(raw) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw.trim())
                .map_err(|e| ApiError::input(format!("Malformed cursor: {e}")))?;
            let cursor: LocationsCursor = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::input(format!("Malformed cursor: {e}")))?;
            (cursor.offset, cursor.query)
        }
        None => (0, body.query),
    };
    let filter = query.as_ref().map(common::predicate).transpose()?;
    let mut matching: Vec<Location> = state
        .store
        .list_locations()
        .await?
        .into_iter()
        .filter(|l| filter.as_ref().is_none_or(|f| location_matches(f, l)))
        .collect();
    // A stable order so that offsets in cursors stay meaningful.
    matching.sort_by(|a, b| a.id.cmp(&b.id));
    let total_items = matching.len() as u64;
    let end = offset.saturating_add(limit);
    let items: Vec<LocationBody> = matching
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(Into::into)
        .collect();
    let next_cursor = (end < total_items).then(|| {
        let cursor = LocationsCursor { offset: end, query };
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&cursor).expect("cursor serializes"))
    });
    Ok(Json(LocationsQueryResponse {
        items,
        total_items,
        page_info: LocationsPageInfo { next_cursor },
    }))
}

async fn location_or_404(state: &AppState, id: &str) -> Result<Location, ApiError> {
    state
        .store
        .get_location(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Found no location with ID {id}")))
}

#[utoipa::path(
    get, path = "/locations/{id}", tag = "locations",
    params(("id" = String, Path, description = "Location id")),
    responses(
        (status = 200, description = "The location", body = LocationBody),
        (status = 404, description = "`Found no location with ID <id>`", body = super::ErrorBody),
    )
)]
pub async fn get_location(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LocationBody>, ApiError> {
    authorize(&state, &caller, &CATALOG_LOCATION_READ)?;
    Ok(Json(location_or_404(&state, &id).await?.into()))
}

#[utoipa::path(
    put, path = "/locations/{id}", tag = "locations",
    params(("id" = String, Path, description = "Location id")),
    request_body = LocationUpdate,
    responses(
        (status = 200, description = "The updated location (same id); its entities are re-read from the new target", body = LocationBody),
        (status = 403, description = "Readonly mode or not permitted", body = super::ErrorBody),
        (status = 404, description = "`Found no location with ID <id>`", body = super::ErrorBody),
        (status = 409, description = "Another location already has this type and target", body = super::ErrorBody),
    )
)]
pub async fn update_location(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StrictJson(update): StrictJson<LocationUpdate>,
) -> Result<Json<LocationBody>, ApiError> {
    disallow_readonly(&state)?;
    authorize(&state, &caller, &CATALOG_LOCATION_CREATE)?;
    let existing = location_or_404(&state, &id).await?;
    check_allowed_type(&update.kind)?;
    if existing.kind == update.kind && existing.target == update.target {
        return Ok(Json(existing.into()));
    }
    let spec = LocationSpec {
        kind: update.kind,
        target: update.target,
    };
    let location = state
        .store
        .update_location(&id, &spec, generated_location_entity(&spec))
        .await?;
    Ok(Json(location.into()))
}

#[utoipa::path(
    delete, path = "/locations/{id}", tag = "locations",
    params(("id" = String, Path, description = "Location id")),
    responses(
        (status = 204, description = "Deleted, with every entity only reachable through it"),
        (status = 403, description = "Readonly mode or not permitted", body = super::ErrorBody),
        (status = 404, description = "`Found no location with ID <id>`", body = super::ErrorBody),
    )
)]
pub async fn delete_location(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    disallow_readonly(&state)?;
    authorize(&state, &caller, &CATALOG_LOCATION_DELETE)?;
    location_or_404(&state, &id).await?;
    state.store.delete_location(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/locations/by-entity/{kind}/{namespace}/{name}", tag = "locations",
    params(
        ("kind" = String, Path, description = "Entity kind"),
        ("namespace" = String, Path, description = "Entity namespace"),
        ("name" = String, Path, description = "Entity name"),
    ),
    responses(
        (status = 200, description = "The registered location named by the entity's origin-location annotation", body = LocationBody),
        (status = 404, description = "No such entity, annotation or location", body = super::ErrorBody),
    )
)]
pub async fn location_by_entity(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<LocationBody>, ApiError> {
    authorize(&state, &caller, &CATALOG_LOCATION_READ)?;
    let entity_ref = common::path_ref(&kind, &namespace, &name);
    let entity = state
        .store
        .entity_by_ref(&entity_ref)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("found no entity for ref {entity_ref}")))?;
    let origin = entity
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(annotations::MANAGED_BY_ORIGIN_LOCATION))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::not_found(format!("found no origin annotation for ref {entity_ref}"))
        })?;
    let (kind, target) = origin
        .split_once(':')
        .ok_or_else(|| ApiError::input(format!("Invalid location ref '{origin}', missing type")))?;
    let location = state
        .store
        .find_location(kind, target)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Found no location with type {kind} and target {target}"
            ))
        })?;
    Ok(Json(location.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_no_follows_yn() {
        for yes in ["yes", "true", "1", "Y", "TRUE", "on"] {
            assert!(yes_no(Some(yes)), "{yes}");
        }
        for no in ["no", "false", "0", "n", "maybe", ""] {
            assert!(!yes_no(Some(no)), "{no}");
        }
        assert!(!yes_no(None));
    }

    #[test]
    fn only_url_locations_may_be_registered() {
        assert!(check_allowed_type("url").is_ok());
        assert_eq!(
            check_allowed_type("file").unwrap_err().to_string(),
            r#"Registered locations must be of an allowed type ["url"]"#
        );
    }

    #[test]
    fn predicates_match_location_fields() {
        let loc = Location {
            id: "1".into(),
            kind: "url".into(),
            target: "https://x/Y.yaml".into(),
            entity_ref: None,
        };
        let f = |v: Value| common::predicate(&v).unwrap();
        assert!(location_matches(
            &f(serde_json::json!({"type": "URL"})),
            &loc
        ));
        assert!(!location_matches(
            &f(serde_json::json!({"type": "file"})),
            &loc
        ));
        assert!(location_matches(
            &f(serde_json::json!({"target": {"$hasPrefix": "https://x/"}})),
            &loc
        ));
        assert!(location_matches(
            &f(serde_json::json!({"$not": {"id": "2"}})),
            &loc
        ));
    }
}
