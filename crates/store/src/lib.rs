//! Catalog storage: one [`CatalogStore`] contract with SQLite and PostgreSQL
//! implementations. Both use runtime queries; the SQL text is shared wherever
//! the dialects agree (`$N` placeholders work on both), and each dialect has its
//! own migration folder.

mod auth;
mod connect;
mod query;
mod sql;
mod store;
mod tasks;
pub mod testing;
mod types;

pub use auth::*;
pub use store::{SqlStore, LOCATION_STORE_PROVIDER};
pub use tasks::*;
pub use types::*;

use async_trait::async_trait;
use greenroom_model::filter::{EntityFilter, OrderField};
use greenroom_model::Entity;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Input(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data could not be decoded: {0}")]
    Decode(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything the catalog keeps. Methods are coarse on purpose: the processing
/// loop claims and writes whole batches in one transaction each, which is what
/// keeps 100k entities fast on SQLite.
#[async_trait]
pub trait CatalogStore: Send + Sync + 'static {
    // ---- locations registered through the API -------------------------------------------
    /// Stores a location and seeds its generated `Location` entity (owned by the
    /// location-store provider). Conflict when type+target already exists.
    async fn add_location(&self, spec: &LocationSpec, entity: Entity) -> Result<Location>;
    async fn list_locations(&self) -> Result<Vec<Location>>;
    async fn get_location(&self, id: &str) -> Result<Option<Location>>;
    async fn find_location(&self, kind_type: &str, target: &str) -> Result<Option<Location>>;
    /// Points a location at a new type and target, keeping its id: the old
    /// generated `Location` entity goes (with what only it reached) and the new
    /// one is seeded. Conflict when another location has that type and target.
    async fn update_location(
        &self,
        id: &str,
        spec: &LocationSpec,
        entity: Entity,
    ) -> Result<Location>;
    /// Removes the location and, eagerly, every entity only reachable through it.
    async fn delete_location(&self, id: &str) -> Result<Location>;

    // ---- providers ------------------------------------------------------------------------
    /// A full mutation: after the call, `provider` owns exactly `entities`.
    /// Entities it no longer lists lose that reference (they become orphans or are
    /// deleted with their subtree, like Backstage's full mutation).
    async fn replace_provider_entities(
        &self,
        provider: &str,
        entities: Vec<DeferredEntity>,
    ) -> Result<()>;

    // ---- processing -------------------------------------------------------------------------
    /// Claims up to `limit` entities whose `next_update_at` is due and pushes their
    /// next run `lease_secs` ahead so no other worker (or replica) takes them.
    async fn claim_due(&self, limit: usize, lease_secs: i64) -> Result<Vec<ClaimedEntity>>;
    /// Writes a batch of processing outcomes in one transaction and queues the
    /// stitching they make necessary. Children are inserted or updated subject to
    /// the location-key conflict rule; conflicts are returned, not fatal.
    async fn write_processed(&self, results: Vec<ProcessedResult>) -> Result<WriteReport>;
    /// Stitches up to `limit` queued entities; returns how many were handled.
    async fn stitch_pending(&self, limit: usize) -> Result<usize>;
    /// Number of entities still waiting to be processed for the first time or stitched.
    async fn pending_work(&self) -> Result<PendingWork>;
    /// Reschedules an entity (and, with its ancestors, the location chain) for processing now.
    async fn schedule_refresh(&self, entity_ref: &str, with_ancestors: bool) -> Result<bool>;
    /// Deletes stitched entities marked as orphans; returns how many were removed.
    async fn delete_orphans(&self) -> Result<usize>;

    // ---- reads ------------------------------------------------------------------------------
    async fn query_entities(&self, query: &EntityQuery) -> Result<EntityPage>;
    async fn entities_by_refs(
        &self,
        refs: &[String],
        filter: Option<&EntityFilter>,
    ) -> Result<Vec<Option<Entity>>>;
    async fn entity_by_uid(&self, uid: &str) -> Result<Option<Entity>>;
    async fn entity_by_ref(&self, entity_ref: &str) -> Result<Option<Entity>>;
    /// Deletes the entity by uid and schedules its parents for reprocessing.
    async fn delete_entity_by_uid(&self, uid: &str) -> Result<bool>;
    /// Parents of an entity as recorded by processing (entity refs of emitters).
    async fn parent_refs(&self, entity_ref: &str) -> Result<Vec<String>>;
    async fn facets(
        &self,
        facets: &[String],
        filter: Option<&EntityFilter>,
    ) -> Result<Vec<(String, Vec<FacetCount>)>>;
    /// Counts of stitched entities per kind (for metrics).
    async fn counts_by_kind(&self) -> Result<Vec<(String, i64)>>;
    /// A monotonically increasing number that changes whenever stitched data changes.
    async fn change_sequence(&self) -> Result<i64>;
    /// Stitched entities written after `after`, in (sequence, ref) order (an
    /// entity written again appears once, at its latest sequence).
    async fn entities_changed_after(
        &self,
        after: &ChangeCursor,
        limit: usize,
    ) -> Result<Vec<ChangedEntity>>;
    /// The refs of every stitched entity (what a follower compares to find deletions).
    async fn all_entity_refs(&self) -> Result<Vec<String>>;
    /// How many write transactions the database runs at once to advantage:
    /// the number of processing loops worth running against it.
    fn concurrent_writers(&self) -> usize {
        1
    }
}

/// Order and page of an entity query. `order` empty means stable entity-ref order.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    pub filter: Option<EntityFilter>,
    pub order: Vec<OrderField>,
    pub full_text: Option<FullTextFilter>,
    pub page: Page,
    /// Whether to compute `total_items`.
    pub count_total: bool,
    /// Apply every order field, keeping entities that lack one (sorted last).
    /// Paginated GET /entities works this way; by-query and the unpaginated list
    /// apply only the first field and drop entities lacking it, as Backstage does.
    pub all_order_fields: bool,
}

pub use greenroom_model::filter::SortOrder;
