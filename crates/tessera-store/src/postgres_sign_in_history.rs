//! Sign-in history, failed attempts per IP and spent proof-of-work challenges on PostgreSQL.

use crate::errors::classify;
use crate::oauth_rows::secret_hash;
use crate::postgres::PostgresStore;
use crate::rows::geo_point;
use async_trait::async_trait;
use sqlx::Row;
use tessera_core::bot::pow::SpentChallenges;
use tessera_core::ids::{TenantId, UserId};
use tessera_core::sign_in_history::{SignInHistoryStore, SignInRecord};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

#[async_trait]
impl SignInHistoryStore for PostgresStore {
    async fn record_sign_in(&self, record: &SignInRecord) -> StoreResult<()> {
        let geo = record.geo.unwrap_or_default();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sign_in_history (tenant_id, user_id, at, device_hash, country, asn,
                 latitude, longitude)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(record.tenant_id.as_uuid())
        .bind(record.user_id.as_uuid())
        .bind(record.at)
        .bind(record.device.as_ref().map(|d| d.as_bytes().to_vec()))
        .bind(geo.country.as_ref().map(|c| c.as_str().to_owned()))
        .bind(geo.asn.map(i64::from))
        .bind(geo.coordinates.map(|c| c.latitude()))
        .bind(geo.coordinates.map(|c| c.longitude()))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn recent_sign_ins(
        &self,
        tenant: TenantId,
        user: UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<SignInRecord>> {
        let rows = sqlx::query(
            "SELECT at, device_hash, country, asn, latitude, longitude FROM sign_in_history
             WHERE tenant_id = $1 AND user_id = $2 AND at >= $3
             ORDER BY at DESC LIMIT $4",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                let device: Option<Vec<u8>> = row.try_get("device_hash").map_err(classify)?;
                let country: Option<String> = row.try_get("country").map_err(classify)?;
                let asn: Option<i64> = row.try_get("asn").map_err(classify)?;
                let latitude: Option<f64> = row.try_get("latitude").map_err(classify)?;
                let longitude: Option<f64> = row.try_get("longitude").map_err(classify)?;
                Ok(SignInRecord {
                    tenant_id: tenant,
                    user_id: user,
                    at: row.try_get("at").map_err(classify)?,
                    device: device.map(|d| secret_hash("device", d)).transpose()?,
                    geo: geo_point(country, asn, latitude, longitude),
                })
            })
            .collect()
    }

    async fn record_failed_sign_in(
        &self,
        tenant: TenantId,
        ip: Option<&str>,
        user: Option<UserId>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO failed_sign_ins (tenant_id, ip, user_id, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.as_uuid())
        .bind(ip.unwrap_or(""))
        .bind(user.map(|u| u.as_uuid()))
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn failed_sign_ins_of(
        &self,
        tenant: TenantId,
        user: UserId,
        since: OffsetDateTime,
    ) -> StoreResult<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM failed_sign_ins WHERE tenant_id = $1 AND user_id = $2 AND at >= $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn failed_sign_ins_from(
        &self,
        tenant: TenantId,
        ip: &str,
        since: OffsetDateTime,
    ) -> StoreResult<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM failed_sign_ins WHERE tenant_id = $1 AND ip = $2 AND at >= $3",
        )
        .bind(tenant.as_uuid())
        .bind(ip)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}

#[async_trait]
impl SpentChallenges for PostgresStore {
    async fn spend(&self, key: &str, expires_at: OffsetDateTime) -> StoreResult<bool> {
        let first = sqlx::query(
            "INSERT INTO spent_pow_challenges (challenge, expires_at) VALUES ($1, $2)
             ON CONFLICT (challenge) DO NOTHING",
        )
        .bind(key)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(classify)?
        .rows_affected()
            == 1;
        Ok(first)
    }
}
