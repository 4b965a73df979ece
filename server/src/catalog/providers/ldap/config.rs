//! `catalog.providers.ldapOrg.<id>`: Backstage's LDAP org provider
//! configuration, with Backstage's defaults for the attribute maps.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// A password from the configuration; `Debug` never shows it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub(super) struct Secret(pub(super) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BindConfig {
    pub(super) dn: String,
    pub(super) secret: Secret,
}

/// LDAP search scope, as Backstage spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SearchScope {
    Base,
    /// Backstage's default: the entries directly below the base DN.
    #[default]
    One,
    Sub,
}

impl From<SearchScope> for ldap3::Scope {
    fn from(scope: SearchScope) -> Self {
        match scope {
            SearchScope::Base => ldap3::Scope::Base,
            SearchScope::One => ldap3::Scope::OneLevel,
            SearchScope::Sub => ldap3::Scope::Subtree,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchOptions {
    #[serde(default)]
    pub(super) filter: Option<String>,
    #[serde(default)]
    pub(super) scope: SearchScope,
}

/// Which attribute feeds which User field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct UserMap {
    pub(super) rdn: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) display_name: String,
    pub(super) email: Option<String>,
    pub(super) picture: Option<String>,
    pub(super) member_of: String,
}

impl Default for UserMap {
    fn default() -> Self {
        Self {
            rdn: "uid".into(),
            name: "uid".into(),
            description: None,
            display_name: "cn".into(),
            email: Some("mail".into()),
            picture: None,
            member_of: "memberOf".into(),
        }
    }
}

/// Which attribute feeds which Group field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct GroupMap {
    pub(super) rdn: String,
    pub(super) name: String,
    pub(super) description: String,
    #[serde(rename = "type")]
    pub(super) group_type: String,
    pub(super) display_name: String,
    pub(super) email: Option<String>,
    pub(super) picture: Option<String>,
    /// Groups this group is in (its parents).
    pub(super) member_of: String,
    /// Users and groups in this group.
    pub(super) members: String,
}

impl Default for GroupMap {
    fn default() -> Self {
        Self {
            rdn: "cn".into(),
            name: "cn".into(),
            description: "description".into(),
            group_type: "groupType".into(),
            display_name: "cn".into(),
            email: None,
            picture: None,
            member_of: "memberOf".into(),
            members: "member".into(),
        }
    }
}

/// One search (a `users` or `groups` entry).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchConfig<M> {
    /// The base DN.
    pub(super) dn: String,
    #[serde(default)]
    pub(super) options: SearchOptions,
    #[serde(default)]
    pub(super) map: M,
}

impl<M> SearchConfig<M> {
    /// The filter to send: Backstage's default matches everything, and
    /// whitespace around parentheses is dropped so multi-line YAML filters
    /// work.
    pub(super) fn filter(&self) -> String {
        match self.options.filter.as_deref().map(str::trim) {
            None | Some("") => "(objectClass=*)".into(),
            Some(filter) => {
                let compact = compact_filter(filter);
                if compact.starts_with('(') {
                    compact
                } else {
                    format!("({compact})")
                }
            }
        }
    }
}

