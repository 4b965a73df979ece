//! Reading one configuration file: YAML (or JSON) into a JSON value, then the
//! Backstage transforms applied to every value (`transform/include.ts` and
//! `transform/substitution.ts`): an object with a single `$file`, `$env` or
//! `$include` key is replaced by what it points to, and `${VAR}` is substituted
//! in strings. A value that resolves to nothing is dropped from its parent.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{substitution::substitute, ConfigError, Env};

/// Guards against `$include` cycles.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Reads, parses and transforms one file. A missing or empty document is `{}`.
pub fn read_config_file(path: &Path, env: &Env) -> Result<Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let value = parse_document(path, &text)?;
    let value = match value {
        Value::Null => Value::Object(Map::new()),
        Value::Object(_) => value,
        _ => {
            return Err(ConfigError::Parse {
                file: path.to_path_buf(),
                message: "the top level must be a mapping".into(),
            })
        }
    };
    let dir = base_dir(path);
    let transformed = Transformer {
        env,
        file: path,
        depth: 0,
    }
    .apply(value, &dir, "")?;
    Ok(transformed.unwrap_or_else(|| Value::Object(Map::new())))
}

/// Parses YAML (a JSON document is valid YAML too). serde-saphyr's default budget
/// refuses alias bombs and oversized documents. Error snippets are off: a
/// config file's lines may hold secrets and errors end up in logs.
fn parse_document(path: &Path, text: &str) -> Result<Value, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| ConfigError::Parse {
        file: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

struct Transformer<'a> {
    env: &'a Env,
    /// The top-level file being read (named in errors).
    file: &'a Path,
    depth: usize,
}

impl Transformer<'_> {
    /// Transforms `value` found at `key_path` in a file living in `dir`.
    /// `None` = the value is absent.
    fn apply(
        &self,
        value: Value,
        dir: &Path,
        key_path: &str,
    ) -> Result<Option<Value>, ConfigError> {
        match value {
            Value::String(s) => Ok(substitute(&s, self.env).map(Value::String)),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    if let Some(v) = self.apply(item, dir, &format!("{key_path}[{i}]"))? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) => {
                if let Some(directive) = map.keys().find(|k| k.starts_with('$')).cloned() {
                    return self.directive(map, &directive, dir, key_path);
                }
                let mut out = Map::with_capacity(map.len());
                for (key, item) in map {
                    let child_path = join_key(key_path, &key);
                    if let Some(v) = self.apply(item, dir, &child_path)? {
                        out.insert(key, v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            other => Ok(Some(other)),
        }
    }

    fn directive(
        &self,
        map: Map<String, Value>,
        key: &str,
        dir: &Path,
        key_path: &str,
    ) -> Result<Option<Value>, ConfigError> {
        let fail = |message: String| ConfigError::Directive {
            file: self.file.to_path_buf(),
            path: display_path(key_path),
            message,
        };
        if map.len() != 1 {
            return Err(fail(format!(
                "include key {key} should not have adjacent keys"
            )));
        }
        let Some(Value::String(target)) = map.get(key) else {
            return Err(fail(format!("{key} include value is not a string")));
        };
        match key {
            "$env" => Ok(self.env.get(target).map(|v| Value::String(v.to_string()))),
            "$file" => {
                let file = dir.join(target);
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| fail(format!("failed to read $file {}: {e}", file.display())))?;
                Ok(Some(Value::String(text.trim_end().to_string())))
            }
            "$include" => self.include(target, dir, key_path).map_err(fail),
            other => Err(fail(format!("unknown include {other}"))),
        }
    }

    /// `$include: file.yaml#dot.path`: the file is parsed, optionally narrowed
    /// to a dotted path, and transformed relative to its own directory.
    fn include(&self, target: &str, dir: &Path, key_path: &str) -> Result<Option<Value>, String> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(format!(
                "$include nested more than {MAX_INCLUDE_DEPTH} levels deep (a cycle?)"
            ));
        }
        let (file_part, data_path) = match target.split_once('#') {
            Some((f, p)) => (f, Some(p)),
            None => (target, None),
        };
        let file = dir.join(file_part);
        let ext = file
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !matches!(ext, "yaml" | "yml" | "json") {
            return Err(format!(
                "no configuration format available for {file_part} (use .yaml, .yml or .json)"
            ));
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("failed to read $include {}: {e}", file.display()))?;
        let mut value = parse_document(&file, &text).map_err(|e| e.to_string())?;
        if let Some(data_path) = data_path.filter(|p| !p.is_empty()) {
            for (i, part) in data_path.split('.').enumerate() {
                let Value::Object(mut obj) = value else {
                    let seen = data_path.split('.').take(i).collect::<Vec<_>>().join(".");
                    return Err(format!(
                        "value at '{seen}' in included file {file_part} is not an object"
                    ));
                };
                value = obj.remove(part).unwrap_or(Value::Null);
            }
        }
        if value.is_null() {
            return Ok(None);
        }
        let nested = Transformer {
            env: self.env,
            file: self.file,
            depth: self.depth + 1,
        };
        nested
            .apply(value, &base_dir(&file), key_path)
            .map_err(|e| match e {
                // Keep the innermost message; the outer directive adds file and path.
                ConfigError::Directive { message, .. } => message,
                other => other.to_string(),
            })
    }
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn display_path(key_path: &str) -> String {
    if key_path.is_empty() {
        "<root>".into()
    } else {
        key_path.to_string()
    }
}
