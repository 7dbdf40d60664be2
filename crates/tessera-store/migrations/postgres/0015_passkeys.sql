-- Passkeys (issue #5). A passkey is a row of mfa_factors with kind 'passkey': its WebAuthn
-- credential id (unique in a tenant: one credential never names two accounts) and the
-- credential as webauthn-rs stores it (public key, flags; no secret). last_step holds the
-- authenticator's signature counter, advanced by compare-and-set so that a counter that
-- does not grow is refused (A42: a cloned authenticator).
ALTER TABLE mfa_factors ADD COLUMN credential_id BYTEA;
ALTER TABLE mfa_factors ADD COLUMN credential TEXT;
CREATE UNIQUE INDEX mfa_factors_credential ON mfa_factors (tenant_id, credential_id)
    WHERE credential_id IS NOT NULL;

-- passkey_ceremonies: the server half of a WebAuthn registration or authentication (its
-- challenge), kept here, never in the browser; the browser holds a random secret naming it,
-- only its digest is kept. A ceremony is taken once (deleted as it is read).
CREATE TABLE passkey_ceremonies (
    secret_hash BYTEA PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    user_id     UUID REFERENCES users (id),
    purpose     TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
