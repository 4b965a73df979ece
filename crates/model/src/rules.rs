//! `catalog.rules` (reference section 3.6): which kinds a location may bring
//! into the catalog. Independent of the server's config types so the CLI and
//! tests can use it too.

use crate::Entity;
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One `allow` entry: a kind, optionally narrowed to a `spec.type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindRule {
    pub kind: String,
    pub spec_type: Option<String>,
}

impl KindRule {
    pub fn kind(kind: &str) -> Self {
        Self {
            kind: kind.to_string(),
            spec_type: None,
        }
    }
}

/// One `locations` entry of a rule. `exact` and `pattern` (a glob) narrow the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationMatcher {
    pub location_type: String,
    pub exact: Option<String>,
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub allow: Vec<KindRule>,
    /// None: the rule applies to every location.
    pub locations: Option<Vec<LocationMatcher>>,
}

/// The default when `catalog.rules` is absent.
pub const DEFAULT_ALLOWED_KINDS: [&str; 3] = ["Component", "API", "Location"];

/// A location matcher with its glob compiled once.
#[derive(Debug, Clone)]
struct CompiledMatcher {
    location_type: String,
    exact: Option<String>,
    /// `Err` keeps an unparsable pattern as "matches nothing".
    pattern: Option<Result<GlobMatcher, ()>>,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    allow: Vec<KindRule>,
    locations: Option<Vec<CompiledMatcher>>,
}

/// All rules in force: the global ones (or the default) plus the rules
/// configured on individual `catalog.locations` entries.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
}

impl RuleSet {
    /// `global`: `catalog.rules` (None → allow Component, API, Location).
    /// `per_location`: `((type, target), rules)` of each configured location;
    /// those rules only apply to that exact location.
    pub fn new(
        global: Option<Vec<Rule>>,
        per_location: Vec<((String, String), Vec<Rule>)>,
    ) -> Self {
        let global = global.unwrap_or_else(|| {
            vec![Rule {
                allow: DEFAULT_ALLOWED_KINDS
                    .iter()
                    .map(|k| KindRule::kind(k))
                    .collect(),
                locations: None,
            }]
        });
        let mut rules: Vec<CompiledRule> = global.into_iter().map(compile_rule).collect();
        for ((location_type, target), location_rules) in per_location {
            for rule in location_rules {
                rules.push(CompiledRule {
                    allow: rule.allow,
                    locations: Some(vec![CompiledMatcher {
                        location_type: location_type.clone(),
                        exact: Some(target.clone()),
                        pattern: None,
                    }]),
                });
            }
        }
        Self { rules }
    }

    /// Whether some rule that applies to the location allows the entity's kind
    /// (and `spec.type`), compared case-insensitively.
    pub fn is_allowed(&self, entity: &Entity, location_type: &str, location_target: &str) -> bool {
        self.rules.iter().any(|rule| {
            let location_ok = match &rule.locations {
                None => true,
                Some(matchers) => matchers
                    .iter()
                    .any(|m| m.matches(location_type, location_target)),
            };
            location_ok && rule.allow.iter().any(|k| kind_matches(k, entity))
        })
    }
}

fn compile_rule(rule: Rule) -> CompiledRule {
    CompiledRule {
        allow: rule.allow,
        locations: rule.locations.map(|ms| {
            ms.into_iter()
                .map(|m| CompiledMatcher {
                    location_type: m.location_type,
                    exact: m.exact,
                    // minimatch with {nocase, dot}: `*` stays within a path segment,
                    // dot-files match like any other name.
                    pattern: m.pattern.map(|p| {
                        GlobBuilder::new(&p)
                            .case_insensitive(true)
                            .literal_separator(true)
                            .build()
                            .map(|g| g.compile_matcher())
                            .map_err(|_| ())
                    }),
                })
                .collect()
        }),
    }
}

impl CompiledMatcher {
    fn matches(&self, location_type: &str, target: &str) -> bool {
        if self.location_type != location_type {
            return false;
        }
        if self.exact.as_deref().is_some_and(|e| e != target) {
            return false;
        }
        match &self.pattern {
            Some(Ok(glob)) => glob.is_match(target),
            Some(Err(())) => false,
            None => true,
        }
    }
}

fn kind_matches(rule: &KindRule, entity: &Entity) -> bool {
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind.to_lowercase() != rule.kind.to_lowercase() {
        return false;
    }
    match &rule.spec_type {
        None => true,
        Some(wanted) => {
            let spec_type = entity
                .get("spec")
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str);
            spec_type.is_some_and(|t| t.to_lowercase() == wanted.to_lowercase())
        }
    }
}

/// The NotAllowedError message for an entity read from `location` (a location
/// ref string) under the registered `origin_location`.
pub fn not_allowed_message(
    entity_ref: &str,
    location: &str,
    origin_location: Option<&str>,
) -> String {
    match origin_location {
        Some(origin) => format!(
            "Entity {entity_ref} at {location}, originated at {origin}, is not of an allowed kind for that location"
        ),
        None => format!("Entity {entity_ref} at {location} is not of an allowed kind for that location"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(kind: &str, spec_type: Option<&str>) -> Entity {
        let mut e = json!({"kind": kind, "metadata": {"name": "x"}});
        if let Some(t) = spec_type {
            e["spec"] = json!({ "type": t });
        }
        e.as_object().unwrap().clone()
    }

    #[test]
    fn default_allows_component_api_location_only() {
        let rules = RuleSet::new(None, vec![]);
        for kind in ["Component", "api", "LOCATION"] {
            assert!(
                rules.is_allowed(&entity(kind, None), "url", "https://x/y.yaml"),
                "{kind}"
            );
        }
        for kind in ["User", "Group", "Template", "System"] {
            assert!(
                !rules.is_allowed(&entity(kind, None), "url", "https://x/y.yaml"),
                "{kind}"
            );
        }
    }

    #[test]
    fn spec_type_narrows_case_insensitively() {
        let rules = RuleSet::new(
            Some(vec![Rule {
                allow: vec![
                    KindRule {
                        kind: "API".into(),
                        spec_type: Some("OpenAPI".into()),
                    },
                    KindRule::kind("component"),
                ],
                locations: None,
            }]),
            vec![],
        );
        assert!(rules.is_allowed(&entity("API", Some("openapi")), "file", "/a"));
        assert!(!rules.is_allowed(&entity("API", Some("grpc")), "file", "/a"));
        assert!(!rules.is_allowed(&entity("API", None), "file", "/a"));
        assert!(rules.is_allowed(&entity("Component", Some("service")), "file", "/a"));
    }

    #[test]
    fn location_matchers_exact_and_pattern() {
        let rules = RuleSet::new(
            Some(vec![
                Rule {
                    allow: vec![KindRule::kind("User"), KindRule::kind("Group")],
                    locations: Some(vec![LocationMatcher {
                        location_type: "file".into(),
                        exact: Some("/org/users.yaml".into()),
                        pattern: None,
                    }]),
                },
                Rule {
                    allow: vec![KindRule::kind("Template")],
                    locations: Some(vec![LocationMatcher {
                        location_type: "url".into(),
                        exact: None,
                        pattern: Some("https://github.com/acme/*/blob/main/**/*.yaml".into()),
                    }]),
                },
            ]),
            vec![],
        );
        assert!(rules.is_allowed(&entity("User", None), "file", "/org/users.yaml"));
        assert!(!rules.is_allowed(&entity("User", None), "file", "/org/other.yaml"));
        assert!(!rules.is_allowed(&entity("User", None), "url", "/org/users.yaml"));
        let t = entity("Template", None);
        assert!(rules.is_allowed(
            &t,
            "url",
            "https://github.com/acme/repo/blob/main/templates/x/template.yaml"
        ));
        assert!(rules.is_allowed(
            &t,
            "url",
            "https://GitHub.com/Acme/repo/blob/main/.hidden/t.yaml"
        ));
        assert!(!rules.is_allowed(&t, "url", "https://github.com/acme/a/b/blob/main/t.yaml"));
        assert!(!rules.is_allowed(&t, "url", "https://github.com/other/repo/blob/main/t.yaml"));
        // the explicit rules replace the default
        assert!(!rules.is_allowed(&entity("Component", None), "url", "https://x"));
    }

    #[test]
    fn per_location_rules_apply_to_that_location_only() {
        let rules = RuleSet::new(
            None,
            vec![(
                ("file".into(), "/org/people.yaml".into()),
                vec![Rule {
                    allow: vec![KindRule::kind("User"), KindRule::kind("Group")],
                    locations: None,
                }],
            )],
        );
        assert!(rules.is_allowed(&entity("Group", None), "file", "/org/people.yaml"));
        assert!(!rules.is_allowed(&entity("Group", None), "file", "/org/other.yaml"));
        assert!(rules.is_allowed(&entity("Component", None), "file", "/org/other.yaml"));
    }

    #[test]
    fn invalid_pattern_matches_nothing() {
        let rules = RuleSet::new(
            Some(vec![Rule {
                allow: vec![KindRule::kind("User")],
                locations: Some(vec![LocationMatcher {
                    location_type: "url".into(),
                    exact: None,
                    pattern: Some("a[".into()),
                }]),
            }]),
            vec![],
        );
        assert!(!rules.is_allowed(&entity("User", None), "url", "a["));
    }

    #[test]
    fn not_allowed_messages() {
        assert_eq!(
            not_allowed_message("user:default/guest", "url:https://h/users.yaml", Some("url:https://h/all.yaml")),
            "Entity user:default/guest at url:https://h/users.yaml, originated at url:https://h/all.yaml, is not of an allowed kind for that location"
        );
        assert_eq!(
            not_allowed_message("user:default/guest", "file:/a.yaml", None),
            "Entity user:default/guest at file:/a.yaml is not of an allowed kind for that location"
        );
    }
}
