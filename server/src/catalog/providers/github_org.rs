//! Backstage's `catalog.providers.githubOrg`: the teams and members of
//! GitHub organisations as Group and User entities. Reads the REST API with
//! the token of the `integrations.github` entry for the instance:
//! the teams of each organisation (with their parents), each team's members,
//! the organisation's members, and each member's profile.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use greenroom_model::Entity;
use octocrab::{Octocrab, Page};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use super::EntityProvider;
use crate::auth::oauth::parse_duration;
use crate::config::Config;

/// Requests in flight at once per provider (team members, user profiles).
const CONCURRENCY: usize = 4;
/// GitHub's largest page.
const PER_PAGE: &str = "100";
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Backstage's default schedule when `schedule` is not configured.
const DEFAULT_FREQUENCY: Duration = Duration::from_secs(3600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(50 * 60);

/// Path segments keep GitHub's own characters and escape anything else.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// One `githubOrg` entry, resolved against the integrations.
pub struct GithubOrgProvider {
    id: String,
    /// `githubUrl` without a trailing slash.
    github_url: String,
    orgs: Vec<String>,
    api_base_url: String,
    token: String,
    frequency: Duration,
    timeout: Duration,
}

// The token stays out of logs.
impl std::fmt::Debug for GithubOrgProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubOrgProvider")
            .field("id", &self.id)
            .field("github_url", &self.github_url)
            .field("orgs", &self.orgs)
            .field("api_base_url", &self.api_base_url)
            .field("frequency", &self.frequency)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The providers of `catalog.providers.githubOrg` (one object or a list);
/// other keys of `catalog.providers` belong to other providers.
pub fn github_org_providers(
    providers_section: Option<&Value>,
    config: &Config,
) -> Result<Vec<Arc<dyn EntityProvider>>, String> {
    let Some(section) = providers_section.and_then(|p| p.get("githubOrg")) else {
        return Ok(Vec::new());
    };
    let entries: Vec<(String, &Value)> = match section {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("catalog.providers.githubOrg[{i}]"), v))
            .collect(),
        Value::Object(_) => vec![("catalog.providers.githubOrg".to_string(), section)],
        Value::Null => Vec::new(),
        other => {
            return Err(format!(
                "catalog.providers.githubOrg: expected an object or a list, got {other}"
            ))
        }
    };
    let mut ids = BTreeSet::new();
    let mut providers: Vec<Arc<dyn EntityProvider>> = Vec::new();
    for (path, entry) in entries {
        let provider = GithubOrgProvider::from_value(&path, entry, config)?;
        if !ids.insert(provider.id.clone()) {
            return Err(format!("{path}.id: '{}' is used twice", provider.id));
        }
        providers.push(Arc::new(provider));
    }
    Ok(providers)
}

