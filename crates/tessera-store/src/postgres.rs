//! The PostgreSQL store, the production backend. Several Tessera instances may share one
//! database: every change is a transaction and concurrent edits are caught by row versions.

use crate::StoreOptions;
use crate::errors::classify;
use crate::rows::{
    ApiTokenParts, EventParts, TenantParts, UserParts, folded_profile, push_user_search,
    scope_names, search_names, username_key,
};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::str::FromStr;
use std::time::Duration;
use tessera_core::api_token::ApiToken;
use tessera_core::attributes::AttributeSchema;
use tessera_core::email::Email;
use tessera_core::event::{Event, EventQuery};
use tessera_core::ids::{ApiTokenId, TenantId, UserId};
use tessera_core::page::{Page, PageRequest};
use tessera_core::secret::SecretHash;
use tessera_core::store::{NewUserRecord, PoolStats, Store, StoreError, StoreResult};
use tessera_core::tenant::{Domain, Tenant, TenantSlug};
use tessera_core::user::{User, UserQuery, UserStatus};
use time::OffsetDateTime;
use uuid::Uuid;

/// Users per multi-row INSERT in batched imports; keeps each statement under PostgreSQL's
/// limit of 65,535 bound parameters.
const BATCH_CHUNK: usize = 500;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database named by `url` (`postgres://user@host:5432/db`).
    pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("bad PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect)
            .await
            .map_err(classify)?;
        let store = Self { pool };
        if options.migrate {
            store.run_migrations().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations. sqlx serialises concurrent runs with an advisory lock, so
    /// several instances may start at once.
    pub async fn run_migrations(&self) -> StoreResult<usize> {
        let migrator = sqlx::migrate!("./migrations/postgres");
        let before = applied_migrations(&self.pool).await;
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        Ok(migrator.iter().count().saturating_sub(before))
    }

    pub(crate) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(classify)
    }

    async fn tenant_from_row(&self, row: PgRow) -> StoreResult<Tenant> {
        let id: Uuid = row.try_get("id").map_err(classify)?;
        let domains: Vec<String> = sqlx::query_scalar(
            "SELECT domain FROM tenant_domains WHERE tenant_id = $1 ORDER BY domain",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        TenantParts {
            id,
            slug: row.try_get("slug").map_err(classify)?,
            display_name: row.try_get("display_name").map_err(classify)?,
            domains,
            settings: row.try_get::<Json<_>, _>("settings").map_err(classify)?.0,
            created_at: row.try_get("created_at").map_err(classify)?,
            updated_at: row.try_get("updated_at").map_err(classify)?,
            version: row.try_get("version").map_err(classify)?,
        }
        .into_tenant()
    }

    async fn one_tenant(&self, row: Option<PgRow>) -> StoreResult<Option<Tenant>> {
        match row {
            Some(row) => Ok(Some(self.tenant_from_row(row).await?)),
            None => Ok(None),
        }
    }
}

async fn applied_migrations(pool: &PgPool) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map_or(0, |count| usize::try_from(count).unwrap_or(0))
}

pub(crate) fn user_from_row(row: &PgRow) -> StoreResult<User> {
    UserParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        status: row.try_get("status").map_err(classify)?,
        profile: row.try_get::<Json<_>, _>("profile").map_err(classify)?.0,
        password_hash: row.try_get("password_hash").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
        version: row.try_get("version").map_err(classify)?,
    }
    .into_user()
}

fn token_from_row(row: &PgRow) -> StoreResult<ApiToken> {
    ApiTokenParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        name: row.try_get("name").map_err(classify)?,
        scopes: row.try_get::<Json<_>, _>("scopes").map_err(classify)?.0,
        secret_hash: row.try_get("secret_hash").map_err(classify)?,
        created_by: row.try_get("created_by").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    }
    .into_token()
}

fn event_from_row(row: &PgRow) -> StoreResult<Event> {
    EventParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        occurred_at: row.try_get("occurred_at").map_err(classify)?,
        actor: row.try_get("actor").map_err(classify)?,
        kind: row.try_get("kind").map_err(classify)?,
        subject: row.try_get("subject").map_err(classify)?,
        payload: row.try_get::<Json<_>, _>("payload").map_err(classify)?.0,
    }
    .into_event()
}

pub(crate) async fn insert_event(conn: &mut PgConnection, event: &Event) -> StoreResult<()> {
    insert_events(conn, std::slice::from_ref(event)).await
}

async fn insert_events(conn: &mut PgConnection, events: &[Event]) -> StoreResult<()> {
    for chunk in events.chunks(BATCH_CHUNK) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO events (id, tenant_id, occurred_at, actor, kind, subject, payload) ",
        );
        insert.push_values(chunk, |mut row, event| {
            row.push_bind(event.id.as_uuid())
                .push_bind(event.tenant_id.as_uuid())
                .push_bind(event.occurred_at)
                .push_bind(event.actor.to_string())
                .push_bind(event.kind.clone())
                .push_bind(event.subject.clone())
                .push_bind(Json(event.payload.clone()));
        });
        insert.build().execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

