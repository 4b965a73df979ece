//! The environment the loader reads: `${VAR}` values, `$env` directives and
//! `APP_CONFIG_*` overrides. A snapshot, so tests can supply their own.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ConfigError;

/// A snapshot of environment variables.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

// Values may be secrets: show names only.
impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl Env {
    /// The current process environment (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Builds the config object made of `APP_CONFIG_<a>_<b>=<value>` variables, as
    /// Backstage's `EnvConfigSource` does: `_` separates key parts (case kept), each
    /// part must look like a config key, the value is parsed as JSON when it can be
    /// and is a plain string otherwise, empty values are ignored, `null` is refused.
    pub fn app_config_overrides(&self) -> Result<Value, ConfigError> {
        const PREFIX: &str = "APP_CONFIG_";
        let mut root = Map::new();
        for (name, raw) in self.vars.range(PREFIX.to_string()..) {
            let Some(key) = name.strip_prefix(PREFIX) else {
                break;
            };
            if raw.is_empty() {
                continue;
            }
            let fail = |message: String| ConfigError::EnvOverride {
                var: name.clone(),
                message,
            };
            let parts: Vec<&str> = key.split('_').collect();
            if let Some(bad) = parts.iter().find(|p| !is_key_part(p)) {
                return Err(fail(format!(
                    "invalid config key part '{bad}' (keys look like 'listen' or 'baseUrl')"
                )));
            }
            let value = match serde_json::from_str::<Value>(raw) {
                Ok(Value::Null) => return Err(fail("value may not be null".into())),
                Ok(parsed) => parsed,
                Err(_) => Value::String(raw.clone()),
            };
            let (last, parents) = parts.split_last().expect("split yields at least one part");
            let mut obj = &mut root;
            for (i, part) in parents.iter().enumerate() {
                let slot = obj
                    .entry(part.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                obj = match slot {
                    Value::Object(map) => map,
                    _ => {
                        return Err(fail(format!(
                            "cannot nest config under existing value '{}'",
                            parts[..=i].join("_")
                        )))
                    }
                };
            }
            if obj.contains_key(*last) {
                return Err(fail(format!(
                    "refusing to override existing config at key '{key}'"
                )));
            }
            obj.insert(last.to_string(), value);
        }
        Ok(Value::Object(root))
    }
}

/// Backstage's `CONFIG_KEY_PART_PATTERN`: `/^[a-z][a-z0-9]*(?:[-_][a-z][a-z0-9]*)*$/i`
/// (checked per `_`-separated part, so only the `-` joins matter here).
fn is_key_part(part: &str) -> bool {
    !part.is_empty()
        && part.split('-').all(|seg| {
            let mut chars = seg.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric())
        })
}
