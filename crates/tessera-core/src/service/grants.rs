//! Authorization state use cases for the provider: pending requests, codes, grants and
//! their tokens, consents. The protocol checks live in `tessera-oidc`; here are the state
//! changes and their events, including the revocations that theft signals call for.

use super::Core;
use crate::error::CoreError;
use crate::event::{Actor, Event, kinds};
use crate::ids::{ClientId, GrantId, TenantId, UserId};
use crate::oauth::client::Client;
use crate::oauth::grant::{
    AccessTokenRecord, AuthorizationCode, AuthorizationContext, CodeRedemption, Consent, Grant,
    PendingAuthorization, RefreshToken, Rotation,
};
use crate::secret::{SecretHash, generate_secret};
use secrecy::SecretString;
use serde_json::json;
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const CODE_PREFIX: &str = "tac";
pub const REFRESH_PREFIX: &str = "trt";
pub const PENDING_PREFIX: &str = "tar";

/// Authorization codes live at most a minute (SECURITY.md).
pub const CODE_LIFETIME: Duration = Duration::seconds(60);

/// What the provider asks to be issued for an authorization code.
#[derive(Debug, Clone)]
pub struct NewAuthorizationCode {
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub context: AuthorizationContext,
}

/// Tokens issued for a grant: the refresh token's value is returned once.
#[derive(Debug)]
pub struct IssuedTokens {
    pub grant: Grant,
    pub access: AccessTokenRecord,
    pub refresh_token: Option<SecretString>,
}

fn grant_subject(id: GrantId) -> String {
    format!("grant:{id}")
}

fn access_record(
    grant: &Grant,
    user_id: Option<UserId>,
    scope: BTreeSet<String>,
    now: OffsetDateTime,
    lifetime: Duration,
) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: crate::ids::uuid_v7_at(now),
        tenant_id: grant.tenant_id,
        client_id: grant.client_id,
        grant_id: Some(grant.id),
        user_id,
        scope,
        issued_at: now,
        expires_at: now + lifetime,
        revoked_at: None,
    }
}

impl Core {
    /// Keeps a validated authorization request while the user signs in; returns its handle.
    pub async fn save_pending_authorization(
        &self,
        tenant: TenantId,
        client: ClientId,
        parameters: serde_json::Value,
        lifetime: Duration,
    ) -> Result<SecretString, CoreError> {
        let now = self.parts.clock.now();
        let handle = generate_secret(PENDING_PREFIX);
        let pending = PendingAuthorization {
            handle_hash: SecretHash::of(&handle),
            tenant_id: tenant,
            client_id: client,
            parameters,
            created_at: now,
            expires_at: now + lifetime,
        };
        self.parts
            .store
            .insert_pending_authorization(&pending)
            .await?;
        Ok(handle)
    }

    /// The pending request a handle names in this tenant, unless it expired.
    pub async fn pending_authorization(
        &self,
        tenant: TenantId,
        handle: &str,
    ) -> Result<Option<PendingAuthorization>, CoreError> {
        let hash = SecretHash::of_str(handle);
        let pending = self.parts.store.pending_authorization(&hash).await?;
        let now = self.parts.clock.now();
        Ok(pending.filter(|p| p.tenant_id == tenant && now < p.expires_at))
    }

    /// Removes a pending request; false when another request used it first.
    pub async fn finish_pending_authorization(&self, handle: &str) -> Result<bool, CoreError> {
        let hash = SecretHash::of_str(handle);
        Ok(self.parts.store.delete_pending_authorization(&hash).await?)
    }

    /// Issues a code and remembers the client in the session for back-channel logout.
    pub async fn issue_authorization_code(
        &self,
        new: NewAuthorizationCode,
    ) -> Result<SecretString, CoreError> {
        let now = self.parts.clock.now();
        let code = generate_secret(CODE_PREFIX);
        let session = new.context.session_id;
        let record = AuthorizationCode {
            code_hash: SecretHash::of(&code),
            tenant_id: new.tenant_id,
            client_id: new.client_id,
            grant_id: GrantId::new_at(now),
            redirect_uri: new.redirect_uri,
            nonce: new.nonce,
            code_challenge: new.code_challenge,
            context: new.context,
            created_at: now,
            expires_at: now + CODE_LIFETIME,
            consumed_at: None,
        };
        self.parts.store.insert_authorization_code(&record).await?;
        if let Some(session) = session {
            self.parts
                .store
                .add_session_client(session, new.client_id)
                .await?;
        }
        Ok(code)
    }

