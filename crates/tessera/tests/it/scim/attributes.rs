//! `attributes` and `excludedAttributes` (RFC 7644 §3.9) on one resource and on lists, and
//! `POST /.search` taking the same parameters in a `SearchRequest` body.

use super::support::{
    CORE_USER, ENTERPRISE, SEARCH_REQUEST, Scim, TESSERA, expect_error, group, id_of, resources,
    user, user_names,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};

/// The member names of a JSON object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

async fn rich_user(scim: &Scim, name: &str) -> String {
    id_of(
        &scim
            .create_user(&user(
                name,
                json!({
                    "displayName": format!("{name} Display"),
                    "nickName": "Nick",
                    "name": {"givenName": "Given", "familyName": "Family"},
                    "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
                    ENTERPRISE: {"department": "Ops"}
                }),
            ))
            .await,
    )
}

async fn selections_on_one_user(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = rich_user(&scim, "picked").await;
    let path = format!("/Users/{id}");
    let get = |query: &'static [(&'static str, &'static str)]| {
        let scim = scim.clone();
        let path = path.clone();
        async move { scim.query(&path, query).await.expect(200).body }
    };

    // only what is asked, plus `id` and `schemas`, which are always returned
    let only = get(&[("attributes", "userName")]).await;
    assert_eq!(keys(&only), ["id", "schemas", "userName"]);
    assert_eq!(only["userName"], "picked");
    let sub = get(&[("attributes", "emails.value,name.familyName")]).await;
    assert_eq!(keys(&sub), ["emails", "id", "name", "schemas"]);
    assert_eq!(sub["emails"], json!([{"value": "picked@example.com"}]));
    assert_eq!(sub["name"], json!({"familyName": "Family"}));
    let complex = get(&[("attributes", "name")]).await;
    assert_eq!(complex["name"]["givenName"], "Given");
    assert_eq!(complex["name"]["familyName"], "Family");
    let urn = get(&[(
        "attributes",
        "urn:ietf:params:scim:schemas:core:2.0:User:nickName",
    )])
    .await;
    assert_eq!(keys(&urn), ["id", "nickName", "schemas"]);
    let extension = get(&[(
        "attributes",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    )])
    .await;
    assert_eq!(extension[ENTERPRISE], json!({"department": "Ops"}));
    assert!(extension.get("userName").is_none());
    let case = get(&[("attributes", "USERNAME,DisplayName")]).await;
    assert_eq!(keys(&case), ["displayName", "id", "schemas", "userName"]);

    // excluded: everything else by default; `id` cannot be excluded
    let excluded = get(&[("excludedAttributes", "emails,name,id")]).await;
    assert!(excluded.get("emails").is_none());
    assert!(excluded.get("name").is_none());
    assert_eq!(excluded["id"], id.as_str());
    assert_eq!(excluded["userName"], "picked");
    assert_eq!(excluded["nickName"], "Nick");
    assert!(excluded.get("meta").is_some());
    let sub_excluded = get(&[("excludedAttributes", "name.givenName,meta")]).await;
    assert_eq!(sub_excluded["name"], json!({"familyName": "Family"}));
    assert!(sub_excluded.get("meta").is_none());

    // `returned: request` attributes appear only when asked for
    let default = get(&[]).await;
    assert!(default[TESSERA].get("status").is_none(), "{default}");
    let status = get(&[(
        "attributes",
        "urn:ietf:params:scim:schemas:extension:tessera:2.0:User:status",
    )])
    .await;
    assert_eq!(status[TESSERA]["status"], "light");

    // malformed lists are refused
    for query in [
        &[("attributes", "emails[type eq \"work\"]")][..],
        &[("attributes", "name..givenName")],
        &[("excludedAttributes", "\"quoted\"")],
        &[("filter", "userName pr")],
        &[("count", "1")],
    ] {
        let answer = scim.query(&path, query).await;
        assert_eq!(answer.status, 400, "{query:?}: {}", answer.body);
        expect_error(
            answer,
            400,
            Some(
                if query[0].0 == "attributes" || query[0].0 == "excludedAttributes" {
                    "invalidPath"
                } else {
                    "invalidValue"
                },
            ),
        );
    }
}

