//! Passkeys on both stores, driven by webauthn-rs's soft authenticator: several named
//! passkeys per user, the first bringing recovery codes; a passkey as the second factor and
//! as the only one (discoverable); single-use, short-lived ceremonies bound to their user,
//! purpose and tenant; counters that must grow (A42); the per-factor lock (A05).

use crate::conformance;
use crate::fixtures::person;
use crate::lockout::{Setup, setup};
use secrecy::SecretString;
use std::sync::Arc;
use tessera_core::CoreError;
use tessera_core::auth::Authorized;
use tessera_core::clock::Clock;
use tessera_core::event::{Event, kinds};
use tessera_core::lockout::{Factor, LockoutPolicy};
use tessera_core::mfa::FactorKind;
use tessera_core::mfa::passkey::{CEREMONY_LIFETIME, StoredPasskey};
use tessera_core::risk::RiskDecision;
use tessera_core::service::{PasskeyOptions, SignInContext};
use tessera_core::store::Store;
use tessera_core::user::User;
use time::Duration;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const ORIGIN: &str = "https://login.example.com";

fn policy() -> LockoutPolicy {
    LockoutPolicy {
        free_attempts: 3,
        base_delay_seconds: 60,
        max_delay_seconds: 600,
        disable_after: 10,
        notify_user: false,
    }
}

/// A soft authenticator that verifies its user (as a passkey must).
fn authenticator() -> SoftPasskey {
    SoftPasskey::new(true)
}

fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}

fn ceremony(options: &PasskeyOptions) -> String {
    secrecy::ExposeSecret::expose_secret(&options.ceremony).to_owned()
}

/// Registers a passkey on `key` for `user`; the recovery codes when it was the first factor.
async fn register(
    setup: &Setup,
    user: &User,
    key: &mut SoftPasskey,
    name: &str,
) -> Result<Option<Vec<SecretString>>, CoreError> {
    let options = setup
        .core
        .begin_passkey_registration(ORIGIN, &setup.tenant, user)
        .await
        .unwrap();
    let creation: CreationChallengeResponse =
        serde_json::from_value(options.options.clone()).unwrap();
    assert_eq!(
        options.options["publicKey"]["authenticatorSelection"]["residentKey"], "preferred",
        "passkeys are asked to be discoverable"
    );
    let response = key.do_registration(origin(), creation).unwrap();
    setup
        .core
        .finish_passkey_registration(
            ORIGIN,
            &setup.tenant,
            user,
            &ceremony(&options),
            &serde_json::to_string(&response).unwrap(),
            name,
        )
        .await
}

/// A second-factor ceremony for the setup's user and `key`'s answer to it.
async fn second_factor_answer(setup: &Setup, key: &mut SoftPasskey) -> (String, String) {
    let options = setup
        .core
        .begin_passkey_second_factor(ORIGIN, &setup.tenant, &setup.user)
        .await
        .unwrap();
    let request: RequestChallengeResponse =
        serde_json::from_value(options.options.clone()).unwrap();
    let response = key.do_authentication(origin(), request).unwrap();
    (
        ceremony(&options),
        serde_json::to_string(&response).unwrap(),
    )
}

async fn verify(setup: &Setup, ceremony: &str, response: &str) -> Result<(), CoreError> {
    setup
        .core
        .verify_passkey(ORIGIN, &setup.tenant, &setup.user, ceremony, response)
        .await
}

