//! `GrantStore` for SQLite: authorization codes, grants, refresh and access tokens, and
//! the purge of expired protocol state.

use super::time;
use crate::errors::classify;
use crate::oauth_rows::{
    AccessTokenParts, AuthorizationCodeParts, GrantParts, RefreshTokenParts, missing_grant,
};
use crate::sqlite::{SqliteStore, insert_event, micros, optional_time};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tessera_core::event::Event;
use tessera_core::ids::{ClientId, GrantId, TenantId, UserId};
use tessera_core::oauth::grant::{
    AccessTokenRecord, AuthorizationCode, CodeRedemption, Grant, RefreshToken, Rotation,
};
use tessera_core::secret::SecretHash;
use tessera_core::store::{GrantStore, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

fn code_from_row(row: &SqliteRow) -> StoreResult<AuthorizationCode> {
    AuthorizationCodeParts {
        code_hash: row.try_get("code_hash").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        redirect_uri: row.try_get("redirect_uri").map_err(classify)?,
        nonce: row.try_get("nonce").map_err(classify)?,
        code_challenge: row.try_get("code_challenge").map_err(classify)?,
        context: row.try_get::<Json<_>, _>("context").map_err(classify)?.0,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        consumed_at: optional_time(row, "consumed_at")?,
    }
    .into_code()
}

fn grant_from_row(row: &SqliteRow) -> StoreResult<Grant> {
    Ok(GrantParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        context: row
            .try_get::<Option<Json<_>>, _>("context")
            .map_err(classify)?
            .map(|json| json.0),
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: optional_time(row, "revoked_at")?,
    }
    .into_grant())
}

fn refresh_token_from_row(row: &SqliteRow) -> StoreResult<RefreshToken> {
    RefreshTokenParts {
        token_hash: row.try_get("token_hash").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        created_at: time(row, "created_at")?,
        used_at: optional_time(row, "used_at")?,
    }
    .into_token()
}

