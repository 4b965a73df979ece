//! GitLab: `-/blob/` URLs are read through the repository files API with the
//! integration's token (`integrations.gitlab[]`).

use async_trait::async_trait;
use percent_encoding::utf8_percent_encode;

use super::github::SEGMENT;
use super::{http_client, read_body, status_error, url_host, ReadError, UrlReader};
use crate::config::ScmIntegration;

#[derive(Debug, Clone)]
pub(crate) struct GitlabHost {
    pub host: String,
    /// Path prefix of the GitLab instance (self-hosted under a sub-path), no trailing slash.
    pub base_path: String,
    pub api_base_url: String,
    pub token: Option<String>,
}

/// Reads `https://<host>/<group/sub>/<project>/-/blob/<ref>/<path>` for
/// configured hosts; `gitlab.com` is always known.
pub struct GitlabReader {
    hosts: Vec<GitlabHost>,
    client: reqwest::Client,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitlabBlob {
    pub project: String,
    pub git_ref: String,
    pub path: String,
}

/// Splits a blob URL path (below the instance's base path) into project, ref and file path.
pub(crate) fn parse_blob_path(base_path: &str, path: &str) -> Option<GitlabBlob> {
    let rest = path.strip_prefix(base_path)?.trim_start_matches('/');
    let (project, after) = rest.split_once("/-/blob/")?;
    let (git_ref, file) = after.split_once('/')?;
    if project.is_empty() || git_ref.is_empty() || file.is_empty() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some(GitlabBlob {
        project: decode(project),
        git_ref: decode(git_ref),
        path: decode(file),
    })
}

pub(crate) fn files_api_url(api_base_url: &str, blob: &GitlabBlob) -> String {
    format!(
        "{api_base_url}/projects/{}/repository/files/{}/raw?ref={}",
        utf8_percent_encode(&blob.project, SEGMENT),
        utf8_percent_encode(&blob.path, SEGMENT),
        utf8_percent_encode(&blob.git_ref, SEGMENT)
    )
}

impl GitlabHost {
    /// Backstage's defaults: `baseUrl` `https://<host>`, `apiBaseUrl` `<baseUrl>/api/v4`.
    pub(crate) fn from_integration(i: &ScmIntegration) -> Self {
        let base_url = i
            .base_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", i.host));
        let base_path = url::Url::parse(&base_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        GitlabHost {
            host: i.host.to_ascii_lowercase(),
            base_path,
            api_base_url: i
                .api_base_url
                .clone()
                .unwrap_or_else(|| format!("{}/api/v4", base_url.trim_end_matches('/')))
                .trim_end_matches('/')
                .to_string(),
            token: i.token.clone().filter(|t| !t.is_empty()),
        }
    }
}

impl GitlabReader {
    pub fn new(integrations: &[ScmIntegration]) -> Self {
        let mut hosts: Vec<GitlabHost> = integrations
            .iter()
            .map(GitlabHost::from_integration)
            .collect();
        if !hosts.iter().any(|h| h.host == "gitlab.com") {
            hosts.push(GitlabHost {
                host: "gitlab.com".into(),
                base_path: String::new(),
                api_base_url: "https://gitlab.com/api/v4".into(),
                token: None,
            });
        }
        Self {
            hosts,
            client: http_client(),
        }
    }

    pub fn handles(&self, url: &url::Url) -> bool {
        self.host_for(url).is_some()
    }

    fn host_for(&self, url: &url::Url) -> Option<&GitlabHost> {
        let host = url_host(url)?.to_ascii_lowercase();
        self.hosts.iter().find(|h| h.host == host)
    }
}

#[async_trait]
impl UrlReader for GitlabReader {
    async fn read_url(&self, url: &str) -> Result<String, ReadError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| ReadError::Other(format!("Invalid URL '{url}', {e}")))?;
        let host = self.host_for(&parsed).ok_or_else(|| {
            ReadError::Other(format!("No GitLab integration configured for '{url}'"))
        })?;
        let blob = parse_blob_path(&host.base_path, parsed.path()).ok_or_else(|| {
            ReadError::Other(format!(
                "Incorrectly formatted GitLab URL '{url}', expected https://{}/<group>/<project>/-/blob/<ref>/<path>",
                host.host
            ))
        })?;
        let api_url = files_api_url(&host.api_base_url, &blob);
        let mut request = self.client.get(&api_url);
        if let Some(token) = &host.token {
            request = request.header("PRIVATE-TOKEN", token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ReadError::Other(format!("{url} could not be read as {api_url}, {e}")))?;
        if !response.status().is_success() {
            return Err(status_error(url, Some(&api_url), response.status()));
        }
        read_body(url, response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_group_blob_paths() {
        let blob =
            parse_blob_path("", "/group/sub/project/-/blob/main/dir/catalog-info.yaml").unwrap();
        assert_eq!(
            blob,
            GitlabBlob {
                project: "group/sub/project".into(),
                git_ref: "main".into(),
                path: "dir/catalog-info.yaml".into()
            }
        );
        assert_eq!(
            files_api_url("https://gitlab.com/api/v4", &blob),
            "https://gitlab.com/api/v4/projects/group%2Fsub%2Fproject/repository/files/dir%2Fcatalog-info.yaml/raw?ref=main"
        );
        let blob = parse_blob_path("/gitlab", "/gitlab/g/p/-/blob/v1/a.yaml").unwrap();
        assert_eq!(blob.project, "g/p");
        assert!(parse_blob_path("", "/g/p/blob/main/a.yaml").is_none());
        assert!(parse_blob_path("", "/g/p/-/blob/main").is_none());
    }
}
