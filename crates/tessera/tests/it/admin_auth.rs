//! Authentication, scopes and tenant isolation of the admin API (A50).

use crate::harness::{BOOTSTRAP_TOKEN, TestServer};
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn missing_wrong_and_revoked_tokens_are_401(server: TestServer) {
    let missing = server
        .call(Method::GET, "/admin/v1/users", None, None)
        .await
        .expect_problem(401, "unauthenticated");
    assert_eq!(
        missing.headers["www-authenticate"],
        "Bearer realm=\"tessera\""
    );
    server
        .call(
            Method::GET,
            "/admin/v1/users",
            Some("tsr_not-a-real-token"),
            None,
        )
        .await
        .expect_problem(401, "unauthenticated");
    server
        .call(Method::GET, "/admin/v1/users", Some("garbage"), None)
        .await
        .expect_problem(401, "unauthenticated");
    let basic = server
        .client
        .get(format!("{}/admin/v1/users", server.base))
        .basic_auth("admin", Some(BOOTSTRAP_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "only the Bearer scheme is accepted");

    let created = server
        .admin(
            Method::POST,
            "/admin/v1/api-tokens",
            Some(json!({"name": "ci", "scopes": ["users:read"]})),
        )
        .await
        .expect(201);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsr_"));
    server
        .call(Method::GET, "/admin/v1/users", Some(&secret), None)
        .await
        .expect(200);
    let listed = server
        .admin(Method::GET, "/admin/v1/api-tokens", None)
        .await
        .expect(200);
    assert!(
        !listed.body.to_string().contains(&secret),
        "secrets are shown once, never listed"
    );
    let id = created.body["id"].as_str().unwrap();
    let revoked = server
        .admin(Method::DELETE, &format!("/admin/v1/api-tokens/{id}"), None)
        .await
        .expect(200);
    assert!(revoked.body["revoked_at"].is_string());
    server
        .call(Method::GET, "/admin/v1/users", Some(&secret), None)
        .await
        .expect_problem(401, "unauthenticated");
}

async fn scopes_limit_what_a_token_may_do(server: TestServer) {
    let reader = server.token(None, &["users:read"]).await;
    server
        .call(Method::GET, "/admin/v1/users", Some(&reader), None)
        .await
        .expect(200);
    server
        .call(
            Method::POST,
            "/admin/v1/users",
            Some(&reader),
            Some(json!({"email": "a@example.com"})),
        )
        .await
        .expect_problem(403, "forbidden");
    server
        .call(Method::GET, "/admin/v1/events", Some(&reader), None)
        .await
        .expect_problem(403, "forbidden");
    server
        .call(Method::GET, "/admin/v1/tenants", Some(&reader), None)
        .await
        .expect_problem(403, "forbidden");
    let scim = server.token(None, &["scim"]).await;
    server
        .call(Method::GET, "/admin/v1/users", Some(&scim), None)
        .await
        .expect_problem(403, "forbidden");
    let writer = server.token(None, &["users:write"]).await;
    server
        .call(
            Method::POST,
            "/admin/v1/users",
            Some(&writer),
            Some(json!({"email": "a@example.com"})),
        )
        .await
        .expect(201);
    server
        .call(Method::GET, "/admin/v1/users", Some(&writer), None)
        .await
        .expect(200);
    server
        .call(
            Method::PUT,
            "/admin/v1/schema",
            Some(&writer),
            Some(json!({"attributes": []})),
        )
        .await
        .expect_problem(403, "forbidden");
    let bad_scope = server
        .admin(
            Method::POST,
            "/admin/v1/api-tokens",
            Some(json!({"name": "x", "scopes": ["root"]})),
        )
        .await;
    bad_scope.expect_problem(422, "validation");
}

async fn a50_a_token_of_one_tenant_cannot_reach_another(server: TestServer) {
    server.tenant("acme").await;
    server.tenant("globex").await;
    let acme_admin = server.token(Some("acme"), &["admin"]).await;
    let globex_user = server
        .admin(
            Method::POST,
            "/t/globex/admin/v1/users",
            Some(json!({"email": "g@globex.example"})),
        )
        .await
        .expect(201);
    let globex_user_id = globex_user.body["id"].as_str().unwrap();
    let default_user = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "d@default.example"})),
        )
        .await
        .expect(201);
    let default_user_id = default_user.body["id"].as_str().unwrap();

    // its own tenant works
    server
        .call(
            Method::GET,
            "/t/acme/admin/v1/users",
            Some(&acme_admin),
            None,
        )
        .await
        .expect(200);
    server
        .call(
            Method::POST,
            "/t/acme/admin/v1/users",
            Some(&acme_admin),
            Some(json!({"email": "a@acme.example"})),
        )
        .await
        .expect(201);
    server
        .call(
            Method::GET,
            "/admin/v1/tenants/acme",
            Some(&acme_admin),
            None,
        )
        .await
        .expect(200);

    // every route of another tenant answers 404, as if it did not exist
    let other_tenant_calls: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/t/globex/admin/v1/users".into(), None),
        (
            Method::GET,
            format!("/t/globex/admin/v1/users/{globex_user_id}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/t/globex/admin/v1/users/{globex_user_id}"),
            Some(json!({"given_name": "X"})),
        ),
        (
            Method::DELETE,
            format!("/t/globex/admin/v1/users/{globex_user_id}"),
            None,
        ),
        (
            Method::POST,
            format!("/t/globex/admin/v1/users/{globex_user_id}/disable"),
            None,
        ),
        (
            Method::POST,
            "/t/globex/admin/v1/users".into(),
            Some(json!({"email": "x@globex.example"})),
        ),
        (Method::GET, "/t/globex/admin/v1/schema".into(), None),
        (Method::GET, "/t/globex/admin/v1/api-tokens".into(), None),
        (Method::GET, "/t/globex/admin/v1/events".into(), None),
        (Method::GET, "/admin/v1/tenants/globex".into(), None),
        (
            Method::PATCH,
            "/admin/v1/tenants/globex".into(),
            Some(json!({"display_name": "Mine"})),
        ),
        (
            Method::GET,
            format!("/admin/v1/users/{default_user_id}"),
            None,
        ),
        (Method::GET, "/admin/v1/users".into(), None),
    ];
    for (method, path, body) in other_tenant_calls {
        let answer = server
            .call(method.clone(), &path, Some(&acme_admin), body)
            .await;
        assert_eq!(answer.status, 404, "{method} {path}: {}", answer.body);
    }
    // a foreign tenant and a tenant that does not exist cannot be told apart
    let foreign = server
        .call(
            Method::GET,
            "/t/globex/admin/v1/users",
            Some(&acme_admin),
            None,
        )
        .await
        .expect_problem(404, "not_found");
    let missing = server
        .call(
            Method::GET,
            "/t/no-such-brand/admin/v1/users",
            Some(&acme_admin),
            None,
        )
        .await
        .expect_problem(404, "not_found");
    assert_eq!(foreign.body, missing.body);
    // a tenant's admin may rename it but not route host names to it
    server
        .call(
            Method::PATCH,
            "/admin/v1/tenants/acme",
            Some(&acme_admin),
            Some(json!({"display_name": "ACME Two"})),
        )
        .await
        .expect(200);
    server
        .call(
            Method::PATCH,
            "/admin/v1/tenants/acme",
            Some(&acme_admin),
            Some(json!({"domains": ["login.globex.example"]})),
        )
        .await
        .expect_problem(403, "forbidden");
    // a user id of another tenant is not found through one's own tenant either
    server
        .call(
            Method::GET,
            &format!("/t/acme/admin/v1/users/{globex_user_id}"),
            Some(&acme_admin),
            None,
        )
        .await
        .expect_problem(404, "not_found");
    // creating and listing tenants is for operators (admins of the default tenant)
    server
        .call(Method::GET, "/admin/v1/tenants", Some(&acme_admin), None)
        .await
        .expect_problem(403, "forbidden");
    server
        .call(
            Method::POST,
            "/admin/v1/tenants",
            Some(&acme_admin),
            Some(json!({"slug": "evil", "display_name": "Evil"})),
        )
        .await
        .expect_problem(403, "forbidden");
    // nothing was changed in globex
    let globex_now = server
        .admin(
            Method::GET,
            &format!("/t/globex/admin/v1/users/{globex_user_id}"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(globex_now.body["status"], "light");
    assert_eq!(globex_now.body["given_name"], serde_json::Value::Null);
    // the operator reaches every tenant
    let operator = server.token(None, &["admin"]).await;
    server
        .call(
            Method::GET,
            &format!("/t/globex/admin/v1/users/{globex_user_id}"),
            Some(&operator),
            None,
        )
        .await
        .expect(200);
}

http_suite!(
    missing_wrong_and_revoked_tokens_are_401,
    scopes_limit_what_a_token_may_do,
    a50_a_token_of_one_tenant_cannot_reach_another
);
