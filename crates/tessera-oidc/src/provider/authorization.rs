//! The authorization endpoint's decisions: who must sign in, who must consent, and when a
//! code goes back to the client. Pending requests wait server-side under a random handle
//! (also the `request_uri` of pushed requests, RFC 9126).

use super::{Issuer, Provider};
use crate::authorize::{self, AuthorizationRequest, AuthorizeError, ResponseMode};
use crate::error::{ErrorCode, OAuthError};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use tessera_core::mfa::policy::{AuthLevel, LevelInputs, MfaMode, required_level};
use tessera_core::oauth::client::Client;
use tessera_core::oauth::grant::{AuthorizationContext, consent_items};
use tessera_core::oauth::session::Session;
use tessera_core::service::NewAuthorizationCode;
use tessera_core::user::UserStatus;
use time::{Duration, OffsetDateTime};

/// The `request_uri` prefix of pushed authorization requests.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Pushed requests must be used within this time.
const PUSHED_LIFETIME: Duration = Duration::seconds(90);

/// A response for the client's redirect URI (success or error), always with `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

/// A request waiting for the user, as the hosted pages need it.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub handle: String,
    pub request: AuthorizationRequest,
    pub client: Client,
    pub created_at: OffsetDateTime,
}

/// What happens next in the browser.
#[derive(Debug)]
pub enum AuthorizeStep {
    /// Back to the client.
    Respond(AuthorizationResponse),
    /// The user must sign in (again).
    Login(PendingRequest),
    /// The user must consent to the client's scopes.
    Consent(PendingRequest),
    /// The client needs attributes the user has not given yet (progressive profiling).
    Profile(PendingRequest),
    /// The client requires an identity verification level the user does not have yet.
    Verify(PendingRequest),
    /// The session is signed in, but not strongly enough for this client or request: the
    /// user must pass a second factor (or enrol one).
    StepUp(PendingRequest),
    /// The request cannot be trusted enough to redirect: show this message.
    ErrorPage(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    request: AuthorizationRequest,
    /// Pushed requests are single-use and must be started within a short time.
    pushed: bool,
}

fn respond_error(
    request: &AuthorizationRequest,
    issuer: &Issuer,
    error: OAuthError,
) -> AuthorizeStep {
    AuthorizeStep::Respond(error_response(
        &request.redirect_uri,
        request.response_mode,
        request.state.as_deref(),
        issuer,
        &error,
    ))
}

fn error_response(
    redirect_uri: &str,
    response_mode: ResponseMode,
    state: Option<&str>,
    issuer: &Issuer,
    error: &OAuthError,
) -> AuthorizationResponse {
    let mut params = vec![
        ("error".to_owned(), error.code.as_str().to_owned()),
        ("error_description".to_owned(), error.description.clone()),
    ];
    if let Some(state) = state {
        params.push(("state".into(), state.to_owned()));
    }
    params.push(("iss".into(), issuer.url.clone()));
    AuthorizationResponse {
        redirect_uri: redirect_uri.to_owned(),
        response_mode,
        params,
    }
}

impl Provider {
    /// Handles an authorization request (GET or POST parameters) for the browser's session.
    pub async fn authorize(
        &self,
        issuer: &Issuer,
        pairs: &[(String, String)],
        session: Option<Session>,
    ) -> Result<AuthorizeStep, OAuthError> {
        let params = match authorize::single_valued(pairs) {
            Ok(params) => params,
            Err(message) => return Ok(AuthorizeStep::ErrorPage(message)),
        };
        if let Some(request_uri) = params.get("request_uri") {
            return self
                .authorize_pushed(issuer, &params, request_uri, session)
                .await;
        }
        let client_id = params.get("client_id").copied().unwrap_or("");
        let client = self
            .core
            .protocol_client(issuer.tenant_id, client_id)
            .await?;
        match authorize::parse(&params, client.as_ref()) {
            Ok(request) => {
                let Some(client) = client else {
                    return Ok(AuthorizeStep::ErrorPage("unknown client".into()));
                };
                let pending = PendingRequest {
                    handle: String::new(),
                    request,
                    client,
                    created_at: self.core.clock().now(),
                };
                self.decide(issuer, pending, session, false).await
            }
            Err(AuthorizeError::Page(message)) => Ok(AuthorizeStep::ErrorPage(message)),
            Err(AuthorizeError::Redirect {
                redirect_uri,
                response_mode,
                state,
                error,
            }) => Ok(AuthorizeStep::Respond(error_response(
                &redirect_uri,
                response_mode,
                state.as_deref(),
                issuer,
                &error,
            ))),
        }
    }

