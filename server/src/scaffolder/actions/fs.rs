//! `fs:rename`, `fs:delete`, `fs:readdir`: file operations confined to the workspace.

use async_trait::async_trait;
use globset::Glob;
use serde_json::{json, Value};

use super::{object_schema, Action, ActionContext, ActionError};

pub struct Rename;

#[async_trait]
impl Action for Rename {
    fn id(&self) -> &'static str {
        "fs:rename"
    }
    fn description(&self) -> &'static str {
        "Renames files and directories within the workspace"
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({"files": {"type": "array", "items": {
                "type": "object", "required": ["from", "to"],
                "properties": {
                    "from": {"type": "string"}, "to": {"type": "string"},
                    "overwrite": {"type": "boolean", "default": false}
                }
            }}}),
            &["files"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let files = ctx.input["files"].as_array().cloned().unwrap_or_default();
        for file in files {
            let from = file["from"].as_str().unwrap_or_default();
            let to = file["to"].as_str().unwrap_or_default();
            let overwrite = file["overwrite"].as_bool().unwrap_or(false);
            let src = ctx.workspace.resolve(from)?;
            let dest = ctx.workspace.resolve(to)?;
            if !src.exists() {
                return Err(ActionError::new(format!(
                    "There is no file or directory '{from}' to rename"
                )));
            }
            if dest.exists() && !overwrite {
                return Err(ActionError::new(format!(
                    "There is already a file or directory at '{to}'; set overwrite: true to replace it"
                )));
            }
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if dest.is_dir() && overwrite {
                std::fs::remove_dir_all(&dest)?;
            }
            std::fs::rename(&src, &dest)?;
            ctx.log(format!("Renamed {from} to {to}"));
        }
        Ok(())
    }
}

pub struct Delete;

#[async_trait]
impl Action for Delete {
    fn id(&self) -> &'static str {
        "fs:delete"
    }
    fn description(&self) -> &'static str {
        "Deletes files and directories from the workspace"
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({"files": {"type": "array", "items": {"type": "string"}, "description": "Paths or globs, relative to the workspace"}}),
            &["files"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let patterns = ctx.input["files"].as_array().cloned().unwrap_or_default();
        let all = ctx.workspace.files()?;
        for pattern in patterns.iter().filter_map(Value::as_str) {
            // Resolving checks the pattern's literal part stays inside.
            ctx.workspace
                .resolve(pattern.trim_end_matches("**").trim_end_matches('*'))?;
            let literal = ctx.workspace.resolve(pattern)?;
            if literal.is_dir() {
                std::fs::remove_dir_all(&literal)?;
                ctx.log(format!("Deleted {pattern}"));
                continue;
            }
            let glob = Glob::new(pattern.trim_start_matches("./"))
                .map_err(|e| ActionError::new(format!("Invalid glob '{pattern}': {e}")))?
                .compile_matcher();
            for rel in all.iter().filter(|p| glob.is_match(p)) {
                let path = ctx.workspace.resolve(&rel.to_string_lossy())?;
                if path.exists() {
                    std::fs::remove_file(&path)?;
                    ctx.log(format!("Deleted {}", rel.display()));
                }
            }
        }
        Ok(())
    }
}

pub struct ReadDir;

#[async_trait]
impl Action for ReadDir {
    fn id(&self) -> &'static str {
        "fs:readdir"
    }
    fn description(&self) -> &'static str {
        "Reads files and directories from the workspace"
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "paths": {"type": "array", "items": {"type": "string"}},
                "recursive": {"type": "boolean", "default": false}
            }),
            &["paths"],
        )
    }
    fn output_schema(&self) -> Option<Value> {
        Some(object_schema(
            json!({"files": {"type": "array"}, "folders": {"type": "array"}}),
            &[],
        ))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let recursive = ctx.bool_input("recursive").unwrap_or(false);
        let mut files = Vec::new();
        let mut folders = Vec::new();
        let paths = ctx.input["paths"].as_array().cloned().unwrap_or_default();
        for p in paths.iter().filter_map(Value::as_str) {
            let dir = ctx.workspace.resolve(p)?;
            let mut stack = vec![dir];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d)? {
                    let entry = entry?;
                    let path = entry.path();
                    let rel = path
                        .strip_prefix(ctx.workspace.root())
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .to_string();
                    let item = json!({"name": entry.file_name().to_string_lossy(), "path": rel, "fullPath": rel});
                    if entry.file_type()?.is_dir() {
                        folders.push(item);
                        if recursive {
                            stack.push(path);
                        }
                    } else {
                        files.push(item);
                    }
                }
            }
        }
        ctx.output("files", Value::Array(files));
        ctx.output("folders", Value::Array(folders));
        Ok(())
    }
}
