//! Identity verification over HTTP on both stores, with a real test provider
//! (`tessera_test_support::identity_provider`) on loopback that takes Tessera's start
//! requests, while the test plays the provider's back end and signs webhooks: the full
//! round trip from a client that requires `substantial` to `verified_claims` in the ID
//! token and at userinfo; rejected and expired results; expiry by time; forged, stale,
//! replayed, malformed and unknown webhooks; CSRF on the start form; `prompt=none`; the
//! admin API with write-only secrets; and the log kept free of secrets.

use crate::harness::{Answer, TestServer};
use crate::http_suite;
use crate::oidc_support::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::identity_verification::{AssuranceLevel, IdentitySession, SessionStatus};
use tessera_core::ids::{ClientId, IdentitySessionId};
use tessera_store::StoreOptions;
use tessera_test_support::identity_provider::{
    Answer as ProviderAnswer, IdentityProvider, signature,
};

http_suite!(
    the_round_trip_releases_verified_claims_to_the_client,
    rejected_and_expired_results_offer_to_try_again,
    a_session_past_its_time_is_expired_without_a_webhook,
    forged_stale_replayed_and_malformed_webhooks_change_nothing,
    the_start_form_needs_csrf_and_a_session,
    prompt_none_answers_interaction_required,
    without_a_provider_or_with_a_failing_one_the_page_says_so,
    the_admin_api_keeps_the_secrets_write_only,
    the_claims_parameter_gets_verified_claims_within_the_scopes,
    the_cli_sets_reads_and_removes_the_provider,
);

const API_TOKEN: &str = "idv-api-token-canary-5c1e9a";
const SECRET: &str = "idv-webhook-secret-canary-0123456789abcdef";
/// A verified claim no profile holds, to find in tokens and look for in logs.
const FAMILY_NAME: &str = "Canarycliff";
const WAIT: Duration = Duration::from_secs(10);

async fn configure(server: &TestServer, provider: &IdentityProvider) -> Answer {
    server
        .admin(
            Method::PUT,
            "/admin/v1/identity-verification",
            Some(json!({
                "name": "Test IdP",
                "start_url": provider.start_url(),
                "api_token": API_TOKEN,
                "webhook_secret": SECRET,
                "trust_framework": "eidas",
            })),
        )
        .await
        .expect(200)
}

/// A provider, configured as the default tenant's.
async fn provider(server: &TestServer) -> IdentityProvider {
    let provider = IdentityProvider::start(API_TOKEN).await;
    configure(server, &provider).await;
    provider
}

async fn verifying_client(server: &TestServer, level: &str) -> Rp {
    register(server, json!({"required_verification": level})).await
}

/// A browser of a new user signed in through `rp`'s request; the page reached (for a
/// client that requires a verification: the verify page), the PKCE verifier, the user id.
async fn sign_in(server: &TestServer, rp: &Rp, email: &str) -> (Browser, Page, String, String) {
    let id = user(server, email).await;
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let page = browser
        .sign_in(server, &authorize_query(rp, &challenge, &[]), email)
        .await;
    (browser, page, verifier, id)
}

/// Presses "Start verification" on the verify page.
async fn start(server: &TestServer, browser: &mut Browser, page: &Page) -> Page {
    browser
        .post(
            server,
            "/verify-identity",
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("auth", &page.field("auth").unwrap()),
            ],
            Some(&server.base),
        )
        .await
}

fn now() -> i64 {
    SystemClock.now().unix_timestamp()
}

fn result(reference: &str, status: &str) -> String {
    json!({
        "reference": reference,
        "status": status,
        "level": "substantial",
        "verified_claims": {
            "verification": {
                "trust_framework": "eidas",
                "time": "2026-12-01T09:58:00Z",
                "evidence": [{"type": "document", "method": "pipp"}]
            },
            "claims": {
                "given_name": "Ada",
                "family_name": FAMILY_NAME,
                "birthdate": "1815-12-10",
                "nationalities": ["GB"]
            }
        }
    })
    .to_string()
}

