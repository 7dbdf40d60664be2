-- Identity verification (issue #4, item 6): each tenant's provider, with its API token and
-- webhook secret sealed (AES-256-GCM under the key encryption key, bound to the tenant and
-- the secret's purpose); the sessions started at the provider, each leaving 'pending'
-- once; and the verifications that came of them, with the verified_claims object that is
-- released to clients. Levels are kept as numbers that sort like them: 1 low,
-- 2 substantial, 3 high. A deleted user's sessions and verifications go with the user.

CREATE TABLE identity_verification_providers (
    tenant_id             UUID PRIMARY KEY REFERENCES tenants (id),
    name                  TEXT NOT NULL,
    start_url             TEXT NOT NULL,
    trust_framework       TEXT NOT NULL,
    session_minutes       INTEGER NOT NULL,
    sealed_api_token      BYTEA NOT NULL,
    sealed_webhook_secret BYTEA NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE identity_verification_sessions (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants (id),
    user_id             UUID NOT NULL REFERENCES users (id),
    client_id           UUID NOT NULL,
    level               SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 3),
    provider            TEXT NOT NULL,
    provider_session_id TEXT,
    status              TEXT NOT NULL
                        CHECK (status IN ('pending', 'verified', 'rejected', 'expired')),
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    completed_at        TIMESTAMPTZ
);
CREATE INDEX identity_verification_sessions_user
    ON identity_verification_sessions (tenant_id, user_id, created_at);
CREATE INDEX identity_verification_sessions_expiry
    ON identity_verification_sessions (expires_at);

CREATE TABLE identity_verifications (
    id              UUID PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants (id),
    user_id         UUID NOT NULL REFERENCES users (id),
    session_id      UUID NOT NULL,
    provider        TEXT NOT NULL,
    trust_framework TEXT NOT NULL,
    level           SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 3),
    evidence        JSONB NOT NULL,
    verified_at     TIMESTAMPTZ NOT NULL,
    verified_claims JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX identity_verifications_user
    ON identity_verifications (tenant_id, user_id, level, created_at);
