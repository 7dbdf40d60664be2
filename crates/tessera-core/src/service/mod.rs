//! The services: one method per use case, each taking its authorization proof, applying the
//! pure rules of the domain and making one unit of work in the store.

mod bot;
mod clients;
mod events;
mod filtered_users;
mod grants;
mod groups;
mod identity_verification;
mod invitations;
mod lockout;
mod mfa;
mod passkey;
mod phone_verification;
mod profiling;
mod risk;
mod short_cache;
mod sign_in;
mod signup;
mod tenants;
mod tokens;
mod user_edits;
mod users;

pub use clients::{CLIENT_SECRET_PREFIX, RegisteredClient};
pub use grants::{CODE_LIFETIME, IssuedTokens, NewAuthorizationCode};
pub use groups::NewGroup;
pub use identity_verification::{
    ProviderView, SessionState, StartedVerification, VerificationReturn, WebhookError,
};
pub use invitations::{Acceptance, NewInvitation};
pub use lockout::Attempt;
pub use mfa::{CHALLENGE_PREFIX, MfaStatus, OpenedChallenge, TotpEnrolment, UserSecurity};
pub use passkey::{CEREMONY_PREFIX as PASSKEY_CEREMONY_PREFIX, PasskeyOptions};
pub use profiling::{Collection, ProfileCollected};
pub use risk::RiskSources;
pub use sign_in::{PasswordSignIn, SESSION_PREFIX, SignInContext, StartedSession, personal_inputs};
pub use signup::{Proof, SignUpForm, SignUpPlace, SignedUp};
pub use tenants::{DomainChange, NewTenant, TenantPatch};
pub use tokens::{CreatedApiToken, NewApiToken};
pub use user_edits::UserReplacement;
pub use users::{NewUser, UserSearch};

use crate::clock::Clock;
use crate::error::CoreError;
use crate::ids::{ClientId, TenantId};
use crate::notify::{NoNotifier, Notifier};
use crate::oauth::client::Client;
use crate::password::{Argon2Params, PasswordHasher, PasswordPolicy, default_workers};
use crate::secret::SecretHash;
use crate::sms::{NoSmsSender, SmsSender};
use crate::store::{Store, StoreError};
use crate::tenant::Tenant;
use short_cache::ShortCache;
use std::sync::Arc;

/// How often a read-modify-write is retried when another writer got there first.
const EDIT_RETRIES: usize = 5;

/// Tessera's domain services, shared by every surface. Cloning is one reference count:
/// a clone is taken for every request.
#[derive(Debug, Clone)]
pub struct Core {
    parts: Arc<Parts>,
}

#[derive(Debug)]
struct Parts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    bootstrap_token: Option<SecretHash>,
    default_tenant: Tenant,
    passwords: PasswordHasher,
    password_policy: PasswordPolicy,
    tenants: ShortCache<tenants::TenantKey, Tenant>,
    clients: ShortCache<(TenantId, ClientId), Client>,
    /// Attribute schemas for reading (rendering and filters), by tenant.
    schemas: ShortCache<TenantId, crate::attributes::AttributeSchema>,
    /// Set once at wiring; [`NoNotifier`] until then.
    notifier: std::sync::OnceLock<Arc<dyn Notifier>>,
    /// Set once at wiring; [`NoSmsSender`] until then.
    sms_sender: std::sync::OnceLock<Arc<dyn SmsSender>>,
    /// Set once at wiring; [`crate::outbound::NoOutboundClient`] until then.
    outbound: std::sync::OnceLock<Arc<dyn crate::outbound::OutboundClient>>,
    /// The key that seals secrets at rest; set once at wiring.
    sealing: std::sync::OnceLock<Arc<crate::sealing::SealingKey>>,
    /// GeoIP and IP lists for the risk engine; set once at wiring (off until then).
    risk_sources: std::sync::OnceLock<Arc<risk::RiskSources>>,
    /// Builds the clients that check external captcha tokens; set once at wiring.
    captcha_verifiers: std::sync::OnceLock<Arc<dyn crate::bot::captcha::CaptchaVerifiers>>,
    /// Identity verification providers, by tenant (pages and discovery read them).
    identity_providers: ShortCache<TenantId, crate::identity_verification::IdentityProvider>,
}

