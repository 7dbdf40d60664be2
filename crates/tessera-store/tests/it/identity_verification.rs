//! Identity verification on both stores: the tables (a session leaves `pending` exactly
//! once, even under concurrent webhooks; starts are counted per user; verifications are
//! found by level and listed newest first, bound to tenant and user; providers are replaced
//! and removed with their events; purge and erasure), and the services over them with a
//! manual clock and a fake provider behind the outbound port (secrets sealed at rest, the
//! start request, signed webhooks, replays, stale signatures, expiry by time).

use crate::conformance;
use crate::fixtures::{core, person, tenant};
use crate::oauth::client;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tessera_core::auth::Authorized;
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::event::{Actor, Event, EventQuery, kinds};
use tessera_core::identity_verification::provider::ProviderSettings;
use tessera_core::identity_verification::webhook::{SignatureError, sign};
use tessera_core::identity_verification::{
    AssuranceLevel, IdentitySession, IdentityVerification, MAX_STARTS, START_WINDOW,
    SessionCompletion, SessionStatus,
};
use tessera_core::ids::{ClientId, IdentitySessionId, IdentityVerificationId, UserId};
use tessera_core::outbound::{OutboundAnswer, OutboundClient, OutboundError};
use tessera_core::page::PageRequest;
use tessera_core::sealing::SealingKey;
use tessera_core::service::{SessionState, VerificationReturn, WebhookError};
use tessera_core::store::Store;
use tessera_core::tenant::Tenant;
use tessera_core::user::User;
use tessera_core::{Core, CoreError};
use time::{Duration, OffsetDateTime};

const API_TOKEN: &str = "idv-api-token-canary-7f3a";
const SECRET: &str = "webhook-secret-canary-0123456789abcdef";

/// The provider's side of the start request: keeps what it was sent, answers as told.
#[derive(Debug)]
struct FakeProvider {
    received: Mutex<Vec<(String, String, Value)>>,
    answer: Mutex<Result<OutboundAnswer, OutboundError>>,
}

impl Default for FakeProvider {
    fn default() -> Self {
        Self {
            received: Mutex::default(),
            answer: Mutex::new(Ok(OutboundAnswer {
                status: 201,
                body: br#"{"id": "idv-1", "url": "https://idp.example.com/flow/idv-1"}"#.to_vec(),
            })),
        }
    }
}

#[async_trait::async_trait]
impl OutboundClient for FakeProvider {
    async fn post_json(
        &self,
        url: &url::Url,
        bearer: &SecretString,
        body: &Value,
    ) -> Result<OutboundAnswer, OutboundError> {
        self.received.lock().unwrap().push((
            url.to_string(),
            bearer.expose_secret().to_owned(),
            body.clone(),
        ));
        self.answer.lock().unwrap().clone()
    }
}

struct Setup {
    store: Arc<dyn Store>,
    core: Core,
    clock: Arc<ManualClock>,
    provider: Arc<FakeProvider>,
    tenant: Tenant,
    auth: Authorized,
}

async fn setup(store: Arc<dyn Store>) -> Setup {
    let (core, clock) = core(store.clone()).await;
    let provider = Arc::new(FakeProvider::default());
    assert!(core.set_outbound_client(provider.clone()));
    assert!(core.set_sealing_key(Arc::new(SealingKey::generate())));
    let (tenant, auth) = tenant(&core, "bank").await;
    Setup {
        store,
        core,
        clock,
        provider,
        tenant,
        auth,
    }
}

async fn customer(setup: &Setup, address: &str) -> User {
    let mut new = person("Ada", "Lovelace", address);
    new.password_hash = Some(
        tessera_core::password_hash::PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        )
        .unwrap(),
    );
    setup.core.create_user(&setup.auth, new).await.unwrap()
}

