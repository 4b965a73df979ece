//! `fetch:template`, `fetch:template:file`, `fetch:plain`, `fetch:plain:file`:
//! copy files from the template's own directory into the workspace, rendering
//! names and contents with the task's values where asked.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use globset::{Glob, GlobSet, GlobSetBuilder};
use greenroom_expressions::FileOptions;
use serde_json::{json, Value};

use super::{object_schema, Action, ActionContext, ActionError};
use crate::scaffolder::workspace::safe_join;

/// The file a relative `url` names inside the template's directory.
fn source_path(ctx: &ActionContext, url: &str) -> Result<PathBuf, ActionError> {
    if url.contains("://") || url.starts_with("git+") {
        return Err(ActionError::new(format!(
            "Fetching '{url}' is not supported: fetch actions copy from the template's own repository, \
             give a path relative to the template file"
        )));
    }
    let base = ctx.template_dir()?;
    let path = safe_join(base, url).ok_or_else(|| {
        ActionError::new(format!(
            "Relative path is not allowed to refer to a directory outside its parent: '{url}'"
        ))
    })?;
    if !path.exists() {
        return Err(ActionError::new(format!(
            "The template has no file or directory '{url}'"
        )));
    }
    Ok(path)
}

/// The `url` and `targetPath` inputs every fetch action takes, with the
/// template file or directory `url` names. `default_target` stands in for a
/// missing `targetPath`: the directory variants default to the workspace root.
fn url_and_target(
    ctx: &ActionContext,
    default_target: &str,
) -> Result<(String, String, PathBuf), ActionError> {
    let url = ctx.str_input("url").unwrap_or_default().to_string();
    let target = ctx
        .str_input("targetPath")
        .unwrap_or(default_target)
        .to_string();
    let source = source_path(ctx, &url)?;
    Ok((url, target, source))
}

/// [`url_and_target`] for the `:file` variants, whose `url` must name a file.
fn file_url_and_target(ctx: &ActionContext) -> Result<(String, String, PathBuf), ActionError> {
    let (url, target, source) = url_and_target(ctx, "")?;
    if !source.is_file() {
        return Err(ActionError::new(format!("'{url}' is not a file")));
    }
    Ok((url, target, source))
}

fn globs(patterns: Option<&Value>, input: &str) -> Result<GlobSet, ActionError> {
    let mut builder = GlobSetBuilder::new();
    if let Some(list) = patterns.and_then(Value::as_array) {
        for p in list.iter().filter_map(Value::as_str) {
            let pattern = p.trim_start_matches("./");
            builder
                .add(Glob::new(pattern).map_err(|e| {
                    ActionError::new(format!("Invalid glob '{p}' in {input}: {e}"))
                })?);
        }
    }
    builder.build().map_err(|e| ActionError::new(e.to_string()))
}

/// Regular files under `dir`, relative, sorted. Symbolic links in a template
/// are not followed: they could point anywhere on the server.
fn source_files(dir: &Path, ctx: &ActionContext) -> Result<Vec<PathBuf>, ActionError> {
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut Vec<PathBuf>,
        skipped: &mut Vec<String>,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            if kind.is_symlink() {
                skipped.push(rel.display().to_string());
            } else if kind.is_dir() {
                walk(root, &path, out, skipped)?;
            } else if kind.is_file() {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    walk(dir, dir, &mut out, &mut skipped)?;
    for s in skipped {
        ctx.log(format!("Skipping symbolic link {s}"));
    }
    out.sort();
    Ok(out)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Writes `content` at `rel` in the workspace unless it exists and `replace`
/// is off; keeps the executable bit.
fn write_target(
    ctx: &ActionContext,
    rel: &str,
    content: &[u8],
    executable: bool,
    replace: bool,
) -> Result<bool, ActionError> {
    let path = ctx.workspace.resolve(rel)?;
    if path.exists() && !replace {
        return Ok(false);
    }
    ctx.workspace.write(rel, content)?;
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(true)
}

fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|b| *b == 0) || std::str::from_utf8(bytes).is_err()
}

fn join_target(target: &str, rel: &str) -> String {
    let target = target.trim_end_matches('/');
    if target.is_empty() || target == "." || target == "./" {
        rel.to_string()
    } else {
        format!("{target}/{rel}")
    }
}

