//! Self sign-up on both stores: codes and links, limits, decoys for registered addresses,
//! claiming light accounts, and the events that say so.

use crate::conformance;
use crate::fixtures::{code, core, email, person, tenant, with_attributes};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::{Arc, Mutex};
use tessera_core::attributes::AttributeSchema;
use tessera_core::email::Email;
use tessera_core::event::{EventQuery, kinds};
use tessera_core::notify::{Notice, Notifier, NotifyError};
use tessera_core::page::PageRequest;
use tessera_core::service::{Proof, SignUpForm, SignUpPlace, TenantPatch};
use tessera_core::signup::{PolicyDocument, SignUpSettings};
use tessera_core::store::Store;
use tessera_core::tenant::Tenant;
use tessera_core::user::UserStatus;
use tessera_core::{Core, ErrorCode};

/// Keeps every notice, as a mailbox would.
#[derive(Debug, Default)]
struct Mailbox(Mutex<Vec<(String, Notice)>>);

#[async_trait::async_trait]
impl Notifier for Mailbox {
    async fn notify(
        &self,
        _tenant: &Tenant,
        to: &Email,
        _language: &str,
        notice: Notice,
    ) -> Result<(), NotifyError> {
        self.0
            .lock()
            .unwrap()
            .push((to.as_str().to_owned(), notice));
        Ok(())
    }
}

impl Mailbox {
    fn last(&self) -> Notice {
        self.0.lock().unwrap().last().unwrap().1.clone()
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn code(&self) -> String {
        match self.last() {
            Notice::SignUpCode { code, .. } => code.expose_secret().to_owned(),
            other => panic!("not a code: {other:?}"),
        }
    }

    fn link_token(&self) -> SecretString {
        match self.last() {
            Notice::SignUpCode { link, .. } => {
                let link = link.expose_secret();
                SecretString::from(link.rsplit_once("token=").unwrap().1.to_owned())
            }
            other => panic!("not a code: {other:?}"),
        }
    }
}

async fn open_tenant(core: &Core, slug: &str, signup: SignUpSettings) -> Tenant {
    let (tenant, auth) = tenant(core, slug).await;
    let mut settings = tenant.settings.clone();
    settings.signup = signup;
    core.update_tenant(
        &auth,
        TenantPatch {
            settings: Some(settings),
            ..TenantPatch::default()
        },
    )
    .await
    .unwrap()
}

fn enabled() -> SignUpSettings {
    SignUpSettings {
        enabled: true,
        ..SignUpSettings::default()
    }
}

fn place() -> SignUpPlace {
    SignUpPlace {
        language: "en".into(),
        link_base: "https://id.example/t/shop".into(),
        continue_handle: Some("handle-1".into()),
        client_id: None,
        ip: Some("192.0.2.1".into()),
        browser: Some(SecretString::from("the-starting-browser".to_owned())),
        human_verified: false,
        captcha_passed: false,
    }
}

fn link(token: SecretString, browser: &str, new_password: Option<&str>) -> Proof {
    Proof::Link {
        token,
        browser: Some(SecretString::from(browser.to_owned())),
        new_password: new_password.map(|p| SecretString::from(p.to_owned())),
    }
}

fn form(address: &str) -> SignUpForm {
    SignUpForm {
        email: address.into(),
        password: SecretString::from("correct horse battery staple".to_owned()),
        given_name: Some("Ada".into()),
        family_name: None,
        accepted_terms: true,
        accepted_privacy: true,
    }
}

async fn setup(store: Arc<dyn Store>, signup: SignUpSettings) -> (Core, Arc<Mailbox>, Tenant) {
    let (core, _) = core(store).await;
    let mailbox = Arc::new(Mailbox::default());
    assert!(core.set_notifier(mailbox.clone()));
    let tenant = open_tenant(&core, "shop", signup).await;
    (core, mailbox, tenant)
}

async fn kinds_of_events(core: &Core, tenant: &Tenant) -> Vec<String> {
    core.store()
        .list_events(
            tenant.id,
            &EventQuery::default(),
            PageRequest::new(None, Some(200)),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|event| event.kind)
        .collect()
}

async fn a_code_makes_an_active_verified_account(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(store, enabled()).await;
    let id = core
        .start_sign_up(&tenant, &place(), form("Ada@Example.com"))
        .await
        .unwrap();
    assert_eq!(mailbox.count(), 1);
    let right = mailbox.code();
    assert_eq!(right.len(), 6);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        code(
            core.verify_sign_up(&tenant, id, Proof::Code(wrong.to_owned().into()))
                .await
        ),
        ErrorCode::InvalidCredentials
    );
    let done = core
        .verify_sign_up(&tenant, id, Proof::Code(right.clone().into()))
        .await
        .unwrap();
    assert!(!done.claimed);
    assert_eq!(done.continue_handle.as_deref(), Some("handle-1"));
    let user = done.user;
    assert_eq!(user.status, UserStatus::Active);
    assert!(user.profile.emails[0].verified);
    assert_eq!(user.profile.given_name.as_deref(), Some("Ada"));
    assert_eq!(user.username().unwrap().as_str(), "Ada@Example.com");
    assert!(user.has_credentials());
    // single use
    assert_eq!(
        code(
            core.verify_sign_up(&tenant, id, Proof::Code(right.into()))
                .await
        ),
        ErrorCode::NotFound
    );
    let events = kinds_of_events(&core, &tenant).await;
    for kind in [
        kinds::SIGN_UP_STARTED,
        kinds::USER_CREATED,
        kinds::USER_SIGNED_UP,
        kinds::EMAIL_VERIFIED,
    ] {
        assert!(events.iter().any(|k| k == kind), "{kind} in {events:?}");
    }
}

