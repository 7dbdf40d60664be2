//! Users through the admin API: light accounts, merge patch, lifecycle, search, events.

use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::{Value, json};

const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

async fn light_account_lifecycle(server: TestServer) {
    let created = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "Prospect@Example.COM"})),
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.headers["location"], format!("/admin/v1/users/{id}"));
    assert_eq!(created.body["status"], "light");
    assert_eq!(
        created.body["email"], "Prospect@Example.COM",
        "the typed spelling is kept"
    );
    assert_eq!(created.body["has_password"], false);
    assert_eq!(
        created.body["emails"][0],
        json!({"value": "Prospect@Example.COM", "primary": true, "verified": false, "purposes": []})
    );
    let path = format!("/admin/v1/users/{id}");
    assert_eq!(
        server
            .admin(Method::GET, &path, None)
            .await
            .expect(200)
            .body,
        created.body
    );

    let found = server
        .admin(
            Method::GET,
            "/admin/v1/users?email=prospect%40example.com",
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        found.body["items"].as_array().unwrap().len(),
        1,
        "A40: any spelling finds the user"
    );

    let patched = server
        .admin(Method::PATCH, &path, Some(json!({
            "given_name": "Pat",
            "locale": "de-DE",
            "emails": [{"value": "Prospect@Example.COM", "verified": true, "purposes": ["signin", "marketing"]}],
            "phone_numbers": [{"value": "+49 151 1234 5678"}],
            "external_ids": [{"source": "crm", "value": "0031"}]
        })))
        .await
        .expect(200);
    assert_eq!(patched.body["given_name"], "Pat");
    assert_eq!(patched.body["phone_numbers"][0]["value"], "+4915112345678");
    assert_eq!(
        patched.body["emails"][0]["purposes"],
        json!(["signin", "marketing"])
    );
    let cleared = server
        .admin(Method::PATCH, &path, Some(json!({"locale": null})))
        .await
        .expect(200);
    assert_eq!(cleared.body["locale"], Value::Null);
    assert_eq!(cleared.body["given_name"], "Pat", "fields left out stay");

    let disabled = server
        .admin(Method::POST, &format!("{path}/disable"), None)
        .await
        .expect(200);
    assert_eq!(disabled.body["status"], "disabled");
    let enabled = server
        .admin(Method::POST, &format!("{path}/enable"), None)
        .await
        .expect(200);
    assert_eq!(enabled.body["status"], "light");
    server.admin(Method::DELETE, &path, None).await.expect(204);
    server
        .admin(Method::GET, &path, None)
        .await
        .expect_problem(404, "not_found");
    server
        .admin(Method::DELETE, &path, None)
        .await
        .expect_problem(404, "not_found");

    let events = server
        .admin(
            Method::GET,
            &format!("/admin/v1/events?subject=user:{id}"),
            None,
        )
        .await
        .expect(200);
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "user.created",
            "user.updated",
            "user.updated",
            "user.disabled",
            "user.enabled",
            "user.deleted"
        ]
    );
    let first = &events.body["items"][0];
    assert_eq!(first["actor"], "bootstrap");
    assert!(
        !events.body.to_string().contains("Prospect"),
        "events carry no personal data"
    );
    assert_eq!(
        events.body["items"][1]["payload"]["changed"],
        json!([
            "given_name",
            "locale",
            "emails",
            "phone_numbers",
            "external_ids"
        ])
    );
}

async fn a_password_hash_is_write_only(server: TestServer) {
    let created = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "m@example.com", "password_hash": PHC})),
        )
        .await
        .expect(201);
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["has_password"], true);
    let id = created.body["id"].as_str().unwrap();
    let read = server
        .admin(Method::GET, &format!("/admin/v1/users/{id}"), None)
        .await
        .expect(200);
    assert!(
        !read.body.to_string().contains("argon2"),
        "the hash is never returned"
    );
    let events = server
        .admin(Method::GET, "/admin/v1/events", None)
        .await
        .expect(200);
    assert!(!events.body.to_string().contains("argon2"));
    let plain = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "n@example.com", "password_hash": "hunter2"})),
        )
        .await;
    assert_eq!(
        plain.expect_problem(422, "validation").body["errors"][0]["field"],
        "password_hash"
    );
}

