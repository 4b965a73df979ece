//! The sign-in service: the configured providers, browser sessions, personal
//! API tokens, identity tokens and the login rate limiter, built from
//! Backstage's `auth` configuration section.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use greenroom_store::{ApiTokenRecord, AuthStore, CatalogStore, Principal, SessionRecord};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::identity::TokenIssuer;
use super::ldap::{LdapLogin, LdapLoginConfig};
use super::oauth::{OAuthFlavor, OAuthProvider};
use super::profile::ProviderIdentity;
use super::resolvers::{self, ResolverConfig, SignInError};
use super::{Caller, Via, GUEST_USER_REF};
use crate::config::Config;

/// Personal API tokens start with this, so a leaked one is recognisable
/// (secret scanners) and the middleware knows it is not a JWT.
pub const API_TOKEN_PREFIX: &str = "grt_";
/// The browser session cookie.
pub const SESSION_COOKIE: &str = "greenroom-session";
const DEFAULT_SESSION: Duration = Duration::from_secs(7 * 24 * 3600);
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// One sign-in method as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    pub id: String,
    pub title: String,
    /// `oauth`, `password` or `guest`.
    pub kind: &'static str,
}

pub struct GuestConfig {
    pub user_entity_ref: String,
    pub ownership_refs: Vec<String>,
}

pub struct LdapProvider {
    pub login: LdapLogin,
    pub resolvers: Vec<ResolverConfig>,
}

pub struct OAuthEntry {
    pub provider: OAuthProvider,
    pub resolvers: Vec<ResolverConfig>,
}

pub struct AuthService {
    pub store: Arc<dyn AuthStore>,
    pub catalog: Arc<dyn CatalogStore>,
    pub tokens: TokenIssuer,
    pub environment: String,
    pub session_duration: Duration,
    pub guest: Option<GuestConfig>,
    pub ldap: Option<LdapProvider>,
    pub oauth: BTreeMap<&'static str, OAuthEntry>,
    /// Cookies get `Secure` when the portal is served over HTTPS.
    pub secure_cookies: bool,
    /// Origins a state-changing browser request may come from, and OAuth
    /// redirects may return to.
    pub app_origins: Vec<String>,
    pub limiter: LoginLimiter,
}

fn duration_of(v: &Value, path: &str) -> Result<Duration, String> {
    super::oauth::parse_duration(v).map_err(|e| format!("{path}: {e}"))
}

