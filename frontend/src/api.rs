//! A small typed client for the Backstage-compatible catalog API under `/api/catalog`.
//!
//! URL building and error decoding are plain functions (unit-tested on the host);
//! only [`get_json`] touches the browser's `fetch`.

use greenroom_model::Entity;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{de::DeserializeOwned, Deserialize};
use std::{collections::BTreeMap, fmt};

/// How many entities one catalog page asks for.
pub const PAGE_SIZE: u32 = 50;

const CATALOG_API: &str = "/api/catalog";

/// Everything except RFC 3986 unreserved characters is escaped, so a value can
/// never break out of its query parameter or path segment.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// Response of `GET /entities/by-query`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitiesPage {
    pub items: Vec<Entity>,
    #[serde(default)]
    pub total_items: u64,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// Response of `GET /entity-facets`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FacetsResponse {
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// `/entities/by-query` for one page. A cursor already encodes the filter and
/// order of the listing it came from, so it is sent on its own.
pub fn entities_url(kind: Option<&str>, cursor: Option<&str>) -> String {
    let mut url = format!("{CATALOG_API}/entities/by-query?limit={PAGE_SIZE}");
    match cursor {
        Some(cursor) => {
            url.push_str("&cursor=");
            url.push_str(&encode_component(cursor));
        }
        None => {
            url.push_str("&orderField=metadata.name,asc");
            if let Some(kind) = kind {
                url.push_str("&filter=");
                url.push_str(&encode_component(&format!("kind={kind}")));
            }
        }
    }
    url
}

/// `/entity-facets` for one facet key, e.g. `kind`.
pub fn facet_url(facet: &str) -> String {
    format!(
        "{CATALOG_API}/entity-facets?facet={}",
        encode_component(facet)
    )
}

/// `/entities/by-name/:kind/:namespace/:name` (note: the API orders kind first,
/// the app's page route orders namespace first, as Backstage's UI does).
pub fn entity_by_name_url(kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "{CATALOG_API}/entities/by-name/{}/{}/{}",
        encode_component(kind),
        encode_component(namespace),
        encode_component(name)
    )
}

/// Why a request failed, worded for the person looking at the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The request never got an HTTP answer (server down, offline).
    Network(String),
    /// The server answered with a non-2xx status.
    Status { status: u16, message: String },
    /// A 2xx answer whose body was not the expected JSON.
    Decode(String),
}

impl ApiError {
    /// Builds the error for a non-2xx response, preferring the message of
    /// Backstage's error body `{error:{name,message}}` over the bare status.
    pub fn from_response(status: u16, body: &str) -> Self {
        #[derive(Deserialize)]
        struct ErrorBody {
            error: ErrorDetail,
        }
        #[derive(Deserialize)]
        struct ErrorDetail {
            message: String,
        }
        let message = match serde_json::from_str::<ErrorBody>(body) {
            Ok(parsed) if !parsed.error.message.is_empty() => parsed.error.message,
            _ => "The request failed".to_string(),
        };
        ApiError::Status { status, message }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network(detail) => {
                write!(f, "Could not reach the Greenroom server ({detail}).")
            }
            ApiError::Status { status, message } => write!(f, "{message} (HTTP {status})"),
            ApiError::Decode(detail) => write!(
                f,
                "The server sent a response this page could not read ({detail})."
            ),
        }
    }
}

/// GETs `url` and decodes the JSON answer.
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let response = gloo_net::http::Request::get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        return Err(ApiError::from_response(response.status(), &body));
    }
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

pub async fn fetch_entities(
    kind: Option<String>,
    cursor: Option<String>,
) -> Result<EntitiesPage, ApiError> {
    get_json(&entities_url(kind.as_deref(), cursor.as_deref())).await
}

/// The distinct kinds in the catalog, with counts, in alphabetical order.
pub async fn fetch_kinds() -> Result<Vec<FacetCount>, ApiError> {
    let mut response: FacetsResponse = get_json(&facet_url("kind")).await?;
    let mut kinds = response.facets.remove("kind").unwrap_or_default();
    kinds.sort_by_key(|facet| facet.value.to_lowercase());
    Ok(kinds)
}

