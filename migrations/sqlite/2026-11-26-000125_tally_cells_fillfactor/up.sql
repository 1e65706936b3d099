-- PostgreSQL only (fillfactor of tally_cells); SQLite has no such setting. Kept so both
-- backends have the same list of migrations.
SELECT 1;
