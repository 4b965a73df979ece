//! Source control shared by the catalog readers and the scaffolder: the
//! `RepoUrlPicker` format, the Git host seam (GitHub, GitLab, plain Git
//! servers) and the `git` CLI.

pub mod git;
pub mod github;
pub mod gitlab;
pub mod host;

use async_trait::async_trait;

use crate::config::{Config, GitIntegration};
use git::GitAuth;
pub use host::{GitHost, HostedRepo, NewRepo, Provider, Review, ReviewRequest, ScmError, ScmHosts};

/// `host?owner=o&repo=r[&organization=..][&workspace=..][&project=..]`, the
/// value of Backstage's `RepoUrlPicker`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl {
    pub host: String,
    pub owner: Option<String>,
    pub repo: String,
    pub organization: Option<String>,
    pub workspace: Option<String>,
    pub project: Option<String>,
}

/// Parses a repo URL as Backstage does (as `https://<repoUrl>`).
pub fn parse_repo_url(value: &str) -> Result<RepoUrl, String> {
    let url = url::Url::parse(&format!("https://{value}"))
        .map_err(|e| format!("Invalid repo URL passed to publisher '{value}', {e}"))?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => {
            return Err(format!(
                "Invalid repo URL passed to publisher '{value}', missing host"
            ))
        }
    };
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let repo = param("repo")
        .ok_or_else(|| format!("Invalid repo URL passed to publisher: {value}, missing repo"))?;
    let parsed = RepoUrl {
        host,
        owner: param("owner"),
        repo,
        organization: param("organization"),
        workspace: param("workspace"),
        project: param("project"),
    };
    for part in [Some(&parsed.repo), parsed.owner.as_ref()]
        .into_iter()
        .flatten()
    {
        if !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || part.starts_with('.')
        {
            return Err(format!(
                "Invalid repo URL passed to publisher: '{part}' may only contain letters, digits, '-', '_' and '.'"
            ));
        }
    }
    Ok(parsed)
}

/// The configured plain Git hosts.
#[derive(Debug, Clone, Default)]
pub struct GitHosts {
    hosts: Vec<GitIntegration>,
}

/// A repository on a plain Git host.
#[derive(Clone)]
pub struct GitRemote {
    pub url: String,
    pub auth: GitAuth,
    /// A `file://` remote that may be created when missing.
    pub create_at: Option<std::path::PathBuf>,
}

impl GitHosts {
    pub fn from_config(config: &Config) -> Self {
        GitHosts {
            hosts: config.integrations.git.clone(),
        }
    }

    fn base(host: &GitIntegration) -> String {
        let base = host.remote_base_url.trim_end_matches('/');
        // A relative file base (`file://./data/git`) is taken from the working
        // directory, so the demo configuration needs no absolute path.
        if let Some(rel) = base.strip_prefix("file://./") {
            let dir = std::env::current_dir().unwrap_or_default().join(rel);
            return format!("file://{}", dir.display());
        }
        base.to_string()
    }

    pub fn handles_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.host.eq_ignore_ascii_case(host))
    }

    /// The remote of `host?owner=o&repo=r` on a configured Git host.
    pub fn remote_for(&self, repo: &RepoUrl) -> Result<GitRemote, String> {
        let host = self
            .hosts
            .iter()
            .find(|h| h.host.eq_ignore_ascii_case(&repo.host))
            .ok_or_else(|| {
                format!(
                    "No matching integration configuration for host {}, please check your integrations config",
                    repo.host
                )
            })?;
        let owner = repo.owner.as_deref().ok_or_else(|| {
            format!(
                "Invalid repo URL passed to publisher, missing owner for host {}",
                repo.host
            )
        })?;
        let url = format!("{}/{owner}/{}.git", Self::base(host), repo.repo);
        let create_at = (host.create_repositories)
            .then(|| url.strip_prefix("file://").map(std::path::PathBuf::from))
            .flatten();
        Ok(GitRemote {
            url,
            auth: host.token.clone().map(GitAuth::Bearer).unwrap_or_default(),
            create_at,
        })
    }

    /// The credentials for a remote under a configured base; None when no
    /// configured host serves it (such remotes are not read).
    pub fn auth_for_remote(&self, remote: &str) -> Option<GitAuth> {
        self.hosts
            .iter()
            .find(|h| {
                let base = Self::base(h);
                remote.starts_with(&format!("{base}/"))
            })
            .map(|h| h.token.clone().map(GitAuth::Bearer).unwrap_or_default())
    }
}

/// A plain Git server (`integrations.git`) as a [`GitHost`]: repositories
/// are created only under a `file://` base with `createRepositories`, and a
/// review is the pushed branch itself.
pub struct PlainGitHost {
    hosts: GitHosts,
    host: String,
}

impl PlainGitHost {
    pub fn new(hosts: GitHosts, host: &str) -> Self {
        PlainGitHost {
            hosts,
            host: host.to_string(),
        }
    }

    fn hosted(&self, remote: GitRemote) -> HostedRepo {
        HostedRepo {
            push_url: remote.url.clone(),
            contents_prefix: format!("git+{}{BLOB_MARKER}", remote.url),
            remote_url: remote.url,
            default_branch: "main".into(),
            auth: remote.auth,
            project_id: None,
        }
    }
}

#[async_trait]
impl GitHost for PlainGitHost {
    fn provider(&self) -> Provider {
        Provider::Git
    }

    fn with_token(&self, token: &str) -> std::sync::Arc<dyn GitHost> {
        let mut hosts = self.hosts.clone();
        for h in hosts.hosts.iter_mut().filter(|h| h.host == self.host) {
            h.token = Some(token.to_string());
        }
        std::sync::Arc::new(PlainGitHost::new(hosts, &self.host))
    }

