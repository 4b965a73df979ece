//! The server under test, in this process: the real app (catalog and
//! scaffolder APIs, the built UI, the processing engine and task workers) on
//! 127.0.0.1 with an in-memory SQLite database.

use greenroom::catalog::processing::{
    config_location_entities, run_until_idle, CONFIG_LOCATIONS_PROVIDER,
};
use greenroom::config::Config;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::paths::{dist_dir, repo_root};

/// The repository's demo catalog, relative to the repository root.
pub const DEMO_CATALOG: &str = "demo/catalog/all.yaml";
/// The shipped Software Templates, relative to the repository root.
pub const TEMPLATES: &str = "templates/all.yaml";

/// An app-config (as JSON) for the server under test: 127.0.0.1 on any port,
/// an in-memory SQLite database, every kind the demo uses allowed, and a
/// `file` location for each of `catalog_files` (relative to the repository
/// root). Tests add their own sections to it.
pub fn config(catalog_files: &[&str]) -> Value {
    let locations: Vec<Value> = catalog_files
        .iter()
        .map(|file| json!({"type": "file", "target": repo_root().join(file).to_string_lossy()}))
        .collect();
    json!({
        "backend": {
            "baseUrl": "http://127.0.0.1",
            "listen": {"host": "127.0.0.1", "port": 0},
            "database": {"client": "better-sqlite3", "connection": ":memory:"}
        },
        "catalog": {
            "rules": [{"allow": [
                "Component", "System", "API", "Resource", "Location",
                "Group", "User", "Template", "Domain"
            ]}],
            "locations": locations
        }
    })
}

/// The real app (API, UI and processing engine) with its catalog locations
/// processed before the first request; stops when dropped.
pub struct Server {
    base: String,
    /// The server's sign-in service: tests mint identity tokens with it.
    pub auth: std::sync::Arc<greenroom::auth::service::AuthService>,
    shutdown: CancellationToken,
    /// Directories the configuration points into; removed after the server stops.
    _dirs: Vec<tempfile::TempDir>,
}

impl Server {
    /// The demo catalog alone.
    pub async fn demo() -> Self {
        Self::start(config(&[DEMO_CATALOG]), Vec::new()).await
    }

    /// Starts the app on `config` (see [`config`]); `dirs` are temporary
    /// directories it uses, kept until the server is dropped.
    pub async fn start(config: Value, dirs: Vec<tempfile::TempDir>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::start_on(config, dirs, listener).await
    }

    /// [`Server::start`] on a listener the test bound itself (to know the
    /// port before the configuration is written, e.g. for OAuth callbacks).
    pub async fn start_on(
        config: Value,
        dirs: Vec<tempfile::TempDir>,
        listener: tokio::net::TcpListener,
    ) -> Self {
        let config = Config::from_value(config).expect("valid test configuration");
        let state = greenroom::connect(config).await.expect("connect");
        state
            .store
            .replace_provider_entities(
                CONFIG_LOCATIONS_PROVIDER,
                config_location_entities(&state.config),
            )
            .await
            .expect("register the catalog locations");
        run_until_idle(state.store.as_ref(), &state.pipeline)
            .await
            .expect("process the catalog");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let shutdown = CancellationToken::new();
        let auth = state.auth.clone();
        tokio::spawn(greenroom::run(
            state,
            listener,
            shutdown.clone(),
            dist_dir(),
        ));
        Self {
            base,
            auth,
            shutdown,
            _dirs: dirs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get_status(&self, path: &str) -> u16 {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .status()
            .as_u16()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
