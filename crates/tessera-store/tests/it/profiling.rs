//! Progressive profiling's skips on both stores: kept per user, client and attribute, a
//! later skip replaces an earlier one, and tenants do not see each other's.

use crate::conformance;
use crate::fixtures::{core, person, tenant};
use std::sync::Arc;
use tessera_core::clock::Clock;
use tessera_core::ids::{ClientId, UserId};
use tessera_core::store::Store;
use time::Duration;

conformance!(
    skips_are_kept_per_user_client_and_attribute,
    deleting_a_user_removes_its_skips
);

async fn skips_are_kept_per_user_client_and_attribute(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (acme, _) = tenant(&core, "acme").await;
    let (globex, _) = tenant(&core, "globex").await;
    let now = clock.now();
    let (ada, bea) = (UserId::new_at(now), UserId::new_at(now));
    let (shop, blog) = (ClientId::new_at(now), ClientId::new_at(now));
    let skipped = ["address".to_owned(), "attributes.shoe_size".to_owned()];
    store
        .record_profiling_skips(acme.id, ada, shop, &skipped, now)
        .await
        .unwrap();
    let later = now + Duration::days(3);
    store
        .record_profiling_skips(acme.id, ada, shop, &skipped[..1], later)
        .await
        .unwrap();
    let mut skips = store.profiling_skips(acme.id, ada, shop).await.unwrap();
    skips.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    assert_eq!(skips.len(), 2);
    assert_eq!(skips[0].attribute, "address");
    assert_eq!(skips[0].skipped_at, later);
    assert_eq!(skips[1].attribute, "attributes.shoe_size");
    assert_eq!(skips[1].skipped_at, now);
    for (tenant, user, client) in [
        (acme.id, ada, blog),
        (acme.id, bea, shop),
        (globex.id, ada, shop),
    ] {
        assert!(
            store
                .profiling_skips(tenant, user, client)
                .await
                .unwrap()
                .is_empty()
        );
    }
    store
        .record_profiling_skips(acme.id, bea, shop, &[], now)
        .await
        .unwrap();
    assert!(
        store
            .profiling_skips(acme.id, bea, shop)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A45: a deleted user's skips (which apps asked them what) go with the account.
async fn deleting_a_user_removes_its_skips(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let now = clock.now();
    let ada = core
        .create_user(&auth, person("Ada", "L", "ada@example.com"))
        .await
        .unwrap();
    let bea = core
        .create_user(&auth, person("Bea", "M", "bea@example.com"))
        .await
        .unwrap();
    let shop = ClientId::new_at(now);
    for user in [ada.id, bea.id] {
        store
            .record_profiling_skips(acme.id, user, shop, &["address".to_owned()], now)
            .await
            .unwrap();
    }
    core.delete_user(&auth, ada.id).await.unwrap();
    assert!(
        store
            .profiling_skips(acme.id, ada.id, shop)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .profiling_skips(acme.id, bea.id, shop)
            .await
            .unwrap()
            .len(),
        1
    );
}
