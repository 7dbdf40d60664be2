//! Identity verification use cases: the tenant's provider (set, read, remove; secrets sealed
//! and never read back), the policy check of the authorization request, starting a session
//! at the provider through the outbound port, the provider's signed webhook, the return
//! page's view of a session, and what clients and administrators may read.

use super::users::subject as user_subject;
use super::{Core, StoreError};
use crate::auth::Authorized;
use crate::error::CoreError;
use crate::event::{Actor, Event, kinds};
use crate::identity_verification::provider::{
    self, ProviderSettings, api_token_context, webhook_secret_context,
};
use crate::identity_verification::webhook::{self, Outcome, SignatureError};
use crate::identity_verification::{
    AssuranceLevel, IdentityProvider, IdentitySession, IdentityVerification, MAX_LISTED,
    MAX_STARTS, START_WINDOW, SessionCompletion, SessionStatus,
};
use crate::ids::{IdentitySessionId, IdentityVerificationId, TenantId, UserId};
use crate::oauth::client::Client;
use crate::tenant::Tenant;
use crate::user::UserStatus;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use url::Url;

const NOT_CONFIGURED: CoreError = CoreError::NotFound("identity verification provider");

fn tenant_subject(id: TenantId) -> String {
    format!("tenant:{id}")
}

/// The provider as the admin API shows it: no secrets, only whether they are set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderView {
    pub name: String,
    pub start_url: String,
    pub trust_framework: String,
    pub session_minutes: u32,
    pub api_token_set: bool,
    pub webhook_secret_set: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl From<&IdentityProvider> for ProviderView {
    fn from(provider: &IdentityProvider) -> Self {
        Self {
            name: provider.name.clone(),
            start_url: provider.start_url.clone(),
            trust_framework: provider.trust_framework.clone(),
            session_minutes: provider.session_minutes,
            api_token_set: !provider.sealed_api_token.is_empty(),
            webhook_secret_set: !provider.sealed_webhook_secret.is_empty(),
            created_at: provider.created_at,
            updated_at: provider.updated_at,
        }
    }
}

/// Where the provider reports the result (the webhook of the tenant's issuer) and where it
/// sends the browser back (the session's id is added to it as `session`).
#[derive(Debug, Clone)]
pub struct VerificationReturn {
    pub callback_url: String,
    pub return_url: Url,
}

/// A started session and where the browser goes to verify.
#[derive(Debug, Clone)]
pub struct StartedVerification {
    pub session: IdentitySessionId,
    pub url: Url,
}

/// What the return page shows for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// No result yet.
    Pending,
    /// Verified at the level asked for (or above).
    Verified,
    /// Verified, but below the level asked for.
    Insufficient,
    Rejected,
    Expired,
}

/// Why a webhook was refused. Each maps to one HTTP status; none repeats the body.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The tenant has no provider: nobody can sign for it.
    #[error("identity verification is not configured")]
    NotConfigured,
    /// The signature is missing, malformed, wrong or stale.
    #[error(transparent)]
    Signature(SignatureError),
    /// The (authentic) body is not a webhook Tessera understands.
    #[error("{0}")]
    Malformed(String),
    /// No session of this tenant has the reference.
    #[error("no identity verification session has this reference")]
    UnknownReference,
    /// The session left `pending` before (a replay, or a result after its time).
    #[error("the session has already ended as {0}")]
    AlreadyEnded(SessionStatus),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<StoreError> for WebhookError {
    fn from(error: StoreError) -> Self {
        Self::Core(error.into())
    }
}

impl Core {
    /// The tenant's provider as the pages and discovery read it (cached briefly).
    pub async fn identity_provider_of(
        &self,
        tenant: TenantId,
    ) -> Result<Option<IdentityProvider>, CoreError> {
        let cache = &self.parts.identity_providers;
        if let Some(known) = cache.get(&tenant, self.parts.clock.now()) {
            return Ok(known);
        }
        let read_at = self.parts.clock.now();
        let provider = self.parts.store.identity_provider(tenant).await?;
        cache.put(tenant, provider.clone(), read_at);
        Ok(provider)
    }

