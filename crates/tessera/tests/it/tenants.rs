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

http_suite!(tenants_are_reached_by_prefix_and_custom_domain);
