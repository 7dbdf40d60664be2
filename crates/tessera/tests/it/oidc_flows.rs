//! OIDC behaviours beyond the attack catalogue: back-channel logout to a real listener,
//! disabling a user, client administration, SSO, client credentials.

use crate::harness::TestServer;
use crate::http_suite;
use crate::oidc_support::*;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_oidc::jose::{Algorithm, Expectations, JwkSet, verify};
use tokio::sync::mpsc;

http_suite!(
    backchannel_logout_reaches_each_client_of_the_session,
    a23_disabling_a_user_ends_sessions_and_tokens,
    sso_second_client_needs_no_login,
    client_credentials_issue_jwt_access_tokens_with_durable_records,
    client_secrets_are_shown_once_and_rotate,
    a25_private_key_jwt_assertions_are_verified_and_single_use,
    a50_tenants_have_their_own_issuer_and_tokens_do_not_cross,
    custom_claims_and_the_claims_parameter_stay_within_the_granted_scopes,
    admins_set_passwords_that_follow_the_policy,
    pushed_authorization_requests_are_single_use,
    userinfo_challenges_follow_rfc_6750,
);

/// A relying party's back-channel endpoint: every form POST arrives on the channel.
async fn logout_receiver() -> (String, mpsc::UnboundedReceiver<String>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/backchannel"), receiver)
}

async fn backchannel_logout_reaches_each_client_of_the_session(server: TestServer) {
    let (uri, mut received) = logout_receiver().await;
    let rp = register(&server, json!({"backchannel_logout_uri": uri})).await;
    let user_id = user(&server, "ada@example.com").await;
    let (mut browser, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid").await;
    let sid = jwt_claims(tokens["id_token"].as_str().unwrap())["sid"].clone();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("id_token_hint", tokens["id_token"].as_str().unwrap())])
        .finish();
    let page = browser
        .get(&server, &format!("/oauth2/logout?{query}"))
        .await;
    assert_eq!(page.status, 200);
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), received.recv())
        .await
        .expect("a logout token arrives")
        .unwrap();
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let jwks: JwkSet = serde_json::from_value(
        server
            .call(Method::GET, "/jwks", None, None)
            .await
            .expect(200)
            .body,
    )
    .unwrap();
    let expect = Expectations {
        issuer: Some(&server.base),
        audience: Some(&rp.client_id),
        typ: Some("logout+jwt"),
        now: tessera_core::clock::Clock::now(&tessera_core::clock::SystemClock),
        leeway: time::Duration::seconds(30),
        allow_expired: false,
        algorithms: &[Algorithm::Rs256],
    };
    let claims: Value = verify(&token, &jwks, &expect).expect("a valid logout token");
    assert_eq!(claims["sub"], user_id);
    assert_eq!(claims["sid"], sid);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
}

async fn a23_disabling_a_user_ends_sessions_and_tokens(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let user_id = user(&server, "ada@example.com").await;
    let (mut browser, tokens) =
        tokens_for(&server, &rp, "ada@example.com", "openid offline_access").await;
    server
        .admin(
            Method::POST,
            &format!("/admin/v1/users/{user_id}/disable"),
            None,
        )
        .await
        .expect(200);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let answer = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(answer.body["error"], "invalid_grant");
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    let (_, challenge) = pkce();
    let page = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    assert!(
        page.location.unwrap().contains("/login?auth="),
        "the session ended"
    );
}

async fn sso_second_client_needs_no_login(server: TestServer) {
    let shop = register(&server, json!({})).await;
    let blog = register(&server, json!({"client_name": "Blog"})).await;
    user(&server, "ada@example.com").await;
    let (mut browser, _) = tokens_for(&server, &shop, "ada@example.com", "openid").await;
    let (_, challenge) = pkce();
    let page = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&blog, &challenge, &[])
            ),
        )
        .await;
    let params = params_of(page.location.as_deref().unwrap());
    assert!(params.contains_key("code"));
    assert_eq!(params["iss"], server.base);
    // prompt=none works too when signed in.
    let page = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&blog, &challenge, &[("prompt", "none")])
            ),
        )
        .await;
    assert!(params_of(page.location.as_deref().unwrap()).contains_key("code"));
}