fn compact_filter(filter: &str) -> String {
    let mut out = String::with_capacity(filter.len());
    let mut chars = filter.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            let mut run = String::from(c);
            while let Some(&next) = chars.peek().filter(|n| n.is_whitespace()) {
                run.push(next);
                chars.next();
            }
            let before_paren = matches!(chars.peek(), Some('(' | ')'));
            let after_paren = out.ends_with(['(', ')']) || out.is_empty();
            if !before_paren && !after_paren {
                out.push_str(&run);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    frequency: Value,
    #[serde(default)]
    timeout: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    target: String,
    #[serde(default)]
    bind: Option<BindConfig>,
    #[serde(default)]
    users: Option<Value>,
    #[serde(default)]
    groups: Option<Value>,
    #[serde(default)]
    schedule: Option<RawSchedule>,
}

/// How often to read when `schedule` is absent.
pub(super) const DEFAULT_FREQUENCY: Duration = Duration::from_secs(3600);
/// How long one read may take when `schedule.timeout` is absent.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// One configured provider.
#[derive(Debug, Clone)]
pub(super) struct ProviderConfig {
    pub(super) id: String,
    pub(super) target: String,
    /// Absent: the searches run as an anonymous bind.
    pub(super) bind: Option<BindConfig>,
    pub(super) users: Vec<SearchConfig<UserMap>>,
    pub(super) groups: Vec<SearchConfig<GroupMap>>,
    pub(super) frequency: Duration,
    pub(super) timeout: Duration,
}

impl ProviderConfig {
    /// Parses `catalog.providers.ldapOrg.<id>`.
    pub(super) fn parse(id: &str, value: &Value) -> Result<Self, String> {
        let prefix = format!("catalog.providers.ldapOrg.{id}");
        let raw: RawProvider = deserialize(&prefix, value)?;
        let target = raw.target.trim_end_matches('/').to_string();
        // This build of the LDAP client has no TLS support.
        if !(target.starts_with("ldap://") || target.starts_with("ldapi://")) {
            return Err(format!(
                "{prefix}.target: expected an ldap:// or ldapi:// URL, got '{target}'"
            ));
        }
        let users = one_or_many(&format!("{prefix}.users"), raw.users.as_ref())?;
        let groups = one_or_many(&format!("{prefix}.groups"), raw.groups.as_ref())?;
        if users.is_empty() && groups.is_empty() {
            return Err(format!(
                "{prefix}: configure users or groups (or both) to read"
            ));
        }
        for (i, search) in users.iter().enumerate() {
            check_search(&format!("{prefix}.users[{i}]"), search)?;
        }
        for (i, search) in groups.iter().enumerate() {
            check_search(&format!("{prefix}.groups[{i}]"), search)?;
        }
        let (frequency, timeout) = match &raw.schedule {
            None => (DEFAULT_FREQUENCY, DEFAULT_TIMEOUT),
            Some(schedule) => {
                let frequency =
                    parse_duration(&format!("{prefix}.schedule.frequency"), &schedule.frequency)?;
                let timeout = match &schedule.timeout {
                    None => DEFAULT_TIMEOUT,
                    Some(v) => parse_duration(&format!("{prefix}.schedule.timeout"), v)?,
                };
                (frequency, timeout)
            }
        };
        if frequency.is_zero() || timeout.is_zero() {
            return Err(format!(
                "{prefix}.schedule: frequency and timeout must be longer than zero"
            ));
        }
        Ok(Self {
            id: id.to_string(),
            target,
            bind: raw.bind,
            users,
            groups,
            frequency,
            timeout,
        })
    }
}

fn check_search<M>(path: &str, search: &SearchConfig<M>) -> Result<(), String> {
    if search.dn.trim().is_empty() {
        return Err(format!("{path}.dn: must not be empty"));
    }
    ldap3::parse_filter(search.filter()).map_err(|_| {
        format!(
            "{path}.options.filter: '{}' is not a valid LDAP filter",
            search.filter()
        )
    })?;
    Ok(())
}

/// Deserializes with the path of the offending key in the message.
fn deserialize<T: DeserializeOwned>(prefix: &str, value: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            format!("{prefix}: {inner}")
        } else {
            format!("{prefix}.{path}: {inner}")
        }
    })
}

/// `users`/`groups` may be one search object or a list of them.
fn one_or_many<M: DeserializeOwned + Default>(
    path: &str,
    value: Option<&Value>,
) -> Result<Vec<SearchConfig<M>>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| deserialize(&format!("{path}[{i}]"), item))
            .collect(),
        Some(item @ Value::Object(_)) => Ok(vec![deserialize(path, item)?]),
        Some(_) => Err(format!("{path}: expected an object or a list of objects")),
    }
}

