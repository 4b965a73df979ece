//! HTTP calls against the server under test: the stitched-entity count,
//! timed GETs, existence checks and JSON POSTs. Only loopback URLs are built
//! here.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;
use url::Url;

pub struct Api {
    client: reqwest::Client,
    base: Url,
}

impl Api {
    /// A client for `http://127.0.0.1:<port>` with a per-request timeout.
    pub fn new(port: u16, timeout: Duration) -> anyhow::Result<Self> {
        Self::with_headers(port, timeout, reqwest::header::HeaderMap::new())
    }

    /// [`Api::new`] that sends `Authorization: Bearer <token>` with every
    /// request (a server that requires sign-in).
    pub fn with_bearer(port: u16, timeout: Duration, token: &str) -> anyhow::Result<Self> {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the token is not a valid header value")?;
        value.set_sensitive(true);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        Self::with_headers(port, timeout, headers)
    }

    fn with_headers(
        port: u16,
        timeout: Duration,
        headers: reqwest::header::HeaderMap,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .default_headers(headers)
            .no_proxy()
            .build()
            .context("cannot build the HTTP client")?;
        let base = Url::parse(&format!("http://127.0.0.1:{port}/"))?;
        Ok(Self { client, base })
    }

    /// Signs in with the guest provider as the web app does
    /// (`POST /api/auth/guest/refresh` with `X-Requested-With`) and returns
    /// `backstageIdentity`: `token` (the Bearer credential) and `identity`
    /// (`userEntityRef`, `ownershipEntityRefs`).
    pub async fn sign_in_guest(&self) -> anyhow::Result<Value> {
        let url = self.url("/api/auth/guest/refresh", &[])?;
        let response = self
            .client
            .post(url.clone())
            .header("X-Requested-With", "XMLHttpRequest")
            .send()
            .await
            .with_context(|| format!("POST {url} failed"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("POST {url}: reading the body failed"))?;
        if status != reqwest::StatusCode::OK {
            let text = String::from_utf8_lossy(&bytes);
            let snippet: String = text.chars().take(300).collect();
            bail!("POST {url} returned {status}: {snippet}");
        }
        let body: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("POST {url} did not return JSON"))?;
        let identity = body["backstageIdentity"].clone();
        if identity["token"].as_str().is_none_or(str::is_empty) {
            bail!("POST {url} returned no backstageIdentity.token: {body}");
        }
        Ok(identity)
    }

    /// `path` (absolute, without query) plus `query` pairs, percent-encoded.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Url> {
        let mut url = self.base.join(path.trim_start_matches('/'))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// How many stitched entities of `kinds` the catalog serves: `totalItems`
    /// of `/entities/by-query` with one OR-ed `filter=kind=<k>` per kind.
    pub async fn count_entities(&self, kinds: &[&str]) -> anyhow::Result<u64> {
        let filters: Vec<String> = kinds
            .iter()
            .map(|k| format!("kind={}", k.to_lowercase()))
            .collect();
        let mut query = vec![("limit", "1"), ("totalItems", "include")];
        query.extend(filters.iter().map(|f| ("filter", f.as_str())));
        let url = self.url("/api/catalog/entities/by-query", &query)?;
        let (_, body) = self.timed_get(&url).await?;
        let page: Value = serde_json::from_slice(&body)
            .with_context(|| format!("GET {url} did not return JSON"))?;
        page.get("totalItems")
            .and_then(Value::as_u64)
            .with_context(|| format!("GET {url} returned no numeric totalItems"))
    }

    /// GETs `url`, reading the whole body inside the timed span. Anything but
    /// 200 is an error quoting the start of the body.
    pub async fn timed_get(&self, url: &Url) -> anyhow::Result<(Duration, Vec<u8>)> {
        let started = Instant::now();
        let (status, body) = self.get_any(url).await?;
        let elapsed = started.elapsed();
        if status != reqwest::StatusCode::OK {
            let text = String::from_utf8_lossy(&body);
            let snippet: String = text.chars().take(300).collect();
            bail!("GET {url} returned {status}: {snippet}");
        }
        Ok((elapsed, body))
    }

    /// GETs `url` and returns the status and the whole body, whatever the
    /// status (for polling a route that answers 503 while it is not ready).
    pub async fn get_any(&self, url: &Url) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .with_context(|| format!("GET {url} failed"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("GET {url}: reading the body failed"))?;
        Ok((status, body.to_vec()))
    }

