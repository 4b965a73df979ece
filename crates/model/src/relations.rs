//! Relations between entities (reference section 1.6): every pair is emitted in
//! both directions, stored by source and surfaced on the source entity.

use serde::{Deserialize, Serialize};

pub const OWNED_BY: &str = "ownedBy";
pub const OWNER_OF: &str = "ownerOf";
pub const CONSUMES_API: &str = "consumesApi";
pub const API_CONSUMED_BY: &str = "apiConsumedBy";
pub const PROVIDES_API: &str = "providesApi";
pub const API_PROVIDED_BY: &str = "apiProvidedBy";
pub const DEPENDS_ON: &str = "dependsOn";
pub const DEPENDENCY_OF: &str = "dependencyOf";
pub const PARENT_OF: &str = "parentOf";
pub const CHILD_OF: &str = "childOf";
pub const MEMBER_OF: &str = "memberOf";
pub const HAS_MEMBER: &str = "hasMember";
pub const PART_OF: &str = "partOf";
pub const HAS_PART: &str = "hasPart";

/// A stored relation edge; refs are canonical (lower-cased) strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    pub source_ref: String,
    #[serde(rename = "type")]
    pub relation_type: String,
    pub target_ref: String,
}
