//! `GrantStore` for PostgreSQL: authorization codes, grants, refresh and access tokens, and
//! the purge of expired protocol state.

use crate::errors::classify;
use crate::oauth_rows::{
    AccessTokenParts, AuthorizationCodeParts, GrantParts, RefreshTokenParts, missing_grant,
};
use crate::postgres::{PostgresStore, insert_event};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Row};
use tessera_core::event::Event;
use tessera_core::ids::{ClientId, GrantId, TenantId, UserId};
use tessera_core::oauth::grant::{
    AccessTokenRecord, AuthorizationCode, CodeRedemption, Grant, RefreshToken, Rotation,
};
use tessera_core::secret::SecretHash;
use tessera_core::store::{GrantStore, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

fn code_from_row(row: &PgRow) -> StoreResult<AuthorizationCode> {
    AuthorizationCodeParts {
        code_hash: row.try_get("code_hash").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        redirect_uri: row.try_get("redirect_uri").map_err(classify)?,
        nonce: row.try_get("nonce").map_err(classify)?,
        code_challenge: row.try_get("code_challenge").map_err(classify)?,
        context: row.try_get::<Json<_>, _>("context").map_err(classify)?.0,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        consumed_at: row.try_get("consumed_at").map_err(classify)?,
    }
    .into_code()
}

fn grant_from_row(row: &PgRow) -> StoreResult<Grant> {
    Ok(GrantParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        context: row
            .try_get::<Option<Json<_>>, _>("context")
            .map_err(classify)?
            .map(|json| json.0),
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    }
    .into_grant())
}

fn refresh_token_from_row(row: &PgRow) -> StoreResult<RefreshToken> {
    RefreshTokenParts {
        token_hash: row.try_get("token_hash").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        used_at: row.try_get("used_at").map_err(classify)?,
    }
    .into_token()
}

fn access_token_from_row(row: &PgRow) -> StoreResult<AccessTokenRecord> {
    Ok(AccessTokenParts {
        jti: row.try_get("jti").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        scope: row.try_get::<Json<_>, _>("scope").map_err(classify)?.0,
        issued_at: row.try_get("issued_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    }
    .into_record())
}

/// The grant `id` of `tenant`, read through `executor` (a transaction or the pool).
async fn read_grant<'c, E>(executor: E, tenant: Uuid, id: Uuid) -> StoreResult<Option<Grant>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    sqlx::query("SELECT * FROM grants WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(executor)
        .await
        .map_err(classify)?
        .as_ref()
        .map(grant_from_row)
        .transpose()
}

async fn insert_refresh_token(conn: &mut PgConnection, token: &RefreshToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, grant_id, tenant_id, created_at, used_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token.token_hash.as_bytes().as_slice())
    .bind(token.grant_id.as_uuid())
    .bind(token.tenant_id.as_uuid())
    .bind(token.created_at)
    .bind(token.used_at)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(())
}

