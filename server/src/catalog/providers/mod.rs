//! Entity providers: sources outside Git that own a set of entities (an LDAP
//! directory, a GitHub organisation). Each runs on its own schedule and
//! replaces its whole set at once with `replace_provider_entities`, so
//! entities that disappear upstream leave the catalog on the next run.

pub mod github_org;
pub mod ldap;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use greenroom_model::Entity;
use greenroom_store::{CatalogStore, DeferredEntity};
use tokio_util::sync::CancellationToken;

/// One configured provider.
#[async_trait]
pub trait EntityProvider: Send + Sync + 'static {
    /// The provider key the store records its entities under, stable across
    /// runs (e.g. `LdapOrgEntityProvider:default`).
    fn name(&self) -> String;
    /// Time between two runs.
    fn interval(&self) -> Duration;
    /// Reads the complete set of entities the provider owns now. An error
    /// leaves the previous set in place.
    async fn read(&self) -> anyhow::Result<Vec<Entity>>;
}

/// Every provider `catalog.providers` configures (LDAP directories and
/// GitHub organisations); a configuration error names its key.
pub fn from_config(config: &crate::config::Config) -> Result<Vec<Arc<dyn EntityProvider>>, String> {
    let section = config.catalog.providers.as_ref().map(|s| &s.0);
    if let Some(obj) = section.and_then(|s| s.as_object()) {
        if let Some(k) = obj
            .keys()
            .find(|k| !["ldapOrg", "githubOrg"].contains(&k.as_str()))
        {
            return Err(format!(
                "catalog.providers.{k}: unknown entity provider (supported: ldapOrg, githubOrg)"
            ));
        }
    }
    let mut providers = ldap::ldap_org_providers(section)?;
    providers.extend(github_org::github_org_providers(section, config)?);
    Ok(providers)
}

/// Reads `provider` once and replaces its entities in the store; returns how
/// many it wrote.
pub async fn run_once(
    provider: &dyn EntityProvider,
    store: &dyn CatalogStore,
) -> anyhow::Result<usize> {
    let entities = provider.read().await?;
    let deferred = entities
        .iter()
        .map(|e| DeferredEntity::new(e, None))
        .collect::<Result<Vec<_>, _>>()?;
    let n = deferred.len();
    store
        .replace_provider_entities(&provider.name(), deferred)
        .await?;
    Ok(n)
}

/// Runs every provider on its schedule until `shutdown`; a failed run is
/// logged and retried at the next interval.
pub async fn run_all(
    providers: Vec<Arc<dyn EntityProvider>>,
    store: Arc<dyn CatalogStore>,
    shutdown: CancellationToken,
) {
    let tasks: Vec<_> = providers
        .into_iter()
        .map(|provider| {
            let store = store.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    let name = provider.name();
                    match run_once(provider.as_ref(), store.as_ref()).await {
                        Ok(n) => tracing::info!(provider = %name, entities = n, "entity provider run"),
                        Err(e) => tracing::warn!(provider = %name, error = %format!("{e:#}"), "entity provider run failed"),
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(provider.interval()) => {}
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}
