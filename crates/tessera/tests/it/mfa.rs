//! Strong authentication through the hosted pages, on both backends: enrolment with a QR
//! code when the tenant requires MFA, the code step at the next sign-in, `acr`/`amr` that
//! tell the truth, recovery codes, step-up for a client that needs two factors, codes
//! accepted once over HTTP (A41), CSRF on the factor forms (A18), the password lockout
//! with its mail (A01/A07), and the admin API for factors and locks.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::{
    Browser, PASSWORD, Page, REDIRECT_URI, Rp, authorize_query, jwt_claims, params_of, pkce,
    register, token_request, user,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tessera_core::clock::Clock;
use tessera_core::mfa::totp::TotpSeed;

const MAIL_WAIT: Duration = Duration::from_secs(10);

pub(crate) async fn set_mfa_mode(server: &TestServer, mode: &str) {
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {"mfa": {"mode": mode}}})),
        )
        .await
        .expect(200);
}

/// The code an authenticator app holding `secret` shows now, `offset` steps away. (The
/// browser suite computes codes with pyotp; here the seed type's RFC 6238 vectors vouch for
/// it.)
fn app_code(secret: &str, offset: i64) -> String {
    let seed = TotpSeed::from_base32(secret).unwrap();
    let now = tessera_core::clock::SystemClock.now();
    seed.code_at(now + time::Duration::seconds(30 * offset))
}

/// The base32 key the enrolment page shows as text.
fn shown_secret(page: &Page) -> String {
    let start = page.body.find("<code class=\"secret\"").unwrap();
    let open = page.body[start..].find('>').unwrap() + start + 1;
    let close = page.body[open..].find("</code>").unwrap() + open;
    page.body[open..close].replace(' ', "")
}

/// Password sign-in from an authorization request, up to the first page after the password.
pub(crate) async fn password_step(
    server: &TestServer,
    browser: &mut Browser,
    query: &str,
    email: &str,
) -> Page {
    let first = browser
        .get(server, &format!("/oauth2/authorize?{query}"))
        .await;
    let login = browser.follow(server, first).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let csrf = login.field("csrf").unwrap();
    let auth = login.field("auth").unwrap();
    let origin = server.base.clone();
    browser
        .post(
            server,
            "/login/password",
            &[
                ("csrf", &csrf),
                ("auth", &auth),
                ("email", email),
                ("password", PASSWORD),
            ],
            Some(&origin),
        )
        .await
}

/// Posts a form of `page` (its csrf and auth fields) with `fields`.
pub(crate) async fn submit(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    path: &str,
    fields: &[(&str, &str)],
) -> Page {
    let csrf = page.field("csrf").unwrap();
    let auth = page.field("auth").unwrap_or_default();
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf), ("auth", &auth)];
    all.extend_from_slice(fields);
    let origin = server.base.clone();
    browser.post(server, path, &all, Some(&origin)).await
}

/// Exchanges the code of a redirect to the client; the ID token's claims.
pub(crate) async fn id_token_claims(
    server: &TestServer,
    rp: &Rp,
    callback: &Page,
    verifier: &str,
) -> Value {
    let location = callback.location.as_deref().unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = params_of(location);
    let tokens = token_request(
        server,
        rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
    .expect(200);
    jwt_claims(tokens.body["id_token"].as_str().unwrap())
}

/// Enrols through the setup page; the app's secret and the recovery codes page.
async fn enrol(server: &TestServer, browser: &mut Browser, setup: &Page) -> (String, Page) {
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert_eq!(
        setup.headers.get("cache-control").unwrap(),
        "no-store",
        "the key is never cached"
    );
    assert!(
        setup
            .body
            .contains("<svg role=\"img\" aria-labelledby=\"qr-label\"")
    );
    let secret = shown_secret(setup);
    let factor = setup.field("factor").unwrap();
    let code = app_code(&secret, 0);
    let codes = submit(
        server,
        browser,
        setup,
        "/mfa/setup",
        &[("factor", &factor), ("code", &code)],
    )
    .await;
    (secret, codes)
}

/// The "continue" link of the recovery codes page, unescaped.
pub(crate) fn continue_link(page: &Page) -> String {
    let start = page.body.split("class=\"button\" href=\"").nth(1).unwrap();
    let href = start.split('"').next().unwrap();
    href.replace("&#x2f;", "/").replace("&amp;", "&")
}

pub(crate) fn recovery_codes(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().unwrap().to_owned())
        .collect()
}