async fn selections_on_lists_and_search(server: TestServer) {
    let scim = Scim::new(&server).await;
    for name in ["ann", "ben", "cat", "dan"] {
        rich_user(&scim, name).await;
    }
    let listed = scim
        .query(
            "/Users",
            &[
                ("filter", "userName ne \"dan\""),
                ("attributes", "userName,emails.value"),
                ("sortBy", "userName"),
                ("sortOrder", "descending"),
                ("startIndex", "2"),
                ("count", "2"),
            ],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(listed["totalResults"], 3);
    assert_eq!(user_names(&listed), ["ben", "ann"]);
    for resource in resources(&listed) {
        assert_eq!(keys(&resource), ["emails", "id", "schemas", "userName"]);
    }
    let excluded = scim
        .query("/Users", &[("excludedAttributes", "emails,meta,name")])
        .await
        .expect(200)
        .body;
    for resource in resources(&excluded) {
        assert!(resource.get("emails").is_none());
        assert!(resource.get("meta").is_none());
        assert_eq!(resource["nickName"], "Nick");
    }

    // .search takes the same parameters in the body, and answers the same
    let searched = scim
        .post(
            "/Users/.search",
            &json!({
                "schemas": [SEARCH_REQUEST],
                "filter": "userName ne \"dan\"",
                "attributes": ["userName", "emails.value"],
                "sortBy": "userName",
                "sortOrder": "descending",
                "startIndex": 2,
                "count": 2
            }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(searched, listed);
    let searched = scim
        .post(
            "/Users/.search",
            &json!({"schemas": [SEARCH_REQUEST], "excludedAttributes": ["emails", "meta", "name"]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(searched, excluded);
    let empty = scim
        .post("/Users/.search", &json!({"schemas": [SEARCH_REQUEST]}))
        .await
        .expect(200)
        .body;
    assert_eq!(empty["totalResults"], 4);

    // groups: .search and excluded members
    let ann = scim
        .query("/Users", &[("filter", "userName eq \"ann\"")])
        .await
        .expect(200)
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    scim.post("/Groups", &group("Readers", &[ann.as_str()]))
        .await
        .expect(201);
    let groups = scim
        .post(
            "/Groups/.search",
            &json!({"schemas": [SEARCH_REQUEST], "filter": "displayName eq \"readers\"",
                    "excludedAttributes": "members"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(groups["totalResults"], 1);
    assert!(groups["Resources"][0].get("members").is_none());
    assert_eq!(groups["Resources"][0]["displayName"], "Readers");
    let members_only = scim
        .query("/Groups", &[("attributes", "members")])
        .await
        .expect(200)
        .body;
    let readers = &members_only["Resources"][0];
    assert_eq!(keys(readers), ["id", "members", "schemas"]);
    assert_eq!(readers["members"][0]["value"], ann.as_str());

    // malformed SearchRequests
    for body in [
        json!({"filter": "userName pr"}),
        json!({"schemas": [CORE_USER], "filter": "userName pr"}),
        json!({"schemas": [SEARCH_REQUEST], "where": "userName pr"}),
        json!([SEARCH_REQUEST]),
    ] {
        let answer = scim.post("/Users/.search", &body).await;
        expect_error(answer, 400, Some("invalidSyntax"));
    }
    for body in [
        json!({"schemas": [SEARCH_REQUEST], "count": "many"}),
        json!({"schemas": [SEARCH_REQUEST], "count": true}),
        json!({"schemas": [SEARCH_REQUEST], "filter": 7}),
        json!({"schemas": [SEARCH_REQUEST], "attributes": [1, 2]}),
        json!({"schemas": [SEARCH_REQUEST], "sortBy": "nickName"}),
    ] {
        let answer = scim.post("/Users/.search", &body).await;
        expect_error(answer, 400, Some("invalidValue"));
    }
}

http_suite!(selections_on_one_user, selections_on_lists_and_search);
