-- Invitations (issue #4): an administrator invites an address; the mailed link's token is
-- kept as a SHA-256 digest only.

CREATE TABLE invitations (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    email       TEXT NOT NULL,
    token_hash  BYTEA NOT NULL,
    invited_by  TEXT NOT NULL,
    language    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    accepted_by UUID,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, id);
