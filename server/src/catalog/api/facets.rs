//! GET and POST `/entity-facets`: value counts per facet key (reference 2.6).

use axum::extract::State;
use axum::Json;
use greenroom_model::filter::EntityFilter;
use greenroom_store::FacetCount;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::common;
use super::extract::{LenientJson, QueryParams};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::{and_filter, entity_filter, CATALOG_ENTITY_READ};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetsResponse {
    /// `{<facet>: [{value, count}]}` in the order the facets were asked for.
    #[schema(value_type = Object)]
    pub facets: Map<String, Value>,
}

async fn facets(
    state: &AppState,
    facets: &[String],
    filter: Option<&EntityFilter>,
) -> Result<FacetsResponse, ApiError> {
    if facets.is_empty() {
        return Err(ApiError::input("Missing facet parameter"));
    }
    let counted = state.store.facets(facets, filter).await?;
    let mut out = Map::new();
    // Answer under the facet names as the caller spelled them.
    for facet in facets {
        let values: Vec<FacetCount> = counted
            .iter()
            .find(|(name, _)| name == facet || name.eq_ignore_ascii_case(facet))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        out.insert(
            facet.clone(),
            serde_json::to_value(values).expect("facet counts serialize"),
        );
    }
    Ok(FacetsResponse { facets: out })
}

#[utoipa::path(
    get, path = "/entity-facets", tag = "entities",
    params(
        ("facet" = Vec<String>, Query, description = "Facet key, e.g. `kind` or `metadata.tags` (required, repeatable)"),
        ("filter" = Option<Vec<String>>, Query, description = "Filter sets (repeatable, ORed)"),
    ),
    responses(
        (status = 200, description = "Counts per distinct value", body = FacetsResponse),
        (status = 400, description = "`Missing facet parameter` or invalid filter", body = super::ErrorBody),
    )
)]
pub async fn get_facets(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<FacetsResponse>, ApiError> {
    let allowed = entity_filter(&state, &caller, &CATALOG_ENTITY_READ)?;
    let filter = and_filter(common::filter_param(&query)?, allowed);
    Ok(Json(
        facets(&state, &query.all("facet"), filter.as_ref()).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FacetsBody {
    #[serde(default)]
    pub facets: Vec<String>,
    /// A filter predicate.
    #[schema(value_type = Option<Object>)]
    pub query: Option<Value>,
}

#[utoipa::path(
    post, path = "/entity-facets", tag = "entities",
    request_body = FacetsBody,
    responses(
        (status = 200, description = "Counts per distinct value", body = FacetsResponse),
        (status = 400, description = "`Missing facet parameter` or malformed body", body = super::ErrorBody),
    )
)]
pub async fn post_facets(
    State(state): State<AppState>,
    caller: Caller,
    LenientJson(body): LenientJson<FacetsBody>,
) -> Result<Json<FacetsResponse>, ApiError> {
    let allowed = entity_filter(&state, &caller, &CATALOG_ENTITY_READ)?;
    let filter = and_filter(
        body.query.as_ref().map(common::predicate).transpose()?,
        allowed,
    );
    Ok(Json(facets(&state, &body.facets, filter.as_ref()).await?))
}
