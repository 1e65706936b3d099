-- Every version of an interception that a later write superseded (changed, retracted or
-- revived), kept whole so a record's history can be read back. The current version stays in
-- `interceptions`; versions superseded inside the batch that wrote them were never stored.
CREATE TABLE interception_versions (
    interception_id BIGINT NOT NULL REFERENCES interceptions (id),
    version         BIGINT NOT NULL,
    body            TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    deleted         BOOLEAN NOT NULL,
    reported_by_sub TEXT NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (interception_id, version)
);
