//! Phone verification for a signed-in user: start (check the number can go on the profile,
//! send a code by SMS within the limits), confirm (check the code, then put the number on
//! the profile as verified and primary through the user-edit path, with
//! `user.phone_verified` in the same transaction), resend.

use super::Core;
use crate::auth::Authorized;
use crate::error::{CodeRefusal, CoreError};
use crate::event::{Actor, Event, kinds};
use crate::ids::{PhoneVerificationId, UserId};
use crate::phone::PhoneNumber;
use crate::phone_verification::{
    CHALLENGE_LIFETIME, MAX_ATTEMPTS, MAX_SENDS, PhoneChallenge, SEND_WINDOW, with_verified_phone,
};
use crate::sms::SmsNotice;
use crate::tenant::Tenant;
use crate::user::{User, UserStatus};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

const NOT_FOUND: CoreError = CoreError::NotFound("phone verification");
/// Longest language tag kept with a challenge; longer ones fall back to the tenant's.
const MAX_LANGUAGE: usize = 35;

pub(crate) fn new_code() -> SecretString {
    SecretString::from(format!("{:06}", rand::rng().random_range(0..1_000_000u32)))
}

fn too_many() -> CoreError {
    CoreError::TooManyRequests {
        retry_after_seconds: SEND_WINDOW.whole_seconds().unsigned_abs(),
    }
}

/// A BCP 47-looking tag, or the tenant's default language, or English.
fn language_of(tenant: &Tenant, language: &str) -> String {
    let tag = language.trim();
    let looks_right = !tag.is_empty()
        && tag.len() <= MAX_LANGUAGE
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if looks_right {
        tag.to_owned()
    } else {
        tenant
            .settings
            .default_locale
            .clone()
            .unwrap_or_else(|| "en".to_owned())
    }
}

impl Core {
    /// Whether this server can send SMS at all, so that a page knows whether it can ask to
    /// prove a phone number.
    pub fn sends_sms(&self) -> bool {
        self.sms_sender().is_configured()
    }

    /// Sends a code to `phone` for the signed-in user `user_id` to prove they hold it. Any
    /// earlier open challenge of the user stops working. At most five codes an hour go to
    /// one user and to one number ([`CoreError::TooManyRequests`]); a number that cannot go
    /// on the user's profile (too many numbers) is refused before anything is sent.
    pub async fn start_phone_verification(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        phone: PhoneNumber,
        language: &str,
    ) -> Result<PhoneVerificationId, CoreError> {
        let user = self.verifiable_user(tenant, user_id).await?;
        if !self.sms_sender().accepts(&phone) {
            return Err(CoreError::Validation(vec![crate::error::FieldError::new(
                "phone_number",
                "codes cannot be sent to numbers of this country",
            )]));
        }
        with_verified_phone(&user.profile, &phone)
            .normalize()
            .map_err(CoreError::Validation)?;
        let now = self.parts.clock.now();
        let id = PhoneVerificationId::new_at(now);
        let code = new_code();
        let language = language_of(tenant, language);
        let challenge = PhoneChallenge {
            id,
            tenant_id: tenant.id,
            user_id,
            phone,
            code_hash: PhoneChallenge::hash_code(id, code.expose_secret()),
            attempts: 0,
            language: language.clone(),
            created_at: now,
            expires_at: now + CHALLENGE_LIFETIME,
            consumed_at: None,
        };
        let admitted = self
            .parts
            .store
            .insert_phone_verification(&challenge, MAX_SENDS, now - SEND_WINDOW)
            .await?;
        if !admitted {
            return Err(too_many());
        }
        let notice = SmsNotice::PhoneCode {
            code,
            valid_for: std::time::Duration::from_secs(
                CHALLENGE_LIFETIME.whole_seconds().unsigned_abs(),
            ),
        };
        self.sms_sender()
            .send(tenant, &challenge.phone, &language, notice)
            .await
            .map_err(CoreError::SmsNotDelivered)?;
        Ok(id)
    }

