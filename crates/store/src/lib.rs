//! Catalog storage.
