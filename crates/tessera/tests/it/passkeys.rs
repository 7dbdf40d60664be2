//! Passkeys through the hosted pages on both backends, with webauthn-rs's soft
//! authenticator standing in for the browser's WebAuthn (the browser suite uses Chromium's
//! virtual authenticator): enrolment at a sign-in that needs two factors, a passkey as the
//! second factor, a passwordless sign-in, `acr`/`amr` that say what happened, CSRF on the
//! ceremony endpoints (A18), and no passkeys where the public URL cannot have them.

use crate::harness::{PUBLIC_HOST, TestServer, with_server, with_server_env};
use crate::mfa::{
    continue_link, id_token_claims, password_step, recovery_codes, set_mfa_mode, submit,
};
use crate::oidc_support::{Browser, Page, authorize_query, pkce, register, user};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_test_support::Backend;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Asks a page's ceremony endpoint for options, as the page's script does.
async fn options(server: &TestServer, browser: &mut Browser, page: &Page, path: &str) -> Value {
    let answer = submit(server, browser, page, path, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers.get("cache-control").unwrap(), "no-store");
    serde_json::from_str(&answer.body).unwrap()
}

/// Creates a passkey on `key` from the setup page and posts it, named `name`.
async fn add_passkey(
    server: &TestServer,
    browser: &mut Browser,
    setup: &Page,
    key: &mut SoftPasskey,
    name: &str,
) -> Page {
    assert!(setup.body.contains("id=\"passkey-form\""), "{}", setup.body);
    let started = options(server, browser, setup, "/mfa/setup/passkey/options").await;
    let creation: CreationChallengeResponse =
        serde_json::from_value(started["options"].clone()).unwrap();
    assert_eq!(creation.public_key.rp.id, "localhost");
    let origin = Url::parse(&server.base).unwrap();
    let credential = key.do_registration(origin, creation).unwrap();
    submit(
        server,
        browser,
        setup,
        "/mfa/setup/passkey",
        &[
            ("ceremony", started["ceremony"].as_str().unwrap()),
            ("credential", &serde_json::to_string(&credential).unwrap()),
            ("name", name),
        ],
    )
    .await
}

/// Answers the second-factor page with `key`.
async fn use_passkey(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    key: &mut SoftPasskey,
) -> Page {
    let started = options(server, browser, page, "/mfa/passkey/options").await;
    let request: RequestChallengeResponse =
        serde_json::from_value(started["options"].clone()).unwrap();
    let origin = Url::parse(&server.base).unwrap();
    let assertion = key.do_authentication(origin, request).unwrap();
    submit(
        server,
        browser,
        page,
        "/mfa",
        &[
            ("method", "passkey"),
            ("ceremony", started["ceremony"].as_str().unwrap()),
            ("credential", &serde_json::to_string(&assertion).unwrap()),
        ],
    )
    .await
}

/// Signs in from the email page with `key` alone. The soft authenticator keeps no resident
/// keys: it is told which credential to use, and its answer gets the user handle a resident
/// key returns (the handle is not signed).
async fn passwordless(
    server: &TestServer,
    browser: &mut Browser,
    login: &Page,
    key: &mut SoftPasskey,
    credential_id: &[u8],
    user_handle: &[u8],
) -> Page {
    let started = options(server, browser, login, "/login/passkey/options").await;
    let mut request = started["options"].clone();
    assert_eq!(request["publicKey"]["allowCredentials"], json!([]));
    request["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": base64url(credential_id)}]);
    let request: RequestChallengeResponse = serde_json::from_value(request).unwrap();
    let origin = Url::parse(&server.base).unwrap();
    let assertion = key.do_authentication(origin, request).unwrap();
    let mut assertion = serde_json::to_value(&assertion).unwrap();
    assertion["response"]["userHandle"] = json!(base64url(user_handle));
    submit(
        server,
        browser,
        login,
        "/login/passkey",
        &[
            ("ceremony", started["ceremony"].as_str().unwrap()),
            ("credential", &assertion.to_string()),
        ],
    )
    .await
}