/// POSTs a webhook under `prefix` (`""` or `/t/<slug>`) with `header` as its signature.
async fn post_webhook(
    server: &TestServer,
    prefix: &str,
    body: &str,
    header: Option<String>,
    content_type: &str,
) -> Answer {
    let mut request = server
        .client
        .post(format!(
            "{}{prefix}/identity-verification/webhook",
            server.base
        ))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(header) = header {
        request = request.header("tessera-signature", header);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// A webhook signed with the configured secret now.
async fn deliver(server: &TestServer, body: &str) -> Answer {
    let header = signature(SECRET.as_bytes(), now(), body.as_bytes());
    post_webhook(server, "", body, Some(header), "application/json").await
}

async fn verifications(server: &TestServer, user_id: &str) -> Vec<Value> {
    let answer = server
        .admin(
            Method::GET,
            &format!("/admin/v1/users/{user_id}/verifications"),
            None,
        )
        .await
        .expect(200);
    answer.body["items"].as_array().unwrap().clone()
}

async fn events(server: &TestServer, kind: &str) -> Vec<Value> {
    let answer = server
        .admin(Method::GET, &format!("/admin/v1/events?type={kind}"), None)
        .await
        .expect(200);
    answer.body["items"].as_array().unwrap().clone()
}

async fn userinfo(server: &TestServer, access_token: &str) -> Value {
    server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn exchange(server: &TestServer, rp: &Rp, callback: &Page, verifier: &str) -> Value {
    let location = callback.location.as_deref().unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = params_of(location);
    token_request(
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
    .expect(200)
    .body
}

async fn the_round_trip_releases_verified_claims_to_the_client(server: TestServer) {
    let provider = provider(&server).await;
    let rp = verifying_client(&server, "substantial").await;
    let (mut browser, page, verifier, user_id) = sign_in(&server, &rp, "ada@example.com").await;
    // After sign-in, the verify page explains the check and names the provider.
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Verify your identity"), "{}", page.body);
    assert!(page.body.contains("Test IdP") && page.body.contains("substantial"));
    assert!(page.body.contains("Start verification"));
    let auth = page.field("auth").unwrap();

    // Start: Tessera asks the provider for a session and sends the browser there.
    let to_provider = start(&server, &mut browser, &page).await;
    assert_eq!(to_provider.status, 303, "{}", to_provider.body);
    let flow = to_provider.location.clone().unwrap();
    assert!(
        flow.starts_with(&format!("{}/flow/idv-", provider.base())),
        "{flow}"
    );
    let started = provider
        .wait_for_start(WAIT)
        .await
        .expect("a start request");
    assert_eq!(
        started.authorization.as_deref(),
        Some(&*format!("Bearer {API_TOKEN}"))
    );
    assert_eq!(started.content_type.as_deref(), Some("application/json"));
    assert_eq!(started.body["level"], "substantial");
    assert_eq!(
        started.body["callback_url"],
        format!("{}/identity-verification/webhook", server.base)
    );
    assert_eq!(started.body["user"]["sub"], user_id);
    assert_eq!(started.body["user"]["given_name"], "Ada");
    assert_eq!(started.body["user"]["email"], "ada@example.com");
    let return_url = started.return_url().to_owned();
    assert!(
        return_url.starts_with(&format!("{}/verify-identity/return?auth=", server.base)),
        "{return_url}"
    );
    assert_eq!(params_of(&return_url)["session"], started.reference());
    assert_eq!(params_of(&return_url)["auth"], auth);
    let at_provider = server.client.get(&flow).send().await.unwrap();
    assert_eq!(at_provider.status(), 200);

    // Back before the result: a page that waits, refreshing itself without JavaScript.
    let waiting = browser.get(&server, &return_url).await;
    assert_eq!(waiting.status, 200, "{}", waiting.body);
    assert!(
        waiting
            .body
            .contains(r#"<meta http-equiv="refresh" content="3">"#)
    );
    assert!(waiting.body.contains("Checking your identity"));

    // The provider's signed result, then the page continues the authorization request.
    let answer = deliver(&server, &result(started.reference(), "verified"))
        .await
        .expect(200);
    assert_eq!(answer.body["status"], "verified");
    let back = browser.get(&server, &return_url).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert!(
        back.location
            .as_deref()
            .unwrap()
            .contains("/oauth2/authorize/continue?auth=")
    );
    let callback = browser.follow(&server, back).await;
    let tokens = exchange(&server, &rp, &callback, &verifier).await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    let verified = &id_token["verified_claims"];
    assert_eq!(verified["verification"]["trust_framework"], "eidas");
    assert_eq!(verified["verification"]["evidence"][0]["type"], "document");
    assert_eq!(verified["claims"]["family_name"], FAMILY_NAME);
    assert_eq!(verified["claims"]["nationalities"], json!(["GB"]));
    let info = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["verified_claims"], *verified);

    // The administrator sees the verification; the event names level and provider only.
    let listed = verifications(&server, &user_id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["level"], "substantial");
    assert_eq!(listed[0]["provider"], "Test IdP");
    assert_eq!(listed[0]["evidence"], json!(["document"]));
    assert_eq!(listed[0]["session_id"], started.reference());
    assert_eq!(listed[0]["verified_at"], "2026-12-01T09:58:00Z");
    assert_eq!(listed[0]["verified_claims"], *verified);
    let recorded = events(&server, "user.identity_verified").await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["subject"], format!("user:{user_id}"));
    assert_eq!(recorded[0]["payload"]["level"], "substantial");
    assert_eq!(recorded[0]["payload"]["provider"], "Test IdP");
    assert!(!recorded[0]["payload"].to_string().contains(FAMILY_NAME));

    // Discovery announces what it can release.
    let discovery: Value = server
        .client
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["verified_claims_supported"], true);
    assert_eq!(discovery["claims_parameter_supported"], true);
    assert_eq!(discovery["trust_frameworks_supported"], json!(["eidas"]));
    assert!(
        discovery["evidence_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("document"))
    );
    let claims = discovery["claims_in_verified_claims_supported"]
        .as_array()
        .unwrap();
    assert!(claims.contains(&json!("nationalities")));

    // Verified once: the next request goes straight to the client.
    let (_, challenge) = pkce();
    let again = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    assert!(again.location.unwrap().starts_with(REDIRECT_URI));
    assert_eq!(provider.starts().len(), 1);
    // A third-party app that requires a lower level: no check, and its consent page names
    // the verified identity data it receives.
    let third = register(
        &server,
        json!({"required_verification": "low", "first_party": false}),
    )
    .await;
    let (_, challenge) = pkce();
    let query = authorize_query(&third, &challenge, &[]);
    let first = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let consent = browser.follow(&server, first).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("Allow access?"), "{}", consent.body);
    assert!(consent.body.contains("Your verified identity data"));
}

async fn rejected_and_expired_results_offer_to_try_again(server: TestServer) {
    let provider = provider(&server).await;
    let rp = verifying_client(&server, "substantial").await;
    let (mut browser, page, _, user_id) = sign_in(&server, &rp, "rex@example.com").await;
    for (status, text) in [
        ("rejected", "could not be verified"),
        ("expired", "not completed in time"),
    ] {
        start(&server, &mut browser, &page).await;
        let started = provider.wait_for_start(WAIT).await.unwrap();
        let answer = deliver(&server, &result(started.reference(), status))
            .await
            .expect(200);
        assert_eq!(answer.body["status"], status);
        let back = browser.get(&server, started.return_url()).await;
        assert_eq!(back.status, 200, "{}", back.body);
        assert!(back.body.contains(text), "{}", back.body);
        let retry = format!("/verify-identity?auth={}", page.field("auth").unwrap());
        // The page escapes the link's slash (&#x2f;).
        assert!(back.body.contains(&retry[1..]), "{}", back.body);
        assert!(back.body.contains("Try again"));
        // "Try again" shows the start page again.
        let again = browser.get(&server, &retry).await;
        assert!(again.body.contains("Start verification"));
    }
    assert!(verifications(&server, &user_id).await.is_empty());
    assert_eq!(events(&server, "user.identity_rejected").await.len(), 1);
    let expired = events(&server, "user.identity_verification_expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["payload"]["by"], "provider");
}

/// The server's store, for a test that must place a session in the past.
async fn store(server: &TestServer) -> Arc<dyn tessera_core::store::Store> {
    tessera_store::connect(
        &server.database_url,
        &StoreOptions {
            max_connections: 2,
            migrate: false,
        },
    )
    .await
    .unwrap()
}

async fn a_session_past_its_time_is_expired_without_a_webhook(server: TestServer) {
    provider(&server).await;
    let rp = verifying_client(&server, "high").await;
    let (mut browser, page, _, user_id) = sign_in(&server, &rp, "old@example.com").await;
    // A session started two hours ago that was to last an hour (the suite's servers run on
    // the wall clock, so the session is placed in the past instead).
    let store = store(&server).await;
    let tenant = store
        .tenant_by_slug(&tessera_core::tenant::TenantSlug::parse("default").unwrap())
        .await
        .unwrap()
        .unwrap();
    let then = SystemClock.now() - time::Duration::hours(2);
    let session = IdentitySession {
        id: IdentitySessionId::new_at(then),
        tenant_id: tenant.id,
        user_id: user_id.parse().unwrap(),
        client_id: rp.client_id.parse::<ClientId>().unwrap(),
        level: AssuranceLevel::High,
        provider: "Test IdP".into(),
        provider_session_id: Some("idv-old".into()),
        status: SessionStatus::Pending,
        created_at: then,
        expires_at: then + time::Duration::hours(1),
        completed_at: None,
    };
    assert!(
        store
            .insert_identity_session(&session, 5, then - time::Duration::hours(1))
            .await
            .unwrap()
    );
    let return_url = format!(
        "/verify-identity/return?auth={}&session={}",
        page.field("auth").unwrap(),
        session.id
    );
    let back = browser.get(&server, &return_url).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.body.contains("not completed in time"), "{}", back.body);
    // A result that arrives now is too late: refused, and nothing is stored.
    let late = deliver(&server, &result(&session.id.to_string(), "verified")).await;
    let late = late.expect_problem(409, "session_ended");
    assert!(late.body["detail"].as_str().unwrap().contains("expired"));
    assert!(verifications(&server, &user_id).await.is_empty());
    let expired = events(&server, "user.identity_verification_expired").await;
    assert_eq!(expired.len(), 1, "recorded once");
    assert_eq!(expired[0]["payload"]["by"], "timeout");
}

async fn forged_stale_replayed_and_malformed_webhooks_change_nothing(server: TestServer) {
    let provider = provider(&server).await;
    let rp = verifying_client(&server, "substantial").await;
    let (mut browser, page, _, user_id) = sign_in(&server, &rp, "eve@example.com").await;
    start(&server, &mut browser, &page).await;
    let started = provider.wait_for_start(WAIT).await.unwrap();
    let body = result(started.reference(), "verified");
    let json = "application/json";
    let signed = |at: i64, body: &str| Some(signature(SECRET.as_bytes(), at, body.as_bytes()));

    let forged = Some(signature(
        b"not-the-secret-0123456789abcdef-xyz",
        now(),
        body.as_bytes(),
    ));
    let refused = post_webhook(&server, "", &body, forged, json).await;
    let refused = refused.expect_problem(401, "invalid_signature");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    post_webhook(&server, "", &body, None, json)
        .await
        .expect_problem(401, "invalid_signature");
    let garbage = Some("t=1,v1=zz".to_owned());
    post_webhook(&server, "", &body, garbage, json)
        .await
        .expect_problem(401, "invalid_signature");
    let stale = post_webhook(&server, "", &body, signed(now() - 400, &body), json).await;
    let stale = stale.expect_problem(401, "invalid_signature");
    assert!(stale.body["detail"].as_str().unwrap().contains("5 minutes"));
    let future = post_webhook(&server, "", &body, signed(now() + 400, &body), json).await;
    future.expect_problem(401, "invalid_signature");
    // A body changed after signing.
    let changed = body.replace(FAMILY_NAME, "Mallory");
    let header = signed(now(), &body);
    post_webhook(&server, "", &changed, header, json)
        .await
        .expect_problem(401, "invalid_signature");
    // Authentic but unusable.
    let bad_json = "{\"reference\": ";
    post_webhook(&server, "", bad_json, signed(now(), bad_json), json)
        .await
        .expect_problem(400, "bad_request");
    let unknown = result(
        &IdentitySessionId::new_at(SystemClock.now()).to_string(),
        "verified",
    );
    post_webhook(&server, "", &unknown, signed(now(), &unknown), json)
        .await
        .expect_problem(404, "not_found");
    post_webhook(&server, "", &body, signed(now(), &body), "text/plain")
        .await
        .expect_problem(415, "unsupported_media_type");
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024));
    post_webhook(&server, "", &huge, signed(now(), &huge), json)
        .await
        .expect_problem(413, "payload_too_large");
    // Another tenant (no provider there) does not take the default tenant's webhooks.
    server.tenant("other").await;
    post_webhook(&server, "/t/other", &body, signed(now(), &body), json)
        .await
        .expect_problem(404, "not_found");
    assert!(verifications(&server, &user_id).await.is_empty());

    // The real one, once; a replay of it (still within five minutes) changes nothing.
    let header = signed(now(), &body);
    post_webhook(&server, "", &body, header.clone(), json)
        .await
        .expect(200);
    let replay = post_webhook(&server, "", &body, header, json).await;
    replay.expect_problem(409, "session_ended");
    let rejected = result(started.reference(), "rejected");
    post_webhook(&server, "", &rejected, signed(now(), &rejected), json)
        .await
        .expect_problem(409, "session_ended");
    assert_eq!(verifications(&server, &user_id).await.len(), 1);
    assert_eq!(events(&server, "user.identity_verified").await.len(), 1);
    assert!(events(&server, "user.identity_rejected").await.is_empty());
}

