//! Second-factor use cases: enrolling an authenticator app, checking its codes and the
//! recovery codes (each a counted attempt, A05/A06), renewing recovery codes, removing a
//! factor, and the challenge that carries a sign-in from its first factor to its second.

use super::Core;
use super::lockout::{Attempt, locked_error};
use crate::error::{CodeRefusal, CoreError, FieldError};
use crate::event::{Actor, Event, kinds};
use crate::ids::{MfaFactorId, SignInChallengeId, UserId};
use crate::lockout::Factor;
use crate::mfa::totp::TotpSeed;
use crate::mfa::{
    CHALLENGE_LIFETIME, FactorKind, MAX_EMAIL_CODES, MAX_FACTORS, MAX_NAME_CHARS, MfaFactor,
    SignInChallenge, TrustedDevice, recovery,
};
use crate::notify::{Notice, SecurityChange};
use crate::oauth::session::Authentication;
use crate::risk::RiskAssessment;
use crate::secret::{SecretHash, generate_secret};
use crate::store::StoreError;
use crate::tenant::Tenant;
use crate::user::User;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// The prefix of second-factor challenge cookies.
pub const CHALLENGE_PREFIX: &str = "tsc";

/// An authenticator app being enrolled: what the enrolment page shows once.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub factor_id: MfaFactorId,
    /// The seed in base32, for typing into the app.
    pub secret: SecretString,
    /// The `otpauth://` URI the QR code holds.
    pub uri: SecretString,
}

/// What a user has as second factors.
#[derive(Debug, Clone)]
pub struct MfaStatus {
    /// Confirmed factors, oldest first.
    pub factors: Vec<MfaFactor>,
    pub recovery_codes_left: u32,
}

impl MfaStatus {
    pub fn enrolled(&self) -> bool {
        !self.factors.is_empty()
    }
}

/// A second-factor challenge just opened, and the cookie value naming it (never stored).
#[derive(Debug)]
pub struct OpenedChallenge {
    pub challenge: SignInChallenge,
    pub cookie_value: SecretString,
}

/// How the user's account is labelled in their authenticator app.
fn account_label(user: &User) -> String {
    user.primary_email()
        .map(|email| email.as_str().to_owned())
        .unwrap_or_else(|| user.id.to_string())
}

fn subject(user: UserId) -> String {
    format!("user:{user}")
}

fn corrupt(error: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(StoreError::Corrupt(error.to_string()))
}

impl Core {
    /// The user's confirmed factors and how many recovery codes they have left.
    pub async fn mfa_status(&self, tenant: &Tenant, user: UserId) -> Result<MfaStatus, CoreError> {
        let factors = self
            .parts
            .store
            .mfa_factors(tenant.id, user)
            .await?
            .into_iter()
            .filter(MfaFactor::is_confirmed)
            .collect();
        let recovery_codes_left = self
            .parts
            .store
            .recovery_codes_left(tenant.id, user)
            .await?;
        Ok(MfaStatus {
            factors,
            recovery_codes_left,
        })
    }

