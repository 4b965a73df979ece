//! Configuration: Backstage-shaped `app-config.yaml` files, deep-merged in order,
//! `${VAR}` substituted, `$file`/`$env`/`$include` resolved, `APP_CONFIG_*`
//! overrides applied, then parsed into typed structs that refuse unknown keys and
//! wrong types with the config path in the message (reference section 9).
//!
//! Secrets (integration tokens, database passwords, opaque sections) never
//! appear in `Debug` output.

mod database;
mod env;
mod merge;
mod source;
mod substitution;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

pub use database::{redact_url, DatabaseTarget, SqliteLocation, DEFAULT_SQLITE_FILE};
pub use env::Env;
pub use merge::deep_merge;

/// The base file, always read unless `--config` files are given.
pub const BASE_CONFIG_FILE: &str = "app-config.yaml";
/// Read after the base file when it exists (developer overrides, not committed).
pub const LOCAL_CONFIG_FILE: &str = "app-config.local.yaml";
/// `catalog.processingInterval` when the config does not set it.
pub const DEFAULT_PROCESSING_INTERVAL_SECS: u64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read config file {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to parse config file {}: {message}", file.display())]
    Parse { file: PathBuf, message: String },
    #[error("{}: {path}: {message}", file.display())]
    Directive {
        file: PathBuf,
        path: String,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    EnvOverride { var: String, message: String },
    /// A value that does not fit the schema; `path` is the dotted config path.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// `app-config.yaml`, then `app-config.local.yaml` when it exists (in the
/// working directory).
pub fn default_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from(BASE_CONFIG_FILE)];
    if Path::new(LOCAL_CONFIG_FILE).is_file() {
        paths.push(PathBuf::from(LOCAL_CONFIG_FILE));
    }
    paths
}

/// Loads and validates the configuration from `paths` (later files override
/// earlier ones) and the process environment.
pub fn load(paths: &[PathBuf]) -> Result<Config, ConfigError> {
    load_with_env(paths, &Env::from_process())
}

/// [`load`] with an explicit environment (tests, tools).
pub fn load_with_env(paths: &[PathBuf], env: &Env) -> Result<Config, ConfigError> {
    Config::from_value(load_value(paths, env)?)
}

/// The merged, substituted configuration document before typing: each file in
/// order, then the `APP_CONFIG_*` variables on top.
pub fn load_value(paths: &[PathBuf], env: &Env) -> Result<Value, ConfigError> {
    let mut merged = Value::Object(Default::default());
    for path in paths {
        deep_merge(&mut merged, source::read_config_file(path, env)?);
    }
    deep_merge(&mut merged, env.app_config_overrides()?);
    Ok(merged)
}

impl Config {
    /// Types a merged configuration document and checks the values that need
    /// more than their type (database connection, processing interval).
    pub fn from_value(value: Value) -> Result<Config, ConfigError> {
        let config: Config = serde_path_to_error::deserialize(value).map_err(path_error)?;
        config.database()?;
        config.checked_processing_interval()?;
        Ok(config)
    }

    /// The database to connect to (default: the SQLite file [`DEFAULT_SQLITE_FILE`];
    /// call [`DatabaseTarget::ensure_directory`] before opening it).
    pub fn database(&self) -> Result<DatabaseTarget, ConfigError> {
        database::resolve(&self.backend.database)
    }

    /// Seconds between two processing runs of an entity; `None` when
    /// `catalog.processingInterval: false` disables processing.
    pub fn processing_interval_secs(&self) -> Option<u64> {
        // Validated by `from_value`; a hand-built invalid value falls back to the default.
        self.checked_processing_interval()
            .unwrap_or(Some(DEFAULT_PROCESSING_INTERVAL_SECS))
    }

    fn checked_processing_interval(&self) -> Result<Option<u64>, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: "catalog.processingInterval".into(),
            message,
        };
        match &self.catalog.processing_interval {
            None | Some(Value::Null) => Ok(Some(DEFAULT_PROCESSING_INTERVAL_SECS)),
            Some(Value::Bool(false)) => Ok(None),
            Some(Value::Object(parts)) => duration_secs(parts).map(Some).map_err(invalid),
            Some(other) => Err(invalid(format!(
                "expected false or a duration like {{ seconds: 100 }}, got {other}"
            ))),
        }
    }

    /// The backend's public URL without a trailing slash: `backend.baseUrl`, or
    /// `http://localhost:<listen.port>` when unset.
    pub fn base_url(&self) -> String {
        match &self.backend.base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://localhost:{}", self.backend.listen.port),
        }
    }
}