async fn insert_access_record(
    conn: &mut PgConnection,
    access: &AccessTokenRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO access_tokens (jti, tenant_id, client_id, grant_id, user_id, scope, issued_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(access.jti)
    .bind(access.tenant_id.as_uuid())
    .bind(access.client_id.as_uuid())
    .bind(access.grant_id.map(|id| id.as_uuid()))
    .bind(access.user_id.map(|id| id.as_uuid()))
    .bind(Json(&access.scope))
    .bind(access.issued_at)
    .bind(access.expires_at)
    .bind(access.revoked_at)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(())
}

#[async_trait]
impl GrantStore for PostgresStore {
    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, grant_id, redirect_uri, nonce, code_challenge, context, created_at, expires_at, consumed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(code.tenant_id.as_uuid())
        .bind(code.client_id.as_uuid())
        .bind(code.grant_id.as_uuid())
        .bind(&code.redirect_uri)
        .bind(code.nonce.as_deref())
        .bind(code.code_challenge.as_deref())
        .bind(Json(&code.context))
        .bind(code.created_at)
        .bind(code.expires_at)
        .bind(code.consumed_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn redeem_authorization_code(
        &self,
        tenant: TenantId,
        code_hash: &SecretHash,
        at: OffsetDateTime,
    ) -> StoreResult<CodeRedemption> {
        let mut tx = self.begin_write().await?;
        let consumed = sqlx::query(
            "UPDATE authorization_codes SET consumed_at = $1
             WHERE code_hash = $2 AND tenant_id = $3 AND consumed_at IS NULL RETURNING *",
        )
        .bind(at)
        .bind(code_hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        if let Some(row) = consumed {
            let code = code_from_row(&row)?;
            tx.commit().await.map_err(classify)?;
            return Ok(CodeRedemption::Fresh(code));
        }
        let earlier = sqlx::query(
            "SELECT * FROM authorization_codes WHERE code_hash = $1 AND tenant_id = $2",
        )
        .bind(code_hash.as_bytes().as_slice())
        .bind(tenant.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        match earlier {
            Some(row) => Ok(CodeRedemption::Replayed(code_from_row(&row)?)),
            None => Ok(CodeRedemption::Unknown),
        }
    }

    async fn insert_grant(
        &self,
        grant: &Grant,
        refresh: Option<&RefreshToken>,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO grants (id, tenant_id, client_id, user_id, context, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(grant.id.as_uuid())
        .bind(grant.tenant_id.as_uuid())
        .bind(grant.client_id.as_uuid())
        .bind(grant.user_id().map(|id| id.as_uuid()))
        .bind(grant.context.as_ref().map(Json))
        .bind(grant.created_at)
        .bind(grant.expires_at)
        .bind(grant.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if let Some(refresh) = refresh {
            insert_refresh_token(&mut tx, refresh).await?;
        }
        insert_access_record(&mut tx, access).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn grant_by_id(&self, tenant: TenantId, id: GrantId) -> StoreResult<Option<Grant>> {
        read_grant(&self.pool, tenant.as_uuid(), id.as_uuid()).await
    }

    async fn revoke_grant(
        &self,
        tenant: TenantId,
        client: ClientId,
        id: GrantId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // An unknown id becomes a revoked placeholder; a known one keeps its first
        // revocation. An id taken by another tenant's or client's grant changes nothing:
        // the grant asked for can never exist either way.
        let upserted = sqlx::query(
            "INSERT INTO grants (id, tenant_id, client_id, user_id, context, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, NULL, NULL, $4, $4, $4)
             ON CONFLICT (id) DO UPDATE SET revoked_at = coalesce(grants.revoked_at, excluded.revoked_at)
             WHERE grants.tenant_id = excluded.tenant_id AND grants.client_id = excluded.client_id",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(client.as_uuid())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if upserted.rows_affected() == 0 {
            return Ok(());
        }
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1
             WHERE grant_id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn revoke_user_grants(
        &self,
        tenant: TenantId,
        user: UserId,
        client: Option<ClientId>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let client = client.map(|id| id.as_uuid());
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE grants SET revoked_at = $1
             WHERE tenant_id = $2 AND user_id = $3 AND ($4 IS NULL OR client_id = $4) AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1
             WHERE tenant_id = $2 AND revoked_at IS NULL AND grant_id IN
                 (SELECT id FROM grants WHERE tenant_id = $2 AND user_id = $3 AND ($4 IS NULL OR client_id = $4))",
        )
        .bind(at)
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(revoked.rows_affected())
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &SecretHash,
        at: OffsetDateTime,
        next: &RefreshToken,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<Rotation> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL RETURNING grant_id, tenant_id",
        )
        .bind(at)
        .bind(token_hash.as_bytes().as_slice())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(used) = used else {
            // Already used, or unknown: nothing is written (the transaction rolls back).
            let earlier: Option<(Uuid, Uuid)> = sqlx::query_as(
                "SELECT grant_id, tenant_id FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(token_hash.as_bytes().as_slice())
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
            let Some((grant_id, tenant_id)) = earlier else {
                return Ok(Rotation::Unknown);
            };
            let grant = read_grant(&mut *tx, tenant_id, grant_id)
                .await?
                .ok_or_else(|| missing_grant(grant_id))?;
            return Ok(Rotation::Reused(grant));
        };
        let grant_id: Uuid = used.try_get("grant_id").map_err(classify)?;
        let tenant_id: Uuid = used.try_get("tenant_id").map_err(classify)?;
        // FOR SHARE waits for a revocation of the grant in progress and holds off new ones
        // until the new tokens are stored, so the grant returned is current and a revocation
        // that follows also revokes the access token stored here.
        let grant = sqlx::query("SELECT * FROM grants WHERE id = $1 AND tenant_id = $2 FOR SHARE")
            .bind(grant_id)
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?
            .as_ref()
            .map(grant_from_row)
            .transpose()?
            .ok_or_else(|| missing_grant(grant_id))?;
        insert_refresh_token(&mut tx, next).await?;
        insert_access_record(&mut tx, access).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Rotation::Rotated(grant))
    }

    async fn refresh_token(
        &self,
        token_hash: &SecretHash,
    ) -> StoreResult<Option<(RefreshToken, Grant)>> {
        let Some(row) = sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
        else {
            return Ok(None);
        };
        let token = refresh_token_from_row(&row)?;
        let grant_id = token.grant_id.as_uuid();
        let grant = read_grant(&self.pool, token.tenant_id.as_uuid(), grant_id)
            .await?
            .ok_or_else(|| missing_grant(grant_id))?;
        Ok(Some((token, grant)))
    }

    async fn insert_access_token(
        &self,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_access_record(&mut tx, access).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
    ) -> StoreResult<Option<(AccessTokenRecord, Option<Grant>)>> {
        let Some(row) =
            sqlx::query("SELECT * FROM access_tokens WHERE jti = $1 AND tenant_id = $2")
                .bind(jti)
                .bind(tenant.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?
        else {
            return Ok(None);
        };
        let record = access_token_from_row(&row)?;
        let grant = match record.grant_id {
            Some(id) => Some(
                read_grant(&self.pool, tenant.as_uuid(), id.as_uuid())
                    .await?
                    .ok_or_else(|| missing_grant(id.as_uuid()))?,
            ),
            None => None,
        };
        Ok(Some((record, grant)))
    }

    async fn revoke_access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(
            "UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE jti = $2 AND tenant_id = $3",
        )
        .bind(at)
        .bind(jti)
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(found.rows_affected() > 0)
    }

    async fn purge_expired(
        &self,
        now: OffsetDateTime,
        horizon: OffsetDateTime,
    ) -> StoreResult<u64> {
        // Children before parents, each statement its own short transaction so that the
        // single writer is never held long.
        let statements: [(&str, OffsetDateTime); 17] = [
            ("DELETE FROM sign_ups WHERE expires_at < $1", horizon),
            (
                "DELETE FROM phone_verifications WHERE expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM sign_in_challenges WHERE expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM sign_in_history WHERE at < $1",
                now - tessera_core::sign_in_history::HISTORY_RETENTION,
            ),
            (
                "DELETE FROM spent_pow_challenges WHERE expires_at < $1",
                now,
            ),
            ("DELETE FROM trusted_devices WHERE expires_at < $1", now),
            ("DELETE FROM passkey_ceremonies WHERE expires_at < $1", now),
            (
                "DELETE FROM failed_sign_ins WHERE at < $1",
                now - tessera_core::sign_in_history::FAILURE_RETENTION,
            ),
            (
                "DELETE FROM identity_verification_sessions WHERE expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM access_tokens WHERE expires_at < $1 OR grant_id IN \
                 (SELECT id FROM grants WHERE expires_at < $1 OR revoked_at < $1)",
                horizon,
            ),
            (
                "DELETE FROM refresh_tokens WHERE grant_id IN \
                 (SELECT id FROM grants WHERE expires_at < $1 OR revoked_at < $1)",
                horizon,
            ),
            (
                "DELETE FROM grants WHERE expires_at < $1 OR revoked_at < $1",
                horizon,
            ),
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM session_clients WHERE session_id IN (SELECT id FROM sessions \
                 WHERE ended_at < $1 OR expires_at < $1 OR idle_expires_at < $1)",
                horizon,
            ),
            (
                "DELETE FROM sessions \
                 WHERE ended_at < $1 OR expires_at < $1 OR idle_expires_at < $1",
                horizon,
            ),
            (
                "DELETE FROM pending_authorizations WHERE expires_at < $1",
                now,
            ),
            ("DELETE FROM client_assertions WHERE expires_at < $1", now),
        ];
        let mut purged = 0;
        for (sql, before) in statements {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            purged += done.rows_affected();
        }
        Ok(purged)
    }
}
