//! Phone verification over HTTP on both stores, with the code sent to the suite's local SMS
//! provider and read from what it received: the code page of a signed-in user (right code →
//! number verified, event, back to the authorization request; wrong codes counted; resend;
//! limits), the provider failing, another user's challenge, no session, CSRF.
//!
//! The flow that starts a verification (progressive profiling) is not a page of its own: the
//! test calls `Core::start_phone_verification` over the server's database, as that page
//! will, and then walks the pages with a browser.

use crate::harness::{SMS_FROM, SMS_TOKEN, TestServer, sms_environment};
use crate::http_suite;
use crate::oidc_support::{Browser, Page, authorize_query, pkce, register, user};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tessera::config::{Config, FlagOverrides};
use tessera_core::Core;
use tessera_core::clock::SystemClock;
use tessera_core::ids::{PhoneVerificationId, UserId};
use tessera_core::phone::PhoneNumber;
use tessera_store::StoreOptions;
use tessera_test_support::sms_provider::ReceivedRequest;

const NUMBER: &str = "+4915112345678";
const WAIT: Duration = Duration::from_secs(10);

/// The services over the server's database, sending SMS the way the server does.
async fn services(server: &TestServer) -> Core {
    let store = tessera_store::connect(
        &server.database_url,
        &StoreOptions {
            max_connections: 2,
            migrate: false,
        },
    )
    .await
    .unwrap();
    let core = Core::start(store, Arc::new(SystemClock), None)
        .await
        .unwrap();
    let settings = Config::load(
        None,
        &sms_environment(&server.sms.url()),
        &FlagOverrides::default(),
    )
    .unwrap()
    .validate()
    .unwrap();
    core.set_sms_sender(
        tessera::sms::sms_sender(&settings.sms, &settings.sms_allowed_prefixes).unwrap(),
    );
    core
}

/// A signed-in browser of a new user, and the user's id.
async fn signed_in(server: &TestServer, email: &str) -> (Browser, UserId) {
    let id = user(server, email).await.parse().unwrap();
    let rp = register(server, json!({})).await;
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    let back = browser
        .sign_in(server, &authorize_query(&rp, &challenge, &[]), email)
        .await;
    assert!(back.location.is_some(), "back at the client: {}", back.body);
    (browser, id)
}

/// A pending authorization request of the signed-in browser (`prompt=login` keeps it
/// waiting on the login page): its handle.
async fn pending_request(server: &TestServer, browser: &mut Browser) -> String {
    let rp = register(server, json!({})).await;
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[("prompt", "login")]);
    let page = browser
        .get(server, &format!("/oauth2/authorize?{query}"))
        .await;
    let location = page.location.expect("a redirect to the login page");
    crate::oidc_support::params_of(&format!("{}{location}", server.base))["auth"].clone()
}

async fn start(core: &Core, user: UserId) -> PhoneVerificationId {
    core.start_phone_verification(
        core.default_tenant(),
        user,
        PhoneNumber::parse(NUMBER).unwrap(),
        "en",
    )
    .await
    .unwrap()
}

/// The latest message to the number, as the provider received it.
async fn latest_message(server: &TestServer) -> ReceivedRequest {
    server
        .sms
        .wait_for(NUMBER, WAIT)
        .await
        .expect("a text message")
}

async fn enter_code(server: &TestServer, browser: &mut Browser, page: &Page, code: &str) -> Page {
    browser
        .post(
            server,
            "/phone/verify",
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("auth", &page.field("auth").unwrap_or_default()),
                ("challenge", &page.field("challenge").unwrap()),
                ("code", code),
            ],
            Some(&server.base),
        )
        .await
}

async fn resend(server: &TestServer, browser: &mut Browser, page: &Page) -> Page {
    browser
        .post(
            server,
            "/phone/resend",
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("auth", &page.field("auth").unwrap_or_default()),
                ("challenge", &page.field("challenge").unwrap()),
            ],
            Some(&server.base),
        )
        .await
}

