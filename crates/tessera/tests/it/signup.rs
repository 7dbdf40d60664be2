//! Self sign-up over HTTP on both stores, with mail delivered over SMTP to the test's sink:
//! `prompt=create` → form → code from the mail → back at the client; claiming a light
//! account made by SCIM; the link; decoys for registered addresses (A08); wrong codes (A06);
//! CSRF on every form.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::{
    Browser, Page, REDIRECT_URI, authorize_query, params_of, pkce, register, user,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const NEW_PASSWORD: &str = "a lighthouse keeper in 1906";
const MAIL_WAIT: Duration = Duration::from_secs(10);

async fn enable_sign_up(server: &TestServer, signup: Value) {
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {"signup": signup}})),
        )
        .await
        .expect(200);
}

/// Opens the sign-up form from an authorization request with `prompt=create`.
async fn open_form(server: &TestServer, browser: &mut Browser, client_id: &str) -> Page {
    let rp = crate::oidc_support::Rp {
        client_id: client_id.to_owned(),
        secret: None,
    };
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[("prompt", "create")]);
    let first = browser
        .get(server, &format!("/oauth2/authorize?{query}"))
        .await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert!(
        first.location.as_deref().unwrap().contains("/signup?auth="),
        "prompt=create leads to sign-up: {:?}",
        first.location
    );
    let form = browser.follow(server, first).await;
    assert_eq!(form.status, 200, "{}", form.body);
    form
}

async fn submit_form(server: &TestServer, browser: &mut Browser, form: &Page, email: &str) -> Page {
    let csrf = form.field("csrf").unwrap();
    let auth = form.field("auth").unwrap_or_default();
    browser
        .post(
            server,
            "/signup",
            &[
                ("csrf", &csrf),
                ("auth", &auth),
                ("email", email),
                ("password", NEW_PASSWORD),
                ("accept_terms", "1"),
            ],
            Some(&server.base),
        )
        .await
}

async fn enter_code(server: &TestServer, browser: &mut Browser, verify: &Page, code: &str) -> Page {
    browser
        .post(
            server,
            "/signup/verify",
            &[
                ("csrf", &verify.field("csrf").unwrap()),
                ("auth", &verify.field("auth").unwrap_or_default()),
                ("id", &verify.field("id").unwrap()),
                ("code", code),
            ],
            Some(&server.base),
        )
        .await
}

async fn user_by_email(server: &TestServer, email: &str) -> Value {
    let found = server
        .admin(Method::GET, &format!("/admin/v1/users?email={email}"), None)
        .await
        .expect(200);
    found.body["items"][0].clone()
}

async fn sign_up_with_a_code_and_land_at_the_client(server: TestServer) {
    enable_sign_up(
        &server,
        json!({"enabled": true, "ask_for_name": true,
               "terms": {"url": "https://shop.example/terms", "version": "2026-09"}}),
    )
    .await;
    let rp = register(&server, json!({})).await;
    let mut browser = Browser::default();
    let form = open_form(&server, &mut browser, &rp.client_id).await;
    assert!(form.body.contains("name=\"given_name\""), "asks for names");
    for text in [
        "Create your account",
        "Given name",
        "At least 15 characters",
        "terms of service",
    ] {
        assert!(form.body.contains(text), "the form says {text:?}");
    }
    assert!(form.body.contains("shop.example"), "links the terms");
    let sent = submit_form(&server, &mut browser, &form, "new.customer@example.com").await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let verify = browser.follow(&server, sent).await;
    assert_eq!(verify.status, 200, "{}", verify.body);
    assert!(verify.body.contains("new.customer@example.com"));
    assert!(verify.body.contains("We have sent a 6-digit code to"));
    assert!(verify.body.contains("Send a new code"));
    let mail = server
        .mail
        .wait_for("new.customer@example.com", MAIL_WAIT)
        .await
        .expect("a mail with the code");
    let code = mail.code().expect("a 6-digit code in the mail");
    assert!(mail.html().unwrap().contains(&code));
    let done = enter_code(&server, &mut browser, &verify, &code).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let back = browser.follow(&server, done).await;
    let location = back.location.expect("a redirect to the client");
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert!(params_of(&location).contains_key("code"));
    let account = user_by_email(&server, "new.customer@example.com").await;
    assert_eq!(account["status"], "active");
    assert_eq!(account["emails"][0]["verified"], true);
    let events = server
        .admin(Method::GET, "/admin/v1/events?type=user.signed_up", None)
        .await
        .expect(200);
    assert_eq!(
        events.body["items"][0]["payload"]["terms_version"],
        "2026-09"
    );
}

