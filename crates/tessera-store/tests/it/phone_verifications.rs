//! Phone verification on both stores: the challenge table (limits per user and per number,
//! counted tries, single use, binding to tenant and user, purge and erasure), and the
//! service over it (the right code verifies the number with `user.phone_verified`, wrong
//! codes are counted and spend the challenge, expiry, reuse, another user's challenge,
//! undelivered messages).

use crate::conformance;
use crate::fixtures::{core, person, tenant};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use tessera_core::auth::Authorized;
use tessera_core::clock::Clock;
use tessera_core::error::CodeRefusal;
use tessera_core::event::{Actor, EventQuery, kinds};
use tessera_core::ids::{PhoneVerificationId, UserId};
use tessera_core::page::PageRequest;
use tessera_core::phone::{ContactNumber, PhoneNumber};
use tessera_core::phone_verification::{
    CHALLENGE_LIFETIME, MAX_SENDS, PhoneChallenge, SEND_WINDOW,
};
use tessera_core::sms::{SmsError, SmsNotice, SmsSender};
use tessera_core::store::Store;
use tessera_core::tenant::Tenant;
use tessera_core::user::{MAX_PHONES, User, UserPhone, UserStatus};
use tessera_core::{Core, CoreError, ErrorCode};
use time::OffsetDateTime;

const NUMBER: &str = "+4915112345678";

/// Keeps every message, as a phone would; fails every message while `failing` is set.
#[derive(Debug, Default)]
struct Phones {
    received: Mutex<Vec<(String, String)>>,
    failing: Mutex<Option<SmsError>>,
}

#[async_trait::async_trait]
impl SmsSender for Phones {
    async fn send(
        &self,
        _tenant: &Tenant,
        to: &PhoneNumber,
        _language: &str,
        notice: SmsNotice,
    ) -> Result<(), SmsError> {
        if let Some(error) = self.failing.lock().unwrap().clone() {
            return Err(error);
        }
        let SmsNotice::PhoneCode { code, .. } = notice;
        self.received
            .lock()
            .unwrap()
            .push((to.as_str().to_owned(), code.expose_secret().to_owned()));
        Ok(())
    }
}

impl Phones {
    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn code(&self) -> SecretString {
        SecretString::from(self.received.lock().unwrap().last().unwrap().1.clone())
    }

    fn wrong(&self) -> SecretString {
        let right = self.code();
        SecretString::from(if right.expose_secret() == "000000" {
            "111111"
        } else {
            "000000"
        })
    }
}

struct Setup {
    core: Core,
    clock: Arc<tessera_core::clock::ManualClock>,
    phones: Arc<Phones>,
    tenant: Tenant,
    auth: Authorized,
}

async fn setup(store: Arc<dyn Store>) -> Setup {
    let (core, clock) = core(store).await;
    let phones = Arc::new(Phones::default());
    assert!(core.set_sms_sender(phones.clone()));
    assert!(!core.set_sms_sender(phones.clone()), "set once");
    assert!(core.sends_sms());
    let (tenant, auth) = tenant(&core, "shop").await;
    Setup {
        core,
        clock,
        phones,
        tenant,
        auth,
    }
}

/// A user (light: no password to hash) with a national landline as primary number.
async fn customer(setup: &Setup, address: &str) -> User {
    let mut new = person("Ada", "Lovelace", address);
    new.profile.phone_numbers = vec![UserPhone {
        value: ContactNumber::parse("030 1234567").unwrap(),
        primary: true,
        verified: false,
        kind: Some("home".into()),
    }];
    setup.core.create_user(&setup.auth, new).await.unwrap()
}

fn number(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text).unwrap()
}

fn refusal<T: std::fmt::Debug>(result: Result<T, CoreError>) -> CodeRefusal {
    match result.unwrap_err() {
        CoreError::CodeRefused(refusal) => refusal,
        other => panic!("expected a refused code, got {other:?}"),
    }
}

