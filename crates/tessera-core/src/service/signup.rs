//! Self sign-up: start (check the form, hash the password, send a code), verify (by code or
//! link), and make the account — a new user, or the light account that had the address,
//! claimed with its id and attributes. Nothing tells whether an address is registered
//! before it is proven (A08): such an address gets a decoy challenge and a mail that says
//! to sign in instead.

use super::Core;
use super::sign_in::SignInContext;
use crate::bot::{Flow, RequiredChecks};
use crate::email::Email;
use crate::error::{CoreError, FieldError};
use crate::event::{Actor, Event, kinds};
use crate::ids::{SignUpId, UserId};
use crate::notify::Notice;
use crate::password_hash::PasswordHash;
use crate::risk::RiskDecision;
use crate::secret::{SecretHash, generate_secret};
use crate::signup::{
    CHALLENGE_LIFETIME, MAX_ATTEMPTS, MAX_SENDS, SEND_WINDOW, SignUpChallenge, SignUpDetails,
};
use crate::store::StoreError;
use crate::tenant::Tenant;
use crate::user::{Profile, User, UserEmail, UserStatus, Username};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::collections::BTreeSet;

/// The prefix of sign-up link tokens.
const LINK_PREFIX: &str = "tsl";

/// What the sign-up form said.
#[derive(Debug)]
pub struct SignUpForm {
    pub email: String,
    pub password: SecretString,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub accepted_terms: bool,
    pub accepted_privacy: bool,
}

/// Where a sign-up happens: for the mail's language and link, the authorization request to
/// continue, and events.
#[derive(Debug, Clone)]
pub struct SignUpPlace {
    pub language: String,
    /// The tenant's base URL for links, e.g. `https://id.example.com/t/acme`.
    pub link_base: String,
    pub continue_handle: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    /// The starting browser's CSRF cookie value, which binds links to it.
    pub browser: Option<SecretString>,
    /// The browser solved a proof of work for this submission.
    pub human_verified: bool,
    /// The tenant's external captcha passed this submission's token.
    pub captcha_passed: bool,
}

/// How the person proves the address.
pub enum Proof {
    /// The 6-digit code from the mail.
    Code(SecretString),
    /// The token of the link in the mail, from a browser: `browser` is its CSRF cookie
    /// value. In the browser that started the sign-up the form's password stands; in any
    /// other the person must choose one there (`new_password`), the form's is dropped and
    /// nobody is signed in — so a link sent to someone else neither gives the sender's
    /// password to the recipient's account nor signs the recipient in as the sender.
    Link {
        token: SecretString,
        browser: Option<SecretString>,
        new_password: Option<SecretString>,
    },
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Code(_) => "Proof::Code(..)",
            Self::Link { .. } => "Proof::Link(..)",
        })
    }
}

/// An address just proven (by a sign-up code or an invitation link), and what to make of
/// it.
pub(super) struct ProvenAddress<'a> {
    pub email: &'a Email,
    pub password_hash: PasswordHash,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub language: &'a str,
    /// The flow, as `user.created` and `email.verified` name it.
    pub source: &'static str,
    /// The flow's own event: kind and payload.
    pub outcome: (&'static str, serde_json::Value),
}

/// A finished sign-up.
#[derive(Debug)]
pub struct SignedUp {
    pub user: User,
    /// A light account became this account (same id, attributes kept).
    pub claimed: bool,
    /// Whether this browser may be signed in: false when a link was confirmed in another
    /// browser than the one that started; the person then signs in as usual.
    pub sign_in: bool,
    /// The authorization request to continue, if sign-up started from one.
    pub continue_handle: Option<String>,
}

fn subject(id: SignUpId) -> String {
    format!("sign_up:{id}")
}

fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

fn too_many() -> CoreError {
    CoreError::TooManyRequests {
        retry_after_seconds: SEND_WINDOW.whole_seconds().unsigned_abs(),
    }
}

