//! Phone verifications on SQLite.

use crate::errors::classify;
use crate::phone_verification_rows::PhoneChallengeParts;
use crate::sqlite::{SqliteStore, from_micros, micros};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tessera_core::ids::{PhoneVerificationId, TenantId, UserId};
use tessera_core::phone_verification::{PhoneChallenge, PhoneVerificationStore};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

fn challenge_from_row(row: &SqliteRow) -> StoreResult<PhoneChallenge> {
    let consumed: Option<i64> = row.try_get("consumed_at").map_err(classify)?;
    PhoneChallengeParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        phone: row.try_get("phone").map_err(classify)?,
        code_hash: row.try_get("code_hash").map_err(classify)?,
        attempts: row.try_get("attempts").map_err(classify)?,
        language: row.try_get("language").map_err(classify)?,
        created_at: from_micros(row.try_get("created_at").map_err(classify)?)?,
        expires_at: from_micros(row.try_get("expires_at").map_err(classify)?)?,
        consumed_at: consumed.map(from_micros).transpose()?,
    }
    .into_challenge()
}

#[async_trait]
impl PhoneVerificationStore for SqliteStore {
    async fn insert_phone_verification(
        &self,
        challenge: &PhoneChallenge,
        max_sends: u64,
        since: OffsetDateTime,
    ) -> StoreResult<bool> {
        // The single writer's transaction serialises the counts with the insert.
        let mut tx = self.begin_write().await?;
        let (by_user, to_number): (i64, i64) = sqlx::query_as(
            "SELECT
                 (SELECT COUNT(*) FROM phone_verifications
                  WHERE tenant_id = ?1 AND user_id = ?2 AND created_at >= ?4),
                 (SELECT COUNT(*) FROM phone_verifications
                  WHERE tenant_id = ?1 AND phone = ?3 AND created_at >= ?4)",
        )
        .bind(challenge.tenant_id.as_uuid())
        .bind(challenge.user_id.as_uuid())
        .bind(challenge.phone.as_str())
        .bind(micros(since))
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        if by_user.unsigned_abs() >= max_sends || to_number.unsigned_abs() >= max_sends {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE phone_verifications SET consumed_at = ?3
             WHERE tenant_id = ?1 AND user_id = ?2 AND consumed_at IS NULL",
        )
        .bind(challenge.tenant_id.as_uuid())
        .bind(challenge.user_id.as_uuid())
        .bind(micros(challenge.created_at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "INSERT INTO phone_verifications (id, tenant_id, user_id, phone, code_hash, attempts,
                 language, created_at, expires_at, consumed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)",
        )
        .bind(challenge.id.as_uuid())
        .bind(challenge.tenant_id.as_uuid())
        .bind(challenge.user_id.as_uuid())
        .bind(challenge.phone.as_str())
        .bind(challenge.code_hash.as_bytes().as_slice())
        .bind(i64::from(challenge.attempts))
        .bind(&challenge.language)
        .bind(micros(challenge.created_at))
        .bind(micros(challenge.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn phone_verification_by_id(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PhoneVerificationId,
    ) -> StoreResult<Option<PhoneChallenge>> {
        sqlx::query(
            "SELECT * FROM phone_verifications WHERE id = ?1 AND tenant_id = ?2 AND user_id = ?3",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&self.readers)
        .await
        .map_err(classify)?
        .as_ref()
        .map(challenge_from_row)
        .transpose()
    }

    async fn record_phone_verification_attempt(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PhoneVerificationId,
    ) -> StoreResult<Option<u32>> {
        let mut tx = self.begin_write().await?;
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE phone_verifications SET attempts = attempts + 1
             WHERE id = ?1 AND tenant_id = ?2 AND user_id = ?3 AND consumed_at IS NULL
             RETURNING attempts",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(attempts.and_then(|n| u32::try_from(n).ok()))
    }

    async fn consume_phone_verification(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PhoneVerificationId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE phone_verifications SET consumed_at = ?4
             WHERE id = ?1 AND tenant_id = ?2 AND user_id = ?3 AND consumed_at IS NULL",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(updated.rows_affected() == 1)
    }
}