/// A Backstage duration: an object of units (`{minutes: 60}`; the parts add
/// up) or an ISO 8601 duration string (`PT1H`).
fn parse_duration(path: &str, value: &Value) -> Result<Duration, String> {
    match value {
        Value::Object(parts) if parts.contains_key("cron") => Err(format!(
            "{path}: cron schedules are not supported; give a duration such as {{minutes: 60}}"
        )),
        Value::Object(parts) if !parts.is_empty() => {
            let mut secs = 0f64;
            for (unit, amount) in parts {
                let factor = match unit.as_str() {
                    "milliseconds" => 0.001,
                    "seconds" => 1.0,
                    "minutes" => 60.0,
                    "hours" => 3600.0,
                    "days" => 86_400.0,
                    "weeks" => 604_800.0,
                    other => {
                        return Err(format!(
                            "{path}: unknown duration unit '{other}', expected one of \
                             milliseconds, seconds, minutes, hours, days, weeks"
                        ))
                    }
                };
                let amount = amount
                    .as_f64()
                    .filter(|n| *n >= 0.0)
                    .ok_or_else(|| format!("{path}.{unit}: expected a non-negative number"))?;
                secs += amount * factor;
            }
            Ok(Duration::from_secs_f64(secs))
        }
        Value::String(text) => parse_iso_duration(text)
            .ok_or_else(|| format!("{path}: '{text}' is not an ISO 8601 duration such as PT1H")),
        _ => Err(format!(
            "{path}: expected a duration such as {{minutes: 60}} or 'PT1H'"
        )),
    }
}