    /// Sets the tenant's provider. Secrets left out are kept (both are required the first
    /// time); given ones are sealed before they are stored. Writes
    /// `identity_verification.configured`, which names what changed but holds no secret.
    pub async fn put_identity_provider(
        &self,
        auth: &Authorized,
        settings: ProviderSettings,
    ) -> Result<ProviderView, CoreError> {
        let tenant = auth.tenant_id();
        let existing = self.parts.store.identity_provider(tenant).await?;
        let checked = settings
            .check(existing.is_some())
            .map_err(CoreError::Validation)?;
        let sealing = self.sealing_key()?;
        let seal = |secret: &Option<SecretString>, context: Vec<u8>, kept: Option<&Vec<u8>>| match (
            secret, kept,
        ) {
            (Some(secret), _) => sealing
                .seal(secret.expose_secret().as_bytes(), &context)
                .map_err(|e| CoreError::Internal(StoreError::Database(e.to_string()))),
            (None, Some(kept)) => Ok(kept.clone()),
            (None, None) => Err(CoreError::invalid("api_token", "required")),
        };
        let now = self.parts.clock.now();
        let provider = IdentityProvider {
            tenant_id: tenant,
            name: checked.name,
            start_url: checked.start_url.to_string(),
            trust_framework: checked.trust_framework,
            session_minutes: checked.session_minutes,
            sealed_api_token: seal(
                &settings.api_token,
                api_token_context(tenant),
                existing.as_ref().map(|p| &p.sealed_api_token),
            )?,
            sealed_webhook_secret: seal(
                &settings.webhook_secret,
                webhook_secret_context(tenant),
                existing.as_ref().map(|p| &p.sealed_webhook_secret),
            )?,
            created_at: existing.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        };
        let event = Event::new(
            tenant,
            now,
            auth.actor(),
            kinds::IDENTITY_VERIFICATION_CONFIGURED,
            tenant_subject(tenant),
            json!({
                "name": provider.name,
                // The host only: a start URL may carry a key in its query.
                "start_url_host": checked.start_url.host_str(),
                "trust_framework": provider.trust_framework,
                "session_minutes": provider.session_minutes,
                "api_token_changed": settings.api_token.is_some(),
                "webhook_secret_changed": settings.webhook_secret.is_some(),
            }),
        );
        self.parts
            .store
            .put_identity_provider(&provider, &event)
            .await?;
        self.parts.identity_providers.clear();
        Ok(ProviderView::from(&provider))
    }

    /// The tenant's provider, without its secrets.
    pub async fn identity_provider(&self, auth: &Authorized) -> Result<ProviderView, CoreError> {
        self.parts
            .store
            .identity_provider(auth.tenant_id())
            .await?
            .as_ref()
            .map(ProviderView::from)
            .ok_or(NOT_CONFIGURED)
    }

    /// Removes the tenant's provider; sessions and verifications stay. Clients that
    /// require a level then show users an error page until a provider is set again.
    pub async fn delete_identity_provider(&self, auth: &Authorized) -> Result<(), CoreError> {
        let event = Event::new(
            auth.tenant_id(),
            self.parts.clock.now(),
            auth.actor(),
            kinds::IDENTITY_VERIFICATION_REMOVED,
            tenant_subject(auth.tenant_id()),
            json!({}),
        );
        let removed = self
            .parts
            .store
            .delete_identity_provider(auth.tenant_id(), &event)
            .await?;
        self.parts.identity_providers.clear();
        if removed { Ok(()) } else { Err(NOT_CONFIGURED) }
    }

    /// Whether the user has a verification at `level` or above (the client's policy).
    pub async fn identity_verified(
        &self,
        tenant: TenantId,
        user: UserId,
        level: AssuranceLevel,
    ) -> Result<bool, CoreError> {
        Ok(self
            .parts
            .store
            .latest_identity_verification(tenant, user, level)
            .await?
            .is_some())
    }

    /// The `verified_claims` object of the user's newest verification at `min_level` or
    /// above, for a client's tokens and userinfo.
    pub async fn released_verified_claims(
        &self,
        tenant: TenantId,
        user: UserId,
        min_level: AssuranceLevel,
    ) -> Result<Option<serde_json::Value>, CoreError> {
        Ok(self
            .parts
            .store
            .latest_identity_verification(tenant, user, min_level)
            .await?
            .map(|verification| verification.verified_claims))
    }

