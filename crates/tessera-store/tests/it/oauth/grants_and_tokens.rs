//! Authorization codes, grants, refresh-token rotation and access-token records, with the
//! single-use guarantees under concurrency.

use super::{World, access_token, client, client_access_token, context, refresh_token};
use crate::conformance;
use std::sync::Arc;
use tessera_core::event::kinds;
use tessera_core::ids::{GrantId, SessionId};
use tessera_core::oauth::grant::{AuthorizationCode, CodeRedemption, Grant, Rotation};
use tessera_core::secret::SecretHash;
use tessera_core::store::{Store, StoreError};
use time::Duration;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// How many callers race for one single-use secret; a barrier lets them go at once.
const RACERS: usize = 8;

fn code(w: &World, secret: &str) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: SecretHash::of_str(secret),
        tenant_id: w.tenant,
        client_id: w.client.id,
        grant_id: GrantId::new_at(w.now()),
        redirect_uri: "https://shop.example.com/cb".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        context: context(w.user, Some(SessionId::new_at(w.now())), w.now()),
        created_at: w.now(),
        expires_at: w.now() + Duration::seconds(60),
        consumed_at: None,
    }
}

async fn an_authorization_code_is_redeemed_once(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let issued = code(&w, "tac_1");
    store.insert_authorization_code(&issued).await.unwrap();
    // Another tenant's endpoint cannot spend it.
    assert_eq!(
        store
            .redeem_authorization_code(w.other_tenant, &issued.code_hash, w.now())
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    let first = w.later(Duration::seconds(2));
    let consumed = AuthorizationCode {
        consumed_at: Some(first),
        ..issued.clone()
    };
    assert_eq!(
        store
            .redeem_authorization_code(w.tenant, &issued.code_hash, first)
            .await
            .unwrap(),
        CodeRedemption::Fresh(consumed.clone())
    );
    let again = w.later(Duration::seconds(2));
    assert_eq!(
        store
            .redeem_authorization_code(w.tenant, &issued.code_hash, again)
            .await
            .unwrap(),
        CodeRedemption::Replayed(consumed),
        "the first use's time is kept"
    );
    assert_eq!(
        store
            .redeem_authorization_code(w.tenant, &SecretHash::of_str("tac_unknown"), again)
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
}

async fn concurrent_redemptions_of_one_code_yield_one_fresh(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let issued = code(&w, "tac_raced");
    store.insert_authorization_code(&issued).await.unwrap();
    let start = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for i in 0..RACERS {
        let (store, start) = (store.clone(), start.clone());
        let hash = issued.code_hash.clone();
        let at = w.now() + Duration::milliseconds(i as i64);
        racers.spawn(async move {
            start.wait().await;
            store
                .redeem_authorization_code(w.tenant, &hash, at)
                .await
                .unwrap()
        });
    }
    let outcomes = racers.join_all().await;
    let fresh = outcomes
        .iter()
        .filter(|o| matches!(o, CodeRedemption::Fresh(_)))
        .count();
    let replayed = outcomes
        .iter()
        .filter(|o| matches!(o, CodeRedemption::Replayed(_)))
        .count();
    assert_eq!((fresh, replayed), (1, RACERS - 1), "{outcomes:?}");
}

async fn grants_store_their_first_tokens_and_refuse_a_taken_id(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let grant = w.grant(&w.client, w.user);
    let refresh = refresh_token(&grant, "trt_1", w.now());
    let access = access_token(&grant, w.now());
    store
        .insert_grant(
            &grant,
            Some(&refresh),
            &access,
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();
    assert_eq!(
        store.grant_by_id(w.tenant, grant.id).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        store.grant_by_id(w.other_tenant, grant.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.refresh_token(&refresh.token_hash).await.unwrap(),
        Some((refresh.clone(), grant.clone()))
    );
    assert_eq!(
        store.access_token(w.tenant, access.jti).await.unwrap(),
        Some((access.clone(), Some(grant.clone())))
    );
    assert_eq!(
        store
            .access_token(w.other_tenant, access.jti)
            .await
            .unwrap(),
        None
    );

    let second_access = access_token(&grant, w.now());
    let taken = store
        .insert_grant(
            &grant,
            Some(&refresh_token(&grant, "trt_2", w.now())),
            &second_access,
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await;
    assert!(
        matches!(taken, Err(StoreError::Duplicate { field: "grant" })),
        "{taken:?}"
    );
    assert_eq!(
        store
            .access_token(w.tenant, second_access.jti)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .refresh_token(&SecretHash::of_str("trt_2"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        w.events(kinds::TOKEN_ISSUED).await.len(),
        1,
        "all or nothing"
    );

    let without_refresh = w.grant(&w.client, w.user);
    let only_access = access_token(&without_refresh, w.now());
    store
        .insert_grant(
            &without_refresh,
            None,
            &only_access,
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .grant_by_id(w.tenant, without_refresh.id)
            .await
            .unwrap(),
        Some(without_refresh)
    );
}

async fn revoking_an_unknown_grant_leaves_a_placeholder_that_blocks_it(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let replayed = code(&w, "tac_replayed");
    let at = w.later(Duration::seconds(5));
    store
        .revoke_grant(
            w.tenant,
            w.client.id,
            replayed.grant_id,
            at,
            &w.event(kinds::AUTHORIZATION_CODE_REPLAYED),
        )
        .await
        .unwrap();
    let placeholder = Grant {
        id: replayed.grant_id,
        tenant_id: w.tenant,
        client_id: w.client.id,
        context: None,
        created_at: at,
        expires_at: at,
        revoked_at: Some(at),
    };
    assert_eq!(
        store
            .grant_by_id(w.tenant, replayed.grant_id)
            .await
            .unwrap(),
        Some(placeholder.clone())
    );

    // the first redemption's grant arrives too late
    let late = Grant {
        context: Some(replayed.context.clone()),
        ..w.grant(&w.client, w.user)
    };
    let late = Grant {
        id: replayed.grant_id,
        ..late
    };
    let refused = store
        .insert_grant(
            &late,
            Some(&refresh_token(&late, "trt_late", w.now())),
            &access_token(&late, w.now()),
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Duplicate { field: "grant" })),
        "{refused:?}"
    );

    // the id is another tenant's grant there: nothing changes and nothing is recorded
    let foreign = client(w.other_tenant, w.now());
    w.insert_client(&foreign).await;
    store
        .revoke_grant(
            w.other_tenant,
            foreign.id,
            replayed.grant_id,
            w.later(Duration::seconds(1)),
            &super::event(w.other_tenant, w.now(), kinds::GRANT_REVOKED),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .grant_by_id(w.tenant, replayed.grant_id)
            .await
            .unwrap(),
        Some(placeholder)
    );
    assert_eq!(
        store
            .grant_by_id(w.other_tenant, replayed.grant_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(w.events(kinds::AUTHORIZATION_CODE_REPLAYED).await.len(), 1);
    assert_eq!(w.events(kinds::TOKEN_ISSUED).await.len(), 0);
}

async fn revoking_a_grant_revokes_its_tokens_and_keeps_the_first_time(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let grant = w.grant(&w.client, w.user);
    let refresh = refresh_token(&grant, "trt_1", w.now());
    let access = access_token(&grant, w.now());
    store
        .insert_grant(
            &grant,
            Some(&refresh),
            &access,
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();
    let other = w.grant(&w.client, w.user);
    let other_access = access_token(&other, w.now());
    store
        .insert_grant(&other, None, &other_access, &w.event(kinds::TOKEN_ISSUED))
        .await
        .unwrap();

    let first = w.later(Duration::minutes(1));
    let revoke = |at| {
        let store = store.clone();
        let event = w.event(kinds::GRANT_REVOKED);
        let (tenant, client, id) = (grant.tenant_id, grant.client_id, grant.id);
        async move {
            store
                .revoke_grant(tenant, client, id, at, &event)
                .await
                .unwrap()
        }
    };
    revoke(first).await;
    revoke(w.later(Duration::minutes(1))).await;
    let revoked = store
        .grant_by_id(w.tenant, grant.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(first));
    let (record, family) = store
        .access_token(w.tenant, access.jti)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.revoked_at, Some(first));
    assert_eq!(family, Some(revoked.clone()));
    assert_eq!(
        store.refresh_token(&refresh.token_hash).await.unwrap(),
        Some((refresh, revoked)),
        "the refresh token is dead through its grant"
    );
    assert_eq!(
        store.grant_by_id(w.tenant, other.id).await.unwrap(),
        Some(other)
    );
    let (untouched, _) = store
        .access_token(w.tenant, other_access.jti)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.revoked_at, None);
    assert_eq!(w.events(kinds::GRANT_REVOKED).await.len(), 2);
}

async fn rotation_spends_the_token_once_and_reuse_stores_nothing(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let grant = w.grant(&w.client, w.user);
    let first = refresh_token(&grant, "trt_1", w.now());
    store
        .insert_grant(
            &grant,
            Some(&first),
            &access_token(&grant, w.now()),
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();

    let at = w.later(Duration::minutes(10));
    let second = refresh_token(&grant, "trt_2", at);
    let second_access = access_token(&grant, at);
    let rotated = store
        .rotate_refresh_token(
            &first.token_hash,
            at,
            &second,
            &second_access,
            &w.event(kinds::TOKEN_REFRESHED),
        )
        .await
        .unwrap();
    assert_eq!(rotated, Rotation::Rotated(grant.clone()));
    let (spent, _) = store
        .refresh_token(&first.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spent.used_at, Some(at));
    assert_eq!(
        store.refresh_token(&second.token_hash).await.unwrap(),
        Some((second.clone(), grant.clone()))
    );
    assert!(
        store
            .access_token(w.tenant, second_access.jti)
            .await
            .unwrap()
            .is_some()
    );

    let replay_at = w.later(Duration::minutes(1));
    let third = refresh_token(&grant, "trt_3", replay_at);
    let third_access = access_token(&grant, replay_at);
    let reused = store
        .rotate_refresh_token(
            &first.token_hash,
            replay_at,
            &third,
            &third_access,
            &w.event(kinds::TOKEN_REFRESHED),
        )
        .await
        .unwrap();
    assert_eq!(reused, Rotation::Reused(grant.clone()));
    assert_eq!(store.refresh_token(&third.token_hash).await.unwrap(), None);
    assert_eq!(
        store
            .access_token(w.tenant, third_access.jti)
            .await
            .unwrap(),
        None
    );
    let (still_spent, _) = store
        .refresh_token(&first.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        still_spent.used_at,
        Some(at),
        "the first use's time is kept"
    );
    assert_eq!(w.events(kinds::TOKEN_REFRESHED).await.len(), 1);

    let unknown = store
        .rotate_refresh_token(
            &SecretHash::of_str("trt_unknown"),
            replay_at,
            &third,
            &third_access,
            &w.event(kinds::TOKEN_REFRESHED),
        )
        .await
        .unwrap();
    assert_eq!(unknown, Rotation::Unknown);

    // Whether the grant is active is the caller's check; the grant returned is current.
    let revoked_at = w.later(Duration::minutes(1));
    store
        .revoke_grant(
            w.tenant,
            w.client.id,
            grant.id,
            revoked_at,
            &w.event(kinds::GRANT_REVOKED),
        )
        .await
        .unwrap();
    let Rotation::Rotated(current) = store
        .rotate_refresh_token(
            &second.token_hash,
            revoked_at,
            &third,
            &third_access,
            &w.event(kinds::TOKEN_REFRESHED),
        )
        .await
        .unwrap()
    else {
        panic!("the second token was current");
    };
    assert_eq!(current.revoked_at, Some(revoked_at));
}

async fn concurrent_rotations_of_one_token_yield_one_rotated(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let grant = w.grant(&w.client, w.user);
    let first = refresh_token(&grant, "trt_raced", w.now());
    store
        .insert_grant(
            &grant,
            Some(&first),
            &access_token(&grant, w.now()),
            &w.event(kinds::TOKEN_ISSUED),
        )
        .await
        .unwrap();
    let start = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for i in 0..RACERS {
        let (store, start) = (store.clone(), start.clone());
        let hash = first.token_hash.clone();
        let at = w.now() + Duration::seconds(i as i64);
        let next = refresh_token(&grant, &format!("trt_next_{i}"), at);
        let access = access_token(&grant, at);
        let event = w.event(kinds::TOKEN_REFRESHED);
        racers.spawn(async move {
            start.wait().await;
            let outcome = store
                .rotate_refresh_token(&hash, at, &next, &access, &event)
                .await
                .unwrap();
            (outcome, next, access)
        });
    }
    let outcomes = racers.join_all().await;
    let winners: Vec<_> = outcomes
        .iter()
        .filter(|(o, ..)| matches!(o, Rotation::Rotated(_)))
        .collect();
    let reused = outcomes
        .iter()
        .filter(|(o, ..)| *o == Rotation::Reused(grant.clone()))
        .count();
    assert_eq!((winners.len(), reused), (1, RACERS - 1));
    for (outcome, next, access) in &outcomes {
        let won = matches!(outcome, Rotation::Rotated(_));
        let stored = store.refresh_token(&next.token_hash).await.unwrap();
        assert_eq!(stored.is_some(), won);
        let record = store.access_token(w.tenant, access.jti).await.unwrap();
        assert_eq!(record.is_some(), won);
    }
    assert_eq!(w.events(kinds::TOKEN_REFRESHED).await.len(), 1);
}

async fn revoking_a_users_grants_for_one_client_or_all(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let second_client = client(w.tenant, w.now());
    w.insert_client(&second_client).await;
    let someone_else = w.another_user("Bob").await;
    let mut grants = Vec::new();
    for (client, user) in [
        (&w.client, w.user),
        (&second_client, w.user),
        (&w.client, someone_else),
    ] {
        let grant = w.grant(client, user);
        let access = access_token(&grant, w.now());
        store
            .insert_grant(&grant, None, &access, &w.event(kinds::TOKEN_ISSUED))
            .await
            .unwrap();
        grants.push((grant, access));
    }
    let machine = client_access_token(&w.client, w.now());
    store
        .insert_access_token(&machine, &w.event(kinds::TOKEN_ISSUED))
        .await
        .unwrap();

    let first = w.later(Duration::minutes(1));
    let count = store
        .revoke_user_grants(w.tenant, w.user, Some(w.client.id), first)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let then = w.later(Duration::minutes(1));
    assert_eq!(
        store
            .revoke_user_grants(w.other_tenant, w.user, None, then)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .revoke_user_grants(w.tenant, w.user, None, then)
            .await
            .unwrap(),
        1,
        "only the grant still active"
    );
    assert_eq!(
        store
            .revoke_user_grants(w.tenant, w.user, None, then)
            .await
            .unwrap(),
        0
    );

    let expected = [Some(first), Some(then), None];
    for ((grant, access), revoked_at) in grants.iter().zip(expected) {
        let stored = store
            .grant_by_id(w.tenant, grant.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.revoked_at, revoked_at);
        let (record, _) = store
            .access_token(w.tenant, access.jti)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.revoked_at, revoked_at);
    }
    let (machine_record, _) = store
        .access_token(w.tenant, machine.jti)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        machine_record.revoked_at, None,
        "a client's own token has no user"
    );
}

async fn a_client_credentials_token_is_found_and_revoked_once(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let machine = client_access_token(&w.client, w.now());
    store
        .insert_access_token(&machine, &w.event(kinds::TOKEN_ISSUED))
        .await
        .unwrap();
    assert_eq!(
        store.access_token(w.tenant, machine.jti).await.unwrap(),
        Some((machine.clone(), None))
    );
    assert_eq!(
        store
            .access_token(w.other_tenant, machine.jti)
            .await
            .unwrap(),
        None
    );

    let first = w.later(Duration::minutes(1));
    assert!(
        !store
            .revoke_access_token(w.other_tenant, machine.jti, first)
            .await
            .unwrap()
    );
    assert!(
        store
            .revoke_access_token(w.tenant, machine.jti, first)
            .await
            .unwrap()
    );
    let again = w.later(Duration::minutes(1));
    assert!(
        store
            .revoke_access_token(w.tenant, machine.jti, again)
            .await
            .unwrap()
    );
    let (record, _) = store
        .access_token(w.tenant, machine.jti)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.revoked_at, Some(first));
    assert!(
        !store
            .revoke_access_token(w.tenant, tessera_core::ids::uuid_v7_at(again), again)
            .await
            .unwrap()
    );
    assert_eq!(w.events(kinds::TOKEN_ISSUED).await.len(), 1);
}

async fn a_client_assertion_jti_is_accepted_once_until_it_expires(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let jti = SecretHash::of_str("assertion-1");
    let expires = w.later(Duration::minutes(5));
    let remember = |at| {
        let store = store.clone();
        let jti = jti.clone();
        let (tenant, client) = (w.tenant, w.client.id);
        async move {
            store
                .remember_client_assertion(tenant, client, &jti, expires, at)
                .await
                .unwrap()
        }
    };
    assert!(remember(w.now()).await, "first use");
    assert!(!remember(w.now()).await, "a replay");
    // Another client may use the same jti: they are per client.
    let other = client(w.tenant, w.now());
    w.insert_client(&other).await;
    assert!(
        store
            .remember_client_assertion(w.tenant, other.id, &jti, expires, w.now())
            .await
            .unwrap()
    );
    // Once expired the record is dropped (the assertion itself is refused by its `exp`).
    assert!(remember(w.later(Duration::minutes(6))).await);
}

async fn expired_state_is_purged_and_live_state_kept(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    // A grant (with tokens) that ends within a day, and one that lives on.
    let mut ending = w.grant(&w.client, w.user);
    ending.expires_at = w.later(Duration::hours(1));
    let live = w.grant(&w.client, w.user);
    for (grant, secret) in [(&ending, "trt_ending"), (&live, "trt_live")] {
        store
            .insert_grant(
                grant,
                Some(&refresh_token(grant, secret, w.now())),
                &access_token(grant, w.now()),
                &w.event(kinds::TOKEN_ISSUED),
            )
            .await
            .unwrap();
    }
    let code = code(&w, "tac_old");
    store.insert_authorization_code(&code).await.unwrap();
    let session = w.session("tss_purge");
    store
        .insert_session(&session, &w.event(kinds::SIGN_IN_SUCCEEDED))
        .await
        .unwrap();
    store
        .add_session_client(session.id, w.client.id)
        .await
        .unwrap();

    // Two days on, with a horizon of one day: the code, the ending grant and the idle
    // session are gone; the live grant and its refresh token stay.
    let now = w.later(Duration::days(2));
    let purged = store
        .purge_expired(now, now - Duration::days(1))
        .await
        .unwrap();
    assert!(purged >= 6, "{purged}");
    assert_eq!(store.grant_by_id(w.tenant, ending.id).await.unwrap(), None);
    assert!(
        store
            .refresh_token(&SecretHash::of_str("trt_ending"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .grant_by_id(w.tenant, live.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .refresh_token(&SecretHash::of_str("trt_live"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .redeem_authorization_code(w.tenant, &code.code_hash, now)
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    assert_eq!(
        store.session_by_id(w.tenant, session.id).await.unwrap(),
        None
    );
    // Purging again finds nothing more.
    assert_eq!(
        store
            .purge_expired(now, now - Duration::days(1))
            .await
            .unwrap(),
        0
    );
}

conformance!(
    a_client_assertion_jti_is_accepted_once_until_it_expires,
    expired_state_is_purged_and_live_state_kept,
    an_authorization_code_is_redeemed_once,
    concurrent_redemptions_of_one_code_yield_one_fresh,
    grants_store_their_first_tokens_and_refuse_a_taken_id,
    revoking_an_unknown_grant_leaves_a_placeholder_that_blocks_it,
    revoking_a_grant_revokes_its_tokens_and_keeps_the_first_time,
    rotation_spends_the_token_once_and_reuse_stores_nothing,
    concurrent_rotations_of_one_token_yield_one_rotated,
    revoking_a_users_grants_for_one_client_or_all,
    a_client_credentials_token_is_found_and_revoked_once,
);