impl GithubOrgProvider {
    fn from_value(path: &str, v: &Value, config: &Config) -> Result<Self, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{path}: expected an object, got {v}"))?;
        refuse_unknown(path, obj, &["id", "githubUrl", "orgs", "schedule"])?;
        let string = |key: &str| -> Result<String, String> {
            match obj.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                None | Some(Value::Null) => Err(format!("{path}.{key}: required")),
                Some(other) => Err(format!(
                    "{path}.{key}: expected a non-empty string, got {other}"
                )),
            }
        };
        let id = string("id")?;
        let github_url = string("githubUrl")?.trim_end_matches('/').to_string();
        let url = Url::parse(&github_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                format!("{path}.githubUrl: expected an http(s) URL, got {github_url:?}")
            })?;

        let org_name =
            regex::Regex::new(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$").expect("valid regex");
        let orgs: Vec<String> = match obj.get("orgs") {
            // Backstage lists every organisation a GitHub App installation
            // can see; with a token there is no such list.
            None | Some(Value::Null) => {
                return Err(format!(
                    "{path}.orgs: required (the organisations to read, e.g. [my-org])"
                ))
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|o| match o.as_str() {
                    Some(name) if org_name.is_match(name) => Ok(name.to_string()),
                    _ => Err(format!(
                        "{path}.orgs: {o} is not a GitHub organisation name"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("{path}.orgs: expected a list, got {other}")),
        };
        if orgs.is_empty() {
            return Err(format!("{path}.orgs: must name at least one organisation"));
        }

        let (frequency, timeout) = match obj.get("schedule") {
            None | Some(Value::Null) => (DEFAULT_FREQUENCY, DEFAULT_TIMEOUT),
            Some(s) => schedule(&format!("{path}.schedule"), s)?,
        };

        // The integration whose host is githubUrl's host (with its port, if any).
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let integration = config
            .integrations
            .github
            .iter()
            .find(|i| i.host.eq_ignore_ascii_case(&host))
            .ok_or_else(|| {
                format!("{path}.githubUrl: no integrations.github entry for host {host} (its token reads the organisation)")
            })?;
        let token = integration.token.clone().ok_or_else(|| {
            format!(
                "integrations.github (host {host}): the githubOrg provider '{id}' needs a token"
            )
        })?;
        let api_base_url = match &integration.api_base_url {
            Some(api) => api.trim_end_matches('/').to_string(),
            None if host.eq_ignore_ascii_case("github.com") => "https://api.github.com".into(),
            // GitHub Enterprise serves its API under the instance.
            None => format!("{github_url}/api/v3"),
        };
        Ok(GithubOrgProvider {
            id,
            github_url,
            orgs,
            api_base_url,
            token,
            frequency,
            timeout,
        })
    }

    fn client(&self) -> anyhow::Result<Octocrab> {
        Octocrab::builder()
            .base_uri(self.api_base_url.as_str())
            .with_context(|| format!("invalid GitHub API URL {}", self.api_base_url))?
            .personal_token(self.token.clone())
            .set_connect_timeout(Some(HTTP_TIMEOUT))
            .set_read_timeout(Some(HTTP_TIMEOUT))
            .build()
            .context("building the GitHub client")
    }

    async fn read_all(&self) -> anyhow::Result<Vec<Entity>> {
        let client = self.client()?;
        let mut users: BTreeMap<String, UserEntry> = BTreeMap::new();
        let mut groups: BTreeMap<String, Entity> = BTreeMap::new();
        let mut team_org: BTreeMap<String, String> = BTreeMap::new();
        for org in &self.orgs {
            let location = format!("url:{}/{org}", self.github_url);
            let org_path = encode(org);
            let teams: Vec<Team> = all(&client, &format!("/orgs/{org_path}/teams")).await?;
            let routes: Vec<String> = teams
                .iter()
                .map(|t| format!("/orgs/{org_path}/teams/{}/members", encode(&t.slug)))
                .collect();
            // Owned inputs: the future must be `Send` for every borrow lifetime.
            let team_members: Vec<Vec<Member>> = futures::stream::iter(routes)
                .map(|route| {
                    let client = client.clone();
                    async move { all::<Member>(&client, route).await }
                })
                .buffered(CONCURRENCY)
                .try_collect()
                .await?;
            let org_members: Vec<Member> =
                all(&client, &format!("/orgs/{org_path}/members")).await?;

            for member in &org_members {
                users
                    .entry(member.login.clone())
                    .or_insert_with(|| UserEntry::new(&location));
            }
            let hierarchy = Hierarchy::new(&teams, &team_members);
            for (team, direct) in teams.iter().zip(hierarchy.direct_members()) {
                // Teams share the default namespace, so a slug can name one team only.
                if let Some(other) = team_org.insert(team.slug.clone(), org.clone()) {
                    anyhow::bail!(
                        "team slug '{}' exists in organisations {other} and {org}; Group names must be unique",
                        team.slug
                    );
                }
                for login in direct {
                    users
                        .entry(login.clone())
                        .or_insert_with(|| UserEntry::new(&location))
                        .member_of
                        .insert(team.slug.clone());
                }
                let children = hierarchy.children(&team.slug);
                groups.insert(
                    team.slug.clone(),
                    group_entity(org, team, &children, &location),
                );
            }
        }

        let logins: Vec<String> = users.keys().cloned().collect();
        let profiles: Vec<Profile> = futures::stream::iter(logins)
            .map(|login| {
                let client = client.clone();
                async move {
                    client
                        .get::<Profile, _, ()>(format!("/users/{}", encode(&login)), None)
                        .await
                        .map_err(|e| github_error(&format!("GET /users/{login}"), e))
                }
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;

        let mut entities: Vec<Entity> = groups.into_values().collect();
        for ((login, entry), profile) in users.iter().zip(profiles) {
            entities.push(user_entity(login, entry, &profile));
        }
        Ok(entities)
    }
}

#[async_trait]
impl EntityProvider for GithubOrgProvider {
    fn name(&self) -> String {
        format!("GithubOrgEntityProvider:{}", self.id)
    }

    fn interval(&self) -> Duration {
        self.frequency
    }

    async fn read(&self) -> anyhow::Result<Vec<Entity>> {
        tokio::time::timeout(self.timeout, self.read_all())
            .await
            .map_err(|_| anyhow!("{}: timed out after {:?}", self.name(), self.timeout))?
            .with_context(|| format!("{} ({})", self.name(), self.github_url))
    }
}

/// `schedule: { frequency, timeout, initialDelay?, scope? }` → (frequency, timeout).
fn schedule(path: &str, v: &Value) -> Result<(Duration, Duration), String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object, got {v}"))?;
    refuse_unknown(
        path,
        obj,
        &["frequency", "timeout", "initialDelay", "scope"],
    )?;
    let duration = |key: &str| -> Result<Duration, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Err(format!("{path}.{key}: required")),
            Some(Value::Object(o)) if o.contains_key("cron") => Err(format!(
                "{path}.{key}: cron schedules are not supported; use a duration such as {{ hours: 1 }}"
            )),
            Some(d) => parse_duration(d).map_err(|e| format!("{path}.{key}: {e}")),
        }
    };
    let frequency = duration("frequency")?;
    let timeout = duration("timeout")?;
    if let Some(delay) = obj.get("initialDelay").filter(|d| !d.is_null()) {
        parse_duration(delay).map_err(|e| format!("{path}.initialDelay: {e}"))?;
    }
    Ok((frequency, timeout))
}

fn refuse_unknown(path: &str, obj: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    let unknown: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{path}: unknown key(s) {} (expected {})",
            unknown.join(", "),
            known.join(", ")
        ))
    }
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Every page of a list, following GitHub's `Link: rel="next"`.
async fn all<T: serde::de::DeserializeOwned>(
    client: &Octocrab,
    route: impl AsRef<str>,
) -> anyhow::Result<Vec<T>> {
    let route = route.as_ref();
    let first: Page<T> = client
        .get(route, Some(&[("per_page", PER_PAGE)]))
        .await
        .map_err(|e| github_error(&format!("GET {route}"), e))?;
    client
        .all_pages(first)
        .await
        .map_err(|e| github_error(&format!("GET {route} (next pages)"), e))
}