    /// Sends a new code to the number of the user's challenge `id`, in the language of the
    /// first (the old code stops working), within the same limits.
    pub async fn resend_phone_verification(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        id: PhoneVerificationId,
    ) -> Result<PhoneVerificationId, CoreError> {
        let previous = self.phone_challenge(tenant, user_id, id).await?;
        self.start_phone_verification(tenant, user_id, previous.phone, &previous.language)
            .await
    }

    /// The user's challenge `id`, whatever its state, for the page that asks for the code.
    pub async fn phone_challenge(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        id: PhoneVerificationId,
    ) -> Result<PhoneChallenge, CoreError> {
        self.parts
            .store
            .phone_verification_by_id(tenant.id, user_id, id)
            .await?
            .ok_or(NOT_FOUND)
    }

    /// Checks `code` against the user's challenge `id` and, when it is right, puts the
    /// number on the profile as verified and primary (the user's other numbers stay) with
    /// the event `user.phone_verified`. Every try counts, a wrong one too, although it
    /// fails ([`CodeRefusal::Wrong`]); after five the challenge is spent. Another user's
    /// challenge is not found. A number that was verified and primary already changes
    /// nothing, so no event is written for it.
    pub async fn confirm_phone(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        id: PhoneVerificationId,
        code: &SecretString,
    ) -> Result<User, CoreError> {
        let challenge = self.phone_challenge(tenant, user_id, id).await?;
        let now = self.parts.clock.now();
        if let Some(refusal) = challenge.refusal(now) {
            return Err(CoreError::CodeRefused(refusal));
        }
        let tries = self
            .parts
            .store
            .record_phone_verification_attempt(tenant.id, user_id, id)
            .await?
            .ok_or(CoreError::CodeRefused(CodeRefusal::Used))?;
        if tries > MAX_ATTEMPTS {
            return Err(CoreError::CodeRefused(CodeRefusal::TooManyAttempts));
        }
        if !challenge.code_matches(code.expose_secret()) {
            return Err(CoreError::CodeRefused(CodeRefusal::Wrong {
                attempts_left: MAX_ATTEMPTS - tries,
            }));
        }
        // The profile first, then the challenge is spent: a failure leaves the code usable,
        // and a second, concurrent use finds the number verified already.
        let user = self.put_verified_phone(tenant, &challenge).await?;
        self.parts
            .store
            .consume_phone_verification(tenant.id, user_id, id, self.parts.clock.now())
            .await?;
        Ok(user)
    }

    /// The user a number may be proven for: active (or light), in this tenant.
    async fn verifiable_user(&self, tenant: &Tenant, user_id: UserId) -> Result<User, CoreError> {
        match self.parts.store.user_by_id(tenant.id, user_id).await? {
            Some(user) if matches!(user.status, UserStatus::Active | UserStatus::Light) => Ok(user),
            _ => Err(CoreError::NotFound("user")),
        }
    }

    async fn put_verified_phone(
        &self,
        tenant: &Tenant,
        challenge: &PhoneChallenge,
    ) -> Result<User, CoreError> {
        let user_id = challenge.user_id;
        let auth = Authorized::for_own_account(tenant.id, user_id);
        let verified = Event::new(
            tenant.id,
            self.parts.clock.now(),
            &Actor::User(user_id),
            kinds::USER_PHONE_VERIFIED,
            super::users::subject(user_id),
            json!({"by": "sms", "phone_verification_id": challenge.id.to_string()}),
        );
        let edit = |current: &User| {
            if !matches!(current.status, UserStatus::Active | UserStatus::Light) {
                return Err(CoreError::NotFound("user"));
            }
            Ok(super::UserReplacement {
                profile: with_verified_phone(&current.profile, &challenge.phone),
                active: true,
                password: None,
            })
        };
        self.edit_user_recording(&auth, user_id, None, edit, std::slice::from_ref(&verified))
            .await
    }
}
