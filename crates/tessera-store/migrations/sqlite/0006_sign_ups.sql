-- Pending self sign-ups (issue #4): the challenge that proves an email address before an
-- account is made from it. Codes and link tokens are kept as SHA-256 digests only.

CREATE TABLE sign_ups (
    id          BLOB PRIMARY KEY,
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    email       TEXT NOT NULL,
    -- the address as the domain folds it, for counting sends per address
    email_key   TEXT NOT NULL,
    decoy       INTEGER NOT NULL CHECK (decoy IN (0, 1)),
    code_hash   BLOB NOT NULL,
    link_hash   BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    details     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
) STRICT;
CREATE INDEX sign_ups_email ON sign_ups (tenant_id, email_key, created_at);
CREATE INDEX sign_ups_expiry ON sign_ups (expires_at);
