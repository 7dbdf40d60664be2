//! The OpenID Connect provider's storage (`OAuthStore`): clients, signing keys, sessions,
//! codes, grants and their tokens, consents. Building blocks here; cases in the submodules.

mod access_token_batches;
mod clients_and_sessions;
mod grants_and_tokens;

use crate::fixtures::{core, person, tenant};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::event::{Actor, Event, EventQuery};
use tessera_core::ids::{ClientId, GrantId, SessionId, TenantId, UserId};
use tessera_core::oauth::client::{
    Client, ClientMetadata, GrantType, SigningAlgorithm, TokenEndpointAuthMethod, TokenLifetimes,
};
use tessera_core::oauth::grant::{AccessTokenRecord, AuthorizationContext, Grant, RefreshToken};
use tessera_core::oauth::redirect_uri::RedirectUri;
use tessera_core::oauth::session::{Authentication, Session};
use tessera_core::page::PageRequest;
use tessera_core::secret::SecretHash;
use tessera_core::store::Store;
use time::{Duration, OffsetDateTime};

/// A tenant with a user and a client, over a fresh store.
pub struct World {
    pub core: Core,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub tenant: TenantId,
    /// Another tenant, which must see none of `tenant`'s rows.
    pub other_tenant: TenantId,
    pub user: UserId,
    pub client: Client,
}

impl World {
    pub async fn new(store: Arc<dyn Store>) -> Self {
        let (core, clock) = core(store.clone()).await;
        let (acme, auth) = tenant(&core, "acme").await;
        let user = core
            .create_user(&auth, person("Ada", "Lovelace", "ada@example.com"))
            .await
            .unwrap();
        let other_tenant = core.default_tenant().id;
        let world = Self {
            client: client(acme.id, clock.now()),
            core,
            store,
            clock,
            tenant: acme.id,
            other_tenant,
            user: user.id,
        };
        world.insert_client(&world.client).await;
        world
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Moves the clock on and returns the new time.
    pub fn later(&self, by: Duration) -> OffsetDateTime {
        self.clock.advance(by);
        self.clock.now()
    }

    pub fn event(&self, kind: &str) -> Event {
        event(self.tenant, self.now(), kind)
    }

    pub async fn insert_client(&self, client: &Client) {
        let created = event(client.tenant_id, self.now(), "client.created");
        self.store.insert_client(client, &created).await.unwrap();
    }

    /// Another user of the tenant.
    pub async fn another_user(&self, given: &str) -> UserId {
        let auth = tessera_core::auth::Authorized::for_system(
            &self.store.tenant_by_id(self.tenant).await.unwrap().unwrap(),
        );
        let address = format!("{}@example.com", given.to_lowercase());
        self.core
            .create_user(&auth, person(given, "Other", &address))
            .await
            .unwrap()
            .id
    }

    /// A fresh grant of `user` to `client`, valid for 30 days.
    pub fn grant(&self, client: &Client, user: UserId) -> Grant {
        Grant {
            id: GrantId::new_at(self.now()),
            tenant_id: client.tenant_id,
            client_id: client.id,
            context: Some(context(user, None, self.now())),
            created_at: self.now(),
            expires_at: self.now() + Duration::days(30),
            revoked_at: None,
        }
    }

    pub fn session(&self, cookie: &str) -> Session {
        let now = self.now();
        Session {
            id: SessionId::new_at(now),
            secret_hash: SecretHash::of_str(cookie),
            tenant_id: self.tenant,
            user_id: self.user,
            authentication: authentication(now),
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now + Duration::hours(1),
            expires_at: now + Duration::days(14),
            ip: Some("192.0.2.7".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
            ended_at: None,
        }
    }

    pub async fn events(&self, kind: &str) -> Vec<Event> {
        self.store
            .list_events(
                self.tenant,
                &EventQuery {
                    kinds: vec![kind.into()],
                    ..Default::default()
                },
                PageRequest::default(),
            )
            .await
            .unwrap()
            .items
    }
}

pub fn event(tenant: TenantId, at: OffsetDateTime, kind: &str) -> Event {
    Event::new(
        tenant,
        at,
        &Actor::System,
        kind,
        "test".into(),
        json!({"n": 1}),
    )
}

pub fn scope(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

pub fn metadata(name: &str) -> ClientMetadata {
    ClientMetadata {
        client_name: name.into(),
        redirect_uris: vec![RedirectUri::parse("https://shop.example.com/cb").unwrap()],
        post_logout_redirect_uris: vec![RedirectUri::parse("https://shop.example.com/").unwrap()],
        grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        jwks: None,
        scope: scope(&["openid", "profile", "email"]),
        audiences: BTreeSet::new(),
        lifetimes: TokenLifetimes::default(),
        id_token_signed_response_alg: SigningAlgorithm::Es256,
        first_party: false,
        backchannel_logout_uri: Some(
            RedirectUri::parse("https://shop.example.com/logout").unwrap(),
        ),
        custom_claims: BTreeMap::from([("customer_no".into(), "crm_id".into())]),
        needs: tessera_core::profiling::AttributeNeeds {
            required: ["birthdate".to_owned()].into(),
            requested: ["address".to_owned()].into(),
        },
        required_verification: Some(
            tessera_core::identity_verification::AssuranceLevel::Substantial,
        ),
        minimum_acr: Some(tessera_core::mfa::policy::AuthLevel::TwoFactors),
        logo_uri: None,
        client_uri: None,
        policy_uri: None,
        tos_uri: None,
    }
}

pub fn client(tenant: TenantId, at: OffsetDateTime) -> Client {
    Client {
        id: ClientId::new_at(at),
        tenant_id: tenant,
        secret_hash: Some(SecretHash::of_str("tcs_secret")),
        metadata: metadata("Shop"),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

pub fn authentication(at: OffsetDateTime) -> Authentication {
    Authentication {
        at: Some(at),
        methods: vec!["pwd".into(), "otp".into()],
        acr: "urn:tessera:acr:mfa".into(),
    }
}

pub fn context(
    user: UserId,
    session: Option<SessionId>,
    at: OffsetDateTime,
) -> AuthorizationContext {
    AuthorizationContext {
        user_id: user,
        session_id: session,
        scope: scope(&["openid", "profile", "offline_access"]),
        authentication: authentication(at),
        claims: Some(json!({"userinfo": {"email": {"essential": true}}})),
        needs: scope(&["birthdate", "attributes.tier"]),
    }
}

pub fn refresh_token(grant: &Grant, secret: &str, at: OffsetDateTime) -> RefreshToken {
    RefreshToken {
        token_hash: SecretHash::of_str(secret),
        grant_id: grant.id,
        tenant_id: grant.tenant_id,
        created_at: at,
        used_at: None,
    }
}

pub fn access_token(grant: &Grant, at: OffsetDateTime) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: tessera_core::ids::uuid_v7_at(at),
        tenant_id: grant.tenant_id,
        client_id: grant.client_id,
        grant_id: Some(grant.id),
        user_id: grant.user_id(),
        scope: scope(&["openid", "profile"]),
        issued_at: at,
        expires_at: at + Duration::minutes(5),
        revoked_at: None,
    }
}

/// An access token a client got for itself (`client_credentials`): no grant, no user.
pub fn client_access_token(client: &Client, at: OffsetDateTime) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: tessera_core::ids::uuid_v7_at(at),
        tenant_id: client.tenant_id,
        client_id: client.id,
        grant_id: None,
        user_id: None,
        scope: scope(&["orders:read"]),
        issued_at: at,
        expires_at: at + Duration::minutes(5),
        revoked_at: None,
    }
}
