//! `/api/catalog` routes (reference section 2). [`router`] builds the plugin
//! router; the application nests it under `/api/catalog`. Every handler names
//! its permission through [`crate::permissions::authorize`] and fails with
//! [`ApiError`], rendered as Backstage's error body by the layer installed here.

pub mod actions;
pub mod by_query;
pub mod common;
pub mod entities;
pub mod extract;
pub mod facets;
pub mod locations;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{middleware, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::error::{error_body_layer, not_found_fallback, ApiError, BODY_LIMIT_BYTES};
use crate::routes::{Access, ApiRouter, RouteInfo};
use crate::state::AppState;

/// The catalog plugin router, to be nested at `/api/catalog`, and its route table.
pub fn router() -> (Router<AppState>, Vec<RouteInfo>) {
    use crate::permissions::*;
    let read = Access::Permission(&CATALOG_ENTITY_READ);
    let location_read = Access::Permission(&CATALOG_LOCATION_READ);
    let location_create = Access::Permission(&CATALOG_LOCATION_CREATE);
    let (router, table) = ApiRouter::new("/api/catalog")
        .get("/entities", entities::list_entities, read)
        .get("/entities/by-query", by_query::get_by_query, read)
        .post("/entities/by-query", by_query::post_by_query, read)
        .get("/entities/by-uid/{uid}", entities::get_by_uid, read)
        .delete(
            "/entities/by-uid/{uid}",
            entities::delete_by_uid,
            Access::Permission(&CATALOG_ENTITY_DELETE),
        )
        .get(
            "/entities/by-name/{kind}/{namespace}/{name}",
            entities::get_by_name,
            read,
        )
        .get(
            "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            entities::get_ancestry,
            read,
        )
        .post("/entities/by-refs", entities::by_refs, read)
        .get("/entity-facets", facets::get_facets, read)
        .post("/entity-facets", facets::post_facets, read)
        .get("/locations", locations::list_locations, location_read)
        .post("/locations", locations::create_location, location_create)
        .post(
            "/locations/by-query",
            locations::query_locations,
            location_read,
        )
        .get("/locations/{id}", locations::get_location, location_read)
        .put(
            "/locations/{id}",
            locations::update_location,
            location_create,
        )
        .delete(
            "/locations/{id}",
            locations::delete_location,
            Access::Permission(&CATALOG_LOCATION_DELETE),
        )
        .get(
            "/locations/by-entity/{kind}/{namespace}/{name}",
            locations::location_by_entity,
            location_read,
        )
        .post(
            "/refresh",
            actions::refresh,
            Access::Permission(&CATALOG_ENTITY_REFRESH),
        )
        .post(
            "/validate-entity",
            actions::validate_entity,
            Access::Permission(&CATALOG_ENTITY_VALIDATE),
        )
        .post(
            "/analyze-location",
            actions::analyze_location,
            Access::Permission(&CATALOG_LOCATION_ANALYZE),
        )
        .get("/openapi.json", openapi_json, Access::Public)
        .into_parts();
    let router = router
        // Express answers unknown paths and methods with 404, not 405.
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(not_found_fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(error_body_layer));
    (router, table)
}

/// Backstage's error body, as documented for every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorBodyError,
    pub request: ErrorBodyRequest,
    pub response: ErrorBodyResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBodyError {
    /// e.g. `InputError`, `NotFoundError`, `ConflictError`.
    pub name: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBodyRequest {
    pub method: String,
    /// Plugin-relative URL (the part after `/api/catalog`).
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBodyResponse {
    pub status_code: u16,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Greenroom catalog API",
        version = "1",
        description = "Backstage-compatible software catalog API, mounted at /api/catalog."
    ),
    servers((url = "/api/catalog")),
    paths(
        entities::list_entities,
        by_query::get_by_query,
        by_query::post_by_query,
        entities::get_by_uid,
        entities::delete_by_uid,
        entities::get_by_name,
        entities::get_ancestry,
        entities::by_refs,
        facets::get_facets,
        facets::post_facets,
        locations::create_location,
        locations::list_locations,
        locations::query_locations,
        locations::get_location,
        locations::update_location,
        locations::delete_location,
        locations::location_by_entity,
        actions::refresh,
        actions::validate_entity,
        actions::analyze_location,
        openapi_json,
    ),
    tags(
        (name = "entities", description = "Entity reads, deletion, refresh and validation"),
        (name = "locations", description = "Registered locations"),
        (name = "meta", description = "This document"),
    )
)]
pub struct CatalogApiDoc;

/// The OpenAPI document of the catalog routes, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    CatalogApiDoc::openapi()
}

#[utoipa::path(
    get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This OpenAPI document", body = Object))
)]
async fn openapi_json() -> Result<impl IntoResponse, ApiError> {
    let json = openapi()
        .to_pretty_json()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/catalog-openapi.json"
    );

    /// The committed document must match the one generated from the handlers.
    /// Run with `GREENROOM_UPDATE_SNAPSHOTS=1` to rewrite it after an API change.
    #[test]
    fn openapi_document_matches_snapshot() {
        let generated = openapi().to_pretty_json().expect("document serializes") + "\n";
        if std::env::var("GREENROOM_UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
            std::fs::write(SNAPSHOT, &generated).expect("snapshot written");
            return;
        }
        let committed = std::fs::read_to_string(SNAPSHOT)
            .expect("snapshot exists (create it with GREENROOM_UPDATE_SNAPSHOTS=1)");
        assert!(
            committed == generated,
            "the catalog OpenAPI document changed; review and rerun with GREENROOM_UPDATE_SNAPSHOTS=1"
        );
    }

    #[test]
    fn openapi_document_lists_every_catalog_path() {
        let doc = openapi();
        let paths: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        for path in [
            "/entities",
            "/entities/by-query",
            "/entities/by-uid/{uid}",
            "/entities/by-name/{kind}/{namespace}/{name}",
            "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            "/entities/by-refs",
            "/entity-facets",
            "/locations",
            "/locations/by-query",
            "/locations/{id}",
            "/locations/by-entity/{kind}/{namespace}/{name}",
            "/refresh",
            "/validate-entity",
            "/analyze-location",
            "/openapi.json",
        ] {
            assert!(paths.contains(&path), "{path} missing from {paths:?}");
        }
    }
}