    async fn authorize_pushed(
        &self,
        issuer: &Issuer,
        params: &std::collections::HashMap<&str, &str>,
        request_uri: &str,
        session: Option<Session>,
    ) -> Result<AuthorizeStep, OAuthError> {
        let handle = request_uri.strip_prefix(REQUEST_URI_PREFIX).unwrap_or("");
        let Some((pending, true)) = self.load_pending(issuer, handle).await? else {
            return Ok(AuthorizeStep::ErrorPage(
                "The sign-in request has expired or was already used. Please start again from the application.".into(),
            ));
        };
        if params.get("client_id") != Some(&pending.client.client_id().as_str()) {
            return Ok(AuthorizeStep::ErrorPage(
                "The sign-in request does not belong to this application.".into(),
            ));
        }
        // A pushed request is used once (the delete decides between concurrent uses); a
        // waiting copy takes its place.
        if !self.core.finish_pending_authorization(handle).await? {
            return Ok(AuthorizeStep::ErrorPage(
                "The sign-in request has expired or was already used. Please start again from the application.".into(),
            ));
        }
        let pending = PendingRequest {
            handle: String::new(),
            created_at: self.core.clock().now(),
            ..pending
        };
        self.decide(issuer, pending, session, false).await
    }

    /// Stores a pushed authorization request (RFC 9126) after authenticating the client and
    /// validating the request as the authorization endpoint would.
    pub async fn push_authorization_request(
        &self,
        issuer: &Issuer,
        authorization: Option<&str>,
        pairs: &[(String, String)],
    ) -> Result<(String, i64), OAuthError> {
        let params = authorize::single_valued(pairs).map_err(OAuthError::invalid_request)?;
        let client = self
            .authenticate_client(issuer, crate::discovery::paths::PAR, authorization, &params)
            .await?;
        if params.contains_key("request_uri") {
            return Err(OAuthError::invalid_request(
                "request_uri is not allowed here",
            ));
        }
        let request = match authorize::parse(&params, Some(&client)) {
            Ok(request) => request,
            Err(AuthorizeError::Page(message)) => return Err(OAuthError::invalid_request(message)),
            Err(AuthorizeError::Redirect { error, .. }) => return Err(error),
        };
        let stored = serde_json::to_value(Stored {
            request,
            pushed: true,
        })
        .map_err(|_| OAuthError::server_error())?;
        let handle = self
            .core
            .save_pending_authorization(issuer.tenant_id, client.id, stored, PUSHED_LIFETIME)
            .await?;
        Ok((
            format!("{REQUEST_URI_PREFIX}{}", handle.expose_secret()),
            PUSHED_LIFETIME.whole_seconds(),
        ))
    }

    /// The pending request a hosted page works on (never a pushed one: those are only
    /// ever redeemed at the authorization endpoint).
    pub async fn pending(
        &self,
        issuer: &Issuer,
        handle: &str,
    ) -> Result<Option<PendingRequest>, OAuthError> {
        Ok(self
            .load_pending(issuer, handle)
            .await?
            .filter(|(_, pushed)| !pushed)
            .map(|(pending, _)| pending))
    }

    async fn load_pending(
        &self,
        issuer: &Issuer,
        handle: &str,
    ) -> Result<Option<(PendingRequest, bool)>, OAuthError> {
        let Some(pending) = self
            .core
            .pending_authorization(issuer.tenant_id, handle)
            .await?
        else {
            return Ok(None);
        };
        let Ok(stored) = serde_json::from_value::<Stored>(pending.parameters) else {
            return Ok(None);
        };
        let client = self
            .core
            .protocol_client(issuer.tenant_id, &stored.request.client_id)
            .await?;
        Ok(client.map(|client| {
            let request = PendingRequest {
                handle: handle.to_owned(),
                request: stored.request,
                client,
                created_at: pending.created_at,
            };
            (request, stored.pushed)
        }))
    }

