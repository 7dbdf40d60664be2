//! Discovery (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and `Schemas` say
//! what the server really does, and the Tessera extension follows the tenant's custom
//! attributes as they change.

use super::support::{
    CORE_GROUP, CORE_USER, ENTERPRISE, LIST_RESPONSE, Scim, TESSERA, expect_error,
    put_attribute_schema,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};

async fn service_provider_config_advertises_what_is_supported(server: TestServer) {
    let scim = Scim::new(&server).await;
    let answer = scim.get("/ServiceProviderConfig").await.expect(200);
    assert_eq!(answer.headers["content-type"], "application/scim+json");
    let config = answer.body;
    assert_eq!(
        config["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(config["patch"], json!({"supported": true}));
    assert_eq!(config["bulk"]["supported"], true);
    assert_eq!(config["bulk"]["maxOperations"], 1000);
    assert_eq!(
        config["bulk"]["maxPayloadSize"],
        1024 * 1024,
        "the server's body limit"
    );
    assert_eq!(
        config["filter"],
        json!({"supported": true, "maxResults": 200})
    );
    assert_eq!(config["changePassword"], json!({"supported": true}));
    assert_eq!(config["sort"], json!({"supported": true}));
    assert_eq!(config["etag"], json!({"supported": true}));
    let schemes = config["authenticationSchemes"].as_array().unwrap();
    assert_eq!(schemes.len(), 1);
    assert_eq!(schemes[0]["type"], "oauthbearertoken");
    assert_eq!(schemes[0]["primary"], true);
    assert!(schemes[0]["name"].as_str().unwrap().contains("Bearer"));
    assert_eq!(config["meta"]["resourceType"], "ServiceProviderConfig");
    assert_eq!(
        config["meta"]["location"],
        format!("{}/scim/v2/ServiceProviderConfig", server.base)
    );

    // the same through a tenant prefix, located there
    server.tenant("acme").await;
    let acme = Scim::of_tenant(&server, "acme").await;
    let config = acme.get("/ServiceProviderConfig").await.expect(200).body;
    assert_eq!(
        config["meta"]["location"],
        format!("{}/t/acme/scim/v2/ServiceProviderConfig", server.base)
    );
    assert_eq!(config["bulk"]["maxOperations"], 1000);
}

async fn resource_types_list_users_with_both_extensions_and_groups(server: TestServer) {
    let scim = Scim::new(&server).await;
    let list = scim.get("/ResourceTypes").await.expect(200).body;
    assert_eq!(list["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(list["totalResults"], 2);
    let kinds = list["Resources"].as_array().unwrap();
    let user = kinds.iter().find(|kind| kind["id"] == "User").unwrap();
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], CORE_USER);
    assert_eq!(
        user["schemaExtensions"],
        json!([
            {"schema": ENTERPRISE, "required": false},
            {"schema": TESSERA, "required": false}
        ])
    );
    assert_eq!(
        user["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ResourceType"])
    );
    assert_eq!(
        user["meta"]["location"],
        format!("{}/scim/v2/ResourceTypes/User", server.base)
    );
    let group = kinds.iter().find(|kind| kind["id"] == "Group").unwrap();
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schema"], CORE_GROUP);
    assert!(
        group
            .get("schemaExtensions")
            .is_none_or(|extensions| extensions == &json!([]))
    );

    let one = scim.get("/ResourceTypes/Group").await.expect(200).body;
    assert_eq!(one["id"], "Group");
    assert_eq!(one["endpoint"], "/Groups");
    expect_error(scim.get("/ResourceTypes/Printer").await, 404, None);
}

/// The attribute named `name` of a schema resource.
fn attribute<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["name"] == name)
}

async fn schemas_follow_the_tenants_custom_attributes(server: TestServer) {
    let scim = Scim::new(&server).await;
    let list = scim.get("/Schemas").await.expect(200).body;
    assert_eq!(list["schemas"], json!([LIST_RESPONSE]));
    let ids: Vec<&str> = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|schema| schema["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[..4], [CORE_USER, ENTERPRISE, TESSERA, CORE_GROUP]);
    assert_eq!(list["totalResults"], ids.len());

    let core = scim
        .get(&format!("/Schemas/{CORE_USER}"))
        .await
        .expect(200)
        .body;
    let user_name = attribute(&core, "userName").unwrap();
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(attribute(&core, "password").unwrap()["returned"], "never");
    assert_eq!(
        attribute(&core, "groups").unwrap()["mutability"],
        "readOnly"
    );
    assert_eq!(
        core["meta"]["location"],
        format!("{}/scim/v2/Schemas/{CORE_USER}", server.base)
    );

    let before = scim
        .get(&format!("/Schemas/{TESSERA}"))
        .await
        .expect(200)
        .body;
    for fixed in ["status", "emailPurposes", "analyticsId"] {
        assert!(attribute(&before, fixed).is_some(), "{fixed}");
    }
    assert!(attribute(&before, "loyaltyTier").is_none());

    put_attribute_schema(
        &server,
        json!([
            {"name": "loyaltyTier", "type": "enum", "enum_values": ["gold", "silver"], "description": "Tier"},
            {"name": "points", "type": "number", "required": false},
            {"name": "newsletter", "type": "boolean"},
            {"name": "birthday", "type": "date"},
            {"name": "preferences", "type": "json"}
        ]),
    )
    .await;
    let with = scim
        .get(&format!("/Schemas/{TESSERA}"))
        .await
        .expect(200)
        .body;
    let tier = attribute(&with, "loyaltyTier").expect("loyaltyTier appears");
    assert_eq!(tier["type"], "string");
    assert_eq!(tier["canonicalValues"], json!(["gold", "silver"]));
    assert_eq!(tier["description"], "Tier");
    assert_eq!(tier["multiValued"], false);
    assert_eq!(attribute(&with, "points").unwrap()["type"], "decimal");
    assert_eq!(attribute(&with, "newsletter").unwrap()["type"], "boolean");
    assert_eq!(attribute(&with, "birthday").unwrap()["type"], "string");
    assert!(
        attribute(&with, "preferences").is_none(),
        "json attributes have no SCIM type"
    );
    // the list shows the same extension
    let listed = scim.get("/Schemas").await.expect(200).body;
    let extension = listed["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|schema| schema["id"] == TESSERA)
        .unwrap()
        .clone();
    assert!(attribute(&extension, "points").is_some());

    // another tenant's schema stays its own
    server.tenant("acme").await;
    let acme = Scim::of_tenant(&server, "acme").await;
    let theirs = acme
        .get(&format!("/Schemas/{TESSERA}"))
        .await
        .expect(200)
        .body;
    assert!(attribute(&theirs, "points").is_none());

    // a removed attribute disappears at once
    put_attribute_schema(&server, json!([{"name": "points", "type": "number"}])).await;
    let after = scim
        .get(&format!("/Schemas/{TESSERA}"))
        .await
        .expect(200)
        .body;
    assert!(attribute(&after, "loyaltyTier").is_none());
    assert!(attribute(&after, "points").is_some());
    expect_error(scim.get("/Schemas/urn:nope").await, 404, None);
}

http_suite!(
    service_provider_config_advertises_what_is_supported,
    resource_types_list_users_with_both_extensions_and_groups,
    schemas_follow_the_tenants_custom_attributes,
);
