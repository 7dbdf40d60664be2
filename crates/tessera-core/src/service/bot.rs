//! The built-in proof of work as a service: challenges signed with a key derived from the
//! key encryption key (so every instance issues and accepts the same), and solutions
//! redeemed once through the store.

use super::Core;
use crate::bot::pow::{Challenge, PowIssuer, redeem};
use crate::error::CoreError;
use crate::store::StoreError;
use crate::tenant::Tenant;

impl Core {
    fn pow_issuer(&self, tenant: &Tenant) -> Result<PowIssuer, CoreError> {
        let key = self.sealing_key()?.derive(&format!("altcha:{}", tenant.id));
        PowIssuer::new(
            key.as_ref(),
            tenant.settings.bot_defence.difficulty,
            crate::bot::pow::DEFAULT_LIFETIME,
        )
        .map_err(|e| CoreError::Internal(StoreError::Database(e.to_string())))
    }

    /// A fresh challenge for a page of `tenant`.
    pub fn pow_challenge(&self, tenant: &Tenant) -> Result<Challenge, CoreError> {
        Ok(self
            .pow_issuer(tenant)?
            .issue(self.parts.clock.now(), &mut rand::rng()))
    }

    /// Whether `payload` (the form's `altcha` field) is a fresh solution of a challenge of
    /// `tenant`; it is spent by this check.
    pub async fn redeem_pow(&self, tenant: &Tenant, payload: &str) -> Result<bool, CoreError> {
        let issuer = self.pow_issuer(tenant)?;
        let outcome = redeem(
            &issuer,
            self.parts.store.as_ref(),
            payload,
            self.parts.clock.now(),
        )
        .await?;
        Ok(outcome.is_ok())
    }
}
