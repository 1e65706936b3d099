-- Spreadsheet imports: who sent which file when, what became of its rows, and the file itself
-- (bounded by the import size limit), so a desk and the secretariat can look back at it.
CREATE TABLE imports (
    id              INTEGER PRIMARY KEY NOT NULL,
    operation_id    TEXT NOT NULL REFERENCES operations (id),
    country         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    created_by_sub  TEXT NOT NULL,
    created_by_jti  TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    format          TEXT NOT NULL CHECK (format IN ('csv', 'xlsx', 'ods')),
    encoding        TEXT,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    atomic          BOOLEAN NOT NULL,
    stored          BOOLEAN NOT NULL,
    row_count       INTEGER NOT NULL,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    unchanged       INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    skipped         INTEGER NOT NULL,
    error_count     INTEGER NOT NULL,
    errors          TEXT NOT NULL,
    content         BLOB NOT NULL
);

CREATE INDEX imports_by_country ON imports (operation_id, country, id);