fn access_token_from_row(row: &SqliteRow) -> StoreResult<AccessTokenRecord> {
    Ok(AccessTokenParts {
        jti: row.try_get("jti").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        grant_id: row.try_get("grant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        scope: row.try_get::<Json<_>, _>("scope").map_err(classify)?.0,
        issued_at: time(row, "issued_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: optional_time(row, "revoked_at")?,
    }
    .into_record())
}

/// The grant `id` of `tenant`, read through `executor` (a transaction or the readers).
async fn read_grant<'c, E>(executor: E, tenant: Uuid, id: Uuid) -> StoreResult<Option<Grant>>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    sqlx::query("SELECT * FROM grants WHERE id = ?1 AND tenant_id = ?2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(executor)
        .await
        .map_err(classify)?
        .as_ref()
        .map(grant_from_row)
        .transpose()
}

async fn insert_refresh_token(
    conn: &mut SqliteConnection,
    token: &RefreshToken,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, grant_id, tenant_id, created_at, used_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(token.token_hash.as_bytes().as_slice())
    .bind(token.grant_id.as_uuid())
    .bind(token.tenant_id.as_uuid())
    .bind(micros(token.created_at))
    .bind(token.used_at.map(micros))
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(())
}

async fn insert_access_record(
    conn: &mut SqliteConnection,
    access: &AccessTokenRecord,
) -> StoreResult<()> {
    insert_access_records(conn, std::slice::from_ref(access)).await
}

/// Rows per multi-row INSERT: 9 bound values each, far below SQLite's variable limit.
const ACCESS_CHUNK: usize = 256;

pub(super) async fn insert_access_records(
    conn: &mut SqliteConnection,
    records: &[AccessTokenRecord],
) -> StoreResult<()> {
    for chunk in records.chunks(ACCESS_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO access_tokens (jti, tenant_id, client_id, grant_id, user_id, scope, issued_at, expires_at, revoked_at) ",
        );
        insert.push_values(chunk, |mut row, access| {
            row.push_bind(access.jti)
                .push_bind(access.tenant_id.as_uuid())
                .push_bind(access.client_id.as_uuid())
                .push_bind(access.grant_id.map(|id| id.as_uuid()))
                .push_bind(access.user_id.map(|id| id.as_uuid()))
                .push_bind(Json(access.scope.clone()))
                .push_bind(micros(access.issued_at))
                .push_bind(micros(access.expires_at))
                .push_bind(access.revoked_at.map(micros));
        });
        insert.build().execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

/// A refresh-token rotation, owned so that it can wait in the group-commit queue.
pub(super) struct RotationRequest {
    pub(super) token_hash: SecretHash,
    pub(super) at: OffsetDateTime,
    pub(super) next: RefreshToken,
    pub(super) access: AccessTokenRecord,
    pub(super) event: Event,
}

/// Spends the presented token and adds its successor, the access-token record and the
/// event, inside the caller's write transaction. A token already spent or unknown writes
/// nothing.
pub(super) async fn rotate_in(
    conn: &mut SqliteConnection,
    request: &RotationRequest,
) -> StoreResult<Rotation> {
    let used = sqlx::query(
        "UPDATE refresh_tokens SET used_at = ?1
         WHERE token_hash = ?2 AND used_at IS NULL RETURNING grant_id, tenant_id",
    )
    .bind(micros(request.at))
    .bind(request.token_hash.as_bytes().as_slice())
    .fetch_optional(&mut *conn)
    .await
    .map_err(classify)?;
    let Some(used) = used else {
        let earlier: Option<(Uuid, Uuid)> =
            sqlx::query_as("SELECT grant_id, tenant_id FROM refresh_tokens WHERE token_hash = ?1")
                .bind(request.token_hash.as_bytes().as_slice())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
        let Some((grant_id, tenant_id)) = earlier else {
            return Ok(Rotation::Unknown);
        };
        let grant = read_grant(&mut *conn, tenant_id, grant_id)
            .await?
            .ok_or_else(|| missing_grant(grant_id))?;
        return Ok(Rotation::Reused(grant));
    };
    let grant_id: Uuid = used.try_get("grant_id").map_err(classify)?;
    let tenant_id: Uuid = used.try_get("tenant_id").map_err(classify)?;
    let grant = read_grant(&mut *conn, tenant_id, grant_id)
        .await?
        .ok_or_else(|| missing_grant(grant_id))?;
    insert_refresh_token(&mut *conn, &request.next).await?;
    insert_access_record(&mut *conn, &request.access).await?;
    insert_event(&mut *conn, &request.event).await?;
    Ok(Rotation::Rotated(grant))
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, grant_id, redirect_uri, nonce, code_challenge, context, created_at, expires_at, consumed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(code.tenant_id.as_uuid())
        .bind(code.client_id.as_uuid())
        .bind(code.grant_id.as_uuid())
        .bind(&code.redirect_uri)
        .bind(code.nonce.as_deref())
        .bind(code.code_challenge.as_deref())
        .bind(Json(&code.context))
        .bind(micros(code.created_at))
        .bind(micros(code.expires_at))
        .bind(code.consumed_at.map(micros))
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
            "UPDATE authorization_codes SET consumed_at = ?1
             WHERE code_hash = ?2 AND tenant_id = ?3 AND consumed_at IS NULL RETURNING *",
        )
        .bind(micros(at))
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
            "SELECT * FROM authorization_codes WHERE code_hash = ?1 AND tenant_id = ?2",
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(grant.id.as_uuid())
        .bind(grant.tenant_id.as_uuid())
        .bind(grant.client_id.as_uuid())
        .bind(grant.user_id().map(|id| id.as_uuid()))
        .bind(grant.context.as_ref().map(Json))
        .bind(micros(grant.created_at))
        .bind(micros(grant.expires_at))
        .bind(grant.revoked_at.map(micros))
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
        read_grant(&self.readers, tenant.as_uuid(), id.as_uuid()).await
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
             VALUES (?1, ?2, ?3, NULL, NULL, ?4, ?4, ?4)
             ON CONFLICT (id) DO UPDATE SET revoked_at = coalesce(grants.revoked_at, excluded.revoked_at)
             WHERE grants.tenant_id = excluded.tenant_id AND grants.client_id = excluded.client_id",
        )
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(client.as_uuid())
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if upserted.rows_affected() == 0 {
            return Ok(());
        }
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = ?1
             WHERE grant_id = ?2 AND tenant_id = ?3 AND revoked_at IS NULL",
        )
        .bind(micros(at))
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
            "UPDATE grants SET revoked_at = ?1
             WHERE tenant_id = ?2 AND user_id = ?3 AND (?4 IS NULL OR client_id = ?4) AND revoked_at IS NULL",
        )
        .bind(micros(at))
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(client)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "UPDATE access_tokens SET revoked_at = ?1
             WHERE tenant_id = ?2 AND revoked_at IS NULL AND grant_id IN
                 (SELECT id FROM grants WHERE tenant_id = ?2 AND user_id = ?3 AND (?4 IS NULL OR client_id = ?4))",
        )
        .bind(micros(at))
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
        self.group_commit
            .rotate(RotationRequest {
                token_hash: token_hash.clone(),
                at,
                next: next.clone(),
                access: access.clone(),
                event: event.clone(),
            })
            .await
    }

    async fn refresh_token(
        &self,
        token_hash: &SecretHash,
    ) -> StoreResult<Option<(RefreshToken, Grant)>> {
        let Some(row) = sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = ?1")
            .bind(token_hash.as_bytes().as_slice())
            .fetch_optional(&self.readers)
            .await
            .map_err(classify)?
        else {
            return Ok(None);
        };
        let token = refresh_token_from_row(&row)?;
        let grant_id = token.grant_id.as_uuid();
        let grant = read_grant(&self.readers, token.tenant_id.as_uuid(), grant_id)
            .await?
            .ok_or_else(|| missing_grant(grant_id))?;
        Ok(Some((token, grant)))
    }

    async fn insert_access_token(
        &self,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        self.group_commit.append(access, event).await
    }

    async fn access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
    ) -> StoreResult<Option<(AccessTokenRecord, Option<Grant>)>> {
        let Some(row) =
            sqlx::query("SELECT * FROM access_tokens WHERE jti = ?1 AND tenant_id = ?2")
                .bind(jti)
                .bind(tenant.as_uuid())
                .fetch_optional(&self.readers)
                .await
                .map_err(classify)?
        else {
            return Ok(None);
        };
        let record = access_token_from_row(&row)?;
        let grant = match record.grant_id {
            Some(id) => Some(
                read_grant(&self.readers, tenant.as_uuid(), id.as_uuid())
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
            "UPDATE access_tokens SET revoked_at = coalesce(revoked_at, ?1) WHERE jti = ?2 AND tenant_id = ?3",
        )
        .bind(micros(at))
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
            ("DELETE FROM sign_ups WHERE expires_at < ?1", horizon),
            (
                "DELETE FROM phone_verifications WHERE expires_at < ?1",
                horizon,
            ),
            (
                "DELETE FROM sign_in_challenges WHERE expires_at < ?1",
                horizon,
            ),
            (
                "DELETE FROM sign_in_history WHERE at < ?1",
                now - tessera_core::sign_in_history::HISTORY_RETENTION,
            ),
            (
                "DELETE FROM spent_pow_challenges WHERE expires_at < ?1",
                now,
            ),
            ("DELETE FROM trusted_devices WHERE expires_at < ?1", now),
            ("DELETE FROM passkey_ceremonies WHERE expires_at < ?1", now),
            (
                "DELETE FROM failed_sign_ins WHERE at < ?1",
                now - tessera_core::sign_in_history::FAILURE_RETENTION,
            ),
            (
                "DELETE FROM identity_verification_sessions WHERE expires_at < ?1",
                horizon,
            ),
            (
                "DELETE FROM access_tokens WHERE expires_at < ?1 OR grant_id IN \
                 (SELECT id FROM grants WHERE expires_at < ?1 OR revoked_at < ?1)",
                horizon,
            ),
            (
                "DELETE FROM refresh_tokens WHERE grant_id IN \
                 (SELECT id FROM grants WHERE expires_at < ?1 OR revoked_at < ?1)",
                horizon,
            ),
            (
                "DELETE FROM grants WHERE expires_at < ?1 OR revoked_at < ?1",
                horizon,
            ),
            (
                "DELETE FROM authorization_codes WHERE expires_at < ?1",
                horizon,
            ),
            (
                "DELETE FROM session_clients WHERE session_id IN (SELECT id FROM sessions \
                 WHERE ended_at < ?1 OR expires_at < ?1 OR idle_expires_at < ?1)",
                horizon,
            ),
            (
                "DELETE FROM sessions \
                 WHERE ended_at < ?1 OR expires_at < ?1 OR idle_expires_at < ?1",
                horizon,
            ),
            (
                "DELETE FROM pending_authorizations WHERE expires_at < ?1",
                now,
            ),
            ("DELETE FROM client_assertions WHERE expires_at < ?1", now),
        ];
        let mut purged = 0;
        for (sql, before) in statements {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(micros(before))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            purged += done.rows_affected();
        }
        Ok(purged)
    }
}
