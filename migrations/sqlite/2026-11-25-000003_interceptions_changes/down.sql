DROP INDEX idempotency_keys_by_age;
DROP TABLE idempotency_keys;
DROP INDEX changes_by_operation;
DROP TABLE changes;
DROP TABLE log_head;
DROP INDEX interceptions_by_time;
DROP INDEX interceptions_by_operation;
DROP TABLE interceptions;