async fn client_credentials_issue_jwt_access_tokens_with_durable_records(server: TestServer) {
    let machine = register(
        &server,
        json!({"grant_types": ["client_credentials"], "redirect_uris": [], "scope": "orders:read", "audiences": ["https://api.example.com"]}),
    )
    .await;
    let answer = token_request(
        &server,
        &machine,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders:read"),
        ],
    )
    .await
    .expect(200);
    let token = answer.body["access_token"].as_str().unwrap();
    let header: Value = {
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let claims = jwt_claims(token);
    assert_eq!(claims["aud"], "https://api.example.com");
    assert_eq!(claims["sub"], machine.client_id);
    assert_eq!(claims["scope"], "orders:read");
    let introspection = form_request(&server, "/oauth2/introspect", &machine, &[("token", token)])
        .await
        .expect(200);
    assert_eq!(introspection.body["active"], true);
    form_request(&server, "/oauth2/revoke", &machine, &[("token", token)])
        .await
        .expect(200);
    let introspection = form_request(&server, "/oauth2/introspect", &machine, &[("token", token)])
        .await
        .expect(200);
    assert_eq!(introspection.body["active"], false);
    // User scopes and unregistered scopes or audiences are refused.
    for fields in [
        vec![("grant_type", "client_credentials"), ("scope", "openid")],
        vec![
            ("grant_type", "client_credentials"),
            ("scope", "orders:write"),
        ],
    ] {
        let answer = token_request(&server, &machine, &fields).await.expect(400);
        assert_eq!(answer.body["error"], "invalid_scope");
    }
    let answer = token_request(
        &server,
        &machine,
        &[
            ("grant_type", "client_credentials"),
            ("audience", "https://other.example"),
        ],
    )
    .await
    .expect(400);
    assert_eq!(answer.body["error"], "invalid_request");
}

async fn client_secrets_are_shown_once_and_rotate(server: TestServer) {
    let rp = register(&server, json!({})).await;
    let read = server
        .admin(
            Method::GET,
            &format!("/admin/v1/clients/{}", rp.client_id),
            None,
        )
        .await
        .expect(200);
    assert!(read.body.get("client_secret").is_none());
    let listed = server
        .admin(Method::GET, "/admin/v1/clients", None)
        .await
        .expect(200);
    assert!(
        !listed
            .body
            .to_string()
            .contains(rp.secret.as_deref().unwrap())
    );
    let rotated = server
        .admin(
            Method::POST,
            &format!("/admin/v1/clients/{}/secret", rp.client_id),
            None,
        )
        .await
        .expect(200);
    let new_secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(Some(new_secret.as_str()), rp.secret.as_deref());
    // The old secret stops working at once.
    let old = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await
    .expect(401);
    assert_eq!(old.body["error"], "invalid_client");
    let renewed = Rp {
        secret: Some(new_secret),
        ..rp.clone()
    };
    let answer = token_request(
        &server,
        &renewed,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await
    .expect(400);
    assert_eq!(answer.body["error"], "invalid_grant");
    // Bad registrations are refused with every reason.
    let bad = server
        .admin(Method::POST, "/admin/v1/clients", Some(json!({"client_name": "", "redirect_uris": ["http://evil.example/cb", "https://ok.example/cb#frag"], "grant_types": ["password"]})))
        .await
        .expect_problem(422, "validation");
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"redirect_uris[0]")
            && fields.contains(&"redirect_uris[1]")
            && fields.contains(&"grant_types")
            && fields.contains(&"client_name"),
        "{fields:?}"
    );
    server
        .admin(
            Method::DELETE,
            &format!("/admin/v1/clients/{}", rp.client_id),
            None,
        )
        .await
        .expect(204);
    server
        .admin(
            Method::GET,
            &format!("/admin/v1/clients/{}", rp.client_id),
            None,
        )
        .await
        .expect_problem(404, "not_found");
}

