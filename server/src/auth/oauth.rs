//! Sign-in with GitHub (github.com or GitHub Enterprise) and GitLab through
//! the OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256) and a
//! caller-chosen `state`. Reads Backstage's `auth.providers.<github|gitlab>.<env>`
//! section, builds the IdP's authorization URL, and turns the code the IdP
//! sends back into a [`ProviderIdentity`] by exchanging it for an access
//! token and reading the user's profile with that token.
//!
//! The session, the `state` cookie and the routes belong to the caller; this
//! module only speaks to the IdP.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::profile::ProviderIdentity;

/// Every call to the IdP gives up after this long.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthFlavor {
    Github,
    Gitlab,
}

impl OAuthFlavor {
    /// The provider id: the config key under `auth.providers` and the route segment.
    pub fn id(self) -> &'static str {
        match self {
            OAuthFlavor::Github => "github",
            OAuthFlavor::Gitlab => "gitlab",
        }
    }

    /// The scope sign-in needs to read the profile; always requested.
    fn base_scope(self) -> &'static str {
        match self {
            OAuthFlavor::Github => "read:user",
            OAuthFlavor::Gitlab => "read_user",
        }
    }

    /// Backstage's keys for this provider; anything else is refused.
    fn known_keys(self) -> &'static [&'static str] {
        match self {
            OAuthFlavor::Github => &[
                "clientId",
                "clientSecret",
                "enterpriseInstanceUrl",
                "callbackUrl",
                "additionalScopes",
                "sessionDuration",
                "signIn",
            ],
            OAuthFlavor::Gitlab => &[
                "clientId",
                "clientSecret",
                "audience",
                "callbackUrl",
                "additionalScopes",
                "sessionDuration",
                "signIn",
            ],
        }
    }
}

/// Why an exchange failed. Messages name the IdP's error code and
/// description only: never the code, verifier, client secret or token.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The IdP refused: unknown or reused code, PKCE mismatch, wrong client
    /// credentials, a token it will not accept. Signing in again may help;
    /// retrying the same request will not.
    #[error("{0}")]
    Rejected(String),
    /// The IdP could not be reached or failed (network error, 5xx, an answer
    /// that is not the protocol's).
    #[error("{0}")]
    Unavailable(String),
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One configured OAuth sign-in provider.
#[derive(Clone)]
pub struct OAuthProvider {
    flavor: OAuthFlavor,
    /// Holds the client secret; `oauth2` never prints it.
    client: Client,
    client_id: String,
    callback_url: String,
    /// The REST API base (`https://api.github.com`, `<ghe>/api/v3`, `<gitlab>/api/v4`).
    api_base_url: String,
    /// `read:user`/`read_user` followed by `additionalScopes`.
    scopes: Vec<String>,
    session_duration: Option<Duration>,
    sign_in: Option<Value>,
    http: reqwest::Client,
}

// The client secret stays out of logs.
impl std::fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("flavor", &self.flavor)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("authorize_url", &self.client.auth_uri().as_str())
            .field("token_url", &self.client.token_uri().as_str())
            .field("api_base_url", &self.api_base_url)
            .field("callback_url", &self.callback_url)
            .field("scopes", &self.scopes)
            .field("session_duration", &self.session_duration)
            .finish_non_exhaustive()
    }
}

