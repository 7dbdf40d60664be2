-- Strong authentication (issue #5).
--
-- factor_locks: the lockout counter per account and factor, exact under concurrency (A03):
-- each attempt is counted in one write transaction before its secret is checked.
CREATE TABLE factor_locks (
    tenant_id    UUID NOT NULL REFERENCES tenants (id),
    user_id      UUID NOT NULL REFERENCES users (id),
    factor       TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    disabled_at  TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id, factor)
);

-- mfa_factors: second factors a user enrolled. A TOTP seed is sealed with the key
-- encryption key (AES-256-GCM, bound to the factor id); last_step is the newest time step
-- accepted, so that a code is accepted once (A41).
CREATE TABLE mfa_factors (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id),
    user_id       UUID NOT NULL REFERENCES users (id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    sealed_secret BYTEA,
    last_step     BIGINT,
    created_at    TIMESTAMPTZ NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX mfa_factors_user ON mfa_factors (tenant_id, user_id);

-- recovery_codes: the current set of single-use codes, as SHA-256 digests only (A43).
CREATE TABLE recovery_codes (
    tenant_id  UUID NOT NULL REFERENCES tenants (id),
    user_id    UUID NOT NULL REFERENCES users (id),
    code_hash  BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, user_id, code_hash)
);

-- sign_in_challenges: a sign-in that passed its first factor and waits for the second. The
-- browser holds a random secret in a cookie; only its digest is kept. No session exists
-- until the challenge is met.
CREATE TABLE sign_in_challenges (
    id             UUID PRIMARY KEY,
    secret_hash    BYTEA NOT NULL,
    tenant_id      UUID NOT NULL REFERENCES tenants (id),
    user_id        UUID NOT NULL REFERENCES users (id),
    authentication JSONB NOT NULL,
    enrol          BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    consumed_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX sign_in_challenges_secret ON sign_in_challenges (secret_hash);
CREATE INDEX sign_in_challenges_user ON sign_in_challenges (tenant_id, user_id);
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at);
