//! `/Users`: creation (light, with a password, disabled), reading, replacing without losing
//! what SCIM cannot express, deleting, and uniqueness (A36, A40).

use super::support::{
    CORE_USER, ENTERPRISE, PASSWORD, Scim, TESSERA, admin_user, etag, expect_error, id_of,
    put_attribute_schema, user,
};
use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn created_users_are_light_active_or_disabled(server: TestServer) {
    let scim = Scim::new(&server).await;
    put_attribute_schema(
        &server,
        json!([{"name": "loyaltyTier", "type": "enum", "enum_values": ["gold", "silver"]}]),
    )
    .await;

    let answer = scim
        .post(
            "/Users",
            &user(
                "light.one",
                json!({"emails": [{"value": "Light@Example.com", "type": "work", "primary": true}]}),
            ),
        )
        .await
        .expect(201);
    assert_eq!(answer.headers["content-type"], "application/scim+json");
    let light = answer.body.clone();
    let id = id_of(&light);
    let location = format!("{}/scim/v2/Users/{id}", server.base);
    assert_eq!(answer.headers["location"], location.as_str());
    assert_eq!(light["meta"]["location"], location);
    assert_eq!(etag(&answer), "W/\"1\"");
    assert_eq!(light["meta"]["version"], "W/\"1\"");
    assert_eq!(light["meta"]["resourceType"], "User");
    assert_eq!(light["meta"]["created"], light["meta"]["lastModified"]);
    assert_eq!(light["userName"], "light.one");
    assert!(
        light.get("active").is_none(),
        "active was not sent, so it is not shown (enabled all the same)"
    );
    assert_eq!(
        light["emails"],
        json!([{"value": "Light@Example.com", "type": "work", "primary": true}])
    );
    assert!(
        light["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(CORE_USER))
    );
    assert!(light.get("password").is_none());
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["status"], "light");
    assert_eq!(shown["has_password"], false);
    assert_eq!(shown["username"], "light.one");
    assert_eq!(shown["email"], "Light@Example.com");
    assert_eq!(shown["emails"][0]["kind"], "work");
    // status is returned when asked for
    let status = scim
        .query(
            &format!("/Users/{id}"),
            &[("attributes", &format!("{TESSERA}:status"))],
        )
        .await
        .expect(200);
    assert_eq!(status.body[TESSERA]["status"], "light");
    assert_eq!(status.body["id"], id.as_str());

    // with a password: active, and the password is never shown
    let answer = scim
        .post(
            "/Users",
            &user(
                "with.password",
                json!({
                    "password": PASSWORD,
                    "active": true,
                    "name": {"givenName": "Wendy", "familyName": "Parker", "formatted": "Ms Wendy Parker"},
                    "emails": [{"value": "wendy@example.com", "primary": true}],
                    ENTERPRISE: {"employeeNumber": "42", "manager": {"value": id}},
                    TESSERA: {"loyaltyTier": "gold"}
                }),
            ),
        )
        .await
        .expect(201);
    let active = answer.body;
    assert!(active.get("password").is_none());
    assert!(!active.to_string().contains(PASSWORD));
    assert_eq!(active["name"]["formatted"], "Ms Wendy Parker");
    assert_eq!(active["active"], true);
    assert_eq!(active[ENTERPRISE]["employeeNumber"], "42");
    assert_eq!(active[ENTERPRISE]["manager"]["value"], id.as_str());
    assert_eq!(active[TESSERA]["loyaltyTier"], "gold");
    let active_id = id_of(&active);
    let shown = admin_user(&server, &active_id).await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["has_password"], true);
    assert_eq!(shown["given_name"], "Wendy");
    assert_eq!(shown["enterprise"]["manager"], id.as_str());
    assert_eq!(shown["attributes"], json!({"loyaltyTier": "gold"}));
    for query in [
        &[][..],
        &[("attributes", "password")],
        &[("attributes", "password,userName")],
    ] {
        let read = scim
            .query(&format!("/Users/{active_id}"), query)
            .await
            .expect(200);
        assert!(read.body.get("password").is_none(), "{query:?}");
        assert!(!read.body.to_string().contains(PASSWORD));
    }

    // active: false creates a disabled user
    let disabled = scim
        .create_user(&user(
            "disabled.one",
            json!({"active": false, "emails": [{"value": "off@example.com"}]}),
        ))
        .await;
    assert_eq!(disabled["active"], false);
    let shown = admin_user(&server, &id_of(&disabled)).await;
    assert_eq!(shown["status"], "disabled");

    // refused: a weak password, an unknown enum value, no userName; nothing is written
    let weak = scim
        .post("/Users", &user("weak.one", json!({"password": "short"})))
        .await;
    expect_error(weak, 400, Some("invalidValue"));
    let tier = scim
        .post(
            "/Users",
            &user("tier.one", json!({TESSERA: {"loyaltyTier": "platinum"}})),
        )
        .await;
    expect_error(tier, 400, Some("invalidValue"));
    let nameless = scim
        .post(
            "/Users",
            &json!({"schemas": [CORE_USER], "displayName": "x"}),
        )
        .await;
    expect_error(nameless, 400, Some("invalidValue"));
    assert!(
        scim.user_names("userName eq \"weak.one\" or userName eq \"tier.one\"")
            .await
            .is_empty()
    );

    // read-only attributes in a request are ignored (RFC 7643 §7)
    let chosen = scim
        .create_user(&user(
            "picky",
            json!({"id": "my-own-id", "meta": {"version": "W/\"99\""}}),
        ))
        .await;
    assert_ne!(chosen["id"], "my-own-id");
    assert_eq!(chosen["meta"]["version"], "W/\"1\"");

    let read = scim.get(&format!("/Users/{id}")).await.expect(200);
    assert_eq!(etag(&read), "W/\"1\"");
    assert_eq!(read.body, light, "GET shows what POST answered");
}

