//! The storage port. `tessera-store` implements it for SQLite and PostgreSQL; the
//! conformance suite there runs the same cases against both.
//!
//! Every method is one unit of work: a method that changes data writes the change and its
//! event in one transaction, so callers never see half a change.

use crate::api_token::ApiToken;
use crate::attributes::AttributeSchema;
use crate::email::Email;
use crate::event::{Event, EventQuery};
use crate::ids::{ApiTokenId, TenantId, UserId};
pub use crate::oauth::store::{ClientStore, GrantStore, OAuthStore, SessionStore};
use crate::page::{Page, PageRequest};
use crate::secret::SecretHash;
use crate::tenant::{Domain, Tenant, TenantSlug};
use crate::user::{User, UserQuery};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken: `field` names it (`email`, `slug`, `domain`, `external_id`).
    #[error("duplicate {field}")]
    Duplicate { field: &'static str },
    /// The row's version is not the one the caller read: someone else changed it.
    #[error("the row was changed concurrently")]
    VersionConflict,
    /// The database refused a value (a character or size it cannot store); the input's fault.
    #[error("the database refused a value: {0}")]
    Rejected(String),
    /// The database cannot be reached, is busy beyond the retries, or is full.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(String),
    /// A stored value could not be turned back into a domain value.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Connection pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub connections: u32,
    pub idle: u32,
    pub max_connections: u32,
}

/// A user with the event that records its creation, for batched imports.
#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub user: User,
    pub event: Event,
}

pub use crate::group::GroupStore;
pub use crate::user_filter::UserFilterStore;

#[async_trait]
pub trait Store:
    OAuthStore
    + UserFilterStore
    + GroupStore
    + crate::signup::SignUpStore
    + crate::invitation::InvitationStore
    + crate::phone_verification::PhoneVerificationStore
    + crate::profiling::ProfilingStore
    + crate::identity_verification::IdentityVerificationStore
    + crate::lockout::LockoutStore
    + crate::mfa::MfaStore
    + crate::mfa::passkey::PasskeyStore
    + crate::bot::captcha::TenantSecretStore
    + crate::sign_in_history::SignInHistoryStore
    + crate::bot::pow::SpentChallenges
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
    /// `sqlite` or `postgres`, for logs and metrics labels.
    fn backend(&self) -> &'static str;
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    /// Bytes the database occupies on disk, for capacity planning and benchmarks.
    async fn storage_bytes(&self) -> StoreResult<u64>;

    // Tenants
    async fn insert_tenant(&self, tenant: &Tenant, event: &Event) -> StoreResult<()>;
    /// Replaces the tenant if its stored version is `expected_version`.
    async fn update_tenant(
        &self,
        tenant: &Tenant,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()>;
    async fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>>;
    async fn tenant_by_slug(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>>;
    async fn tenant_by_domain(&self, domain: &Domain) -> StoreResult<Option<Tenant>>;
    async fn list_tenants(&self, page: PageRequest) -> StoreResult<Page<Tenant>>;

    // Attribute schema
    /// The tenant's schema; empty when none was ever stored.
    async fn attribute_schema(&self, tenant: TenantId) -> StoreResult<AttributeSchema>;
    async fn put_attribute_schema(
        &self,
        tenant: TenantId,
        schema: &AttributeSchema,
        event: &Event,
    ) -> StoreResult<()>;

    // Users
    /// Inserts the user with its index rows (emails, external ids, attribute values).
    /// `attribute_index` is the searchable form of its attributes.
    async fn insert_user(
        &self,
        user: &User,
        attribute_index: &[(String, String)],
        events: &[Event],
    ) -> StoreResult<()>;
    /// Inserts many users in one transaction: all or none.
    async fn insert_users(
        &self,
        records: &[NewUserRecord],
        attribute_index: &[Vec<(String, String)>],
    ) -> StoreResult<()>;
    /// Replaces the user (and its index rows) if its stored version is `expected_version`,
    /// writing `events` in the same transaction.
    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        attribute_index: &[(String, String)],
        events: &[Event],
    ) -> StoreResult<()>;
    async fn user_by_id(&self, tenant: TenantId, id: UserId) -> StoreResult<Option<User>>;
    /// The user whose primary email is `email` (case-insensitively).
    async fn user_by_email(&self, tenant: TenantId, email: &Email) -> StoreResult<Option<User>>;
    async fn user_by_external_id(
        &self,
        tenant: TenantId,
        source: &str,
        value: &str,
    ) -> StoreResult<Option<User>>;
    async fn search_users(
        &self,
        tenant: TenantId,
        query: &UserQuery,
        page: PageRequest,
    ) -> StoreResult<Page<User>>;

    // API tokens
    async fn insert_api_token(&self, token: &ApiToken, event: &Event) -> StoreResult<()>;
    async fn api_token_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<ApiToken>>;
    async fn api_token_by_id(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
    ) -> StoreResult<Option<ApiToken>>;
    async fn list_api_tokens(
        &self,
        tenant: TenantId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiToken>>;
    /// Marks the token revoked at `at`; false when it does not exist or was already revoked.
    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
        at: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool>;

    // Events
    async fn list_events(
        &self,
        tenant: TenantId,
        query: &EventQuery,
        page: PageRequest,
    ) -> StoreResult<Page<Event>>;
}
