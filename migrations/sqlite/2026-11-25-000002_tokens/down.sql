DROP TABLE revoked_tokens;
DROP TABLE issued_tokens;
