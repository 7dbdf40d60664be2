//! The tokens we sign: ID tokens (OpenID Connect Core §2), access tokens (RFC 9068) and
//! logout tokens (Back-Channel Logout §2.4).

use super::{Issuer, Provider};
use crate::claims::{Destination, user_claims, verified_claims, wants_verified_claims};
use crate::error::OAuthError;
use serde_json::{Map, Value, json};
use tessera_core::oauth::client::{Client, SigningAlgorithm};
use tessera_core::oauth::grant::{AccessTokenRecord, AuthorizationContext};
use tessera_core::user::User;
use time::Duration;

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

impl Provider {
    pub(super) fn sign(
        &self,
        algorithm: SigningAlgorithm,
        typ: &str,
        claims: &Value,
    ) -> Result<String, OAuthError> {
        let key = self.keys.signer(algorithm).ok_or_else(|| {
            tracing::error!(algorithm = algorithm.as_str(), "no signing key");
            OAuthError::server_error()
        })?;
        key.sign(typ, claims).map_err(|error| {
            tracing::error!(%error, "signing failed");
            OAuthError::server_error()
        })
    }

    /// An access token JWT for its durable record.
    pub(super) fn access_token(
        &self,
        issuer: &Issuer,
        client: &Client,
        record: &AccessTokenRecord,
        context: Option<&AuthorizationContext>,
        audience: Option<&str>,
    ) -> Result<String, OAuthError> {
        let scope: Vec<&str> = record.scope.iter().map(String::as_str).collect();
        let client_id = client.client_id();
        let mut claims = json!({
            "iss": issuer.url,
            "sub": record.user_id.map_or_else(|| client_id.clone(), |id| id.to_string()),
            "aud": audience.unwrap_or(&issuer.url),
            "client_id": client_id,
            "iat": record.issued_at.unix_timestamp(),
            "exp": record.expires_at.unix_timestamp(),
            "jti": record.jti.to_string(),
            "scope": scope.join(" "),
        });
        if let (Some(context), Some(map)) = (context, claims.as_object_mut()) {
            if let Some(at) = context.authentication.at {
                map.insert("auth_time".into(), json!(at.unix_timestamp()));
            }
            map.insert("acr".into(), json!(context.authentication.acr));
            map.insert("amr".into(), json!(context.authentication.methods));
            if let Some(session) = context.session_id {
                map.insert("sid".into(), json!(session.to_string()));
            }
        }
        self.sign(
            self.settings.access_token_algorithm,
            ACCESS_TOKEN_TYPE,
            &claims,
        )
    }

    /// The `verified_claims` `destination` gets for the user (see
    /// [`crate::claims::verified_claims`]); the user's verification is read only when the
    /// client requires one or the request's `claims` parameter asks for it. A client that
    /// requires a level gets the newest verification at that level, others the newest.
    pub(super) async fn verified_claims_for(
        &self,
        issuer: &Issuer,
        client: &Client,
        user: &User,
        scope: &std::collections::BTreeSet<String>,
        requested: Option<&Value>,
        destination: Destination,
    ) -> Result<Option<Value>, OAuthError> {
        if !wants_verified_claims(&client.metadata, requested, destination) {
            return Ok(None);
        }
        let min_level = client
            .metadata
            .required_verification
            .unwrap_or(tessera_core::identity_verification::AssuranceLevel::Low);
        let stored = self
            .core
            .released_verified_claims(issuer.tenant_id, user.id, min_level)
            .await?;
        Ok(stored.and_then(|stored| {
            verified_claims(&stored, scope, requested, &client.metadata, destination)
        }))
    }

    /// An ID token for the client, signed with its registered algorithm; `verified` is its
    /// `verified_claims`, if any.
    pub(super) fn id_token(
        &self,
        issuer: &Issuer,
        client: &Client,
        user: &User,
        context: &AuthorizationContext,
        nonce: Option<&str>,
        verified: Option<Value>,
    ) -> Result<String, OAuthError> {
        let now = self.core.clock().now();
        let lifetime = Duration::seconds(client.metadata.lifetimes.id_token.into());
        let client_id = client.client_id();
        let mut claims: Map<String, Value> = user_claims(
            user,
            &context.scope,
            context.claims.as_ref(),
            &client.metadata,
            &context.needs,
            Destination::IdToken,
        );
        if let Some(verified) = verified {
            claims.insert("verified_claims".to_owned(), verified);
        }
        let mut put = |name: &str, value: Value| {
            claims.insert(name.to_owned(), value);
        };
        put("iss", json!(issuer.url));
        put("sub", json!(user.id.to_string()));
        put("aud", json!(client_id));
        put("azp", json!(client_id));
        put("iat", json!(now.unix_timestamp()));
        put("exp", json!((now + lifetime).unix_timestamp()));
        if let Some(at) = context.authentication.at {
            put("auth_time", json!(at.unix_timestamp()));
        }
        put("acr", json!(context.authentication.acr));
        put("amr", json!(context.authentication.methods));
        if let Some(session) = context.session_id {
            put("sid", json!(session.to_string()));
        }
        if let Some(nonce) = nonce {
            put("nonce", json!(nonce));
        }
        self.sign(
            client.metadata.id_token_signed_response_alg,
            "JWT",
            &Value::Object(claims),
        )
    }
}
