//! `greenroom catalog validate PATH... [--against URL]`: checks descriptor files
//! with the same rules the server applies on ingestion (the model crate), and
//! optionally that every referenced entity exists in a running catalog.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use greenroom_model::descriptor::validate_descriptor;
use greenroom_model::{Entity, EntityRef};

use super::against;
use super::spans::{parse_documents, SpannedDocument};

/// The file name looked for when a directory is given.
const DESCRIPTOR_FILE_NAME: &str = "catalog-info.yaml";

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Descriptor files, glob patterns (quote them: 'catalog/**/*.yaml'), or
    /// directories (searched recursively for catalog-info.yaml).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Base URL of a running catalog (e.g. http://localhost:7007): also check
    /// that every entity referenced by spec.owner, spec.system, spec.domain,
    /// spec.subcomponentOf, spec.subdomainOf, spec.providesApis, spec.consumesApis and
    /// spec.dependsOn exists there or in the validated files.
    #[arg(long, value_name = "URL")]
    pub against: Option<String>,
}

/// One problem, printed as `<file>:<line>: <field>: <message>` (line 0 and a
/// missing field are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Line 0 = the problem is about the file itself (unreadable, not found).
        if self.line == 0 {
            write!(f, "{}: ", self.file.display())?;
        } else {
            write!(f, "{}:{}: ", self.file.display(), self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A parsed file kept for the `--against` pass.
pub struct CheckedFile {
    pub path: PathBuf,
    pub documents: Vec<SpannedDocument>,
}

pub fn run(args: ValidateArgs) -> ExitCode {
    let mut problems = Vec::new();
    let files = expand_paths(&args.paths, &mut problems);
    let mut checked = Vec::new();
    let mut defined = BTreeSet::new();
    let mut entity_count = 0;
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(err) => {
                problems.push(Problem {
                    file: file.clone(),
                    line: 0,
                    field: None,
                    message: format!("cannot read file: {err}"),
                });
                continue;
            }
        };
        let (entities, file_problems) = check_text(file, &text);
        entity_count += entities.len();
        defined.extend(
            entities
                .iter()
                .filter_map(EntityRef::of_entity)
                .map(|r| r.canonical()),
        );
        problems.extend(file_problems);
        // Exact value lines for --against, only for files with valid entities
        // (so the model's bounded parser has already accepted the text).
        if args.against.is_some() && !entities.is_empty() {
            if let Ok(documents) = parse_documents(&text) {
                checked.push(CheckedFile {
                    path: file.clone(),
                    documents,
                });
            }
        }
    }
    if let Some(url) = &args.against {
        problems.extend(against::check_references(url, &checked, &defined));
    }

    for problem in &problems {
        println!("{problem}");
    }
    let files_word = if files.len() == 1 { "file" } else { "files" };
    let entities_word = if entity_count == 1 {
        "entity"
    } else {
        "entities"
    };
    if problems.is_empty() {
        println!(
            "{} {files_word}, {entity_count} {entities_word}: no problems found",
            files.len()
        );
        ExitCode::SUCCESS
    } else {
        let errors_word = if problems.len() == 1 {
            "error"
        } else {
            "errors"
        };
        println!(
            "{} {files_word}, {entity_count} {entities_word}: {} {errors_word}",
            files.len(),
            problems.len()
        );
        ExitCode::FAILURE
    }
}

/// Validates one file's text with the model's descriptor rules (the same
/// chain the server runs on ingestion).
fn check_text(file: &Path, text: &str) -> (Vec<Entity>, Vec<Problem>) {
    let (entities, diagnostics) = validate_descriptor(text);
    let problems = diagnostics
        .into_iter()
        .map(|d| Problem {
            file: file.to_path_buf(),
            line: d.line.unwrap_or(0),
            field: d.field,
            message: d.message,
        })
        .collect();
    (entities, problems)
}

/// Turns the PATH arguments into files: a file as is, a directory into its
/// `**/catalog-info.yaml`, anything else as a glob pattern. Paths that match
/// nothing are problems, not silent no-ops.
fn expand_paths(args: &[PathBuf], problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut missing = |arg: &Path, message: String| {
        problems.push(Problem {
            file: arg.to_path_buf(),
            line: 0,
            field: None,
            message,
        })
    };
    for arg in args {
        if arg.is_file() {
            files.push(arg.clone());
        } else if arg.is_dir() {
            let pattern = arg.join("**").join(DESCRIPTOR_FILE_NAME);
            let found = glob_files(&pattern.to_string_lossy());
            match found {
                Ok(found) if found.is_empty() => {
                    missing(arg, format!("directory contains no {DESCRIPTOR_FILE_NAME}"))
                }
                Ok(found) => files.extend(found),
                Err(err) => missing(arg, err),
            }
        } else {
            let text = arg.to_string_lossy();
            if !text.contains(['*', '?', '[']) {
                missing(arg, "no such file or directory".into());
                continue;
            }
            match glob_files(&text) {
                Ok(found) if found.is_empty() => missing(arg, "pattern matched no files".into()),
                Ok(found) => files.extend(found),
                Err(err) => missing(arg, err),
            }
        }
    }
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.clone()));
    files
}

fn glob_files(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let paths = glob::glob(pattern).map_err(|e| format!("invalid pattern: {e}"))?;
    let mut files: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_globs_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("svc/a")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("svc/a/catalog-info.yaml"), "").unwrap();
        std::fs::write(root.join("svc/catalog-info.yaml"), "").unwrap();
        std::fs::write(root.join("svc/other.yaml"), "").unwrap();

        let mut problems = Vec::new();
        let files = expand_paths(
            &[
                root.join("svc"),
                root.join("svc/*.yaml"),
                root.join("svc/other.yaml"),
                root.join("empty"),
                root.join("nope.yaml"),
                root.join("x*.yaml"),
            ],
            &mut problems,
        );
        assert_eq!(
            files,
            vec![
                root.join("svc/a/catalog-info.yaml"),
                root.join("svc/catalog-info.yaml"),
                root.join("svc/other.yaml")
            ]
        );
        let messages: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages[0].ends_with("empty: directory contains no catalog-info.yaml"),
            "{messages:?}"
        );
        assert!(
            messages[1].ends_with("nope.yaml: no such file or directory"),
            "{messages:?}"
        );
        assert!(
            messages[2].ends_with("x*.yaml: pattern matched no files"),
            "{messages:?}"
        );
    }

    #[test]
    fn problem_format_with_and_without_field() {
        let p = Problem {
            file: "a/catalog-info.yaml".into(),
            line: 4,
            field: Some("metadata.name".into()),
            message: "bad".into(),
        };
        assert_eq!(p.to_string(), "a/catalog-info.yaml:4: metadata.name: bad");
        let p = Problem { field: None, ..p };
        assert_eq!(p.to_string(), "a/catalog-info.yaml:4: bad");
        let p = Problem { line: 0, ..p };
        assert_eq!(p.to_string(), "a/catalog-info.yaml: bad");
    }
}
