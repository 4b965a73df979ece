//! Entity reads and deletion: `/entities`, `/entities/by-uid`, `/entities/by-name`
//! (+ ancestry) and `/entities/by-refs` (reference 2.1, 2.4, 2.6).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use greenroom_model::Entity;
use greenroom_store::{EntityQuery, Page};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::common::{self, and, project};
use super::extract::{LenientJson, QueryParams};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::{
    allows_entity, and_filter, authorize_entity, entity_filter, CATALOG_ENTITY_DELETE,
    CATALOG_ENTITY_READ,
};
use crate::state::AppState;

/// The legacy `after` cursor of GET /entities: base64 of `{"limit":N,"offset":M}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterCursor {
    pub limit: u64,
    pub offset: u64,
}

impl AfterCursor {
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|e| ApiError::input(format!("Malformed after cursor: {e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::input(format!("Malformed after cursor: {e}")))
    }
}

/// The paging of GET /entities as `(offset, limit)`: None = everything; no
/// limit = everything after the offset (as in Backstage).
fn legacy_page(query: &QueryParams) -> Result<Option<(u64, Option<u64>)>, ApiError> {
    if !["offset", "limit", "after"]
        .iter()
        .any(|k| query.contains(k))
    {
        return Ok(None);
    }
    let mut offset = common::int_param(query, "offset", 0)?;
    let mut limit = common::int_param(query, "limit", 1)?;
    if let Some(after) = query.first("after") {
        if after.trim().is_empty() {
            return Err(ApiError::input(
                "Invalid after query parameter, must not be empty",
            ));
        }
        let cursor = AfterCursor::decode(after)?;
        offset = Some(cursor.offset);
        limit = limit.or(Some(cursor.limit));
    }
    Ok(Some((offset.unwrap_or(0), limit)))
}

/// `</entities?...&after=<cursor>>; rel="next"`: the request's own query with
/// `offset` dropped and `after` set.
fn next_link(query: &QueryParams, cursor: &AfterCursor) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query
        .0
        .iter()
        .filter(|(k, _)| k != "offset" && k != "after")
    {
        serializer.append_pair(k, v);
    }
    serializer.append_pair("after", &cursor.encode());
    format!("</entities?{}>; rel=\"next\"", serializer.finish())
}

#[utoipa::path(
    get, path = "/entities", tag = "entities",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "Filter set `key=value,key2` (repeatable; sets are ORed)"),
        ("fields" = Option<Vec<String>>, Query, description = "Dotted field paths to return (comma list, repeatable)"),
        ("order" = Option<Vec<String>>, Query, description = "`asc:<field>` or `desc:<field>` (repeatable)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (> 0)"),
        ("after" = Option<String>, Query, description = "Cursor from a previous `Link: rel=\"next\"` header"),
    ),
    responses(
        (status = 200, description = "All matching entities; a `Link` header points at the next page when paginated", body = Vec<Object>),
        (status = 400, description = "Invalid filter, fields, order or paging parameter", body = super::ErrorBody),
    )
)]
pub async fn list_entities(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let allowed = entity_filter(&state, &caller, &CATALOG_ENTITY_READ)?;
    let filter = and_filter(common::filter_param(&query)?, allowed);
    let fields = common::fields_param(&query)?;
    let order = greenroom_model::filter::parse_order_params(&query.all("order"))
        .map_err(ApiError::Input)?;
    let paging = legacy_page(&query)?;
    let page = match paging {
        None => Page::All,
        // An offset alone reads to the end; u32::MAX rows is "unbounded" for any real catalog.
        Some((offset, limit)) => Page::Offset {
            offset,
            limit: limit.unwrap_or(u64::from(u32::MAX)),
        },
    };
    let result = state
        .store
        .query_entities(&EntityQuery {
            filter,
            order,
            full_text: None,
            all_order_fields: paging.is_some(),
            page,
            count_total: false,
        })
        .await?;
    let items: Vec<Entity> = result
        .items
        .into_iter()
        .map(|e| project(e, fields.as_deref()))
        .collect();
    let mut response = Json(items).into_response();
    if let (Some((offset, Some(limit))), true) = (paging, result.has_more) {
        let link = next_link(
            &query,
            &AfterCursor {
                limit,
                offset: offset + limit,
            },
        );
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

#[utoipa::path(
    get, path = "/entities/by-uid/{uid}", tag = "entities",
    params(("uid" = String, Path, description = "The entity's metadata.uid")),
    responses(
        (status = 200, description = "The entity", body = Object),
        (status = 404, description = "`No entity with uid <uid>`", body = super::ErrorBody),
    )
)]
pub async fn get_by_uid(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<Json<Entity>, ApiError> {
    state
        .store
        .entity_by_uid(&uid)
        .await?
        // What the caller may not read does not exist for them (as Backstage).
        .filter(|e| allows_entity(&state, &caller, &CATALOG_ENTITY_READ, e))
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("No entity with uid {uid}")))
}

