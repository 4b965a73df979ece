-- Search rows name their entity by a small integer key instead of the uid
-- text: at 30 rows per entity the uid was most of every row and of both
-- indexes, and integers compare faster. original_value is NULL where it
-- equals value (most rows; readers use COALESCE(original_value, value)).
CREATE TABLE final_entities_new (
    id INTEGER PRIMARY KEY,
    entity_id TEXT NOT NULL UNIQUE,
    entity_ref TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    final_entity TEXT NOT NULL,
    last_updated_at INTEGER NOT NULL
);
INSERT INTO final_entities_new (entity_id, entity_ref, hash, final_entity, last_updated_at)
    SELECT entity_id, entity_ref, hash, final_entity, last_updated_at FROM final_entities ORDER BY entity_id;

CREATE TABLE search_new (
    entity_key INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    original_value TEXT
);
INSERT INTO search_new (entity_key, key, value, original_value)
    SELECT fe.id, s.key, s.value, CASE WHEN s.original_value = s.value THEN NULL ELSE s.original_value END
    FROM search s JOIN final_entities_new fe ON fe.entity_id = s.entity_id;

DROP TABLE search;
DROP TABLE final_entities;
ALTER TABLE final_entities_new RENAME TO final_entities;
ALTER TABLE search_new RENAME TO search;
CREATE INDEX search_key_value ON search (key, value, entity_key);
CREATE INDEX search_entity_key ON search (entity_key, key, value);
