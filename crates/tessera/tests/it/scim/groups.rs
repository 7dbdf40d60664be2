//! `/Groups`: members are users of the tenant; PATCH adds and removes members and renames;
//! display names are unique ignoring case; users list their groups.

use super::support::{
    CORE_GROUP, NO_MEMBERS, Scim, etag, expect_error, group, id_of, member_ids, sorted, user,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::json;

async fn groups_hold_members_and_users_list_their_groups(server: TestServer) {
    let scim = Scim::new(&server).await;
    let ann = scim.user_id("ann").await;
    let ben = scim.user_id("ben").await;
    let cat = scim.user_id("cat").await;

    let answer = scim
        .post(
            "/Groups",
            &json!({
                "schemas": [CORE_GROUP],
                "displayName": "Engineers",
                "externalId": "g-eng",
                "members": [{"value": ann, "type": "User"}, {"value": ben, "display": "ignored"}]
            }),
        )
        .await
        .expect(201);
    let created = answer.body.clone();
    let id = id_of(&created);
    let path = format!("/Groups/{id}");
    let location = format!("{}/scim/v2/Groups/{id}", server.base);
    assert_eq!(answer.headers["location"], location.as_str());
    assert_eq!(answer.headers["content-type"], "application/scim+json");
    assert_eq!(etag(&answer), "W/\"1\"");
    assert_eq!(created["schemas"], json!([CORE_GROUP]));
    assert_eq!(created["displayName"], "Engineers");
    assert_eq!(created["externalId"], "g-eng");
    assert_eq!(created["meta"]["resourceType"], "Group");
    assert_eq!(created["meta"]["location"], location);
    assert_eq!(member_ids(&created), sorted(&[&ann, &ben]));
    let member = created["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|member| member["value"] == ann.as_str())
        .unwrap();
    assert_eq!(member["type"], "User");
    assert_eq!(
        member["$ref"],
        format!("{}/scim/v2/Users/{ann}", server.base)
    );

    let read = scim.get(&path).await.expect(200).body;
    assert_eq!(member_ids(&read), sorted(&[&ann, &ben]));

    // add a member
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": cat}]}]),
    )
    .await
    .expect(204);
    let added = scim.get(&path).await.expect(200);
    assert_eq!(member_ids(&added.body), sorted(&[&ann, &ben, &cat]));
    // adding one already there changes nothing
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": cat}]}]),
    )
    .await
    .expect(204);
    // remove one by value filter
    scim.patch(
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{ann}\"]")}]),
    )
    .await
    .expect(204);
    let removed = scim.get(&path).await.expect(200);
    assert_eq!(member_ids(&removed.body), sorted(&[&ben, &cat]));
    // Entra ID's form: remove with a value list
    scim.patch(
        &path,
        json!([{"op": "remove", "path": "members", "value": [{"value": cat}]}]),
    )
    .await
    .expect(204);
    let removed = scim.get(&path).await.expect(200);
    assert_eq!(member_ids(&removed.body), sorted(&[&ben]));
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": cat}]}]),
    )
    .await
    .expect(204);

    // rename: members stay
    let renamed = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "displayName", "value": "Engineering"}]),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["displayName"], "Engineering");
    assert_eq!(renamed.body["externalId"], "g-eng");
    assert_eq!(member_ids(&renamed.body), sorted(&[&ben, &cat]));
    // a rename and a member change in one request
    let both = scim
        .patch(
            &path,
            json!([
                {"op": "replace", "path": "displayName", "value": "Engineering Team"},
                {"op": "add", "path": "members", "value": [{"value": ann}]},
                {"op": "remove", "path": format!("members[value eq \"{ann}\"]")},
                {"op": "add", "path": "members", "value": [{"value": ann}]}
            ]),
        )
        .await
        .expect(200);
    assert_eq!(both.body["displayName"], "Engineering Team");
    assert_eq!(member_ids(&both.body), sorted(&[&ann, &ben, &cat]));
    scim.patch(
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{ann}\"]")}]),
    )
    .await
    .expect(204);

    let renamed = scim
        .patch(
            &path,
            json!([{"op": "replace", "value": {"displayName": "Engineering Team"}}]),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["displayName"], "Engineering Team");
    assert_eq!(member_ids(&renamed.body), sorted(&[&ben, &cat]));

    // users list their groups, read-only
    let ben_resource = scim.get(&format!("/Users/{ben}")).await.expect(200).body;
    assert_eq!(
        ben_resource["groups"],
        json!([{"value": id, "$ref": location, "display": "Engineering Team", "type": "direct"}])
    );
    let ann_resource = scim.get(&format!("/Users/{ann}")).await.expect(200).body;
    assert!(ann_resource.get("groups").is_none(), "{ann_resource}");
    let excluded = scim
        .query(
            &format!("/Users/{ben}"),
            &[("excludedAttributes", "groups")],
        )
        .await
        .expect(200)
        .body;
    assert!(excluded.get("groups").is_none());

    // filters on groups
    for filter in [
        "displayName eq \"engineering team\"",
        "displayName sw \"Eng\"",
        "displayName co \"team\"",
        "externalId eq \"g-eng\"",
        "displayName sw \"eng\" and externalId eq \"g-eng\"",
    ] {
        let found = scim
            .query("/Groups", &[("filter", filter)])
            .await
            .expect(200)
            .body;
        assert_eq!(found["totalResults"], 1, "{filter}");
        assert_eq!(found["Resources"][0]["id"], id.as_str(), "{filter}");
    }
    let none = scim
        .query("/Groups", &[("filter", "externalId eq \"G-ENG\"")])
        .await
        .expect(200)
        .body;
    assert_eq!(none["totalResults"], 0, "externalId is case-exact");

    // PUT replaces the members
    let replaced = scim
        .put(&path, &group("Engineering Team", &[&ann]))
        .await
        .expect(200);
    assert_eq!(member_ids(&replaced.body), [ann.as_str()]);
    assert!(replaced.body.get("externalId").is_none());

    // a deleted user leaves its groups
    scim.delete(&format!("/Users/{ann}")).await.expect(204);
    let read = scim.get(&path).await.expect(200).body;
    assert!(member_ids(&read).is_empty(), "{read}");

    // deleting the group: gone, and gone from its users' groups
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": ben}]}]),
    )
    .await
    .expect(204);
    let deleted = scim.delete(&path).await.expect(204);
    assert_eq!(deleted.body, serde_json::Value::Null);
    expect_error(scim.get(&path).await, 404, None);
    expect_error(scim.delete(&path).await, 404, None);
    let ben_resource = scim.get(&format!("/Users/{ben}")).await.expect(200).body;
    assert!(ben_resource.get("groups").is_none(), "{ben_resource}");
    let listed = scim.get("/Groups").await.expect(200).body;
    assert_eq!(listed["totalResults"], 0);
}

