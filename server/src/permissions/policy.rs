//! The permission policy as data: roles bound to users and groups, and an
//! ordered list of rules. The first rule whose roles include the caller and
//! whose permission patterns match the permission decides; a rule with
//! conditions answers CONDITIONAL (allowed for the resources that satisfy
//! them, denied for the rest). No matching rule: the default (deny).
//!
//! ```yaml
//! roles:
//!   admin: [group:default/admins, user:default/dave]
//! rules:
//!   - name: admins-do-anything
//!     roles: [admin]
//!     permissions: ["*"]
//!   - name: owners-manage-their-entities
//!     permissions: [catalog.entity.delete, catalog.entity.refresh]
//!     conditions: { rule: IS_ENTITY_OWNER }
//!   - name: everyone-reads
//!     permissions: ["catalog.*.read", "scaffolder.*.read"]
//! default: deny
//! ```
//!
//! A rule without `roles` applies to every signed-in user; the role name
//! `anonymous` matches callers who are not signed in. `decision` defaults to
//! `allow`. In conditions, `resourceType` defaults to the permission's and
//! `$ownershipEntityRefs` / `$userEntityRef` stand for the caller's refs
//! (they are also the defaults of `IS_ENTITY_OWNER.claims` and
//! `IS_TASK_OWNER.createdBy`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use super::conditions::{self, Criteria, RuleCondition};
use super::{AllowAllPolicy, Decision, Evaluation, Permission, PermissionPolicy};
use crate::auth::Caller;
use crate::config::Config;

/// The role that matches callers who are not signed in.
pub const ANONYMOUS_ROLE: &str = "anonymous";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rules: Vec<RuleFile>,
    #[serde(default)]
    default: Option<DecisionWord>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum DecisionWord {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    permissions: Vec<String>,
    #[serde(default)]
    decision: Option<DecisionWord>,
    #[serde(default)]
    conditions: Option<Value>,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    roles: Vec<String>,
    patterns: Vec<String>,
    allow: bool,
    /// Raw conditions: completed per permission (resource type) and caller.
    conditions: Option<Value>,
}

/// A parsed, validated policy.
#[derive(Debug, Clone)]
pub struct YamlPolicy {
    /// Role name -> lower-cased member refs.
    roles: BTreeMap<String, Vec<String>>,
    rules: Vec<Rule>,
    default_allow: bool,
}

impl YamlPolicy {
    /// Parses and checks a policy document (YAML or JSON text).
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: PolicyFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        Self::from_file(file)
    }

    /// From an already-parsed document (an inline `permission.policy`).
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let file: PolicyFile = serde_path_to_error::deserialize(value.clone())
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        Self::from_file(file)
    }

    fn from_file(file: PolicyFile) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (i, r) in file.rules.into_iter().enumerate() {
            let name = r.name.unwrap_or_else(|| format!("rule {}", i + 1));
            let _ = r.description;
            if r.permissions.is_empty() {
                return Err(format!("{name}: permissions must not be empty"));
            }
            for role in &r.roles {
                if role != ANONYMOUS_ROLE && !file.roles.contains_key(role) {
                    return Err(format!("{name}: unknown role {role}"));
                }
            }
            let allow = r.decision.unwrap_or(DecisionWord::Allow) == DecisionWord::Allow;
            if let Some(c) = &r.conditions {
                let resource_type =
                    condition_resource_type(c).map_err(|e| format!("{name}: conditions: {e}"))?;
                complete(c, &resource_type, &Caller::guest())
                    .and_then(|c| conditions::validate(&c, &resource_type))
                    .map_err(|e| format!("{name}: conditions: {e}"))?;
            }
            rules.push(Rule {
                name,
                roles: r.roles,
                patterns: r.permissions,
                allow,
                conditions: r.conditions,
            });
        }
        Ok(Self {
            roles: file
                .roles
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|m| m.to_lowercase()).collect()))
                .collect(),
            rules,
            default_allow: file.default == Some(DecisionWord::Allow),
        })
    }

    fn in_role(&self, caller: &Caller, role: &str) -> bool {
        if role == ANONYMOUS_ROLE {
            return caller.is_anonymous();
        }
        !caller.is_anonymous()
            && self.roles.get(role).is_some_and(|members| {
                caller
                    .ownership_entity_refs
                    .iter()
                    .chain(std::iter::once(&caller.user_entity_ref))
                    .any(|r| members.contains(&r.to_lowercase()))
            })
    }

    fn applies_to(&self, rule: &Rule, caller: &Caller) -> bool {
        if rule.roles.is_empty() {
            !caller.is_anonymous()
        } else {
            rule.roles.iter().any(|r| self.in_role(caller, r))
        }
    }
}

