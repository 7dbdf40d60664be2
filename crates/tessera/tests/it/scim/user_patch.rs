//! `PATCH /Users/{id}` (RFC 7644 §3.5.2): add, replace and remove with paths, value filters
//! and extension URNs, the password (changePassword), and read-only attributes refused as
//! `mutability` without writing anything (A36).

use super::support::{
    ENTERPRISE, PASSWORD, Scim, TESSERA, admin_user, etag, expect_error, id_of,
    put_attribute_schema, user,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};

fn emails_of(resource: &Value) -> Vec<(String, String)> {
    let mut emails: Vec<(String, String)> = resource["emails"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|email| {
            (
                email["type"].as_str().unwrap_or_default().to_owned(),
                email["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    emails.sort();
    emails
}

async fn patch_with_paths_and_value_filters(server: TestServer) {
    let scim = Scim::new(&server).await;
    put_attribute_schema(
        &server,
        json!([{"name": "loyaltyTier", "type": "enum", "enum_values": ["gold", "silver"]}]),
    )
    .await;
    let created = scim
        .create_user(&user(
            "patchy",
            json!({
                "name": {"givenName": "Pat", "familyName": "Chy"},
                "title": "Developer",
                "emails": [
                    {"value": "pat@work.example", "type": "work", "primary": true},
                    {"value": "pat@home.example", "type": "home"}
                ],
                "phoneNumbers": [{"value": "+441234567890", "type": "mobile"}]
            }),
        ))
        .await;
    let id = id_of(&created);
    let path = format!("/Users/{id}");

    let patched = scim
        .patch(
            &path,
            json!([
                {"op": "add", "path": "nickName", "value": "Patty"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "pat@new-work.example"},
                {"op": "add", "path": "emails", "value": [{"value": "pat@other.example", "type": "other"}]},
                {"op": "remove", "path": "phoneNumbers[type eq \"mobile\"]"},
                {"op": "Replace", "path": "name.givenName", "value": "Patricia"},
                {"op": "remove", "path": "title"}
            ]),
        )
        .await
        .expect(200);
    assert_eq!(etag(&patched), "W/\"2\"", "all operations are one version");
    let body = &patched.body;
    assert_eq!(body["meta"]["version"], "W/\"2\"");
    assert_eq!(body["nickName"], "Patty");
    assert_eq!(body["name"]["givenName"], "Patricia");
    assert_eq!(body["name"]["familyName"], "Chy");
    assert!(body.get("title").is_none());
    assert!(body.get("phoneNumbers").is_none());
    assert_eq!(
        emails_of(body),
        [
            ("home".to_owned(), "pat@home.example".to_owned()),
            ("other".to_owned(), "pat@other.example".to_owned()),
            ("work".to_owned(), "pat@new-work.example".to_owned()),
        ]
    );
    let work = body["emails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|email| email["type"] == "work")
        .unwrap();
    assert_eq!(work["primary"], true, "replacing the value keeps primary");
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["nickname"], "Patty");
    assert_eq!(shown["email"], "pat@new-work.example");
    assert_eq!(shown["phone_numbers"], json!([]));
    assert_eq!(scim.get(&path).await.expect(200).body, patched.body);

    // remove by value filter; extension attributes by full URN path
    let patched = scim
        .patch(
            &path,
            json!([
                {"op": "remove", "path": "emails[type eq \"home\" or value ew \"other.example\"]"},
                {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Ops"},
                {"op": "add", "path": format!("{TESSERA}:loyaltyTier"), "value": "gold"}
            ]),
        )
        .await
        .expect(200);
    assert_eq!(
        emails_of(&patched.body),
        [("work".to_owned(), "pat@new-work.example".to_owned())]
    );
    assert_eq!(patched.body[ENTERPRISE]["department"], "Ops");
    assert!(
        patched.body["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE))
    );
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["enterprise"]["department"], "Ops");
    assert_eq!(shown["attributes"], json!({"loyaltyTier": "gold"}));

    // a path-less replace, then active back on
    scim.patch(
        &path,
        json!([{"op": "replace", "value": {"displayName": "Pat C", "active": false}}]),
    )
    .await
    .expect(200);
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["status"], "disabled");
    assert_eq!(shown["name"], "Pat C");
    let enabled = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await
        .expect(200);
    assert_eq!(enabled.body["active"], true);
    assert_eq!(admin_user(&server, &id).await["status"], "light");

    // changePassword: the password is set, never shown, and the light account becomes active
    let changed = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "password", "value": PASSWORD}]),
        )
        .await
        .expect(200);
    assert!(changed.body.get("password").is_none());
    assert!(!changed.body.to_string().contains(PASSWORD));
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["has_password"], true);
    assert_eq!(shown["status"], "active");

    // a value filter that matches nothing is noTarget, and nothing is written
    let version = etag(&scim.get(&path).await.expect(200));
    let missing = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x@example.com"}]),
        )
        .await;
    expect_error(missing, 400, Some("noTarget"));
    // invalid values and malformed paths
    let bad_email = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "not an address"}]),
        )
        .await;
    expect_error(bad_email, 400, Some("invalidValue"));
    let bad_path = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
        )
        .await;
    expect_error(bad_path, 400, Some("invalidPath"));
    let bad_op = scim
        .patch(
            &path,
            json!([{"op": "frobnicate", "path": "nickName", "value": "x"}]),
        )
        .await;
    expect_error(bad_op, 400, Some("invalidSyntax"));
    assert_eq!(etag(&scim.get(&path).await.expect(200)), version);
}

