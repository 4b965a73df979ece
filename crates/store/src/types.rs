use greenroom_model::relations::Relation;
use greenroom_model::Entity;
use serde::{Deserialize, Serialize};

/// A location as returned by `/api/catalog/locations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
}

/// An unprocessed entity emitted by a provider or by a parent's processing,
/// with the location key that claims it (None = no claim).
#[derive(Debug, Clone)]
pub struct DeferredEntity {
    pub entity: Entity,
    pub location_key: Option<String>,
}

/// An entity claimed for processing.
#[derive(Debug, Clone)]
pub struct ClaimedEntity {
    pub entity_id: String,
    pub entity_ref: String,
    pub unprocessed: Entity,
    pub location_key: Option<String>,
    pub result_hash: Option<String>,
}

/// A processing error as stored and shown in `status.items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingError {
    /// Backstage error name, e.g. `InputError`, `NotFoundError`, `NotAllowedError`.
    pub name: String,
    pub message: String,
}

/// The outcome of processing one claimed entity.
#[derive(Debug, Clone)]
pub struct ProcessedResult {
    pub entity_id: String,
    pub entity_ref: String,
    pub location_key: Option<String>,
    /// The processed entity; None when processing failed before it existed
    /// (the previous processed version, if any, is kept and errors are attached).
    pub processed: Option<Entity>,
    pub relations: Vec<Relation>,
    pub children: Vec<DeferredEntity>,
    pub errors: Vec<ProcessingError>,
    pub refresh_keys: Vec<String>,
    /// Hash of everything above; an unchanged hash skips all writes but the schedule.
    pub result_hash: String,
    /// Seconds until the entity is due again.
    pub next_refresh_secs: i64,
}

#[derive(Debug, Clone, Default)]
pub struct WriteReport {
    /// `(entity_ref, existing_location_key, new_location_key)` of refused children.
    pub conflicts: Vec<(String, Option<String>, Option<String>)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingWork {
    /// Entities never processed yet.
    pub unprocessed: i64,
    /// Entities waiting in the stitch queue.
    pub unstitched: i64,
    /// Seconds the oldest overdue entity has waited past its due time.
    pub max_lag_secs: i64,
}

#[derive(Debug, Clone)]
pub struct FullTextFilter {
    /// Lower-cased term, matched as a substring.
    pub term: String,
    /// Fields to search; empty means the first order field, else `metadata.uid`.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Page {
    /// Everything (GET /entities without paging parameters).
    All,
    Offset {
        offset: u64,
        limit: u64,
    },
    /// Keyset paging after (or before, for a previous page) the given sort
    /// values of a row: the first order field's value and the entity id tiebreaker.
    After {
        sort_value: Option<String>,
        entity_id: String,
        limit: u64,
        backwards: bool,
    },
}

impl Default for Page {
    fn default() -> Self {
        Page::All
    }
}

#[derive(Debug, Clone)]
pub struct EntityPage {
    pub items: Vec<Entity>,
    /// `(first-order-field value, entity id)` of every returned row, to build cursors.
    pub keys: Vec<(Option<String>, String)>,
    pub total_items: Option<u64>,
    /// Whether more rows follow the page in the paging direction.
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: i64,
}
