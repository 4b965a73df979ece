//! `/api/scaffolder` routes (reference section 4.4), Backstage's shapes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Json, Router};
use greenroom_model::scaffolder::{
    parameter_schema, template_steps, CreateTaskRequest, Task, TaskEvent, TaskList, TaskSpec,
    TaskStatus, TaskUser, TemplateInfo, ValueError, TEMPLATE_API_VERSION,
};
use greenroom_model::{Entity, EntityRef};
use greenroom_store::{NewTask, TaskEventRecord, TaskQuery, TaskRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::dry_run::dry_run;
use super::template::{check_template, template_base_url, template_source, validate_values};
use crate::auth::Caller;
use crate::catalog::api::extract::{QueryParams, StrictJson};
use crate::error::{error_body_layer, not_found_fallback, ApiError, BODY_LIMIT_BYTES};
use crate::permissions::{
    allows_entity, authorize, authorize_task, refusal, Decision, CATALOG_ENTITY_READ,
    SCAFFOLDER_ACTION_READ, SCAFFOLDER_TASK_CANCEL, SCAFFOLDER_TASK_CREATE, SCAFFOLDER_TASK_READ,
    SCAFFOLDER_TEMPLATE_DRY_RUN, SCAFFOLDER_TEMPLATE_PARAMETER_READ,
};
use crate::routes::{Access, ApiRouter, RouteInfo};
use crate::state::AppState;

/// How long `GET /v2/tasks/:id/events` waits for new events.
const LONG_POLL: Duration = Duration::from_secs(30);
/// How often streams look for new events (other replicas write them too).
const POLL_EVERY: Duration = Duration::from_millis(200);

pub fn router() -> (Router<AppState>, Vec<RouteInfo>) {
    use crate::permissions::*;
    let task_read = Access::Permission(&SCAFFOLDER_TASK_READ);
    let task_create = Access::Permission(&SCAFFOLDER_TASK_CREATE);
    let (router, table) = ApiRouter::new("/api/scaffolder")
        .get(
            "/v2/templates/{namespace}/{kind}/{name}/parameter-schema",
            parameter_schema_route,
            Access::Permission(&SCAFFOLDER_TEMPLATE_PARAMETER_READ),
        )
        .get(
            "/v2/actions",
            list_actions,
            Access::Permission(&SCAFFOLDER_ACTION_READ),
        )
        .post("/v2/tasks", create_task, task_create)
        .get("/v2/tasks", list_tasks, task_read)
        .get("/v2/tasks/{id}", get_task, task_read)
        .post(
            "/v2/tasks/{id}/cancel",
            cancel_task,
            Access::Permission(&SCAFFOLDER_TASK_CANCEL),
        )
        .post("/v2/tasks/{id}/retry", retry_task, task_create)
        .get("/v2/tasks/{id}/eventstream", event_stream, task_read)
        .get("/v2/tasks/{id}/events", events, task_read)
        .post(
            "/v2/dry-run",
            dry_run_route,
            Access::Permission(&SCAFFOLDER_TEMPLATE_DRY_RUN),
        )
        .into_parts();
    let router = router
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(not_found_fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(error_body_layer));
    (router, table)
}

fn template_parameters_readable(state: &AppState, caller: &Caller, template: &Entity) -> bool {
    match state
        .policy
        .decide(caller, &SCAFFOLDER_TEMPLATE_PARAMETER_READ)
    {
        Decision::Allow => true,
        Decision::Deny => false,
        Decision::Conditional(c) => {
            let tags: Vec<String> = template
                .get("metadata")
                .and_then(|m| m.get("tags"))
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            crate::permissions::conditions::template_matches(&c, &tags)
        }
    }
}

/// The users an IS_TASK_OWNER condition admits (None: a condition that is
/// not a plain ownership rule, which a listing cannot express).
fn owners_of(c: &crate::permissions::conditions::Criteria) -> Option<Vec<String>> {
    use crate::permissions::conditions::Criteria;
    match c {
        Criteria::Rule(r) if r.rule == "IS_TASK_OWNER" => Some(
            r.params["createdBy"]
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn task_body(record: TaskRecord) -> Result<Task, ApiError> {
    let spec: TaskSpec = serde_json::from_str(&record.spec)
        .map_err(|e| ApiError::internal(format!("stored task spec is unreadable: {e}")))?;
    Ok(Task {
        id: record.id,
        spec,
        status: record.status,
        created_at: iso(record.created_at_ms),
        last_heartbeat_at: record.last_heartbeat_at_ms.map(iso),
        created_by: record.created_by,
    })
}

fn event_body(e: TaskEventRecord) -> TaskEvent {
    TaskEvent {
        id: e.id,
        task_id: e.task_id,
        event_type: e.event_type,
        body: e.body,
        created_at: iso(e.created_at_ms),
        is_task_recoverable: None,
    }
}

fn scaffolder(state: &AppState) -> Result<&std::sync::Arc<super::worker::Scaffolder>, ApiError> {
    state
        .scaffolder
        .as_ref()
        .ok_or_else(|| ApiError::ServiceUnavailable("the scaffolder is not running".into()))
}

/// The template, when `caller` may read it as a catalog entity and read its
/// parameters (`HAS_TAG` conditions look at `metadata.tags`); otherwise it
/// does not exist for them.
async fn load_template(
    state: &AppState,
    caller: &Caller,
    reference: &str,
) -> Result<Entity, ApiError> {
    let parsed = EntityRef::parse(reference, Some("template"), "default")
        .map_err(|e| ApiError::input(format!("Invalid templateRef '{reference}': {e}")))?;
    let entity = state
        .store
        .entity_by_ref(&parsed.canonical())
        .await?
        .filter(|e| allows_entity(state, caller, &CATALOG_ENTITY_READ, e))
        .filter(|e| template_parameters_readable(state, caller, e))
        .ok_or_else(|| ApiError::not_found(format!("Template {} not found", parsed.canonical())))?;
    check_template(&entity).map_err(ApiError::input)?;
    Ok(entity)
}

async fn parameter_schema_route(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let template = load_template(&state, &caller, &format!("{kind}:{namespace}/{name}")).await?;
    Ok(Json(
        serde_json::to_value(parameter_schema(&template)).unwrap_or_default(),
    ))
}

async fn list_actions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &caller, &SCAFFOLDER_ACTION_READ)?;
    let s = scaffolder(&state)?;
    Ok(Json(json!(s.services.actions.list())))
}

/// 400 with `{errors: [...]}`, as Backstage answers invalid values.
fn value_errors(errors: Vec<ValueError>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "errors": errors }))).into_response()
}

