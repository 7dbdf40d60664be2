//! Bad input is always a SCIM error (RFC 7644 §3.12) with the right `scimType`, never a
//! 500: malformed JSON and bad UTF-8 (A38), wrong content types, oversized bodies (A37),
//! garbage resources, PATCH messages and paths.

use super::support::{CORE_GROUP, CORE_USER, PATCH_OP, Scim, expect_error, id_of, user};
use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::{Value, json};

async fn malformed_bodies_are_invalid_syntax(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("target").await;
    let user_path = format!("/Users/{id}");
    let group = scim
        .post("/Groups", &super::support::group("Target", &[id.as_str()]))
        .await
        .expect(201)
        .body;
    let group_path = format!("/Groups/{}", id_of(&group));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: [&[u8]; 8] = [
        b"{\"schemas\":",
        b"{",
        b"not json at all",
        b"{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"x\",}",
        b"\xff\xfe{\"userName\": \"x\"}",
        b"{\"userName\": \"\xc3\x28\"}",
        b"",
        deep.as_bytes(),
    ];
    for (method, path) in [
        (Method::POST, "/Users"),
        (Method::PUT, user_path.as_str()),
        (Method::PATCH, user_path.as_str()),
        (Method::POST, "/Groups"),
        (Method::PUT, group_path.as_str()),
        (Method::PATCH, group_path.as_str()),
        (Method::POST, "/Users/.search"),
        (Method::POST, "/Groups/.search"),
        (Method::POST, "/Bulk"),
    ] {
        for body in bodies {
            let answer = scim
                .raw(method.clone(), path, "application/scim+json", body.to_vec())
                .await;
            let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
            assert_eq!(
                answer.status, 400,
                "{method} {path} {shown}: {}",
                answer.body
            );
            expect_error(answer, 400, Some("invalidSyntax"));
        }
    }
    let read = scim.get(&user_path).await.expect(200);
    assert_eq!(read.body["meta"]["version"], "W/\"1\"", "nothing written");
}

