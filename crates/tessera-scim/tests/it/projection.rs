//! `attributes`/`excludedAttributes` with `returned`, on the real User schemas.

use serde_json::{Value, json};
use tessera_scim::schema::{
    AttributeDefinition, CustomAttribute, Returned, tessera_user_extension,
};
use tessera_scim::{AttributeSelection, Limits, ResourceSchemas, ScimType, project, urn};

fn schemas() -> ResourceSchemas {
    let mut extension = tessera_user_extension(&[CustomAttribute::new(
        "loyaltyTier",
        tessera_scim::schema::AttributeType::Integer,
    )])
    .unwrap();
    // A `request`-only attribute, to see that it is left out unless named.
    extension
        .attributes
        .push(AttributeDefinition::string("riskNotes").returned(Returned::Request));
    ResourceSchemas::user(extension)
}

fn user() -> Value {
    json!({
        "schemas": [urn::CORE_USER, urn::ENTERPRISE_USER, urn::TESSERA_USER],
        "id": "2819c223",
        "externalId": "701984",
        "userName": "bjensen",
        "password": "t1meMa$heen",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "groups": [{"value": "g1", "display": "Tour Guides"}],
        "meta": {"resourceType": "User", "version": "W/\"3\""},
        urn::ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "John Smith"}},
        urn::TESSERA_USER: {"status": "light", "loyaltyTier": 3, "riskNotes": "none"}
    })
}

fn select(attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let selection = AttributeSelection::parse(attributes, excluded, &Limits::DEFAULT).unwrap();
    project(&user(), &schemas(), &selection)
}

#[test]
fn by_default_everything_but_never_and_request_attributes() {
    let mut expected = user();
    let object = expected.as_object_mut().unwrap();
    object.remove("password");
    let tessera = object[urn::TESSERA_USER].as_object_mut().unwrap();
    tessera.remove("riskNotes");
    // `status` is returned on request only.
    tessera.remove("status");
    assert_eq!(select(None, None), expected);
}

#[test]
fn attributes_lists_what_comes_back_besides_id_and_schemas() {
    assert_eq!(
        select(Some("userName"), None),
        json!({"schemas": [urn::CORE_USER, urn::ENTERPRISE_USER, urn::TESSERA_USER], "id": "2819c223", "userName": "bjensen"})
    );
    let value = select(Some("name.familyName, emails.value,password"), None);
    assert_eq!(value["name"], json!({"familyName": "Jensen"}));
    assert_eq!(value["emails"], json!([{"value": "bjensen@example.com"}]));
    assert!(value.get("password").is_none());
    assert!(value.get("userName").is_none());
}

#[test]
fn extension_attributes_by_urn_or_by_name() {
    let value = select(
        Some(&format!("{}:employeeNumber", urn::ENTERPRISE_USER)),
        None,
    );
    assert_eq!(
        value[urn::ENTERPRISE_USER],
        json!({"employeeNumber": "701984"})
    );
    assert!(value.get(urn::TESSERA_USER).is_none());

    let value = select(Some("employeeNumber,loyaltyTier"), None);
    assert_eq!(
        value[urn::ENTERPRISE_USER],
        json!({"employeeNumber": "701984"})
    );
    assert_eq!(value[urn::TESSERA_USER], json!({"loyaltyTier": 3}));

    let value = select(Some(urn::TESSERA_USER), None);
    assert_eq!(
        value[urn::TESSERA_USER],
        json!({"status": "light", "loyaltyTier": 3, "riskNotes": "none"})
    );

    let value = select(Some("riskNotes"), None);
    assert_eq!(value[urn::TESSERA_USER], json!({"riskNotes": "none"}));
}

#[test]
fn excluded_attributes_cannot_remove_always_attributes() {
    let value = select(
        None,
        Some("id,emails,name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
    );
    assert_eq!(value["id"], "2819c223");
    assert!(value.get("emails").is_none());
    assert_eq!(value["name"], json!({"familyName": "Jensen"}));
    assert!(value.get(urn::ENTERPRISE_USER).is_none());
    assert_eq!(value[urn::TESSERA_USER], json!({"loyaltyTier": 3}));
}

#[test]
fn attributes_win_over_excluded_attributes() {
    let value = select(Some("userName"), Some("userName"));
    assert_eq!(value["userName"], "bjensen");
}

#[test]
fn attribute_lists_are_parsed_with_limits() {
    let error =
        AttributeSelection::parse(Some("userName,a.b.c"), None, &Limits::DEFAULT).unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
    assert!(error.detail.contains("at byte 9"), "{}", error.detail);
    let many = vec!["a"; 65].join(",");
    let error = AttributeSelection::parse(None, Some(&many), &Limits::DEFAULT).unwrap_err();
    assert!(error.detail.contains("more than 64"));
    let empty = AttributeSelection::parse(Some(" , "), Some(""), &Limits::DEFAULT).unwrap();
    assert_eq!(empty, AttributeSelection::default());
}
