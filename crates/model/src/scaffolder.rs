//! Scaffolder wire types (reference section 4): Template v1beta3 pieces, task
//! specs, tasks, events, the parameter-schema answer and the action list.
//! Shared by the server, the `greenroom template` CLI and the web UI.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Entity;

pub const TEMPLATE_API_VERSION: &str = "scaffolder.backstage.io/v1beta3";

/// Backstage's title for a parameter page that has none.
pub const DEFAULT_PAGE_TITLE: &str = "Please enter the following information";

/// One step of a template, with Backstage's defaults applied (`id` is
/// `step-<n>`, `name` is the action id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateStep {
    pub id: String,
    pub name: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub if_: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<Value>,
}

/// `spec.parameters` as a list of pages (an object is one page).
pub fn parameter_pages(spec: &Map<String, Value>) -> Vec<Map<String, Value>> {
    match spec.get("parameters") {
        Some(Value::Array(pages)) => pages
            .iter()
            .filter_map(|p| p.as_object().cloned())
            .collect(),
        Some(Value::Object(page)) => vec![page.clone()],
        _ => Vec::new(),
    }
}

/// The steps of `spec.steps` with defaults applied; entries that are not
/// objects or have no `action` are reported by validation, not here.
pub fn template_steps(spec: &Map<String, Value>) -> Vec<TemplateStep> {
    let Some(Value::Array(steps)) = spec.get("steps") else {
        return Vec::new();
    };
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let s = s.as_object()?;
            let action = s.get("action")?.as_str()?.to_string();
            Some(TemplateStep {
                id: s
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("step-{}", i + 1)),
                name: s
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| action.clone()),
                action,
                input: s.get("input").cloned(),
                if_: s.get("if").cloned(),
                each: s.get("each").cloned(),
            })
        })
        .collect()
}

/// One page of `GET /v2/templates/:ns/:kind/:name/parameter-schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterPage {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Value>,
    pub schema: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterSchema {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<Value>,
    #[serde(
        rename = "ui:options",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ui_options: Option<Value>,
    pub steps: Vec<ParameterPage>,
}

/// Builds the parameter-schema answer from a Template entity, as Backstage's
/// router does: each page without its title/description is the schema.
pub fn parameter_schema(template: &Entity) -> ParameterSchema {
    let metadata = template.get("metadata").and_then(Value::as_object);
    let spec = template
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    ParameterSchema {
        title: metadata
            .and_then(|m| m.get("title"))
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_string(),
        description: metadata
            .and_then(|m| m.get("description"))
            .and_then(Value::as_str)
            .map(str::to_string),
        presentation: spec.get("presentation").cloned(),
        ui_options: None,
        steps: parameter_pages(&spec)
            .into_iter()
            .map(|mut page| {
                let title = page
                    .remove("title")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| DEFAULT_PAGE_TITLE.to_string());
                let description = page
                    .remove("description")
                    .and_then(|v| v.as_str().map(str::to_string));
                let when = page.remove("when");
                ParameterPage {
                    title,
                    description,
                    when,
                    schema: Value::Object(page),
                }
            })
            .collect(),
    }
}

/// `open` -> `processing` -> `completed` | `failed` | `cancelled`; `skipped`
/// is a step status only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Open,
    Processing,
    Completed,
    Failed,
    Cancelled,
    Skipped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Processing => "processing",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => TaskStatus::Open,
            "processing" => TaskStatus::Processing,
            "completed" => TaskStatus::Completed,
            "failed" => TaskStatus::Failed,
            "cancelled" => TaskStatus::Cancelled,
            "skipped" => TaskStatus::Skipped,
            _ => return None,
        })
    }

    /// A task in this status will not change again (unless retried).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInfo {
    pub entity_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<Value>,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub user_ref: Option<String>,
}

/// What a task runs: a snapshot of the template and the submitted values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSpec {
    pub api_version: String,
    pub parameters: Value,
    pub steps: Vec<TemplateStep>,
    #[serde(default)]
    pub output: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_info: Option<TemplateInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<TaskUser>,
}

/// `SerializedTask` of the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub spec: TaskSpec,
    pub status: TaskStatus,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    pub tasks: Vec<Task>,
    pub total_tasks: u64,
}

/// Event types of the task log.
pub mod event_type {
    pub const LOG: &str = "log";
    pub const COMPLETION: &str = "completion";
    pub const CANCELLED: &str = "cancelled";
    pub const RECOVERED: &str = "recovered";
}

/// `SerializedTaskEvent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    pub id: i64,
    pub task_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub body: Value,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_task_recoverable: Option<bool>,
}

/// `GET /v2/actions` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionInfo {
    pub id: String,
    pub description: String,
    #[serde(default)]
    pub examples: Vec<Value>,
    pub schema: ActionSchema,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActionSchema {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

/// `POST /v2/tasks` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskRequest {
    pub template_ref: String,
    #[serde(default)]
    pub values: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Map<String, Value>>,
}

/// One file of a dry run's input or output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryFile {
    pub path: String,
    pub base64_content: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub executable: bool,
}

/// A field-level problem with submitted values (jsonschema's ValidationError
/// shape as Backstage returns it in `{errors: [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueError {
    /// `instance.<field>` as Backstage's validator names it (`instance` for
    /// the page itself).
    pub property: String,
    /// The field the problem belongs to, as path segments (for `required`:
    /// the missing field), so a form can show it beside that field.
    #[serde(default)]
    pub path: Vec<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stack: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_get_backstage_defaults() {
        let spec = json!({"steps": [
            {"action": "debug:log", "input": {"message": "hi"}},
            {"id": "pub", "name": "Publish", "action": "publish:git", "if": "${{ parameters.x }}"},
            {"id": "broken"}
        ]});
        let steps = template_steps(spec.as_object().unwrap());
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].id, "step-1");
        assert_eq!(steps[0].name, "debug:log");
        assert_eq!(steps[1].if_, Some(json!("${{ parameters.x }}")));
    }

    #[test]
    fn parameter_schema_pages() {
        let template = json!({
            "metadata": {"name": "svc", "description": "A service"},
            "spec": {"parameters": [
                {"title": "Basics", "required": ["name"], "properties": {"name": {"type": "string"}}},
                {"properties": {"repoUrl": {"type": "string"}}}
            ]}
        });
        let schema = parameter_schema(template.as_object().unwrap());
        assert_eq!(schema.title, "svc");
        assert_eq!(schema.description.as_deref(), Some("A service"));
        assert_eq!(schema.steps[0].title, "Basics");
        assert_eq!(schema.steps[0].schema["required"], json!(["name"]));
        assert!(schema.steps[0].schema.get("title").is_none());
        assert_eq!(schema.steps[1].title, DEFAULT_PAGE_TITLE);
    }

    #[test]
    fn object_parameters_are_one_page() {
        let spec = json!({"parameters": {"properties": {"a": {"type": "string"}}}});
        assert_eq!(parameter_pages(spec.as_object().unwrap()).len(), 1);
    }

    #[test]
    fn status_round_trip() {
        for s in [
            "open",
            "processing",
            "completed",
            "failed",
            "cancelled",
            "skipped",
        ] {
            assert_eq!(TaskStatus::parse(s).unwrap().as_str(), s);
        }
        assert!(TaskStatus::Failed.is_final());
        assert!(!TaskStatus::Processing.is_final());
    }
}
