//! HTTP entry point of the service.
//!
//! `GET /` says hello, `GET /healthz` is the liveness and readiness probe.
//! Configuration comes from the environment: `PORT` (default 8080),
//! `RUST_LOG` (default `info`) and `DATABASE_URL` when the service has a
//! database.

use std::{env, net::SocketAddr};

use axum::{extract::State, routing::get, Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tracing::info;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Default)]
struct AppState {
    /// Host of the configured database, without credentials.
    database_host: Option<String>,
}

#[derive(Serialize)]
struct Hello {
    service: &'static str,
    version: &'static str,
    database: Option<String>,
}

async fn hello(State(state): State<AppState>) -> Json<Hello> {
    Json(Hello {
        service: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        database: state.database_host,
    })
}

async fn healthz() -> &'static str {
    "ok"
}

fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(hello))
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// The host (and port) part of a connection URL such as
/// `postgres://user:secret@db.internal:5432/app`, so it can be logged
/// without the password.
fn database_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or_default().to_owned()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c()
            .await
            .expect("install the Ctrl+C handler");
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler")
            .recv()
            .await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    let database_host = env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .map(|url| database_host(&url));
    match &database_host {
        Some(host) => info!(%host, "DATABASE_URL is set"),
        None => info!("DATABASE_URL is not set; running without a database"),
    }

    let port = env::var("PORT")
        .ok()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or(8080);
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = TcpListener::bind(addr).await?;
    info!(%addr, "listening");

    axum::serve(listener, app(AppState { database_host }))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{
        body::Body,
        http::{Request, StatusCode},
    };
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_is_ok() {
        let response = app(AppState::default())
            .oneshot(Request::builder().uri("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[test]
    fn database_host_drops_credentials() {
        assert_eq!(
            database_host("postgres://app:s3cret@db.internal:5432/app?sslmode=require"),
            "db.internal:5432"
        );
        assert_eq!(database_host("db.internal"), "db.internal");
    }
}
