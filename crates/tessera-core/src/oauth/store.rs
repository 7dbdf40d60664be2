//! The storage port of the OpenID Connect provider, a part of `Store`, in three parts:
//! `ClientStore`, `SessionStore` and `GrantStore`; `OAuthStore` is all three. Like the rest
//! of the store, each method is one unit of work: a change and its event commit together.

use super::client::Client;
use super::grant::{
    AccessTokenRecord, AuthorizationCode, CodeRedemption, Consent, Grant, PendingAuthorization,
    RefreshToken, Rotation,
};
use super::session::Session;
use super::signing_key::SigningKeyRecord;
use crate::event::Event;
use crate::ids::{ClientId, GrantId, SessionId, TenantId, UserId};
use crate::page::{Page, PageRequest};
use crate::password_hash::PasswordHash;
use crate::secret::SecretHash;
use crate::store::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

/// Relying parties and what the provider keeps about them: registered clients, the
/// installation's signing keys, users' consents, and spent client assertions.
#[async_trait]
pub trait ClientStore: Send + Sync {
    // Clients
    async fn insert_client(&self, client: &Client, event: &Event) -> StoreResult<()>;
    /// Replaces the client if its stored version is `expected_version` (else `VersionConflict`).
    async fn update_client(
        &self,
        client: &Client,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()>;
    async fn client_by_id(&self, tenant: TenantId, id: ClientId) -> StoreResult<Option<Client>>;
    async fn list_clients(&self, tenant: TenantId, page: PageRequest) -> StoreResult<Page<Client>>;
    /// Deletes the client and revokes (at `at`) every grant and access token it holds;
    /// false when there was no such client.
    async fn delete_client(
        &self,
        tenant: TenantId,
        id: ClientId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool>;

    // Signing keys (installation-wide: one JWKS serves every tenant)
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    /// Every stored key, oldest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Sets when the key stops being published; false when there is no such key.
    async fn retire_signing_key(&self, kid: &str, retires_at: OffsetDateTime) -> StoreResult<bool>;
    /// Removes keys whose retirement is before `before`; returns how many.
    async fn delete_retired_signing_keys(&self, before: OffsetDateTime) -> StoreResult<u64>;

    // Consents
    async fn consent(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
    ) -> StoreResult<Option<Consent>>;
    /// Stores the consent, replacing an earlier one of the same user and client.
    async fn put_consent(&self, consent: &Consent, event: &Event) -> StoreResult<()>;

    // Client assertions
    /// Records the digest of a client assertion's `jti` until `expires_at` (dropping
    /// records that expired before `now`); false when the client used it before.
    async fn remember_client_assertion(
        &self,
        tenant: TenantId,
        client: ClientId,
        jti_hash: &SecretHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
}

/// Browser sign-in state: sessions and the clients that received tokens in them, pending
/// authorization requests, and the credential and audit writes that go with signing in.
#[async_trait]
pub trait SessionStore: Send + Sync {
    // Sessions
    async fn insert_session(&self, session: &Session, event: &Event) -> StoreResult<()>;
    async fn session_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<Session>>;
    async fn session_by_id(&self, tenant: TenantId, id: SessionId) -> StoreResult<Option<Session>>;
    /// Records activity: `last_seen_at` and the new idle expiry.
    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Ends the session at `at`; false when it does not exist or had already ended.
    async fn end_session(
        &self,
        tenant: TenantId,
        id: SessionId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool>;
    /// Ends every active session of a user at `at`; returns how many.
    async fn end_user_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Remembers that `client` received tokens in the session (for back-channel logout).
    async fn add_session_client(&self, session: SessionId, client: ClientId) -> StoreResult<()>;
    async fn session_clients(&self, session: SessionId) -> StoreResult<Vec<ClientId>>;

    // Pending authorization requests
    async fn insert_pending_authorization(&self, pending: &PendingAuthorization)
    -> StoreResult<()>;
    async fn pending_authorization(
        &self,
        handle_hash: &SecretHash,
    ) -> StoreResult<Option<PendingAuthorization>>;
    /// Deletes the pending request; false when it was not there (used or never made).
    async fn delete_pending_authorization(&self, handle_hash: &SecretHash) -> StoreResult<bool>;

    // Credentials and the audit trail
    /// Replaces a user's password hash without a profile change (rehash on sign-in), only
    /// if it is still `previous`: a password changed meanwhile is never overwritten.
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        previous: &PasswordHash,
        hash: &PasswordHash,
    ) -> StoreResult<()>;
    /// Records an event that accompanies no change (e.g. a failed sign-in).
    async fn insert_event(&self, event: &Event) -> StoreResult<()>;
}

/// What an authorization yields: codes, grants with their refresh and access tokens, and
/// the purge of protocol state that can no longer be used.
#[async_trait]
pub trait GrantStore: Send + Sync {
    // Authorization codes
    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Marks the tenant's code consumed at `at` atomically: exactly one caller ever gets
    /// `Fresh`; a code of another tenant is `Unknown` and untouched.
    async fn redeem_authorization_code(
        &self,
        tenant: TenantId,
        code_hash: &SecretHash,
        at: OffsetDateTime,
    ) -> StoreResult<CodeRedemption>;

    // Grants and tokens
    /// Stores a new grant with its first access token record and, optionally, refresh token.
    /// `Duplicate { field: "grant" }` when the grant id exists (e.g. revoked by a code replay).
    async fn insert_grant(
        &self,
        grant: &Grant,
        refresh: Option<&RefreshToken>,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()>;
    async fn grant_by_id(&self, tenant: TenantId, id: GrantId) -> StoreResult<Option<Grant>>;
    /// Revokes the grant, its refresh tokens and its access tokens at `at`. When the grant
    /// does not exist yet, a revoked placeholder is stored so that it can never be created.
    async fn revoke_grant(
        &self,
        tenant: TenantId,
        client: ClientId,
        id: GrantId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<()>;
    /// Revokes every grant (and their tokens) of a user, optionally only those of one client.
    async fn revoke_user_grants(
        &self,
        tenant: TenantId,
        user: UserId,
        client: Option<ClientId>,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Atomically marks the refresh token used and stores `next` and `access` in its grant.
    /// A token already used gives `Reused` and stores nothing.
    async fn rotate_refresh_token(
        &self,
        token_hash: &SecretHash,
        at: OffsetDateTime,
        next: &RefreshToken,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<Rotation>;
    async fn refresh_token(
        &self,
        token_hash: &SecretHash,
    ) -> StoreResult<Option<(RefreshToken, Grant)>>;
    /// Stores an access token record that belongs to no refresh family (client credentials).
    async fn insert_access_token(
        &self,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()>;
    /// The record and, when it has one, its grant.
    async fn access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
    ) -> StoreResult<Option<(AccessTokenRecord, Option<Grant>)>>;
    /// Revokes one access token; false when there is no such token.
    async fn revoke_access_token(
        &self,
        tenant: TenantId,
        jti: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;

    // Maintenance
    /// Deletes protocol state that can no longer be used: pending requests and assertion
    /// records past their expiry, and codes, sessions, grants and tokens that expired (or
    /// ended, or were revoked) before `horizon`. Returns how many rows went.
    async fn purge_expired(&self, now: OffsetDateTime, horizon: OffsetDateTime)
    -> StoreResult<u64>;
}

/// The whole storage port of the OpenID Connect provider, a supertrait of `Store`. Every
/// type that implements the three parts implements it.
pub trait OAuthStore: ClientStore + SessionStore + GrantStore {}

impl<T: ClientStore + SessionStore + GrantStore + ?Sized> OAuthStore for T {}