fn domain_of(email: &Email) -> &str {
    email
        .normalized()
        .rsplit_once('@')
        .map_or("", |(_, domain)| domain)
}

impl Core {
    /// Checks the form and sends a code to the address. The answer is the same whether or
    /// not the address has an account.
    pub async fn start_sign_up(
        &self,
        tenant: &Tenant,
        place: &SignUpPlace,
        form: SignUpForm,
    ) -> Result<SignUpId, CoreError> {
        let settings = &tenant.settings.signup;
        if !settings.enabled {
            return Err(CoreError::NotFound("sign-up"));
        }
        // A blocked address gets the answer of a closed sign-up: nothing to learn from it.
        let Some(checks) = self.sign_up_checks(tenant, place).await? else {
            return Err(CoreError::NotFound("sign-up"));
        };
        if (checks.pow && !place.human_verified)
            || (checks.captcha.is_some() && !place.captcha_passed)
        {
            return Err(CoreError::BotCheckRequired);
        }
        let email =
            Email::parse(&form.email).map_err(|e| CoreError::invalid("email", e.to_string()))?;
        let mut errors = Vec::new();
        if !settings.allows(&email) {
            errors.push(FieldError::new(
                "email",
                "sign-up is open to addresses of certain domains only",
            ));
        }
        if settings.terms.is_some() && !form.accepted_terms {
            errors.push(FieldError::new("terms", "must be accepted"));
        }
        if settings.privacy.is_some() && !form.accepted_privacy {
            errors.push(FieldError::new("privacy", "must be acknowledged"));
        }
        let names = Profile {
            given_name: form.given_name.clone(),
            family_name: form.family_name.clone(),
            ..Profile::default()
        }
        .normalize();
        let names = match names {
            Ok(names) => Some(names),
            Err(found) => {
                errors.extend(found);
                None
            }
        };
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        let names = names.unwrap_or_default();
        self.check_send_limit(tenant, &email).await?;
        let existing = self.parts.store.user_by_email(tenant.id, &email).await?;
        let decoy = existing
            .as_ref()
            .is_some_and(|user| user.status != UserStatus::Light);
        // An address on record is written to as it was recorded, never as typed: two
        // spellings that fold to one key (a Unicode look-alike, say) may be two mailboxes,
        // and the code must reach the one the account belongs to.
        let email = existing
            .as_ref()
            .and_then(|user| {
                user.profile
                    .emails
                    .iter()
                    .find(|known| known.value.normalized() == email.normalized())
                    .map(|known| known.value.clone())
            })
            .unwrap_or(email);
        // The password is hashed (and checked) for decoys too, so both take as long.
        let mut inputs = vec![email.as_str().to_owned()];
        inputs.extend(names.given_name.iter().cloned());
        inputs.extend(names.family_name.iter().cloned());
        let hash = self.hash_new_password(form.password, inputs).await?;
        let details = SignUpDetails {
            password_hash: (!decoy).then(|| hash.as_phc().to_owned()),
            given_name: names.given_name,
            family_name: names.family_name,
            terms_version: settings.terms.as_ref().map(|d| d.version.clone()),
            privacy_version: settings.privacy.as_ref().map(|d| d.version.clone()),
            language: place.language.clone(),
            continue_handle: place.continue_handle.clone(),
            client_id: place.client_id.clone(),
            browser_hash: place.browser.as_ref().map(SignUpChallenge::browser_hash),
        };
        self.send_challenge(tenant, place, email, decoy, details)
            .await
    }

    /// Sends a new code for a pending sign-up (the old one stops working): a new challenge
    /// with the same details, within the same limits.
    pub async fn resend_sign_up(
        &self,
        tenant: &Tenant,
        place: &SignUpPlace,
        id: SignUpId,
    ) -> Result<SignUpId, CoreError> {
        let previous = self.open_challenge(tenant, id).await?;
        self.check_send_limit(tenant, &previous.email).await?;
        let now = self.parts.clock.now();
        self.parts.store.consume_sign_up(tenant.id, id, now).await?;
        self.send_challenge(
            tenant,
            place,
            previous.email,
            previous.decoy,
            previous.details,
        )
        .await
    }

