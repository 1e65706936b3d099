-- The reporting cycle (issue 13): each operation states a daily deadline in an IANA time zone;
-- per (operation, country, day) the writes keep what arrived for that day (so the board never
-- scans the records); per (operation, country) the finality of its figures.
ALTER TABLE operations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE operations ADD COLUMN report_deadline TEXT NOT NULL DEFAULT '09:00';

-- One row per day a country reported for (its day: the date of `occurred_at` in the operation's
-- time zone, or the `as_of` of a stated figure), kept by the writes under the country's lock.
-- `records`: live records of that day; `stated`: current stated figures as of that day;
-- `first_at`/`last_at`: the first and the last write for that day (records, stated figures,
-- nil returns); `nil_at`: when the standing nil return was filed (NULL: none). The nil return is
-- in the change feed (`feed_txn`, `feed_index`, `nil_version`), the counts are not.
CREATE TABLE reporting_days (
    operation_id  TEXT NOT NULL REFERENCES operations (id),
    country       TEXT NOT NULL,
    day           DATE NOT NULL,
    records       BIGINT NOT NULL DEFAULT 0,
    stated        BIGINT NOT NULL DEFAULT 0,
    first_at      TIMESTAMP NOT NULL,
    last_at       TIMESTAMP NOT NULL,
    nil_at        TIMESTAMP,
    nil_sub       TEXT,
    nil_version   BIGINT NOT NULL DEFAULT 0,
    feed_txn      BIGINT NOT NULL DEFAULT 0,
    feed_index    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (operation_id, country, day)
);
CREATE INDEX reporting_days_by_feed ON reporting_days (feed_txn);

-- Finality of a country's figures in an operation: final, approved or reopened (no row:
-- provisional). In the change feed; every transition is audited.
CREATE TABLE reporting_status (
    operation_id  TEXT NOT NULL REFERENCES operations (id),
    country       TEXT NOT NULL,
    status        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    reason        TEXT,
    changed_at    TIMESTAMP NOT NULL,
    changed_by    TEXT NOT NULL,
    feed_txn      BIGINT NOT NULL,
    feed_index    INTEGER NOT NULL,
    PRIMARY KEY (operation_id, country)
);
CREATE INDEX reporting_status_by_feed ON reporting_status (feed_txn);

-- What was reported before: days by the UTC date (every existing operation is in UTC).
INSERT INTO reporting_days (operation_id, country, day, records, stated, first_at, last_at)
SELECT operation_id, country, day, sum(records), sum(stated), min(first_at), max(last_at) FROM (
    SELECT operation_id, country, date(occurred_at) AS day, count(*) AS records, 0 AS stated,
           min(created_at) AS first_at, max(updated_at) AS last_at
    FROM interceptions WHERE NOT deleted GROUP BY operation_id, country, date(occurred_at)
    UNION ALL
    SELECT operation_id, country, as_of AS day, 0 AS records, count(*) AS stated,
           min(reported_at) AS first_at, max(reported_at) AS last_at
    FROM reported_tallies WHERE is_current GROUP BY operation_id, country, as_of
) AS reported
GROUP BY operation_id, country, day;
