//! Plain HTTP(S) reads, only for hosts on `backend.reading.allow`.

use async_trait::async_trait;

use super::{
    http_client, not_allowed, read_body, status_error, url_host, AllowList, ReadError, UrlReader,
};

/// Fetches URLs whose host is on the allow-list; redirects are followed only
/// while they stay on allowed hosts.
pub struct AllowListedHttpReader {
    allow: AllowList,
    client: reqwest::Client,
}

impl AllowListedHttpReader {
    pub fn new(allow: AllowList) -> Self {
        let redirect_allow = allow.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if redirect_allow.is_allowed(attempt.url()) {
                attempt.follow()
            } else {
                attempt.error("redirect to a host that is not allowed")
            }
        });
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .redirect(policy)
            .build()
            .unwrap_or_else(|_| http_client());
        Self { allow, client }
    }

    pub fn allows(&self, url: &url::Url) -> bool {
        self.allow.is_allowed(url)
    }
}

#[async_trait]
impl UrlReader for AllowListedHttpReader {
    async fn read_url(&self, url: &str) -> Result<String, ReadError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| ReadError::Other(format!("Invalid URL '{url}', {e}")))?;
        if !self.allow.is_allowed(&parsed) {
            let host = url_host(&parsed).unwrap_or_default();
            return Err(not_allowed(url, &host));
        }
        let response = self
            .client
            .get(parsed)
            .send()
            .await
            .map_err(|e| ReadError::Other(format!("could not read {url}, {e}")))?;
        if !response.status().is_success() {
            return Err(status_error(url, None, response.status()));
        }
        read_body(url, response).await
    }
}
