-- The audit trail: every write appends an entry whose hash covers its content and the hash of
-- the entry before it. The head row that hands out feed numbers also holds the chain's end, so
-- entries are chained in commit order under its lock, across instances.
ALTER TABLE log_head ADD COLUMN audit_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE log_head ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY NOT NULL,
    at              TIMESTAMP NOT NULL,
    operation_id    TEXT NOT NULL,
    sub             TEXT NOT NULL,
    jti             TEXT NOT NULL,
    country         TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_key      TEXT NOT NULL,
    version         BIGINT NOT NULL,
    payload_sha256  TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);

CREATE INDEX audit_log_by_operation ON audit_log (operation_id, seq);
