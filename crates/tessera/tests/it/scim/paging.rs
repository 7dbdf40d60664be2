//! Paging (`startIndex`, `count`) and sorting (`sortBy`, `sortOrder`) of `/Users` and
//! `/Groups`: totals, caps at `maxResults`, and absurd values capped or refused (A35).

use super::support::{
    BULK_REQUEST, NO_MEMBERS, Scim, expect_error, group, resources, user, user_names,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};

/// Creates users with these names through one Bulk request, in this order.
async fn create_users(scim: &Scim, names: &[String]) {
    let operations: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{index}"),
                   "data": user(name, json!({}))})
        })
        .collect();
    let answer = scim
        .post(
            "/Bulk",
            &json!({"schemas": [BULK_REQUEST], "Operations": operations}),
        )
        .await
        .expect(200);
    let statuses: Vec<&Value> = answer.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|operation| &operation["status"])
        .collect();
    assert!(
        statuses.iter().all(|status| **status == "201"),
        "{}",
        answer.body
    );
}

async fn pages_have_totals_and_bounds(server: TestServer) {
    let scim = Scim::new(&server).await;
    let names: Vec<String> = ["echo", "Alpha", "delta", "bravo", "Charlie"]
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    create_users(&scim, &names).await;
    let page = |start: &'static str, count: &'static str| {
        let scim = scim.clone();
        async move {
            scim.query(
                "/Users",
                &[
                    ("startIndex", start),
                    ("count", count),
                    ("sortBy", "userName"),
                ],
            )
            .await
            .expect(200)
            .body
        }
    };
    let first = page("1", "2").await;
    assert_eq!(
        first["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(first["totalResults"], 5);
    assert_eq!(first["startIndex"], 1);
    assert_eq!(first["itemsPerPage"], 2);
    assert_eq!(user_names(&first), ["Alpha", "bravo"]);
    let second = page("3", "2").await;
    assert_eq!(second["startIndex"], 3);
    assert_eq!(user_names(&second), ["Charlie", "delta"]);
    let last = page("5", "2").await;
    assert_eq!(last["itemsPerPage"], 1);
    assert_eq!(user_names(&last), ["echo"]);
    let beyond = page("6", "2").await;
    assert_eq!(beyond["totalResults"], 5);
    assert_eq!(beyond["itemsPerPage"], 0);
    assert!(resources(&beyond).is_empty());

    // count=0 answers the total only
    let total = page("1", "0").await;
    assert_eq!(total["totalResults"], 5);
    assert_eq!(total["itemsPerPage"], 0);
    assert!(resources(&total).is_empty());
    // A35: out-of-range values are clamped (RFC 7644 §3.4.2.4)
    let negative = page("-7", "-3").await;
    assert_eq!(negative["startIndex"], 1);
    assert_eq!(negative["itemsPerPage"], 0);
    assert_eq!(negative["totalResults"], 5);
    let zero = page("0", "1").await;
    assert_eq!(zero["startIndex"], 1);
    assert_eq!(user_names(&zero), ["Alpha"]);
    let enormous = page("1", "99999999999").await;
    assert_eq!(enormous["itemsPerPage"], 5);
    let far = page("99999999999", "5").await;
    assert_eq!(far["itemsPerPage"], 0);
    assert_eq!(far["totalResults"], 5);
    // with a filter, totalResults counts the matches, not the page
    let filtered = scim
        .query("/Users", &[("filter", "userName co \"a\""), ("count", "1")])
        .await
        .expect(200)
        .body;
    assert_eq!(filtered["totalResults"], 4);
    assert_eq!(filtered["itemsPerPage"], 1);

    for (name, value) in [
        ("count", "ten"),
        ("startIndex", "1.5"),
        ("startIndex", ""),
        ("count", "99999999999999999999999"),
    ] {
        let answer = scim.query("/Users", &[(name, value)]).await;
        expect_error(answer, 400, Some("invalidValue"));
    }
    let unknown = scim.query("/Users", &[("limit", "10")]).await;
    expect_error(unknown, 400, Some("invalidValue"));
}

async fn count_is_capped_at_max_results(server: TestServer) {
    let scim = Scim::new(&server).await;
    let names: Vec<String> = (0..205).map(|n| format!("bulk{n:03}")).collect();
    create_users(&scim, &names).await;
    let answer = scim
        .query("/Users", &[("count", "1000"), ("sortBy", "userName")])
        .await
        .expect(200)
        .body;
    assert_eq!(answer["totalResults"], 205);
    assert_eq!(answer["itemsPerPage"], 200, "capped at filter.maxResults");
    assert_eq!(resources(&answer).len(), 200);
    // without count, the page is the maximum as well
    let default = scim.get("/Users").await.expect(200).body;
    assert_eq!(default["itemsPerPage"], 200);
    let rest = scim
        .query(
            "/Users",
            &[
                ("startIndex", "201"),
                ("count", "1000"),
                ("sortBy", "userName"),
            ],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        user_names(&rest),
        ["bulk200", "bulk201", "bulk202", "bulk203", "bulk204"]
    );
}

async fn users_sort_by_supported_attributes_only(server: TestServer) {
    let scim = Scim::new(&server).await;
    // one by one, so that each has its own creation time
    for name in ["mike", "Lima", "november", "KILO"] {
        scim.user_id(name).await;
    }
    let sorted = |sort_by: &'static str, order: Option<&'static str>| {
        let scim = scim.clone();
        async move {
            let mut query = vec![("sortBy", sort_by)];
            if let Some(order) = order {
                query.push(("sortOrder", order));
            }
            user_names(&scim.query("/Users", &query).await.expect(200).body)
        }
    };
    // case is ignored in ordering, as in comparisons
    assert_eq!(
        sorted("userName", None).await,
        ["KILO", "Lima", "mike", "november"]
    );
    assert_eq!(
        sorted("userName", Some("ascending")).await,
        ["KILO", "Lima", "mike", "november"]
    );
    assert_eq!(
        sorted("userName", Some("descending")).await,
        ["november", "mike", "Lima", "KILO"]
    );
    assert_eq!(
        sorted("USERNAME", Some("DESCENDING")).await,
        ["november", "mike", "Lima", "KILO"]
    );
    assert_eq!(
        sorted("meta.created", None).await,
        ["mike", "Lima", "november", "KILO"]
    );
    assert_eq!(
        sorted("meta.created", Some("descending")).await,
        ["KILO", "november", "Lima", "mike"]
    );
    // paging walks the sorted order
    let page = scim
        .query(
            "/Users",
            &[
                ("sortBy", "userName"),
                ("sortOrder", "descending"),
                ("startIndex", "2"),
                ("count", "2"),
            ],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(user_names(&page), ["mike", "Lima"]);

    for (sort_by, order) in [
        ("nickName", "ascending"),
        ("emails.type", "ascending"),
        ("password", "ascending"),
        ("nosuch", "ascending"),
        ("userName\"; DROP TABLE users; --", "ascending"),
        ("userName", "sideways"),
    ] {
        let answer = scim
            .query("/Users", &[("sortBy", sort_by), ("sortOrder", order)])
            .await;
        let answer = expect_error(answer, 400, Some("invalidValue"));
        assert!(
            !answer.body["detail"].as_str().unwrap().contains("DROP"),
            "{}",
            answer.body
        );
    }
}

/// `/Groups` accepts `sortBy=meta.created` (and `id`) only: it must then answer in
/// creation order, both ways, across pages.
/// Groups come by display name (the order their store keeps), ascending; other orders
/// are refused rather than applied to one page.
async fn groups_sort_by_display_name_only(server: TestServer) {
    let scim = Scim::new(&server).await;
    // created in an order that is not the alphabetical one
    for name in ["Zulu", "Yankee", "Xray"] {
        scim.post("/Groups", &group(name, &NO_MEMBERS))
            .await
            .expect(201);
    }
    for refused in [
        &[("sortBy", "members")][..],
        &[("sortBy", "meta.created")][..],
        &[("sortBy", "displayName"), ("sortOrder", "descending")][..],
    ] {
        let answer = scim.query("/Groups", refused).await;
        expect_error(answer, 400, Some("invalidValue"));
    }
    let names = |query: &'static [(&'static str, &'static str)]| {
        let scim = scim.clone();
        async move {
            let body = scim.query("/Groups", query).await.expect(200).body;
            body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|group| group["displayName"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(names(&[]).await, ["Xray", "Yankee", "Zulu"]);
    assert_eq!(
        names(&[("sortBy", "displayName"), ("sortOrder", "ascending")]).await,
        ["Xray", "Yankee", "Zulu"]
    );
    assert_eq!(
        names(&[
            ("sortBy", "displayName"),
            ("startIndex", "2"),
            ("count", "1")
        ])
        .await,
        ["Yankee"]
    );
}

/// Sorting by attributes that some users lack: the users that have one come in order, and
/// descending is exactly the reverse of ascending.
async fn sorting_by_optional_attributes_is_consistent(server: TestServer) {
    let scim = Scim::new(&server).await;
    for (name, display, family, email) in [
        ("u1", Some("bravo"), Some("Young"), Some("zed@example.com")),
        ("u2", Some("Alpha"), None, Some("amy@example.com")),
        ("u3", None, Some("adams"), None),
        (
            "u4",
            Some("charlie"),
            Some("Baker"),
            Some("Mia@example.com"),
        ),
    ] {
        let mut extra = json!({});
        if let Some(display) = display {
            extra["displayName"] = json!(display);
        }
        if let Some(family) = family {
            extra["name"] = json!({"familyName": family});
        }
        if let Some(email) = email {
            extra["emails"] = json!([{"value": email, "primary": true}]);
        }
        scim.create_user(&user(name, extra)).await;
    }
    for (sort_by, present_in_order) in [
        ("displayName", vec!["u2", "u1", "u4"]),
        ("name.familyName", vec!["u3", "u4", "u1"]),
        ("emails", vec!["u2", "u4", "u1"]),
        ("emails.value", vec!["u2", "u4", "u1"]),
    ] {
        let order = |direction: &'static str| {
            let scim = scim.clone();
            async move {
                user_names(
                    &scim
                        .query("/Users", &[("sortBy", sort_by), ("sortOrder", direction)])
                        .await
                        .expect(200)
                        .body,
                )
            }
        };
        let ascending = order("ascending").await;
        let descending = order("descending").await;
        let present: Vec<&String> = ascending
            .iter()
            .filter(|name| present_in_order.contains(&name.as_str()))
            .collect();
        assert_eq!(present, present_in_order, "{sort_by}: {ascending:?}");
        let mut reversed = descending.clone();
        reversed.reverse();
        assert_eq!(reversed, ascending, "{sort_by}");
    }
}

async fn groups_page_like_users(server: TestServer) {
    let scim = Scim::new(&server).await;
    for name in ["One", "Two", "Three"] {
        scim.post("/Groups", &group(name, &NO_MEMBERS))
            .await
            .expect(201);
    }
    let mut seen = Vec::new();
    for start in ["1", "2", "3"] {
        let page = scim
            .query("/Groups", &[("startIndex", start), ("count", "1")])
            .await
            .expect(200)
            .body;
        assert_eq!(page["totalResults"], 3);
        assert_eq!(page["startIndex"], start.parse::<u64>().unwrap());
        assert_eq!(page["itemsPerPage"], 1);
        seen.push(
            page["Resources"][0]["displayName"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    seen.sort();
    assert_eq!(
        seen,
        ["One", "Three", "Two"],
        "pages neither repeat nor skip"
    );
    let total = scim
        .query("/Groups", &[("count", "0")])
        .await
        .expect(200)
        .body;
    assert_eq!(total["totalResults"], 3);
    assert!(resources(&total).is_empty());
}

http_suite!(
    pages_have_totals_and_bounds,
    count_is_capped_at_max_results,
    users_sort_by_supported_attributes_only,
    groups_sort_by_display_name_only,
    sorting_by_optional_attributes_is_consistent,
    groups_page_like_users,
);
