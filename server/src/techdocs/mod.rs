//! TechDocs: builds an entity's mkdocs project natively (the `greenroom-techdocs`
//! crate), publishes the site to docs storage and its pages to search, and
//! serves Backstage's `/api/techdocs` routes. Sites are built on `/sync`, and in
//! the background whenever a documented entity's source changes.

pub mod api;
pub mod s3;
pub mod source;
pub mod storage;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use greenroom_model::Entity;
use greenroom_store::{CatalogStore, ChangeCursor};
use greenroom_techdocs::{BuildOptions, BuiltPage, Section};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::scm::ScmHosts;
use crate::search::{docs as search_docs, SearchService};
use source::{DocsLocation, SourceError};
use storage::{DocsStorage, LocalStorage, SiteKey};

/// How often the catalog's change sequence is checked for documented entities.
const CATALOG_POLL: Duration = Duration::from_secs(2);

fn documented(entity: &Entity) -> bool {
    entity
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(greenroom_model::annotations::TECHDOCS_REF))
        .is_some()
}

/// What `/sync` streams while a site is prepared.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    Log(String),
    Finish { updated: bool },
    Error(String),
}

pub struct TechDocs {
    store: Arc<dyn CatalogStore>,
    pub storage: Arc<dyn DocsStorage>,
    scm: ScmHosts,
    search: Option<Arc<SearchService>>,
    /// `techdocs.builder: external`: sites are built by CI and only served here.
    external: bool,
    refresh: Option<Duration>,
    /// One build per site at a time; a second `/sync` waits and then finds the
    /// site current.
    building: Mutex<HashMap<SiteKey, Arc<tokio::sync::Mutex<()>>>>,
    /// The temporary sites folder, removed with the service.
    _temporary: Option<tempfile::TempDir>,
}

/// Where sites are kept when `publishDirectory` is not configured.
pub enum SitesDir {
    Fixed(PathBuf),
    Temporary,
}

/// The settings of the `techdocs` section this server reads.
fn setting<'a>(config: &'a Config, path: &[&str]) -> Option<&'a Value> {
    let mut value = config.techdocs.as_ref().map(|t| &t.0)?;
    for key in path {
        value = value.get(*key)?;
    }
    Some(value)
}

