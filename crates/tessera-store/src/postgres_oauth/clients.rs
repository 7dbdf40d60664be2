//! `ClientStore` for PostgreSQL: clients, signing keys, consents and client assertions.

use crate::errors::classify;
use crate::oauth_rows::{ClientParts, ConsentParts, SigningKeyParts};
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use tessera_core::event::Event;
use tessera_core::ids::{ClientId, TenantId, UserId};
use tessera_core::oauth::client::Client;
use tessera_core::oauth::grant::Consent;
use tessera_core::oauth::signing_key::SigningKeyRecord;
use tessera_core::page::{Page, PageRequest};
use tessera_core::secret::SecretHash;
use tessera_core::store::{ClientStore, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

fn client_from_row(row: &PgRow) -> StoreResult<Client> {
    ClientParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        secret_hash: row.try_get("secret_hash").map_err(classify)?,
        metadata: row.try_get::<Json<_>, _>("metadata").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
        version: row.try_get("version").map_err(classify)?,
    }
    .into_client()
}

fn signing_key_from_row(row: &PgRow) -> StoreResult<SigningKeyRecord> {
    SigningKeyParts {
        kid: row.try_get("kid").map_err(classify)?,
        algorithm: row.try_get("algorithm").map_err(classify)?,
        sealed_private_key: row.try_get("sealed_private_key").map_err(classify)?,
        public_jwk: row.try_get::<Json<_>, _>("public_jwk").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        activates_at: row.try_get("activates_at").map_err(classify)?,
        retires_at: row.try_get("retires_at").map_err(classify)?,
    }
    .into_record()
}

fn consent_from_row(row: &PgRow) -> StoreResult<Consent> {
    Ok(ConsentParts {
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        scope: row.try_get::<Json<_>, _>("scope").map_err(classify)?.0,
        granted_at: row.try_get("granted_at").map_err(classify)?,
    }
    .into_consent())
}

#[async_trait]
impl ClientStore for PostgresStore {
    async fn insert_client(&self, client: &Client, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO clients (id, tenant_id, secret_hash, metadata, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(client.id.as_uuid())
        .bind(client.tenant_id.as_uuid())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(Json(&client.metadata))
        .bind(client.created_at)
        .bind(client.updated_at)
        .bind(client.version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn update_client(
        &self,
        client: &Client,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE clients SET secret_hash = $1, metadata = $2, updated_at = $3, version = $4
             WHERE id = $5 AND tenant_id = $6 AND version = $7 AND deleted_at IS NULL",
        )
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(Json(&client.metadata))
        .bind(client.updated_at)
        .bind(client.version)
        .bind(client.id.as_uuid())
        .bind(client.tenant_id.as_uuid())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::VersionConflict);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn client_by_id(&self, tenant: TenantId, id: ClientId) -> StoreResult<Option<Client>> {
        sqlx::query("SELECT * FROM clients WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn list_clients(&self, tenant: TenantId, page: PageRequest) -> StoreResult<Page<Client>> {
        let rows = sqlx::query(
            "SELECT * FROM clients WHERE tenant_id = $1 AND id > $2 AND deleted_at IS NULL
             ORDER BY id LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(page.after.unwrap_or(Uuid::nil()))
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let clients = rows
            .iter()
            .map(client_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(clients, page, |c| c.id.as_uuid()))
    }

    async fn delete_client(
        &self,
        tenant: TenantId,
        id: ClientId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "UPDATE clients SET deleted_at = $1, updated_at = $1, secret_hash = NULL, version = version + 1
             WHERE id = $2 AND tenant_id = $3 AND deleted_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        for revoke in [
            "UPDATE grants SET revoked_at = $1 WHERE client_id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
            "UPDATE access_tokens SET revoked_at = $1 WHERE client_id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        ] {
            sqlx::query(revoke)
                .bind(at)
                .bind(id.as_uuid())
                .bind(tenant.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        for forget in [
            "DELETE FROM consents WHERE client_id = $1 AND tenant_id = $2",
            "DELETE FROM session_clients WHERE client_id = $1 AND tenant_id = $2",
        ] {
            sqlx::query(forget)
                .bind(id.as_uuid())
                .bind(tenant.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, sealed_private_key, public_jwk, created_at, activates_at, retires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(key.algorithm.as_str())
        .bind(key.sealed_private_key.as_slice())
        .bind(Json(&key.public_jwk))
        .bind(key.created_at)
        .bind(key.activates_at)
        .bind(key.retires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        // Keys made in the same instant: the one that starts signing later is the newer.
        sqlx::query("SELECT * FROM signing_keys ORDER BY created_at, activates_at, kid")
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?
            .iter()
            .map(signing_key_from_row)
            .collect()
    }

    async fn retire_signing_key(&self, kid: &str, retires_at: OffsetDateTime) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE signing_keys SET retires_at = $1 WHERE kid = $2")
            .bind(retires_at)
            .bind(kid)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(updated.rows_affected() > 0)
    }

    async fn delete_retired_signing_keys(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM signing_keys WHERE retires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(deleted.rows_affected())
    }

    async fn consent(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
    ) -> StoreResult<Option<Consent>> {
        sqlx::query(
            "SELECT * FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .as_ref()
        .map(consent_from_row)
        .transpose()
    }

    async fn put_consent(&self, consent: &Consent, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO consents (tenant_id, user_id, client_id, scope, granted_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, user_id, client_id)
             DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(consent.tenant_id.as_uuid())
        .bind(consent.user_id.as_uuid())
        .bind(consent.client_id.as_uuid())
        .bind(Json(&consent.scope))
        .bind(consent.granted_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn remember_client_assertion(
        &self,
        tenant: TenantId,
        client: ClientId,
        jti_hash: &SecretHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM client_assertions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let inserted = sqlx::query(
            "INSERT INTO client_assertions (client_id, jti_hash, tenant_id, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (client_id, jti_hash) DO NOTHING",
        )
        .bind(client.as_uuid())
        .bind(jti_hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(inserted.rows_affected() == 1)
    }
}
