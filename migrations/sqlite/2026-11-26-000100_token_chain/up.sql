-- The issuing chain of tokens, so a revocation reaches every token issued below the revoked
-- one and the tokens issued by a token or a sub can be listed. `issued_by` ("sub/jti") is kept.
ALTER TABLE issued_tokens ADD COLUMN parent_jti TEXT;
ALTER TABLE issued_tokens ADD COLUMN issuer_sub TEXT NOT NULL DEFAULT '';
-- issued_by is "<sub>/<jti>" and a jti holds no "/": split at the last "/" (the rtrim keeps
-- everything up to it).
UPDATE issued_tokens SET
    parent_jti = NULLIF(substr(issued_by, length(rtrim(issued_by, replace(issued_by, '/', ''))) + 1), ''),
    issuer_sub = substr(issued_by, 1, max(length(rtrim(issued_by, replace(issued_by, '/', ''))) - 1, 0));
CREATE INDEX issued_tokens_by_parent ON issued_tokens (parent_jti);
CREATE INDEX issued_tokens_by_issuer_sub ON issued_tokens (issuer_sub);
