//! `POST /Bulk` (RFC 7644 §3.7): `bulkId` references in any order, `failOnErrors`, cycles,
//! the operation limit, and each operation's own status, location and version.

use super::support::{
    BULK_REQUEST, BULK_RESPONSE, CORE_GROUP, ENTERPRISE, Scim, expect_error, member_ids, user,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};

fn bulk(operations: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": operations})
}

fn post_user(bulk_id: &str, user_name: &str) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id,
           "data": user(user_name, json!({}))})
}

/// The `Operations` of a BulkResponse.
fn answers(body: &Value) -> Vec<Value> {
    assert_eq!(body["schemas"], json!([BULK_RESPONSE]), "{body}");
    body["Operations"].as_array().cloned().unwrap_or_default()
}

/// The id at the end of an operation's location.
fn created_id(answer: &Value) -> String {
    answer["location"]
        .as_str()
        .unwrap_or_else(|| panic!("no location in {answer}"))
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn bulk_ids_resolve_in_any_order(server: TestServer) {
    let scim = Scim::new(&server).await;
    // the group comes first and refers to users created after it
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "team",
                 "data": {"schemas": [CORE_GROUP], "displayName": "Team",
                          "members": [{"value": "bulkId:ann"}, {"value": "bulkId:ben"}]}},
                post_user("ann", "ann"),
                {"method": "POST", "path": "/Users", "bulkId": "ben",
                 "data": user("ben", json!({ENTERPRISE: {"manager": {"value": "bulkId:ann"}}}))},
                {"method": "PATCH", "path": "/Users/bulkId:ann",
                 "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "add", "path": "nickName", "value": "Annie"}]}}
            ])),
        )
        .await
        .expect(200);
    assert_eq!(answer.headers["content-type"], "application/scim+json");
    let operations = answers(&answer.body);
    assert_eq!(operations.len(), 4, "{}", answer.body);
    let base = format!("{}/scim/v2", server.base);
    for (index, (method, bulk_id, status, version)) in [
        ("POST", Some("team"), "201", "W/\"1\""),
        ("POST", Some("ann"), "201", "W/\"1\""),
        ("POST", Some("ben"), "201", "W/\"1\""),
        ("PATCH", None, "200", "W/\"2\""),
    ]
    .into_iter()
    .enumerate()
    {
        let operation = &operations[index];
        assert_eq!(operation["method"], method, "{operation}");
        assert_eq!(operation["bulkId"].as_str(), bulk_id, "{operation}");
        assert_eq!(operation["status"], status, "{operation}");
        assert_eq!(operation["version"], version, "{operation}");
        assert!(
            operation["location"].as_str().unwrap().starts_with(&base),
            "{operation}"
        );
    }
    let group_id = created_id(&operations[0]);
    let ann = created_id(&operations[1]);
    let ben = created_id(&operations[2]);
    assert_eq!(operations[3]["location"], format!("{base}/Users/{ann}"));
    let group = scim
        .get(&format!("/Groups/{group_id}"))
        .await
        .expect(200)
        .body;
    let mut expected = vec![ann.clone(), ben.clone()];
    expected.sort();
    assert_eq!(member_ids(&group), expected);
    let ben_resource = scim.get(&format!("/Users/{ben}")).await.expect(200).body;
    assert_eq!(ben_resource[ENTERPRISE]["manager"]["value"], ann.as_str());
    let ann_resource = scim.get(&format!("/Users/{ann}")).await.expect(200).body;
    assert_eq!(ann_resource["nickName"], "Annie");

    // PUT and DELETE of existing resources, with and without a version
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "PUT", "path": format!("/Users/{ben}"), "version": "W/\"1\"",
                 "data": user("ben", json!({"displayName": "Ben"}))},
                {"method": "DELETE", "path": format!("/Users/{ann}"), "version": "W/\"1\""},
                {"method": "DELETE", "path": format!("/Groups/{group_id}")}
            ])),
        )
        .await
        .expect(200);
    let operations = answers(&answer.body);
    assert_eq!(operations[0]["status"], "200", "{}", answer.body);
    assert_eq!(operations[0]["version"], "W/\"2\"");
    assert_eq!(
        operations[1]["status"], "412",
        "a stale version: {}",
        answer.body
    );
    assert_eq!(operations[1]["response"]["status"], "412");
    assert_eq!(operations[2]["status"], "204");
    assert_eq!(
        operations[2]["location"],
        format!("{base}/Groups/{group_id}")
    );
    scim.get(&format!("/Users/{ann}")).await.expect(200);
    expect_error(scim.get(&format!("/Groups/{group_id}")).await, 404, None);
}

