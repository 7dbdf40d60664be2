//! Passkey use cases: registering one (named, several per user), confirming a password
//! sign-in with one, and signing in with one alone (the authenticator names the user). Each
//! use is a counted attempt on the user's passkey lock (A05) and advances the credential's
//! signature counter by compare-and-set (A42).

use super::Core;
use super::lockout::Attempt;
use super::sign_in::{PasswordSignIn, SignInContext};
use crate::error::{CoreError, FieldError};
use crate::event::{Actor, Event, kinds};
use crate::ids::{MfaFactorId, UserId};
use crate::lockout::{Factor, Refusal};
use crate::mfa::passkey::{
    CEREMONY_LIFETIME, CeremonyPurpose, PasskeyCeremony, StoredPasskey, relying_party,
};
use crate::mfa::{FactorKind, MAX_FACTORS, MAX_NAME_CHARS, MfaFactor};
use crate::notify::{Notice, SecurityChange};
use crate::risk::RiskDecision;
use crate::secret::{SecretHash, generate_secret};
use crate::tenant::Tenant;
use crate::user::{User, UserStatus};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential,
};

/// The prefix of the values naming a ceremony in the browser.
pub const CEREMONY_PREFIX: &str = "twa";

/// Longest credential response accepted, in bytes: a registration with attestation is a
/// few kilobytes; anything far larger is not from an authenticator.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A ceremony just opened: what the browser passes to `navigator.credentials`, and the
/// value that names the ceremony when the browser answers (never stored).
#[derive(Debug)]
pub struct PasskeyOptions {
    pub ceremony: SecretString,
    /// `{"publicKey": …}` as WebAuthn's JSON form of the options (binary values base64url).
    pub options: serde_json::Value,
}

fn subject(user: UserId) -> String {
    format!("user:{user}")
}

fn corrupt(error: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(crate::store::StoreError::Corrupt(error.to_string()))
}

/// The answer to a credential response that does not check out, whatever the reason.
fn unverified() -> CoreError {
    CoreError::invalid("credential", "the passkey could not be verified")
}

fn parse_response<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, CoreError> {
    if text.len() > MAX_RESPONSE_BYTES {
        return Err(unverified());
    }
    serde_json::from_str(text).map_err(|_| unverified())
}

/// The name a user gave a passkey, or a default one.
fn passkey_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    let name = if name.is_empty() { "Passkey" } else { name };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(CoreError::Validation(vec![FieldError::new(
            "name",
            format!("at most {MAX_NAME_CHARS} characters, no control characters"),
        )]));
    }
    Ok(name.to_owned())
}

fn stored_passkey(factor: &MfaFactor) -> Result<Passkey, CoreError> {
    let stored = factor
        .passkey
        .as_ref()
        .ok_or_else(|| corrupt("a passkey factor without a credential"))?;
    serde_json::from_str(&stored.credential).map_err(corrupt)
}

/// An assertion the passkey signed.
enum Verified {
    /// Valid, with the passkey as stored and webauthn-rs's result (the new counter).
    Signed(Box<(Passkey, webauthn_rs::prelude::AuthenticationResult)>),
    /// Validly signed, but with a counter at or below the stored one (A42).
    CounterWentBack,
}

/// A finished authentication's ceremony state, as each kind of ceremony keeps it.
enum AuthenticationState {
    Known(PasskeyAuthentication),
    Discoverable(DiscoverableAuthentication),
}

impl Core {
    /// Whether passkeys work at the public URL `origin` (a domain name in a secure
    /// context); the pages offer them only then.
    pub fn passkeys_available(&self, origin: &str) -> bool {
        relying_party(origin, "Tessera").is_some()
    }

    fn relying_party(&self, origin: &str, tenant: &Tenant) -> Result<Webauthn, CoreError> {
        relying_party(origin, &tenant.display_name).ok_or(CoreError::NotFound("passkey support"))
    }