impl OAuthProvider {
    /// Reads one environment's section (`auth.providers.github.development`).
    /// `default_callback_url` = `<backend.baseUrl>/api/auth/<github|gitlab>/handler/frame`,
    /// used unless `callbackUrl` is set.
    pub fn from_value(
        flavor: OAuthFlavor,
        v: &Value,
        default_callback_url: &str,
    ) -> Result<Self, String> {
        let section = format!("auth.providers.{}", flavor.id());
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{section}: expected an object, got {v}"))?;
        let unknown: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !flavor.known_keys().contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "{section}: unknown key(s) {} (expected {})",
                unknown.join(", "),
                flavor.known_keys().join(", ")
            ));
        }
        let field = |key: &str| format!("{section}.{key}");

        let client_id =
            required_string(obj, "clientId").map_err(|e| format!("{}: {e}", field("clientId")))?;
        let client_secret = required_string(obj, "clientSecret")
            .map_err(|e| format!("{}: {e}", field("clientSecret")))?;

        // Where the browser is sent and where the server talks to.
        let (web_base, api_base_url) = match flavor {
            OAuthFlavor::Github => match optional_string(obj, "enterpriseInstanceUrl")
                .map_err(|e| format!("{}: {e}", field("enterpriseInstanceUrl")))?
            {
                Some(url) => {
                    let base = base_url(&url)
                        .map_err(|e| format!("{}: {e}", field("enterpriseInstanceUrl")))?;
                    let api = format!("{base}/api/v3");
                    (base, api)
                }
                None => (
                    "https://github.com".to_string(),
                    "https://api.github.com".to_string(),
                ),
            },
            OAuthFlavor::Gitlab => {
                let base = match optional_string(obj, "audience")
                    .map_err(|e| format!("{}: {e}", field("audience")))?
                {
                    Some(url) => {
                        base_url(&url).map_err(|e| format!("{}: {e}", field("audience")))?
                    }
                    None => "https://gitlab.com".to_string(),
                };
                let api = format!("{base}/api/v4");
                (base, api)
            }
        };
        let (authorize, token) = match flavor {
            OAuthFlavor::Github => (
                format!("{web_base}/login/oauth/authorize"),
                format!("{web_base}/login/oauth/access_token"),
            ),
            OAuthFlavor::Gitlab => (
                format!("{web_base}/oauth/authorize"),
                format!("{web_base}/oauth/token"),
            ),
        };

        let callback_url = optional_string(obj, "callbackUrl")
            .map_err(|e| format!("{}: {e}", field("callbackUrl")))?
            .unwrap_or_else(|| default_callback_url.to_string());
        let redirect = RedirectUrl::new(callback_url.clone()).map_err(|e| {
            format!(
                "{}: invalid URL {callback_url:?}: {e}",
                field("callbackUrl")
            )
        })?;

        let mut scopes = vec![flavor.base_scope().to_string()];
        for scope in additional_scopes(obj.get("additionalScopes"))
            .map_err(|e| format!("{}: {e}", field("additionalScopes")))?
        {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }

        let session_duration = match obj.get("sessionDuration") {
            None | Some(Value::Null) => None,
            Some(d) => {
                Some(parse_duration(d).map_err(|e| format!("{}: {e}", field("sessionDuration")))?)
            }
        };

        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(client_secret))
            // Both IdPs take the credentials in the form body, as Backstage sends them.
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::new(authorize).map_err(|e| format!("{section}: {e}"))?)
            .set_token_uri(TokenUrl::new(token).map_err(|e| format!("{section}: {e}"))?)
            .set_redirect_uri(redirect);

        let http = reqwest::Client::builder()
            // A token endpoint that redirects is misconfigured; following it
            // would resend the code and secret to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            // GitHub refuses API calls without a User-Agent.
            .user_agent(concat!("greenroom/", env!("CARGO_PKG_VERSION")))
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| format!("{section}: HTTP client: {e}"))?;

        Ok(OAuthProvider {
            flavor,
            client,
            client_id,
            callback_url,
            api_base_url,
            scopes,
            session_duration,
            sign_in: obj.get("signIn").cloned(),
            http,
        })
    }

    pub fn flavor(&self) -> OAuthFlavor {
        self.flavor
    }

    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// `signIn` as configured (resolvers are parsed elsewhere).
    pub fn sign_in(&self) -> Option<&Value> {
        self.sign_in.as_ref()
    }

    /// `sessionDuration`, when set.
    pub fn session_duration(&self) -> Option<Duration> {
        self.session_duration
    }

    /// The scopes every authorization request asks for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The IdP authorization URL carrying `state` and an S256 PKCE challenge;
    /// returns it with the PKCE verifier secret (the caller keeps it server-side).
    pub fn authorize_url(&self, state: &str, extra_scopes: &[String]) -> (Url, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut scopes = self.scopes.clone();
        for scope in extra_scopes {
            if !scope.is_empty() && !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        let state = state.to_string();
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(scopes.into_iter().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        (url, verifier.secret().to_string())
    }

    /// Exchanges the code (with the PKCE verifier) for an access token, then
    /// reads the user's profile with it.
    pub async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<ProviderIdentity, OAuthError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&TokenHttp(&self.http))
            .await
            .map_err(|e| self.token_error(e))?;
        let access_token = token.access_token().secret().clone();
        // GitHub separates granted scopes with commas, GitLab with spaces.
        let scope = token.scopes().map(|scopes| {
            scopes
                .iter()
                .flat_map(|s| s.split(|c: char| c == ',' || c.is_whitespace()))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        });
        let mut identity = match self.flavor {
            OAuthFlavor::Github => self.github_profile(&access_token).await?,
            OAuthFlavor::Gitlab => self.gitlab_profile(&access_token).await?,
        };
        identity.provider = self.flavor.id().to_string();
        identity.access_token = Some(access_token);
        identity.scope = scope;
        Ok(identity)
    }

    fn idp(&self) -> String {
        format!(
            "{} token endpoint {}",
            self.flavor.id(),
            self.client.token_uri().as_str()
        )
    }

    fn token_error(&self, e: RequestTokenError<TransportError, BasicErrorResponse>) -> OAuthError {
        match e {
            RequestTokenError::ServerResponse(err) => OAuthError::Rejected(format!(
                "{} refused the code: {}",
                self.idp(),
                describe(&err)
            )),
            // GitHub answers refusals with status 200 and `{"error": ...}`,
            // which `oauth2` cannot read as a token response: read it here.
            RequestTokenError::Parse(_, body) => match serde_json::from_slice::<IdpError>(&body) {
                Ok(err) => OAuthError::Rejected(format!(
                    "{} refused the code: {}",
                    self.idp(),
                    err.describe()
                )),
                // Neither the parse error nor the body may be shown: both can
                // carry the access token.
                Err(_) => OAuthError::Unavailable(format!(
                    "{} answered with something that is neither a token nor an OAuth error",
                    self.idp()
                )),
            },
            RequestTokenError::Request(err) => {
                OAuthError::Unavailable(format!("{}: {err}", self.idp()))
            }
            RequestTokenError::Other(message) => {
                OAuthError::Unavailable(format!("{}: {message}", self.idp()))
            }
        }
    }

    /// GET /user, and GET /user/emails when the public email is not set.
    async fn github_profile(&self, token: &str) -> Result<ProviderIdentity, OAuthError> {
        #[derive(Deserialize)]
        struct User {
            login: String,
            id: u64,
            name: Option<String>,
            email: Option<String>,
            avatar_url: Option<String>,
        }
        #[derive(Deserialize)]
        struct Email {
            email: String,
            primary: bool,
            verified: bool,
        }
        let user: User = self.api_get(token, "/user").await?;
        let mut email = user.email.filter(|e| !e.is_empty());
        if email.is_none() {
            // Needs the `user:email` scope; without it GitHub answers 404 and
            // the user simply has no email.
            if let Ok(emails) = self.api_get::<Vec<Email>>(token, "/user/emails").await {
                email = emails
                    .into_iter()
                    .find(|e| e.primary && e.verified)
                    .map(|e| e.email);
            }
        }
        Ok(ProviderIdentity {
            username: user.login,
            user_id: Some(user.id.to_string()),
            email,
            display_name: user.name.filter(|n| !n.is_empty()),
            picture: user.avatar_url.filter(|p| !p.is_empty()),
            ..Default::default()
        })
    }

    /// GET /api/v4/user: `email` is the account's email (visible to the
    /// user's own token), `public_email` the profile's.
    async fn gitlab_profile(&self, token: &str) -> Result<ProviderIdentity, OAuthError> {
        #[derive(Deserialize)]
        struct User {
            username: String,
            id: u64,
            name: Option<String>,
            email: Option<String>,
            public_email: Option<String>,
            avatar_url: Option<String>,
        }
        let user: User = self.api_get(token, "/user").await?;
        Ok(ProviderIdentity {
            username: user.username,
            user_id: Some(user.id.to_string()),
            email: user
                .email
                .filter(|e| !e.is_empty())
                .or(user.public_email.filter(|e| !e.is_empty())),
            display_name: user.name.filter(|n| !n.is_empty()),
            picture: user.avatar_url.filter(|p| !p.is_empty()),
            ..Default::default()
        })
    }

    async fn api_get<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        route: &str,
    ) -> Result<T, OAuthError> {
        let url = format!("{}{route}", self.api_base_url);
        let mut request = self.http.get(&url).bearer_auth(token);
        if self.flavor == OAuthFlavor::Github {
            request = request
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28");
        }
        let response = request
            .send()
            .await
            .map_err(|e| OAuthError::Unavailable(format!("GET {url}: {e}")))?;
        let status = response.status();
        if status.is_client_error() {
            return Err(OAuthError::Rejected(format!(
                "GET {url}: {} refused the new access token ({status})",
                self.flavor.id()
            )));
        }
        if !status.is_success() {
            return Err(OAuthError::Unavailable(format!("GET {url}: {status}")));
        }
        response
            .json::<T>()
            .await
            .map_err(|e| OAuthError::Unavailable(format!("GET {url}: unreadable answer: {e}")))
    }
}