async fn fail_on_errors_stops_the_request(server: TestServer) {
    let scim = Scim::new(&server).await;
    scim.user_id("taken").await;
    let operations = json!([
        post_user("a", "first"),
        post_user("b", "TAKEN"),
        post_user("c", "third"),
        post_user("d", "fourth")
    ]);
    let answer = scim
        .post(
            "/Bulk",
            &json!({"schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": operations}),
        )
        .await
        .expect(200);
    let done = answers(&answer.body);
    assert_eq!(done.len(), 2, "{}", answer.body);
    assert_eq!(done[0]["bulkId"], "a");
    assert_eq!(done[0]["status"], "201");
    assert_eq!(done[1]["bulkId"], "b");
    assert_eq!(done[1]["status"], "409");
    assert_eq!(done[1]["response"]["scimType"], "uniqueness");
    assert_eq!(
        done[1]["response"]["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(
        scim.user_names("userName pr").await,
        ["first", "taken"],
        "later operations did not run"
    );

    // without failOnErrors every operation runs and answers
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                post_user("e", "fifth"),
                post_user("f", "Taken"),
                post_user("g", "sixth"),
                {"method": "POST", "path": "/Users", "bulkId": "h", "data": {"userName": "no-schemas"}},
                {"method": "DELETE", "path": "/Users/0190a0b0-0000-7000-8000-000000000000"},
                {"method": "POST", "path": "/Printers", "bulkId": "i", "data": {}}
            ])),
        )
        .await
        .expect(200);
    let done = answers(&answer.body);
    let statuses: Vec<&str> = done
        .iter()
        .map(|operation| operation["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["201", "409", "201", "400", "404", "400"],
        "{}",
        answer.body
    );
    assert_eq!(done[3]["response"]["scimType"], "invalidSyntax");
    assert_eq!(done[5]["response"]["scimType"], "invalidPath");
    assert_eq!(
        scim.user_names("userName pr").await,
        ["fifth", "first", "sixth", "taken"]
    );

    // failOnErrors=2 allows one error
    let answer = scim
        .post(
            "/Bulk",
            &json!({"schemas": [BULK_REQUEST], "failOnErrors": 2, "Operations": [
                post_user("j", "taken"),
                post_user("k", "seventh"),
                post_user("l", "first"),
                post_user("m", "eighth")
            ]}),
        )
        .await
        .expect(200);
    let statuses: Vec<String> = answers(&answer.body)
        .iter()
        .map(|operation| operation["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["409", "201", "409"], "{}", answer.body);
    assert!(scim.user_names("userName eq \"eighth\"").await.is_empty());
}

async fn cycles_and_dangling_references_fail_cleanly(server: TestServer) {
    let scim = Scim::new(&server).await;
    let manager = |bulk_id: &str, user_name: &str, target: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": bulk_id,
               "data": user(user_name, json!({ENTERPRISE: {"manager": {"value": format!("bulkId:{target}")}}}))})
    };
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                manager("x", "xavier", "y"),
                manager("y", "yvonne", "x"),
                manager("z", "zoe", "z"),
                manager("w", "walter", "nobody"),
                post_user("ok", "olive"),
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"schemas": [CORE_GROUP], "displayName": "Cycle",
                          "members": [{"value": "bulkId:x"}]}}
            ])),
        )
        .await
        .expect(200);
    let done = answers(&answer.body);
    assert_eq!(done.len(), 6, "{}", answer.body);
    for operation in &done {
        let expected = if operation["bulkId"] == "ok" {
            "201"
        } else {
            "400"
        };
        assert_eq!(operation["status"], expected, "{operation}");
        if expected == "400" {
            assert_eq!(
                operation["response"]["scimType"], "invalidValue",
                "{operation}"
            );
            assert!(operation.get("location").is_none(), "{operation}");
        }
    }
    assert_eq!(scim.user_names("userName pr").await, ["olive"]);
    assert_eq!(
        scim.get("/Groups").await.expect(200).body["totalResults"],
        0
    );
}

