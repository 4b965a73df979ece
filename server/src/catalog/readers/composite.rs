//! Chooses the reader for a URL: integration hosts first, then the allow-list.

use async_trait::async_trait;

use super::{
    not_allowed, url_host, AllowList, AllowListedHttpReader, GitReader, GithubReader, GitlabReader,
    ReadError, UrlReader,
};
use crate::config::Config;

/// Which source-control integration serves a URL (drives reading and the
/// edit-url annotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScmKind {
    Github,
    Gitlab,
}

/// The hosts of the configured integrations (plus the always-known
/// `github.com` and `gitlab.com`), to tell which SCM serves a URL.
#[derive(Debug, Clone)]
pub struct ScmHosts {
    github: Vec<String>,
    gitlab: Vec<String>,
}

impl ScmHosts {
    pub fn from_config(config: &Config) -> Self {
        let hosts = |list: &[crate::config::ScmIntegration], default: &str| {
            let mut hosts: Vec<String> = list.iter().map(|i| i.host.to_ascii_lowercase()).collect();
            if !hosts.iter().any(|h| h == default) {
                hosts.push(default.to_string());
            }
            hosts
        };
        Self {
            github: hosts(&config.integrations.github, "github.com"),
            gitlab: hosts(&config.integrations.gitlab, "gitlab.com"),
        }
    }

    /// The integration whose host serves this URL, if any.
    pub fn kind_of(&self, url: &str) -> Option<ScmKind> {
        let parsed = url::Url::parse(url).ok()?;
        let host = super::url_host(&parsed)?.to_ascii_lowercase();
        if self.github.contains(&host) {
            Some(ScmKind::Github)
        } else if self.gitlab.contains(&host) {
            Some(ScmKind::Gitlab)
        } else {
            None
        }
    }
}

pub struct CompositeReader {
    git: GitReader,
    github: GithubReader,
    gitlab: GitlabReader,
    plain: AllowListedHttpReader,
}

impl CompositeReader {
    pub fn from_config(config: &Config) -> Self {
        Self {
            git: GitReader::new(crate::scm::GitHosts::from_config(config)),
            github: GithubReader::new(&config.integrations.github),
            gitlab: GitlabReader::new(&config.integrations.gitlab),
            plain: AllowListedHttpReader::new(AllowList::new(&config.backend.reading.allow)),
        }
    }

    /// The integration whose host serves this URL, if any.
    pub fn scm_kind(&self, url: &url::Url) -> Option<ScmKind> {
        if self.github.handles(url) {
            Some(ScmKind::Github)
        } else if self.gitlab.handles(url) {
            Some(ScmKind::Gitlab)
        } else {
            None
        }
    }
}

#[async_trait]
impl UrlReader for CompositeReader {
    async fn read_url(&self, url: &str) -> Result<String, ReadError> {
        if GitReader::handles(url) {
            return self.git.read_url(url).await;
        }
        let parsed = url::Url::parse(url)
            .map_err(|e| ReadError::Other(format!("Invalid URL '{url}', {e}")))?;
        match self.scm_kind(&parsed) {
            Some(ScmKind::Github) => self.github.read_url(url).await,
            Some(ScmKind::Gitlab) => self.gitlab.read_url(url).await,
            None => self.plain.read_url(url).await,
        }
    }

    fn check_allowed(&self, url: &str) -> Result<(), ReadError> {
        if GitReader::handles(url) {
            return self.git.check_allowed(url);
        }
        let parsed = url::Url::parse(url)
            .map_err(|e| ReadError::Other(format!("Invalid URL '{url}', {e}")))?;
        if self.scm_kind(&parsed).is_some() || self.plain.allows(&parsed) {
            Ok(())
        } else {
            Err(not_allowed(url, &url_host(&parsed).unwrap_or_default()))
        }
    }
}
