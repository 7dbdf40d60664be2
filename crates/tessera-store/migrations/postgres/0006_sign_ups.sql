-- Pending self sign-ups (issue #4): the challenge that proves an email address before an
-- account is made from it. Codes and link tokens are kept as SHA-256 digests only.

CREATE TABLE sign_ups (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    email       TEXT NOT NULL,
    -- the address as the domain folds it, for counting sends per address
    email_key   TEXT NOT NULL,
    decoy       BOOLEAN NOT NULL,
    code_hash   BYTEA NOT NULL,
    link_hash   BYTEA NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    details     JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ
);
CREATE INDEX sign_ups_email ON sign_ups (tenant_id, email_key, created_at);
CREATE INDEX sign_ups_expiry ON sign_ups (expires_at);
