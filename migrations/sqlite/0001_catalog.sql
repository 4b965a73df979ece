-- Catalog storage (SQLite). Same numbering and shape as migrations/postgres.
-- Times are epoch milliseconds; JSON documents are stored as text.

CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    target TEXT NOT NULL,
    -- The generated Location entity that represents this location in the catalog.
    entity_ref TEXT NOT NULL,
    UNIQUE (type, target)
);

-- One row per entity ref: the unprocessed entity as read, and the last processing result.
CREATE TABLE refresh_state (
    entity_id TEXT PRIMARY KEY,
    entity_ref TEXT NOT NULL UNIQUE,
    unprocessed_entity TEXT NOT NULL,
    unprocessed_hash TEXT NOT NULL,
    processed_entity TEXT,
    result_hash TEXT,
    errors TEXT,
    location_key TEXT,
    next_update_at INTEGER NOT NULL,
    last_discovery_at INTEGER NOT NULL
);
CREATE INDEX refresh_state_next_update_at ON refresh_state (next_update_at);

-- Who emitted what: a provider (source_key) or a parent entity (source_entity_ref).
-- An entity with no incoming row is an orphan.
CREATE TABLE refresh_state_references (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_key TEXT,
    source_entity_ref TEXT,
    target_entity_ref TEXT NOT NULL
);
CREATE INDEX refresh_state_references_source_key ON refresh_state_references (source_key);
CREATE INDEX refresh_state_references_source_ref ON refresh_state_references (source_entity_ref);
CREATE INDEX refresh_state_references_target_ref ON refresh_state_references (target_entity_ref);

CREATE TABLE relations (
    originating_entity_id TEXT NOT NULL,
    source_entity_ref TEXT NOT NULL,
    type TEXT NOT NULL,
    target_entity_ref TEXT NOT NULL
);
CREATE INDEX relations_source_ref ON relations (source_entity_ref);
CREATE INDEX relations_originating_id ON relations (originating_entity_id);

CREATE TABLE refresh_keys (
    entity_id TEXT NOT NULL,
    key TEXT NOT NULL
);
CREATE INDEX refresh_keys_entity_id ON refresh_keys (entity_id);
CREATE INDEX refresh_keys_key ON refresh_keys (key);

-- Stitching work; the ticket changes on every re-queue so a stale stitch never wins.
CREATE TABLE stitch_queue (
    entity_ref TEXT PRIMARY KEY,
    ticket TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stitch_queue_queued_at ON stitch_queue (queued_at);

CREATE TABLE final_entities (
    entity_id TEXT PRIMARY KEY,
    entity_ref TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    final_entity TEXT NOT NULL,
    last_updated_at INTEGER NOT NULL
);

-- Flattened lower-cased key/value rows: filters, facets, ordering, full text.
CREATE TABLE search (
    entity_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    original_value TEXT
);
CREATE INDEX search_key_value ON search (key, value, entity_id);
CREATE INDEX search_entity_key ON search (entity_id, key, value);

-- A single row; bumped whenever stitched data changes (caches and indexers follow it).
CREATE TABLE catalog_sequence (
    id INTEGER PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO catalog_sequence (id, value) VALUES (1, 0);
