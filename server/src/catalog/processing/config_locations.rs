//! `catalog.locations`: the locations the configuration provides, as the
//! generated Location entities of the `config-locations` provider.

use greenroom_store::{DeferredEntity, LocationSpec};

use super::locations::{generated_location_entity, location_ref, normalize_path};
use crate::config::Config;

/// The provider key used with `replace_provider_entities`.
pub const CONFIG_LOCATIONS_PROVIDER: &str = "config-locations";

/// The configured locations, `file` targets made absolute against the working
/// directory (like Backstage's `path.resolve`).
pub fn config_location_specs(config: &Config) -> Vec<LocationSpec> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("/"));
    config
        .catalog
        .locations
        .iter()
        .map(|location| {
            let target = if location.kind == "file" {
                normalize_path(&cwd.join(&location.target))
                    .to_string_lossy()
                    .into_owned()
            } else {
                location.target.clone()
            };
            LocationSpec {
                kind: location.kind.clone(),
                target,
            }
        })
        .collect()
}

/// One generated Location entity per configured location, keyed by its own
/// location ref. Per-location `rules` are applied by the pipeline's
/// [`super::CatalogRules`], which matches on the same absolute targets.
pub fn config_location_entities(config: &Config) -> Vec<DeferredEntity> {
    config_location_specs(config)
        .into_iter()
        .map(|spec| {
            DeferredEntity::new(&generated_location_entity(&spec), Some(location_ref(&spec)))
                .expect("generated location entities have a kind and a name")
        })
        .collect()
}
