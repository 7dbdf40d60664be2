//! Invitations: an administrator invites an email address; the person follows the mailed
//! link, chooses a password and lands with an active account — the light account of the
//! address, if there is one, claimed with its id and attributes. The link proves the
//! address, so the account's email is verified.

use crate::email::Email;
use crate::event::{Actor, Event};
use crate::ids::{InvitationId, TenantId, UserId};
use crate::page::{Page, PageRequest};
use crate::secret::SecretHash;
use crate::store::StoreResult;
use time::{Duration, OffsetDateTime};

/// How long an invitation is valid unless the inviter says otherwise.
pub const DEFAULT_VALIDITY: Duration = Duration::days(7);
/// The longest validity an inviter may choose.
pub const MAX_VALIDITY: Duration = Duration::days(30);

/// An invitation to one address.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    pub email: Email,
    /// SHA-256 of the link's token; the token itself is only in the mail.
    pub token_hash: SecretHash,
    pub invited_by: Actor,
    /// The language of the mail and of the pages it opens.
    pub language: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    /// The account the invitation became.
    pub accepted_by: Option<UserId>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

impl Invitation {
    pub fn state(&self, now: OffsetDateTime) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if now >= self.expires_at {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// The storage port of invitations.
#[async_trait::async_trait]
pub trait InvitationStore: Send + Sync {
    /// Stores a new invitation and its `user.invited` event.
    async fn insert_invitation(&self, invitation: &Invitation, event: &Event) -> StoreResult<()>;
    async fn invitation_by_id(
        &self,
        tenant: TenantId,
        id: InvitationId,
    ) -> StoreResult<Option<Invitation>>;
    /// The tenant's invitations, newest first.
    async fn list_invitations(
        &self,
        tenant: TenantId,
        page: PageRequest,
    ) -> StoreResult<Page<Invitation>>;
    /// Marks a pending invitation accepted by `user`, once: false when it was accepted or
    /// revoked already.
    async fn accept_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Revokes a pending invitation with its event: false when it was accepted or revoked.
    async fn revoke_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_state_follows_acceptance_revocation_and_time() {
        let now = datetime!(2026-11-01 9:00 UTC);
        let mut invitation = Invitation {
            id: InvitationId::new_at(now),
            tenant_id: TenantId::new_at(now),
            email: Email::parse("ada@example.com").unwrap(),
            token_hash: SecretHash::of_str("x"),
            invited_by: Actor::System,
            language: "en".into(),
            created_at: now,
            expires_at: now + DEFAULT_VALIDITY,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        assert_eq!(invitation.state(now), InvitationState::Pending);
        assert_eq!(
            invitation.state(now + Duration::days(8)),
            InvitationState::Expired
        );
        invitation.revoked_at = Some(now);
        assert_eq!(invitation.state(now), InvitationState::Revoked);
        invitation.accepted_at = Some(now);
        assert_eq!(invitation.state(now), InvitationState::Accepted);
    }
}
