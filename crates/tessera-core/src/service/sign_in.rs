//! Sign-in use cases: check a password (in the same time whether or not the account
//! exists), start, find and end sessions, set a password.

use super::Core;
use super::lockout::Attempt;
use crate::bot::Flow;
use crate::email::Email;
use crate::error::CoreError;
use crate::event::{Actor, Event, kinds};
use crate::ids::{ClientId, SessionId, TenantId, UserId};
use crate::lockout::{Factor, Refusal};
use crate::oauth::session::{Authentication, Session, SessionLifetimes};
use crate::password::{PasswordError, PolicyContext, Verification};
use crate::risk::{RiskAssessment, RiskDecision};
use crate::secret::{SecretHash, generate_secret};
use crate::user::{User, UserStatus};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use time::Duration;

/// The prefix of session cookie values.
pub const SESSION_PREFIX: &str = "tss";

/// Where a sign-in attempt comes from, for events and (later) risk and rate limits.
#[derive(Debug, Clone)]
pub struct SignInContext {
    pub tenant_id: TenantId,
    pub client_id: Option<ClientId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The browser's long-lived device cookie, if it has one.
    pub device: Option<String>,
    /// The browser solved a proof of work for this attempt.
    pub human_verified: bool,
    /// The tenant's external captcha passed this attempt's token.
    pub captcha_passed: bool,
    /// The risk assessment of this sign-in, once made; goes on its events.
    pub risk: Option<RiskAssessment>,
}

impl SignInContext {
    pub(crate) fn payload(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut payload = json!({
            "client_id": self.client_id.map(|id| id.to_string()),
            "ip": self.ip,
            "user_agent": self.user_agent,
            "risk": self.risk,
        });
        if let (Some(map), serde_json::Value::Object(extra)) = (payload.as_object_mut(), extra) {
            map.extend(extra);
        }
        payload
    }
}

/// A password that checked out, with the assessment of the attempt (which may still call
/// for a second factor).
#[derive(Debug, Clone)]
pub struct PasswordSignIn {
    pub user: User,
    pub risk: RiskAssessment,
}

/// A new session and the cookie value that names it, which is never stored.
#[derive(Debug)]
pub struct StartedSession {
    pub session: Session,
    pub cookie_value: SecretString,
}

fn user_subject(id: UserId) -> String {
    format!("user:{id}")
}

fn session_subject(id: SessionId) -> String {
    format!("session:{id}")
}

fn map_password_error(error: PasswordError) -> CoreError {
    match error {
        PasswordError::Busy => CoreError::Overloaded,
        other => CoreError::Internal(crate::store::StoreError::Database(other.to_string())),
    }
}

impl Core {
    /// Checks an email and password after weighing the attempt's risk. Every failure is
    /// `InvalidCredentials`, after the same amount of hashing work, so that the answer does
    /// not tell whether the account exists (A07). The exceptions answer the same but hash
    /// nothing: a locked account (its attempts are counted, A03) and a blocked attempt.
    /// An attempt the risk engine wants a proof of work for, without one, is
    /// `BotCheckRequired` (for known and unknown users alike). The reason and the
    /// assessment go to the audit log.
    pub async fn check_password(
        &self,
        context: &SignInContext,
        email: &str,
        password: SecretString,
    ) -> Result<PasswordSignIn, CoreError> {
        let tenant = self
            .tenant_by_id(context.tenant_id)
            .await?
            .ok_or(CoreError::NotFound("tenant"))?;
        let user = match Email::parse(email) {
            Ok(email) => {
                self.parts
                    .store
                    .user_by_email(context.tenant_id, &email)
                    .await?
            }
            Err(_) => None,
        };
        let candidate = user
            .as_ref()
            .filter(|user| user.status == UserStatus::Active && user.password_hash.is_some());
        let risk = self
            .assess_sign_in(&tenant, candidate, context, Some(password.expose_secret()))
            .await?;
        let context = SignInContext {
            risk: Some(risk.clone()),
            ..context.clone()
        };
        let required = tenant.settings.bot_defence.required(
            Flow::SignIn,
            tenant.settings.risk.asks_for_bot_checks(risk.score),
        );
        let bot_check = (required.pow && !context.human_verified)
            || (required.captcha.is_some() && !context.captcha_passed);
        let reason = match (candidate, risk.decision) {
            (_, RiskDecision::Block) => "risk_blocked",
            _ if bot_check => {
                self.record_sign_in_failure(&context, user.as_ref(), "pwd", "bot_check_required")
                    .await?;
                return Err(CoreError::BotCheckRequired);
            }
            (Some(candidate), _) => {
                let attempt = self
                    .counted_attempt(&tenant, candidate, Factor::Password, || {
                        self.verify_password(candidate, password)
                    })
                    .await?;
                match attempt {
                    Attempt::Passed(()) => {
                        return Ok(PasswordSignIn {
                            user: candidate.clone(),
                            risk,
                        });
                    }
                    Attempt::Failed { .. } => "bad_password",
                    Attempt::Refused(Refusal::Locked(_)) => "locked",
                    Attempt::Refused(Refusal::Disabled) => "disabled",
                }
            }
            (None, _) => {
                // The same hashing work as for a real account (A07).
                self.parts
                    .passwords
                    .verify(password, None)
                    .await
                    .map_err(map_password_error)?;
                match &user {
                    None => "unknown_user",
                    Some(user) if user.status != UserStatus::Active => "inactive_user",
                    Some(_) => "no_password",
                }
            }
        };
        self.record_sign_in_failure(&context, user.as_ref(), "pwd", reason)
            .await?;
        Err(CoreError::InvalidCredentials)
    }

