//! A29: a new key is published before it signs; the old key stays published until the
//! tokens it signed have expired; keys survive a restart and need the right sealing key.

use crate::on_both_backends;
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::clock::ManualClock;
use tessera_core::oauth::client::SigningAlgorithm;
use tessera_core::sealing::SealingKey;
use tessera_oidc::keys::{KeyRing, KeyRingError, MAX_TOKEN_LIFETIME};
use time::Duration;

const SEALING: &str = "dGVzc2VyYS1vaWRjLWtleS1yaW5nLXRlc3Qta2V5LTE";

/// The kids of the published keys, after checking that the served (cached) `/jwks`
/// document is exactly the current key set, across rotations and retirements.
fn kids(ring: &KeyRing) -> Vec<String> {
    let served: serde_json::Value = serde_json::from_slice(&ring.jwks_document().unwrap()).unwrap();
    let current = ring.jwks();
    assert_eq!(served, serde_json::to_value(&current).unwrap());
    current
        .keys
        .iter()
        .map(|key| key.kid().unwrap_or_default().to_owned())
        .collect()
}

async fn a29_a_new_key_is_published_before_it_signs(core: Core, clock: Arc<ManualClock>) {
    let ring = KeyRing::start(core.clone(), SealingKey::from_base64(SEALING).unwrap())
        .await
        .unwrap();
    // First start: one key per algorithm, each signing at once.
    assert_eq!(kids(&ring).len(), 3);
    let old = ring
        .signer(SigningAlgorithm::Es256)
        .unwrap()
        .kid()
        .to_owned();

    let now = core.clock().now();
    let new = ring
        .add_key(SigningAlgorithm::Es256, now + Duration::hours(1))
        .await
        .unwrap();
    assert!(kids(&ring).contains(&new), "published at once");
    assert_eq!(
        ring.signer(SigningAlgorithm::Es256).unwrap().kid(),
        old,
        "not signing yet"
    );

    clock.advance(Duration::hours(1));
    assert_eq!(
        ring.signer(SigningAlgorithm::Es256).unwrap().kid(),
        new,
        "signs once active"
    );
    assert!(
        kids(&ring).contains(&old),
        "the old key stays for its tokens"
    );

    clock.advance(MAX_TOKEN_LIFETIME);
    assert!(
        !kids(&ring).contains(&old),
        "gone once its tokens have expired"
    );
    assert!(kids(&ring).contains(&new));
    // Other algorithms were not touched.
    assert_eq!(kids(&ring).len(), 3);
}

async fn keys_survive_a_restart_and_need_the_right_sealing_key(
    core: Core,
    _clock: Arc<ManualClock>,
) {
    let first = KeyRing::start(core.clone(), SealingKey::from_base64(SEALING).unwrap())
        .await
        .unwrap();
    let again = KeyRing::start(core.clone(), SealingKey::from_base64(SEALING).unwrap())
        .await
        .unwrap();
    assert_eq!(
        kids(&first),
        kids(&again),
        "no new keys on the second start"
    );
    let wrong = KeyRing::start(core, SealingKey::generate()).await;
    assert!(matches!(wrong, Err(KeyRingError::Undecryptable { .. })));
}

async fn scheduled_rotation_starts_a_successor_once(core: Core, clock: Arc<ManualClock>) {
    let ring = KeyRing::start(core.clone(), SealingKey::from_base64(SEALING).unwrap())
        .await
        .unwrap();
    let every = Duration::days(90);
    let ahead = Duration::hours(1);
    assert!(
        ring.rotate_due(every, ahead).await.unwrap().is_empty(),
        "nothing is due yet"
    );
    clock.advance(Duration::days(90));
    let made = ring.rotate_due(every, ahead).await.unwrap();
    assert_eq!(made.len(), 3, "one successor per algorithm");
    assert!(
        ring.rotate_due(every, ahead).await.unwrap().is_empty(),
        "a waiting successor is enough"
    );
    for kid in &made {
        assert!(kids(&ring).contains(kid));
    }
    clock.advance(ahead);
    assert!(
        made.contains(
            &ring
                .signer(SigningAlgorithm::Rs256)
                .unwrap()
                .kid()
                .to_owned()
        )
    );
}

on_both_backends!(
    a29_a_new_key_is_published_before_it_signs,
    keys_survive_a_restart_and_need_the_right_sealing_key,
    scheduled_rotation_starts_a_successor_once,
);
