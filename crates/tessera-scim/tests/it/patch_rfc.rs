//! The PATCH engine on the examples of RFC 7644 §3.5.2, and on the cases around them that
//! real clients send (case-insensitive names, extension paths, Entra ID's forms).

use serde_json::{Value, json};
use tessera_scim::schema::tessera_user_extension;
use tessera_scim::{
    AttrPath, DefaultRules, Limits, PatchRequest, Patched, ResourceSchemas, ScimError, ScimType,
    urn,
};

fn users() -> ResourceSchemas {
    ResourceSchemas::user(tessera_user_extension(&[]).unwrap())
}

fn patch_with(
    resource: &Value,
    operations: Value,
    rules: &dyn tessera_scim::SchemaRules,
) -> Result<Patched, ScimError> {
    let body = json!({"schemas": [urn::PATCH_OP], "Operations": operations});
    PatchRequest::from_json(&body, &Limits::DEFAULT)?.apply(resource, rules)
}

fn patch(resource: &Value, operations: Value) -> Value {
    patch_with(resource, operations, &users())
        .unwrap_or_else(|e| panic!("{e}"))
        .resource
}

fn patch_error(resource: &Value, operations: Value) -> ScimError {
    patch_with(resource, operations, &users()).unwrap_err()
}

const BJENSEN: &str = "2819c223-7f76-453a-919d-413861904646";
const JSMITH: &str = "902c246b-6245-4190-8e05-00816be7344a";

fn group() -> Value {
    json!({
        "schemas": [urn::CORE_GROUP],
        "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce",
        "displayName": "Tour Guides",
        "members": [
            {"value": BJENSEN, "$ref": format!("https://example.com/v2/Users/{BJENSEN}"), "display": "Babs Jensen"},
            {"value": JSMITH, "$ref": format!("https://example.com/v2/Users/{JSMITH}"), "display": "Mandy Pepperidge"}
        ]
    })
}

fn user() -> Value {
    json!({
        "schemas": [urn::CORE_USER],
        "id": BJENSEN,
        "userName": "bjensen",
        "nickName": "Babsy",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "primary": true},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood"}
        ]
    })
}

#[test]
fn rfc_add_members_to_a_group() {
    let mut resource = group();
    resource["members"].as_array_mut().unwrap().pop();
    let added = json!({"display": "Mandy Pepperidge", "$ref": format!("https://example.com/v2/Users/{JSMITH}"), "value": JSMITH});
    let patched = patch(
        &resource,
        json!([{"op": "add", "path": "members", "value": [added.clone()]}]),
    );
    assert_eq!(patched["members"].as_array().unwrap().len(), 2);
    assert_eq!(patched["members"][1], added);
    // Adding the same value again changes nothing.
    let again = patch_with(
        &patched,
        json!([{"op": "add", "path": "members", "value": [added]}]),
        &users(),
    )
    .unwrap();
    assert!(!again.changed);
}

#[test]
fn rfc_add_without_a_path_merges_attributes() {
    let patched = patch(
        &user(),
        json!([{"op": "add", "value": {
            "emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b@example.net", "type": "other"}],
            "nickname": "Babs"
        }}]),
    );
    assert_eq!(patched["nickName"], "Babs");
    assert!(patched.get("nickname").is_none());
    let emails: Vec<&str> = patched["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["bjensen@example.com", "babs@jensen.org", "b@example.net"]
    );
}

#[test]
fn rfc_remove_a_single_member() {
    let patched = patch(
        &group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BJENSEN}\"]")}]),
    );
    assert_eq!(patched["members"].as_array().unwrap().len(), 1);
    assert_eq!(patched["members"][0]["value"], JSMITH);
}

#[test]
fn rfc_remove_all_members() {
    let patched = patch_with(
        &group(),
        json!([{"op": "remove", "path": "members"}]),
        &users(),
    )
    .unwrap();
    assert!(patched.resource.get("members").is_none());
    assert_eq!(patched.touched, [AttrPath::new("members")]);
}

#[test]
fn rfc_remove_all_members_then_add_others() {
    let patched = patch(
        &group(),
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "ab", "display": "A"}, {"value": "cd", "display": "C"}]}
        ]),
    );
    assert_eq!(
        patched["members"],
        json!([{"value": "ab", "display": "A"}, {"value": "cd", "display": "C"}])
    );
}