impl AuthService {
    pub fn from_config(
        config: &Config,
        store: Arc<dyn AuthStore>,
        catalog: Arc<dyn CatalogStore>,
    ) -> Result<Self, String> {
        let empty = json!({});
        let section = config.auth.as_ref().map(|s| &s.0).unwrap_or(&empty);
        let obj = section.as_object().ok_or("auth: expected a mapping")?;
        const KNOWN: &[&str] = &[
            "environment",
            "backstageTokenExpiration",
            "session",
            "providers",
            // Backstage keys accepted and not needed here.
            "keyStore",
            "autologout",
            "experimentalExtraAllowedOrigins",
        ];
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!(
                "auth.{k}: unknown field (expected one of {})",
                KNOWN.join(", ")
            ));
        }
        let environment = obj
            .get("environment")
            .and_then(Value::as_str)
            .unwrap_or("development")
            .to_string();
        // Backstage clamps the token lifetime to 10 minutes .. 24 hours.
        let lifetime = match obj.get("backstageTokenExpiration") {
            Some(v) => duration_of(v, "auth.backstageTokenExpiration")?
                .clamp(Duration::from_secs(600), Duration::from_secs(86_400)),
            None => DEFAULT_TOKEN_LIFETIME,
        };
        let session_duration = match obj.get("session").and_then(|s| s.get("duration")) {
            Some(v) => duration_of(v, "auth.session.duration")?,
            None => DEFAULT_SESSION,
        };
        let base_url = config.base_url();
        let mut guest = None;
        let mut ldap = None;
        let mut oauth = BTreeMap::new();
        let providers = obj.get("providers").and_then(Value::as_object);
        for (id, value) in providers.into_iter().flatten() {
            let path = format!("auth.providers.{id}");
            match id.as_str() {
                "guest" => guest = Some(guest_config(value, &environment, &path)?),
                "ldap" => {
                    let env = env_section(value, &environment, &path)?;
                    let cfg = LdapLoginConfig::from_value(env)?;
                    let resolvers = resolvers::parse_sign_in(cfg.sign_in(), "ldap")
                        .map_err(|e| format!("{path}.{environment}.{e}"))?;
                    ldap = Some(LdapProvider {
                        login: LdapLogin::new(cfg),
                        resolvers,
                    });
                }
                "github" | "gitlab" => {
                    let flavor = if id == "github" {
                        OAuthFlavor::Github
                    } else {
                        OAuthFlavor::Gitlab
                    };
                    let env = env_section(value, &environment, &path)?;
                    let callback = format!("{base_url}/api/auth/{id}/handler/frame");
                    let provider = OAuthProvider::from_value(flavor, env, &callback)?;
                    let resolvers = resolvers::parse_sign_in(provider.sign_in(), id)
                        .map_err(|e| format!("{path}.{environment}.{e}"))?;
                    oauth.insert(flavor.id(), OAuthEntry { provider, resolvers });
                }
                other => {
                    return Err(format!(
                        "{path}: unknown auth provider '{other}' (supported: github, gitlab, ldap, guest)"
                    ))
                }
            }
        }
        let mut app_origins = Vec::new();
        for url in [config.app.base_url.clone(), Some(base_url.clone())]
            .into_iter()
            .flatten()
        {
            if let Ok(u) = url::Url::parse(&url) {
                let origin = u.origin().ascii_serialization();
                if !app_origins.contains(&origin) {
                    app_origins.push(origin);
                }
            }
        }
        Ok(Self {
            tokens: TokenIssuer::new(store.clone(), format!("{base_url}/api/auth"), lifetime),
            store,
            catalog,
            environment,
            session_duration,
            guest,
            ldap,
            oauth,
            secure_cookies: base_url.starts_with("https://"),
            app_origins,
            limiter: LoginLimiter::default(),
        })
    }

    /// Whether callers must sign in: true as soon as any provider is configured.
    pub fn sign_in_required(&self) -> bool {
        self.guest.is_some() || self.ldap.is_some() || !self.oauth.is_empty()
    }

    pub fn providers(&self) -> Vec<ProviderInfo> {
        let mut out = Vec::new();
        for id in self.oauth.keys() {
            out.push(ProviderInfo {
                id: id.to_string(),
                title: if *id == "github" { "GitHub" } else { "GitLab" }.into(),
                kind: "oauth",
            });
        }
        if self.ldap.is_some() {
            out.push(ProviderInfo {
                id: "ldap".into(),
                title: "LDAP".into(),
                kind: "password",
            });
        }
        if self.guest.is_some() {
            out.push(ProviderInfo {
                id: "guest".into(),
                title: "Guest".into(),
                kind: "guest",
            });
        }
        out
    }

    /// Maps a provider identity to a catalog user.
    pub async fn resolve(
        &self,
        identity: &ProviderIdentity,
        resolvers: &[ResolverConfig],
    ) -> Result<Principal, SignInError> {
        resolvers::resolve(self.catalog.as_ref(), identity, resolvers).await
    }

    /// The guest principal: the catalog's user when it exists (with its
    /// groups), else the configured refs.
    pub async fn guest_principal(&self) -> Option<Principal> {
        let guest = self.guest.as_ref()?;
        if let Ok(Some(user)) = self.catalog.entity_by_ref(&guest.user_entity_ref).await {
            if let Ok(refs) =
                resolvers::ownership_refs(self.catalog.as_ref(), &guest.user_entity_ref, &user)
                    .await
            {
                return Some(Principal {
                    user_entity_ref: guest.user_entity_ref.clone(),
                    ownership_refs: refs,
                });
            }
        }
        Some(Principal {
            user_entity_ref: guest.user_entity_ref.clone(),
            ownership_refs: guest.ownership_refs.clone(),
        })
    }

    /// Starts a browser session; returns the cookie value (only its hash is stored).
    pub async fn create_session(
        &self,
        principal: &Principal,
        provider: &str,
        profile: &Value,
    ) -> Result<String, String> {
        let secret = random_secret();
        let now = now_ms();
        self.store
            .create_session(&SessionRecord {
                id_hash: hash_secret(&secret),
                principal: principal.clone(),
                provider: provider.to_string(),
                profile: profile.to_string(),
                created_at_ms: now,
                expires_at_ms: now + self.session_duration.as_millis() as i64,
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok(secret)
    }

    pub async fn session(&self, cookie_value: &str) -> Option<SessionRecord> {
        self.store
            .session(&hash_secret(cookie_value), now_ms())
            .await
            .ok()
            .flatten()
    }

    pub async fn end_session(&self, cookie_value: &str) {
        let _ = self.store.delete_session(&hash_secret(cookie_value)).await;
    }

    /// A new personal API token for `principal`; the secret is returned once.
    pub async fn create_api_token(
        &self,
        principal: &Principal,
        name: &str,
        expires_in: Option<Duration>,
    ) -> Result<(ApiTokenRecord, String), String> {
        let secret = format!("{API_TOKEN_PREFIX}{}", random_secret());
        let now = now_ms();
        let record = ApiTokenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            principal: principal.clone(),
            name: name.to_string(),
            created_at_ms: now,
            expires_at_ms: expires_in.map(|d| now + d.as_millis() as i64),
            last_used_at_ms: None,
            revoked_at_ms: None,
        };
        self.store
            .create_api_token(&record, &hash_secret(&secret))
            .await
            .map_err(|e| e.to_string())?;
        Ok((record, secret))
    }

    /// The caller behind a bearer credential (identity token or API token).
    pub async fn bearer_caller(&self, token: &str) -> Result<Caller, String> {
        if token.starts_with(API_TOKEN_PREFIX) {
            let record = self
                .store
                .use_api_token(&hash_secret(token), now_ms())
                .await
                .map_err(|e| e.to_string())?
                .ok_or("invalid, expired or revoked API token")?;
            return Ok(Caller {
                user_entity_ref: record.principal.user_entity_ref,
                ownership_entity_refs: record.principal.ownership_refs,
                via: Via::ApiToken { id: record.id },
            });
        }
        let principal = self.tokens.verify(token).await.map_err(|e| e.to_string())?;
        Ok(Caller {
            user_entity_ref: principal.user_entity_ref,
            ownership_entity_refs: principal.ownership_refs,
            via: Via::IdentityToken,
        })
    }

    /// `Set-Cookie` for a session value (empty + Max-Age=0 clears it).
    pub fn session_cookie(&self, value: &str, max_age: Duration) -> String {
        cookie(SESSION_COOKIE, value, "/", max_age, self.secure_cookies)
    }
}