async fn the_start_form_needs_csrf_and_a_session(server: TestServer) {
    let provider = provider(&server).await;
    let rp = verifying_client(&server, "low").await;
    let (mut browser, page, _, _) = sign_in(&server, &rp, "fay@example.com").await;
    let auth = page.field("auth").unwrap();
    let csrf = page.field("csrf").unwrap();
    let without = browser
        .post(
            &server,
            "/verify-identity",
            &[("auth", &auth)],
            Some(&server.base),
        )
        .await;
    assert_eq!(without.status, 403);
    let wrong = browser
        .post(
            &server,
            "/verify-identity",
            &[("auth", &auth), ("csrf", "forged")],
            Some(&server.base),
        )
        .await;
    assert_eq!(wrong.status, 403);
    let foreign = browser
        .post(
            &server,
            "/verify-identity",
            &[("auth", &auth), ("csrf", &csrf)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status, 403);
    assert!(provider.starts().is_empty(), "nothing was started");
    // Without a session: to sign in (the page, and the return page alike).
    let mut stranger = Browser::default();
    let page = stranger
        .get(&server, &format!("/verify-identity?auth={auth}"))
        .await;
    assert_eq!(page.status, 303);
    assert!(page.location.unwrap().contains("/login?auth="));
    let back = stranger
        .get(
            &server,
            &format!("/verify-identity/return?auth={auth}&session=x"),
        )
        .await;
    assert_eq!(back.status, 303);
    // Another user's session is not found.
    let (mut other, other_page, _, _) = sign_in(&server, &rp, "gil@example.com").await;
    let fresh = browser_page(&mut browser, &server, &auth).await;
    start(&server, &mut browser, &fresh).await;
    let started = provider.wait_for_start(WAIT).await.unwrap();
    let theirs = format!(
        "/verify-identity/return?auth={}&session={}",
        other_page.field("auth").unwrap(),
        started.reference()
    );
    let page = other.get(&server, &theirs).await;
    assert_eq!(page.status, 404, "{}", page.body);
    // No state change on GET: the start page itself starts nothing.
    assert_eq!(provider.starts().len(), 1);
}

/// The verify page of `auth` again (with a fresh CSRF field).
async fn browser_page(browser: &mut Browser, server: &TestServer, auth: &str) -> Page {
    let page = browser
        .get(server, &format!("/verify-identity?auth={auth}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

async fn prompt_none_answers_interaction_required(server: TestServer) {
    provider(&server).await;
    let plain = register(&server, json!({})).await;
    let strict = verifying_client(&server, "high").await;
    let (mut browser, callback, _, _) = sign_in(&server, &plain, "hal@example.com").await;
    assert!(callback.location.unwrap().starts_with(REDIRECT_URI));
    let (_, challenge) = pkce();
    let query = authorize_query(&strict, &challenge, &[("prompt", "none")]);
    let answer = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let location = answer.location.unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = params_of(&location);
    assert_eq!(params["error"], "interaction_required");
    assert_eq!(params["state"], "the-state");
    assert!(params.contains_key("iss"));
}

async fn without_a_provider_or_with_a_failing_one_the_page_says_so(server: TestServer) {
    // Allowed to save without a provider; the page then says the check is not set up.
    let rp = verifying_client(&server, "substantial").await;
    let (mut browser, page, _, _) = sign_in(&server, &rp, "ivy@example.com").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(
        page.body
            .contains("no identity verification service is set up")
    );
    let provider = provider(&server).await;
    let handle = handle_of(&mut browser, &server, &rp).await;
    let page = browser_page(&mut browser, &server, &handle).await;
    provider.answer_with(ProviderAnswer::Status(500));
    let failed = start(&server, &mut browser, &page).await;
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(failed.body.contains("could not be started"));
    assert!(failed.body.contains("Try again"));
    assert!(!failed.body.contains("must-not-be-logged"));
    provider.answer_with(ProviderAnswer::Body(
        r#"{"id": "x", "url": "http://evil.example/"}"#.into(),
    ));
    let unusable = start(&server, &mut browser, &page).await;
    assert_eq!(
        unusable.status, 503,
        "a provider URL that is not https is refused"
    );
    provider.answer_with(ProviderAnswer::Normal);
    let ok = start(&server, &mut browser, &page).await;
    assert_eq!(ok.status, 303);
}

/// A new pending request of the signed-in browser for `rp`: its handle.
async fn handle_of(browser: &mut Browser, server: &TestServer, rp: &Rp) -> String {
    let (_, challenge) = pkce();
    let page = browser
        .get(
            server,
            &format!("/oauth2/authorize?{}", authorize_query(rp, &challenge, &[])),
        )
        .await;
    let location = page.location.expect("a redirect to the verify page");
    assert!(location.contains("/verify-identity?auth="), "{location}");
    params_of(&format!("{}{location}", server.base))["auth"].clone()
}

async fn the_admin_api_keeps_the_secrets_write_only(server: TestServer) {
    let path = "/admin/v1/identity-verification";
    server
        .admin(Method::GET, path, None)
        .await
        .expect_problem(404, "not_found");
    let invalid = server
        .admin(
            Method::PUT,
            path,
            Some(json!({
                "name": "",
                "start_url": "http://idp.example.com/start",
                "webhook_secret": "short",
                "trust_framework": "eidas",
                "session_minutes": 2,
            })),
        )
        .await
        .expect_problem(422, "validation");
    let fields: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "start_url",
            "session_minutes",
            "api_token",
            "webhook_secret"
        ]
    );
    let provider = IdentityProvider::start(API_TOKEN).await;
    let set = configure(&server, &provider).await;
    assert_eq!(set.body["name"], "Test IdP");
    assert_eq!(set.body["session_minutes"], 60);
    assert_eq!(set.body["api_token_set"], true);
    assert_eq!(set.body["webhook_secret_set"], true);
    let read = server.admin(Method::GET, path, None).await.expect(200);
    for answer in [&set, &read] {
        let text = answer.body.to_string();
        assert!(
            !text.contains(API_TOKEN) && !text.contains(SECRET),
            "{text}"
        );
        assert!(answer.body.get("api_token").is_none());
    }
    // A change without the secrets keeps them: the webhook secret still signs.
    let renamed = server
        .admin(
            Method::PUT,
            path,
            Some(
                json!({"name": "Renamed IdP", "start_url": provider.start_url(),
                        "trust_framework": "de_aml", "session_minutes": 15}),
            ),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["trust_framework"], "de_aml");
    let rp = verifying_client(&server, "low").await;
    let (mut browser, page, _, _) = sign_in(&server, &rp, "joy@example.com").await;
    assert!(page.body.contains("Renamed IdP"));
    start(&server, &mut browser, &page).await;
    let started = provider.wait_for_start(WAIT).await.unwrap();
    assert_eq!(
        started.authorization.as_deref(),
        Some(&*format!("Bearer {API_TOKEN}"))
    );
    deliver(&server, &result(started.reference(), "rejected"))
        .await
        .expect(200);
    // Events name what changed, never the secrets.
    let configured = events(&server, "identity_verification.configured").await;
    assert_eq!(configured.len(), 2);
    assert_eq!(configured[1]["payload"]["api_token_changed"], false);
    for event in &configured {
        let text = event.to_string();
        assert!(
            !text.contains(API_TOKEN) && !text.contains(SECRET),
            "{text}"
        );
    }
    // Only admins may read or change it; other tenants do not see it.
    let reader = server.token(None, &["users:read"]).await;
    server
        .call(Method::GET, path, Some(&reader), None)
        .await
        .expect_problem(403, "forbidden");
    server.tenant("other").await;
    server
        .admin(Method::GET, &format!("/t/other{path}"), None)
        .await
        .expect_problem(404, "not_found");
    // Clients name a level, or nothing.
    let refused = server
        .admin(
            Method::POST,
            "/admin/v1/clients",
            Some(json!({"client_name": "X", "redirect_uris": [REDIRECT_URI],
                        "required_verification": "very high"})),
        )
        .await
        .expect_problem(422, "validation");
    assert_eq!(refused.body["errors"][0]["field"], "required_verification");
    let client = server
        .admin(
            Method::GET,
            &format!("/admin/v1/clients/{}", rp.client_id),
            None,
        )
        .await
        .expect(200);
    assert_eq!(client.body["required_verification"], "low");
    // Removal, then the page says the check is not set up.
    server.admin(Method::DELETE, path, None).await.expect(204);
    server
        .admin(Method::DELETE, path, None)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        events(&server, "identity_verification.removed").await.len(),
        1
    );
    let discovery: Value = server
        .client
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(discovery.get("verified_claims_supported").is_none());
    // The verifications of an unknown user are not found.
    server
        .admin(
            Method::GET,
            "/admin/v1/users/0193a0a0-0000-7000-8000-000000000001/verifications",
            None,
        )
        .await
        .expect_problem(404, "not_found");
}

async fn the_claims_parameter_gets_verified_claims_within_the_scopes(server: TestServer) {
    let provider = provider(&server).await;
    let strict = verifying_client(&server, "substantial").await;
    let (mut browser, page, _, _) = sign_in(&server, &strict, "kim@example.com").await;
    start(&server, &mut browser, &page).await;
    let started = provider.wait_for_start(WAIT).await.unwrap();
    deliver(&server, &result(started.reference(), "verified"))
        .await
        .expect(200);
    // Another client, with no policy, asks for verified claims at userinfo.
    let asking = register(&server, json!({})).await;
    let claims = json!({"userinfo": {"verified_claims": {
        "verification": {"trust_framework": null},
        "claims": {"given_name": null, "nationalities": null}
    }}})
    .to_string();
    let (verifier, challenge) = pkce();
    let query = authorize_query(&asking, &challenge, &[("claims", &claims)]);
    let callback = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let tokens = exchange(&server, &asking, &callback, &verifier).await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert!(
        id_token.get("verified_claims").is_none(),
        "asked for userinfo only"
    );
    let info = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        info["verified_claims"]["claims"],
        json!({"given_name": "Ada"}),
        "nationalities are beyond the granted scopes"
    );
    assert_eq!(
        info["verified_claims"]["verification"]["trust_framework"],
        "eidas"
    );
    // A client that neither requires nor asks gets none.
    let quiet = register(&server, json!({})).await;
    let (verifier, challenge) = pkce();
    let query = authorize_query(&quiet, &challenge, &[]);
    let callback = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let tokens = exchange(&server, &quiet, &callback, &verifier).await;
    let info = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert!(info.get("verified_claims").is_none());
}

