-- OpenID Connect provider state (PostgreSQL). Secrets are stored only as 32-byte SHA-256
-- digests. Sets of scopes are JSON arrays of distinct names in sorted order, like
-- api_tokens.scopes. Nothing cascades: grants, tokens and sessions stay as the record of
-- what was issued.

-- A deleted client stays as a tombstone (deleted_at set, secret dropped) so that the grants
-- and tokens it held keep their foreign keys and their audit trail.
CREATE TABLE clients (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    secret_hash BYTEA,
    metadata    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL,
    deleted_at  TIMESTAMPTZ
);
-- Unique so that rows of other tables can reference (tenant_id, id): a grant or token can
-- never name another tenant's client.
CREATE UNIQUE INDEX clients_tenant ON clients (tenant_id, id);

-- Installation-wide: one JWKS serves every tenant, so there is no tenant_id.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    algorithm          TEXT NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    public_jwk         JSONB NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    activates_at       TIMESTAMPTZ NOT NULL,
    retires_at         TIMESTAMPTZ
);

CREATE TABLE sessions (
    id              UUID PRIMARY KEY,
    secret_hash     BYTEA NOT NULL,
    tenant_id       UUID NOT NULL REFERENCES tenants (id),
    user_id         UUID NOT NULL REFERENCES users (id),
    authentication  JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    idle_expires_at TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    ended_at        TIMESTAMPTZ
);
CREATE UNIQUE INDEX sessions_secret_hash_unique ON sessions (secret_hash);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

-- The clients that received tokens in a session, for back-channel logout.
CREATE TABLE session_clients (
    session_id UUID NOT NULL REFERENCES sessions (id),
    client_id  UUID NOT NULL,
    tenant_id  UUID NOT NULL,
    PRIMARY KEY (session_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX session_clients_client ON session_clients (client_id);

CREATE TABLE pending_authorizations (
    handle_hash BYTEA PRIMARY KEY,
    tenant_id   UUID NOT NULL,
    client_id   UUID NOT NULL,
    parameters  JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);

-- grant_id names the grant the code turns into, which does not exist yet: no foreign key.
CREATE TABLE authorization_codes (
    code_hash      BYTEA PRIMARY KEY,
    tenant_id      UUID NOT NULL,
    client_id      UUID NOT NULL,
    grant_id       UUID NOT NULL,
    redirect_uri   TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    context        JSONB NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    consumed_at    TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);

-- user_id repeats context.user_id for the index; both are NULL for client_credentials
-- grants and for the revoked placeholders that revoke_grant leaves for unknown ids.
CREATE TABLE grants (
    id         UUID PRIMARY KEY,
    tenant_id  UUID NOT NULL,
    client_id  UUID NOT NULL,
    user_id    UUID REFERENCES users (id),
    context    JSONB,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX grants_user ON grants (tenant_id, user_id);
CREATE INDEX grants_client ON grants (client_id);

-- A refresh token is dead when used or when its grant is revoked or expired.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY,
    grant_id   UUID NOT NULL REFERENCES grants (id),
    tenant_id  UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE access_tokens (
    jti        UUID PRIMARY KEY,
    tenant_id  UUID NOT NULL,
    client_id  UUID NOT NULL,
    grant_id   UUID REFERENCES grants (id),
    user_id    UUID,
    scope      JSONB NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
-- delete_client revokes the client's tokens, including client_credentials ones (no grant).
CREATE INDEX access_tokens_client ON access_tokens (client_id);

CREATE TABLE consents (
    tenant_id  UUID NOT NULL,
    user_id    UUID NOT NULL REFERENCES users (id),
    client_id  UUID NOT NULL,
    scope      JSONB NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX consents_client ON consents (client_id);
