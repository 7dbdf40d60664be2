//! The profile fields SCIM added, through the admin API: username (A40), names, addresses,
//! the enterprise part and kinds of emails and phone numbers.

use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn usernames_and_scim_profile_fields(server: TestServer) {
    let created = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "Boss@Example.COM"})),
        )
        .await
        .expect(201);
    assert_eq!(
        created.body["username"], "Boss@Example.COM",
        "the primary email by default"
    );
    let boss = created.body["id"].as_str().unwrap().to_owned();
    let body = json!({
        "username": "Ada",
        "emails": [{"value": "ada@example.com", "kind": "work"}],
        "phone_numbers": [{"value": "+44 20 7946 0000", "kind": "mobile"}],
        "middle_name": "Augusta",
        "honorific_prefix": "Lady",
        "nickname": "Ada",
        "profile_url": "https://example.com/ada",
        "title": "Analyst",
        "user_type": "Employee",
        "preferred_language": "en-GB",
        "addresses": [{"kind": "home", "locality": "London", "country": "GB", "primary": true}],
        "enterprise": {"employee_number": "1815", "manager": boss},
        "analytics_id": "GA1.2.3"
    });
    let ada = server
        .admin(Method::POST, "/admin/v1/users", Some(body))
        .await
        .expect(201);
    assert_eq!(ada.body["username"], "Ada");
    assert_eq!(ada.body["emails"][0]["kind"], "work");
    assert_eq!(ada.body["phone_numbers"][0]["kind"], "mobile");
    assert_eq!(
        ada.body["addresses"],
        json!([{"kind": "home", "locality": "London", "country": "GB", "primary": true}])
    );
    assert_eq!(
        ada.body["enterprise"],
        json!({"employee_number": "1815", "manager": boss})
    );
    for field in [
        "middle_name",
        "honorific_prefix",
        "nickname",
        "title",
        "user_type",
    ] {
        assert!(ada.body[field].is_string(), "{field}");
    }
    let path = format!("/admin/v1/users/{}", ada.body["id"].as_str().unwrap());

    // A40: another spelling of a taken username
    server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"username": "ADA", "email": "other@example.com"})),
        )
        .await
        .expect_problem(409, "duplicate");

    let patched = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"username": "ada.l", "nickname": null, "enterprise": {"department": "Engines", "manager": null}})),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["username"], "ada.l");
    assert!(patched.body.get("nickname").is_none());
    assert_eq!(
        patched.body["enterprise"],
        json!({"employee_number": "1815", "department": "Engines"})
    );
    server
        .admin(Method::PATCH, &path, Some(json!({"username": null})))
        .await
        .expect_problem(422, "validation");
    server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"enterprise": {"manager": "not-a-uuid"}, "profile_url": "javascript:x"})),
        )
        .await
        .expect_problem(422, "validation");
    server
        .admin(Method::PATCH, &path, Some(json!({"username": "x\u{7}y"})))
        .await
        .expect_problem(422, "validation");
}

http_suite!(usernames_and_scim_profile_fields);
