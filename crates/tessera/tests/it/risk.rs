//! Adaptive sign-in through the hosted pages, on both backends: the built-in proof of work
//! (a challenge on the password page, a solution that works once), adaptive MFA that asks
//! a risky sign-in of a user without an authenticator app for an emailed code, the
//! assessment on the sign-in events, and the mail about a sign-in from a new browser.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::{Browser, PASSWORD, Page};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tessera_core::bot::pow::{Challenge, payload, solve};

const MAIL_WAIT: Duration = Duration::from_secs(10);

async fn patch_settings(server: &TestServer, settings: Value) {
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": settings})),
        )
        .await
        .expect(200);
}

/// A user whose address is verified (so that codes may be emailed to it).
async fn verified_user(server: &TestServer, email: &str) -> String {
    server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({
                "emails": [{"value": email, "primary": true, "verified": true}],
                "given_name": "Vera",
                "password": PASSWORD,
            })),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The email step of the hosted sign-in (no authorization request); the password page.
pub(crate) async fn password_page(server: &TestServer, browser: &mut Browser, email: &str) -> Page {
    let login = browser.get(server, "/login").await;
    let csrf = login.field("csrf").unwrap();
    let origin = server.base.clone();
    browser
        .post(
            server,
            "/login",
            &[("csrf", &csrf), ("auth", ""), ("email", email)],
            Some(&origin),
        )
        .await
}

async fn post_password(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    email: &str,
    altcha: Option<&str>,
) -> Page {
    let csrf = page.field("csrf").unwrap();
    let origin = server.base.clone();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("auth", ""),
        ("email", email),
        ("password", PASSWORD),
    ];
    if let Some(altcha) = altcha {
        fields.push(("altcha", altcha));
    }
    browser
        .post(server, "/login/password", &fields, Some(&origin))
        .await
}

/// The challenge the password page carries for its proof of work.
fn page_challenge(page: &Page) -> Option<Challenge> {
    let start = page.body.find("data-pow=\"")? + "data-pow=\"".len();
    let end = page.body[start..].find('"')? + start;
    let json = page.body[start..end]
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    serde_json::from_str(&json).ok()
}

async fn the_proof_of_work_guards_the_password_and_each_solution_works_once(server: TestServer) {
    patch_settings(
        &server,
        json!({"bot_defence": {"pow": "always", "difficulty": 2000}}),
    )
    .await;
    verified_user(&server, "pia@example.com").await;
    let mut browser = Browser::default();
    let page = password_page(&server, &mut browser, "pia@example.com").await;
    assert_eq!(page.status, 200);
    let challenge = page_challenge(&page).expect("a challenge on the page");
    assert!(
        page.body.contains("id=\"pow-submit\" disabled"),
        "submit waits for the check"
    );
    assert!(
        page.body.contains("<script nonce=\""),
        "the solver runs under the CSP nonce"
    );

    // Without a solution: asked again (a fresh challenge), nothing signed in.
    let unsolved = post_password(&server, &mut browser, &page, "pia@example.com", None).await;
    assert_eq!(unsolved.status, 200);
    assert!(unsolved.body.contains("short check"), "{}", unsolved.body);
    assert!(!browser.cookies.contains_key("tessera-session"));

    let solution = payload(&challenge, solve(&challenge).unwrap(), 12);
    let signed_in = post_password(
        &server,
        &mut browser,
        &unsolved,
        "pia@example.com",
        Some(&solution),
    )
    .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(signed_in.body.contains("signed in"), "{}", signed_in.body);
    assert!(browser.cookies.contains_key("tessera-session"));

    // The same solution again: spent.
    let mut other = Browser::default();
    let page = password_page(&server, &mut other, "pia@example.com").await;
    let replayed = post_password(
        &server,
        &mut other,
        &page,
        "pia@example.com",
        Some(&solution),
    )
    .await;
    assert!(replayed.body.contains("short check"), "{}", replayed.body);
    assert!(!other.cookies.contains_key("tessera-session"));
}

