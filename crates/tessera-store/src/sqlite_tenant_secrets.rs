//! A tenant's sealed secrets on SQLite.

use crate::errors::classify;
use crate::sqlite::{SqliteStore, insert_event, micros};
use async_trait::async_trait;
use tessera_core::bot::captcha::TenantSecretStore;
use tessera_core::event::Event;
use tessera_core::ids::TenantId;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

#[async_trait]
impl TenantSecretStore for SqliteStore {
    async fn set_tenant_secret(
        &self,
        tenant: TenantId,
        name: &str,
        sealed: &[u8],
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tenant_secrets (tenant_id, name, sealed_value, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, name)
             DO UPDATE SET sealed_value = excluded.sealed_value, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_uuid())
        .bind(name)
        .bind(sealed)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn tenant_secret(&self, tenant: TenantId, name: &str) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar(
            "SELECT sealed_value FROM tenant_secrets WHERE tenant_id = ?1 AND name = ?2",
        )
        .bind(tenant.as_uuid())
        .bind(name)
        .fetch_optional(&self.readers)
        .await
        .map_err(classify)
    }

    async fn delete_tenant_secret(
        &self,
        tenant: TenantId,
        name: &str,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM tenant_secrets WHERE tenant_id = ?1 AND name = ?2")
            .bind(tenant.as_uuid())
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(classify)?
            .rows_affected()
            == 1;
        if deleted {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(deleted)
    }
}
