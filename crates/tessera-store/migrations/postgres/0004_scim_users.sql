-- SCIM users (ADR 0008): every user that is not deleted has a username, unique per tenant
-- by its case-folded key; email kinds; and a case-folded copy of the profile that
-- case-insensitive filters compare against.

-- COLLATE "C": comparisons, ordering and prefix searches by code point, as the domain does.
ALTER TABLE users ADD COLUMN username_key TEXT COLLATE "C";
-- The profile with every string (and key) in lower case, written by the store on every
-- write. Rows written before this migration are folded here by lower(), whose folding of
-- non-ASCII letters depends on the database's collation; their next write folds them as
-- the domain does.
ALTER TABLE users ADD COLUMN folded_profile JSONB NOT NULL DEFAULT '{}';
ALTER TABLE user_emails ADD COLUMN kind TEXT;

-- The username of existing users: the primary email as typed, else the id.
UPDATE users u
SET profile = jsonb_set(profile, '{username}', to_jsonb(coalesce(
        (SELECT e ->> 'value'
         FROM jsonb_array_elements(coalesce(u.profile -> 'emails', '[]'::jsonb)) e
         WHERE e -> 'primary' = 'true'::jsonb
         LIMIT 1),
        u.id::text)))
WHERE status <> 'deleted';

-- Its key: the folded primary address (already folded by the domain), else the id.
UPDATE users u
SET username_key = coalesce(
        (SELECT address FROM user_emails e WHERE e.user_id = u.id AND e.is_primary),
        u.id::text)
WHERE status <> 'deleted';

UPDATE users SET folded_profile = lower(profile::text)::jsonb;

CREATE UNIQUE INDEX users_username_unique ON users (tenant_id, username_key)
    WHERE status <> 'deleted';