    /// The pending sign-up's address, for the page that asks for the code.
    pub async fn pending_sign_up(
        &self,
        tenant: &Tenant,
        id: SignUpId,
    ) -> Result<SignUpChallenge, CoreError> {
        self.open_challenge(tenant, id).await
    }

    /// Checks the proof and makes the account. A wrong code counts against the challenge
    /// (five tries, A06); a decoy never completes.
    pub async fn verify_sign_up(
        &self,
        tenant: &Tenant,
        id: SignUpId,
        proof: Proof,
    ) -> Result<SignedUp, CoreError> {
        let challenge = self.open_challenge(tenant, id).await?;
        let tries = self
            .parts
            .store
            .record_sign_up_attempt(tenant.id, id)
            .await?
            .ok_or(CoreError::NotFound("sign-up"))?;
        if tries > MAX_ATTEMPTS {
            return Err(CoreError::NotFound("sign-up"));
        }
        let (matches, new_password, sign_in) = match proof {
            Proof::Code(code) => {
                let code = code.expose_secret().trim();
                let matches = code.len() == 6
                    && SignUpChallenge::hash_code(id, code).matches(&challenge.code_hash);
                (matches, None, true)
            }
            Proof::Link {
                token,
                browser,
                new_password,
            } => {
                let matches = SecretHash::of(&token).matches(&challenge.link_hash);
                if challenge.started_in(browser.as_ref()) {
                    (matches, None, true)
                } else {
                    let Some(password) = new_password else {
                        return Err(CoreError::invalid("password", "choose a password"));
                    };
                    (matches, Some(password), false)
                }
            }
        };
        if !matches || challenge.decoy {
            return Err(CoreError::InvalidCredentials);
        }
        let password_hash = match new_password {
            Some(password) => {
                let inputs = vec![challenge.email.as_str().to_owned()];
                self.hash_new_password(password, inputs).await?
            }
            None => challenge
                .details
                .password_hash
                .as_deref()
                .map(PasswordHash::parse)
                .transpose()
                .map_err(|e| CoreError::invalid("password", e.to_string()))?
                .ok_or(CoreError::InvalidCredentials)?,
        };
        // The account first, then the challenge is spent: a failure leaves the code usable,
        // and a second, concurrent use finds the address taken.
        let (user, claimed) = self.make_account(tenant, &challenge, password_hash).await?;
        let now = self.parts.clock.now();
        self.parts.store.consume_sign_up(tenant.id, id, now).await?;
        Ok(SignedUp {
            user,
            claimed,
            sign_in,
            continue_handle: if sign_in {
                challenge.details.continue_handle
            } else {
                None
            },
        })
    }

    /// A challenge that may still be used: open, and allowed by the tenant's settings as
    /// they are now (sign-up turned off or the domain no longer allowed ends it at once).
    async fn open_challenge(
        &self,
        tenant: &Tenant,
        id: SignUpId,
    ) -> Result<SignUpChallenge, CoreError> {
        let now = self.parts.clock.now();
        let settings = &tenant.settings.signup;
        match self.parts.store.sign_up_by_id(tenant.id, id).await? {
            Some(challenge)
                if challenge.is_open(now)
                    && settings.enabled
                    && settings.allows(&challenge.email) =>
            {
                Ok(challenge)
            }
            _ => Err(CoreError::NotFound("sign-up")),
        }
    }

    async fn check_send_limit(&self, tenant: &Tenant, email: &Email) -> Result<(), CoreError> {
        let now = self.parts.clock.now();
        let sent = self
            .parts
            .store
            .count_sign_ups(tenant.id, email, now - SEND_WINDOW)
            .await?;
        if sent >= MAX_SENDS {
            return Err(too_many());
        }
        Ok(())
    }

