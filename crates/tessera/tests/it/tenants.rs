//! Tenants: creation by operators, custom domains, path prefixes, settings.

use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn tenants_are_reached_by_prefix_and_custom_domain(server: TestServer) {
    let created = server
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(json!({
                "slug": "acme",
                "display_name": "ACME",
                "domains": ["Login.Acme.Example"],
                "settings": {"branding": {"primary_color": "#0055aa"}, "default_locale": "de"}
            })),
        )
        .await
        .expect(201);
    assert_eq!(created.body["domains"], json!(["login.acme.example"]));
    assert_eq!(created.headers["location"], "/admin/v1/tenants/acme");
    let listed = server
        .admin(Method::GET, "/admin/v1/tenants", None)
        .await
        .expect(200);
    let slugs: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["default", "acme"]);

    // a user created through the custom domain lands in acme
    let response = server
        .client
        .post(format!("{}/admin/v1/users", server.base))
        .header("host", "login.acme.example.:443")
        .bearer_auth(crate::harness::BOOTSTRAP_TOKEN)
        .json(&json!({"email": "via-domain@acme.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let in_acme = server
        .admin(
            Method::GET,
            "/t/acme/admin/v1/users?email=via-domain@acme.example",
            None,
        )
        .await
        .expect(200);
    assert_eq!(in_acme.body["items"].as_array().unwrap().len(), 1);
    let in_default = server
        .admin(
            Method::GET,
            "/admin/v1/users?email=via-domain@acme.example",
            None,
        )
        .await
        .expect(200);
    assert!(in_default.body["items"].as_array().unwrap().is_empty());

    let updated = server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/acme",
            Some(json!({"display_name": "ACME Europe", "domains": []})),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["display_name"], "ACME Europe");
    assert_eq!(
        updated.body["settings"]["default_locale"], "de",
        "settings left out stay"
    );
    let bad = server
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(json!({"slug": "Bad Slug", "display_name": "x", "domains": ["not a domain"]})),
        )
        .await;
    bad.expect_problem(422, "validation");
    let bad_settings = server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/acme",
            Some(json!({"settings": {"colour": "red"}})),
        )
        .await;
    bad_settings.expect_problem(422, "validation");
    let events = server
        .admin(
            Method::GET,
            "/t/acme/admin/v1/events?type=tenant.created&type=tenant.updated",
            None,
        )
        .await
        .expect(200);
    assert_eq!(events.body["items"].as_array().unwrap().len(), 2);
}

/// Tenants are cached for a second per process: a change made here must show at once,
/// including a tenant that was unknown (and remembered as unknown) a moment before.
async fn tenant_changes_show_at_once_despite_the_routing_cache(server: TestServer) {
    let discovery = |path: &'static str| {
        let server = &server;
        async move {
            let response = server
                .client
                .get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, _) = discovery("/t/fresh/.well-known/openid-configuration").await;
    assert_eq!(status, 404);
    server
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(json!({"slug": "fresh", "display_name": "Fresh", "domains": []})),
        )
        .await
        .expect(201);
    let (status, body) = discovery("/t/fresh/.well-known/openid-configuration").await;
    assert_eq!(status, 200, "{body}");

    let (status, _) = discovery_through_host(&server, "id.fresh.example").await;
    assert_eq!(
        status, 200,
        "an unknown host is served by the default tenant"
    );
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/fresh",
            Some(json!({"domains": ["id.fresh.example"]})),
        )
        .await
        .expect(200);
    let (_, issuer) = discovery_through_host(&server, "id.fresh.example").await;
    assert_eq!(
        issuer, "http://id.fresh.example",
        "the new domain routes to its tenant at once"
    );
}

/// The issuer a discovery request through `host` answers with.
async fn discovery_through_host(server: &TestServer, host: &str) -> (u16, String) {
    let response = server
        .client
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .header("host", host)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["issuer"].as_str().unwrap_or_default().to_owned(),
    )
}

http_suite!(
    tenants_are_reached_by_prefix_and_custom_domain,
    tenant_changes_show_at_once_despite_the_routing_cache,
);
