//! Passkeys and their ceremonies on PostgreSQL.

use crate::errors::classify;
use crate::mfa_rows::{CeremonyParts, step_column};
use crate::postgres::{PostgresStore, insert_event};
use crate::postgres_mfa::factor_from_row;
use async_trait::async_trait;
use sqlx::Row;
use tessera_core::event::Event;
use tessera_core::ids::{MfaFactorId, TenantId, UserId};
use tessera_core::mfa::MfaFactor;
use tessera_core::mfa::passkey::{PasskeyCeremony, PasskeyStore};
use tessera_core::secret::SecretHash;
use tessera_core::store::{StoreError, StoreResult};
use time::OffsetDateTime;

#[async_trait]
impl PasskeyStore for PostgresStore {
    async fn add_passkey(&self, factor: &MfaFactor, event: &Event) -> StoreResult<bool> {
        let passkey = factor
            .passkey
            .as_ref()
            .ok_or_else(|| StoreError::Corrupt("a passkey without a credential".into()))?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO mfa_factors (id, tenant_id, user_id, kind, name, last_step,
                 credential_id, credential, created_at, confirmed_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (tenant_id, credential_id) WHERE credential_id IS NOT NULL
             DO NOTHING",
        )
        .bind(factor.id.as_uuid())
        .bind(factor.tenant_id.as_uuid())
        .bind(factor.user_id.as_uuid())
        .bind(factor.kind.as_str())
        .bind(&factor.name)
        .bind(factor.last_step.map(step_column))
        .bind(passkey.credential_id.as_slice())
        .bind(&passkey.credential)
        .bind(factor.created_at)
        .bind(factor.confirmed_at)
        .bind(factor.last_used_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn passkey_by_credential(
        &self,
        tenant: TenantId,
        credential_id: &[u8],
    ) -> StoreResult<Option<MfaFactor>> {
        sqlx::query(
            "SELECT * FROM mfa_factors
             WHERE tenant_id = $1 AND credential_id = $2 AND confirmed_at IS NOT NULL",
        )
        .bind(tenant.as_uuid())
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .as_ref()
        .map(factor_from_row)
        .transpose()
    }

    async fn advance_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        counter: u32,
        credential: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let advanced = sqlx::query(
            "UPDATE mfa_factors SET last_step = $4, credential = $5, last_used_at = $6
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND kind = 'passkey'
               AND confirmed_at IS NOT NULL
               AND (last_step IS NULL OR last_step < $4 OR ($4 = 0 AND last_step = 0))",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .bind(i64::from(counter))
        .bind(credential)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(classify)?;
        Ok(advanced)
    }

    async fn insert_passkey_ceremony(&self, ceremony: &PasskeyCeremony) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO passkey_ceremonies (secret_hash, tenant_id, user_id, purpose, state,
                 created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(ceremony.secret_hash.as_bytes().as_slice())
        .bind(ceremony.tenant_id.as_uuid())
        .bind(ceremony.user_id.map(|id| id.as_uuid()))
        .bind(ceremony.purpose.as_str())
        .bind(&ceremony.state)
        .bind(ceremony.created_at)
        .bind(ceremony.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn take_passkey_ceremony(
        &self,
        tenant: TenantId,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<PasskeyCeremony>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM passkey_ceremonies
             WHERE secret_hash = $1 AND tenant_id = $2 AND expires_at > $3
             RETURNING *",
        )
        .bind(hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        let Some(row) = row else {
            return Ok(None);
        };
        CeremonyParts {
            secret_hash: row.try_get("secret_hash").map_err(classify)?,
            tenant_id: row.try_get("tenant_id").map_err(classify)?,
            user_id: row.try_get("user_id").map_err(classify)?,
            purpose: row.try_get("purpose").map_err(classify)?,
            state: row.try_get("state").map_err(classify)?,
            created_at: row.try_get("created_at").map_err(classify)?,
            expires_at: row.try_get("expires_at").map_err(classify)?,
        }
        .into_ceremony()
        .map(Some)
    }
}
