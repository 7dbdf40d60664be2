//! Lockout counters on PostgreSQL: the row is created if missing and then locked with
//! `FOR UPDATE`, so concurrent attempts on one account queue for it and each sees the
//! count the previous one wrote.

use crate::errors::classify;
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use tessera_core::event::Event;
use tessera_core::ids::{TenantId, UserId};
use tessera_core::lockout::{
    Factor, LockState, LockoutPolicy, LockoutStore, Reservation, release, reserve, settle_success,
};
use tessera_core::store::{StoreError, StoreResult};
use time::OffsetDateTime;

fn state_from_row(row: &PgRow) -> StoreResult<LockState> {
    let failures: i32 = row.try_get("failures").map_err(classify)?;
    Ok(LockState {
        failures: u32::try_from(failures)
            .map_err(|_| StoreError::Database("negative failure count".into()))?,
        locked_until: row.try_get("locked_until").map_err(classify)?,
        disabled_at: row.try_get("disabled_at").map_err(classify)?,
    })
}

async fn load(
    tx: &mut sqlx::PgConnection,
    tenant: TenantId,
    user: UserId,
    factor: Factor,
) -> StoreResult<LockState> {
    let row = sqlx::query(
        "SELECT failures, locked_until, disabled_at FROM factor_locks
         WHERE tenant_id = $1 AND user_id = $2 AND factor = $3 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .bind(factor.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(classify)?;
    row.as_ref()
        .map(state_from_row)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// A zero row to lock; a concurrent insert of the same row waits for this one, then does
/// nothing.
async fn create_if_missing(
    tx: &mut sqlx::PgConnection,
    tenant: TenantId,
    user: UserId,
    factor: Factor,
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO factor_locks (tenant_id, user_id, factor, failures, updated_at)
         VALUES ($1, $2, $3, 0, $4) ON CONFLICT (tenant_id, user_id, factor) DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .bind(factor.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
}

async fn save(
    tx: &mut sqlx::PgConnection,
    tenant: TenantId,
    user: UserId,
    factor: Factor,
    state: &LockState,
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO factor_locks (tenant_id, user_id, factor, failures, locked_until,
             disabled_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, user_id, factor) DO UPDATE SET
             failures = excluded.failures, locked_until = excluded.locked_until,
             disabled_at = excluded.disabled_at, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .bind(factor.as_str())
    .bind(i32::try_from(state.failures).unwrap_or(i32::MAX))
    .bind(state.locked_until)
    .bind(state.disabled_at)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
}

#[async_trait]
impl LockoutStore for PostgresStore {
    async fn reserve_attempt(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Factor,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<(LockState, Reservation)> {
        let mut tx = self.begin_write().await?;
        create_if_missing(&mut tx, tenant, user, factor, now).await?;
        let state = load(&mut tx, tenant, user, factor).await?;
        let (next, reservation) = reserve(state, now, policy);
        save(&mut tx, tenant, user, factor, &next, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok((next, reservation))
    }

    async fn settle_success(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Factor,
        slot: u32,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let state = load(&mut tx, tenant, user, factor).await?;
        let next = settle_success(state, slot);
        save(&mut tx, tenant, user, factor, &next, now).await?;
        tx.commit().await.map_err(classify)
    }

    async fn release_attempt(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Factor,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let state = load(&mut tx, tenant, user, factor).await?;
        save(&mut tx, tenant, user, factor, &release(state, policy), now).await?;
        tx.commit().await.map_err(classify)
    }

    async fn lock_states(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Vec<(Factor, LockState)>> {
        let rows = sqlx::query(
            "SELECT factor, failures, locked_until, disabled_at FROM factor_locks
             WHERE tenant_id = $1 AND user_id = $2 AND failures > 0 ORDER BY factor",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .filter_map(|row| {
                let name: String = row.try_get("factor").ok()?;
                Some((Factor::parse(&name)?, row))
            })
            .map(|(factor, row)| Ok((factor, state_from_row(row)?)))
            .collect()
    }

    async fn clear_locks(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Option<Factor>,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let cleared = sqlx::query(
            "DELETE FROM factor_locks
             WHERE tenant_id = $1 AND user_id = $2 AND ($3::TEXT IS NULL OR factor = $3)
               AND failures > 0",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(factor.map(Factor::as_str))
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if cleared == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }
}
