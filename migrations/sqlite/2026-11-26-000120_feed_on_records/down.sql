-- Back to a feed of copies: the latest change of every record, as it is now.
CREATE TABLE changes (
    seq           BIGINT PRIMARY KEY NOT NULL,
    operation_id  TEXT NOT NULL,
    entity        TEXT NOT NULL,
    action        TEXT NOT NULL,
    country       TEXT NOT NULL,
    entity_key    TEXT NOT NULL,
    version       BIGINT NOT NULL,
    data          TEXT NOT NULL,
    committed_at  TIMESTAMP NOT NULL
);
CREATE INDEX changes_by_operation ON changes (operation_id, seq);
INSERT INTO changes (seq, operation_id, entity, action, country, entity_key, version, data, committed_at)
SELECT c.first_pos + i.feed_index, i.operation_id, 'interception', CASE WHEN i.deleted THEN 'delete' ELSE 'upsert' END,
       i.country, i.country || '/' || i.external_ref, i.version, '{}', c.committed_at
FROM interceptions i JOIN commits c ON c.txn = i.feed_txn;
INSERT INTO changes (seq, operation_id, entity, action, country, entity_key, version, data, committed_at)
SELECT c.first_pos + u.feed_index, u.operation_id, 'unit', 'upsert', u.country, CAST(u.id AS TEXT), u.version, '{}', c.committed_at
FROM units u JOIN commits c ON c.txn = u.feed_txn;
INSERT INTO changes (seq, operation_id, entity, action, country, entity_key, version, data, committed_at)
SELECT c.first_pos + r.feed_index, r.operation_id, 'tally', 'upsert', r.country, r.country || '/' || r.metric, r.version, '{}', c.committed_at
FROM reported_tallies r JOIN commits c ON c.txn = r.feed_txn WHERE r.is_current;
CREATE INDEX interceptions_by_ref ON interceptions (operation_id, external_ref);
DROP INDEX interceptions_by_feed;
DROP INDEX units_by_feed;
DROP INDEX reported_tallies_by_feed;
ALTER TABLE interceptions DROP COLUMN feed_txn;
ALTER TABLE interceptions DROP COLUMN feed_index;
ALTER TABLE units DROP COLUMN feed_txn;
ALTER TABLE units DROP COLUMN feed_index;
ALTER TABLE reported_tallies DROP COLUMN feed_txn;
ALTER TABLE reported_tallies DROP COLUMN feed_index;
ALTER TABLE log_head DROP COLUMN commit_txn;
ALTER TABLE audit_log DROP COLUMN items;
DROP TABLE commits;

