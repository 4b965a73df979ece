//! GitHub: blob URLs are read through the REST contents API with the
//! integration's token (`integrations.github[]`).

use async_trait::async_trait;
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{http_client, read_body, status_error, url_host, ReadError, UrlReader};
use crate::config::ScmIntegration;

/// Characters kept as-is in one path segment or query value.
pub(crate) const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Clone)]
struct GithubHost {
    host: String,
    api_base_url: String,
    token: Option<String>,
}

/// Reads `https://<host>/<owner>/<repo>/blob/<ref>/<path>` for configured hosts.
/// `github.com` is always known (without a token unless configured), like
/// Backstage's default integration.
pub struct GithubReader {
    hosts: Vec<GithubHost>,
    client: reqwest::Client,
}

/// The parts of a GitHub blob URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GithubBlob {
    pub owner: String,
    pub repo: String,
    pub git_ref: String,
    pub path: String,
}

pub(crate) fn parse_blob_url(url: &url::Url) -> Option<GithubBlob> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    if segments.len() < 5 || segments[2] != "blob" || segments[4..].iter().all(|s| s.is_empty()) {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some(GithubBlob {
        owner: decode(segments[0]),
        repo: decode(segments[1]),
        git_ref: decode(segments[3]),
        path: segments[4..]
            .iter()
            .map(|s| decode(s))
            .collect::<Vec<_>>()
            .join("/"),
    })
}

impl GithubReader {
    pub fn new(integrations: &[ScmIntegration]) -> Self {
        let mut hosts: Vec<GithubHost> = integrations
            .iter()
            .map(|i| GithubHost {
                host: i.host.to_ascii_lowercase(),
                api_base_url: i
                    .api_base_url
                    .clone()
                    .unwrap_or_else(|| default_api_base_url(&i.host))
                    .trim_end_matches('/')
                    .to_string(),
                token: i.token.clone().filter(|t| !t.is_empty()),
            })
            .collect();
        if !hosts.iter().any(|h| h.host == "github.com") {
            hosts.push(GithubHost {
                host: "github.com".into(),
                api_base_url: default_api_base_url("github.com"),
                token: None,
            });
        }
        Self {
            hosts,
            client: http_client(),
        }
    }

    /// Whether the URL's host is one of the GitHub integration hosts.
    pub fn handles(&self, url: &url::Url) -> bool {
        self.host_for(url).is_some()
    }

    fn host_for(&self, url: &url::Url) -> Option<&GithubHost> {
        let host = url_host(url)?.to_ascii_lowercase();
        self.hosts.iter().find(|h| h.host == host)
    }
}

pub(crate) fn default_api_base_url(host: &str) -> String {
    if host.eq_ignore_ascii_case("github.com") {
        "https://api.github.com".into()
    } else {
        format!("https://{host}/api/v3")
    }
}

/// The contents API URL for a blob.
pub(crate) fn contents_api_url(api_base_url: &str, blob: &GithubBlob) -> String {
    let path = blob
        .path
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/");
    format!(
        "{api_base_url}/repos/{}/{}/contents/{path}?ref={}",
        utf8_percent_encode(&blob.owner, SEGMENT),
        utf8_percent_encode(&blob.repo, SEGMENT),
        utf8_percent_encode(&blob.git_ref, SEGMENT)
    )
}

#[async_trait]
impl UrlReader for GithubReader {
    async fn read_url(&self, url: &str) -> Result<String, ReadError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| ReadError::Other(format!("Invalid URL '{url}', {e}")))?;
        let host = self.host_for(&parsed).ok_or_else(|| {
            ReadError::Other(format!("No GitHub integration configured for '{url}'"))
        })?;
        let blob = parse_blob_url(&parsed).ok_or_else(|| {
            ReadError::Other(format!(
                "Incorrectly formatted GitHub URL '{url}', expected https://{}/<owner>/<repo>/blob/<ref>/<path>",
                host.host
            ))
        })?;
        let api_url = contents_api_url(&host.api_base_url, &blob);
        let mut request = self
            .client
            .get(&api_url)
            .header(reqwest::header::ACCEPT, "application/vnd.github.raw");
        if let Some(token) = &host.token {
            request = request.header(reqwest::header::AUTHORIZATION, format!("token {token}"));
        }
        let response = request
            .send()
            .await
            .map_err(|e| ReadError::Other(format!("{url} could not be read as {api_url}, {e}")))?;
        if !response.status().is_success() {
            return Err(status_error(url, Some(&api_url), response.status()));
        }
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let body = read_body(url, response).await?;
        if is_json {
            decode_contents_json(url, &body)
        } else {
            Ok(body)
        }
    }
}

/// Servers that ignore the raw media type answer with the JSON file object,
/// whose `content` is base64 (with line breaks).
fn decode_contents_json(url: &str, body: &str) -> Result<String, ReadError> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| ReadError::Other(format!("could not read {url}, invalid JSON: {e}")))?;
    match (
        value.get("content").and_then(|c| c.as_str()),
        value.get("encoding").and_then(|e| e.as_str()),
    ) {
        (Some(content), Some("base64")) => {
            let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| {
                    ReadError::Other(format!("could not read {url}, invalid base64 content: {e}"))
                })?;
            String::from_utf8(bytes).map_err(|_| {
                ReadError::Other(format!(
                    "could not read {url}, the content is not UTF-8 text"
                ))
            })
        }
        // A JSON file served raw is itself JSON: keep it as text.
        _ => Ok(body.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blob_urls() {
        let url =
            url::Url::parse("https://github.com/acme/svc/blob/main/dir/catalog-info.yaml").unwrap();
        let blob = parse_blob_url(&url).unwrap();
        assert_eq!(
            blob,
            GithubBlob {
                owner: "acme".into(),
                repo: "svc".into(),
                git_ref: "main".into(),
                path: "dir/catalog-info.yaml".into()
            }
        );
        assert_eq!(
            contents_api_url("https://api.github.com", &blob),
            "https://api.github.com/repos/acme/svc/contents/dir/catalog-info.yaml?ref=main"
        );
        assert!(parse_blob_url(
            &url::Url::parse("https://github.com/acme/svc/tree/main/x").unwrap()
        )
        .is_none());
        assert!(parse_blob_url(&url::Url::parse("https://github.com/acme/svc").unwrap()).is_none());
    }

    #[test]
    fn decodes_base64_contents_objects() {
        let body = r#"{"type":"file","encoding":"base64","content":"a2luZDog\nQ29tcG9uZW50\n"}"#;
        assert_eq!(decode_contents_json("u", body).unwrap(), "kind: Component");
        assert_eq!(
            decode_contents_json("u", r#"{"a":1}"#).unwrap(),
            r#"{"a":1}"#
        );
    }

    #[test]
    fn github_com_is_always_known() {
        let reader = GithubReader::new(&[]);
        assert!(
            reader.handles(&url::Url::parse("https://github.com/a/b/blob/main/x.yaml").unwrap())
        );
        assert!(
            !reader.handles(&url::Url::parse("https://example.com/a/b/blob/main/x.yaml").unwrap())
        );
    }
}