    /// Starts enrolling an authenticator app named `name`: a new seed, sealed, kept
    /// unconfirmed until the user types a code from the app.
    pub async fn begin_totp_enrolment(
        &self,
        tenant: &Tenant,
        user: &User,
        name: &str,
    ) -> Result<TotpEnrolment, CoreError> {
        let name = name.trim();
        let name = if name.is_empty() {
            "Authenticator app"
        } else {
            name
        };
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(CoreError::Validation(vec![FieldError::new(
                "name",
                format!("at most {MAX_NAME_CHARS} characters, no control characters"),
            )]));
        }
        let status = self.mfa_status(tenant, user.id).await?;
        if status.factors.len() >= MAX_FACTORS {
            return Err(CoreError::invalid(
                "factors",
                format!("at most {MAX_FACTORS} factors per user"),
            ));
        }
        let now = self.parts.clock.now();
        let id = MfaFactorId::new_at(now);
        let seed = TotpSeed::generate();
        let sealed = self
            .sealing_key()?
            .seal(seed.as_bytes(), &MfaFactor::sealing_context(id))
            .map_err(corrupt)?;
        let factor = MfaFactor {
            id,
            tenant_id: tenant.id,
            user_id: user.id,
            kind: FactorKind::Totp,
            name: name.to_owned(),
            sealed_secret: Some(sealed),
            last_step: None,
            passkey: None,
            created_at: now,
            confirmed_at: None,
            last_used_at: None,
        };
        self.parts.store.insert_mfa_factor(&factor).await?;
        Ok(TotpEnrolment {
            factor_id: id,
            secret: seed.base32(),
            uri: seed.provisioning_uri(&tenant.display_name, &account_label(user)),
        })
    }

    /// An enrolment started earlier and not confirmed yet, to show again (after a wrong
    /// code the user keeps the QR code they scanned).
    pub async fn resume_totp_enrolment(
        &self,
        tenant: &Tenant,
        user: &User,
        factor: MfaFactorId,
    ) -> Result<TotpEnrolment, CoreError> {
        let pending = self
            .parts
            .store
            .mfa_factors(tenant.id, user.id)
            .await?
            .into_iter()
            .find(|f| f.id == factor && !f.is_confirmed())
            .ok_or(CoreError::NotFound("enrolment"))?;
        let seed = self.open_seed(&pending)?;
        Ok(TotpEnrolment {
            factor_id: pending.id,
            secret: seed.base32(),
            uri: seed.provisioning_uri(&tenant.display_name, &account_label(user)),
        })
    }

    /// Confirms an enrolment with a code from the app. The first factor of a user comes
    /// with a set of recovery codes, returned to be shown once.
    pub async fn confirm_totp_enrolment(
        &self,
        tenant: &Tenant,
        user: &User,
        factor: MfaFactorId,
        code: &str,
    ) -> Result<Option<Vec<SecretString>>, CoreError> {
        let factors = self.parts.store.mfa_factors(tenant.id, user.id).await?;
        let first = !factors.iter().any(MfaFactor::is_confirmed);
        let pending = factors
            .into_iter()
            .find(|f| f.id == factor && !f.is_confirmed())
            .ok_or(CoreError::NotFound("enrolment"))?;
        let seed = self.open_seed(&pending)?;
        let now = self.parts.clock.now();
        let attempt = self
            .counted_attempt(tenant, user, Factor::Totp, || async {
                Ok(seed.matching_step(code, now))
            })
            .await?;
        let step = self.attempt_result(attempt)?;
        let event = Event::new(
            tenant.id,
            now,
            &Actor::User(user.id),
            kinds::MFA_FACTOR_ADDED,
            subject(user.id),
            json!({"factor_id": factor.to_string(), "kind": FactorKind::Totp.as_str()}),
        );
        if !self
            .parts
            .store
            .confirm_mfa_factor(tenant.id, user.id, factor, step, now, &event)
            .await?
        {
            return Err(CoreError::NotFound("enrolment"));
        }
        self.notify_in_background(
            tenant,
            user,
            Notice::SecurityChange {
                change: SecurityChange::AuthenticatorAdded,
            },
        );
        if first {
            return Ok(Some(self.renew_recovery_codes(tenant, user, false).await?));
        }
        Ok(None)
    }

    /// Checks a code from any of the user's authenticator apps; each step works once (A41).
    pub async fn verify_totp(
        &self,
        tenant: &Tenant,
        user: &User,
        code: &str,
    ) -> Result<(), CoreError> {
        let factors: Vec<MfaFactor> = self
            .parts
            .store
            .mfa_factors(tenant.id, user.id)
            .await?
            .into_iter()
            .filter(|f| f.is_confirmed() && f.kind == FactorKind::Totp)
            .collect();
        if factors.is_empty() {
            return Err(CoreError::NotFound("authenticator"));
        }
        let now = self.parts.clock.now();
        let attempt = self
            .counted_attempt(tenant, user, Factor::Totp, || async {
                for factor in &factors {
                    let seed = self.open_seed(factor)?;
                    let Some(step) = seed.matching_step(code, now) else {
                        continue;
                    };
                    // A replayed step is a wrong code: it counts as a failure.
                    if self
                        .parts
                        .store
                        .spend_totp_step(tenant.id, user.id, factor.id, step, now)
                        .await?
                    {
                        return Ok(Some(()));
                    }
                }
                Ok(None)
            })
            .await?;
        self.attempt_result(attempt)
    }

    /// Checks a recovery code and spends it; returns how many are left.
    pub async fn use_recovery_code(
        &self,
        tenant: &Tenant,
        user: &User,
        code: SecretString,
    ) -> Result<u32, CoreError> {
        let now = self.parts.clock.now();
        let hash = recovery::hash_typed(&code);
        let attempt = self
            .counted_attempt(tenant, user, Factor::RecoveryCode, || async {
                let Some(hash) = hash else {
                    return Ok(None);
                };
                let spent = self
                    .parts
                    .store
                    .spend_recovery_code(tenant.id, user.id, &hash, now)
                    .await?;
                Ok(spent.then_some(()))
            })
            .await?;
        self.attempt_result(attempt)?;
        let left = self
            .parts
            .store
            .recovery_codes_left(tenant.id, user.id)
            .await?;
        let event = Event::new(
            tenant.id,
            now,
            &Actor::User(user.id),
            kinds::RECOVERY_CODE_USED,
            subject(user.id),
            json!({"left": left}),
        );
        self.parts.store.insert_event(&event).await?;
        Ok(left)
    }

    /// A new set of recovery codes, voiding the old one (A43); shown once.
    pub async fn renew_recovery_codes(
        &self,
        tenant: &Tenant,
        user: &User,
        notify: bool,
    ) -> Result<Vec<SecretString>, CoreError> {
        let (codes, hashes) = recovery::generate_set();
        let now = self.parts.clock.now();
        let event = Event::new(
            tenant.id,
            now,
            &Actor::User(user.id),
            kinds::RECOVERY_CODES_RENEWED,
            subject(user.id),
            json!({"count": codes.len()}),
        );
        self.parts
            .store
            .replace_recovery_codes(tenant.id, user.id, &hashes, now, &event)
            .await?;
        if notify {
            self.notify_in_background(
                tenant,
                user,
                Notice::SecurityChange {
                    change: SecurityChange::RecoveryCodesRenewed,
                },
            );
        }
        Ok(codes)
    }

    /// Renames one of the user's factors ("Work laptop").
    pub async fn rename_mfa_factor(
        &self,
        tenant: &Tenant,
        user: &User,
        factor: MfaFactorId,
        name: &str,
    ) -> Result<(), CoreError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(CoreError::Validation(vec![FieldError::new(
                "name",
                format!("1 to {MAX_NAME_CHARS} characters, no control characters"),
            )]));
        }
        let event = Event::new(
            tenant.id,
            self.parts.clock.now(),
            &Actor::User(user.id),
            kinds::MFA_FACTOR_RENAMED,
            subject(user.id),
            json!({"factor_id": factor.to_string()}),
        );
        if !self
            .parts
            .store
            .rename_mfa_factor(tenant.id, user.id, factor, name, &event)
            .await?
        {
            return Err(CoreError::NotFound("factor"));
        }
        Ok(())
    }

    /// Removes a factor of the user (by the user or an administrator).
    pub async fn remove_mfa_factor(
        &self,
        tenant: &Tenant,
        user: &User,
        factor: MfaFactorId,
        actor: &Actor,
    ) -> Result<(), CoreError> {
        let event = Event::new(
            tenant.id,
            self.parts.clock.now(),
            actor,
            kinds::MFA_FACTOR_REMOVED,
            subject(user.id),
            json!({"factor_id": factor.to_string()}),
        );
        if !self
            .parts
            .store
            .delete_mfa_factor(tenant.id, user.id, factor, &event)
            .await?
        {
            return Err(CoreError::NotFound("factor"));
        }
        self.notify_in_background(
            tenant,
            user,
            Notice::SecurityChange {
                change: SecurityChange::AuthenticatorRemoved,
            },
        );
        Ok(())
    }

    /// Holds a sign-in that passed `authentication` until its second factor (or, with
    /// `enrol`, the enrolment of one).
    pub async fn open_sign_in_challenge(
        &self,
        user: &User,
        authentication: Authentication,
        enrol: bool,
        risk: Option<RiskAssessment>,
    ) -> Result<OpenedChallenge, CoreError> {
        let now = self.parts.clock.now();
        let cookie_value = generate_secret(CHALLENGE_PREFIX);
        let challenge = SignInChallenge {
            id: SignInChallengeId::new_at(now),
            secret_hash: SecretHash::of(&cookie_value),
            tenant_id: user.tenant_id,
            user_id: user.id,
            authentication,
            enrol,
            risk,
            email_code: None,
            email_codes_sent: 0,
            created_at: now,
            expires_at: now + CHALLENGE_LIFETIME,
            consumed_at: None,
        };
        self.parts
            .store
            .insert_sign_in_challenge(&challenge)
            .await?;
        Ok(OpenedChallenge {
            challenge,
            cookie_value,
        })
    }

    /// The open challenge a cookie names in this tenant, with its user if still active.
    pub async fn sign_in_challenge(
        &self,
        tenant: &Tenant,
        cookie_value: &str,
    ) -> Result<Option<(SignInChallenge, User)>, CoreError> {
        if !cookie_value.starts_with(CHALLENGE_PREFIX) {
            return Ok(None);
        }
        let hash = SecretHash::of_str(cookie_value);
        let Some(challenge) = self.parts.store.sign_in_challenge_by_hash(&hash).await? else {
            return Ok(None);
        };
        if challenge.tenant_id != tenant.id || !challenge.is_open(self.parts.clock.now()) {
            return Ok(None);
        }
        let user = self
            .parts
            .store
            .user_by_id(tenant.id, challenge.user_id)
            .await?
            .filter(|user| user.status == crate::user::UserStatus::Active);
        Ok(user.map(|user| (challenge, user)))
    }

    /// The address an emailed code goes to: the primary email, if verified.
    pub fn sign_in_code_address(user: &User) -> Option<&crate::email::Email> {
        user.profile
            .primary_email()
            .filter(|email| email.verified)
            .map(|email| &email.value)
    }

    /// Emails a 6-digit code that confirms the challenge's sign-in (the second factor of
    /// users without an authenticator app); at most [`MAX_EMAIL_CODES`] per challenge, the
    /// newest one valid.
    pub async fn send_sign_in_code(
        &self,
        tenant: &Tenant,
        user: &User,
        challenge: &SignInChallenge,
        language: &str,
    ) -> Result<(), CoreError> {
        let Some(address) = Self::sign_in_code_address(user) else {
            return Err(CoreError::NotFound("verified email"));
        };
        let code = super::phone_verification::new_code();
        let hash = SignInChallenge::hash_email_code(challenge.id, code.expose_secret());
        if !self
            .parts
            .store
            .set_challenge_email_code(challenge.id, &hash, MAX_EMAIL_CODES)
            .await?
        {
            let left = challenge.expires_at - self.parts.clock.now();
            return Err(CoreError::TooManyRequests {
                retry_after_seconds: left.whole_seconds().max(1).unsigned_abs(),
            });
        }
        let remaining = challenge.expires_at - self.parts.clock.now();
        let notice = Notice::SignInCode {
            code,
            valid_for: std::time::Duration::from_secs(
                remaining.whole_seconds().max(60).unsigned_abs(),
            ),
        };
        self.notifier()
            .notify(tenant, address, language, notice)
            .await
            .map_err(CoreError::NotDelivered)
    }

    /// Checks an emailed code (a counted attempt, A06).
    pub async fn verify_sign_in_code(
        &self,
        tenant: &Tenant,
        user: &User,
        challenge: &SignInChallenge,
        code: &str,
    ) -> Result<(), CoreError> {
        let Some(sent) = &challenge.email_code else {
            return Err(CoreError::NotFound("emailed code"));
        };
        let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let attempt = self
            .counted_attempt(tenant, user, Factor::EmailCode, || async {
                let hash = SignInChallenge::hash_email_code(challenge.id, &typed);
                Ok(hash.matches(sent).then_some(()))
            })
            .await?;
        self.attempt_result(attempt)
    }

    /// Spends a challenge once its second factor is proven; false if it was spent already.
    pub async fn complete_sign_in_challenge(
        &self,
        challenge: &SignInChallenge,
    ) -> Result<bool, CoreError> {
        Ok(self
            .parts
            .store
            .consume_sign_in_challenge(challenge.id, self.parts.clock.now())
            .await?)
    }

    fn open_seed(&self, factor: &MfaFactor) -> Result<TotpSeed, CoreError> {
        let sealed = factor
            .sealed_secret
            .as_ref()
            .ok_or_else(|| corrupt("a TOTP factor without a seed"))?;
        let bytes = self
            .sealing_key()?
            .open(sealed, &MfaFactor::sealing_context(factor.id))
            .map_err(corrupt)?;
        Ok(TotpSeed::from_bytes(bytes))
    }

    /// A counted attempt as the caller sees it.
    pub(super) fn attempt_result<T>(&self, attempt: Attempt<T>) -> Result<T, CoreError> {
        match attempt {
            Attempt::Passed(value) => Ok(value),
            Attempt::Failed { free_left } => Err(CoreError::CodeRefused(CodeRefusal::Wrong {
                attempts_left: free_left,
            })),
            Attempt::Refused(refusal) => Err(locked_error(refusal, self.parts.clock.now())),
        }
    }
}