fn settings() -> ProviderSettings {
    ProviderSettings {
        name: "Test IdP".into(),
        start_url: "https://idp.example.com/v1/sessions?key=query-canary".into(),
        api_token: Some(SecretString::from(API_TOKEN)),
        webhook_secret: Some(SecretString::from(SECRET)),
        trust_framework: "eidas".into(),
        session_minutes: Some(30),
    }
}

fn session(setup: &Setup, user: UserId, at: OffsetDateTime) -> IdentitySession {
    IdentitySession {
        id: IdentitySessionId::new_at(at),
        tenant_id: setup.tenant.id,
        user_id: user,
        client_id: ClientId::new_at(at),
        level: AssuranceLevel::Substantial,
        provider: "Test IdP".into(),
        provider_session_id: None,
        status: SessionStatus::Pending,
        created_at: at,
        expires_at: at + Duration::minutes(30),
        completed_at: None,
    }
}

fn verification(
    session: &IdentitySession,
    level: AssuranceLevel,
    at: OffsetDateTime,
) -> IdentityVerification {
    IdentityVerification {
        id: IdentityVerificationId::new_at(at),
        tenant_id: session.tenant_id,
        user_id: session.user_id,
        session_id: session.id,
        provider: "Test IdP".into(),
        trust_framework: "eidas".into(),
        level,
        evidence: vec!["document".into()],
        verified_at: at,
        verified_claims: json!({
            "verification": {"trust_framework": "eidas"},
            "claims": {"given_name": "Ada", "level": level.as_str()}
        }),
        created_at: at,
    }
}

fn event(setup: &Setup, user: UserId, kind: &str) -> Event {
    Event::new(
        setup.tenant.id,
        setup.clock.now(),
        &Actor::System,
        kind,
        format!("user:{user}"),
        json!({}),
    )
}

async fn events_of(setup: &Setup, kind: &str) -> Vec<Event> {
    setup
        .store
        .list_events(
            setup.tenant.id,
            &EventQuery {
                kinds: vec![kind.to_owned()],
                ..EventQuery::default()
            },
            PageRequest::new(None, Some(100)),
        )
        .await
        .unwrap()
        .items
}

async fn a_session_leaves_pending_exactly_once(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await;
    let now = setup.clock.now();
    let started = session(&setup, ada.id, now);
    assert!(
        store
            .insert_identity_session(&started, 5, now - START_WINDOW)
            .await
            .unwrap()
    );
    store
        .set_identity_provider_session(setup.tenant.id, started.id, "idv-77")
        .await
        .unwrap();
    // Ten deliveries of a result at once: one moves the session, the others change nothing.
    let attempts = (0..10).map(|n| {
        let store = store.clone();
        let status = if n % 2 == 0 {
            SessionStatus::Verified
        } else {
            SessionStatus::Rejected
        };
        let completion = SessionCompletion {
            status,
            at: now,
            verification: (status == SessionStatus::Verified)
                .then(|| verification(&started, AssuranceLevel::High, now)),
        };
        let event = event(&setup, ada.id, kinds::USER_IDENTITY_VERIFIED);
        let tenant = setup.tenant.id;
        let id = started.id;
        tokio::spawn(async move {
            store
                .complete_identity_session(tenant, id, &completion, &[event])
                .await
                .unwrap()
        })
    });
    let mut moved = 0;
    for attempt in attempts {
        moved += usize::from(attempt.await.unwrap());
    }
    assert_eq!(moved, 1, "exactly one delivery moved the session");
    assert_eq!(
        events_of(&setup, kinds::USER_IDENTITY_VERIFIED).await.len(),
        1
    );
    let stored = store
        .identity_session(setup.tenant.id, started.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.status, SessionStatus::Pending);
    assert_eq!(stored.completed_at, Some(now));
    assert_eq!(stored.provider_session_id.as_deref(), Some("idv-77"));
    let kept = store
        .identity_verifications(setup.tenant.id, ada.id, 100)
        .await
        .unwrap();
    assert_eq!(
        kept.len(),
        usize::from(stored.status == SessionStatus::Verified),
        "a verification only when the winner was a verified result"
    );
    // Another tenant's id finds nothing and moves nothing.
    let (other, _) = tenant(&setup.core, "other").await;
    assert_eq!(
        store.identity_session(other.id, started.id).await.unwrap(),
        None
    );
}

