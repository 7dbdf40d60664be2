//! The risk engine's memory on both stores: successful sign-ins (newest first, within a
//! window, at most a limit, erased with the user), failed attempts per IP address, and
//! proof-of-work solutions spent once — and the sign-in service over them: a deny-listed
//! address is blocked unhashed, a risky attempt needs a proof of work, and the assessment
//! goes on the sign-in events.

use crate::conformance;
use crate::lockout::setup;
use secrecy::SecretString;
use std::sync::Arc;
use tessera_core::CoreError;
use tessera_core::bot::pow::{payload, solve};
use tessera_core::clock::Clock;
use tessera_core::event::kinds;
use tessera_core::lockout::LockoutPolicy;
use tessera_core::risk::{CountryCode, GeoPoint, IpList};
use tessera_core::secret::SecretHash;
use tessera_core::service::{RiskSources, SignInContext};
use tessera_core::sign_in_history::SignInRecord;
use tessera_core::store::Store;
use time::Duration;

async fn sign_ins_are_kept_newest_first_within_the_window(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), LockoutPolicy::default()).await;
    let now = setup.clock.now();
    for (days_ago, country) in [(40, "FR"), (3, "DE"), (1, "US")] {
        store
            .record_sign_in(&SignInRecord {
                tenant_id: setup.tenant.id,
                user_id: setup.user.id,
                at: now - Duration::days(days_ago),
                device: Some(SecretHash::of_str(country)),
                geo: Some(GeoPoint {
                    country: CountryCode::parse(country),
                    asn: Some(3320),
                    coordinates: None,
                }),
            })
            .await
            .unwrap();
    }
    let recent = store
        .recent_sign_ins(setup.tenant.id, setup.user.id, now - Duration::days(30), 10)
        .await
        .unwrap();
    let countries: Vec<_> = recent
        .iter()
        .map(|r| r.geo.unwrap().country.unwrap().as_str().to_owned())
        .collect();
    assert_eq!(countries, ["US", "DE"]);
    assert_eq!(recent[0].device, Some(SecretHash::of_str("US")));
    let limited = store
        .recent_sign_ins(setup.tenant.id, setup.user.id, now - Duration::days(90), 1)
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);
    let other = store
        .recent_sign_ins(
            setup.core.default_tenant().id,
            setup.user.id,
            now - Duration::days(90),
            10,
        )
        .await
        .unwrap();
    assert!(other.is_empty(), "another tenant sees nothing");

    setup
        .core
        .delete_user(
            &tessera_core::auth::Authorized::for_system(&setup.tenant),
            setup.user.id,
        )
        .await
        .unwrap();
    let erased = store
        .recent_sign_ins(setup.tenant.id, setup.user.id, now - Duration::days(90), 10)
        .await
        .unwrap();
    assert!(erased.is_empty(), "A45");
}

async fn failures_are_counted_per_address_and_solutions_spent_once(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), LockoutPolicy::default()).await;
    let now = setup.clock.now();
    for minutes in [1, 2, 30] {
        store
            .record_failed_sign_in(
                setup.tenant.id,
                Some("198.51.100.4"),
                Some(setup.user.id),
                now - Duration::minutes(minutes),
            )
            .await
            .unwrap();
    }
    store
        .record_failed_sign_in(setup.tenant.id, Some("198.51.100.9"), None, now)
        .await
        .unwrap();
    let since = now - Duration::minutes(15);
    assert_eq!(
        store
            .failed_sign_ins_from(setup.tenant.id, "198.51.100.4", since)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .failed_sign_ins_from(setup.tenant.id, "198.51.100.5", since)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .failed_sign_ins_of(setup.tenant.id, setup.user.id, since)
            .await
            .unwrap(),
        2,
        "per account, within the window"
    );
    assert_eq!(
        store
            .failed_sign_ins_of(setup.tenant.id, setup.user.id, since)
            .await
            .unwrap(),
        2,
        "per account, within the window"
    );
    let expires = now + Duration::minutes(10);
    assert!(store.spend("a1b2", expires).await.unwrap());
    assert!(!store.spend("a1b2", expires).await.unwrap(), "once");
    let (first, second) = tokio::join!(store.spend("c3d4", expires), store.spend("c3d4", expires));
    assert_ne!(first.unwrap(), second.unwrap(), "one of two at once");
}

fn context(setup: &crate::lockout::Setup, ip: &str) -> SignInContext {
    SignInContext {
        tenant_id: setup.tenant.id,
        client_id: None,
        ip: Some(ip.to_owned()),
        user_agent: None,
        device: Some("tsd_laptop".into()),
        human_verified: false,
        captcha_passed: false,
        risk: None,
    }
}

const PASSWORD: &str = "correct horse battery staple";

