//! GET and POST `/entities/by-query`: cursor pagination (reference 2.5).
//!
//! The cursor is base64 JSON carrying everything needed for the next request
//! (filter, order, full-text filter, the sort values of the boundary row, the
//! direction and the total), so later requests only add `limit` and `fields`.
//! Only the first order field is applied, and entities lacking it are left out.

use axum::extract::State;
use axum::Json;
use base64::Engine;
use greenroom_model::filter::{parse_order_field_params, EntityFilter, OrderField, SortOrder};
use greenroom_model::Entity;
use greenroom_store::{EntityQuery, FullTextFilter, Page};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::common::{self, project};
use super::extract::{LenientJson, QueryParams};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::{entity_filter, CATALOG_ENTITY_READ};
use crate::state::AppState;

pub const DEFAULT_LIMIT: u64 = 200;

/// `[first order field value, entity id]` of a row.
type SortValues = Vec<Option<String>>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryCursor {
    pub order_fields: Vec<OrderField>,
    pub order_field_values: SortValues,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<EntityFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_text_filter: Option<CursorFullText>,
    pub is_previous: bool,
    /// Sort values of the very first row of the first page: reaching it again
    /// going backwards means there is no previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sort_field_values: Option<SortValues>,
    /// The total computed by the first request (0 when it was excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_items: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorFullText {
    pub term: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

impl QueryCursor {
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        let malformed = |detail: String| ApiError::input(format!("Malformed cursor: {detail}"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|e| malformed(e.to_string()))?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
        if cursor.order_field_values.len() != 2 || cursor.order_field_values[1].is_none() {
            return Err(malformed(
                "orderFieldValues must hold a sort value and an entity id".into(),
            ));
        }
        if cursor.order_fields.len() > 1 {
            return Err(malformed("at most one order field is supported".into()));
        }
        Ok(cursor)
    }
}

/// A by-query request after parsing either the GET parameters or the POST body.
#[derive(Debug, Default)]
struct ByQuery {
    cursor: Option<QueryCursor>,
    limit: Option<u64>,
    offset: Option<u64>,
    order: Vec<OrderField>,
    filter: Option<EntityFilter>,
    full_text: Option<CursorFullText>,
    fields: Option<Vec<String>>,
    count_total: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByQueryResponse {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Entity>,
    pub total_items: u64,
    pub page_info: PageInfo,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_cursor: Option<String>,
}

fn total_items_mode(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("include") => Ok(true),
        Some("exclude") => Ok(false),
        Some(other) => Err(ApiError::input(format!(
            "Invalid totalItems parameter \"{other}\", expected \"include\" or \"exclude\""
        ))),
    }
}

fn full_text(term: Option<String>, fields: Vec<String>) -> Option<CursorFullText> {
    let term = term
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())?;
    let fields = fields
        .iter()
        .map(|f| f.trim().to_lowercase())
        .filter(|f| !f.is_empty())
        .collect();
    Some(CursorFullText { term, fields })
}

impl ByQuery {
    fn from_params(query: &QueryParams) -> Result<Self, ApiError> {
        let fields = common::fields_param(query)?;
        let limit = common::int_param(query, "limit", 0)?;
        // An empty cursor counts as none (as in Backstage's GET handler).
        if let Some(raw) = query.first("cursor").filter(|c| !c.is_empty()) {
            return Ok(Self {
                cursor: Some(QueryCursor::decode(raw)?),
                limit,
                fields,
                ..Default::default()
            });
        }
        let term = query.first("fullTextFilterTerm").map(str::to_string);
        let text_fields = query
            .all("fullTextFilterFields")
            .iter()
            .flat_map(|f| f.split(','))
            .map(str::to_string)
            .collect();
        Ok(Self {
            cursor: None,
            limit,
            offset: common::int_param(query, "offset", 0)?,
            order: parse_order_field_params(&query.all("orderField")).map_err(ApiError::Input)?,
            filter: common::filter_param(query)?,
            full_text: full_text(term, text_fields),
            fields,
            count_total: total_items_mode(query.first("totalItems"))?,
        })
    }

