//! Identity verification on PostgreSQL: providers, sessions and verifications.

use crate::errors::classify;
use crate::identity_verification_rows::{ProviderParts, SessionParts, VerificationParts};
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use tessera_core::event::Event;
use tessera_core::identity_verification::{
    AssuranceLevel, IdentityProvider, IdentitySession, IdentityVerification,
    IdentityVerificationStore, SessionCompletion,
};
use tessera_core::ids::{IdentitySessionId, TenantId, UserId};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

/// A level as its SMALLINT column holds it.
fn level_column(level: AssuranceLevel) -> i16 {
    i16::try_from(level.rank()).unwrap_or(i16::MAX)
}

fn provider_from_row(row: &PgRow) -> StoreResult<IdentityProvider> {
    ProviderParts {
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        name: row.try_get("name").map_err(classify)?,
        start_url: row.try_get("start_url").map_err(classify)?,
        trust_framework: row.try_get("trust_framework").map_err(classify)?,
        session_minutes: i64::from(row.try_get::<i32, _>("session_minutes").map_err(classify)?),
        sealed_api_token: row.try_get("sealed_api_token").map_err(classify)?,
        sealed_webhook_secret: row.try_get("sealed_webhook_secret").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
    }
    .into_provider()
}

fn session_from_row(row: &PgRow) -> StoreResult<IdentitySession> {
    SessionParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        level: i64::from(row.try_get::<i16, _>("level").map_err(classify)?),
        provider: row.try_get("provider").map_err(classify)?,
        provider_session_id: row.try_get("provider_session_id").map_err(classify)?,
        status: row.try_get("status").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        completed_at: row.try_get("completed_at").map_err(classify)?,
    }
    .into_session()
}

fn verification_from_row(row: &PgRow) -> StoreResult<IdentityVerification> {
    VerificationParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        session_id: row.try_get("session_id").map_err(classify)?,
        provider: row.try_get("provider").map_err(classify)?,
        trust_framework: row.try_get("trust_framework").map_err(classify)?,
        level: i64::from(row.try_get::<i16, _>("level").map_err(classify)?),
        evidence: row
            .try_get::<Json<Vec<String>>, _>("evidence")
            .map_err(classify)?
            .0,
        verified_at: row.try_get("verified_at").map_err(classify)?,
        verified_claims: row
            .try_get::<Json<serde_json::Value>, _>("verified_claims")
            .map_err(classify)?
            .0,
        created_at: row.try_get("created_at").map_err(classify)?,
    }
    .into_verification()
}

#[async_trait]
impl IdentityVerificationStore for PostgresStore {
    async fn identity_provider(&self, tenant: TenantId) -> StoreResult<Option<IdentityProvider>> {
        sqlx::query("SELECT * FROM identity_verification_providers WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(provider_from_row)
            .transpose()
    }

    async fn put_identity_provider(
        &self,
        provider: &IdentityProvider,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO identity_verification_providers (tenant_id, name, start_url,
                 trust_framework, session_minutes, sealed_api_token, sealed_webhook_secret,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name,
                 start_url = excluded.start_url, trust_framework = excluded.trust_framework,
                 session_minutes = excluded.session_minutes,
                 sealed_api_token = excluded.sealed_api_token,
                 sealed_webhook_secret = excluded.sealed_webhook_secret,
                 updated_at = excluded.updated_at",
        )
        .bind(provider.tenant_id.as_uuid())
        .bind(&provider.name)
        .bind(&provider.start_url)
        .bind(&provider.trust_framework)
        .bind(i32::try_from(provider.session_minutes).unwrap_or(i32::MAX))
        .bind(&provider.sealed_api_token)
        .bind(&provider.sealed_webhook_secret)
        .bind(provider.created_at)
        .bind(provider.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn delete_identity_provider(&self, tenant: TenantId, event: &Event) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted =
            sqlx::query("DELETE FROM identity_verification_providers WHERE tenant_id = $1")
                .bind(tenant.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn insert_identity_session(
        &self,
        session: &IdentitySession,
        max_starts: u64,
        since: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // One user at a time: the lock lasts until the transaction ends, so the count and
        // the insert are one step for concurrent requests.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!(
                "identity_verification:user:{}:{}",
                session.tenant_id, session.user_id
            ))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let started: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM identity_verification_sessions
             WHERE tenant_id = $1 AND user_id = $2 AND created_at >= $3",
        )
        .bind(session.tenant_id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(since)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        if started.unsigned_abs() >= max_starts {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO identity_verification_sessions (id, tenant_id, user_id, client_id,
                 level, provider, provider_session_id, status, created_at, expires_at,
                 completed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(session.id.as_uuid())
        .bind(session.tenant_id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(session.client_id.as_uuid())
        .bind(level_column(session.level))
        .bind(&session.provider)
        .bind(&session.provider_session_id)
        .bind(session.status.as_str())
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.completed_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn set_identity_provider_session(
        &self,
        tenant: TenantId,
        id: IdentitySessionId,
        provider_session_id: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE identity_verification_sessions SET provider_session_id = $3
             WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(provider_session_id)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn identity_session(
        &self,
        tenant: TenantId,
        id: IdentitySessionId,
    ) -> StoreResult<Option<IdentitySession>> {
        sqlx::query("SELECT * FROM identity_verification_sessions WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    async fn complete_identity_session(
        &self,
        tenant: TenantId,
        id: IdentitySessionId,
        completion: &SessionCompletion,
        events: &[Event],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE identity_verification_sessions SET status = $3, completed_at = $4
             WHERE id = $1 AND tenant_id = $2 AND status = 'pending'",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(completion.status.as_str())
        .bind(completion.at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if moved.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(verification) = &completion.verification {
            sqlx::query(
                "INSERT INTO identity_verifications (id, tenant_id, user_id, session_id,
                     provider, trust_framework, level, evidence, verified_at, verified_claims,
                     created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(verification.id.as_uuid())
            .bind(verification.tenant_id.as_uuid())
            .bind(verification.user_id.as_uuid())
            .bind(verification.session_id.as_uuid())
            .bind(&verification.provider)
            .bind(&verification.trust_framework)
            .bind(level_column(verification.level))
            .bind(Json(&verification.evidence))
            .bind(verification.verified_at)
            .bind(Json(&verification.verified_claims))
            .bind(verification.created_at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        for event in events {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn identity_verifications(
        &self,
        tenant: TenantId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<IdentityVerification>> {
        sqlx::query(
            "SELECT * FROM identity_verifications WHERE tenant_id = $1 AND user_id = $2
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?
        .iter()
        .map(verification_from_row)
        .collect()
    }

    async fn latest_identity_verification(
        &self,
        tenant: TenantId,
        user: UserId,
        min_level: AssuranceLevel,
    ) -> StoreResult<Option<IdentityVerification>> {
        sqlx::query(
            "SELECT * FROM identity_verifications
             WHERE tenant_id = $1 AND user_id = $2 AND level >= $3
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(level_column(min_level))
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .as_ref()
        .map(verification_from_row)
        .transpose()
    }
}