fn challenge(tenant: &Tenant, user: UserId, phone: &str, at: OffsetDateTime) -> PhoneChallenge {
    let id = PhoneVerificationId::new_at(at);
    PhoneChallenge {
        id,
        tenant_id: tenant.id,
        user_id: user,
        phone: number(phone),
        code_hash: PhoneChallenge::hash_code(id, "123456"),
        attempts: 0,
        language: "en".into(),
        created_at: at,
        expires_at: at + CHALLENGE_LIFETIME,
        consumed_at: None,
    }
}

async fn the_table_limits_sends_per_user_and_per_number(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await.id;
    let bob = customer(&setup, "bob@example.com").await.id;
    let now = setup.clock.now();
    let since = now - SEND_WINDOW;
    let mut first = None;
    for _ in 0..MAX_SENDS {
        let made = challenge(&setup.tenant, ada, NUMBER, now);
        assert!(
            store
                .insert_phone_verification(&made, MAX_SENDS, since)
                .await
                .unwrap()
        );
        first.get_or_insert(made.id);
    }
    let first = first.unwrap();
    let admit = |user, phone| {
        let store = store.clone();
        let made = challenge(&setup.tenant, user, phone, now);
        async move {
            store
                .insert_phone_verification(&made, MAX_SENDS, since)
                .await
                .unwrap()
        }
    };
    assert!(
        !admit(ada, NUMBER).await,
        "a sixth code for the same user and number"
    );
    assert!(!admit(ada, "+4930987654").await, "the user's limit");
    assert!(!admit(bob, NUMBER).await, "the number's limit");
    assert!(admit(bob, "+4930987654").await, "someone else, elsewhere");
    // Only the newest challenge of a user is open.
    let old = store
        .phone_verification_by_id(setup.tenant.id, ada, first)
        .await
        .unwrap()
        .unwrap();
    assert!(old.consumed_at.is_some(), "a newer challenge closed it");
    // The window slides.
    let later = now + SEND_WINDOW + time::Duration::seconds(1);
    let made = challenge(&setup.tenant, ada, NUMBER, later);
    assert!(
        store
            .insert_phone_verification(&made, MAX_SENDS, later - SEND_WINDOW)
            .await
            .unwrap()
    );
}

