-- Tally differences waiting to be folded into tally_cells. A write appends its summed
-- differences as one row per breakdown dimension it touches ('' for the totals; parallel arrays:
-- the i-th cell of the row is country[i], metric[i], bucket[i], and its difference value[i]); a
-- folder adds the pending rows to the cells about once a second and deletes them in the same
-- transaction. Readers add the pending rows of the dimensions they read to the cells, in one
-- statement, so they see every committed write. Writers of the same countries therefore no longer update (and
-- lock) the same cell rows.
CREATE TABLE tally_deltas (
    id            BIGSERIAL PRIMARY KEY,
    operation_id  TEXT NOT NULL,
    dimension     TEXT NOT NULL,
    country       TEXT[] NOT NULL,
    metric        TEXT[] NOT NULL,
    bucket        TEXT[] NOT NULL,
    value         BIGINT[] NOT NULL,
    -- On the first row of each write (empty on the others): per country it adds to, the
    -- largest difference it adds to one cell (0 if none is positive), what the range bound of
    -- docs/TALLIES.md sums. A fold takes whole writes, so a write's peaks stay pending as long
    -- as any of its rows does.
    peak_country  TEXT[] NOT NULL,
    peak          BIGINT[] NOT NULL,
    -- The writing transaction (txid_current()): the rows of one write share it.
    xact          BIGINT NOT NULL,
    -- How many cells the row holds, so that a fold can take a bounded amount of work.
    cells         INTEGER NOT NULL
);
CREATE INDEX tally_deltas_operation ON tally_deltas (operation_id);
-- A row is written once and read a few times before the fold deletes it: its arrays are kept
-- out of line uncompressed (compressing them cost more than the bytes it saved, measured in
-- docs/BENCHMARKS.md).
ALTER TABLE tally_deltas
    ALTER COLUMN country SET STORAGE EXTERNAL,
    ALTER COLUMN metric SET STORAGE EXTERNAL,
    ALTER COLUMN bucket SET STORAGE EXTERNAL,
    ALTER COLUMN value SET STORAGE EXTERNAL;

-- Per operation and country, the largest value of the country's cells when they were last
-- folded. With the peaks of the pending rows it bounds every cell without reading them.
CREATE TABLE tally_peaks (
    operation_id  TEXT NOT NULL,
    country       TEXT COLLATE "C" NOT NULL,
    peak          BIGINT NOT NULL,
    PRIMARY KEY (operation_id, country)
);
INSERT INTO tally_peaks (operation_id, country, peak)
SELECT operation_id, country, GREATEST(max(value), 0) FROM tally_cells GROUP BY operation_id, country;