    /// Continues a pending request after a sign-in.
    pub async fn resume(
        &self,
        issuer: &Issuer,
        handle: &str,
        session: Option<Session>,
    ) -> Result<AuthorizeStep, OAuthError> {
        match self.pending(issuer, handle).await? {
            Some(pending) => self.decide(issuer, pending, session, false).await,
            None => Ok(AuthorizeStep::ErrorPage(expired_message())),
        }
    }

    /// The user's answer on the consent page.
    pub async fn answer_consent(
        &self,
        issuer: &Issuer,
        handle: &str,
        session: Option<Session>,
        allow: bool,
    ) -> Result<AuthorizeStep, OAuthError> {
        let Some(pending) = self.pending(issuer, handle).await? else {
            return Ok(AuthorizeStep::ErrorPage(expired_message()));
        };
        let Some(session) = session else {
            return self.decide(issuer, pending, None, false).await;
        };
        if !allow {
            self.core.finish_pending_authorization(handle).await?;
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            return Ok(respond_error(&pending.request, issuer, error));
        }
        self.core
            .grant_consent(
                issuer.tenant_id,
                session.user_id,
                pending.client.id,
                consent_items(&pending.request.scope, &needs_of(&pending.client)),
            )
            .await?;
        self.decide(issuer, pending, Some(session), true).await
    }

