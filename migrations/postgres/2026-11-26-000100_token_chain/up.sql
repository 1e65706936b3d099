-- The issuing chain of tokens, so a revocation reaches every token issued below the revoked
-- one and the tokens issued by a token or a sub can be listed. `issued_by` ("sub/jti") is kept.
ALTER TABLE issued_tokens ADD COLUMN parent_jti TEXT;
ALTER TABLE issued_tokens ADD COLUMN issuer_sub TEXT NOT NULL DEFAULT '';
-- issued_by is "<sub>/<jti>" and a jti holds no "/": split at the last "/".
UPDATE issued_tokens SET
    parent_jti = NULLIF(substring(issued_by from '[^/]*$'), ''),
    issuer_sub = regexp_replace(issued_by, '/[^/]*$', '');
CREATE INDEX issued_tokens_by_parent ON issued_tokens (parent_jti);
CREATE INDEX issued_tokens_by_issuer_sub ON issued_tokens (issuer_sub);