fn file_options(ctx: &ActionContext) -> FileOptions {
    FileOptions {
        cookiecutter_compat: ctx.bool_input("cookiecutterCompat").unwrap_or(false),
        trim_blocks: ctx.bool_input("trimBlocks").unwrap_or(false),
        lstrip_blocks: ctx.bool_input("lstripBlocks").unwrap_or(false),
    }
}

/// The context file templates see: `values.*` (or `cookiecutter.*`).
fn values_context(ctx: &ActionContext) -> Value {
    let values = ctx.input.get("values").cloned().unwrap_or(json!({}));
    if ctx.bool_input("cookiecutterCompat").unwrap_or(false) {
        json!({ "cookiecutter": values })
    } else {
        json!({ "values": values })
    }
}

pub struct FetchTemplate;

#[async_trait]
impl Action for FetchTemplate {
    fn id(&self) -> &'static str {
        "fetch:template"
    }
    fn description(&self) -> &'static str {
        "Downloads a skeleton, templates variables into file and directory names and content, and places the result in the workspace, or optionally in a subdirectory specified by the `targetPath` input option."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "url": {"type": "string", "title": "Fetch URL", "description": "Relative path of the skeleton directory, from the template file"},
                "targetPath": {"type": "string", "title": "Target Path", "description": "Target path within the working directory to generate contents to. Defaults to the working directory root."},
                "values": {"type": "object", "title": "Template Values", "description": "Values to pass on to the templating engine"},
                "copyWithoutRender": {"type": "array", "items": {"type": "string"}, "description": "Deprecated: use copyWithoutTemplating"},
                "copyWithoutTemplating": {"type": "array", "items": {"type": "string"}, "title": "Copy Without Templating", "description": "Globs of files whose contents are copied as they are (their paths are still rendered)"},
                "cookiecutterCompat": {"type": "boolean", "title": "Cookiecutter compatibility mode", "description": "Use {{ }} delimiters and cookiecutter.* values"},
                "templateFileExtension": {"type": ["string", "boolean"], "title": "Template File Extension", "description": "Render only files with this extension (true means .njk) and strip it"},
                "replace": {"type": "boolean", "title": "Replace files", "description": "Overwrite files that already exist in the target path"},
                "trimBlocks": {"type": "boolean"},
                "lstripBlocks": {"type": "boolean"},
                "token": {"type": "string"}
            }),
            &["url"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    fn examples(&self) -> Vec<Value> {
        vec![
            json!({"description": "Render ./skeleton with the name parameter", "example": "steps:\n  - id: fetch\n    action: fetch:template\n    input:\n      url: ./skeleton\n      values:\n        name: ${{ parameters.name }}\n"}),
        ]
    }

    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let (url, target, source) = url_and_target(ctx, "./")?;
        if !source.is_dir() {
            return Err(ActionError::new(format!(
                "fetch:template needs a directory; '{url}' is a file (use fetch:template:file)"
            )));
        }
        let cookiecutter = ctx.bool_input("cookiecutterCompat").unwrap_or(false);
        let extension = match ctx.input.get("templateFileExtension") {
            Some(Value::Bool(true)) => Some(".njk".to_string()),
            Some(Value::String(s)) if !s.is_empty() => Some(if s.starts_with('.') {
                s.clone()
            } else {
                format!(".{s}")
            }),
            _ => None,
        };
        let copy_raw_input = ctx
            .input
            .get("copyWithoutTemplating")
            .or_else(|| ctx.input.get("copyWithoutRender"));
        if extension.is_some() && (copy_raw_input.is_some() || cookiecutter) {
            return Err(ActionError::new(
                "input extension incompatible with copyWithoutTemplating/copyWithoutRender/cookiecutterCompat",
            ));
        }
        let copy_raw = globs(copy_raw_input, "copyWithoutTemplating")?;
        let replace = ctx.bool_input("replace").unwrap_or(false);
        let options = file_options(ctx);
        let render_ctx = values_context(ctx);
        let renderer = ctx.services.renderer.clone();
        ctx.log(format!("Fetching template content from {url}"));
        let mut written = 0usize;
        for rel in source_files(&source, ctx)? {
            let rel_str = rel.to_string_lossy().to_string();
            let content = std::fs::read(source.join(&rel))?;
            let raw = copy_raw.is_match(&rel);
            let (mut out_rel, render_content) = match &extension {
                Some(ext) => match rel_str.strip_suffix(ext.as_str()) {
                    Some(stripped) => (stripped.to_string(), true),
                    None => (rel_str.clone(), false),
                },
                None => (rel_str.clone(), !raw),
            };
            out_rel = renderer
                .render_path(&out_rel, &render_ctx, options)
                .map_err(|e| {
                    ActionError::new(format!("Failed to render the path {rel_str}: {e}"))
                })?;
            // A name that renders empty (e.g. `{% if values.x %}file{% endif %}`) is left out.
            if out_rel.split('/').any(|s| s.trim().is_empty()) {
                continue;
            }
            let bytes = if render_content && !looks_binary(&content) {
                let text = String::from_utf8_lossy(&content);
                renderer
                    .render_file(&text, &render_ctx, options)
                    .map_err(|e| ActionError::new(format!("Failed to render {rel_str}: {e}")))?
                    .into_bytes()
            } else {
                content
            };
            let dest = join_target(&target, &out_rel);
            if write_target(
                ctx,
                &dest,
                &bytes,
                is_executable(&source.join(&rel)),
                replace,
            )? {
                written += 1;
            }
        }
        ctx.log(format!(
            "Template result written to {target} ({written} files)"
        ));
        Ok(())
    }
}