async fn passkeys_enrol_confirm_and_sign_in_without_a_password(server: TestServer) {
    set_mfa_mode(&server, "required").await;
    let rp = register(&server, json!({})).await;
    let id = user(&server, "pia@example.com").await;
    let mut key = SoftPasskey::new(true);

    // First sign-in: the password, then a passkey instead of an app.
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "pia@example.com").await;
    let setup = browser.follow(&server, after_password).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let csp = setup.headers.get("content-security-policy").unwrap();
    assert!(csp.to_str().unwrap().contains("connect-src 'self'"));
    let codes_page = add_passkey(&server, &mut browser, &setup, &mut key, "Laptop").await;
    assert_eq!(codes_page.status, 200, "{}", codes_page.body);
    assert_eq!(recovery_codes(&codes_page).len(), 10);
    let callback = browser.get(&server, &continue_link(&codes_page)).await;
    let callback = browser.follow(&server, callback).await;
    let claims = id_token_claims(&server, &rp, &callback, &verifier).await;
    assert_eq!(claims["acr"], "urn:tessera:loa:2");
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "user", "mfa"]));

    // Next sign-in: the page asks for the passkey only (no code field), a recovery code a
    // link away.
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "pia@example.com").await;
    let mfa = browser.follow(&server, after_password).await;
    assert_eq!(mfa.status, 200, "{}", mfa.body);
    assert!(mfa.body.contains("data-options=\"/mfa/passkey/options\""));
    assert!(!mfa.body.contains("name=\"code\""), "{}", mfa.body);
    assert!(mfa.body.contains("method=recovery"));
    let done = use_passkey(&server, &mut browser, &mfa, &mut key).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let callback = browser.follow(&server, done).await;
    let claims = id_token_claims(&server, &rp, &callback, &verifier).await;
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "user", "mfa"]));

    // Without a password: the passkey names its user and is two factors on its own.
    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    assert_eq!(security.body["factors"][0]["kind"], "passkey");
    assert_eq!(security.body["factors"][0]["name"], "Laptop");
    let credential_id = stored_credential_id(&server, &id).await;
    let user_handle = uuid::Uuid::parse_str(&id).unwrap();
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let first = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    let login = browser.follow(&server, first).await;
    assert!(
        login.body.contains("autocomplete=\"username webauthn\""),
        "passkeys in the email field's autofill"
    );
    let signed_in = passwordless(
        &server,
        &mut browser,
        &login,
        &mut key,
        &credential_id,
        user_handle.as_bytes(),
    )
    .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let callback = browser.follow(&server, signed_in).await;
    let claims = id_token_claims(&server, &rp, &callback, &verifier).await;
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["acr"], "urn:tessera:loa:2");
    assert_eq!(claims["amr"], json!(["hwk", "user"]));

    // A passkey answer that does not check out: the email page again, with a message.
    let mut browser = Browser::default();
    let first = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    let login = browser.follow(&server, first).await;
    let started = options(&server, &mut browser, &login, "/login/passkey/options").await;
    let refused = submit(
        &server,
        &mut browser,
        &login,
        "/login/passkey",
        &[
            ("ceremony", started["ceremony"].as_str().unwrap()),
            ("credential", "{\"not\": \"a credential\"}"),
        ],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("The passkey did not work"));
    assert!(!browser.cookies.contains_key("tessera-session"));
}

/// The credential id of the user's first passkey, from the database the server uses.
async fn stored_credential_id(server: &TestServer, user: &str) -> Vec<u8> {
    let store = tessera_store::connect(
        &server.database_url,
        &tessera_store::StoreOptions {
            max_connections: 1,
            migrate: false,
        },
    )
    .await
    .unwrap();
    let tenant = server
        .admin(Method::GET, "/admin/v1/tenants/default", None)
        .await
        .expect(200)
        .body;
    let uuid = |value: &str| uuid::Uuid::parse_str(value).unwrap();
    let factors = store
        .mfa_factors(
            tessera_core::ids::TenantId::from_uuid(uuid(tenant["id"].as_str().unwrap())),
            tessera_core::ids::UserId::from_uuid(uuid(user)),
        )
        .await
        .unwrap();
    // (The setup page also began an app's enrolment, left unconfirmed.)
    factors
        .into_iter()
        .find_map(|factor| factor.passkey)
        .unwrap()
        .credential_id
}

async fn a18_ceremony_endpoints_check_the_form_token(server: TestServer) {
    let mut browser = Browser::default();
    let login = browser.get(&server, "/login").await;
    let origin = server.base.clone();
    let forged = browser
        .post(
            &server,
            "/login/passkey/options",
            &[("csrf", "forged")],
            Some(&origin),
        )
        .await;
    assert_eq!(forged.status, 403);
    let cross_site = browser
        .post(
            &server,
            "/login/passkey/options",
            &[("csrf", &login.field("csrf").unwrap())],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross_site.status, 403);
    // Without a waiting sign-in or a session there is nothing to confirm or enrol.
    for path in ["/mfa/passkey/options", "/mfa/setup/passkey/options"] {
        let answer = submit(&server, &mut browser, &login, path, &[]).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["error"], "not_found");
    }
}

