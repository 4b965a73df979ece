//! Benchmark support: catalog checks and the generator, server control and
//! measurement helpers used by the `catalog-bench` command.

pub mod check;
pub mod generate;