async fn required_mfa_enrols_at_sign_in_and_asks_for_a_code_the_next_time(server: TestServer) {
    set_mfa_mode(&server, "required").await;
    let rp = register(&server, json!({})).await;
    let id = user(&server, "mia@example.com").await;

    // First sign-in: the password, then the enrolment (no session before it is done).
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "mia@example.com").await;
    assert_eq!(after_password.status, 303);
    assert!(
        after_password
            .location
            .as_deref()
            .unwrap()
            .contains("/mfa/setup?auth=")
    );
    assert!(
        !browser.cookies.contains_key("tessera-session"),
        "no session yet"
    );
    let setup = browser.follow(&server, after_password).await;
    let (secret, codes_page) = enrol(&server, &mut browser, &setup).await;
    assert_eq!(codes_page.status, 200, "{}", codes_page.body);
    let codes = recovery_codes(&codes_page);
    assert_eq!(codes.len(), 10, "{}", codes_page.body);
    assert!(browser.cookies.contains_key("tessera-session"));
    assert!(
        !browser.cookies.contains_key("tessera-mfa"),
        "the challenge is spent"
    );
    let next = continue_link(&codes_page);
    let callback = browser.get(&server, &next).await;
    let callback = browser.follow(&server, callback).await;
    let claims = id_token_claims(&server, &rp, &callback, &verifier).await;
    assert_eq!(claims["acr"], "urn:tessera:loa:2");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let mail = server
        .mail
        .wait_for("mia@example.com", MAIL_WAIT)
        .await
        .unwrap();
    assert!(
        mail.subject().unwrap().contains("security settings"),
        "{:?}",
        mail.subject()
    );

    // Next sign-in, another browser: the password, then a code from the app.
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "mia@example.com").await;
    assert!(
        after_password
            .location
            .as_deref()
            .unwrap()
            .contains("/mfa?auth=")
    );
    let form = browser.follow(&server, after_password).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("autocomplete=\"one-time-code\""));
    let wrong = submit(
        &server,
        &mut browser,
        &form,
        "/mfa",
        &[("method", "totp"), ("code", "12345x")],
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("role=\"alert\""));
    // The enrolment spent the current step (A41): the app's next code is the one to use.
    let code = app_code(&secret, 1);
    let done = submit(
        &server,
        &mut browser,
        &wrong,
        "/mfa",
        &[("method", "totp"), ("code", &code)],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let callback = browser.follow(&server, done).await;
    let claims = id_token_claims(&server, &rp, &callback, &verifier).await;
    assert_eq!(claims["acr"], "urn:tessera:loa:2");

    // The same code in a third sign-in is refused (A41); a recovery code works, once.
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "mia@example.com").await;
    let form = browser.follow(&server, after_password).await;
    let replay = submit(
        &server,
        &mut browser,
        &form,
        "/mfa",
        &[("method", "totp"), ("code", &code)],
    )
    .await;
    assert_eq!(replay.status, 400, "a used code is refused");
    let recovery = browser
        .get(
            &server,
            &format!("/mfa?auth={}&method=recovery", form.field("auth").unwrap()),
        )
        .await;
    assert!(recovery.body.contains("name=\"method\" value=\"recovery\""));
    let done = submit(
        &server,
        &mut browser,
        &recovery,
        "/mfa",
        &[("method", "recovery"), ("code", &codes[0])],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);

    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    assert_eq!(security.body["factors"][0]["kind"], "totp");
    assert_eq!(security.body["recovery_codes_left"], 9);
    assert!(
        security.body.to_string().find(&secret).is_none(),
        "never the seed"
    );
    assert_eq!(
        security.body["locks"][0]["factor"], "totp",
        "{}",
        security.body
    );
    // The right code forgave the wrong one; the replay counts.
    assert_eq!(security.body["locks"][0]["failures"], 1);
}

