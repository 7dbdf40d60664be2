//! Clients, signing keys, sessions, pending requests, consents, password rehashes and
//! events without a change.

use super::{
    World, access_token, client, client_access_token, event, metadata, refresh_token, scope,
};
use crate::conformance;
use serde_json::json;
use std::sync::Arc;
use tessera_core::event::kinds;
use tessera_core::ids::{ClientId, GrantId, SessionId};
use tessera_core::oauth::client::{Client, SigningAlgorithm};
use tessera_core::oauth::grant::{Consent, PendingAuthorization};
use tessera_core::oauth::signing_key::SigningKeyRecord;
use tessera_core::page::PageRequest;
use tessera_core::password_hash::PasswordHash;
use tessera_core::secret::SecretHash;
use tessera_core::service::NewUser;
use tessera_core::store::{Store, StoreError};
use time::Duration;

async fn clients_round_trip_update_and_page_within_their_tenant(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let stored = store.client_by_id(w.tenant, w.client.id).await.unwrap();
    assert_eq!(
        stored.as_ref(),
        Some(&w.client),
        "times round-trip to the microsecond"
    );
    assert_eq!(
        store
            .client_by_id(w.other_tenant, w.client.id)
            .await
            .unwrap(),
        None
    );

    let public = Client {
        secret_hash: None,
        metadata: metadata("Shop, renamed"),
        updated_at: w.later(Duration::minutes(1)),
        version: 2,
        ..w.client.clone()
    };
    store
        .update_client(&public, 1, &w.event(kinds::CLIENT_UPDATED))
        .await
        .unwrap();
    assert_eq!(
        store.client_by_id(w.tenant, w.client.id).await.unwrap(),
        Some(public.clone())
    );
    let stale = store
        .update_client(&public, 1, &w.event(kinds::CLIENT_UPDATED))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    let foreign = Client {
        tenant_id: w.other_tenant,
        version: 3,
        ..public.clone()
    };
    let foreign = store
        .update_client(&foreign, 2, &w.event(kinds::CLIENT_UPDATED))
        .await;
    assert!(
        matches!(foreign, Err(StoreError::VersionConflict)),
        "{foreign:?}"
    );

    let second = client(w.tenant, w.now());
    let third = client(w.tenant, w.now());
    w.insert_client(&second).await;
    w.insert_client(&third).await;
    w.insert_client(&client(w.other_tenant, w.now())).await;
    let first_page = store
        .list_clients(w.tenant, PageRequest::new(None, Some(2)))
        .await
        .unwrap();
    let next_page = store
        .list_clients(w.tenant, PageRequest::new(first_page.next_after, Some(2)))
        .await
        .unwrap();
    let ids: Vec<ClientId> = first_page
        .items
        .iter()
        .chain(&next_page.items)
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, [w.client.id, second.id, third.id]);
    assert_eq!(next_page.next_after, None);
    assert_eq!(first_page.items[0], public);

    let duplicate = store
        .insert_client(&second, &w.event(kinds::CLIENT_CREATED))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Duplicate { .. })),
        "{duplicate:?}"
    );
    assert_eq!(w.events(kinds::CLIENT_CREATED).await.len(), 3);
    assert_eq!(
        w.events(kinds::CLIENT_UPDATED).await.len(),
        1,
        "failed changes write no event"
    );
}

