//! Who may call SCIM: a bearer token with the `scim` scope, of the tenant addressed (A50);
//! unknown paths and methods answer as SCIM errors too.

use super::support::{Scim, expect_error, id_of, user};
use crate::harness::TestServer;
use crate::http_suite;
use reqwest::Method;
use serde_json::json;

async fn a_token_with_the_scim_scope_is_required(server: TestServer) {
    let scim = Scim::new(&server).await;

    let anonymous = scim.with_token(None).get("/Users").await;
    let anonymous = expect_error(anonymous, 401, None);
    assert_eq!(
        anonymous.headers["www-authenticate"], "Bearer realm=\"tessera-scim\"",
        "a 401 names the scheme"
    );
    let discovery = scim.with_token(None).get("/ServiceProviderConfig").await;
    expect_error(discovery, 401, None);
    let forged = scim
        .with_token(Some("not-a-token-we-issued"))
        .get("/Users")
        .await;
    let forged = expect_error(forged, 401, None);
    assert!(forged.headers.contains_key("www-authenticate"));

    for scopes in [
        &["users:read"][..],
        &["users:write"],
        &["users:read", "users:write"],
    ] {
        let token = server.token(None, scopes).await;
        let refused = scim.with_token(Some(&token)).get("/Users").await;
        let refused = expect_error(refused, 403, None);
        assert!(
            refused.body["detail"].as_str().unwrap().contains("scim"),
            "{}",
            refused.body
        );
    }
    // a refused write writes nothing
    let reader = server.token(None, &["users:write"]).await;
    let attempt = scim
        .with_token(Some(&reader))
        .send(
            Method::POST,
            "/Users",
            &[],
            &[],
            Some(&user("sneaky", json!({}))),
        )
        .await;
    expect_error(attempt, 403, None);
    assert!(scim.user_names("userName eq \"sneaky\"").await.is_empty());

    // the admin scope includes every other
    let admin = server.token(None, &["admin"]).await;
    scim.with_token(Some(&admin))
        .get("/Users")
        .await
        .expect(200);
    scim.get("/Users").await.expect(200);
}

/// A50 and A33: a token of one tenant sees nothing of another, through either path.
async fn tenants_are_isolated(server: TestServer) {
    server.tenant("acme").await;
    server.tenant("globex").await;
    let acme = Scim::of_tenant(&server, "acme").await;
    let globex = Scim::of_tenant(&server, "globex").await;
    let default = Scim::new(&server).await;

    let created = acme
        .create_user(&user(
            "shared.name",
            json!({"externalId": "X-1", "emails": [{"value": "wile@acme.example", "primary": true}]}),
        ))
        .await;
    let id = id_of(&created);
    assert_eq!(
        created["meta"]["location"],
        format!("{}/t/acme/scim/v2/Users/{id}", server.base),
        "locations keep the tenant's prefix"
    );

    // acme's token on globex's and the default tenant's SCIM base: as if they did not exist
    for base in ["/t/globex/scim/v2", "/scim/v2"] {
        let foreign = server
            .client
            .get(format!("{}{base}/Users", server.base))
            .bearer_auth(&acme.token)
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 404, "{base}");
        assert_eq!(foreign.headers()["content-type"], "application/scim+json");
        let body: serde_json::Value = foreign.json().await.unwrap();
        assert_eq!(body["status"], "404", "{body}");
        let answer = server
            .client
            .get(format!("{}{base}/Users/{id}", server.base))
            .bearer_auth(&acme.token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{base}");
    }
    // an unknown tenant
    let unknown = server
        .client
        .get(format!("{}/t/nowhere/scim/v2/Users", server.base))
        .bearer_auth(&acme.token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // globex's own token does not reach acme's user by id, filter or write
    expect_error(globex.get(&format!("/Users/{id}")).await, 404, None);
    expect_error(default.get(&format!("/Users/{id}")).await, 404, None);
    assert!(
        globex
            .user_names("userName eq \"shared.name\" or externalId eq \"X-1\"")
            .await
            .is_empty()
    );
    assert!(globex.user_names("emails co \"acme\"").await.is_empty());
    let listed = globex.get("/Users").await.expect(200);
    assert_eq!(listed.body["totalResults"], 0);
    expect_error(
        globex
            .put(&format!("/Users/{id}"), &user("hijacked", json!({})))
            .await,
        404,
        None,
    );
    expect_error(
        globex
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": "replace", "path": "userName", "value": "hijacked"}]),
            )
            .await,
        404,
        None,
    );
    expect_error(globex.delete(&format!("/Users/{id}")).await, 404, None);
    assert_eq!(
        acme.get(&format!("/Users/{id}")).await.expect(200).body["userName"],
        "shared.name",
        "untouched"
    );

    // the same userName and externalId are free in another tenant
    globex
        .create_user(&user("shared.name", json!({"externalId": "X-1"})))
        .await;
    assert_eq!(globex.user_names("userName pr").await, ["shared.name"]);
    assert_eq!(acme.user_names("userName pr").await, ["shared.name"]);

    // a group of globex cannot take acme's user as a member
    let group = globex
        .post("/Groups", &super::support::group("Thieves", &[id.as_str()]))
        .await;
    expect_error(group, 400, Some("invalidValue"));
}

async fn unknown_paths_and_methods_are_scim_errors(server: TestServer) {
    let scim = Scim::new(&server).await;
    for path in [
        "/Nope",
        "/users",
        "/Users/x/y",
        "/Schemas/urn:nope",
        "/ResourceTypes/Robot",
        "/Groups/0190a0b0-0000-7000-8000-000000000000",
        "/Users/0190a0b0-0000-7000-8000-000000000000",
        "/Users/not-a-uuid",
    ] {
        expect_error(scim.get(path).await, 404, None);
    }
    for (method, path) in [
        (Method::DELETE, "/Users"),
        (Method::PUT, "/Users"),
        (Method::PATCH, "/Groups"),
        (Method::POST, "/ServiceProviderConfig"),
        (Method::DELETE, "/Schemas"),
        (Method::GET, "/Bulk"),
        (Method::GET, "/Users/.search"),
        (Method::POST, "/Users/0190a0b0-0000-7000-8000-000000000000"),
    ] {
        let answer = scim.send(method.clone(), path, &[], &[], None).await;
        expect_error(answer, 405, None);
    }
    // RFC 9110 §15.5.6: a 405 lists the methods the resource supports
    let answer = scim.send(Method::DELETE, "/Users", &[], &[], None).await;
    let allow = answer
        .headers
        .get("allow")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow:?}"
    );
}

http_suite!(
    a_token_with_the_scim_scope_is_required,
    tenants_are_isolated,
    unknown_paths_and_methods_are_scim_errors,
);
