//! Dry runs: every step in dry-run mode in a throwaway workspace, nothing
//! pushed or registered; the result lists the log, the files produced (the
//! workspace, plus what would be committed to the GitOps repository under
//! `gitops/`) and the output. Serves `POST /v2/dry-run` and
//! `greenroom template dry-run`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use greenroom_model::scaffolder::{
    template_steps, DirectoryFile, TaskSpec, TaskStatus, TemplateStep, TEMPLATE_API_VERSION,
};
use greenroom_model::Entity;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use super::actions::TemplateSource;
use super::runner::{run_task, RunInput, RunSink};
use super::workspace::Workspace;
use super::Services;

#[derive(Default)]
struct MemorySink {
    log: Mutex<Vec<Value>>,
}

#[async_trait]
impl RunSink for MemorySink {
    async fn log(&self, body: Value) {
        self.log.lock().unwrap().push(body);
    }
    async fn step_done(&self, _checkpoint: &Value, _workspace: Option<String>, body: Value) {
        self.log.lock().unwrap().push(body);
    }
}

#[derive(Debug, Clone)]
pub struct DryRunResult {
    pub status: TaskStatus,
    pub log: Vec<Value>,
    pub files: Vec<DirectoryFile>,
    pub output: Value,
    pub steps: Vec<TemplateStep>,
    pub error: Option<String>,
}

impl DryRunResult {
    /// The body of `POST /v2/dry-run`.
    pub fn to_response(&self) -> Value {
        json!({
            "log": self.log.iter().map(|b| json!({"body": b})).collect::<Vec<_>>(),
            "directoryContents": self.files,
            "output": self.output,
            "steps": self.steps,
        })
    }
}

/// Runs `template` with `values` in dry-run mode.
pub async fn dry_run(
    services: Arc<Services>,
    template: &Entity,
    values: Value,
    secrets: Map<String, Value>,
    source: TemplateSource,
    user: Option<greenroom_model::scaffolder::TaskUser>,
) -> Result<DryRunResult, String> {
    let spec_map = template
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let steps = template_steps(&spec_map);
    let spec = TaskSpec {
        api_version: TEMPLATE_API_VERSION.into(),
        parameters: values,
        steps: steps.clone(),
        output: spec_map.get("output").cloned().unwrap_or(json!({})),
        template_info: None,
        user,
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let workspace = Workspace::new(dir.path()).map_err(|e| e.to_string())?;
    let sink = MemorySink::default();
    let input = RunInput {
        task_id: "dry-run".into(),
        spec,
        secrets,
        workspace: workspace.clone(),
        template: source,
        dry_run: true,
        cancel: CancellationToken::new(),
        checkpoint: None,
    };
    let outcome = run_task(services, &sink, &input).await;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut files = Vec::new();
    for rel in workspace.files().map_err(|e| e.to_string())? {
        let path = workspace.root().join(&rel);
        let content = std::fs::read(&path).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        let executable = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false);
        files.push(DirectoryFile {
            path: rel.to_string_lossy().to_string(),
            base64_content: engine.encode(content),
            executable,
        });
    }
    for (path, content) in &outcome.extra_files {
        files.push(DirectoryFile {
            path: path.clone(),
            base64_content: engine.encode(content),
            executable: false,
        });
    }
    let log = sink.log.into_inner().unwrap();
    Ok(DryRunResult {
        status: outcome.status,
        log,
        files,
        output: outcome.output,
        steps,
        error: outcome.error,
    })
}
