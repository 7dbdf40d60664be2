//! Progressive profiling over HTTP: a client declares the attributes it needs, the hosted
//! form asks a signed-in user for exactly the missing ones, the answers are checked against
//! the schema, released in that client's tokens, and recorded per client.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::*;
use reqwest::Method;
use serde_json::{Value, json};

http_suite!(
    the_form_asks_only_for_what_is_missing_and_the_tokens_carry_it,
    bad_answers_change_nothing_and_say_why,
    skipped_requested_attributes_wait_for_the_interval,
    prompt_none_cannot_answer_required_questions,
    client_needs_are_checked_against_the_schema,
    the_profile_form_needs_csrf_and_a_session,
    a_form_with_the_most_choices_still_renders,
    a_code_that_cannot_be_sent_saves_nothing,
    needs_added_later_need_consent_and_old_grants_keep_what_they_had,
);

async fn loyalty_schema(server: &TestServer) {
    server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": [
                {"name": "loyalty_tier", "type": "enum", "enum_values": ["silver", "gold"],
                 "description": "Loyalty tier", "user_editable": true},
                {"name": "shoe_size", "type": "number", "user_editable": true},
                {"name": "credit_limit", "type": "number"}
            ]})),
        )
        .await
        .expect(200);
}

/// Starts the code flow for `rp` and signs in; returns the browser, the PKCE verifier and
/// the page reached after sign-in (the profile form, or the redirect to the client).
async fn sign_in(server: &TestServer, rp: &Rp, email: &str) -> (Browser, String, Page) {
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(rp, &challenge, &[]);
    let page = browser.sign_in(server, &query, email).await;
    (browser, verifier, page)
}

fn submit_fields<'a>(page: &Page, answers: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut fields = vec![
        ("csrf".to_owned(), page.field("csrf").unwrap()),
        ("auth".to_owned(), page.field("auth").unwrap()),
    ];
    fields.extend(
        answers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    fields
}

async fn post_profile(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    answers: &[(&str, &str)],
) -> Page {
    let fields = submit_fields(page, answers);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser
        .post(server, "/profile", &pairs, Some(&server.base.clone()))
        .await
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

async fn the_form_asks_only_for_what_is_missing_and_the_tokens_carry_it(server: TestServer) {
    loyalty_schema(&server).await;
    let rp = register(
        &server,
        json!({
            "required_attributes": ["given_name", "birthdate", "phone_number"],
            "requested_attributes": ["attributes.loyalty_tier", "address"],
        }),
    )
    .await;
    let user_id = user(&server, "ada@example.com").await;
    let (mut browser, verifier, form) = sign_in(&server, &rp, "ada@example.com").await;
    assert_eq!(form.status, 200, "{}", form.body);
    // given_name is known already; everything else is asked, optional ones marked so.
    for name in [
        "birthdate",
        "phone_number",
        "address.street_address",
        "address.country",
        "attributes.loyalty_tier",
    ] {
        assert!(
            form.body.contains(&format!("name=\"{name}\"")),
            "{name} is asked: {}",
            form.body
        );
    }
    assert!(!form.body.contains("name=\"given_name\""));
    assert!(form.body.contains("Loyalty tier"));
    assert!(form.body.contains("autocomplete=\"bday\""));
    assert!(form.body.contains("<option value=\"gold\""));

    let done = post_profile(
        &server,
        &mut browser,
        &form,
        &[
            ("birthdate", "1990-05-17"),
            ("phone_number", "+41 44 668 18 00"),
            ("attributes.loyalty_tier", "gold"),
        ],
    )
    .await;
    // The test server sends SMS, so the number is proven before it counts: the form hands
    // it to the phone verification page, and the code arrives at the provider.
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.as_deref().unwrap().contains("/phone/verify?"));
    let verify = browser.follow(&server, done).await;
    assert_eq!(verify.status, 200, "{}", verify.body);
    let stored = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200);
    assert_eq!(stored.body["birthdate"], "1990-05-17");
    assert!(stored.body["phone_numbers"].as_array().unwrap().is_empty());
    let message = server
        .sms
        .wait_for("+41446681800", std::time::Duration::from_secs(10))
        .await
        .expect("a text message with the code");
    let verified = browser
        .post(
            &server,
            "/phone/verify",
            &[
                ("csrf", &verify.field("csrf").unwrap()),
                ("auth", &verify.field("auth").unwrap()),
                ("challenge", &verify.field("challenge").unwrap()),
                ("code", &message.code().unwrap()),
            ],
            Some(&server.base.clone()),
        )
        .await;
    assert_eq!(verified.status, 303, "{}", verified.body);
    let callback = browser.follow(&server, verified).await;
    let tokens = exchange(&server, &rp, &callback, &verifier).await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["birthdate"], "1990-05-17");
    assert_eq!(id_token["phone_number"], "+41446681800");
    assert_eq!(id_token["phone_number_verified"], true);
    assert_eq!(id_token["loyalty_tier"], "gold");
    assert!(id_token.get("address").is_none());
    let userinfo = server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(userinfo["birthdate"], "1990-05-17");
    assert_eq!(userinfo["loyalty_tier"], "gold");

    let stored = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200);
    assert_eq!(stored.body["birthdate"], "1990-05-17");
    assert_eq!(stored.body["attributes"]["loyalty_tier"], "gold");
    let collected = server
        .admin(
            Method::GET,
            &format!("/admin/v1/users/{user_id}/collected-attributes"),
            None,
        )
        .await
        .expect(200);
    let mut names: Vec<&str> = collected.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            assert_eq!(item["client_id"], rp.client_id.as_str());
            assert!(item["collected_at"].as_str().unwrap().ends_with('Z'));
            item["attribute"].as_str().unwrap()
        })
        .collect();
    names.sort_unstable();
    // The number was saved by its verification, and counts as collected by this client then.
    assert_eq!(
        names,
        ["attributes.loyalty_tier", "birthdate", "phone_number"]
    );
    let events = server
        .admin(
            Method::GET,
            &format!("/admin/v1/events?type=user.attributes_collected&subject=user:{user_id}"),
            None,
        )
        .await
        .expect(200);
    let event = &events.body["items"][0];
    assert_eq!(event["actor"], format!("user:{user_id}"));
    assert_eq!(event["payload"]["client_id"], rp.client_id.as_str());
    assert_eq!(
        event["payload"]["pending_verification"],
        json!(["phone_number"])
    );

    // Everything required is known now: the next sign-in goes straight to the client
    // (the skipped address waits for the tenant's interval).
    let (_, _, again) = sign_in(&server, &rp, "ada@example.com").await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(again.location.unwrap().starts_with(REDIRECT_URI));
}

