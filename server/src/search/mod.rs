//! Search: one index over the catalog (Tantivy by default, behind
//! [`SearchIndex`]), kept current by following the catalog's change
//! sequence, and served by Backstage's `GET /api/search/query`.

pub mod api;
pub mod docs;
pub mod document;
pub mod engine;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenroom_store::{CatalogStore, ChangeCursor};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use document::{SearchDocument, CATALOG_TYPE};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query is not one the index can answer (400).
    #[error("{0}")]
    Input(String),
    #[error("search index: {0}")]
    Engine(String),
}

/// A filter: the field must have one of the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub term: String,
    /// Document types; empty means all.
    pub types: Vec<String>,
    pub filters: Vec<Filter>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub doc_type: String,
    pub document: Value,
    pub score: f32,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub total: usize,
}

/// The search engine seam. Calls block (disk and CPU): run them on a
/// blocking thread.
pub trait SearchIndex: Send + Sync {
    fn query(&self, query: &SearchQuery) -> Result<SearchPage, SearchError>;
    /// Replaces `upserts` (by id), removes `deletes`, and records `cursor` as
    /// the position reached, durably, before returning.
    fn apply(
        &self,
        upserts: &[SearchDocument],
        deletes: &[String],
        cursor: &ChangeCursor,
    ) -> Result<(), SearchError>;
    /// The position the index has reached; None for an empty index.
    fn cursor(&self) -> Option<ChangeCursor>;
    /// The ids of the indexed documents.
    fn ids(&self) -> Result<HashSet<String>, SearchError>;
}

/// The index and whether it has caught up with the catalog since start.
pub struct SearchService {
    pub index: Arc<dyn SearchIndex>,
    ready: AtomicBool,
    /// The index started empty (new, or rebuilt): until it has caught up it
    /// would answer with part of the catalog, so it answers 503 instead.
    fresh: bool,
    /// Highlight tags, random per process as Backstage's (so no document
    /// text can fake them).
    pub pre_tag: String,
    pub post_tag: String,
}

/// How often the follower looks at the change sequence: a new entity is
/// searchable within this plus one page write.
const POLL: Duration = Duration::from_millis(250);
const PAGE: usize = 2000;

impl SearchService {
    pub fn new(index: Arc<dyn SearchIndex>, fresh: bool) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        SearchService {
            index,
            ready: AtomicBool::new(false),
            fresh,
            pre_tag: format!("<{tag}>"),
            post_tag: format!("</{tag}>"),
        }
    }

    /// Whether queries get complete answers: the index was kept from an
    /// earlier run, or the first catch-up after start has finished.
    pub fn is_ready(&self) -> bool {
        !self.fresh || self.ready.load(Ordering::Acquire)
    }

    /// Keeps the index current until `shutdown`: indexes what was written
    /// after its cursor, then removes what is no longer in the catalog, each
    /// time the change sequence moves.
    pub async fn follow(
        self: Arc<Self>,
        store: Arc<dyn CatalogStore>,
        shutdown: CancellationToken,
    ) {
        let mut last_sequence = None;
        let mut known: Option<HashSet<String>> = None;
        loop {
            match self
                .catch_up(store.as_ref(), &mut last_sequence, &mut known)
                .await
            {
                Ok(()) => self.ready.store(true, Ordering::Release),
                Err(e) => tracing::warn!(error = %e, "updating the search index failed; retrying"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Replaces documents that do not follow the catalog's change sequence
    /// (docs pages): the index keeps the position it has reached.
    pub async fn replace_documents(
        &self,
        upserts: Vec<SearchDocument>,
        deletes: Vec<String>,
    ) -> Result<(), SearchError> {
        let at = self.index.cursor().unwrap_or_default();
        blocking(&self.index, move |i| i.apply(&upserts, &deletes, &at)).await
    }

    /// Whether any docs page is indexed (after a rebuild, none is).
    pub async fn has_docs(&self) -> Result<bool, SearchError> {
        let ids = blocking(&self.index, |i| i.ids()).await?;
        Ok(ids.iter().any(|id| docs::is_docs_id(id)))
    }

    async fn catch_up(
        &self,
        store: &dyn CatalogStore,
        last_sequence: &mut Option<i64>,
        known: &mut Option<HashSet<String>>,
    ) -> anyhow::Result<()> {
        let sequence = store.change_sequence().await?;
        if *last_sequence == Some(sequence) {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let index = self.index.clone();
        let mut known_ids = match known.take() {
            Some(k) => k,
            // Docs pages are not the follower's: TechDocs replaces them per site.
            None => blocking(&index, |i| i.ids())
                .await?
                .into_iter()
                .filter(|id| !docs::is_docs_id(id))
                .collect(),
        };
        let mut cursor = self.index.cursor().unwrap_or_default();
        let mut indexed = 0usize;
        loop {
            let page = store.entities_changed_after(&cursor, PAGE).await?;
            let Some(last) = page.last() else { break };
            cursor = ChangeCursor::after(last);
            let docs: Vec<SearchDocument> = page
                .iter()
                .map(|c| document::from_entity(&c.entity))
                .collect();
            known_ids.extend(docs.iter().map(|d| d.id.clone()));
            indexed += docs.len();
            let at = cursor.clone();
            blocking(&index, move |i| i.apply(&docs, &[], &at)).await?;
        }
        let current: HashSet<String> = store
            .all_entity_refs()
            .await?
            .into_iter()
            .map(|r| r.to_lowercase())
            .collect();
        let gone: Vec<String> = known_ids.difference(&current).cloned().collect();
        if !gone.is_empty() {
            let at = cursor.clone();
            let deletes = gone.clone();
            blocking(&index, move |i| i.apply(&[], &deletes, &at)).await?;
        }
        if indexed > 0 || !gone.is_empty() {
            tracing::info!(
                indexed,
                removed = gone.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "search index updated"
            );
        }
        *known = Some(current);
        *last_sequence = Some(sequence);
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(
    index: &Arc<dyn SearchIndex>,
    f: impl FnOnce(&dyn SearchIndex) -> Result<T, SearchError> + Send + 'static,
) -> Result<T, SearchError> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || f(index.as_ref()))
        .await
        .map_err(|e| SearchError::Engine(e.to_string()))?
}
