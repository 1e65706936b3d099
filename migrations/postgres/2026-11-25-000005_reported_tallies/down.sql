DROP TABLE reporting;
DROP TABLE reported_tallies;
