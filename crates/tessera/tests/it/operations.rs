//! Health, readiness, metrics, security headers and the OpenAPI document.

use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;

async fn health_readiness_and_metrics(server: TestServer) {
    let healthz = server
        .call(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    assert_eq!(healthz.body, "ok\n");
    server
        .call(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    server
        .admin(Method::GET, "/admin/v1/users", None)
        .await
        .expect(200);
    let metrics = server
        .call(Method::GET, "/metrics", None, None)
        .await
        .expect(200);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="GET",route="/admin/v1/users",status="200"}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"tessera_http_request_duration_seconds_bucket{method="GET",route="/admin/v1/users",le="0.005"}"#));
    assert!(
        text.contains("tessera_db_pool_connections{backend="),
        "{text}"
    );
    assert!(text.contains("tessera_db_pool_max_connections{backend="));
}

async fn a20_every_response_carries_the_security_headers(server: TestServer) {
    for (path, token, status) in [
        ("/healthz", None, 200),
        ("/admin/v1/users", None, 401),
        ("/nowhere", None, 404),
        (
            "/admin/v1/users",
            Some(crate::harness::BOOTSTRAP_TOKEN),
            200,
        ),
    ] {
        let answer = server
            .call(Method::GET, path, token, None)
            .await
            .expect(status);
        let headers = &answer.headers;
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over plain http"
        );
    }
    let not_found = server.call(Method::GET, "/nowhere", None, None).await;
    assert_eq!(not_found.body["code"], "not_found");
}

async fn openapi_document_describes_every_admin_route(server: TestServer) {
    let document = server
        .call(Method::GET, "/admin/v1/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().unwrap();
    let expected = [
        ("/admin/v1/tenants", &["get", "post"][..]),
        ("/admin/v1/tenants/{slug}", &["get", "patch"]),
        ("/admin/v1/schema", &["get", "put"]),
        ("/admin/v1/users", &["get", "post"]),
        ("/admin/v1/users/{id}", &["get", "patch", "delete"]),
        ("/admin/v1/users/{id}/disable", &["post"]),
        ("/admin/v1/users/{id}/enable", &["post"]),
        ("/admin/v1/users/{id}/password", &["post"]),
        ("/admin/v1/users/{id}/collected-attributes", &["get"]),
        ("/admin/v1/users/{id}/verifications", &["get"]),
        ("/admin/v1/users/{id}/security", &["get"]),
        ("/admin/v1/users/{id}/unlock", &["post"]),
        ("/admin/v1/users/{id}/mfa", &["delete"]),
        ("/admin/v1/users/{id}/trusted-devices/{device}", &["delete"]),
        ("/admin/v1/identity-verification", &["get", "put", "delete"]),
        ("/admin/v1/captcha-secret", &["get", "put", "delete"]),
        ("/admin/v1/api-tokens", &["get", "post"]),
        ("/admin/v1/api-tokens/{id}", &["get", "delete"]),
        ("/admin/v1/clients", &["get", "post"]),
        ("/admin/v1/clients/{id}", &["get", "put", "delete"]),
        ("/admin/v1/clients/{id}/secret", &["post"]),
        ("/admin/v1/events", &["get"]),
        ("/admin/v1/invitations", &["get", "post"]),
        ("/admin/v1/invitations/{id}", &["get", "delete"]),
    ];
    assert_eq!(
        paths.len(),
        expected.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods) in expected {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path} missing");
        }
    }
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for name in [
        "Problem",
        "UserResponse",
        "UserCreate",
        "UserPatchInput",
        "TenantResponse",
        "TokenCreated",
        "InvitationResponse",
        "EventResponse",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

async fn a37_slow_headers_are_cut_off(server: TestServer) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: tessera\r\nX-Slow: ")
        .await
        .unwrap();
    // The headers never finish: the server must close the connection by itself. The limit
    // here is many times the configured timeout; it only keeps a broken server from hanging CI.
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        slow.read_to_end(&mut answer),
    )
    .await;
    assert!(
        closed.is_ok(),
        "the connection was still open after 30 s (timeout is {} s)",
        crate::harness::HEADER_READ_TIMEOUT_SECONDS
    );
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "a request whose headers never ended was served"
    );
    server
        .call(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
}

http_suite!(
    a37_slow_headers_are_cut_off,
    health_readiness_and_metrics,
    a20_every_response_carries_the_security_headers,
    openapi_document_describes_every_admin_route
);
