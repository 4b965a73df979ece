//! Sites in an S3 bucket or any S3-compatible object store
//! (`techdocs.publisher.type: awsS3`, Backstage's configuration shape), so
//! that several replicas serve the same sites:
//!
//! ```yaml
//! techdocs:
//!   publisher:
//!     type: awsS3
//!     awsS3:
//!       bucketName: docs
//!       bucketRootPath: sites/          # optional prefix of every object
//!       region: us-east-1               # else AWS_REGION, AWS_DEFAULT_REGION, us-east-1
//!       endpoint: http://127.0.0.1:9000 # S3-compatible servers; else AWS's
//!       s3ForcePathStyle: true          # <endpoint>/<bucket>/<key> instead of <bucket>.<host>
//!       sse: AES256                     # optional server-side encryption (AES256 or aws:kms)
//!       credentials:                    # else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//!         accessKeyId: ${AWS_ACCESS_KEY_ID}
//!         secretAccessKey: ${AWS_SECRET_ACCESS_KEY}
//! ```
//!
//! A site's files are the objects `<bucketRootPath><namespace>/<kind>/<name>/<path>`,
//! as Backstage's publisher lays them out. Publishing uploads every file (a
//! few at a time), then `techdocs_metadata.json`, then deletes the objects
//! that the new site no longer has. Objects are replaced in place, so during a
//! publish a reader can meet new files beside old ones (unlike the local
//! storage's folder swap); the metadata, written once every other file is
//! there, is what says that a build is complete. The stale files go last, once
//! no metadata lists them any more: deleted earlier, pages that the old
//! metadata still lists would be missing while the new metadata is uploaded,
//! or for good if that upload failed.
//!
//! The client is small on purpose: the four requests this needs (PutObject,
//! GetObject, DeleteObject, ListObjectsV2, signed with AWS Signature Version
//! 4) over the server's reqwest, rather than an SDK. Secrets never reach a log
//! line or an error message.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::techdocs::storage::{safe_relative, DocsStorage, SiteKey, StorageError};
use sigv4::*;
use xml::*;

mod sigv4;
mod xml;

/// Uploads (and deletes) in flight at once.
const CONCURRENCY: usize = 8;
/// Tries of a request that failed on the network or with a 5xx answer (all
/// the requests made here are idempotent).
const ATTEMPTS: u32 = 3;
const METADATA: &str = greenroom_techdocs::METADATA_FILE;

/// An access key. `Debug` shows the key id, never the secret.
#[derive(Clone)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Where requests go: `scheme://host[:port]` and a path every request starts with.
#[derive(Debug, Clone, PartialEq)]
struct Endpoint {
    scheme: String,
    /// The `Host` header: the host, and the port when it is not the scheme's.
    host: String,
    /// Empty, or `/something` without a trailing slash.
    base_path: String,
}

/// One request's target: the URL to send (without the query), its `Host`
/// header and its path as signed.
#[derive(Debug, PartialEq)]
struct Location {
    url: String,
    host: String,
    path: String,
}

/// `techdocs.publisher.awsS3`.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Empty, or a prefix that ends with `/`.
    pub root: String,
    pub region: String,
    endpoint: Endpoint,
    virtual_hosted: bool,
    sse: Option<String>,
    credentials: Credentials,
}