/// The request's values (`{}` when none were given) checked against the
/// template's parameters; the errors are answered with [`value_errors`].
fn checked_values(template: &Entity, values: Value) -> Result<Value, Vec<ValueError>> {
    let values = if values.is_null() { json!({}) } else { values };
    let errors = validate_values(template, &values);
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn secrets_of(value: Option<Map<String, Value>>) -> Result<Map<String, Value>, ApiError> {
    let secrets = value.unwrap_or_default();
    if let Some((k, _)) = secrets.iter().find(|(_, v)| !v.is_string()) {
        return Err(ApiError::input(format!("secret '{k}' must be a string")));
    }
    Ok(secrets)
}

async fn user_of(state: &AppState, caller: &Caller) -> TaskUser {
    let entity = state
        .store
        .entity_by_ref(&caller.user_entity_ref)
        .await
        .ok()
        .flatten()
        .map(Value::Object);
    TaskUser {
        entity,
        user_ref: Some(caller.user_entity_ref.clone()),
    }
}

async fn create_task(
    State(state): State<AppState>,
    caller: Caller,
    StrictJson(request): StrictJson<CreateTaskRequest>,
) -> Result<Response, ApiError> {
    authorize(&state, &caller, &SCAFFOLDER_TASK_CREATE)?;
    let s = scaffolder(&state)?;
    let template = load_template(&state, &caller, &request.template_ref).await?;
    let values = match checked_values(&template, request.values) {
        Ok(values) => values,
        Err(errors) => return Ok(value_errors(errors)),
    };
    let secrets = secrets_of(request.secrets)?;
    let spec_map = template
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let template_ref = EntityRef::of_entity(&template)
        .map(|r| r.canonical())
        .unwrap_or_default();
    let spec = TaskSpec {
        api_version: TEMPLATE_API_VERSION.into(),
        parameters: values,
        steps: template_steps(&spec_map),
        output: spec_map.get("output").cloned().unwrap_or(json!({})),
        template_info: Some(TemplateInfo {
            entity_ref: template_ref,
            base_url: template_base_url(&template),
            entity: Some(
                json!({"metadata": template.get("metadata").cloned().unwrap_or_default()}),
            ),
        }),
        user: Some(user_of(&state, &caller).await),
    };
    let id = uuid::Uuid::new_v4().to_string();
    s.tasks
        .create_task(NewTask {
            id: id.clone(),
            spec: serde_json::to_string(&spec).map_err(|e| ApiError::internal(e.to_string()))?,
            sealed_secrets: (!secrets.is_empty()).then(|| s.sealer.seal(&secrets)),
            created_by: Some(caller.user_entity_ref.clone()),
        })
        .await?;
    s.wake.notify_one();
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<TaskList>, ApiError> {
    // The route refused callers who may read no task; conditions apply below.
    let s = scaffolder(&state)?;
    let mut q = TaskQuery::default();
    for (key, value) in &query.0 {
        match key.as_str() {
            "createdBy" => q.created_by.push(value.clone()),
            "status" => q.status.push(
                TaskStatus::parse(value)
                    .ok_or_else(|| ApiError::input(format!("Unknown task status '{value}'")))?,
            ),
            "order" => {
                let (direction, field) = value.split_once(':').unwrap_or(("desc", value.as_str()));
                let ascending = match direction {
                    "asc" => true,
                    "desc" => false,
                    other => {
                        return Err(ApiError::input(format!(
                            "Invalid order direction '{other}'"
                        )))
                    }
                };
                let column = match field {
                    "created_at" | "createdAt" => "created_at",
                    "status" => "status",
                    "created_by" | "createdBy" => "created_by",
                    other => {
                        return Err(ApiError::input(format!("Cannot order tasks by '{other}'")))
                    }
                };
                q.order = Some((column.to_string(), ascending));
            }
            "limit" => {
                q.limit = Some(
                    value
                        .parse()
                        .map_err(|_| ApiError::input(format!("Invalid limit '{value}'")))?,
                )
            }
            "offset" => {
                q.offset = Some(
                    value
                        .parse()
                        .map_err(|_| ApiError::input(format!("Invalid offset '{value}'")))?,
                )
            }
            _ => {}
        }
    }
    // A conditional read (IS_TASK_OWNER) narrows the listing to the tasks
    // of the users it names.
    if let Decision::Conditional(c) = state.policy.decide(&caller, &SCAFFOLDER_TASK_READ) {
        let allowed = owners_of(&c).ok_or_else(|| refusal(&caller, &SCAFFOLDER_TASK_READ))?;
        q.created_by = if q.created_by.is_empty() {
            allowed
        } else {
            q.created_by
                .into_iter()
                .filter(|c| allowed.iter().any(|a| a.eq_ignore_ascii_case(c)))
                .collect()
        };
        if q.created_by.is_empty() {
            q.created_by.push(String::new());
        }
    }
    let (records, total) = s.tasks.list_tasks(&q).await?;
    Ok(Json(TaskList {
        tasks: records
            .into_iter()
            .map(task_body)
            .collect::<Result<_, _>>()?,
        total_tasks: total,
    }))
}

/// The task, when `caller` may read it: another user's task the policy hides
/// from them does not exist for them.
async fn task_or_404(state: &AppState, caller: &Caller, id: &str) -> Result<TaskRecord, ApiError> {
    scaffolder(state)?
        .tasks
        .get_task(id)
        .await?
        .filter(|t| {
            authorize_task(
                state,
                caller,
                &SCAFFOLDER_TASK_READ,
                t.created_by.as_deref(),
            )
            .is_ok()
        })
        .ok_or_else(|| ApiError::not_found(format!("Task with id {id} does not exist")))
}

async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(task_body(task_or_404(&state, &caller, &id).await?)?))
}

