//! `SessionStore` for PostgreSQL: sessions and their clients, pending authorization requests,
//! password rehashes and events that accompany no change.

use crate::errors::classify;
use crate::oauth_rows::{PendingAuthorizationParts, SessionParts};
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use tessera_core::event::Event;
use tessera_core::ids::{ClientId, SessionId, TenantId, UserId};
use tessera_core::oauth::grant::PendingAuthorization;
use tessera_core::oauth::session::Session;
use tessera_core::password_hash::PasswordHash;
use tessera_core::secret::SecretHash;
use tessera_core::store::{SessionStore, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

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

#[async_trait]
impl SessionStore for PostgresStore {
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