async fn bulk_requests_are_checked_as_a_whole(server: TestServer) {
    let scim = Scim::new(&server).await;
    // A35-like limits: more than maxOperations is refused before anything runs
    let too_many: Vec<Value> = (0..1001)
        .map(|n| post_user(&format!("u{n}"), &format!("many{n}")))
        .collect();
    let answer = scim.post("/Bulk", &bulk(Value::Array(too_many))).await;
    expect_error(answer, 413, None);
    assert!(scim.user_names("userName pr").await.is_empty());

    for (body, scim_type) in [
        (json!({"Operations": []}), "invalidSyntax"),
        (json!({"schemas": [BULK_REQUEST]}), "invalidSyntax"),
        (
            json!({"schemas": [BULK_REQUEST], "Operations": {}}),
            "invalidSyntax",
        ),
        (json!([]), "invalidSyntax"),
        (
            bulk(json!([{"method": "GET", "path": "/Users"}])),
            "invalidSyntax",
        ),
        (
            bulk(
                json!([{"method": "POST", "path": "/Users", "data": user("no-bulk-id", json!({}))}]),
            ),
            "invalidSyntax",
        ),
        (
            bulk(json!([{"method": "PUT", "path": "/Users/x"}])),
            "invalidSyntax",
        ),
        (
            bulk(json!([post_user("same", "one"), post_user("same", "two")])),
            "invalidValue",
        ),
        (
            json!({"schemas": [BULK_REQUEST], "failOnErrors": 0, "Operations": []}),
            "invalidValue",
        ),
        (
            json!({"schemas": [BULK_REQUEST], "failOnErrors": "1", "Operations": []}),
            "invalidValue",
        ),
    ] {
        let answer = scim.post("/Bulk", &body).await;
        expect_error(answer, 400, Some(scim_type));
    }
    assert!(
        scim.user_names("userName pr").await.is_empty(),
        "nothing ran"
    );
    let empty = scim.post("/Bulk", &bulk(json!([]))).await.expect(200);
    assert_eq!(answers(&empty.body), Vec::<Value>::new());
}

