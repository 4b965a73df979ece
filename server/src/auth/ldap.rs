//! LDAP sign-in (`auth.providers.ldap.<env>`): checks a username and password
//! against a directory with the usual "search, then bind" pattern. A service
//! account finds the one entry whose username attribute equals the username,
//! then a fresh connection binds as that entry's DN with the password; the
//! directory, not Greenroom, checks the password.

use std::fmt;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};
use serde::Deserialize;
use serde_json::Value;

use super::profile::ProviderIdentity;

/// Limit for connecting and for each LDAP operation: a hung directory must
/// not hold a sign-in request open indefinitely.
const TIMEOUT: Duration = Duration::from_secs(10);

/// LDAP result code `invalidCredentials` (RFC 4511).
const RC_INVALID_CREDENTIALS: u32 = 49;

/// A password from the configuration; `Debug` never shows it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The service account that searches for users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindConfig {
    dn: String,
    secret: Secret,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UsersConfig {
    base_dn: String,
    /// Extra conditions on user entries, ANDed with the username match.
    #[serde(default)]
    filter: Option<String>,
    #[serde(default = "default_username_attribute")]
    username_attribute: String,
    #[serde(default = "default_email_attribute")]
    email_attribute: String,
    #[serde(default = "default_display_name_attribute")]
    display_name_attribute: String,
}

fn default_username_attribute() -> String {
    "uid".into()
}
fn default_email_attribute() -> String {
    "mail".into()
}
fn default_display_name_attribute() -> String {
    "cn".into()
}

/// `auth.providers.ldap.<env>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LdapLoginConfig {
    url: String,
    /// Absent: the search runs as an anonymous bind.
    #[serde(default)]
    bind: Option<BindConfig>,
    users: UsersConfig,
    /// Parsed by the sign-in resolver module, not here.
    #[serde(default)]
    sign_in: Option<Value>,
}

impl LdapLoginConfig {
    /// Parses and checks the provider's configuration; errors name the
    /// offending key.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let config: Self = serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                format!("auth.providers.ldap: {inner}")
            } else {
                format!("auth.providers.ldap.{path}: {inner}")
            }
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        // This build of the LDAP client has no TLS support, so `ldaps://`
        // would fail on every sign-in; say so at startup instead.
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldapi://")) {
            return Err(format!(
                "auth.providers.ldap.url: expected an ldap:// or ldapi:// URL, got '{}'",
                self.url
            ));
        }
        if self.users.base_dn.trim().is_empty() {
            return Err("auth.providers.ldap.users.baseDn: must not be empty".into());
        }
        // A probe username shows whether the composed filter is well formed
        // (a bad configured filter or attribute name would otherwise fail
        // every sign-in with an opaque error).
        ldap3::parse_filter(self.user_filter("probe")).map_err(|_| {
            format!(
                "auth.providers.ldap.users: '{}' is not a valid LDAP filter (check filter and usernameAttribute)",
                self.user_filter("probe")
            )
        })?;
        Ok(())
    }

    /// The `signIn` section, unparsed.
    pub fn sign_in(&self) -> Option<&Value> {
        self.sign_in.as_ref()
    }

    /// The search filter for `username`, whose value is escaped so that
    /// `*`, `(` or `)` in it match literally instead of changing the filter.
    fn user_filter(&self, username: &str) -> String {
        let users = &self.users;
        let by_name = format!(
            "({}={})",
            users.username_attribute,
            ldap3::ldap_escape(username)
        );
        match users.filter.as_deref().map(str::trim) {
            None | Some("") => by_name,
            Some(extra) if extra.starts_with('(') => format!("(&{extra}{by_name})"),
            Some(extra) => format!("(&({extra}){by_name})"),
        }
    }
}

/// Why a sign-in failed. The messages never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum LdapLoginError {
    /// Unknown or ambiguous user, or a wrong (or empty) password.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The directory could not be reached or refused the service account.
    #[error("the LDAP directory is unavailable: {0}")]
    Unavailable(String),
}

/// Signs users in against one directory.
#[derive(Debug, Clone)]
pub struct LdapLogin {
    config: LdapLoginConfig,
}

