//! The OAuth/OIDC attacks of SECURITY.md (A07, A10–A32), each a case named after its id,
//! run on both storage backends.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::*;
use reqwest::Method;
use serde_json::{Value, json};

http_suite!(
    a07_unknown_and_known_users_get_the_same_answer,
    a10_unregistered_redirect_uri_gets_an_error_page,
    a11_unknown_client_gets_an_error_page,
    a11_other_errors_redirect_with_state_and_iss,
    a12_unregistered_post_logout_redirect_is_not_followed,
    a13_code_replay_revokes_tokens,
    a14_code_of_another_client_or_redirect_uri_is_refused,
    a15_pkce_downgrades_and_wrong_verifiers_are_refused,
    a17_implicit_and_password_grants_are_unsupported,
    a18_forms_without_csrf_or_from_foreign_origins_are_refused,
    a19_cross_site_logout_without_hint_asks_first,
    a20_pages_and_token_responses_carry_security_headers,
    a21_sign_in_replaces_the_session_id,
    a23_logout_ends_session_bound_refresh_tokens,
    a25_alg_none_id_token_hint_is_not_trusted,
    a30_refresh_token_reuse_revokes_the_family,
    a32_refresh_token_of_another_client_is_refused,
);

async fn a07_unknown_and_known_users_get_the_same_answer(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "known@example.com").await;
    let (_, challenge) = pkce();
    let query = authorize_query(&rp, &challenge, &[]);
    let mut answers = Vec::new();
    for email in ["known@example.com", "nobody@example.com"] {
        let mut browser = Browser::default();
        let first = browser
            .get(&server, &format!("/oauth2/authorize?{query}"))
            .await;
        let login = browser.follow(&server, first).await;
        let csrf = login.field("csrf").unwrap();
        let auth = login.field("auth").unwrap();
        let page = browser
            .post(
                &server,
                "/login/password",
                &[
                    ("csrf", &csrf),
                    ("auth", &auth),
                    ("email", email),
                    ("password", "wrong password!!"),
                ],
                None,
            )
            .await;
        // Everything but the per-request values must be identical.
        let body = page
            .body
            .replace(&csrf, "CSRF")
            .replace(&auth, "AUTH")
            .replace(email, "EMAIL");
        let nonce_free: String = body
            .split("nonce=\"")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_owned()
                } else {
                    part.split_once('"')
                        .map(|(_, rest)| rest.to_owned())
                        .unwrap_or_default()
                }
            })
            .collect();
        answers.push((page.status, nonce_free));
    }
    assert_eq!(answers[0].0, 200);
    assert_eq!(answers[0], answers[1]);
    assert!(
        answers[0]
            .1
            .contains("The email or password is not correct.")
    );
    let events = server
        .admin(Method::GET, "/admin/v1/events?type=sign_in.failed", None)
        .await
        .expect(200);
    assert_eq!(events.body["items"].as_array().unwrap().len(), 2);
}

async fn a10_unregistered_redirect_uri_gets_an_error_page(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let (_, challenge) = pkce();
    for uri in [
        "https://rp.example.com/callback/",
        "https://rp.example.com/callback?x=1",
        "https://RP.example.com/callback",
        "https://evil.example/callback",
        "https://rp.example.com:443/callback",
    ] {
        let query = authorize_query(&rp, &challenge, &[("redirect_uri", uri)]);
        let page = Browser::default()
            .get(&server, &format!("/oauth2/authorize?{query}"))
            .await;
        assert_eq!(page.status, 400, "{uri}");
        assert!(page.location.is_none(), "{uri} must not redirect");
        assert!(page.body.contains("has not registered"), "{}", page.body);
    }
}

