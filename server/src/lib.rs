//! Greenroom server library: `app(state)` builds the router, `run` serves it.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod ops;
pub mod permissions;
pub mod state;
pub mod telemetry;

/// PLACEHOLDER (config branch): the lead replaces this with the real server
/// (state, router, listener, graceful shutdown). Until then it fails loudly
/// instead of pretending to serve.
pub async fn serve(config: config::Config) -> anyhow::Result<()> {
    anyhow::bail!(
        "the HTTP server is not assembled on this branch yet (would listen on {}:{})",
        config.backend.listen.host,
        config.backend.listen.port
    )
}
