//! Benchmark support for the `catalog-bench`, `ui-bench`,
//! `scaffolder-bench`, `search-bench`, `docs-bench` and `permissions-bench`
//! commands: their shared options and
//! set-up (catalog, database, clean-up), catalog checks, the catalog generator, the server's
//! app-config and process, a throw-away PostgreSQL database, HTTP probes,
//! statistics and the result tables; for the web UI, the browser's
//! performance entries (headless Chromium itself is driven through
//! `greenroom-webdriver`); for the scaffolder, local Git repositories,
//! `git daemon`, task values and task event logs; for search, the checked
//! query set, the index build and latency measurement and their report; for
//! permissions, the server library run in-process (two configurations on one
//! database) and the interleaved measurement of both modes.

pub mod appconfig;
pub mod check;
pub mod cli;
pub mod generate;
pub mod git;
pub mod gitdaemon;
pub mod harness;
pub mod inprocess;
pub mod perf;
pub mod permissionsreport;
pub mod permissionsrun;
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
