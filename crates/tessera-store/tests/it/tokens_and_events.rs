//! API tokens and the event log.

use crate::conformance;
use crate::fixtures::{core, person, tenant};
use std::collections::BTreeSet;
use std::sync::Arc;
use tessera_core::ErrorCode;
use tessera_core::api_token::Scope;
use tessera_core::event::{Actor, EventQuery, kinds};
use tessera_core::page::PageRequest;
use tessera_core::secret::SecretHash;
use tessera_core::service::NewApiToken;
use tessera_core::store::Store;

fn new_token(name: &str, scopes: &[Scope]) -> NewApiToken {
    NewApiToken {
        name: name.into(),
        scopes: scopes.iter().copied().collect::<BTreeSet<_>>(),
        expires_at: None,
    }
}

async fn api_tokens_authenticate_until_revoked_or_expired(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let created = core
        .create_api_token(&auth, new_token("crm sync", &[Scope::UsersRead]))
        .await
        .unwrap();
    let secret = secrecy::ExposeSecret::expose_secret(&created.secret).to_owned();
    assert!(secret.starts_with("tsr_"));
    let stored = store
        .api_token_by_hash(&SecretHash::of_str(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, created.token);
    let principal = core.authenticate(&secret).await.unwrap();
    assert_eq!(principal.tenant_id, acme.id);
    assert_eq!(principal.actor, Actor::ApiToken(created.token.id));
    assert!(!principal.from_default_tenant);

    let mut expiring = new_token("short", &[Scope::Scim]);
    expiring.expires_at = Some(clock_now(&core) + time::Duration::minutes(5));
    let short = core.create_api_token(&auth, expiring).await.unwrap();
    let short_secret = secrecy::ExposeSecret::expose_secret(&short.secret).to_owned();
    core.authenticate(&short_secret).await.unwrap();
    clock.advance(time::Duration::minutes(5));
    assert_eq!(
        core.authenticate(&short_secret).await.unwrap_err().code(),
        ErrorCode::Unauthenticated
    );

    let revoked = core
        .revoke_api_token(&auth, created.token.id)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        core.authenticate(&secret).await.unwrap_err().code(),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        core.revoke_api_token(&auth, created.token.id)
            .await
            .unwrap(),
        revoked,
        "idempotent"
    );
    assert_eq!(
        core.authenticate("tsr_unknown").await.unwrap_err().code(),
        ErrorCode::Unauthenticated
    );

    let listed = core
        .list_api_tokens(&auth, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    let (_, globex) = tenant(&core, "globex").await;
    assert!(
        core.list_api_tokens(&globex, PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        core.get_api_token(&globex, created.token.id)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let revocations = store
        .list_events(
            acme.id,
            &EventQuery {
                kinds: vec![kinds::API_TOKEN_REVOKED.into()],
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        revocations.items.len(),
        1,
        "the second revoke wrote nothing"
    );
}

fn clock_now(core: &tessera_core::Core) -> time::OffsetDateTime {
    core.clock().now()
}

async fn events_filter_by_kind_subject_and_time(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let start = clock_now(&core);
    let ada = core
        .create_user(&auth, person("Ada", "L", "ada@example.com"))
        .await
        .unwrap();
    clock.advance(time::Duration::hours(1));
    let middle = clock_now(&core);
    let bob = core
        .create_user(&auth, person("Bob", "B", "bob@example.com"))
        .await
        .unwrap();
    core.disable_user(&auth, bob.id).await.unwrap();

    let list = |query: EventQuery| {
        let store = store.clone();
        async move {
            store
                .list_events(acme.id, &query, PageRequest::default())
                .await
                .unwrap()
                .items
        }
    };
    let created = list(EventQuery {
        kinds: vec![kinds::USER_CREATED.into()],
        ..Default::default()
    })
    .await;
    assert_eq!(created.len(), 2);
    let of_bob = list(EventQuery {
        subject: Some(format!("user:{}", bob.id)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        of_bob.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        [kinds::USER_CREATED, kinds::USER_DISABLED]
    );
    let early = list(EventQuery {
        since: Some(start),
        until: Some(middle),
        kinds: vec![kinds::USER_CREATED.into()],
        ..Default::default()
    })
    .await;
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].subject, format!("user:{}", ada.id));
    assert_eq!(
        early[0].occurred_at, start,
        "times round-trip to the microsecond"
    );
    let two_kinds = list(EventQuery {
        kinds: vec![kinds::USER_DISABLED.into(), kinds::TENANT_CREATED.into()],
        ..Default::default()
    })
    .await;
    assert_eq!(two_kinds.len(), 2);

    let first = store
        .list_events(
            acme.id,
            &EventQuery::default(),
            PageRequest::new(None, Some(2)),
        )
        .await
        .unwrap();
    let second = store
        .list_events(
            acme.id,
            &EventQuery::default(),
            PageRequest::new(first.next_after, Some(2)),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len() + second.items.len(), 4);
    assert!(
        store
            .list_events(
                core.default_tenant().id,
                &EventQuery {
                    kinds: vec![kinds::USER_CREATED.into()],
                    ..Default::default()
                },
                PageRequest::default()
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

conformance!(
    api_tokens_authenticate_until_revoked_or_expired,
    events_filter_by_kind_subject_and_time
);
