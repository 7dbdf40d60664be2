-- OpenID Connect provider state (SQLite). As in 0001: times are Unix microseconds, ids are
-- UUIDs as 16-byte blobs, and secrets are stored only as 32-byte SHA-256 digests.
-- Sets of scopes are JSON arrays of distinct names in sorted order, like api_tokens.scopes.
--
-- Tables keyed by an id whose rows carry a JSON document keep a rowid, like tenants and
-- users; the small rows found by a digest or a compound key are WITHOUT ROWID.
-- Nothing cascades: grants, tokens and sessions stay as the record of what was issued.

-- A deleted client stays as a tombstone (deleted_at set, secret dropped) so that the grants
-- and tokens it held keep their foreign keys and their audit trail.
CREATE TABLE clients (
    id          BLOB PRIMARY KEY,
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    secret_hash BLOB,
    metadata    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    deleted_at  INTEGER
) STRICT;
-- Unique so that rows of other tables can reference (tenant_id, id): a grant or token can
-- never name another tenant's client.
CREATE UNIQUE INDEX clients_tenant ON clients (tenant_id, id);

-- Installation-wide: one JWKS serves every tenant, so there is no tenant_id.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    algorithm          TEXT NOT NULL,
    sealed_private_key BLOB NOT NULL,
    public_jwk         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    activates_at       INTEGER NOT NULL,
    retires_at         INTEGER
) STRICT;

CREATE TABLE sessions (
    id              BLOB PRIMARY KEY,
    secret_hash     BLOB NOT NULL,
    tenant_id       BLOB NOT NULL REFERENCES tenants (id),
    user_id         BLOB NOT NULL REFERENCES users (id),
    authentication  TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    ended_at        INTEGER
) STRICT;
CREATE UNIQUE INDEX sessions_secret_hash_unique ON sessions (secret_hash);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

-- The clients that received tokens in a session, for back-channel logout.
CREATE TABLE session_clients (
    session_id BLOB NOT NULL REFERENCES sessions (id),
    client_id  BLOB NOT NULL,
    tenant_id  BLOB NOT NULL,
    PRIMARY KEY (session_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
) WITHOUT ROWID, STRICT;
CREATE INDEX session_clients_client ON session_clients (client_id);

CREATE TABLE pending_authorizations (
    handle_hash BLOB PRIMARY KEY,
    tenant_id   BLOB NOT NULL,
    client_id   BLOB NOT NULL,
    parameters  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
) STRICT;

-- grant_id names the grant the code turns into, which does not exist yet: no foreign key.
CREATE TABLE authorization_codes (
    code_hash      BLOB PRIMARY KEY,
    tenant_id      BLOB NOT NULL,
    client_id      BLOB NOT NULL,
    grant_id       BLOB NOT NULL,
    redirect_uri   TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    context        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    consumed_at    INTEGER,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
) STRICT;

-- user_id repeats context.user_id for the index; both are NULL for client_credentials
-- grants and for the revoked placeholders that revoke_grant leaves for unknown ids.
CREATE TABLE grants (
    id         BLOB PRIMARY KEY,
    tenant_id  BLOB NOT NULL,
    client_id  BLOB NOT NULL,
    user_id    BLOB REFERENCES users (id),
    context    TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
) STRICT;
CREATE INDEX grants_user ON grants (tenant_id, user_id);
CREATE INDEX grants_client ON grants (client_id);

-- A refresh token is dead when used or when its grant is revoked or expired.
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    grant_id   BLOB NOT NULL REFERENCES grants (id),
    tenant_id  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID, STRICT;
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE access_tokens (
    jti        BLOB PRIMARY KEY,
    tenant_id  BLOB NOT NULL,
    client_id  BLOB NOT NULL,
    grant_id   BLOB REFERENCES grants (id),
    user_id    BLOB,
    scope      TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
) WITHOUT ROWID, STRICT;
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
-- delete_client revokes the client's tokens, including client_credentials ones (no grant).
CREATE INDEX access_tokens_client ON access_tokens (client_id);

CREATE TABLE consents (
    tenant_id  BLOB NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id),
    client_id  BLOB NOT NULL,
    scope      TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
) WITHOUT ROWID, STRICT;
CREATE INDEX consents_client ON consents (client_id);
