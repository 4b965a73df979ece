//! `catalog.rules`: which kinds a location may bring into the catalog
//! (Backstage's CatalogRulesEnforcer, reference 3.6).

use greenroom_model::rules::{KindRule, LocationMatcher, Rule, RuleSet};
use greenroom_model::Entity;
use greenroom_store::LocationSpec;

use crate::config::{CatalogRule, Config, RuleAllow, RuleLocation};

/// The effective rule list: `catalog.rules` (or the default Component, API,
/// Location), plus each `catalog.locations[].rules` scoped to exactly that
/// location. Matching is the model's [`RuleSet`]; this adds the translation
/// from configuration and refuses patterns that cannot compile.
#[derive(Debug, Clone)]
pub struct CatalogRules {
    rules: RuleSet,
}

fn kind_rules(allow: &[RuleAllow]) -> Vec<KindRule> {
    allow
        .iter()
        .map(|a| match a {
            RuleAllow::Kind(kind) => KindRule::kind(kind),
            RuleAllow::KindWithType { kind, spec_type } => KindRule {
                kind: kind.clone(),
                spec_type: spec_type.clone(),
            },
        })
        .collect()
}

fn location_matcher(location: &RuleLocation) -> Result<LocationMatcher, String> {
    if let Some(pattern) = &location.pattern {
        globset::Glob::new(pattern)
            .map_err(|e| format!("catalog.rules: invalid location pattern '{pattern}', {e}"))?;
    }
    Ok(LocationMatcher {
        location_type: location.kind.clone(),
        exact: location.exact.clone(),
        pattern: location.pattern.clone(),
    })
}

fn rule(config: &CatalogRule) -> Result<Rule, String> {
    Ok(Rule {
        allow: kind_rules(&config.allow),
        locations: config
            .locations
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(location_matcher)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?,
    })
}

impl CatalogRules {
    /// Builds the rules. `config_location_targets` gives, per entry of
    /// `catalog.locations`, the target as the catalog sees it (file paths made
    /// absolute), so that per-location rules match the generated location.
    pub fn from_config(
        config: &Config,
        config_location_targets: &[String],
    ) -> Result<Self, String> {
        let global = config
            .catalog
            .rules
            .as_ref()
            .map(|list| list.iter().map(rule).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        let per_location = config
            .catalog
            .locations
            .iter()
            .zip(config_location_targets)
            .filter_map(|(location, target)| {
                let rules = location.rules.as_ref()?;
                Some(
                    rules
                        .iter()
                        .map(rule)
                        .collect::<Result<Vec<_>, _>>()
                        .map(|r| ((location.kind.clone(), target.clone()), r)),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            rules: RuleSet::new(global, per_location),
        })
    }

    /// Whether an entity may come from (a location whose origin is) `location`.
    pub fn is_allowed(&self, entity: &Entity, location: &LocationSpec) -> bool {
        self.rules
            .is_allowed(entity, &location.kind, &location.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn entity(kind: &str, spec_type: Option<&str>) -> Entity {
        let mut value = json!({"kind": kind, "metadata": {"name": "x"}});
        if let Some(t) = spec_type {
            value["spec"] = json!({"type": t});
        }
        serde_json::from_value(value).unwrap()
    }

    fn loc(kind: &str, target: &str) -> LocationSpec {
        LocationSpec {
            kind: kind.into(),
            target: target.into(),
        }
    }

    fn config(yaml_rules: Value, locations: Value) -> Config {
        serde_json::from_value(json!({"catalog": {"rules": yaml_rules, "locations": locations}}))
            .unwrap()
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
        assert!(rules.is_allowed(
            &entity("Template", None),
            &loc("url", "https://EXAMPLE.com/templates/t.yaml")
        ));
        assert!(!rules.is_allowed(
            &entity("Template", None),
            &loc("url", "https://example.com/templates/sub/t.yaml")
        ));
        assert!(rules.is_allowed(
            &entity("System", None),
            &loc("file", "/etc/catalog/systems.yaml")
        ));
        assert!(!rules.is_allowed(
            &entity("System", None),
            &loc("url", "/etc/catalog/systems.yaml")
        ));
        assert!(rules.is_allowed(&entity("User", None), &loc("file", "/srv/org.yaml")));
        assert!(!rules.is_allowed(&entity("User", None), &loc("file", "/srv/other.yaml")));
    }

    #[test]
    fn invalid_patterns_are_reported() {
        let config = config(
            json!([{"allow": ["Component"], "locations": [{"type": "url", "pattern": "a[b"}]}]),
            json!([]),
        );
        let err = CatalogRules::from_config(&config, &[]).unwrap_err();
        assert!(
            err.starts_with("catalog.rules: invalid location pattern 'a[b'"),
            "{err}"
        );
    }
}