async fn wrong_content_types_and_oversized_bodies(server: TestServer) {
    let scim = Scim::new(&server).await;
    let body = user("typed", json!({})).to_string();
    // application/json is accepted as well (RFC 7644 §3.1), with parameters
    scim.raw(Method::POST, "/Users", "application/json", body.clone())
        .await
        .expect(201);
    scim.raw(
        Method::POST,
        "/Users",
        "application/scim+json; charset=utf-8",
        user("typed2", json!({})).to_string(),
    )
    .await
    .expect(201);
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "",
    ] {
        let answer = scim
            .raw(Method::POST, "/Users", content_type, body.clone())
            .await;
        expect_error(answer, 415, None);
    }
    let no_type = scim
        .server
        .client
        .post(format!("{}/scim/v2/Users", scim.server.base))
        .bearer_auth(&scim.token)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 415);
    assert_eq!(no_type.headers()["content-type"], "application/scim+json");

    // A37: a body over the limit is 413, as a SCIM error, on both paths
    let padding = "x".repeat(2 * 1024 * 1024);
    let huge = user("huge", json!({"displayName": padding})).to_string();
    for base in ["/scim/v2", "/t/acme/scim/v2"] {
        if base.starts_with("/t/") {
            scim.server.tenant("acme").await;
        }
        // Its own connection: the server closes it after the 413 (without saying so), and a
        // pooled connection would fail the next request of the shared client.
        let response = reqwest::Client::new()
            .post(format!("{}{base}/Users", scim.server.base))
            .bearer_auth(&scim.token)
            .header("content-type", "application/scim+json")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{base}");
        assert_eq!(
            response.headers()["content-type"],
            "application/scim+json",
            "{base}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "413", "{body}");
        assert_eq!(
            body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
    }
    assert!(scim.user_names("userName eq \"huge\"").await.is_empty());
}

async fn garbage_resources_are_refused_with_their_scim_type(server: TestServer) {
    let scim = Scim::new(&server).await;
    let long = "x".repeat(100_000);
    let users: Vec<(Value, &str)> = vec![
        (json!([]), "invalidSyntax"),
        (json!("user"), "invalidSyntax"),
        (json!(null), "invalidSyntax"),
        (json!(42), "invalidSyntax"),
        (json!({}), "invalidSyntax"),
        (json!({"schemas": []}), "invalidSyntax"),
        (
            json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": "x"}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [CORE_GROUP], "userName": "x"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [CORE_USER, "urn:evil"], "userName": "x"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [CORE_USER, 7], "userName": "x"}),
            "invalidSyntax",
        ),
        (json!({"schemas": [CORE_USER]}), "invalidValue"),
        (user("x", json!({"unknownAttribute": 1})), "invalidSyntax"),
        (
            user("x", json!({"name": {"nickName": "x"}})),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [CORE_USER], "userName": 123}),
            "invalidValue",
        ),
        (
            json!({"schemas": [CORE_USER], "userName": ["a"]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [CORE_USER], "userName": "\u{0}\u{7}"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [CORE_USER], "userName": long}),
            "invalidValue",
        ),
        (
            user("x", json!({"emails": "x@example.com"})),
            "invalidValue",
        ),
        (
            user("x", json!({"emails": ["x@example.com"]})),
            "invalidValue",
        ),
        (
            user("x", json!({"emails": [{"value": "not an email"}]})),
            "invalidValue",
        ),
        (
            user("x", json!({"emails": [{"type": "work"}]})),
            "invalidValue",
        ),
        (
            user("x", json!({"phoneNumbers": [{"value": "12"}]})),
            "invalidValue",
        ),
        (user("x", json!({"active": "maybe"})), "invalidValue"),
        (user("x", json!({"password": 12345})), "invalidValue"),
        (user("x", json!({"name": "Ada"})), "invalidValue"),
        (
            user("x", json!({"profileUrl": "javascript:alert(1)"})),
            "invalidValue",
        ),
        (
            user("x", json!({"timezone": "not a zone!"})),
            "invalidValue",
        ),
        (
            user(
                "x",
                json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "nobody"}}}),
            ),
            "invalidValue",
        ),
        (
            user(
                "x",
                json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}),
            ),
            "invalidValue",
        ),
        (
            user(
                "x",
                json!({"urn:ietf:params:scim:schemas:extension:tessera:2.0:User": {"undeclared": 1}}),
            ),
            "invalidSyntax",
        ),
        (user("x", json!({"displayName": "a\u{0}b"})), "invalidValue"),
    ];
    for (body, scim_type) in &users {
        let answer = scim.post("/Users", body).await;
        let shown: String = body.to_string().chars().take(120).collect();
        assert_eq!(answer.status, 400, "{shown}: {}", answer.body);
        expect_error(answer, 400, Some(scim_type));
    }
    assert!(scim.user_names("userName pr").await.is_empty());

    let id = scim.user_id("patched").await;
    let path = format!("/Users/{id}");
    let patches: Vec<(Value, &str)> = vec![
        (
            json!({"Operations": [{"op": "add", "path": "nickName", "value": "x"}]}),
            "invalidSyntax",
        ),
        (json!({"schemas": [PATCH_OP]}), "invalidSyntax"),
        (
            json!({"schemas": [PATCH_OP], "Operations": []}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": {}}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": ["add"]}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"path": "nickName"}]}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "nickName"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "value": "x"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove"}]}),
            "noTarget",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": 7, "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "", "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "emails[", "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "a.b.c", "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "emails[nosuch eq \"x\"].value", "value": "x"}]}),
            "noTarget",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "nickName", "value": {"deep": [1]}}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": null}]}),
            "invalidValue",
        ),
    ];
    for (body, scim_type) in &patches {
        let answer = scim.send(Method::PATCH, &path, &[], &[], Some(body)).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        expect_error(answer, 400, Some(scim_type));
    }
    let too_many: Vec<Value> = (0..101)
        .map(|n| json!({"op": "add", "path": "nickName", "value": format!("n{n}")}))
        .collect();
    let answer = scim.patch(&path, Value::Array(too_many)).await;
    expect_error(answer, 413, None);
    let read = scim.get(&path).await.expect(200);
    assert_eq!(read.body["meta"]["version"], "W/\"1\"", "nothing written");
}

