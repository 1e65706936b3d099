-- PostgreSQL only: the tally delta log lets concurrent writers of the same countries leave the
-- cells to a folder. SQLite lets one writer in at a time, so its writes update the cells
-- directly. Kept so both backends have the same list of migrations.
SELECT 1;
