-- Groups of users (ADR 0008). Members are a side table indexed both ways; a user's groups
-- are read from it, never stored on the user.

CREATE TABLE groups (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id),
    display_name TEXT NOT NULL,
    -- the display name case-folded by the domain: unique per tenant
    display_key  TEXT COLLATE "C" NOT NULL,
    external_id  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_display_name_unique ON groups (tenant_id, display_key);
CREATE INDEX groups_tenant ON groups (tenant_id, id);
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);

CREATE TABLE group_members (
    group_id  UUID NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id, group_id);
