//! An SMS provider for tests: an HTTP server (axum) on `127.0.0.1:0` that keeps every
//! request it receives — method, path with query, headers, body — and answers with a
//! status the test chooses (`202` by default), so that a test can check what Tessera sent
//! and read the code from it, or make the provider fail.
//!
//! ```text
//! let provider = SmsProvider::start().await;
//! // … point sms_http_url at provider.url() …
//! let request = provider.wait_for("4915112345678", Duration::from_secs(5)).await.unwrap();
//! assert_eq!(request.code().as_deref(), Some("123456"));
//! ```

use crate::smtp_sink::six_digit_code;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The path [`SmsProvider::url`] names; any other path is recorded and answered the same.
pub const MESSAGES_PATH: &str = "/v1/messages";

/// A request as the provider received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub method: String,
    /// The path and query, e.g. `/v1/messages?x=1`.
    pub path: String,
    /// Header names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl ReceivedRequest {
    /// The first header called `name` (case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first run of exactly six digits in the body: the one-time code (digits survive
    /// both JSON and form encoding unchanged).
    pub fn code(&self) -> Option<String> {
        six_digit_code(&self.body)
    }
}

#[derive(Debug)]
struct Shared {
    status: AtomicU16,
    received: Mutex<Vec<ReceivedRequest>>,
    arrived: Notify,
}

/// A running provider; it stops when dropped.
#[derive(Debug)]
pub struct SmsProvider {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmsProvider {
    /// A provider that accepts every message with `202 Accepted`.
    pub async fn start() -> Self {
        Self::answering(202).await
    }

    /// A provider that answers every request with `status` (and a body that echoes nothing
    /// useful but looks like an error, so a test can check it is not logged).
    pub async fn answering(status: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMS provider on 127.0.0.1:0");
        let address = listener.local_addr().expect("the provider's address");
        let shared = Arc::new(Shared {
            status: AtomicU16::new(status),
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let app = axum::Router::new()
            .fallback(record)
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

    /// The messages endpoint, `http://127.0.0.1:<port>/v1/messages`.
    pub fn url(&self) -> String {
        format!("http://{}{MESSAGES_PATH}", self.address)
    }

    /// Answers later requests with `status`.
    pub fn answer_with(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Everything received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The latest request whose body contains `needle` (say, the recipient as the body
    /// writes it), waiting up to `timeout` for one to arrive.
    pub async fn wait_for(&self, needle: &str, timeout: Duration) -> Option<ReceivedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so that an arrival in between is not missed.
            let arrived = self.shared.arrived.notified();
            let found = self
                .received()
                .into_iter()
                .rev()
                .find(|request| request.body.contains(needle));
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for SmsProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let request = ReceivedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    shared.arrived.notify_waiters();
    let status = StatusCode::from_u16(shared.status.load(Ordering::SeqCst))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if status.is_success() {
        r#"{"status":"queued"}"#
    } else {
        r#"{"error":"provider-error-body-must-not-be-logged"}"#
    };
    (status, body)
}