    /// POSTs `body` as JSON; the answer must be `expected` with a JSON body.
    /// Anything else is an error quoting the start of the body.
    pub async fn post_json(
        &self,
        url: &Url,
        body: &Value,
        expected: reqwest::StatusCode,
    ) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(url.clone())
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {url} failed"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("POST {url}: reading the body failed"))?;
        if status != expected {
            let text = String::from_utf8_lossy(&bytes);
            let snippet: String = text.chars().take(500).collect();
            bail!("POST {url} returned {status}, expected {expected}: {snippet}");
        }
        serde_json::from_slice(&bytes).with_context(|| format!("POST {url} did not return JSON"))
    }

    /// Whether `url` exists: true on 200, false on 404, an error otherwise.
    pub async fn exists(&self, url: &Url) -> anyhow::Result<bool> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .with_context(|| format!("GET {url} failed"))?;
        match response.status() {
            reqwest::StatusCode::OK => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            status => bail!("GET {url} returned {status}"),
        }
    }

    /// Timed GET whose body must be JSON.
    pub async fn timed_get_json(&self, url: &Url) -> anyhow::Result<(Duration, Value)> {
        let (elapsed, body) = self.timed_get(url).await?;
        let json = serde_json::from_slice(&body)
            .with_context(|| format!("GET {url} did not return JSON"))?;
        Ok((elapsed, json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Answers every request with `status` and `body`; records request lines.
    async fn fake_server(
        status: &'static str,
        body: &'static str,
    ) -> (u16, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf[read..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                }
                let request = String::from_utf8_lossy(&buf[..read]).to_string();
                log.lock()
                    .unwrap()
                    .push(request.lines().next().unwrap_or_default().to_string());
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        (port, seen)
    }

    #[tokio::test]
    async fn count_reads_total_items_with_one_filter_per_kind() {
        let (port, seen) =
            fake_server("200 OK", r#"{"items":[],"totalItems":1234,"pageInfo":{}}"#).await;
        let api = Api::new(port, Duration::from_secs(5)).unwrap();
        assert_eq!(
            api.count_entities(&["Component", "API"]).await.unwrap(),
            1234
        );
        let line = seen.lock().unwrap()[0].clone();
        assert_eq!(
            line,
            "GET /api/catalog/entities/by-query?limit=1&totalItems=include&filter=kind%3Dcomponent&filter=kind%3Dapi HTTP/1.1"
        );
    }

    #[tokio::test]
    async fn non_200_answers_are_errors_with_the_body() {
        let (port, _) = fake_server(
            "401 Unauthorized",
            r#"{"error":{"name":"AuthenticationError"}}"#,
        )
        .await;
        let api = Api::new(port, Duration::from_secs(5)).unwrap();
        let err = api
            .count_entities(&["Component"])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("401 Unauthorized"), "{err}");
        assert!(err.contains("AuthenticationError"), "{err}");
    }

    #[tokio::test]
    async fn get_any_returns_a_non_200_status_with_its_body() {
        let (port, _) = fake_server("503 Service Unavailable", r#"{"error":"building"}"#).await;
        let api = Api::new(port, Duration::from_secs(5)).unwrap();
        let url = api.url("/api/search/query", &[("term", "")]).unwrap();
        let (status, body) = api.get_any(&url).await.unwrap();
        assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, br#"{"error":"building"}"#);
    }

    #[tokio::test]
    async fn a_page_without_total_items_is_an_error() {
        let (port, _) = fake_server("200 OK", r#"{"items":[]}"#).await;
        let api = Api::new(port, Duration::from_secs(5)).unwrap();
        let err = api
            .count_entities(&["Component"])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no numeric totalItems"), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connection_error() {
        let port = greenroom_webdriver::free_port().unwrap();
        let api = Api::new(port, Duration::from_secs(2)).unwrap();
        let url = api.url("/api/catalog/entities", &[]).unwrap();
        let err = api.timed_get(&url).await.unwrap_err().to_string();
        assert!(err.contains("failed"), "{err}");
    }

    #[tokio::test]
    async fn bearer_clients_send_the_token_and_guest_sign_in_reads_the_identity() {
        let (port, seen) = fake_server(
            "200 OK",
            r#"{"backstageIdentity":{"token":"t.k.n","identity":{"userEntityRef":"user:default/a"}}}"#,
        )
        .await;
        let api = Api::with_bearer(port, Duration::from_secs(5), "t.k.n").unwrap();
        let identity = api.sign_in_guest().await.unwrap();
        assert_eq!(identity["token"], "t.k.n");
        assert_eq!(identity["identity"]["userEntityRef"], "user:default/a");
        assert_eq!(
            seen.lock().unwrap()[0],
            "POST /api/auth/guest/refresh HTTP/1.1"
        );
        let (port, _) = fake_server("200 OK", r#"{"backstageIdentity":{}}"#).await;
        let err = Api::new(port, Duration::from_secs(5))
            .unwrap()
            .sign_in_guest()
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("no backstageIdentity.token"),
            "{err}"
        );
    }

    #[test]
    fn urls_encode_query_values() {
        let api = Api::new(7007, Duration::from_secs(1)).unwrap();
        let url = api
            .url(
                "/api/catalog/entities/by-query",
                &[("orderField", "metadata.name,asc"), ("cursor", "a+b/c=")],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7007/api/catalog/entities/by-query?orderField=metadata.name%2Casc&cursor=a%2Bb%2Fc%3D"
        );
    }
}
