//! Building blocks for the cases: services over a store, and sample values.

use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use tessera_core::attributes::AttributeSchema;
use tessera_core::auth::Authorized;
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::email::Email;
use tessera_core::service::{NewTenant, NewUser};
use tessera_core::store::Store;
use tessera_core::tenant::{Tenant, TenantSettings, TenantSlug};
use tessera_core::user::{ExternalId, Profile, UserEmail};
use tessera_core::{Core, ErrorCode};
use time::macros::datetime;

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(datetime!(2026-11-01 9:00:00.123456 UTC)))
}

pub async fn core(store: Arc<dyn Store>) -> (Core, Arc<ManualClock>) {
    let clock = clock();
    let core = Core::start(store, clock.clone() as Arc<dyn Clock>, None)
        .await
        .unwrap();
    (core, clock)
}

/// Operator authorization, as the bootstrap token has.
pub fn operator(core: &Core) -> tessera_core::auth::OperatorAuthorized {
    tessera_core::auth::Principal {
        actor: tessera_core::event::Actor::System,
        tenant_id: core.default_tenant().id,
        from_default_tenant: true,
        scopes: BTreeSet::from([tessera_core::api_token::Scope::Admin]),
    }
    .authorize_operator()
    .unwrap()
}

/// A second tenant, and system authorization on it.
pub async fn tenant(core: &Core, slug: &str) -> (Tenant, Authorized) {
    let operator = operator(core);
    let tenant = core
        .create_tenant(
            &operator,
            NewTenant {
                slug: TenantSlug::parse(slug).unwrap(),
                display_name: slug.to_uppercase(),
                domains: vec![],
                settings: TenantSettings::default(),
            },
        )
        .await
        .unwrap();
    let auth = Authorized::for_system(&tenant);
    (tenant, auth)
}

pub fn email(address: &str) -> UserEmail {
    UserEmail {
        value: Email::parse(address).unwrap(),
        primary: false,
        verified: false,
        purposes: BTreeSet::new(),
        kind: None,
    }
}

pub fn person(given: &str, family: &str, address: &str) -> NewUser {
    NewUser {
        profile: Profile {
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            emails: vec![email(address)],
            ..Profile::default()
        },
        password_hash: None,
        password: None,
        disabled: false,
    }
}

pub fn with_external_id(mut user: NewUser, source: &str, value: &str) -> NewUser {
    user.profile.external_ids.push(ExternalId {
        source: source.into(),
        value: value.into(),
    });
    user
}

pub fn with_attributes(mut user: NewUser, attributes: serde_json::Value) -> NewUser {
    user.profile.attributes = attributes.as_object().cloned().unwrap();
    user
}

pub fn schema() -> AttributeSchema {
    serde_json::from_value(json!({"attributes": [
        {"name": "country", "type": "string"},
        {"name": "score", "type": "number"},
        {"name": "vip", "type": "boolean"}
    ]}))
    .unwrap()
}

pub fn code<T: std::fmt::Debug>(result: Result<T, tessera_core::CoreError>) -> ErrorCode {
    result.unwrap_err().code()
}
