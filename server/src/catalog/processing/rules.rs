//! `catalog.rules`: which kinds a location may bring into the catalog
//! (Backstage's CatalogRulesEnforcer, reference 3.6).

use globset::{GlobBuilder, GlobMatcher};
use greenroom_model::Entity;
use greenroom_store::LocationSpec;
use serde_json::Value;

use crate::config::{CatalogRule, Config, RuleAllow, RuleLocation};

#[derive(Debug, Clone)]
struct KindMatcher {
    kind: String,
    spec_type: Option<String>,
}

#[derive(Debug, Clone)]
enum TargetMatcher {
    Any,
    Exact(String),
    Pattern(GlobMatcher),
}

#[derive(Debug, Clone)]
struct LocationMatcher {
    kind: String,
    target: TargetMatcher,
}

#[derive(Debug, Clone)]
struct Rule {
    allow: Vec<KindMatcher>,
    /// None: the rule applies to every location.
    locations: Option<Vec<LocationMatcher>>,
}

/// The effective rule list: `catalog.rules` (or the default Component, API,
/// Location), plus each `catalog.locations[].rules` scoped to exactly that location.
#[derive(Debug, Clone)]
pub struct CatalogRules {
    rules: Vec<Rule>,
}

fn kind_matchers(allow: &[RuleAllow]) -> Vec<KindMatcher> {
    allow
        .iter()
        .map(|a| match a {
            RuleAllow::Kind(kind) => KindMatcher { kind: kind.to_lowercase(), spec_type: None },
            RuleAllow::KindWithType { kind, spec_type } => {
                KindMatcher { kind: kind.to_lowercase(), spec_type: spec_type.as_ref().map(|t| t.to_lowercase()) }
            }
        })
        .collect()
}

fn location_matcher(location: &RuleLocation) -> Result<LocationMatcher, String> {
    let target = match (&location.exact, &location.pattern) {
        (Some(exact), _) => TargetMatcher::Exact(exact.clone()),
        (None, Some(pattern)) => TargetMatcher::Pattern(
            GlobBuilder::new(pattern)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("catalog.rules: invalid location pattern '{pattern}', {e}"))?
                .compile_matcher(),
        ),
        (None, None) => TargetMatcher::Any,
    };
    Ok(LocationMatcher { kind: location.kind.clone(), target })
}

fn rule(config: &CatalogRule) -> Result<Rule, String> {
    Ok(Rule {
        allow: kind_matchers(&config.allow),
        locations: config
            .locations
            .as_ref()
            .map(|list| list.iter().map(location_matcher).collect::<Result<Vec<_>, _>>())
            .transpose()?,
    })
}

impl CatalogRules {
    /// Builds the rules. `config_location_targets` gives, per entry of
    /// `catalog.locations`, the target as the catalog sees it (file paths made
    /// absolute), so that per-location rules match the generated location.
    pub fn from_config(config: &Config, config_location_targets: &[String]) -> Result<Self, String> {
        let mut rules = match &config.catalog.rules {
            Some(list) => list.iter().map(rule).collect::<Result<Vec<_>, _>>()?,
            None => vec![Rule {
                allow: ["component", "api", "location"]
                    .iter()
                    .map(|k| KindMatcher { kind: k.to_string(), spec_type: None })
                    .collect(),
                locations: None,
            }],
        };
        for (location, target) in config.catalog.locations.iter().zip(config_location_targets) {
            for scoped in location.rules.iter().flatten() {
                rules.push(Rule {
                    allow: kind_matchers(&scoped.allow),
                    locations: Some(vec![LocationMatcher {
                        kind: location.kind.clone(),
                        target: TargetMatcher::Exact(target.clone()),
                    }]),
                });
            }
        }
        Ok(Self { rules })
    }

