//! Request extractors that fail with Backstage's error body and messages:
//! repeated query parameters, and the two ways Backstage reads JSON bodies.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// All query parameters in order, keys repeated as sent (`filter=a&filter=b`).
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self(pairs)
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of `key`.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query()))
    }
}

/// Reads the raw body, honouring the body size limit (413 past it).
async fn read_body<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<(Option<String>, Bytes), ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(body_rejection)?;
    Ok((content_type, bytes))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("request entity too large".to_string())
    } else {
        ApiError::input(format!(
            "Failed to read request body: {}",
            rejection.body_text()
        ))
    }
}

fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A body validated like Backstage's `validateRequestBody` (POST/PUT
/// `/locations`, `/analyze-location`, `/validate-entity`): JSON content type
/// required, a non-empty JSON object, then deserialized strictly into `T`.
#[derive(Debug)]
pub struct StrictJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (content_type, bytes) = read_body(req, state).await?;
        let content_type = content_type.ok_or_else(|| ApiError::input("Content-Type missing"))?;
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/json")
            || !matches!(content_type.as_bytes().get(16), None | Some(b';'))
        {
            return Err(ApiError::input("Illegal Content-Type"));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::input("Missing request body"));
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::input(format!("Malformed request body: {e}")))?;
        match &value {
            Value::Object(map) if map.is_empty() => {
                return Err(ApiError::input("Empty request body"))
            }
            Value::Object(_) => {}
            _ => return Err(ApiError::input("Expected body to be a JSON object")),
        }
        serde_json::from_value(value)
            .map(StrictJson)
            .map_err(|e| ApiError::input(format!("Malformed request: {e}")))
    }
}

/// A body read like Backstage's zod-validated endpoints (`/entities/by-refs`,
/// POST `/entities/by-query`, POST `/entity-facets`): a body that is not sent
/// as JSON counts as `{}` and then fails (or passes) validation of `T`.
#[derive(Debug)]
pub struct LenientJson<T>(pub T);

const MALFORMED_BODY: &str =
    "Malformed request body (did you remember to specify an application/json content type?)";

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for LenientJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (content_type, bytes) = read_body(req, state).await?;
        let is_json = content_type.as_deref().is_some_and(is_json_content_type);
        let value: Value = if is_json && !bytes.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::input(format!("{MALFORMED_BODY}, {e}")))?
        } else {
            Value::Object(Default::default())
        };
        if !value.is_object() {
            return Err(ApiError::input(format!(
                "{MALFORMED_BODY}, expected a JSON object"
            )));
        }
        serde_json::from_value(value)
            .map(LenientJson)
            .map_err(|e| ApiError::input(format!("{MALFORMED_BODY}, {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        #[allow(dead_code)]
        target: String,
    }

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = Request::post("/x");
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        builder.body(Body::from(body.to_string())).unwrap()
    }

    async fn strict(content_type: Option<&str>, body: &str) -> Result<StrictJson<Input>, ApiError> {
        StrictJson::<Input>::from_request(request(content_type, body), &()).await
    }

    async fn strict_message(content_type: Option<&str>, body: &str) -> String {
        strict(content_type, body).await.unwrap_err().to_string()
    }

    #[test]
    fn query_params_keep_repeated_keys_in_order() {
        let q = QueryParams::parse(Some("filter=kind%3Dcomponent&fields=a&filter=kind=api&x"));
        assert_eq!(q.all("filter"), vec!["kind=component", "kind=api"]);
        assert_eq!(q.first("fields"), Some("a"));
        assert!(q.contains("x"));
        assert!(!q.contains("y"));
    }

    #[tokio::test]
    async fn strict_json_messages_follow_backstage() {
        assert_eq!(strict_message(None, "{}").await, "Content-Type missing");
        assert_eq!(
            strict_message(Some("text/plain"), "{}").await,
            "Illegal Content-Type"
        );
        assert_eq!(
            strict_message(Some("application/jsonx"), "{}").await,
            "Illegal Content-Type"
        );
        assert_eq!(
            strict_message(Some("application/json"), "").await,
            "Missing request body"
        );
        assert_eq!(
            strict_message(Some("application/json"), "[1]").await,
            "Expected body to be a JSON object"
        );
        assert_eq!(
            strict_message(Some("application/json"), "{}").await,
            "Empty request body"
        );
        assert!(strict_message(Some("application/json"), "{")
            .await
            .starts_with("Malformed request body: "));
        assert!(
            strict_message(Some("application/json"), r#"{"target":"x","extra":1}"#)
                .await
                .starts_with("Malformed request: unknown field `extra`")
        );
        assert!(
            strict(Some("application/json; charset=utf-8"), r#"{"target":"x"}"#)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn lenient_json_treats_non_json_bodies_as_empty_objects() {
        let err = LenientJson::<Input>::from_request(
            request(Some("text/plain"), r#"{"target":"x"}"#),
            &(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().starts_with(MALFORMED_BODY), "{err}");
        assert!(matches!(err, ApiError::Input(_)));
        let ok = LenientJson::<Input>::from_request(
            request(Some("application/json"), r#"{"target":"x"}"#),
            &(),
        )
        .await;
        assert!(ok.is_ok());
    }
}
