DROP INDEX audit_log_by_operation;
DROP TABLE audit_log;
ALTER TABLE log_head DROP COLUMN audit_hash;
ALTER TABLE log_head DROP COLUMN audit_seq;
