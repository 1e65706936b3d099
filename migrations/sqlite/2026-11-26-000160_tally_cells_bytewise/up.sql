-- SQLite compares TEXT bytewise already (BINARY); PostgreSQL only.
SELECT 1;