async fn bad_answers_change_nothing_and_say_why(server: TestServer) {
    let rp = register(
        &server,
        json!({"required_attributes": ["birthdate", "phone_number", "address"]}),
    )
    .await;
    let user_id = user(&server, "bea@example.com").await;
    let (mut browser, _, form) = sign_in(&server, &rp, "bea@example.com").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let before = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200)
        .body;
    let refused = post_profile(
        &server,
        &mut browser,
        &form,
        &[
            ("birthdate", "2999-01-01"),
            ("phone_number", "call me"),
            ("address.locality", "Bern"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Please enter a date in the past."));
    assert!(refused.body.contains("international format"));
    assert!(
        refused
            .body
            .contains("at least the street, the city and the country")
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    // What was typed is shown again.
    assert!(refused.body.contains("value=\"Bern\""));
    let missing = post_profile(&server, &mut browser, &form, &[("birthdate", "1990-01-01")]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("Please fill this in."));
    let stored = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200);
    assert_eq!(stored.body, before);
    let accepted = post_profile(
        &server,
        &mut browser,
        &form,
        &[
            ("birthdate", "1990-01-01"),
            ("phone_number", "+41446681800"),
            ("address.street_address", "Bahnhofstrasse 1"),
            ("address.postal_code", "8001"),
            ("address.locality", "Zürich"),
            ("address.country", "CH"),
        ],
    )
    .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let stored = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200);
    assert_eq!(stored.body["addresses"][0]["locality"], "Zürich");
    assert_eq!(stored.body["addresses"][0]["primary"], true);
}

async fn skipped_requested_attributes_wait_for_the_interval(server: TestServer) {
    loyalty_schema(&server).await;
    let rp = register(
        &server,
        json!({"requested_attributes": ["attributes.shoe_size"]}),
    )
    .await;
    user(&server, "cy@example.com").await;
    let (mut browser, verifier, form) = sign_in(&server, &rp, "cy@example.com").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("value=\"skip\""),
        "optional-only forms offer Not now"
    );
    assert!(form.body.contains("inputmode=\"decimal\""));
    let not_a_number = post_profile(
        &server,
        &mut browser,
        &form,
        &[("attributes.shoe_size", "big")],
    )
    .await;
    assert_eq!(not_a_number.status, 422);
    assert!(not_a_number.body.contains("Please enter a number."));
    let skipped = post_profile(
        &server,
        &mut browser,
        &form,
        &[("attributes.shoe_size", "43"), ("decision", "skip")],
    )
    .await;
    assert_eq!(skipped.status, 303, "{}", skipped.body);
    let callback = browser.follow(&server, skipped).await;
    let tokens = exchange(&server, &rp, &callback, &verifier).await;
    assert!(
        jwt_claims(tokens["id_token"].as_str().unwrap())
            .get("shoe_size")
            .is_none()
    );
    // Within the interval the question does not come back, even with a new sign-in.
    let (_, _, again) = sign_in(&server, &rp, "cy@example.com").await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(again.location.unwrap().starts_with(REDIRECT_URI));
    // The interval is the tenant's to choose, from 1 to 365 days.
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {"profiling": {"ask_again_after_days": 0}}})),
        )
        .await
        .expect_problem(422, "validation");
}

