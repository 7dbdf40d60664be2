-- Trusted devices (issue #5): "don't ask again on this browser for N days". A row names the
-- digest of the browser's device cookie; the second factor is skipped there for that user
-- (never for clients or requests that need two factors) until it expires or is revoked.
CREATE TABLE trusted_devices (
    id           BLOB PRIMARY KEY,
    tenant_id    BLOB NOT NULL REFERENCES tenants (id),
    user_id      BLOB NOT NULL REFERENCES users (id),
    device_hash  BLOB NOT NULL,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;
CREATE INDEX trusted_devices_user ON trusted_devices (tenant_id, user_id, device_hash);
CREATE INDEX trusted_devices_expiry ON trusted_devices (expires_at);