fn github_error(action: &str, e: octocrab::Error) -> anyhow::Error {
    match e {
        octocrab::Error::GitHub { source, .. } => anyhow!(
            "{action}: GitHub answered {}: {}",
            source.status_code,
            source.message
        ),
        other => anyhow!("{action}: {other}"),
    }
}

/// The fields of GitHub's team object that Greenroom uses.
#[derive(Debug, Deserialize)]
struct Team {
    slug: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parent: Option<ParentTeam>,
}

#[derive(Debug, Deserialize)]
struct ParentTeam {
    slug: String,
}

#[derive(Debug, Deserialize)]
struct Member {
    login: String,
}

#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
}

struct UserEntry {
    /// `url:<githubUrl>/<org>` of the first organisation that listed the user.
    location: String,
    member_of: BTreeSet<String>,
}

impl UserEntry {
    fn new(location: &str) -> Self {
        UserEntry {
            location: location.to_string(),
            member_of: BTreeSet::new(),
        }
    }
}

/// The team tree of one organisation.
struct Hierarchy<'a> {
    teams: &'a [Team],
    members: &'a [Vec<Member>],
}

impl<'a> Hierarchy<'a> {
    fn new(teams: &'a [Team], members: &'a [Vec<Member>]) -> Self {
        Hierarchy { teams, members }
    }

    fn children(&self, slug: &str) -> Vec<String> {
        let mut children: Vec<String> = self
            .teams
            .iter()
            .filter(|t| t.parent.as_ref().is_some_and(|p| p.slug == slug))
            .map(|t| t.slug.clone())
            .collect();
        children.sort();
        children
    }

    /// Each team's direct members, in team order. GitHub's member listing of
    /// a team includes the members of its child teams; Backstage's `memberOf`
    /// is direct membership (ownership flows up through `parent`), so the
    /// child teams' members are taken out. Someone who is a direct member of
    /// both a team and its child is kept in the child only, which reaches
    /// the same groups.
    fn direct_members(&self) -> Vec<BTreeSet<String>> {
        let listed: BTreeMap<&str, BTreeSet<String>> = self
            .teams
            .iter()
            .zip(self.members)
            .map(|(t, m)| (t.slug.as_str(), m.iter().map(|m| m.login.clone()).collect()))
            .collect();
        self.teams
            .iter()
            .map(|team| {
                let mut direct = listed[team.slug.as_str()].clone();
                for child in self.children(&team.slug) {
                    if let Some(child_members) = listed.get(child.as_str()) {
                        direct.retain(|login| !child_members.contains(login));
                    }
                }
                direct
            })
            .collect()
    }
}

