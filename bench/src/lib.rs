//! Benchmark support for the `catalog-bench` command: catalog checks, the
//! catalog generator, the server's app-config and process, a throw-away
//! PostgreSQL database, HTTP probes, statistics and the result table.

pub mod appconfig;
pub mod check;
pub mod generate;
pub mod pg;
pub mod probe;
pub mod report;
pub mod run;
pub mod server;
pub mod stats;