/// What an administrator sees of a user's sign-in security.
#[derive(Debug, Clone)]
pub struct UserSecurity {
    pub mfa: MfaStatus,
    /// Lockout counters that are not at zero.
    pub locks: Vec<(Factor, crate::lockout::LockState)>,
}

impl Core {
    async fn admin_subject(
        &self,
        auth: &crate::auth::Authorized,
        user: UserId,
    ) -> Result<(Tenant, User), CoreError> {
        let tenant = self
            .tenant_by_id(auth.tenant_id())
            .await?
            .ok_or(CoreError::NotFound("tenant"))?;
        let user = self
            .parts
            .store
            .user_by_id(tenant.id, user)
            .await?
            .ok_or(CoreError::NotFound("user"))?;
        Ok((tenant, user))
    }

    /// A user's factors, recovery codes left and lockout counters, for administrators.
    pub async fn user_security(
        &self,
        auth: &crate::auth::Authorized,
        user: UserId,
    ) -> Result<UserSecurity, CoreError> {
        let (tenant, user) = self.admin_subject(auth, user).await?;
        Ok(UserSecurity {
            mfa: self.mfa_status(&tenant, user.id).await?,
            locks: self.parts.store.lock_states(tenant.id, user.id).await?,
        })
    }

    /// Clears a user's lockout (one factor, or all) for an administrator; false when
    /// nothing was locked.
    pub async fn admin_unlock(
        &self,
        auth: &crate::auth::Authorized,
        user: UserId,
        factor: Option<Factor>,
    ) -> Result<bool, CoreError> {
        let (tenant, user) = self.admin_subject(auth, user).await?;
        self.unlock_user(&tenant, user.id, factor, auth.actor())
            .await
    }