async fn insert_domains(conn: &mut PgConnection, tenant: &Tenant) -> StoreResult<()> {
    for domain in &tenant.domains {
        sqlx::query("INSERT INTO tenant_domains (domain, tenant_id) VALUES ($1, $2)")
            .bind(domain.as_str())
            .bind(tenant.id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// Inserts `users` into the users table and their index tables.
async fn insert_user_rows(
    conn: &mut PgConnection,
    users: &[&User],
    indexes: &[&[(String, String)]],
) -> StoreResult<()> {
    for chunk in users.chunks(BATCH_CHUNK) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO users (id, tenant_id, status, profile, folded_profile, username_key, search_names, password_hash, created_at, updated_at, version) ",
        );
        let folded = chunk
            .iter()
            .map(|user| folded_profile(&user.profile))
            .collect::<StoreResult<Vec<_>>>()?;
        insert.push_values(chunk.iter().zip(folded), |mut row, (user, folded)| {
            row.push_bind(user.id.as_uuid())
                .push_bind(user.tenant_id.as_uuid())
                .push_bind(user.status.as_str())
                .push_bind(Json(user.profile.clone()))
                .push_bind(Json(folded))
                .push_bind(username_key(&user.profile))
                .push_bind(search_names(&user.profile))
                .push_bind(user.password_hash.as_ref().map(|h| h.as_phc().to_owned()))
                .push_bind(user.created_at)
                .push_bind(user.updated_at)
                .push_bind(user.version);
        });
        insert.build().execute(&mut *conn).await.map_err(classify)?;
    }
    insert_index_rows(conn, users, indexes).await
}

/// Inserts the rows that make users findable by email, external id and attribute value.
async fn insert_index_rows(
    conn: &mut PgConnection,
    users: &[&User],
    indexes: &[&[(String, String)]],
) -> StoreResult<()> {
    let emails: Vec<(&User, &Email, bool, Option<&str>)> = users
        .iter()
        .flat_map(|user| {
            // The index marks the address that counts as primary (the first when the
            // client marked none), which sign-in and uniqueness go by.
            let primary = user.profile.primary_email().map(|e| &e.value);
            user.profile.emails.iter().map(move |e| {
                (
                    *user,
                    &e.value,
                    Some(&e.value) == primary,
                    e.kind.as_deref(),
                )
            })
        })
        .collect();
    for emails in emails.chunks(BATCH_CHUNK) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO user_emails (user_id, tenant_id, address, is_primary, kind) ",
        );
        insert.push_values(emails, |mut row, (user, email, primary, kind)| {
            row.push_bind(user.id.as_uuid())
                .push_bind(user.tenant_id.as_uuid())
                .push_bind(email.normalized().to_owned())
                .push_bind(*primary)
                .push_bind(kind.map(str::to_lowercase));
        });
        insert.build().execute(&mut *conn).await.map_err(classify)?;
    }
    let external: Vec<(&User, &str, &str)> = users
        .iter()
        .flat_map(|user| {
            user.profile
                .external_ids
                .iter()
                .map(move |x| (*user, x.source.as_str(), x.value.as_str()))
        })
        .collect();
    insert_pairs(
        conn,
        "INSERT INTO user_external_ids (user_id, tenant_id, source, value) ",
        &external,
    )
    .await?;
    let attributes: Vec<(&User, &str, &str)> = users
        .iter()
        .zip(indexes)
        .flat_map(|(user, index)| {
            index
                .iter()
                .map(move |(name, value)| (*user, name.as_str(), value.as_str()))
        })
        .collect();
    insert_pairs(
        conn,
        "INSERT INTO user_attribute_values (user_id, tenant_id, name, value) ",
        &attributes,
    )
    .await
}

