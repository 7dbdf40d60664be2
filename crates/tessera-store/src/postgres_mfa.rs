//! Second factors, recovery codes and second-factor challenges on PostgreSQL.

use crate::errors::classify;
use crate::mfa_rows::{ChallengeParts, MfaFactorParts, step_column};
use crate::oauth_rows::secret_hash;
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use tessera_core::event::Event;
use tessera_core::ids::{MfaFactorId, SignInChallengeId, TenantId, TrustedDeviceId, UserId};
use tessera_core::mfa::{MfaFactor, MfaStore, SignInChallenge, TrustedDevice};
use tessera_core::risk::RiskAssessment;
use tessera_core::secret::SecretHash;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

pub(crate) fn factor_from_row(row: &PgRow) -> StoreResult<MfaFactor> {
    MfaFactorParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        kind: row.try_get("kind").map_err(classify)?,
        name: row.try_get("name").map_err(classify)?,
        sealed_secret: row.try_get("sealed_secret").map_err(classify)?,
        last_step: row.try_get("last_step").map_err(classify)?,
        credential_id: row.try_get("credential_id").map_err(classify)?,
        credential: row.try_get("credential").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        confirmed_at: row.try_get("confirmed_at").map_err(classify)?,
        last_used_at: row.try_get("last_used_at").map_err(classify)?,
    }
    .into_factor()
}

fn challenge_from_row(row: &PgRow) -> StoreResult<SignInChallenge> {
    ChallengeParts {
        id: row.try_get("id").map_err(classify)?,
        secret_hash: row.try_get("secret_hash").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        authentication: row
            .try_get::<Json<_>, _>("authentication")
            .map_err(classify)?
            .0,
        enrol: row.try_get("enrol").map_err(classify)?,
        risk: row
            .try_get::<Option<Json<RiskAssessment>>, _>("risk")
            .map_err(classify)?
            .map(|json| json.0),
        email_code_hash: row.try_get("email_code_hash").map_err(classify)?,
        email_codes_sent: i64::from(
            row.try_get::<i32, _>("email_codes_sent")
                .map_err(classify)?,
        ),
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        consumed_at: row.try_get("consumed_at").map_err(classify)?,
    }
    .into_challenge()
}

