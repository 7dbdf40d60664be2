//! API token use cases: authenticate a bearer token, create, list and revoke tokens.

use super::Core;
use crate::api_token::{ApiToken, Scope, TOKEN_PREFIX};
use crate::auth::{Authorized, Principal};
use crate::error::CoreError;
use crate::event::{Actor, Event, kinds};
use crate::ids::ApiTokenId;
use crate::page::{Page, PageRequest};
use crate::secret::{SecretHash, generate_secret};
use secrecy::SecretString;
use serde_json::json;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// Input of token creation.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    pub expires_at: Option<OffsetDateTime>,
}

/// A new token and its secret, which is shown this once and never stored.
#[derive(Debug)]
pub struct CreatedApiToken {
    pub token: ApiToken,
    pub secret: SecretString,
}

fn subject(id: ApiTokenId) -> String {
    format!("api_token:{id}")
}

impl Core {
    /// Who holds this bearer token? Unknown, expired and revoked tokens are all simply
    /// `Unauthenticated`, so the answer tells an attacker nothing.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, CoreError> {
        let presented = SecretHash::of_str(bearer);
        if let Some(bootstrap) = &self.parts.bootstrap_token
            && bootstrap.matches(&presented)
        {
            return Ok(Principal {
                actor: Actor::Bootstrap,
                tenant_id: self.parts.default_tenant.id,
                from_default_tenant: true,
                scopes: BTreeSet::from([Scope::Admin]),
            });
        }
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(CoreError::Unauthenticated);
        }
        match self.parts.store.api_token_by_hash(&presented).await? {
            Some(token) if token.is_usable(self.parts.clock.now()) => Ok(Principal {
                actor: Actor::ApiToken(token.id),
                tenant_id: token.tenant_id,
                from_default_tenant: token.tenant_id == self.parts.default_tenant.id,
                scopes: token.scopes,
            }),
            _ => Err(CoreError::Unauthenticated),
        }
    }

    pub async fn create_api_token(
        &self,
        auth: &Authorized,
        new: NewApiToken,
    ) -> Result<CreatedApiToken, CoreError> {
        let name = new.name.trim().to_owned();
        if !(1..=100).contains(&name.chars().count()) || name.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "name",
                "1 to 100 characters, no control characters",
            ));
        }
        if new.scopes.is_empty() {
            return Err(CoreError::invalid("scopes", "at least one scope"));
        }
        let now = self.parts.clock.now();
        // Stored in UTC to the microsecond, so the answer equals what a later read shows.
        let expires_at = new
            .expires_at
            .map(|at| crate::clock::truncate_to_micros(at.to_offset(time::UtcOffset::UTC)));
        if expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(CoreError::invalid("expires_at", "must be in the future"));
        }
        let secret = generate_secret(TOKEN_PREFIX);
        let token = ApiToken {
            id: ApiTokenId::new_at(now),
            tenant_id: auth.tenant_id(),
            name,
            scopes: new.scopes,
            secret_hash: SecretHash::of(&secret),
            created_by: auth.actor().clone(),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        let scopes: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
        let event = Event::new(
            token.tenant_id,
            now,
            auth.actor(),
            kinds::API_TOKEN_CREATED,
            subject(token.id),
            json!({"scopes": scopes}),
        );
        self.parts.store.insert_api_token(&token, &event).await?;
        Ok(CreatedApiToken { token, secret })
    }

    pub async fn list_api_tokens(
        &self,
        auth: &Authorized,
        page: PageRequest,
    ) -> Result<Page<ApiToken>, CoreError> {
        Ok(self
            .parts
            .store
            .list_api_tokens(auth.tenant_id(), page)
            .await?)
    }

    pub async fn get_api_token(
        &self,
        auth: &Authorized,
        id: ApiTokenId,
    ) -> Result<ApiToken, CoreError> {
        self.parts
            .store
            .api_token_by_id(auth.tenant_id(), id)
            .await?
            .ok_or(CoreError::NotFound("api token"))
    }

    /// Revokes the token; revoking a revoked token is not an error.
    pub async fn revoke_api_token(
        &self,
        auth: &Authorized,
        id: ApiTokenId,
    ) -> Result<ApiToken, CoreError> {
        let token = self.get_api_token(auth, id).await?;
        if token.revoked_at.is_some() {
            return Ok(token);
        }
        let now = self.parts.clock.now();
        let event = Event::new(
            auth.tenant_id(),
            now,
            auth.actor(),
            kinds::API_TOKEN_REVOKED,
            subject(id),
            json!({}),
        );
        self.parts
            .store
            .revoke_api_token(auth.tenant_id(), id, now, &event)
            .await?;
        self.get_api_token(auth, id).await
    }
}