async fn a6_five_wrong_codes_spend_the_challenge(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(store, enabled()).await;
    let id = core
        .start_sign_up(&tenant, &place(), form("grace@example.com"))
        .await
        .unwrap();
    let right = mailbox.code();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(
            code(
                core.verify_sign_up(&tenant, id, Proof::Code(wrong.to_owned().into()))
                    .await
            ),
            ErrorCode::InvalidCredentials
        );
    }
    // the right code no longer helps
    assert_eq!(
        code(
            core.verify_sign_up(&tenant, id, Proof::Code(right.into()))
                .await
        ),
        ErrorCode::NotFound
    );
}

async fn the_link_works_once_and_codes_expire(store: Arc<dyn Store>) {
    let (core, clock) = core(store).await;
    let mailbox = Arc::new(Mailbox::default());
    core.set_notifier(mailbox.clone());
    let tenant = open_tenant(&core, "shop", enabled()).await;
    let id = core
        .start_sign_up(&tenant, &place(), form("linus@example.com"))
        .await
        .unwrap();
    let token = mailbox.link_token();
    assert_eq!(
        code(
            core.verify_sign_up(
                &tenant,
                id,
                link("tsl_forged".to_owned().into(), "the-starting-browser", None)
            )
            .await
        ),
        ErrorCode::InvalidCredentials
    );
    let done = core
        .verify_sign_up(
            &tenant,
            id,
            link(token.clone(), "the-starting-browser", None),
        )
        .await
        .unwrap();
    assert!(done.sign_in, "the starting browser is signed in");
    assert_eq!(done.continue_handle.as_deref(), Some("handle-1"));
    assert_eq!(
        code(
            core.verify_sign_up(&tenant, id, link(token, "the-starting-browser", None))
                .await
        ),
        ErrorCode::NotFound,
        "used once"
    );
    // In another browser the form's password is dropped: one is chosen there, and nobody
    // is signed in (the link may have been sent to someone else on purpose).
    let other = core
        .start_sign_up(&tenant, &place(), form("grace@example.com"))
        .await
        .unwrap();
    let token = mailbox.link_token();
    assert_eq!(
        code(
            core.verify_sign_up(&tenant, other, link(token.clone(), "a-phone", None))
                .await
        ),
        ErrorCode::Validation,
        "another browser must choose a password"
    );
    let done = core
        .verify_sign_up(
            &tenant,
            other,
            link(token, "a-phone", Some("chosen on the phone, not the form")),
        )
        .await
        .unwrap();
    assert!(!done.sign_in);
    assert_eq!(done.continue_handle, None);
    let context = tessera_core::service::SignInContext {
        tenant_id: tenant.id,
        client_id: None,
        ip: None,
        user_agent: None,
        device: None,
        human_verified: false,
        captcha_passed: false,
        risk: None,
    };
    assert!(
        core.check_password(
            &context,
            "grace@example.com",
            SecretString::from("chosen on the phone, not the form".to_owned())
        )
        .await
        .is_ok()
    );
    assert_eq!(
        code(
            core.check_password(
                &context,
                "grace@example.com",
                SecretString::from("correct horse battery staple".to_owned())
            )
            .await
        ),
        ErrorCode::InvalidCredentials,
        "the password of the form that started is not the account's"
    );
    // a second sign-up's code expires after 15 minutes
    let later = core
        .start_sign_up(&tenant, &place(), form("margaret@example.com"))
        .await
        .unwrap();
    let code_sent = mailbox.code();
    clock.advance(time::Duration::minutes(16));
    assert_eq!(
        code(
            core.verify_sign_up(&tenant, later, Proof::Code(code_sent.into()))
                .await
        ),
        ErrorCode::NotFound
    );
}

