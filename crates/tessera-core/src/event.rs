//! Events: one row per change, written in the same transaction as the change. The table
//! is the audit log now and the outbox that outbound provisioning delivers from.

use crate::ids::{ApiTokenId, EventId, TenantId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use time::OffsetDateTime;

/// Who caused a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// Tessera itself (start-up, schedulers, workers).
    System,
    /// The bootstrap token from configuration.
    Bootstrap,
    /// An admin API token.
    ApiToken(ApiTokenId),
    /// A user acting on their own account.
    User(UserId),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("system"),
            Self::Bootstrap => f.write_str("bootstrap"),
            Self::ApiToken(id) => write!(f, "api_token:{id}"),
            Self::User(id) => write!(f, "user:{id}"),
        }
    }
}

impl Actor {
    /// Parses the text form written by `Display`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':') {
            None if text == "system" => Some(Self::System),
            None if text == "bootstrap" => Some(Self::Bootstrap),
            Some(("api_token", id)) => id.parse().ok().map(Self::ApiToken),
            Some(("user", id)) => id.parse().ok().map(Self::User),
            _ => None,
        }
    }
}

/// The kinds of event, with their stable wire names.
pub mod kinds {
    pub const TENANT_CREATED: &str = "tenant.created";
    pub const TENANT_UPDATED: &str = "tenant.updated";
    pub const SCHEMA_UPDATED: &str = "schema.updated";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DISABLED: &str = "user.disabled";
    pub const USER_ENABLED: &str = "user.enabled";
    pub const USER_DELETED: &str = "user.deleted";
    pub const SIGN_UP_STARTED: &str = "sign_up.started";
    pub const USER_SIGNED_UP: &str = "user.signed_up";
    pub const USER_CLAIMED: &str = "user.claimed";
    pub const EMAIL_VERIFIED: &str = "email.verified";
    pub const USER_PHONE_VERIFIED: &str = "user.phone_verified";
    /// An identity verification provider verified the user (`level`, `provider`); never the
    /// claims themselves.
    pub const USER_IDENTITY_VERIFIED: &str = "user.identity_verified";
    /// The provider rejected the user's identity verification.
    pub const USER_IDENTITY_REJECTED: &str = "user.identity_rejected";
    /// An identity verification session ended without a result (provider or timeout).
    pub const USER_IDENTITY_VERIFICATION_EXPIRED: &str = "user.identity_verification_expired";
    /// The tenant's identity verification provider was set or changed (never its secrets).
    pub const IDENTITY_VERIFICATION_CONFIGURED: &str = "identity_verification.configured";
    pub const IDENTITY_VERIFICATION_REMOVED: &str = "identity_verification.removed";
    /// Progressive profiling saved attributes for a client (`client_id`, `attributes`).
    pub const ATTRIBUTES_COLLECTED: &str = "user.attributes_collected";
    pub const USER_INVITED: &str = "user.invited";
    pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
    pub const INVITATION_REVOKED: &str = "invitation.revoked";
    pub const GROUP_CREATED: &str = "group.created";
    pub const GROUP_UPDATED: &str = "group.updated";
    pub const GROUP_DELETED: &str = "group.deleted";
    pub const API_TOKEN_CREATED: &str = "api_token.created";
    pub const API_TOKEN_REVOKED: &str = "api_token.revoked";
    pub const CLIENT_CREATED: &str = "client.created";
    pub const CLIENT_UPDATED: &str = "client.updated";
    pub const CLIENT_DELETED: &str = "client.deleted";
    pub const CLIENT_SECRET_ROTATED: &str = "client.secret_rotated";
    pub const SIGN_IN_SUCCEEDED: &str = "sign_in.succeeded";
    pub const SIGN_IN_FAILED: &str = "sign_in.failed";
    pub const SESSION_ENDED: &str = "session.ended";
    /// Failed attempts locked a factor of the user (`factor`, `failures`, `until` or
    /// `disabled`).
    pub const USER_LOCKED: &str = "user.locked";
    /// An administrator cleared the user's lockout counters (`factor` or all).
    pub const USER_UNLOCKED: &str = "user.unlocked";
    /// A second factor was enrolled (`factor_id`, `kind`) or removed.
    pub const MFA_FACTOR_ADDED: &str = "mfa.factor_added";
    pub const MFA_FACTOR_REMOVED: &str = "mfa.factor_removed";
    /// The user renamed a factor (`factor_id`, `name`).
    pub const MFA_FACTOR_RENAMED: &str = "mfa.factor_renamed";
    /// A new set of recovery codes replaced the old one.
    pub const RECOVERY_CODES_RENEWED: &str = "mfa.recovery_codes_renewed";
    /// The user chose to trust a browser for the second factor (`device_id`, `until`).
    pub const DEVICE_TRUSTED: &str = "mfa.device_trusted";
    /// Trusted browsers were forgotten (`device_id`, or all).
    pub const DEVICES_FORGOTTEN: &str = "mfa.devices_forgotten";
    /// A recovery code was used to sign in (`left`).
    pub const RECOVERY_CODE_USED: &str = "mfa.recovery_code_used";
    /// A passkey answered with a signature counter that did not grow: the authenticator
    /// may have been cloned (`factor_id`, `counter`). The attempt was refused (A42).
    pub const PASSKEY_CLONE_SUSPECTED: &str = "mfa.passkey_clone_suspected";
    /// The tenant's captcha secret was set or replaced (never the secret itself).
    pub const CAPTCHA_SECRET_SET: &str = "tenant.captcha_secret_set";
    /// The tenant's captcha secret was removed.
    pub const CAPTCHA_SECRET_REMOVED: &str = "tenant.captcha_secret_removed";
    pub const CONSENT_GRANTED: &str = "consent.granted";
    pub const TOKEN_ISSUED: &str = "token.issued";
    pub const TOKEN_REFRESHED: &str = "token.refreshed";
    pub const REFRESH_TOKEN_REUSED: &str = "token.refresh_reused";
    pub const AUTHORIZATION_CODE_REPLAYED: &str = "token.code_replayed";
    pub const GRANT_REVOKED: &str = "grant.revoked";
}

/// One recorded change. The payload never holds secrets or personal data beyond ids:
/// consumers read the current state of the subject when they need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub occurred_at: OffsetDateTime,
    pub actor: Actor,
    pub kind: String,
    /// What the event is about, as `type:id` (e.g. `user:0190…`).
    pub subject: String,
    pub payload: Value,
}

impl Event {
    pub fn new(
        tenant_id: TenantId,
        at: OffsetDateTime,
        actor: &Actor,
        kind: &str,
        subject: String,
        payload: Value,
    ) -> Self {
        Self {
            id: EventId::new_at(at),
            tenant_id,
            occurred_at: at,
            actor: actor.clone(),
            kind: kind.to_owned(),
            subject,
            payload,
        }
    }
}

/// Filters of the event list; all given filters must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    /// Any of these kinds (empty: all).
    pub kinds: Vec<String>,
    pub subject: Option<String>,
    /// Inclusive lower bound.
    pub since: Option<OffsetDateTime>,
    /// Exclusive upper bound.
    pub until: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_text() {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        for actor in [
            Actor::System,
            Actor::Bootstrap,
            Actor::ApiToken(ApiTokenId::new_at(at)),
            Actor::User(UserId::new_at(at)),
        ] {
            assert_eq!(Actor::parse(&actor.to_string()), Some(actor));
        }
        assert_eq!(Actor::parse("api_token:nope"), None);
    }
}