async fn deleting_a_client_revokes_its_grants_tokens_consents_and_session_links(
    store: Arc<dyn Store>,
) {
    let w = World::new(store.clone()).await;
    let kept = client(w.tenant, w.now());
    w.insert_client(&kept).await;
    let session = w.session("tss_cookie");
    store
        .insert_session(&session, &w.event(kinds::SIGN_IN_SUCCEEDED))
        .await
        .unwrap();
    let grant = w.grant(&w.client, w.user);
    let access = access_token(&grant, w.now());
    let refresh = refresh_token(&grant, "trt_1", w.now());
    store
        .insert_grant(
            &grant,
            Some(&refresh),
            &access,
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();
    let kept_grant = w.grant(&kept, w.user);
    let kept_access = access_token(&kept_grant, w.now());
    store
        .insert_grant(
            &kept_grant,
            None,
            &kept_access,
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();
    let machine = client_access_token(&w.client, w.now());
    store
        .insert_access_token(&machine, &w.event(kinds::TOKEN_ISSUED))
        .await
        .unwrap();
    for client in [w.client.id, kept.id] {
        store.add_session_client(session.id, client).await.unwrap();
        let consent = Consent {
            tenant_id: w.tenant,
            user_id: w.user,
            client_id: client,
            scope: scope(&["openid"]),
            granted_at: w.now(),
        };
        store
            .put_consent(&consent, &w.event(kinds::CONSENT_GRANTED))
            .await
            .unwrap();
    }

    let at = w.later(Duration::minutes(3));
    assert!(
        !store
            .delete_client(
                w.other_tenant,
                w.client.id,
                at,
                &w.event(kinds::CLIENT_DELETED)
            )
            .await
            .unwrap(),
        "another tenant's client is not found"
    );
    assert!(
        store
            .delete_client(w.tenant, w.client.id, at, &w.event(kinds::CLIENT_DELETED))
            .await
            .unwrap()
    );
    assert_eq!(
        store.client_by_id(w.tenant, w.client.id).await.unwrap(),
        None
    );
    let listed = store
        .list_clients(w.tenant, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items, std::slice::from_ref(&kept));
    let revoked = store
        .grant_by_id(w.tenant, grant.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    for jti in [access.jti, machine.jti] {
        let (record, _) = store.access_token(w.tenant, jti).await.unwrap().unwrap();
        assert_eq!(record.revoked_at, Some(at));
    }
    let (_, family) = store
        .refresh_token(&refresh.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !family.is_active(at),
        "its refresh tokens die with the grant"
    );
    assert_eq!(
        store.consent(w.tenant, w.user, w.client.id).await.unwrap(),
        None
    );
    assert_eq!(store.session_clients(session.id).await.unwrap(), [kept.id]);

    // the other client keeps everything
    let untouched = store.grant_by_id(w.tenant, kept_grant.id).await.unwrap();
    assert_eq!(untouched, Some(kept_grant));
    assert!(
        store
            .consent(w.tenant, w.user, kept.id)
            .await
            .unwrap()
            .is_some()
    );
    let (kept_record, _) = store
        .access_token(w.tenant, kept_access.jti)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept_record.revoked_at, None);

    assert!(
        !store
            .delete_client(w.tenant, w.client.id, at, &w.event(kinds::CLIENT_DELETED))
            .await
            .unwrap(),
        "already deleted"
    );
    let update = store
        .update_client(&w.client, 1, &w.event(kinds::CLIENT_UPDATED))
        .await;
    assert!(
        matches!(update, Err(StoreError::VersionConflict)),
        "{update:?}"
    );
    // A late replay of one of its codes can still block the grant that code would make.
    store
        .revoke_grant(
            w.tenant,
            w.client.id,
            GrantId::new_at(at),
            at,
            &w.event(kinds::AUTHORIZATION_CODE_REPLAYED),
        )
        .await
        .unwrap();
    assert_eq!(w.events(kinds::CLIENT_DELETED).await.len(), 1);
}

fn signing_key(
    kid: &str,
    algorithm: SigningAlgorithm,
    created_at: time::OffsetDateTime,
) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        algorithm,
        sealed_private_key: (0..=255u8).chain([0, 1, 2]).collect(),
        public_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": kid, "kid": kid}),
        created_at,
        activates_at: created_at,
        retires_at: None,
    }
}

