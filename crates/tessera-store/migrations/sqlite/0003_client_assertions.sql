-- `jti`s of client assertions (private_key_jwt) until they expire, so that none is used
-- twice (RFC 7523 §3). Only digests are kept.
CREATE TABLE client_assertions (
    client_id  BLOB    NOT NULL,
    jti_hash   BLOB    NOT NULL,
    tenant_id  BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti_hash)
) WITHOUT ROWID;

CREATE INDEX client_assertions_expiry ON client_assertions (expires_at);