#[async_trait]
impl MfaStore for PostgresStore {
    async fn insert_mfa_factor(&self, factor: &MfaFactor) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM mfa_factors
             WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 AND confirmed_at IS NULL",
        )
        .bind(factor.tenant_id.as_uuid())
        .bind(factor.user_id.as_uuid())
        .bind(factor.kind.as_str())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "INSERT INTO mfa_factors (id, tenant_id, user_id, kind, name, sealed_secret,
                 last_step, created_at, confirmed_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(factor.id.as_uuid())
        .bind(factor.tenant_id.as_uuid())
        .bind(factor.user_id.as_uuid())
        .bind(factor.kind.as_str())
        .bind(&factor.name)
        .bind(factor.sealed_secret.as_deref())
        .bind(factor.last_step.map(step_column))
        .bind(factor.created_at)
        .bind(factor.confirmed_at)
        .bind(factor.last_used_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn mfa_factors(&self, tenant: TenantId, user: UserId) -> StoreResult<Vec<MfaFactor>> {
        let rows = sqlx::query(
            "SELECT * FROM mfa_factors
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter().map(factor_from_row).collect()
    }

    async fn confirm_mfa_factor(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        step: u64,
        now: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let confirmed = sqlx::query(
            "UPDATE mfa_factors SET confirmed_at = $4, last_used_at = $4, last_step = $5
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND confirmed_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .bind(now)
        .bind(step_column(step))
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        if !confirmed {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn spend_totp_step(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        step: u64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let spent = sqlx::query(
            "UPDATE mfa_factors SET last_step = $4, last_used_at = $5
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND confirmed_at IS NOT NULL
               AND (last_step IS NULL OR last_step < $4)",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .bind(step_column(step))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(classify)?;
        Ok(spent)
    }

    async fn rename_mfa_factor(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        name: &str,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let renamed = sqlx::query(
            "UPDATE mfa_factors SET name = $4
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND confirmed_at IS NOT NULL",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        if !renamed {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn delete_mfa_factor(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM mfa_factors WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        if !deleted {
            return Ok(false);
        }
        // Recovery codes stand in for a second factor; with none left they have no use.
        sqlx::query(
            "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2
               AND NOT EXISTS (SELECT 1 FROM mfa_factors
                               WHERE tenant_id = $1 AND user_id = $2
                                 AND confirmed_at IS NOT NULL)",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn replace_recovery_codes(
        &self,
        tenant: TenantId,
        user: UserId,
        hashes: &[SecretHash],
        now: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (tenant_id, user_id, code_hash, created_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(hash.as_bytes().as_slice())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn spend_recovery_code(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let spent = sqlx::query(
            "UPDATE recovery_codes SET used_at = $4
             WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(hash.as_bytes().as_slice())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(classify)?;
        Ok(spent)
    }

    async fn recovery_codes_left(&self, tenant: TenantId, user: UserId) -> StoreResult<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes
             WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(u32::try_from(count).unwrap_or(0))
    }

    async fn insert_trusted_device(
        &self,
        device: &TrustedDevice,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO trusted_devices (id, tenant_id, user_id, device_hash, label, created_at,
                 expires_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(device.id.as_uuid())
        .bind(device.tenant_id.as_uuid())
        .bind(device.user_id.as_uuid())
        .bind(device.device_hash.as_bytes().as_slice())
        .bind(&device.label)
        .bind(device.created_at)
        .bind(device.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn trusted_devices(
        &self,
        tenant: TenantId,
        user: UserId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<TrustedDevice>> {
        let rows = sqlx::query(
            "SELECT * FROM trusted_devices
             WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3
             ORDER BY created_at DESC, id LIMIT 100",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                Ok(TrustedDevice {
                    id: TrustedDeviceId::from_uuid(row.try_get("id").map_err(classify)?),
                    tenant_id: tenant,
                    user_id: user,
                    device_hash: secret_hash(
                        "trusted device",
                        row.try_get("device_hash").map_err(classify)?,
                    )?,
                    label: row.try_get("label").map_err(classify)?,
                    created_at: row.try_get("created_at").map_err(classify)?,
                    expires_at: row.try_get("expires_at").map_err(classify)?,
                    last_used_at: row.try_get("last_used_at").map_err(classify)?,
                })
            })
            .collect()
    }

    async fn forget_trusted_devices(
        &self,
        tenant: TenantId,
        user: UserId,
        id: Option<TrustedDeviceId>,
        event: &Event,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query(
            "DELETE FROM trusted_devices
             WHERE tenant_id = $1 AND user_id = $2 AND ($3::UUID IS NULL OR id = $3)",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.map(|id| id.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if removed > 0 {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(removed)
    }

    async fn insert_sign_in_challenge(&self, challenge: &SignInChallenge) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sign_in_challenges (id, secret_hash, tenant_id, user_id,
                 authentication, enrol, created_at, expires_at, consumed_at, risk)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(challenge.id.as_uuid())
        .bind(challenge.secret_hash.as_bytes().as_slice())
        .bind(challenge.tenant_id.as_uuid())
        .bind(challenge.user_id.as_uuid())
        .bind(Json(&challenge.authentication))
        .bind(challenge.enrol)
        .bind(challenge.created_at)
        .bind(challenge.expires_at)
        .bind(challenge.consumed_at)
        .bind(challenge.risk.as_ref().map(Json))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn sign_in_challenge_by_hash(
        &self,
        hash: &SecretHash,
    ) -> StoreResult<Option<SignInChallenge>> {
        let row = sqlx::query("SELECT * FROM sign_in_challenges WHERE secret_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(challenge_from_row).transpose()
    }

    async fn set_challenge_email_code(
        &self,
        id: SignInChallengeId,
        code: &SecretHash,
        max_sends: u32,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let set = sqlx::query(
            "UPDATE sign_in_challenges
             SET email_code_hash = $2, email_codes_sent = email_codes_sent + 1
             WHERE id = $1 AND consumed_at IS NULL AND email_codes_sent < $3",
        )
        .bind(id.as_uuid())
        .bind(code.as_bytes().as_slice())
        .bind(i64::from(max_sends))
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(classify)?;
        Ok(set)
    }

    async fn consume_sign_in_challenge(
        &self,
        id: SignInChallengeId,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let consumed = sqlx::query(
            "UPDATE sign_in_challenges SET consumed_at = $2
             WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2",
        )
        .bind(id.as_uuid())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(classify)?;
        Ok(consumed)
    }
}
