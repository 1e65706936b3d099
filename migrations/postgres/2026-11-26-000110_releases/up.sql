-- Releases: frozen snapshots of an operation's figures, reviewed and then published. A release
-- and its cells never change once published; at most one draft per operation waits for review.
CREATE TABLE releases (
    operation_id            TEXT NOT NULL REFERENCES operations (id),
    number                  BIGINT NOT NULL CHECK (number > 0),
    kind                    TEXT NOT NULL CHECK (kind IN ('interim', 'final')),
    status                  TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    operation_name          TEXT NOT NULL,
    as_of_seq               BIGINT NOT NULL,
    threshold               INTEGER NOT NULL CHECK (threshold > 0),
    rounding_base           INTEGER NOT NULL CHECK (rounding_base > 0),
    participating_countries INTEGER NOT NULL,
    created_at              TIMESTAMP NOT NULL,
    created_by_sub          TEXT NOT NULL,
    created_by_jti          TEXT NOT NULL,
    published_at            TIMESTAMP,
    published_by_sub        TEXT,
    published_by_jti        TEXT,
    PRIMARY KEY (operation_id, number)
);

CREATE UNIQUE INDEX releases_one_draft ON releases (operation_id) WHERE status = 'draft';

-- One row per figure of a release: the true value frozen at the release's feed position, and
-- what is published for it. country '' is the whole operation; dimension and bucket '' are a
-- metric's figure without breakdown. rounded is NULL for the country x bucket cells, which are
-- kept (for review and audit) but never published. carried_from names the earlier release whose
-- figures (and true values) a metric kept, when its new figures could not be rounded consistently.
CREATE TABLE release_cells (
    operation_id    TEXT NOT NULL,
    number          BIGINT NOT NULL,
    metric          TEXT NOT NULL,
    dimension       TEXT NOT NULL,
    country         TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    value           BIGINT NOT NULL,
    rounded         BIGINT,
    exact           BOOLEAN NOT NULL,
    listed          BOOLEAN NOT NULL,
    carried_from    BIGINT,
    PRIMARY KEY (operation_id, number, metric, dimension, country, bucket),
    FOREIGN KEY (operation_id, number) REFERENCES releases (operation_id, number)
);