/// A36: read-only attributes (`id`, `meta`, `groups`, Tessera's `status` and
/// `emailPurposes`) cannot be patched; the answer is `mutability` and nothing is written.
async fn read_only_attributes_are_refused(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("steady").await;
    let path = format!("/Users/{id}");
    let group = scim
        .post(
            "/Groups",
            &super::support::group("Crew", &super::support::NO_MEMBERS),
        )
        .await
        .expect(201)
        .body;
    let group_id = id_of(&group);
    for operation in [
        json!({"op": "replace", "path": "id", "value": "0190a0b0-0000-7000-8000-000000000000"}),
        json!({"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}),
        json!({"op": "replace", "path": "meta", "value": {"version": "W/\"9\""}}),
        json!({"op": "remove", "path": "meta.lastModified"}),
        json!({"op": "add", "path": "groups", "value": [{"value": group_id}]}),
        json!({"op": "add", "path": "groups[value eq \"x\"].display", "value": "x"}),
        json!({"op": "replace", "path": format!("{TESSERA}:status"), "value": "active"}),
        json!({"op": "add", "path": format!("{TESSERA}:emailPurposes"), "value": [{"value": "a@example.com", "purposes": ["marketing"]}]}),
        json!({"op": "replace", "value": {"id": "0190a0b0-0000-7000-8000-000000000000"}}),
        json!({"op": "replace", "value": {"displayName": "ok", "groups": [{"value": group_id}]}}),
    ] {
        let answer = scim.patch(&path, json!([operation.clone()])).await;
        assert_eq!(answer.status, 400, "{operation}: {}", answer.body);
        expect_error(answer, 400, Some("mutability"));
    }
    let read = scim.get(&path).await.expect(200);
    assert_eq!(etag(&read), "W/\"1\"", "nothing was written");
    assert_eq!(read.body["id"], id.as_str());
    assert!(read.body.get("groups").is_none());
    assert!(read.body.get("displayName").is_none());
}

/// Setting a password never lifts a block; lifting it afterwards makes the user active.
async fn a_password_does_not_enable_a_disabled_user(server: TestServer) {
    let scim = Scim::new(&server).await;
    let created = scim
        .create_user(&user("blocked", json!({"active": false})))
        .await;
    let id = id_of(&created);
    let path = format!("/Users/{id}");
    let changed = scim
        .patch(
            &path,
            json!([{"op": "add", "path": "password", "value": PASSWORD}]),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["active"], false);
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["status"], "disabled");
    assert_eq!(shown["has_password"], true);
    let enabled = scim
        .patch(&path, json!([{"op": "replace", "value": {"active": true}}]))
        .await
        .expect(200);
    assert_eq!(enabled.body["active"], true);
    assert_eq!(admin_user(&server, &id).await["status"], "active");
    // a weak password is refused and changes nothing
    let weak = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "password", "value": "blocked1"}]),
        )
        .await;
    expect_error(weak, 400, Some("invalidValue"));
    assert_eq!(etag(&scim.get(&path).await.expect(200)), "W/\"3\"");
}

/// The primary values of a multi-valued attribute (RFC 7643 §2.4: `primary: true` at most
/// once). RFC 7644 §3.5.2: a PATCH that makes one value primary demotes the others.
async fn one_primary_value_at_most(server: TestServer) {
    let scim = Scim::new(&server).await;
    let created = scim
        .create_user(&user(
            "primary",
            json!({
                "emails": [
                    {"value": "work@example.com", "type": "work", "primary": true},
                    {"value": "home@example.com", "type": "home"}
                ],
                "phoneNumbers": [
                    {"value": "+441234567890", "type": "work", "primary": true},
                    {"value": "+441234567891", "type": "mobile"}
                ]
            }),
        ))
        .await;
    let id = id_of(&created);
    let path = format!("/Users/{id}");
    let primaries = |resource: &Value, attribute: &str| -> Vec<String> {
        resource[attribute]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["primary"] == true)
            .map(|item| item["value"].as_str().unwrap().to_owned())
            .collect()
    };
    let patched = scim
        .patch(
            &path,
            json!([
                {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true},
                {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].primary", "value": true}
            ]),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(primaries(&patched.body, "emails"), ["home@example.com"]);
    assert_eq!(primaries(&patched.body, "phoneNumbers"), ["+441234567891"]);
    assert_eq!(admin_user(&server, &id).await["email"], "home@example.com");
    // an added value that is primary demotes the others as well
    let added = scim
        .patch(
            &path,
            json!([{"op": "add", "path": "emails",
                    "value": [{"value": "new@example.com", "type": "other", "primary": true}]}]),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(primaries(&added.body, "emails"), ["new@example.com"]);

    // a resource with two primary values breaks a MUST: refused, or kept to one
    let twice = scim
        .post(
            "/Users",
            &user(
                "twice",
                json!({"emails": [
                    {"value": "one@example.com", "primary": true},
                    {"value": "two@example.com", "primary": true}
                ]}),
            ),
        )
        .await;
    if twice.status == 201 {
        assert!(
            primaries(&twice.body, "emails").len() <= 1,
            "{}",
            twice.body
        );
    } else {
        expect_error(twice, 400, Some("invalidValue"));
    }
}

http_suite!(
    one_primary_value_at_most,
    a_password_does_not_enable_a_disabled_user,
    patch_with_paths_and_value_filters,
    read_only_attributes_are_refused,
);
