//! Identity verification rows as plain values, and their conversion to the domain's types;
//! both backends read their columns into these.

use crate::errors::corrupt;
use serde_json::Value;
use tessera_core::identity_verification::{
    AssuranceLevel, IdentityProvider, IdentitySession, IdentityVerification, SessionStatus,
};
use tessera_core::ids::{ClientId, IdentitySessionId, IdentityVerificationId, TenantId, UserId};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

fn level(rank: i64) -> StoreResult<AssuranceLevel> {
    AssuranceLevel::from_rank(rank).ok_or_else(|| corrupt("assurance level", rank))
}

pub(crate) struct ProviderParts {
    pub tenant_id: Uuid,
    pub name: String,
    pub start_url: String,
    pub trust_framework: String,
    pub session_minutes: i64,
    pub sealed_api_token: Vec<u8>,
    pub sealed_webhook_secret: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ProviderParts {
    pub fn into_provider(self) -> StoreResult<IdentityProvider> {
        Ok(IdentityProvider {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            name: self.name,
            start_url: self.start_url,
            trust_framework: self.trust_framework,
            session_minutes: u32::try_from(self.session_minutes)
                .map_err(|e| corrupt("session minutes", e))?,
            sealed_api_token: self.sealed_api_token,
            sealed_webhook_secret: self.sealed_webhook_secret,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) struct SessionParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub client_id: Uuid,
    pub level: i64,
    pub provider: String,
    pub provider_session_id: Option<String>,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
}

impl SessionParts {
    pub fn into_session(self) -> StoreResult<IdentitySession> {
        Ok(IdentitySession {
            id: IdentitySessionId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            client_id: ClientId::from_uuid(self.client_id),
            level: level(self.level)?,
            provider: self.provider,
            provider_session_id: self.provider_session_id,
            status: SessionStatus::parse(&self.status)
                .ok_or_else(|| corrupt("session status", &self.status))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            completed_at: self.completed_at,
        })
    }
}

pub(crate) struct VerificationParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub provider: String,
    pub trust_framework: String,
    pub level: i64,
    pub evidence: Vec<String>,
    pub verified_at: OffsetDateTime,
    pub verified_claims: Value,
    pub created_at: OffsetDateTime,
}

impl VerificationParts {
    pub fn into_verification(self) -> StoreResult<IdentityVerification> {
        Ok(IdentityVerification {
            id: IdentityVerificationId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            session_id: IdentitySessionId::from_uuid(self.session_id),
            provider: self.provider,
            trust_framework: self.trust_framework,
            level: level(self.level)?,
            evidence: self.evidence,
            verified_at: self.verified_at,
            verified_claims: self.verified_claims,
            created_at: self.created_at,
        })
    }
}