async fn adaptive_mfa_asks_a_risky_sign_in_for_an_emailed_code(server: TestServer) {
    // A new browser (10 points) is risky enough here.
    patch_settings(
        &server,
        json!({
            "mfa": {"mode": "adaptive"},
            "risk": {"captcha_at": null, "mfa_at": 10, "block_at": null},
        }),
    )
    .await;
    let id = verified_user(&server, "ray@example.com").await;
    let mut browser = Browser::default();
    let page = password_page(&server, &mut browser, "ray@example.com").await;
    let after = post_password(&server, &mut browser, &page, "ray@example.com", None).await;
    assert_eq!(after.status, 303, "{}", after.body);
    assert_eq!(after.location.as_deref(), Some("/mfa?auth="));
    let mfa = browser.follow(&server, after).await;
    assert!(mfa.body.contains("r•••@example.com"), "{}", mfa.body);
    let origin = server.base.clone();
    let csrf = mfa.field("csrf").unwrap();
    let sent = browser
        .post(
            &server,
            "/mfa/email",
            &[("csrf", &csrf), ("auth", "")],
            Some(&origin),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let mail = server
        .mail
        .wait_for("ray@example.com", MAIL_WAIT)
        .await
        .unwrap();
    assert!(
        mail.subject().unwrap().contains("sign-in code"),
        "{:?}",
        mail.subject()
    );
    let text = mail.text().unwrap();
    let code: String = text
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .post(
            &server,
            "/mfa",
            &[
                ("csrf", &csrf),
                ("auth", ""),
                ("method", "email"),
                ("code", wrong),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(refused.status, 400);
    let done = browser
        .post(
            &server,
            "/mfa",
            &[
                ("csrf", &csrf),
                ("auth", ""),
                ("method", "email"),
                ("code", &code),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(browser.cookies.contains_key("tessera-session"));

    // The sign-in event tells admins why a second factor was asked for.
    let events = server
        .admin(Method::GET, "/admin/v1/events?type=sign_in.succeeded", None)
        .await
        .expect(200);
    let event = &events.body["items"][0];
    assert_eq!(event["subject"], format!("user:{id}"));
    assert_eq!(event["payload"]["risk"]["decision"], "require_mfa");
    assert_eq!(event["payload"]["risk"]["reasons"][0]["code"], "new_device");
    assert_eq!(event["payload"]["methods"], json!(["pwd", "otp", "mfa"]));

    // The same browser later: known now, so one factor is enough.
    let mut again = Browser {
        cookies: browser
            .cookies
            .iter()
            .filter(|(name, _)| name.as_str() == "tessera-device")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Browser::default()
    };
    let page = password_page(&server, &mut again, "ray@example.com").await;
    let signed_in = post_password(&server, &mut again, &page, "ray@example.com", None).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(signed_in.body.contains("signed in"));
}

async fn a_risky_sign_in_without_a_verified_address_is_not_let_enrol_an_app(server: TestServer) {
    patch_settings(
        &server,
        json!({
            "mfa": {"mode": "adaptive"},
            "risk": {"captcha_at": null, "mfa_at": 10, "block_at": null},
        }),
    )
    .await;
    // Created by an admin with an unverified address: nothing to mail a code to.
    crate::oidc_support::user(&server, "uma@example.com").await;
    let mut browser = Browser::default();
    let page = password_page(&server, &mut browser, "uma@example.com").await;
    let refused = post_password(&server, &mut browser, &page, "uma@example.com", None).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("extra confirmation"),
        "{}",
        refused.body
    );
    assert!(!browser.cookies.contains_key("tessera-session"));
    assert!(
        !browser.cookies.contains_key("tessera-mfa"),
        "no enrolment was offered"
    );
}

async fn a_sign_in_from_a_new_browser_is_mailed_to_the_owner(server: TestServer) {
    verified_user(&server, "nia@example.com").await;
    // The first sign-in ever is no news; a second browser is.
    for _ in 0..2 {
        let mut browser = Browser::default();
        let page = password_page(&server, &mut browser, "nia@example.com").await;
        let signed_in = post_password(&server, &mut browser, &page, "nia@example.com", None).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    }
    let mail = server
        .mail
        .wait_for("nia@example.com", MAIL_WAIT)
        .await
        .unwrap();
    assert!(
        mail.subject().unwrap().contains("New sign-in"),
        "{:?}",
        mail.subject()
    );
    assert!(mail.text().unwrap().contains("127.0.0.1"));
    assert_eq!(
        server
            .mail
            .received()
            .iter()
            .filter(|m| m.subject().is_some_and(|s| s.contains("New sign-in")))
            .count(),
        1
    );
}

async fn post_sign_up(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    altcha: Option<&str>,
) -> Page {
    let csrf = page.field("csrf").unwrap();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("auth", ""),
        ("email", "sam@example.com"),
        ("password", "a long and unusual sign-up passphrase"),
    ];
    if let Some(altcha) = altcha {
        fields.push(("altcha", altcha));
    }
    let origin = server.base.clone();
    browser
        .post(server, "/signup", &fields, Some(&origin))
        .await
}

/// With `pow: always` the sign-up form carries a challenge too; without a solution it is
/// asked again (nothing sent), a solution lets it on, and is spent.
async fn the_proof_of_work_guards_sign_up_when_the_tenant_always_asks(server: TestServer) {
    patch_settings(
        &server,
        json!({
            "signup": {"enabled": true},
            "bot_defence": {"pow": "always", "difficulty": 2000},
        }),
    )
    .await;
    let mut browser = Browser::default();
    let form = browser.get(&server, "/signup").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let challenge = page_challenge(&form).expect("a challenge on the sign-up form");
    assert!(form.body.contains("id=\"pow-submit\" disabled"));
    let unsolved = post_sign_up(&server, &mut browser, &form, None).await;
    assert_eq!(unsolved.status, 400, "{}", unsolved.body);
    assert!(
        unsolved.body.contains("automated sign-ups"),
        "{}",
        unsolved.body
    );
    assert!(page_challenge(&unsolved).is_some(), "a fresh challenge");
    let solution = payload(&challenge, solve(&challenge).unwrap(), 9);
    let sent = post_sign_up(&server, &mut browser, &unsolved, Some(&solution)).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert!(
        sent.location
            .as_deref()
            .unwrap()
            .contains("/signup/verify?id=")
    );
    // The same solution again: spent.
    let replayed = post_sign_up(&server, &mut browser, &unsolved, Some(&solution)).await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
}

http_suite!(
    the_proof_of_work_guards_sign_up_when_the_tenant_always_asks,
    a_risky_sign_in_without_a_verified_address_is_not_let_enrol_an_app,
    the_proof_of_work_guards_the_password_and_each_solution_works_once,
    adaptive_mfa_asks_a_risky_sign_in_for_an_emailed_code,
    a_sign_in_from_a_new_browser_is_mailed_to_the_owner,
);