async fn user_json(server: &TestServer, id: UserId) -> Value {
    server
        .admin(Method::GET, &format!("/admin/v1/users/{id}"), None)
        .await
        .expect(200)
        .body
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

async fn the_code_from_the_provider_verifies_the_number_and_continues(server: TestServer) {
    let core = services(&server).await;
    let (mut browser, id) = signed_in(&server, "ada@example.com").await;
    let handle = pending_request(&server, &mut browser).await;
    let challenge = start(&core, id).await;
    // What the provider received: URL, auth, content type, the rendered JSON body.
    let message = latest_message(&server).await;
    assert_eq!(message.method, "POST");
    assert_eq!(message.path, "/v1/messages");
    assert_eq!(
        message.header("authorization"),
        Some(format!("Bearer {SMS_TOKEN}").as_str())
    );
    assert_eq!(message.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&message.body).unwrap();
    assert_eq!(body["to"], NUMBER);
    assert_eq!(body["from"], SMS_FROM);
    let code = message.code().expect("a 6-digit code");
    assert!(body["text"].as_str().unwrap().contains(&code));

    // Where `pages::phone::verify_page_location` sends the browser.
    let encoded: String = url::form_urlencoded::byte_serialize(handle.as_bytes()).collect();
    let location = format!("/phone/verify?challenge={challenge}&auth={encoded}");
    let page = browser.get(&server, &location).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for needle in [
        "Confirm your phone number",
        NUMBER,
        "<label for=\"code\">",
        "autocomplete=\"one-time-code\"",
        "inputmode=\"numeric\"",
        "name=\"csrf\"",
        "Send a new code",
    ] {
        assert!(page.body.contains(needle), "the page has {needle:?}");
    }
    let refused = enter_code(&server, &mut browser, &page, wrong(&code)).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(refused.body.contains("Tries left: 4"), "{}", refused.body);
    assert_eq!(
        user_json(&server, id).await["phone_numbers"],
        json!([]),
        "nothing verified by a wrong code"
    );
    let done = enter_code(&server, &mut browser, &refused, &code).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/oauth2/authorize/continue?auth={encoded}").as_str())
    );
    let account = user_json(&server, id).await;
    assert_eq!(account["phone_numbers"][0]["value"], NUMBER);
    assert_eq!(account["phone_numbers"][0]["verified"], true);
    assert_eq!(account["phone_numbers"][0]["primary"], true);
    let events = server
        .admin(
            Method::GET,
            "/admin/v1/events?type=user.phone_verified",
            None,
        )
        .await
        .expect(200);
    assert_eq!(events.body["items"][0]["subject"], format!("user:{id}"));
    // The code is spent.
    let again = enter_code(&server, &mut browser, &page, &code).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("already used"), "{}", again.body);
}

async fn a06_five_wrong_codes_spend_it_and_a_resend_brings_a_new_one(server: TestServer) {
    let core = services(&server).await;
    let (mut browser, id) = signed_in(&server, "grace@example.com").await;
    let challenge = start(&core, id).await;
    let code = latest_message(&server).await.code().unwrap();
    let page = browser
        .get(&server, &format!("/phone/verify?challenge={challenge}"))
        .await;
    for _ in 0..5 {
        let refused = enter_code(&server, &mut browser, &page, wrong(&code)).await;
        assert_eq!(refused.status, 400);
    }
    let spent = enter_code(&server, &mut browser, &page, &code).await;
    assert_eq!(spent.status, 400);
    assert!(
        spent.body.contains("Too many wrong codes"),
        "{}",
        spent.body
    );
    assert_eq!(user_json(&server, id).await["phone_numbers"], json!([]));
    // A resend goes through the server's own sender to the provider.
    let sent = server.sms.received().len();
    let resent = resend(&server, &mut browser, &spent).await;
    assert_eq!(resent.status, 303, "{}", resent.body);
    assert!(resent.location.as_deref().unwrap().contains("resent=1"));
    let fresh = browser.follow(&server, resent).await;
    assert_eq!(fresh.status, 200);
    assert!(fresh.body.contains("A new code is on its way"));
    assert_eq!(server.sms.received().len(), sent + 1);
    let new_code = latest_message(&server).await.code().unwrap();
    let done = enter_code(&server, &mut browser, &fresh, &new_code).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/phone/verified"));
    let confirmed = browser.follow(&server, done).await;
    assert!(confirmed.body.contains("Your phone number is confirmed."));
    assert_eq!(
        user_json(&server, id).await["phone_numbers"][0]["verified"],
        true
    );
}

