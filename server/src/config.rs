//! Configuration: Backstage-shaped `app-config.yaml` files, deep-merged in order,
//! `${VAR}` substituted, parsed into typed structs that refuse unknown keys and
//! wrong types with the config path in the message.
//!
//! (Skeleton: types the other modules rely on. The loader fills in below.)

use serde::Deserialize;

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
    #[serde(default)]
    pub listen: ListenConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub reading: ReadingConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenConfig {
    #[serde(default = "default_port")]
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
        Self { port: default_port(), host: default_host() }
    }
}

/// `backend.database`: `client: sqlite` (or `better-sqlite3`/`sqlite3`) with
/// `connection: {filename}` or `':memory:'`; `client: pg` with a URL string or
/// `{host, port, user, password, database}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseConfig {
    pub client: String,
    #[serde(default)]
    pub connection: Option<serde_json::Value>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { client: "sqlite".into(), connection: None }
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

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogConfig {
    #[serde(default)]
    pub readonly: bool,
    /// None = Backstage's default rule (allow Component, API, Location).
    pub rules: Option<Vec<CatalogRule>>,
    #[serde(default)]
    pub locations: Vec<ConfigLocation>,
    /// `{seconds|minutes|hours: N}` or `false` (processing disabled).
    pub processing_interval: Option<serde_json::Value>,
    #[serde(default)]
    pub orphan_strategy: OrphanStrategy,
    pub default_location_conflict_strategy: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OrphanStrategy {
    #[default]
    Delete,
    Keep,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScmIntegration {
    pub host: String,
    pub token: Option<String>,
    pub api_base_url: Option<String>,
    pub raw_base_url: Option<String>,
    pub base_url: Option<String>,
}
