//! Identity verification: document and identity checks (citizenship, age, address) done by
//! an external provider, and the verified claims it reports, kept per user and released as
//! `verified_claims` (OpenID Connect for Identity Assurance 1.0).
//!
//! A tenant configures one provider ([`provider`]): where sessions are started, a bearer
//! token for that call and a secret that signs the provider's webhooks, both sealed at rest.
//! A client may require an [`AssuranceLevel`]; a user without a verification at that level
//! is sent to verify first. Tessera starts an [`IdentitySession`] at the provider, sends the
//! browser there, and learns the result from a signed webhook ([`webhook`]). A session
//! leaves `pending` exactly once; a session past its time counts as expired whether or not
//! a webhook says so.

pub mod provider;
pub mod webhook;

use crate::event::Event;
use crate::ids::{ClientId, IdentitySessionId, IdentityVerificationId, TenantId, UserId};
use crate::store::StoreResult;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use time::{Duration, OffsetDateTime};

/// Sessions one user may start per [`START_WINDOW`], at most: each start costs a call to
/// the provider (and, at most providers, money).
pub const MAX_STARTS: u64 = 5;
pub const START_WINDOW: Duration = Duration::hours(1);
/// Verifications the admin API lists per user, newest first.
pub const MAX_LISTED: u32 = 100;

/// How sure the provider is that the person is who they claim to be, in the terms of eIDAS
/// (Regulation (EU) No 910/2014, Art. 8). Ordered: `low < substantial < high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssuranceLevel {
    Low,
    Substantial,
    High,
}

impl AssuranceLevel {
    pub const ALL: [Self; 3] = [Self::Low, Self::Substantial, Self::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == text)
    }

    /// The level as a number that sorts like the level (1 to 3), for storage.
    pub fn rank(self) -> i64 {
        match self {
            Self::Low => 1,
            Self::Substantial => 2,
            Self::High => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.rank() == rank)
    }
}

impl fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Started; the provider has not reported a result.
    Pending,
    Verified,
    Rejected,
    /// Ended without a result: the provider said so, or its time ran out.
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Verified, Self::Rejected, Self::Expired]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant's identity verification provider as stored: its secrets sealed
/// ([`crate::sealing`]) under contexts bound to the tenant ([`provider::api_token_context`],
/// [`provider::webhook_secret_context`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub tenant_id: TenantId,
    /// Shown to users ("… checks your identity with <name>").
    pub name: String,
    /// Where sessions are started (https, or http on a loopback host).
    pub start_url: String,
    /// The trust framework its verifications follow (`eidas`, `de_aml`, …).
    pub trust_framework: String,
    /// How long a session may stay pending.
    pub session_minutes: u32,
    pub sealed_api_token: Vec<u8>,
    pub sealed_webhook_secret: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One verification attempt of one user at the provider, started for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySession {
    /// Also the `reference` the provider's webhook names.
    pub id: IdentitySessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The client whose policy asked for the verification.
    pub client_id: ClientId,
    /// The level that client requires.
    pub level: AssuranceLevel,
    /// The provider's name when the session started.
    pub provider: String,
    /// The provider's own id for the session, once it answered.
    pub provider_session_id: Option<String>,
    pub status: SessionStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When it left `pending`.
    pub completed_at: Option<OffsetDateTime>,
}

impl IdentitySession {
    /// The status at `now`: a pending session past its time is expired, webhook or not.
    pub fn status_at(&self, now: OffsetDateTime) -> SessionStatus {
        match self.status {
            SessionStatus::Pending if now >= self.expires_at => SessionStatus::Expired,
            status => status,
        }
    }
}

/// A verification the provider reported: the verified claims and their evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityVerification {
    pub id: IdentityVerificationId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The session that produced it.
    pub session_id: IdentitySessionId,
    /// The provider's name.
    pub provider: String,
    pub trust_framework: String,
    pub level: AssuranceLevel,
    /// The evidence types the provider named (`document`, `electronic_record`, …).
    pub evidence: Vec<String>,
    /// When the provider verified (its `verification.time`, else when Tessera learnt it).
    pub verified_at: OffsetDateTime,
    /// The `verified_claims` object as released: `{"verification": …, "claims": …}`.
    pub verified_claims: Value,
    pub created_at: OffsetDateTime,
}

