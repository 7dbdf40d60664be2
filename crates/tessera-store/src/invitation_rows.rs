//! An `invitations` row as plain values, and its conversion to the domain's invitation;
//! both backends read their columns into this.

use crate::errors::corrupt;
use crate::oauth_rows::secret_hash;
use tessera_core::email::Email;
use tessera_core::event::Actor;
use tessera_core::ids::{InvitationId, TenantId, UserId};
use tessera_core::invitation::Invitation;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) struct InvitationParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub token_hash: Vec<u8>,
    pub invited_by: String,
    pub language: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub accepted_by: Option<Uuid>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl InvitationParts {
    pub fn into_invitation(self) -> StoreResult<Invitation> {
        Ok(Invitation {
            id: InvitationId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            email: Email::parse(&self.email).map_err(|e| corrupt("invitation email", e))?,
            token_hash: secret_hash("invitation token", self.token_hash)?,
            invited_by: Actor::parse(&self.invited_by)
                .ok_or_else(|| corrupt("actor", &self.invited_by))?,
            language: self.language,
            created_at: self.created_at,
            expires_at: self.expires_at,
            accepted_at: self.accepted_at,
            accepted_by: self.accepted_by.map(UserId::from_uuid),
            revoked_at: self.revoked_at,
        })
    }
}
