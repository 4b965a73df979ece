//! A small typed client for the Backstage-compatible catalog API under `/api/catalog`.
//!
//! URL building and error decoding are plain functions (unit-tested on the host);
//! only the request helpers ([`get`], [`post`], [`delete`] and [`send`], which
//! [`get_json`] and [`post_json`] use) touch the browser's `fetch`. Every
//! request carries [`REQUESTED_WITH`], and every 401 answer tells the app the
//! session has ended (see `auth`).

use greenroom_model::Entity;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{collections::BTreeMap, fmt};

pub const CATALOG_API: &str = "/api/catalog";

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

    /// The HTTP status of an answered request.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
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

/// The header every request carries. The server refuses cookie-authenticated
/// requests that change state without it: a page of another site can make
/// the browser send the cookie, but cannot set this header.
pub const REQUESTED_WITH: (&str, &str) = ("X-Requested-With", "XMLHttpRequest");

/// A GET request to `url`, with the headers every request carries.
pub fn get(url: &str) -> gloo_net::http::RequestBuilder {
    gloo_net::http::Request::get(url).header(REQUESTED_WITH.0, REQUESTED_WITH.1)
}

/// A POST request to `url`, with the headers every request carries.
pub fn post(url: &str) -> gloo_net::http::RequestBuilder {
    gloo_net::http::Request::post(url).header(REQUESTED_WITH.0, REQUESTED_WITH.1)
}

/// A DELETE request to `url`, with the headers every request carries.
pub fn delete(url: &str) -> gloo_net::http::RequestBuilder {
    gloo_net::http::Request::delete(url).header(REQUESTED_WITH.0, REQUESTED_WITH.1)
}

/// Sends a request built by [`get`], [`post`] or [`delete`]. A 401 answer
/// means the session has ended: the app then shows the sign-in page.
pub async fn send(request: gloo_net::http::Request) -> Result<gloo_net::http::Response, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.status() == 401 {
        crate::auth::session_ended();
    }
    Ok(response)
}

/// Finishes a request without a body.
pub fn build(request: gloo_net::http::RequestBuilder) -> Result<gloo_net::http::Request, ApiError> {
    request.build().map_err(|e| ApiError::Decode(e.to_string()))
}

/// Sends `request` and expects a 2xx answer whose body does not matter (a
/// 204, a 200 without content).
pub async fn send_ok(request: gloo_net::http::Request) -> Result<(), ApiError> {
    let response = send(request).await?;
    if response.ok() {
        Ok(())
    } else {
        let body = response.text().await.unwrap_or_default();
        Err(ApiError::from_response(response.status(), &body))
    }
}

/// GETs `url` and decodes the JSON answer.
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let response = send(build(get(url).header("Accept", "application/json"))?).await?;
    decode_response(response).await
}

/// GETs `url` and returns the body as text (a documentation page's HTML).
pub async fn get_text(url: &str) -> Result<String, ApiError> {
    let response = send(build(get(url))?).await?;
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        return Err(ApiError::from_response(response.status(), &body));
    }
    response
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// POSTs `body` as JSON to `url` and decodes the JSON answer.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiError> {
    let request = post(url)
        .header("Accept", "application/json")
        .json(body)
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    decode_response(send(request).await?).await
}

async fn decode_response<T: DeserializeOwned>(
    response: gloo_net::http::Response,
) -> Result<T, ApiError> {
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        return Err(ApiError::from_response(response.status(), &body));
    }
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// The values of several facets, with counts, from one `/entity-facets` request.
pub async fn fetch_facets(url: String) -> Result<BTreeMap<String, Vec<FacetCount>>, ApiError> {
    let response: FacetsResponse = get_json(&url).await?;
    Ok(response.facets)
}

/// `POST /entities/by-refs`: the entities for `refs`, in the same order, `None`
/// where a ref names no entity.
pub async fn fetch_by_refs(refs: Vec<String>) -> Result<Vec<Option<Entity>>, ApiError> {
    #[derive(Serialize)]
    struct Body {
        #[serde(rename = "entityRefs")]
        entity_refs: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Items {
        items: Vec<Option<Entity>>,
    }
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let items: Items = post_json(
        &format!("{CATALOG_API}/entities/by-refs"),
        &Body { entity_refs: refs },
    )
    .await?;
    Ok(items.items)
}

/// `GET /api/search/query`: one page of search results.
pub async fn search(
    request: greenroom_model::api::SearchRequest,
) -> Result<greenroom_model::api::SearchResultSet, ApiError> {
    get_json(&request.url()).await
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
