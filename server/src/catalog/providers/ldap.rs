//! `catalog.providers.ldapOrg`: Backstage's LDAP org provider. Each run binds
//! to the directory, reads the configured user and group searches and
//! replaces the provider's User and Group entities with what it found.

mod config;
mod org;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use greenroom_model::Entity;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, SearchEntry};
use serde_json::Value;

use self::config::{ProviderConfig, SearchConfig};
use self::org::{org_entities, LdapEntry, UUID_ATTRIBUTE};
use super::EntityProvider;

/// Limit for connecting and for each reply of an operation; the schedule's
/// timeout bounds the run as a whole.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Entries per page. Paging keeps large directories below the server's size
/// limit (a truncated read would drop the missing entities from the catalog).
const PAGE_SIZE: i32 = 500;

/// The providers configured under `catalog.providers.ldapOrg` (other keys of
/// `catalog.providers` belong to other providers and are ignored).
pub fn ldap_org_providers(
    providers_section: Option<&Value>,
) -> Result<Vec<Arc<dyn EntityProvider>>, String> {
    let Some(section) = providers_section.and_then(|s| s.get("ldapOrg")) else {
        return Ok(Vec::new());
    };
    let Value::Object(by_id) = section else {
        return Err(
            "catalog.providers.ldapOrg: expected an object of providers keyed by id".into(),
        );
    };
    by_id
        .iter()
        .map(|(id, value)| {
            let config = ProviderConfig::parse(id, value)?;
            Ok(Arc::new(LdapOrgProvider::new(config)) as Arc<dyn EntityProvider>)
        })
        .collect()
}

/// One `ldapOrg` provider.
#[derive(Debug)]
struct LdapOrgProvider {
    config: ProviderConfig,
    /// `ldap://host:port`, the entities' managed-by(-origin)-location.
    location: String,
}

impl LdapOrgProvider {
    fn new(config: ProviderConfig) -> Self {
        let authority = config
            .target
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
            .unwrap_or(&config.target);
        Self {
            location: format!("ldap://{authority}"),
            config,
        }
    }

    async fn read_directory(&self) -> anyhow::Result<Vec<Entity>> {
        let config = &self.config;
        let mut ldap = connect(&config.target).await?;
        if let Some(bind) = &config.bind {
            ldap.with_timeout(OPERATION_TIMEOUT)
                .simple_bind(&bind.dn, &bind.secret.0)
                .await
                .and_then(|result| result.success())
                .with_context(|| format!("binding to {} as {}", config.target, bind.dn))?;
        }
        let mut users = Vec::new();
        for search in &config.users {
            let map = &search.map;
            let mut attributes = vec![&map.rdn, &map.name, &map.display_name, &map.member_of];
            attributes.extend(
                [&map.description, &map.email, &map.picture]
                    .into_iter()
                    .flatten(),
            );
            let entries = search_all(&mut ldap, search, &attributes).await?;
            users.extend(entries.into_iter().map(|e| (e, map)));
        }
        let mut groups = Vec::new();
        for search in &config.groups {
            let map = &search.map;
            let mut attributes = vec![
                &map.rdn,
                &map.name,
                &map.description,
                &map.group_type,
                &map.display_name,
                &map.member_of,
                &map.members,
            ];
            attributes.extend([&map.email, &map.picture].into_iter().flatten());
            let entries = search_all(&mut ldap, search, &attributes).await?;
            groups.extend(entries.into_iter().map(|e| (e, map)));
        }
        let _ = ldap.unbind().await;
        Ok(org_entities(&users, &groups, &self.location))
    }
}

#[async_trait]
impl EntityProvider for LdapOrgProvider {
    fn name(&self) -> String {
        format!("LdapOrgEntityProvider:{}", self.config.id)
    }

    fn interval(&self) -> Duration {
        self.config.frequency
    }

    async fn read(&self) -> anyhow::Result<Vec<Entity>> {
        let timeout = self.config.timeout;
        tokio::time::timeout(timeout, self.read_directory())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "reading {} took longer than the schedule timeout of {}s",
                    self.config.target,
                    timeout.as_secs()
                )
            })?
    }
}

async fn connect(target: &str) -> anyhow::Result<Ldap> {
    let settings = LdapConnSettings::new().set_conn_timeout(OPERATION_TIMEOUT);
    let (conn, ldap) = LdapConnAsync::with_settings(settings, target)
        .await
        .with_context(|| format!("connecting to {target}"))?;
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "LDAP connection ended with an error");
        }
    });
    Ok(ldap)
}

/// Every entry of one search, page by page. The entry UUID is an
/// operational attribute, which servers return only when asked by name.
async fn search_all<M>(
    ldap: &mut Ldap,
    search: &SearchConfig<M>,
    attributes: &[&String],
) -> anyhow::Result<Vec<LdapEntry>> {
    let mut requested: Vec<String> = attributes.iter().map(|a| a.to_string()).collect();
    requested.push(UUID_ATTRIBUTE.to_string());
    requested.sort_unstable();
    requested.dedup();
    let filter = search.filter();
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(PAGE_SIZE)),
    ];
    let context = || format!("searching {} with {filter}", search.dn);
    let mut stream = ldap
        .with_timeout(OPERATION_TIMEOUT)
        .streaming_search_with(
            adapters,
            &search.dn,
            search.options.scope.into(),
            &filter,
            requested,
        )
        .await
        .with_context(context)?;
    let mut entries = Vec::new();
    while let Some(entry) = stream.next().await.with_context(context)? {
        let entry = SearchEntry::construct(entry);
        entries.push(LdapEntry::new(entry.dn, entry.attrs));
    }
    // A size limit or any other error must fail the run: a partial read
    // would remove the entries it missed from the catalog.
    stream.finish().await.success().with_context(context)?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn providers_from_the_catalog_section() {
        let section = json!({
            "githubOrg": {"ignored": true},
            "ldapOrg": {
                "default": {
                    "target": "ldap://ldap.example.org:3890/",
                    "users": {"dn": "ou=people,dc=example,dc=org"},
                    "schedule": {"frequency": {"minutes": 30}, "timeout": {"minutes": 5}}
                },
                "second": {
                    "target": "ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi",
                    "groups": {"dn": "ou=groups,dc=example,dc=org"}
                }
            }
        });
        let providers = ldap_org_providers(Some(&section)).unwrap();
        let names: Vec<String> = providers.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "LdapOrgEntityProvider:default",
                "LdapOrgEntityProvider:second"
            ]
        );
        assert_eq!(providers[0].interval(), Duration::from_secs(1800));
        assert!(ldap_org_providers(None).unwrap().is_empty());
        assert!(ldap_org_providers(Some(&json!({"githubOrg": {}})))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_sections_are_refused() {
        let err = ldap_org_providers(Some(&json!({"ldapOrg": []})))
            .err()
            .unwrap();
        assert!(err.contains("catalog.providers.ldapOrg"), "{err}");
        let err = ldap_org_providers(Some(&json!({"ldapOrg": {"x": {"target": "ldap://h"}}})))
            .err()
            .unwrap();
        assert!(err.contains("ldapOrg.x"), "{err}");
    }

    #[test]
    fn location_is_the_target_authority() {
        let config = ProviderConfig::parse(
            "default",
            &json!({"target": "ldap://ldap.example.org:3890/", "users": {"dn": "ou=p"}}),
        )
        .unwrap();
        assert_eq!(
            LdapOrgProvider::new(config).location,
            "ldap://ldap.example.org:3890"
        );
    }
}