/// How a session leaves `pending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCompletion {
    /// `verified`, `rejected` or `expired`.
    pub status: SessionStatus,
    pub at: OffsetDateTime,
    /// What a `verified` session produced.
    pub verification: Option<IdentityVerification>,
}

/// The storage port of identity verification. Every method is bound to a tenant.
#[async_trait::async_trait]
pub trait IdentityVerificationStore: Send + Sync {
    /// The tenant's provider, if one is configured.
    async fn identity_provider(&self, tenant: TenantId) -> StoreResult<Option<IdentityProvider>>;
    /// Stores the provider (replacing the tenant's earlier one) with its event.
    async fn put_identity_provider(
        &self,
        provider: &IdentityProvider,
        event: &Event,
    ) -> StoreResult<()>;
    /// Removes the tenant's provider with its event; false (and nothing written) when there
    /// was none. Sessions and verifications stay.
    async fn delete_identity_provider(&self, tenant: TenantId, event: &Event) -> StoreResult<bool>;
    /// Stores a new pending session, unless the user already started `max_starts` sessions
    /// since `since`: then nothing is written and the answer is false. Counting and
    /// inserting are one step, so parallel requests cannot all pass.
    async fn insert_identity_session(
        &self,
        session: &IdentitySession,
        max_starts: u64,
        since: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Records the provider's own id of a session.
    async fn set_identity_provider_session(
        &self,
        tenant: TenantId,
        id: IdentitySessionId,
        provider_session_id: &str,
    ) -> StoreResult<()>;
    async fn identity_session(
        &self,
        tenant: TenantId,
        id: IdentitySessionId,
    ) -> StoreResult<Option<IdentitySession>>;
    /// Moves a pending session to `completion.status`, storing its verification (if any)
    /// and `events` in the same transaction. False, with nothing written, when the session
    /// is not pending any more: a session leaves `pending` exactly once.
    async fn complete_identity_session(
        &self,
        tenant: TenantId,
        id: IdentitySessionId,
        completion: &SessionCompletion,
        events: &[Event],
    ) -> StoreResult<bool>;
    /// The user's verifications, newest first, at most `limit`.
    async fn identity_verifications(
        &self,
        tenant: TenantId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<IdentityVerification>>;
    /// The user's newest verification at `min_level` or above.
    async fn latest_identity_verification(
        &self,
        tenant: TenantId,
        user: UserId,
        min_level: AssuranceLevel,
    ) -> StoreResult<Option<IdentityVerification>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    #[test]
    fn levels_are_ordered_and_round_trip() {
        assert!(AssuranceLevel::Low < AssuranceLevel::Substantial);
        assert!(AssuranceLevel::Substantial < AssuranceLevel::High);
        for level in AssuranceLevel::ALL {
            assert_eq!(AssuranceLevel::parse(level.as_str()), Some(level));
            assert_eq!(AssuranceLevel::from_rank(level.rank()), Some(level));
            let json = serde_json::to_value(level).unwrap();
            assert_eq!(json, level.as_str());
        }
        assert_eq!(AssuranceLevel::parse("High"), None);
        assert_eq!(AssuranceLevel::from_rank(0), None);
        for status in ["pending", "verified", "rejected", "expired"] {
            assert_eq!(SessionStatus::parse(status).unwrap().as_str(), status);
        }
    }

    #[test]
    fn a_pending_session_past_its_time_is_expired() {
        let at = datetime!(2026-12-01 10:00 UTC);
        let session = IdentitySession {
            id: IdentitySessionId::from_uuid(Uuid::from_u128(1)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
            user_id: UserId::from_uuid(Uuid::from_u128(3)),
            client_id: ClientId::from_uuid(Uuid::from_u128(4)),
            level: AssuranceLevel::Substantial,
            provider: "IDnow".into(),
            provider_session_id: None,
            status: SessionStatus::Pending,
            created_at: at,
            expires_at: at + Duration::minutes(60),
            completed_at: None,
        };
        assert_eq!(session.status_at(at), SessionStatus::Pending);
        assert_eq!(
            session.status_at(at + Duration::minutes(60)),
            SessionStatus::Expired
        );
        let rejected = IdentitySession {
            status: SessionStatus::Rejected,
            ..session
        };
        assert_eq!(
            rejected.status_at(at + Duration::days(1)),
            SessionStatus::Rejected
        );
    }
}
