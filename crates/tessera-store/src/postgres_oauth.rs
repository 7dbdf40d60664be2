//! The OpenID Connect provider's part of the PostgreSQL store (`OAuthStore`). Several
//! instances may share the database: single-use secrets (codes, refresh tokens) are spent
//! by a conditional `UPDATE … RETURNING`, whose row lock makes concurrent callers wait and
//! then find the secret already spent.

use crate::errors::classify;
use crate::oauth_rows::{
    AccessTokenParts, AuthorizationCodeParts, ClientParts, ConsentParts, GrantParts,
    PendingAuthorizationParts, RefreshTokenParts, SessionParts, SigningKeyParts, missing_grant,
};
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Row};
use tessera_core::event::Event;
use tessera_core::ids::{ClientId, GrantId, SessionId, TenantId, UserId};
use tessera_core::oauth::client::Client;
use tessera_core::oauth::grant::{
    AccessTokenRecord, AuthorizationCode, CodeRedemption, Consent, Grant, PendingAuthorization,
    RefreshToken, Rotation,
};
use tessera_core::oauth::session::Session;
use tessera_core::oauth::signing_key::SigningKeyRecord;
use tessera_core::page::{Page, PageRequest};
use tessera_core::password_hash::PasswordHash;
use tessera_core::secret::SecretHash;
use tessera_core::store::{OAuthStore, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

fn client_from_row(row: &PgRow) -> StoreResult<Client> {
    ClientParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        secret_hash: row.try_get("secret_hash").map_err(classify)?,
        metadata: row.try_get::<Json<_>, _>("metadata").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
        version: row.try_get("version").map_err(classify)?,
    }
    .into_client()
}

fn signing_key_from_row(row: &PgRow) -> StoreResult<SigningKeyRecord> {
    SigningKeyParts {
        kid: row.try_get("kid").map_err(classify)?,
        algorithm: row.try_get("algorithm").map_err(classify)?,
        sealed_private_key: row.try_get("sealed_private_key").map_err(classify)?,
        public_jwk: row.try_get::<Json<_>, _>("public_jwk").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        activates_at: row.try_get("activates_at").map_err(classify)?,
        retires_at: row.try_get("retires_at").map_err(classify)?,
    }
    .into_record()
}

fn session_from_row(row: &PgRow) -> StoreResult<Session> {
    SessionParts {
        id: row.try_get("id").map_err(classify)?,
        secret_hash: row.try_get("secret_hash").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        authentication: row
            .try_get::<Json<_>, _>("authentication")
            .map_err(classify)?
            .0,
        created_at: row.try_get("created_at").map_err(classify)?,
        last_seen_at: row.try_get("last_seen_at").map_err(classify)?,
        idle_expires_at: row.try_get("idle_expires_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        ip: row.try_get("ip").map_err(classify)?,
        user_agent: row.try_get("user_agent").map_err(classify)?,
        ended_at: row.try_get("ended_at").map_err(classify)?,
    }
    .into_session()
}

fn pending_from_row(row: &PgRow) -> StoreResult<PendingAuthorization> {
    PendingAuthorizationParts {
        handle_hash: row.try_get("handle_hash").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        parameters: row.try_get::<Json<_>, _>("parameters").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
    }
    .into_pending()
}

fn code_from_row(row: &PgRow) -> StoreResult<AuthorizationCode> {
    AuthorizationCodeParts {
        code_hash: row.try_get("code_hash").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        redirect_uri: row.try_get("redirect_uri").map_err(classify)?,
        nonce: row.try_get("nonce").map_err(classify)?,
        code_challenge: row.try_get("code_challenge").map_err(classify)?,
        context: row.try_get::<Json<_>, _>("context").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        consumed_at: row.try_get("consumed_at").map_err(classify)?,
    }
    .into_code()
}

fn grant_from_row(row: &PgRow) -> StoreResult<Grant> {
    Ok(GrantParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        context: row
            .try_get::<Option<Json<_>>, _>("context")
            .map_err(classify)?
            .map(|json| json.0),
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    }
    .into_grant())
}

fn refresh_token_from_row(row: &PgRow) -> StoreResult<RefreshToken> {
    RefreshTokenParts {
        token_hash: row.try_get("token_hash").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        used_at: row.try_get("used_at").map_err(classify)?,
    }
    .into_token()
}

