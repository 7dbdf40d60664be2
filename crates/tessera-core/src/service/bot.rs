//! The built-in proof of work as a service: challenges signed with a key derived from the
//! key encryption key (so every instance issues and accepts the same), and solutions
//! redeemed once through the store.

use super::Core;
use crate::auth::Authorized;
use crate::bot::captcha::{CaptchaOutcome, CaptchaProvider, CaptchaVerifiers, precheck};
use crate::bot::pow::{Challenge, PowIssuer, redeem};
use crate::error::CoreError;
use crate::event::{Event, kinds};
use crate::store::StoreError;
use crate::tenant::Tenant;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;

/// The name of a captcha provider's secret among the tenant's sealed secrets: bound to the
/// provider, so that switching providers never sends one provider's secret to another.
fn captcha_secret_name(provider: CaptchaProvider) -> String {
    format!("captcha:{}", provider.as_str())
}

/// The provider of the tenant's captcha settings.
fn captcha_provider(tenant: &Tenant) -> Result<CaptchaProvider, CoreError> {
    tenant
        .settings
        .bot_defence
        .captcha
        .as_ref()
        .map(|captcha| captcha.provider)
        .ok_or_else(|| {
            CoreError::invalid(
                "captcha",
                "set settings.bot_defence.captcha (the provider) before its secret",
            )
        })
}
/// Longest captcha secret accepted (the providers' are 35–40 characters).
const MAX_SECRET_BYTES: usize = 512;

fn sealing_context(tenant: &Tenant, name: &str) -> Vec<u8> {
    format!("tenant_secret:{}:{name}", tenant.id).into_bytes()
}

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

impl Core {
    async fn authorized_tenant(&self, auth: &Authorized) -> Result<Tenant, CoreError> {
        self.tenant_by_id(auth.tenant_id())
            .await?
            .ok_or(CoreError::NotFound("tenant"))
    }

    /// Sets how captcha tokens are checked, once at wiring; false if set already.
    pub fn set_captcha_verifiers(&self, verifiers: Arc<dyn CaptchaVerifiers>) -> bool {
        self.parts.captcha_verifiers.set(verifiers).is_ok()
    }

    /// Sets the secret of the tenant's external captcha (sealed at rest; never shown again).
    pub async fn set_captcha_secret(
        &self,
        auth: &Authorized,
        secret: SecretString,
    ) -> Result<(), CoreError> {
        let tenant = self.authorized_tenant(auth).await?;
        let text = secret.expose_secret().trim();
        if text.is_empty()
            || text.len() > MAX_SECRET_BYTES
            || text.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(CoreError::invalid(
                "secret",
                format!("1 to {MAX_SECRET_BYTES} characters, no spaces"),
            ));
        }
        let name = captcha_secret_name(captcha_provider(&tenant)?);
        let sealed = self
            .sealing_key()?
            .seal(text.as_bytes(), &sealing_context(&tenant, &name))
            .map_err(|e| CoreError::Internal(StoreError::Corrupt(e.to_string())))?;
        let now = self.parts.clock.now();
        let event = Event::new(
            tenant.id,
            now,
            auth.actor(),
            kinds::CAPTCHA_SECRET_SET,
            format!("tenant:{}", tenant.id),
            serde_json::json!({"name": name}),
        );
        Ok(self
            .parts
            .store
            .set_tenant_secret(tenant.id, &name, &sealed, now, &event)
            .await?)
    }

    /// Removes the tenant's captcha secret; whether there was one.
    pub async fn delete_captcha_secret(&self, auth: &Authorized) -> Result<bool, CoreError> {
        let tenant = self.authorized_tenant(auth).await?;
        let name = captcha_secret_name(captcha_provider(&tenant)?);
        let event = Event::new(
            tenant.id,
            self.parts.clock.now(),
            auth.actor(),
            kinds::CAPTCHA_SECRET_REMOVED,
            format!("tenant:{}", tenant.id),
            serde_json::json!({"name": name}),
        );
        Ok(self
            .parts
            .store
            .delete_tenant_secret(tenant.id, &name, &event)
            .await?)
    }

    /// Whether the secret of the tenant's captcha provider is set.
    pub async fn captcha_secret_set(&self, tenant: &Tenant) -> Result<bool, CoreError> {
        let Ok(provider) = captcha_provider(tenant) else {
            return Ok(false);
        };
        Ok(self
            .parts
            .store
            .tenant_secret(tenant.id, &captcha_secret_name(provider))
            .await?
            .is_some())
    }

    /// Checks a widget's token with the tenant's captcha provider. `Ok(false)` for a token
    /// the provider refuses (or none); an error when the check could not be made (no
    /// captcha configured, no secret, the provider unreachable): the caller fails closed.
    pub async fn verify_captcha(
        &self,
        tenant: &Tenant,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<bool, CoreError> {
        let Some(settings) = &tenant.settings.bot_defence.captcha else {
            return Err(CoreError::NotFound("captcha"));
        };
        if let Some(outcome) = precheck(token) {
            return Ok(outcome.passed());
        }
        let name = captcha_secret_name(settings.provider);
        let sealed = self
            .parts
            .store
            .tenant_secret(tenant.id, &name)
            .await?
            .ok_or(CoreError::NotFound("captcha secret"))?;
        let secret = self
            .sealing_key()?
            .open(&sealed, &sealing_context(tenant, &name))
            .map_err(|e| CoreError::Internal(StoreError::Corrupt(e.to_string())))?;
        let secret = std::str::from_utf8(&secret)
            .map_err(|e| CoreError::Internal(StoreError::Corrupt(e.to_string())))?
            .to_owned();
        let verifiers = self
            .parts
            .captcha_verifiers
            .get()
            .ok_or(CoreError::NotFound("captcha verifier"))?;
        let verifier = verifiers
            .verifier(
                settings.provider,
                SecretString::from(secret),
                &settings.site_key,
                settings.minimum_score.map(f64::from),
            )
            .map_err(|e| CoreError::Internal(StoreError::Database(e)))?;
        match verifier.verify(token, ip).await {
            Ok(outcome) => Ok(matches!(outcome, CaptchaOutcome::Passed { .. })),
            Err(error) => Err(CoreError::Internal(StoreError::Unavailable(
                error.to_string(),
            ))),
        }
    }
}
