//! A `phone_verifications` row as plain values, and its conversion to the domain's
//! challenge; both backends read their columns into this.

use crate::errors::corrupt;
use crate::oauth_rows::secret_hash;
use tessera_core::ids::{PhoneVerificationId, TenantId, UserId};
use tessera_core::phone::PhoneNumber;
use tessera_core::phone_verification::PhoneChallenge;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) struct PhoneChallengeParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub phone: String,
    pub code_hash: Vec<u8>,
    pub attempts: i64,
    pub language: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

impl PhoneChallengeParts {
    pub fn into_challenge(self) -> StoreResult<PhoneChallenge> {
        Ok(PhoneChallenge {
            id: PhoneVerificationId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            phone: PhoneNumber::parse(&self.phone).map_err(|e| corrupt("verified phone", e))?,
            code_hash: secret_hash("phone code", self.code_hash)?,
            attempts: u32::try_from(self.attempts).map_err(|e| corrupt("attempts", e))?,
            language: self.language,
            created_at: self.created_at,
            expires_at: self.expires_at,
            consumed_at: self.consumed_at,
        })
    }
}