async fn signing_keys_are_listed_oldest_first_then_retired_and_removed(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let start = w.now();
    let first = signing_key("k-first", SigningAlgorithm::EdDsa, start);
    let successor = SigningKeyRecord {
        activates_at: start + Duration::hours(1),
        ..signing_key("a-successor", SigningAlgorithm::EdDsa, start)
    };
    let newest = signing_key(
        "0-newest",
        SigningAlgorithm::Rs256,
        start + Duration::minutes(1),
    );
    for key in [&newest, &successor, &first] {
        store.insert_signing_key(key).await.unwrap();
    }
    let duplicate = store.insert_signing_key(&first).await;
    assert!(
        matches!(duplicate, Err(StoreError::Duplicate { .. })),
        "{duplicate:?}"
    );
    assert_eq!(
        store.signing_keys().await.unwrap(),
        [first.clone(), successor.clone(), newest.clone()],
        "by creation, then by activation when made in the same instant"
    );

    let retires_at = start + Duration::hours(2);
    assert!(
        store
            .retire_signing_key("k-first", retires_at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .retire_signing_key("k-unknown", retires_at)
            .await
            .unwrap()
    );
    assert_eq!(
        store.signing_keys().await.unwrap()[0].retires_at,
        Some(retires_at)
    );
    assert_eq!(
        store.delete_retired_signing_keys(retires_at).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_retired_signing_keys(retires_at + Duration::microseconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.signing_keys().await.unwrap(), [successor, newest]);
}

async fn sessions_are_found_by_digest_touched_and_ended_once(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let session = w.session("tss_cookie");
    store
        .insert_session(&session, &w.event(kinds::SIGN_IN_SUCCEEDED))
        .await
        .unwrap();
    let by_hash = store
        .session_by_hash(&SecretHash::of_str("tss_cookie"))
        .await
        .unwrap();
    assert_eq!(by_hash.as_ref(), Some(&session));
    assert_eq!(
        store.session_by_id(w.tenant, session.id).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store
            .session_by_id(w.other_tenant, session.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .session_by_hash(&SecretHash::of_str("tss_other"))
            .await
            .unwrap(),
        None
    );

    let seen = w.later(Duration::minutes(5));
    store
        .touch_session(session.id, seen, seen + Duration::hours(1))
        .await
        .unwrap();
    // a slower request that saw an older time does not move activity back
    store
        .touch_session(session.id, session.created_at, session.idle_expires_at)
        .await
        .unwrap();
    let touched = store
        .session_by_id(w.tenant, session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (touched.last_seen_at, touched.idle_expires_at),
        (seen, seen + Duration::hours(1))
    );

    let foreign = client(w.other_tenant, w.now());
    w.insert_client(&foreign).await;
    store
        .add_session_client(session.id, w.client.id)
        .await
        .unwrap();
    store
        .add_session_client(session.id, w.client.id)
        .await
        .unwrap();
    store
        .add_session_client(session.id, foreign.id)
        .await
        .unwrap();
    store
        .add_session_client(SessionId::new_at(w.now()), w.client.id)
        .await
        .unwrap();
    assert_eq!(
        store.session_clients(session.id).await.unwrap(),
        [w.client.id],
        "once, and never another tenant's client"
    );

    let ended_at = w.later(Duration::minutes(1));
    let end = |tenant| {
        let store = store.clone();
        let event = w.event(kinds::SESSION_ENDED);
        async move {
            store
                .end_session(tenant, session.id, ended_at, &event)
                .await
                .unwrap()
        }
    };
    assert!(!end(w.other_tenant).await);
    assert!(end(w.tenant).await);
    assert!(!end(w.tenant).await, "already ended");
    let later = w.later(Duration::minutes(5));
    store
        .touch_session(session.id, later, later + Duration::hours(1))
        .await
        .unwrap();
    let ended = store
        .session_by_id(w.tenant, session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.ended_at, Some(ended_at));
    assert_eq!(
        ended.last_seen_at, seen,
        "an ended session records no activity"
    );
    assert_eq!(
        store.session_clients(session.id).await.unwrap(),
        [w.client.id],
        "kept for back-channel logout"
    );
    assert_eq!(w.events(kinds::SESSION_ENDED).await.len(), 1);
    assert_eq!(w.events(kinds::SIGN_IN_SUCCEEDED).await.len(), 1);
}

async fn pending_authorizations_are_kept_until_deleted(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let pending = PendingAuthorization {
        handle_hash: SecretHash::of_str("tar_handle"),
        tenant_id: w.tenant,
        client_id: w.client.id,
        parameters: json!({"response_type": "code", "scope": "openid", "state": "ä \u{1F600}"}),
        created_at: w.now(),
        expires_at: w.now() + Duration::minutes(10),
    };
    store.insert_pending_authorization(&pending).await.unwrap();
    assert_eq!(
        store
            .pending_authorization(&pending.handle_hash)
            .await
            .unwrap(),
        Some(pending.clone())
    );
    store
        .delete_pending_authorization(&pending.handle_hash)
        .await
        .unwrap();
    assert_eq!(
        store
            .pending_authorization(&pending.handle_hash)
            .await
            .unwrap(),
        None
    );
    store
        .delete_pending_authorization(&pending.handle_hash)
        .await
        .unwrap();
}

async fn consents_are_replaced_per_user_and_client(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    assert_eq!(
        store.consent(w.tenant, w.user, w.client.id).await.unwrap(),
        None
    );
    let first = Consent {
        tenant_id: w.tenant,
        user_id: w.user,
        client_id: w.client.id,
        scope: scope(&["openid"]),
        granted_at: w.now(),
    };
    store
        .put_consent(&first, &w.event(kinds::CONSENT_GRANTED))
        .await
        .unwrap();
    assert_eq!(
        store.consent(w.tenant, w.user, w.client.id).await.unwrap(),
        Some(first.clone())
    );
    let wider = Consent {
        scope: scope(&["openid", "email", "profile"]),
        granted_at: w.later(Duration::days(1)),
        ..first
    };
    store
        .put_consent(&wider, &w.event(kinds::CONSENT_GRANTED))
        .await
        .unwrap();
    assert_eq!(
        store.consent(w.tenant, w.user, w.client.id).await.unwrap(),
        Some(wider)
    );
    assert_eq!(
        store
            .consent(w.other_tenant, w.user, w.client.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(w.events(kinds::CONSENT_GRANTED).await.len(), 2);
}

const OLD_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
const NEW_HASH: &str = "$argon2id$v=19$m=47104,t=1,p=1$bmV3c2FsdA$Zm9vYmFyYmF6cXV4cXV1eHF1dXg";

async fn a_rehashed_password_replaces_the_hash_without_a_new_version(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let auth = tessera_core::auth::Authorized::for_system(
        &store.tenant_by_id(w.tenant).await.unwrap().unwrap(),
    );
    let mut new = crate::fixtures::person("Grace", "Hopper", "grace@example.com");
    new.profile.emails[0].primary = true;
    let user = w
        .core
        .create_user(
            &auth,
            NewUser {
                password_hash: Some(PasswordHash::parse(OLD_HASH).unwrap()),
                ..new
            },
        )
        .await
        .unwrap();
    let hash = PasswordHash::parse(NEW_HASH).unwrap();
    let old = PasswordHash::parse(OLD_HASH).unwrap();
    store
        .set_password_hash(w.other_tenant, user.id, &old, &hash)
        .await
        .unwrap();
    let unchanged = store.user_by_id(w.tenant, user.id).await.unwrap().unwrap();
    assert_eq!(unchanged, user, "another tenant cannot reach the user");
    // A password changed since the check is not overwritten by the rehash.
    store
        .set_password_hash(w.tenant, user.id, &hash, &old)
        .await
        .unwrap();
    let unchanged = store.user_by_id(w.tenant, user.id).await.unwrap().unwrap();
    assert_eq!(unchanged, user, "a stale rehash changes nothing");
    store
        .set_password_hash(w.tenant, user.id, &old, &hash)
        .await
        .unwrap();
    let rehashed = store.user_by_id(w.tenant, user.id).await.unwrap().unwrap();
    assert_eq!(rehashed.password_hash.as_ref(), Some(&hash));
    assert_eq!(
        (rehashed.version, rehashed.updated_at),
        (user.version, user.updated_at)
    );
    assert_eq!(w.events(kinds::USER_UPDATED).await.len(), 0);
}

async fn all_sessions_of_a_user_end_at_once(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let first = w.session("tss_first");
    let second = w.session("tss_second");
    for session in [&first, &second] {
        store
            .insert_session(session, &w.event(kinds::SIGN_IN_SUCCEEDED))
            .await
            .unwrap();
    }
    let at = w.later(Duration::minutes(1));
    // Another tenant cannot end them.
    assert_eq!(
        store
            .end_user_sessions(w.other_tenant, first.user_id, at)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .end_user_sessions(w.tenant, first.user_id, at)
            .await
            .unwrap(),
        2
    );
    for session in [&first, &second] {
        let ended = store
            .session_by_id(w.tenant, session.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ended.ended_at, Some(at));
    }
    assert_eq!(
        store
            .end_user_sessions(w.tenant, first.user_id, at)
            .await
            .unwrap(),
        0
    );
}

async fn an_event_without_a_change_is_recorded(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let failed = event(w.tenant, w.now(), kinds::SIGN_IN_FAILED);
    store.insert_event(&failed).await.unwrap();
    assert_eq!(w.events(kinds::SIGN_IN_FAILED).await, [failed]);
}

conformance!(
    all_sessions_of_a_user_end_at_once,
    clients_round_trip_update_and_page_within_their_tenant,
    deleting_a_client_revokes_its_grants_tokens_consents_and_session_links,
    signing_keys_are_listed_oldest_first_then_retired_and_removed,
    sessions_are_found_by_digest_touched_and_ended_once,
    pending_authorizations_are_kept_until_deleted,
    consents_are_replaced_per_user_and_client,
    a_rehashed_password_replaces_the_hash_without_a_new_version,
    an_event_without_a_change_is_recorded,
);
