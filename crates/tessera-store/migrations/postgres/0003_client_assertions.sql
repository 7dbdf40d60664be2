-- `jti`s of client assertions (private_key_jwt) until they expire, so that none is used
-- twice (RFC 7523 §3). Only digests are kept.
CREATE TABLE client_assertions (
    client_id  uuid        NOT NULL,
    jti_hash   bytea       NOT NULL,
    tenant_id  uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti_hash)
);

CREATE INDEX client_assertions_expiry ON client_assertions (expires_at);