/// `PnW`, `PnDTnHnMnS` and their subsets (no years or months: their length varies).
fn parse_iso_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((_, "")) => return None,
        Some((date, time)) => (date, time),
        None => (rest, ""),
    };
    let mut secs = 0f64;
    for (part, units) in [
        (date, &[('W', 604_800.0), ('D', 86_400.0)][..]),
        (time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)][..]),
    ] {
        let mut number = String::new();
        let mut allowed = units.iter();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            // Units must come in order, each at most once.
            let (_, factor) = allowed.by_ref().find(|(u, _)| *u == c)?;
            secs += number.parse::<f64>().ok()? * factor;
            number.clear();
        }
        if !number.is_empty() {
            return None;
        }
    }
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "target": "ldap://127.0.0.1:3890/",
            "bind": {"dn": "cn=admin,dc=example,dc=org", "secret": "s3cret-value"},
            "users": {"dn": "ou=people,dc=example,dc=org"},
            "groups": [{"dn": "ou=groups,dc=example,dc=org", "options": {"scope": "sub"}}]
        })
    }

    #[test]
    fn defaults_follow_backstage() {
        let config = ProviderConfig::parse("default", &minimal()).unwrap();
        assert_eq!(config.target, "ldap://127.0.0.1:3890");
        assert_eq!(config.users.len(), 1);
        assert_eq!(config.users[0].map, UserMap::default());
        assert_eq!(config.users[0].options.scope, SearchScope::One);
        assert_eq!(config.users[0].filter(), "(objectClass=*)");
        assert_eq!(config.groups[0].map, GroupMap::default());
        assert_eq!(config.groups[0].options.scope, SearchScope::Sub);
        assert_eq!(config.frequency, DEFAULT_FREQUENCY);
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn map_overrides_keep_other_defaults() {
        let mut value = minimal();
        value["users"]["map"] = json!({"name": "cn", "picture": "jpegPhotoUrl"});
        value["groups"][0]["map"] = json!({"type": "businessCategory"});
        let config = ProviderConfig::parse("default", &value).unwrap();
        assert_eq!(config.users[0].map.name, "cn");
        assert_eq!(config.users[0].map.rdn, "uid");
        assert_eq!(config.users[0].map.picture.as_deref(), Some("jpegPhotoUrl"));
        assert_eq!(config.groups[0].map.group_type, "businessCategory");
        assert_eq!(config.groups[0].map.members, "member");
    }

    #[test]
    fn errors_name_the_key() {
        let mut value = minimal();
        value["users"]["map"] = json!({"mail": "mail"});
        let err = ProviderConfig::parse("default", &value).unwrap_err();
        assert!(
            err.starts_with("catalog.providers.ldapOrg.default.users.map") && err.contains("mail"),
            "{err}"
        );
        let mut value = minimal();
        value["groups"][0]["options"]["paged"] = json!(true);
        let err = ProviderConfig::parse("default", &value).unwrap_err();
        assert!(
            err.contains("groups[0].options") && err.contains("paged"),
            "{err}"
        );
        let mut value = minimal();
        value["groups"][0]["options"]["scope"] = json!("subtree");
        let err = ProviderConfig::parse("default", &value).unwrap_err();
        assert!(err.contains("scope"), "{err}");
        let mut value = minimal();
        value["users"]["options"] = json!({"filter": "(uid=a"});
        let err = ProviderConfig::parse("default", &value).unwrap_err();
        assert!(err.contains("not a valid LDAP filter"), "{err}");
        let mut value = minimal();
        value["target"] = json!("ldaps://example.org");
        assert!(ProviderConfig::parse("x", &value)
            .unwrap_err()
            .contains("target"));
        let err = ProviderConfig::parse("x", &json!({"target": "ldap://h"})).unwrap_err();
        assert!(err.contains("users or groups"), "{err}");
        let err = ProviderConfig::parse("x", &json!({"users": []})).unwrap_err();
        assert!(err.contains("target"), "{err}");
    }

    #[test]
    fn secret_never_in_debug() {
        let config = ProviderConfig::parse("default", &minimal()).unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret-value") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn filters_are_compacted_and_wrapped() {
        let mut value = minimal();
        value["users"]["options"] =
            json!({"filter": "\n  (&\n    (objectClass=inetOrgPerson)\n    (cn=Alice A)\n  )\n"});
        value["groups"][0]["options"] = json!({"filter": "objectClass=groupOfNames"});
        let config = ProviderConfig::parse("default", &value).unwrap();
        assert_eq!(
            config.users[0].filter(),
            "(&(objectClass=inetOrgPerson)(cn=Alice A))"
        );
        assert_eq!(config.groups[0].filter(), "(objectClass=groupOfNames)");
    }

    #[test]
    fn schedules() {
        let mut value = minimal();
        value["schedule"] = json!({"frequency": {"minutes": 60}, "timeout": {"minutes": 5}});
        let config = ProviderConfig::parse("default", &value).unwrap();
        assert_eq!(config.frequency, Duration::from_secs(3600));
        assert_eq!(config.timeout, Duration::from_secs(300));
        value["schedule"] = json!({"frequency": "PT1H30M", "timeout": "PT90S"});
        let config = ProviderConfig::parse("default", &value).unwrap();
        assert_eq!(config.frequency, Duration::from_secs(5400));
        assert_eq!(config.timeout, Duration::from_secs(90));
        assert_eq!(
            parse_iso_duration("P1DT1S"),
            Some(Duration::from_secs(86_401))
        );
        assert_eq!(
            parse_iso_duration("P2W"),
            Some(Duration::from_secs(1_209_600))
        );
        for bad in ["P", "PT", "1H", "PT1M1H", "P1Y", "PT1HH"] {
            assert_eq!(parse_iso_duration(bad), None, "{bad}");
        }
        value["schedule"] = json!({"frequency": {"cron": "0 * * * *"}});
        assert!(ProviderConfig::parse("d", &value)
            .unwrap_err()
            .contains("cron"));
        value["schedule"] = json!({"frequency": {"minutes": 0}});
        assert!(ProviderConfig::parse("d", &value)
            .unwrap_err()
            .contains("longer than zero"));
    }
}