async fn the_table_binds_challenges_to_tenant_and_user_and_counts_tries(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await.id;
    let bob = customer(&setup, "bob@example.com").await.id;
    let now = setup.clock.now();
    let made = challenge(&setup.tenant, ada, NUMBER, now);
    assert!(
        store
            .insert_phone_verification(&made, MAX_SENDS, now - SEND_WINDOW)
            .await
            .unwrap()
    );
    let read = store
        .phone_verification_by_id(setup.tenant.id, ada, made.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, made, "read back as written");
    let (other_tenant, _) = tenant(&setup.core, "other").await;
    assert_eq!(
        store
            .phone_verification_by_id(other_tenant.id, ada, made.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .phone_verification_by_id(setup.tenant.id, bob, made.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .record_phone_verification_attempt(setup.tenant.id, bob, made.id)
            .await
            .unwrap(),
        None,
        "another user's try counts nowhere"
    );
    for expected in 1..=3 {
        assert_eq!(
            store
                .record_phone_verification_attempt(setup.tenant.id, ada, made.id)
                .await
                .unwrap(),
            Some(expected)
        );
    }
    assert!(
        !store
            .consume_phone_verification(setup.tenant.id, bob, made.id, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_phone_verification(setup.tenant.id, ada, made.id, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_phone_verification(setup.tenant.id, ada, made.id, now)
            .await
            .unwrap(),
        "used once"
    );
    assert_eq!(
        store
            .record_phone_verification_attempt(setup.tenant.id, ada, made.id)
            .await
            .unwrap(),
        None,
        "no tries after use"
    );
}

async fn expired_challenges_are_purged_and_erased_with_their_user(store: Arc<dyn Store>) {
    let setup = setup(store.clone()).await;
    let ada = customer(&setup, "ada@example.com").await;
    let bob = customer(&setup, "bob@example.com").await;
    let ada_id = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number(NUMBER), "en")
        .await
        .unwrap();
    let bob_id = setup
        .core
        .start_phone_verification(&setup.tenant, bob.id, number("+4930987654"), "en")
        .await
        .unwrap();
    // A45: deleting the user takes the number it was sent to with it.
    setup.core.delete_user(&setup.auth, bob.id).await.unwrap();
    assert_eq!(
        store
            .phone_verification_by_id(setup.tenant.id, bob.id, bob_id)
            .await
            .unwrap(),
        None
    );
    setup.clock.advance(time::Duration::days(2));
    setup.core.purge_expired_state().await.unwrap();
    assert_eq!(
        store
            .phone_verification_by_id(setup.tenant.id, ada.id, ada_id)
            .await
            .unwrap(),
        None,
        "purged a day after it expired"
    );
}

async fn events_of(setup: &Setup, kind: &str) -> Vec<tessera_core::event::Event> {
    setup
        .core
        .store()
        .list_events(
            setup.tenant.id,
            &EventQuery {
                kinds: vec![kind.to_owned()],
                ..EventQuery::default()
            },
            PageRequest::new(None, Some(100)),
        )
        .await
        .unwrap()
        .items
}

async fn the_right_code_verifies_the_number_with_an_event(store: Arc<dyn Store>) {
    let setup = setup(store).await;
    let ada = customer(&setup, "ada@example.com").await;
    let id = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number("+49 151 1234 5678"), "de")
        .await
        .unwrap();
    assert_eq!(
        setup.phones.received.lock().unwrap()[0].0,
        NUMBER,
        "sent to the E.164 form"
    );
    let pending = setup
        .core
        .phone_challenge(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_eq!(pending.phone.as_str(), NUMBER);
    assert_eq!(pending.language, "de");
    assert!(
        !pending
            .code_hash
            .matches(&tessera_core::secret::SecretHash::of(&setup.phones.code())),
        "only a hash bound to the challenge is stored"
    );
    let user = setup
        .core
        .confirm_phone(&setup.tenant, ada.id, id, &setup.phones.code())
        .await
        .unwrap();
    let phones = &user.profile.phone_numbers;
    assert_eq!(phones.len(), 2, "the landline stays");
    assert!(!phones[0].primary && !phones[0].verified);
    assert_eq!(phones[1].value.as_str(), NUMBER);
    assert!(phones[1].primary && phones[1].verified);
    assert_eq!(user.version, ada.version + 1);
    let stored = setup.core.get_user(&setup.auth, ada.id).await.unwrap();
    assert_eq!(stored.profile.phone_numbers, user.profile.phone_numbers);
    assert_eq!(stored.status, UserStatus::Light);
    let verified = events_of(&setup, kinds::USER_PHONE_VERIFIED).await;
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].subject, format!("user:{}", ada.id));
    assert_eq!(verified[0].actor, Actor::User(ada.id));
    assert_eq!(verified[0].payload["by"], "sms");
    assert!(
        !verified[0].payload.to_string().contains("151"),
        "no number in the event"
    );
    let updated = events_of(&setup, kinds::USER_UPDATED).await;
    assert_eq!(
        updated[0].payload["changed"],
        serde_json::json!(["phone_numbers"])
    );
    // Single use.
    assert_eq!(
        refusal(
            setup
                .core
                .confirm_phone(&setup.tenant, ada.id, id, &setup.phones.code())
                .await
        ),
        CodeRefusal::Used
    );
    // Proving the same number again changes nothing and says nothing.
    let again = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number(NUMBER), "en")
        .await
        .unwrap();
    let same = setup
        .core
        .confirm_phone(&setup.tenant, ada.id, again, &setup.phones.code())
        .await
        .unwrap();
    assert_eq!(same.version, user.version);
    assert_eq!(events_of(&setup, kinds::USER_PHONE_VERIFIED).await.len(), 1);
}