    fn from_body(body: ByQueryBody) -> Result<Self, ApiError> {
        let fields = common::fields_list(body.fields.as_deref().unwrap_or_default())?;
        if let Some(raw) = body.cursor {
            if raw.is_empty() {
                return Err(ApiError::input(
                    "Malformed request body, cursor must not be empty",
                ));
            }
            return Ok(Self {
                cursor: Some(QueryCursor::decode(&raw)?),
                limit: body.limit,
                fields,
                ..Default::default()
            });
        }
        let order = body
            .order_by
            .unwrap_or_default()
            .into_iter()
            .map(|o| OrderField {
                field: o.field.trim().to_lowercase(),
                order: o.order.unwrap_or(SortOrder::Asc),
            })
            .collect();
        let (term, text_fields) = match body.full_text_filter {
            Some(f) => (f.term, f.fields.unwrap_or_default()),
            None => (None, Vec::new()),
        };
        Ok(Self {
            cursor: None,
            limit: body.limit,
            offset: body.offset,
            order,
            filter: body.query.as_ref().map(common::predicate).transpose()?,
            full_text: full_text(term, text_fields),
            fields,
            count_total: total_items_mode(body.total_items.as_deref())?,
        })
    }
}

/// `allowed` narrows the query to what the caller may read; it stays out of
/// the cursor, which carries only what the caller asked for.
async fn run(
    state: &AppState,
    request: ByQuery,
    allowed: Option<EntityFilter>,
) -> Result<ByQueryResponse, ApiError> {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    let (order, filter, full_text, page, known_total, first_values, is_previous) =
        match request.cursor {
            Some(c) => {
                let mut values = c.order_field_values.into_iter();
                let sort_value = values.next().flatten();
                let row_key = values.next().flatten().unwrap_or_default();
                let page = Page::After {
                    sort_value,
                    row_key,
                    limit,
                    backwards: c.is_previous,
                };
                (
                    c.order_fields,
                    c.filter,
                    c.full_text_filter,
                    page,
                    c.total_items,
                    c.first_sort_field_values,
                    c.is_previous,
                )
            }
            None => {
                let order: Vec<OrderField> = request.order.into_iter().take(1).collect();
                let page = Page::Offset {
                    offset: request.offset.unwrap_or(0),
                    limit,
                };
                let known_total = if request.count_total { None } else { Some(0) };
                (
                    order,
                    request.filter,
                    request.full_text,
                    page,
                    known_total,
                    None,
                    false,
                )
            }
        };
    let from_cursor = first_values.is_some() || is_previous || matches!(page, Page::After { .. });
    let result = state
        .store
        .query_entities(&EntityQuery {
            // The store leaves out entities lacking the sort field.
            filter: crate::permissions::and_filter(filter.clone(), allowed),
            order: order.clone(),
            full_text: full_text.clone().map(|f| FullTextFilter {
                term: f.term,
                fields: f.fields,
            }),
            page,
            count_total: known_total.is_none(),
            all_order_fields: false,
        })
        .await?;
    let total_items = known_total.unwrap_or_else(|| result.total_items.unwrap_or(0));
    let keys: Vec<SortValues> = result
        .keys
        .iter()
        .map(|(v, id)| vec![v.clone(), Some(id.clone())])
        .collect();
    let first_values = first_values.or_else(|| keys.first().cloned());
    let cursor_at = |values: &SortValues, is_previous: bool| {
        QueryCursor {
            order_fields: order.clone(),
            order_field_values: values.clone(),
            filter: filter.clone(),
            full_text_filter: full_text.clone(),
            is_previous,
            first_sort_field_values: first_values.clone(),
            total_items: Some(total_items),
        }
        .encode()
    };
    let mut page_info = PageInfo::default();
    if let (Some(first), Some(last)) = (keys.first(), keys.last()) {
        // Going backwards we came from a later page, so a next page exists.
        let has_next = limit > 0 && (is_previous || result.has_more);
        let has_prev = if is_previous {
            result.has_more
        } else {
            from_cursor && Some(first) != first_values.as_ref()
        };
        if has_next {
            page_info.next_cursor = Some(cursor_at(last, false));
        }
        if has_prev {
            page_info.prev_cursor = Some(cursor_at(first, true));
        }
    }
    let items = result
        .items
        .into_iter()
        .map(|e| project(e, request.fields.as_deref()))
        .collect();
    Ok(ByQueryResponse {
        items,
        total_items,
        page_info,
    })
}

