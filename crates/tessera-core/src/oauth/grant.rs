//! What an authorization gives a client: pending authorization requests, authorization
//! codes, grants (token families), refresh tokens, access token records and consents.
//!
//! Codes, refresh tokens and request handles are random secrets stored as digests.
//! Access tokens are signed JWTs; their records (by `jti`) let introspection and
//! revocation answer truthfully.

use super::session::Authentication;
use crate::ids::{ClientId, GrantId, SessionId, TenantId, UserId};
use crate::secret::SecretHash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;
use uuid::Uuid;

/// A validated authorization request waiting for the user (sign-in, consent) or pushed by
/// the client (RFC 9126). Its parameters are the protocol layer's business.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingAuthorization {
    pub handle_hash: SecretHash,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    pub parameters: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// The parts of an authorization that tokens are later made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationContext {
    pub user_id: UserId,
    pub session_id: Option<SessionId>,
    pub scope: BTreeSet<String>,
    pub authentication: Authentication,
    /// The `claims` request parameter, kept for the ID tokens and userinfo it shapes.
    #[serde(default)]
    pub claims: Option<serde_json::Value>,
    /// The attributes the client needed when this grant was made (progressive profiling):
    /// released whatever the scopes, and only these, even when the client's needs grow
    /// later (then a new authorization, with consent, is needed).
    #[serde(default)]
    pub needs: BTreeSet<String>,
}

/// An authorization code: single use, short-lived, bound to client, redirect URI and PKCE.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationCode {
    pub code_hash: SecretHash,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    /// The grant the code turns into; fixed in advance so that a replay can revoke it.
    pub grant_id: GrantId,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub context: AuthorizationContext,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

/// What one authorization gave one client; refresh tokens rotate within it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub id: GrantId,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    /// `None` for `client_credentials` grants, which act for the client itself.
    pub context: Option<AuthorizationContext>,
    pub created_at: OffsetDateTime,
    /// Absolute end of the family: rotation never extends it.
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Grant {
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.context.as_ref().map(|context| context.user_id)
    }
}

/// One refresh token of a grant. Using it marks it used; using it again is reuse.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub token_hash: SecretHash,
    pub grant_id: GrantId,
    pub tenant_id: TenantId,
    pub created_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// The durable record of an issued access token (a JWT), by its `jti`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenRecord {
    pub jti: Uuid,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    pub grant_id: Option<GrantId>,
    pub user_id: Option<UserId>,
    pub scope: BTreeSet<String>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq)]
pub enum Rotation {
    /// The token was current: it is now used, and the new one is stored.
    Rotated(Grant),
    /// The token had been used before: a sign of theft. Nothing was stored.
    Reused(Grant),
    /// No such token.
    Unknown,
}

/// The outcome of presenting an authorization code.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRedemption {
    /// First use: the code is now consumed.
    Fresh(AuthorizationCode),
    /// The code had been used before.
    Replayed(AuthorizationCode),
    Unknown,
}

/// A user's consent to a client's scopes.
#[derive(Debug, Clone, PartialEq)]
pub struct Consent {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub client_id: ClientId,
    pub scope: BTreeSet<String>,
    pub granted_at: OffsetDateTime,
}

/// How a consent records an attribute a client needs, beside its scopes.
pub const CONSENTED_ATTRIBUTE_PREFIX: &str = "attribute:";

impl Consent {
    pub fn covers(&self, scope: &BTreeSet<String>) -> bool {
        scope.is_subset(&self.scope)
    }
}

/// What a user consents to for a client: the requested scopes and, recorded as
/// `attribute:<name>`, the attributes the client needs, so that a client whose needs grow
/// asks for consent again before it receives more.
pub fn consent_items(scope: &BTreeSet<String>, needs: &BTreeSet<String>) -> BTreeSet<String> {
    let mut items = scope.clone();
    items.extend(
        needs
            .iter()
            .map(|need| format!("{CONSENTED_ATTRIBUTE_PREFIX}{need}")),
    );
    items
}
