DROP INDEX units_by_operation;
DROP TABLE units;
DROP TABLE operations;
