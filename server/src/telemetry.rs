//! Logging setup: human-readable lines by default, one JSON object per line when
//! `GREENROOM_LOG_FORMAT=json` (for log shippers); the level filter comes from
//! `RUST_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

/// The variable that selects the output format.
pub const LOG_FORMAT_VAR: &str = "GREENROOM_LOG_FORMAT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl LogFormat {
    /// `json` (any case) selects JSON; anything else, or unset, is human format.
    pub fn from_env_value(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Human,
        }
    }
}

/// Installs the global tracing subscriber. Safe to call more than once (later
/// calls are no-ops), so tests and the CLI can both call it.
pub fn init() {
    let format = LogFormat::from_env_value(std::env::var(LOG_FORMAT_VAR).ok().as_deref());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a terminal: piped logs stay plain text.
    let ansi = std::io::stderr().is_terminal();
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // `try_init` fails only when a subscriber is already set: keep the first.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_json_only_when_asked() {
        assert_eq!(LogFormat::from_env_value(None), LogFormat::Human);
        assert_eq!(LogFormat::from_env_value(Some("JSON")), LogFormat::Json);
        assert_eq!(LogFormat::from_env_value(Some("json ")), LogFormat::Json);
        assert_eq!(LogFormat::from_env_value(Some("pretty")), LogFormat::Human);
    }

    #[test]
    fn init_twice_does_not_panic() {
        init();
        init();
        tracing::info!("telemetry initialised twice without panicking");
    }
}
