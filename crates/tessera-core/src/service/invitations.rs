//! Invitation use cases: invite an address (and mail the link), list, revoke, read a
//! pending invitation from its link, and accept it with a password.

use super::Core;
use super::signup::ProvenAddress;
use crate::auth::Authorized;
use crate::email::Email;
use crate::error::CoreError;
use crate::event::{Event, kinds};
use crate::ids::InvitationId;
use crate::invitation::{DEFAULT_VALIDITY, Invitation, InvitationState, MAX_VALIDITY};
use crate::notify::Notice;
use crate::page::{Page, PageRequest};
use crate::secret::{SecretHash, generate_secret};
use crate::tenant::Tenant;
use crate::user::{User, UserStatus};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use time::Duration;

/// The prefix of invitation link tokens.
const TOKEN_PREFIX: &str = "tsi";

/// What an administrator asks for.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: String,
    /// The language of the mail and the pages; the tenant's default when `None`.
    pub language: Option<String>,
    /// Days the link is valid, 1 to 30; 7 when `None`.
    pub valid_days: Option<u32>,
    /// The tenant's base URL for the link, e.g. `https://id.example.com/t/acme`.
    pub link_base: String,
}

/// What the person sends to accept.
#[derive(Debug)]
pub struct Acceptance {
    pub password: SecretString,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

fn subject(id: InvitationId) -> String {
    format!("invitation:{id}")
}

impl Core {
    /// Invites an address: an address with a full account is refused (`409`, the
    /// administrator may know it); a light account is claimed on acceptance.
    pub async fn invite(
        &self,
        auth: &Authorized,
        tenant: &Tenant,
        new: NewInvitation,
    ) -> Result<Invitation, CoreError> {
        if tenant.id != auth.tenant_id() {
            return Err(CoreError::NotFound("tenant"));
        }
        let email =
            Email::parse(&new.email).map_err(|e| CoreError::invalid("email", e.to_string()))?;
        let days = new.valid_days.unwrap_or(
            DEFAULT_VALIDITY
                .whole_days()
                .unsigned_abs()
                .try_into()
                .unwrap_or(7),
        );
        let validity = Duration::days(days.into());
        if !(Duration::days(1)..=MAX_VALIDITY).contains(&validity) {
            return Err(CoreError::invalid("valid_days", "from 1 to 30 days"));
        }
        if let Some(user) = self.parts.store.user_by_email(tenant.id, &email).await?
            && user.status != UserStatus::Light
        {
            return Err(CoreError::Duplicate { field: "email" });
        }
        let language = new
            .language
            .or_else(|| tenant.settings.default_locale.clone())
            .unwrap_or_else(|| "en".to_owned());
        let now = self.parts.clock.now();
        let token = generate_secret(TOKEN_PREFIX);
        let invitation = Invitation {
            id: InvitationId::new_at(now),
            tenant_id: tenant.id,
            email: email.clone(),
            token_hash: SecretHash::of(&token),
            invited_by: auth.actor().clone(),
            language: language.chars().take(35).collect(),
            created_at: now,
            expires_at: now
                + if new.valid_days.is_some() {
                    validity
                } else {
                    DEFAULT_VALIDITY
                },
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        let event = Event::new(
            tenant.id,
            now,
            auth.actor(),
            kinds::USER_INVITED,
            subject(invitation.id),
            json!({"expires_at": invitation.expires_at.unix_timestamp()}),
        );
        self.parts
            .store
            .insert_invitation(&invitation, &event)
            .await?;
        let link = format!(
            "{}/invite?id={}&token={}",
            new.link_base,
            invitation.id,
            token.expose_secret()
        );
        let notice = Notice::Invitation {
            link: SecretString::from(link),
            valid_for: std::time::Duration::from_secs(
                (invitation.expires_at - now).whole_seconds().unsigned_abs(),
            ),
        };
        self.notifier()
            .notify(tenant, &email, &invitation.language, notice)
            .await
            .map_err(CoreError::NotDelivered)?;
        Ok(invitation)
    }

    pub async fn list_invitations(
        &self,
        auth: &Authorized,
        page: PageRequest,
    ) -> Result<Page<Invitation>, CoreError> {
        Ok(self
            .parts
            .store
            .list_invitations(auth.tenant_id(), page)
            .await?)
    }

    pub async fn get_invitation(
        &self,
        auth: &Authorized,
        id: InvitationId,
    ) -> Result<Invitation, CoreError> {
        self.parts
            .store
            .invitation_by_id(auth.tenant_id(), id)
            .await?
            .ok_or(CoreError::NotFound("invitation"))
    }

    /// Withdraws a pending invitation; its link stops working.
    pub async fn revoke_invitation(
        &self,
        auth: &Authorized,
        id: InvitationId,
    ) -> Result<Invitation, CoreError> {
        let now = self.parts.clock.now();
        let event = Event::new(
            auth.tenant_id(),
            now,
            auth.actor(),
            kinds::INVITATION_REVOKED,
            subject(id),
            json!({}),
        );
        if !self
            .parts
            .store
            .revoke_invitation(auth.tenant_id(), id, now, &event)
            .await?
        {
            // Unknown, or no longer pending: say which through the invitation itself.
            let invitation = self.get_invitation(auth, id).await?;
            return Err(CoreError::invalid(
                "state",
                format!("the invitation is {}", invitation.state(now).as_str()),
            ));
        }
        self.get_invitation(auth, id).await
    }

    /// The pending invitation a link names; anything else — unknown, wrong token, used,
    /// withdrawn, expired — is one `NotFound`, so a link reveals nothing.
    pub async fn invitation_from_link(
        &self,
        tenant: &Tenant,
        id: InvitationId,
        token: &SecretString,
    ) -> Result<Invitation, CoreError> {
        let now = self.parts.clock.now();
        match self.parts.store.invitation_by_id(tenant.id, id).await? {
            Some(invitation)
                if invitation.token_hash.matches(&SecretHash::of(token))
                    && invitation.state(now) == InvitationState::Pending =>
            {
                Ok(invitation)
            }
            _ => Err(CoreError::NotFound("invitation")),
        }
    }

    /// Accepts an invitation: the person chose a password; the address is proven by the
    /// link. Claims the light account of the address, or creates the user.
    pub async fn accept_invitation(
        &self,
        tenant: &Tenant,
        id: InvitationId,
        token: &SecretString,
        acceptance: Acceptance,
    ) -> Result<User, CoreError> {
        let invitation = self.invitation_from_link(tenant, id, token).await?;
        let mut inputs = vec![invitation.email.as_str().to_owned()];
        inputs.extend(acceptance.given_name.iter().cloned());
        inputs.extend(acceptance.family_name.iter().cloned());
        let password_hash = self.hash_new_password(acceptance.password, inputs).await?;
        let (user, _) = self
            .activate_address(
                tenant,
                ProvenAddress {
                    email: &invitation.email,
                    password_hash,
                    given_name: acceptance.given_name,
                    family_name: acceptance.family_name,
                    language: &invitation.language,
                    source: "invitation",
                    outcome: (
                        kinds::INVITATION_ACCEPTED,
                        json!({"invitation_id": invitation.id.to_string(),
                               "invited_by": invitation.invited_by.to_string()}),
                    ),
                },
            )
            .await?;
        // The account exists; a second acceptance fails above (the address is taken).
        let now = self.parts.clock.now();
        self.parts
            .store
            .accept_invitation(tenant.id, id, user.id, now)
            .await?;
        Ok(user)
    }
}