/// The resource type a condition tree is about: its first rule's (an
/// explicit `resourceType`, else the type the rule belongs to).
fn condition_resource_type(raw: &Value) -> Result<String, String> {
    let obj = raw.as_object().ok_or("a condition must be a mapping")?;
    if let Some(first) = ["allOf", "anyOf"].iter().find_map(|k| {
        obj.get(*k)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    }) {
        return condition_resource_type(first);
    }
    if let Some(inner) = obj.get("not") {
        return condition_resource_type(inner);
    }
    if let Some(t) = obj.get("resourceType").and_then(Value::as_str) {
        return Ok(t.to_string());
    }
    let rule = obj
        .get("rule")
        .and_then(Value::as_str)
        .ok_or("a condition needs rule, allOf, anyOf or not")?;
    conditions::known_rules()
        .into_iter()
        .find(|(_, name, _)| *name == rule)
        .map(|(t, _, _)| t.to_string())
        .ok_or_else(|| format!("unknown rule {rule}"))
}

/// `*` matches any run of characters (dots included).
fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| pattern_matches(tail, &rest[i..]))
        }
    }
}

/// Fills in what a policy author may leave out: each rule's `resourceType`,
/// the caller placeholders, and the default claims of the ownership rules.
fn complete(raw: &Value, resource_type: &str, caller: &Caller) -> Result<Criteria, String> {
    let obj = raw.as_object().ok_or("a condition must be a mapping")?;
    if let Some(items) = obj.get("allOf").or_else(|| obj.get("anyOf")) {
        let items = items
            .as_array()
            .ok_or("allOf/anyOf take a list")?
            .iter()
            .map(|i| complete(i, resource_type, caller))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if obj.contains_key("allOf") {
            Criteria::AllOf { all_of: items }
        } else {
            Criteria::AnyOf { any_of: items }
        });
    }
    if let Some(inner) = obj.get("not") {
        return Ok(Criteria::Not {
            not: Box::new(complete(inner, resource_type, caller)?),
        });
    }
    let rule = obj
        .get("rule")
        .and_then(Value::as_str)
        .ok_or("a condition needs rule, allOf, anyOf or not")?;
    if let Some(extra) = obj
        .keys()
        .find(|k| !["rule", "params", "resourceType"].contains(&k.as_str()))
    {
        return Err(format!("unknown key {extra} in condition {rule}"));
    }
    let mut params = obj.get("params").cloned().unwrap_or_else(|| json!({}));
    substitute(&mut params, caller);
    match rule {
        "IS_ENTITY_OWNER" if params.get("claims").is_none() => {
            params["claims"] = json!(caller.ownership_entity_refs)
        }
        "IS_TASK_OWNER" if params.get("createdBy").is_none() => {
            params["createdBy"] = json!([caller.user_entity_ref])
        }
        _ => {}
    }
    Ok(Criteria::Rule(RuleCondition {
        rule: rule.to_string(),
        resource_type: obj
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or(resource_type)
            .to_string(),
        params,
    }))
}

