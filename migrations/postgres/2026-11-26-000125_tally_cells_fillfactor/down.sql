ALTER TABLE tally_cells RESET (fillfactor);
