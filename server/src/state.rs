//! Application state: the seams, held as trait objects and swapped in tests.

use std::sync::Arc;

use greenroom_store::CatalogStore;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn CatalogStore>,
}