async fn a06_wrong_codes_are_counted_and_five_spend_the_challenge(store: Arc<dyn Store>) {
    let setup = setup(store).await;
    let ada = customer(&setup, "ada@example.com").await;
    let id = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number(NUMBER), "en")
        .await
        .unwrap();
    let wrong = setup.phones.wrong();
    for left in (0..5).rev() {
        assert_eq!(
            refusal(
                setup
                    .core
                    .confirm_phone(&setup.tenant, ada.id, id, &wrong)
                    .await
            ),
            CodeRefusal::Wrong {
                attempts_left: left
            }
        );
    }
    let stored = setup
        .core
        .phone_challenge(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_eq!(stored.attempts, 5, "every wrong code was recorded");
    assert_eq!(
        refusal(
            setup
                .core
                .confirm_phone(&setup.tenant, ada.id, id, &setup.phones.code())
                .await
        ),
        CodeRefusal::TooManyAttempts,
        "the right code no longer helps"
    );
    let user = setup.core.get_user(&setup.auth, ada.id).await.unwrap();
    assert_eq!(user.profile, ada.profile, "nothing verified");
    assert!(
        events_of(&setup, kinds::USER_PHONE_VERIFIED)
            .await
            .is_empty()
    );
    assert_eq!(
        CoreError::CodeRefused(CodeRefusal::TooManyAttempts).code(),
        ErrorCode::InvalidCredentials
    );
}

async fn codes_expire_after_ten_minutes(store: Arc<dyn Store>) {
    let setup = setup(store).await;
    let ada = customer(&setup, "ada@example.com").await;
    let id = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number(NUMBER), "en")
        .await
        .unwrap();
    setup.clock.advance(time::Duration::minutes(10));
    assert_eq!(
        refusal(
            setup
                .core
                .confirm_phone(&setup.tenant, ada.id, id, &setup.phones.code())
                .await
        ),
        CodeRefusal::Expired
    );
    // A new code works.
    let fresh = setup
        .core
        .resend_phone_verification(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_ne!(fresh, id);
    setup
        .core
        .confirm_phone(&setup.tenant, ada.id, fresh, &setup.phones.code())
        .await
        .unwrap();
}

async fn another_users_challenge_is_not_found(store: Arc<dyn Store>) {
    let setup = setup(store).await;
    let ada = customer(&setup, "ada@example.com").await;
    let eve = customer(&setup, "eve@example.com").await;
    let id = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number(NUMBER), "en")
        .await
        .unwrap();
    let code = setup.phones.code();
    let stolen = setup
        .core
        .confirm_phone(&setup.tenant, eve.id, id, &code)
        .await
        .unwrap_err();
    assert_eq!(stolen.code(), ErrorCode::NotFound);
    assert_eq!(
        setup
            .core
            .resend_phone_verification(&setup.tenant, eve.id, id)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    // Another tenant does not know it either.
    let (other, _) = tenant(&setup.core, "other").await;
    assert_eq!(
        setup
            .core
            .confirm_phone(&other, ada.id, id, &code)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let pending = setup
        .core
        .phone_challenge(&setup.tenant, ada.id, id)
        .await
        .unwrap();
    assert_eq!(pending.attempts, 0, "nothing was counted against Ada");
    let eve_now = setup.core.get_user(&setup.auth, eve.id).await.unwrap();
    assert_eq!(eve_now.profile, eve.profile);
    // Ada's code still works for Ada.
    setup
        .core
        .confirm_phone(&setup.tenant, ada.id, id, &code)
        .await
        .unwrap();
}

async fn a06_parallel_starts_send_at_most_five_codes_per_user_and_number(store: Arc<dyn Store>) {
    let setup = setup(store).await;
    let ada = customer(&setup, "ada@example.com").await;
    let bob = customer(&setup, "bob@example.com").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (core, tenant) = (setup.core.clone(), setup.tenant.clone());
        tasks.spawn(async move {
            core.start_phone_verification(&tenant, ada.id, number(NUMBER), "en")
                .await
                .map(|_| ())
        });
    }
    let mut admitted = 0;
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(()) => admitted += 1,
            Err(error) => assert_eq!(error.code(), ErrorCode::TooManyRequests),
        }
    }
    assert_eq!(admitted, 5, "the limit holds under concurrency");
    assert_eq!(setup.phones.count(), 5);
    let flooded = setup
        .core
        .start_phone_verification(&setup.tenant, bob.id, number(NUMBER), "en")
        .await
        .unwrap_err();
    assert!(
        matches!(
            flooded,
            CoreError::TooManyRequests {
                retry_after_seconds: 3600
            }
        ),
        "{flooded:?}"
    );
    assert_eq!(setup.phones.count(), 5, "nothing more reached the number");
}

