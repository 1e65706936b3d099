DROP TABLE reporting_status;
DROP TABLE reporting_days;
ALTER TABLE operations DROP COLUMN report_deadline;
ALTER TABLE operations DROP COLUMN time_zone;
