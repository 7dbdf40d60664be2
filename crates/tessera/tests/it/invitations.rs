//! Invitations over HTTP on both stores: the admin API invites, the mail (through the SMTP
//! sink) carries the link, the page sets a password and signs the person in; light accounts
//! are claimed; withdrawn, used and forged links lead nowhere.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::{Browser, Page};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const PASSWORD: &str = "an invitation worth accepting";

async fn invite(server: &TestServer, email: &str) -> serde_json::Value {
    server
        .admin(
            Method::POST,
            "/admin/v1/invitations",
            Some(json!({"email": email, "valid_days": 3})),
        )
        .await
        .expect(201)
        .body
}

async fn link_for(server: &TestServer, email: &str) -> String {
    let mail = server
        .mail
        .wait_for(email, Duration::from_secs(10))
        .await
        .expect("an invitation mail");
    assert!(mail.subject().unwrap().contains("invited"));
    mail.text()
        .unwrap()
        .split_whitespace()
        .find(|word| word.contains("/invite?"))
        .expect("a link")
        .to_owned()
}

async fn accept(server: &TestServer, browser: &mut Browser, form: &Page, given: &str) -> Page {
    browser
        .post(
            server,
            "/invite",
            &[
                ("csrf", &form.field("csrf").unwrap()),
                ("id", &form.field("id").unwrap()),
                ("token", &form.field("token").unwrap()),
                ("given_name", given),
                ("password", PASSWORD),
            ],
            Some(&server.base),
        )
        .await
}

async fn an_invitation_becomes_an_active_account(server: TestServer) {
    let invitation = invite(&server, "invitee@example.com").await;
    assert_eq!(invitation["state"], "pending");
    assert_eq!(invitation["invited_by"], "bootstrap");
    let link = link_for(&server, "invitee@example.com").await;
    let mut browser = Browser::default();
    let form = browser.get(&server, &link).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("invitee@example.com"));
    let weak = browser
        .post(
            &server,
            "/invite",
            &[
                ("csrf", &form.field("csrf").unwrap()),
                ("id", &form.field("id").unwrap()),
                ("token", &form.field("token").unwrap()),
                ("password", "short"),
            ],
            Some(&server.base),
        )
        .await;
    assert_eq!(weak.status, 400, "a weak password is refused on the page");
    let done = accept(&server, &mut browser, &form, "Ivy").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(browser.cookies.keys().any(|name| name.contains("session")));
    let read = server
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/invitations/{}",
                invitation["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(read.body["state"], "accepted");
    let user = server
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/users/{}",
                read.body["accepted_by"].as_str().unwrap()
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(user.body["status"], "active");
    assert_eq!(user.body["given_name"], "Ivy");
    assert_eq!(user.body["emails"][0]["verified"], true);
    // the link works once
    let again = Browser::default().get(&server, &link).await;
    assert_eq!(again.status, 404);
}

async fn a_light_account_is_claimed_and_full_accounts_are_refused(server: TestServer) {
    let light = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "prospect@example.com", "given_name": "Pat"})),
        )
        .await
        .expect(201)
        .body;
    invite(&server, "prospect@example.com").await;
    let link = link_for(&server, "prospect@example.com").await;
    let mut browser = Browser::default();
    let form = browser.get(&server, &link).await;
    let done = accept(&server, &mut browser, &form, "Someone Else").await;
    assert_eq!(done.status, 200, "{}", done.body);
    let user = server
        .admin(
            Method::GET,
            &format!("/admin/v1/users/{}", light["id"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(user.body["status"], "active", "the same user, claimed");
    assert_eq!(user.body["given_name"], "Pat", "what was known is kept");
    server
        .admin(
            Method::POST,
            "/admin/v1/invitations",
            Some(json!({"email": "prospect@example.com"})),
        )
        .await
        .expect_problem(409, "duplicate");
    server
        .admin(
            Method::POST,
            "/admin/v1/invitations",
            Some(json!({"email": "x@example.com", "valid_days": 90})),
        )
        .await
        .expect_problem(422, "validation");
}

async fn withdrawn_and_forged_links_lead_nowhere(server: TestServer) {
    let invitation = invite(&server, "withdrawn@example.com").await;
    let link = link_for(&server, "withdrawn@example.com").await;
    let id = invitation["id"].as_str().unwrap();
    let mut browser = Browser::default();
    let form = browser.get(&server, &link).await;
    assert_eq!(form.status, 200);
    let revoked = server
        .admin(Method::DELETE, &format!("/admin/v1/invitations/{id}"), None)
        .await
        .expect(200);
    assert_eq!(revoked.body["state"], "revoked");
    let late = accept(&server, &mut browser, &form, "").await;
    assert_eq!(
        late.status, 404,
        "a withdrawn invitation cannot be accepted"
    );
    let forged = link.replace("token=tsi_", "token=tsi_x");
    assert_eq!(Browser::default().get(&server, &forged).await.status, 404);
    // CSRF (A18): a post without the form's token does nothing
    let other = invite(&server, "csrf@example.com").await;
    let other_link = link_for(&server, "csrf@example.com").await;
    let token = other_link.rsplit_once("token=").unwrap().1.to_owned();
    let refused = Browser::default()
        .post(
            &server,
            "/invite",
            &[
                ("id", other["id"].as_str().unwrap()),
                ("token", &token),
                ("password", PASSWORD),
            ],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(refused.status, 403);
    let list = server
        .admin(Method::GET, "/admin/v1/invitations", None)
        .await
        .expect(200);
    let states: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["revoked", "pending"]);
    assert!(
        !list.body.to_string().contains(&token),
        "the admin API never shows the link's token"
    );
}

http_suite!(
    an_invitation_becomes_an_active_account,
    a_light_account_is_claimed_and_full_accounts_are_refused,
    withdrawn_and_forged_links_lead_nowhere,
);
