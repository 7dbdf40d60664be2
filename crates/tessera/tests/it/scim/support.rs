//! What the SCIM cases share: a client that speaks `application/scim+json` with a token of
//! the `scim` scope, resource and message bodies, and the check of a SCIM error answer.

use crate::harness::{Answer, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const TESSERA: &str = "urn:ietf:params:scim:schemas:extension:tessera:2.0:User";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub const SCIM_JSON: &str = "application/scim+json";
/// Long enough for the policy of a password that is the only factor.
pub const PASSWORD: &str = "a long passphrase for the scim suite";

/// A SCIM client of one tenant: its base path and a token with the `scim` scope.
#[derive(Debug, Clone)]
pub struct Scim {
    pub server: TestServer,
    pub token: String,
    /// `/scim/v2` or `/t/{slug}/scim/v2`.
    pub base: String,
}

impl Scim {
    /// A client of the default tenant.
    pub async fn new(server: &TestServer) -> Self {
        Self {
            server: server.clone(),
            token: server.token(None, &["scim"]).await,
            base: "/scim/v2".to_owned(),
        }
    }

    /// A client of tenant `slug`, which must exist.
    pub async fn of_tenant(server: &TestServer, slug: &str) -> Self {
        Self {
            server: server.clone(),
            token: server.token(Some(slug), &["scim"]).await,
            base: format!("/t/{slug}/scim/v2"),
        }
    }

    /// The same client with another token (`None`: no `Authorization` header).
    pub fn with_token(&self, token: Option<&str>) -> Client<'_> {
        Client {
            scim: self,
            token: token.map(str::to_owned),
        }
    }

    /// A request with query pairs, extra headers and an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        self.with_token(Some(&self.token))
            .send(method, path, query, headers, body)
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], &[], None).await
    }

    /// A `GET` on a collection (or one resource) with query parameters.
    pub async fn query(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        self.send(Method::GET, path, query, &[], None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, &[], &[], Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PUT, path, &[], &[], Some(body)).await
    }

    /// A PATCH with these operations.
    pub async fn patch(&self, path: &str, operations: Value) -> Answer {
        self.send(Method::PATCH, path, &[], &[], Some(&patch(operations)))
            .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, &[], &[], None).await
    }

    /// A request whose body is sent as these bytes with this content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let response = self
            .server
            .client
            .request(method, format!("{}{}{path}", self.server.base, self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        into_answer(response).await
    }

    /// Creates a user; returns its resource.
    pub async fn create_user(&self, body: &Value) -> Value {
        self.post("/Users", body).await.expect(201).body
    }

    /// Creates a user named `user_name` with nothing else; returns its id.
    pub async fn user_id(&self, user_name: &str) -> String {
        id_of(&self.create_user(&user(user_name, json!({}))).await)
    }

    /// The sorted `userName`s of the users matching `filter` (one page of up to 200).
    pub async fn user_names(&self, filter: &str) -> Vec<String> {
        let answer = self
            .query("/Users", &[("filter", filter), ("count", "200")])
            .await;
        let answer = answer.expect(200);
        let mut names = user_names(&answer.body);
        names.sort();
        names
    }
}

/// [`Scim`] with another token.
#[derive(Debug)]
pub struct Client<'a> {
    scim: &'a Scim,
    token: Option<String>,
}

impl Client<'_> {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let server = &self.scim.server;
        let mut request = server
            .client
            .request(method, format!("{}{}{path}", server.base, self.scim.base))
            .query(query);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", SCIM_JSON)
                .body(body.to_string());
        }
        into_answer(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], &[], None).await
    }
}

async fn into_answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// A User resource: `userName` and the members of `extra` (an object).
pub fn user(user_name: &str, extra: Value) -> Value {
    let mut body = json!({"schemas": [CORE_USER], "userName": user_name});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// A Group resource with these member ids.
pub fn group<S: AsRef<str>>(display_name: &str, members: &[S]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|id| json!({"value": id.as_ref()}))
        .collect();
    json!({"schemas": [CORE_GROUP], "displayName": display_name, "members": members})
}

/// A `PatchOp` message with these operations.
pub fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// A resource's `id`.
pub fn id_of(resource: &Value) -> String {
    resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {resource}"))
        .to_owned()
}

/// The `userName`s of a `ListResponse`, in its order.
pub fn user_names(list: &Value) -> Vec<String> {
    resources(list)
        .iter()
        .map(|user| user["userName"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The `Resources` of a `ListResponse` (none when absent).
pub fn resources(list: &Value) -> Vec<Value> {
    list["Resources"].as_array().cloned().unwrap_or_default()
}

/// The member ids of a Group resource, sorted.
pub fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .map(|member| member["value"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Sorted owned strings, for comparing sets of names or ids.
pub fn sorted<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut items: Vec<String> = items.iter().map(|item| item.as_ref().to_owned()).collect();
    items.sort();
    items
}

/// Asserts an RFC 7644 §3.12 error: this status, the Error schema, `status` as a string,
/// a `detail`, and this `scimType` (or none).
pub fn expect_error(answer: Answer, status: u16, scim_type: Option<&str>) -> Answer {
    let answer = answer.expect(status);
    assert_eq!(
        answer
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some(SCIM_JSON),
        "a SCIM error is application/scim+json: {}",
        answer.body
    );
    assert_eq!(answer.body["schemas"], json!([ERROR]), "{}", answer.body);
    assert_eq!(
        answer.body["status"],
        json!(status.to_string()),
        "{}",
        answer.body
    );
    assert!(answer.body["detail"].is_string(), "{}", answer.body);
    match scim_type {
        Some(kind) => assert_eq!(answer.body["scimType"], kind, "{}", answer.body),
        None => assert!(answer.body.get("scimType").is_none(), "{}", answer.body),
    }
    answer
}

/// The user as the admin API shows it.
pub async fn admin_user(server: &TestServer, id: &str) -> Value {
    server
        .admin(Method::GET, &format!("/admin/v1/users/{id}"), None)
        .await
        .expect(200)
        .body
}

/// Replaces the default tenant's custom attribute schema.
pub async fn put_attribute_schema(server: &TestServer, attributes: Value) {
    server
        .admin(
            Method::PUT,
            "/admin/v1/schema",
            Some(json!({"attributes": attributes})),
        )
        .await
        .expect(200);
}

/// The `ETag` header of an answer.
pub fn etag(answer: &Answer) -> String {
    answer
        .headers
        .get("etag")
        .unwrap_or_else(|| panic!("no ETag; body: {}", answer.body))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The members of an empty group.
pub const NO_MEMBERS: [&str; 0] = [];