fn context(setup: &Setup) -> SignInContext {
    SignInContext {
        tenant_id: setup.tenant.id,
        client_id: None,
        ip: Some("203.0.113.9".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0".into()),
        device: Some("tsd_passkey_browser".into()),
        human_verified: false,
        captcha_passed: false,
        risk: None,
    }
}

/// A passwordless answer from `key`. The soft authenticator keeps no resident keys: it is
/// told which credential to use and its answer is given the user handle a resident key
/// returns (the handle is not signed, so the assertion stays valid).
async fn discoverable_answer(
    setup: &Setup,
    key: &mut SoftPasskey,
    credential_id: &[u8],
    user_handle: &[u8],
) -> (String, String) {
    let options = setup
        .core
        .begin_passkey_sign_in(ORIGIN, &setup.tenant)
        .await
        .unwrap();
    let mut request = options.options.clone();
    assert_eq!(
        request["publicKey"]["allowCredentials"],
        serde_json::json!([]),
        "any passkey of the tenant may answer"
    );
    request["publicKey"]["allowCredentials"] = serde_json::json!([{
        "type": "public-key",
        "id": base64url(credential_id),
    }]);
    let request: RequestChallengeResponse = serde_json::from_value(request).unwrap();
    let response = key.do_authentication(origin(), request).unwrap();
    let mut response = serde_json::to_value(&response).unwrap();
    response["response"]["userHandle"] = serde_json::json!(base64url(user_handle));
    (ceremony(&options), response.to_string())
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn passkeys(setup: &Setup) -> Vec<tessera_core::mfa::MfaFactor> {
    setup
        .core
        .mfa_status(&setup.tenant, setup.user.id)
        .await
        .unwrap()
        .factors
        .into_iter()
        .filter(|f| f.kind == FactorKind::Passkey)
        .collect()
}

async fn events(setup: &Setup, kind: &str) -> Vec<Event> {
    setup.events(kind).await
}

async fn several_named_passkeys_the_first_with_recovery_codes(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy()).await;
    let mut laptop = authenticator();
    let mut phone = authenticator();
    let codes = register(&setup, &setup.user, &mut laptop, "  Laptop ")
        .await
        .unwrap()
        .expect("the first factor brings recovery codes");
    assert_eq!(codes.len(), 10);
    let second = register(&setup, &setup.user, &mut phone, "").await.unwrap();
    assert!(second.is_none(), "later factors keep the set");
    let factors = passkeys(&setup).await;
    let names: Vec<&str> = factors.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Laptop", "Passkey"]);
    // Only public data is kept: the credential id and webauthn-rs's public credential.
    let stored = factors[0].passkey.clone().unwrap();
    assert!(!stored.credential_id.is_empty());
    assert!(stored.credential.contains("\"cred\""));
    assert_eq!(events(&setup, kinds::MFA_FACTOR_ADDED).await.len(), 2);

    // The same credential never names a second factor or another account of the tenant.
    let mut copy = factors[0].clone();
    copy.id = tessera_core::ids::MfaFactorId::new_at(setup.clock.now());
    let event = events(&setup, kinds::MFA_FACTOR_ADDED).await.remove(0);
    assert!(!store.add_passkey(&copy, &event).await.unwrap());
    // A name that is too long or has control characters is refused, nothing stored.
    let mut tablet = authenticator();
    let refused = register(&setup, &setup.user, &mut tablet, "Tab\u{7}let").await;
    assert!(matches!(refused, Err(CoreError::Validation(_))));
    assert_eq!(passkeys(&setup).await.len(), 2);
}

async fn a_passkey_confirms_a_sign_in_and_each_ceremony_works_once(store: Arc<dyn Store>) {
    let setup = setup(store, policy()).await;
    let mut key = authenticator();
    register(&setup, &setup.user, &mut key, "Laptop")
        .await
        .unwrap();
    let (ceremony, response) = second_factor_answer(&setup, &mut key).await;
    verify(&setup, &ceremony, &response).await.unwrap();
    // The same answer again: its ceremony is spent.
    let replay = verify(&setup, &ceremony, &response).await;
    assert!(matches!(replay, Err(CoreError::NotFound(_))), "{replay:?}");
    // An old answer to a new ceremony signs the wrong challenge: a counted failure.
    let (fresh, _) = second_factor_answer(&setup, &mut key).await;
    let stale = verify(&setup, &fresh, &response).await;
    assert!(matches!(stale, Err(CoreError::CodeRefused(_))), "{stale:?}");
    assert_eq!(setup.failures(Factor::Passkey).await, 1);
    // A ceremony lasts minutes.
    let (late, answer) = second_factor_answer(&setup, &mut key).await;
    setup
        .clock
        .advance(CEREMONY_LIFETIME + Duration::seconds(1));
    assert!(matches!(
        verify(&setup, &late, &answer).await,
        Err(CoreError::NotFound(_))
    ));
    // A ceremony of one user is not another's, nor a registration's.
    let mut other = person("Ola", "Other", "other@example.com");
    other.password = Some(SecretString::from("violet kettle marathon 42"));
    let other = setup
        .core
        .create_user(&Authorized::for_system(&setup.tenant), other)
        .await
        .unwrap();
    let (theirs, answer) = second_factor_answer(&setup, &mut key).await;
    let refused = setup
        .core
        .verify_passkey(ORIGIN, &setup.tenant, &other, &theirs, &answer)
        .await;
    assert!(matches!(refused, Err(CoreError::NotFound(_))));
    let (mine, answer) = second_factor_answer(&setup, &mut key).await;
    let as_registration = setup
        .core
        .finish_passkey_registration(ORIGIN, &setup.tenant, &setup.user, &mine, &answer, "x")
        .await;
    assert!(matches!(as_registration, Err(CoreError::NotFound(_))));
    // A user without passkeys has no ceremony to start.
    let none = setup
        .core
        .begin_passkey_second_factor(ORIGIN, &setup.tenant, &other)
        .await;
    assert!(matches!(none, Err(CoreError::NotFound(_))));
    // Garbage is refused as such, without a panic.
    let (ceremony, _) = second_factor_answer(&setup, &mut key).await;
    assert!(matches!(
        verify(&setup, &ceremony, "{\"id\": 1}").await,
        Err(CoreError::Validation(_))
    ));
}

async fn a42_a_counter_that_does_not_grow_is_refused(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy()).await;
    let mut key = authenticator();
    register(&setup, &setup.user, &mut key, "Laptop")
        .await
        .unwrap();
    // Two answers signed in order (counters n and n+1), checked in the other order: the
    // later one passes, the earlier one then looks like a clone.
    let (first, first_answer) = second_factor_answer(&setup, &mut key).await;
    let (second, second_answer) = second_factor_answer(&setup, &mut key).await;
    verify(&setup, &second, &second_answer).await.unwrap();
    let cloned = verify(&setup, &first, &first_answer).await;
    assert!(
        matches!(cloned, Err(CoreError::CodeRefused(_))),
        "{cloned:?}"
    );
    assert_eq!(
        events(&setup, kinds::PASSKEY_CLONE_SUSPECTED).await.len(),
        1
    );
    // The store's compare-and-set refuses a counter at or below the stored one, whatever
    // the credential says; zero stays acceptable only while both are zero.
    let factor = passkeys(&setup).await.remove(0);
    let stored = factor.last_step.unwrap();
    assert!(stored >= 2);
    let credential = factor.passkey.clone().unwrap().credential;
    let advance = |counter: u32| {
        let store = store.clone();
        let credential = credential.clone();
        let (tenant, user, id) = (setup.tenant.id, setup.user.id, factor.id);
        let now = setup.clock.now();
        async move {
            store
                .advance_passkey(tenant, user, id, counter, &credential, now)
                .await
                .unwrap()
        }
    };
    let stored = u32::try_from(stored).unwrap();
    assert!(!advance(stored).await);
    assert!(!advance(stored - 1).await);
    assert!(!advance(0).await);
    assert!(advance(stored + 1).await);
    // Concurrent uses with the same counter: exactly one passes.
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(advance(stored + 5))).collect();
    let mut passed = 0;
    for task in tasks {
        passed += usize::from(task.await.unwrap());
    }
    assert_eq!(passed, 1);
    // A counter moved ahead behind the credential's back (another use raced this one):
    // the next answer, valid for webauthn-rs, still fails the compare-and-set.
    assert!(advance(stored + 100).await);
    let (ceremony, answer) = second_factor_answer(&setup, &mut key).await;
    assert!(verify(&setup, &ceremony, &answer).await.is_err());
    assert_eq!(
        events(&setup, kinds::PASSKEY_CLONE_SUSPECTED).await.len(),
        2
    );
}

