//! Bad input: every malformed request gets problem details and writes nothing.

use crate::harness::{BOOTSTRAP_TOKEN, TestServer};
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn raw(
    server: &TestServer,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::harness::Answer {
    let response = server
        .client
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(BOOTSTRAP_TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    crate::harness::Answer {
        status,
        headers,
        body,
    }
}

async fn user_count(server: &TestServer) -> usize {
    server
        .admin(Method::GET, "/admin/v1/users", None)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn a38_malformed_bodies_get_problem_details(server: TestServer) {
    let json = "application/json";
    raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        json,
        b"{\"email\": ".to_vec(),
    )
    .await
    .expect_problem(400, "bad_request");
    raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        json,
        b"{} trailing".to_vec(),
    )
    .await
    .expect_problem(400, "bad_request");
    raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        json,
        [&b"{\"email\": \""[..], &[0xff, 0xfe], b"\"}"].concat(),
    )
    .await
    .expect_problem(400, "bad_request");
    raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    raw(&server, Method::POST, "/admin/v1/users", "", b"{}".to_vec())
        .await
        .expect_problem(415, "unsupported_media_type");
    let unknown = raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        json,
        br#"{"email": "a@example.com", "admin": true}"#.to_vec(),
    )
    .await;
    let unknown = unknown.expect_problem(422, "validation");
    assert!(
        unknown.body["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown field `admin`"),
        "{}",
        unknown.body
    );
    let wrong_type = raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        json,
        br#"{"given_name": 42}"#.to_vec(),
    )
    .await
    .expect_problem(422, "validation");
    assert_eq!(wrong_type.body["errors"][0]["field"], "given_name");
    let not_object = raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        json,
        b"[1,2]".to_vec(),
    )
    .await
    .expect_problem(422, "validation");
    assert_eq!(not_object.body["errors"][0]["field"], "body");
    let invalid = server
        .admin(Method::POST, "/admin/v1/users", Some(json!({"emails": [{"value": "not-an-email"}, {"value": "b@example.com", "purposes": ["spam"]}], "phone_numbers": [{"value": "0151"}], "locale": "???"})))
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
            "emails[0].value",
            "emails[1].purposes",
            "phone_numbers[0].value"
        ],
        "{}",
        invalid.body
    );
    assert_eq!(user_count(&server).await, 0, "nothing was written");
}

async fn a37_bodies_over_the_limit_are_413(server: TestServer) {
    let big = format!("{{\"given_name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let answer = raw(
        &server,
        Method::POST,
        "/admin/v1/users",
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.headers["content-type"], "application/problem+json",
        "layers' errors are problems too"
    );
    assert_eq!(
        answer.headers["x-content-type-options"], "nosniff",
        "and carry the security headers (A20)"
    );
    assert_eq!(
        answer.headers["connection"], "close",
        "the unread rest of the body ends the connection, and the client is told"
    );
    assert_eq!(user_count(&server).await, 0);
}

async fn a40_duplicates_are_409_whatever_the_case(server: TestServer) {
    server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "alice@example.com"})),
        )
        .await
        .expect(201);
    let again = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "Alice@Example.COM"})),
        )
        .await
        .expect_problem(409, "duplicate");
    assert_eq!(again.body["detail"], "email is already in use");
    let other = server.admin(Method::POST, "/admin/v1/users", Some(json!({"email": "bob@example.com", "external_ids": [{"source": "crm", "value": "1"}]}))).await.expect(201);
    server
        .admin(Method::POST, "/admin/v1/users", Some(json!({"email": "carol@example.com", "external_ids": [{"source": "crm", "value": "1"}]})))
        .await
        .expect_problem(409, "duplicate");
    let bob = other.body["id"].as_str().unwrap();
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/users/{bob}"),
            Some(json!({"emails": [{"value": "ALICE@example.com"}]})),
        )
        .await
        .expect_problem(409, "duplicate");
    let unchanged = server
        .admin(Method::GET, &format!("/admin/v1/users/{bob}"), None)
        .await
        .expect(200);
    assert_eq!(
        unchanged.body["email"], "bob@example.com",
        "a refused update changes nothing"
    );
    assert_eq!(user_count(&server).await, 2);
    server.tenant("acme").await;
    server
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(json!({"slug": "acme", "display_name": "Again"})),
        )
        .await
        .expect_problem(409, "duplicate");
}

async fn unknown_objects_and_paths_are_404(server: TestServer) {
    server
        .admin(Method::GET, "/admin/v1/users/not-a-uuid", None)
        .await
        .expect_problem(404, "not_found");
    server
        .admin(
            Method::GET,
            "/admin/v1/users/01a225b0-d23a-7064-b55f-c66c2ef0b513",
            None,
        )
        .await
        .expect_problem(404, "not_found");
    server
        .admin(Method::GET, "/t/no-such-tenant/admin/v1/users", None)
        .await
        .expect_problem(404, "not_found");
    server
        .admin(Method::GET, "/admin/v1/tenants/no-such-tenant", None)
        .await
        .expect_problem(404, "not_found");
    server
        .admin(Method::GET, "/admin/v1/nothing-here", None)
        .await
        .expect_problem(404, "not_found");
    let wrong_method = server
        .admin(Method::PUT, "/admin/v1/users", Some(json!({})))
        .await;
    assert_eq!(wrong_method.status, 405);
    server
        .admin(
            Method::PATCH,
            "/admin/v1/users/01a225b0-d23a-7064-b55f-c66c2ef0b513",
            Some(json!({"status": "active"})),
        )
        .await
        .expect_problem(422, "validation");
    server
        .admin(Method::GET, "/admin/v1/events?since=yesterday", None)
        .await
        .expect_problem(400, "bad_request");
}

async fn a38_values_a_database_cannot_store_are_refused(server: TestServer) {
    server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": [
                {"name": "note", "type": "string"},
                {"name": "extra", "type": "json"}
            ]})),
        )
        .await
        .expect(200);
    let cases = [
        json!({"email": "a@example.com", "attributes": {"note": "nul\0inside"}}),
        json!({"email": "a@example.com", "attributes": {"extra": {"k": ["\0"]}}}),
        json!({"email": "a@example.com", "attributes": {"note": "界".repeat(400)}}),
        json!({"email": "a@example.com", "external_ids": [{"source": "crm", "value": "a\0b"}]}),
    ];
    for body in cases {
        let answer = server
            .admin(Method::POST, "/admin/v1/users", Some(body.clone()))
            .await;
        answer.expect_problem(422, "validation");
    }
    server
        .admin(Method::GET, "/admin/v1/users?name=%00", None)
        .await
        .expect_problem(422, "validation");
    server
        .admin(Method::GET, "/admin/v1/events?subject=user%3A%00", None)
        .await
        .expect_problem(422, "validation");
    server
        .admin(
            Method::POST,
            "/admin/v1/api-tokens",
            Some(json!({"name": "a\0", "scopes": ["admin"]})),
        )
        .await
        .expect_problem(422, "validation");
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {"branding": {"logo_url": "x\0"}}})),
        )
        .await
        .expect_problem(422, "validation");
    assert_eq!(user_count(&server).await, 0);
}

http_suite!(
    a38_values_a_database_cannot_store_are_refused,
    a38_malformed_bodies_get_problem_details,
    a37_bodies_over_the_limit_are_413,
    a40_duplicates_are_409_whatever_the_case,
    unknown_objects_and_paths_are_404,
);
