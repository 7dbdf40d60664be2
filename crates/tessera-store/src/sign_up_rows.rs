//! A `sign_ups` row as plain values, and its conversion to the domain's challenge; both
//! backends read their columns into this.

use crate::errors::corrupt;
use crate::oauth_rows::secret_hash;
use tessera_core::email::Email;
use tessera_core::ids::{SignUpId, TenantId};
use tessera_core::signup::{SignUpChallenge, SignUpDetails};
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) struct SignUpParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub decoy: bool,
    pub code_hash: Vec<u8>,
    pub link_hash: Vec<u8>,
    pub attempts: i64,
    pub details: SignUpDetails,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

impl SignUpParts {
    pub fn into_challenge(self) -> StoreResult<SignUpChallenge> {
        Ok(SignUpChallenge {
            id: SignUpId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            email: Email::parse(&self.email).map_err(|e| corrupt("sign-up email", e))?,
            decoy: self.decoy,
            code_hash: secret_hash("sign-up code", self.code_hash)?,
            link_hash: secret_hash("sign-up link", self.link_hash)?,
            attempts: u32::try_from(self.attempts).map_err(|e| corrupt("attempts", e))?,
            details: self.details,
            created_at: self.created_at,
            expires_at: self.expires_at,
            consumed_at: self.consumed_at,
        })
    }
}