/// An RFC 6749 error body, as GitHub sends it with status 200.
#[derive(Deserialize)]
struct IdpError {
    error: String,
    error_description: Option<String>,
}

impl IdpError {
    fn describe(&self) -> String {
        match &self.error_description {
            Some(d) => format!("{} ({d})", self.error),
            None => self.error.clone(),
        }
    }
}

fn describe(err: &BasicErrorResponse) -> String {
    let code = serde_json::to_value(err.error())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{:?}", err.error()));
    match err.error_description() {
        Some(d) => format!("{code} ({d})"),
        None => code,
    }
}

/// A token request that did not get an answer the protocol defines.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

/// The HTTP client `oauth2` sends the token request with. A named type
/// rather than a closure keeps `exchange`'s future `Send`.
struct TokenHttp<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for TokenHttp<'_> {
    type Error = TransportError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send_token_request(self.0, request))
    }
}

/// Sends a token request. Answers that are not the IdP's verdict (5xx,
/// 429, redirects) become transport errors, so they surface as
/// `Unavailable` instead of a refusal.
async fn send_token_request(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TransportError> {
    let request: reqwest::Request = request
        .try_into()
        .map_err(|e: reqwest::Error| TransportError(e.to_string()))?;
    let response = http
        .execute(request)
        .await
        .map_err(|e| TransportError(e.to_string()))?;
    let status = response.status();
    if status.is_server_error()
        || status.is_redirection()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
    {
        return Err(TransportError(format!("answered {status}")));
    }
    let mut builder = oauth2::http::Response::builder().status(status.as_u16());
    for (name, value) in response.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| TransportError(e.to_string()))?;
    builder
        .body(body.to_vec())
        .map_err(|e| TransportError(e.to_string()))
}

