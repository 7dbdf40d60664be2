//! ETags (RFC 7644 §3.14): `W/"<version>"` on every resource; `If-Match` guards writes
//! (a stale tag is 412 and writes nothing), `If-None-Match` answers 304; weak and strong
//! spellings of a tag name the same version.

use super::support::{NO_MEMBERS, Scim, etag, expect_error, group, id_of, user};
use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn if_match_guards_user_writes(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("tagged").await;
    let path = format!("/Users/{id}");
    let read = scim.get(&path).await.expect(200);
    assert_eq!(etag(&read), "W/\"1\"");

    // the current version, weak: written
    let renamed = user("tagged", json!({"displayName": "Version Two"}));
    let answer = scim
        .send(
            Method::PUT,
            &path,
            &[],
            &[("if-match", "W/\"1\"")],
            Some(&renamed),
        )
        .await
        .expect(200);
    assert_eq!(etag(&answer), "W/\"2\"");

    // a stale version: 412, and nothing is written
    let stale = user("tagged", json!({"displayName": "Lost Update"}));
    let answer = scim
        .send(
            Method::PUT,
            &path,
            &[],
            &[("if-match", "W/\"1\"")],
            Some(&stale),
        )
        .await;
    expect_error(answer, 412, None);
    let patch = super::support::patch(
        json!([{"op": "replace", "path": "displayName", "value": "Lost Patch"}]),
    );
    for tag in ["W/\"1\"", "\"1\"", "W/\"3\"", "banana", "\"\""] {
        let answer = scim
            .send(
                Method::PATCH,
                &path,
                &[],
                &[("if-match", tag)],
                Some(&patch),
            )
            .await;
        expect_error(answer, 412, None);
    }
    let answer = scim
        .send(Method::DELETE, &path, &[], &[("if-match", "W/\"1\"")], None)
        .await;
    expect_error(answer, 412, None);
    let read = scim.get(&path).await.expect(200);
    assert_eq!(read.body["displayName"], "Version Two", "nothing written");
    assert_eq!(etag(&read), "W/\"2\"");

    // the strong spelling and `*` name the current version too
    let answer = scim
        .send(
            Method::PATCH,
            &path,
            &[],
            &[("if-match", "\"2\"")],
            Some(&super::support::patch(
                json!([{"op": "replace", "path": "displayName", "value": "Three"}]),
            )),
        )
        .await
        .expect(200);
    assert_eq!(etag(&answer), "W/\"3\"");
    let answer = scim
        .send(
            Method::PUT,
            &path,
            &[],
            &[("if-match", "*")],
            Some(&user("tagged", json!({"displayName": "Five"}))),
        )
        .await
        .expect(200);
    assert_eq!(etag(&answer), "W/\"4\"");
    assert_eq!(answer.body["meta"]["version"], "W/\"4\"");

    // a DELETE with the current version
    scim.send(Method::DELETE, &path, &[], &[("if-match", "W/\"4\"")], None)
        .await
        .expect(204);
    expect_error(scim.get(&path).await, 404, None);
}

/// RFC 9110 §13.1.1: `If-Match` with a list of tags holds when any of them is current.
async fn if_match_with_several_tags_matches_any(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("listed").await;
    let path = format!("/Users/{id}");
    let rename = |name: &str| {
        super::support::patch(json!([{"op": "replace", "path": "displayName", "value": name}]))
    };
    let answer = scim
        .send(
            Method::PATCH,
            &path,
            &[],
            &[("if-match", "W/\"1\", W/\"7\"")],
            Some(&rename("Two")),
        )
        .await
        .expect(200);
    assert_eq!(etag(&answer), "W/\"2\"");
    // the current version is not the first tag of the list
    let answer = scim
        .send(
            Method::PATCH,
            &path,
            &[],
            &[("if-match", "W/\"1\", W/\"2\"")],
            Some(&rename("Three")),
        )
        .await;
    assert_eq!(
        answer.status, 200,
        "If-Match: W/\"1\", W/\"2\" at version 2: {}",
        answer.body
    );
    assert_eq!(etag(&answer), "W/\"3\"");
    let answer = scim
        .send(
            Method::PATCH,
            &path,
            &[],
            &[("if-match", "W/\"1\", W/\"2\"")],
            Some(&rename("Lost")),
        )
        .await;
    expect_error(answer, 412, None);
}

async fn if_none_match_answers_not_modified(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("cached").await;
    let path = format!("/Users/{id}");
    for tag in ["W/\"1\"", "\"1\"", "W/\"0\", W/\"1\"", "*"] {
        let answer = scim
            .send(Method::GET, &path, &[], &[("if-none-match", tag)], None)
            .await
            .expect(304);
        assert_eq!(etag(&answer), "W/\"1\"", "{tag}");
        assert_eq!(answer.body, serde_json::Value::Null, "304 has no body");
    }
    scim.patch(
        &path,
        json!([{"op": "add", "path": "nickName", "value": "Cache"}]),
    )
    .await
    .expect(200);
    let answer = scim
        .send(
            Method::GET,
            &path,
            &[],
            &[("if-none-match", "W/\"1\"")],
            None,
        )
        .await
        .expect(200);
    assert_eq!(etag(&answer), "W/\"2\"");
    assert_eq!(answer.body["nickName"], "Cache");
    // the tag is sent even when the selection leaves meta out
    let answer = scim
        .send(Method::GET, &path, &[("attributes", "userName")], &[], None)
        .await
        .expect(200);
    assert_eq!(etag(&answer), "W/\"2\"");
    assert!(answer.body.get("meta").is_none());
}

async fn group_versions_guard_group_writes(server: TestServer) {
    let scim = Scim::new(&server).await;
    let member = scim.user_id("member").await;
    let created = scim
        .post("/Groups", &group("Tagged", &NO_MEMBERS))
        .await
        .expect(201);
    assert_eq!(etag(&created), "W/\"1\"");
    let path = format!("/Groups/{}", id_of(&created.body));
    let add = super::support::patch(
        json!([{"op": "add", "path": "members", "value": [{"value": member}]}]),
    );
    let answer = scim
        .send(
            Method::PATCH,
            &path,
            &[],
            &[("if-match", "W/\"7\"")],
            Some(&add),
        )
        .await;
    expect_error(answer, 412, None);
    let read = scim.get(&path).await.expect(200);
    assert!(read.body.get("members").is_none(), "nothing written");
    let answer = scim
        .send(
            Method::PATCH,
            &path,
            &[],
            &[("if-match", "W/\"1\"")],
            Some(&add),
        )
        .await
        .expect(204);
    let version = etag(&answer);
    assert_eq!(
        version, "W/\"2\"",
        "a member change is a new version, even without a body"
    );
    let answer = scim
        .send(
            Method::PUT,
            &path,
            &[],
            &[("if-match", "W/\"1\"")],
            Some(&group("Renamed", &NO_MEMBERS)),
        )
        .await;
    expect_error(answer, 412, None);
    scim.send(
        Method::GET,
        &path,
        &[],
        &[("if-none-match", &version)],
        None,
    )
    .await
    .expect(304);
    let answer = scim
        .send(Method::DELETE, &path, &[], &[("if-match", "W/\"1\"")], None)
        .await;
    expect_error(answer, 412, None);
    scim.send(Method::DELETE, &path, &[], &[("if-match", &version)], None)
        .await
        .expect(204);
}

http_suite!(
    if_match_guards_user_writes,
    if_match_with_several_tags_matches_any,
    if_none_match_answers_not_modified,
    group_versions_guard_group_writes,
);
