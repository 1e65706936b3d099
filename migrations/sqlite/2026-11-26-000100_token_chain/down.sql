DROP INDEX issued_tokens_by_issuer_sub;
DROP INDEX issued_tokens_by_parent;
ALTER TABLE issued_tokens DROP COLUMN issuer_sub;
ALTER TABLE issued_tokens DROP COLUMN parent_jti;