impl S3Settings {
    /// Reads `techdocs.publisher.awsS3`; `env` looks up the environment
    /// variables that settings fall back to.
    pub fn from_config(
        section: Option<&Value>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        const AT: &str = "techdocs.publisher.awsS3";
        let empty = serde_json::Map::new();
        let section = match section {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(map)) => map,
            Some(_) => anyhow::bail!("{AT} must be a mapping"),
        };
        let text = |name: &str| -> anyhow::Result<Option<String>> {
            match section.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => anyhow::bail!("{AT}.{name} must be a string"),
            }
        };
        let bucket =
            text("bucketName")?.ok_or_else(|| anyhow::anyhow!("{AT}.bucketName is required"))?;
        if bucket.contains('/') {
            anyhow::bail!("{AT}.bucketName must be a bucket name, not a path");
        }
        let root = match text("bucketRootPath")? {
            Some(path) => {
                let trimmed = path.trim_matches('/');
                if trimmed.is_empty() {
                    String::new()
                } else if trimmed
                    .split('/')
                    .any(|s| s.is_empty() || s == "." || s == "..")
                {
                    anyhow::bail!("{AT}.bucketRootPath '{path}' is not a plain folder path");
                } else {
                    format!("{trimmed}/")
                }
            }
            None => String::new(),
        };
        let region = text("region")?
            .or_else(|| env("AWS_REGION").filter(|v| !v.is_empty()))
            .or_else(|| env("AWS_DEFAULT_REGION").filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "us-east-1".to_string());
        let force_path_style = match section.get("s3ForcePathStyle") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(_) => anyhow::bail!("{AT}.s3ForcePathStyle must be true or false"),
        };
        let endpoint = match text("endpoint")? {
            Some(url) => parse_endpoint(&url).map_err(|e| anyhow::anyhow!("{AT}.endpoint: {e}"))?,
            None => Endpoint {
                scheme: "https".into(),
                host: format!("s3.{region}.amazonaws.com"),
                base_path: String::new(),
            },
        };
        let sse = text("sse")?;
        if let Some(sse) = &sse {
            if sse != "AES256" && sse != "aws:kms" {
                anyhow::bail!("{AT}.sse must be 'AES256' or 'aws:kms', not '{sse}'");
            }
        }
        let credentials = credentials(section.get("credentials"), &env)?;
        Ok(S3Settings {
            virtual_hosted: !force_path_style
                && dns_compatible(&bucket)
                && !is_ip_or_localhost(&endpoint.host),
            bucket,
            root,
            region,
            endpoint,
            sse,
            credentials,
        })
    }

    /// The object that holds `path` of the site `key`, or the site's prefix
    /// (ending with `/`) for an empty path.
    fn object_key(&self, key: &SiteKey, path: &str) -> String {
        format!(
            "{}{}/{}/{}/{path}",
            self.root, key.namespace, key.kind, key.name
        )
    }

    /// The URL of an object, or of the bucket for None.
    fn location(&self, object: Option<&str>) -> Location {
        let ep = &self.endpoint;
        let (host, path) = if self.virtual_hosted {
            let path = format!(
                "{}/{}",
                ep.base_path,
                object.map(|k| uri_encode(k, false)).unwrap_or_default()
            );
            (format!("{}.{}", self.bucket, ep.host), path)
        } else {
            let bucket = uri_encode(&self.bucket, true);
            let path = match object {
                Some(k) => format!("{}/{bucket}/{}", ep.base_path, uri_encode(k, false)),
                None => format!("{}/{bucket}", ep.base_path),
            };
            (ep.host.clone(), path)
        };
        Location {
            url: format!("{}://{host}{path}", ep.scheme),
            host,
            path,
        }
    }
}

fn credentials(
    section: Option<&Value>,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Credentials> {
    const AT: &str = "techdocs.publisher.awsS3.credentials";
    let field = |name: &str| -> anyhow::Result<Option<String>> {
        match section.and_then(|s| s.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => anyhow::bail!("{AT}.{name} must be a string"),
        }
    };
    if let Some(section) = section {
        if !section.is_object() && !section.is_null() {
            anyhow::bail!("{AT} must be a mapping");
        }
    }
    if field("roleArn")?.is_some() {
        anyhow::bail!(
            "{AT}.roleArn: assuming a role is not supported; give an access key \
             (accessKeyId and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        );
    }
    match (field("accessKeyId")?, field("secretAccessKey")?) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: None,
        }),
        (Some(_), None) | (None, Some(_)) => anyhow::bail!(
            "{AT} needs both accessKeyId and secretAccessKey (one of them is empty or missing)"
        ),
        (None, None) => {
            let id = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty());
            let secret = env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
            match (id, secret) {
                (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token: env("AWS_SESSION_TOKEN").filter(|v| !v.is_empty()),
                }),
                _ => anyhow::bail!(
                    "no S3 credentials: set {AT}.accessKeyId and secretAccessKey, or the \
                     environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ),
            }
        }
    }
}

fn parse_endpoint(text: &str) -> Result<Endpoint, String> {
    let url = url::Url::parse(text).map_err(|e| format!("'{text}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{text}' is not an http or https URL"));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "'{text}' must be a plain URL (no query and no user name)"
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("'{text}' has no host"))?;
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Ok(Endpoint {
        scheme: url.scheme().to_string(),
        host,
        base_path: url.path().trim_end_matches('/').to_string(),
    })
}

