-- Tessera core schema (PostgreSQL).

CREATE TABLE tenants (
    id               UUID PRIMARY KEY,
    slug             TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    settings         JSONB NOT NULL,
    attribute_schema JSONB NOT NULL DEFAULT '{"attributes":[]}',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_unique ON tenants (slug);

CREATE TABLE tenant_domains (
    domain    TEXT PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id),
    status        TEXT NOT NULL CHECK (status IN ('light', 'active', 'disabled', 'deleted')),
    profile       JSONB NOT NULL,
    -- lower-cased given, family and display names, each preceded by U+001F, for prefix search
    search_names  TEXT NOT NULL,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id, id);

CREATE TABLE user_emails (
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  UUID NOT NULL,
    address    TEXT NOT NULL,
    is_primary BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, address)
);
CREATE UNIQUE INDEX user_emails_primary_unique ON user_emails (tenant_id, address) WHERE is_primary;
CREATE INDEX user_emails_address ON user_emails (tenant_id, address);

CREATE TABLE user_external_ids (
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL,
    source    TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source, value)
);
CREATE INDEX user_external_ids_user ON user_external_ids (user_id);

-- One row per searchable attribute value; the key is the search path.
CREATE TABLE user_attribute_values (
    tenant_id UUID NOT NULL,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, name, value, user_id)
);
CREATE INDEX user_attribute_values_user ON user_attribute_values (user_id);

CREATE TABLE api_tokens (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    scopes      JSONB NOT NULL,
    secret_hash BYTEA NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX api_tokens_secret_hash_unique ON api_tokens (secret_hash);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, id);

-- The audit log and outbox; the key keeps each tenant's events in order.
CREATE TABLE events (
    tenant_id   UUID NOT NULL,
    id          UUID NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    payload     JSONB NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_subject ON events (tenant_id, subject, id);
CREATE INDEX events_kind ON events (tenant_id, kind, id);