#[utoipa::path(
    delete, path = "/entities/by-uid/{uid}", tag = "entities",
    params(("uid" = String, Path, description = "The entity's metadata.uid")),
    responses(
        (status = 204, description = "Deleted (its parents are scheduled for reprocessing)"),
        (status = 403, description = "Not permitted", body = super::ErrorBody),
    )
)]
pub async fn delete_by_uid(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    // The route already refused callers who may delete nothing. Like
    // Backstage, deleting an unknown uid is not an error.
    if let Some(entity) = state.store.entity_by_uid(&uid).await? {
        authorize_entity(&state, &caller, &CATALOG_ENTITY_DELETE, &entity)?;
    }
    state.store.delete_entity_by_uid(&uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/entities/by-name/{kind}/{namespace}/{name}", tag = "entities",
    params(
        ("kind" = String, Path, description = "Entity kind (case-insensitive)"),
        ("namespace" = String, Path, description = "Entity namespace"),
        ("name" = String, Path, description = "Entity name"),
    ),
    responses(
        (status = 200, description = "The entity", body = Object),
        (status = 404, description = "`No entity named '<name>' found, with kind '<kind>' in namespace '<namespace>'`", body = super::ErrorBody),
    )
)]
pub async fn get_by_name(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<Entity>, ApiError> {
    state
        .store
        .entity_by_ref(&common::path_ref(&kind, &namespace, &name))
        .await?
        .filter(|e| allows_entity(&state, &caller, &CATALOG_ENTITY_READ, e))
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
            ))
        })
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AncestryResponse {
    pub root_entity_ref: String,
    pub items: Vec<AncestryItem>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AncestryItem {
    #[schema(value_type = Object)]
    pub entity: Entity,
    pub parent_entity_refs: Vec<String>,
}

#[utoipa::path(
    get, path = "/entities/by-name/{kind}/{namespace}/{name}/ancestry", tag = "entities",
    params(
        ("kind" = String, Path, description = "Entity kind"),
        ("namespace" = String, Path, description = "Entity namespace"),
        ("name" = String, Path, description = "Entity name"),
    ),
    responses(
        (status = 200, description = "The entity and every ancestor, each with its parents' refs", body = AncestryResponse),
        (status = 404, description = "`No such entity <ref>`", body = super::ErrorBody),
    )
)]
pub async fn get_ancestry(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<AncestryResponse>, ApiError> {
    let root_ref = common::path_ref(&kind, &namespace, &name);
    let root = state
        .store
        .entity_by_ref(&root_ref)
        .await?
        .filter(|e| allows_entity(&state, &caller, &CATALOG_ENTITY_READ, e))
        .ok_or_else(|| ApiError::not_found(format!("No such entity {root_ref}")))?;
    // Depth-first walk up the parents, visiting each entity once; parents that
    // have no stitched entity (e.g. providers) are left out, as in Backstage.
    let mut seen = std::collections::HashSet::from([root_ref.clone()]);
    let mut todo = vec![(root_ref.clone(), root)];
    let mut items = Vec::new();
    while let Some((current_ref, entity)) = todo.pop() {
        let mut parent_entity_refs = Vec::new();
        for parent_ref in state.store.parent_refs(&current_ref).await? {
            let Some(parent) = state.store.entity_by_ref(&parent_ref).await? else {
                continue;
            };
            parent_entity_refs.push(parent_ref.clone());
            if seen.insert(parent_ref.clone()) {
                todo.push((parent_ref, parent));
            }
        }
        items.push(AncestryItem {
            entity,
            parent_entity_refs,
        });
    }
    Ok(Json(AncestryResponse {
        root_entity_ref: root_ref,
        items,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByRefsRequest {
    pub entity_refs: Vec<String>,
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// A filter predicate ANDed with the `filter` query parameters.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub query: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ByRefsResponse {
    /// One slot per requested ref, `null` when missing or not readable.
    #[schema(value_type = Vec<Option<Object>>)]
    pub items: Vec<Option<Entity>>,
}

#[utoipa::path(
    post, path = "/entities/by-refs", tag = "entities",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "Filter sets (repeatable)"),
        ("fields" = Option<Vec<String>>, Query, description = "Fields to return"),
    ),
    request_body = ByRefsRequest,
    responses(
        (status = 200, description = "Entities in request order, null for missing ones", body = ByRefsResponse),
        (status = 400, description = "Malformed request body", body = super::ErrorBody),
    )
)]
pub async fn by_refs(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
    LenientJson(body): LenientJson<ByRefsRequest>,
) -> Result<Json<ByRefsResponse>, ApiError> {
    let allowed = entity_filter(&state, &caller, &CATALOG_ENTITY_READ)?;
    let body_filter = body.query.as_ref().map(common::predicate).transpose()?;
    let filter = and_filter(and(common::filter_param(&query)?, body_filter), allowed);
    let fields = match common::fields_param(&query)? {
        Some(f) => Some(f),
        None => common::fields_list(body.fields.as_deref().unwrap_or_default())?,
    };
    let refs: Vec<String> = body
        .entity_refs
        .iter()
        .map(|r| r.trim().to_lowercase())
        .collect();
    let found = state.store.entities_by_refs(&refs, filter.as_ref()).await?;
    let items = found
        .into_iter()
        .map(|e| e.map(|e| project(e, fields.as_deref())))
        .collect();
    Ok(Json(ByRefsResponse { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_cursor_round_trips_as_base64_json() {
        let c = AfterCursor {
            limit: 2,
            offset: 4,
        };
        let raw = c.encode();
        assert_eq!(
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(&raw)
                    .unwrap()
            )
            .unwrap(),
            r#"{"limit":2,"offset":4}"#
        );
        assert_eq!(AfterCursor::decode(&raw).unwrap(), c);
        assert!(AfterCursor::decode("%%%")
            .unwrap_err()
            .to_string()
            .starts_with("Malformed after cursor"));
    }

    #[test]
    fn next_link_drops_offset_and_sets_after() {
        let q = QueryParams::parse(Some("filter=kind%3Dcomponent&offset=2&limit=2"));
        let link = next_link(
            &q,
            &AfterCursor {
                limit: 2,
                offset: 4,
            },
        );
        let after = AfterCursor {
            limit: 2,
            offset: 4,
        }
        .encode();
        let encoded_after: String =
            url::form_urlencoded::byte_serialize(after.as_bytes()).collect();
        assert_eq!(
            link,
            format!(
                "</entities?filter=kind%3Dcomponent&limit=2&after={encoded_after}>; rel=\"next\""
            )
        );
    }

    #[test]
    fn paging_is_only_applied_with_paging_params() {
        assert_eq!(
            legacy_page(&QueryParams::parse(Some("filter=x"))).unwrap(),
            None
        );
        assert_eq!(
            legacy_page(&QueryParams::parse(Some("limit=3"))).unwrap(),
            Some((0, Some(3)))
        );
        let after = AfterCursor {
            limit: 5,
            offset: 10,
        }
        .encode();
        let q = QueryParams::parse(Some(&format!(
            "after={}",
            url::form_urlencoded::byte_serialize(after.as_bytes()).collect::<String>()
        )));
        assert_eq!(legacy_page(&q).unwrap(), Some((10, Some(5))));
        assert_eq!(
            legacy_page(&QueryParams::parse(Some("offset=7"))).unwrap(),
            Some((7, None))
        );
        assert!(legacy_page(&QueryParams::parse(Some("limit=0"))).is_err());
        assert!(legacy_page(&QueryParams::parse(Some("offset=-1"))).is_err());
        assert!(legacy_page(&QueryParams::parse(Some("after="))).is_err());
    }
}
