-- Figures a country states outright, with every version kept, and when each country last
-- reported anything (kept current by the writes, so /reporting never scans the records).
CREATE TABLE reported_tallies (
    operation_id    TEXT NOT NULL REFERENCES operations (id),
    country         TEXT NOT NULL,
    metric          TEXT NOT NULL,
    version         BIGINT NOT NULL,
    is_current      BOOLEAN NOT NULL,
    value           BIGINT NOT NULL,
    breakdown       TEXT NOT NULL,
    as_of           DATE NOT NULL,
    content_hash    TEXT NOT NULL,
    reported_by_sub TEXT NOT NULL,
    reported_by_jti TEXT NOT NULL,
    reported_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (operation_id, country, metric, version)
);

CREATE TABLE reporting (
    operation_id      TEXT NOT NULL REFERENCES operations (id),
    country           TEXT NOT NULL,
    last_reported_at  TIMESTAMP NOT NULL,
    last_sub          TEXT NOT NULL,
    last_what         TEXT NOT NULL,
    PRIMARY KEY (operation_id, country)
);