/// Inserts `(user_id, tenant_id, a, b)` rows in chunks.
async fn insert_pairs(
    conn: &mut PgConnection,
    insert_into: &'static str,
    rows: &[(&User, &str, &str)],
) -> StoreResult<()> {
    for chunk in rows.chunks(BATCH_CHUNK * 4) {
        let mut insert = QueryBuilder::<Postgres>::new(insert_into);
        insert.push_values(chunk, |mut row, (user, a, b)| {
            row.push_bind(user.id.as_uuid())
                .push_bind(user.tenant_id.as_uuid())
                .push_bind(*a)
                .push_bind(*b);
        });
        insert.build().execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            connections: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max_connections: self.pool.options().get_max_connections(),
        }
    }

    async fn storage_bytes(&self) -> StoreResult<u64> {
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    async fn insert_tenant(&self, tenant: &Tenant, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, display_name, settings, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant.id.as_uuid())
        .bind(tenant.slug.as_str())
        .bind(&tenant.display_name)
        .bind(Json(&tenant.settings))
        .bind(tenant.created_at)
        .bind(tenant.updated_at)
        .bind(tenant.version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_domains(&mut tx, tenant).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn update_tenant(
        &self,
        tenant: &Tenant,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE tenants SET display_name = $1, settings = $2, updated_at = $3, version = $4
             WHERE id = $5 AND version = $6",
        )
        .bind(&tenant.display_name)
        .bind(Json(&tenant.settings))
        .bind(tenant.updated_at)
        .bind(tenant.version)
        .bind(tenant.id.as_uuid())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::VersionConflict);
        }
        sqlx::query("DELETE FROM tenant_domains WHERE tenant_id = $1")
            .bind(tenant.id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        insert_domains(&mut tx, tenant).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        self.one_tenant(row).await
    }

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT * FROM tenants WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        self.one_tenant(row).await
    }

    async fn tenant_by_domain(&self, domain: &Domain) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT t.* FROM tenants t JOIN tenant_domains d ON d.tenant_id = t.id WHERE d.domain = $1")
            .bind(domain.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        self.one_tenant(row).await
    }

    async fn list_tenants(&self, page: PageRequest) -> StoreResult<Page<Tenant>> {
        let rows = sqlx::query("SELECT * FROM tenants WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(page.after.unwrap_or(Uuid::nil()))
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        let mut tenants = Vec::with_capacity(rows.len());
        for row in rows {
            tenants.push(self.tenant_from_row(row).await?);
        }
        Ok(Page::from_overfetch(tenants, page, |t| t.id.as_uuid()))
    }

    async fn attribute_schema(&self, tenant: TenantId) -> StoreResult<AttributeSchema> {
        let schema: Option<Json<AttributeSchema>> =
            sqlx::query_scalar("SELECT attribute_schema FROM tenants WHERE id = $1")
                .bind(tenant.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(schema.map(|json| json.0).unwrap_or_default())
    }

    async fn put_attribute_schema(
        &self,
        tenant: TenantId,
        schema: &AttributeSchema,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE tenants SET attribute_schema = $1 WHERE id = $2")
            .bind(Json(schema))
            .bind(tenant.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn insert_user(
        &self,
        user: &User,
        attribute_index: &[(String, String)],
        events: &[Event],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_user_rows(&mut tx, &[user], &[attribute_index]).await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await.map_err(classify)
    }

    async fn insert_users(
        &self,
        records: &[NewUserRecord],
        attribute_index: &[Vec<(String, String)>],
    ) -> StoreResult<()> {
        let users: Vec<&User> = records.iter().map(|r| &r.user).collect();
        let indexes: Vec<&[(String, String)]> = attribute_index.iter().map(Vec::as_slice).collect();
        let events: Vec<Event> = records.iter().map(|r| r.event.clone()).collect();
        let mut tx = self.begin_write().await?;
        insert_user_rows(&mut tx, &users, &indexes).await?;
        insert_events(&mut tx, &events).await?;
        tx.commit().await.map_err(classify)
    }

    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        attribute_index: &[(String, String)],
        events: &[Event],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE users SET status = $1, profile = $2, search_names = $3, password_hash = $4, updated_at = $5, version = $6,
                 folded_profile = $10, username_key = $11
             WHERE id = $7 AND tenant_id = $8 AND version = $9",
        )
        .bind(user.status.as_str())
        .bind(Json(&user.profile))
        .bind(search_names(&user.profile))
        .bind(user.password_hash.as_ref().map(|h| h.as_phc()))
        .bind(user.updated_at)
        .bind(user.version)
        .bind(user.id.as_uuid())
        .bind(user.tenant_id.as_uuid())
        .bind(expected_version)
        .bind(Json(folded_profile(&user.profile)?))
        .bind(username_key(&user.profile))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::VersionConflict);
        }
        for table in [
            "DELETE FROM user_emails WHERE user_id = $1",
            "DELETE FROM user_external_ids WHERE user_id = $1",
            "DELETE FROM user_attribute_values WHERE user_id = $1",
        ] {
            sqlx::query(table)
                .bind(user.id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        if user.status == UserStatus::Deleted {
            // A deleted user is a member of no group; each group it leaves gets a new version,
            // so that ETags clients hold for it go stale.
            sqlx::query(
                "UPDATE groups SET version = version + 1, updated_at = $1
                 WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $2)",
            )
            .bind(user.updated_at)
            .bind(user.id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
            sqlx::query("DELETE FROM group_members WHERE user_id = $1")
                .bind(user.id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            // Pending phone verifications hold the number they were sent to (A45).
            sqlx::query("DELETE FROM phone_verifications WHERE user_id = $1")
                .bind(user.id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            // Identity verifications hold verified personal data, their sessions whom
            // they were for, profiling skips which apps asked them what (A45).
            for table in [
                "DELETE FROM identity_verifications WHERE user_id = $1",
                "DELETE FROM identity_verification_sessions WHERE user_id = $1",
                "DELETE FROM profiling_skips WHERE user_id = $1",
                // Factors, their counters and pending second-factor sign-ins (A45).
                "DELETE FROM mfa_factors WHERE user_id = $1",
                "DELETE FROM recovery_codes WHERE user_id = $1",
                "DELETE FROM factor_locks WHERE user_id = $1",
                "DELETE FROM sign_in_challenges WHERE user_id = $1",
                "DELETE FROM sign_in_history WHERE user_id = $1",
                "DELETE FROM trusted_devices WHERE user_id = $1",
                "DELETE FROM failed_sign_ins WHERE user_id = $1",
                "DELETE FROM passkey_ceremonies WHERE user_id = $1",
            ] {
                sqlx::query(table)
                    .bind(user.id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
            }
        }
        insert_index_rows(&mut tx, &[user], &[attribute_index]).await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await.map_err(classify)
    }

    async fn user_by_id(&self, tenant: TenantId, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn user_by_email(&self, tenant: TenantId, email: &Email) -> StoreResult<Option<User>> {
        sqlx::query(
            "SELECT u.* FROM user_emails e JOIN users u ON u.id = e.user_id
             WHERE e.tenant_id = $1 AND e.address = $2 AND e.is_primary",
        )
        .bind(tenant.as_uuid())
        .bind(email.normalized())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn user_by_external_id(
        &self,
        tenant: TenantId,
        source: &str,
        value: &str,
    ) -> StoreResult<Option<User>> {
        sqlx::query(
            "SELECT u.* FROM user_external_ids x JOIN users u ON u.id = x.user_id
             WHERE x.tenant_id = $1 AND x.source = $2 AND x.value = $3",
        )
        .bind(tenant.as_uuid())
        .bind(source)
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn search_users(
        &self,
        tenant: TenantId,
        query: &UserQuery,
        page: PageRequest,
    ) -> StoreResult<Page<User>> {
        let mut sql = QueryBuilder::<Postgres>::default();
        push_user_search(&mut sql, tenant.as_uuid(), query, page);
        let rows = sql.build().fetch_all(&self.pool).await.map_err(classify)?;
        let users = rows
            .iter()
            .map(user_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(users, page, |u| u.id.as_uuid()))
    }

    async fn insert_api_token(&self, token: &ApiToken, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, name, scopes, secret_hash, created_by, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token.id.as_uuid())
        .bind(token.tenant_id.as_uuid())
        .bind(&token.name)
        .bind(Json(scope_names(token)))
        .bind(token.secret_hash.as_bytes().as_slice())
        .bind(token.created_by.to_string())
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn api_token_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<ApiToken>> {
        sqlx::query("SELECT * FROM api_tokens WHERE secret_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    async fn api_token_by_id(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
    ) -> StoreResult<Option<ApiToken>> {
        sqlx::query("SELECT * FROM api_tokens WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    async fn list_api_tokens(
        &self,
        tenant: TenantId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiToken>> {
        let rows = sqlx::query(
            "SELECT * FROM api_tokens WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(page.after.unwrap_or(Uuid::nil()))
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let tokens = rows
            .iter()
            .map(token_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(tokens, page, |t| t.id.as_uuid()))
    }

    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL")
            .bind(at)
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn list_events(
        &self,
        tenant: TenantId,
        query: &EventQuery,
        page: PageRequest,
    ) -> StoreResult<Page<Event>> {
        let mut sql = QueryBuilder::<Postgres>::new("SELECT * FROM events WHERE tenant_id = ");
        sql.push_bind(tenant.as_uuid());
        if !query.kinds.is_empty() {
            sql.push(" AND kind IN (");
            let mut kinds = sql.separated(", ");
            for kind in &query.kinds {
                kinds.push_bind(kind.clone());
            }
            sql.push(")");
        }
        if let Some(subject) = &query.subject {
            sql.push(" AND subject = ").push_bind(subject.clone());
        }
        if let Some(since) = query.since {
            sql.push(" AND occurred_at >= ").push_bind(since);
        }
        if let Some(until) = query.until {
            sql.push(" AND occurred_at < ").push_bind(until);
        }
        if let Some(after) = page.after {
            sql.push(" AND id > ").push_bind(after);
        }
        sql.push(" ORDER BY id LIMIT ")
            .push_bind(page.fetch_limit());
        let rows = sql.build().fetch_all(&self.pool).await.map_err(classify)?;
        let events = rows
            .iter()
            .map(event_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(events, page, |e| e.id.as_uuid()))
    }
}
