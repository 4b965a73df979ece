//! The scaffolder API under `/api/scaffolder` (templates' parameter forms,
//! tasks, their event streams, actions) and what the task page makes of a
//! task's events. URLs, decoding and event bookkeeping are plain functions,
//! unit-tested on the host; only the request functions touch the browser.

use std::collections::BTreeMap;

use crate::api::{encode_component, get_json, ApiError, EntitiesPage, CATALOG_API};
use greenroom_model::scaffolder::{
    event_type, ActionInfo, CreateTaskRequest, ParameterSchema, Task, TaskEvent, TaskList,
    TaskStatus, ValueError,
};
use greenroom_model::Entity;
use serde::Deserialize;
use serde_json::Value;

pub const SCAFFOLDER_API: &str = "/api/scaffolder";

/// How many tasks one page of the task list shows.
pub const TASKS_PAGE_SIZE: u64 = 20;

/// The fields the template cards show.
pub const TEMPLATE_FIELDS: &str = "kind,metadata.name,metadata.namespace,metadata.title,\
metadata.description,metadata.tags,spec.type,spec.owner";

/// `template:<namespace>/<name>`, the `templateRef` of a new task.
pub fn template_ref(namespace: &str, name: &str) -> String {
    format!("template:{namespace}/{name}")
}

/// The app's form page of a template.
pub fn template_form_path(namespace: &str, name: &str) -> String {
    format!(
        "/create/templates/{}/{}",
        encode_component(namespace),
        encode_component(name)
    )
}

/// The form page of the template a reference names (`template:ns/name`).
pub fn template_form_path_of_ref(entity_ref: &str) -> Option<String> {
    let parsed = greenroom_model::EntityRef::parse(entity_ref, Some("template"), "default").ok()?;
    Some(template_form_path(&parsed.namespace, &parsed.name))
}

pub fn task_path(id: &str) -> String {
    format!("/create/tasks/{}", encode_component(id))
}

pub fn parameter_schema_url(namespace: &str, name: &str) -> String {
    format!(
        "{SCAFFOLDER_API}/v2/templates/{}/template/{}/parameter-schema",
        encode_component(namespace),
        encode_component(name)
    )
}

pub fn task_url(id: &str) -> String {
    format!("{SCAFFOLDER_API}/v2/tasks/{}", encode_component(id))
}

/// The task's event stream, from after the event `after` (all of it without).
pub fn event_stream_url(id: &str, after: Option<i64>) -> String {
    match after {
        Some(after) => format!("{}/eventstream?after={after}", task_url(id)),
        None => format!("{}/eventstream", task_url(id)),
    }
}

/// One page of the task list, optionally of one status.
pub fn tasks_url(status: Option<&str>, offset: u64) -> String {
    let mut url = format!("{SCAFFOLDER_API}/v2/tasks?limit={TASKS_PAGE_SIZE}&offset={offset}");
    if let Some(status) = status {
        url.push_str("&status=");
        url.push_str(&encode_component(status));
    }
    url
}

/// The task list page's address.
pub fn tasks_path(status: Option<&str>, page: u64) -> String {
    let mut params = Vec::new();
    if let Some(status) = status {
        params.push(("status", status.to_string()));
    }
    if page > 1 {
        params.push(("page", page.to_string()));
    }
    crate::catalog_query::with_params("/create/tasks", &params)
}

/// One page of Template entities (the first without a cursor).
pub fn templates_url(cursor: Option<&str>) -> String {
    let mut url = format!(
        "{CATALOG_API}/entities/by-query?limit=100&fields={}",
        encode_component(TEMPLATE_FIELDS)
    );
    match cursor {
        Some(cursor) => {
            url.push_str("&cursor=");
            url.push_str(&encode_component(cursor));
        }
        None => url.push_str("&filter=kind%3Dtemplate&orderField=metadata.name%2Casc"),
    }
    url
}

/// Every Template entity in the catalog, following the pages.
pub async fn fetch_templates() -> Result<Vec<Entity>, ApiError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    // Templates number in the tens; the bound only guards against a loop.
    for _ in 0..50 {
        let page: EntitiesPage = get_json(&templates_url(cursor.as_deref())).await?;
        all.extend(page.items);
        match page.page_info.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(all)
}

pub async fn fetch_parameter_schema(
    namespace: String,
    name: String,
) -> Result<ParameterSchema, ApiError> {
    get_json(&parameter_schema_url(&namespace, &name)).await
}

