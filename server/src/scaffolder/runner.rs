//! Runs a task's steps the way Backstage's NunjucksWorkflowRunner does:
//! render each step's `if`, `each` and `input` against the context
//! (`parameters`, `steps.<id>.output`, `secrets`, `user`, `context`,
//! `environment`), validate the input against the action's schema, run the
//! action, record its outputs, and finally render `output`. The same runner
//! serves real tasks (events and checkpoints go to the database) and dry runs
//! (they stay in memory).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use greenroom_expressions::uses_status_functions;
use greenroom_model::scaffolder::{TaskSpec, TaskStatus};
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use super::actions::{example_output, ActionContext, ActionError, TemplateSource};
use super::workspace::Workspace;
use super::Services;

/// Where a run's events and checkpoints go.
#[async_trait]
pub trait RunSink: Send + Sync {
    /// One `log` event body (`{message, stepId?, status?}`).
    async fn log(&self, body: Value);
    /// The state after a step, with the step's closing log event. The
    /// snapshot is taken only when [`RunSink::wants_snapshots`] says so.
    async fn step_done(&self, checkpoint: &Value, workspace: Option<String>, body: Value);
    fn wants_snapshots(&self) -> bool {
        false
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub status: TaskStatus,
    pub output: Value,
    pub error: Option<String>,
    pub extra_files: Vec<(String, Vec<u8>)>,
}

/// What one run needs besides the spec.
pub struct RunInput {
    pub task_id: String,
    pub spec: TaskSpec,
    pub secrets: Map<String, Value>,
    pub workspace: Workspace,
    pub template: TemplateSource,
    pub dry_run: bool,
    pub cancel: CancellationToken,
    /// `{"steps": {"<id>": {"status", "output"}}}` of an earlier attempt.
    pub checkpoint: Option<Value>,
}

/// Replaces every secret value in a message with `***`.
pub fn redact(message: &str, secrets: &Map<String, Value>) -> String {
    let mut out = message.to_string();
    for value in secrets.values() {
        if let Some(s) = value.as_str().filter(|s| s.len() >= 3) {
            out = out.replace(s, "***");
        }
    }
    out
}

struct Run<'a> {
    services: Arc<Services>,
    sink: &'a dyn RunSink,
    input: &'a RunInput,
}

impl Run<'_> {
    async fn log(&self, message: &str, step: Option<&str>, status: Option<TaskStatus>) {
        let mut body = json!({ "message": redact(message, &self.input.secrets) });
        if let Some(s) = step {
            body["stepId"] = json!(s);
        }
        if let Some(st) = status {
            body["status"] = json!(st.as_str());
        }
        self.sink.log(body).await;
    }

    fn base_context(&self) -> Value {
        let spec = &self.input.spec;
        let environment = self
            .services
            .config
            .scaffolder
            .default_environment
            .as_ref()
            .map(|e| e.0.clone())
            .unwrap_or(json!({}));
        let user = spec.user.clone().unwrap_or_default();
        json!({
            "parameters": spec.parameters,
            "steps": {},
            "secrets": self.input.secrets,
            "user": {"entity": user.entity, "ref": user.user_ref},
            "context": {"task": {"id": self.input.task_id}},
            "environment": {
                "parameters": environment.get("parameters").cloned().unwrap_or(json!({})),
                "secrets": environment.get("secrets").cloned().unwrap_or(json!({})),
            },
            "__status": {"failed": false},
        })
    }
}

/// Drops `null` members of objects (Backstage drops `undefined` inputs).
fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

/// Checks an action input against its schema with Backstage's wording.
fn validate_input(action: &str, schema: &Value, input: &Value) -> Result<(), ActionError> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| ActionError::new(format!("The input schema of {action} is invalid: {e}")))?;
    let problems: Vec<String> = validator
        .iter_errors(input)
        .map(|e| {
            let path = e.instance_path().to_string();
            let at = if path.is_empty() {
                "instance".to_string()
            } else {
                format!("instance{}", path.replace('/', "."))
            };
            format!("{at} {e}")
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ActionError::new(format!(
            "Invalid input passed to action {action}, {}",
            problems.join(", ")
        )))
    }
}

/// The items of an `each` value: `{key, value}` per array element or object entry.
fn each_items(value: Value) -> Result<Vec<Value>, ActionError> {
    match value {
        Value::Array(items) => Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| json!({"key": i, "value": v}))
            .collect()),
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect()),
        other => Err(ActionError::new(format!(
            "Invalid value on action each: {other} is not a list or an object"
        ))),
    }
}