/// Fifty creations in one request, as an import sends them: all created, each answered.
async fn fifty_users_in_one_request(server: TestServer) {
    let scim = Scim::new(&server).await;
    let operations: Vec<Value> = (0..50)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("p{n}"),
            "data": user(&format!("import{n:02}"), json!({
                "externalId": format!("hr-{n}"),
                "emails": [{"value": format!("import{n}@example.com"), "primary": true}]
            }))})
        })
        .collect();
    let answer = scim
        .post("/Bulk", &bulk(Value::Array(operations)))
        .await
        .expect(200);
    let done = answers(&answer.body);
    assert_eq!(done.len(), 50);
    let mut ids = std::collections::BTreeSet::new();
    for (n, operation) in done.iter().enumerate() {
        assert_eq!(operation["bulkId"], format!("p{n}"));
        assert_eq!(operation["status"], "201", "{operation}");
        assert_eq!(operation["version"], "W/\"1\"");
        ids.insert(created_id(operation));
    }
    assert_eq!(ids.len(), 50, "distinct locations");
    let listed = scim
        .query(
            "/Users",
            &[("filter", "userName sw \"import\""), ("count", "0")],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(listed["totalResults"], 50);
    let one = scim
        .get(&format!("/Users/{}", created_id(&done[7])))
        .await
        .expect(200)
        .body;
    assert_eq!(one["userName"], "import07");
    assert_eq!(one["externalId"], "hr-7");
    let admin = server
        .admin(
            reqwest::Method::GET,
            "/admin/v1/users?email=import49@example.com",
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(admin["items"][0]["username"], "import49");
    assert_eq!(admin["items"][0]["status"], "light");

    // a second import with one duplicate inside: the rest is still created, one by one
    let mut operations: Vec<Value> = (50..60)
        .map(|n| post_user(&format!("q{n}"), &format!("import{n:02}")))
        .collect();
    operations.insert(5, post_user("dup", "IMPORT03"));
    let answer = scim
        .post("/Bulk", &bulk(Value::Array(operations)))
        .await
        .expect(200);
    let done = answers(&answer.body);
    let failed: Vec<&Value> = done
        .iter()
        .filter(|operation| operation["status"] != "201")
        .collect();
    assert_eq!(failed.len(), 1, "{}", answer.body);
    assert_eq!(failed[0]["bulkId"], "dup");
    assert_eq!(failed[0]["status"], "409");
    let listed = scim
        .query(
            "/Users",
            &[("filter", "userName sw \"import\""), ("count", "0")],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(listed["totalResults"], 60);

    // duplicates inside one request: externalId, and a primary email differing in case
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "POST", "path": "/Users", "bulkId": "r1",
                 "data": user("twin.one", json!({"externalId": "hr-twin"}))},
                {"method": "POST", "path": "/Users", "bulkId": "r2",
                 "data": user("twin.two", json!({"externalId": "hr-twin"}))},
                {"method": "POST", "path": "/Users", "bulkId": "r3",
                 "data": user("mail.one", json!({"emails": [{"value": "same@example.com", "primary": true}]}))},
                {"method": "POST", "path": "/Users", "bulkId": "r4",
                 "data": user("mail.two", json!({"emails": [{"value": "SAME@example.com", "primary": true}]}))}
            ])),
        )
        .await
        .expect(200);
    let statuses: Vec<String> = answers(&answer.body)
        .iter()
        .map(|operation| operation["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["201", "409", "201", "409"], "{}", answer.body);
    assert_eq!(
        scim.user_names("userName sw \"twin\" or userName sw \"mail\"")
            .await,
        ["mail.one", "twin.one"]
    );
}

/// Creations batched into one transaction keep the rules of one creation: managers must be
/// users of the tenant, and passwords are hashed, never dropped.
async fn batched_creations_keep_the_rules_of_one(server: TestServer) {
    let scim = Scim::new(&server).await;
    let stranger = "01a227b4-c92c-72ea-b3c9-a19c6f3beb63";
    let with_manager = |bulk_id: &str, name: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": bulk_id,
               "data": user(name, json!({
                   "schemas": [super::support::CORE_USER, ENTERPRISE],
                   ENTERPRISE: {"manager": {"value": stranger}}}))})
    };
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                with_manager("a", "managed-a"),
                with_manager("b", "managed-b")
            ])),
        )
        .await
        .expect(200);
    for operation in answers(&answer.body) {
        assert_eq!(operation["status"], "400", "{operation}");
    }
    let with_password = |bulk_id: &str, name: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": bulk_id,
               "data": user(name, json!({"Password": null, "password": "a long bulk password here"}))})
    };
    let answer = scim
        .post(
            "/Bulk",
            &bulk(json!([
                with_password("c", "pw-c"),
                with_password("d", "pw-d")
            ])),
        )
        .await
        .expect(200);
    let created = answers(&answer.body);
    assert_eq!(created.len(), 2);
    for operation in &created {
        assert_eq!(operation["status"], "201", "{operation}");
        let id = created_id(operation);
        let status = scim
            .get(&format!(
                "/Users/{id}?attributes=urn:ietf:params:scim:schemas:extension:tessera:2.0:User:status"
            ))
            .await
            .expect(200);
        assert_eq!(
            status.body["urn:ietf:params:scim:schemas:extension:tessera:2.0:User"]["status"],
            "active",
            "the password was kept"
        );
    }
}

async fn bulk_in_a_tenant_stays_there(server: TestServer) {
    server.tenant("acme").await;
    let acme = Scim::of_tenant(&server, "acme").await;
    let default = Scim::new(&server).await;
    let outsider = default.user_id("outsider").await;
    let answer = acme
        .post(
            "/Bulk",
            &bulk(json!([
                post_user("a", "inside"),
                {"method": "DELETE", "path": format!("/Users/{outsider}")},
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"schemas": [CORE_GROUP], "displayName": "Mixed",
                          "members": [{"value": "bulkId:a"}, {"value": outsider}]}}
            ])),
        )
        .await
        .expect(200);
    let done = answers(&answer.body);
    assert_eq!(done[0]["status"], "201");
    assert!(
        done[0]["location"]
            .as_str()
            .unwrap()
            .contains("/t/acme/scim/v2/Users/")
    );
    assert_eq!(
        done[1]["status"], "404",
        "another tenant's user: {}",
        answer.body
    );
    assert_eq!(done[2]["status"], "400");
    default.get(&format!("/Users/{outsider}")).await.expect(200);
    assert_eq!(acme.user_names("userName pr").await, ["inside"]);
    assert_eq!(default.user_names("userName pr").await, ["outsider"]);
}

http_suite!(
    batched_creations_keep_the_rules_of_one,
    bulk_ids_resolve_in_any_order,
    fail_on_errors_stops_the_request,
    cycles_and_dangling_references_fail_cleanly,
    bulk_requests_are_checked_as_a_whole,
    fifty_users_in_one_request,
    bulk_in_a_tenant_stays_there,
);