fn required_string(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    optional_string(obj, key)?.ok_or_else(|| "required".to_string())
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err("must not be empty".into()),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(format!("expected a string, got {other}")),
    }
}

/// An http(s) URL without a trailing slash.
fn base_url(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("invalid URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("expected an http(s) URL, got {raw:?}"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// `additionalScopes`: a list, or one string of scopes separated by spaces or commas.
fn additional_scopes(value: Option<&Value>) -> Result<Vec<String>, String> {
    let split = |s: &str| -> Vec<String> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(split(s)),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(split)
                    .ok_or_else(|| format!("expected strings, got {item}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.concat()),
        Some(other) => Err(format!(
            "expected a string or a list of strings, got {other}"
        )),
    }
}

/// A Backstage duration, as `readDurationFromConfig` reads it: an object
/// (`{ hours: 1, minutes: 30 }`), an ISO 8601 duration (`PT1H30M`), or a
/// short form (`90m`, `1.5 hours`, `24h`). Months and years count 30 and
/// 365 days, as Backstage (luxon) converts them.
pub fn parse_duration(value: &Value) -> Result<Duration, String> {
    const UNITS: [(&str, f64); 8] = [
        ("years", 365.0 * 86_400.0),
        ("months", 30.0 * 86_400.0),
        ("weeks", 7.0 * 86_400.0),
        ("days", 86_400.0),
        ("hours", 3_600.0),
        ("minutes", 60.0),
        ("seconds", 1.0),
        ("milliseconds", 0.001),
    ];
    let seconds = match value {
        Value::Object(parts) if !parts.is_empty() => {
            let mut total = 0.0;
            for (unit, amount) in parts {
                let per = UNITS
                    .iter()
                    .find(|(name, _)| name == unit)
                    .map(|(_, per)| *per)
                    .ok_or_else(|| {
                        format!(
                            "unknown duration unit '{unit}' (expected {})",
                            UNITS.map(|(n, _)| n).join(", ")
                        )
                    })?;
                let n = amount.as_f64().filter(|n| *n >= 0.0).ok_or_else(|| {
                    format!("{unit}: expected a non-negative number, got {amount}")
                })?;
                total += n * per;
            }
            total
        }
        Value::String(s) => parse_duration_text(s.trim())?,
        other => {
            return Err(format!(
                "expected a duration like {{ hours: 1 }}, 'PT1H' or '1h', got {other}"
            ))
        }
    };
    if seconds <= 0.0 || !seconds.is_finite() {
        return Err("the duration must be positive".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_duration_text(text: &str) -> Result<f64, String> {
    let iso = Regex::new(
        r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
    )
    .expect("valid regex");
    if let Some(c) = iso.captures(text) {
        const PER: [f64; 7] = [
            365.0 * 86_400.0,
            30.0 * 86_400.0,
            7.0 * 86_400.0,
            86_400.0,
            3_600.0,
            60.0,
            1.0,
        ];
        if text == "P" || text.ends_with('T') {
            return Err(format!("invalid ISO 8601 duration {text:?}"));
        }
        return Ok(PER
            .iter()
            .enumerate()
            .filter_map(|(i, per)| {
                c.get(i + 1)
                    .map(|m| m.as_str().parse::<f64>().unwrap_or(0.0) * per)
            })
            .sum());
    }
    let short = Regex::new(r"(?i)^(\d+(?:\.\d+)?)\s*([a-z]+)$").expect("valid regex");
    let c = short.captures(text).ok_or_else(|| {
        format!("invalid duration {text:?} (use e.g. '1h', 'PT1H' or {{ hours: 1 }})")
    })?;
    let n: f64 = c[1]
        .parse()
        .map_err(|_| format!("invalid duration {text:?}"))?;
    let per = match c[2].to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 0.001,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 7.0 * 86_400.0,
        "y" | "yr" | "yrs" | "year" | "years" => 365.25 * 86_400.0,
        unit => return Err(format!("unknown duration unit '{unit}' in {text:?}")),
    };
    Ok(n * per)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CALLBACK: &str = "http://localhost:7007/api/auth/github/handler/frame";

    fn github(v: Value) -> Result<OAuthProvider, String> {
        OAuthProvider::from_value(OAuthFlavor::Github, &v, CALLBACK)
    }

    fn query(url: &Url, key: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn github_defaults_to_github_com() {
        let p = github(json!({"clientId": "id", "clientSecret": "s3cret"})).unwrap();
        assert_eq!(p.flavor(), OAuthFlavor::Github);
        assert_eq!(p.callback_url(), CALLBACK);
        assert_eq!(p.scopes(), ["read:user"]);
        assert_eq!(p.api_base_url, "https://api.github.com");
        let (url, verifier) = p.authorize_url("st", &[]);
        assert_eq!(url.origin().ascii_serialization(), "https://github.com");
        assert_eq!(url.path(), "/login/oauth/authorize");
        assert_eq!(query(&url, "client_id").as_deref(), Some("id"));
        assert_eq!(query(&url, "redirect_uri").as_deref(), Some(CALLBACK));
        assert_eq!(query(&url, "state").as_deref(), Some("st"));
        assert_eq!(query(&url, "scope").as_deref(), Some("read:user"));
        assert_eq!(
            query(&url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        // RFC 7636: the verifier is 43 to 128 characters and never sent here.
        assert!((43..=128).contains(&verifier.len()));
        assert!(!url.as_str().contains(&verifier));
        assert_eq!(
            p.client.token_uri().as_str(),
            "https://github.com/login/oauth/access_token"
        );
    }

    #[test]
    fn github_enterprise_and_scopes() {
        let p = github(json!({
            "clientId": "id", "clientSecret": "s",
            "enterpriseInstanceUrl": "https://ghe.example.com/",
            "callbackUrl": "https://portal.example.com/cb",
            "additionalScopes": "user:email, read:org",
            "sessionDuration": {"hours": 8},
            "signIn": {"resolvers": [{"resolver": "usernameMatchingUserEntityName"}]}
        }))
        .unwrap();
        assert_eq!(p.callback_url(), "https://portal.example.com/cb");
        assert_eq!(p.api_base_url, "https://ghe.example.com/api/v3");
        assert_eq!(p.scopes(), ["read:user", "user:email", "read:org"]);
        assert_eq!(p.session_duration(), Some(Duration::from_secs(8 * 3600)));
        assert_eq!(
            p.sign_in().unwrap()["resolvers"][0]["resolver"],
            "usernameMatchingUserEntityName"
        );
        let (url, _) = p.authorize_url("st", &["repo".into(), "user:email".into()]);
        assert_eq!(
            url.as_str().split('?').next(),
            Some("https://ghe.example.com/login/oauth/authorize")
        );
        assert_eq!(
            query(&url, "scope").as_deref(),
            Some("read:user user:email read:org repo")
        );
        assert_eq!(
            p.client.token_uri().as_str(),
            "https://ghe.example.com/login/oauth/access_token"
        );
    }

    #[test]
    fn gitlab_audience() {
        let cb = "http://localhost:7007/api/auth/gitlab/handler/frame";
        let p = OAuthProvider::from_value(
            OAuthFlavor::Gitlab,
            &json!({"clientId": "id", "clientSecret": "s", "additionalScopes": ["api"]}),
            cb,
        )
        .unwrap();
        assert_eq!(p.api_base_url, "https://gitlab.com/api/v4");
        assert_eq!(p.scopes(), ["read_user", "api"]);
        assert_eq!(
            p.client.auth_uri().as_str(),
            "https://gitlab.com/oauth/authorize"
        );
        let p = OAuthProvider::from_value(
            OAuthFlavor::Gitlab,
            &json!({"clientId": "id", "clientSecret": "s", "audience": "https://git.example.com"}),
            cb,
        )
        .unwrap();
        assert_eq!(
            p.client.token_uri().as_str(),
            "https://git.example.com/oauth/token"
        );
        assert_eq!(p.api_base_url, "https://git.example.com/api/v4");
    }

    #[test]
    fn refuses_unknown_and_foreign_keys() {
        let err = github(
            json!({"clientId": "id", "clientSecret": "s", "clientSecrt": "x", "audience": "y"}),
        )
        .unwrap_err();
        assert!(err.contains("clientSecrt"), "{err}");
        assert!(err.contains("audience"), "{err}");
        let err = OAuthProvider::from_value(
            OAuthFlavor::Gitlab,
            &json!({"clientId": "id", "clientSecret": "s", "enterpriseInstanceUrl": "https://x"}),
            CALLBACK,
        )
        .unwrap_err();
        assert!(
            err.contains("auth.providers.gitlab") && err.contains("enterpriseInstanceUrl"),
            "{err}"
        );
    }

    #[test]
    fn refuses_bad_values() {
        let err = github(json!({"clientId": "id"})).unwrap_err();
        assert!(err.contains("clientSecret: required"), "{err}");
        let err = github(json!({"clientId": "id", "clientSecret": ""})).unwrap_err();
        assert!(err.contains("clientSecret: must not be empty"), "{err}");
        let err = github(
            json!({"clientId": "id", "clientSecret": "s", "enterpriseInstanceUrl": "ghe.local"}),
        )
        .unwrap_err();
        assert!(err.contains("enterpriseInstanceUrl"), "{err}");
        let err = github(json!({"clientId": "id", "clientSecret": "s", "additionalScopes": 3}))
            .unwrap_err();
        assert!(err.contains("additionalScopes"), "{err}");
        let err = github(json!({"clientId": "id", "clientSecret": "s", "sessionDuration": "soon"}))
            .unwrap_err();
        assert!(err.contains("sessionDuration"), "{err}");
        assert!(github(json!("id")).is_err());
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let p = github(json!({"clientId": "id", "clientSecret": "hunter2-secret"})).unwrap();
        let debug = format!("{p:?}");
        assert!(debug.contains("\"id\""), "{debug}");
        assert!(!debug.contains("hunter2-secret"), "{debug}");
    }

    #[test]
    fn every_authorize_url_has_its_own_verifier() {
        let p = github(json!({"clientId": "id", "clientSecret": "s"})).unwrap();
        let (a, va) = p.authorize_url("one", &[]);
        let (b, vb) = p.authorize_url("two", &[]);
        assert_ne!(va, vb);
        assert_ne!(query(&a, "code_challenge"), query(&b, "code_challenge"));
    }

    #[test]
    fn durations() {
        let d = |v: Value| parse_duration(&v);
        assert_eq!(
            d(json!({"hours": 1, "minutes": 30})),
            Ok(Duration::from_secs(5400))
        );
        assert_eq!(d(json!("PT1H30M")), Ok(Duration::from_secs(5400)));
        assert_eq!(d(json!("P1D")), Ok(Duration::from_secs(86_400)));
        assert_eq!(d(json!("24h")), Ok(Duration::from_secs(86_400)));
        assert_eq!(d(json!("90 minutes")), Ok(Duration::from_secs(5400)));
        assert_eq!(d(json!("1.5 hours")), Ok(Duration::from_secs(5400)));
        assert!(d(json!({"fortnights": 1}))
            .unwrap_err()
            .contains("fortnights"));
        assert!(d(json!({})).is_err());
        assert!(d(json!("P")).is_err());
        assert!(d(json!("PT")).is_err());
        assert!(d(json!("0s")).is_err());
        assert!(d(json!(3600)).is_err());
    }

    #[test]
    fn exchange_future_is_send() {
        // Route handlers run on a multi-threaded runtime.
        fn assert_send<T: Send>(_: &T) {}
        let p = github(json!({"clientId": "id", "clientSecret": "s"})).unwrap();
        let future = p.exchange("code", "verifier");
        assert_send(&future);
    }
}
