//! Benchmark support for the `catalog-bench` and `ui-bench` commands:
//! catalog checks, the catalog generator, the server's app-config and
//! process, a throw-away PostgreSQL database, HTTP probes, statistics and the
//! result table; for the web UI, headless Chromium through chromedriver and
//! the browser's performance entries.

pub mod appconfig;
pub mod browser;
pub mod check;
pub mod generate;
pub mod perf;
pub mod pg;
pub mod probe;
pub mod report;
pub mod run;
pub mod server;
pub mod stats;
pub mod uirun;
