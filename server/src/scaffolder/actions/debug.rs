//! `debug:log` and `debug:wait`.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{object_schema, Action, ActionContext, ActionError};

pub struct Log;

#[async_trait]
impl Action for Log {
    fn id(&self) -> &'static str {
        "debug:log"
    }
    fn description(&self) -> &'static str {
        "Writes a message into the log and/or lists all files in the workspace."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "message": {"type": "string", "title": "Message to output."},
                "listWorkspace": {"type": ["boolean", "string"], "enum": [true, false, "with-filenames", "with-contents"],
                  "description": "List all files in the workspace, with their contents if set to with-contents"}
            }),
            &[],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        if let Some(message) = ctx.str_input("message") {
            ctx.log(message.to_string());
        }
        let list = ctx
            .input
            .get("listWorkspace")
            .cloned()
            .unwrap_or(Value::Null);
        let with_contents = list == json!("with-contents");
        if list == json!(true) || list == json!("with-filenames") || with_contents {
            let files = ctx.workspace.files()?;
            let mut lines = vec!["Workspace:".to_string()];
            for f in files {
                lines.push(format!("  - {}", f.display()));
                if with_contents {
                    let text =
                        std::fs::read_to_string(ctx.workspace.root().join(&f)).unwrap_or_default();
                    for line in text.lines() {
                        lines.push(format!("      {line}"));
                    }
                }
            }
            ctx.log(lines.join("\n"));
        }
        Ok(())
    }
}

pub struct Wait;

/// Templates are untrusted: a wait longer than this is refused.
const MAX_WAIT: Duration = Duration::from_secs(600);

#[async_trait]
impl Action for Wait {
    fn id(&self) -> &'static str {
        "debug:wait"
    }
    fn description(&self) -> &'static str {
        "Waits for a certain period of time (at most 10 minutes)."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "minutes": {"type": "number", "minimum": 0},
                "seconds": {"type": "number", "minimum": 0},
                "milliseconds": {"type": "number", "minimum": 0}
            }),
            &[],
        )
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let n = |k: &str| ctx.input.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let total = n("minutes") * 60.0 + n("seconds") + n("milliseconds") / 1000.0;
        let wait = Duration::from_secs_f64(total.max(0.0));
        if wait > MAX_WAIT {
            return Err(ActionError::new(format!(
                "Waiting time of {} seconds is longer than the allowed {} seconds",
                wait.as_secs(),
                MAX_WAIT.as_secs()
            )));
        }
        ctx.log(format!("Waiting {} ms", wait.as_millis()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            _ = ctx.cancel.cancelled() => Err(ActionError::new("cancelled while waiting")),
        }
    }
}