/// The user's entry found by the search.
struct UserEntry {
    dn: String,
    entry: SearchEntry,
}

impl LdapLogin {
    pub fn new(config: LdapLoginConfig) -> Self {
        Self { config }
    }

    /// Checks `password` for `username` and returns who signed in.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<ProviderIdentity, LdapLoginError> {
        // A simple bind with a DN and an empty password is an
        // "unauthenticated bind" (RFC 4513 5.1.2): servers that allow it
        // report success without checking anything. Refuse before asking.
        if username.is_empty() || password.is_empty() {
            return Err(LdapLoginError::InvalidCredentials);
        }
        let user = self.find_user(username).await?;
        self.bind_as(&user.dn, password).await?;
        let users = &self.config.users;
        Ok(ProviderIdentity {
            provider: "ldap".into(),
            username: first_value(&user.entry, &users.username_attribute)
                .unwrap_or(username)
                .to_string(),
            email: first_value(&user.entry, &users.email_attribute).map(String::from),
            display_name: first_value(&user.entry, &users.display_name_attribute).map(String::from),
            ldap_dn: Some(user.dn),
            ..ProviderIdentity::default()
        })
    }

    /// Finds the single entry for `username` as the service account.
    async fn find_user(&self, username: &str) -> Result<UserEntry, LdapLoginError> {
        let config = &self.config;
        let mut ldap = connect(&config.url).await?;
        if let Some(bind) = &config.bind {
            let result = ldap
                .with_timeout(TIMEOUT)
                .simple_bind(&bind.dn, &bind.secret.0)
                .await
                .map_err(|e| unavailable("binding as the service account", e))?;
            if result.rc != 0 {
                return Err(LdapLoginError::Unavailable(format!(
                    "the service account {} was refused: result code {} {}",
                    bind.dn, result.rc, result.text
                )));
            }
        }
        let users = &config.users;
        let attributes = [
            users.username_attribute.as_str(),
            users.email_attribute.as_str(),
            users.display_name_attribute.as_str(),
        ];
        let (entries, _) = ldap
            .with_timeout(TIMEOUT)
            .search(
                &users.base_dn,
                Scope::Subtree,
                &config.user_filter(username),
                attributes,
            )
            .await
            .and_then(|result| result.success())
            .map_err(|e| unavailable("searching for the user", e))?;
        let _ = ldap.unbind().await;
        let mut found: Vec<_> = entries
            .into_iter()
            .filter(|e| !e.is_ref() && !e.is_intermediate())
            .map(SearchEntry::construct)
            .collect();
        // Zero entries is an unknown user; several means the username does
        // not identify anyone, and picking one would sign in the wrong person.
        if found.len() != 1 {
            tracing::debug!(
                matches = found.len(),
                "LDAP sign-in: the username matched no single entry"
            );
            return Err(LdapLoginError::InvalidCredentials);
        }
        let entry = found.remove(0);
        Ok(UserEntry {
            dn: entry.dn.clone(),
            entry,
        })
    }

    /// Binds as `dn` on a fresh connection, so the check never runs with the
    /// service account's rights still attached.
    async fn bind_as(&self, dn: &str, password: &str) -> Result<(), LdapLoginError> {
        let mut ldap = connect(&self.config.url).await?;
        let result = ldap
            .with_timeout(TIMEOUT)
            .simple_bind(dn, password)
            .await
            .map_err(|e| unavailable("binding as the user", e))?;
        let _ = ldap.unbind().await;
        match result.rc {
            0 => Ok(()),
            RC_INVALID_CREDENTIALS => Err(LdapLoginError::InvalidCredentials),
            rc => Err(LdapLoginError::Unavailable(format!(
                "binding as {dn} failed: result code {rc} {}",
                result.text
            ))),
        }
    }
}

/// Opens a connection and drives it on the runtime.
async fn connect(url: &str) -> Result<Ldap, LdapLoginError> {
    let settings = LdapConnSettings::new().set_conn_timeout(TIMEOUT);
    let (conn, ldap) = LdapConnAsync::with_settings(settings, url)
        .await
        .map_err(|e| unavailable(&format!("connecting to {url}"), e))?;
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "LDAP connection ended with an error");
        }
    });
    Ok(ldap)
}

