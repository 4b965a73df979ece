//! Sign-in resolvers (reference 7.3): map what a provider knows about a
//! person to a User entity of the catalog, and compute the refs the user owns
//! through (the user, its groups, and the groups those belong to).

use std::collections::BTreeSet;

use greenroom_model::filter::EntityFilter;
use greenroom_model::{Entity, EntityRef};
use greenroom_store::{CatalogStore, EntityQuery, Page, Principal};
use serde::Deserialize;
use serde_json::Value;

use super::profile::ProviderIdentity;

/// How deep group nesting is followed for ownership.
const MAX_GROUP_DEPTH: usize = 10;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolverConfig {
    pub resolver: String,
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    #[serde(default)]
    pub dangerously_allow_sign_in_without_user_in_catalog: bool,
}

pub const RESOLVERS: &[&str] = &[
    "usernameMatchingUserEntityName",
    "userIdMatchingUserEntityAnnotation",
    "emailMatchingUserEntityProfileEmail",
    "emailLocalPartMatchingUserEntityName",
    "ldapDnMatchingUserEntityAnnotation",
];

/// `signIn.resolvers` of a provider; the provider's defaults when absent.
pub fn parse_sign_in(
    sign_in: Option<&Value>,
    provider: &str,
) -> Result<Vec<ResolverConfig>, String> {
    let configured = match sign_in.and_then(|s| s.get("resolvers")) {
        Some(list) => serde_json::from_value::<Vec<ResolverConfig>>(list.clone())
            .map_err(|e| format!("signIn.resolvers: {e}"))?,
        None => Vec::new(),
    };
    for r in &configured {
        if !RESOLVERS.contains(&r.resolver.as_str()) {
            return Err(format!(
                "signIn.resolvers: unknown resolver {} (known: {})",
                r.resolver,
                RESOLVERS.join(", ")
            ));
        }
    }
    if !configured.is_empty() {
        return Ok(configured);
    }
    let defaults: &[&str] = if provider == "ldap" {
        &[
            "ldapDnMatchingUserEntityAnnotation",
            "usernameMatchingUserEntityName",
        ]
    } else {
        &["usernameMatchingUserEntityName"]
    };
    Ok(defaults
        .iter()
        .map(|r| ResolverConfig {
            resolver: r.to_string(),
            allowed_domains: Vec::new(),
            dangerously_allow_sign_in_without_user_in_catalog: false,
        })
        .collect())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    #[error("Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver.")]
    NoMatch,
    #[error("User lookup resulted in multiple matches")]
    Ambiguous,
    #[error("Sign-in refused: the email domain is not allowed")]
    DomainNotAllowed,
    #[error("sign-in failed: {0}")]
    Store(String),
}

