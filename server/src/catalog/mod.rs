//! The software catalog: REST API, processing engine and location readers.

pub mod api;
pub mod processing;
pub mod providers;
pub mod readers;