/// Whether a bucket can be a host name label under TLS (`<bucket>.<host>`);
/// others are addressed path-style, as AWS's SDKs do.
fn dns_compatible(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

/// Whether a `Host` (with its port) is an IP address or `localhost`, where
/// `<bucket>.<host>` cannot resolve: such endpoints are addressed path-style.
fn is_ip_or_localhost(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => return v6.contains(']'),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name == "localhost" || name.parse::<std::net::Ipv4Addr>().is_ok()
}

/// A path inside a site that can be an object key as is: besides what
/// [`safe_relative`] refuses, no `.` segment (URL parsers drop them, and the
/// signature would no longer match) and no folder (empty or trailing `/`).
fn object_path(path: &str) -> Option<&str> {
    safe_relative(path)
        .filter(|p| !p.is_empty() && !p.ends_with('/') && !p.split('/').any(|s| s == "."))
}

/// Sites in an S3 bucket.
pub struct S3Storage {
    settings: S3Settings,
    http: reqwest::Client,
}

/// A request: method, object (None: the bucket), query, body.
struct Call<'a> {
    op: &'static str,
    method: Method,
    object: Option<&'a str>,
    query: Vec<(&'static str, String)>,
    body: Option<(&'a [u8], &'static str)>,
}

impl S3Storage {
    pub fn new(settings: S3Settings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("greenroom/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(S3Storage { settings, http })
    }

    /// From `techdocs.publisher.awsS3`, with the process environment as fallback.
    pub fn from_config(section: Option<&Value>) -> anyhow::Result<Self> {
        Self::new(S3Settings::from_config(section, |name| {
            std::env::var(name).ok()
        })?)
    }

    /// Sends `call`, signed; the status and body of the answer. 5xx answers and
    /// network failures are tried again.
    async fn send(&self, call: &Call<'_>) -> Result<(StatusCode, Vec<u8>), StorageError> {
        let s = &self.settings;
        let location = s.location(call.object);
        let query: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let query_string = canonical_query(&query);
        let url = if query_string.is_empty() {
            location.url.clone()
        } else {
            format!("{}?{query_string}", location.url)
        };
        let body = call.body.map_or(&[][..], |(bytes, _)| bytes);
        let payload_hash = hex::encode(Sha256::digest(body));
        let signer = Signer {
            access_key_id: &s.credentials.access_key_id,
            secret_access_key: &s.credentials.secret_access_key,
            region: &s.region,
            service: "s3",
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
            let mut headers: Vec<(&str, &str)> = vec![
                ("host", &location.host),
                ("x-amz-content-sha256", &payload_hash),
                ("x-amz-date", &amz_date),
            ];
            if let Some((_, content_type)) = call.body {
                headers.push(("content-type", content_type));
                if let Some(sse) = &s.sse {
                    headers.push(("x-amz-server-side-encryption", sse));
                }
            }
            if let Some(token) = &s.credentials.session_token {
                headers.push(("x-amz-security-token", token));
            }
            let authorization = signer.authorization(
                &amz_date,
                call.method.as_str(),
                &location.path,
                &query,
                &headers,
                &payload_hash,
            );
            let mut request = self.http.request(call.method.clone(), &url);
            for (name, value) in &headers {
                request = request.header(*name, *value);
            }
            request = request.header("authorization", authorization);
            if call.body.is_some() {
                request = request.body(body.to_vec());
            }
            let retry = attempt < ATTEMPTS;
            match request.send().await {
                Ok(response) if retry && response.status().is_server_error() => {}
                Ok(response) => {
                    let status = response.status();
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| self.network_error(call, &e))?;
                    return Ok((status, bytes.to_vec()));
                }
                Err(e) if retry && (e.is_connect() || e.is_timeout() || e.is_request()) => {}
                Err(e) => return Err(self.network_error(call, &e)),
            }
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
    }

    fn what(&self, call: &Call<'_>) -> String {
        format!(
            "S3 {} s3://{}/{}",
            call.op,
            self.settings.bucket,
            call.object.unwrap_or_default()
        )
    }

    fn network_error(&self, call: &Call<'_>, e: &reqwest::Error) -> StorageError {
        let mut text = format!("{}: {e}", self.what(call));
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        StorageError(self.redact(text))
    }

    /// An answer that is not the expected one, with S3's error code and message.
    fn failure(&self, call: &Call<'_>, status: StatusCode, body: &[u8]) -> StorageError {
        let mut text = format!("{}: HTTP {status}", self.what(call));
        let (code, message) = error_details(body);
        if let Some(code) = &code {
            text.push_str(&format!(": {code}"));
        }
        if let Some(message) = message {
            text.push_str(&format!(": {message}"));
        }
        if matches!(
            code.as_deref(),
            Some(
                "SignatureDoesNotMatch"
                    | "InvalidAccessKeyId"
                    | "AccessDenied"
                    | "InvalidToken"
                    | "ExpiredToken"
            )
        ) || status == StatusCode::FORBIDDEN
        {
            text.push_str(&format!(
                " (access key '{}': check techdocs.publisher.awsS3.credentials, region and endpoint)",
                self.settings.credentials.access_key_id
            ));
        }
        StorageError(self.redact(text))
    }

    /// `text` without the secret key or the session token, should a server
    /// ever echo them.
    fn redact(&self, text: String) -> String {
        let c = &self.settings.credentials;
        let mut text = text;
        for secret in std::iter::once(&c.secret_access_key).chain(c.session_token.as_ref()) {
            if !secret.is_empty() {
                text = text.replace(secret.as_str(), "<redacted>");
            }
        }
        text
    }

    async fn put(
        &self,
        object: String,
        bytes: &[u8],
        content_type: &'static str,
    ) -> Result<(), StorageError> {
        let call = Call {
            op: "PutObject",
            method: Method::PUT,
            object: Some(&object),
            query: Vec::new(),
            body: Some((bytes, content_type)),
        };
        match self.send(&call).await? {
            (status, _) if status.is_success() => Ok(()),
            (status, body) => Err(self.failure(&call, status, &body)),
        }
    }

    async fn delete(&self, object: String) -> Result<(), StorageError> {
        let call = Call {
            op: "DeleteObject",
            method: Method::DELETE,
            object: Some(&object),
            query: Vec::new(),
            body: None,
        };
        match self.send(&call).await? {
            (status, _) if status.is_success() || status == StatusCode::NOT_FOUND => Ok(()),
            (status, body) => Err(self.failure(&call, status, &body)),
        }
    }

    /// Every object key under `prefix`, page after page.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![
                ("list-type", "2".to_string()),
                ("prefix", prefix.to_string()),
            ];
            if let Some(token) = token.take() {
                query.push(("continuation-token", token));
            }
            let call = Call {
                op: "ListObjectsV2",
                method: Method::GET,
                object: None,
                query,
                body: None,
            };
            let (status, body) = self.send(&call).await?;
            if !status.is_success() {
                return Err(self.failure(&call, status, &body));
            }
            let page = parse_listing(&body).map_err(|e| {
                StorageError(format!("{}: unreadable answer: {e}", self.what(&call)))
            })?;
            keys.extend(page.keys);
            match page.next {
                Some(next) if page.truncated => token = Some(next),
                None if page.truncated => {
                    return Err(StorageError(format!(
                        "{}: a truncated listing without a continuation token",
                        self.what(&call)
                    )))
                }
                _ => return Ok(keys),
            }
        }
    }
}