async fn a_resend_replaces_the_code_and_failures_change_nothing(store: Arc<dyn Store>) {
    let setup = setup(store).await;
    let ada = customer(&setup, "ada@example.com").await;
    let first = setup
        .core
        .start_phone_verification(&setup.tenant, ada.id, number(NUMBER), "en")
        .await
        .unwrap();
    let old_code = setup.phones.code();
    let second = setup
        .core
        .resend_phone_verification(&setup.tenant, ada.id, first)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            setup
                .core
                .confirm_phone(&setup.tenant, ada.id, first, &old_code)
                .await
        ),
        CodeRefusal::Used,
        "the old code stops working"
    );
    // The provider fails: the caller hears it, nothing is verified.
    *setup.phones.failing.lock().unwrap() = Some(SmsError::Failed("provider answered 500".into()));
    let failed = setup
        .core
        .resend_phone_verification(&setup.tenant, ada.id, second)
        .await
        .unwrap_err();
    assert!(
        matches!(&failed, CoreError::SmsNotDelivered(SmsError::Failed(_))),
        "{failed:?}"
    );
    assert_eq!(failed.code(), ErrorCode::Unavailable);
    assert_eq!(
        setup
            .core
            .get_user(&setup.auth, ada.id)
            .await
            .unwrap()
            .profile,
        ada.profile
    );
    // A profile that cannot take one more number is refused before anything is sent.
    *setup.phones.failing.lock().unwrap() = None;
    let mut crowded = person("Cy", "Full", "cy@example.com");
    crowded.profile.phone_numbers = (0..MAX_PHONES)
        .map(|i| UserPhone {
            value: ContactNumber::parse(&format!("+49301234560{i}")).unwrap(),
            primary: i == 0,
            verified: false,
            kind: None,
        })
        .collect();
    let cy = setup.core.create_user(&setup.auth, crowded).await.unwrap();
    let sent = setup.phones.count();
    let refused = setup
        .core
        .start_phone_verification(&setup.tenant, cy.id, number("+4930987654"), "en")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    assert_eq!(setup.phones.count(), sent);
    // Without a sender, phones cannot be verified.
    let (bare, _) = core(setup.core.store().clone()).await;
    assert!(!bare.sends_sms());
    let unsent = bare
        .start_phone_verification(&setup.tenant, ada.id, number("+4930987654"), "en")
        .await
        .unwrap_err();
    assert!(
        matches!(unsent, CoreError::SmsNotDelivered(SmsError::NotConfigured)),
        "{unsent:?}"
    );
}

conformance!(
    the_table_limits_sends_per_user_and_per_number,
    the_table_binds_challenges_to_tenant_and_user_and_counts_tries,
    expired_challenges_are_purged_and_erased_with_their_user,
    the_right_code_verifies_the_number_with_an_event,
    a06_wrong_codes_are_counted_and_five_spend_the_challenge,
    codes_expire_after_ten_minutes,
    another_users_challenge_is_not_found,
    a06_parallel_starts_send_at_most_five_codes_per_user_and_number,
    a_resend_replaces_the_code_and_failures_change_nothing,
);