async fn starts_are_counted_per_user_within_the_window(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await;
    let bob = customer(&setup, "bob@example.com").await;
    let now = setup.clock.now();
    let since = now - START_WINDOW;
    for _ in 0..MAX_STARTS {
        assert!(
            store
                .insert_identity_session(&session(&setup, ada.id, now), MAX_STARTS, since)
                .await
                .unwrap()
        );
    }
    let refused = session(&setup, ada.id, now);
    assert!(
        !store
            .insert_identity_session(&refused, MAX_STARTS, since)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .identity_session(setup.tenant.id, refused.id)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .insert_identity_session(&session(&setup, bob.id, now), MAX_STARTS, since)
            .await
            .unwrap(),
        "another user has an allowance of their own"
    );
    let later = now + START_WINDOW + Duration::seconds(1);
    assert!(
        store
            .insert_identity_session(
                &session(&setup, ada.id, later),
                MAX_STARTS,
                later - START_WINDOW
            )
            .await
            .unwrap(),
        "the window moves on"
    );
}

async fn verifications_are_found_by_level_and_listed_newest_first(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await;
    let bob = customer(&setup, "bob@example.com").await;
    let t0 = setup.clock.now();
    for (n, level) in [AssuranceLevel::High, AssuranceLevel::Low]
        .into_iter()
        .enumerate()
    {
        let at = t0 + Duration::minutes(i64::try_from(n).unwrap());
        let started = session(&setup, ada.id, at);
        assert!(
            store
                .insert_identity_session(&started, 5, at - START_WINDOW)
                .await
                .unwrap()
        );
        let completion = SessionCompletion {
            status: SessionStatus::Verified,
            at,
            verification: Some(verification(&started, level, at)),
        };
        assert!(
            store
                .complete_identity_session(setup.tenant.id, started.id, &completion, &[])
                .await
                .unwrap()
        );
    }
    let listed = store
        .identity_verifications(setup.tenant.id, ada.id, 100)
        .await
        .unwrap();
    let levels: Vec<_> = listed.iter().map(|v| v.level).collect();
    assert_eq!(
        levels,
        [AssuranceLevel::Low, AssuranceLevel::High],
        "newest first"
    );
    assert_eq!(listed[0].evidence, ["document"]);
    assert_eq!(listed[0].verified_claims["claims"]["given_name"], "Ada");
    assert_eq!(listed[1].verified_at, t0);
    let latest = |level| {
        let store = store.clone();
        let tenant = setup.tenant.id;
        async move {
            store
                .latest_identity_verification(tenant, ada.id, level)
                .await
                .unwrap()
                .map(|v| v.level)
        }
    };
    assert_eq!(latest(AssuranceLevel::Low).await, Some(AssuranceLevel::Low));
    assert_eq!(
        latest(AssuranceLevel::Substantial).await,
        Some(AssuranceLevel::High)
    );
    assert_eq!(
        latest(AssuranceLevel::High).await,
        Some(AssuranceLevel::High)
    );
    assert!(
        setup
            .core
            .identity_verified(setup.tenant.id, ada.id, AssuranceLevel::High)
            .await
            .unwrap()
    );
    assert!(
        !setup
            .core
            .identity_verified(setup.tenant.id, bob.id, AssuranceLevel::Low)
            .await
            .unwrap()
    );
    let (other, _) = tenant(&setup.core, "other").await;
    assert!(
        store
            .identity_verifications(other.id, ada.id, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .identity_verifications(setup.tenant.id, ada.id, 1)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn providers_are_sealed_replaced_and_removed_with_their_events(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let view = setup
        .core
        .put_identity_provider(&setup.auth, settings())
        .await
        .unwrap();
    assert!(view.api_token_set && view.webhook_secret_set);
    assert_eq!(view.session_minutes, 30);
    let stored = store
        .identity_provider(setup.tenant.id)
        .await
        .unwrap()
        .unwrap();
    for (sealed, plain) in [
        (&stored.sealed_api_token, API_TOKEN),
        (&stored.sealed_webhook_secret, SECRET),
    ] {
        let text = String::from_utf8_lossy(sealed);
        assert!(!text.contains(plain), "sealed at rest");
        assert!(sealed.len() > plain.len());
    }
    // A change without secrets keeps them.
    let renamed = setup
        .core
        .put_identity_provider(
            &setup.auth,
            ProviderSettings {
                name: "Renamed IdP".into(),
                api_token: None,
                webhook_secret: None,
                ..settings()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Renamed IdP");
    assert_eq!(renamed.created_at, view.created_at);
    let again = store
        .identity_provider(setup.tenant.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.sealed_api_token, stored.sealed_api_token);
    let configured = events_of(&setup, kinds::IDENTITY_VERIFICATION_CONFIGURED).await;
    assert_eq!(configured.len(), 2);
    let payload = configured[1].payload.to_string();
    assert!(configured[0].payload["api_token_changed"] == true);
    assert!(configured[1].payload["api_token_changed"] == false);
    assert_eq!(configured[0].payload["start_url_host"], "idp.example.com");
    for canary in [API_TOKEN, SECRET, "query-canary"] {
        assert!(
            !configured[0].payload.to_string().contains(canary),
            "{canary}"
        );
        assert!(!payload.contains(canary));
    }
    // Another tenant sees none; removing twice finds nothing the second time.
    let (other, other_auth) = tenant(&setup.core, "other").await;
    assert_eq!(store.identity_provider(other.id).await.unwrap(), None);
    assert!(matches!(
        setup.core.identity_provider(&other_auth).await,
        Err(CoreError::NotFound(_))
    ));
    setup
        .core
        .delete_identity_provider(&setup.auth)
        .await
        .unwrap();
    assert!(matches!(
        setup.core.delete_identity_provider(&setup.auth).await,
        Err(CoreError::NotFound(_))
    ));
    assert_eq!(
        events_of(&setup, kinds::IDENTITY_VERIFICATION_REMOVED)
            .await
            .len(),
        1
    );
    // Without a provider, a new configuration needs both secrets again.
    let without = ProviderSettings {
        api_token: None,
        ..settings()
    };
    assert!(matches!(
        setup.core.put_identity_provider(&setup.auth, without).await,
        Err(CoreError::Validation(_))
    ));
}

/// Starts a verification of `user` through the services; the session's id.
async fn start(setup: &Setup, user: &User) -> IdentitySessionId {
    let urls = VerificationReturn {
        callback_url: "https://id.bank.example/identity-verification/webhook".into(),
        return_url: url::Url::parse("https://id.bank.example/verify-identity/return?auth=h")
            .unwrap(),
    };
    let client = client(setup.tenant.id, setup.clock.now());
    setup
        .core
        .start_identity_verification(
            &setup.tenant,
            user.id,
            &client,
            AssuranceLevel::Substantial,
            &urls,
        )
        .await
        .unwrap()
        .session
}

fn webhook(reference: IdentitySessionId, status: &str) -> Vec<u8> {
    json!({
        "reference": reference.to_string(),
        "status": status,
        "level": "substantial",
        "verified_claims": {
            "verification": {"trust_framework": "eidas", "evidence": [{"type": "document"}]},
            "claims": {"given_name": "Ada", "family_name": "Lovelace", "birthdate": "1815-12-10"}
        }
    })
    .to_string()
    .into_bytes()
}

async fn deliver(
    setup: &Setup,
    body: &[u8],
    at: OffsetDateTime,
) -> Result<SessionStatus, WebhookError> {
    let header = sign(SECRET.as_bytes(), at.unix_timestamp(), body);
    setup
        .core
        .receive_identity_webhook(&setup.tenant, Some(&header), body)
        .await
}

async fn the_services_start_a_session_and_take_a_signed_result_once(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    setup
        .core
        .put_identity_provider(&setup.auth, settings())
        .await
        .unwrap();
    let ada = customer(&setup, "ada@example.com").await;
    let id = start(&setup, &ada).await;
    let (url, bearer, body) = setup.provider.received.lock().unwrap()[0].clone();
    assert_eq!(url, "https://idp.example.com/v1/sessions?key=query-canary");
    assert_eq!(bearer, API_TOKEN, "the token, opened from its seal");
    assert_eq!(body["reference"], id.to_string());
    assert_eq!(body["level"], "substantial");
    assert_eq!(
        body["callback_url"],
        "https://id.bank.example/identity-verification/webhook"
    );
    assert_eq!(
        body["return_url"],
        format!("https://id.bank.example/verify-identity/return?auth=h&session={id}")
    );
    assert_eq!(body["user"]["sub"], ada.id.to_string());
    assert_eq!(body["user"]["given_name"], "Ada");
    assert_eq!(body["user"]["email"], "ada@example.com");
    let stored = store
        .identity_session(setup.tenant.id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.provider_session_id.as_deref(), Some("idv-1"));
    assert_eq!(stored.expires_at, stored.created_at + Duration::minutes(30));
    let (_, state) = setup
        .core
        .identity_session_state(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_eq!(state, SessionState::Pending);

    let now = setup.clock.now();
    let result = webhook(id, "verified");
    assert_eq!(
        deliver(&setup, &result, now).await.unwrap(),
        SessionStatus::Verified
    );
    let (_, state) = setup
        .core
        .identity_session_state(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_eq!(state, SessionState::Verified);
    let released = setup
        .core
        .released_verified_claims(setup.tenant.id, ada.id, AssuranceLevel::Substantial)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(released["claims"]["family_name"], "Lovelace");
    let verified = events_of(&setup, kinds::USER_IDENTITY_VERIFIED).await;
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].subject, format!("user:{}", ada.id));
    assert_eq!(verified[0].payload["level"], "substantial");
    assert_eq!(verified[0].payload["provider"], "Test IdP");
    assert!(
        !verified[0].payload.to_string().contains("Lovelace"),
        "no claims in events"
    );

    // The same webhook again (a replay within the five minutes) changes nothing.
    assert!(matches!(
        deliver(&setup, &result, now).await,
        Err(WebhookError::AlreadyEnded(SessionStatus::Verified))
    ));
    assert!(matches!(
        deliver(&setup, &webhook(id, "rejected"), now).await,
        Err(WebhookError::AlreadyEnded(SessionStatus::Verified))
    ));
    assert_eq!(
        events_of(&setup, kinds::USER_IDENTITY_VERIFIED).await.len(),
        1
    );
    assert_eq!(
        setup
            .core
            .identity_verifications(&setup.auth, ada.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // Another user's session is not theirs to see.
    let bob = customer(&setup, "bob@example.com").await;
    assert!(matches!(
        setup
            .core
            .identity_session_state(&setup.tenant, bob.id, id)
            .await,
        Err(CoreError::NotFound(_))
    ));
}

async fn refused_webhooks_change_nothing(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await;
    let id = IdentitySessionId::new_at(setup.clock.now());
    let body = webhook(id, "verified");
    let now = setup.clock.now();
    assert!(matches!(
        deliver(&setup, &body, now).await,
        Err(WebhookError::NotConfigured)
    ));
    setup
        .core
        .put_identity_provider(&setup.auth, settings())
        .await
        .unwrap();
    let id = start(&setup, &ada).await;
    let body = webhook(id, "verified");
    let signature = |result| match result {
        Err(WebhookError::Signature(error)) => error,
        other => panic!("a signature error expected, got {other:?}"),
    };
    let forged = sign(
        b"another-secret-0123456789abcdef-xyz",
        now.unix_timestamp(),
        &body,
    );
    assert_eq!(
        signature(
            setup
                .core
                .receive_identity_webhook(&setup.tenant, Some(&forged), &body)
                .await
        ),
        SignatureError::Mismatch
    );
    assert_eq!(
        signature(
            setup
                .core
                .receive_identity_webhook(&setup.tenant, None, &body)
                .await
        ),
        SignatureError::Missing
    );
    assert_eq!(
        signature(deliver(&setup, &body, now - Duration::minutes(6)).await),
        SignatureError::Stale
    );
    let mut changed = body.clone();
    changed.extend_from_slice(b" ");
    let header = sign(SECRET.as_bytes(), now.unix_timestamp(), &body);
    assert_eq!(
        signature(
            setup
                .core
                .receive_identity_webhook(&setup.tenant, Some(&header), &changed)
                .await
        ),
        SignatureError::Mismatch,
        "a changed body"
    );
    assert!(matches!(
        deliver(&setup, b"{\"reference\": 1}", now).await,
        Err(WebhookError::Malformed(_))
    ));
    let unknown = webhook(IdentitySessionId::new_at(now), "verified");
    assert!(matches!(
        deliver(&setup, &unknown, now).await,
        Err(WebhookError::UnknownReference)
    ));
    // The same webhook for another tenant's provider does not reach this session.
    let stored = store
        .identity_session(setup.tenant.id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, SessionStatus::Pending);
    assert!(
        store
            .identity_verifications(setup.tenant.id, ada.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        events_of(&setup, kinds::USER_IDENTITY_VERIFIED)
            .await
            .is_empty()
    );
    // A rejection then ends it.
    assert_eq!(
        deliver(&setup, &webhook(id, "rejected"), now)
            .await
            .unwrap(),
        SessionStatus::Rejected
    );
    let (_, state) = setup
        .core
        .identity_session_state(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_eq!(state, SessionState::Rejected);
    assert_eq!(
        events_of(&setup, kinds::USER_IDENTITY_REJECTED).await.len(),
        1
    );
}

async fn a_session_past_its_time_is_expired_without_a_webhook(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    setup
        .core
        .put_identity_provider(&setup.auth, settings())
        .await
        .unwrap();
    let ada = customer(&setup, "ada@example.com").await;
    let late = start(&setup, &ada).await;
    let seen = start(&setup, &ada).await;
    setup.clock.advance(Duration::minutes(30));
    // The return page sees it expired, and records that once.
    let (_, state) = setup
        .core
        .identity_session_state(&setup.tenant, ada.id, seen)
        .await
        .unwrap();
    assert_eq!(state, SessionState::Expired);
    setup
        .core
        .identity_session_state(&setup.tenant, ada.id, seen)
        .await
        .unwrap();
    // A result that comes after the session's time is refused, and ends it as expired.
    let now = setup.clock.now();
    assert!(matches!(
        deliver(&setup, &webhook(late, "verified"), now).await,
        Err(WebhookError::AlreadyEnded(SessionStatus::Expired))
    ));
    let expired = events_of(&setup, kinds::USER_IDENTITY_VERIFICATION_EXPIRED).await;
    assert_eq!(expired.len(), 2, "one event per session");
    assert!(expired.iter().all(|e| e.payload["by"] == "timeout"));
    assert!(
        store
            .identity_verifications(setup.tenant.id, ada.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A provider may also say so itself.
    let third = start(&setup, &ada).await;
    assert_eq!(
        deliver(&setup, &webhook(third, "expired"), setup.clock.now())
            .await
            .unwrap(),
        SessionStatus::Expired
    );
}

async fn the_provider_failing_leaves_a_clear_error_and_starts_are_limited(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await;
    let urls = VerificationReturn {
        callback_url: "https://id.bank.example/identity-verification/webhook".into(),
        return_url: url::Url::parse("https://id.bank.example/verify-identity/return").unwrap(),
    };
    let client = client(setup.tenant.id, setup.clock.now());
    let attempt = || {
        setup.core.start_identity_verification(
            &setup.tenant,
            ada.id,
            &client,
            AssuranceLevel::High,
            &urls,
        )
    };
    assert!(matches!(
        attempt().await,
        Err(CoreError::NotFound("identity verification provider"))
    ));
    setup
        .core
        .put_identity_provider(&setup.auth, settings())
        .await
        .unwrap();
    for (answer, expected) in [
        (
            Err(OutboundError::Failed("idp.example.com: timed out".into())),
            "timed out",
        ),
        (
            Ok(OutboundAnswer {
                status: 500,
                body: b"provider-error-canary".to_vec(),
            }),
            "answered 500",
        ),
        (
            Ok(OutboundAnswer {
                status: 201,
                body: br#"{"id": "x", "url": "http://evil.example/"}"#.to_vec(),
            }),
            "url",
        ),
    ] {
        *setup.provider.answer.lock().unwrap() = answer;
        match attempt().await {
            Err(CoreError::IdentityProviderFailed(message)) => {
                assert!(message.contains(expected), "{message}");
                assert!(!message.contains("canary"), "{message}");
                assert!(
                    !message.contains("query-canary"),
                    "the URL's query is not named"
                );
            }
            other => panic!("expected a provider failure, got {other:?}"),
        }
    }
    *setup.provider.answer.lock().unwrap() = FakeProvider::default().answer.into_inner().unwrap();
    attempt().await.unwrap();
    attempt().await.unwrap();
    assert!(
        matches!(attempt().await, Err(CoreError::TooManyRequests { .. })),
        "five starts an hour"
    );
    setup.clock.advance(START_WINDOW + Duration::seconds(1));
    attempt().await.unwrap();
}

async fn sessions_and_verifications_go_with_their_user_and_the_purge(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    setup
        .core
        .put_identity_provider(&setup.auth, settings())
        .await
        .unwrap();
    let ada = customer(&setup, "ada@example.com").await;
    let bob = customer(&setup, "bob@example.com").await;
    let ada_session = start(&setup, &ada).await;
    let bob_session = start(&setup, &bob).await;
    let now = setup.clock.now();
    deliver(&setup, &webhook(bob_session, "verified"), now)
        .await
        .unwrap();
    // A45: deleting the user takes its verified data and its sessions with it.
    setup.core.delete_user(&setup.auth, bob.id).await.unwrap();
    assert!(
        store
            .identity_verifications(setup.tenant.id, bob.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .identity_session(setup.tenant.id, bob_session)
            .await
            .unwrap(),
        None
    );
    setup
        .clock
        .advance(Duration::minutes(30) + Duration::days(1) + Duration::seconds(1));
    setup.core.purge_expired_state().await.unwrap();
    assert_eq!(
        store
            .identity_session(setup.tenant.id, ada_session)
            .await
            .unwrap(),
        None,
        "purged a day after it expired"
    );
}

conformance!(
    a_session_leaves_pending_exactly_once,
    starts_are_counted_per_user_within_the_window,
    verifications_are_found_by_level_and_listed_newest_first,
    providers_are_sealed_replaced_and_removed_with_their_events,
    the_services_start_a_session_and_take_a_signed_result_once,
    refused_webhooks_change_nothing,
    a_session_past_its_time_is_expired_without_a_webhook,
    the_provider_failing_leaves_a_clear_error_and_starts_are_limited,
    sessions_and_verifications_go_with_their_user_and_the_purge,
);
