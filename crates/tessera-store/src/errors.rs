//! Turning sqlx errors into the store's error kinds, the same way on both backends.

use tessera_core::store::StoreError;

/// Which unique value a constraint protects; constraint and table names say it in both
/// backends' messages.
fn duplicate_field(message: &str) -> &'static str {
    const FIELDS: [(&str, &str); 13] = [
        ("user_emails", "email"),
        ("users_username_unique", "username"),
        ("users.username_key", "username"),
        ("groups_display_name_unique", "display_name"),
        ("groups.display_key", "display_name"),
        ("user_external_ids", "external_id"),
        ("tenants_slug", "slug"),
        ("tenants.slug", "slug"),
        ("tenant_domains", "domain"),
        ("grants_pkey", "grant"),
        ("grants.id", "grant"),
        ("mfa_factors_credential", "credential"),
        ("mfa_factors.credential_id", "credential"),
    ];
    FIELDS
        .iter()
        .find(|(marker, _)| message.contains(marker))
        .map_or("id", |(_, field)| field)
}

/// SQLite result codes and PostgreSQL SQLSTATEs that mean "try again later".
const UNAVAILABLE_CODES: [&str; 9] = [
    "5",     // SQLITE_BUSY
    "6",     // SQLITE_LOCKED
    "13",    // SQLITE_FULL
    "517",   // SQLITE_BUSY_SNAPSHOT
    "53100", // disk_full
    "53200", // out_of_memory
    "53300", // too_many_connections
    "57P01", // admin_shutdown
    "57P03", // cannot_connect_now
];

/// PostgreSQL SQLSTATEs for values it cannot store: the input's fault, not ours. The domain
/// checks these inputs first; this keeps any it misses from becoming a 500.
const REJECTED_CODES: [&str; 4] = [
    "22021", // character_not_in_repertoire (NUL in text)
    "22P05", // untranslatable_character (\u0000 in jsonb)
    "54000", // program_limit_exceeded (index row too large)
    "22001", // string_data_right_truncation
];

pub(crate) fn classify(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            StoreError::Duplicate {
                field: duplicate_field(&text),
            }
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| code == "40001" || code == "40P01") =>
        {
            // serialization failure or deadlock: the caller's optimistic retry handles it
            StoreError::VersionConflict
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| REJECTED_CODES.contains(&code.as_ref())) =>
        {
            StoreError::Rejected(db.message().to_owned())
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| UNAVAILABLE_CODES.contains(&code.as_ref())) =>
        {
            StoreError::Unavailable(db.message().to_owned())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Database(error.to_string()),
    }
}

pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::duplicate_field;

    #[test]
    fn constraint_names_map_to_fields() {
        assert_eq!(
            duplicate_field("UNIQUE constraint failed: user_emails.tenant_id, user_emails.address"),
            "email"
        );
        assert_eq!(
            duplicate_field(
                "duplicate key value violates unique constraint \"tenants_slug_unique\""
            ),
            "slug"
        );
        assert_eq!(
            duplicate_field("UNIQUE constraint failed: tenants.slug"),
            "slug"
        );
        assert_eq!(
            duplicate_field("UNIQUE constraint failed: tenant_domains.domain"),
            "domain"
        );
        assert_eq!(duplicate_field("UNIQUE constraint failed: users.id"), "id");
        assert_eq!(
            duplicate_field("UNIQUE constraint failed: grants.id"),
            "grant"
        );
        assert_eq!(
            duplicate_field(
                "duplicate key value violates unique constraint \"grants_pkey\" grants_pkey"
            ),
            "grant"
        );
    }
}