#[async_trait]
impl DocsStorage for S3Storage {
    async fn publish(
        &self,
        key: &SiteKey,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StorageError> {
        if let Some(path) = files.keys().find(|p| object_path(p).is_none()) {
            return Err(StorageError(format!("refusing to publish '{path}'")));
        }
        let s = &self.settings;
        // The futures are made before they are streamed: a stream adapter
        // holding a closure over borrowed items is not `Send` here.
        let uploads: Vec<_> = files
            .iter()
            .filter(|(path, _)| path.as_str() != METADATA)
            .map(|(path, bytes)| self.put(s.object_key(key, path), bytes, super::mime_for(path)))
            .collect();
        all_of(uploads).await?;
        if let Some(metadata) = files.get(METADATA) {
            self.put(
                s.object_key(key, METADATA),
                metadata,
                super::mime_for(METADATA),
            )
            .await?;
        }
        let prefix = s.object_key(key, "");
        let deletions: Vec<_> = self
            .list(&prefix)
            .await?
            .into_iter()
            .filter(|object| {
                !object
                    .strip_prefix(&prefix)
                    .is_some_and(|path| files.contains_key(path))
            })
            .map(|object| self.delete(object))
            .collect();
        all_of(deletions).await
    }

    async fn read(&self, key: &SiteKey, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(path) = object_path(path) else {
            return Ok(None);
        };
        let object = self.settings.object_key(key, path);
        let call = Call {
            op: "GetObject",
            method: Method::GET,
            object: Some(&object),
            query: Vec::new(),
            body: None,
        };
        let (status, body) = self.send(&call).await?;
        if status.is_success() {
            return Ok(Some(body));
        }
        if status == StatusCode::NOT_FOUND {
            let (code, _) = error_details(&body);
            if code.is_none() || code.as_deref() == Some("NoSuchKey") {
                return Ok(None);
            }
        }
        Err(self.failure(&call, status, &body))
    }

    /// Reads the whole listing under `bucketRootPath` (1000 keys a request)
    /// and keeps the `<namespace>/<kind>/<name>/techdocs_metadata.json` objects.
    async fn sites(&self) -> Result<Vec<SiteKey>, StorageError> {
        let root = &self.settings.root;
        let sites: BTreeSet<SiteKey> = self
            .list(root)
            .await?
            .iter()
            .filter_map(|object| {
                let parts: Vec<&str> = object.strip_prefix(root.as_str())?.split('/').collect();
                match parts.as_slice() {
                    [ns, kind, name, file]
                        if *file == METADATA && ![ns, kind, name].iter().any(|p| p.is_empty()) =>
                    {
                        Some(SiteKey::new(ns, kind, name))
                    }
                    _ => None,
                }
            })
            .collect();
        Ok(sites.into_iter().collect())
    }
}

/// Runs `requests` [`CONCURRENCY`] at a time; the first error stops the rest.
async fn all_of<F>(requests: Vec<F>) -> Result<(), StorageError>
where
    F: std::future::Future<Output = Result<(), StorageError>>,
{
    futures::stream::iter(requests)
        .buffer_unordered(CONCURRENCY)
        .try_for_each(|()| futures::future::ready(Ok(())))
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Method as HttpMethod, StatusCode as HttpStatus, Uri};
    use axum::response::{IntoResponse, Response};
    use serde_json::json;

    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn signature(authorization: &str) -> &str {
        authorization.rsplit_once("Signature=").unwrap().1
    }