fn managed_by(location: &str) -> Map<String, Value> {
    let mut annotations = Map::new();
    annotations.insert("backstage.io/managed-by-location".into(), json!(location));
    annotations.insert(
        "backstage.io/managed-by-origin-location".into(),
        json!(location),
    );
    annotations
}

fn group_entity(org: &str, team: &Team, children: &[String], location: &str) -> Entity {
    let mut annotations = managed_by(location);
    annotations.insert(
        "github.com/team-slug".into(),
        json!(format!("{org}/{}", team.slug)),
    );
    let mut metadata = json!({"name": team.slug, "annotations": annotations});
    if let Some(description) = team.description.as_deref().filter(|d| !d.is_empty()) {
        metadata["description"] = json!(description);
    }
    let mut spec = json!({
        "type": "team",
        "profile": {"displayName": team.name},
        "children": children,
    });
    if let Some(parent) = &team.parent {
        spec["parent"] = json!(parent.slug);
    }
    entity("Group", metadata, spec)
}

fn user_entity(login: &str, entry: &UserEntry, profile: &Profile) -> Entity {
    let mut annotations = managed_by(&entry.location);
    annotations.insert("github.com/user-login".into(), json!(login));
    let mut user_profile = Map::new();
    let fields = [
        ("displayName", &profile.name),
        ("email", &profile.email),
        ("picture", &profile.avatar_url),
    ];
    for (key, value) in fields {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            user_profile.insert(key.into(), json!(value));
        }
    }
    entity(
        "User",
        json!({"name": login, "annotations": annotations}),
        json!({"profile": user_profile, "memberOf": entry.member_of}),
    )
}

