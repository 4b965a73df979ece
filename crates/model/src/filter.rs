//! Entity filters: the `filter=` query syntax of GET endpoints (reference 2.2) and
//! the JSON predicate language of the POST endpoints (2.5) both parse into
//! [`EntityFilter`], which the store turns into SQL over the search rows.

use serde::{Deserialize, Serialize};

/// A filter over search rows. Keys and values are already lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityFilter {
    /// Every child matches (an empty list matches everything).
    All(Vec<EntityFilter>),
    /// At least one child matches (an empty list matches nothing).
    Any(Vec<EntityFilter>),
    Not(Box<EntityFilter>),
    /// `key` exists (values None) or equals one of `values` (case-insensitive).
    Key { key: String, values: Option<Vec<String>> },
    /// Some value of `key` starts with `prefix`.
    HasPrefix { key: String, prefix: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderField {
    pub field: String,
    pub order: SortOrder,
}
