//! `POST /api/permission/authorize` as Backstage's permission backend (the
//! caller's decisions, conditions resolved when a resource is named),
//! `POST /api/permission/explain` (which rule decided), and the audit log
//! at `GET /api/audit/events`.

use axum::extract::{Query, State};
use axum::{Json, Router};
use greenroom_store::AuditQuery;
use serde::Deserialize;
use serde_json::{json, Value};

use super::conditions::{self, ENTITY_RESOURCE, TASK_RESOURCE};
use super::{by_name, Decision, Evaluation, Permission, PERMISSION_EXPLAIN};
use crate::auth::Caller;
use crate::error::{error_body_layer, not_found_fallback, ApiError};
use crate::routes::{Access, ApiRouter, RouteInfo};
use crate::state::AppState;

pub fn router() -> (Router<AppState>, Vec<RouteInfo>) {
    let (router, table) = ApiRouter::new("/api/permission")
        // Anyone may ask what they themselves may do.
        .post("/authorize", authorize_items, Access::Public)
        .post("/explain", explain, Access::Permission(&PERMISSION_EXPLAIN))
        .into_parts();
    let router = router
        .fallback(not_found_fallback)
        .layer(axum::middleware::from_fn(error_body_layer));
    (router, table)
}

pub fn audit_router() -> (Router<AppState>, Vec<RouteInfo>) {
    let (router, table) = ApiRouter::new("/api/audit")
        .get(
            "/events",
            audit_events,
            Access::Permission(&super::AUDIT_READ),
        )
        .into_parts();
    let router = router
        .fallback(not_found_fallback)
        .layer(axum::middleware::from_fn(error_body_layer));
    (router, table)
}

#[derive(Deserialize)]
struct AuthorizeBody {
    items: Vec<AuthorizeItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeItem {
    id: String,
    permission: Value,
    resource_ref: Option<Value>,
}

fn permission_of(v: &Value) -> Result<Permission, ApiError> {
    let name = v["name"]
        .as_str()
        .ok_or_else(|| ApiError::input("permission.name is required"))?;
    by_name(name).ok_or_else(|| ApiError::input(format!("Unknown permission {name}")))
}

/// Applies a decision to one resource: ALLOW or DENY.
async fn resolve_on(
    state: &AppState,
    permission: &Permission,
    decision: &Decision,
    resource_ref: &str,
) -> Result<bool, ApiError> {
    let criteria = match decision {
        Decision::Allow => return Ok(true),
        Decision::Deny => return Ok(false),
        Decision::Conditional(c) => c,
    };
    match permission.resource_type {
        Some(ENTITY_RESOURCE) => {
            let entity = state
                .store
                .entity_by_ref(&resource_ref.to_lowercase())
                .await?;
            Ok(entity.is_some_and(|e| {
                conditions::entity_matches(&conditions::to_entity_filter(criteria), &e)
            }))
        }
        Some(TASK_RESOURCE) => {
            let Some(s) = state.scaffolder.as_ref() else {
                return Ok(false);
            };
            let task = s.tasks.get_task(resource_ref).await?;
            Ok(task.is_some_and(|t| conditions::task_matches(criteria, t.created_by.as_deref())))
        }
        _ => Ok(false),
    }
}

fn result_word(allowed: bool) -> &'static str {
    if allowed {
        "ALLOW"
    } else {
        "DENY"
    }
}

async fn authorize_items(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AuthorizeBody>,
) -> Result<Json<Value>, ApiError> {
    if body.items.len() > 100 {
        return Err(ApiError::input("At most 100 items per request"));
    }
    let mut out = Vec::new();
    for item in body.items {
        let permission = permission_of(&item.permission)?;
        let decision = state.policy.decide(&caller, &permission);
        let answer = match (&item.resource_ref, &decision) {
            (Some(Value::String(r)), _) => {
                json!({"id": item.id, "result": result_word(resolve_on(&state, &permission, &decision, r).await?)})
            }
            (Some(Value::Array(refs)), _) => {
                let mut results = Vec::new();
                for r in refs.iter().filter_map(Value::as_str) {
                    results.push(result_word(
                        resolve_on(&state, &permission, &decision, r).await?,
                    ));
                }
                json!({"id": item.id, "result": results})
            }
            (_, Decision::Conditional(c)) => json!({
                "id": item.id,
                "result": "CONDITIONAL",
                "pluginId": if permission.name.starts_with("scaffolder.") { "scaffolder" } else { "catalog" },
                "resourceType": permission.resource_type,
                "conditions": c,
            }),
            (_, d) => json!({"id": item.id, "result": result_word(*d == Decision::Allow)}),
        };
        out.push(answer);
    }
    Ok(Json(json!({ "items": out })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExplainBody {
    permission: String,
    resource_ref: Option<String>,
}

/// Which rule decided, in words: for the caller, on an optional resource.
async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ExplainBody>,
) -> Result<Json<Value>, ApiError> {
    let permission = by_name(&body.permission)
        .ok_or_else(|| ApiError::input(format!("Unknown permission {}", body.permission)))?;
    let Evaluation { decision, rule } = state.policy.evaluate(&caller, &permission);
    let by = rule
        .as_deref()
        .map_or("the policy's default".to_string(), |r| {
            format!("rule '{r}'")
        });
    let mut out = json!({
        "user": caller.user_entity_ref,
        "ownershipEntityRefs": caller.ownership_entity_refs,
        "permission": permission.to_json(),
        "rule": rule,
    });
    match (&decision, &body.resource_ref) {
        (Decision::Conditional(c), Some(r)) => {
            let allowed = resolve_on(&state, &permission, &decision, r).await?;
            out["result"] = json!(result_word(allowed));
            out["conditions"] = serde_json::to_value(c).unwrap_or_default();
            out["message"] = json!(format!(
                "{} on {r}: {} by {by}, whose conditions the resource {}",
                permission.name,
                if allowed { "allowed" } else { "denied" },
                if allowed {
                    "satisfies"
                } else {
                    "does not satisfy"
                }
            ));
        }
        (Decision::Conditional(c), None) => {
            out["result"] = json!("CONDITIONAL");
            out["conditions"] = serde_json::to_value(c).unwrap_or_default();
            out["message"] = json!(format!(
                "{} is allowed by {by} for resources that satisfy its conditions",
                permission.name
            ));
        }
        (d, _) => {
            let allowed = *d == Decision::Allow;
            out["result"] = json!(result_word(allowed));
            out["message"] = json!(format!(
                "{} is {} by {by}",
                permission.name,
                if allowed { "allowed" } else { "denied" }
            ));
        }
    }
    Ok(Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    actor: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

async fn audit_events(
    State(state): State<AppState>,
    Query(p): Query<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let events = state
        .auth
        .store
        .query_audit(&AuditQuery {
            actor: non_empty(p.actor),
            action: non_empty(p.action),
            outcome: non_empty(p.outcome),
            before: p.before,
            limit,
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let next_before = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    let items: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "time": chrono::DateTime::from_timestamp_millis(e.created_at_ms)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "actor": e.event.actor,
                "action": e.event.action,
                "method": e.event.method,
                "path": e.event.path,
                "outcome": e.event.outcome,
                "status": e.event.status,
                "detail": e.event.detail,
                "ip": e.event.ip,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "nextBefore": next_before })))
}
