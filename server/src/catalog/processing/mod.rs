//! Catalog processing: turns unprocessed entities into processed ones, reads
//! locations, emits relations and children, and runs the background loop.

/// The processing pipeline (validation, policies, location reading, relations).
pub struct Pipeline {}
