//! A loopback HTTP server serving fixed files: the stand-in for a remote
//! host that `url` locations are read from.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

/// A stand-in for a Git host's raw file URLs: serves fixed files on 127.0.0.1.
pub struct FileHost {
    base: String,
    shutdown: CancellationToken,
}

impl FileHost {
    pub async fn start(files: HashMap<String, String>) -> Self {
        async fn serve(
            State(files): State<Arc<HashMap<String, String>>>,
            UrlPath(path): UrlPath<String>,
        ) -> Result<String, StatusCode> {
            files.get(&path).cloned().ok_or(StatusCode::NOT_FOUND)
        }
        let router = axum::Router::new()
            .route("/{*path}", get(serve))
            .with_state(Arc::new(files));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .unwrap();
        });
        Self { base, shutdown }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

impl Drop for FileHost {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