    /// Removes every second factor of a user (a lost phone, verified by support): the user
    /// enrols again at the next sign-in that needs one.
    pub async fn reset_mfa(
        &self,
        auth: &crate::auth::Authorized,
        user: UserId,
    ) -> Result<usize, CoreError> {
        let (tenant, user) = self.admin_subject(auth, user).await?;
        let factors = self.parts.store.mfa_factors(tenant.id, user.id).await?;
        for factor in &factors {
            self.remove_mfa_factor(&tenant, &user, factor.id, auth.actor())
                .await?;
        }
        // A browser trusted on the strength of the old factors is trusted no more.
        self.forget_trusted_devices(&tenant, user.id, None, auth.actor())
            .await?;
        Ok(factors.len())
    }
}

impl Core {
    /// Trusts the browser of `context` for the user's second factor for the tenant's
    /// `remember_device_days`; nothing when the tenant turned the option off or the browser
    /// has no device cookie.
    pub async fn trust_device(
        &self,
        tenant: &Tenant,
        user: &User,
        device: Option<&str>,
        label: &str,
    ) -> Result<(), CoreError> {
        let days = tenant.settings.mfa.remember_device_days;
        let Some(device) = device.filter(|_| days > 0) else {
            return Ok(());
        };
        let now = self.parts.clock.now();
        let trusted = TrustedDevice {
            id: crate::ids::TrustedDeviceId::new_at(now),
            tenant_id: tenant.id,
            user_id: user.id,
            device_hash: SecretHash::of_str(device),
            label: label.chars().take(120).collect(),
            created_at: now,
            expires_at: now + time::Duration::days(days.into()),
            last_used_at: None,
        };
        let event = Event::new(
            tenant.id,
            now,
            &Actor::User(user.id),
            kinds::DEVICE_TRUSTED,
            subject(user.id),
            json!({"device_id": trusted.id.to_string(), "days": days}),
        );
        Ok(self
            .parts
            .store
            .insert_trusted_device(&trusted, &event)
            .await?)
    }

