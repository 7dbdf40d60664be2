//! Second factors on both stores: enrolling an authenticator app (sealed seed, confirmed by
//! a code), codes accepted once even when sent twice at the same time (A41), recovery codes
//! (hashed, single use, renewal voids the old set, A43), the per-factor lock (A05, A06),
//! removal, second-factor challenges, and erasure with the user (A45).

use crate::conformance;
use crate::lockout::{Setup, setup};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tessera_core::CoreError;
use tessera_core::clock::Clock;
use tessera_core::error::CodeRefusal;
use tessera_core::event::{Actor, kinds};
use tessera_core::lockout::{Factor, LockoutPolicy};
use tessera_core::mfa::CHALLENGE_LIFETIME;
use tessera_core::mfa::totp::TotpSeed;
use tessera_core::oauth::session::Authentication;
use tessera_core::service::TotpEnrolment;
use tessera_core::store::Store;
use time::Duration;

fn policy() -> LockoutPolicy {
    LockoutPolicy {
        free_attempts: 3,
        base_delay_seconds: 60,
        max_delay_seconds: 600,
        disable_after: 10,
        notify_user: false,
    }
}

/// The code an authenticator app shows at the clock's time, `offset` steps later.
fn app_code(setup: &Setup, enrolment: &TotpEnrolment, offset: i64) -> String {
    let seed = TotpSeed::from_base32(enrolment.secret.expose_secret()).unwrap();
    seed.code_at(setup.clock.now() + Duration::seconds(30 * offset))
}

async fn enrolled(setup: &Setup) -> (TotpEnrolment, Vec<SecretString>) {
    let enrolment = setup
        .core
        .begin_totp_enrolment(&setup.tenant, &setup.user, "Phone")
        .await
        .unwrap();
    let code = app_code(setup, &enrolment, 0);
    let codes = setup
        .core
        .confirm_totp_enrolment(&setup.tenant, &setup.user, enrolment.factor_id, &code)
        .await
        .unwrap()
        .expect("the first factor brings recovery codes");
    (enrolment, codes)
}