pub async fn fetch_entity(
    kind: String,
    namespace: String,
    name: String,
) -> Result<Entity, ApiError> {
    get_json(&entity_by_name_url(&kind, &namespace, &name)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_page_is_ordered_by_name_and_filtered_by_kind() {
        assert_eq!(
            entities_url(None, None),
            "/api/catalog/entities/by-query?limit=50&orderField=metadata.name,asc"
        );
        assert_eq!(
            entities_url(Some("Component"), None),
            "/api/catalog/entities/by-query?limit=50&orderField=metadata.name,asc&filter=kind%3DComponent"
        );
    }

    #[test]
    fn later_pages_send_only_the_cursor() {
        assert_eq!(
            entities_url(Some("Component"), Some("eyJ+a/b=~")),
            "/api/catalog/entities/by-query?limit=50&cursor=eyJ%2Ba%2Fb%3D~"
        );
    }

    #[test]
    fn kind_values_cannot_inject_parameters() {
        let url = entities_url(Some("x&filter=kind=group"), None);
        assert!(
            url.ends_with("&filter=kind%3Dx%26filter%3Dkind%3Dgroup"),
            "{url}"
        );
    }

    #[test]
    fn facet_and_by_name_urls() {
        assert_eq!(facet_url("kind"), "/api/catalog/entity-facets?facet=kind");
        assert_eq!(
            entity_by_name_url("component", "default", "petstore"),
            "/api/catalog/entities/by-name/component/default/petstore"
        );
        assert_eq!(
            entity_by_name_url("component", "default", "a/b c"),
            "/api/catalog/entities/by-name/component/default/a%2Fb%20c"
        );
    }

    #[test]
    fn decodes_a_page_with_and_without_cursors() {
        let page: EntitiesPage = serde_json::from_str(
            r#"{"items":[{"kind":"Component","metadata":{"name":"a"}}],"totalItems":3,"pageInfo":{"nextCursor":"abc"}}"#,
        )
        .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.total_items, 3);
        assert_eq!(page.page_info.next_cursor.as_deref(), Some("abc"));
        assert_eq!(page.page_info.prev_cursor, None);

        let last: EntitiesPage =
            serde_json::from_str(r#"{"items":[],"totalItems":0,"pageInfo":{}}"#).unwrap();
        assert_eq!(last.page_info, PageInfo::default());
    }

    #[test]
    fn decodes_facets() {
        let facets: FacetsResponse = serde_json::from_str(
            r#"{"facets":{"kind":[{"value":"Component","count":2},{"value":"API","count":1}]}}"#,
        )
        .unwrap();
        assert_eq!(
            facets.facets["kind"][1],
            FacetCount {
                value: "API".into(),
                count: 1
            }
        );
    }

    #[test]
    fn error_message_comes_from_the_backstage_error_body() {
        let body = r#"{"error":{"name":"NotFoundError","message":"No entity named 'x' found, with kind 'component' in namespace 'default'"},"request":{"method":"GET","url":"/x"},"response":{"statusCode":404}}"#;
        let error = ApiError::from_response(404, body);
        assert!(error.is_not_found());
        assert_eq!(
            error.to_string(),
            "No entity named 'x' found, with kind 'component' in namespace 'default' (HTTP 404)"
        );
    }

    #[test]
    fn error_without_a_json_body_names_the_status() {
        let error = ApiError::from_response(502, "<html>Bad gateway</html>");
        assert!(!error.is_not_found());
        assert_eq!(error.to_string(), "The request failed (HTTP 502)");
    }

    #[test]
    fn network_and_decode_errors_read_well() {
        assert_eq!(
            ApiError::Network("TypeError: Failed to fetch".into()).to_string(),
            "Could not reach the Greenroom server (TypeError: Failed to fetch)."
        );
        assert!(ApiError::Decode("expected value".into())
            .to_string()
            .contains("could not read"));
    }
}
