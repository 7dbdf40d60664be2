//! Access-token records written by many callers at once: the SQLite store writes them in
//! batches (group commit), and every caller must still get its own, true answer.

use super::{World, client_access_token};
use crate::conformance;
use std::sync::Arc;
use tessera_core::event::{EventQuery, kinds};
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

conformance!(
    concurrent_records_are_all_stored_with_their_events,
    one_refused_record_fails_alone,
);
