-- Progressive profiling (issue #4): when a user last skipped a requested attribute for a
-- client, so that the question waits for the tenant's interval before it comes back.

CREATE TABLE profiling_skips (
    tenant_id  UUID NOT NULL REFERENCES tenants (id),
    user_id    UUID NOT NULL,
    client_id  UUID NOT NULL,
    attribute  TEXT NOT NULL,
    skipped_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id, attribute)
);