    async fn open_ceremony(
        &self,
        tenant: &Tenant,
        user: Option<UserId>,
        purpose: CeremonyPurpose,
        state: &impl serde::Serialize,
        options: serde_json::Value,
    ) -> Result<PasskeyOptions, CoreError> {
        let now = self.parts.clock.now();
        let ceremony = generate_secret(CEREMONY_PREFIX);
        let record = PasskeyCeremony {
            secret_hash: SecretHash::of(&ceremony),
            tenant_id: tenant.id,
            user_id: user,
            purpose,
            state: serde_json::to_string(state).map_err(corrupt)?,
            created_at: now,
            expires_at: now + CEREMONY_LIFETIME,
        };
        self.parts.store.insert_passkey_ceremony(&record).await?;
        Ok(PasskeyOptions { ceremony, options })
    }

    /// Takes the ceremony a browser names, if it is this user's, for this purpose, and
    /// still open; a ceremony is never used twice, whatever the outcome.
    async fn take_ceremony<T: serde::de::DeserializeOwned>(
        &self,
        tenant: &Tenant,
        user: Option<UserId>,
        purpose: CeremonyPurpose,
        value: &str,
    ) -> Result<T, CoreError> {
        let expired = CoreError::NotFound("passkey ceremony");
        if !value.starts_with(CEREMONY_PREFIX) {
            return Err(expired);
        }
        let hash = SecretHash::of_str(value);
        let now = self.parts.clock.now();
        let Some(ceremony) = self
            .parts
            .store
            .take_passkey_ceremony(tenant.id, &hash, now)
            .await?
        else {
            return Err(expired);
        };
        if ceremony.purpose != purpose || ceremony.user_id != user {
            return Err(expired);
        }
        serde_json::from_str(&ceremony.state).map_err(corrupt)
    }

    /// The user's confirmed passkeys.
    async fn passkey_factors(
        &self,
        tenant: &Tenant,
        user: UserId,
    ) -> Result<Vec<MfaFactor>, CoreError> {
        Ok(self
            .parts
            .store
            .mfa_factors(tenant.id, user)
            .await?
            .into_iter()
            .filter(|f| f.is_confirmed() && f.kind == FactorKind::Passkey)
            .collect())
    }

