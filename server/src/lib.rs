//! Greenroom server library: [`connect`] opens the seams, [`app`] builds the
//! router, [`run`] serves it with the catalog's background processing.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod error;
pub mod ops;
pub mod permissions;
pub mod spa;
pub mod state;
pub mod telemetry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use greenroom_store::{CatalogStore, SqlStore};
use tokio_util::sync::CancellationToken;

use crate::catalog::processing::{
    config_location_entities, Engine, Pipeline, CONFIG_LOCATIONS_PROVIDER,
};
use crate::catalog::readers::CompositeReader;
use crate::config::{Config, DatabaseTarget, SqliteLocation};
use crate::ops::HealthChecks;
use crate::permissions::AllowAllPolicy;
use crate::state::AppState;

/// Opens the configured database (running migrations) and builds the state
/// with the default seams: the composite URL reader and the allow-all policy.
pub async fn connect(config: Config) -> anyhow::Result<AppState> {
    let target = config.database()?;
    target
        .ensure_directory()
        .context("creating the database directory")?;
    let store: Arc<dyn CatalogStore> = match &target {
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
    let reader = Arc::new(CompositeReader::from_config(&config));
    let pipeline = Pipeline::try_new(&config, reader)
        .map_err(|e| anyhow::anyhow!("invalid catalog configuration: {e}"))?;
    Ok(AppState {
        config: Arc::new(config),
        store,
        pipeline: Arc::new(pipeline),
        policy: Arc::new(AllowAllPolicy),
    })
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
    Router::new()
        .nest("/api/catalog", catalog::api::router())
        .merge(ops::router(checks))
        .with_state(state)
        .layer(axum::middleware::from_fn(ops::track_http_metrics))
        .fallback_service(spa::spa_service(dist_dir))
}

/// Where the built single-page app lives (`GREENROOM_DIST_DIR`, default `dist`).
pub fn dist_dir() -> PathBuf {
    std::env::var_os("GREENROOM_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("dist"))
}

/// Serves `state` on `listener` until `shutdown` fires: registers the
/// configured locations, runs the processing engine and keeps the entity
/// gauges current.
pub async fn run(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
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
    let gauges = tokio::spawn(update_entity_gauges(state.store.clone(), shutdown.clone()));
    let addr = listener.local_addr()?;
    tracing::info!(%addr, base_url = %state.config.base_url(), "greenroom listening");
    let router = app(state, dist_dir());
    let stop = shutdown.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    shutdown.cancel();
    let _ = engine.await;
    let _ = gauges.await;
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
    run(state, listener, shutdown).await
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
