//! The software catalog: REST API, processing engine and location readers.