    /// The audit event of a failed attempt (`method`: `pwd`, `passkey`), and its count for
    /// the IP's failure velocity.
    pub(crate) async fn record_sign_in_failure(
        &self,
        context: &SignInContext,
        user: Option<&User>,
        method: &str,
        reason: &str,
    ) -> Result<(), CoreError> {
        self.record_failed_attempt(context, user).await?;
        let subject = user.map_or_else(|| "user:unknown".to_owned(), |u| user_subject(u.id));
        let event = Event::new(
            context.tenant_id,
            self.parts.clock.now(),
            &Actor::System,
            kinds::SIGN_IN_FAILED,
            subject,
            context.payload(json!({"method": method, "reason": reason})),
        );
        self.parts.store.insert_event(&event).await?;
        Ok(())
    }

    /// Checks the password of a user who has one, rehashing it when the parameters changed.
    async fn verify_password(
        &self,
        user: &User,
        password: SecretString,
    ) -> Result<Option<()>, CoreError> {
        let stored = user.password_hash.as_ref();
        let verification = self
            .parts
            .passwords
            .verify(password, stored)
            .await
            .map_err(map_password_error)?;
        match (verification, stored) {
            (Verification::Match { rehash }, Some(previous)) => {
                if let Some(hash) = rehash {
                    self.parts
                        .store
                        .set_password_hash(user.tenant_id, user.id, previous, &hash)
                        .await?;
                }
                Ok(Some(()))
            }
            _ => Ok(None),
        }
    }

    /// Starts a session for a user who just authenticated; always a new id (A21).
    pub async fn start_session(
        &self,
        context: &SignInContext,
        user: &User,
        authentication: Authentication,
        lifetimes: SessionLifetimes,
    ) -> Result<StartedSession, CoreError> {
        let now = self.parts.clock.now();
        let cookie_value = generate_secret(SESSION_PREFIX);
        let session = Session {
            id: SessionId::new_at(now),
            secret_hash: SecretHash::of(&cookie_value),
            tenant_id: user.tenant_id,
            user_id: user.id,
            authentication,
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now + Duration::seconds(lifetimes.idle_seconds.into()),
            expires_at: now + Duration::seconds(lifetimes.absolute_seconds.into()),
            ip: context.ip.clone(),
            user_agent: context.user_agent.clone(),
            ended_at: None,
        };
        let event = Event::new(
            user.tenant_id,
            now,
            &Actor::User(user.id),
            kinds::SIGN_IN_SUCCEEDED,
            user_subject(user.id),
            context.payload(json!({
                "session_id": session.id.to_string(),
                "methods": session.authentication.methods,
            })),
        );
        self.parts.store.insert_session(&session, &event).await?;
        self.record_sign_in(context, user).await?;
        Ok(StartedSession {
            session,
            cookie_value,
        })
    }

    /// The active session a cookie names in this tenant, recording activity now and then.
    pub async fn session_from_cookie(
        &self,
        tenant: TenantId,
        cookie_value: &str,
        lifetimes: SessionLifetimes,
    ) -> Result<Option<Session>, CoreError> {
        if !cookie_value.starts_with(SESSION_PREFIX) {
            return Ok(None);
        }
        let hash = SecretHash::of_str(cookie_value);
        let Some(mut session) = self.parts.store.session_by_hash(&hash).await? else {
            return Ok(None);
        };
        let now = self.parts.clock.now();
        if session.tenant_id != tenant || !session.is_active(now) {
            return Ok(None);
        }
        if let Some(idle_expires_at) = session.touch(now, lifetimes) {
            self.parts
                .store
                .touch_session(session.id, now, idle_expires_at)
                .await?;
            session.last_seen_at = now;
            session.idle_expires_at = idle_expires_at;
        }
        Ok(Some(session))
    }

    /// Ends the session and returns the clients that received tokens in it, for
    /// back-channel logout.
    pub async fn end_session(&self, session: &Session) -> Result<Vec<ClientId>, CoreError> {
        let now = self.parts.clock.now();
        let event = Event::new(
            session.tenant_id,
            now,
            &Actor::User(session.user_id),
            kinds::SESSION_ENDED,
            session_subject(session.id),
            json!({"user_id": session.user_id.to_string()}),
        );
        self.parts
            .store
            .end_session(session.tenant_id, session.id, now, &event)
            .await?;
        Ok(self.parts.store.session_clients(session.id).await?)
    }

    /// Hashes a new password after checking it against the policy (A single factor needs
    /// the longer minimum until MFA exists for the user).
    pub async fn hash_new_password(
        &self,
        password: SecretString,
        personal: Vec<String>,
    ) -> Result<crate::password_hash::PasswordHash, CoreError> {
        let context = PolicyContext {
            mfa_enrolled: false,
            user_inputs: personal,
        };
        if let Err(violations) = self
            .parts
            .password_policy
            .check(password.expose_secret(), &context)
        {
            let errors = violations
                .iter()
                .map(|v| crate::error::FieldError::new("password", v.to_string()))
                .collect();
            return Err(CoreError::Validation(errors));
        }
        self.parts
            .passwords
            .hash(password)
            .await
            .map_err(map_password_error)
    }
}

/// What a password must not contain: the email's local part and the names.
pub fn personal_inputs(profile: &crate::user::Profile) -> Vec<String> {
    let mut inputs: Vec<String> = profile
        .emails
        .iter()
        .filter_map(|e| e.value.as_str().split('@').next().map(str::to_owned))
        .collect();
    inputs.extend(
        [&profile.given_name, &profile.family_name]
            .into_iter()
            .flatten()
            .cloned(),
    );
    inputs
}
