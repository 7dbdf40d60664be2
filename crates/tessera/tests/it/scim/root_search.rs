//! `POST /.search` at the service root (RFC 7644 §3.4.3): Users, then Groups, paged as one
//! list; a filter applies to each resource type that can read it.

use super::support::{
    CORE_GROUP, CORE_USER, NO_MEMBERS, SEARCH_REQUEST, Scim, expect_error, group, resources, user,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};

/// `userName` of users, `displayName` of groups, in the answer's order.
fn names(list: &Value) -> Vec<String> {
    resources(list)
        .iter()
        .map(|resource| {
            let name = if resource["schemas"]
                .as_array()
                .unwrap()
                .contains(&json!(CORE_GROUP))
            {
                &resource["displayName"]
            } else {
                &resource["userName"]
            };
            name.as_str().unwrap().to_owned()
        })
        .collect()
}

async fn search(scim: &Scim, extra: Value) -> Value {
    let mut body = json!({"schemas": [SEARCH_REQUEST]});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    scim.post("/.search", &body).await.expect(200).body
}

async fn the_root_search_pages_users_then_groups(server: TestServer) {
    let scim = Scim::new(&server).await;
    for (name, display) in [("ann", "Team Lead"), ("ben", "Ben"), ("cat", "Team Member")] {
        scim.create_user(&user(
            name,
            json!({"displayName": display, "externalId": format!("x-{name}")}),
        ))
        .await;
    }
    scim.post("/Groups", &group("Team Alpha", &NO_MEMBERS))
        .await
        .expect(201);
    let beta = json!({"schemas": [CORE_GROUP], "displayName": "Beta", "externalId": "x-ann"});
    scim.post("/Groups", &beta).await.expect(201);

    let all = search(&scim, json!({})).await;
    assert_eq!(all["totalResults"], 5);
    assert_eq!(all["itemsPerPage"], 5);
    let listed = names(&all);
    assert_eq!(
        listed[..3],
        ["ann", "ben", "cat"],
        "users first: {listed:?}"
    );
    let mut groups = listed[3..].to_vec();
    groups.sort();
    assert_eq!(groups, ["Beta", "Team Alpha"]);
    let kinds: Vec<String> = resources(&all)
        .iter()
        .map(|resource| {
            resource["meta"]["resourceType"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["User", "User", "User", "Group", "Group"]);

    // pages cross from users into groups without repeating or skipping
    let mut walked = Vec::new();
    for start in [1, 3, 5] {
        let page = search(&scim, json!({"startIndex": start, "count": 2})).await;
        assert_eq!(page["totalResults"], 5, "startIndex {start}");
        assert_eq!(page["startIndex"], start);
        walked.extend(names(&page));
    }
    assert_eq!(walked, listed);
    let beyond = search(&scim, json!({"startIndex": 6, "count": 2})).await;
    assert_eq!(beyond["totalResults"], 5);
    assert!(resources(&beyond).is_empty());
    let total = search(&scim, json!({"count": 0})).await;
    assert_eq!(total["totalResults"], 5);
    assert!(resources(&total).is_empty());

    // a filter applies to each type that has the attributes
    let team = search(&scim, json!({"filter": "displayName sw \"team\""})).await;
    assert_eq!(team["totalResults"], 3);
    assert_eq!(names(&team), ["ann", "cat", "Team Alpha"]);
    let external = search(&scim, json!({"filter": "externalId eq \"x-ann\""})).await;
    assert_eq!(names(&external), ["ann", "Beta"]);
    let users_only = search(&scim, json!({"filter": "userName sw \"b\""})).await;
    assert_eq!(users_only["totalResults"], 1);
    assert_eq!(names(&users_only), ["ben"]);
    let selected = search(
        &scim,
        json!({"filter": "displayName sw \"team\"", "attributes": ["displayName"]}),
    )
    .await;
    for resource in resources(&selected) {
        let object = resource.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["displayName", "id", "schemas"], "{resource}");
    }
    let user_schemas = resources(&selected)[0]["schemas"].clone();
    assert!(user_schemas.as_array().unwrap().contains(&json!(CORE_USER)));

    // refused: a filter neither type can read, sorting, malformed requests
    let answer = scim
        .post(
            "/.search",
            &json!({"schemas": [SEARCH_REQUEST], "filter": "nosuch eq \"x\""}),
        )
        .await;
    expect_error(answer, 400, Some("invalidFilter"));
    let answer = scim
        .post(
            "/.search",
            &json!({"schemas": [SEARCH_REQUEST], "filter": "userName eq"}),
        )
        .await;
    expect_error(answer, 400, Some("invalidFilter"));
    let answer = scim
        .post(
            "/.search",
            &json!({"schemas": [SEARCH_REQUEST], "sortBy": "meta.created"}),
        )
        .await;
    expect_error(answer, 400, Some("invalidValue"));
    let answer = scim
        .post("/.search", &json!({"filter": "userName pr"}))
        .await;
    expect_error(answer, 400, Some("invalidSyntax"));
    let answer = scim.get("/.search").await;
    expect_error(answer, 405, None);
}

async fn the_root_search_stays_in_its_tenant(server: TestServer) {
    server.tenant("acme").await;
    let acme = Scim::of_tenant(&server, "acme").await;
    let default = Scim::new(&server).await;
    default.user_id("outsider").await;
    default
        .post("/Groups", &group("Outsiders", &NO_MEMBERS))
        .await
        .expect(201);
    acme.user_id("insider").await;
    let found = search(&acme, json!({})).await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(names(&found), ["insider"]);
    let filtered = search(&acme, json!({"filter": "displayName eq \"Outsiders\""})).await;
    assert_eq!(filtered["totalResults"], 0);
}

http_suite!(
    the_root_search_pages_users_then_groups,
    the_root_search_stays_in_its_tenant,
);
