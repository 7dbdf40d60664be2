//! Endpoints that take tokens: userinfo (OpenID Connect Core §5.3), introspection
//! (RFC 7662) and revocation (RFC 7009).

use super::tokens::ACCESS_TOKEN_TYPE;
use super::{Issuer, Provider};
use crate::authorize;
use crate::claims::{Destination, user_claims};
use crate::discovery::paths;
use crate::error::{ErrorCode, OAuthError};
use crate::jose::{self, Expectations};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tessera_core::CoreError;
use tessera_core::event::Actor;
use tessera_core::oauth::grant::AccessTokenRecord;
use tessera_core::user::UserStatus;
use time::Duration;
use uuid::Uuid;

/// Clock skew tolerated when checking our own tokens (A55: at most 60 s).
const LEEWAY: Duration = Duration::seconds(30);

/// Why userinfo refused (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserinfoError {
    InvalidToken,
    InsufficientScope,
    Server(OAuthError),
}

/// The introspection answer.
#[derive(Debug, Serialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct AccessClaims {
    jti: String,
}

impl Provider {
    /// The record of a valid, live access token of this issuer.
    async fn live_access_token(
        &self,
        issuer: &Issuer,
        token: &str,
    ) -> Result<Option<AccessTokenRecord>, OAuthError> {
        let algorithms = [crate::keys::to_jose(self.settings.access_token_algorithm)];
        let expect = Expectations {
            issuer: Some(&issuer.url),
            audience: None,
            typ: Some(ACCESS_TOKEN_TYPE),
            now: self.core.clock().now(),
            leeway: LEEWAY,
            allow_expired: false,
            algorithms: &algorithms,
        };
        let Ok(claims) = jose::verify::<AccessClaims>(token, &self.keys.jwks(), &expect) else {
            return Ok(None);
        };
        let Ok(jti) = claims.jti.parse::<Uuid>() else {
            return Ok(None);
        };
        Ok(self.core.access_token_record(issuer.tenant_id, jti).await?)
    }

    /// The claims about the user an access token may read.
    pub async fn userinfo(
        &self,
        issuer: &Issuer,
        token: &str,
    ) -> Result<Map<String, Value>, UserinfoError> {
        let record = self
            .live_access_token(issuer, token)
            .await
            .map_err(UserinfoError::Server)?
            .ok_or(UserinfoError::InvalidToken)?;
        let (Some(user_id), Some(grant_id)) = (record.user_id, record.grant_id) else {
            return Err(UserinfoError::InvalidToken);
        };
        if !record.scope.contains("openid") {
            return Err(UserinfoError::InsufficientScope);
        }
        let store = self.core.store();
        let server =
            |e: tessera_core::store::StoreError| UserinfoError::Server(CoreError::from(e).into());
        let user = store
            .user_by_id(issuer.tenant_id, user_id)
            .await
            .map_err(server)?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or(UserinfoError::InvalidToken)?;
        let client = store
            .client_by_id(issuer.tenant_id, record.client_id)
            .await
            .map_err(server)?
            .ok_or(UserinfoError::InvalidToken)?;
        let grant = store
            .grant_by_id(issuer.tenant_id, grant_id)
            .await
            .map_err(server)?;
        let context = grant.and_then(|g| g.context);
        let needs = context
            .as_ref()
            .map(|c| c.needs.clone())
            .unwrap_or_default();
        let requested = context.and_then(|c| c.claims);
        let mut claims = user_claims(
            &user,
            &record.scope,
            requested.as_ref(),
            &client.metadata,
            &needs,
            Destination::Userinfo,
        );
        let verified = self
            .verified_claims_for(
                issuer,
                &client,
                &user,
                &record.scope,
                requested.as_ref(),
                Destination::Userinfo,
            )
            .await
            .map_err(UserinfoError::Server)?;
        if let Some(verified) = verified {
            claims.insert("verified_claims".into(), verified);
        }
        claims.insert("sub".into(), json!(user.id.to_string()));
        Ok(claims)
    }

    /// RFC 7662: any authenticated confidential client of the tenant may ask.
    pub async fn introspect(
        &self,
        issuer: &Issuer,
        authorization: Option<&str>,
        pairs: &[(String, String)],
    ) -> Result<Introspection, OAuthError> {
        let form = authorize::single_valued(pairs).map_err(OAuthError::invalid_request)?;
        let caller = self
            .authenticate_client(issuer, paths::INTROSPECTION, authorization, &form)
            .await?;
        if caller.metadata.is_public() {
            return Err(OAuthError::invalid_client());
        }
        let token = form
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        if let Some(record) = self.live_access_token(issuer, token).await? {
            let scope: Vec<&str> = record.scope.iter().map(String::as_str).collect();
            let mut details = Map::new();
            details.insert("scope".into(), json!(scope.join(" ")));
            details.insert("client_id".into(), json!(record.client_id.to_string()));
            details.insert(
                "sub".into(),
                json!(
                    record
                        .user_id
                        .map_or_else(|| record.client_id.to_string(), |u| u.to_string())
                ),
            );
            details.insert("token_type".into(), json!("Bearer"));
            details.insert("exp".into(), json!(record.expires_at.unix_timestamp()));
            details.insert("iat".into(), json!(record.issued_at.unix_timestamp()));
            details.insert("iss".into(), json!(issuer.url));
            details.insert("jti".into(), json!(record.jti.to_string()));
            return Ok(Introspection {
                active: true,
                details,
            });
        }
        // Refresh tokens are the client's own business: only it may ask about them.
        if let Some((token, grant)) = self
            .core
            .refresh_token_grant(issuer.tenant_id, token)
            .await?
            .filter(|(_, grant)| grant.client_id == caller.id)
        {
            let mut details = Map::new();
            if let Some(context) = &grant.context {
                let scope: Vec<&str> = context.scope.iter().map(String::as_str).collect();
                details.insert("scope".into(), json!(scope.join(" ")));
                details.insert("sub".into(), json!(context.user_id.to_string()));
            }
            details.insert("client_id".into(), json!(grant.client_id.to_string()));
            details.insert("token_type".into(), json!("refresh_token"));
            details.insert("exp".into(), json!(grant.expires_at.unix_timestamp()));
            details.insert("iat".into(), json!(token.created_at.unix_timestamp()));
            details.insert("iss".into(), json!(issuer.url));
            return Ok(Introspection {
                active: true,
                details,
            });
        }
        Ok(Introspection::default())
    }

    /// RFC 7009: revokes a token of the calling client; unknown tokens are not an error.
    pub async fn revoke(
        &self,
        issuer: &Issuer,
        authorization: Option<&str>,
        pairs: &[(String, String)],
    ) -> Result<(), OAuthError> {
        let form = authorize::single_valued(pairs).map_err(OAuthError::invalid_request)?;
        let client = self
            .authenticate_client(issuer, paths::REVOCATION, authorization, &form)
            .await?;
        let token = form
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        if let Some(hint) = form.get("token_type_hint")
            && !matches!(*hint, "access_token" | "refresh_token")
        {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token",
            ));
        }
        if let Some((_, grant)) = self
            .core
            .refresh_token_grant(issuer.tenant_id, token)
            .await?
        {
            if grant.client_id == client.id {
                self.core.revoke_grant(&grant, &Actor::System).await?;
            }
            return Ok(());
        }
        if let Some(record) = self.live_access_token(issuer, token).await?
            && record.client_id == client.id
        {
            self.core
                .revoke_access_token(issuer.tenant_id, record.jti)
                .await?;
        }
        Ok(())
    }
}