async fn enrolment_seals_the_seed_and_needs_a_code_from_the_app(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy()).await;
    let enrolment = setup
        .core
        .begin_totp_enrolment(&setup.tenant, &setup.user, "  Phone  ")
        .await
        .unwrap();
    assert!(
        enrolment
            .uri
            .expose_secret()
            .starts_with("otpauth://totp/Guarded:locked%40example.com?secret=")
    );
    // Unconfirmed, it is not a factor yet.
    let status = setup
        .core
        .mfa_status(&setup.tenant, setup.user.id)
        .await
        .unwrap();
    assert!(!status.enrolled());
    let stored = store
        .mfa_factors(setup.tenant.id, setup.user.id)
        .await
        .unwrap();
    let sealed = stored[0].sealed_secret.clone().unwrap();
    let seed = TotpSeed::from_base32(enrolment.secret.expose_secret()).unwrap();
    assert!(
        !sealed
            .windows(seed.as_bytes().len())
            .any(|w| w == seed.as_bytes()),
        "the seed is not stored in the clear"
    );
    assert_eq!(stored[0].name, "Phone");

    let right = app_code(&setup, &enrolment, 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = setup
        .core
        .confirm_totp_enrolment(&setup.tenant, &setup.user, enrolment.factor_id, wrong)
        .await;
    assert!(
        matches!(
            refused,
            Err(CoreError::CodeRefused(CodeRefusal::Wrong { .. }))
        ),
        "{refused:?}"
    );
    let codes = setup
        .core
        .confirm_totp_enrolment(
            &setup.tenant,
            &setup.user,
            enrolment.factor_id,
            &app_code(&setup, &enrolment, 0),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(codes.len(), 10);
    let status = setup
        .core
        .mfa_status(&setup.tenant, setup.user.id)
        .await
        .unwrap();
    assert_eq!(status.factors.len(), 1);
    assert_eq!(status.recovery_codes_left, 10);
    assert_eq!(setup.events(kinds::MFA_FACTOR_ADDED).await.len(), 1);
    // Confirming twice does nothing.
    let again = setup
        .core
        .confirm_totp_enrolment(
            &setup.tenant,
            &setup.user,
            enrolment.factor_id,
            &app_code(&setup, &enrolment, 1),
        )
        .await;
    assert!(matches!(again, Err(CoreError::NotFound(_))));
    // A second app brings no new recovery codes.
    let second = setup
        .core
        .begin_totp_enrolment(&setup.tenant, &setup.user, "Tablet")
        .await
        .unwrap();
    let none = setup
        .core
        .confirm_totp_enrolment(
            &setup.tenant,
            &setup.user,
            second.factor_id,
            &app_code(&setup, &second, 0),
        )
        .await
        .unwrap();
    assert!(none.is_none());
}

async fn a41_a_code_is_accepted_once_even_when_sent_twice_at_once(store: Arc<dyn Store>) {
    let roomy = LockoutPolicy {
        free_attempts: 10,
        disable_after: 20,
        ..policy()
    };
    let setup = setup(store, roomy).await;
    let (enrolment, _) = enrolled(&setup).await;
    // The enrolment spent the current step; the app's next code works once.
    setup.clock.advance(Duration::seconds(30));
    let code = app_code(&setup, &enrolment, 0);
    let (a, b) = tokio::join!(
        setup.core.verify_totp(&setup.tenant, &setup.user, &code),
        setup.core.verify_totp(&setup.tenant, &setup.user, &code),
    );
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
    let replay = setup
        .core
        .verify_totp(&setup.tenant, &setup.user, &code)
        .await;
    assert!(matches!(replay, Err(CoreError::CodeRefused(_))));
    // An older step (still within the drift window) is refused as well.
    let older = app_code(&setup, &enrolment, -1);
    assert!(
        setup
            .core
            .verify_totp(&setup.tenant, &setup.user, &older)
            .await
            .is_err()
    );
    setup.clock.advance(Duration::seconds(30));
    let next = app_code(&setup, &enrolment, 0);
    setup
        .core
        .verify_totp(&setup.tenant, &setup.user, &next)
        .await
        .unwrap();
}

async fn a06_guessing_codes_locks_the_factor_and_the_lock_holds_for_the_right_code(
    store: Arc<dyn Store>,
) {
    let setup = setup(store, policy()).await;
    let (enrolment, codes) = enrolled(&setup).await;
    setup.clock.advance(Duration::seconds(30));
    let right = app_code(&setup, &enrolment, 0);
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    for left in [2, 1, 0] {
        let refused = setup
            .core
            .verify_totp(&setup.tenant, &setup.user, wrong)
            .await;
        assert!(
            matches!(refused, Err(CoreError::CodeRefused(CodeRefusal::Wrong { attempts_left })) if attempts_left == left),
            "{refused:?}"
        );
    }
    let locked = setup
        .core
        .verify_totp(&setup.tenant, &setup.user, &right)
        .await;
    assert!(
        matches!(
            locked,
            Err(CoreError::Locked {
                retry_after_seconds: Some(60)
            })
        ),
        "{locked:?}"
    );
    // Recovery codes have a counter of their own, and the password's is untouched (A05).
    assert_eq!(setup.failures(Factor::Password).await, 0);
    let left = setup
        .core
        .use_recovery_code(&setup.tenant, &setup.user, codes[0].clone())
        .await
        .unwrap();
    assert_eq!(left, 9);
    // After the delay the right code passes and forgives the failures.
    setup.clock.advance(Duration::seconds(60));
    let code = app_code(&setup, &enrolment, 0);
    setup
        .core
        .verify_totp(&setup.tenant, &setup.user, &code)
        .await
        .unwrap();
    assert_eq!(setup.failures(Factor::Totp).await, 0);
}

async fn a43_recovery_codes_work_once_and_renewal_voids_the_old_set(store: Arc<dyn Store>) {
    let setup = setup(store, policy()).await;
    let (_, codes) = enrolled(&setup).await;
    let first = codes[3].clone();
    assert_eq!(
        setup
            .core
            .use_recovery_code(&setup.tenant, &setup.user, first.clone())
            .await
            .unwrap(),
        9
    );
    let again = setup
        .core
        .use_recovery_code(&setup.tenant, &setup.user, first)
        .await;
    assert!(matches!(again, Err(CoreError::CodeRefused(_))), "{again:?}");
    // Typed loosely: upper case, spaces for dashes.
    let sloppy = SecretString::from(codes[4].expose_secret().to_uppercase().replace('-', " "));
    assert_eq!(
        setup
            .core
            .use_recovery_code(&setup.tenant, &setup.user, sloppy)
            .await
            .unwrap(),
        8
    );
    assert_eq!(setup.events(kinds::RECOVERY_CODE_USED).await.len(), 2);

    let renewed = setup
        .core
        .renew_recovery_codes(&setup.tenant, &setup.user, true)
        .await
        .unwrap();
    assert_eq!(renewed.len(), 10);
    let old = setup
        .core
        .use_recovery_code(&setup.tenant, &setup.user, codes[5].clone())
        .await;
    assert!(old.is_err(), "the old set is void");
    let status = setup
        .core
        .mfa_status(&setup.tenant, setup.user.id)
        .await
        .unwrap();
    assert_eq!(status.recovery_codes_left, 10);
    setup
        .core
        .use_recovery_code(&setup.tenant, &setup.user, renewed[0].clone())
        .await
        .unwrap();
}

async fn removing_the_last_factor_removes_the_recovery_codes(store: Arc<dyn Store>) {
    let setup = setup(store, policy()).await;
    let (enrolment, _) = enrolled(&setup).await;
    let missing = setup
        .core
        .remove_mfa_factor(
            &setup.tenant,
            &setup.user,
            tessera_core::ids::MfaFactorId::new_at(setup.clock.now()),
            &Actor::System,
        )
        .await;
    assert!(matches!(missing, Err(CoreError::NotFound(_))));
    setup
        .core
        .remove_mfa_factor(
            &setup.tenant,
            &setup.user,
            enrolment.factor_id,
            &Actor::User(setup.user.id),
        )
        .await
        .unwrap();
    let status = setup
        .core
        .mfa_status(&setup.tenant, setup.user.id)
        .await
        .unwrap();
    assert!(!status.enrolled());
    assert_eq!(status.recovery_codes_left, 0);
    assert_eq!(setup.events(kinds::MFA_FACTOR_REMOVED).await.len(), 1);
    let code = setup
        .core
        .verify_totp(&setup.tenant, &setup.user, "123456")
        .await;
    assert!(matches!(code, Err(CoreError::NotFound(_))));
}

async fn sign_in_challenges_are_single_use_short_lived_and_bound_to_their_tenant(
    store: Arc<dyn Store>,
) {
    let setup = setup(store, policy()).await;
    let authentication = Authentication {
        at: Some(setup.clock.now()),
        methods: vec!["pwd".into()],
        acr: "urn:tessera:loa:1".into(),
    };
    let opened = setup
        .core
        .open_sign_in_challenge(&setup.user, authentication.clone(), false, None)
        .await
        .unwrap();
    let cookie = opened.cookie_value.expose_secret().to_owned();
    let (found, user) = setup
        .core
        .sign_in_challenge(&setup.tenant, &cookie)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, setup.user.id);
    assert_eq!(found.authentication, authentication);
    assert!(
        setup
            .core
            .sign_in_challenge(setup.core.default_tenant(), &cookie)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        setup
            .core
            .sign_in_challenge(&setup.tenant, "tsc_forged")
            .await
            .unwrap()
            .is_none()
    );
    assert!(setup.core.complete_sign_in_challenge(&found).await.unwrap());
    assert!(!setup.core.complete_sign_in_challenge(&found).await.unwrap());
    assert!(
        setup
            .core
            .sign_in_challenge(&setup.tenant, &cookie)
            .await
            .unwrap()
            .is_none()
    );

    let late = setup
        .core
        .open_sign_in_challenge(&setup.user, authentication, true, None)
        .await
        .unwrap();
    setup.clock.advance(CHALLENGE_LIFETIME);
    let cookie = late.cookie_value.expose_secret().to_owned();
    assert!(
        setup
            .core
            .sign_in_challenge(&setup.tenant, &cookie)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !setup
            .core
            .complete_sign_in_challenge(&late.challenge)
            .await
            .unwrap()
    );
}