async fn a05_wrong_answers_lock_the_passkey_and_the_lock_holds(store: Arc<dyn Store>) {
    let setup = setup(store, policy()).await;
    let mut key = authenticator();
    register(&setup, &setup.user, &mut key, "Laptop")
        .await
        .unwrap();
    let (_, stale) = second_factor_answer(&setup, &mut key).await;
    for _ in 0..3 {
        let (ceremony, _) = second_factor_answer(&setup, &mut key).await;
        let _ = verify(&setup, &ceremony, &stale).await;
    }
    assert_eq!(setup.failures(Factor::Passkey).await, 3);
    // Locked now: even a right answer waits.
    let (ceremony, answer) = second_factor_answer(&setup, &mut key).await;
    let locked = verify(&setup, &ceremony, &answer).await;
    assert!(
        matches!(locked, Err(CoreError::Locked { .. })),
        "{locked:?}"
    );
    // The password is a different factor: it is not locked by the passkey's failures.
    assert!(setup.sign_in("correct horse battery staple").await.is_ok());
    setup.clock.advance(Duration::minutes(2));
    let (ceremony, answer) = second_factor_answer(&setup, &mut key).await;
    verify(&setup, &ceremony, &answer).await.unwrap();
    assert_eq!(setup.failures(Factor::Passkey).await, 0);
}