async fn search_and_cursor_pagination(server: TestServer) {
    server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": [
                {"name": "country", "type": "enum", "enum_values": ["DE", "FR"]},
                {"name": "newsletter", "type": "boolean"}
            ]})),
        )
        .await
        .expect(200);
    for i in 0..7 {
        let country = if i % 2 == 0 { "DE" } else { "FR" };
        let body = json!({"email": format!("user{i}@example.com"), "given_name": format!("Name{i}"), "attributes": {"country": country, "newsletter": i < 3}});
        server
            .admin(Method::POST, "/admin/v1/users", Some(body))
            .await
            .expect(201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = server
            .admin(
                Method::GET,
                &format!("/admin/v1/users?attribute.country=DE&limit=2{query}"),
                None,
            )
            .await
            .expect(200);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["given_name"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["Name0", "Name2", "Name4", "Name6"]);
    let both = server
        .admin(
            Method::GET,
            "/admin/v1/users?attribute.country=DE&attribute.newsletter=true",
            None,
        )
        .await
        .expect(200);
    assert_eq!(both.body["items"].as_array().unwrap().len(), 2);
    let by_name = server
        .admin(Method::GET, "/admin/v1/users?name=NAME1", None)
        .await
        .expect(200);
    assert_eq!(by_name.body["items"].as_array().unwrap().len(), 1);
    let light = server
        .admin(Method::GET, "/admin/v1/users?status=light&limit=500", None)
        .await
        .expect(200);
    assert_eq!(
        light.body["items"].as_array().unwrap().len(),
        7,
        "an absurd limit is capped, not refused"
    );
    server
        .admin(Method::GET, "/admin/v1/users?attribute.country=XX", None)
        .await
        .expect_problem(422, "validation");
    server
        .admin(Method::GET, "/admin/v1/users?attribute.unknown=1", None)
        .await
        .expect_problem(422, "validation");
    server
        .admin(Method::GET, "/admin/v1/users?status=zombie", None)
        .await
        .expect_problem(400, "bad_request");
    server
        .admin(Method::GET, "/admin/v1/users?sort=name", None)
        .await
        .expect_problem(400, "bad_request");
    server
        .admin(Method::GET, "/admin/v1/users?cursor=nonsense", None)
        .await
        .expect_problem(400, "bad_request");
}

async fn attribute_schema_governs_values(server: TestServer) {
    let schema = json!({"attributes": [
        {"name": "tier", "type": "enum", "enum_values": ["gold", "silver"], "required": true, "description": "loyalty tier"},
        {"name": "birthday", "type": "date", "personal_data": true, "user_editable": true}
    ]});
    let stored = server
        .admin(Method::PUT, "/admin/v1/schema", Some(schema))
        .await
        .expect(200);
    assert_eq!(stored.body["attributes"][0]["name"], "tier");
    assert_eq!(
        server
            .admin(Method::GET, "/admin/v1/schema", None)
            .await
            .expect(200)
            .body,
        stored.body
    );
    let missing = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "a@example.com"})),
        )
        .await
        .expect_problem(422, "validation");
    assert_eq!(
        missing.body["errors"][0],
        json!({"field": "attributes.tier", "reason": "required"})
    );
    let wrong = server
        .admin(Method::POST, "/admin/v1/users", Some(json!({"email": "a@example.com", "attributes": {"tier": "bronze", "birthday": "1990-13-01", "x": 1}})))
        .await
        .expect_problem(422, "validation");
    assert_eq!(
        wrong.body["errors"].as_array().unwrap().len(),
        3,
        "{}",
        wrong.body
    );
    server.admin(Method::POST, "/admin/v1/users", Some(json!({"email": "a@example.com", "attributes": {"tier": "gold", "birthday": "1990-12-01"}}))).await.expect(201);
    let bad_schema = server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": [{"name": "x", "type": "colour"}]})),
        )
        .await;
    bad_schema.expect_problem(422, "validation");
}

http_suite!(
    light_account_lifecycle,
    a_password_hash_is_write_only,
    search_and_cursor_pagination,
    attribute_schema_governs_values
);