async fn a_failing_provider_and_the_send_limit_are_clear_errors(server: TestServer) {
    let core = services(&server).await;
    let (mut browser, id) = signed_in(&server, "linus@example.com").await;
    let challenge = start(&core, id).await;
    let page = browser
        .get(&server, &format!("/phone/verify?challenge={challenge}"))
        .await;
    server.sms.answer_with(500);
    let failed = resend(&server, &mut browser, &page).await;
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(failed.body.contains("could not be sent"), "{}", failed.body);
    let direct = core
        .start_phone_verification(
            core.default_tenant(),
            id,
            PhoneNumber::parse(NUMBER).unwrap(),
            "en",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(direct, tessera_core::CoreError::SmsNotDelivered(_)),
        "{direct:?}"
    );
    assert_eq!(user_json(&server, id).await["phone_numbers"], json!([]));
    // Five codes an hour: the start, the failed resend and the failed start count too.
    server.sms.answer_with(202);
    let mut latest = failed;
    for _ in 0..2 {
        let resent = resend(&server, &mut browser, &latest).await;
        assert_eq!(resent.status, 303, "{}", resent.body);
        latest = browser.follow(&server, resent).await;
    }
    let limited = resend(&server, &mut browser, &latest).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        limited.body.contains("try again in an hour"),
        "{}",
        limited.body
    );
}

async fn another_users_challenge_no_session_and_forged_posts_are_refused(server: TestServer) {
    let core = services(&server).await;
    let (mut ada, ada_id) = signed_in(&server, "ada@example.com").await;
    let (mut eve, _) = signed_in(&server, "eve@example.com").await;
    let challenge = start(&core, ada_id).await;
    let code = latest_message(&server).await.code().unwrap();
    let path = format!("/phone/verify?challenge={challenge}");
    // Eve cannot see or answer Ada's challenge, even with the right code.
    let seen = eve.get(&server, &path).await;
    assert_eq!(seen.status, 404);
    let own_page = ada.get(&server, &path).await;
    let csrf = eve
        .cookies
        .iter()
        .find(|(name, _)| name.contains("csrf"))
        .unwrap()
        .1
        .clone();
    let stolen = eve
        .post(
            &server,
            "/phone/verify",
            &[
                ("csrf", &csrf),
                ("challenge", &challenge.to_string()),
                ("code", &code),
            ],
            Some(&server.base),
        )
        .await;
    assert_eq!(stolen.status, 404);
    // No session: back to sign-in.
    let mut stranger = Browser::default();
    let page = stranger.get(&server, &path).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/login"));
    // A forged post does nothing.
    let forged = ada
        .post(
            &server,
            "/phone/verify",
            &[
                ("csrf", "forged"),
                ("challenge", &challenge.to_string()),
                ("code", &code),
            ],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(user_json(&server, ada_id).await["phone_numbers"], json!([]));
    // Ada's code still works for Ada.
    let done = enter_code(&server, &mut ada, &own_page, &code).await;
    assert_eq!(done.status, 303, "{}", done.body);
}

http_suite!(
    the_code_from_the_provider_verifies_the_number_and_continues,
    a06_five_wrong_codes_spend_it_and_a_resend_brings_a_new_one,
    a_failing_provider_and_the_send_limit_are_clear_errors,
    another_users_challenge_no_session_and_forged_posts_are_refused,
);
