//! Parameter parsing shared by the entity endpoints.

use greenroom_model::filter::{self, EntityFilter};
use greenroom_model::Entity;

use super::extract::QueryParams;
use crate::error::ApiError;

/// The repeated `filter=` parameters as one filter (None = everything).
pub fn filter_param(query: &QueryParams) -> Result<Option<EntityFilter>, ApiError> {
    filter::parse_filter_params(&query.all("filter")).map_err(ApiError::Input)
}

/// The `fields=` parameters (comma lists, repeatable); None = whole entities.
pub fn fields_param(query: &QueryParams) -> Result<Option<Vec<String>>, ApiError> {
    filter::parse_fields(&query.all("fields")).map_err(ApiError::Input)
}

/// A body `fields` list, validated like the query parameter.
pub fn fields_list(fields: &[String]) -> Result<Option<Vec<String>>, ApiError> {
    filter::parse_fields(fields).map_err(ApiError::Input)
}

/// A JSON predicate (`query` of the POST endpoints).
pub fn predicate(value: &serde_json::Value) -> Result<EntityFilter, ApiError> {
    filter::parse_predicate(value).map_err(ApiError::Input)
}

/// Both filters must hold; either may be absent.
pub fn and(a: Option<EntityFilter>, b: Option<EntityFilter>) -> Option<EntityFilter> {
    match (a, b) {
        (Some(a), Some(b)) => Some(EntityFilter::All(vec![a, b])),
        (a, b) => a.or(b),
    }
}

/// Projects an entity to the requested fields, if any.
pub fn project(entity: Entity, fields: Option<&[String]>) -> Entity {
    match fields {
        Some(fields) => filter::project_fields(&entity, fields),
        None => entity,
    }
}

/// Parses an optional integer query parameter with a lower bound.
pub fn int_param(query: &QueryParams, key: &str, min: u64) -> Result<Option<u64>, ApiError> {
    match query.first(key) {
        None => Ok(None),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if n >= min => Ok(Some(n)),
            _ => Err(ApiError::input(format!(
                "Invalid {key} query parameter \"{raw}\", must be an integer >= {min}"
            ))),
        },
    }
}

/// The canonical ref of `/by-name/:kind/:namespace/:name` path parameters.
pub fn path_ref(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}:{namespace}/{name}").to_lowercase()
}