/// Error details never echo the values a client sent (they may be personal data or secrets).
async fn error_details_never_echo_values(server: TestServer) {
    let scim = Scim::new(&server).await;
    let canary = "CANARY7f3a";
    let bodies = [
        user(
            "x",
            json!({"emails": [{"value": format!("{canary} not an email")}]}),
        ),
        user(&format!("{canary}\u{7}"), json!({})),
        user("x", json!({"password": canary})),
        user("x", json!({"phoneNumbers": [{"value": canary}]})),
        user("x", json!({"profileUrl": format!("javascript:{canary}")})),
        user("x", json!({"active": canary})),
    ];
    for body in &bodies {
        let answer = scim.post("/Users", body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        let detail = answer.body["detail"].as_str().unwrap_or_default();
        assert!(
            !detail.contains(canary),
            "the detail quotes the value: {detail}"
        );
    }
    for filter in [
        format!("userName eq {canary}"),
        format!("userName eq \"{canary}"),
        format!("meta.created gt \"{canary}\""),
    ] {
        let answer = scim.query("/Users", &[("filter", filter.as_str())]).await;
        let detail = answer.body["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        expect_error(answer, 400, Some("invalidFilter"));
        assert!(!detail.contains(canary), "{filter}: {detail}");
    }
}

/// No path, header or query string of a client's making turns into a 500.
async fn odd_paths_and_parameters_are_never_server_errors(server: TestServer) {
    let scim = Scim::new(&server).await;
    let id = scim.user_id("odd").await;
    for path in [
        "/Users/%00",
        "/Users/..%2F..%2Fadmin",
        "/Users/%F0%9F%99%82",
        "/Users/%ff%fe",
        "/Users/' OR 1=1 --",
        "/Users/00000000-0000-0000-0000-000000000000",
        "/Groups/%00",
        "/Groups/-1",
        "/Schemas/%00",
        "/ResourceTypes/%ff",
        "/Users/.search/x",
        "//Users",
    ] {
        let answer = scim.get(path).await;
        assert!(
            answer.status.is_client_error(),
            "{path}: {} {}",
            answer.status,
            answer.body
        );
        assert_eq!(
            answer.headers["content-type"], "application/scim+json",
            "{path}"
        );
    }
    let user_path = format!("/Users/{id}");
    for query in [
        &[("attributes", "%00")][..],
        &[("attributes", &"a,".repeat(5000))],
        &[("excludedAttributes", "urn:")],
        &[("attributes", "emails.value.x")],
    ] {
        let answer = scim.query(&user_path, query).await;
        assert_eq!(answer.status, 400, "{query:?}: {}", answer.body);
        expect_error(answer, 400, Some("invalidPath"));
    }
    for query in [
        &[("filter", "userName eq \"\u{fffd}\"")][..],
        &[("sortBy", "")],
        &[("sortOrder", "ascending")],
        &[
            ("filter", "userName eq \"x\""),
            ("filter", "userName eq \"odd\""),
        ],
    ] {
        let answer = scim.query("/Users", query).await;
        assert_eq!(answer.status, 200, "{query:?}: {}", answer.body);
    }
    for (name, value) in [("if-match", "garbage"), ("if-none-match", "W/\"\"")] {
        let answer = scim
            .send(Method::GET, &user_path, &[], &[(name, value)], None)
            .await;
        assert!(!answer.status.is_server_error(), "{name}");
    }
    let answer = scim
        .send(
            Method::PATCH,
            &user_path,
            &[],
            &[("if-match", "W/\"99999999999999999999\"")],
            Some(&super::support::patch(
                json!([{"op": "add", "path": "nickName", "value": "x"}]),
            )),
        )
        .await;
    expect_error(answer, 412, None);
}

http_suite!(
    malformed_bodies_are_invalid_syntax,
    wrong_content_types_and_oversized_bodies,
    garbage_resources_are_refused_with_their_scim_type,
    error_details_never_echo_values,
    odd_paths_and_parameters_are_never_server_errors,
);