async fn a_client_that_needs_two_factors_steps_up_a_one_factor_session(server: TestServer) {
    let plain = register(&server, json!({})).await;
    let strict = register(&server, json!({"minimum_acr": "urn:tessera:loa:2"})).await;
    assert_eq!(
        server
            .admin(
                Method::GET,
                &format!("/admin/v1/clients/{}", strict.client_id),
                None
            )
            .await
            .expect(200)
            .body["minimum_acr"],
        "urn:tessera:loa:2"
    );
    user(&server, "sam@example.com").await;
    // Optional mode, no factor: one factor is enough for the plain client.
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&plain, &challenge, &[]);
    let callback = browser.sign_in(&server, &query, "sam@example.com").await;
    let claims = id_token_claims(&server, &plain, &callback, &verifier).await;
    assert_eq!(claims["acr"], "urn:tessera:loa:1");
    assert_eq!(claims["amr"], json!(["pwd"]));
    let first_session = browser.cookies["tessera-session"].clone();

    // The strict client: the same session must add a second factor (enrolling one).
    let (verifier, challenge) = pkce();
    let query = authorize_query(&strict, &challenge, &[]);
    let step_up = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    assert!(
        step_up.location.as_deref().unwrap().contains("/mfa?auth="),
        "{step_up:?}"
    );
    let setup = browser.follow(&server, step_up).await;
    let (_, codes_page) = enrol(&server, &mut browser, &setup).await;
    assert_ne!(
        browser.cookies["tessera-session"], first_session,
        "a new session id (A21)"
    );
    let next = continue_link(&codes_page);
    let callback = browser.get(&server, &next).await;
    let callback = browser.follow(&server, callback).await;
    let claims = id_token_claims(&server, &strict, &callback, &verifier).await;
    assert_eq!(claims["acr"], "urn:tessera:loa:2");

    // prompt=none cannot step up: interaction_required.
    user(&server, "pat@example.com").await;
    let mut fresh = Browser::default();
    let (_, challenge) = pkce();
    let query = authorize_query(&plain, &challenge, &[]);
    fresh.sign_in(&server, &query, "pat@example.com").await;
    let query = authorize_query(&strict, &challenge, &[("prompt", "none")]);
    let refused = fresh
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let params = params_of(refused.location.as_deref().unwrap());
    assert_eq!(params["error"], "interaction_required");
    // acr_values asks for two factors on a plain client too.
    let query = authorize_query(&plain, &challenge, &[("acr_values", "urn:tessera:loa:2")]);
    let step_up = fresh
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    assert!(
        step_up.location.as_deref().unwrap().contains("/mfa?auth="),
        "{step_up:?}"
    );

    let discovery = server
        .client
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        discovery["acr_values_supported"],
        json!(["urn:tessera:loa:1", "urn:tessera:loa:2"])
    );
}

async fn a18_factor_forms_need_the_csrf_token(server: TestServer) {
    set_mfa_mode(&server, "required").await;
    let rp = register(&server, json!({})).await;
    user(&server, "kim@example.com").await;
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "kim@example.com").await;
    let setup = browser.follow(&server, after_password).await;
    let factor = setup.field("factor").unwrap();
    let code = app_code(&shown_secret(&setup), 0);
    let origin = server.base.clone();
    for path in ["/mfa/setup", "/mfa"] {
        let forged = browser
            .post(
                &server,
                path,
                &[("csrf", "forged"), ("factor", &factor), ("code", &code)],
                Some(&origin),
            )
            .await;
        assert_eq!(forged.status, 403, "{path}");
    }
    // Without a challenge or a session, the pages send the browser to sign in.
    let mut stranger = Browser::default();
    let page = stranger.get(&server, "/mfa/setup").await;
    assert_eq!(page.status, 303);
    assert!(page.location.unwrap().contains("/login"));
}