    async fn create_repo(&self, new: &NewRepo) -> Result<(HostedRepo, Vec<String>), ScmError> {
        let remote = self
            .hosts
            .remote_for(&new.repo)
            .map_err(ScmError::Invalid)?;
        let mut log = Vec::new();
        if let Some(path) = &remote.create_at {
            if !path.exists() {
                let failed = |e: String| ScmError::Transport {
                    host: self.host.clone(),
                    action: "create the repository".into(),
                    message: e,
                };
                std::fs::create_dir_all(path).map_err(|e| failed(e.to_string()))?;
                git::git(path, &["init", "-q", "--bare"], &GitAuth::None, None)
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                log.push(format!("Created repository {}", remote.url));
            }
        }
        let mut hosted = self.hosted(remote);
        hosted.default_branch = new.default_branch.clone();
        Ok((hosted, log))
    }

    async fn repo(&self, repo: &RepoUrl) -> Result<HostedRepo, ScmError> {
        Ok(self.hosted(self.hosts.remote_for(repo).map_err(ScmError::Invalid)?))
    }

    async fn open_review(
        &self,
        _repo: &RepoUrl,
        _hosted: &HostedRepo,
        _review: &ReviewRequest,
    ) -> Result<Option<Review>, ScmError> {
        Ok(None)
    }

    /// `git+<remote>/-/blob/<branch>/<path>` under this host's base.
    fn checkout_for(&self, url: &str) -> Option<host::Checkout> {
        let (remote, reference, path) = split_git_file_url(url)?;
        let integration = self.hosts.hosts.iter().find(|h| h.host == self.host)?;
        if !remote.starts_with(&format!("{}/", GitHosts::base(integration))) {
            return None;
        }
        Some(host::Checkout {
            auth: integration
                .token
                .clone()
                .map(GitAuth::Bearer)
                .unwrap_or_default(),
            remote,
            reference,
            path,
        })
    }
}

/// Marker between a remote and the branch/path in Greenroom's URLs of files in
/// plain Git repositories: `git+<remote>/-/blob/<branch>/<path>` (GitLab's
/// shape, so relative targets resolve with ordinary URL joining).
pub const BLOB_MARKER: &str = "/-/blob/";

/// `git+<remote>/-/blob/<branch>`: where a pushed repository's files are.
pub fn repo_contents_url(remote: &str, branch: &str) -> String {
    format!("git+{remote}{BLOB_MARKER}{branch}")
}

/// Splits `git+<remote>/-/blob/<branch>/<path>` into its parts.
pub fn split_git_file_url(url: &str) -> Option<(String, String, String)> {
    let rest = url.strip_prefix("git+")?;
    let (remote, tail) = rest.split_once(BLOB_MARKER)?;
    let (branch, path) = tail.split_once('/')?;
    if path.is_empty() {
        return None;
    }
    Some((remote.to_string(), branch.to_string(), path.to_string()))
}

/// Fetches the files behind `base`, a file URL (its folder is meant) or a folder
/// URL ending in `/` (`.../tree/main/docs/`) on a configured GitHub, GitLab or
/// Git host: the branch is cloned shallowly into a temporary directory, which
/// the returned guard removes. `what` names the files in messages.
pub async fn checkout_dir(
    scm: &ScmHosts,
    base: &str,
    what: &str,
) -> Result<(std::path::PathBuf, tempfile::TempDir), String> {
    let Some(checkout) = scm.checkout_for(base) else {
        return Err(format!(
            "The {what}'s files cannot be fetched from '{base}': it is neither a file location nor on a configured GitHub, GitLab or Git integration"
        ));
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    git::clone_branch(
        dir.path(),
        &checkout.remote,
        &checkout.reference,
        &checkout.auth,
    )
    .await
    .map_err(|e| format!("Cannot fetch the {what}'s repository: {e}"))?;
    let path = std::path::Path::new(&checkout.path);
    let folder = if base.ends_with('/') {
        dir.path().join(path)
    } else {
        path.parent()
            .map(|p| dir.path().join(p))
            .unwrap_or_else(|| dir.path().to_path_buf())
    };
    Ok((folder, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_urls() {
        let r = parse_repo_url("github.com?owner=acme&repo=svc").unwrap();
        assert_eq!(r.host, "github.com");
        assert_eq!(r.owner.as_deref(), Some("acme"));
        assert_eq!(r.repo, "svc");
        let r = parse_repo_url("127.0.0.1:9418?owner=a&repo=b&project=p").unwrap();
        assert_eq!(r.host, "127.0.0.1:9418");
        assert_eq!(r.project.as_deref(), Some("p"));
        assert!(parse_repo_url("github.com?owner=acme")
            .unwrap_err()
            .contains("missing repo"));
        assert!(parse_repo_url("github.com?owner=..&repo=x").is_err());
        assert!(parse_repo_url("github.com?owner=a&repo=x%2F..%2Fy").is_err());
    }

    #[test]
    fn git_file_urls() {
        let base = repo_contents_url("http://127.0.0.1:9/git/acme/svc.git", "main");
        let file = format!("{base}/catalog-info.yaml");
        assert_eq!(
            split_git_file_url(&file),
            Some((
                "http://127.0.0.1:9/git/acme/svc.git".into(),
                "main".into(),
                "catalog-info.yaml".into()
            ))
        );
        let joined = url::Url::parse(&file)
            .unwrap()
            .join("./docs/x.yaml")
            .unwrap();
        assert_eq!(
            split_git_file_url(joined.as_str()).unwrap().2,
            "docs/x.yaml"
        );
        assert_eq!(split_git_file_url("https://example.com/x"), None);
    }
}
