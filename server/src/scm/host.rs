//! The Git host seam: what the publish actions, pull requests, the GitOps
//! writer and template checkouts need from GitHub, GitLab or a plain Git
//! server, behind one trait so each is swapped or faked on its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::git::GitAuth;
use super::RepoUrl;

#[derive(Debug, thiserror::Error)]
pub enum ScmError {
    /// The host answered with an error status.
    #[error("{host} refused to {action}: {status} {message}")]
    Refused {
        host: String,
        action: String,
        status: u16,
        message: String,
    },
    /// No answer (connection, TLS, timeout) or an answer that is not what the
    /// API documents.
    #[error("{host} could not {action}: {message}")]
    Transport {
        host: String,
        action: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Which kind of server a host is; the publish actions check it so that
/// `publish:github` is not pointed at a GitLab host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Github,
    Gitlab,
    Git,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Github => "GitHub",
            Provider::Gitlab => "GitLab",
            Provider::Git => "plain Git",
        }
    }
}

/// Who may see a new repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Private,
    Internal,
    Public,
}

impl Visibility {
    pub fn parse(value: Option<&str>) -> Result<Self, ScmError> {
        match value.unwrap_or("private") {
            "private" => Ok(Visibility::Private),
            "internal" => Ok(Visibility::Internal),
            "public" => Ok(Visibility::Public),
            other => Err(ScmError::Invalid(format!(
                "repoVisibility must be private, internal or public, not '{other}'"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }
}

/// A repository to create.
#[derive(Debug, Clone)]
pub struct NewRepo {
    pub repo: RepoUrl,
    pub description: Option<String>,
    pub visibility: Visibility,
    pub topics: Vec<String>,
    pub default_branch: String,
    /// The publish action's whole input: each host reads its own settings
    /// from it under Backstage's names (`hasWiki`, `settings`, ...).
    pub options: Value,
}

/// A repository on a host, and how to push to it.
#[derive(Clone)]
pub struct HostedRepo {
    /// What `git push` talks to.
    pub push_url: String,
    /// The `remoteUrl` output of the publish actions.
    pub remote_url: String,
    /// `repoContentsUrl` is this followed by the branch.
    pub contents_prefix: String,
    pub default_branch: String,
    pub auth: GitAuth,
    /// GitLab's numeric project id.
    pub project_id: Option<u64>,
}

impl HostedRepo {
    pub fn contents_url(&self, branch: &str) -> String {
        format!("{}{branch}", self.contents_prefix)
    }
}

/// A pull (merge) request to open.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub draft: bool,
    pub reviewers: Vec<String>,
    pub team_reviewers: Vec<String>,
}

/// An opened pull (merge) request.
#[derive(Debug, Clone)]
pub struct Review {
    pub url: String,
    pub number: u64,
}

/// A repository and revision to check out, found from a file URL.
#[derive(Clone)]
pub struct Checkout {
    pub remote: String,
    pub reference: String,
    /// The file's path in the repository.
    pub path: String,
    pub auth: GitAuth,
}

/// One configured Git host.
#[async_trait]
pub trait GitHost: Send + Sync {
    fn provider(&self) -> Provider;

    /// The same host acting with another token (a step's `token` input: the
    /// user's own OAuth token instead of the integration's).
    fn with_token(&self, token: &str) -> Arc<dyn GitHost>;

    /// Creates the repository; the caller pushes to it, then calls
    /// [`GitHost::after_push`]. Returns log lines with the result.
    async fn create_repo(&self, new: &NewRepo) -> Result<(HostedRepo, Vec<String>), ScmError>;

    /// Settings that need the pushed branch (default branch, protection).
    /// Failures that leave a usable repository are log lines, not errors.
    async fn after_push(
        &self,
        _repo: &HostedRepo,
        _new: &NewRepo,
    ) -> Result<Vec<String>, ScmError> {
        Ok(Vec::new())
    }

    /// An existing repository.
    async fn repo(&self, repo: &RepoUrl) -> Result<HostedRepo, ScmError>;

    /// Opens a pull (merge) request; None when the host has no such thing
    /// (a plain Git server: the pushed branch is the review).
    async fn open_review(
        &self,
        repo: &RepoUrl,
        hosted: &HostedRepo,
        review: &ReviewRequest,
    ) -> Result<Option<Review>, ScmError>;

    /// The repository behind a file URL on this host, for checking out a
    /// template's files; None when the URL is not one of this host's.
    fn checkout_for(&self, url: &str) -> Option<Checkout>;
}

/// The configured hosts, by their `RepoUrlPicker` host name.
#[derive(Clone, Default)]
pub struct ScmHosts {
    hosts: BTreeMap<String, Arc<dyn GitHost>>,
}

impl ScmHosts {
    pub fn from_config(config: &crate::config::Config) -> Self {
        let mut hosts = ScmHosts::default();
        let integrations = &config.integrations;
        let plain = super::GitHosts::from_config(config);
        for git in &integrations.git {
            hosts.insert(
                &git.host,
                Arc::new(super::PlainGitHost::new(plain.clone(), &git.host)),
            );
        }
        for gitlab in &integrations.gitlab {
            hosts.insert(
                &gitlab.host,
                Arc::new(super::gitlab::GitlabHost::new(gitlab)),
            );
        }
        for github in &integrations.github {
            hosts.insert(
                &github.host,
                Arc::new(super::github::GithubHost::new(github)),
            );
        }
        // Backstage knows github.com and gitlab.com without configuration.
        for (host, make) in [
            ("github.com", Provider::Github),
            ("gitlab.com", Provider::Gitlab),
        ] {
            if !hosts.hosts.contains_key(host) {
                let integration = crate::config::ScmIntegration::bare(host);
                let h: Arc<dyn GitHost> = match make {
                    Provider::Github => Arc::new(super::github::GithubHost::new(&integration)),
                    _ => Arc::new(super::gitlab::GitlabHost::new(&integration)),
                };
                hosts.hosts.insert(host.to_string(), h);
            }
        }
        hosts
    }

    /// Adds or replaces a host (tests swap fakes in here).
    pub fn insert(&mut self, host: &str, implementation: Arc<dyn GitHost>) {
        self.hosts.insert(host.to_ascii_lowercase(), implementation);
    }

    /// The host of a `RepoUrlPicker` value, which must be of `provider` when given.
    pub fn get(
        &self,
        repo: &RepoUrl,
        provider: Option<Provider>,
    ) -> Result<Arc<dyn GitHost>, ScmError> {
        let host = self.hosts.get(&repo.host.to_ascii_lowercase()).ok_or_else(|| {
            ScmError::Invalid(format!(
                "No matching integration configuration for host {}, please check your integrations config",
                repo.host
            ))
        })?;
        if let Some(wanted) = provider {
            if host.provider() != wanted {
                return Err(ScmError::Invalid(format!(
                    "{} is a {} host, not a {} one: check the step's action and repoUrl",
                    repo.host,
                    host.provider().name(),
                    wanted.name()
                )));
            }
        }
        Ok(host.clone())
    }

    /// The repository behind a file URL on any configured host.
    pub fn checkout_for(&self, url: &str) -> Option<Checkout> {
        self.hosts.values().find_map(|h| h.checkout_for(url))
    }
}

/// `url` parsed, when it is on `host` (`name[:port]`, lowercase).
pub(crate) fn url_on_host(url: &str, host: &str) -> Option<url::Url> {
    let parsed = url::Url::parse(url).ok()?;
    (url_authority(&parsed)? == host).then_some(parsed)
}

/// The host part of a URL with its port, lowercased.
pub(crate) fn url_authority(url: &url::Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// Percent-decoded path segments of a URL.
pub(crate) fn decoded_segments(url: &url::Url) -> Vec<String> {
    url.path_segments()
        .map(|s| {
            s.map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect()
        })
        .unwrap_or_default()
}

/// A reason safe to show: the first line of an error message body, shortened.
pub(crate) fn short_reason(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let message = v
            .get("message")
            .map(|m| match m {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .or_else(|| v.get("error").map(|e| e.to_string()))?;
        let details = v
            .get("errors")
            .filter(|e| e.as_array().is_some_and(|a| !a.is_empty()))
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        Some(format!("{message}{details}"))
    });
    let text = from_json.unwrap_or_else(|| body.lines().next().unwrap_or("").to_string());
    text.chars().take(300).collect()
}