/// Sums a Backstage duration object (`{ minutes: 2, seconds: 30 }`) into seconds.
fn duration_secs(parts: &serde_json::Map<String, Value>) -> Result<u64, String> {
    if parts.is_empty() {
        return Err("empty duration (use e.g. { seconds: 100 })".into());
    }
    let mut millis: u128 = 0;
    for (unit, amount) in parts {
        let per_unit: u128 = match unit.as_str() {
            "milliseconds" => 1,
            "seconds" => 1_000,
            "minutes" => 60_000,
            "hours" => 3_600_000,
            "days" => 86_400_000,
            "weeks" => 604_800_000,
            _ => return Err(format!("unknown duration unit '{unit}' (milliseconds, seconds, minutes, hours, days, weeks)")),
        };
        let n = match amount {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        }
        .ok_or_else(|| format!("{unit}: expected a non-negative whole number, got {amount}"))?;
        millis += per_unit * n as u128;
    }
    let secs = millis.div_ceil(1000);
    if secs == 0 {
        return Err("the interval must be at least one second".into());
    }
    u64::try_from(secs).map_err(|_| "duration too large".into())
}

/// Turns a serde error into `<dotted path>: <message>`; an unknown key becomes
/// `<path to the key>: unknown field (expected one of ...)`.
fn path_error(err: serde_path_to_error::Error<serde_json::Error>) -> ConfigError {
    let mut path = err.path().to_string();
    let message = err.inner().to_string();
    let message = strip_serde_json_position(&message);
    if let Some(field) = unknown_field_name(message) {
        // serde_path_to_error already ends the path with the key; older versions did not.
        if path == "." || path.is_empty() {
            path = field.to_string();
        } else if !path.ends_with(&format!(".{field}")) && path != field {
            path = format!("{path}.{field}");
        }
        return ConfigError::Invalid {
            path,
            message: "unknown field".into(),
        }
        .with_hint(message);
    }
    if path == "." {
        path = "<root>".into();
    }
    ConfigError::Invalid {
        path,
        message: message.to_string(),
    }
}

impl ConfigError {
    /// Adds serde's list of accepted keys after the short message.
    fn with_hint(self, serde_message: &str) -> Self {
        match (self, serde_message.split_once(", expected ")) {
            (ConfigError::Invalid { path, message }, Some((_, expected))) => ConfigError::Invalid {
                path,
                message: format!("{message} (expected {expected})"),
            },
            (other, _) => other,
        }
    }
}

fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// serde_json appends " at line L column C" for text input; a `Value` has no positions.
fn strip_serde_json_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

// ---------------------------------------------------------------------------
// Typed sections. Every struct refuses unknown keys.

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub app: AppSection,
    #[serde(default)]
    pub organization: Option<OrganizationSection>,
    #[serde(default)]
    pub backend: BackendConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    #[serde(default)]
    pub integrations: IntegrationsConfig,
    // Sections owned by features that are not typed yet. They are accepted
    // as opaque JSON so a Backstage app-config loads; each becomes a typed
    // struct (refusing unknown keys) when its feature lands.
    #[serde(default)]
    pub auth: Option<OpaqueSection>,
    #[serde(default)]
    pub scaffolder: ScaffolderConfig,
    #[serde(default)]
    pub techdocs: Option<OpaqueSection>,
    #[serde(default)]
    pub search: Option<OpaqueSection>,
    #[serde(default)]
    pub permission: Option<OpaqueSection>,
}

/// An untyped section kept as JSON. `Debug` shows only its top-level keys,
/// because such sections hold secrets (client secrets, signing keys).
#[derive(Clone, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct OpaqueSection(pub Value);

impl fmt::Debug for OpaqueSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Value::Object(map) => f.debug_set().entries(map.keys()).finish(),
            _ => f.write_str("<redacted>"),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppSection {
    pub title: Option<String>,
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationSection {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendConfig {
    pub base_url: Option<String>,
    /// `{port, host}`, or Backstage's string form `"<port>"` / `"<host>:<port>"`.
    #[serde(default, deserialize_with = "lenient::listen")]
    pub listen: ListenConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub reading: ReadingConfig,
    #[serde(default)]
    pub cors: Option<CorsConfig>,
    // Accepted for Backstage compatibility, not used yet (see `Config`).
    #[serde(default)]
    pub csp: Option<OpaqueSection>,
    #[serde(default)]
    pub cache: Option<OpaqueSection>,
    #[serde(default)]
    pub auth: Option<OpaqueSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenConfig {
    /// A number, or a numeric string (what `${PORT}` substitution yields).
    #[serde(default = "default_port", deserialize_with = "lenient::u16")]
    pub port: u16,
    #[serde(default = "default_host")]
    pub host: String,
}

fn default_port() -> u16 {
    7007
}
fn default_host() -> String {
    "0.0.0.0".into()
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            port: default_port(),
            host: default_host(),
        }
    }
}

/// `backend.database`: `client: sqlite` (or `better-sqlite3`/`sqlite3`) with
/// `connection: {filename}` or `':memory:'`; `client: pg` with a URL string or
/// `{host, port, user, password, database}`. Resolved by [`Config::database`].
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseConfig {
    pub client: String,
    #[serde(default)]
    pub connection: Option<serde_json::Value>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            client: "sqlite".into(),
            connection: None,
        }
    }
}