async fn a11_unknown_client_gets_an_error_page(server: TestServer) {
    let rp = Rp {
        client_id: "0190f3a0-0000-7000-8000-000000000000".into(),
        secret: None,
    };
    let (_, challenge) = pkce();
    for extra in [
        vec![],
        vec![("client_id", "not-a-uuid")],
        vec![("client_id", "")],
    ] {
        let query = authorize_query(&rp, &challenge, &extra);
        let page = Browser::default()
            .get(&server, &format!("/oauth2/authorize?{query}"))
            .await;
        assert_eq!(page.status, 400);
        assert!(page.location.is_none());
    }
}

async fn a11_other_errors_redirect_with_state_and_iss(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let (_, challenge) = pkce();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("scope", "openid admin")], "invalid_scope"),
        (
            &[("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (&[("prompt", "none")], "login_required"),
        (&[("max_age", "soon")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let query = authorize_query(&rp, &challenge, extra);
        let page = Browser::default()
            .get(&server, &format!("/oauth2/authorize?{query}"))
            .await;
        assert_eq!(page.status, 303);
        let location = page.location.unwrap();
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        let params = params_of(&location);
        assert_eq!(params["error"], error);
        assert_eq!(params["state"], "the-state");
        assert_eq!(params["iss"], server.base);
    }
}

async fn a12_unregistered_post_logout_redirect_is_not_followed(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (mut browser, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://evil.example/bye"),
        ])
        .finish();
    let page = browser
        .get(&server, &format!("/oauth2/logout?{query}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.location.is_none());
    assert!(
        !page.body.contains("evil.example/bye\""),
        "no redirect target is offered"
    );
    // The registered one is followed.
    let (mut browser, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
            ("state", "s1"),
        ])
        .finish();
    let page = browser
        .get(&server, &format!("/oauth2/logout?{query}"))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some("https://rp.example.com/bye?state=s1")
    );
}

async fn a13_code_replay_revokes_tokens(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let callback = browser
        .sign_in(
            &server,
            &authorize_query(&rp, &challenge, &[("scope", "openid offline_access")]),
            "ada@example.com",
        )
        .await;
    let code = params_of(callback.location.as_deref().unwrap())["code"].clone();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let first = token_request(&server, &rp, &exchange).await.expect(200);
    let replay = token_request(&server, &rp, &exchange).await.expect(400);
    assert_eq!(replay.body["error"], "invalid_grant");
    let access = first.body["access_token"].as_str().unwrap();
    let introspection = form_request(&server, "/oauth2/introspect", &rp, &[("token", access)])
        .await
        .expect(200);
    assert_eq!(introspection.body["active"], false);
    let refresh = first.body["refresh_token"].as_str().unwrap();
    let refreshed = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(refreshed.body["error"], "invalid_grant");
}

async fn a14_code_of_another_client_or_redirect_uri_is_refused(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let other = register(
        &server,
        json!({"redirect_uris": [REDIRECT_URI, "https://rp.example.com/other"]}),
    )
    .await;
    user(&server, "ada@example.com").await;
    for (thief, redirect) in [
        (&other, REDIRECT_URI),
        (&rp, "https://rp.example.com/other"),
    ] {
        let (verifier, challenge) = pkce();
        let callback = Browser::default()
            .sign_in(
                &server,
                &authorize_query(&rp, &challenge, &[]),
                "ada@example.com",
            )
            .await;
        let code = params_of(callback.location.as_deref().unwrap())["code"].clone();
        let answer = token_request(
            &server,
            thief,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .expect(400);
        assert_eq!(answer.body["error"], "invalid_grant");
    }
}

async fn a15_pkce_downgrades_and_wrong_verifiers_are_refused(server: TestServer) {
    let public = register(
        &server,
        json!({"token_endpoint_auth_method": "none", "grant_types": ["authorization_code"]}),
    )
    .await;
    let confidential = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    // A public client without PKCE, and `plain` for anyone: refused at the authorization endpoint.
    for (rp, extra) in [
        (
            &public,
            vec![("code_challenge", ""), ("code_challenge_method", "")],
        ),
        (&confidential, vec![("code_challenge_method", "plain")]),
    ] {
        let (_, challenge) = pkce();
        let page = Browser::default()
            .get(
                &server,
                &format!(
                    "/oauth2/authorize?{}",
                    authorize_query(rp, &challenge, &extra)
                ),
            )
            .await;
        assert_eq!(
            params_of(page.location.as_deref().unwrap())["error"],
            "invalid_request"
        );
    }
    // A wrong verifier, and a verifier where no challenge was sent.
    let (_, challenge) = pkce();
    let (wrong, _) = pkce();
    let callback = Browser::default()
        .sign_in(
            &server,
            &authorize_query(&confidential, &challenge, &[]),
            "ada@example.com",
        )
        .await;
    let code = params_of(callback.location.as_deref().unwrap())["code"].clone();
    let answer = token_request(
        &server,
        &confidential,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &wrong),
        ],
    )
    .await;
    assert_eq!(answer.body["error"], "invalid_grant");
    let callback = Browser::default()
        .sign_in(
            &server,
            &authorize_query(
                &confidential,
                "",
                &[("code_challenge", ""), ("code_challenge_method", "")],
            ),
            "ada@example.com",
        )
        .await;
    let code = params_of(callback.location.as_deref().unwrap())["code"].clone();
    let answer = token_request(
        &server,
        &confidential,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &wrong),
        ],
    )
    .await;
    assert_eq!(answer.body["error"], "invalid_grant");
}

