//! Location readers: fetch the text behind a `url` or `file` location target.
//!
//! URLs are read through a [`CompositeReader`] that picks the GitHub or GitLab
//! reader when the URL's host is a configured integration host, and otherwise
//! falls back to plain HTTP restricted to `backend.reading.allow`, the way
//! Backstage's `UrlReaders` mux chooses among its readers.

mod allow;
mod composite;
mod file;
mod git;
pub(crate) mod github;
pub(crate) mod gitlab;
mod http;

#[cfg(test)]
pub(crate) mod tests;

use async_trait::async_trait;

pub use allow::AllowList;
pub use composite::{CompositeReader, ScmHosts, ScmKind};
pub use file::{read_file_target, FileDocument};
pub use git::GitReader;
pub use github::GithubReader;
pub use gitlab::GitlabReader;
pub use http::AllowListedHttpReader;

/// Upper bound for one read; catalog descriptors are small, and this keeps a
/// misconfigured target from exhausting memory.
pub const MAX_READ_BYTES: usize = 16 * 1024 * 1024;

/// Why a read failed. The messages follow Backstage's wording so that they read
/// the same in `status.items`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Other(String),
}

impl ReadError {
    /// The Backstage error name (`NotFoundError`, `NotAllowedError`, `Error`).
    pub fn name(&self) -> &'static str {
        match self {
            ReadError::NotFound(_) => "NotFoundError",
            ReadError::NotAllowed(_) => "NotAllowedError",
            ReadError::Other(_) => "Error",
        }
    }
}

/// Reads the text behind an absolute URL.
#[async_trait]
pub trait UrlReader: Send + Sync {
    async fn read_url(&self, url: &str) -> Result<String, ReadError>;

    /// Refuses, without reading it, a URL this reader would never fetch (for
    /// the composite reader: no integration for its host and not on
    /// `backend.reading.allow`). Readers that cannot tell accept every URL;
    /// reading it then reports the problem.
    fn check_allowed(&self, _url: &str) -> Result<(), ReadError> {
        Ok(())
    }
}

/// The error for a URL that no reader may fetch.
pub(crate) fn not_allowed(url: &str, host: &str) -> ReadError {
    ReadError::NotAllowed(format!(
        "Reading from '{url}' is not allowed. You may need to configure an integration for the target host \
         '{host}', or add it to the configured list of allowed hosts at 'backend.reading.allow'"
    ))
}

/// The `host[:port]` of a URL as Backstage compares it (`URL.host`: the port
/// only when it is not the scheme's default).
pub(crate) fn url_host(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Collects a response body, refusing anything larger than [`MAX_READ_BYTES`].
pub(crate) async fn read_body(
    url: &str,
    mut response: reqwest::Response,
) -> Result<String, ReadError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadError::Other(format!("could not read {url}, {e}")))?
    {
        if body.len() + chunk.len() > MAX_READ_BYTES {
            return Err(ReadError::Other(format!(
                "could not read {url}, the content is larger than {MAX_READ_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| {
        ReadError::Other(format!(
            "could not read {url}, the content is not UTF-8 text"
        ))
    })
}

/// Maps a non-success HTTP status to a read error: 404 is NotFound, the rest is Other.
pub(crate) fn status_error(
    url: &str,
    read_as: Option<&str>,
    status: reqwest::StatusCode,
) -> ReadError {
    let reason = status.canonical_reason().unwrap_or("");
    let message = match read_as {
        Some(api_url) => format!(
            "{url} could not be read as {api_url}, {} {reason}",
            status.as_u16()
        ),
        None => format!("could not read {url}, {} {reason}", status.as_u16()),
    };
    if status == reqwest::StatusCode::NOT_FOUND {
        ReadError::NotFound(message.trim_end().to_string())
    } else {
        ReadError::Other(message.trim_end().to_string())
    }
}

/// One HTTP client for all readers: bounded time, no cookies.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("greenroom/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}