    async fn send_challenge(
        &self,
        tenant: &Tenant,
        place: &SignUpPlace,
        email: Email,
        decoy: bool,
        details: SignUpDetails,
    ) -> Result<SignUpId, CoreError> {
        let now = self.parts.clock.now();
        let id = SignUpId::new_at(now);
        let code = new_code();
        let link_token = generate_secret(LINK_PREFIX);
        let challenge = SignUpChallenge {
            id,
            tenant_id: tenant.id,
            email: email.clone(),
            decoy,
            code_hash: SignUpChallenge::hash_code(id, &code),
            link_hash: SecretHash::of(&link_token),
            attempts: 0,
            details,
            created_at: now,
            expires_at: now + CHALLENGE_LIFETIME,
            consumed_at: None,
        };
        // Events carry the address's domain, not the address: enough for funnels.
        let event = Event::new(
            tenant.id,
            now,
            &Actor::System,
            kinds::SIGN_UP_STARTED,
            subject(id),
            json!({"email_domain": domain_of(&email), "client_id": place.client_id,
                   "ip": place.ip}),
        );
        let admitted = self
            .parts
            .store
            .insert_sign_up(&challenge, &event, MAX_SENDS, now - SEND_WINDOW)
            .await?;
        if !admitted {
            return Err(too_many());
        }
        let notice = if decoy {
            Notice::AlreadyRegistered {
                sign_in_link: format!("{}/login", place.link_base),
            }
        } else {
            Notice::SignUpCode {
                code: SecretString::from(code),
                link: SecretString::from(format!(
                    "{}/signup/confirm?id={id}&token={}",
                    place.link_base,
                    link_token.expose_secret()
                )),
                valid_for: std::time::Duration::from_secs(
                    CHALLENGE_LIFETIME.whole_seconds().unsigned_abs(),
                ),
            }
        };
        self.notifier()
            .notify(tenant, &email, &place.language, notice)
            .await
            .map_err(CoreError::NotDelivered)?;
        Ok(id)
    }

    /// Makes the account of a proven sign-up.
    async fn make_account(
        &self,
        tenant: &Tenant,
        challenge: &SignUpChallenge,
        password_hash: PasswordHash,
    ) -> Result<(User, bool), CoreError> {
        let details = &challenge.details;
        self.activate_address(
            tenant,
            ProvenAddress {
                email: &challenge.email,
                password_hash,
                given_name: details.given_name.clone(),
                family_name: details.family_name.clone(),
                language: &details.language,
                source: "sign_up",
                outcome: (
                    kinds::USER_SIGNED_UP,
                    json!({
                        "terms_version": details.terms_version,
                        "privacy_version": details.privacy_version,
                        "client_id": details.client_id,
                        "sign_up_id": challenge.id.to_string(),
                    }),
                ),
            },
        )
        .await
    }

