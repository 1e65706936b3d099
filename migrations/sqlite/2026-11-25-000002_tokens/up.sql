-- Tokens issued by this service (so a revocation can be checked against the revoker's rights)
-- and revoked token ids (read by every instance). Lists are stored space-separated.
CREATE TABLE issued_tokens (
    jti         TEXT PRIMARY KEY NOT NULL,
    sub         TEXT NOT NULL,
    scope       TEXT NOT NULL,
    countries   TEXT NOT NULL,
    op_ids      TEXT NOT NULL,
    issued_by   TEXT NOT NULL,
    issued_at   TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY NOT NULL,
    revoked_by  TEXT NOT NULL,
    revoked_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP
);
