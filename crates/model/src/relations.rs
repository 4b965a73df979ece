//! Relations between entities (reference section 1.6): every pair is emitted in
//! both directions, stored by source and surfaced on the source entity.

use crate::entity_ref::{EntityRef, DEFAULT_NAMESPACE};
use crate::validation::ValidationError;
use crate::Entity;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const OWNED_BY: &str = "ownedBy";
pub const OWNER_OF: &str = "ownerOf";
pub const CONSUMES_API: &str = "consumesApi";
pub const API_CONSUMED_BY: &str = "apiConsumedBy";
pub const PROVIDES_API: &str = "providesApi";
pub const API_PROVIDED_BY: &str = "apiProvidedBy";
pub const DEPENDS_ON: &str = "dependsOn";
pub const DEPENDENCY_OF: &str = "dependencyOf";
pub const PARENT_OF: &str = "parentOf";
pub const CHILD_OF: &str = "childOf";
pub const MEMBER_OF: &str = "memberOf";
pub const HAS_MEMBER: &str = "hasMember";
pub const PART_OF: &str = "partOf";
pub const HAS_PART: &str = "hasPart";

/// A stored relation edge; refs are canonical (lower-cased) strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    pub source_ref: String,
    #[serde(rename = "type")]
    pub relation_type: String,
    pub target_ref: String,
}

/// One row of the relation table of reference 1.6.
struct RelationRule {
    /// Lower-cased source kinds this rule applies to.
    kinds: &'static [&'static str],
    field: &'static str,
    default_kind: Option<&'static str>,
    forward: &'static str,
    reverse: &'static str,
}

const RULES: &[RelationRule] = &[
    RelationRule {
        kinds: &[
            "component",
            "api",
            "resource",
            "system",
            "domain",
            "template",
        ],
        field: "owner",
        default_kind: Some("Group"),
        forward: OWNED_BY,
        reverse: OWNER_OF,
    },
    RelationRule {
        kinds: &["component"],
        field: "subcomponentOf",
        default_kind: Some("Component"),
        forward: PART_OF,
        reverse: HAS_PART,
    },
    RelationRule {
        kinds: &["component", "api", "resource"],
        field: "system",
        default_kind: Some("System"),
        forward: PART_OF,
        reverse: HAS_PART,
    },
    RelationRule {
        kinds: &["system"],
        field: "domain",
        default_kind: Some("Domain"),
        forward: PART_OF,
        reverse: HAS_PART,
    },
    RelationRule {
        kinds: &["domain"],
        field: "subdomainOf",
        default_kind: Some("Domain"),
        forward: PART_OF,
        reverse: HAS_PART,
    },
    RelationRule {
        kinds: &["component"],
        field: "providesApis",
        default_kind: Some("API"),
        forward: PROVIDES_API,
        reverse: API_PROVIDED_BY,
    },
    RelationRule {
        kinds: &["component"],
        field: "consumesApis",
        default_kind: Some("API"),
        forward: CONSUMES_API,
        reverse: API_CONSUMED_BY,
    },
    RelationRule {
        kinds: &["component", "resource"],
        field: "dependsOn",
        default_kind: None,
        forward: DEPENDS_ON,
        reverse: DEPENDENCY_OF,
    },
    RelationRule {
        kinds: &["component", "resource"],
        field: "dependencyOf",
        default_kind: None,
        forward: DEPENDENCY_OF,
        reverse: DEPENDS_ON,
    },
    RelationRule {
        kinds: &["user"],
        field: "memberOf",
        default_kind: Some("Group"),
        forward: MEMBER_OF,
        reverse: HAS_MEMBER,
    },
    RelationRule {
        kinds: &["group"],
        field: "parent",
        default_kind: Some("Group"),
        forward: CHILD_OF,
        reverse: PARENT_OF,
    },
    RelationRule {
        kinds: &["group"],
        field: "children",
        default_kind: Some("Group"),
        forward: PARENT_OF,
        reverse: CHILD_OF,
    },
    RelationRule {
        kinds: &["group"],
        field: "members",
        default_kind: Some("User"),
        forward: HAS_MEMBER,
        reverse: MEMBER_OF,
    },
];

