//! The JSON `/Schemas` and `/ResourceTypes` will serve, snapshotted in full so that every
//! change to what Tessera advertises is reviewed against RFC 7643 §8.7.

use tessera_scim::schema::{
    AttributeType, CustomAttribute, ResourceType, enterprise_user_schema, group_schema,
    tessera_user_extension, user_schema,
};

#[test]
fn user_schema_json() {
    insta::assert_json_snapshot!("user_schema", user_schema());
}

#[test]
fn enterprise_user_schema_json() {
    insta::assert_json_snapshot!("enterprise_user_schema", enterprise_user_schema());
}

#[test]
fn group_schema_json() {
    insta::assert_json_snapshot!("group_schema", group_schema());
}

#[test]
fn tessera_extension_json() {
    let mut country = CustomAttribute::new("country", AttributeType::String);
    country.canonical_values = vec!["DE".into(), "FR".into(), "GB".into()];
    country.description = "Country of residence".into();
    let mut interests = CustomAttribute::new("interests", AttributeType::String);
    interests.multi_valued = true;
    let schema = tessera_user_extension(&[
        country,
        interests,
        CustomAttribute::new("birthday", AttributeType::DateTime),
    ])
    .unwrap();
    insta::assert_json_snapshot!("tessera_user_extension", schema);
}

#[test]
fn resource_types_json() {
    insta::assert_json_snapshot!(
        "resource_types",
        [ResourceType::user(), ResourceType::group()]
    );
}