fn access_token_from_row(row: &PgRow) -> StoreResult<AccessTokenRecord> {
    Ok(AccessTokenParts {
        jti: row.try_get("jti").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        scope: row.try_get::<Json<_>, _>("scope").map_err(classify)?.0,
        issued_at: row.try_get("issued_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    }
    .into_record())
}

fn consent_from_row(row: &PgRow) -> StoreResult<Consent> {
    Ok(ConsentParts {
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        scope: row.try_get::<Json<_>, _>("scope").map_err(classify)?.0,
        granted_at: row.try_get("granted_at").map_err(classify)?,
    }
    .into_consent())
}

/// The grant `id` of `tenant`, read through `executor` (a transaction or the pool).
async fn read_grant<'c, E>(executor: E, tenant: Uuid, id: Uuid) -> StoreResult<Option<Grant>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    sqlx::query("SELECT * FROM grants WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(executor)
        .await
        .map_err(classify)?
        .as_ref()
        .map(grant_from_row)
        .transpose()
}

async fn insert_refresh_token(conn: &mut PgConnection, token: &RefreshToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, grant_id, tenant_id, created_at, used_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token.token_hash.as_bytes().as_slice())
    .bind(token.grant_id.as_uuid())
    .bind(token.tenant_id.as_uuid())
    .bind(token.created_at)
    .bind(token.used_at)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(())
}

