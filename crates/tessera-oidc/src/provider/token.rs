//! The token endpoint (RFC 6749 §3.2): authorization code with PKCE, refresh token with
//! rotation, client credentials. Every failure is an OAuth error; nothing is half-issued.

use super::{Issuer, Provider};
use crate::authorize::{self, parse_scope};
use crate::claims::Destination;
use crate::discovery::paths;
use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::collections::HashMap;
use tessera_core::CoreError;
use tessera_core::oauth::client::{Client, GrantType};
use tessera_core::oauth::grant::AuthorizationContext;
use tessera_core::service::IssuedTokens;
use tessera_core::user::{User, UserStatus};

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl Provider {
    /// Handles a token request; `authorization` is the `Authorization` header.
    pub async fn token(
        &self,
        issuer: &Issuer,
        authorization: Option<&str>,
        pairs: &[(String, String)],
    ) -> Result<TokenResponse, OAuthError> {
        let form = authorize::single_valued(pairs).map_err(OAuthError::invalid_request)?;
        let client = self
            .authenticate_client(issuer, paths::TOKEN, authorization, &form)
            .await?;
        let grant_type = form
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
        let grant = match *grant_type {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "supported: authorization_code, refresh_token, client_credentials",
                ));
            }
        };
        if !client.metadata.allows_grant(grant) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the client may not use this grant type",
            ));
        }
        match grant {
            GrantType::AuthorizationCode => self.code_grant(issuer, &client, &form).await,
            GrantType::RefreshToken => self.refresh_grant(issuer, &client, &form).await,
            GrantType::ClientCredentials => {
                self.client_credentials_grant(issuer, &client, &form).await
            }
        }
    }

    async fn code_grant(
        &self,
        issuer: &Issuer,
        client: &Client,
        form: &HashMap<&str, &str>,
    ) -> Result<TokenResponse, OAuthError> {
        let code_text = form
            .get("code")
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        let invalid =
            || OAuthError::invalid_grant("the authorization code is invalid, expired or used");
        let code = self
            .core
            .redeem_authorization_code(issuer.tenant_id, code_text)
            .await?
            .ok_or_else(invalid)?;
        let now = self.core.clock().now();
        // A14: another client, another redirect URI, or too late.
        if code.client_id != client.id
            || form.get("redirect_uri").copied() != Some(code.redirect_uri.as_str())
            || now >= code.expires_at
        {
            return Err(invalid());
        }
        // A15: a verifier must match the challenge, and none may come without one.
        match (&code.code_challenge, form.get("code_verifier")) {
            (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => {}
            (None, None) => {}
            _ => return Err(OAuthError::invalid_grant("PKCE verification failed")),
        }
        let user = self.active_user(issuer, &code.context).await?;
        let with_refresh = client.metadata.allows_grant(GrantType::RefreshToken);
        let issued = match self
            .core
            .create_code_grant(client, &code, with_refresh)
            .await
        {
            Ok(issued) => issued,
            Err(CoreError::InvalidCredentials) => return Err(invalid()),
            Err(other) => return Err(other.into()),
        };
        self.token_response(
            issuer,
            client,
            &user,
            &code.context,
            code.nonce.as_deref(),
            issued,
        )
        .await
    }

    async fn refresh_grant(
        &self,
        issuer: &Issuer,
        client: &Client,
        form: &HashMap<&str, &str>,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = form
            .get("refresh_token")
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
        let scope =
            match form.get("scope") {
                Some(text) => Some(parse_scope(text).ok_or_else(|| {
                    OAuthError::new(ErrorCode::InvalidScope, "scope is malformed")
                })?),
                None => None,
            };
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        // A wider scope than granted is `invalid_scope` (RFC 6749 §6), told apart before the
        // token is spent.
        if let Some(asked) = &scope
            && let Some((_, grant)) = self
                .core
                .refresh_token_grant(issuer.tenant_id, presented)
                .await?
            && grant.client_id == client.id
            && grant
                .context
                .as_ref()
                .is_some_and(|context| !asked.is_subset(&context.scope))
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "the scope is wider than the one granted",
            ));
        }
        let (issued, grant) = self
            .core
            .rotate_refresh_token(client, presented, scope)
            .await?
            .ok_or_else(invalid)?;
        let context = grant.context.clone().ok_or_else(invalid)?;
        // Without offline_access a refresh token lives only as long as the sign-in session.
        if !context.scope.contains("offline_access")
            && let Some(session_id) = context.session_id
        {
            let session = self
                .core
                .store()
                .session_by_id(issuer.tenant_id, session_id)
                .await
                .map_err(CoreError::from)?;
            let now = self.core.clock().now();
            if !session.is_some_and(|s| s.is_active(now)) {
                self.core
                    .revoke_grant(&grant, &tessera_core::event::Actor::System)
                    .await?;
                return Err(invalid());
            }
        }
        let user = self.active_user(issuer, &context).await?;
        let mut context = context;
        context.scope = issued.access.scope.clone();
        self.token_response(issuer, client, &user, &context, None, issued)
            .await
    }

    async fn client_credentials_grant(
        &self,
        issuer: &Issuer,
        client: &Client,
        form: &HashMap<&str, &str>,
    ) -> Result<TokenResponse, OAuthError> {
        let asked = parse_scope(form.get("scope").copied().unwrap_or(""))
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidScope, "scope is malformed"))?;
        // Scopes about a user make no sense without one.
        let user_scopes = [
            "openid",
            "profile",
            "email",
            "phone",
            "address",
            "offline_access",
        ];
        if let Some(bad) = asked
            .iter()
            .find(|s| user_scopes.contains(&s.as_str()) || !client.metadata.scope.contains(*s))
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("the client may not ask for the scope '{bad}'"),
            ));
        }
        let audience = match form.get("audience").or_else(|| form.get("resource")) {
            Some(audience) if client.metadata.audiences.contains(*audience) => {
                Some((*audience).to_owned())
            }
            Some(_) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "the client may not ask for this audience",
                ));
            }
            None => client.metadata.audiences.iter().next().cloned(),
        };
        let record = self.core.issue_client_credentials(client, asked).await?;
        let access_token = self.access_token(issuer, client, &record, None, audience.as_deref())?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: (record.expires_at - record.issued_at).whole_seconds(),
            scope: join(&record.scope),
            refresh_token: None,
            id_token: None,
        })
    }

    async fn active_user(
        &self,
        issuer: &Issuer,
        context: &AuthorizationContext,
    ) -> Result<User, OAuthError> {
        self.core
            .store()
            .user_by_id(issuer.tenant_id, context.user_id)
            .await
            .map_err(CoreError::from)?
            .filter(|user| user.status == UserStatus::Active)
            .ok_or_else(|| OAuthError::invalid_grant("the user can no longer sign in"))
    }

    async fn token_response(
        &self,
        issuer: &Issuer,
        client: &Client,
        user: &User,
        context: &AuthorizationContext,
        nonce: Option<&str>,
        issued: IssuedTokens,
    ) -> Result<TokenResponse, OAuthError> {
        let access_token =
            self.access_token(issuer, client, &issued.access, Some(context), None)?;
        let id_token = if context.scope.contains("openid") {
            let verified = self
                .verified_claims_for(
                    issuer,
                    client,
                    user,
                    &context.scope,
                    context.claims.as_ref(),
                    Destination::IdToken,
                )
                .await?;
            Some(self.id_token(issuer, client, user, context, nonce, verified)?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: (issued.access.expires_at - issued.access.issued_at).whole_seconds(),
            scope: join(&issued.access.scope),
            refresh_token: issued
                .refresh_token
                .map(|token| token.expose_secret().to_owned()),
            id_token,
        })
    }
}

fn join(scope: &std::collections::BTreeSet<String>) -> String {
    scope
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}
