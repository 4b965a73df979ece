//! Benchmark support for the `catalog-bench`, `ui-bench`,
//! `scaffolder-bench`, `search-bench` and `docs-bench` commands: their shared options and
//! set-up (catalog, database, clean-up), catalog checks, the catalog generator, the server's
//! app-config and process, a throw-away PostgreSQL database, HTTP probes,
//! statistics and the result tables; for the web UI, the browser's
//! performance entries (headless Chromium itself is driven through
//! `greenroom-webdriver`); for the scaffolder, local Git repositories,
//! `git daemon`, task values and task event logs; for search, the checked
//! query set, the index build and latency measurement and their report.

pub mod appconfig;
pub mod check;
pub mod cli;
pub mod generate;
pub mod git;
pub mod gitdaemon;
pub mod harness;
pub mod perf;
pub mod pg;
pub mod probe;
pub mod report;
pub mod run;
pub mod scaffolderreport;
pub mod scaffolderrun;
pub mod searchqueries;
pub mod searchreport;
pub mod searchrun;
pub mod server;
pub mod stats;
pub mod taskevents;
pub mod taskvalues;
pub mod uirun;