/// A PUT replaces what SCIM expresses and keeps the rest: verified flags and purposes of
/// addresses that stay, external ids of other sources, and the Tessera extension when the
/// client leaves it out.
async fn replace_keeps_what_scim_cannot_express(server: TestServer) {
    let scim = Scim::new(&server).await;
    put_attribute_schema(
        &server,
        json!([{"name": "loyaltyTier", "type": "enum", "enum_values": ["gold", "silver"]}]),
    )
    .await;
    let created = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({
                "username": "put.user",
                "nickname": "Putty",
                "emails": [{"value": "put@example.com", "verified": true, "primary": true,
                            "kind": "work", "purposes": ["marketing"]}],
                "phone_numbers": [{"value": "+441234567890", "verified": true}],
                "external_ids": [{"source": "crm", "value": "c-1"}],
                "attributes": {"loyaltyTier": "gold"}
            })),
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");

    let replaced = scim
        .put(
            &path,
            &user(
                "put.user",
                json!({
                    "displayName": "Put User",
                    "externalId": "scim-9",
                    "emails": [{"value": "PUT@example.com", "type": "work", "primary": true}],
                    "phoneNumbers": [{"value": "tel:+441234567890", "type": "mobile"}]
                }),
            ),
        )
        .await
        .expect(200);
    assert_eq!(etag(&replaced), "W/\"2\"");
    assert_eq!(replaced.body["meta"]["version"], "W/\"2\"");
    assert_eq!(replaced.body["externalId"], "scim-9");
    assert_eq!(replaced.body["displayName"], "Put User");
    assert!(
        replaced.body.get("nickName").is_none(),
        "a PUT replaces: what it leaves out is gone"
    );
    assert!(replaced.headers.get("location").is_none());
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["emails"][0]["value"], "PUT@example.com");
    assert_eq!(shown["emails"][0]["verified"], true, "{shown}");
    assert_eq!(shown["emails"][0]["purposes"], json!(["marketing"]));
    assert_eq!(shown["phone_numbers"][0]["verified"], true);
    assert_eq!(shown["phone_numbers"][0]["kind"], "mobile");
    assert_eq!(shown["attributes"], json!({"loyaltyTier": "gold"}));
    assert!(shown.get("nickname").is_none());
    let mut external: Vec<(String, String)> = shown["external_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["source"].as_str().unwrap().to_owned(),
                x["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    external.sort();
    assert_eq!(
        external,
        [
            ("crm".to_owned(), "c-1".to_owned()),
            ("scim".to_owned(), "scim-9".to_owned())
        ]
    );

    // a new address is not verified; the extension, when given, replaces
    scim.put(
        &path,
        &user(
            "put.user",
            json!({
                "emails": [{"value": "fresh@example.com", "primary": true}],
                TESSERA: {"loyaltyTier": "silver"}
            }),
        ),
    )
    .await
    .expect(200);
    let shown = admin_user(&server, &id).await;
    assert_eq!(shown["emails"][0]["value"], "fresh@example.com");
    assert_eq!(shown["emails"][0]["verified"], false);
    assert_eq!(shown["attributes"], json!({"loyaltyTier": "silver"}));
    assert!(
        shown["external_ids"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["source"] != "scim"),
        "externalId left out is removed: {shown}"
    );

    // a PUT without userName is refused and writes nothing
    let before = scim.get(&path).await.expect(200);
    let refused = scim
        .put(
            &path,
            &json!({"schemas": [CORE_USER], "displayName": "No Name"}),
        )
        .await;
    expect_error(refused, 400, Some("invalidValue"));
    let after = scim.get(&path).await.expect(200);
    assert_eq!(after.body, before.body);
    expect_error(
        scim.put(
            "/Users/0190a0b0-0000-7000-8000-000000000000",
            &user("ghost", json!({})),
        )
        .await,
        404,
        None,
    );
}

async fn deleted_users_are_gone(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("short.lived").await;
    let path = format!("/Users/{id}");
    let deleted = scim.delete(&path).await.expect(204);
    assert_eq!(deleted.body, serde_json::Value::Null, "204 has no body");
    expect_error(scim.get(&path).await, 404, None);
    expect_error(scim.delete(&path).await, 404, None);
    expect_error(
        scim.put(&path, &user("short.lived", json!({}))).await,
        404,
        None,
    );
    expect_error(
        scim.patch(
            &path,
            json!([{"op": "replace", "path": "displayName", "value": "x"}]),
        )
        .await,
        404,
        None,
    );
    assert!(scim.user_names("userName pr").await.is_empty());
    let listed = scim.get("/Users").await.expect(200);
    assert_eq!(listed.body["totalResults"], 0);
    // the userName is free again
    let again = scim.user_id("SHORT.LIVED").await;
    assert_ne!(again, id);
}

/// A36 and A40: userName and primary email are unique ignoring case, externalId exactly.
async fn duplicates_are_conflicts(server: TestServer) {
    let scim = Scim::new(&server).await;
    let first = scim
        .create_user(&user(
            "Unique.Name",
            json!({"externalId": "EXT-1", "emails": [{"value": "taken@example.com", "primary": true}]}),
        ))
        .await;
    let first_id = id_of(&first);
    let same_name = scim.post("/Users", &user("unique.NAME", json!({}))).await;
    let same_name = expect_error(same_name, 409, Some("uniqueness"));
    assert!(
        same_name.body["detail"]
            .as_str()
            .unwrap()
            .contains("userName"),
        "{}",
        same_name.body
    );
    let same_external = scim
        .post("/Users", &user("other", json!({"externalId": "EXT-1"})))
        .await;
    let same_external = expect_error(same_external, 409, Some("uniqueness"));
    assert!(
        same_external.body["detail"]
            .as_str()
            .unwrap()
            .contains("externalId"),
        "{}",
        same_external.body
    );
    let same_email = scim
        .post(
            "/Users",
            &user(
                "third",
                json!({"emails": [{"value": "TAKEN@example.com", "primary": true}]}),
            ),
        )
        .await;
    expect_error(same_email, 409, Some("uniqueness"));
    assert_eq!(scim.user_names("userName pr").await, ["Unique.Name"]);

    // changes into a taken name conflict as well, and leave the user as it was
    let second = scim.user_id("second").await;
    let path = format!("/Users/{second}");
    expect_error(
        scim.put(&path, &user("UNIQUE.name", json!({}))).await,
        409,
        Some("uniqueness"),
    );
    expect_error(
        scim.patch(
            &path,
            json!([{"op": "replace", "path": "userName", "value": "unique.name"}]),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    expect_error(
        scim.patch(
            &path,
            json!([{"op": "add", "path": "externalId", "value": "EXT-1"}]),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    let unchanged = scim.get(&path).await.expect(200);
    assert_eq!(unchanged.body["userName"], "second");
    assert_eq!(etag(&unchanged), "W/\"1\"");
    // surrounding spaces are not part of a userName
    expect_error(
        scim.post("/Users", &user("  Unique.Name\t", json!({})))
            .await,
        409,
        Some("uniqueness"),
    );
    // renaming the holder itself, in another case, is no conflict
    let renamed = scim
        .patch(
            &format!("/Users/{first_id}"),
            json!([{"op": "replace", "path": "userName", "value": "UNIQUE.NAME"}]),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["userName"], "UNIQUE.NAME");
}

/// A required custom attribute is required through SCIM too, and described so.
async fn required_custom_attributes_are_enforced(server: TestServer) {
    let scim = Scim::new(&server).await;
    put_attribute_schema(
        &server,
        json!([{"name": "contractId", "type": "string", "required": true}]),
    )
    .await;
    let schema = scim
        .get(&format!("/Schemas/{TESSERA}"))
        .await
        .expect(200)
        .body;
    let contract = schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["name"] == "contractId")
        .unwrap()
        .clone();
    assert_eq!(contract["required"], true);
    let missing = scim.post("/Users", &user("no.contract", json!({}))).await;
    expect_error(missing, 400, Some("invalidValue"));
    let wrong_type = scim
        .post(
            "/Users",
            &user("bad.contract", json!({TESSERA: {"contractId": 7}})),
        )
        .await;
    expect_error(wrong_type, 400, Some("invalidValue"));
    let created = scim
        .create_user(&user(
            "with.contract",
            json!({TESSERA: {"contractId": "C-1"}}),
        ))
        .await;
    assert_eq!(created[TESSERA]["contractId"], "C-1");
    // a PUT that leaves the extension out keeps the value; one that empties it is refused
    let path = format!("/Users/{}", id_of(&created));
    scim.put(&path, &user("with.contract", json!({"nickName": "C"})))
        .await
        .expect(200);
    assert_eq!(
        admin_user(&server, &id_of(&created)).await["attributes"],
        json!({"contractId": "C-1"})
    );
    let emptied = scim
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("{TESSERA}:contractId")}]),
        )
        .await;
    expect_error(emptied, 400, Some("invalidValue"));
    assert_eq!(scim.user_names("userName pr").await, ["with.contract"]);
}

http_suite!(
    required_custom_attributes_are_enforced,
    created_users_are_light_active_or_disabled,
    replace_keeps_what_scim_cannot_express,
    deleted_users_are_gone,
    duplicates_are_conflicts,
);
