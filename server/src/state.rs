//! Application state: the seams, held as trait objects and swapped in tests.

use std::sync::Arc;

use greenroom_store::CatalogStore;

use crate::catalog::processing::Pipeline;
use crate::config::Config;
use crate::permissions::PermissionPolicy;
use crate::scaffolder::worker::Scaffolder;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn CatalogStore>,
    /// The entity processing pipeline, shared by the background loop and the
    /// synchronous endpoints (dry-run locations, validate-entity, analyze-location).
    pub pipeline: Arc<Pipeline>,
    pub policy: Arc<dyn PermissionPolicy>,
    /// Sign-in providers, sessions, tokens and the audit log.
    pub auth: Arc<crate::auth::service::AuthService>,
    /// Task storage, actions and workers of the scaffolder.
    pub scaffolder: Option<Arc<Scaffolder>>,
    /// The search index and its follower of catalog changes.
    pub search: Option<Arc<crate::search::SearchService>>,
    /// Docs building, storage and serving.
    pub techdocs: Option<Arc<crate::techdocs::TechDocs>>,
}
