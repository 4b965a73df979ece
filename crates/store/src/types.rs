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
/// with the location key that claims it (None = no claim). Kept serialized:
/// a Location can emit 100k children, and a parsed entity takes several times
/// the memory of its JSON text.
#[derive(Debug, Clone)]
pub struct DeferredEntity {
    pub(crate) entity_ref: String,
    pub(crate) json: String,
    pub location_key: Option<String>,
}

impl DeferredEntity {
    /// Fails when the entity has no kind or `metadata.name`.
    pub fn new(entity: &Entity, location_key: Option<String>) -> crate::Result<Self> {
        let entity_ref = greenroom_model::EntityRef::of_entity(entity)
            .map(|r| r.canonical())
            .ok_or_else(|| {
                crate::StoreError::Input("entity has no kind or metadata.name".into())
            })?;
        Ok(Self {
            entity_ref,
            json: serde_json::to_string(entity).expect("entities serialize"),
            location_key,
        })
    }

    pub fn entity_ref(&self) -> &str {
        &self.entity_ref
    }

    /// The entity as JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    pub fn entity(&self) -> Entity {
        serde_json::from_str(&self.json).expect("serialized from an entity")
    }
}

/// An entity claimed for processing.
#[derive(Debug, Clone)]
pub struct ClaimedEntity {
    pub entity_id: String,
    pub entity_ref: String,
    pub unprocessed: Entity,
    pub location_key: Option<String>,
    pub result_hash: Option<String>,
    /// Identifies this claim; the result must carry it back.
    pub claim_token: String,
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
    /// The token of the claim this result answers; a result whose claim was
    /// superseded (its lease expired and the entity was claimed again) is dropped.
    pub claim_token: String,
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

#[derive(Debug, Clone, Default)]
pub enum Page {
    /// Everything (GET /entities without paging parameters).
    #[default]
    All,
    Offset {
        offset: u64,
        limit: u64,
    },
    /// Keyset paging after (or before, for a previous page) the given sort
    /// values of a row: the first order field's value and the row key
    /// tiebreaker (an opaque token from [`EntityPage::keys`]).
    After {
        sort_value: Option<String>,
        row_key: String,
        limit: u64,
        backwards: bool,
    },
}

#[derive(Debug, Clone)]
pub struct EntityPage {
    pub items: Vec<Entity>,
    /// `(first-order-field value, row key)` of every returned row, to build cursors.
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

/// A stitched entity and the change sequence it was written under.
#[derive(Debug, Clone)]
pub struct ChangedEntity {
    pub seq: i64,
    pub entity_ref: String,
    pub entity: Entity,
}

/// A position in the stream of stitched entities: after this sequence and ref.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeCursor {
    pub seq: i64,
    pub entity_ref: String,
}

impl ChangeCursor {
    /// The position of a changed entity (the next page starts after it).
    pub fn after(changed: &ChangedEntity) -> Self {
        ChangeCursor {
            seq: changed.seq,
            entity_ref: changed.entity_ref.clone(),
        }
    }
}