    /// Starts adding a passkey to `user` at the public URL `origin`. Passkeys the user has
    /// already are excluded (an authenticator is registered once); the authenticator is
    /// asked to keep the credential (discoverable) so that it can sign in without a name.
    pub async fn begin_passkey_registration(
        &self,
        origin: &str,
        tenant: &Tenant,
        user: &User,
    ) -> Result<PasskeyOptions, CoreError> {
        let webauthn = self.relying_party(origin, tenant)?;
        let status = self.mfa_status(tenant, user.id).await?;
        if status.factors.len() >= MAX_FACTORS {
            return Err(CoreError::invalid(
                "factors",
                format!("at most {MAX_FACTORS} factors per user"),
            ));
        }
        let mut exclude = Vec::new();
        for factor in status
            .factors
            .iter()
            .filter(|f| f.kind == FactorKind::Passkey)
        {
            exclude.push(stored_passkey(factor)?.cred_id().clone());
        }
        let account = user
            .primary_email()
            .map_or_else(|| user.id.to_string(), |email| email.as_str().to_owned());
        let display = user.profile.name.clone().unwrap_or_else(|| account.clone());
        let (options, state) = webauthn
            .start_passkey_registration(user.id.as_uuid(), &account, &display, Some(exclude))
            .map_err(corrupt)?;
        let mut options = serde_json::to_value(options).map_err(corrupt)?;
        // webauthn-rs discourages resident keys; a passkey that can sign in without a name
        // must be one, so prefer it (authenticators that cannot still register).
        if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = json!("preferred");
        }
        self.open_ceremony(
            tenant,
            Some(user.id),
            CeremonyPurpose::Register,
            &state,
            options,
        )
        .await
    }

    /// Finishes adding a passkey named `name` with the browser's answer. The first factor
    /// of a user comes with a set of recovery codes, returned to be shown once.
    pub async fn finish_passkey_registration(
        &self,
        origin: &str,
        tenant: &Tenant,
        user: &User,
        ceremony: &str,
        response: &str,
        name: &str,
    ) -> Result<Option<Vec<SecretString>>, CoreError> {
        let name = passkey_name(name)?;
        let webauthn = self.relying_party(origin, tenant)?;
        let state: PasskeyRegistration = self
            .take_ceremony(tenant, Some(user.id), CeremonyPurpose::Register, ceremony)
            .await?;
        let response: RegisterPublicKeyCredential = parse_response(response)?;
        let passkey = webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|_| unverified())?;
        let factors = self.mfa_status(tenant, user.id).await?.factors;
        // Checked again: ceremonies begun in parallel must not add up past the limit.
        if factors.len() >= MAX_FACTORS {
            return Err(CoreError::invalid(
                "factors",
                format!("at most {MAX_FACTORS} factors per user"),
            ));
        }
        let first = factors.is_empty();
        let now = self.parts.clock.now();
        let factor = MfaFactor {
            id: MfaFactorId::new_at(now),
            tenant_id: tenant.id,
            user_id: user.id,
            kind: FactorKind::Passkey,
            name,
            sealed_secret: None,
            last_step: Some(0),
            passkey: Some(StoredPasskey {
                credential_id: passkey.cred_id().to_vec(),
                credential: serde_json::to_string(&passkey).map_err(corrupt)?,
            }),
            created_at: now,
            confirmed_at: Some(now),
            last_used_at: Some(now),
        };
        let event = Event::new(
            tenant.id,
            now,
            &Actor::User(user.id),
            kinds::MFA_FACTOR_ADDED,
            subject(user.id),
            json!({"factor_id": factor.id.to_string(), "kind": FactorKind::Passkey.as_str()}),
        );
        if !self.parts.store.add_passkey(&factor, &event).await? {
            return Err(CoreError::invalid(
                "credential",
                "this passkey is registered already",
            ));
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

    /// Starts confirming a sign-in (or a step-up) of `user` with one of their passkeys;
    /// `NotFound` when they have none.
    pub async fn begin_passkey_second_factor(
        &self,
        origin: &str,
        tenant: &Tenant,
        user: &User,
    ) -> Result<PasskeyOptions, CoreError> {
        let webauthn = self.relying_party(origin, tenant)?;
        let mut passkeys = Vec::new();
        for factor in self.passkey_factors(tenant, user.id).await? {
            passkeys.push(stored_passkey(&factor)?);
        }
        if passkeys.is_empty() {
            return Err(CoreError::NotFound("passkey"));
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(corrupt)?;
        let options = serde_json::to_value(options).map_err(corrupt)?;
        self.open_ceremony(
            tenant,
            Some(user.id),
            CeremonyPurpose::SecondFactor,
            &state,
            options,
        )
        .await
    }

    /// Checks the browser's answer to a second-factor ceremony of `user` (a counted
    /// attempt on their passkey lock).
    pub async fn verify_passkey(
        &self,
        origin: &str,
        tenant: &Tenant,
        user: &User,
        ceremony: &str,
        response: &str,
    ) -> Result<(), CoreError> {
        let webauthn = self.relying_party(origin, tenant)?;
        let state: PasskeyAuthentication = self
            .take_ceremony(
                tenant,
                Some(user.id),
                CeremonyPurpose::SecondFactor,
                ceremony,
            )
            .await?;
        let response: PublicKeyCredential = parse_response(response)?;
        let factor = self
            .passkey_factors(tenant, user.id)
            .await?
            .into_iter()
            .find(|f| {
                f.passkey
                    .as_ref()
                    .is_some_and(|p| p.credential_id == response.get_credential_id())
            });
        let attempt = self
            .counted_attempt(tenant, user, Factor::Passkey, || async {
                let Some(factor) = &factor else {
                    return Ok(None);
                };
                self.check_assertion(
                    &webauthn,
                    factor,
                    &response,
                    AuthenticationState::Known(state),
                )
                .await
            })
            .await?;
        self.attempt_result(attempt)
    }

    /// Starts a passwordless sign-in: any passkey of the tenant may answer.
    pub async fn begin_passkey_sign_in(
        &self,
        origin: &str,
        tenant: &Tenant,
    ) -> Result<PasskeyOptions, CoreError> {
        let webauthn = self.relying_party(origin, tenant)?;
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(corrupt)?;
        let options = serde_json::to_value(options).map_err(corrupt)?;
        self.open_ceremony(tenant, None, CeremonyPurpose::SignIn, &state, options)
            .await
    }

    /// Signs in with a passkey alone: the authenticator names the user, whose passkey must
    /// verify (a counted attempt) after the attempt's risk is weighed. Every failure is
    /// `InvalidCredentials`; the reason goes to the audit log.
    pub async fn sign_in_with_passkey(
        &self,
        context: &SignInContext,
        origin: &str,
        ceremony: &str,
        response: &str,
    ) -> Result<PasswordSignIn, CoreError> {
        let tenant = self
            .tenant_by_id(context.tenant_id)
            .await?
            .ok_or(CoreError::NotFound("tenant"))?;
        let webauthn = self.relying_party(origin, &tenant)?;
        let state: DiscoverableAuthentication = self
            .take_ceremony(&tenant, None, CeremonyPurpose::SignIn, ceremony)
            .await?;
        let response: PublicKeyCredential = parse_response(response)?;
        let (factor, user) = match self.passkey_owner(&tenant, &webauthn, &response).await? {
            Some(found) => found,
            None => {
                self.record_sign_in_failure(context, None, "passkey", "unknown_passkey")
                    .await?;
                return Err(CoreError::InvalidCredentials);
            }
        };
        let risk = self
            .assess_sign_in(&tenant, Some(&user), context, None)
            .await?;
        let context = SignInContext {
            risk: Some(risk.clone()),
            ..context.clone()
        };
        if risk.decision == RiskDecision::Block {
            self.record_sign_in_failure(&context, Some(&user), "passkey", "risk_blocked")
                .await?;
            return Err(CoreError::InvalidCredentials);
        }
        // A signature cannot be guessed: a wrong one is counted on the address, not on the
        // user's lock, so that whoever learns a credential id cannot lock its owner out.
        // Only answers the passkey really signed (a good one, or one from a clone) count.
        let verified = match self.verify_assertion(
            &webauthn,
            &factor,
            &response,
            AuthenticationState::Discoverable(state),
        )? {
            Some(verified) => verified,
            None => {
                self.record_sign_in_failure(&context, Some(&user), "passkey", "bad_passkey")
                    .await?;
                return Err(CoreError::InvalidCredentials);
            }
        };
        let attempt = self
            .counted_attempt(&tenant, &user, Factor::Passkey, || {
                self.commit_assertion(&factor, verified)
            })
            .await?;
        let reason = match attempt {
            Attempt::Passed(()) => return Ok(PasswordSignIn { user, risk }),
            Attempt::Failed { .. } => "bad_passkey",
            Attempt::Refused(Refusal::Locked(_)) => "locked",
            Attempt::Refused(Refusal::Disabled) => "disabled",
        };
        self.record_sign_in_failure(&context, Some(&user), "passkey", reason)
            .await?;
        Err(CoreError::InvalidCredentials)
    }

    /// The passkey factor and active user a discoverable credential names in this tenant.
    async fn passkey_owner(
        &self,
        tenant: &Tenant,
        webauthn: &Webauthn,
        response: &PublicKeyCredential,
    ) -> Result<Option<(MfaFactor, User)>, CoreError> {
        let Ok((user_handle, credential_id)) =
            webauthn.identify_discoverable_authentication(response)
        else {
            return Ok(None);
        };
        let Some(factor) = self
            .parts
            .store
            .passkey_by_credential(tenant.id, credential_id)
            .await?
        else {
            return Ok(None);
        };
        // The handle the authenticator keeps must name the factor's owner.
        if factor.user_id.as_uuid() != user_handle {
            return Ok(None);
        }
        let user = self
            .parts
            .store
            .user_by_id(tenant.id, factor.user_id)
            .await?
            .filter(|user| user.status == UserStatus::Active);
        Ok(user.map(|user| (factor, user)))
    }

    /// Verifies an assertion against one passkey and advances its counter; `None` when it
    /// does not verify or its counter did not grow (a cloned authenticator, A42).
    async fn check_assertion(
        &self,
        webauthn: &Webauthn,
        factor: &MfaFactor,
        response: &PublicKeyCredential,
        state: AuthenticationState,
    ) -> Result<Option<()>, CoreError> {
        match self.verify_assertion(webauthn, factor, response, state)? {
            Some(verified) => self.commit_assertion(factor, verified).await,
            None => Ok(None),
        }
    }

    /// Checks an assertion's signature, user verification and counter against one passkey,
    /// writing nothing; `None` when the passkey did not sign it.
    fn verify_assertion(
        &self,
        webauthn: &Webauthn,
        factor: &MfaFactor,
        response: &PublicKeyCredential,
        state: AuthenticationState,
    ) -> Result<Option<Verified>, CoreError> {
        let passkey = stored_passkey(factor)?;
        let verified = match state {
            AuthenticationState::Known(state) => {
                webauthn.finish_passkey_authentication(response, &state)
            }
            AuthenticationState::Discoverable(state) => {
                webauthn.finish_discoverable_authentication_v2(response, state, &passkey)
            }
        };
        Ok(match verified {
            Ok(result) if result.user_verified() => {
                Some(Verified::Signed(Box::new((passkey, result))))
            }
            // Reported only after the signature checked out.
            Err(webauthn_rs::prelude::WebauthnError::CredentialPossibleCompromise) => {
                Some(Verified::CounterWentBack)
            }
            _ => None,
        })
    }

    /// Records a verified assertion: the new counter by compare-and-set; `None` (and an
    /// audit event) when the counter did not grow.
    async fn commit_assertion(
        &self,
        factor: &MfaFactor,
        verified: Verified,
    ) -> Result<Option<()>, CoreError> {
        let (mut passkey, result) = match verified {
            Verified::Signed(signed) => *signed,
            Verified::CounterWentBack => {
                self.suspect_clone(factor, None).await?;
                return Ok(None);
            }
        };
        passkey.update_credential(&result);
        let credential = serde_json::to_string(&passkey).map_err(corrupt)?;
        let advanced = self
            .parts
            .store
            .advance_passkey(
                factor.tenant_id,
                factor.user_id,
                factor.id,
                result.counter(),
                &credential,
                self.parts.clock.now(),
            )
            .await?;
        if !advanced {
            // Another use advanced the counter past this one meanwhile.
            self.suspect_clone(factor, Some(result.counter())).await?;
        }
        Ok(advanced.then_some(()))
    }

    /// Tells the audit log that a passkey's counter did not grow (A42).
    async fn suspect_clone(
        &self,
        factor: &MfaFactor,
        counter: Option<u32>,
    ) -> Result<(), CoreError> {
        let event = Event::new(
            factor.tenant_id,
            self.parts.clock.now(),
            &Actor::System,
            kinds::PASSKEY_CLONE_SUSPECTED,
            subject(factor.user_id),
            json!({"factor_id": factor.id.to_string(), "counter": counter}),
        );
        self.parts.store.insert_event(&event).await?;
        Ok(())
    }
}

impl PasskeyOptions {
    /// The JSON the hosted pages hand to their script.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "ceremony": self.ceremony.expose_secret(),
            "options": self.options,
        })
    }
}