async fn cancel_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = task_or_404(&state, &caller, &id).await?;
    authorize_task(
        &state,
        &caller,
        &SCAFFOLDER_TASK_CANCEL,
        task.created_by.as_deref(),
    )?;
    let s = scaffolder(&state)?;
    let status = s.tasks.cancel_task(&id).await?;
    if status != TaskStatus::Cancelled && status != TaskStatus::Processing {
        return Err(ApiError::conflict(format!(
            "Task {id} has already ended ({})",
            status.as_str()
        )));
    }
    Ok(Json(json!({ "status": "cancelled" })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryRequest {
    #[serde(default)]
    secrets: Option<Map<String, Value>>,
}

async fn retry_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    task_or_404(&state, &caller, &id).await?;
    let s = scaffolder(&state)?;
    // The body is optional: `{secrets?}`.
    let request: RetryRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetryRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::input(format!("Invalid retry body: {e}")))?
    };
    let secrets = secrets_of(request.secrets)?;
    s.tasks
        .retry_task(&id, (!secrets.is_empty()).then(|| s.sealer.seal(&secrets)))
        .await?;
    s.wake.notify_one();
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Debug, Deserialize)]
struct AfterQuery {
    after: Option<String>,
}

fn parse_after(q: &AfterQuery) -> Result<Option<i64>, ApiError> {
    q.after
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| ApiError::input(format!("Invalid after '{s}': expected an event id")))
        })
        .transpose()
}

