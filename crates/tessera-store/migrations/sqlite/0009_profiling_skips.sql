-- Progressive profiling (issue #4): when a user last skipped a requested attribute for a
-- client, so that the question waits for the tenant's interval before it comes back.

CREATE TABLE profiling_skips (
    tenant_id  BLOB NOT NULL REFERENCES tenants (id),
    user_id    BLOB NOT NULL,
    client_id  BLOB NOT NULL,
    attribute  TEXT NOT NULL,
    skipped_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id, attribute)
) WITHOUT ROWID, STRICT;
