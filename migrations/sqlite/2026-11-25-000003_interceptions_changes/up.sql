-- Interceptions (counts and categories only, content as canonical JSON), the change feed with
-- the one-row head that hands out its sequence numbers, and idempotency keys.
CREATE TABLE interceptions (
    id              INTEGER PRIMARY KEY NOT NULL,
    operation_id    TEXT NOT NULL REFERENCES operations (id),
    country         TEXT NOT NULL,
    external_ref    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    body            TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    version         BIGINT NOT NULL,
    deleted         BOOLEAN NOT NULL,
    reported_by_sub TEXT NOT NULL,
    reported_by_jti TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (operation_id, country, external_ref)
);

CREATE INDEX interceptions_by_operation ON interceptions (operation_id, id);
CREATE INDEX interceptions_by_time ON interceptions (operation_id, occurred_at);

-- Sequence numbers are taken from log_head at the very end of each write transaction: the row
-- lock is held until commit, so numbers are handed out and committed in the same order.
CREATE TABLE log_head (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    change_seq  BIGINT NOT NULL
);
INSERT INTO log_head (id, change_seq) VALUES (1, 0);

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

CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    response     TEXT,
    etag         TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (owner, idem_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