async fn risk_blocks_deny_listed_addresses_and_asks_risky_ones_for_a_proof_of_work(
    store: Arc<dyn Store>,
) {
    let setup = setup(store.clone(), LockoutPolicy::default()).await;
    let mut tenant = setup.tenant.clone();
    tenant.settings.bot_defence.pow = tessera_core::bot::Trigger::WhenRisky;
    tenant.settings.risk.block_at = Some(100);
    tenant.settings.risk.captcha_at = Some(30);
    setup.core.set_risk_sources(RiskSources {
        deny_list: Some(IpList::parse("192.0.2.0/24\n").unwrap()),
        tor_exits: Some(IpList::parse("ExitAddress 198.51.100.66 2026-11-01 08:00:00\n").unwrap()),
        ..RiskSources::default()
    });
    let patch = tessera_core::service::TenantPatch {
        display_name: None,
        domains: None,
        settings: Some(tenant.settings.clone()),
    };
    setup
        .core
        .update_tenant(&tessera_core::auth::Authorized::for_system(&tenant), patch)
        .await
        .unwrap();

    // Deny-listed: refused like a wrong password, and the password is not even checked.
    let blocked = setup
        .core
        .check_password(
            &context(&setup, "192.0.2.10"),
            "locked@example.com",
            SecretString::from(PASSWORD),
        )
        .await;
    assert!(
        matches!(blocked, Err(CoreError::InvalidCredentials)),
        "{blocked:?}"
    );
    let failed = setup.events(kinds::SIGN_IN_FAILED).await;
    let last = failed.last().unwrap();
    assert_eq!(last.payload["reason"], "risk_blocked");
    assert_eq!(last.payload["risk"]["decision"], "block");
    let codes: Vec<&str> = last.payload["risk"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"ip_deny_listed"), "{codes:?}");
    assert_eq!(
        setup
            .failures(tessera_core::lockout::Factor::Password)
            .await,
        0
    );

    // A Tor exit (35 points) needs a proof of work, from unknown accounts too.
    for email in ["locked@example.com", "nobody@example.com"] {
        let asked = setup
            .core
            .check_password(
                &context(&setup, "198.51.100.66"),
                email,
                SecretString::from(PASSWORD),
            )
            .await;
        assert!(
            matches!(asked, Err(CoreError::BotCheckRequired)),
            "{asked:?}"
        );
    }
    let challenge = setup.core.pow_challenge(&tenant).unwrap();
    let number = solve(&challenge).unwrap();
    let solution = payload(&challenge, number, 5);
    assert!(setup.core.redeem_pow(&tenant, &solution).await.unwrap());
    assert!(
        !setup.core.redeem_pow(&tenant, &solution).await.unwrap(),
        "spent"
    );
    let verified = SignInContext {
        human_verified: true,
        ..context(&setup, "198.51.100.66")
    };
    let signed_in = setup
        .core
        .check_password(
            &verified,
            "locked@example.com",
            SecretString::from(PASSWORD),
        )
        .await
        .unwrap();
    assert_eq!(
        signed_in.risk.decision,
        tessera_core::risk::RiskDecision::RequireCaptcha
    );
    assert!(
        signed_in
            .risk
            .reasons
            .iter()
            .any(|r| r.code() == "tor_exit")
    );
    // A solution for another tenant does not count here.
    let other = setup.core.default_tenant().clone();
    let foreign = setup.core.pow_challenge(&other).unwrap();
    let foreign = payload(&foreign, solve(&foreign).unwrap(), 5);
    assert!(!setup.core.redeem_pow(&tenant, &foreign).await.unwrap());

    // Sign-ups are weighed the same way: a deny-listed address is blocked, a Tor address
    // must carry a proof of work, an ordinary one need not.
    let place = |ip: &str| tessera_core::service::SignUpPlace {
        language: "en".into(),
        link_base: "https://id.example".into(),
        continue_handle: None,
        client_id: None,
        ip: Some(ip.into()),
        browser: None,
        human_verified: false,
        captcha_passed: false,
    };
    let checks = |ip: &'static str| {
        let core = setup.core.clone();
        let tenant = tenant.clone();
        async move { core.sign_up_checks(&tenant, &place(ip)).await.unwrap() }
    };
    assert_eq!(checks("192.0.2.77").await, None, "blocked");
    assert!(checks("198.51.100.66").await.unwrap().pow);
    assert!(!checks("203.0.113.77").await.unwrap().pow);
    let mut off = tenant.clone();
    off.settings.bot_defence.pow = tessera_core::bot::Trigger::Off;
    let checks = setup
        .core
        .sign_up_checks(&off, &place("198.51.100.66"))
        .await
        .unwrap()
        .unwrap();
    assert!(!checks.pow);
}

async fn with_risk_off_nothing_is_assessed_but_sign_ins_are_remembered(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), LockoutPolicy::default()).await;
    let mut tenant = setup.tenant.clone();
    tenant.settings.risk.enabled = false;
    setup.core.set_risk_sources(RiskSources {
        deny_list: Some(IpList::parse("192.0.2.0/24\n").unwrap()),
        ..RiskSources::default()
    });
    let patch = tessera_core::service::TenantPatch {
        display_name: None,
        domains: None,
        settings: Some(tenant.settings.clone()),
    };
    setup
        .core
        .update_tenant(&tessera_core::auth::Authorized::for_system(&tenant), patch)
        .await
        .unwrap();
    let signed_in = setup
        .core
        .check_password(
            &context(&setup, "192.0.2.10"),
            "locked@example.com",
            SecretString::from(PASSWORD),
        )
        .await
        .unwrap();
    assert_eq!(signed_in.risk.score, 0);
    assert!(signed_in.risk.reasons.is_empty());
    let started = setup
        .core
        .start_session(
            &context(&setup, "192.0.2.10"),
            &signed_in.user,
            tessera_core::oauth::session::Authentication::default(),
            tenant.settings.sessions,
        )
        .await
        .unwrap();
    drop(started);
    let remembered = store
        .recent_sign_ins(
            setup.tenant.id,
            setup.user.id,
            setup.clock.now() - Duration::days(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(remembered.len(), 1);
}

conformance!(
    with_risk_off_nothing_is_assessed_but_sign_ins_are_remembered,
    sign_ins_are_kept_newest_first_within_the_window,
    failures_are_counted_per_address_and_solutions_spent_once,
    risk_blocks_deny_listed_addresses_and_asks_risky_ones_for_a_proof_of_work,
);
