DROP TABLE release_cells;
DROP TABLE releases;