/// Runs every step of `input.spec`.
pub async fn run_task(services: Arc<Services>, sink: &dyn RunSink, input: &RunInput) -> RunOutcome {
    let run = Run {
        services: services.clone(),
        sink,
        input,
    };
    let renderer = services.renderer.clone();
    let mut context = run.base_context();
    let mut done: HashMap<String, Value> = HashMap::new();
    if let Some(steps) = input
        .checkpoint
        .as_ref()
        .and_then(|c| c.get("steps"))
        .and_then(Value::as_object)
    {
        for (id, state) in steps {
            done.insert(id.clone(), state.clone());
        }
    }
    let mut failed: Option<String> = None;
    let mut extra_files = Vec::new();
    let mut states: Map<String, Value> = done.iter().map(|(k, v)| (k.clone(), v.clone())).collect();

    for step in &input.spec.steps {
        if let Some(state) = done.get(&step.id) {
            // Done in an earlier attempt: its outputs are reused, it is not run again.
            context["steps"][&step.id] =
                json!({"output": state.get("output").cloned().unwrap_or(json!({}))});
            continue;
        }
        if input.cancel.is_cancelled() {
            return RunOutcome {
                status: TaskStatus::Cancelled,
                output: json!({}),
                error: None,
                extra_files,
            };
        }
        let if_uses_status = step
            .if_
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(uses_status_functions);
        if failed.is_some() && !if_uses_status {
            run.log(
                &format!("Skipping step {} because an earlier step failed", step.id),
                Some(&step.id),
                Some(TaskStatus::Skipped),
            )
            .await;
            continue;
        }
        if let Some(condition) = &step.if_ {
            match renderer.is_truthy(condition, &context) {
                Ok(true) => {}
                Ok(false) => {
                    let body = json!({
                        "message": format!("Skipping step {} because its if condition was false", step.id),
                        "stepId": step.id, "status": "skipped"
                    });
                    states.insert(step.id.clone(), json!({"status": "skipped", "output": {}}));
                    sink.step_done(&json!({"steps": states}), None, body).await;
                    continue;
                }
                Err(e) => {
                    let message = format!("Step {} has an invalid if condition: {e}", step.id);
                    run.log(&message, Some(&step.id), Some(TaskStatus::Failed))
                        .await;
                    failed = Some(message);
                    context["__status"]["failed"] = json!(true);
                    continue;
                }
            }
        }
        run.log(
            &format!("Beginning step {}", step.name),
            Some(&step.id),
            Some(TaskStatus::Processing),
        )
        .await;
        match run_step(&run, step, &mut context, &mut extra_files).await {
            Ok(output) => {
                context["steps"][&step.id] = json!({"output": output});
                states.insert(
                    step.id.clone(),
                    json!({"status": "completed", "output": output}),
                );
                let snapshot = if sink.wants_snapshots() {
                    match input.workspace.snapshot() {
                        Ok(s) => Some(s),
                        Err(e) => {
                            let message = format!(
                                "Step {} left a workspace that cannot be kept: {e}",
                                step.id
                            );
                            run.log(&message, Some(&step.id), Some(TaskStatus::Failed))
                                .await;
                            failed = Some(message);
                            context["__status"]["failed"] = json!(true);
                            continue;
                        }
                    }
                } else {
                    None
                };
                let body = json!({
                    "message": format!("Finished step {}", step.name),
                    "stepId": step.id, "status": "completed"
                });
                sink.step_done(&json!({"steps": states}), snapshot, body)
                    .await;
            }
            Err(e) => {
                if input.cancel.is_cancelled() {
                    run.log(
                        &format!("Step {} has been cancelled.", step.id),
                        Some(&step.id),
                        Some(TaskStatus::Cancelled),
                    )
                    .await;
                    return RunOutcome {
                        status: TaskStatus::Cancelled,
                        output: json!({}),
                        error: None,
                        extra_files,
                    };
                }
                let message = redact(&e.to_string(), &input.secrets);
                run.log(&message, Some(&step.id), Some(TaskStatus::Failed))
                    .await;
                failed = Some(message);
                context["__status"]["failed"] = json!(true);
            }
        }
    }

    if let Some(error) = failed {
        return RunOutcome {
            status: TaskStatus::Failed,
            output: json!({}),
            error: Some(error),
            extra_files,
        };
    }
    match render_output(&run, &context) {
        Ok(output) => RunOutcome {
            status: TaskStatus::Completed,
            output,
            error: None,
            extra_files,
        },
        Err(e) => {
            let message = format!("The template's output could not be rendered: {e}");
            run.log(&message, None, None).await;
            RunOutcome {
                status: TaskStatus::Failed,
                output: json!({}),
                error: Some(message),
                extra_files,
            }
        }
    }
}

