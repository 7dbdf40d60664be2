//! An identity verification provider for tests: an HTTP server (axum) on `127.0.0.1:0` that
//! takes Tessera's start requests at [`START_PATH`] — it checks the bearer token and the
//! JSON body, keeps every request, and answers `{"id", "url"}` with a page of its own as the
//! URL — and serves that page to the browser. The test then plays the provider's back end:
//! it signs a webhook with [`signature`] (an HMAC-SHA256 written here from the RFC 2104
//! definition, independent of Tessera's) and posts it to Tessera.
//!
//! ```text
//! let provider = IdentityProvider::start("api-token").await;
//! // … configure start_url = provider.start_url() …
//! let start = provider.wait_for_start(Duration::from_secs(5)).await.unwrap();
//! let body = r#"{"reference": "…", "status": "rejected"}"#;
//! let header = signature(b"webhook secret of at least 32 bytes", now, body.as_bytes());
//! ```

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Where sessions are started.
pub const START_PATH: &str = "/v1/sessions";
/// Where the browser is sent: `/flow/<session id>`.
pub const FLOW_PATH: &str = "/flow";

/// How the provider answers start requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `201 {"id": "idv-<n>", "url": "<this provider>/flow/idv-<n>"}` when the token and
    /// body are right (`401` or `400` otherwise).
    Normal,
    /// This status with an error body that must not reach Tessera's logs.
    Status(u16),
    /// `201` with this body as it is (to send Tessera something unusable).
    Body(String),
}

/// A start request as the provider received it.
#[derive(Debug, Clone, PartialEq)]
pub struct StartRequest {
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The body, parsed (`Null` when it was not JSON).
    pub body: Value,
    /// The id the provider gave the session (when it answered normally).
    pub session_id: Option<String>,
}

impl StartRequest {
    /// Tessera's `reference` of the session.
    pub fn reference(&self) -> &str {
        self.body["reference"].as_str().unwrap_or("")
    }

    /// Where the provider is to send the browser back.
    pub fn return_url(&self) -> &str {
        self.body["return_url"].as_str().unwrap_or("")
    }
}

#[derive(Debug)]
struct Shared {
    token: String,
    base: String,
    answer: Mutex<Answer>,
    received: Mutex<Vec<StartRequest>>,
    arrived: Notify,
}

/// A running provider; it stops when dropped.
#[derive(Debug)]
pub struct IdentityProvider {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl IdentityProvider {
    /// A provider that expects `Authorization: Bearer <token>`.
    pub async fn start(token: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the identity provider on 127.0.0.1:0");
        let address = listener.local_addr().expect("the provider's address");
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            base: format!("http://{address}"),
            answer: Mutex::new(Answer::Normal),
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let app = axum::Router::new()
            .route(START_PATH, post(start_session))
            .route(&format!("{FLOW_PATH}/{{id}}"), get(flow_page))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            address,
            shared,
            task,
        }
    }

    /// `http://127.0.0.1:<port>/v1/sessions`.
    pub fn start_url(&self) -> String {
        format!("http://{}{START_PATH}", self.address)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.shared.base
    }

    /// Answers later start requests so.
    pub fn answer_with(&self, answer: Answer) {
        *self
            .shared
            .answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = answer;
    }

    /// Every start request so far, oldest first.
    pub fn starts(&self) -> Vec<StartRequest> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The latest start request, waiting up to `timeout` for one to arrive.
    pub async fn wait_for_start(&self, timeout: Duration) -> Option<StartRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            if let Some(last) = self.starts().pop() {
                return Some(last);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a start request has what Tessera promises to send.
fn well_formed(body: &Value) -> bool {
    let text = |name: &str| body[name].as_str().is_some_and(|v| !v.is_empty());
    text("reference")
        && ["low", "substantial", "high"].contains(&body["level"].as_str().unwrap_or(""))
        && text("callback_url")
        && text("return_url")
        && body["user"]["sub"].as_str().is_some()
}

async fn start_session(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut request = StartRequest {
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        session_id: None,
    };
    let answer = shared
        .answer
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let authorized = request.authorization.as_deref() == Some(&format!("Bearer {}", shared.token));
    let response = match answer {
        Answer::Status(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(json!({"error": "identity-provider-error-body-must-not-be-logged"})),
        )
            .into_response(),
        Answer::Body(body) => (StatusCode::CREATED, body).into_response(),
        Answer::Normal if !authorized => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized"})),
        )
            .into_response(),
        Answer::Normal if !well_formed(&request.body) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad request"})),
        )
            .into_response(),
        Answer::Normal => {
            let number = shared
                .received
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
                + 1;
            let id = format!("idv-{number}");
            request.session_id = Some(id.clone());
            let url = format!("{}{FLOW_PATH}/{id}", shared.base);
            (StatusCode::CREATED, Json(json!({"id": id, "url": url}))).into_response()
        }
    };
    shared
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    shared.arrived.notify_waiters();
    response
}

/// The page a browser lands on at the provider.
async fn flow_page(Path(id): Path<String>) -> Html<String> {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Html(format!(
        "<!doctype html><title>Test identity provider</title><h1>Test identity provider</h1><p>Session {id}</p>"
    ))
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts` under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The `Tessera-Signature` value for `body` at `timestamp` (Unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let stamp = timestamp.to_string();
    let mac = hmac_sha256(secret, &[stamp.as_bytes(), b".", body]);
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={stamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signatures_follow_the_documented_format() {
        let header = signature(
            b"0123456789abcdef0123456789abcdef",
            1796119200,
            br#"{"reference":"x"}"#,
        );
        assert_eq!(
            header,
            "t=1796119200,v1=8e514f37d7d44d3f19b5b0cc0884d911fc65eed59759378cadaa8c4583721de0"
        );
    }
}
