//! Scaffolder actions: each has an id, a description, JSON Schemas for its
//! input and output, and says whether it can take part in a dry run. The
//! runner validates a step's rendered input against the input schema before
//! calling [`Action::run`].

mod catalog;
mod debug;
mod fetch;
mod fs;
mod gitops;
mod publish;
mod pull_request;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use greenroom_model::scaffolder::{ActionInfo, ActionSchema, TaskUser, TemplateInfo};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::workspace::{Workspace, WorkspaceError};
use super::Services;

pub use gitops::XrdSet;

/// Why an action failed; the message goes into the task log as is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ActionError(pub String);

impl ActionError {
    pub fn new(message: impl Into<String>) -> Self {
        ActionError(message.into())
    }
}

impl From<WorkspaceError> for ActionError {
    fn from(e: WorkspaceError) -> Self {
        ActionError(e.to_string())
    }
}

impl From<std::io::Error> for ActionError {
    fn from(e: std::io::Error) -> Self {
        ActionError(e.to_string())
    }
}

impl From<crate::scm::ScmError> for ActionError {
    fn from(e: crate::scm::ScmError) -> Self {
        ActionError(e.to_string())
    }
}

impl From<crate::scm::git::GitError> for ActionError {
    fn from(e: crate::scm::git::GitError) -> Self {
        ActionError(e.to_string())
    }
}

/// Log lines from an action; the runner stamps them with the step id.
pub type LogSink = tokio::sync::mpsc::UnboundedSender<String>;

/// Where a template's own files are (what relative `url` inputs of the fetch
/// actions resolve against, and what they may not leave).
#[derive(Debug, Clone)]
pub enum TemplateSource {
    /// A local directory (a `file` location, a checkout of a Git location,
    /// or a dry run's uploaded `directoryContents`).
    Directory(PathBuf),
    /// The template's location cannot be fetched from.
    Unavailable(String),
}

/// Everything an action run sees.
pub struct ActionContext {
    pub task_id: String,
    pub step_id: String,
    pub input: Value,
    pub workspace: Workspace,
    pub template: TemplateSource,
    pub template_info: Option<TemplateInfo>,
    pub secrets: Map<String, Value>,
    pub user: Option<TaskUser>,
    pub dry_run: bool,
    pub cancel: CancellationToken,
    pub services: Arc<Services>,
    log: LogSink,
    outputs: Map<String, Value>,
    /// Files a dry run produces outside the workspace (the GitOps commit),
    /// shown under their own prefix in the dry-run result.
    pub extra_files: Vec<(String, Vec<u8>)>,
}

impl ActionContext {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        task_id: String,
        step_id: String,
        input: Value,
        workspace: Workspace,
        template: TemplateSource,
        services: Arc<Services>,
        log: LogSink,
        cancel: CancellationToken,
    ) -> Self {
        ActionContext {
            task_id,
            step_id,
            input,
            workspace,
            template,
            template_info: None,
            secrets: Map::new(),
            user: None,
            dry_run: false,
            cancel,
            services,
            log,
            outputs: Map::new(),
            extra_files: Vec::new(),
        }
    }

    pub fn log(&self, message: impl Into<String>) {
        let _ = self.log.send(message.into());
    }

    pub fn output(&mut self, name: &str, value: Value) {
        self.outputs.insert(name.to_string(), value);
    }

    pub fn take_outputs(&mut self) -> Map<String, Value> {
        std::mem::take(&mut self.outputs)
    }

    /// A string input.
    pub fn str_input(&self, name: &str) -> Option<&str> {
        self.input.get(name).and_then(Value::as_str)
    }

    pub fn bool_input(&self, name: &str) -> Option<bool> {
        self.input.get(name).and_then(Value::as_bool)
    }

    /// The template directory, or why there is none.
    pub fn template_dir(&self) -> Result<&std::path::Path, ActionError> {
        match &self.template {
            TemplateSource::Directory(d) => Ok(d),
            TemplateSource::Unavailable(why) => Err(ActionError::new(why.clone())),
        }
    }
}

#[async_trait]
pub trait Action: Send + Sync {
    fn id(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn input_schema(&self) -> Value;
    fn output_schema(&self) -> Option<Value> {
        None
    }
    fn supports_dry_run(&self) -> bool {
        false
    }
    fn examples(&self) -> Vec<Value> {
        Vec::new()
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError>;
}

/// The installed actions, by id.
#[derive(Clone, Default)]
pub struct ActionRegistry {
    actions: BTreeMap<String, Arc<dyn Action>>,
}

impl ActionRegistry {
    /// The built-in actions.
    pub fn builtin() -> Self {
        let mut registry = ActionRegistry::default();
        for action in [
            Arc::new(fetch::FetchTemplate) as Arc<dyn Action>,
            Arc::new(fetch::FetchTemplateFile),
            Arc::new(fetch::FetchPlain),
            Arc::new(fetch::FetchPlainFile),
            Arc::new(fs::Rename),
            Arc::new(fs::Delete),
            Arc::new(fs::ReadDir),
            Arc::new(debug::Log),
            Arc::new(debug::Wait),
            Arc::new(catalog::Write),
            Arc::new(catalog::Register),
            Arc::new(catalog::Fetch),
            Arc::new(publish::Publish::git()),
            Arc::new(publish::Publish::github()),
            Arc::new(publish::Publish::gitlab()),
            Arc::new(pull_request::OpenPullRequest::github()),
            Arc::new(pull_request::OpenPullRequest::gitlab()),
            Arc::new(gitops::GitopsClaim),
        ] {
            registry.register(action);
        }
        registry
    }

    pub fn register(&mut self, action: Arc<dyn Action>) {
        self.actions.insert(action.id().to_string(), action);
    }

    pub fn get(&self, id: &str) -> Option<Arc<dyn Action>> {
        self.actions.get(id).cloned()
    }

    /// `GET /v2/actions`, sorted by id.
    pub fn list(&self) -> Vec<ActionInfo> {
        self.actions
            .values()
            .map(|a| ActionInfo {
                id: a.id().to_string(),
                description: a.description().to_string(),
                examples: a.examples(),
                schema: ActionSchema {
                    input: Some(a.input_schema()),
                    output: a.output_schema(),
                },
            })
            .collect()
    }
}

/// Example output for an action skipped in a dry run, from its output schema
/// (Backstage's `generateExampleOutput`): `examples[0]`, else `default`, else
/// a placeholder by type.
pub fn example_output(schema: &Value) -> Value {
    if let Some(example) = schema.get("examples").and_then(|e| e.get(0)) {
        return example.clone();
    }
    if let Some(default) = schema.get("default") {
        return default.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => Value::Object(
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.clone(), example_output(v)))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Some("array") => Value::Array(vec![]),
        Some("number") | Some("integer") => Value::from(0),
        Some("boolean") => Value::Bool(false),
        _ => Value::String("<example>".into()),
    }
}

/// A JSON Schema object with the given properties and required names.
pub(crate) fn object_schema(properties: Value, required: &[&str]) -> Value {
    serde_json::json!({
        "type": "object",
        "required": required,
        "properties": properties,
    })
}