async fn prompt_none_cannot_answer_required_questions(server: TestServer) {
    let plain = register(&server, json!({})).await;
    let needy = register(&server, json!({"required_attributes": ["birthdate"]})).await;
    user(&server, "dan@example.com").await;
    let (mut browser, _, callback) = sign_in(&server, &plain, "dan@example.com").await;
    assert!(callback.location.unwrap().starts_with(REDIRECT_URI));
    let (_, challenge) = pkce();
    let query = authorize_query(&needy, &challenge, &[("prompt", "none")]);
    let answer = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    let params = params_of(answer.location.as_deref().unwrap());
    assert_eq!(params["error"], "interaction_required");
    assert_eq!(params["state"], "the-state");
    // With interaction, the same session is sent to the form instead.
    let query = authorize_query(&needy, &challenge, &[]);
    let answer = browser
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    assert!(
        answer
            .location
            .as_deref()
            .unwrap()
            .contains("/profile?auth="),
        "{:?}",
        answer.location
    );
}

async fn client_needs_are_checked_against_the_schema(server: TestServer) {
    loyalty_schema(&server).await;
    let body = |required: Value, requested: Value| {
        json!({
            "client_name": "Shop",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code"],
            "required_attributes": required,
            "requested_attributes": requested,
        })
    };
    for (required, requested) in [
        (json!(["email"]), json!([])),
        (json!(["attributes.unknown"]), json!([])),
        (json!(["birthdate"]), json!(["birthdate"])),
        // Only administrators set a credit limit: users are not asked for it.
        (json!([]), json!(["attributes.credit_limit"])),
    ] {
        let refused = server
            .admin(
                Method::POST,
                "/admin/v1/clients",
                Some(body(required, requested)),
            )
            .await
            .expect_problem(422, "validation");
        assert!(
            refused.body.to_string().contains("_attributes"),
            "{}",
            refused.body
        );
    }
    let created = server
        .admin(
            Method::POST,
            "/admin/v1/clients",
            Some(body(
                json!(["birthdate"]),
                json!(["attributes.loyalty_tier"]),
            )),
        )
        .await
        .expect(201);
    assert_eq!(created.body["required_attributes"], json!(["birthdate"]));
    assert_eq!(
        created.body["requested_attributes"],
        json!(["attributes.loyalty_tier"])
    );
}

async fn the_profile_form_needs_csrf_and_a_session(server: TestServer) {
    let rp = register(&server, json!({"required_attributes": ["birthdate"]})).await;
    let user_id = user(&server, "eve@example.com").await;
    let (mut browser, _, form) = sign_in(&server, &rp, "eve@example.com").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let auth = form.field("auth").unwrap();
    let forged = browser
        .post(
            &server,
            "/profile",
            &[("auth", auth.as_str()), ("birthdate", "1990-01-01")],
            Some(&server.base.clone()),
        )
        .await;
    assert_eq!(forged.status, 403);
    // Another browser (no session) is sent to sign in, not shown the form.
    let mut stranger = Browser::default();
    let page = stranger
        .get(&server, &format!("/profile?auth={auth}"))
        .await;
    assert_eq!(page.status, 303);
    assert!(page.location.unwrap().contains("/login?auth="));
    let stored = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200);
    assert!(stored.body.get("birthdate").is_none());
}

async fn a_form_with_the_most_choices_still_renders(server: TestServer) {
    // Two enums of 500 values: the most a client may ask for (MAX_CHOICES), all drawn
    // within the templates' rendering budget.
    let values =
        |prefix: &str| -> Vec<String> { (0..500).map(|i| format!("{prefix}{i}")).collect() };
    server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": [
                {"name": "store", "type": "enum", "enum_values": values("store-"), "user_editable": true},
                {"name": "team", "type": "enum", "enum_values": values("team-"), "user_editable": true},
                {"name": "club", "type": "enum", "enum_values": ["a"], "user_editable": true}
            ]})),
        )
        .await
        .expect(200);
    server
        .admin(
            Method::POST,
            "/admin/v1/clients",
            Some(json!({
                "client_name": "Too many choices",
                "redirect_uris": [REDIRECT_URI],
                "required_attributes": ["attributes.store", "attributes.team", "attributes.club"],
            })),
        )
        .await
        .expect_problem(422, "validation");
    let rp = register(
        &server,
        json!({"required_attributes": ["attributes.store", "attributes.team", "birthdate"]}),
    )
    .await;
    user(&server, "fay@example.com").await;
    let (_, _, form) = sign_in(&server, &rp, "fay@example.com").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<option value=\"store-499\""));
    assert!(form.body.contains("<option value=\"team-499\""));
    assert!(form.body.contains("name=\"birthdate\""));
}