async fn a25_private_key_jwt_assertions_are_verified_and_single_use(server: TestServer) {
    use tessera_oidc::jose::SigningKey;
    let (key, _) = SigningKey::generate(Algorithm::Es256).unwrap();
    let (stranger, _) = SigningKey::generate(Algorithm::Es256).unwrap();
    let answer = server
        .admin(
            Method::POST,
            "/admin/v1/clients",
            Some(json!({
                "client_name": "Signed machine",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [key.public_jwk()]},
                "scope": "api:read",
            })),
        )
        .await
        .expect(201);
    assert!(answer.body.get("client_secret").is_none());
    let client_id = answer.body["client_id"].as_str().unwrap().to_owned();
    let now = tessera_core::clock::Clock::now(&tessera_core::clock::SystemClock).unix_timestamp();
    let claims = |jti: &str| {
        json!({
            "iss": client_id, "sub": client_id, "aud": format!("{}/oauth2/token", server.base),
            "jti": jti, "iat": now, "exp": now + 60,
        })
    };
    let send = |assertion: String| {
        let server = &server;
        async move {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ])
                .finish();
            let response = server
                .client
                .post(format!("{}/oauth2/token", server.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    // Expired by ten seconds, so accepted only within the leeway: its replay must still be
    // refused after the assertion's own `exp` has passed.
    let late = json!({
        "iss": client_id, "sub": client_id, "aud": format!("{}/oauth2/token", server.base),
        "jti": "late", "iat": now - 70, "exp": now - 10,
    });
    let late = key.sign("JWT", &late).unwrap();
    assert_eq!(send(late.clone()).await.0, 200);
    assert_eq!(send(late).await.0, 401, "replayed within the leeway");
    let good = key.sign("JWT", &claims("first")).unwrap();
    let (status, body) = send(good.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "");
    // The same assertion again: a replay.
    let (status, body) = send(good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // Signed by a key the client never registered.
    let (status, _) = send(stranger.sign("JWT", &claims("second")).unwrap()).await;
    assert_eq!(status, 401);
    // alg=none.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let unsigned = format!(
        "{}.{}.",
        engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
        engine.encode(claims("third").to_string())
    );
    let (status, _) = send(unsigned).await;
    assert_eq!(status, 401);
    // A JWK Set with private members is refused at registration.
    let mut private = serde_json::to_value(key.public_jwk()).unwrap();
    private["d"] = json!("c2VjcmV0");
    server
        .admin(
            Method::POST,
            "/admin/v1/clients",
            Some(json!({
                "client_name": "Leaky",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [private]},
            })),
        )
        .await
        .expect_problem(422, "validation");
}

async fn a50_tenants_have_their_own_issuer_and_tokens_do_not_cross(server: TestServer) {
    server.tenant("acme").await;
    let discovery = server
        .call(
            Method::GET,
            "/t/acme/.well-known/openid-configuration",
            None,
            None,
        )
        .await
        .expect(200);
    let issuer = format!("{}/t/acme", server.base);
    assert_eq!(discovery.body["issuer"], issuer);
    assert_eq!(
        discovery.body["token_endpoint"],
        format!("{issuer}/oauth2/token")
    );
    let answer = server
        .admin(
            Method::POST,
            "/t/acme/admin/v1/clients",
            Some(json!({"client_name": "ACME shop", "redirect_uris": [REDIRECT_URI], "first_party": true})),
        )
        .await
        .expect(201);
    let rp = Rp {
        client_id: answer.body["client_id"].as_str().unwrap().to_owned(),
        secret: answer.body["client_secret"].as_str().map(str::to_owned),
    };
    server
        .admin(
            Method::POST,
            "/t/acme/admin/v1/users",
            Some(json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await
        .expect(201);
    let (verifier, challenge) = pkce();
    let mut browser = Browser {
        prefix: "/t/acme".into(),
        ..Browser::default()
    };
    let callback = browser
        .sign_in(
            &server,
            &authorize_query(&rp, &challenge, &[]),
            "ada@example.com",
        )
        .await;
    let params = params_of(callback.location.as_deref().unwrap());
    assert_eq!(params["iss"], issuer);
    let tokens = form_request(
        &server,
        "/t/acme/oauth2/token",
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .expect(200);
    assert_eq!(
        jwt_claims(tokens.body["id_token"].as_str().unwrap())["iss"],
        issuer
    );
    let access = tokens.body["access_token"].as_str().unwrap();
    let at_acme = server
        .client
        .get(format!("{issuer}/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(at_acme.status(), 200);
    // The same token at the default tenant: another issuer, refused.
    let at_default = server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(at_default.status(), 401);
    // The client does not exist in the default tenant.
    let page = Browser::default()
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    assert_eq!(page.status, 400);
    let other = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(other.body["error"], "invalid_client");
    // A session of one tenant is not a session of another.
    let default_rp = register(&server, json!({})).await;
    let page = browser
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&default_rp, &challenge, &[])
            ),
        )
        .await;
    assert!(page.location.unwrap().contains("/login?auth="));
}

async fn custom_claims_and_the_claims_parameter_stay_within_the_granted_scopes(server: TestServer) {
    server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": [{"name": "customer_no", "type": "string"}]})),
        )
        .await
        .expect(200);
    let rp = register(&server, json!({"custom_claims": {"customer_number": "customer_no"}, "scope": "openid profile email phone"})).await;
    server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "ada@example.com", "given_name": "Ada", "password": PASSWORD, "attributes": {"customer_no": "C-42"}})),
        )
        .await
        .expect(201);
    let (_, tokens) = tokens_for(&server, &rp, "ada@example.com", "openid profile").await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["customer_number"], "C-42");
    assert_eq!(id_token["given_name"], "Ada");
    assert!(id_token.get("email").is_none(), "email was not granted");
    // Asking for email by name does not widen the grant.
    let (verifier, challenge) = pkce();
    let claims = json!({"id_token": {"email": {"essential": true}}}).to_string();
    let mut browser = Browser::default();
    let callback = browser
        .sign_in(
            &server,
            &authorize_query(&rp, &challenge, &[("scope", "openid"), ("claims", &claims)]),
            "ada@example.com",
        )
        .await;
    let code = params_of(callback.location.as_deref().unwrap())["code"].clone();
    let answer = token_request(
        &server,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .expect(200);
    let id_token = jwt_claims(answer.body["id_token"].as_str().unwrap());
    assert!(id_token.get("email").is_none());
    assert!(
        id_token.get("customer_number").is_none(),
        "custom claims come with profile"
    );
}

