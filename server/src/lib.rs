//! Greenroom server library: [`connect`] opens the seams, [`app`] builds the
//! router, [`run`] serves it with the catalog's background processing.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod error;
pub mod ops;
pub mod permissions;
pub mod routes;
pub mod scaffolder;
pub mod scm;
pub mod search;
pub mod spa;
pub mod state;
pub mod techdocs;
pub mod telemetry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use greenroom_store::{CatalogStore, SqlStore};
use tokio_util::sync::CancellationToken;
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::catalog::processing::{
    config_location_entities, Engine, Pipeline, CONFIG_LOCATIONS_PROVIDER,
};
use crate::catalog::readers::CompositeReader;
use crate::config::{Config, DatabaseTarget, SqliteLocation};
use crate::ops::HealthChecks;
use crate::state::AppState;

/// Opens the configured database (running migrations) and builds the state
/// with the default seams: the composite URL reader and the allow-all policy.
pub async fn connect(config: Config) -> anyhow::Result<AppState> {
    let target = config.database()?;
    target
        .ensure_directory()
        .context("creating the database directory")?;
    let sql: Arc<SqlStore> = match &target {
        DatabaseTarget::Sqlite(SqliteLocation::Memory) => Arc::new(SqlStore::sqlite(None).await?),
        DatabaseTarget::Sqlite(SqliteLocation::File(path)) => Arc::new(
            SqlStore::sqlite(Some(path))
                .await
                .with_context(|| format!("opening SQLite database {}", path.display()))?,
        ),
        DatabaseTarget::Postgres { url } => Arc::new(
            SqlStore::postgres(url)
                .await
                .with_context(|| format!("connecting to PostgreSQL {}", config::redact_url(url)))?,
        ),
    };
    let store: Arc<dyn CatalogStore> = sql.clone();
    let auth = Arc::new(
        auth::service::AuthService::from_config(&config, sql.clone(), store.clone())
            .map_err(|e| anyhow::anyhow!("invalid auth configuration: {e}"))?,
    );
    let reader = Arc::new(CompositeReader::from_config(&config));
    let policy = permissions::policy::from_config(&config, reader.clone())
        .await
        .map_err(|e| anyhow::anyhow!("invalid permission configuration: {e}"))?;
    let pipeline = Pipeline::try_new(&config, reader)
        .map_err(|e| anyhow::anyhow!("invalid catalog configuration: {e}"))?;
    let config = Arc::new(config);
    let pipeline = Arc::new(pipeline);
    let services = Arc::new(scaffolder::Services::new(
        config.clone(),
        Some(scaffolder::CatalogAccess {
            store: store.clone(),
            pipeline: pipeline.clone(),
        }),
    ));
    let scaffolder = scaffolder::worker::Scaffolder::new(services, sql)
        .map_err(|e| anyhow::anyhow!("invalid scaffolder configuration: {e}"))?;
    let search = open_search_index(&config, &target)?;
    let search = Arc::new(search::SearchService::new(search.0, search.1));
    // Sites live beside the SQLite file; without one, in a temporary folder
    // that goes with the process (they are rebuilt on demand).
    let docs_dir = match &target {
        DatabaseTarget::Sqlite(SqliteLocation::File(path)) => techdocs::SitesDir::Fixed(
            path.parent()
                .map_or_else(|| PathBuf::from("techdocs"), |p| p.join("techdocs")),
        ),
        _ => techdocs::SitesDir::Temporary,
    };
    let techdocs =
        techdocs::TechDocs::from_config(&config, store.clone(), Some(search.clone()), docs_dir)
            .map_err(|e| anyhow::anyhow!("invalid techdocs configuration: {e}"))?;
    Ok(AppState {
        config,
        store,
        pipeline,
        policy,
        auth,
        scaffolder: Some(Arc::new(scaffolder)),
        search: Some(search),
        techdocs: Some(Arc::new(techdocs)),
    })
}

/// The search index: in `search.indexDirectory`, else beside the SQLite file,
/// else in memory. An index that is missing, unreadable or of an older
/// schema starts empty (the flag) and is filled from the database in the
/// background.
fn open_search_index(
    config: &Config,
    database: &DatabaseTarget,
) -> anyhow::Result<(Arc<dyn search::SearchIndex>, bool)> {
    let configured = config
        .search
        .as_ref()
        .and_then(|s| s.0.get("indexDirectory"))
        .and_then(|d| d.as_str());
    let sqlite_file = match database {
        DatabaseTarget::Sqlite(SqliteLocation::File(path)) => Some(path.as_path()),
        _ => None,
    };
    Ok(
        match search::engine::index_directory(configured, sqlite_file) {
            Some(dir) => {
                let (index, created) = search::engine::TantivyIndex::open_or_create(&dir)
                    .with_context(|| format!("opening the search index {}", dir.display()))?;
                if created {
                    tracing::info!(dir = %dir.display(), "new search index: it is filled from the catalog in the background");
                }
                (Arc::new(index), created)
            }
            None => (Arc::new(search::engine::TantivyIndex::in_memory()?), true),
        },
    )
}