async fn a01_a07_a_locked_password_answers_like_a_wrong_one_and_mails_the_owner(
    server: TestServer,
) {
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {"lockout": {"free_attempts": 3, "base_delay_seconds": 600}}})),
        )
        .await
        .expect(200);
    let id = user(&server, "lee@example.com").await;
    let attempt = |password: &'static str| {
        let server = &server;
        async move {
            let mut browser = Browser::default();
            let login = browser.get(server, "/login").await;
            let csrf = login.field("csrf").unwrap();
            let origin = server.base.clone();
            browser
                .post(
                    server,
                    "/login/password",
                    &[
                        ("csrf", &csrf),
                        ("auth", ""),
                        ("email", "lee@example.com"),
                        ("password", password),
                    ],
                    Some(&origin),
                )
                .await
        }
    };
    let wrong = attempt("not the password").await;
    for _ in 0..2 {
        attempt("not the password").await;
    }
    let locked = attempt(PASSWORD).await;
    assert_eq!(locked.status, wrong.status);
    // The same page but for the per-response nonce and CSRF token.
    let strip = |body: &str| {
        let main = body.split("<main").nth(1).unwrap();
        main.split("name=\"csrf\"").next().unwrap().to_owned()
    };
    assert_eq!(
        strip(&locked.body),
        strip(&wrong.body),
        "the same page (A07)"
    );
    let mail = server
        .mail
        .wait_for("lee@example.com", MAIL_WAIT)
        .await
        .unwrap();
    assert!(
        mail.text().unwrap().contains("paused for 10 minutes"),
        "{:?}",
        mail.text()
    );

    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    assert_eq!(security.body["locks"][0]["factor"], "password");
    assert_eq!(security.body["locks"][0]["failures"], 4);
    let events = server
        .admin(Method::GET, "/admin/v1/events?type=sign_in.failed", None)
        .await
        .expect(200);
    let reasons: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"]["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"locked"), "{reasons:?}");

    server
        .admin(
            Method::POST,
            &format!("/admin/v1/users/{id}/unlock"),
            Some(json!({"factor": "sms"})),
        )
        .await
        .expect_problem(422, "validation");
    let unlocked = server
        .admin(
            Method::POST,
            &format!("/admin/v1/users/{id}/unlock"),
            Some(json!({})),
        )
        .await
        .expect(200);
    assert_eq!(unlocked.body["unlocked"], true);
    let signed_in = attempt(PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(signed_in.body.contains("signed in"), "{}", signed_in.body);
}

async fn admins_reset_mfa_and_other_tenants_see_nothing(server: TestServer) {
    set_mfa_mode(&server, "required").await;
    let rp = register(&server, json!({})).await;
    let id = user(&server, "ola@example.com").await;
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "ola@example.com").await;
    let setup = browser.follow(&server, after_password).await;
    enrol(&server, &mut browser, &setup).await;

    server.tenant("other").await;
    let other_token = server
        .token(Some("other"), &["users:read", "users:write"])
        .await;
    let foreign = server
        .call(
            Method::DELETE,
            &format!("/t/other/admin/v1/users/{id}/mfa"),
            Some(&other_token),
            None,
        )
        .await;
    assert_eq!(foreign.status, 404, "A50");
    let reset = server
        .admin(Method::DELETE, &format!("/admin/v1/users/{id}/mfa"), None)
        .await
        .expect(200);
    assert_eq!(reset.body["removed"], 1);
    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    assert_eq!(security.body["factors"], json!([]));
    assert_eq!(security.body["recovery_codes_left"], 0);
    // The next sign-in enrols again.
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "ola@example.com").await;
    assert!(after_password.location.unwrap().contains("/mfa/setup"));
}