async fn a08_registered_addresses_get_a_decoy(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(store, enabled()).await;
    let auth = tessera_core::auth::Authorized::for_system(&tenant);
    let mut existing = person("Barbara", "Liskov", "barbara@example.com");
    existing.password = Some(SecretString::from("another long pass phrase".to_owned()));
    core.create_user(&auth, existing).await.unwrap();
    let id = core
        .start_sign_up(&tenant, &place(), form("BARBARA@example.com"))
        .await
        .unwrap();
    // the page cannot tell: an id came back; the mail says to sign in instead
    match mailbox.last() {
        Notice::AlreadyRegistered { sign_in_link } => {
            assert_eq!(sign_in_link, "https://id.example/t/shop/login");
        }
        other => panic!("expected AlreadyRegistered, got {other:?}"),
    }
    for guess in ["000000", "123456"] {
        assert_eq!(
            code(
                core.verify_sign_up(&tenant, id, Proof::Code(guess.to_owned().into()))
                    .await
            ),
            ErrorCode::InvalidCredentials
        );
    }
}

async fn a_light_account_is_claimed_with_its_id_and_attributes(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(store, enabled()).await;
    let auth = tessera_core::auth::Authorized::for_system(&tenant);
    core.put_attribute_schema(
        &auth,
        serde_json::from_value::<AttributeSchema>(
            json!({"attributes": [{"name": "catalogue", "type": "string"}]}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let mut light = with_attributes(
        person("Katherine", "Johnson", "katherine@example.com"),
        json!({"catalogue": "spring-2027"}),
    );
    light.profile.emails = vec![email("katherine@example.com")];
    let light = core.create_user(&auth, light).await.unwrap();
    assert_eq!(light.status, UserStatus::Light);
    let id = core
        .start_sign_up(&tenant, &place(), form("katherine@example.com"))
        .await
        .unwrap();
    let done = core
        .verify_sign_up(&tenant, id, Proof::Code(mailbox.code().into()))
        .await
        .unwrap();
    assert!(done.claimed);
    assert_eq!(done.user.id, light.id, "no duplicate: the same user");
    assert_eq!(done.user.status, UserStatus::Active);
    assert_eq!(done.user.profile.attributes["catalogue"], "spring-2027");
    // what the light account knew wins over the form
    assert_eq!(done.user.profile.given_name.as_deref(), Some("Katherine"));
    assert!(done.user.profile.emails[0].verified);
    let stored = core.get_user(&auth, light.id).await.unwrap();
    assert_eq!(stored.status, UserStatus::Active);
    assert!(
        kinds_of_events(&core, &tenant)
            .await
            .contains(&kinds::USER_CLAIMED.to_owned())
    );
}

async fn settings_limit_who_signs_up_and_how_often(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(
        store,
        SignUpSettings {
            enabled: true,
            allowed_email_domains: vec!["example.com".into()],
            terms: Some(PolicyDocument {
                url: "https://shop.example/terms".into(),
                version: "2026-09".into(),
            }),
            ..SignUpSettings::default()
        },
    )
    .await;
    assert_eq!(
        code(
            core.start_sign_up(&tenant, &place(), form("someone@elsewhere.example"))
                .await
        ),
        ErrorCode::Validation
    );
    let mut refusing = form("ada@example.com");
    refusing.accepted_terms = false;
    assert_eq!(
        code(core.start_sign_up(&tenant, &place(), refusing).await),
        ErrorCode::Validation
    );
    let mut weak = form("ada@example.com");
    weak.password = SecretString::from("short".to_owned());
    assert_eq!(
        code(core.start_sign_up(&tenant, &place(), weak).await),
        ErrorCode::Validation
    );
    assert_eq!(mailbox.count(), 0, "nothing is sent for a refused form");
    // five codes an hour per address, resends included
    let mut id = core
        .start_sign_up(&tenant, &place(), form("ada@example.com"))
        .await
        .unwrap();
    for _ in 0..4 {
        id = core.resend_sign_up(&tenant, &place(), id).await.unwrap();
    }
    assert_eq!(mailbox.count(), 5);
    assert_eq!(
        code(core.resend_sign_up(&tenant, &place(), id).await),
        ErrorCode::TooManyRequests
    );
    // the terms version is recorded with the account
    core.verify_sign_up(&tenant, id, Proof::Code(mailbox.code().into()))
        .await
        .unwrap();
    let signed_up = core
        .store()
        .list_events(
            tenant.id,
            &EventQuery {
                kinds: vec![kinds::USER_SIGNED_UP.into()],
                ..EventQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(signed_up[0].payload["terms_version"], "2026-09");
    // turning sign-up off ends pending sign-ups at once
    let late = core
        .start_sign_up(&tenant, &place(), form("late@example.com"))
        .await
        .unwrap();
    let late_code = mailbox.code();
    let auth = tessera_core::auth::Authorized::for_system(&tenant);
    let mut settings = tenant.settings.clone();
    settings.signup.enabled = false;
    let turned_off = core
        .update_tenant(
            &auth,
            TenantPatch {
                settings: Some(settings),
                ..TenantPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        code(
            core.verify_sign_up(&turned_off, late, Proof::Code(late_code.into()))
                .await
        ),
        ErrorCode::NotFound
    );
    // a tenant without sign-up has none
    let closed = open_tenant(&core, "closed", SignUpSettings::default()).await;
    assert_eq!(
        code(
            core.start_sign_up(&closed, &place(), form("ada@example.com"))
                .await
        ),
        ErrorCode::NotFound
    );
}

async fn a06_parallel_sign_ups_send_at_most_five_codes(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(store, enabled()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (core, tenant) = (core.clone(), tenant.clone());
        tasks.spawn(async move {
            core.start_sign_up(&tenant, &place(), form("flood@example.com"))
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
    assert_eq!(mailbox.count(), 5);
}

/// The code for an address on record goes to the address as recorded: a look-alike that
/// folds to the same key (KELVIN SIGN K folds to k) may be someone else's mailbox.
async fn codes_go_to_the_address_on_record(store: Arc<dyn Store>) {
    let (core, mailbox, tenant) = setup(store, enabled()).await;
    let auth = tessera_core::auth::Authorized::for_system(&tenant);
    let mut light = person("Kate", "Bell", "kate@example.com");
    light.profile.emails = vec![email("kate@example.com")];
    core.create_user(&auth, light).await.unwrap();
    let look_alike = "\u{212A}ate@example.com";
    if tessera_core::email::Email::parse(look_alike).is_err() {
        return; // refused outright: nothing to mix up
    }
    core.start_sign_up(&tenant, &place(), form(look_alike))
        .await
        .unwrap();
    let recipients: Vec<String> = mailbox
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(to, _)| to.clone())
        .collect();
    assert_eq!(recipients, ["kate@example.com"]);
}

conformance!(
    codes_go_to_the_address_on_record,
    a06_parallel_sign_ups_send_at_most_five_codes,
    a_code_makes_an_active_verified_account,
    a6_five_wrong_codes_spend_the_challenge,
    the_link_works_once_and_codes_expire,
    a08_registered_addresses_get_a_decoy,
    a_light_account_is_claimed_with_its_id_and_attributes,
    settings_limit_who_signs_up_and_how_often,
);