/// `output` with `links`/`text` entries whose `if` is false left out.
fn render_output(run: &Run<'_>, context: &Value) -> Result<Value, ActionError> {
    let renderer = &run.services.renderer;
    let mut output = run.input.spec.output.clone();
    for list in ["links", "text"] {
        if let Some(items) = output.get_mut(list).and_then(Value::as_array_mut) {
            let mut kept = Vec::new();
            for item in items.drain(..) {
                let keep = match item.get("if") {
                    Some(condition) => renderer
                        .is_truthy(condition, context)
                        .map_err(|e| ActionError::new(e.to_string()))?,
                    None => true,
                };
                if keep {
                    let mut item = item;
                    if let Some(m) = item.as_object_mut() {
                        m.remove("if");
                    }
                    kept.push(item);
                }
            }
            *items = kept;
        }
    }
    renderer
        .render_value(&output, context)
        .map(drop_nulls)
        .map_err(|e| ActionError::new(e.to_string()))
}

/// Runs one step (every `each` item), returning its outputs.
async fn run_step(
    run: &Run<'_>,
    step: &greenroom_model::scaffolder::TemplateStep,
    context: &mut Value,
    extra_files: &mut Vec<(String, Vec<u8>)>,
) -> Result<Value, ActionError> {
    let services = &run.services;
    let input = run.input;
    let action = services.actions.get(&step.action).ok_or_else(|| {
        ActionError::new(format!(
            "Template action with ID '{}' is not registered.",
            step.action
        ))
    })?;
    let iterations = match &step.each {
        Some(each) => {
            let value = services
                .renderer
                .render_value(each, context)
                .map_err(|e| ActionError::new(format!("Invalid each of step {}: {e}", step.id)))?;
            Some(each_items(value)?)
        }
        None => None,
    };
    let mut outputs = Map::new();
    for item in iterations.clone().unwrap_or_else(|| vec![Value::Null]) {
        let mut ctx_value = context.clone();
        if iterations.is_some() {
            ctx_value["each"] = item.clone();
            run.log(
                &format!("Running step {} for {}", step.id, item["key"]),
                Some(&step.id),
                None,
            )
            .await;
        }
        let rendered = services
            .renderer
            .render_value(&step.input.clone().unwrap_or(json!({})), &ctx_value)
            .map_err(|e| {
                ActionError::new(format!("Cannot render the input of step {}: {e}", step.id))
            })?;
        let rendered = match drop_nulls(rendered) {
            Value::Null => json!({}),
            v => v,
        };
        validate_input(action.id(), &action.input_schema(), &rendered)?;
        let produced = if input.dry_run && !action.supports_dry_run() {
            run.log(
                &format!("Skipping because {} does not support dry-run", action.id()),
                Some(&step.id),
                None,
            )
            .await;
            action
                .output_schema()
                .map(|s| example_output(&s))
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default()
        } else {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let mut ctx = ActionContext::new(
                input.task_id.clone(),
                step.id.clone(),
                rendered,
                input.workspace.clone(),
                input.template.clone(),
                services.clone(),
                tx,
                input.cancel.child_token(),
            );
            ctx.secrets = input.secrets.clone();
            ctx.user = input.spec.user.clone();
            ctx.template_info = input.spec.template_info.clone();
            ctx.dry_run = input.dry_run;
            let forward = async {
                while let Some(line) = rx.recv().await {
                    run.log(&line, Some(&step.id), None).await;
                }
            };
            let act = async {
                let result = tokio::select! {
                    r = action.run(&mut ctx) => r,
                    _ = input.cancel.cancelled() => Err(ActionError::new("cancelled")),
                };
                let outputs = ctx.take_outputs();
                let files = std::mem::take(&mut ctx.extra_files);
                drop(ctx);
                (result, outputs, files)
            };
            let ((result, produced, files), ()) = tokio::join!(act, forward);
            result?;
            extra_files.extend(files);
            produced
        };
        for (name, value) in produced {
            if iterations.is_some() {
                let slot = outputs.entry(name).or_insert_with(|| json!([]));
                if let Some(list) = slot.as_array_mut() {
                    list.push(value);
                }
            } else {
                outputs.insert(name, value);
            }
        }
    }
    Ok(Value::Object(outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets() {
        let secrets = json!({"token": "abc123", "short": "x"})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            redact("push with abc123 failed", &secrets),
            "push with *** failed"
        );
        assert_eq!(redact("x marks", &secrets), "x marks");
    }

    #[test]
    fn input_errors_name_the_field() {
        let schema = json!({"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}, "n": {"type": "integer"}}});
        let err = validate_input("fetch:template", &schema, &json!({"n": "x"}))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Invalid input passed to action fetch:template"),
            "{err}"
        );
        assert!(err.contains("url"), "{err}");
        assert!(err.contains("instance.n"), "{err}");
    }

    #[test]
    fn each_over_lists_and_objects() {
        assert_eq!(
            each_items(json!(["a", "b"])).unwrap()[1],
            json!({"key": 1, "value": "b"})
        );
        assert_eq!(
            each_items(json!({"k": 1})).unwrap()[0],
            json!({"key": "k", "value": 1})
        );
        assert!(each_items(json!(3)).is_err());
    }
}
