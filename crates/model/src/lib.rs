//! The catalog's shared vocabulary: entities, references, validation, relations,
//! the flattened search rows that drive filters and facets, and API wire types.
//! Everything here is serde-only so it also compiles to `wasm32-unknown-unknown`:
//! the server, the `greenroom catalog validate` CLI and the browser validator
//! all run exactly the same rules.

pub mod api;
pub mod descriptor;
pub mod entity_ref;
pub mod filter;
pub mod location;
pub mod relations;
pub mod rules;
pub mod scaffolder;
pub mod search;
pub mod stitch;
pub mod validation;
pub mod yaml;

pub use descriptor::{validate_descriptor, Diagnostic};
pub use entity_ref::EntityRef;
pub use filter::{EntityFilter, OrderField, SortOrder};
pub use relations::Relation;
pub use search::SearchRow;
pub use validation::{validate_entity, ValidationError};

/// An entity is kept as ordered JSON: descriptors carry arbitrary extra keys
/// (`metadata.*`, `spec.*`) that must round-trip unchanged.
pub type Entity = serde_json::Map<String, serde_json::Value>;

/// Well-known annotation keys (reference section 1.7).
pub mod annotations {
    pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
    pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
    pub const SOURCE_LOCATION: &str = "backstage.io/source-location";
    pub const VIEW_URL: &str = "backstage.io/view-url";
    pub const EDIT_URL: &str = "backstage.io/edit-url";
    pub const ORPHAN: &str = "backstage.io/orphan";
    pub const TECHDOCS_REF: &str = "backstage.io/techdocs-ref";
}