async fn a_code_that_cannot_be_sent_saves_nothing(server: TestServer) {
    let rp = register(
        &server,
        json!({"required_attributes": ["birthdate", "phone_number"]}),
    )
    .await;
    let user_id = user(&server, "gil@example.com").await;
    let (mut browser, _, form) = sign_in(&server, &rp, "gil@example.com").await;
    let before = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200)
        .body;
    server.sms.answer_with(500);
    let refused = post_profile(
        &server,
        &mut browser,
        &form,
        &[
            ("birthdate", "1990-01-01"),
            ("phone_number", "+41446681800"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("could not be sent"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"1990-01-01\""));
    let after = server
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(
        after, before,
        "nothing is saved when the code cannot be sent"
    );
    // The provider is back: the same form goes on to the code page.
    server.sms.answer_with(202);
    let sent = post_profile(
        &server,
        &mut browser,
        &form,
        &[
            ("birthdate", "1990-01-01"),
            ("phone_number", "+41446681800"),
        ],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert!(sent.location.unwrap().contains("/phone/verify?"));
}

/// A third-party app that adds a need after the user consented: nothing more is released
/// on grants made before, and the next authorization asks for consent again.
async fn needs_added_later_need_consent_and_old_grants_keep_what_they_had(server: TestServer) {
    let rp = register(&server, json!({"first_party": false})).await;
    let user_id = user(&server, "hal@example.com").await;
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/users/{user_id}"),
            Some(json!({"birthdate": "1980-02-29"})),
        )
        .await
        .expect(200);
    // Consent to the scopes, then tokens: no birthdate (the profile scope would carry it,
    // so the app asks for openid and email only).
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(&rp, &challenge, &[("scope", "openid email offline_access")]);
    let consent = browser.sign_in(&server, &query, "hal@example.com").await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let allowed = browser
        .post(
            &server,
            "/consent",
            &[
                ("csrf", &consent.field("csrf").unwrap()),
                ("auth", &consent.field("auth").unwrap()),
                ("decision", "allow"),
            ],
            Some(&server.base.clone()),
        )
        .await;
    let callback = browser.follow(&server, allowed).await;
    let tokens = exchange(&server, &rp, &callback, &verifier).await;
    assert!(
        jwt_claims(tokens["id_token"].as_str().unwrap())
            .get("birthdate")
            .is_none()
    );

    // The administrator adds a need to the app.
    let mut metadata = server
        .admin(
            Method::GET,
            &format!("/admin/v1/clients/{}", rp.client_id),
            None,
        )
        .await
        .expect(200)
        .body;
    for field in [
        "client_id",
        "client_id_issued_at",
        "client_secret_expires_at",
        "created_at",
        "updated_at",
        "response_types",
    ] {
        metadata.as_object_mut().unwrap().remove(field);
    }
    metadata["required_attributes"] = json!(["birthdate"]);
    server
        .admin(
            Method::PUT,
            &format!("/admin/v1/clients/{}", rp.client_id),
            Some(metadata),
        )
        .await
        .expect(200);

    // The old grant releases no more than before, at refresh and at userinfo.
    let refreshed = token_request(
        &server,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await
    .expect(200)
    .body;
    assert!(
        jwt_claims(refreshed["id_token"].as_str().unwrap())
            .get("birthdate")
            .is_none()
    );
    let userinfo = server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(userinfo.get("birthdate").is_none(), "{userinfo}");

    // Silently: consent_required. With the user: the consent page names the new need.
    let (_, challenge) = pkce();
    let silent = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(
                    &rp,
                    &challenge,
                    &[("scope", "openid email offline_access"), ("prompt", "none")]
                )
            ),
        )
        .await;
    assert_eq!(
        params_of(silent.location.as_deref().unwrap())["error"],
        "consent_required"
    );
    let asked = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[("scope", "openid email offline_access")])
            ),
        )
        .await;
    let page = browser.follow(&server, asked).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Date of birth"), "{}", page.body);
}