    async fn decide(
        &self,
        issuer: &Issuer,
        pending: PendingRequest,
        session: Option<Session>,
        consent_just_given: bool,
    ) -> Result<AuthorizeStep, OAuthError> {
        let now = self.core.clock().now();
        let request = &pending.request;
        let user = match &session {
            Some(session) => self
                .core
                .store()
                .user_by_id(issuer.tenant_id, session.user_id)
                .await
                .map_err(tessera_core::CoreError::from)?
                .filter(|user| user.status == UserStatus::Active),
            None => None,
        };
        let signed_in_since_request = session.as_ref().is_some_and(|s| {
            s.authentication
                .at
                .is_some_and(|at| at >= pending.created_at)
        });
        let too_old = match (&session, request.max_age) {
            (Some(session), Some(max_age)) => session
                .authentication
                .at
                .is_none_or(|at| now - at > Duration::seconds(max_age.into())),
            _ => false,
        };
        // `prompt=create` (Initiating User Registration 1.0) asks for the sign-up page; the
        // browser layer shows it when the tenant has sign-up, else the sign-in page.
        let needs_login = user.is_none()
            || (!signed_in_since_request
                && (request.prompt.login
                    || request.prompt.select_account
                    || request.prompt.create
                    || too_old));
        let (Some(session), Some(user), false) = (session, user, needs_login) else {
            if request.prompt.none {
                let error = OAuthError::new(ErrorCode::LoginRequired, "the user must sign in");
                return Ok(respond_error(request, issuer, error));
            }
            return Ok(AuthorizeStep::Login(self.keep(issuer, pending).await?));
        };
        let tenant = self
            .core
            .tenant_by_id(issuer.tenant_id)
            .await?
            .ok_or_else(OAuthError::server_error)?;
        if session_level(&session) < level_needed(&pending) {
            if request.prompt.none {
                let error = OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "the user must pass a second factor",
                );
                return Ok(respond_error(request, issuer, error));
            }
            return Ok(AuthorizeStep::StepUp(self.keep(issuer, pending).await?));
        }
        if !pending.client.metadata.needs.is_empty() {
            let questions = self
                .core
                .profiling_questions(&tenant, &user, &pending.client)
                .await?;
            // Without interaction only the skippable questions may wait for another time.
            if request.prompt.none && questions.iter().any(|q| q.required) {
                let error = OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "the user must complete their profile",
                );
                return Ok(respond_error(request, issuer, error));
            }
            if !questions.is_empty() && !request.prompt.none {
                return Ok(AuthorizeStep::Profile(self.keep(issuer, pending).await?));
            }
        }
        if let Some(level) = pending.client.metadata.required_verification
            && !self
                .core
                .identity_verified(issuer.tenant_id, user.id, level)
                .await?
        {
            if request.prompt.none {
                let error = OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "the user must verify their identity",
                );
                return Ok(respond_error(request, issuer, error));
            }
            return Ok(AuthorizeStep::Verify(self.keep(issuer, pending).await?));
        }
        if !pending.client.metadata.first_party && !consent_just_given {
            let consent = self
                .core
                .consent(issuer.tenant_id, user.id, pending.client.id)
                .await?;
            let wanted = consent_items(&request.scope, &needs_of(&pending.client));
            let covered = consent.is_some_and(|c| c.covers(&wanted));
            if !covered || request.prompt.consent {
                if request.prompt.none {
                    let error =
                        OAuthError::new(ErrorCode::ConsentRequired, "the user must consent");
                    return Ok(respond_error(request, issuer, error));
                }
                return Ok(AuthorizeStep::Consent(self.keep(issuer, pending).await?));
            }
        }
        let context = AuthorizationContext {
            user_id: user.id,
            session_id: Some(session.id),
            scope: request.scope.clone(),
            authentication: session.authentication.clone(),
            claims: request.claims.clone(),
            needs: needs_of(&pending.client),
        };
        let code = self
            .core
            .issue_authorization_code(NewAuthorizationCode {
                tenant_id: issuer.tenant_id,
                client_id: pending.client.id,
                redirect_uri: request.redirect_uri.clone(),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                context,
            })
            .await?;
        if !pending.handle.is_empty() {
            self.core
                .finish_pending_authorization(&pending.handle)
                .await?;
        }
        let mut params = vec![("code".to_owned(), code.expose_secret().to_owned())];
        if let Some(state) = &request.state {
            params.push(("state".into(), state.clone()));
        }
        params.push(("iss".into(), issuer.url.clone()));
        Ok(AuthorizeStep::Respond(AuthorizationResponse {
            redirect_uri: request.redirect_uri.clone(),
            response_mode: request.response_mode,
            params,
        }))
    }

    /// Saves the request for the hosted pages unless it is saved already.
    async fn keep(
        &self,
        issuer: &Issuer,
        pending: PendingRequest,
    ) -> Result<PendingRequest, OAuthError> {
        if !pending.handle.is_empty() {
            return Ok(pending);
        }
        let stored = serde_json::to_value(Stored {
            request: pending.request.clone(),
            pushed: false,
        })
        .map_err(|_| OAuthError::server_error())?;
        let handle = self
            .core
            .save_pending_authorization(
                issuer.tenant_id,
                pending.client.id,
                stored,
                self.settings.pending_lifetime,
            )
            .await?;
        Ok(PendingRequest {
            handle: handle.expose_secret().to_owned(),
            ..pending
        })
    }
}

/// The level a session reached, as its `acr` says.
fn session_level(session: &Session) -> AuthLevel {
    AuthLevel::from_acr(&session.authentication.acr).unwrap_or(AuthLevel::OneFactor)
}

/// The level this request needs of a session: the client's minimum and the request's
/// `acr_values`. The tenant's MFA mode (with enrolled users, trusted browsers and risk) is
/// applied when the session starts; a session that met it then is not asked again, so a
/// browser the user chose to trust keeps its one-factor session for one-factor apps.
fn level_needed(pending: &PendingRequest) -> AuthLevel {
    required_level(LevelInputs {
        mode: MfaMode::Off,
        client_minimum: pending.client.metadata.minimum_acr,
        requested: AuthLevel::requested(&pending.request.acr_values),
        risk_requires_mfa: false,
        enrolled: false,
    })
}

/// The attributes a client needs, as its grants and consents record them.
fn needs_of(client: &Client) -> BTreeSet<String> {
    client.metadata.needs.names().map(str::to_owned).collect()
}

fn expired_message() -> String {
    "This sign-in request has expired. Please go back to the application and start again.".into()
}

/// Scopes the consent page lists (everything but `openid`, which only names the protocol).
pub fn consent_scopes(request: &AuthorizationRequest) -> BTreeSet<String> {
    request
        .scope
        .iter()
        .filter(|s| s.as_str() != "openid")
        .cloned()
        .collect()
}