#[test]
fn rfc_remove_work_emails_at_a_domain() {
    let patched = patch(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        patched["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn rfc_replace_all_members() {
    let members = json!([{"value": BJENSEN, "display": "Babs Jensen"}]);
    let patched = patch(
        &group(),
        json!([{"op": "replace", "path": "members", "value": members.clone()}]),
    );
    assert_eq!(patched["members"], members);
}

#[test]
fn rfc_replace_the_work_address() {
    let address = json!({
        "type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
        "region": "CA", "postalCode": "91608", "country": "US", "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    let patched = patch(
        &user(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": address.clone()}]),
    );
    assert_eq!(patched["addresses"][0], address);
    assert_eq!(patched["addresses"][1]["type"], "home");
}

#[test]
fn rfc_replace_a_sub_attribute_of_the_work_address() {
    let patched = patch(
        &user(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    );
    assert_eq!(
        patched["addresses"][0]["streetAddress"],
        "1010 Broadway Ave"
    );
    assert_eq!(patched["addresses"][0]["locality"], "Hollywood");
}

#[test]
fn rfc_replace_without_a_path() {
    let patched = patch(
        &user(),
        json!([{"op": "replace", "value": {
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "nickname": "Babs",
            "name": {"givenName": "Babs"}
        }}]),
    );
    assert_eq!(patched["emails"].as_array().unwrap().len(), 1);
    assert_eq!(patched["nickName"], "Babs");
    // A complex attribute's unnamed sub-attributes stay (RFC 7644 §3.5.2.3).
    assert_eq!(
        patched["name"],
        json!({"familyName": "Jensen", "givenName": "Babs"})
    );
}

#[test]
fn no_target_when_a_filter_matches_nothing() {
    for op in ["replace", "remove"] {
        let error = patch_error(
            &user(),
            json!([{"op": op, "path": "emails[type eq \"pager\"]", "value": {"value": "x"}}]),
        );
        assert_eq!(error.scim_type, Some(ScimType::NoTarget), "{op}");
        assert!(error.detail.starts_with("operation 0:"), "{}", error.detail);
    }
    let error = patch_error(
        &user(),
        json!([{"op": "remove", "path": "ims[type eq \"xmpp\"]"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn a_failing_operation_fails_the_whole_request() {
    let error = patch_error(
        &user(),
        json!([{"op": "replace", "path": "nickName", "value": "Changed"}, {"op": "remove", "path": "emails[type eq \"none\"]"}]),
    );
    assert!(error.detail.starts_with("operation 1:"));
}

#[test]
fn names_and_filters_ignore_case() {
    let patched = patch(
        &user(),
        json!([
            {"op": "REPLACE", "path": "NAME.FAMILYNAME", "value": "Jensen-Smith"},
            {"op": "replace", "path": "EMAILS[TYPE EQ \"WORK\"].VALUE", "value": "b@example.org"}
        ]),
    );
    assert_eq!(patched["name"]["familyName"], "Jensen-Smith");
    assert_eq!(patched["emails"][0]["value"], "b@example.org");
    assert!(patched.get("NAME").is_none());
}

#[test]
fn extension_paths_resolve_into_the_extension_object() {
    let department = format!("{}:department", urn::ENTERPRISE_USER);
    let patched = patch_with(
        &user(),
        json!([{"op": "add", "path": department, "value": "Tour Operations"}]),
        &users(),
    )
    .unwrap();
    assert_eq!(
        patched.resource[urn::ENTERPRISE_USER],
        json!({"department": "Tour Operations"})
    );
    assert_eq!(
        patched.resource["schemas"],
        json!([urn::CORE_USER, urn::ENTERPRISE_USER])
    );
    assert_eq!(
        patched.touched,
        [AttrPath::new("department").with_urn(urn::ENTERPRISE_USER)]
    );

    let manager = format!("{}:manager.value", urn::ENTERPRISE_USER);
    let with_manager = patch(
        &patched.resource,
        json!([{"op": "replace", "path": manager, "value": "26118915"}]),
    );
    assert_eq!(
        with_manager[urn::ENTERPRISE_USER]["manager"],
        json!({"value": "26118915"})
    );

    // Removing the last attribute removes the extension and its listing.
    let removed = patch(
        &patched.resource,
        json!([{"op": "remove", "path": format!("{}:DEPARTMENT", urn::ENTERPRISE_USER)}]),
    );
    assert!(removed.get(urn::ENTERPRISE_USER).is_none());
    assert_eq!(removed["schemas"], json!([urn::CORE_USER]));
}

#[test]
fn core_urn_paths_and_pathless_urn_members() {
    let patched = patch_with(
        &user(),
        json!([
            {"op": "replace", "path": format!("{}:nickName", urn::CORE_USER), "value": "B"},
            {"op": "add", "value": {
                urn::ENTERPRISE_USER: {"employeeNumber": "701984"},
                urn::CORE_USER: {"title": "Tour Guide"},
                "schemas": ["ignored"]
            }}
        ]),
        &users(),
    )
    .unwrap();
    assert_eq!(patched.resource["nickName"], "B");
    assert_eq!(patched.resource["title"], "Tour Guide");
    assert_eq!(
        patched.resource[urn::ENTERPRISE_USER]["employeeNumber"],
        "701984"
    );
    assert_eq!(
        patched.touched,
        [
            AttrPath::new("nickName"),
            AttrPath::new("title"),
            AttrPath::new("employeeNumber").with_urn(urn::ENTERPRISE_USER)
        ]
    );
}

#[test]
fn a_path_naming_a_whole_extension() {
    let with_extension = patch(
        &user(),
        json!([{"op": "add", "path": urn::ENTERPRISE_USER, "value": {"costCenter": "4130"}}]),
    );
    assert_eq!(
        with_extension[urn::ENTERPRISE_USER],
        json!({"costCenter": "4130"})
    );
    let patched = patch_with(
        &with_extension,
        json!([{"op": "remove", "path": urn::ENTERPRISE_USER}]),
        &users(),
    )
    .unwrap();
    assert!(patched.resource.get(urn::ENTERPRISE_USER).is_none());
    assert_eq!(patched.resource["schemas"], json!([urn::CORE_USER]));
    assert_eq!(
        patched.touched,
        [AttrPath::new("costCenter").with_urn(urn::ENTERPRISE_USER)]
    );
}

#[test]
fn a_new_primary_value_clears_the_others() {
    let patched = patch(
        &user(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "primary": true}]}]),
    );
    let primaries: Vec<bool> = patched["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["primary"] == true)
        .collect();
    assert_eq!(primaries, [false, false, true]);
    let patched = patch(
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    );
    assert_eq!(patched["emails"][0]["primary"], false);
    assert_eq!(patched["emails"][1]["primary"], true);
}

#[test]
fn entra_id_forms() {
    // `add` with a filter that matches nothing creates the value from the filter's tests.
    let patched = patch(
        &user(),
        json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+4915112345678"}]),
    );
    assert_eq!(
        patched["phoneNumbers"],
        json!([{"type": "mobile", "value": "+4915112345678"}])
    );
    // `remove` with a value removes only those members.
    let patched = patch(
        &group(),
        json!([{"op": "Remove", "path": "members", "value": [{"value": JSMITH}]}]),
    );
    assert_eq!(patched["members"].as_array().unwrap().len(), 1);
    // `replace` of a single attribute with a bare value, `active` as a boolean.
    let patched = patch(
        &user(),
        json!([{"op": "Replace", "path": "active", "value": false}]),
    );
    assert_eq!(patched["active"], false);
}

#[test]
fn single_values_become_arrays_for_multi_valued_attributes() {
    let patched = patch(
        &json!({"schemas": [urn::CORE_USER], "userName": "x"}),
        json!([
            {"op": "add", "path": "emails", "value": {"value": "x@example.com"}}
        ]),
    );
    assert_eq!(patched["emails"], json!([{"value": "x@example.com"}]));
}

#[test]
fn replace_with_null_and_sub_attribute_removal() {
    let patched = patch(
        &user(),
        json!([
            {"op": "replace", "path": "nickName", "value": null},
            {"op": "remove", "path": "name.givenName"},
            {"op": "remove", "path": "emails.type"},
            {"op": "remove", "path": "title"}
        ]),
    );
    assert!(patched.get("nickName").is_none());
    assert_eq!(patched["name"], json!({"familyName": "Jensen"}));
    assert!(
        patched["emails"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("type").is_none())
    );
}

#[test]
fn value_filters_use_the_rules_case_exactness() {
    let exact = |_: &AttrPath| true;
    let error = patch_with(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"WORK\"]"}]),
        &exact,
    )
    .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
    assert!(
        patch_with(
            &user(),
            json!([{"op": "remove", "path": "emails[type eq \"WORK\"]"}]),
            &DefaultRules
        )
        .is_ok()
    );
}

#[test]
fn refuses_paths_that_cannot_apply() {
    let error = patch_error(
        &user(),
        json!([{"op": "replace", "path": "userName.first", "value": "x"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
    let error = patch_error(
        &user(),
        json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": {}}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
    let error = patch_error(
        &user(),
        json!([{"op": "add", "path": "emails[type eq \"x\" or type eq \"y\"]", "value": {}}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
    let error = patch_error(
        &user(),
        json!([{"op": "add", "path": "phoneNumbers.value", "value": "1"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
    let error = patch_error(&json!([1]), json!([{"op": "remove", "path": "x"}]));
    assert_eq!(error.status, 500);
}

#[test]
fn replacing_selected_values_with_null_removes_them() {
    let patched = patch(
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": null}]),
    );
    assert_eq!(patched["emails"].as_array().unwrap().len(), 1);
    let patched = patch(
        &user(),
        json!([{"op": "replace", "path": "emails[type pr]", "value": null}]),
    );
    assert!(patched.get("emails").is_none());
}

#[test]
fn reports_touched_sub_attributes_and_unchanged_requests() {
    let patched = patch_with(
        &user(),
        json!([
            {"op": "replace", "path": "name.familyName", "value": "Jensen"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.com"},
            {"op": "replace", "path": "name.familyName", "value": "Jensen"}
        ]),
        &users(),
    )
    .unwrap();
    assert!(!patched.changed);
    assert_eq!(
        patched.touched,
        [
            AttrPath::new("name").with_sub("familyName"),
            AttrPath::new("emails").with_sub("value")
        ]
    );
}

#[test]
fn large_groups_stay_linear() {
    let members: Vec<Value> = (0..20_000)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let resource = json!({"schemas": [urn::CORE_GROUP], "displayName": "All", "members": members});
    let added: Vec<Value> = (19_000..22_000)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let removed: Vec<Value> = (0..5_000)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let started = std::time::Instant::now();
    let patched = patch(
        &resource,
        json!([
            {"op": "add", "path": "members", "value": added},
            {"op": "remove", "path": "members", "value": removed}
        ]),
    );
    assert_eq!(patched["members"].as_array().unwrap().len(), 17_000);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn path() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(
            proptest::sample::select(vec![
                "userName",
                "NAME.givenName",
                "name",
                "emails",
                "emails.type",
                "emails[type eq \"work\"]",
                "emails[type eq \"work\"].value",
                "emails[value co \"@\" or not (primary pr)].primary",
                "addresses[type eq \"home\"]",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                "urn:ietf:params:scim:schemas:core:2.0:User:nickName",
                "members[value eq \"x\"]",
                "groups",
                "urn:x:y:z",
                "emails[type eq \"x\" and value eq \"y\"].display",
            ])
            .prop_map(str::to_owned),
        )
    }

    fn value() -> impl Strategy<Value = Option<Value>> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z@.]{0,6}".prop_map(Value::from),
        ];
        let value = leaf.prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                proptest::collection::btree_map(
                    proptest::sample::select(vec![
                        "value",
                        "type",
                        "primary",
                        "givenName",
                        "nickName",
                        "emails",
                        urn::ENTERPRISE_USER
                    ]),
                    inner,
                    0..3
                )
                .prop_map(|members| Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect()
                )),
            ]
        });
        proptest::option::of(value)
    }

    fn operation() -> impl Strategy<Value = Value> {
        (
            proptest::sample::select(vec!["add", "replace", "remove", "ADD"]),
            path(),
            value(),
        )
            .prop_map(|(op, path, value)| {
                let mut operation = serde_json::Map::new();
                operation.insert("op".into(), op.into());
                if let Some(path) = path {
                    operation.insert("path".into(), path.into());
                }
                if let Some(value) = value {
                    operation.insert("value".into(), value);
                }
                Value::Object(operation)
            })
    }

    proptest! {
        /// Any sequence of operations either applies or fails with a SCIM error; a failure
        /// is never a 500 for a valid resource, and a success leaves an object.
        #[test]
        fn the_engine_never_panics(operations in proptest::collection::vec(operation(), 1..5)) {
            let body = json!({"schemas": [urn::PATCH_OP], "Operations": operations});
            if let Ok(request) = PatchRequest::from_json(&body, &Limits::DEFAULT) {
                for rules in [&users() as &dyn tessera_scim::SchemaRules, &DefaultRules] {
                    match request.apply(&user(), rules) {
                        Ok(patched) => prop_assert!(patched.resource.is_object()),
                        Err(error) => prop_assert!(error.status == 400, "{error}"),
                    }
                }
            }
        }
    }
}