    // The signer against AWS's published vectors. The first is "get-vanilla"
    // of the AWS Signature Version 4 test suite; the others are the examples
    // of the Amazon S3 API Reference, "Signature Calculations for the
    // Authorization Header: Transferring Payload in a Single Chunk": GET
    // Object, PUT Object and GET Bucket (List Objects).

    #[test]
    fn signs_the_get_vanilla_vector_of_the_sigv4_test_suite() {
        let signer = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
        };
        assert_eq!(
            signer.authorization(
                "20150830T123600Z",
                "GET",
                "/",
                &[],
                &[
                    ("Host", "example.amazonaws.com"),
                    ("X-Amz-Date", "20150830T123600Z")
                ],
                EMPTY_SHA256,
            ),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    fn s3_example() -> Signer<'static> {
        Signer {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "s3",
        }
    }

    #[test]
    fn signs_the_get_object_example_of_the_s3_reference() {
        let authorization = s3_example().authorization(
            "20130524T000000Z",
            "GET",
            "/test.txt",
            &[],
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ],
            EMPTY_SHA256,
        );
        assert!(authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        ));
        assert_eq!(
            signature(&authorization),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn signs_the_put_object_example_of_the_s3_reference() {
        let body_hash = hex::encode(Sha256::digest(b"Welcome to Amazon S3."));
        assert_eq!(
            body_hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let path = format!("/{}", uri_encode("test$file.text", false));
        assert_eq!(path, "/test%24file.text");
        let authorization = s3_example().authorization(
            "20130524T000000Z",
            "PUT",
            &path,
            &[],
            &[
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", &body_hash),
            ],
            &body_hash,
        );
        assert!(authorization.contains(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
        ));
        assert_eq!(
            signature(&authorization),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn signs_the_list_objects_example_with_the_query_sorted() {
        let authorization = s3_example().authorization(
            "20130524T000000Z",
            "GET",
            "/",
            &[("prefix", "J"), ("max-keys", "2")],
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ],
            EMPTY_SHA256,
        );
        assert_eq!(
            signature(&authorization),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("a-b_c.d~e/F9", false), "a-b_c.d~e/F9");
        assert_eq!(uri_encode("a b/c+d=é", true), "a%20b%2Fc%2Bd%3D%C3%A9");
        assert_eq!(
            uri_encode("guide/a b&c.html", false),
            "guide/a%20b%26c.html"
        );
        assert_eq!(
            canonical_query(&[
                ("prefix", "sites/a b/"),
                ("list-type", "2"),
                ("continuation-token", "x+y=")
            ]),
            "continuation-token=x%2By%3D&list-type=2&prefix=sites%2Fa%20b%2F"
        );
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_backstages_configuration_shape() {
        let settings = S3Settings::from_config(
            Some(&json!({
                "bucketName": "docs",
                "bucketRootPath": "/sites/",
                "region": "eu-west-1",
                "endpoint": "http://127.0.0.1:9000/",
                "s3ForcePathStyle": true,
                "credentials": {"accessKeyId": "AKID", "secretAccessKey": "s3cr3t-value"}
            })),
            no_env,
        )
        .unwrap();
        assert_eq!(settings.bucket, "docs");
        assert_eq!(settings.root, "sites/");
        assert_eq!(settings.region, "eu-west-1");
        assert!(!settings.virtual_hosted);
        let key = SiteKey::new("default", "Component", "svc");
        assert_eq!(
            settings.object_key(&key, "a b/index.html"),
            "sites/default/component/svc/a b/index.html"
        );
        assert_eq!(
            settings.location(Some("sites/x y/é.html")),
            Location {
                url: "http://127.0.0.1:9000/docs/sites/x%20y/%C3%A9.html".into(),
                host: "127.0.0.1:9000".into(),
                path: "/docs/sites/x%20y/%C3%A9.html".into(),
            }
        );
        assert_eq!(settings.location(None).path, "/docs");
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("AKID") && !shown.contains("s3cr3t-value"),
            "{shown}"
        );
    }

    #[test]
    fn addresses_aws_virtual_hosted_and_falls_back_to_the_environment() {
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("ENVKEY".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("envsecret".to_string()),
            "AWS_SESSION_TOKEN" => Some("token".to_string()),
            "AWS_REGION" => Some("eu-central-1".to_string()),
            _ => None,
        };
        let settings = S3Settings::from_config(Some(&json!({"bucketName": "docs"})), env).unwrap();
        assert_eq!(settings.credentials.access_key_id, "ENVKEY");
        assert_eq!(settings.credentials.session_token.as_deref(), Some("token"));
        assert_eq!(settings.region, "eu-central-1");
        assert_eq!(settings.root, "");
        assert_eq!(
            settings.location(Some("default/component/svc/index.html")),
            Location {
                url: "https://docs.s3.eu-central-1.amazonaws.com/default/component/svc/index.html"
                    .into(),
                host: "docs.s3.eu-central-1.amazonaws.com".into(),
                path: "/default/component/svc/index.html".into(),
            }
        );
        assert_eq!(settings.location(None).path, "/");

        // A custom endpoint with a name is addressed virtual-hosted too; a
        // bucket that cannot be a host name label is not.
        let custom = |bucket: &str, endpoint: &str| {
            S3Settings::from_config(
                Some(&json!({"bucketName": bucket, "endpoint": endpoint})),
                env,
            )
            .unwrap()
            .location(Some("a"))
            .url
        };
        assert_eq!(
            custom("docs", "https://minio.example.com:9443/base/"),
            "https://docs.minio.example.com:9443/base/a"
        );
        assert_eq!(
            custom("my.docs", "https://minio.example.com"),
            "https://minio.example.com/my.docs/a"
        );
        assert_eq!(
            custom("docs", "http://localhost:9000"),
            "http://localhost:9000/docs/a"
        );
        assert_eq!(
            custom("docs", "http://[::1]:9000"),
            "http://[::1]:9000/docs/a"
        );
    }

    #[test]
    fn refuses_incomplete_configuration() {
        let err = |section: Value| {
            S3Settings::from_config(Some(&section), no_env)
                .unwrap_err()
                .to_string()
        };
        assert!(err(json!({})).contains("bucketName is required"));
        assert!(err(json!({"bucketName": "docs"})).contains("AWS_ACCESS_KEY_ID"));
        let half = err(json!({"bucketName": "docs", "credentials": {"accessKeyId": "AKID"}}));
        assert!(
            half.contains("both accessKeyId and secretAccessKey"),
            "{half}"
        );
        let role =
            err(json!({"bucketName": "docs", "credentials": {"roleArn": "arn:aws:iam::1:role/x"}}));
        assert!(role.contains("not supported"), "{role}");
        assert!(err(json!({"bucketName": "docs", "endpoint": "ftp://x"})).contains("http"));
        assert!(
            err(json!({"bucketName": "docs", "bucketRootPath": "a/../b"}))
                .contains("bucketRootPath")
        );
        assert!(err(json!({"bucketName": "docs", "sse": "nope"})).contains("sse"));
    }

    #[test]
    fn reads_listings_and_errors() {
        let page = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>docs</Name><Prefix>sites/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>sites/a &amp; b&#x2F;&lt;c&gt;.html</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><Size>3</Size></Contents>
  <Contents><Key><![CDATA[sites/&#xE9;.html]]></Key><Size>1</Size><StorageClass/></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;
        assert_eq!(
            parse_listing(page).unwrap(),
            Listing {
                keys: vec!["sites/a & b/<c>.html".into(), "sites/&#xE9;.html".into()],
                truncated: true,
                next: Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=".into()),
            }
        );
        assert!(parse_listing(b"<Error><Code>x</Code></Error>").is_err());
        let error = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a</Key></Error>"#;
        assert_eq!(
            error_details(error),
            (
                Some("NoSuchKey".into()),
                Some("The specified key does not exist.".into())
            )
        );
        assert_eq!(error_details(b""), (None, None));
        assert_eq!(error_details(b"<html>oops"), (None, None));
    }

    // -----------------------------------------------------------------------
    // A recording S3 on loopback
    // -----------------------------------------------------------------------

    /// A path-style S3 bucket `docs` in memory that records the writes in
    /// order, lists two keys a page, and answers 503 once for a key with
    /// `flaky` in it.
    #[derive(Default)]
    struct Fake {
        objects: BTreeMap<String, (Vec<u8>, String)>,
        writes: Vec<String>,
        lists: usize,
        flaked: bool,
    }

    type Shared = Arc<Mutex<Fake>>;

    fn xml_escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    fn s3_error(status: HttpStatus, code: &str, message: &str) -> Response {
        (
            status,
            format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"),
        )
            .into_response()
    }

    async fn fake_s3(
        State(fake): State<Shared>,
        method: HttpMethod,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        if header("x-amz-content-sha256") != hex::encode(Sha256::digest(&body)) {
            return s3_error(
                HttpStatus::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "bad hash",
            );
        }
        let authorization = header("authorization");
        if !authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKID/") {
            return s3_error(
                HttpStatus::FORBIDDEN,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            );
        }
        let path = percent_encoding::percent_decode_str(uri.path())
            .decode_utf8()
            .unwrap()
            .into_owned();
        let Some(rest) = path.strip_prefix("/docs") else {
            return s3_error(HttpStatus::NOT_FOUND, "NoSuchBucket", "no such bucket");
        };
        let mut fake = fake.lock().unwrap();
        let Some(key) = rest.strip_prefix('/') else {
            // The bucket: ListObjectsV2.
            let query: BTreeMap<String, String> =
                url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                    .into_owned()
                    .collect();
            assert_eq!(query.get("list-type").map(String::as_str), Some("2"));
            fake.lists += 1;
            let prefix = query.get("prefix").cloned().unwrap_or_default();
            let after = query.get("continuation-token").cloned();
            let matching: Vec<&String> = fake
                .objects
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .filter(|k| after.as_ref().is_none_or(|a| *k > a))
                .collect();
            let page = &matching[..matching.len().min(2)];
            let truncated = matching.len() > 2;
            let mut xml =
                String::from("<?xml version=\"1.0\"?><ListBucketResult><Name>docs</Name>");
            for key in page {
                xml.push_str(&format!(
                    "<Contents><Key>{}</Key></Contents>",
                    xml_escape(key)
                ));
            }
            xml.push_str(&format!("<IsTruncated>{truncated}</IsTruncated>"));
            if truncated {
                xml.push_str(&format!(
                    "<NextContinuationToken>{}</NextContinuationToken>",
                    xml_escape(page.last().unwrap())
                ));
            }
            xml.push_str("</ListBucketResult>");
            return xml.into_response();
        };
        match method {
            HttpMethod::PUT => {
                if key.contains("flaky") && !fake.flaked {
                    fake.flaked = true;
                    return s3_error(HttpStatus::SERVICE_UNAVAILABLE, "SlowDown", "slow down");
                }
                fake.writes.push(format!("PUT {key}"));
                let content_type = header("content-type").to_string();
                fake.objects
                    .insert(key.to_string(), (body.to_vec(), content_type));
                HttpStatus::OK.into_response()
            }
            HttpMethod::GET => match fake.objects.get(key) {
                Some((bytes, _)) => bytes.clone().into_response(),
                None => s3_error(
                    HttpStatus::NOT_FOUND,
                    "NoSuchKey",
                    "The specified key does not exist.",
                ),
            },
            HttpMethod::DELETE => {
                fake.writes.push(format!("DELETE {key}"));
                fake.objects.remove(key);
                HttpStatus::NO_CONTENT.into_response()
            }
            _ => s3_error(HttpStatus::METHOD_NOT_ALLOWED, "MethodNotAllowed", "no"),
        }
    }

    async fn start_fake() -> (Shared, String) {
        let fake = Shared::default();
        let app = axum::Router::new()
            .fallback(fake_s3)
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, endpoint)
    }

    fn storage(endpoint: &str, access_key_id: &str, secret: &str) -> S3Storage {
        S3Storage::new(
            S3Settings::from_config(
                Some(&json!({
                    "bucketName": "docs",
                    "bucketRootPath": "sites",
                    "endpoint": endpoint,
                    "s3ForcePathStyle": true,
                    "credentials": {"accessKeyId": access_key_id, "secretAccessKey": secret}
                })),
                no_env,
            )
            .unwrap(),
        )
        .unwrap()
    }

    fn site(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    #[tokio::test]
    async fn publishes_metadata_after_the_files_and_removes_what_is_gone() {
        let (fake, endpoint) = start_fake().await;
        let storage = storage(&endpoint, "AKID", "secret");
        let key = SiteKey::new("default", "component", "svc");
        let mut files = site(&[
            ("index.html", "one"),
            ("guide/index.html", "guide"),
            ("assets/a b&c.css", "css"),
            ("assets/flaky.js", "js"),
            ("old/index.html", "old"),
            (METADATA, "{}"),
        ]);
        storage.publish(&key, &files).await.unwrap();
        {
            let fake = fake.lock().unwrap();
            assert_eq!(fake.writes.len(), 6, "{:?}", fake.writes);
            assert_eq!(
                fake.writes.last().unwrap(),
                "PUT sites/default/component/svc/techdocs_metadata.json"
            );
            assert!(fake.flaked, "the 503 was answered and tried again");
            assert_eq!(
                fake.objects["sites/default/component/svc/assets/a b&c.css"].1,
                "text/css; charset=utf-8"
            );
            assert_eq!(
                fake.objects["sites/default/component/svc/index.html"].1,
                "text/html; charset=utf-8"
            );
        }
        // Another site whose name starts the same is not touched.
        let other = SiteKey::new("default", "component", "svc2");
        storage
            .publish(&other, &site(&[(METADATA, "{}")]))
            .await
            .unwrap();

        fake.lock().unwrap().writes.clear();
        files.remove("old/index.html");
        files.remove("assets/flaky.js");
        files.insert("index.html".into(), b"two".to_vec());
        storage.publish(&key, &files).await.unwrap();
        {
            let fake = fake.lock().unwrap();
            let writes = &fake.writes;
            let metadata = writes
                .iter()
                .position(|w| w == "PUT sites/default/component/svc/techdocs_metadata.json")
                .unwrap();
            assert!(
                writes[..metadata].iter().all(|w| w.starts_with("PUT ")),
                "{writes:?}"
            );
            let mut deleted: Vec<&String> = writes[metadata + 1..].iter().collect();
            deleted.sort();
            assert_eq!(
                deleted,
                [
                    "DELETE sites/default/component/svc/assets/flaky.js",
                    "DELETE sites/default/component/svc/old/index.html"
                ],
                "{writes:?}"
            );
            assert!(fake.lists >= 3, "the listing was read page by page");
            assert!(fake
                .objects
                .contains_key("sites/default/component/svc2/techdocs_metadata.json"));
        }
        assert_eq!(
            storage.read(&key, "index.html").await.unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(
            storage
                .read(&key, "assets/a b&c.css")
                .await
                .unwrap()
                .as_deref(),
            Some(&b"css"[..])
        );
        assert_eq!(storage.read(&key, "old/index.html").await.unwrap(), None);
        assert_eq!(storage.read(&key, "index.html/x").await.unwrap(), None);
        assert_eq!(storage.sites().await.unwrap(), vec![key.clone(), other]);
    }

    #[tokio::test]
    async fn refuses_unsafe_paths_without_asking_the_server() {
        let (fake, endpoint) = start_fake().await;
        let storage = storage(&endpoint, "AKID", "secret");
        let key = SiteKey::new("default", "component", "svc");
        for path in [
            "../../escape.html",
            "/etc/passwd",
            "a/./b.html",
            "",
            "a/",
            "a\\b",
        ] {
            assert_eq!(storage.read(&key, path).await.unwrap(), None, "{path}");
            let err = storage
                .publish(&key, &site(&[(path, "x")]))
                .await
                .unwrap_err();
            assert!(err.to_string().contains("refusing to publish"), "{err}");
        }
        let fake = fake.lock().unwrap();
        assert!(fake.writes.is_empty() && fake.lists == 0);
    }

    #[tokio::test]
    async fn refused_credentials_are_an_error_that_keeps_the_secret() {
        let (_fake, endpoint) = start_fake().await;
        let secret = "wJalrXUtnFEMI-very-secret";
        let storage = storage(&endpoint, "WRONG", secret);
        let key = SiteKey::new("default", "component", "svc");
        let read = storage
            .read(&key, "index.html")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            read.contains("403") && read.contains("SignatureDoesNotMatch"),
            "{read}"
        );
        assert!(read.contains("WRONG") && !read.contains(secret), "{read}");
        let publish = storage
            .publish(&key, &site(&[("index.html", "x")]))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            publish.contains("PutObject") && !publish.contains(secret),
            "{publish}"
        );
        assert!(storage.sites().await.is_err());

        let storage = S3Storage::new(
            S3Settings::from_config(
                Some(&json!({
                    "bucketName": "elsewhere", "endpoint": endpoint, "s3ForcePathStyle": true,
                    "credentials": {"accessKeyId": "AKID", "secretAccessKey": secret}
                })),
                no_env,
            )
            .unwrap(),
        )
        .unwrap();
        let missing_bucket = storage
            .read(&key, "index.html")
            .await
            .unwrap_err()
            .to_string();
        assert!(missing_bucket.contains("NoSuchBucket"), "{missing_bucket}");

        // Nothing listens there: a network error, tried again, then reported.
        let unreachable = storage_at_closed_port().await;
        let err = unreachable
            .read(&key, "index.html")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("GetObject") && !err.contains(secret), "{err}");
    }

    async fn storage_at_closed_port() -> S3Storage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        storage(&endpoint, "AKID", "wJalrXUtnFEMI-very-secret")
    }
}