impl Core {
    /// Wires the services and makes sure the default tenant exists.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        bootstrap_token: Option<SecretHash>,
    ) -> Result<Self, CoreError> {
        let passwords = PasswordHasher::start(Argon2Params::default(), default_workers(), 64)
            .map_err(|e| CoreError::Internal(StoreError::Database(e.to_string())))?;
        Self::with_passwords(
            store,
            clock,
            bootstrap_token,
            passwords,
            PasswordPolicy::default(),
        )
        .await
    }

    /// Like [`Core::start`], with a password hasher whose parameters, workers and queue come
    /// from settings.
    pub async fn with_passwords(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        bootstrap_token: Option<SecretHash>,
        passwords: PasswordHasher,
        password_policy: PasswordPolicy,
    ) -> Result<Self, CoreError> {
        let default_tenant = tenants::ensure_default_tenant(store.as_ref(), clock.as_ref()).await?;
        Ok(Self {
            parts: Arc::new(Parts {
                store,
                clock,
                bootstrap_token,
                default_tenant,
                passwords,
                password_policy,
                tenants: ShortCache::default(),
                clients: ShortCache::default(),
                schemas: ShortCache::default(),
                notifier: std::sync::OnceLock::new(),
                sms_sender: std::sync::OnceLock::new(),
                outbound: std::sync::OnceLock::new(),
                sealing: std::sync::OnceLock::new(),
                risk_sources: std::sync::OnceLock::new(),
                captcha_verifiers: std::sync::OnceLock::new(),
                identity_providers: ShortCache::default(),
            }),
        })
    }

    /// Sets how notices reach people (once, at wiring); false if one was set already.
    pub fn set_notifier(&self, notifier: Arc<dyn Notifier>) -> bool {
        self.parts.notifier.set(notifier).is_ok()
    }

    /// The notifier, or one that refuses every notice when none was set.
    pub fn notifier(&self) -> &dyn Notifier {
        match self.parts.notifier.get() {
            Some(notifier) => notifier.as_ref(),
            None => &NoNotifier,
        }
    }

    /// Sets how text messages reach phones (once, at wiring); false if one was set already.
    pub fn set_sms_sender(&self, sender: Arc<dyn SmsSender>) -> bool {
        self.parts.sms_sender.set(sender).is_ok()
    }

    /// The SMS sender, or one that refuses every message when none was set.
    pub fn sms_sender(&self) -> &dyn SmsSender {
        match self.parts.sms_sender.get() {
            Some(sender) => sender.as_ref(),
            None => &NoSmsSender,
        }
    }

    /// Sets how the services call other systems over HTTP (once, at wiring); false if one
    /// was set already.
    pub fn set_outbound_client(&self, client: Arc<dyn crate::outbound::OutboundClient>) -> bool {
        self.parts.outbound.set(client).is_ok()
    }

    /// The outbound client, or one that refuses every request when none was set.
    pub fn outbound_client(&self) -> &dyn crate::outbound::OutboundClient {
        match self.parts.outbound.get() {
            Some(client) => client.as_ref(),
            None => &crate::outbound::NoOutboundClient,
        }
    }

    /// Sets the key that seals secrets at rest (once, at wiring); false if one was set.
    pub fn set_sealing_key(&self, key: Arc<crate::sealing::SealingKey>) -> bool {
        self.parts.sealing.set(key).is_ok()
    }

    /// The sealing key; an internal error when the services were wired without one.
    fn sealing_key(&self) -> Result<&crate::sealing::SealingKey, CoreError> {
        self.parts.sealing.get().map(AsRef::as_ref).ok_or_else(|| {
            CoreError::Internal(StoreError::Database(
                "no sealing key was configured".to_owned(),
            ))
        })
    }

    /// Figures of the password hashing pool, for `/metrics`.
    pub fn password_metrics(&self) -> crate::password::HasherMetrics {
        self.parts.passwords.metrics()
    }

    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.parts.password_policy
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.parts.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.parts.clock
    }

    pub fn default_tenant(&self) -> &Tenant {
        &self.parts.default_tenant
    }

    /// Is the database reachable?
    pub async fn ready(&self) -> Result<(), CoreError> {
        self.parts.store.ping().await.map_err(CoreError::from)
    }
}

/// Runs `attempt` again while it ends in an edit conflict, a bounded number of times.
async fn retry_on_conflict<T, F, Fut>(mut attempt: F) -> Result<T, CoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CoreError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(CoreError::EditConflict) if tries < EDIT_RETRIES => tries += 1,
            other => return other,
        }
    }
}
