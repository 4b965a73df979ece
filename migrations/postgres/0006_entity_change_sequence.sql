-- Each stitched entity row carries the catalog change sequence of the write
-- that produced it, so a follower (the search index) can ask for what changed
-- after the last sequence it has seen instead of re-reading the catalog.
ALTER TABLE final_entities ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX final_entities_change_seq ON final_entities (change_seq, entity_ref);