    /// Gives a proven address an active account: claims the light account that has it (same
    /// id, its data kept, the names given filling only gaps) or creates a user. Writes
    /// `user.claimed` or `user.created`, the flow's own event and `email.verified` with it.
    pub(super) async fn activate_address(
        &self,
        tenant: &Tenant,
        proven: ProvenAddress<'_>,
    ) -> Result<(User, bool), CoreError> {
        let now = self.parts.clock.now();
        let schema = self.parts.store.attribute_schema(tenant.id).await?;
        let event = |kind: &str, user: UserId, payload| {
            Event::new(
                tenant.id,
                now,
                &Actor::User(user),
                kind,
                format!("user:{user}"),
                payload,
            )
        };
        let (outcome_kind, outcome) = proven.outcome;
        match self
            .parts
            .store
            .user_by_email(tenant.id, proven.email)
            .await?
        {
            Some(light) if light.status == UserStatus::Light => {
                let mut profile = light.profile.clone();
                for email in &mut profile.emails {
                    if email.value.normalized() == proven.email.normalized() {
                        email.verified = true;
                    }
                }
                if profile.given_name.is_none() {
                    profile.given_name = proven.given_name;
                }
                if profile.family_name.is_none() {
                    profile.family_name = proven.family_name;
                }
                let profile = super::users::validated(profile, &schema)?;
                let next = User {
                    status: UserStatus::Active,
                    profile,
                    password_hash: Some(proven.password_hash),
                    updated_at: now,
                    version: light.version + 1,
                    ..light.clone()
                };
                let events = [
                    event(
                        kinds::USER_CLAIMED,
                        next.id,
                        json!({"source": proven.source}),
                    ),
                    event(outcome_kind, next.id, outcome),
                    event(kinds::EMAIL_VERIFIED, next.id, json!({"by": proven.source})),
                ];
                self.parts
                    .store
                    .update_user(
                        &next,
                        light.version,
                        &super::users::index_of(&schema, &next),
                        &events,
                    )
                    .await?;
                Ok((next, true))
            }
            Some(_) => Err(CoreError::Duplicate { field: "email" }),
            None => {
                let id = UserId::new_at(now);
                let profile = Profile {
                    username: Some(
                        Username::parse(proven.email.as_str())
                            .map_err(|e| CoreError::invalid("username", e.to_string()))?,
                    ),
                    given_name: proven.given_name,
                    family_name: proven.family_name,
                    locale: Some(proven.language.to_owned()),
                    emails: vec![UserEmail {
                        value: proven.email.clone(),
                        primary: true,
                        verified: true,
                        purposes: BTreeSet::new(),
                        kind: None,
                    }],
                    ..Profile::default()
                };
                let mut user = User {
                    id,
                    tenant_id: tenant.id,
                    status: UserStatus::Active,
                    profile: super::users::validated(profile, &schema)?,
                    password_hash: Some(proven.password_hash),
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                let events = [
                    event(
                        kinds::USER_CREATED,
                        id,
                        json!({"status": "active", "source": proven.source}),
                    ),
                    event(outcome_kind, id, outcome),
                    event(kinds::EMAIL_VERIFIED, id, json!({"by": proven.source})),
                ];
                let index = super::users::index_of(&schema, &user);
                match self.parts.store.insert_user(&user, &index, &events).await {
                    // The address is free but an older account kept it as its username
                    // (usernames do not follow email changes): name this one by its id.
                    Err(StoreError::Duplicate { field: "username" }) => {
                        user.profile.username = Some(
                            Username::parse(&id.to_string())
                                .map_err(|e| CoreError::invalid("username", e.to_string()))?,
                        );
                        self.parts.store.insert_user(&user, &index, &events).await?;
                    }
                    other => other?,
                }
                Ok((user, false))
            }
        }
    }
}

impl Core {
    /// What a sign-up from `place` must carry: the tenant's checks that apply always, and
    /// those for risky attempts when the address looks risky (failures from it, a Tor exit)
    /// — weighed as an attempt on an unknown account. `None` when the risk engine blocks
    /// the address (a deny-listed one, with the default weights).
    pub async fn sign_up_checks(
        &self,
        tenant: &Tenant,
        place: &SignUpPlace,
    ) -> Result<Option<RequiredChecks>, CoreError> {
        let context = SignInContext {
            tenant_id: tenant.id,
            client_id: None,
            ip: place.ip.clone(),
            user_agent: None,
            device: None,
            human_verified: false,
            captcha_passed: false,
            risk: None,
        };
        let risk = self.assess_sign_in(tenant, None, &context, None).await?;
        let defence = &tenant.settings.bot_defence;
        if risk.decision == RiskDecision::Block {
            return Ok(None);
        }
        let risky = tenant.settings.risk.asks_for_bot_checks(risk.score);
        Ok(Some(defence.required(Flow::SignUp, risky)))
    }
}