async fn a17_implicit_and_password_grants_are_unsupported(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let (_, challenge) = pkce();
    let page = Browser::default()
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[("response_type", "token")])
            ),
        )
        .await;
    assert_eq!(
        params_of(page.location.as_deref().unwrap())["error"],
        "unsupported_response_type"
    );
    let answer = token_request(
        &server,
        &rp,
        &[
            ("grant_type", "password"),
            ("username", "a"),
            ("password", "b"),
        ],
    )
    .await
    .expect(400);
    assert_eq!(answer.body["error"], "unsupported_grant_type");
    let discovery = server
        .call(Method::GET, "/.well-known/openid-configuration", None, None)
        .await
        .expect(200);
    assert_eq!(discovery.body["response_types_supported"], json!(["code"]));
    assert!(
        !discovery.body["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("password"))
    );
}

async fn a18_forms_without_csrf_or_from_foreign_origins_are_refused(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (_, challenge) = pkce();
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
    let csrf = login.field("csrf").unwrap();
    let auth = login.field("auth").unwrap();
    let password = [
        ("auth", auth.as_str()),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
    ];
    let without = browser
        .post(&server, "/login/password", &password, None)
        .await;
    assert_eq!(without.status, 403);
    let mut with_wrong = password.to_vec();
    with_wrong.push(("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(
        browser
            .post(&server, "/login/password", &with_wrong, None)
            .await
            .status,
        403
    );
    let mut with_token = password.to_vec();
    with_token.push(("csrf", &csrf));
    let foreign = browser
        .post(
            &server,
            "/login/password",
            &with_token,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status, 403);
    for path in ["/consent", "/oauth2/logout"] {
        let page = browser
            .post(
                &server,
                path,
                &[("auth", &auth), ("decision", "allow"), ("confirm", "yes")],
                None,
            )
            .await;
        assert_eq!(page.status, 403, "{path}");
    }
    // Nothing happened: no session was started.
    let events = server
        .admin(Method::GET, "/admin/v1/events?type=sign_in.succeeded", None)
        .await
        .expect(200);
    assert_eq!(events.body["items"], json!([]));
}

async fn a19_cross_site_logout_without_hint_asks_first(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (mut browser, _) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let page = browser.get(&server, "/oauth2/logout").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign out"));
    // The session survives: a new authorization completes without a login page.
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
    // Confirming ends it.
    let csrf = page.field("csrf").unwrap();
    let done = browser
        .post(
            &server,
            "/oauth2/logout",
            &[("csrf", &csrf), ("confirm", "yes")],
            None,
        )
        .await;
    assert_eq!(done.status, 200);
    let after = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    assert!(after.location.unwrap().contains("/login?auth="));
}

async fn a20_pages_and_token_responses_carry_security_headers(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (_, challenge) = pkce();
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
    let headers = &login.headers;
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let (_, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    assert!(tokens["access_token"].is_string());
    let answer = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", "nope")],
    )
    .await;
    assert_eq!(answer.headers["cache-control"], "no-store");
}

async fn a21_sign_in_replaces_the_session_id(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (mut browser, _) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let before = browser.cookies.get("tessera-session").cloned().unwrap();
    // A forced re-authentication gives a new id, and the old one is dead.
    let (_, challenge) = pkce();
    browser
        .sign_in(
            &server,
            &authorize_query(&rp, &challenge, &[("prompt", "login")]),
            "ada@example.com",
        )
        .await;
    let after = browser.cookies.get("tessera-session").cloned().unwrap();
    assert_ne!(before, after);
    let mut stale = Browser::default();
    stale.cookies.insert("tessera-session".into(), before);
    let page = stale
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    assert!(page.location.unwrap().contains("/login?auth="));
}

async fn a23_logout_ends_session_bound_refresh_tokens(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (mut browser, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("id_token_hint", tokens["id_token"].as_str().unwrap())])
        .finish();
    let page = browser
        .get(&server, &format!("/oauth2/logout?{query}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("signed out"));
    let answer = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(answer.body["error"], "invalid_grant");
}

async fn a25_alg_none_id_token_hint_is_not_trusted(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let user_id = user(&server, "ada@example.com").await;
    let (mut browser, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let real: Value = jwt_claims(tokens["id_token"].as_str().unwrap());
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged = format!(
        "{}.{}.",
        engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
        engine.encode(json!({"iss": server.base, "sub": user_id, "aud": rp.client_id, "sid": real["sid"], "exp": 4102444800u64}).to_string())
    );
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", forged.as_str()),
            ("post_logout_redirect_uri", "https://rp.example.com/bye"),
        ])
        .finish();
    let page = browser
        .get(&server, &format!("/oauth2/logout?{query}"))
        .await;
    // Not trusted: the user is asked instead of being logged out and redirected.
    assert_eq!(page.status, 200);
    assert!(page.location.is_none());
    assert!(page.body.contains("Do you want to sign out?"));
}

async fn a30_refresh_token_reuse_revokes_the_family(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (_, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid offline_access").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let rotated = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", first)],
    )
    .await
    .expect(200);
    let second = rotated.body["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    let reuse = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", first)],
    )
    .await
    .expect(400);
    assert_eq!(reuse.body["error"], "invalid_grant");
    // The whole family is gone, including the newest token and its access token.
    let newest = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", second)],
    )
    .await
    .expect(400);
    assert_eq!(newest.body["error"], "invalid_grant");
    let access = rotated.body["access_token"].as_str().unwrap();
    let introspection = form_request(&server, "/oauth2/introspect", &rp, &[("token", access)])
        .await
        .expect(200);
    assert_eq!(introspection.body["active"], false);
    let events = server
        .admin(
            Method::GET,
            "/admin/v1/events?type=token.refresh_reused",
            None,
        )
        .await
        .expect(200);
    assert_eq!(events.body["items"].as_array().unwrap().len(), 1);
}

async fn a32_refresh_token_of_another_client_is_refused(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let other = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (_, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let stolen = token_request(
        &server,
        &other,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
    .expect(400);
    assert_eq!(stolen.body["error"], "invalid_grant");
    // A wider scope is refused without spending the token.
    let wider = token_request(
        &server,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "openid offline_access email"),
        ],
    )
    .await
    .expect(400);
    assert_eq!(wider.body["error"], "invalid_scope");
    // The rightful client can still use it.
    token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
    .expect(200);
}
