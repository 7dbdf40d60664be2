//! The provider: the protocol flows over the core services and the key ring. Each public
//! method is one endpoint's work; the web layer only translates HTTP in and out.

mod authorization;
mod backchannel;
mod logout;
mod resources;
mod token;
mod tokens;

pub use authorization::{
    AuthorizationResponse, AuthorizeStep, PendingRequest, REQUEST_URI_PREFIX, consent_scopes,
};
pub use backchannel::{LOGOUT_EVENT, LOGOUT_TOKEN_TYPE, LogoutNotice};
pub use logout::{LogoutDecision, LogoutRequest};
pub use resources::{Introspection, UserinfoError};
pub use token::TokenResponse;

use crate::client_auth;
use crate::error::OAuthError;
use crate::keys::KeyRing;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tessera_core::Core;
use tessera_core::ids::TenantId;
use tessera_core::oauth::client::Client;
use tessera_core::oauth::client::SigningAlgorithm;
use time::Duration;

/// Provider-wide settings.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// Algorithm of access tokens (RFC 9068); ES256 unless configured otherwise.
    pub access_token_algorithm: SigningAlgorithm,
    /// How long a user may take to sign in before the request must start again.
    pub pending_lifetime: Duration,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            access_token_algorithm: SigningAlgorithm::Es256,
            pending_lifetime: Duration::minutes(30),
        }
    }
}

/// The issuer and tenant a request is for.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub tenant_id: TenantId,
    /// The issuer identifier, e.g. `https://id.example.com` or `…/t/brand`.
    pub url: String,
}

/// The OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct Provider {
    core: Core,
    keys: KeyRing,
    settings: ProviderSettings,
    /// Serialised discovery documents by issuer URL; they never change while running.
    discovery: Arc<Mutex<HashMap<String, Bytes>>>,
}

/// Most discovery documents kept (one per issuer: tenants × their domains).
const DISCOVERY_CACHE: usize = 1024;

impl Provider {
    pub fn new(core: Core, keys: KeyRing, settings: ProviderSettings) -> Self {
        Self {
            core,
            keys,
            settings,
            discovery: Arc::default(),
        }
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    /// Authenticates the calling client by the method it registered; an assertion's `jti`
    /// is recorded so that it cannot be used twice.
    pub(crate) async fn authenticate_client(
        &self,
        issuer: &Issuer,
        endpoint: &str,
        authorization: Option<&str>,
        form: &std::collections::HashMap<&str, &str>,
    ) -> Result<Client, OAuthError> {
        let presented = client_auth::presented(authorization, form)?;
        let client = self
            .core
            .protocol_client(issuer.tenant_id, presented.client_id())
            .await?;
        let endpoint_url = format!("{}{endpoint}", issuer.url);
        let audiences = [issuer.url.as_str(), endpoint_url.as_str()];
        let now = self.core.clock().now();
        let used = client_auth::authenticate(client.as_ref(), &presented, &audiences, now)?;
        let client = client.ok_or_else(OAuthError::invalid_client)?;
        if let Some(used) = used
            && !self
                .core
                // Kept past `exp` by the leeway its verification allows.
                .remember_client_assertion(
                    &client,
                    &used.jti,
                    used.expires_at + crate::jose::MAX_LEEWAY,
                )
                .await?
        {
            return Err(OAuthError::new(
                crate::error::ErrorCode::InvalidClient,
                "the client assertion was used before",
            ));
        }
        Ok(client)
    }

    /// The discovery document of an issuer, serialised; with the identity assurance
    /// metadata when the tenant's identity verification provider follows `trust_framework`.
    pub fn discovery(&self, issuer: &Issuer, trust_framework: Option<&str>) -> Bytes {
        // The trust framework is part of the key, so a provider set or removed shows at once.
        let key = match trust_framework {
            Some(framework) => format!("{}\n{framework}", issuer.url),
            None => issuer.url.clone(),
        };
        let mut documents = self
            .discovery
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(json) = documents.get(&key) {
            return json.clone();
        }
        let mut document =
            crate::discovery::document(&issuer.url, self.settings.access_token_algorithm);
        if let Some(framework) = trust_framework {
            crate::discovery::add_identity_assurance(&mut document, framework);
        }
        let json = Bytes::from(document.to_string());
        if documents.len() >= DISCOVERY_CACHE {
            documents.clear();
        }
        documents.insert(key, json.clone());
        json
    }
}
