-- Pending phone verifications (issue #4): the challenge that proves a signed-in user holds
-- a phone number. The code is kept as a SHA-256 digest only; the number (E.164) is kept for
-- the profile and for counting sends per number, and goes with the purge of expired state
-- or with the user's deletion.

CREATE TABLE phone_verifications (
    id          BLOB PRIMARY KEY,
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    user_id     BLOB NOT NULL REFERENCES users (id),
    phone       TEXT NOT NULL,
    code_hash   BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    language    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
) STRICT;
CREATE INDEX phone_verifications_user ON phone_verifications (tenant_id, user_id, created_at);
CREATE INDEX phone_verifications_phone ON phone_verifications (tenant_id, phone, created_at);
CREATE INDEX phone_verifications_expiry ON phone_verifications (expires_at);
