ALTER TABLE tally_cells
    ALTER COLUMN metric TYPE TEXT COLLATE "default",
    ALTER COLUMN dimension TYPE TEXT COLLATE "default",
    ALTER COLUMN country TYPE TEXT COLLATE "default",
    ALTER COLUMN bucket TYPE TEXT COLLATE "default";
