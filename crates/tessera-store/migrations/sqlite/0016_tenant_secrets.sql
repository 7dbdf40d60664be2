-- tenant_secrets: a tenant's secrets for outside services (its captcha provider's secret),
-- sealed with the key encryption key and bound to the tenant and the secret's name. They are
-- kept beside the settings, never in them: settings are read back through the admin API.
CREATE TABLE tenant_secrets (
    tenant_id    BLOB NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    sealed_value BLOB NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
) STRICT;
