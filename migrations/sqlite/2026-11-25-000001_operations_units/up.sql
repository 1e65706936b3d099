-- Operations and the national units taking part in them (SQLite).
CREATE TABLE operations (
    id                    TEXT PRIMARY KEY NOT NULL,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    coordinator           TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL CHECK (status IN ('planned', 'active', 'closed')),
    starts_on             DATE NOT NULL,
    ends_on               DATE NOT NULL,
    public                BOOLEAN NOT NULL DEFAULT FALSE,
    suppression_threshold INTEGER NOT NULL DEFAULT 5 CHECK (suppression_threshold > 0),
    version               BIGINT NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on)
);

CREATE TABLE units (
    id                INTEGER PRIMARY KEY NOT NULL,
    operation_id      TEXT NOT NULL REFERENCES operations (id),
    country           TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    officers_deployed BIGINT NOT NULL CHECK (officers_deployed >= 0),
    active            BOOLEAN NOT NULL,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    UNIQUE (operation_id, country, name)
);

CREATE INDEX units_by_operation ON units (operation_id, id);
