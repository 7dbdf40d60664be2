//! Progressive profiling's skips on SQLite.

use crate::errors::classify;
use crate::sqlite::{SqliteStore, from_micros, micros};
use async_trait::async_trait;
use sqlx::Row;
use tessera_core::ids::{ClientId, TenantId, UserId};
use tessera_core::profiling::{ProfilingStore, Skip};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

#[async_trait]
impl ProfilingStore for SqliteStore {
    async fn profiling_skips(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
    ) -> StoreResult<Vec<Skip>> {
        let rows = sqlx::query(
            "SELECT attribute, skipped_at FROM profiling_skips
             WHERE tenant_id = ?1 AND user_id = ?2 AND client_id = ?3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client.as_uuid())
        .fetch_all(&self.readers)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                Ok(Skip {
                    attribute: row.try_get("attribute").map_err(classify)?,
                    skipped_at: from_micros(row.try_get("skipped_at").map_err(classify)?)?,
                })
            })
            .collect()
    }

    async fn record_profiling_skips(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
        attributes: &[String],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for attribute in attributes {
            sqlx::query(
                "INSERT INTO profiling_skips (tenant_id, user_id, client_id, attribute, skipped_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant_id, user_id, client_id, attribute)
                 DO UPDATE SET skipped_at = excluded.skipped_at",
            )
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(client.as_uuid())
            .bind(attribute)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }
}