    /// Consumes a code. A replayed code revokes the grant its first use created (A13).
    pub async fn redeem_authorization_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<AuthorizationCode>, CoreError> {
        let now = self.parts.clock.now();
        match self
            .parts
            .store
            .redeem_authorization_code(tenant, &SecretHash::of_str(code), now)
            .await?
        {
            CodeRedemption::Fresh(code) if code.tenant_id == tenant => Ok(Some(code)),
            CodeRedemption::Replayed(code) if code.tenant_id == tenant => {
                let event = Event::new(
                    tenant,
                    now,
                    &Actor::System,
                    kinds::AUTHORIZATION_CODE_REPLAYED,
                    grant_subject(code.grant_id),
                    json!({"client_id": code.client_id.to_string()}),
                );
                self.parts
                    .store
                    .revoke_grant(tenant, code.client_id, code.grant_id, now, &event)
                    .await?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Creates the grant of a redeemed code with its first tokens.
    pub async fn create_code_grant(
        &self,
        client: &Client,
        code: &AuthorizationCode,
        with_refresh: bool,
    ) -> Result<IssuedTokens, CoreError> {
        let now = self.parts.clock.now();
        let lifetimes = client.metadata.lifetimes;
        let grant = Grant {
            id: code.grant_id,
            tenant_id: code.tenant_id,
            client_id: client.id,
            context: Some(code.context.clone()),
            created_at: now,
            expires_at: now + Duration::seconds(lifetimes.refresh_token.into()),
            revoked_at: None,
        };
        let access = access_record(
            &grant,
            Some(code.context.user_id),
            code.context.scope.clone(),
            now,
            Duration::seconds(lifetimes.access_token.into()),
        );
        let refresh_token = with_refresh.then(|| generate_secret(REFRESH_PREFIX));
        let refresh = refresh_token.as_ref().map(|token| RefreshToken {
            token_hash: SecretHash::of(token),
            grant_id: grant.id,
            tenant_id: grant.tenant_id,
            created_at: now,
            used_at: None,
        });
        let event = Event::new(
            grant.tenant_id,
            now,
            &Actor::User(code.context.user_id),
            kinds::TOKEN_ISSUED,
            grant_subject(grant.id),
            json!({
                "client_id": client.id.to_string(),
                "grant_type": "authorization_code",
                "refresh_token": with_refresh,
            }),
        );
        match self
            .parts
            .store
            .insert_grant(&grant, refresh.as_ref(), &access, &event)
            .await
        {
            Ok(()) => Ok(IssuedTokens {
                grant,
                access,
                refresh_token,
            }),
            // The grant was revoked by a replay of its code before it existed.
            Err(crate::store::StoreError::Duplicate { .. }) => Err(CoreError::InvalidCredentials),
            Err(other) => Err(other.into()),
        }
    }

    /// Issues a token for a client acting on its own behalf.
    pub async fn issue_client_credentials(
        &self,
        client: &Client,
        scope: BTreeSet<String>,
    ) -> Result<AccessTokenRecord, CoreError> {
        let now = self.parts.clock.now();
        let lifetime = Duration::seconds(client.metadata.lifetimes.access_token.into());
        let access = AccessTokenRecord {
            jti: crate::ids::uuid_v7_at(now),
            tenant_id: client.tenant_id,
            client_id: client.id,
            grant_id: None,
            user_id: None,
            scope,
            issued_at: now,
            expires_at: now + lifetime,
            revoked_at: None,
        };
        let event = Event::new(
            client.tenant_id,
            now,
            &Actor::System,
            kinds::TOKEN_ISSUED,
            format!("client:{}", client.id),
            json!({"grant_type": "client_credentials", "jti": access.jti.to_string()}),
        );
        self.parts
            .store
            .insert_access_token(&access, &event)
            .await?;
        Ok(access)
    }

    /// Rotates a refresh token of `client`. Reuse revokes the whole family (A30); a token
    /// of another client is refused without touching it (A32). `None` means `invalid_grant`.
    pub async fn rotate_refresh_token(
        &self,
        client: &Client,
        presented: &str,
        scope: Option<BTreeSet<String>>,
    ) -> Result<Option<(IssuedTokens, Grant)>, CoreError> {
        let hash = SecretHash::of_str(presented);
        let now = self.parts.clock.now();
        let Some((_, grant)) = self.parts.store.refresh_token(&hash).await? else {
            return Ok(None);
        };
        if grant.client_id != client.id || grant.tenant_id != client.tenant_id {
            return Ok(None);
        }
        if !grant.is_active(now) {
            return Ok(None);
        }
        let Some(context) = grant.context.clone() else {
            return Ok(None);
        };
        // A narrower scope may be asked for; never a wider one (RFC 6749 §6).
        let scope = match scope {
            Some(asked) if asked.is_subset(&context.scope) => asked,
            Some(_) => return Ok(None),
            None => context.scope.clone(),
        };
        let next_token = generate_secret(REFRESH_PREFIX);
        let next = RefreshToken {
            token_hash: SecretHash::of(&next_token),
            grant_id: grant.id,
            tenant_id: grant.tenant_id,
            created_at: now,
            used_at: None,
        };
        let lifetime = Duration::seconds(client.metadata.lifetimes.access_token.into());
        let access = access_record(&grant, Some(context.user_id), scope, now, lifetime);
        let event = Event::new(
            grant.tenant_id,
            now,
            &Actor::User(context.user_id),
            kinds::TOKEN_REFRESHED,
            grant_subject(grant.id),
            json!({"client_id": client.id.to_string()}),
        );
        match self
            .parts
            .store
            .rotate_refresh_token(&hash, now, &next, &access, &event)
            .await?
        {
            // Revoked between our read and the rotation: issue nothing.
            Rotation::Rotated(grant) if !grant.is_active(now) => Ok(None),
            Rotation::Rotated(grant) => Ok(Some((
                IssuedTokens {
                    grant: grant.clone(),
                    access,
                    refresh_token: Some(next_token),
                },
                grant,
            ))),
            Rotation::Reused(grant) => {
                let event = Event::new(
                    grant.tenant_id,
                    now,
                    &Actor::System,
                    kinds::REFRESH_TOKEN_REUSED,
                    grant_subject(grant.id),
                    json!({"client_id": client.id.to_string()}),
                );
                self.parts
                    .store
                    .revoke_grant(grant.tenant_id, grant.client_id, grant.id, now, &event)
                    .await?;
                Ok(None)
            }
            Rotation::Unknown => Ok(None),
        }
    }

    /// The grant a refresh token belongs to, if the token is current and the grant active.
    pub async fn refresh_token_grant(
        &self,
        tenant: TenantId,
        presented: &str,
    ) -> Result<Option<(RefreshToken, Grant)>, CoreError> {
        let now = self.parts.clock.now();
        let found = self
            .parts
            .store
            .refresh_token(&SecretHash::of_str(presented))
            .await?;
        Ok(found.filter(|(token, grant)| {
            grant.tenant_id == tenant && token.used_at.is_none() && grant.is_active(now)
        }))
    }

    /// Whether an access token (by `jti`) is still good: not revoked, not expired, and its
    /// grant (if any) active.
    pub async fn access_token_record(
        &self,
        tenant: TenantId,
        jti: Uuid,
    ) -> Result<Option<AccessTokenRecord>, CoreError> {
        let now = self.parts.clock.now();
        let found = self.parts.store.access_token(tenant, jti).await?;
        Ok(found.and_then(|(record, grant)| {
            let live = record.revoked_at.is_none()
                && now < record.expires_at
                && grant.as_ref().is_none_or(|g| g.is_active(now));
            live.then_some(record)
        }))
    }

    /// Revokes a grant (RFC 7009 revocation of a refresh token revokes its family).
    pub async fn revoke_grant(&self, grant: &Grant, actor: &Actor) -> Result<(), CoreError> {
        let now = self.parts.clock.now();
        let event = Event::new(
            grant.tenant_id,
            now,
            actor,
            kinds::GRANT_REVOKED,
            grant_subject(grant.id),
            json!({"client_id": grant.client_id.to_string()}),
        );
        Ok(self
            .parts
            .store
            .revoke_grant(grant.tenant_id, grant.client_id, grant.id, now, &event)
            .await?)
    }

    pub async fn revoke_access_token(&self, tenant: TenantId, jti: Uuid) -> Result<(), CoreError> {
        let now = self.parts.clock.now();
        self.parts
            .store
            .revoke_access_token(tenant, jti, now)
            .await?;
        Ok(())
    }

    /// Deletes protocol state nobody can use any more. Codes, sessions, grants and tokens
    /// are kept a day past their end, so that a late replay is still recognised as one.
    pub async fn purge_expired_state(&self) -> Result<u64, CoreError> {
        let now = self.parts.clock.now();
        Ok(self
            .parts
            .store
            .purge_expired(now, now - Duration::days(1))
            .await?)
    }

    pub async fn consent(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
    ) -> Result<Option<Consent>, CoreError> {
        Ok(self.parts.store.consent(tenant, user, client).await?)
    }

    /// Records consent to `scope`, adding to what was consented before.
    pub async fn grant_consent(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
        scope: BTreeSet<String>,
    ) -> Result<(), CoreError> {
        let now = self.parts.clock.now();
        let mut all = self
            .parts
            .store
            .consent(tenant, user, client)
            .await?
            .map(|c| c.scope)
            .unwrap_or_default();
        all.extend(scope);
        let consent = Consent {
            tenant_id: tenant,
            user_id: user,
            client_id: client,
            scope: all,
            granted_at: now,
        };
        let scopes: Vec<&String> = consent.scope.iter().collect();
        let event = Event::new(
            tenant,
            now,
            &Actor::User(user),
            kinds::CONSENT_GRANTED,
            format!("user:{user}"),
            json!({"client_id": client.to_string(), "scope": scopes}),
        );
        Ok(self.parts.store.put_consent(&consent, &event).await?)
    }
}
