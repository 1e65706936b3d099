-- The key columns of the tally cells compare bytewise: every write looks up each cell it adds
-- to through the primary key, and a "C" comparison is a memcmp where a locale's calls the
-- collation library. Nothing orders these columns in SQL; the service sorts what it serves.
ALTER TABLE tally_cells
    ALTER COLUMN metric TYPE TEXT COLLATE "C",
    ALTER COLUMN dimension TYPE TEXT COLLATE "C",
    ALTER COLUMN country TYPE TEXT COLLATE "C",
    ALTER COLUMN bucket TYPE TEXT COLLATE "C";
