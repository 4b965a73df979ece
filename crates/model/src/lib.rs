//! The catalog's shared vocabulary: entities, references, validation, relations,
//! the flattened search rows that drive filters and facets, and API wire types.
//! Everything here is serde-only so it also compiles to `wasm32-unknown-unknown`.
