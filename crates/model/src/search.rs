//! The flattened, lower-cased key/value rows computed for every stitched entity
//! (reference section 2.3). They define what filters, facets, ordering and
//! full-text filtering match, identically on SQLite and PostgreSQL.

use serde::{Deserialize, Serialize};

/// One row of the search table. `value` is lower-cased (None for null leaves and
/// for values longer than 200 characters); `original_value` keeps the spelling
/// for facets and display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRow {
    pub key: String,
    pub value: Option<String>,
    pub original_value: Option<String>,
}
