//! A loopback HTTP server serving files a test sets: the stand-in for a
//! remote host that `url` locations are read from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

type Files = Arc<Mutex<HashMap<String, String>>>;

/// Serves fixed files on 127.0.0.1; 404 for any other path.
pub struct FileHost {
    base: String,
    files: Files,
    shutdown: CancellationToken,
}

impl FileHost {
    pub async fn start(files: HashMap<String, String>) -> Self {
        async fn serve(
            State(files): State<Files>,
            UrlPath(path): UrlPath<String>,
        ) -> Result<String, StatusCode> {
            files
                .lock()
                .unwrap()
                .get(&path)
                .cloned()
                .ok_or(StatusCode::NOT_FOUND)
        }
        let files: Files = Arc::new(Mutex::new(files));
        let router = axum::Router::new()
            .route("/{*path}", get(serve))
            .with_state(files.clone());
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
        Self {
            base,
            files,
            shutdown,
        }
    }

    /// Serves `text` at `path` from now on.
    pub fn set(&self, path: &str, text: impl Into<String>) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_string(), text.into());
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `127.0.0.1:<port>`, as `backend.reading.allow` names it.
    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }
}

impl Drop for FileHost {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
