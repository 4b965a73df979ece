-- Stitching reads every relation of a batch of source refs, and processing
-- replaces relations by originating entity: covering indexes answer both
-- without visiting the table row by row.
DROP INDEX relations_source_ref;
CREATE INDEX relations_source_ref ON relations (source_entity_ref, type, target_entity_ref);
DROP INDEX relations_originating_id;
CREATE INDEX relations_originating_id ON relations (originating_entity_id, source_entity_ref);