    /// Starts a verification of the signed-in `user_id` at the tenant's provider for
    /// `client`, which requires `level`: stores the pending session (at most five starts an
    /// hour per user), POSTs the start request with the provider's bearer token through
    /// the outbound port, and returns where to send the browser.
    pub async fn start_identity_verification(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        client: &Client,
        level: AssuranceLevel,
        urls: &VerificationReturn,
    ) -> Result<StartedVerification, CoreError> {
        let provider = self
            .parts
            .store
            .identity_provider(tenant.id)
            .await?
            .ok_or(NOT_CONFIGURED)?;
        let user = self
            .parts
            .store
            .user_by_id(tenant.id, user_id)
            .await?
            .filter(|user| user.status == UserStatus::Active)
            .ok_or(CoreError::NotFound("user"))?;
        let now = self.parts.clock.now();
        let session = IdentitySession {
            id: IdentitySessionId::new_at(now),
            tenant_id: tenant.id,
            user_id,
            client_id: client.id,
            level,
            provider: provider.name.clone(),
            provider_session_id: None,
            status: SessionStatus::Pending,
            created_at: now,
            expires_at: now + Duration::minutes(provider.session_minutes.into()),
            completed_at: None,
        };
        // Stored before the call, so that a provider answering at once finds it.
        let admitted = self
            .parts
            .store
            .insert_identity_session(&session, MAX_STARTS, now - START_WINDOW)
            .await?;
        if !admitted {
            return Err(CoreError::TooManyRequests {
                retry_after_seconds: START_WINDOW.whole_seconds().unsigned_abs(),
            });
        }
        let mut return_url = urls.return_url.clone();
        return_url
            .query_pairs_mut()
            .append_pair("session", &session.id.to_string());
        let body = provider::start_request(&session, &user, &urls.callback_url, &return_url);
        let start_url = Url::parse(&provider.start_url)
            .map_err(|e| CoreError::Internal(StoreError::Corrupt(e.to_string())))?;
        let host = start_url.host_str().unwrap_or("?").to_owned();
        let token = self.open_secret(&provider.sealed_api_token, &api_token_context(tenant.id))?;
        let answer = self
            .outbound_client()
            .post_json(&start_url, &token, &body)
            .await
            .map_err(|e| CoreError::IdentityProviderFailed(e.to_string()))?;
        if !(200..300).contains(&answer.status) {
            return Err(CoreError::IdentityProviderFailed(format!(
                "{host} answered {}",
                answer.status
            )));
        }
        let started = provider::start_answer(&answer.body)
            .map_err(|reason| CoreError::IdentityProviderFailed(format!("{host}: {reason}")))?;
        self.parts
            .store
            .set_identity_provider_session(tenant.id, session.id, &started.id)
            .await?;
        Ok(StartedVerification {
            session: session.id,
            url: started.url,
        })
    }

    fn open_secret(&self, sealed: &[u8], context: &[u8]) -> Result<SecretString, CoreError> {
        let opened = self
            .sealing_key()?
            .open(sealed, context)
            .map_err(|e| CoreError::Internal(StoreError::Corrupt(e.to_string())))?;
        let text = std::str::from_utf8(&opened)
            .map_err(|e| CoreError::Internal(StoreError::Corrupt(e.to_string())))?;
        Ok(SecretString::from(text.to_owned()))
    }

    /// The signed-in user's session `id` as the return page shows it. A pending session
    /// past its time is ended as expired here (with its event), so the page and the
    /// webhook agree. Another user's session is not found.
    pub async fn identity_session_state(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        id: IdentitySessionId,
    ) -> Result<(IdentitySession, SessionState), CoreError> {
        let session = self
            .parts
            .store
            .identity_session(tenant.id, id)
            .await?
            .filter(|session| session.user_id == user_id)
            .ok_or(CoreError::NotFound("identity verification session"))?;
        let now = self.parts.clock.now();
        let state = match session.status_at(now) {
            SessionStatus::Pending => SessionState::Pending,
            SessionStatus::Expired => {
                if session.status == SessionStatus::Pending {
                    self.expire_session(&session, "timeout", now).await?;
                }
                SessionState::Expired
            }
            SessionStatus::Rejected => SessionState::Rejected,
            SessionStatus::Verified => {
                if self
                    .identity_verified(tenant.id, user_id, session.level)
                    .await?
                {
                    SessionState::Verified
                } else {
                    SessionState::Insufficient
                }
            }
        };
        Ok((session, state))
    }

