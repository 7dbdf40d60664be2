-- SCIM users (ADR 0008): every user that is not deleted has a username, unique per tenant
-- by its case-folded key; email kinds; and a case-folded copy of the profile that
-- case-insensitive filters compare against.

ALTER TABLE users ADD COLUMN username_key TEXT;
-- The profile with every string (and key) in lower case, written by the store on every
-- write. Rows written before this migration are folded here by SQLite's lower(), which
-- folds ASCII only; their next write folds them fully.
ALTER TABLE users ADD COLUMN folded_profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE user_emails ADD COLUMN kind TEXT;

-- The username of existing users: the primary email as typed, else the id.
UPDATE users
SET profile = json_set(profile, '$.username', coalesce(
        (SELECT json_extract(e.value, '$.value')
         FROM json_each(users.profile, '$.emails') e
         WHERE json_extract(e.value, '$.primary') = 1
         LIMIT 1),
        lower(substr(hex(id), 1, 8) || '-' || substr(hex(id), 9, 4) || '-' ||
              substr(hex(id), 13, 4) || '-' || substr(hex(id), 17, 4) || '-' ||
              substr(hex(id), 21))))
WHERE status <> 'deleted';

-- Its key: the folded primary address (already folded by the domain), else the id.
UPDATE users
SET username_key = coalesce(
        (SELECT address FROM user_emails e WHERE e.user_id = users.id AND e.is_primary = 1),
        lower(json_extract(profile, '$.username')))
WHERE status <> 'deleted';

UPDATE users SET folded_profile = lower(profile);

CREATE UNIQUE INDEX users_username_unique ON users (tenant_id, username_key)
    WHERE status <> 'deleted';
