//! Catalog processing: turns unprocessed entities into processed ones, reads
//! locations, emits relations and children, and runs the background loop.

mod analyze;
mod config_locations;
mod dry_run;
mod engine;
mod interval;
mod locations;
mod pipeline;
mod placeholders;
mod rules;
mod sources;

#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use greenroom_store::{ClaimedEntity, LocationSpec, ProcessedResult};
use sha2::{Digest, Sha256};

pub use config_locations::{
    config_location_entities, config_location_specs, CONFIG_LOCATIONS_PROVIDER,
};
pub use engine::{run_until_idle, Engine};
pub use interval::ProcessingInterval;
pub use locations::{generated_location_entity, location_ref, parse_location_ref};
pub use rules::CatalogRules;

use crate::catalog::readers::{ScmHosts, UrlReader};
use crate::config::Config;
use sources::Sources;

/// The processing pipeline (validation, policies, location reading, relations).
/// Shared by the background loop and the synchronous endpoints (dry-run,
/// validate-entity, analyze-location); it holds no per-entity state, so a
/// clone is cheap (configuration and a shared reader).
#[derive(Clone)]
pub struct Pipeline {
    sources: Sources,
    rules: CatalogRules,
    interval: ProcessingInterval,
}

impl Pipeline {
    /// Builds the pipeline. Invalid `catalog.rules` patterns or an invalid
    /// `catalog.processingInterval` are logged and replaced by Backstage's
    /// defaults; use [`Pipeline::try_new`] to refuse them instead.
    pub fn new(config: &Config, reader: Arc<dyn UrlReader>) -> Self {
        let interval = ProcessingInterval::from_config(config.catalog.processing_interval.as_ref())
            .unwrap_or_else(|e| {
                tracing::error!("{e}; using the default processing interval");
                ProcessingInterval::default()
            });
        let rules =
            CatalogRules::from_config(config, &config_targets(config)).unwrap_or_else(|e| {
                tracing::error!("{e}; using the default catalog rules");
                CatalogRules::from_config(&Config::default(), &[]).expect("default rules are valid")
            });
        Self {
            sources: Sources::new(reader, ScmHosts::from_config(config)),
            rules,
            interval,
        }
    }

    /// Like [`Pipeline::new`], but a configuration error is returned.
    pub fn try_new(config: &Config, reader: Arc<dyn UrlReader>) -> Result<Self, String> {
        let interval =
            ProcessingInterval::from_config(config.catalog.processing_interval.as_ref())?;
        let rules = CatalogRules::from_config(config, &config_targets(config))?;
        Ok(Self {
            sources: Sources::new(reader, ScmHosts::from_config(config)),
            rules,
            interval,
        })
    }

    /// Refuses a location that could never be read (a `url` whose host has
    /// no integration and is not on `backend.reading.allow`), so that
    /// registering it stores nothing.
    pub fn check_readable(&self, location: &LocationSpec) -> Result<(), String> {
        self.sources.check_readable(location)
    }

    /// The refresh schedule (`processingInterval: false` disables the loop).
    pub fn interval(&self) -> ProcessingInterval {
        self.interval
    }

    /// Processes one claimed entity. Failures never escape: they are returned
    /// in `errors` (and logged), with `processed: None`.
    pub async fn process(&self, item: &ClaimedEntity) -> ProcessedResult {
        let outcome = self.run_stages(&item.unprocessed).await;
        for e in &outcome.errors {
            tracing::warn!(entity = %item.entity_ref, error.name = %e.name, "processing error: {}", e.message);
        }
        let result_hash = result_hash(&outcome);
        ProcessedResult {
            entity_id: item.entity_id.clone(),
            entity_ref: item.entity_ref.clone(),
            claim_token: item.claim_token.clone(),
            location_key: item.location_key.clone(),
            processed: outcome.processed,
            relations: outcome.relations,
            children: outcome.children,
            errors: outcome.errors,
            refresh_keys: outcome.refresh_keys,
            result_hash,
            next_refresh_secs: self.interval.next_refresh_secs(),
        }
    }
}

fn config_targets(config: &Config) -> Vec<String> {
    config_location_specs(config)
        .into_iter()
        .map(|s| s.target)
        .collect()
}

/// A stable digest of everything a processing run produced, so that an
/// unchanged result skips all writes. Each part is serialized straight into
/// the hasher: a Location that yields 100k children must not be copied.
fn result_hash(outcome: &pipeline::Outcome) -> String {
    struct HashWriter(Sha256);
    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = HashWriter(Sha256::new());
    let mut part = |tag: &[u8], value: &dyn erased::Serialize| {
        w.0.update(tag);
        value.write_json(&mut w);
    };
    part(b"processed", &outcome.processed);
    part(b"relations", &outcome.relations);
    for child in &outcome.children {
        part(b"child", &child.json());
        part(b"key", &child.location_key);
    }
    part(b"errors", &outcome.errors);
    part(b"refreshKeys", &outcome.refresh_keys);
    hex::encode(w.0.finalize())
}

/// Object-safe JSON serialization into a writer, for [`result_hash`].
mod erased {
    pub trait Serialize {
        fn write_json(&self, w: &mut dyn std::io::Write);
    }
    impl<T: serde::Serialize> Serialize for T {
        fn write_json(&self, w: &mut dyn std::io::Write) {
            // Writing into a hasher cannot fail; serializing our own types cannot either.
            serde_json::to_writer(w, self).expect("serializes into the hasher");
        }
    }
}
