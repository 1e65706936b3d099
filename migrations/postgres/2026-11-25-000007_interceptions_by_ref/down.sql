DROP INDEX interceptions_by_ref;