async fn a_trusted_browser_skips_the_tenants_second_factor_but_not_a_strict_clients(
    server: TestServer,
) {
    set_mfa_mode(&server, "required").await;
    let rp = register(&server, json!({})).await;
    let strict = register(&server, json!({"minimum_acr": "urn:tessera:loa:2"})).await;
    let id = user(&server, "tia@example.com").await;
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "tia@example.com").await;
    let setup = browser.follow(&server, after_password).await;
    let (secret, codes_page) = enrol(&server, &mut browser, &setup).await;
    let codes = recovery_codes(&codes_page);

    // The same browser signs in again and ticks "don't ask again".
    browser.cookies.remove("tessera-session");
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "tia@example.com").await;
    let form = browser.follow(&server, after_password).await;
    assert!(form.body.contains("name=\"remember\""), "{}", form.body);
    let code = app_code(&secret, 1);
    let done = submit(
        &server,
        &mut browser,
        &form,
        "/mfa",
        &[("method", "totp"), ("code", &code), ("remember", "on")],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);

    // Next time in that browser: the password is enough for the plain client…
    browser.cookies.remove("tessera-session");
    let (verifier, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "tia@example.com").await;
    let callback = browser.follow(&server, after_password).await;
    let claims = id_token_claims(&server, &rp, &callback, &verifier).await;
    assert_eq!(
        claims["acr"], "urn:tessera:loa:1",
        "the truth: one factor now"
    );
    // The user sees the browser on their own page, marked as this one.
    let devices = browser.get(&server, "/account/devices").await;
    assert_eq!(devices.status, 200, "{}", devices.body);
    assert!(devices.body.contains("(this browser)"), "{}", devices.body);
    assert_eq!(devices.headers.get("cache-control").unwrap(), "no-store");
    // …but not for the client that needs two factors.
    let (_, challenge) = pkce();
    let query = authorize_query(&strict, &challenge, &[]);
    let step_up = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    assert!(step_up.location.as_deref().unwrap().contains("/mfa?auth="));

    // Another browser is asked; and once support forgets the device, so is this one.
    let mut other = Browser::default();
    let after_password = password_step(&server, &mut other, &query, "tia@example.com").await;
    assert!(after_password.location.unwrap().contains("/mfa?auth="));
    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    let device = security.body["trusted_devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .admin(
            Method::DELETE,
            &format!("/admin/v1/users/{id}/trusted-devices/{device}"),
            None,
        )
        .await
        .expect(204);
    let devices = browser.get(&server, "/account/devices").await;
    assert!(
        devices.body.contains("No browser skips"),
        "{}",
        devices.body
    );
    browser.cookies.remove("tessera-session");
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "tia@example.com").await;
    assert!(
        after_password
            .location
            .as_deref()
            .unwrap()
            .contains("/mfa?auth=")
    );

    // Trusted again (with a recovery code: the app's next steps are spent), then
    // forgotten by the user on their page (CSRF-checked).
    let form = browser.follow(&server, after_password).await;
    let done = submit(
        &server,
        &mut browser,
        &form,
        "/mfa",
        &[
            ("method", "recovery"),
            ("code", &codes[0]),
            ("remember", "on"),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let devices = browser.get(&server, "/account/devices").await;
    assert!(devices.body.contains("(this browser)"), "{}", devices.body);
    let origin = server.base.clone();
    let forged = browser
        .post(
            &server,
            "/account/devices/forget",
            &[("csrf", "forged"), ("device", "all")],
            Some(&origin),
        )
        .await;
    assert_eq!(forged.status, 403);
    let forgotten = submit(
        &server,
        &mut browser,
        &devices,
        "/account/devices/forget",
        &[("device", "all")],
    )
    .await;
    assert_eq!(forgotten.status, 303, "{}", forgotten.body);
    let devices = browser.get(&server, "/account/devices").await;
    assert!(
        devices.body.contains("No browser skips"),
        "{}",
        devices.body
    );
    browser.cookies.remove("tessera-session");
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut browser, &query, "tia@example.com").await;
    assert!(after_password.location.unwrap().contains("/mfa?auth="));
    // Without a session the page sends the browser to sign in.
    let anonymous = Browser::default().get(&server, "/account/devices").await;
    assert_eq!(anonymous.status, 303);
}

async fn a_signed_in_user_adds_an_app_of_their_own_accord(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let id = user(&server, "vic@example.com").await;
    let (_, challenge) = pkce();
    let mut browser = Browser::default();
    browser
        .sign_in(
            &server,
            &authorize_query(&rp, &challenge, &[]),
            "vic@example.com",
        )
        .await;
    // Signed in moments ago: the enrolment page is open to the session.
    let setup = browser.get(&server, "/mfa/setup").await;
    let (_, codes) = enrol(&server, &mut browser, &setup).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    assert_eq!(recovery_codes(&codes).len(), 10);
    let security = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
        .await
        .expect(200);
    assert_eq!(security.body["factors"][0]["kind"], "totp");
    // Optional mode: from now on the password is followed by a code.
    let (_, challenge) = pkce();
    let mut next = Browser::default();
    let query = authorize_query(&rp, &challenge, &[]);
    let after_password = password_step(&server, &mut next, &query, "vic@example.com").await;
    assert!(after_password.location.unwrap().contains("/mfa?auth="));
}

http_suite!(
    a_signed_in_user_adds_an_app_of_their_own_accord,
    a_trusted_browser_skips_the_tenants_second_factor_but_not_a_strict_clients,
    required_mfa_enrols_at_sign_in_and_asks_for_a_code_the_next_time,
    a_client_that_needs_two_factors_steps_up_a_one_factor_session,
    a18_factor_forms_need_the_csrf_token,
    a01_a07_a_locked_password_answers_like_a_wrong_one_and_mails_the_owner,
    admins_reset_mfa_and_other_tenants_see_nothing,
);