async fn event_stream(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<AfterQuery>,
) -> Result<Response, ApiError> {
    task_or_404(&state, &caller, &id).await?;
    let after = parse_after(&q)?;
    let tasks = scaffolder(&state)?.tasks.clone();
    struct Cursor {
        after: Option<i64>,
        pending: std::collections::VecDeque<TaskEventRecord>,
        done: bool,
    }
    let stream = futures::stream::unfold(
        Cursor {
            after,
            pending: Default::default(),
            done: false,
        },
        move |mut cursor| {
            let tasks = tasks.clone();
            let id = id.clone();
            async move {
                loop {
                    if let Some(event) = cursor.pending.pop_front() {
                        cursor.after = Some(event.id);
                        if event.event_type == "completion" {
                            cursor.done = true;
                            cursor.pending.clear();
                        }
                        let kind = event.event_type.clone();
                        let data = serde_json::to_string(&event_body(event)).unwrap_or_default();
                        return Some((
                            Ok::<_, Infallible>(Event::default().event(kind).data(data)),
                            cursor,
                        ));
                    }
                    if cursor.done {
                        return None;
                    }
                    match tasks.list_events(&id, cursor.after).await {
                        Ok(events) if !events.is_empty() => cursor.pending.extend(events),
                        Ok(_) => tokio::time::sleep(POLL_EVERY).await,
                        Err(e) => {
                            tracing::warn!(task = %id, "reading task events failed: {e}");
                            return None;
                        }
                    }
                }
            }
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response.headers_mut().insert(
        "cache-control",
        axum::http::HeaderValue::from_static("no-cache"),
    );
    Ok(response)
}

async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<AfterQuery>,
) -> Result<Json<Vec<TaskEvent>>, ApiError> {
    task_or_404(&state, &caller, &id).await?;
    let after = parse_after(&q)?;
    let tasks = scaffolder(&state)?.tasks.clone();
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        let found = tasks.list_events(&id, after).await?;
        if !found.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(found.into_iter().map(event_body).collect()));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DryRunRequest {
    template: Value,
    #[serde(default)]
    values: Value,
    #[serde(default)]
    secrets: Option<Map<String, Value>>,
    #[serde(default)]
    directory_contents: Vec<greenroom_model::scaffolder::DirectoryFile>,
}

async fn dry_run_route(
    State(state): State<AppState>,
    caller: Caller,
    StrictJson(request): StrictJson<DryRunRequest>,
) -> Result<Response, ApiError> {
    authorize(&state, &caller, &SCAFFOLDER_TEMPLATE_DRY_RUN)?;
    let s = scaffolder(&state)?;
    let template = request
        .template
        .as_object()
        .cloned()
        .ok_or_else(|| ApiError::input("template must be a Template entity object"))?;
    check_template(&template).map_err(ApiError::input)?;
    let values = match checked_values(&template, request.values) {
        Ok(values) => values,
        Err(errors) => return Ok(value_errors(errors)),
    };
    let secrets = secrets_of(request.secrets)?;
    // The uploaded files stand in for the template's directory.
    let dir = tempfile::tempdir().map_err(|e| ApiError::internal(e.to_string()))?;
    let workspace = super::workspace::Workspace::new(dir.path())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    use base64::Engine;
    for file in &request.directory_contents {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&file.base64_content)
            .map_err(|e| {
                ApiError::input(format!(
                    "directoryContents {}: invalid base64: {e}",
                    file.path
                ))
            })?;
        workspace
            .write(&file.path, &bytes)
            .map_err(|e| ApiError::input(format!("directoryContents {}: {e}", file.path)))?;
    }
    let (source, _clone) = if request.directory_contents.is_empty() {
        template_source(template_base_url(&template).as_deref(), &s.services.scm).await
    } else {
        (
            super::actions::TemplateSource::Directory(workspace.root().to_path_buf()),
            None,
        )
    };
    let user = user_of(&state, &caller).await;
    let result = dry_run(
        s.services.clone(),
        &template,
        values,
        secrets,
        source,
        Some(user),
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(result.to_response()).into_response())
}