/// A password-only session adds the first factor of its user; once the user has one, only a
/// session that proved two factors may add another (a stolen password must not stand in for
/// the factor it lacks).
async fn a_one_factor_session_adds_only_a_first_factor(server: TestServer) {
    set_mfa_mode(&server, "off").await;
    let id = user(&server, "ola@example.com").await;
    let rp = register(&server, json!({})).await;
    let mut key = SoftPasskey::new(true);
    let mut browser = Browser::default();
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let signed_in = password_step(&server, &mut browser, &query, "ola@example.com").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert!(browser.cookies.contains_key("tessera-session"));
    let setup = browser.get(&server, "/mfa/setup").await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let added = add_passkey(&server, &mut browser, &setup, &mut key, "Phone").await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(recovery_codes(&added).len(), 10, "{}", added.body);

    // A new password-only session (MFA off): no second passkey, no app.
    let mut browser = Browser::default();
    let signed_in = password_step(&server, &mut browser, &query, "ola@example.com").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let login = browser.get(&server, "/login").await;
    let refused = submit(
        &server,
        &mut browser,
        &login,
        "/mfa/setup/passkey/options",
        &[],
    )
    .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let setup = browser.get(&server, "/mfa/setup").await;
    assert_eq!(setup.status, 403, "{}", setup.body);

    // On the user's own page: the passkey, renamed at will, but not removed by a session
    // that proved only the password.
    let page = browser.get(&server, "/account/security").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<strong>Phone</strong> <span class=\"muted\">(passkey)"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("/account/security/remove"),
        "{}",
        page.body
    );
    let factor = page.field("factor").unwrap();
    let renamed = submit(
        &server,
        &mut browser,
        &page,
        "/account/security/rename",
        &[("factor", &factor), ("name", "Work phone")],
    )
    .await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    let refused = submit(
        &server,
        &mut browser,
        &page,
        "/account/security/remove",
        &[("factor", &factor)],
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // Signed in with the passkey itself (two factors, just now): it may go.
    let credential_id = stored_credential_id(&server, &id).await;
    let user_handle = uuid::Uuid::parse_str(&id).unwrap();
    let mut browser = Browser::default();
    let login = browser.get(&server, "/login").await;
    let signed_in = passwordless(
        &server,
        &mut browser,
        &login,
        &mut key,
        &credential_id,
        user_handle.as_bytes(),
    )
    .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let page = browser.get(&server, "/account/security").await;
    assert!(
        page.body.contains("<strong>Work phone</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Recovery codes left: 10"),
        "{}",
        page.body
    );
    let removed = submit(
        &server,
        &mut browser,
        &page,
        "/account/security/remove",
        &[("factor", &factor)],
    )
    .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let page = browser.get(&server, "/account/security").await;
    assert!(page.body.contains("no second step yet"), "{}", page.body);
    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    assert_eq!(security.body["factors"], json!([]));
    assert_eq!(
        security.body["recovery_codes_left"], 0,
        "codes go with the last factor"
    );
}

async fn an_ip_address_public_url_offers_no_passkeys(server: TestServer) {
    let mut browser = Browser::default();
    let login = browser.get(&server, "/login").await;
    assert_eq!(login.status, 200);
    assert!(!login.body.contains("passkey-form"));
    assert!(login.body.contains("autocomplete=\"username\""));
    let answer = submit(&server, &mut browser, &login, "/login/passkey/options", &[]).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

const LOCALHOST: [(&str, &str); 1] = [(PUBLIC_HOST, "http://localhost")];

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passkeys_enrol_confirm_and_sign_in_without_a_password() {
        with_server_env(
            Backend::Sqlite,
            &LOCALHOST,
            super::passkeys_enrol_confirm_and_sign_in_without_a_password,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a18_ceremony_endpoints_check_the_form_token() {
        with_server_env(
            Backend::Sqlite,
            &LOCALHOST,
            super::a18_ceremony_endpoints_check_the_form_token,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_one_factor_session_adds_only_a_first_factor() {
        with_server_env(
            Backend::Sqlite,
            &LOCALHOST,
            super::a_one_factor_session_adds_only_a_first_factor,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_ip_address_public_url_offers_no_passkeys() {
        with_server(
            Backend::Sqlite,
            super::an_ip_address_public_url_offers_no_passkeys,
        )
        .await;
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passkeys_enrol_confirm_and_sign_in_without_a_password() {
        with_server_env(
            Backend::Postgres,
            &LOCALHOST,
            super::passkeys_enrol_confirm_and_sign_in_without_a_password,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a18_ceremony_endpoints_check_the_form_token() {
        with_server_env(
            Backend::Postgres,
            &LOCALHOST,
            super::a18_ceremony_endpoints_check_the_form_token,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_one_factor_session_adds_only_a_first_factor() {
        with_server_env(
            Backend::Postgres,
            &LOCALHOST,
            super::a_one_factor_session_adds_only_a_first_factor,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_ip_address_public_url_offers_no_passkeys() {
        with_server(
            Backend::Postgres,
            super::an_ip_address_public_url_offers_no_passkeys,
        )
        .await;
    }
}
