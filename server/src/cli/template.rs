//! `greenroom template validate DIR` and `greenroom template dry-run DIR
//! --values FILE`: the checks and dry runs of the server, for a template
//! repository's CI.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use base64::Engine;
use clap::Args;
use greenroom_model::Entity;
use serde_json::{Map, Value};

use super::spans::parse_documents;
use crate::config::Config;
use crate::scaffolder::actions::TemplateSource;
use crate::scaffolder::dry_run::dry_run;
use crate::scaffolder::lint::lint_template;
use crate::scaffolder::template::validate_values;
use crate::scaffolder::Services;

#[derive(Debug, Args)]
pub struct TemplateValidateArgs {
    /// A template directory (holding template.yaml) or a template file.
    #[arg(value_name = "DIR")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct TemplateDryRunArgs {
    /// A template directory (holding template.yaml) or a template file.
    #[arg(value_name = "DIR")]
    pub path: PathBuf,
    /// The form values, as YAML or JSON.
    #[arg(long, value_name = "FILE")]
    pub values: PathBuf,
    /// A checkout of the GitOps repository: claims are validated against its XRDs.
    #[arg(long, value_name = "DIR")]
    pub gitops: Option<PathBuf>,
    /// Write the files the run produces into this directory.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Configuration (integrations) to use, like the server's --config.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Vec<PathBuf>,
}

/// The template file and its directory.
fn template_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("template.yaml")
    } else {
        path.to_path_buf()
    }
}

struct Loaded {
    file: PathBuf,
    entity: Entity,
    lines: super::spans::SpannedDocument,
}

fn load(path: &Path) -> Result<Loaded, String> {
    let file = template_file(path);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let docs = parse_documents(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let doc = docs
        .into_iter()
        .find(|d| d.value.get("kind").and_then(Value::as_str) == Some("Template"))
        .ok_or_else(|| format!("{}: no Template entity in the file", file.display()))?;
    let entity = doc
        .value
        .as_object()
        .cloned()
        .ok_or_else(|| format!("{}: the Template is not an object", file.display()))?;
    Ok(Loaded {
        file,
        entity,
        lines: doc,
    })
}

/// `spec.steps[1].input.url` -> the line the YAML parser recorded for it,
/// falling back to the nearest recorded parent.
fn line_of(doc: &super::spans::SpannedDocument, path: &str) -> usize {
    let mut candidate = path.to_string();
    loop {
        let line = doc.line_of(&candidate);
        if line != doc.start_line || candidate.is_empty() {
            return line;
        }
        match candidate.rfind(['.', '[']) {
            Some(i) => candidate.truncate(i),
            None => return doc.start_line,
        }
    }
}

pub fn validate(args: TemplateValidateArgs) -> ExitCode {
    let loaded = match load(&args.path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let services = Services::new(Arc::new(Config::default()), None);
    let dir = loaded.file.parent().map(Path::to_path_buf);
    let lints = lint_template(
        &loaded.entity,
        dir.as_deref(),
        &services.actions,
        &services.renderer,
    );
    let errors = lints.iter().filter(|l| !l.warning).count();
    for lint in &lints {
        println!(
            "{}:{}: {}{}: {}",
            loaded.file.display(),
            line_of(&loaded.lines, &lint.path),
            if lint.warning { "warning: " } else { "" },
            lint.path,
            lint.message
        );
    }
    let name = loaded.entity["metadata"]["name"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    if errors == 0 {
        println!("template {name}: valid ({} warnings)", lints.len());
        ExitCode::SUCCESS
    } else {
        println!("template {name}: {errors} problems");
        ExitCode::FAILURE
    }
}

pub fn dry_run_command(args: TemplateDryRunArgs) -> ExitCode {
    match run_dry_run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_dry_run(args: TemplateDryRunArgs) -> Result<ExitCode, String> {
    let loaded = load(&args.path)?;
    let values_text = std::fs::read_to_string(&args.values)
        .map_err(|e| format!("{}: cannot read: {e}", args.values.display()))?;
    let values = parse_documents(&values_text)
        .map_err(|e| format!("{}: {e}", args.values.display()))?
        .into_iter()
        .next()
        .map(|d| d.value)
        .unwrap_or(Value::Object(Map::new()));
    let errors = validate_values(&loaded.entity, &values);
    if !errors.is_empty() {
        for e in &errors {
            println!(
                "{}: {}: {}",
                args.values.display(),
                e.path.join("."),
                e.message
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    let config = if args.config.is_empty() {
        Config::default()
    } else {
        crate::config::load(&args.config).map_err(|e| e.to_string())?
    };
    let mut services = Services::new(Arc::new(config), None);
    services.gitops_dir = args.gitops.clone();
    let dir = loaded
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = runtime.block_on(dry_run(
        Arc::new(services),
        &loaded.entity,
        values,
        Map::new(),
        TemplateSource::Directory(dir),
        None,
    ))?;
    println!("Log:");
    for body in &result.log {
        let step = body.get("stepId").and_then(Value::as_str).unwrap_or("");
        let message = body.get("message").and_then(Value::as_str).unwrap_or("");
        for line in message.lines() {
            println!("  [{step}] {line}");
        }
    }
    println!("Files:");
    let engine = base64::engine::general_purpose::STANDARD;
    for file in &result.files {
        let bytes = engine.decode(&file.base64_content).unwrap_or_default();
        println!(
            "  {} ({} bytes{})",
            file.path,
            bytes.len(),
            if file.executable { ", executable" } else { "" }
        );
        if let Some(out) = &args.output {
            let dest = crate::scaffolder::workspace::safe_join(out, &file.path)
                .ok_or_else(|| format!("{} leaves the output directory", file.path))?;
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&dest, bytes).map_err(|e| e.to_string())?;
        }
    }
    println!("Output:");
    println!(
        "{}",
        serde_json::to_string_pretty(&result.output).unwrap_or_default()
    );
    match result.error {
        None => {
            println!("dry run {}", result.status.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Some(e) => {
            println!("dry run failed: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