async fn a45_deleting_the_user_erases_factors_codes_and_counters(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy()).await;
    enrolled(&setup).await;
    assert!(setup.sign_in("wrong").await.is_err());
    setup
        .core
        .delete_user(
            &tessera_core::auth::Authorized::for_system(&setup.tenant),
            setup.user.id,
        )
        .await
        .unwrap();
    assert!(
        store
            .mfa_factors(setup.tenant.id, setup.user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .recovery_codes_left(setup.tenant.id, setup.user.id)
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .lock_states(setup.tenant.id, setup.user.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn is_trusted(setup: &Setup, device: &str) -> bool {
    setup
        .core
        .is_trusted_device(&setup.tenant, &setup.user, Some(device))
        .await
        .unwrap()
}

async fn trusted_devices_expire_are_per_user_and_can_be_forgotten(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy()).await;
    let core = &setup.core;
    core.trust_device(
        &setup.tenant,
        &setup.user,
        Some("tsd_laptop"),
        "Firefox (Linux)",
    )
    .await
    .unwrap();
    core.trust_device(
        &setup.tenant,
        &setup.user,
        Some("tsd_phone"),
        "Safari (iOS)",
    )
    .await
    .unwrap();
    assert!(is_trusted(&setup, "tsd_laptop").await);
    assert!(!is_trusted(&setup, "tsd_stranger").await);
    assert!(
        !core
            .is_trusted_device(&setup.tenant, &setup.user, None)
            .await
            .unwrap()
    );
    assert_eq!(setup.events(kinds::DEVICE_TRUSTED).await.len(), 2);
    // Another user of the tenant does not inherit the trust.
    let other = core
        .create_user(
            &tessera_core::auth::Authorized::for_system(&setup.tenant),
            crate::fixtures::person("Ola", "Other", "other@example.com"),
        )
        .await
        .unwrap();
    assert!(
        !core
            .is_trusted_device(&setup.tenant, &other, Some("tsd_laptop"))
            .await
            .unwrap()
    );
    // Forget one, then all.
    let auth = tessera_core::auth::Authorized::for_system(&setup.tenant);
    let listed = core
        .admin_trusted_devices(&auth, setup.user.id)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let phone = listed
        .iter()
        .find(|d| d.label == "Safari (iOS)")
        .unwrap()
        .id;
    core.admin_forget_trusted_device(&auth, setup.user.id, phone)
        .await
        .unwrap();
    assert!(!is_trusted(&setup, "tsd_phone").await);
    assert!(is_trusted(&setup, "tsd_laptop").await);
    let again = core
        .admin_forget_trusted_device(&auth, setup.user.id, phone)
        .await;
    assert!(matches!(again, Err(CoreError::NotFound(_))));
    // Thirty days (the default) later, the laptop is no longer trusted.
    setup.clock.advance(Duration::days(30));
    assert!(!is_trusted(&setup, "tsd_laptop").await);
}

conformance!(
    trusted_devices_expire_are_per_user_and_can_be_forgotten,
    enrolment_seals_the_seed_and_needs_a_code_from_the_app,
    a41_a_code_is_accepted_once_even_when_sent_twice_at_once,
    a06_guessing_codes_locks_the_factor_and_the_lock_holds_for_the_right_code,
    a43_recovery_codes_work_once_and_renewal_voids_the_old_set,
    removing_the_last_factor_removes_the_recovery_codes,
    sign_in_challenges_are_single_use_short_lived_and_bound_to_their_tenant,
    a45_deleting_the_user_erases_factors_codes_and_counters,
);
