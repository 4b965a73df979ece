//! Catalog actions: `/refresh`, `/validate-entity`, `/analyze-location`
//! (reference 2.1 and 2.6).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use greenroom_model::EntityRef;
use greenroom_store::{LocationSpec, ProcessingError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{LenientJson, StrictJson};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::{
    authorize, authorize_entity, CATALOG_ENTITY_REFRESH, CATALOG_ENTITY_VALIDATE,
    CATALOG_LOCATION_ANALYZE,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    pub entity_ref: String,
    /// Accepted for compatibility; credentials come from the request.
    pub authorization_token: Option<String>,
}

#[utoipa::path(
    post, path = "/refresh", tag = "entities",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The entity and its location ancestors are scheduled for processing"),
        (status = 400, description = "Malformed body or entity ref", body = super::ErrorBody),
        (status = 404, description = "`No such entity <ref>`", body = super::ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
    LenientJson(body): LenientJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let entity_ref = EntityRef::parse(
        &body.entity_ref,
        None,
        greenroom_model::entity_ref::DEFAULT_NAMESPACE,
    )
    .map_err(|e| ApiError::input(e.to_string()))?
    .canonical();
    if let Some(entity) = state.store.entity_by_ref(&entity_ref).await? {
        authorize_entity(&state, &caller, &CATALOG_ENTITY_REFRESH, &entity)?;
    }
    if state.store.schedule_refresh(&entity_ref, true).await? {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::not_found(format!("No such entity {entity_ref}")))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ValidateEntityRequest {
    #[schema(value_type = Object)]
    pub entity: Value,
    /// A `url:<target>` location ref the entity is validated as coming from.
    pub location: String,
}

/// The 400 body of `/validate-entity`: serialized errors, not the error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrors {
    pub errors: Vec<SerializedError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SerializedError {
    pub name: String,
    pub message: String,
}

impl From<ProcessingError> for SerializedError {
    fn from(e: ProcessingError) -> Self {
        Self {
            name: e.name,
            message: e.message,
        }
    }
}

fn validation_failure(errors: Vec<SerializedError>) -> Response {
    (StatusCode::BAD_REQUEST, Json(ValidationErrors { errors })).into_response()
}

#[utoipa::path(
    post, path = "/validate-entity", tag = "entities",
    request_body = ValidateEntityRequest,
    responses(
        (status = 200, description = "The entity passes the processing pipeline"),
        (status = 400, description = "Every problem found", body = ValidationErrors),
    )
)]
pub async fn validate_entity(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<StrictJson<ValidateEntityRequest>, ApiError>,
) -> Result<Response, ApiError> {
    authorize(&state, &caller, &CATALOG_ENTITY_VALIDATE)?;
    // Like Backstage, even a malformed body is answered with the `errors` shape.
    let body = match body {
        Ok(StrictJson(body)) => body,
        Err(ApiError::PayloadTooLarge(m)) => return Err(ApiError::PayloadTooLarge(m)),
        Err(e) => {
            return Ok(validation_failure(vec![SerializedError {
                name: e.name().into(),
                message: e.to_string(),
            }]))
        }
    };
    // The pipeline checks the location ref (`url:<target>` only) and the entity.
    match state
        .pipeline
        .validate_entity(body.entity, &body.location)
        .await
    {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(errors) => Ok(validation_failure(
            errors.into_iter().map(Into::into).collect(),
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeLocationRequest {
    pub location: AnalyzeLocationTarget,
    pub catalog_filename: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnalyzeLocationTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
}

#[utoipa::path(
    post, path = "/analyze-location", tag = "locations",
    request_body = AnalyzeLocationRequest,
    responses(
        (status = 200, description = "`{existingEntityFiles, generateEntities}`", body = Object),
        (status = 400, description = "`The given location.target is not a URL` or malformed body", body = super::ErrorBody),
    )
)]
pub async fn analyze_location(
    State(state): State<AppState>,
    caller: Caller,
    StrictJson(body): StrictJson<AnalyzeLocationRequest>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &caller, &CATALOG_LOCATION_ANALYZE)?;
    let spec = LocationSpec {
        kind: body.location.kind,
        target: body.location.target,
    };
    let mut analysis = state
        .pipeline
        .analyze_location(&spec, body.catalog_filename)
        .await
        .map_err(processing_error)?;
    mark_registered_files(&state, &mut analysis).await?;
    Ok(Json(analysis))
}

/// Sets `isRegistered` of each `existingEntityFiles` item from the store.
async fn mark_registered_files(state: &AppState, analysis: &mut Value) -> Result<(), ApiError> {
    let Some(files) = analysis
        .get_mut("existingEntityFiles")
        .and_then(Value::as_array_mut)
    else {
        return Ok(());
    };
    for file in files {
        let location = file.get("location");
        let kind = location.and_then(|l| l.get("type")).and_then(Value::as_str);
        let target = location
            .and_then(|l| l.get("target"))
            .and_then(Value::as_str);
        let registered = match (kind, target) {
            (Some(kind), Some(target)) => state.store.find_location(kind, target).await?.is_some(),
            _ => false,
        };
        if let Some(obj) = file.as_object_mut() {
            obj.insert("isRegistered".into(), Value::Bool(registered));
        }
    }
    Ok(())
}

/// A processing failure as an API error, by its Backstage error name.
fn processing_error(e: ProcessingError) -> ApiError {
    match e.name.as_str() {
        "InputError" | "TypeError" => ApiError::Input(e.message),
        "NotFoundError" => ApiError::NotFound(e.message),
        "NotAllowedError" => ApiError::NotAllowed(e.message),
        "ConflictError" => ApiError::Conflict(e.message),
        _ => ApiError::Internal(format!("{}: {}", e.name, e.message)),
    }
}
