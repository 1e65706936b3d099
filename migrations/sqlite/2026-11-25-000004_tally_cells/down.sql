DROP TABLE tally_cells;