fn entity(kind: &str, metadata: Value, spec: Value) -> Entity {
    let mut e = Map::new();
    e.insert("apiVersion".into(), json!("backstage.io/v1alpha1"));
    e.insert("kind".into(), json!(kind));
    e.insert("metadata".into(), metadata);
    e.insert("spec".into(), spec);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(integrations: Value) -> Config {
        Config::from_value(json!({"integrations": {"github": integrations}})).unwrap()
    }

    fn providers(section: Value, config: &Config) -> Result<Vec<Arc<dyn EntityProvider>>, String> {
        github_org_providers(Some(&section), config)
    }

    fn one(section: Value, config: &Config) -> GithubOrgProvider {
        let obj = section["githubOrg"].clone();
        GithubOrgProvider::from_value("catalog.providers.githubOrg", &obj, config).unwrap()
    }

    #[test]
    fn reads_one_object_with_a_ghe_integration() {
        let cfg = config(json!([{"host": "ghe.example.com", "token": "t0ken"}]));
        let p = one(
            json!({"githubOrg": {
                "id": "production", "githubUrl": "https://ghe.example.com/", "orgs": ["acme"],
                "schedule": {"frequency": {"minutes": 30}, "timeout": "PT3M", "initialDelay": {"seconds": 15}}
            }}),
            &cfg,
        );
        assert_eq!(p.name(), "GithubOrgEntityProvider:production");
        assert_eq!(p.interval(), Duration::from_secs(1800));
        assert_eq!(p.timeout, Duration::from_secs(180));
        assert_eq!(p.api_base_url, "https://ghe.example.com/api/v3");
        assert_eq!(p.github_url, "https://ghe.example.com");
        assert_eq!(p.token, "t0ken");
        assert!(!format!("{p:?}").contains("t0ken"));
    }

    #[test]
    fn reads_a_list_and_uses_the_integration_api_base_url() {
        let cfg = config(json!([
            {"host": "github.com", "token": "a"},
            {"host": "127.0.0.1:8080", "token": "b", "apiBaseUrl": "http://127.0.0.1:8080/api/v3/"}
        ]));
        let list = providers(
            json!({"ldapOrg": {"ignored": true}, "githubOrg": [
                {"id": "public", "githubUrl": "https://github.com", "orgs": ["acme"]},
                {"id": "local", "githubUrl": "http://127.0.0.1:8080", "orgs": ["a", "b-2"]}
            ]}),
            &cfg,
        )
        .unwrap();
        let names: Vec<String> = list.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "GithubOrgEntityProvider:public",
                "GithubOrgEntityProvider:local"
            ]
        );
        // Without a schedule: Backstage's hourly default.
        assert_eq!(list[0].interval(), Duration::from_secs(3600));
        let p = one(
            json!({"githubOrg": {"id": "public", "githubUrl": "https://github.com", "orgs": ["acme"]}}),
            &cfg,
        );
        assert_eq!(p.api_base_url, "https://api.github.com");
        let p = one(
            json!({"githubOrg": {"id": "l", "githubUrl": "http://127.0.0.1:8080", "orgs": ["a"]}}),
            &cfg,
        );
        assert_eq!(p.api_base_url, "http://127.0.0.1:8080/api/v3");
    }

    #[test]
    fn absent_section_means_no_providers() {
        let cfg = config(json!([]));
        assert!(github_org_providers(None, &cfg).unwrap().is_empty());
        assert!(providers(json!({"ldapOrg": {}}), &cfg).unwrap().is_empty());
    }

    #[test]
    fn refuses_bad_entries() {
        let cfg = config(json!([{"host": "github.com", "token": "a"}, {"host": "ghe.local"}]));
        let err = |section: Value| {
            providers(json!({"githubOrg": section}), &cfg)
                .err()
                .unwrap()
        };
        let e =
            err(json!({"id": "x", "githubUrl": "https://github.com", "orgs": ["a"], "org": "a"}));
        assert!(e.contains("unknown key(s) org"), "{e}");
        let e = err(json!({"githubUrl": "https://github.com", "orgs": ["a"]}));
        assert!(e.contains("githubOrg.id: required"), "{e}");
        let e = err(json!({"id": "x", "githubUrl": "https://github.com"}));
        assert!(e.contains("orgs: required"), "{e}");
        let e = err(json!({"id": "x", "githubUrl": "https://github.com", "orgs": ["a/b"]}));
        assert!(e.contains("not a GitHub organisation name"), "{e}");
        let e = err(json!({"id": "x", "githubUrl": "https://other.example", "orgs": ["a"]}));
        assert!(
            e.contains("no integrations.github entry for host other.example"),
            "{e}"
        );
        let e = err(json!({"id": "x", "githubUrl": "https://ghe.local", "orgs": ["a"]}));
        assert!(e.contains("needs a token"), "{e}");
        let e = err(json!([
            {"id": "x", "githubUrl": "https://github.com", "orgs": ["a"]},
            {"id": "x", "githubUrl": "https://github.com", "orgs": ["b"]}
        ]));
        assert!(e.contains("githubOrg[1].id: 'x' is used twice"), "{e}");
        let e = err(
            json!({"id": "x", "githubUrl": "https://github.com", "orgs": ["a"],
            "schedule": {"frequency": {"cron": "0 * * * *"}, "timeout": {"minutes": 3}}}),
        );
        assert!(e.contains("cron"), "{e}");
        let e = err(
            json!({"id": "x", "githubUrl": "https://github.com", "orgs": ["a"],
            "schedule": {"frequency": {"hours": 1}}}),
        );
        assert!(e.contains("schedule.timeout: required"), "{e}");
        let e = err(
            json!({"id": "x", "githubUrl": "https://github.com", "orgs": ["a"],
            "schedule": {"frequency": {"hours": 1}, "timeout": {"minutes": 3}, "every": 1}}),
        );
        assert!(e.contains("schedule: unknown key(s) every"), "{e}");
        let e = err(json!("acme"));
        assert!(e.contains("expected an object or a list"), "{e}");
    }

    #[test]
    fn direct_members_leave_out_child_team_members() {
        let team = |slug: &str, parent: Option<&str>| Team {
            slug: slug.into(),
            name: slug.into(),
            description: None,
            parent: parent.map(|p| ParentTeam { slug: p.into() }),
        };
        let members = |logins: &[&str]| -> Vec<Member> {
            logins
                .iter()
                .map(|l| Member {
                    login: l.to_string(),
                })
                .collect()
        };
        let teams = [
            team("eng", None),
            team("backend", Some("eng")),
            team("db", Some("backend")),
        ];
        // As GitHub lists them: each team includes its descendants' members.
        let listed = [
            members(&["alice", "bob", "carol"]),
            members(&["bob", "carol"]),
            members(&["carol"]),
        ];
        let h = Hierarchy::new(&teams, &listed);
        let direct: Vec<Vec<String>> = h
            .direct_members()
            .into_iter()
            .map(|s| s.into_iter().collect())
            .collect();
        assert_eq!(direct, [vec!["alice"], vec!["bob"], vec!["carol"]]);
        assert_eq!(h.children("eng"), ["backend"]);
        assert!(h.children("db").is_empty());
    }
}