async fn insert_access_record(
    conn: &mut PgConnection,
    access: &AccessTokenRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO access_tokens (jti, tenant_id, client_id, grant_id, user_id, scope, issued_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(access.jti)
    .bind(access.tenant_id.as_uuid())
    .bind(access.client_id.as_uuid())
    .bind(access.grant_id.map(|id| id.as_uuid()))
    .bind(access.user_id.map(|id| id.as_uuid()))
    .bind(Json(&access.scope))
    .bind(access.issued_at)
    .bind(access.expires_at)
    .bind(access.revoked_at)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(())
}

#[async_trait]
impl OAuthStore for PostgresStore {
    async fn insert_client(&self, client: &Client, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO clients (id, tenant_id, secret_hash, metadata, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(client.id.as_uuid())
        .bind(client.tenant_id.as_uuid())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(Json(&client.metadata))
        .bind(client.created_at)
        .bind(client.updated_at)
        .bind(client.version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn update_client(
        &self,
        client: &Client,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE clients SET secret_hash = $1, metadata = $2, updated_at = $3, version = $4
             WHERE id = $5 AND tenant_id = $6 AND version = $7 AND deleted_at IS NULL",
        )
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(Json(&client.metadata))
        .bind(client.updated_at)
        .bind(client.version)
        .bind(client.id.as_uuid())
        .bind(client.tenant_id.as_uuid())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::VersionConflict);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn client_by_id(&self, tenant: TenantId, id: ClientId) -> StoreResult<Option<Client>> {
        sqlx::query("SELECT * FROM clients WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn list_clients(&self, tenant: TenantId, page: PageRequest) -> StoreResult<Page<Client>> {
        let rows = sqlx::query(
            "SELECT * FROM clients WHERE tenant_id = $1 AND id > $2 AND deleted_at IS NULL
             ORDER BY id LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(page.after.unwrap_or(Uuid::nil()))
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let clients = rows
            .iter()
            .map(client_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(clients, page, |c| c.id.as_uuid()))
    }

    async fn delete_client(
        &self,
        tenant: TenantId,
        id: ClientId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "UPDATE clients SET deleted_at = $1, updated_at = $1, secret_hash = NULL, version = version + 1
             WHERE id = $2 AND tenant_id = $3 AND deleted_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        for revoke in [
            "UPDATE grants SET revoked_at = $1 WHERE client_id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
            "UPDATE access_tokens SET revoked_at = $1 WHERE client_id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        ] {
            sqlx::query(revoke)
                .bind(at)
                .bind(id.as_uuid())
                .bind(tenant.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        for forget in [
            "DELETE FROM consents WHERE client_id = $1 AND tenant_id = $2",
            "DELETE FROM session_clients WHERE client_id = $1 AND tenant_id = $2",
        ] {
            sqlx::query(forget)
                .bind(id.as_uuid())
                .bind(tenant.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, sealed_private_key, public_jwk, created_at, activates_at, retires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(key.algorithm.as_str())
        .bind(key.sealed_private_key.as_slice())
        .bind(Json(&key.public_jwk))
        .bind(key.created_at)
        .bind(key.activates_at)
        .bind(key.retires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        // Keys made in the same instant: the one that starts signing later is the newer.
        sqlx::query("SELECT * FROM signing_keys ORDER BY created_at, activates_at, kid")
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?
            .iter()
            .map(signing_key_from_row)
            .collect()
    }

    async fn retire_signing_key(&self, kid: &str, retires_at: OffsetDateTime) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE signing_keys SET retires_at = $1 WHERE kid = $2")
            .bind(retires_at)
            .bind(kid)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(updated.rows_affected() > 0)
    }

    async fn delete_retired_signing_keys(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM signing_keys WHERE retires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(deleted.rows_affected())
    }

    async fn insert_session(&self, session: &Session, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id, secret_hash, tenant_id, user_id, authentication, created_at, last_seen_at, idle_expires_at, expires_at, ip, user_agent, ended_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(session.id.as_uuid())
        .bind(session.secret_hash.as_bytes().as_slice())
        .bind(session.tenant_id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(Json(&session.authentication))
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.idle_expires_at)
        .bind(session.expires_at)
        .bind(session.ip.as_deref())
        .bind(session.user_agent.as_deref())
        .bind(session.ended_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn session_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<Session>> {
        sqlx::query("SELECT * FROM sessions WHERE secret_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    async fn session_by_id(&self, tenant: TenantId, id: SessionId) -> StoreResult<Option<Session>> {
        sqlx::query("SELECT * FROM sessions WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        // Activity only moves forward: a slower request with an older time changes nothing.
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2
             WHERE id = $3 AND ended_at IS NULL AND last_seen_at < $1",
        )
        .bind(last_seen_at)
        .bind(idle_expires_at)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn end_session(
        &self,
        tenant: TenantId,
        id: SessionId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE id = $2 AND tenant_id = $3 AND ended_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if ended.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn end_user_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1 \
             WHERE tenant_id = $2 AND user_id = $3 AND ended_at IS NULL",
        )
        .bind(at)
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(ended.rows_affected())
    }

    async fn add_session_client(&self, session: SessionId, client: ClientId) -> StoreResult<()> {
        // Only a live client of the session's own tenant is recorded; a repeat is a no-op.
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO session_clients (session_id, client_id, tenant_id)
             SELECT s.id, c.id, s.tenant_id FROM sessions s, clients c
             WHERE s.id = $1 AND c.id = $2 AND c.tenant_id = s.tenant_id AND c.deleted_at IS NULL
             ON CONFLICT (session_id, client_id) DO NOTHING",
        )
        .bind(session.as_uuid())
        .bind(client.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn session_clients(&self, session: SessionId) -> StoreResult<Vec<ClientId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT client_id FROM session_clients WHERE session_id = $1 ORDER BY client_id",
        )
        .bind(session.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(ids.into_iter().map(ClientId::from_uuid).collect())
    }

    async fn insert_pending_authorization(
        &self,
        pending: &PendingAuthorization,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO pending_authorizations (handle_hash, tenant_id, client_id, parameters, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(pending.handle_hash.as_bytes().as_slice())
        .bind(pending.tenant_id.as_uuid())
        .bind(pending.client_id.as_uuid())
        .bind(Json(&pending.parameters))
        .bind(pending.created_at)
        .bind(pending.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn pending_authorization(
        &self,
        handle_hash: &SecretHash,
    ) -> StoreResult<Option<PendingAuthorization>> {
        sqlx::query("SELECT * FROM pending_authorizations WHERE handle_hash = $1")
            .bind(handle_hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(pending_from_row)
            .transpose()
    }

    async fn delete_pending_authorization(&self, handle_hash: &SecretHash) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM pending_authorizations WHERE handle_hash = $1")
            .bind(handle_hash.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, grant_id, redirect_uri, nonce, code_challenge, context, created_at, expires_at, consumed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(code.tenant_id.as_uuid())
        .bind(code.client_id.as_uuid())
        .bind(code.grant_id.as_uuid())
        .bind(&code.redirect_uri)
        .bind(code.nonce.as_deref())
        .bind(code.code_challenge.as_deref())
        .bind(Json(&code.context))
        .bind(code.created_at)
        .bind(code.expires_at)
        .bind(code.consumed_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn redeem_authorization_code(
        &self,
        tenant: TenantId,
        code_hash: &SecretHash,
        at: OffsetDateTime,
    ) -> StoreResult<CodeRedemption> {
        let mut tx = self.begin_write().await?;
        let consumed = sqlx::query(
            "UPDATE authorization_codes SET consumed_at = $1
             WHERE code_hash = $2 AND tenant_id = $3 AND consumed_at IS NULL RETURNING *",
        )
        .bind(at)
        .bind(code_hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        if let Some(row) = consumed {
            let code = code_from_row(&row)?;
            tx.commit().await.map_err(classify)?;
            return Ok(CodeRedemption::Fresh(code));
        }
        let earlier = sqlx::query(
            "SELECT * FROM authorization_codes WHERE code_hash = $1 AND tenant_id = $2",
        )
        .bind(code_hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        match earlier {
            Some(row) => Ok(CodeRedemption::Replayed(code_from_row(&row)?)),
            None => Ok(CodeRedemption::Unknown),
        }
    }

    async fn insert_grant(
        &self,
        grant: &Grant,
        refresh: Option<&RefreshToken>,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO grants (id, tenant_id, client_id, user_id, context, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(grant.id.as_uuid())
        .bind(grant.tenant_id.as_uuid())
        .bind(grant.client_id.as_uuid())
        .bind(grant.user_id().map(|id| id.as_uuid()))
        .bind(grant.context.as_ref().map(Json))
        .bind(grant.created_at)
        .bind(grant.expires_at)
        .bind(grant.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if let Some(refresh) = refresh {
            insert_refresh_token(&mut tx, refresh).await?;
        }
        insert_access_record(&mut tx, access).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn grant_by_id(&self, tenant: TenantId, id: GrantId) -> StoreResult<Option<Grant>> {
        read_grant(&self.pool, tenant.as_uuid(), id.as_uuid()).await
    }

    async fn revoke_grant(
        &self,
        tenant: TenantId,
        client: ClientId,
        id: GrantId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // An unknown id becomes a revoked placeholder; a known one keeps its first
        // revocation. An id taken by another tenant's or client's grant changes nothing:
        // the grant asked for can never exist either way.
        let upserted = sqlx::query(
            "INSERT INTO grants (id, tenant_id, client_id, user_id, context, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, NULL, NULL, $4, $4, $4)
             ON CONFLICT (id) DO UPDATE SET revoked_at = coalesce(grants.revoked_at, excluded.revoked_at)
             WHERE grants.tenant_id = excluded.tenant_id AND grants.client_id = excluded.client_id",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(client.as_uuid())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if upserted.rows_affected() == 0 {
            return Ok(());
        }
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1
             WHERE grant_id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn revoke_user_grants(
        &self,
        tenant: TenantId,
        user: UserId,
        client: Option<ClientId>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let client = client.map(|id| id.as_uuid());
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE grants SET revoked_at = $1
             WHERE tenant_id = $2 AND user_id = $3 AND ($4 IS NULL OR client_id = $4) AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1
             WHERE tenant_id = $2 AND revoked_at IS NULL AND grant_id IN
                 (SELECT id FROM grants WHERE tenant_id = $2 AND user_id = $3 AND ($4 IS NULL OR client_id = $4))",
        )
        .bind(at)
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(revoked.rows_affected())
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &SecretHash,
        at: OffsetDateTime,
        next: &RefreshToken,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<Rotation> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL RETURNING grant_id, tenant_id",
        )
        .bind(at)
        .bind(token_hash.as_bytes().as_slice())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(used) = used else {
            // Already used, or unknown: nothing is written (the transaction rolls back).
            let earlier: Option<(Uuid, Uuid)> = sqlx::query_as(
                "SELECT grant_id, tenant_id FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(token_hash.as_bytes().as_slice())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
            let Some((grant_id, tenant_id)) = earlier else {
                return Ok(Rotation::Unknown);
            };
            let grant = read_grant(&mut *tx, tenant_id, grant_id)
                .await?
                .ok_or_else(|| missing_grant(grant_id))?;
            return Ok(Rotation::Reused(grant));
        };
        let grant_id: Uuid = used.try_get("grant_id").map_err(classify)?;
        let tenant_id: Uuid = used.try_get("tenant_id").map_err(classify)?;
        // FOR SHARE waits for a revocation of the grant in progress and holds off new ones
        // until the new tokens are stored, so the grant returned is current and a revocation
        // that follows also revokes the access token stored here.
        let grant = sqlx::query("SELECT * FROM grants WHERE id = $1 AND tenant_id = $2 FOR SHARE")
            .bind(grant_id)
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?
            .as_ref()
            .map(grant_from_row)
            .transpose()?
            .ok_or_else(|| missing_grant(grant_id))?;
        insert_refresh_token(&mut tx, next).await?;
        insert_access_record(&mut tx, access).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Rotation::Rotated(grant))
    }

    async fn refresh_token(
        &self,
        token_hash: &SecretHash,
    ) -> StoreResult<Option<(RefreshToken, Grant)>> {
        let Some(row) = sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
        else {
            return Ok(None);
        };
        let token = refresh_token_from_row(&row)?;
        let grant_id = token.grant_id.as_uuid();
        let grant = read_grant(&self.pool, token.tenant_id.as_uuid(), grant_id)
            .await?
            .ok_or_else(|| missing_grant(grant_id))?;
        Ok(Some((token, grant)))
    }

    async fn insert_access_token(
        &self,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_access_record(&mut tx, access).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
    ) -> StoreResult<Option<(AccessTokenRecord, Option<Grant>)>> {
        let Some(row) =
            sqlx::query("SELECT * FROM access_tokens WHERE jti = $1 AND tenant_id = $2")
                .bind(jti)
                .bind(tenant.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?
        else {
            return Ok(None);
        };
        let record = access_token_from_row(&row)?;
        let grant = match record.grant_id {
            Some(id) => Some(
                read_grant(&self.pool, tenant.as_uuid(), id.as_uuid())
                    .await?
                    .ok_or_else(|| missing_grant(id.as_uuid()))?,
            ),
            None => None,
        };
        Ok(Some((record, grant)))
    }

    async fn revoke_access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(
            "UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE jti = $2 AND tenant_id = $3",
        )
        .bind(at)
        .bind(jti)
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(found.rows_affected() > 0)
    }

    async fn remember_client_assertion(
        &self,
        tenant: TenantId,
        client: ClientId,
        jti_hash: &SecretHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM client_assertions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let inserted = sqlx::query(
            "INSERT INTO client_assertions (client_id, jti_hash, tenant_id, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (client_id, jti_hash) DO NOTHING",
        )
        .bind(client.as_uuid())
        .bind(jti_hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn purge_expired(
        &self,
        now: OffsetDateTime,
        horizon: OffsetDateTime,
    ) -> StoreResult<u64> {
        // Children before parents, each statement its own short transaction so that the
        // single writer is never held long.
        let statements: [(&str, OffsetDateTime); 8] = [
            (
                "DELETE FROM access_tokens WHERE expires_at < $1 OR grant_id IN \
                 (SELECT id FROM grants WHERE expires_at < $1 OR revoked_at < $1)",
                horizon,
            ),
            (
                "DELETE FROM refresh_tokens WHERE grant_id IN \
                 (SELECT id FROM grants WHERE expires_at < $1 OR revoked_at < $1)",
                horizon,
            ),
            (
                "DELETE FROM grants WHERE expires_at < $1 OR revoked_at < $1",
                horizon,
            ),
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM session_clients WHERE session_id IN (SELECT id FROM sessions \
                 WHERE ended_at < $1 OR expires_at < $1 OR idle_expires_at < $1)",
                horizon,
            ),
            (
                "DELETE FROM sessions \
                 WHERE ended_at < $1 OR expires_at < $1 OR idle_expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM pending_authorizations WHERE expires_at < $1",
                now,
            ),
            ("DELETE FROM client_assertions WHERE expires_at < $1", now),
        ];
        let mut purged = 0;
        for (sql, before) in statements {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            purged += done.rows_affected();
        }
        Ok(purged)
    }

    async fn consent(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
    ) -> StoreResult<Option<Consent>> {
        sqlx::query(
            "SELECT * FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .as_ref()
        .map(consent_from_row)
        .transpose()
    }

    async fn put_consent(&self, consent: &Consent, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO consents (tenant_id, user_id, client_id, scope, granted_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, user_id, client_id)
             DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(consent.tenant_id.as_uuid())
        .bind(consent.user_id.as_uuid())
        .bind(consent.client_id.as_uuid())
        .bind(Json(&consent.scope))
        .bind(consent.granted_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        previous: &PasswordHash,
        hash: &PasswordHash,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1 \
             WHERE id = $2 AND tenant_id = $3 AND password_hash = $4",
        )
        .bind(hash.as_phc())
        .bind(user.as_uuid())
        .bind(tenant.as_uuid())
        .bind(previous.as_phc())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn insert_event(&self, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }
}
