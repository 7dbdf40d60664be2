//! A small relying party and browser for the OIDC cases: register clients and users through
//! the admin API, walk the hosted pages with a cookie jar, exchange codes.

use crate::harness::{Answer, TestServer};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT_URI: &str = "https://rp.example.com/callback";

/// A registered client.
#[derive(Debug, Clone)]
pub struct Rp {
    pub client_id: String,
    pub secret: Option<String>,
}

/// Registers a confidential client with code + refresh grants (plus `extra` metadata).
pub async fn register(server: &TestServer, extra: Value) -> Rp {
    let mut body = json!({
        "client_name": "Test RP",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": ["https://rp.example.com/bye"],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid profile email offline_access",
        "first_party": true,
    });
    if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), extra) {
        map.extend(extra);
    }
    let answer = server
        .admin(Method::POST, "/admin/v1/clients", Some(body))
        .await
        .expect(201);
    Rp {
        client_id: answer.body["client_id"].as_str().unwrap().to_owned(),
        secret: answer.body["client_secret"].as_str().map(str::to_owned),
    }
}

/// Creates an active user with `PASSWORD`; returns its id.
pub async fn user(server: &TestServer, email: &str) -> String {
    let answer = server
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": email, "given_name": "Ada", "password": PASSWORD})),
        )
        .await
        .expect(201);
    answer.body["id"].as_str().unwrap().to_owned()
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes
}

/// The query of an authorization request for `rp`.
pub fn authorize_query(rp: &Rp, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", &rp.client_id),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "the-state"),
        ("nonce", "the-nonce"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        pairs.retain(|(n, _)| n != name);
        if !value.is_empty() {
            pairs.push((name, value));
        }
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A browser: a cookie jar over the test server's client (which never follows redirects).
#[derive(Debug, Default)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
    /// `""` or `/t/{slug}`: where the tenant's endpoints and pages are.
    pub prefix: String,
}

/// A page or redirect the browser received.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of a hidden (or other) input named `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].replace("&amp;", "&"))
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, headers: &reqwest::header::HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, server: &TestServer, path: &str) -> Page {
        let url = absolute(server, path);
        let response = server
            .client
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    pub async fn post(
        &mut self,
        server: &TestServer,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = server
            .client
            .post(absolute(server, path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        self.keep_cookies(response.headers());
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned()),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// Follows redirects within the server until a page or a redirect elsewhere.
    pub async fn follow(&mut self, server: &TestServer, mut page: Page) -> Page {
        while let Some(location) = page.location.clone() {
            if location.starts_with("http") && !location.starts_with(&server.base) {
                return page;
            }
            page = self.get(server, &location).await;
        }
        page
    }

    /// Signs in on the hosted pages from an authorization request; returns the final
    /// redirect to the client.
    pub async fn sign_in(&mut self, server: &TestServer, query: &str, email: &str) -> Page {
        let prefix = self.prefix.clone();
        let first = self
            .get(server, &format!("{prefix}/oauth2/authorize?{query}"))
            .await;
        let login = self.follow(server, first).await;
        assert_eq!(login.status, 200, "{}", login.body);
        let csrf = login.field("csrf").unwrap();
        let auth = login.field("auth").unwrap();
        let origin = server.base.clone();
        let password_page = self
            .post(
                server,
                &format!("{prefix}/login"),
                &[("csrf", &csrf), ("auth", &auth), ("email", email)],
                Some(&origin),
            )
            .await;
        assert_eq!(password_page.status, 200, "{}", password_page.body);
        let signed_in = self
            .post(
                server,
                &format!("{prefix}/login/password"),
                &[
                    ("csrf", &csrf),
                    ("auth", &auth),
                    ("email", email),
                    ("password", PASSWORD),
                ],
                Some(&origin),
            )
            .await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        self.follow(server, signed_in).await
    }
}

fn absolute(server: &TestServer, path: &str) -> String {
    if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", server.base)
    }
}

/// The payload of a JWT (no signature check: the cases that need one use `jose::verify`).
pub fn jwt_claims(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The query parameters of a redirect URL.
pub fn params_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

/// A token request authenticated with client_secret_basic (when the client has a secret).
pub async fn token_request(server: &TestServer, rp: &Rp, fields: &[(&str, &str)]) -> Answer {
    form_request(server, "/oauth2/token", rp, fields).await
}

pub async fn form_request(
    server: &TestServer,
    path: &str,
    rp: &Rp,
    fields: &[(&str, &str)],
) -> Answer {
    let mut fields: Vec<(&str, &str)> = fields.to_vec();
    let mut request = server.client.post(format!("{}{path}", server.base));
    match &rp.secret {
        Some(secret) => {
            let credentials = STANDARD.encode(format!("{}:{secret}", rp.client_id));
            request = request.header("authorization", format!("Basic {credentials}"));
        }
        None => fields.push(("client_id", &rp.client_id)),
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let response = request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// Runs the whole code flow for `rp` and returns the token response.
pub async fn tokens_for(
    server: &TestServer,
    rp: &Rp,
    email: &str,
    scope: &str,
) -> (Browser, Value) {
    let (verifier, challenge) = pkce();
    let mut browser = Browser::default();
    let query = authorize_query(rp, &challenge, &[("scope", scope)]);
    let callback = browser.sign_in(server, &query, email).await;
    let params = params_of(callback.location.as_deref().unwrap());
    let answer = token_request(
        server,
        rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .expect(200);
    (browser, answer.body)
}