// The connection may hold a password.
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("client", &self.client)
            .field(
                "connection",
                &self.connection.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReadingConfig {
    #[serde(default)]
    pub allow: Vec<ReadingAllow>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReadingAllow {
    /// Host, optionally with a port (`example.com:8080`) or a `*.` wildcard prefix.
    pub host: String,
    #[serde(default)]
    pub paths: Vec<String>,
}

/// `backend.cors` (Backstage passes it to the `cors` middleware). `origin` and
/// `methods` accept a single string or a list.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CorsConfig {
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub origin: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub methods: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub allowed_headers: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub exposed_headers: Vec<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub credentials: bool,
    pub max_age: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogConfig {
    #[serde(default, deserialize_with = "lenient::bool")]
    pub readonly: bool,
    /// None = Backstage's default rule (allow Component, API, Location).
    pub rules: Option<Vec<CatalogRule>>,
    #[serde(default)]
    pub locations: Vec<ConfigLocation>,
    /// `{seconds|minutes|hours: N}` or `false` (processing disabled); read it
    /// through [`Config::processing_interval_secs`].
    pub processing_interval: Option<serde_json::Value>,
    #[serde(default)]
    pub orphan_strategy: OrphanStrategy,
    #[serde(default)]
    pub orphan_provider_strategy: OrphanStrategy,
    pub default_location_conflict_strategy: Option<LocationConflictStrategy>,
    /// Entity providers (GitHub discovery, LDAP, ...): typed when they land.
    #[serde(default)]
    pub providers: Option<OpaqueSection>,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OrphanStrategy {
    #[default]
    Delete,
    Keep,
}

/// What `POST /locations` does when the location already exists.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LocationConflictStrategy {
    Reject,
    Refresh,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogRule {
    pub allow: Vec<RuleAllow>,
    #[serde(default)]
    pub locations: Option<Vec<RuleLocation>>,
}

/// `Component` or `{kind: API, spec.type: openapi}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RuleAllow {
    Kind(String),
    KindWithType {
        kind: String,
        #[serde(rename = "spec.type")]
        spec_type: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleLocation {
    #[serde(rename = "type")]
    pub kind: String,
    pub exact: Option<String>,
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigLocation {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    /// Extra rules for entities read from this location (added to `catalog.rules`).
    #[serde(default)]
    pub rules: Option<Vec<CatalogRule>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IntegrationsConfig {
    #[serde(default)]
    pub github: Vec<ScmIntegration>,
    #[serde(default)]
    pub gitlab: Vec<ScmIntegration>,
    /// Plain Git servers (Greenroom's own): a `RepoUrlPicker` host mapped to
    /// a remote base, for `publish:git` and for reading registered files.
    #[serde(default)]
    pub git: Vec<GitIntegration>,
}

/// `integrations.git[]`: repositories of `host?owner=o&repo=r` live at
/// `<remoteBaseUrl>/<owner>/<repo>.git` (an `http(s)://`, `git://` or `file://` URL).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitIntegration {
    pub host: String,
    pub remote_base_url: String,
    /// Sent as a bearer token over HTTP(S), never put in a URL.
    pub token: Option<String>,
    /// Create missing bare repositories under a `file://` base (a local demo server).
    #[serde(default)]
    pub create_repositories: bool,
}

impl fmt::Debug for GitIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitIntegration")
            .field("host", &self.host)
            .field("remote_base_url", &self.remote_base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("create_repositories", &self.create_repositories)
            .finish()
    }
}

/// `scaffolder`: Backstage's keys plus Greenroom's task runner and GitOps settings.
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaffolderConfig {
    /// How many tasks one process runs at once (Backstage's key).
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub concurrent_tasks_limit: Option<u64>,
    /// Author of commits the publish actions make (Backstage's key).
    pub default_author: Option<GitAuthor>,
    pub default_commit_message: Option<String>,
    /// `{parameters, secrets}` exposed to templates as `environment.*`.
    pub default_environment: Option<OpaqueSection>,
    /// A worker that has not sent a heartbeat for this long is taken to be dead
    /// and its task is resumed by another worker (seconds, default 30).
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub task_heartbeat_timeout_seconds: Option<u64>,
    /// Where task workspaces are created (default: the system temp directory).
    pub working_directory: Option<String>,
    /// Key (base64 of 32 bytes) that seals task secrets in the database. Every
    /// replica needs the same key to resume another's task; without one each
    /// process uses its own random key.
    pub secrets_key: Option<String>,
    /// The GitOps repository `gitops:claim` commits to.
    pub gitops: Option<GitopsConfig>,
}

impl fmt::Debug for ScaffolderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScaffolderConfig")
            .field("concurrent_tasks_limit", &self.concurrent_tasks_limit)
            .field(
                "task_heartbeat_timeout_seconds",
                &self.task_heartbeat_timeout_seconds,
            )
            .field("working_directory", &self.working_directory)
            .field(
                "secrets_key",
                &self.secrets_key.as_ref().map(|_| "<redacted>"),
            )
            .field("gitops", &self.gitops)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitAuthor {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitopsConfig {
    /// The GitOps repository: a `RepoUrlPicker` value (`host?owner=o&repo=r`)
    /// of a configured integration, or a Git remote URL.
    pub repo_url: String,
    #[serde(default = "default_branch")]
    pub branch: String,
}

fn default_branch() -> String {
    "main".to_string()
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScmIntegration {
    pub host: String,
    pub token: Option<String>,
    pub api_base_url: Option<String>,
    pub raw_base_url: Option<String>,
    pub base_url: Option<String>,
    /// GitHub Apps credentials: typed when the GitHub integration lands.
    #[serde(default)]
    pub apps: Option<OpaqueSection>,
}

impl ScmIntegration {
    /// A host known without configuration (github.com, gitlab.com): no token.
    pub fn bare(host: &str) -> Self {
        ScmIntegration {
            host: host.to_string(),
            token: None,
            api_base_url: None,
            raw_base_url: None,
            base_url: None,
            apps: None,
        }
    }
}

// Tokens are secrets.
impl fmt::Debug for ScmIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScmIntegration")
            .field("host", &self.host)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("api_base_url", &self.api_base_url)
            .field("raw_base_url", &self.raw_base_url)
            .field("base_url", &self.base_url)
            .field("apps", &self.apps)
            .finish()
    }
}

/// Deserializers that also accept the strings `${VAR}` substitution produces,
/// as Backstage's config reader does for numbers and booleans.
mod lenient {
    use std::fmt;

    use serde::de::{self, Deserializer, Unexpected, Visitor};

    use super::{default_host, Deserialize, ListenConfig};

    /// A `{port, host}` mapping (typed, so errors keep their path) or a string.
    pub fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<ListenConfig, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ListenConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a {port, host} mapping or a \"<host>:<port>\" string")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<ListenConfig, A::Error> {
                ListenConfig::deserialize(de::value::MapAccessDeserializer::new(map))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ListenConfig, E> {
                parse_listen(v).ok_or_else(|| {
                    E::invalid_value(Unexpected::Str(v), &"\"<port>\" or \"<host>:<port>\"")
                })
            }
        }
        d.deserialize_any(V)
    }

    /// Backstage's `readHttpServerOptions`: `"7007"`, `":7007"` or `"127.0.0.1:7007"`.
    fn parse_listen(v: &str) -> Option<ListenConfig> {
        let (host, port) = match v.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, port),
            Some(_) => return None,
            None => ("", v),
        };
        let port = port.trim().parse::<u16>().ok()?;
        let host = if host.is_empty() {
            default_host()
        } else {
            host.to_string()
        };
        Some(ListenConfig { port, host })
    }

    pub fn u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = u16;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("u16")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u16, E> {
                u16::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u16, E> {
                u16::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u16, E> {
                v.trim()
                    .parse()
                    .map_err(|_| E::invalid_type(Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }

    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
                match v.trim() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(E::invalid_type(Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }

    /// An optional unsigned number, also as a string.
    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(Some)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| E::invalid_type(Unexpected::Str(v), &self))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        d.deserialize_any(V)
    }

    /// One string or a list of strings.
    pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a string or a list of strings")]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        })
    }
}

#[cfg(test)]
mod tests;