/// `tessera admin …` against the server, as the bootstrap admin: (success, stdout, stderr).
async fn tessera_admin(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("admin")
        .args(["--url", &server.base])
        .args(args)
        .env("TESSERA_ADMIN_TOKEN", crate::harness::BOOTSTRAP_TOKEN)
        .env_remove("TESSERA_URL")
        .output()
        .await
        .expect("run tessera admin");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

async fn the_cli_sets_reads_and_removes_the_provider(server: TestServer) {
    let provider = IdentityProvider::start(API_TOKEN).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    let settings = json!({"name": "CLI IdP", "start_url": provider.start_url(),
        "api_token": API_TOKEN, "webhook_secret": SECRET, "trust_framework": "eidas"});
    std::fs::write(file.path(), settings.to_string()).unwrap();
    let path = file.path().to_str().unwrap();
    let (ok, out, err) = tessera_admin(&server, &["identity-verification", "put", path]).await;
    assert!(ok, "{err}");
    assert!(out.contains("CLI IdP") && !out.contains(API_TOKEN), "{out}");
    let (ok, out, err) = tessera_admin(&server, &["--json", "identity-verification", "get"]).await;
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["webhook_secret_set"], true);
    assert!(!out.contains(SECRET));
    let id = user(&server, "cli@example.com").await;
    let (ok, out, err) = tessera_admin(&server, &["users", "verifications", &id]).await;
    assert!(ok, "{err}");
    assert!(out.contains("LEVEL"), "a table with its header: {out}");
    let (ok, out, _) = tessera_admin(&server, &["identity-verification", "delete"]).await;
    assert!(ok && out.contains("removed"), "{out}");
    let (ok, _, err) = tessera_admin(&server, &["identity-verification", "get"]).await;
    assert!(!ok && err.contains("404"), "{err}");
}