async fn users_matching(
    store: &dyn CatalogStore,
    key: &str,
    value: &str,
) -> Result<Vec<Entity>, SignInError> {
    let page = store
        .query_entities(&EntityQuery {
            filter: Some(EntityFilter::All(vec![
                EntityFilter::Key {
                    key: "kind".into(),
                    values: Some(vec!["user".into()]),
                },
                EntityFilter::Key {
                    key: key.to_lowercase(),
                    values: Some(vec![value.to_lowercase()]),
                },
            ])),
            page: Page::Offset {
                offset: 0,
                limit: 2,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| SignInError::Store(e.to_string()))?;
    Ok(page.items)
}

fn one(mut users: Vec<Entity>) -> Result<Option<Entity>, SignInError> {
    match users.len() {
        0 => Ok(None),
        1 => Ok(users.pop()),
        _ => Err(SignInError::Ambiguous),
    }
}

fn domain_allowed(email: &str, allowed: &[String]) -> bool {
    allowed.is_empty()
        || email
            .rsplit_once('@')
            .is_some_and(|(_, d)| allowed.iter().any(|a| a.eq_ignore_ascii_case(d)))
}

/// The User entity (or, when allowed, a bare ref) the first succeeding
/// resolver finds for `identity`.
pub async fn resolve(
    store: &dyn CatalogStore,
    identity: &ProviderIdentity,
    resolvers: &[ResolverConfig],
) -> Result<Principal, SignInError> {
    for r in resolvers {
        let found = match r.resolver.as_str() {
            "usernameMatchingUserEntityName" => lookup_by_name(store, &identity.username).await?,
            "userIdMatchingUserEntityAnnotation" => match &identity.user_id {
                Some(id) => {
                    let annotation =
                        format!("metadata.annotations.{}.com/user-id", identity.provider);
                    one(users_matching(store, &annotation, id).await?)?
                }
                None => None,
            },
            "emailMatchingUserEntityProfileEmail" => match &identity.email {
                Some(email) => {
                    if !domain_allowed(email, &r.allowed_domains) {
                        return Err(SignInError::DomainNotAllowed);
                    }
                    match one(users_matching(store, "spec.profile.email", email).await?)? {
                        Some(u) => Some(u),
                        // Backstage retries without a `+tag`.
                        None => match strip_plus_tag(email) {
                            Some(plain) => {
                                one(users_matching(store, "spec.profile.email", &plain).await?)?
                            }
                            None => None,
                        },
                    }
                }
                None => None,
            },
            "emailLocalPartMatchingUserEntityName" => match &identity.email {
                Some(email) => {
                    if !domain_allowed(email, &r.allowed_domains) {
                        return Err(SignInError::DomainNotAllowed);
                    }
                    let local = email.split('@').next().unwrap_or_default();
                    lookup_by_name(store, local).await?
                }
                None => None,
            },
            "ldapDnMatchingUserEntityAnnotation" => match &identity.ldap_dn {
                Some(dn) => {
                    one(
                        users_matching(store, "metadata.annotations.backstage.io/ldap-dn", dn)
                            .await?,
                    )?
                }
                None => None,
            },
            _ => None,
        };
        if let Some(user) = found {
            let user_ref = EntityRef::of_entity(&user)
                .map(|r| r.canonical())
                .ok_or(SignInError::NoMatch)?;
            let ownership = ownership_refs(store, &user_ref, &user).await?;
            return Ok(Principal {
                user_entity_ref: user_ref,
                ownership_refs: ownership,
            });
        }
        if r.dangerously_allow_sign_in_without_user_in_catalog {
            let name = match r.resolver.as_str() {
                "emailLocalPartMatchingUserEntityName" | "emailMatchingUserEntityProfileEmail" => {
                    identity
                        .email
                        .as_deref()
                        .and_then(|e| e.split('@').next())
                        .unwrap_or(&identity.username)
                }
                _ => &identity.username,
            };
            let user_ref = format!("user:default/{}", name.to_lowercase());
            if EntityRef::parse(&user_ref, None, "default").is_ok() {
                return Ok(Principal {
                    ownership_refs: vec![user_ref.clone()],
                    user_entity_ref: user_ref,
                });
            }
        }
    }
    Err(SignInError::NoMatch)
}

fn strip_plus_tag(email: &str) -> Option<String> {
    let (local, domain) = email.split_once('@')?;
    let (base, _) = local.split_once('+')?;
    Some(format!("{base}@{domain}"))
}

async fn lookup_by_name(
    store: &dyn CatalogStore,
    name: &str,
) -> Result<Option<Entity>, SignInError> {
    if name.is_empty() {
        return Ok(None);
    }
    store
        .entity_by_ref(&format!("user:default/{}", name.to_lowercase()))
        .await
        .map_err(|e| SignInError::Store(e.to_string()))
}

fn relation_targets(entity: &Entity, relation: &str) -> Vec<String> {
    entity
        .get("relations")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| r["type"] == relation)
                .filter_map(|r| r["targetRef"].as_str().map(str::to_lowercase))
                .collect()
        })
        .unwrap_or_default()
}

/// The user, its groups (`memberOf`), and every group above those
/// (`childOf`), so a rule bound to a parent group covers its sub-teams.
pub async fn ownership_refs(
    store: &dyn CatalogStore,
    user_ref: &str,
    user: &Entity,
) -> Result<Vec<String>, SignInError> {
    let mut refs = BTreeSet::new();
    let mut frontier: Vec<String> = relation_targets(user, "memberOf")
        .into_iter()
        .filter(|r| r.starts_with("group:"))
        .collect();
    for _ in 0..MAX_GROUP_DEPTH {
        let new: Vec<String> = frontier
            .into_iter()
            .filter(|g| refs.insert(g.clone()))
            .collect();
        if new.is_empty() {
            break;
        }
        let groups = store
            .entities_by_refs(&new, None)
            .await
            .map_err(|e| SignInError::Store(e.to_string()))?;
        frontier = groups
            .iter()
            .flatten()
            .flat_map(|g| relation_targets(g, "childOf"))
            .collect();
    }
    let mut out = vec![user_ref.to_string()];
    out.extend(refs);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_in_config_defaults_and_refusals() {
        let github = parse_sign_in(None, "github").unwrap();
        assert_eq!(github[0].resolver, "usernameMatchingUserEntityName");
        let ldap = parse_sign_in(None, "ldap").unwrap();
        assert_eq!(ldap[0].resolver, "ldapDnMatchingUserEntityAnnotation");
        let custom = parse_sign_in(
            Some(&json!({"resolvers": [{"resolver": "emailMatchingUserEntityProfileEmail", "allowedDomains": ["example.com"]}]})),
            "github",
        )
        .unwrap();
        assert_eq!(custom[0].allowed_domains, ["example.com"]);
        assert!(parse_sign_in(
            Some(&json!({"resolvers": [{"resolver": "magic"}]})),
            "github"
        )
        .unwrap_err()
        .contains("unknown resolver magic"));
        assert!(parse_sign_in(
            Some(
                &json!({"resolvers": [{"resolver": "usernameMatchingUserEntityName", "typo": 1}]})
            ),
            "github"
        )
        .is_err());
    }

    #[test]
    fn plus_tags_and_domains() {
        assert_eq!(strip_plus_tag("a+ci@x.io").as_deref(), Some("a@x.io"));
        assert_eq!(strip_plus_tag("a@x.io"), None);
        assert!(domain_allowed("a@Example.com", &["example.com".into()]));
        assert!(!domain_allowed("a@evil.com", &["example.com".into()]));
        assert!(domain_allowed("a@evil.com", &[]));
    }
}
