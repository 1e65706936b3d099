-- Derived tallies, kept as cells updated in each write's own transaction. dimension and bucket
-- are '' for a metric's total. Seizures are kept in thousandths of their unit.
CREATE TABLE tally_cells (
    operation_id  TEXT NOT NULL,
    country       TEXT NOT NULL,
    metric        TEXT NOT NULL,
    dimension     TEXT NOT NULL,
    bucket        TEXT NOT NULL,
    value         BIGINT NOT NULL,
    PRIMARY KEY (operation_id, metric, dimension, country, bucket)
);