impl AuthService {
    /// Deletes expired sessions every hour until `shutdown`.
    pub async fn housekeeping(self: Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            match self.store.delete_expired_sessions(now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "deleting expired sessions failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            }
        }
    }
}

/// A cookie the page's scripts cannot read, sent on same-site navigations.
pub fn cookie(name: &str, value: &str, path: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

fn guest_config(v: &Value, environment: &str, path: &str) -> Result<GuestConfig, String> {
    let obj = v.as_object().ok_or(format!("{path}: expected a mapping"))?;
    const KNOWN: &[&str] = &[
        "userEntityRef",
        "ownershipEntityRefs",
        "dangerouslyAllowOutsideDevelopment",
    ];
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "{path}.{k}: unknown field (expected one of {})",
            KNOWN.join(", ")
        ));
    }
    let outside_ok = obj
        .get("dangerouslyAllowOutsideDevelopment")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if environment != "development" && !outside_ok {
        return Err(format!(
            "{path}: the guest provider only runs with auth.environment: development (set dangerouslyAllowOutsideDevelopment: true to override)"
        ));
    }
    let user = obj
        .get("userEntityRef")
        .and_then(Value::as_str)
        .unwrap_or(GUEST_USER_REF);
    let user = greenroom_model::EntityRef::parse(user, Some("user"), "default")
        .map_err(|e| format!("{path}.userEntityRef: {e}"))?
        .canonical();
    let ownership = match obj.get("ownershipEntityRefs") {
        Some(v) => serde_json::from_value::<Vec<String>>(v.clone())
            .map_err(|e| format!("{path}.ownershipEntityRefs: {e}"))?,
        None => vec![user.clone()],
    };
    Ok(GuestConfig {
        user_entity_ref: user,
        ownership_refs: ownership,
    })
}