async fn a_passkey_signs_in_alone_naming_its_user(store: Arc<dyn Store>) {
    let setup = setup(store, policy()).await;
    let mut key = authenticator();
    register(&setup, &setup.user, &mut key, "Laptop")
        .await
        .unwrap();
    let stored: StoredPasskey = passkeys(&setup).await.remove(0).passkey.unwrap();
    let user_handle = setup.user.id.as_uuid().as_bytes().to_vec();
    let (ceremony, answer) =
        discoverable_answer(&setup, &mut key, &stored.credential_id, &user_handle).await;
    let signed_in = setup
        .core
        .sign_in_with_passkey(&context(&setup), ORIGIN, &ceremony, &answer)
        .await
        .unwrap();
    assert_eq!(signed_in.user.id, setup.user.id);
    assert_eq!(signed_in.risk.decision, RiskDecision::Allow);

    // Answers the passkey did not sign for this ceremony (here: an earlier one's) are
    // refused without touching the user's lock: a signature cannot be guessed, and whoever
    // learns a credential id must not be able to lock its owner out.
    let (_, stale) =
        discoverable_answer(&setup, &mut key, &stored.credential_id, &user_handle).await;
    for _ in 0..5 {
        let (ceremony, _) =
            discoverable_answer(&setup, &mut key, &stored.credential_id, &user_handle).await;
        let refused = setup
            .core
            .sign_in_with_passkey(&context(&setup), ORIGIN, &ceremony, &stale)
            .await;
        assert!(matches!(refused, Err(CoreError::InvalidCredentials)));
    }
    assert_eq!(setup.failures(Factor::Passkey).await, 0);
    let (ceremony, answer) =
        discoverable_answer(&setup, &mut key, &stored.credential_id, &user_handle).await;
    setup
        .core
        .sign_in_with_passkey(&context(&setup), ORIGIN, &ceremony, &answer)
        .await
        .unwrap();

    // A handle naming someone else than the credential's owner: refused, audited.
    let (ceremony, answer) = discoverable_answer(
        &setup,
        &mut key,
        &stored.credential_id,
        tessera_core::ids::UserId::new_at(setup.clock.now())
            .as_uuid()
            .as_bytes(),
    )
    .await;
    let refused = setup
        .core
        .sign_in_with_passkey(&context(&setup), ORIGIN, &ceremony, &answer)
        .await;
    assert!(matches!(refused, Err(CoreError::InvalidCredentials)));
    let failed = events(&setup, kinds::SIGN_IN_FAILED).await;
    let last = failed.last().unwrap();
    assert_eq!(last.payload["method"], "passkey");
    assert_eq!(last.payload["reason"], "unknown_passkey");

    // A disabled account cannot sign in with its passkey.
    let auth = Authorized::for_system(&setup.tenant);
    setup.core.disable_user(&auth, setup.user.id).await.unwrap();
    let (ceremony, answer) =
        discoverable_answer(&setup, &mut key, &stored.credential_id, &user_handle).await;
    let refused = setup
        .core
        .sign_in_with_passkey(&context(&setup), ORIGIN, &ceremony, &answer)
        .await;
    assert!(matches!(refused, Err(CoreError::InvalidCredentials)));
}

async fn a45_deleting_the_user_erases_passkeys_and_ceremonies(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy()).await;
    let mut key = authenticator();
    register(&setup, &setup.user, &mut key, "Laptop")
        .await
        .unwrap();
    let credential_id = passkeys(&setup).await[0]
        .passkey
        .clone()
        .unwrap()
        .credential_id;
    let (pending, _) = second_factor_answer(&setup, &mut key).await;
    setup
        .core
        .delete_user(&Authorized::for_system(&setup.tenant), setup.user.id)
        .await
        .unwrap();
    assert!(
        store
            .passkey_by_credential(setup.tenant.id, &credential_id)
            .await
            .unwrap()
            .is_none()
    );
    let hash = tessera_core::secret::SecretHash::of_str(&pending);
    assert!(
        store
            .take_passkey_ceremony(setup.tenant.id, &hash, setup.clock.now())
            .await
            .unwrap()
            .is_none()
    );
}

conformance!(
    several_named_passkeys_the_first_with_recovery_codes,
    a_passkey_confirms_a_sign_in_and_each_ceremony_works_once,
    a42_a_counter_that_does_not_grow_is_refused,
    a05_wrong_answers_lock_the_passkey_and_the_lock_holds,
    a_passkey_signs_in_alone_naming_its_user,
    a45_deleting_the_user_erases_passkeys_and_ceremonies,
);
