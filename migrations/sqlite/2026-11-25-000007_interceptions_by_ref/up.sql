-- The batch write reads stored versions by operation and reference; without this index that
-- read scanned the operation's interceptions (measured: 126 ms at 19,500 rows, 1.1 ms with it).
CREATE INDEX interceptions_by_ref ON interceptions (operation_id, external_ref);
