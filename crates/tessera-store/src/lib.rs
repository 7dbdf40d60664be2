//! Tessera's storage: the only crate that speaks SQL. It implements the `Store` port of
//! `tessera-core` for SQLite (embedded, the default) and PostgreSQL (production), each with
//! its own migrations. The conformance suite in `tests/it` runs every case on both.

mod errors;
mod identity_verification_rows;
mod invitation_rows;
mod mfa_rows;
mod oauth_rows;
mod phone_verification_rows;
mod postgres;
mod postgres_filter;
mod postgres_groups;
mod postgres_identity_verification;
mod postgres_invitations;
mod postgres_lockout;
mod postgres_mfa;
mod postgres_oauth;
mod postgres_passkeys;
mod postgres_phone_verifications;
mod postgres_profiling;
mod postgres_sign_in_history;
mod postgres_sign_ups;
mod postgres_tenant_secrets;
mod rows;
mod sign_up_rows;
mod sqlite;
mod sqlite_filter;
mod sqlite_groups;
mod sqlite_identity_verification;
mod sqlite_invitations;
mod sqlite_lockout;
mod sqlite_mfa;
mod sqlite_oauth;
mod sqlite_passkeys;
mod sqlite_phone_verifications;
mod sqlite_profiling;
mod sqlite_sign_in_history;
mod sqlite_sign_ups;
mod sqlite_tenant_secrets;
mod user_filter_sql;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use std::sync::Arc;
use tessera_core::store::{Store, StoreError};

/// Connection settings shared by both backends.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections in a PostgreSQL pool, or readers in the SQLite pool.
    pub max_connections: u32,
    /// Apply pending migrations when connecting.
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            migrate: true,
        }
    }
}

/// Opens the store named by a `sqlite://…` or `postgres://…` URL.
pub async fn connect(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, options).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url, options).await?))
    } else {
        Err(StoreError::Database(
            "the database URL must start with sqlite: or postgres://".to_owned(),
        ))
    }
}

/// Applies pending migrations to the database at `url` and returns how many ran.
pub async fn migrate(url: &str) -> Result<usize, StoreError> {
    let options = StoreOptions {
        max_connections: 1,
        migrate: false,
    };
    if url.starts_with("sqlite:") {
        SqliteStore::connect(url, &options)
            .await?
            .run_migrations()
            .await
    } else {
        PostgresStore::connect(url, &options)
            .await?
            .run_migrations()
            .await
    }
}

/// Creating and dropping whole PostgreSQL databases, for set-up scripts and test harnesses.
pub mod admin {
    use crate::errors::classify;
    use sqlx::Connection;
    use sqlx::postgres::{PgConnectOptions, PgConnection};
    use std::str::FromStr;
    use tessera_core::store::{StoreError, StoreResult};

    fn checked_name(name: &str) -> StoreResult<&str> {
        // The name becomes part of DDL, which cannot take bound parameters.
        let ok = !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(name)
        } else {
            Err(StoreError::Database(format!("bad database name '{name}'")))
        }
    }

    async fn connect(server_url: &str) -> StoreResult<PgConnection> {
        let options = PgConnectOptions::from_str(server_url)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        PgConnection::connect_with(&options).await.map_err(classify)
    }

    /// Creates database `name` on the server of `server_url` and returns the URL to reach it.
    pub async fn create_postgres_database(server_url: &str, name: &str) -> StoreResult<String> {
        let name = checked_name(name)?;
        let mut connection = connect(server_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut connection)
            .await
            .map_err(classify)?;
        let mut url = server_url
            .split('?')
            .next()
            .unwrap_or(server_url)
            .to_owned();
        if let Some(slash) = url.rfind('/').filter(|&i| i > "postgres://".len()) {
            url.truncate(slash);
        }
        Ok(format!("{url}/{name}"))
    }

    /// Drops database `name`, ending any connections to it.
    pub async fn drop_postgres_database(server_url: &str, name: &str) -> StoreResult<()> {
        let name = checked_name(name)?;
        let mut connection = connect(server_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut connection)
        .await
        .map_err(classify)?;
        Ok(())
    }
}
