//! Invitations on SQLite.

use crate::errors::classify;
use crate::invitation_rows::InvitationParts;
use crate::sqlite::{SqliteStore, from_micros, insert_event, micros};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tessera_core::event::Event;
use tessera_core::ids::{InvitationId, TenantId, UserId};
use tessera_core::invitation::{Invitation, InvitationStore};
use tessera_core::page::{Page, PageRequest};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

fn optional_time(row: &SqliteRow, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    let value: Option<i64> = row.try_get(column).map_err(classify)?;
    value.map(from_micros).transpose()
}

fn invitation_from_row(row: &SqliteRow) -> StoreResult<Invitation> {
    InvitationParts {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        email: row.try_get("email").map_err(classify)?,
        token_hash: row.try_get("token_hash").map_err(classify)?,
        invited_by: row.try_get("invited_by").map_err(classify)?,
        language: row.try_get("language").map_err(classify)?,
        created_at: from_micros(row.try_get("created_at").map_err(classify)?)?,
        expires_at: from_micros(row.try_get("expires_at").map_err(classify)?)?,
        accepted_at: optional_time(row, "accepted_at")?,
        accepted_by: row.try_get("accepted_by").map_err(classify)?,
        revoked_at: optional_time(row, "revoked_at")?,
    }
    .into_invitation()
}

#[async_trait]
impl InvitationStore for SqliteStore {
    async fn insert_invitation(&self, invitation: &Invitation, event: &Event) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email, token_hash, invited_by, language,
                 created_at, expires_at, accepted_at, accepted_by, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, NULL)",
        )
        .bind(invitation.id.as_uuid())
        .bind(invitation.tenant_id.as_uuid())
        .bind(invitation.email.as_str())
        .bind(invitation.token_hash.as_bytes().as_slice())
        .bind(invitation.invited_by.to_string())
        .bind(&invitation.language)
        .bind(micros(invitation.created_at))
        .bind(micros(invitation.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn invitation_by_id(
        &self,
        tenant: TenantId,
        id: InvitationId,
    ) -> StoreResult<Option<Invitation>> {
        sqlx::query("SELECT * FROM invitations WHERE id = ?1 AND tenant_id = ?2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.readers)
            .await
            .map_err(classify)?
            .as_ref()
            .map(invitation_from_row)
            .transpose()
    }

    async fn list_invitations(
        &self,
        tenant: TenantId,
        page: PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        let rows = sqlx::query(
            "SELECT * FROM invitations WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )
        .bind(tenant.as_uuid())
        .bind(page.after.unwrap_or(Uuid::nil()))
        .bind(page.fetch_limit())
        .fetch_all(&self.readers)
        .await
        .map_err(classify)?;
        let items = rows
            .iter()
            .map(invitation_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |i| i.id.as_uuid()))
    }

    async fn accept_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE invitations SET accepted_at = ?1, accepted_by = ?2
             WHERE id = ?3 AND tenant_id = ?4 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(micros(at))
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn revoke_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE invitations SET revoked_at = ?1
             WHERE id = ?2 AND tenant_id = ?3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(micros(at))
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }
}