    /// Whether an entity may come from (a location whose origin is) `location`.
    pub fn is_allowed(&self, entity: &Entity, location: &LocationSpec) -> bool {
        let kind = entity.get("kind").and_then(Value::as_str).unwrap_or("").to_lowercase();
        let spec_type = entity.get("spec").and_then(|s| s.get("type")).and_then(Value::as_str).map(str::to_lowercase);
        self.rules.iter().any(|rule| {
            let location_ok = match &rule.locations {
                None => true,
                Some(matchers) => matchers.iter().any(|m| {
                    m.kind == location.kind
                        && match &m.target {
                            TargetMatcher::Any => true,
                            TargetMatcher::Exact(exact) => exact == &location.target,
                            TargetMatcher::Pattern(glob) => glob.is_match(&location.target),
                        }
                }),
            };
            location_ok
                && rule.allow.iter().any(|m| {
                    m.kind == kind && m.spec_type.as_ref().is_none_or(|t| spec_type.as_deref() == Some(t.as_str()))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(kind: &str, spec_type: Option<&str>) -> Entity {
        let mut value = json!({"kind": kind, "metadata": {"name": "x"}});
        if let Some(t) = spec_type {
            value["spec"] = json!({"type": t});
        }
        serde_json::from_value(value).unwrap()
    }

    fn loc(kind: &str, target: &str) -> LocationSpec {
        LocationSpec { kind: kind.into(), target: target.into() }
    }

    fn config(yaml_rules: Value, locations: Value) -> Config {
        serde_json::from_value(json!({"catalog": {"rules": yaml_rules, "locations": locations}})).unwrap()
    }

    #[test]
    fn default_rules_allow_component_api_location() {
        let rules = CatalogRules::from_config(&Config::default(), &[]).unwrap();
        let anywhere = loc("url", "https://example.com/a.yaml");
        assert!(rules.is_allowed(&entity("Component", None), &anywhere));
        assert!(rules.is_allowed(&entity("api", None), &anywhere));
        assert!(rules.is_allowed(&entity("Location", None), &anywhere));
        assert!(!rules.is_allowed(&entity("User", None), &anywhere));
        assert!(!rules.is_allowed(&entity("Group", None), &anywhere));
    }

    #[test]
    fn configured_rules_with_spec_type_and_locations() {
        let config = config(
            json!([
                {"allow": ["Component", {"kind": "API", "spec.type": "openapi"}]},
                {"allow": ["Template"], "locations": [{"type": "url", "pattern": "https://example.com/templates/*"}]},
                {"allow": ["System"], "locations": [{"type": "file", "exact": "/etc/catalog/systems.yaml"}]}
            ]),
            json!([{"type": "file", "target": "org.yaml", "rules": [{"allow": ["User", "Group"]}]}]),
        );
        let rules = CatalogRules::from_config(&config, &["/srv/org.yaml".to_string()]).unwrap();
        let web = loc("url", "https://example.com/a.yaml");
        assert!(rules.is_allowed(&entity("component", None), &web));
        assert!(rules.is_allowed(&entity("API", Some("OpenAPI")), &web));
        assert!(!rules.is_allowed(&entity("API", Some("grpc")), &web));
        assert!(!rules.is_allowed(&entity("Location", None), &web));
        assert!(rules.is_allowed(&entity("Template", None), &loc("url", "https://EXAMPLE.com/templates/t.yaml")));
        assert!(!rules.is_allowed(&entity("Template", None), &loc("url", "https://example.com/templates/sub/t.yaml")));
        assert!(rules.is_allowed(&entity("System", None), &loc("file", "/etc/catalog/systems.yaml")));
        assert!(!rules.is_allowed(&entity("System", None), &loc("url", "/etc/catalog/systems.yaml")));
        assert!(rules.is_allowed(&entity("User", None), &loc("file", "/srv/org.yaml")));
        assert!(!rules.is_allowed(&entity("User", None), &loc("file", "/srv/other.yaml")));
    }

    #[test]
    fn invalid_patterns_are_reported() {
        let config = config(json!([{"allow": ["Component"], "locations": [{"type": "url", "pattern": "a[b"}]}]), json!([]));
        let err = CatalogRules::from_config(&config, &[]).unwrap_err();
        assert!(err.starts_with("catalog.rules: invalid location pattern 'a[b'"), "{err}");
    }
}
