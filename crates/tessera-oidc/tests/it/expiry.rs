//! What time ends, on both stores with a manual clock: authorization codes after a minute
//! (A14), sessions after their idle lifetime.

use crate::on_both_backends;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::auth::Authorized;
use tessera_core::clock::ManualClock;
use tessera_core::oauth::client::{
    ClientMetadata, GrantType, SigningAlgorithm, TokenEndpointAuthMethod, TokenLifetimes,
};
use tessera_core::oauth::redirect_uri::RedirectUri;
use tessera_core::oauth::session::{Authentication, SessionLifetimes};
use tessera_core::sealing::SealingKey;
use tessera_core::service::{NewUser, SignInContext};
use tessera_core::user::Profile;
use tessera_oidc::error::ErrorCode;
use tessera_oidc::keys::KeyRing;
use tessera_oidc::provider::{AuthorizeStep, Issuer, Provider, ProviderSettings};
use time::Duration;

const REDIRECT: &str = "https://shop.example.com/cb";

fn metadata() -> ClientMetadata {
    ClientMetadata {
        client_name: "Shop".into(),
        redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
        post_logout_redirect_uris: vec![],
        grant_types: BTreeSet::from([GrantType::AuthorizationCode]),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        jwks: None,
        scope: ["openid".to_owned()].into(),
        audiences: BTreeSet::new(),
        lifetimes: TokenLifetimes::default(),
        id_token_signed_response_alg: SigningAlgorithm::Rs256,
        first_party: true,
        backchannel_logout_uri: None,
        custom_claims: BTreeMap::new(),
        needs: Default::default(),
        required_verification: None,
        minimum_acr: None,
        logo_uri: None,
        client_uri: None,
        policy_uri: None,
        tos_uri: None,
    }
}

async fn code_expires_after_a_minute(core: Core, clock: Arc<ManualClock>) {
    let keys = KeyRing::start(core.clone(), SealingKey::generate())
        .await
        .unwrap();
    let provider = Provider::new(core.clone(), keys, ProviderSettings::default());
    let tenant = core.default_tenant().clone();
    let auth = Authorized::for_system(&tenant);
    let registered = core.create_client(&auth, metadata()).await.unwrap();
    let client_id = registered.client.client_id();
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{client_id}:{}",
            registered.secret.unwrap().expose_secret()
        ))
    );
    let user = core
        .create_user(
            &auth,
            NewUser {
                profile: Profile {
                    emails: vec![tessera_core::user::UserEmail {
                        value: tessera_core::email::Email::parse("ada@example.com").unwrap(),
                        primary: true,
                        verified: true,
                        purposes: Default::default(),
                        kind: None,
                    }],
                    ..Profile::default()
                },
                password_hash: None,
                password: Some("correct horse battery staple".to_owned().into()),
                disabled: false,
            },
        )
        .await
        .unwrap();
    let context = SignInContext {
        tenant_id: tenant.id,
        client_id: None,
        ip: None,
        user_agent: None,
        device: None,
        human_verified: false,
        captcha_passed: false,
        risk: None,
    };
    let authentication = Authentication {
        at: Some(core.clock().now()),
        methods: vec!["pwd".into()],
        acr: "urn:tessera:loa:1".into(),
    };
    let lifetimes = SessionLifetimes {
        idle_seconds: 600,
        absolute_seconds: 3600,
    };
    let started = core
        .start_session(&context, &user, authentication, lifetimes)
        .await
        .unwrap();
    let issuer = Issuer {
        tenant_id: tenant.id,
        url: "https://id.example.com".into(),
    };
    let (challenge, verifier) = (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    );
    let code = || async {
        let pairs: Vec<(String, String)> = [
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        match provider
            .authorize(&issuer, &pairs, Some(started.session.clone()))
            .await
            .unwrap()
        {
            AuthorizeStep::Respond(response) => response
                .params
                .into_iter()
                .find(|(name, _)| name == "code")
                .map(|(_, value)| value)
                .unwrap(),
            other => panic!("expected a code, got {other:?}"),
        }
    };
    let exchange = |code: String| {
        let pairs: Vec<(String, String)> = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let provider = provider.clone();
        let (issuer, basic) = (issuer.clone(), basic.clone());
        async move { provider.token(&issuer, Some(&basic), &pairs).await }
    };
    // Within the minute: tokens.
    let fresh = code().await;
    clock.advance(Duration::seconds(59));
    assert!(exchange(fresh).await.is_ok());
    // After it: invalid_grant.
    let stale = code().await;
    clock.advance(Duration::seconds(61));
    assert_eq!(
        exchange(stale).await.unwrap_err().code,
        ErrorCode::InvalidGrant
    );

    // The session ends after its idle lifetime without activity.
    let cookie = started.cookie_value.expose_secret().to_owned();
    assert!(
        core.session_from_cookie(tenant.id, &cookie, lifetimes)
            .await
            .unwrap()
            .is_some()
    );
    clock.advance(Duration::seconds(601));
    assert!(
        core.session_from_cookie(tenant.id, &cookie, lifetimes)
            .await
            .unwrap()
            .is_none()
    );
}

on_both_backends!(code_expires_after_a_minute);