async fn group_names_are_unique_and_members_must_be_users(server: TestServer) {
    let scim = Scim::new(&server).await;
    let ann = scim.user_id("ann").await;
    let first = scim
        .post("/Groups", &group("Admins", &[&ann]))
        .await
        .expect(201)
        .body;
    let first_path = format!("/Groups/{}", id_of(&first));
    expect_error(
        scim.post("/Groups", &group("ADMINS", &NO_MEMBERS)).await,
        409,
        Some("uniqueness"),
    );
    let other = scim
        .post("/Groups", &group("Others", &NO_MEMBERS))
        .await
        .expect(201)
        .body;
    let other_path = format!("/Groups/{}", id_of(&other));
    expect_error(
        scim.patch(
            &other_path,
            json!([{"op": "replace", "path": "displayName", "value": "admins"}]),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    expect_error(
        scim.put(&other_path, &group("Admins", &NO_MEMBERS)).await,
        409,
        Some("uniqueness"),
    );

    // members that are not users of the tenant
    let deleted = scim.user_id("gone").await;
    scim.delete(&format!("/Users/{deleted}")).await.expect(204);
    server.tenant("acme").await;
    let acme = Scim::of_tenant(&server, "acme").await;
    let foreign = acme.user_id("foreigner").await;
    let group_id = id_of(&first);
    for member in [
        "0190a0b0-0000-7000-8000-000000000000",
        "not-a-uuid",
        "",
        deleted.as_str(),
        foreign.as_str(),
        group_id.as_str(),
    ] {
        let created = scim.post("/Groups", &group("Bad", &[member])).await;
        expect_error(created, 400, Some("invalidValue"));
        let patched = scim
            .patch(
                &first_path,
                json!([{"op": "add", "path": "members", "value": [{"value": member}]}]),
            )
            .await;
        expect_error(patched, 400, Some("invalidValue"));
    }
    let typed = scim
        .post(
            "/Groups",
            &json!({"schemas": [CORE_GROUP], "displayName": "Nested",
                    "members": [{"value": group_id, "type": "Group"}]}),
        )
        .await;
    expect_error(typed, 400, Some("invalidValue"));
    let nameless = scim
        .post("/Groups", &json!({"schemas": [CORE_GROUP]}))
        .await;
    expect_error(nameless, 400, Some("invalidValue"));
    let user_schema = scim.post("/Groups", &user("not-a-group", json!({}))).await;
    assert_eq!(user_schema.status, 400, "{}", user_schema.body);
    // nothing of that was written
    let read = scim.get(&first_path).await.expect(200);
    assert_eq!(member_ids(&read.body), [ann.as_str()]);
    assert_eq!(etag(&read), "W/\"1\"");
    let listed = scim.get("/Groups").await.expect(200).body;
    assert_eq!(listed["totalResults"], 2);

    // read-only attributes of groups
    for operation in [
        json!({"op": "replace", "path": "id", "value": "x"}),
        json!({"op": "replace", "path": "meta.version", "value": "W/\"7\""}),
    ] {
        let answer = scim.patch(&first_path, json!([operation])).await;
        expect_error(answer, 400, Some("mutability"));
    }
}

/// A list page reads its users' groups together: each user must get exactly its own.
async fn lists_show_each_users_groups(server: TestServer) {
    let scim = Scim::new(&server).await;
    let mut ids = std::collections::BTreeMap::new();
    for name in ["u1", "u2", "u3", "u4"] {
        ids.insert(name, scim.user_id(name).await);
    }
    let memberships = [
        ("Alpha", vec!["u1", "u2"]),
        ("Beta", vec!["u2", "u3"]),
        ("Gamma", vec!["u2"]),
    ];
    for (name, members) in &memberships {
        let members: Vec<&str> = members.iter().map(|m| ids[m].as_str()).collect();
        scim.post("/Groups", &group(name, &members))
            .await
            .expect(201);
    }
    let expected = [
        ("u1", vec!["Alpha"]),
        ("u2", vec!["Alpha", "Beta", "Gamma"]),
        ("u3", vec!["Beta"]),
        ("u4", vec![]),
    ];
    for query in [
        &[("sortBy", "userName")][..],
        &[("sortBy", "userName"), ("attributes", "userName,groups")],
        &[
            ("sortBy", "userName"),
            ("attributes", "groups.display,userName"),
        ],
    ] {
        let listed = scim.query("/Users", query).await.expect(200).body;
        let users = listed["Resources"].as_array().unwrap();
        assert_eq!(users.len(), 4);
        for (user, (name, groups)) in users.iter().zip(&expected) {
            assert_eq!(user["userName"], *name, "{query:?}");
            let mut shown: Vec<&str> = user["groups"]
                .as_array()
                .map(|groups| {
                    groups
                        .iter()
                        .map(|group| group["display"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            shown.sort_unstable();
            assert_eq!(&shown, groups, "{name} {query:?}: {user}");
        }
    }
    let excluded = scim
        .query("/Users", &[("excludedAttributes", "groups")])
        .await
        .expect(200)
        .body;
    assert!(
        excluded["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|user| user.get("groups").is_none())
    );
}

/// Groups larger than one page of members (200) show every member, and deleting a member
/// moves the group's version on.
async fn large_groups_show_every_member(server: TestServer) {
    let scim = Scim::new(&server).await;
    let operations: Vec<serde_json::Value> = (0..250)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("m{n}"),
                   "data": user(&format!("member{n:03}"), json!({}))})
        })
        .collect();
    let answer = scim
        .post(
            "/Bulk",
            &json!({"schemas": [super::support::BULK_REQUEST], "Operations": operations}),
        )
        .await
        .expect(200);
    let members: Vec<String> = answer.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|operation| {
            assert_eq!(operation["status"], "201", "{operation}");
            operation["location"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let created = scim
        .post("/Groups", &group("Everyone", &members))
        .await
        .expect(201);
    assert_eq!(member_ids(&created.body), sorted(&members));
    let path = format!("/Groups/{}", id_of(&created.body));
    let read = scim.get(&path).await.expect(200);
    assert_eq!(member_ids(&read.body).len(), 250);
    assert_eq!(member_ids(&read.body), sorted(&members));
    let version = etag(&read);

    scim.delete(&format!("/Users/{}", members[0]))
        .await
        .expect(204);
    let read = scim.get(&path).await.expect(200);
    assert_eq!(member_ids(&read.body), sorted(&members[1..]));
    assert_ne!(
        etag(&read),
        version,
        "the member's deletion changed the group"
    );
    scim.send(
        reqwest::Method::GET,
        &path,
        &[],
        &[("if-none-match", &version)],
        None,
    )
    .await
    .expect(200);
    scim.patch(
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", members[1])}]),
    )
    .await
    .expect(204);
    let removed = scim.get(&path).await.expect(200);
    assert_eq!(member_ids(&removed.body), sorted(&members[2..]));
    let cleared = scim
        .patch(&path, json!([{"op": "remove", "path": "members"}]))
        .await
        .expect(200);
    assert!(cleared.body.get("members").is_none(), "{}", cleared.body);
    let listed = scim
        .query("/Groups", &[("filter", "displayName eq \"Everyone\"")])
        .await
        .expect(200)
        .body;
    assert!(listed["Resources"][0].get("members").is_none());
}

http_suite!(
    groups_hold_members_and_users_list_their_groups,
    group_names_are_unique_and_members_must_be_users,
    lists_show_each_users_groups,
    large_groups_show_every_member,
);
