-- Folds what is pending before the log goes, so no write is lost.
INSERT INTO tally_cells (operation_id, country, metric, dimension, bucket, value)
SELECT d.operation_id, u.country, u.metric, d.dimension, u.bucket, sum(u.value)::bigint
FROM tally_deltas d
CROSS JOIN LATERAL unnest(d.country, d.metric, d.bucket, d.value) AS u(country, metric, bucket, value)
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (operation_id, metric, dimension, country, bucket)
DO UPDATE SET value = tally_cells.value + excluded.value;
DROP TABLE tally_deltas;
DROP TABLE tally_peaks;