impl TechDocs {
    /// Storage by `techdocs.publisher.type`: `local` (the default) keeps sites
    /// in `techdocs.publisher.local.publishDirectory`, else in `default_dir`
    /// (beside the SQLite file, or a temporary folder); `awsS3` keeps them in
    /// the bucket of `techdocs.publisher.awsS3`, shared by every replica.
    pub fn from_config(
        config: &Config,
        store: Arc<dyn CatalogStore>,
        search: Option<Arc<SearchService>>,
        default_dir: SitesDir,
    ) -> anyhow::Result<Self> {
        let publisher = setting(config, &["publisher", "type"])
            .and_then(Value::as_str)
            .unwrap_or("local");
        let (storage, temporary): (Arc<dyn DocsStorage>, _) = match publisher {
            "local" => {
                let configured = setting(config, &["publisher", "local", "publishDirectory"])
                    .and_then(Value::as_str)
                    .map(PathBuf::from);
                let (dir, temporary) = match (configured, default_dir) {
                    (Some(dir), _) | (None, SitesDir::Fixed(dir)) => (dir, None),
                    (None, SitesDir::Temporary) => {
                        let temp = tempfile::Builder::new()
                            .prefix("greenroom-techdocs-")
                            .tempdir()?;
                        (temp.path().to_path_buf(), Some(temp))
                    }
                };
                (Arc::new(LocalStorage::new(dir)), temporary)
            }
            "awsS3" => (
                Arc::new(s3::S3Storage::from_config(setting(
                    config,
                    &["publisher", "awsS3"],
                ))?),
                None,
            ),
            other => anyhow::bail!(
                "techdocs.publisher.type '{other}' is not supported; use 'local' or 'awsS3'"
            ),
        };
        let builder = setting(config, &["builder"])
            .and_then(Value::as_str)
            .unwrap_or("local");
        let external = match builder {
            "local" => false,
            "external" => true,
            other => anyhow::bail!("techdocs.builder must be 'local' or 'external', not '{other}'"),
        };
        let refresh = match setting(config, &["refreshIntervalSeconds"]) {
            None => Some(Duration::from_secs(60)),
            Some(Value::Bool(false)) => None,
            Some(v) => Some(Duration::from_secs(
                v.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                    anyhow::anyhow!("techdocs.refreshIntervalSeconds must be a positive number of seconds or false")
                })?,
            )),
        };
        Ok(TechDocs {
            store,
            storage,
            scm: ScmHosts::from_config(config),
            search,
            external,
            refresh: if external { None } else { refresh },
            building: Mutex::default(),
            _temporary: temporary,
        })
    }

    pub fn locate(&self, entity: &Entity) -> Result<DocsLocation, SourceError> {
        source::locate(entity, &self.scm)
    }

    /// Builds and publishes the site of `entity` when its source changed since
    /// the published build. Progress goes to `log`; returns whether it rebuilt.
    pub async fn sync(
        &self,
        entity: &Entity,
        log: &mpsc::Sender<SyncEvent>,
    ) -> Result<bool, String> {
        let key = site_key(entity);
        if self.external {
            return Ok(false);
        }
        let say = |line: String| {
            let log = log.clone();
            async move {
                let _ = log.send(SyncEvent::Log(line)).await;
            }
        };
        let lock = {
            let mut building = self.building.lock().expect("build locks");
            building.entry(key.clone()).or_default().clone()
        };
        let _guard = lock.lock().await;
        let location = self.locate(entity).map_err(|e| e.to_string())?;
        say(format!(
            "Preparing docs for {} from {}",
            key.entity_ref(),
            location.metadata()["target"]
        ))
        .await;
        let previous = self.metadata(&key).await;
        let built_etag = previous
            .as_ref()
            .and_then(|m| m["etag"].as_str())
            .map(str::to_string);
        // A Git folder's version is known without cloning it.
        let version = source::remote_version(&location, &self.scm)
            .await
            .map_err(|e| e.to_string())?;
        if version.is_some() && version == built_etag {
            say("The docs are up to date".to_string()).await;
            return Ok(false);
        }
        let prepared = source::prepare(&location, &self.scm, version)
            .await
            .map_err(|e| e.to_string())?;
        if built_etag.as_deref() == Some(prepared.etag.as_str()) {
            say("The docs are up to date".to_string()).await;
            return Ok(false);
        }
        let options = BuildOptions {
            fallback_site_name: entity_title(entity),
            etag: Some(prepared.etag.clone()),
            build_timestamp_ms: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            ..BuildOptions::default()
        };
        let dir = prepared.dir.clone();
        let started = std::time::Instant::now();
        let site =
            tokio::task::spawn_blocking(move || greenroom_techdocs::build_site(&dir, &options))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("Failed to build the docs: {e}"))?;
        for warning in &site.warnings {
            say(format!("warning: {warning}")).await;
        }
        say(format!(
            "Built {} pages in {} ms",
            site.pages.len(),
            started.elapsed().as_millis()
        ))
        .await;
        self.storage
            .publish(&key, &site.files)
            .await
            .map_err(|e| e.to_string())?;
        say(format!("Published {} files", site.files.len())).await;
        let old_pages: Vec<String> = previous
            .as_ref()
            .and_then(|m| m["pages"].as_array())
            .map(|pages| {
                pages
                    .iter()
                    .filter_map(|p| p["url"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        self.index_pages(entity, &site.pages, &old_pages).await;
        Ok(true)
    }

    /// The published `techdocs_metadata.json`, when there is one.
    pub async fn metadata(&self, key: &SiteKey) -> Option<Value> {
        let bytes = self
            .storage
            .read(key, greenroom_techdocs::METADATA_FILE)
            .await
            .ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    async fn index_pages(&self, entity: &Entity, pages: &[BuiltPage], old_urls: &[String]) {
        let Some(search) = &self.search else { return };
        let docs = search_docs::documents(entity, pages);
        let entity_ref = site_key(entity).entity_ref();
        let current: std::collections::HashSet<&str> =
            pages.iter().map(|p| p.url.as_str()).collect();
        let gone = old_urls
            .iter()
            .filter(|u| !current.contains(u.as_str()))
            .map(|u| search_docs::page_id(&entity_ref, u))
            .collect();
        if let Err(e) = search.replace_documents(docs, gone).await {
            tracing::warn!(error = %e, entity = %entity_ref, "indexing docs pages failed");
        }
    }

    /// Keeps sites current: builds the docs of every documented entity that
    /// the catalog writes (new or changed, following the change sequence), and
    /// every refresh interval re-checks the sources of the published sites, so
    /// an edit of the docs alone is picked up too. After a search index
    /// rebuild, feeds it the pages of the published sites.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        self.reindex_published(&shutdown).await;
        let Some(every) = self.refresh else { return };
        let mut cursor = ChangeCursor::default();
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            self.follow_catalog(&mut cursor, &shutdown).await;
            if last_sweep.is_none_or(|t| t.elapsed() >= every) {
                self.recheck_published(&shutdown).await;
                last_sweep = Some(std::time::Instant::now());
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(CATALOG_POLL) => {}
            }
        }
    }

    /// Syncs the documented entities written since `cursor`.
    async fn follow_catalog(&self, cursor: &mut ChangeCursor, shutdown: &CancellationToken) {
        loop {
            let page = match self.store.entities_changed_after(cursor, 500).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "reading catalog changes for docs failed");
                    return;
                }
            };
            let Some(last) = page.last() else { return };
            *cursor = ChangeCursor::after(last);
            for changed in page {
                if shutdown.is_cancelled() {
                    return;
                }
                if documented(&changed.entity) {
                    self.sync_quietly(&changed.entity).await;
                }
            }
        }
    }

    async fn recheck_published(&self, shutdown: &CancellationToken) {
        let Ok(sites) = self.storage.sites().await else {
            return;
        };
        for key in sites {
            if shutdown.is_cancelled() {
                return;
            }
            if let Ok(Some(entity)) = self.store.entity_by_ref(&key.entity_ref()).await {
                self.sync_quietly(&entity).await;
            }
        }
    }

    /// A background sync: its log goes nowhere, its outcome to the log.
    async fn sync_quietly(&self, entity: &Entity) {
        let (tx, mut rx) = mpsc::channel(64);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let key = site_key(entity);
        match self.sync(entity, &tx).await {
            Ok(true) => tracing::info!(entity = %key.entity_ref(), "docs rebuilt"),
            Ok(false) => {}
            Err(e) => tracing::debug!(entity = %key.entity_ref(), error = %e, "docs not built"),
        }
        drop(tx);
        let _ = drain.await;
    }

    /// A rebuilt search index has no docs pages: they come from the sites in
    /// storage (their search index file), not from the catalog.
    async fn reindex_published(&self, shutdown: &CancellationToken) {
        let Some(search) = &self.search else { return };
        while !search.is_ready() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
        if search.has_docs().await.unwrap_or(true) {
            return;
        }
        let Ok(sites) = self.storage.sites().await else {
            return;
        };
        for key in sites {
            let Ok(Some(entity)) = self.store.entity_by_ref(&key.entity_ref()).await else {
                continue;
            };
            let Ok(Some(bytes)) = self
                .storage
                .read(&key, greenroom_techdocs::SEARCH_INDEX_FILE)
                .await
            else {
                continue;
            };
            let Ok(index) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            self.index_pages(&entity, &pages_from_search_index(&index), &[])
                .await;
        }
    }
}