/// Log lines written while the guard lives, on this thread.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A24: the API token, the webhook secret, signatures, verified claims and the provider's
/// error answer never reach the log. The server runs on this test's one thread, so the
/// thread's log subscriber sees everything the request handlers log.
#[tokio::test(flavor = "current_thread")]
async fn a24_no_secret_or_verified_claim_reaches_the_log() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let signatures = Arc::new(Mutex::new(Vec::new()));
    let seen = signatures.clone();
    crate::harness::with_server(tessera_test_support::Backend::Sqlite, |server| async move {
        let provider = provider(&server).await;
        let rp = verifying_client(&server, "substantial").await;
        let (mut browser, page, _, _) = sign_in(&server, &rp, "lea@example.com").await;
        provider.answer_with(ProviderAnswer::Status(502));
        start(&server, &mut browser, &page).await;
        provider.answer_with(ProviderAnswer::Normal);
        start(&server, &mut browser, &page).await;
        let started = provider.wait_for_start(WAIT).await.unwrap();
        let body = result(started.reference(), "verified");
        let forged = signature(
            b"forged-secret-0123456789abcdef-xyz",
            now(),
            body.as_bytes(),
        );
        post_webhook(&server, "", &body, Some(forged.clone()), "application/json").await;
        let header = signature(SECRET.as_bytes(), now(), body.as_bytes());
        post_webhook(&server, "", &body, Some(header.clone()), "application/json")
            .await
            .expect(200);
        seen.lock().unwrap().extend([forged, header]);
    })
    .await;
    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(text.contains("identity verification not started"), "{text}");
    assert!(
        text.contains("identity verification webhook refused"),
        "{text}"
    );
    assert!(
        text.contains("identity verification result received"),
        "{text}"
    );
    let mut canaries = vec![
        API_TOKEN.to_owned(),
        SECRET.to_owned(),
        FAMILY_NAME.to_owned(),
        "must-not-be-logged".to_owned(),
    ];
    for header in signatures.lock().unwrap().iter() {
        canaries.push(header.split_once("v1=").unwrap().1.to_owned());
    }
    for canary in canaries {
        assert!(!text.contains(&canary), "{canary} leaked into the log");
    }
}