/// `auth.providers.<p>.<env>`: the section of the configured environment.
fn env_section<'a>(v: &'a Value, environment: &str, path: &str) -> Result<&'a Value, String> {
    v.get(environment).ok_or_else(|| {
        format!("{path}: no configuration for the environment '{environment}' (auth.environment)")
    })
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sessions and API tokens are high-entropy secrets: a plain SHA-256 is
/// enough to make a database leak useless (no password-style stretching).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Failed sign-ins per account and attempts per client address, in sliding
/// windows; beyond the limits, sign-in answers 429 without asking the
/// directory (so a password cannot be guessed and an account cannot be
/// locked out upstream by brute force).
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
    pub max_failures_per_account: usize,
    pub max_attempts_per_client: usize,
    pub window: Duration,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            attempts: Mutex::new(HashMap::new()),
            max_failures_per_account: 5,
            max_attempts_per_client: 20,
            window: Duration::from_secs(300),
        }
    }
}

impl LoginLimiter {
    fn recent(map: &mut HashMap<String, Vec<Instant>>, key: &str, window: Duration) -> usize {
        let list = map.entry(key.to_string()).or_default();
        list.retain(|t| t.elapsed() < window);
        list.len()
    }

    /// Records an attempt; Err(seconds to wait) when over a limit.
    pub fn check(&self, client: &str, account: &str) -> Result<(), u64> {
        let wait = self.window.as_secs();
        let account = account.to_lowercase();
        let mut failures = self.failures.lock().unwrap();
        if Self::recent(&mut failures, &account, self.window) >= self.max_failures_per_account {
            return Err(wait);
        }
        let mut attempts = self.attempts.lock().unwrap();
        if Self::recent(&mut attempts, client, self.window) >= self.max_attempts_per_client {
            return Err(wait);
        }
        attempts
            .entry(client.to_string())
            .or_default()
            .push(Instant::now());
        // Keep the maps small: forget keys with nothing recent.
        if attempts.len() > 10_000 {
            attempts.retain(|_, v| v.iter().any(|t| t.elapsed() < self.window));
        }
        Ok(())
    }

    pub fn failed(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap();
        failures
            .entry(account.to_lowercase())
            .or_default()
            .push(Instant::now());
        if failures.len() > 10_000 {
            failures.retain(|_, v| v.iter().any(|t| t.elapsed() < self.window));
        }
    }

    pub fn succeeded(&self, account: &str) {
        self.failures
            .lock()
            .unwrap()
            .remove(&account.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_stops_guessing_per_account_and_per_client() {
        let limiter = LoginLimiter::default();
        for _ in 0..5 {
            assert!(limiter.check("1.2.3.4", "alice").is_ok());
            limiter.failed("alice");
        }
        assert!(
            limiter.check("1.2.3.4", "Alice").is_err(),
            "account locked for the window"
        );
        assert!(
            limiter.check("1.2.3.4", "bob").is_ok(),
            "other accounts are not"
        );
        let limiter = LoginLimiter::default();
        for i in 0..20 {
            assert!(limiter.check("5.6.7.8", &format!("user{i}")).is_ok());
        }
        assert!(
            limiter.check("5.6.7.8", "user99").is_err(),
            "client over its attempts"
        );
        assert!(limiter.check("9.9.9.9", "user99").is_ok());
    }

    #[test]
    fn cookies_are_http_only_and_lax_and_secure_over_https() {
        let c = cookie("greenroom-session", "v", "/", Duration::from_secs(60), true);
        assert_eq!(
            c,
            "greenroom-session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!cookie("a", "b", "/", Duration::ZERO, false).contains("Secure"));
    }

    #[test]
    fn guest_is_refused_outside_development() {
        assert!(
            guest_config(&json!({}), "production", "auth.providers.guest")
                .err()
                .unwrap()
                .contains("development")
        );
        assert!(guest_config(
            &json!({"dangerouslyAllowOutsideDevelopment": true}),
            "production",
            "p"
        )
        .is_ok());
        let g = guest_config(
            &json!({"userEntityRef": "user:default/demo"}),
            "development",
            "p",
        )
        .unwrap();
        assert_eq!(g.ownership_refs, ["user:default/demo"]);
        assert!(guest_config(&json!({"typo": 1}), "development", "p").is_err());
    }
}