async fn admins_set_passwords_that_follow_the_policy(server: TestServer) {
    let light = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "ada@example.com", "given_name": "Adalind"})),
        )
        .await
        .expect(201);
    assert_eq!(light.body["status"], "light");
    let id = light.body["id"].as_str().unwrap();
    let path = format!("/admin/v1/users/{id}/password");
    for (password, reason) in [
        ("short pass", "at least 15"),
        ("1qaz2wsx3edc4rfv", "common"),
        ("adalind-is-my-name-2026", "name"),
    ] {
        let refused = server
            .admin(Method::POST, &path, Some(json!({"password": password})))
            .await
            .expect_problem(422, "validation");
        assert!(
            refused.body["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(reason),
            "{password}: {}",
            refused.body
        );
    }
    let set = server
        .admin(Method::POST, &path, Some(json!({"password": PASSWORD})))
        .await
        .expect(200);
    assert_eq!(set.body["status"], "active");
    assert_eq!(set.body["has_password"], true);
    assert!(!set.body.to_string().contains(PASSWORD));
    // The new password signs in.
    let rp = register(&server, json!({})).await;
    tokens_for(&server, &rp, "ada@example.com", "openid").await;
}

async fn pushed_authorization_requests_are_single_use(server: TestServer) {
    let rp = register(&server, json!({})).await;
    user(&server, "ada@example.com").await;
    let (verifier, challenge) = pkce();
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(authorize_query(&rp, &challenge, &[]).as_bytes())
            .into_owned()
            .collect();
    let fields: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let pushed = form_request(&server, "/oauth2/par", &rp, &fields)
        .await
        .expect(201);
    let request_uri = pushed.body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(pushed.body["expires_in"].as_i64().unwrap() <= 90);
    // The handle is not a page handle.
    let handle = request_uri.rsplit(':').next().unwrap();
    let page = Browser::default()
        .get(&server, &format!("/login?auth={handle}"))
        .await;
    assert_eq!(page.status, 400);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", rp.client_id.as_str()),
            ("request_uri", request_uri.as_str()),
        ])
        .finish();
    let mut browser = Browser::default();
    let callback = browser.sign_in(&server, &query, "ada@example.com").await;
    let code = params_of(callback.location.as_deref().unwrap())["code"].clone();
    token_request(
        &server,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .expect(200);
    let again = Browser::default()
        .get(&server, &format!("/oauth2/authorize?{query}"))
        .await;
    assert_eq!(again.status, 400, "a pushed request is used once");
    // An unauthenticated push is refused.
    let anonymous = Rp {
        secret: Some("wrong".into()),
        ..rp.clone()
    };
    form_request(&server, "/oauth2/par", &anonymous, &fields)
        .await
        .expect(401);
}

async fn userinfo_challenges_follow_rfc_6750(server: TestServer) {
    let bare = server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(bare.headers()["www-authenticate"], "Bearer");
    let bad = server
        .client
        .get(format!("{}/oauth2/userinfo", server.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    // Browser apps may call the token endpoint from their own origin.
    let preflight = server
        .client
        .request(Method::OPTIONS, format!("{}/oauth2/token", server.base))
        .header("origin", "https://spa.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}