/// The pages of a published site from its mkdocs search index: an entry per
/// page, then one per section (`url#id`).
fn pages_from_search_index(index: &Value) -> Vec<BuiltPage> {
    let mut pages: Vec<BuiltPage> = Vec::new();
    for doc in index["docs"].as_array().into_iter().flatten() {
        let location = doc["location"].as_str().unwrap_or_default();
        let title = doc["title"].as_str().unwrap_or_default().to_string();
        let text = doc["text"].as_str().unwrap_or_default().to_string();
        match location.split_once('#') {
            None => pages.push(BuiltPage {
                src: String::new(),
                url: location.to_string(),
                title,
                edit_url: None,
                text,
                sections: Vec::new(),
            }),
            Some((url, id)) => {
                if let Some(page) = pages.iter_mut().rev().find(|p| p.url == url) {
                    page.sections.push(Section {
                        level: 2,
                        id: id.to_string(),
                        title,
                        text,
                    });
                }
            }
        }
    }
    pages
}

/// Content types of the files a docs site holds.
pub fn mime_for(path: &str) -> &'static str {
    let ext = path
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" | "md" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

pub fn site_key(entity: &Entity) -> SiteKey {
    let get = |path: &[&str]| {
        let mut v: Option<&Value> = entity.get(path[0]);
        for k in &path[1..] {
            v = v.and_then(|x| x.get(*k));
        }
        v.and_then(Value::as_str).unwrap_or("").to_string()
    };
    let namespace = get(&["metadata", "namespace"]);
    SiteKey::new(
        if namespace.is_empty() {
            "default"
        } else {
            &namespace
        },
        &get(&["kind"]),
        &get(&["metadata", "name"]),
    )
}

fn entity_title(entity: &Entity) -> String {
    let meta = entity.get("metadata");
    meta.and_then(|m| m.get("title"))
        .or_else(|| meta.and_then(|m| m.get("name")))
        .and_then(Value::as_str)
        .unwrap_or("Documentation Site")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn published_search_indexes_give_back_pages_and_sections() {
        let pages = pages_from_search_index(&json!({"docs": [
            {"location": "", "title": "Home", "text": "Home text"},
            {"location": "#home", "title": "Home", "text": "text"},
            {"location": "guide/", "title": "Guide", "text": "Guide setup"},
            {"location": "guide/#setup", "title": "Setup", "text": "setup"},
        ]}));
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1].url, "guide/");
        assert_eq!(pages[1].sections[0].id, "setup");
        assert_eq!(pages[0].sections[0].id, "home");
    }
}