    /// Ends a pending session as expired, once, with its event; false when it had ended.
    async fn expire_session(
        &self,
        session: &IdentitySession,
        by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, CoreError> {
        let event = session_event(
            session,
            now,
            kinds::USER_IDENTITY_VERIFICATION_EXPIRED,
            json!({ "by": by }),
        );
        let completion = SessionCompletion {
            status: SessionStatus::Expired,
            at: now,
            verification: None,
        };
        Ok(self
            .parts
            .store
            .complete_identity_session(session.tenant_id, session.id, &completion, &[event])
            .await?)
    }

    /// Handles the provider's webhook for `tenant`: checks the signature (`header`, the
    /// `Tessera-Signature` value) over the raw `body` before reading it, then moves the
    /// session out of `pending` exactly once. A verified result stores the verification
    /// with `user.identity_verified` in the same transaction; a rejected one writes
    /// `user.identity_rejected`, an expired one `user.identity_verification_expired`.
    /// Answers the session's new status.
    pub async fn receive_identity_webhook(
        &self,
        tenant: &Tenant,
        header: Option<&str>,
        body: &[u8],
    ) -> Result<SessionStatus, WebhookError> {
        // Read through the short cache: a flood of forged webhooks costs no database reads.
        let provider = self
            .identity_provider_of(tenant.id)
            .await?
            .ok_or(WebhookError::NotConfigured)?;
        let secret = self.open_secret(
            &provider.sealed_webhook_secret,
            &webhook_secret_context(tenant.id),
        )?;
        let now = self.parts.clock.now();
        webhook::verify_signature(secret.expose_secret().as_bytes(), header, body, now)
            .map_err(WebhookError::Signature)?;
        let result = webhook::parse_webhook(body).map_err(WebhookError::Malformed)?;
        let session = self
            .parts
            .store
            .identity_session(tenant.id, result.reference)
            .await?
            .ok_or(WebhookError::UnknownReference)?;
        match session.status_at(now) {
            SessionStatus::Pending => {}
            SessionStatus::Expired if session.status == SessionStatus::Pending => {
                self.expire_session(&session, "timeout", now).await?;
                return Err(WebhookError::AlreadyEnded(SessionStatus::Expired));
            }
            ended => return Err(WebhookError::AlreadyEnded(ended)),
        }
        let (completion, event) = match result.outcome {
            Outcome::Verified(verified) => {
                let event = session_event(
                    &session,
                    now,
                    kinds::USER_IDENTITY_VERIFIED,
                    json!({
                        "level": verified.level,
                        "trust_framework": verified.trust_framework,
                    }),
                );
                let verification = IdentityVerification {
                    id: IdentityVerificationId::new_at(now),
                    tenant_id: tenant.id,
                    user_id: session.user_id,
                    session_id: session.id,
                    provider: provider.name.clone(),
                    trust_framework: verified.trust_framework,
                    level: verified.level,
                    evidence: verified.evidence,
                    verified_at: verified.time.map_or(now, crate::clock::truncate_to_micros),
                    verified_claims: verified.verified_claims,
                    created_at: now,
                };
                (
                    completion(SessionStatus::Verified, now, Some(verification)),
                    event,
                )
            }
            Outcome::Rejected => (
                completion(SessionStatus::Rejected, now, None),
                session_event(&session, now, kinds::USER_IDENTITY_REJECTED, json!({})),
            ),
            Outcome::Expired => (
                completion(SessionStatus::Expired, now, None),
                session_event(
                    &session,
                    now,
                    kinds::USER_IDENTITY_VERIFICATION_EXPIRED,
                    json!({ "by": "provider" }),
                ),
            ),
        };
        let moved = self
            .parts
            .store
            .complete_identity_session(tenant.id, session.id, &completion, &[event])
            .await?;
        if !moved {
            // Another delivery of a webhook for this session got there first.
            let current = self
                .parts
                .store
                .identity_session(tenant.id, session.id)
                .await?
                .map_or(SessionStatus::Expired, |s| s.status);
            return Err(WebhookError::AlreadyEnded(current));
        }
        Ok(completion.status)
    }

    /// A user's verifications, newest first (at most 100), for administrators.
    pub async fn identity_verifications(
        &self,
        auth: &Authorized,
        user_id: UserId,
    ) -> Result<Vec<IdentityVerification>, CoreError> {
        self.get_user(auth, user_id).await?;
        Ok(self
            .parts
            .store
            .identity_verifications(auth.tenant_id(), user_id, MAX_LISTED)
            .await?)
    }
}

fn completion(
    status: SessionStatus,
    at: OffsetDateTime,
    verification: Option<IdentityVerification>,
) -> SessionCompletion {
    SessionCompletion {
        status,
        at,
        verification,
    }
}

/// An event about a session's user, recorded by Tessera (the provider is no actor of its
/// own), with the session's provider, level, client and id added to `payload`.
fn session_event(
    session: &IdentitySession,
    at: OffsetDateTime,
    kind: &str,
    mut payload: serde_json::Value,
) -> Event {
    if let Some(map) = payload.as_object_mut() {
        map.insert("provider".into(), json!(session.provider));
        map.insert("session_id".into(), json!(session.id.to_string()));
        map.insert("client_id".into(), json!(session.client_id.to_string()));
        map.entry("level").or_insert(json!(session.level));
    }
    Event::new(
        session.tenant_id,
        at,
        &Actor::System,
        kind,
        user_subject(session.user_id),
        payload,
    )
}
