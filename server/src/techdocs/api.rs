//! Backstage's TechDocs routes under `/api/techdocs`: metadata of a site and of
//! its entity, the published files, and `/sync`, which builds a site on demand
//! and streams its progress as server-sent events.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use greenroom_model::Entity;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::storage::{safe_relative, SiteKey};
use super::{SyncEvent, TechDocs};
use crate::auth::Caller;
use crate::error::{error_body_layer, not_found_fallback, ApiError};
use crate::permissions::{allows_entity, CATALOG_ENTITY_READ};
use crate::routes::{Access, ApiRouter, RouteInfo};
use crate::state::AppState;

/// Published files are served under the portal's origin, but come from
/// repositories: nothing in them may run script or load from elsewhere.
const STATIC_CSP: &str =
    "default-src 'none'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; sandbox";

pub fn router() -> (Router<AppState>, Vec<RouteInfo>) {
    let read = Access::Permission(&CATALOG_ENTITY_READ);
    let (router, table) = ApiRouter::new("/api/techdocs")
        .get(
            "/metadata/techdocs/{namespace}/{kind}/{name}",
            site_metadata,
            read,
        )
        .get(
            "/metadata/entity/{namespace}/{kind}/{name}",
            entity_metadata,
            read,
        )
        .get("/sync/{namespace}/{kind}/{name}", sync, read)
        .get("/static/docs/{namespace}/{kind}/{name}", static_index, read)
        .get(
            "/static/docs/{namespace}/{kind}/{name}/",
            static_index,
            read,
        )
        .get(
            "/static/docs/{namespace}/{kind}/{name}/{*path}",
            static_file,
            read,
        )
        .into_parts();
    let router = router
        .fallback(not_found_fallback)
        .layer(axum::middleware::from_fn(error_body_layer));
    (router, table)
}

fn techdocs(state: &AppState) -> Result<Arc<TechDocs>, ApiError> {
    state
        .techdocs
        .clone()
        .ok_or_else(|| ApiError::NotImplemented("TechDocs is not configured".into()))
}

/// The entity (which must exist and be readable) and its site's key.
async fn entity(
    state: &AppState,
    caller: &Caller,
    ns: &str,
    kind: &str,
    name: &str,
) -> Result<(Entity, SiteKey), ApiError> {
    let key = SiteKey::new(ns, kind, name);
    let entity = state
        .store
        .entity_by_ref(&key.entity_ref())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        // An entity the caller may not read does not exist for them.
        .filter(|e| allows_entity(state, caller, &CATALOG_ENTITY_READ, e))
        .ok_or_else(|| ApiError::not_found(format!("Entity not found: {}", key.entity_ref())))?;
    Ok((entity, key))
}

async fn site_metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let docs = techdocs(&state)?;
    let (_, key) = entity(&state, &caller, &ns, &kind, &name).await?;
    docs.metadata(&key).await.map(Json).ok_or_else(|| {
        ApiError::not_found(format!("Unable to get metadata for '{}'", key.entity_ref()))
    })
}

async fn entity_metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let docs = techdocs(&state)?;
    let (entity, _) = entity(&state, &caller, &ns, &kind, &name).await?;
    let location = docs.locate(&entity).map_err(|e| match e {
        super::source::SourceError::NotAllowed(m) => ApiError::not_allowed(m),
        other => ApiError::input(other.to_string()),
    })?;
    let mut body = Value::Object(entity);
    body["locationMetadata"] = location.metadata();
    Ok(Json(body))
}

async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let docs = techdocs(&state)?;
    let (entity, _) = entity(&state, &caller, &ns, &kind, &name).await?;
    let (tx, rx) = mpsc::channel::<SyncEvent>(256);
    tokio::spawn(async move {
        let outcome = docs.sync(&entity, &tx).await;
        let last = match outcome {
            Ok(updated) => SyncEvent::Finish { updated },
            Err(message) => SyncEvent::Error(message),
        };
        let _ = tx.send(last).await;
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let sse = match &event {
            SyncEvent::Log(line) => Event::default().event("log").data(json!(line).to_string()),
            SyncEvent::Error(message) => Event::default()
                .event("error")
                .data(json!(message).to_string()),
            SyncEvent::Finish { updated } => Event::default()
                .event("finish")
                .data(json!({"updated": updated}).to_string()),
        };
        if !matches!(event, SyncEvent::Log(_)) {
            rx.close();
        }
        Some((Ok::<_, Infallible>(sse), rx))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

async fn static_index(
    state: State<AppState>,
    caller: Caller,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    static_file(state, caller, Path((ns, kind, name, String::new()))).await
}

async fn static_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((ns, kind, name, path)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let docs = techdocs(&state)?;
    // Sites are stored under the lower-cased triplet; other spellings are
    // redirected there, as Backstage does.
    let lower = (ns.to_lowercase(), kind.to_lowercase(), name.to_lowercase());
    if (lower.0.as_str(), lower.1.as_str(), lower.2.as_str())
        != (ns.as_str(), kind.as_str(), name.as_str())
    {
        let target = format!(
            "/api/techdocs/static/docs/{}/{}/{}/{path}",
            lower.0, lower.1, lower.2
        );
        let location =
            HeaderValue::from_str(&target).map_err(|_| ApiError::not_found("File not found"))?;
        return Ok((
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response());
    }
    let (_, key) = entity(&state, &caller, &ns, &kind, &name).await?;
    let file = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path
    };
    let missing = || ApiError::not_found(format!("File not found: {file}"));
    safe_relative(&file).ok_or_else(missing)?;
    let bytes = docs
        .storage
        .read(&key, &file)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(missing)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, super::mime_for(&file)),
            (header::CONTENT_SECURITY_POLICY, STATIC_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response())
}