async fn a_light_account_from_scim_is_claimed(server: TestServer) {
    enable_sign_up(&server, json!({"enabled": true})).await;
    let token = server
        .admin(
            Method::POST,
            "/admin/v1/api-tokens",
            Some(json!({"name": "website", "scopes": ["scim"]})),
        )
        .await
        .expect(201)
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = server
        .client
        .post(format!("{}/scim/v2/Users", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "prospect@example.com",
                   "name": {"givenName": "Pat"},
                   "emails": [{"value": "prospect@example.com"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let light: Value = created.json().await.unwrap();
    let rp = register(&server, json!({})).await;
    let mut browser = Browser::default();
    let form = open_form(&server, &mut browser, &rp.client_id).await;
    let sent = submit_form(&server, &mut browser, &form, "Prospect@Example.com").await;
    let verify = browser.follow(&server, sent).await;
    let code = server
        .mail
        .wait_for("Prospect@Example.com", MAIL_WAIT)
        .await
        .unwrap()
        .code()
        .unwrap();
    let done = enter_code(&server, &mut browser, &verify, &code).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let account = server
        .admin(
            Method::GET,
            &format!("/admin/v1/users/{}", light["id"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        account.body["status"], "active",
        "the same user, now active"
    );
    assert_eq!(account.body["given_name"], "Pat");
    let claimed = server
        .admin(Method::GET, "/admin/v1/events?type=user.claimed", None)
        .await
        .expect(200);
    assert_eq!(
        claimed.body["items"][0]["subject"],
        format!("user:{}", light["id"].as_str().unwrap())
    );
}

async fn mailed_link(server: &TestServer, address: &str) -> String {
    let mail = server.mail.wait_for(address, MAIL_WAIT).await.unwrap();
    mail.text()
        .unwrap()
        .split_whitespace()
        .find(|word| word.contains("/signup/confirm?"))
        .expect("a link in the mail")
        .to_owned()
}

async fn confirm(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    password: Option<&str>,
) -> Page {
    let mut fields = vec![
        ("csrf", page.field("csrf").unwrap()),
        ("id", page.field("id").unwrap()),
        ("token", page.field("token").unwrap()),
    ];
    if let Some(password) = password {
        fields.push(("password", password.to_owned()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser
        .post(server, "/signup/confirm", &fields, Some(&server.base))
        .await
}

async fn the_link_signs_in_only_the_browser_that_started(server: TestServer) {
    enable_sign_up(&server, json!({"enabled": true})).await;
    // The starting browser: one click, signed in.
    let mut browser = Browser::default();
    let form = browser.get(&server, "/signup").await;
    assert_eq!(form.status, 200);
    let sent = submit_form(&server, &mut browser, &form, "linker@example.com").await;
    assert_eq!(sent.status, 303);
    let link = mailed_link(&server, "linker@example.com").await;
    let page = browser.get(&server, &link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("name=\"password\""),
        "no password asked here"
    );
    let again = browser.get(&server, &link).await;
    assert_eq!(again.status, 200, "opening the link twice spends nothing");
    let done = confirm(&server, &mut browser, &page, None).await;
    assert_eq!(
        done.status, 200,
        "signed in, no request to continue: {}",
        done.body
    );
    assert!(browser.cookies.keys().any(|name| name.contains("session")));
    assert_eq!(
        user_by_email(&server, "linker@example.com").await["status"],
        "active"
    );
    assert_eq!(
        browser.get(&server, &link).await.status,
        400,
        "a used link says to start again"
    );

    // Someone else's browser (the link forwarded, or sent on purpose by whoever filled the
    // form): the form's password is dropped, a new one is chosen, nobody is signed in.
    let mut starter = Browser::default();
    let form = starter.get(&server, "/signup").await;
    submit_form(&server, &mut starter, &form, "victim@example.com").await;
    let link = mailed_link(&server, "victim@example.com").await;
    let mut other = Browser::default();
    let page = other.get(&server, &link).await;
    assert!(
        page.body.contains("name=\"password\""),
        "a password is chosen here"
    );
    let no_password = confirm(&server, &mut other, &page, None).await;
    assert_eq!(no_password.status, 400);
    let done = confirm(
        &server,
        &mut other,
        &page,
        Some("a phrase nobody else typed"),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        !other.cookies.keys().any(|name| name.contains("session")),
        "not signed in: the person signs in themselves"
    );
    let account = user_by_email(&server, "victim@example.com").await;
    assert_eq!(account["status"], "active");
    // The password typed in the form that started is not the account's.
    let mut attacker = Browser::default();
    let rp = register(&server, json!({})).await;
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let first = attacker
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let login = attacker.follow(&server, first).await;
    let csrf = login.field("csrf").unwrap();
    let auth = login.field("auth").unwrap();
    let refused = attacker
        .post(
            &server,
            "/login/password",
            &[
                ("csrf", &csrf),
                ("auth", &auth),
                ("email", "victim@example.com"),
                ("password", NEW_PASSWORD),
            ],
            Some(&server.base),
        )
        .await;
    assert_eq!(refused.status, 200, "the sign-in page again, with an error");
    assert!(refused.body.contains("role=\"alert\""));
}

async fn a08_a_registered_address_looks_the_same_and_gets_a_sign_in_mail(server: TestServer) {
    enable_sign_up(&server, json!({"enabled": true})).await;
    user(&server, "existing@example.com").await;
    let mut browser = Browser::default();
    let form = browser.get(&server, "/signup").await;
    let sent = submit_form(&server, &mut browser, &form, "existing@example.com").await;
    assert_eq!(sent.status, 303, "the same answer as for a new address");
    let verify = browser.follow(&server, sent).await;
    assert_eq!(verify.status, 200);
    let mail = server
        .mail
        .wait_for("existing@example.com", MAIL_WAIT)
        .await
        .unwrap();
    assert!(mail.code().is_none(), "no code for a registered address");
    assert!(mail.text().unwrap().contains("/login"));
    let tried = enter_code(&server, &mut browser, &verify, "123456").await;
    assert_eq!(tried.status, 400);
}

async fn a06_wrong_codes_are_counted_and_csrf_is_checked(server: TestServer) {
    enable_sign_up(&server, json!({"enabled": true})).await;
    let mut browser = Browser::default();
    let form = browser.get(&server, "/signup").await;
    // A06/A22: a forged form post does nothing.
    let forged = browser
        .post(
            &server,
            "/signup",
            &[
                ("csrf", "forged"),
                ("email", "x@example.com"),
                ("password", NEW_PASSWORD),
            ],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(forged.status, 403);
    let sent = submit_form(&server, &mut browser, &form, "guesser@example.com").await;
    let verify = browser.follow(&server, sent).await;
    let right = server
        .mail
        .wait_for("guesser@example.com", MAIL_WAIT)
        .await
        .unwrap()
        .code()
        .unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..4 {
        let page = enter_code(&server, &mut browser, &verify, wrong).await;
        assert_eq!(page.status, 400);
        assert!(
            page.body.contains("role=\"alert\""),
            "says the code is wrong"
        );
    }
    let last = enter_code(&server, &mut browser, &verify, wrong).await;
    assert_eq!(last.status, 400);
    let after = enter_code(&server, &mut browser, &verify, &right).await;
    assert_eq!(after.status, 400, "five wrong codes spend the sign-up");
    assert!(after.body.contains("Start again"), "offers to start again");
    assert_eq!(
        user_by_email(&server, "guesser@example.com").await,
        Value::Null,
        "no account was made"
    );
}

async fn sign_up_is_off_unless_the_tenant_turns_it_on(server: TestServer) {
    let mut browser = Browser::default();
    let page = browser.get(&server, "/signup").await;
    assert_eq!(page.status, 404);
    let login = browser.get(&server, "/login").await;
    assert!(!login.body.contains("/signup"), "no sign-up link");
    enable_sign_up(&server, json!({"enabled": true})).await;
    let login = browser.get(&server, "/login").await;
    assert!(
        login.body.contains("/signup"),
        "a sign-up link on the login page"
    );
    let refused = server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {"signup": {"enabled": true, "allowed_email_domains": ["not a domain"]}}})),
        )
        .await
        .expect_problem(422, "validation");
    assert_eq!(
        refused.body["errors"][0]["field"],
        "settings.signup.allowed_email_domains[0]"
    );
}

http_suite!(
    sign_up_with_a_code_and_land_at_the_client,
    a_light_account_from_scim_is_claimed,
    the_link_signs_in_only_the_browser_that_started,
    a08_a_registered_address_looks_the_same_and_gets_a_sign_in_mail,
    a06_wrong_codes_are_counted_and_csrf_is_checked,
    sign_up_is_off_unless_the_tenant_turns_it_on,
);