    /// Whether the user trusted the browser holding `device` and it has not expired.
    pub async fn is_trusted_device(
        &self,
        tenant: &Tenant,
        user: &User,
        device: Option<&str>,
    ) -> Result<bool, CoreError> {
        let Some(device) = device else {
            return Ok(false);
        };
        let hash = SecretHash::of_str(device);
        let devices = self
            .parts
            .store
            .trusted_devices(tenant.id, user.id, self.parts.clock.now())
            .await?;
        Ok(devices.iter().any(|d| d.device_hash.matches(&hash)))
    }

    /// The user's trusted browsers that have not expired, newest first.
    pub async fn trusted_devices_of(
        &self,
        tenant: &Tenant,
        user: UserId,
    ) -> Result<Vec<TrustedDevice>, CoreError> {
        Ok(self
            .parts
            .store
            .trusted_devices(tenant.id, user, self.parts.clock.now())
            .await?)
    }

    /// The user's trusted browsers, for administrators.
    pub async fn admin_trusted_devices(
        &self,
        auth: &crate::auth::Authorized,
        user: UserId,
    ) -> Result<Vec<TrustedDevice>, CoreError> {
        let (tenant, user) = self.admin_subject(auth, user).await?;
        Ok(self
            .parts
            .store
            .trusted_devices(tenant.id, user.id, self.parts.clock.now())
            .await?)
    }

    /// Forgets one trusted browser of a user, or all of them (`None`).
    pub async fn forget_trusted_devices(
        &self,
        tenant: &Tenant,
        user: UserId,
        device: Option<crate::ids::TrustedDeviceId>,
        actor: &Actor,
    ) -> Result<u64, CoreError> {
        let event = Event::new(
            tenant.id,
            self.parts.clock.now(),
            actor,
            kinds::DEVICES_FORGOTTEN,
            subject(user),
            json!({"device_id": device.map(|id| id.to_string())}),
        );
        Ok(self
            .parts
            .store
            .forget_trusted_devices(tenant.id, user, device, &event)
            .await?)
    }

    /// [`Core::forget_trusted_devices`] for an administrator; 404 for an unknown device.
    pub async fn admin_forget_trusted_device(
        &self,
        auth: &crate::auth::Authorized,
        user: UserId,
        device: crate::ids::TrustedDeviceId,
    ) -> Result<(), CoreError> {
        let (tenant, user) = self.admin_subject(auth, user).await?;
        match self
            .forget_trusted_devices(&tenant, user.id, Some(device), auth.actor())
            .await?
        {
            0 => Err(CoreError::NotFound("trusted device")),
            _ => Ok(()),
        }
    }
}
