//! The server library running inside the benchmark, for measurements that
//! need several configurations of one database at the same time (the
//! `greenroom` binary takes one configuration per process). Servers run on
//! their own multi-threaded runtime, so the benchmark's client does not share
//! worker threads with them; the HTTP traffic still goes over loopback TCP
//! through the whole router (authentication, permissions, compression).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use futures::FutureExt;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::server::RunningServer;

/// What a started server does besides answering HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// Everything `greenroom serve` runs: registering `catalog.locations`,
    /// the processing engine, the search index, scaffolder and docs workers.
    Full,
    /// HTTP only: nothing competes with the requests being measured.
    HttpOnly,
}

/// The runtime the servers run on; it is shut down (without waiting for
/// its tasks) when dropped, also from inside the benchmark's own runtime.
pub struct ServerRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl ServerRuntime {
    /// A multi-threaded runtime with one worker per core, as the binary has.
    pub fn new() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("greenroom-server")
            .build()
            .context("cannot build the server runtime")?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// Binds a free loopback port, builds the configuration `config(port)`
    /// and starts a server with it. The UI is not served (`dist` does not
    /// exist), so unknown paths answer the SPA fallback's 404.
    pub fn start(
        &self,
        background: Background,
        dist: PathBuf,
        config: impl FnOnce(u16) -> anyhow::Result<Value>,
    ) -> anyhow::Result<InProcessServer> {
        self.start_on_port(background, dist, 0, config)
    }

    /// [`ServerRuntime::start`] on a given loopback port (0: any free one).
    pub fn start_on_port(
        &self,
        background: Background,
        dist: PathBuf,
        port: u16,
        config: impl FnOnce(u16) -> anyhow::Result<Value>,
    ) -> anyhow::Result<InProcessServer> {
        let runtime = self.runtime.as_ref().expect("runtime present until drop");
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("cannot bind 127.0.0.1:{port}"))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let config = greenroom::config::Config::from_value(config(port)?)
            .map_err(|e| anyhow!("invalid server configuration: {e}"))?;
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = runtime.spawn(async move {
            let state = greenroom::connect(config).await?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            match background {
                Background::Full => greenroom::run(state, listener, stop, dist).await,
                Background::HttpOnly => {
                    let app = greenroom::app(state, dist);
                    axum::serve(
                        listener,
                        app.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await?;
                    Ok(())
                }
            }
        });
        Ok(InProcessServer {
            port,
            shutdown,
            task: Some(task),
        })
    }
}

/// Serves the app-config in `config_file` (JSON, listening on its
/// `backend.listen.port`) with all background work, until SIGINT; then
/// stops the server gracefully. A benchmark runs this in a child process of
/// its own (see `permissions-bench --config`) for work whose aftermath must
/// not share a process with the measurement, such as stitching.
pub async fn serve_until_interrupted(
    config_file: &std::path::Path,
    dist: PathBuf,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(config_file)
        .with_context(|| format!("cannot read {}", config_file.display()))?;
    let config: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", config_file.display()))?;
    let port = config["backend"]["listen"]["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .context("the app-config has no backend.listen.port")?;
    let runtime = ServerRuntime::new()?;
    let mut server = runtime.start_on_port(Background::Full, dist, port, |_| Ok(config))?;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => server.ensure_running()?,
        }
    }
    server.stop().await
}

impl Drop for ServerRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A server started by [`ServerRuntime::start`].
pub struct InProcessServer {
    pub port: u16,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl InProcessServer {
    /// Stops accepting requests, lets the background work end and returns
    /// the server's error if it had one.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(Duration::from_secs(60), task).await {
            Ok(joined) => joined.context("the in-process server panicked")?,
            Err(_) => bail!("the in-process server did not stop within 60 s"),
        }
    }
}

impl RunningServer for InProcessServer {
    fn ensure_running(&mut self) -> anyhow::Result<()> {
        let Some(task) = self.task.as_mut() else {
            bail!("the in-process server was stopped");
        };
        match task.now_or_never() {
            None => Ok(()),
            Some(joined) => {
                self.task = None;
                match joined {
                    Ok(Ok(())) => bail!("the in-process server stopped early"),
                    Ok(Err(e)) => Err(e.context("the in-process server stopped early")),
                    Err(e) => Err(anyhow!(e).context("the in-process server panicked")),
                }
            }
        }
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Api;
    use serde_json::json;

    fn memory_config(port: u16) -> anyhow::Result<Value> {
        Ok(json!({
            "backend": {
                "baseUrl": format!("http://127.0.0.1:{port}"),
                "listen": {"host": "127.0.0.1", "port": port},
                "database": {"client": "better-sqlite3", "connection": ":memory:"},
            },
        }))
    }

    #[tokio::test]
    async fn a_server_answers_until_it_is_stopped() {
        let runtime = ServerRuntime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut server = runtime
            .start(
                Background::HttpOnly,
                dir.path().join("no-ui"),
                memory_config,
            )
            .unwrap();
        let api = Api::new(server.port, Duration::from_secs(5)).unwrap();
        let url = api.url("/api/catalog/entities", &[]).unwrap();
        let mut answered = None;
        for _ in 0..100 {
            server.ensure_running().unwrap();
            if let Ok((_, body)) = api.timed_get_json(&url).await {
                answered = Some(body);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(answered, Some(json!([])));
        server.stop().await.unwrap();
        assert!(api.timed_get(&url).await.is_err(), "still answering");
    }

    #[tokio::test]
    async fn a_server_that_cannot_start_says_why() {
        let runtime = ServerRuntime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let missing_dir = dir.path().join("file");
        std::fs::write(&missing_dir, "not a directory").unwrap();
        let mut server = runtime
            .start(Background::HttpOnly, dir.path().join("no-ui"), |port| {
                let mut config = memory_config(port)?;
                config["backend"]["database"] = json!({
                    "client": "better-sqlite3",
                    "connection": {"filename": missing_dir.join("db.sqlite").to_string_lossy()},
                });
                Ok(config)
            })
            .unwrap();
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = server.ensure_running() {
                err = Some(format!("{e:#}"));
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let err = err.expect("the server should have stopped");
        assert!(err.contains("stopped early"), "{err}");
    }

    #[tokio::test]
    async fn serving_a_config_file_needs_json_with_a_port() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, "backend: {}").unwrap();
        let err = serve_until_interrupted(&file, dir.path().join("no-ui"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not JSON"), "{err}");
        std::fs::write(&file, r#"{"backend": {}}"#).unwrap();
        let err = serve_until_interrupted(&file, dir.path().join("no-ui"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("backend.listen.port"), "{err}");
    }

    #[test]
    fn an_invalid_configuration_is_refused_before_starting() {
        let runtime = ServerRuntime::new().unwrap();
        let err = runtime
            .start(Background::HttpOnly, PathBuf::from("no-ui"), |_| {
                Ok(json!({"backend": {"database": {"client": "oracle"}}}))
            })
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("invalid server configuration"),
            "{err}"
        );
    }
}
