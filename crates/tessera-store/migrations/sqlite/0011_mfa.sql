-- Strong authentication (issue #5).
--
-- factor_locks: the lockout counter per account and factor, exact under concurrency (A03):
-- each attempt is counted in one write transaction before its secret is checked.
CREATE TABLE factor_locks (
    tenant_id    BLOB NOT NULL REFERENCES tenants (id),
    user_id      BLOB NOT NULL REFERENCES users (id),
    factor       TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    locked_until INTEGER,
    disabled_at  INTEGER,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, factor)
) STRICT;

-- mfa_factors: second factors a user enrolled. A TOTP seed is sealed with the key
-- encryption key (AES-256-GCM, bound to the factor id); last_step is the newest time step
-- accepted, so that a code is accepted once (A41).
CREATE TABLE mfa_factors (
    id            BLOB PRIMARY KEY,
    tenant_id     BLOB NOT NULL REFERENCES tenants (id),
    user_id       BLOB NOT NULL REFERENCES users (id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    sealed_secret BLOB,
    last_step     INTEGER,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX mfa_factors_user ON mfa_factors (tenant_id, user_id);

-- recovery_codes: the current set of single-use codes, as SHA-256 digests only (A43).
CREATE TABLE recovery_codes (
    tenant_id  BLOB NOT NULL REFERENCES tenants (id),
    user_id    BLOB NOT NULL REFERENCES users (id),
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (tenant_id, user_id, code_hash)
) STRICT;

-- sign_in_challenges: a sign-in that passed its first factor and waits for the second. The
-- browser holds a random secret in a cookie; only its digest is kept. No session exists
-- until the challenge is met.
CREATE TABLE sign_in_challenges (
    id             BLOB PRIMARY KEY,
    secret_hash    BLOB NOT NULL,
    tenant_id      BLOB NOT NULL REFERENCES tenants (id),
    user_id        BLOB NOT NULL REFERENCES users (id),
    authentication TEXT NOT NULL,
    enrol          INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    consumed_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX sign_in_challenges_secret ON sign_in_challenges (secret_hash);
CREATE INDEX sign_in_challenges_user ON sign_in_challenges (tenant_id, user_id);
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at);