fn substitute(v: &mut Value, caller: &Caller) {
    match v {
        Value::String(s) if s == "$ownershipEntityRefs" => *v = json!(caller.ownership_entity_refs),
        Value::String(s) if s == "$userEntityRef" => *v = json!(caller.user_entity_ref),
        Value::Array(items) => {
            let mut flat = Vec::new();
            for mut item in std::mem::take(items) {
                substitute(&mut item, caller);
                match item {
                    Value::Array(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            *items = flat;
        }
        Value::Object(map) => map.values_mut().for_each(|x| substitute(x, caller)),
        _ => {}
    }
}

impl PermissionPolicy for YamlPolicy {
    fn evaluate(&self, caller: &Caller, permission: &Permission) -> Evaluation {
        for rule in &self.rules {
            if !self.applies_to(rule, caller)
                || !rule
                    .patterns
                    .iter()
                    .any(|p| pattern_matches(p, permission.name))
            {
                continue;
            }
            let decision = match (&rule.conditions, permission.resource_type) {
                (None, _) if rule.allow => Decision::Allow,
                (None, _) => Decision::Deny,
                // Conditions only mean something for a resource permission.
                (Some(_), None) => continue,
                (Some(raw), Some(resource_type)) => match complete(raw, resource_type, caller) {
                    Ok(c) if conditions::validate(&c, resource_type).is_ok() => {
                        Decision::Conditional(if rule.allow {
                            c
                        } else {
                            Criteria::Not { not: Box::new(c) }
                        })
                    }
                    // Conditions written for another resource type: not this rule.
                    _ => continue,
                },
            };
            return Evaluation {
                decision,
                rule: Some(rule.name.clone()),
            };
        }
        Evaluation {
            decision: if self.default_allow {
                Decision::Allow
            } else {
                Decision::Deny
            },
            rule: None,
        }
    }
}

/// A policy file that is re-read when it changes: at most every couple of
/// seconds a request looks at its modification time. A file that no longer
/// parses keeps the last good policy in force (and says so in the log).
pub struct ReloadingPolicy {
    path: std::path::PathBuf,
    state: std::sync::RwLock<(Arc<YamlPolicy>, Option<std::time::SystemTime>)>,
    checked: std::sync::Mutex<Instant>,
}

const RECHECK_EVERY: Duration = Duration::from_secs(2);

fn modified(path: &std::path::Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl ReloadingPolicy {
    pub fn open(path: std::path::PathBuf) -> Result<Self, String> {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let policy = YamlPolicy::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let stamp = modified(&path);
        Ok(Self {
            path,
            state: std::sync::RwLock::new((Arc::new(policy), stamp)),
            checked: std::sync::Mutex::new(Instant::now()),
        })
    }

    fn current(&self) -> Arc<YamlPolicy> {
        let due = {
            let mut checked = self.checked.lock().unwrap();
            if checked.elapsed() >= RECHECK_EVERY {
                *checked = Instant::now();
                true
            } else {
                false
            }
        };
        if due {
            let stamp = modified(&self.path);
            if stamp != self.state.read().unwrap().1 {
                self.reload(stamp);
            }
        }
        self.state.read().unwrap().0.clone()
    }

    fn reload(&self, stamp: Option<std::time::SystemTime>) {
        let parsed = std::fs::read_to_string(&self.path)
            .map_err(|e| e.to_string())
            .and_then(|t| YamlPolicy::parse(&t));
        let mut state = self.state.write().unwrap();
        state.1 = stamp;
        match parsed {
            Ok(policy) => {
                state.0 = Arc::new(policy);
                tracing::info!(file = %self.path.display(), "permission policy reloaded");
            }
            Err(e) => tracing::error!(
                file = %self.path.display(),
                error = %e,
                "permission policy not reloaded: the previous policy stays in force"
            ),
        }
    }
}

impl PermissionPolicy for ReloadingPolicy {
    fn evaluate(&self, caller: &Caller, permission: &Permission) -> Evaluation {
        self.current().evaluate(caller, permission)
    }
}

/// A policy kept in a repository (`permission.policyLocation`: a GitHub or
/// GitLab file URL, `git+<remote>/-/blob/<branch>/<path>` on a plain Git
/// host, or an allow-listed URL), read through the catalog's URL readers and
/// re-read every `refreshIntervalSeconds`. A version that does not parse, or
/// a read that fails, keeps the last good policy in force.
pub struct LocationPolicy {
    location: String,
    current: std::sync::RwLock<Arc<YamlPolicy>>,
}

impl LocationPolicy {
    /// Reads the policy once (a failure stops the start: a portal must not
    /// come up without its rules), then refreshes it in the background for
    /// as long as the policy is in use.
    pub async fn open(
        location: String,
        reader: Arc<dyn crate::catalog::readers::UrlReader>,
        every: Duration,
    ) -> Result<Arc<Self>, String> {
        let text = reader
            .read_url(&location)
            .await
            .map_err(|e| format!("reading {location}: {e}"))?;
        let policy = YamlPolicy::parse(&text).map_err(|e| format!("{location}: {e}"))?;
        let this = Arc::new(Self {
            location,
            current: std::sync::RwLock::new(Arc::new(policy)),
        });
        let weak = Arc::downgrade(&this);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(policy) = weak.upgrade() else { return };
                policy.refresh(reader.as_ref()).await;
            }
        });
        Ok(this)
    }

    async fn refresh(&self, reader: &dyn crate::catalog::readers::UrlReader) {
        let parsed = reader
            .read_url(&self.location)
            .await
            .map_err(|e| e.to_string())
            .and_then(|t| YamlPolicy::parse(&t));
        match parsed {
            Ok(policy) => *self.current.write().unwrap() = Arc::new(policy),
            Err(e) => tracing::error!(
                location = %self.location,
                error = %e,
                "permission policy not refreshed: the previous policy stays in force"
            ),
        }
    }
}

impl PermissionPolicy for LocationPolicy {
    fn evaluate(&self, caller: &Caller, permission: &Permission) -> Evaluation {
        let policy = self.current.read().unwrap().clone();
        policy.evaluate(caller, permission)
    }
}

/// The policy of `permission` in the configuration: none enabled → Backstage's
/// allow-all; else the inline `policy`, the `policyFile` (re-read on change)
/// or the `policyLocation` in a repository (re-read periodically).
pub async fn from_config(
    config: &Config,
    reader: Arc<dyn crate::catalog::readers::UrlReader>,
) -> Result<Arc<dyn PermissionPolicy>, String> {
    let empty = json!({});
    let section = config.permission.as_ref().map(|s| &s.0).unwrap_or(&empty);
    let obj = section
        .as_object()
        .ok_or("permission: expected a mapping")?;
    const KNOWN: &[&str] = &[
        "enabled",
        "policy",
        "policyFile",
        "policyLocation",
        "refreshIntervalSeconds",
    ];
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "permission.{k}: unknown field (expected one of {})",
            KNOWN.join(", ")
        ));
    }
    if !obj.get("enabled").and_then(Value::as_bool).unwrap_or(false) {
        return Ok(Arc::new(AllowAllPolicy));
    }
    let every = match obj.get("refreshIntervalSeconds") {
        None => Duration::from_secs(60),
        Some(v) => Duration::from_secs(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or("permission.refreshIntervalSeconds: expected a positive whole number")?,
        ),
    };
    let given: Vec<&str> = ["policy", "policyFile", "policyLocation"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    match given.as_slice() {
        ["policy"] => Ok(Arc::new(
            YamlPolicy::from_value(&obj["policy"]).map_err(|e| format!("permission.policy: {e}"))?,
        )),
        ["policyFile"] => {
            let file = obj["policyFile"]
                .as_str()
                .ok_or("permission.policyFile: expected a path")?;
            Ok(Arc::new(
                ReloadingPolicy::open(file.into())
                    .map_err(|e| format!("permission.policyFile: {e}"))?,
            ))
        }
        ["policyLocation"] => {
            let location = obj["policyLocation"]
                .as_str()
                .ok_or("permission.policyLocation: expected a URL")?;
            Ok(LocationPolicy::open(location.to_string(), reader, every)
                .await
                .map_err(|e| format!("permission.policyLocation: {e}"))?)
        }
        [] => Err("permission.enabled is true but none of permission.policy, policyFile or policyLocation is set".into()),
        _ => Err(format!(
            "permission: set one of {}, not several",
            given.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::*;

    const POLICY: &str = r#"
roles:
  admin: [group:default/admins]
rules:
  - name: admins
    roles: [admin]
    permissions: ["*"]
  - name: no-one-deletes-locations
    permissions: [catalog.location.delete]
    decision: deny
  - name: owners-manage
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    conditions: { rule: IS_ENTITY_OWNER }
  - name: own-tasks
    permissions: [scaffolder.task.read, scaffolder.task.cancel]
    conditions: { rule: IS_TASK_OWNER }
  - name: read
    permissions: ["catalog.*.read", "scaffolder.template.parameter.read"]
  - name: public-read
    roles: [anonymous]
    permissions: [catalog.entity.read]
    conditions: { rule: HAS_LABEL, params: { label: public } }
"#;

    fn user(name: &str, groups: &[&str]) -> Caller {
        let mut refs = vec![format!("user:default/{name}")];
        refs.extend(groups.iter().map(|g| format!("group:default/{g}")));
        Caller::user(format!("user:default/{name}"), refs)
    }

    #[test]
    fn first_matching_rule_decides() {
        let p = YamlPolicy::parse(POLICY).unwrap();
        let admin = user("dave", &["admins"]);
        let alice = user("alice", &["team-a"]);
        let e = p.evaluate(&admin, &CATALOG_LOCATION_DELETE);
        assert_eq!(
            (e.decision, e.rule.as_deref()),
            (Decision::Allow, Some("admins"))
        );
        let e = p.evaluate(&alice, &CATALOG_LOCATION_DELETE);
        assert_eq!(
            (e.decision, e.rule.as_deref()),
            (Decision::Deny, Some("no-one-deletes-locations"))
        );
        assert_eq!(p.decide(&alice, &CATALOG_ENTITY_READ), Decision::Allow);
        // No rule for it: the default.
        let e = p.evaluate(&alice, &CATALOG_LOCATION_CREATE);
        assert_eq!((e.decision, e.rule), (Decision::Deny, None));
    }

    #[test]
    fn ownership_conditions_carry_the_callers_refs() {
        let p = YamlPolicy::parse(POLICY).unwrap();
        let alice = user("alice", &["team-a"]);
        match p.decide(&alice, &CATALOG_ENTITY_DELETE) {
            Decision::Conditional(c) => assert_eq!(
                serde_json::to_value(&c).unwrap(),
                json!({"rule": "IS_ENTITY_OWNER", "resourceType": "catalog-entity",
                       "params": {"claims": ["user:default/alice", "group:default/team-a"]}})
            ),
            other => panic!("{other:?}"),
        }
        match p.decide(&alice, &SCAFFOLDER_TASK_CANCEL) {
            Decision::Conditional(c) => {
                assert!(conditions::task_matches(&c, Some("user:default/alice")));
                assert!(!conditions::task_matches(&c, Some("user:default/bob")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anonymous_callers_only_match_the_anonymous_role() {
        let p = YamlPolicy::parse(POLICY).unwrap();
        let anon = Caller::anonymous();
        assert!(matches!(
            p.decide(&anon, &CATALOG_ENTITY_READ),
            Decision::Conditional(_)
        ));
        assert_eq!(p.decide(&anon, &CATALOG_LOCATION_READ), Decision::Deny);
        assert_eq!(p.decide(&anon, &CATALOG_ENTITY_DELETE), Decision::Deny);
    }

    #[test]
    fn bad_policies_are_refused_with_the_rule_named() {
        let unknown_role = "rules: [{name: r, roles: [boss], permissions: ['*']}]";
        assert!(YamlPolicy::parse(unknown_role)
            .unwrap_err()
            .contains("unknown role boss"));
        let bad_rule = "rules: [{name: r, permissions: ['*'], conditions: {rule: IS_COOL}}]";
        assert!(YamlPolicy::parse(bad_rule)
            .unwrap_err()
            .contains("r: conditions"));
        let typo = "rules: [{name: r, permission: ['*']}]";
        assert!(YamlPolicy::parse(typo).unwrap_err().contains("permission"));
        let missing = "rules: [{name: r, permissions: ['*'], conditions: {rule: HAS_LABEL}}]";
        assert!(YamlPolicy::parse(missing)
            .unwrap_err()
            .contains("params.label"));
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "catalog.entity.read"));
        assert!(pattern_matches("catalog.*.read", "catalog.entity.read"));
        assert!(pattern_matches("catalog.*", "catalog.location.create"));
        assert!(!pattern_matches("catalog.*.read", "catalog.entity.delete"));
        assert!(!pattern_matches("scaffolder.*", "catalog.entity.read"));
    }
}