/// The relations an entity's spec implies, both directions, sorted and deduplicated.
/// Spec refs default to the entity's own namespace. Every invalid reference is
/// reported (InputError naming the `spec.<field>`).
pub fn emit_relations(entity: &Entity) -> Result<Vec<Relation>, Vec<ValidationError>> {
    let Some(self_ref) = EntityRef::of_entity(entity) else {
        return Err(vec![ValidationError::input(
            None,
            "Entity has no kind or metadata.name; cannot emit relations",
        )]);
    };
    let source = self_ref.canonical();
    let kind = self_ref.kind.to_lowercase();
    let namespace = self_ref.namespace.as_str();
    let spec = entity.get("spec").and_then(Value::as_object);

    let mut relations = Vec::new();
    let mut errors = Vec::new();
    for rule in RULES.iter().filter(|r| r.kinds.contains(&kind.as_str())) {
        let Some(value) = spec.and_then(|s| s.get(rule.field)) else {
            continue;
        };
        let field = format!("spec.{}", rule.field);
        let targets: Vec<&Value> = match value {
            Value::Null => continue,
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for target in targets {
            let Some(target) = target.as_str() else {
                errors.push(ValidationError::input(
                    Some(&field),
                    format!("\"{field}\" must contain entity reference strings"),
                ));
                continue;
            };
            match EntityRef::parse(target, rule.default_kind, namespace) {
                Ok(target_ref) => {
                    let target = target_ref.canonical();
                    relations.push(Relation {
                        source_ref: source.clone(),
                        relation_type: rule.forward.into(),
                        target_ref: target.clone(),
                    });
                    relations.push(Relation {
                        source_ref: target,
                        relation_type: rule.reverse.into(),
                        target_ref: source.clone(),
                    });
                }
                Err(e) => errors.push(ValidationError::input(Some(&field), e.to_string())),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    relations.sort();
    relations.dedup();
    Ok(relations)
}

/// The `relations` array of an entity as served by the API: `{type, targetRef,
/// target}` with the (deprecated, still read by old clients) compound `target`.
/// Sorted by type then target and deduplicated.
pub fn wire_relations(relations: &[Relation]) -> Value {
    let mut pairs: Vec<(&str, &str)> = relations
        .iter()
        .map(|r| (r.relation_type.as_str(), r.target_ref.as_str()))
        .collect();
    pairs.sort();
    pairs.dedup();
    Value::Array(
        pairs
            .into_iter()
            .map(|(rel_type, target_ref)| {
                let mut item = json!({ "type": rel_type, "targetRef": target_ref });
                if let Ok(t) = EntityRef::parse(target_ref, None, DEFAULT_NAMESPACE) {
                    item["target"] =
                        json!({ "kind": t.kind, "namespace": t.namespace, "name": t.name });
                }
                item
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(v: Value) -> Entity {
        v.as_object().unwrap().clone()
    }

    fn rel(s: &str, t: &str, d: &str) -> Relation {
        Relation {
            source_ref: s.into(),
            relation_type: t.into(),
            target_ref: d.into(),
        }
    }

    #[test]
    fn component_relations_both_ways_with_defaults() {
        let e = entity(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "Web", "namespace": "Prod"},
            "spec": {
                "type": "service", "lifecycle": "production", "owner": "team-a",
                "system": "other/Shop", "subcomponentOf": "base",
                "providesApis": ["pets", "pets"], "consumesApis": ["api:default/orders"],
                "dependsOn": ["resource:db"], "dependencyOf": ["component:x/y"]
            }
        }));
        let src = "component:prod/web";
        let mut expected = vec![
            rel(src, OWNED_BY, "group:prod/team-a"),
            rel("group:prod/team-a", OWNER_OF, src),
            rel(src, PART_OF, "system:other/shop"),
            rel("system:other/shop", HAS_PART, src),
            rel(src, PART_OF, "component:prod/base"),
            rel("component:prod/base", HAS_PART, src),
            rel(src, PROVIDES_API, "api:prod/pets"),
            rel("api:prod/pets", API_PROVIDED_BY, src),
            rel(src, CONSUMES_API, "api:default/orders"),
            rel("api:default/orders", API_CONSUMED_BY, src),
            rel(src, DEPENDS_ON, "resource:prod/db"),
            rel("resource:prod/db", DEPENDENCY_OF, src),
            rel(src, DEPENDENCY_OF, "component:x/y"),
            rel("component:x/y", DEPENDS_ON, src),
        ];
        expected.sort();
        assert_eq!(emit_relations(&e).unwrap(), expected);
    }

    #[test]
    fn group_user_system_domain_template() {
        let g = entity(json!({"kind": "Group", "metadata": {"name": "g"},
            "spec": {"type": "team", "parent": "root", "children": ["c1"], "members": ["u1"]}}));
        let r = emit_relations(&g).unwrap();
        assert!(r.contains(&rel("group:default/g", CHILD_OF, "group:default/root")));
        assert!(r.contains(&rel("group:default/root", PARENT_OF, "group:default/g")));
        assert!(r.contains(&rel("group:default/g", PARENT_OF, "group:default/c1")));
        assert!(r.contains(&rel("group:default/g", HAS_MEMBER, "user:default/u1")));
        assert!(r.contains(&rel("user:default/u1", MEMBER_OF, "group:default/g")));
        assert_eq!(r.len(), 6);

        let u =
            entity(json!({"kind": "User", "metadata": {"name": "u"}, "spec": {"memberOf": ["g"]}}));
        assert_eq!(
            emit_relations(&u).unwrap(),
            vec![
                rel("group:default/g", HAS_MEMBER, "user:default/u"),
                rel("user:default/u", MEMBER_OF, "group:default/g")
            ]
        );

        let s = entity(
            json!({"kind": "System", "metadata": {"name": "s"}, "spec": {"owner": "user:me", "domain": "d"}}),
        );
        let r = emit_relations(&s).unwrap();
        assert!(r.contains(&rel("system:default/s", OWNED_BY, "user:default/me")));
        assert!(r.contains(&rel("system:default/s", PART_OF, "domain:default/d")));

        let d = entity(
            json!({"kind": "Domain", "metadata": {"name": "d"}, "spec": {"owner": "o", "subdomainOf": "top"}}),
        );
        assert!(emit_relations(&d).unwrap().contains(&rel(
            "domain:default/d",
            PART_OF,
            "domain:default/top"
        )));

        let t = entity(
            json!({"kind": "Template", "metadata": {"name": "t"}, "spec": {"owner": "o", "type": "service"}}),
        );
        assert!(emit_relations(&t).unwrap().contains(&rel(
            "template:default/t",
            OWNED_BY,
            "group:default/o"
        )));
    }

    #[test]
    fn fields_of_other_kinds_are_ignored() {
        let l = entity(
            json!({"kind": "Location", "metadata": {"name": "l"}, "spec": {"owner": "x", "target": "./a"}}),
        );
        assert_eq!(emit_relations(&l).unwrap(), vec![]);
        let api = entity(
            json!({"kind": "API", "metadata": {"name": "a"}, "spec": {"dependsOn": ["nokind"]}}),
        );
        assert_eq!(emit_relations(&api).unwrap(), vec![]);
    }

    #[test]
    fn invalid_refs_are_errors_naming_the_field() {
        let e = entity(json!({"kind": "Component", "metadata": {"name": "w"},
            "spec": {"owner": "a:b:c/", "dependsOn": ["db"]}}));
        let errs = emit_relations(&e).unwrap_err();
        assert_eq!(
            errs,
            vec![
                ValidationError::input(
                    Some("spec.owner"),
                    "Entity reference \"a:b:c/\" was not on the form [<kind>:][<namespace>/]<name>"
                ),
                ValidationError::input(
                    Some("spec.dependsOn"),
                    "Entity reference \"db\" had missing or empty kind (e.g. did not start with \"component:\" or similar)"
                ),
            ]
        );
        let e = entity(
            json!({"kind": "Component", "metadata": {"name": "w"}, "spec": {"providesApis": [3]}}),
        );
        assert_eq!(
            emit_relations(&e).unwrap_err(),
            vec![ValidationError::input(
                Some("spec.providesApis"),
                "\"spec.providesApis\" must contain entity reference strings"
            )]
        );
    }

    #[test]
    fn wire_form_sorted_with_compat_target() {
        let rels = vec![
            rel("component:default/w", PART_OF, "system:default/s"),
            rel("component:default/w", OWNED_BY, "group:team/a"),
            rel("component:default/w", OWNED_BY, "group:team/a"),
        ];
        assert_eq!(
            wire_relations(&rels),
            json!([
                {"type": "ownedBy", "targetRef": "group:team/a", "target": {"kind": "group", "namespace": "team", "name": "a"}},
                {"type": "partOf", "targetRef": "system:default/s", "target": {"kind": "system", "namespace": "default", "name": "s"}}
            ])
        );
    }
}