pub struct FetchTemplateFile;

#[async_trait]
impl Action for FetchTemplateFile {
    fn id(&self) -> &'static str {
        "fetch:template:file"
    }
    fn description(&self) -> &'static str {
        "Downloads a single file and templates variables into its content, placing the result in the workspace at `targetPath`."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "url": {"type": "string"},
                "targetPath": {"type": "string"},
                "values": {"type": "object"},
                "cookiecutterCompat": {"type": "boolean"},
                "replace": {"type": "boolean"},
                "trimBlocks": {"type": "boolean"},
                "lstripBlocks": {"type": "boolean"},
                "token": {"type": "string"}
            }),
            &["url", "targetPath"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let (url, target, source) = file_url_and_target(ctx)?;
        let content = std::fs::read_to_string(&source)
            .map_err(|e| ActionError::new(format!("Cannot read '{url}' as text: {e}")))?;
        let rendered = ctx
            .services
            .renderer
            .render_file(&content, &values_context(ctx), file_options(ctx))
            .map_err(|e| ActionError::new(format!("Failed to render {url}: {e}")))?;
        let replace = ctx.bool_input("replace").unwrap_or(false);
        write_target(
            ctx,
            &target,
            rendered.as_bytes(),
            is_executable(&source),
            replace,
        )?;
        ctx.log(format!("Template file {url} written to {target}"));
        Ok(())
    }
}

pub struct FetchPlain;

#[async_trait]
impl Action for FetchPlain {
    fn id(&self) -> &'static str {
        "fetch:plain"
    }
    fn description(&self) -> &'static str {
        "Downloads content and places it in the workspace, or optionally in a subdirectory specified by the `targetPath` input option."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "url": {"type": "string", "description": "Relative path of a directory or file, from the template file"},
                "targetPath": {"type": "string"},
                "token": {"type": "string"}
            }),
            &["url"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let (url, target, source) = url_and_target(ctx, "./")?;
        if source.is_file() {
            let name = source
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let content = std::fs::read(&source)?;
            write_target(
                ctx,
                &join_target(&target, &name),
                &content,
                is_executable(&source),
                true,
            )?;
        } else {
            for rel in source_files(&source, ctx)? {
                let content = std::fs::read(source.join(&rel))?;
                let dest = join_target(&target, &rel.to_string_lossy());
                write_target(
                    ctx,
                    &dest,
                    &content,
                    is_executable(&source.join(&rel)),
                    true,
                )?;
            }
        }
        ctx.log(format!("Fetched {url} into {target}"));
        Ok(())
    }
}

pub struct FetchPlainFile;

#[async_trait]
impl Action for FetchPlainFile {
    fn id(&self) -> &'static str {
        "fetch:plain:file"
    }
    fn description(&self) -> &'static str {
        "Downloads single file and places it in the workspace."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "url": {"type": "string"},
                "targetPath": {"type": "string"},
                "token": {"type": "string"}
            }),
            &["url", "targetPath"],
        )
    }
    fn supports_dry_run(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let (url, target, source) = file_url_and_target(ctx)?;
        let content = std::fs::read(&source)?;
        write_target(ctx, &target, &content, is_executable(&source), true)?;
        ctx.log(format!("Fetched {url} to {target}"));
        Ok(())
    }
}
