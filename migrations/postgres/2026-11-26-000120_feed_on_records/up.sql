-- The change feed is served from the records themselves: each record carries the transaction that
-- last wrote it (feed_txn) and its place in that transaction (feed_index); `commits` maps each
-- write transaction to the range of feed positions it was given, under the log_head lock, in
-- commit order. Only the latest version of a record is in the feed (as in CouchDB's); the copy of
-- every record in `changes` goes. A batch's audit entry lists its items (audit_log.items).
CREATE SEQUENCE commit_txn;

CREATE TABLE commits (
    txn           BIGINT PRIMARY KEY NOT NULL,
    operation_id  TEXT NOT NULL,
    first_pos     BIGINT NOT NULL,
    last_pos      BIGINT NOT NULL,
    committed_at  TIMESTAMP NOT NULL
);
CREATE INDEX commits_by_operation ON commits (operation_id, last_pos);

ALTER TABLE interceptions ADD COLUMN feed_txn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE interceptions ADD COLUMN feed_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE units ADD COLUMN feed_txn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE units ADD COLUMN feed_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_tallies ADD COLUMN feed_txn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reported_tallies ADD COLUMN feed_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE log_head ADD COLUMN commit_txn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN items TEXT NOT NULL DEFAULT '';

-- Existing records keep the position of their latest change: one commit per such change,
-- with a negative txn so that it never meets one from the sequence.
INSERT INTO commits (txn, operation_id, first_pos, last_pos, committed_at)
SELECT -c.seq, c.operation_id, c.seq, c.seq, c.committed_at
FROM changes c
JOIN (SELECT operation_id, entity, entity_key, max(seq) AS seq FROM changes GROUP BY 1, 2, 3) m ON m.seq = c.seq;

UPDATE interceptions i SET feed_txn = -m.seq
FROM (SELECT operation_id, entity_key, max(seq) AS seq FROM changes WHERE entity = 'interception' GROUP BY 1, 2) m
WHERE m.operation_id = i.operation_id AND m.entity_key = i.country || '/' || i.external_ref;
UPDATE units u SET feed_txn = -m.seq
FROM (SELECT operation_id, entity_key, max(seq) AS seq FROM changes WHERE entity = 'unit' GROUP BY 1, 2) m
WHERE m.operation_id = u.operation_id AND m.entity_key = u.id::text;
UPDATE reported_tallies r SET feed_txn = -m.seq
FROM (SELECT operation_id, entity_key, max(seq) AS seq FROM changes WHERE entity = 'tally' GROUP BY 1, 2) m
WHERE r.is_current AND m.operation_id = r.operation_id AND m.entity_key = r.country || '/' || r.metric;

CREATE INDEX interceptions_by_feed ON interceptions (feed_txn);
CREATE INDEX units_by_feed ON units (feed_txn);
CREATE INDEX reported_tallies_by_feed ON reported_tallies (feed_txn);

DROP TABLE changes;
-- The version read of a batch now goes by (operation, country, reference): the unique index.
DROP INDEX interceptions_by_ref;

-- A batch entry's item list is mostly hex hashes, which do not compress: store it out of line
-- without trying to.
ALTER TABLE audit_log ALTER COLUMN items SET STORAGE EXTERNAL;
