//! Sign-up challenges on SQLite.

use crate::errors::classify;
use crate::sign_up_rows::SignUpParts;
use crate::sqlite::{SqliteStore, from_micros, insert_event, micros};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use tessera_core::email::Email;
use tessera_core::event::Event;
use tessera_core::ids::{SignUpId, TenantId};
use tessera_core::signup::{SignUpChallenge, SignUpStore};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

fn challenge_from_row(row: &SqliteRow) -> StoreResult<SignUpChallenge> {
    let consumed: Option<i64> = row.try_get("consumed_at").map_err(classify)?;
    SignUpParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        email: row.try_get("email").map_err(classify)?,
        decoy: row.try_get("decoy").map_err(classify)?,
        code_hash: row.try_get("code_hash").map_err(classify)?,
        link_hash: row.try_get("link_hash").map_err(classify)?,
        attempts: row.try_get("attempts").map_err(classify)?,
        details: row.try_get::<Json<_>, _>("details").map_err(classify)?.0,
        created_at: from_micros(row.try_get("created_at").map_err(classify)?)?,
        expires_at: from_micros(row.try_get("expires_at").map_err(classify)?)?,
        consumed_at: consumed.map(from_micros).transpose()?,
    }
    .into_challenge()
}

#[async_trait]
impl SignUpStore for SqliteStore {
    async fn insert_sign_up(
        &self,
        challenge: &SignUpChallenge,
        event: &Event,
        max_sends: u64,
        since: OffsetDateTime,
    ) -> StoreResult<bool> {
        // The single writer's transaction serialises the count with the insert.
        let mut tx = self.begin_write().await?;
        let sent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_ups WHERE tenant_id = ?1 AND email_key = ?2 AND created_at >= ?3",
        )
        .bind(challenge.tenant_id.as_uuid())
        .bind(challenge.email.normalized())
        .bind(micros(since))
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        if sent.unsigned_abs() >= max_sends {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO sign_ups (id, tenant_id, email, email_key, decoy, code_hash, link_hash,
                 attempts, details, created_at, expires_at, consumed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)",
        )
        .bind(challenge.id.as_uuid())
        .bind(challenge.tenant_id.as_uuid())
        .bind(challenge.email.as_str())
        .bind(challenge.email.normalized())
        .bind(challenge.decoy)
        .bind(challenge.code_hash.as_bytes().as_slice())
        .bind(challenge.link_hash.as_bytes().as_slice())
        .bind(i64::from(challenge.attempts))
        .bind(Json(&challenge.details))
        .bind(micros(challenge.created_at))
        .bind(micros(challenge.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn sign_up_by_id(
        &self,
        tenant: TenantId,
        id: SignUpId,
    ) -> StoreResult<Option<SignUpChallenge>> {
        sqlx::query("SELECT * FROM sign_ups WHERE id = ?1 AND tenant_id = ?2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.readers)
            .await
            .map_err(classify)?
            .as_ref()
            .map(challenge_from_row)
            .transpose()
    }

    async fn count_sign_ups(
        &self,
        tenant: TenantId,
        email: &Email,
        since: OffsetDateTime,
    ) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_ups WHERE tenant_id = ?1 AND email_key = ?2 AND created_at >= ?3",
        )
        .bind(tenant.as_uuid())
        .bind(email.normalized())
        .bind(micros(since))
        .fetch_one(&self.readers)
        .await
        .map_err(classify)?;
        Ok(count.unsigned_abs())
    }

    async fn record_sign_up_attempt(
        &self,
        tenant: TenantId,
        id: SignUpId,
    ) -> StoreResult<Option<u32>> {
        let mut tx = self.begin_write().await?;
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE sign_ups SET attempts = attempts + 1
             WHERE id = ?1 AND tenant_id = ?2 AND consumed_at IS NULL RETURNING attempts",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(attempts.and_then(|n| u32::try_from(n).ok()))
    }

    async fn consume_sign_up(
        &self,
        tenant: TenantId,
        id: SignUpId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE sign_ups SET consumed_at = ?3
             WHERE id = ?1 AND tenant_id = ?2 AND consumed_at IS NULL",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(updated.rows_affected() == 1)
    }
}
