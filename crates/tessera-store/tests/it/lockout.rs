//! Lockout on both stores (A01, A03–A06): every attempt is counted before its secret is
//! checked, exactly under concurrency; delays grow; the hard limit disables the factor
//! until an administrator unlocks it; a success forgives only its own failures.

use crate::conformance;
use crate::fixtures::{core, operator, person};
use secrecy::SecretString;
use std::sync::Arc;
use tessera_core::auth::Authorized;
use tessera_core::bot::{BotDefenceSettings, Trigger};
use tessera_core::clock::Clock;
use tessera_core::event::{Actor, Event, EventQuery, kinds};
use tessera_core::lockout::{Factor, LockoutPolicy};
use tessera_core::page::PageRequest;
use tessera_core::risk::RiskPolicy;
use tessera_core::service::{NewTenant, SignInContext};
use tessera_core::store::Store;
use tessera_core::tenant::{Tenant, TenantSettings, TenantSlug};
use tessera_core::user::User;
use tessera_core::{Core, CoreError};
use time::Duration;

const EMAIL: &str = "locked@example.com";
const PASSWORD: &str = "correct horse battery staple";

pub(crate) struct Setup {
    pub core: Core,
    pub clock: Arc<tessera_core::clock::ManualClock>,
    pub tenant: Tenant,
    pub user: User,
}

pub(crate) async fn setup(store: Arc<dyn Store>, lockout: LockoutPolicy) -> Setup {
    let (core, clock) = core(store).await;
    core.set_sealing_key(Arc::new(tessera_core::sealing::SealingKey::generate()));
    let tenant = core
        .create_tenant(
            &operator(&core),
            NewTenant {
                slug: TenantSlug::parse("guarded").unwrap(),
                display_name: "Guarded".into(),
                domains: vec![],
                // The lockout alone: no proof of work or risk block in front of it.
                settings: TenantSettings {
                    lockout,
                    bot_defence: BotDefenceSettings {
                        pow: Trigger::Off,
                        ..BotDefenceSettings::default()
                    },
                    risk: RiskPolicy {
                        block_at: None,
                        ..RiskPolicy::default()
                    },
                    ..TenantSettings::default()
                },
            },
        )
        .await
        .unwrap();
    let mut new = person("Lou", "Locke", EMAIL);
    new.password = Some(SecretString::from(PASSWORD));
    let user = core
        .create_user(&Authorized::for_system(&tenant), new)
        .await
        .unwrap();
    Setup {
        core,
        clock,
        tenant,
        user,
    }
}

fn context(tenant: &Tenant) -> SignInContext {
    SignInContext {
        tenant_id: tenant.id,
        client_id: None,
        ip: Some("203.0.113.9".into()),
        user_agent: None,
        device: None,
        human_verified: false,
        captcha_passed: false,
        risk: None,
    }
}

impl Setup {
    pub(crate) async fn sign_in(&self, password: &str) -> Result<User, CoreError> {
        self.core
            .check_password(&context(&self.tenant), EMAIL, SecretString::from(password))
            .await
            .map(|signed_in| signed_in.user)
    }