pub async fn fetch_task(id: String) -> Result<Task, ApiError> {
    get_json(&task_url(&id)).await
}

pub async fn fetch_tasks(status: Option<String>, offset: u64) -> Result<TaskList, ApiError> {
    get_json(&tasks_url(status.as_deref(), offset)).await
}

pub async fn fetch_actions() -> Result<Vec<ActionInfo>, ApiError> {
    get_json(&format!("{SCAFFOLDER_API}/v2/actions")).await
}

/// Why a new task was not created.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateError {
    /// The values do not fit the template's parameters (400 `{errors}`).
    Invalid(Vec<ValueError>),
    Failed(ApiError),
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Invalid {
    #[serde(default)]
    errors: Vec<ValueError>,
}

/// Reads the answer to `POST /v2/tasks`: the id, the field errors of a 400,
/// or the error.
pub fn read_create_answer(status: u16, body: &str) -> Result<String, CreateError> {
    if (200..300).contains(&status) {
        return serde_json::from_str::<Created>(body)
            .map(|c| c.id)
            .map_err(|e| CreateError::Failed(ApiError::Decode(e.to_string())));
    }
    if status == 400 {
        if let Ok(invalid) = serde_json::from_str::<Invalid>(body) {
            if !invalid.errors.is_empty() {
                return Err(CreateError::Invalid(invalid.errors));
            }
        }
    }
    Err(CreateError::Failed(ApiError::from_response(status, body)))
}

/// `POST /v2/tasks`: starts a task, answering its id.
pub async fn create_task(request: CreateTaskRequest) -> Result<String, CreateError> {
    let (status, body) = post(&format!("{SCAFFOLDER_API}/v2/tasks"), &request)
        .await
        .map_err(CreateError::Failed)?;
    read_create_answer(status, &body)
}

/// `POST /v2/tasks/:id/cancel`.
pub async fn cancel_task(id: String) -> Result<(), ApiError> {
    let (status, body) = post(&format!("{}/cancel", task_url(&id)), &Value::Null).await?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(ApiError::from_response(status, &body))
    }
}

/// `POST /v2/tasks/:id/retry`: the id of the task that runs again.
pub async fn retry_task(id: String) -> Result<String, ApiError> {
    let (status, body) = post(&format!("{}/retry", task_url(&id)), &Value::Null).await?;
    match read_create_answer(status, &body) {
        Ok(new_id) => Ok(new_id),
        Err(CreateError::Failed(error)) => Err(error),
        Err(CreateError::Invalid(errors)) => Err(ApiError::Status {
            status,
            message: errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// POSTs `body` (JSON, or nothing for `null`) and answers the status and text.
async fn post<B: serde::Serialize>(url: &str, body: &B) -> Result<(u16, String), ApiError> {
    let request = crate::api::post(url).header("Accept", "application/json");
    let request = if serde_json::to_value(body).is_ok_and(|v| v.is_null()) {
        request.build()
    } else {
        request.json(body)
    }
    .map_err(|e| ApiError::Decode(e.to_string()))?;
    let response = crate::api::send(request).await?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    Ok((status, text))
}

// ---------------------------------------------------------------------------
// A task's progress, from its events
// ---------------------------------------------------------------------------

/// One line of the task log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub id: i64,
    pub step_id: Option<String>,
    pub message: String,
    pub created_at: String,
}

/// What the log says about one step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepState {
    pub status: Option<TaskStatus>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

/// A link of the task output.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLink {
    pub title: Option<String>,
    pub icon: Option<String>,
    pub url: Option<String>,
    pub entity_ref: Option<String>,
}

/// A text of the task output.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct OutputText {
    pub title: Option<String>,
    pub content: Option<String>,
}

/// The end of a run: the template's output, or why it failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    pub message: String,
    pub links: Vec<OutputLink>,
    pub texts: Vec<OutputText>,
    pub error: Option<String>,
}

/// Everything the task page shows that comes from the event stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub last_id: Option<i64>,
    pub steps: BTreeMap<String, StepState>,
    pub log: Vec<LogLine>,
    pub completion: Option<Completion>,
    pub cancel_requested: bool,
}

