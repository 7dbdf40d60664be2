//! `mfa_factors` and `sign_in_challenges` rows as plain values, and their conversion to the
//! domain's types; both backends read their columns into these.

use crate::errors::corrupt;
use crate::oauth_rows::secret_hash;
use tessera_core::ids::{MfaFactorId, SignInChallengeId, TenantId, UserId};
use tessera_core::mfa::passkey::{CeremonyPurpose, PasskeyCeremony, StoredPasskey};
use tessera_core::mfa::{FactorKind, MfaFactor, SignInChallenge};
use tessera_core::oauth::session::Authentication;
use tessera_core::risk::RiskAssessment;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) struct MfaFactorParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub name: String,
    pub sealed_secret: Option<Vec<u8>>,
    pub last_step: Option<i64>,
    pub credential_id: Option<Vec<u8>>,
    pub credential: Option<String>,
    pub created_at: OffsetDateTime,
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

impl MfaFactorParts {
    pub fn into_factor(self) -> StoreResult<MfaFactor> {
        Ok(MfaFactor {
            id: MfaFactorId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            kind: FactorKind::parse(&self.kind)
                .ok_or_else(|| corrupt("factor kind", &self.kind))?,
            name: self.name,
            sealed_secret: self.sealed_secret,
            last_step: self
                .last_step
                .map(u64::try_from)
                .transpose()
                .map_err(|e| corrupt("last step", e))?,
            passkey: match (self.credential_id, self.credential) {
                (Some(credential_id), Some(credential)) => Some(StoredPasskey {
                    credential_id,
                    credential,
                }),
                _ => None,
            },
            created_at: self.created_at,
            confirmed_at: self.confirmed_at,
            last_used_at: self.last_used_at,
        })
    }
}

/// A TOTP step as the column stores it: steps of 30 s stay far below `i64::MAX`.
pub(crate) fn step_column(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

pub(crate) struct ChallengeParts {
    pub id: Uuid,
    pub secret_hash: Vec<u8>,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub authentication: Authentication,
    pub enrol: bool,
    pub risk: Option<RiskAssessment>,
    pub email_code_hash: Option<Vec<u8>>,
    pub email_codes_sent: i64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

impl ChallengeParts {
    pub fn into_challenge(self) -> StoreResult<SignInChallenge> {
        Ok(SignInChallenge {
            id: SignInChallengeId::from_uuid(self.id),
            secret_hash: secret_hash("sign-in challenge", self.secret_hash)?,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            authentication: self.authentication,
            enrol: self.enrol,
            risk: self.risk,
            email_code: self
                .email_code_hash
                .map(|hash| secret_hash("emailed code", hash))
                .transpose()?,
            email_codes_sent: u32::try_from(self.email_codes_sent)
                .map_err(|e| corrupt("email codes sent", e))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            consumed_at: self.consumed_at,
        })
    }
}

pub(crate) struct CeremonyParts {
    pub secret_hash: Vec<u8>,
    pub tenant_id: Uuid,
    pub user_id: Option<Uuid>,
    pub purpose: String,
    pub state: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl CeremonyParts {
    pub fn into_ceremony(self) -> StoreResult<PasskeyCeremony> {
        Ok(PasskeyCeremony {
            secret_hash: secret_hash("passkey ceremony", self.secret_hash)?,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: self.user_id.map(UserId::from_uuid),
            purpose: CeremonyPurpose::parse(&self.purpose)
                .ok_or_else(|| corrupt("ceremony purpose", &self.purpose))?,
            state: self.state,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}
