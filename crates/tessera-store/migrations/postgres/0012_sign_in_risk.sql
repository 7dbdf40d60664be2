-- Adaptive authentication (issue #5).
--
-- sign_in_history: the user's successful sign-ins, as much as the risk engine needs (the
-- device cookie's digest, where GeoIP placed the address, when); kept for a year at most.
CREATE TABLE sign_in_history (
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    user_id     UUID NOT NULL REFERENCES users (id),
    at          TIMESTAMPTZ NOT NULL,
    device_hash BYTEA,
    country     TEXT,
    asn         BIGINT,
    latitude    DOUBLE PRECISION,
    longitude   DOUBLE PRECISION
);
CREATE INDEX sign_in_history_user ON sign_in_history (tenant_id, user_id, at);
CREATE INDEX sign_in_history_at ON sign_in_history (at);

-- failed_sign_ins: failed attempts per client IP (any account), for the risk engine's
-- failure velocity; kept for a day.
CREATE TABLE failed_sign_ins (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    ip        TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX failed_sign_ins_ip ON failed_sign_ins (tenant_id, ip, at);
CREATE INDEX failed_sign_ins_at ON failed_sign_ins (at);

-- The risk assessment of the sign-in a challenge holds, for its sign-in event; and the
-- emailed second factor: the digest of the newest code sent and how many were sent.
ALTER TABLE sign_in_challenges ADD COLUMN risk JSONB;
ALTER TABLE sign_in_challenges ADD COLUMN email_code_hash BYTEA;
ALTER TABLE sign_in_challenges ADD COLUMN email_codes_sent INTEGER NOT NULL DEFAULT 0;

-- spent_pow_challenges: proof-of-work challenges already solved, so that a solution works
-- once (kept until the challenge expires).
CREATE TABLE spent_pow_challenges (
    challenge  TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX spent_pow_challenges_expiry ON spent_pow_challenges (expires_at);