fn output_list<T: for<'de> Deserialize<'de>>(output: Option<&Value>, key: &str) -> Vec<T> {
    output
        .and_then(|o| o.get(key))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| serde_json::from_value(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes terminal colour codes (`ESC [ ... m` and the like) from a log line.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte.
                for next in chars.by_ref() {
                    if ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

impl Progress {
    /// Takes in one event; events seen before (by id) are ignored, so a
    /// replayed stream can be applied over what is already shown. Answers
    /// whether the event was new.
    pub fn apply(&mut self, event: &TaskEvent) -> bool {
        if self.last_id.is_some_and(|last| event.id <= last) {
            return false;
        }
        self.last_id = Some(event.id);
        let body = &event.body;
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .map(strip_ansi)
            .unwrap_or_default();
        let step_id = body
            .get("stepId")
            .and_then(Value::as_str)
            .map(str::to_string);
        match event.event_type.as_str() {
            event_type::LOG => {
                if let (Some(step), Some(status)) = (
                    &step_id,
                    body.get("status")
                        .and_then(Value::as_str)
                        .and_then(TaskStatus::parse),
                ) {
                    let state = self.steps.entry(step.clone()).or_default();
                    state.status = Some(status);
                    if status == TaskStatus::Processing {
                        state
                            .started_at
                            .get_or_insert_with(|| event.created_at.clone());
                    } else if status.is_final() || status == TaskStatus::Skipped {
                        state.ended_at = Some(event.created_at.clone());
                    }
                }
            }
            event_type::COMPLETION => {
                let output = body.get("output");
                let error = body.get("error").map(|e| {
                    e.get("message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string())
                });
                self.completion = Some(Completion {
                    message: message.clone(),
                    links: output_list(output, "links"),
                    texts: output_list(output, "text"),
                    error,
                });
                // Steps still running when the run ended did not finish.
                for state in self.steps.values_mut() {
                    if state.status == Some(TaskStatus::Processing) {
                        state.status = Some(if body.get("error").is_some() {
                            TaskStatus::Failed
                        } else {
                            TaskStatus::Completed
                        });
                        state.ended_at = Some(event.created_at.clone());
                    }
                }
            }
            event_type::CANCELLED => self.cancel_requested = true,
            _ => {}
        }
        if !message.is_empty() {
            self.log.push(LogLine {
                id: event.id,
                step_id,
                message,
                created_at: event.created_at.clone(),
            });
        }
        true
    }

    /// The task's status as far as the events tell, starting from `known`.
    pub fn status(&self, known: TaskStatus) -> TaskStatus {
        match &self.completion {
            Some(_) if known.is_final() => known,
            Some(completion) if completion.error.is_some() => {
                if self.cancel_requested {
                    TaskStatus::Cancelled
                } else {
                    TaskStatus::Failed
                }
            }
            Some(_) => TaskStatus::Completed,
            None if known == TaskStatus::Open && !self.steps.is_empty() => TaskStatus::Processing,
            None => known,
        }
    }
}

/// A status in words, for people (the icon beside it is decoration).
pub fn status_label(status: Option<TaskStatus>) -> &'static str {
    match status {
        None => "Not started",
        Some(TaskStatus::Open) => "Waiting to start",
        Some(TaskStatus::Processing) => "Running",
        Some(TaskStatus::Completed) => "Completed",
        Some(TaskStatus::Failed) => "Failed",
        Some(TaskStatus::Cancelled) => "Cancelled",
        Some(TaskStatus::Skipped) => "Skipped",
    }
}

/// A symbol for a status, shown beside its label.
pub fn status_icon(status: Option<TaskStatus>) -> &'static str {
    match status {
        None | Some(TaskStatus::Open) => "○",
        Some(TaskStatus::Processing) => "◔",
        Some(TaskStatus::Completed) => "✓",
        Some(TaskStatus::Failed) => "✕",
        Some(TaskStatus::Cancelled) => "⊘",
        Some(TaskStatus::Skipped) => "↷",
    }
}

/// The CSS class of a status.
pub fn status_class(status: Option<TaskStatus>) -> String {
    format!(
        "status status-{}",
        status.map(TaskStatus::as_str).unwrap_or("pending")
    )
}

// ---------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())
        .flatten()
}

/// Milliseconds since 1970 of an RFC 3339 time (`2024-05-01T10:00:00.250Z`,
/// or with an offset), or `None` when it is not one.
pub fn timestamp_millis(text: &str) -> Option<i64> {
    let text = text.trim();
    let (year, month, day) = (
        digits(text, 0..4)?,
        digits(text, 5..7)?,
        digits(text, 8..10)?,
    );
    if !matches!(text.get(10..11), Some("T" | "t" | " ")) {
        return None;
    }
    let (hour, minute, second) = (
        digits(text, 11..13)?,
        digits(text, 14..16)?,
        digits(text, 17..19)?,
    );
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let first3: String = fraction[..len]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = first3.parse().ok()?;
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            sign * (digits(rest, 1..3)? * 60 + digits(rest, 4..6)?)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// How long a step took, in words (`0.4 s`, `12 s`, `3 min 5 s`).
pub fn duration_text(from: &str, to: &str) -> Option<String> {
    let millis = timestamp_millis(to)? - timestamp_millis(from)?;
    if millis < 0 {
        return None;
    }
    Some(if millis < 10_000 {
        format!("{:.1} s", millis as f64 / 1000.0)
    } else if millis < 60_000 {
        format!("{} s", millis / 1000)
    } else {
        format!("{} min {} s", millis / 60_000, (millis % 60_000) / 1000)
    })
}

/// A time as the reader's browser writes local times; the text itself outside the browser.
pub fn local_time(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(millis) = timestamp_millis(text) {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis as f64));
            return String::from(
                date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED),
            );
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: i64, kind: &str, body: Value) -> TaskEvent {
        TaskEvent {
            id,
            task_id: "t".into(),
            event_type: kind.into(),
            body,
            created_at: format!("2024-05-01T10:00:{id:02}Z"),
            is_task_recoverable: None,
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            parameter_schema_url("default", "rust-service"),
            "/api/scaffolder/v2/templates/default/template/rust-service/parameter-schema"
        );
        assert_eq!(template_ref("default", "x"), "template:default/x");
        assert_eq!(
            event_stream_url("a b", Some(7)),
            "/api/scaffolder/v2/tasks/a%20b/eventstream?after=7"
        );
        assert_eq!(
            tasks_url(Some("failed"), 40),
            "/api/scaffolder/v2/tasks?limit=20&offset=40&status=failed"
        );
        assert_eq!(tasks_path(None, 1), "/create/tasks");
        assert_eq!(
            tasks_path(Some("open"), 3),
            "/create/tasks?status=open&page=3"
        );
        assert_eq!(
            template_form_path_of_ref("template:team/svc").as_deref(),
            Some("/create/templates/team/svc")
        );
        assert!(templates_url(None).contains("filter=kind%3Dtemplate"));
        assert!(templates_url(Some("c")).ends_with("&cursor=c"));
    }

    #[test]
    fn create_answers() {
        assert_eq!(read_create_answer(201, r#"{"id":"abc"}"#), Ok("abc".into()));
        match read_create_answer(
            400,
            r#"{"errors":[{"property":"instance.name","path":["name"],"message":"does not match pattern","name":"pattern","stack":"s"}]}"#,
        ) {
            Err(CreateError::Invalid(errors)) => {
                assert_eq!(errors[0].path, ["name"]);
                assert_eq!(errors[0].message, "does not match pattern");
            }
            other => panic!("{other:?}"),
        }
        match read_create_answer(
            404,
            r#"{"error":{"name":"NotFoundError","message":"Template not found"}}"#,
        ) {
            Err(CreateError::Failed(error)) => {
                assert_eq!(error.to_string(), "Template not found (HTTP 404)")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_create_answer(400, r#"{"error":{"name":"InputError","message":"bad"}}"#),
            Err(CreateError::Failed(_))
        ));
    }

    #[test]
    fn progress_follows_steps_log_and_completion() {
        let mut progress = Progress::default();
        assert!(progress.apply(&event(
            1,
            "log",
            json!({"message": "Starting up task with 2 steps"})
        )));
        assert!(progress.apply(&event(
            2,
            "log",
            json!({"message": "Beginning step Fetch", "stepId": "fetch", "status": "processing"})
        )));
        assert_eq!(progress.status(TaskStatus::Open), TaskStatus::Processing);
        assert!(progress.apply(&event(
            3,
            "log",
            json!({"message": "\u{1b}[32minfo\u{1b}[39m: fetched", "stepId": "fetch"})
        )));
        assert!(progress.apply(&event(
            4,
            "log",
            json!({"message": "Finished step Fetch", "stepId": "fetch", "status": "completed"})
        )));
        // A replayed event changes nothing.
        assert!(!progress.apply(&event(
            3,
            "log",
            json!({"message": "again", "stepId": "fetch"})
        )));
        assert!(progress.apply(&event(5, "log", json!({"message": "Beginning step Publish", "stepId": "publish", "status": "processing"}))));
        assert!(progress.apply(&event(6, "completion", json!({
            "message": "Run completed with status: completed",
            "output": {
                "links": [{"title": "Repository", "url": "https://git.example/acme/x"}, {"title": "Open in catalog", "icon": "catalog", "entityRef": "component:default/x"}],
                "text": [{"title": "Next", "content": "Deploy it"}]
            }
        }))));
        assert_eq!(progress.log.len(), 6);
        assert_eq!(progress.log[2].message, "info: fetched");
        assert_eq!(progress.log[2].step_id.as_deref(), Some("fetch"));
        let fetch = &progress.steps["fetch"];
        assert_eq!(fetch.status, Some(TaskStatus::Completed));
        assert_eq!(
            duration_text(
                fetch.started_at.as_ref().unwrap(),
                fetch.ended_at.as_ref().unwrap()
            )
            .as_deref(),
            Some("2.0 s")
        );
        assert_eq!(
            progress.steps["publish"].status,
            Some(TaskStatus::Completed)
        );
        let completion = progress.completion.as_ref().unwrap();
        assert_eq!(completion.links.len(), 2);
        assert_eq!(
            completion.links[1].entity_ref.as_deref(),
            Some("component:default/x")
        );
        assert_eq!(completion.texts[0].content.as_deref(), Some("Deploy it"));
        assert_eq!(
            progress.status(TaskStatus::Processing),
            TaskStatus::Completed
        );
        assert_eq!(
            progress.status(TaskStatus::Completed),
            TaskStatus::Completed
        );
    }

    #[test]
    fn a_failed_run_reports_its_error() {
        let mut progress = Progress::default();
        progress.apply(&event(
            1,
            "log",
            json!({"message": "Beginning step", "stepId": "a", "status": "processing"}),
        ));
        progress.apply(&event(
            2,
            "log",
            json!({"message": "boom", "stepId": "a", "status": "failed"}),
        ));
        progress.apply(&event(3, "completion", json!({"message": "Run completed with status: failed", "error": {"name": "Error", "message": "Repository exists"}})));
        assert_eq!(progress.steps["a"].status, Some(TaskStatus::Failed));
        assert_eq!(
            progress.completion.as_ref().unwrap().error.as_deref(),
            Some("Repository exists")
        );
        assert_eq!(progress.status(TaskStatus::Processing), TaskStatus::Failed);

        let mut cancelled = Progress::default();
        cancelled.apply(&event(
            1,
            "cancelled",
            json!({"message": "Cancelled by user"}),
        ));
        cancelled.apply(&event(
            2,
            "completion",
            json!({"message": "x", "error": {"message": "cancelled"}}),
        ));
        assert_eq!(
            cancelled.status(TaskStatus::Processing),
            TaskStatus::Cancelled
        );
    }

    #[test]
    fn times() {
        assert_eq!(timestamp_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(timestamp_millis("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        assert_eq!(
            timestamp_millis("2024-05-01T12:00:00+02:00"),
            timestamp_millis("2024-05-01T10:00:00Z")
        );
        assert_eq!(
            timestamp_millis("2024-05-01T10:00:00.123456Z").map(|m| m % 1000),
            Some(123)
        );
        assert_eq!(timestamp_millis("yesterday"), None);
        assert_eq!(
            duration_text("2024-05-01T10:00:00Z", "2024-05-01T10:03:05Z").as_deref(),
            Some("3 min 5 s")
        );
        assert_eq!(
            duration_text("2024-05-01T10:00:00Z", "2024-05-01T10:00:42Z").as_deref(),
            Some("42 s")
        );
        assert_eq!(local_time("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00Z");
    }

    #[test]
    fn statuses_read_as_words() {
        assert_eq!(status_label(Some(TaskStatus::Processing)), "Running");
        assert_eq!(status_label(None), "Not started");
        assert_eq!(
            status_class(Some(TaskStatus::Failed)),
            "status status-failed"
        );
        assert_eq!(strip_ansi("\u{1b}[1;31mred\u{1b}[0m plain"), "red plain");
    }
}