fn unavailable(doing: &str, e: LdapError) -> LdapLoginError {
    LdapLoginError::Unavailable(format!("{doing}: {e}"))
}

/// The first value of `attribute`; attribute names are case-insensitive.
fn first_value<'a>(entry: &'a SearchEntry, attribute: &str) -> Option<&'a str> {
    entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
        .and_then(|(_, values)| values.first())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(extra: Value) -> Value {
        let mut value = json!({
            "url": "ldap://127.0.0.1:3890",
            "bind": {"dn": "cn=admin,dc=example,dc=org", "secret": "s3cret-value"},
            "users": {"baseDn": "ou=people,dc=example,dc=org"}
        });
        for (k, v) in extra.as_object().unwrap() {
            value[k] = v.clone();
        }
        value
    }

    #[test]
    fn defaults_and_sign_in_kept_raw() {
        let parsed = LdapLoginConfig::from_value(&config(json!({
            "signIn": {"resolvers": [{"resolver": "ldapUidMatchingUserEntityName"}]}
        })))
        .unwrap();
        assert_eq!(parsed.users.username_attribute, "uid");
        assert_eq!(parsed.users.email_attribute, "mail");
        assert_eq!(parsed.users.display_name_attribute, "cn");
        assert_eq!(
            parsed.sign_in(),
            Some(&json!({"resolvers": [{"resolver": "ldapUidMatchingUserEntityName"}]}))
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = LdapLoginConfig::from_value(&config(json!({"urll": "x"}))).unwrap_err();
        assert!(err.contains("urll"), "{err}");
        let mut nested = config(json!({}));
        nested["users"]["baseDN"] = json!("ou=x");
        let err = LdapLoginConfig::from_value(&nested).unwrap_err();
        assert!(err.contains("users") && err.contains("baseDN"), "{err}");
    }

    #[test]
    fn refuses_missing_base_dn_ldaps_and_bad_filters() {
        let mut value = config(json!({}));
        value["users"] = json!({});
        assert!(LdapLoginConfig::from_value(&value)
            .unwrap_err()
            .contains("baseDn"));
        let err =
            LdapLoginConfig::from_value(&config(json!({"url": "ldaps://h:636"}))).unwrap_err();
        assert!(err.contains("url"), "{err}");
        let mut value = config(json!({}));
        value["users"]["filter"] = json!("(objectClass=person");
        assert!(LdapLoginConfig::from_value(&value)
            .unwrap_err()
            .contains("not a valid LDAP filter"));
    }

    #[test]
    fn secret_never_in_debug() {
        let parsed = LdapLoginConfig::from_value(&config(json!({}))).unwrap();
        let shown = format!("{:?}", LdapLogin::new(parsed));
        assert!(!shown.contains("s3cret-value"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn username_is_escaped_in_the_filter() {
        let mut value = config(json!({}));
        value["users"]["filter"] = json!("objectClass=inetOrgPerson");
        let parsed = LdapLoginConfig::from_value(&value).unwrap();
        assert_eq!(
            parsed.user_filter("alice)(uid=*"),
            r"(&(objectClass=inetOrgPerson)(uid=alice\29\28uid=\2a))"
        );
        let plain = LdapLoginConfig::from_value(&config(json!({}))).unwrap();
        assert_eq!(plain.user_filter("*"), r"(uid=\2a)");
    }

    #[tokio::test]
    async fn empty_credentials_fail_without_contacting_the_directory() {
        // Port 1 refuses connections: contacting it would be `Unavailable`.
        let parsed =
            LdapLoginConfig::from_value(&config(json!({"url": "ldap://127.0.0.1:1"}))).unwrap();
        let login = LdapLogin::new(parsed);
        for (user, password) in [("alice", ""), ("", "pw"), ("", "")] {
            assert!(matches!(
                login.authenticate(user, password).await,
                Err(LdapLoginError::InvalidCredentials)
            ));
        }
        assert!(matches!(
            login.authenticate("alice", "pw").await,
            Err(LdapLoginError::Unavailable(_))
        ));
    }
}
