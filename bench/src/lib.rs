//! Benchmark support for the `catalog-bench` and `ui-bench` commands: their
//! shared options and set-up (catalog, database, clean-up), catalog checks,
//! the catalog generator, the server's app-config and process, a throw-away
//! PostgreSQL database, HTTP probes, statistics and the result table; for
//! the web UI, the browser's performance entries (headless Chromium itself
//! is driven through `greenroom-webdriver`).

pub mod appconfig;
pub mod check;
pub mod cli;
pub mod generate;
pub mod harness;
pub mod perf;
pub mod pg;
pub mod probe;
pub mod report;
pub mod run;
pub mod server;
pub mod stats;
pub mod uirun;