#[utoipa::path(
    get, path = "/entities/by-query", tag = "entities",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "Filter sets (repeatable, ORed)"),
        ("fields" = Option<Vec<String>>, Query, description = "Fields to return"),
        ("limit" = Option<u64>, Query, description = "Page size (default 200)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip (first request only)"),
        ("orderField" = Option<Vec<String>>, Query, description = "`<field>,<asc|desc>`; only the first is applied"),
        ("cursor" = Option<String>, Query, description = "Cursor from pageInfo; other parameters except fields and limit are then ignored"),
        ("fullTextFilterTerm" = Option<String>, Query, description = "Case-insensitive substring"),
        ("fullTextFilterFields" = Option<String>, Query, description = "Comma list of fields searched by the term"),
        ("totalItems" = Option<String>, Query, description = "`include` (default) or `exclude`"),
    ),
    responses(
        (status = 200, description = "A page of entities", body = ByQueryResponse),
        (status = 400, description = "Invalid parameter or `Malformed cursor: ...`", body = super::ErrorBody),
    )
)]
pub async fn get_by_query(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<ByQueryResponse>, ApiError> {
    let allowed = entity_filter(&state, &caller, &CATALOG_ENTITY_READ)?;
    Ok(Json(
        run(&state, ByQuery::from_params(&query)?, allowed).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByQueryBody {
    pub cursor: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub order_by: Option<Vec<OrderByBody>>,
    pub full_text_filter: Option<FullTextBody>,
    pub fields: Option<Vec<String>>,
    /// `include` (default) or `exclude`.
    pub total_items: Option<String>,
    /// A filter predicate.
    #[schema(value_type = Option<Object>)]
    pub query: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderByBody {
    pub field: String,
    #[schema(value_type = Option<String>)]
    pub order: Option<SortOrder>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FullTextBody {
    pub term: Option<String>,
    pub fields: Option<Vec<String>>,
}

#[utoipa::path(
    post, path = "/entities/by-query", tag = "entities",
    request_body = ByQueryBody,
    responses(
        (status = 200, description = "A page of entities", body = ByQueryResponse),
        (status = 400, description = "Malformed body or cursor", body = super::ErrorBody),
    )
)]
pub async fn post_by_query(
    State(state): State<AppState>,
    caller: Caller,
    LenientJson(body): LenientJson<ByQueryBody>,
) -> Result<Json<ByQueryResponse>, ApiError> {
    let allowed = entity_filter(&state, &caller, &CATALOG_ENTITY_READ)?;
    Ok(Json(run(&state, ByQuery::from_body(body)?, allowed).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_cursor() -> QueryCursor {
        QueryCursor {
            order_fields: vec![OrderField {
                field: "metadata.name".into(),
                order: SortOrder::Asc,
            }],
            order_field_values: vec![Some("b".into()), Some("id-2".into())],
            filter: Some(EntityFilter::Key {
                key: "kind".into(),
                values: Some(vec!["component".into()]),
            }),
            full_text_filter: Some(CursorFullText {
                term: "x".into(),
                fields: vec![],
            }),
            is_previous: false,
            first_sort_field_values: Some(vec![Some("a".into()), Some("id-1".into())]),
            total_items: Some(3),
        }
    }

    #[test]
    fn cursor_round_trips() {
        let c = sample_cursor();
        assert_eq!(QueryCursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn malformed_cursors_are_input_errors() {
        for raw in [
            "not base64!",
            "aGVsbG8=",
            &base64::engine::general_purpose::STANDARD
                .encode(r#"{"orderFields":[],"orderFieldValues":[],"isPrevious":false}"#),
        ] {
            let err = QueryCursor::decode(raw).unwrap_err();
            assert!(
                matches!(&err, ApiError::Input(m) if m.starts_with("Malformed cursor: ")),
                "{raw}: {err}"
            );
        }
    }

    #[test]
    fn a_cursor_overrides_other_params() {
        let raw = sample_cursor().encode();
        let q = QueryParams::parse(Some(&format!(
            "cursor={}&filter=kind=api&limit=5&fields=metadata.name",
            url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>()
        )));
        let parsed = ByQuery::from_params(&q).unwrap();
        assert_eq!(parsed.cursor, Some(sample_cursor()));
        assert_eq!(parsed.filter, None);
        assert_eq!(parsed.limit, Some(5));
        assert_eq!(parsed.fields, Some(vec!["metadata.name".to_string()]));
    }

    #[test]
    fn params_are_validated() {
        let bad = |q: &str| {
            ByQuery::from_params(&QueryParams::parse(Some(q)))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad("orderField=metadata.name,up"),
            "Invalid order field order, must be asc or desc"
        );
        assert_eq!(
            bad("totalItems=maybe"),
            "Invalid totalItems parameter \"maybe\", expected \"include\" or \"exclude\""
        );
        assert!(bad("limit=-1").contains("limit"));
        let ok = ByQuery::from_params(&QueryParams::parse(Some(
            "fullTextFilterTerm=Foo&fullTextFilterFields=a,b&totalItems=exclude",
        )))
        .unwrap();
        assert_eq!(
            ok.full_text,
            Some(CursorFullText {
                term: "foo".into(),
                fields: vec!["a".into(), "b".into()]
            })
        );
        assert!(!ok.count_total);
    }
}
