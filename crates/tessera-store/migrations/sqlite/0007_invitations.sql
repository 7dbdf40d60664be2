-- Invitations (issue #4): an administrator invites an address; the mailed link's token is
-- kept as a SHA-256 digest only.

CREATE TABLE invitations (
    id          BLOB PRIMARY KEY,
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    email       TEXT NOT NULL,
    token_hash  BLOB NOT NULL,
    invited_by  TEXT NOT NULL,
    language    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by BLOB,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX invitations_tenant ON invitations (tenant_id, id);