    /// Signs in with each password at once, on the runtime's threads; the results in order.
    pub(crate) async fn sign_in_concurrently(
        &self,
        passwords: Vec<&'static str>,
    ) -> Vec<Result<User, CoreError>> {
        let tasks: Vec<_> = passwords
            .into_iter()
            .map(|password| {
                let core = self.core.clone();
                let context = context(&self.tenant);
                tokio::spawn(async move {
                    core.check_password(&context, EMAIL, SecretString::from(password))
                        .await
                        .map(|signed_in| signed_in.user)
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    }

    pub(crate) async fn failures(&self, factor: Factor) -> u32 {
        self.core
            .lock_states(&self.tenant, self.user.id)
            .await
            .unwrap()
            .into_iter()
            .find(|(f, _)| *f == factor)
            .map_or(0, |(_, state)| state.failures)
    }

    /// Every event of `kind`, all pages.
    pub(crate) async fn events(&self, kind: &str) -> Vec<Event> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .core
                .store()
                .list_events(
                    self.tenant.id,
                    &EventQuery {
                        kinds: vec![kind.to_owned()],
                        ..EventQuery::default()
                    },
                    PageRequest::new(after, Some(200)),
                )
                .await
                .unwrap();
            all.extend(page.items);
            match page.next_after {
                Some(next) => after = Some(next),
                None => return all,
            }
        }
    }

    pub(crate) async fn failure_reasons(&self) -> Vec<String> {
        self.events(kinds::SIGN_IN_FAILED)
            .await
            .iter()
            .map(|e| e.payload["reason"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

fn policy(free_attempts: u32, disable_after: u32) -> LockoutPolicy {
    LockoutPolicy {
        free_attempts,
        base_delay_seconds: 60,
        max_delay_seconds: 3600,
        disable_after,
        notify_user: true,
    }
}

fn count(reasons: &[String], reason: &str) -> usize {
    reasons.iter().filter(|r| *r == reason).count()
}

async fn a03_two_hundred_concurrent_wrong_passwords_are_counted_exactly(store: Arc<dyn Store>) {
    let setup = setup(store, policy(5, 100)).await;
    let results = setup
        .sign_in_concurrently(vec!["wrong password, guessed"; 200])
        .await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(CoreError::InvalidCredentials))),
        "every attempt gets the same answer"
    );
    assert_eq!(setup.failures(Factor::Password).await, 200);
    let reasons = setup.failure_reasons().await;
    assert_eq!(reasons.len(), 200);
    // Only the free attempts were hashed; the rest were refused unhashed.
    assert_eq!(count(&reasons, "bad_password"), 5);
    assert_eq!(count(&reasons, "locked") + count(&reasons, "disabled"), 195);
    assert!(count(&reasons, "disabled") >= 100);
    let locks = setup.events(kinds::USER_LOCKED).await;
    assert_eq!(locks.len(), 2, "locked once, disabled once");
    assert!(matches!(
        setup.sign_in(PASSWORD).await,
        Err(CoreError::InvalidCredentials)
    ));
}

async fn a04_the_right_password_in_a_burst_at_the_threshold_cannot_pass_the_lock(
    store: Arc<dyn Store>,
) {
    let setup = setup(store, policy(5, 100)).await;
    for _ in 0..4 {
        assert!(setup.sign_in("wrong").await.is_err());
    }
    let mut burst = vec!["wrong"; 30];
    burst.insert(15, PASSWORD);
    let results = setup.sign_in_concurrently(burst).await;
    let successes = results.iter().filter(|r| r.is_ok()).count();
    let reasons = setup.failure_reasons().await;
    // Exactly one attempt of the burst was checked: the one that took the last free place.
    assert_eq!(count(&reasons, "bad_password") - 4 + successes, 1);
    assert!(successes <= 1);
    // Whoever won, the other 30 stay counted and the lock holds for the right password too.
    assert_eq!(
        setup.failures(Factor::Password).await,
        if successes == 1 { 30 } else { 35 }
    );
    assert!(setup.sign_in(PASSWORD).await.is_err());
}

async fn a01_delays_grow_until_the_factor_is_disabled_and_an_admin_unlocks_it(
    store: Arc<dyn Store>,
) {
    let setup = setup(
        store,
        LockoutPolicy {
            free_attempts: 2,
            base_delay_seconds: 10,
            max_delay_seconds: 40,
            disable_after: 8,
            notify_user: false,
        },
    )
    .await;
    // (seconds to wait, password, how the attempt is recorded). Every attempt counts,
    // refused ones too; each one let through after the free ones arms a delay of
    // 10 s × 2^(count − 2), at most 40 s.
    let script = [
        (0, "wrong", "bad_password"),
        (0, "wrong", "bad_password"),  // 2: locked for 10 s
        (0, PASSWORD, "locked"),       // 3: even the right password, unhashed
        (10, "wrong", "bad_password"), // 4: locked for 40 s
        (39, PASSWORD, "locked"),      // 5
        (1, "wrong", "bad_password"),  // 6: locked for 40 s (the cap)
        (40, "wrong", "bad_password"), // 7: locked for 40 s
        (40, PASSWORD, "disabled"),    // 8: the hard limit
    ];
    for (wait, password, reason) in script {
        setup.clock.advance(Duration::seconds(wait));
        assert!(setup.sign_in(password).await.is_err());
        assert_eq!(setup.failure_reasons().await.last().unwrap(), reason);
    }
    setup.clock.advance(Duration::days(30));
    assert!(
        setup.sign_in(PASSWORD).await.is_err(),
        "disabled stays disabled"
    );
    let locks = setup.events(kinds::USER_LOCKED).await;
    assert_eq!(locks.len(), 2);
    assert_eq!(locks.last().unwrap().payload["disabled"], true);

    let admin = Actor::System;
    assert!(
        setup
            .core
            .unlock_user(&setup.tenant, setup.user.id, None, &admin)
            .await
            .unwrap()
    );
    assert!(
        !setup
            .core
            .unlock_user(&setup.tenant, setup.user.id, None, &admin)
            .await
            .unwrap(),
        "nothing left to clear"
    );
    assert_eq!(setup.events(kinds::USER_UNLOCKED).await.len(), 1);
    assert_eq!(setup.sign_in(PASSWORD).await.unwrap().id, setup.user.id);
}

async fn a_success_forgives_earlier_failures(store: Arc<dyn Store>) {
    let setup = setup(store, policy(5, 100)).await;
    for _ in 0..4 {
        assert!(setup.sign_in("wrong").await.is_err());
    }
    assert!(setup.sign_in(PASSWORD).await.is_ok());
    assert_eq!(setup.failures(Factor::Password).await, 0);
    for _ in 0..4 {
        assert!(setup.sign_in("wrong").await.is_err());
    }
    assert!(
        setup.sign_in(PASSWORD).await.is_ok(),
        "the count started over"
    );
}

async fn counters_are_per_user_and_per_factor(store: Arc<dyn Store>) {
    let setup = setup(store, policy(2, 100)).await;
    for _ in 0..3 {
        assert!(setup.sign_in("wrong").await.is_err());
    }
    assert_eq!(setup.failures(Factor::Password).await, 3);
    assert_eq!(setup.failures(Factor::Totp).await, 0);
    let other = setup
        .core
        .unlock_user(
            &setup.tenant,
            tessera_core::ids::UserId::new_at(setup.clock.now()),
            None,
            &Actor::System,
        )
        .await;
    assert!(matches!(other, Err(CoreError::NotFound(_))));
    // Unlocking one factor leaves the others.
    assert!(
        !setup
            .core
            .unlock_user(
                &setup.tenant,
                setup.user.id,
                Some(Factor::Totp),
                &Actor::System
            )
            .await
            .unwrap()
    );
    assert_eq!(setup.failures(Factor::Password).await, 3);
}

async fn an_attempt_the_server_could_not_check_is_taken_back(store: Arc<dyn Store>) {
    let setup = setup(store.clone(), policy(3, 100)).await;
    let now = setup.clock.now();
    let policy = policy(3, 100);
    for _ in 0..3 {
        store
            .reserve_attempt(
                setup.tenant.id,
                setup.user.id,
                Factor::Password,
                now,
                &policy,
            )
            .await
            .unwrap();
    }
    // The third reservation armed the delay; the hasher was overloaded, so it is released.
    store
        .release_attempt(
            setup.tenant.id,
            setup.user.id,
            Factor::Password,
            now,
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(setup.failures(Factor::Password).await, 2);
    assert!(
        setup.sign_in(PASSWORD).await.is_ok(),
        "not locked by the server's trouble"
    );
}

conformance!(
    an_attempt_the_server_could_not_check_is_taken_back,
    a03_two_hundred_concurrent_wrong_passwords_are_counted_exactly,
    a04_the_right_password_in_a_burst_at_the_threshold_cannot_pass_the_lock,
    a01_delays_grow_until_the_factor_is_disabled_and_an_admin_unlocks_it,
    a_success_forgives_earlier_failures,
    counters_are_per_user_and_per_factor,
);
