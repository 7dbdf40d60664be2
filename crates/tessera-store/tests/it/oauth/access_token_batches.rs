//! Access-token records and refresh-token rotations written by many callers at once: the
//! SQLite store writes them in shared transactions (group commit), and every caller must
//! still get its own, true answer.

use super::{World, access_token, client_access_token, refresh_token};
use crate::conformance;
use std::sync::Arc;
use tessera_core::event::{EventQuery, kinds};
use tessera_core::oauth::grant::Rotation;
use tessera_core::page::PageRequest;
use tessera_core::store::{Store, StoreError};
use tokio::task::JoinSet;

const CALLERS: usize = 200;

/// Every `token.issued` event of the tenant, page by page.
async fn issued_events(w: &World) -> usize {
    let mut count = 0;
    let mut after = None;
    loop {
        let page = w
            .store
            .list_events(
                w.tenant,
                &EventQuery {
                    kinds: vec![kinds::TOKEN_ISSUED.into()],
                    ..Default::default()
                },
                PageRequest::new(after, Some(100)),
            )
            .await
            .unwrap();
        count += page.items.len();
        match page.next_after {
            Some(next) => after = Some(next),
            None => return count,
        }
    }
}

async fn concurrent_records_are_all_stored_with_their_events(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let mut writers = JoinSet::new();
    for _ in 0..CALLERS {
        let store = store.clone();
        let record = client_access_token(&w.client, w.now());
        let event = w.event(kinds::TOKEN_ISSUED);
        writers.spawn(async move {
            store.insert_access_token(&record, &event).await.unwrap();
            record
        });
    }
    let records = writers.join_all().await;
    for record in &records {
        assert_eq!(
            store.access_token(w.tenant, record.jti).await.unwrap(),
            Some((record.clone(), None))
        );
    }
    assert_eq!(issued_events(&w).await, CALLERS);
}

async fn one_refused_record_fails_alone(store: Arc<dyn Store>) {
    let w = World::new(store.clone()).await;
    let taken = client_access_token(&w.client, w.now());
    store
        .insert_access_token(&taken, &w.event(kinds::TOKEN_ISSUED))
        .await
        .unwrap();
    let mut writers = JoinSet::new();
    for i in 0..CALLERS {
        let store = store.clone();
        // One caller repeats a jti that is already stored.
        let record = if i == CALLERS / 2 {
            taken.clone()
        } else {
            client_access_token(&w.client, w.now())
        };
        let event = w.event(kinds::TOKEN_ISSUED);
        writers.spawn(async move {
            let result = store.insert_access_token(&record, &event).await;
            (record, result)
        });
    }
    let mut refused = 0;
    for (record, result) in writers.join_all().await {
        match result {
            Ok(()) => assert!(
                store
                    .access_token(w.tenant, record.jti)
                    .await
                    .unwrap()
                    .is_some()
            ),
            Err(StoreError::Duplicate { .. }) => {
                assert_eq!(record.jti, taken.jti);
                refused += 1;
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(refused, 1);
    // The refused caller's event was not written: one for `taken`, one per accepted record.
    assert_eq!(issued_events(&w).await, CALLERS);
}

/// Rotations of many grants, each token presented twice, mixed with client_credentials
/// records: every grant rotates exactly once and the second presentation is reuse.
async fn concurrent_rotations_and_records_keep_their_guarantees(store: Arc<dyn Store>) {
    const GRANTS: usize = 40;
    let w = World::new(store.clone()).await;
    let mut firsts = Vec::new();
    for i in 0..GRANTS {
        let grant = w.grant(&w.client, w.user);
        let first = refresh_token(&grant, &format!("trt_batch_{i}"), w.now());
        store
            .insert_grant(
                &grant,
                Some(&first),
                &access_token(&grant, w.now()),
                &w.event(kinds::TOKEN_ISSUED),
            )
            .await
            .unwrap();
        firsts.push((grant, first));
    }
    let mut writers = JoinSet::new();
    for (i, (grant, first)) in firsts.iter().enumerate() {
        for attempt in 0..2 {
            let store = store.clone();
            let hash = first.token_hash.clone();
            let next = refresh_token(grant, &format!("trt_batch_{i}_{attempt}"), w.now());
            let access = access_token(grant, w.now());
            let event = w.event(kinds::TOKEN_REFRESHED);
            let grant_id = grant.id;
            writers.spawn(async move {
                let rotation = store
                    .rotate_refresh_token(&hash, access.issued_at, &next, &access, &event)
                    .await
                    .unwrap();
                Some((grant_id, rotation))
            });
        }
        let store = store.clone();
        let record = client_access_token(&w.client, w.now());
        let event = w.event(kinds::TOKEN_ISSUED);
        writers.spawn(async move {
            store.insert_access_token(&record, &event).await.unwrap();
            None
        });
    }
    let mut rotated = std::collections::HashMap::new();
    for (grant_id, rotation) in writers.join_all().await.into_iter().flatten() {
        match rotation {
            Rotation::Rotated(_) => *rotated.entry(grant_id).or_insert(0) += 1,
            Rotation::Reused(grant) => assert_eq!(grant.id, grant_id),
            Rotation::Unknown => panic!("a stored token was unknown"),
        }
    }
    assert_eq!(rotated.len(), GRANTS);
    assert!(rotated.values().all(|count| *count == 1), "{rotated:?}");
}

conformance!(
    concurrent_records_are_all_stored_with_their_events,
    one_refused_record_fails_alone,
    concurrent_rotations_and_records_keep_their_guarantees,
);