/// The whole HTTP surface: plugin APIs under `/api/<plugin>`, health and
/// metrics, then the single-page app for every other path.
pub fn app(state: AppState, dist_dir: PathBuf) -> Router {
    let store = state.store.clone();
    let checks = HealthChecks::new().with_fn("database", move || {
        let store = store.clone();
        async move {
            store
                .change_sequence()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    });
    // API answers are JSON that gzip shrinks ~10x; clients that do not send
    // `Accept-Encoding: gzip` get them as before. The fastest level: a catalog
    // page compresses in well under a millisecond.
    let compression = CompressionLayer::new()
        .gzip(true)
        .quality(CompressionLevel::Fastest);
    let mut router = Router::new();
    for (prefix, plugin, _) in api_routers() {
        router = router.nest(prefix, plugin.layer(compression.clone()));
    }
    router
        .merge(ops::router(checks))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::middleware::authenticate,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(ops::track_http_metrics))
        .fallback_service(spa::spa_service(dist_dir))
}

/// Every API plugin: its mount point, router and route table.
fn api_routers() -> Vec<(&'static str, Router<AppState>, Vec<routes::RouteInfo>)> {
    let plugins = [
        ("/api/catalog", catalog::api::router()),
        ("/api/scaffolder", scaffolder::api::router()),
        ("/api/search", search::api::router()),
        ("/api/techdocs", techdocs::api::router()),
        ("/api/auth", auth::api::router()),
        ("/api/permission", permissions::api::router()),
        ("/api/audit", permissions::api::audit_router()),
    ];
    plugins
        .into_iter()
        .map(|(prefix, (router, table))| (prefix, router, table))
        .collect()
}

/// Every API route and who may call it (the permission matrix test walks it).
pub fn route_table() -> Vec<routes::RouteInfo> {
    api_routers()
        .into_iter()
        .flat_map(|(_, _, table)| table)
        .collect()
}

/// Where the built single-page app lives (`GREENROOM_DIST_DIR`, default `dist`).
pub fn dist_dir() -> PathBuf {
    std::env::var_os("GREENROOM_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("dist"))
}

/// Serves `state` on `listener` until `shutdown` fires: registers the
/// configured locations, runs the processing engine and keeps the entity
/// gauges current. The web UI is served from `dist`.
pub async fn run(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
    dist: PathBuf,
) -> anyhow::Result<()> {
    state
        .store
        .replace_provider_entities(
            CONFIG_LOCATIONS_PROVIDER,
            config_location_entities(&state.config),
        )
        .await
        .context("registering catalog.locations")?;
    let engine = Engine::spawn(
        state.store.clone(),
        state.pipeline.clone(),
        &state.config,
        shutdown.clone(),
    );
    let providers = catalog::providers::from_config(&state.config)
        .map_err(|e| anyhow::anyhow!("invalid catalog.providers: {e}"))?;
    let providers = tokio::spawn(catalog::providers::run_all(
        providers,
        state.store.clone(),
        shutdown.clone(),
    ));
    let housekeeping = tokio::spawn(state.auth.clone().housekeeping(shutdown.clone()));
    let gauges = tokio::spawn(update_entity_gauges(state.store.clone(), shutdown.clone()));
    let tasks = state.scaffolder.as_ref().map(|s| s.spawn(shutdown.clone()));
    let search = state
        .search
        .clone()
        .map(|s| tokio::spawn(s.follow(state.store.clone(), shutdown.clone())));
    let docs = state
        .techdocs
        .clone()
        .map(|t| tokio::spawn(t.run(shutdown.clone())));
    let addr = listener.local_addr()?;
    tracing::info!(%addr, base_url = %state.config.base_url(), "greenroom listening");
    let router = app(state, dist);
    let stop = shutdown.clone();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stop.cancelled().await })
    .await?;
    shutdown.cancel();
    let _ = engine.await;
    let _ = gauges.await;
    let _ = providers.await;
    let _ = housekeeping.await;
    for task in [tasks, search, docs].into_iter().flatten() {
        let _ = task.await;
    }
    Ok(())
}

/// Publishes `greenroom_catalog_entities{kind}` every few seconds.
async fn update_entity_gauges(store: Arc<dyn CatalogStore>, shutdown: CancellationToken) {
    loop {
        if let Ok(counts) = store.counts_by_kind().await {
            for (kind, n) in counts {
                metrics::gauge!("greenroom_catalog_entities", "kind" => kind).set(n as f64);
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(15)) => {}
        }
    }
}

/// `greenroom serve`: bind the configured address and run until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = format!(
        "{}:{}",
        config.backend.listen.host, config.backend.listen.port
    );
    let state = connect(config).await?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        signal.cancel();
    });
    run(state, listener, shutdown, dist_dir()).await
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn memory_app() -> Router {
        let config = Config::from_value(serde_json::json!({
            "backend": {"database": {"client": "better-sqlite3", "connection": ":memory:"}}
        }))
        .expect("valid configuration");
        let state = connect(config).await.expect("connect");
        app(state, PathBuf::from("does-not-exist"))
    }

    async fn get(
        app: &Router,
        path: &str,
        accept_encoding: Option<&str>,
    ) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut request = Request::get(path);
        if let Some(encoding) = accept_encoding {
            request = request.header(header::ACCEPT_ENCODING, encoding);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, encoding, body.to_vec())
    }

    #[tokio::test]
    async fn api_answers_are_gzipped_only_for_clients_that_accept_it() {
        let app = memory_app().await;
        let path = "/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=spec.lifecycle";

        let (status, encoding, plain) = get(&app, path, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(encoding, None);
        let plain: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert!(plain["facets"]["kind"].is_array(), "{plain}");

        let (status, encoding, gzipped) = get(&app, path, Some("gzip, deflate, br")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert_eq!(
            &gzipped[..2],
            b"\x1f\x8b",
            "a gzip stream starts with its magic bytes"
        );
    }
}
