//! A captcha provider for tests: a `siteverify` endpoint (axum on `127.0.0.1:0`) that
//! answers as hCaptcha, Turnstile and reCAPTCHA do. It knows one secret; tokens that start
//! with [`PASSING_PREFIX`] pass, once each (a second use fails with `timeout-or-duplicate`,
//! as at the real providers), and any other token fails. A test may add a score to passing
//! answers, answer with an HTTP error status, or answer late to make the client time out.
//!
//! ```text
//! let provider = FakeCaptcha::start("secret").await;
//! // … point the verifier at provider.url() …
//! let request = &provider.received()[0];
//! assert_eq!(request.field("response"), Some("pass-1"));
//! ```

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Tokens that start with this pass (once).
pub const PASSING_PREFIX: &str = "pass-";
/// The hostname passing answers name.
pub const HOSTNAME: &str = "login.example.test";

/// One `siteverify` request: its form fields in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    pub fields: Vec<(String, String)>,
}

impl VerifyRequest {
    /// The first field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Default)]
struct Behaviour {
    status: Option<u16>,
    score: Option<f64>,
    delay: Option<Duration>,
    seen: HashSet<String>,
    received: Vec<VerifyRequest>,
}

#[derive(Debug)]
struct Shared {
    secret: String,
    behaviour: Mutex<Behaviour>,
}

impl Shared {
    fn behaviour(&self) -> std::sync::MutexGuard<'_, Behaviour> {
        self.behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running provider; it stops when dropped.
#[derive(Debug)]
pub struct FakeCaptcha {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeCaptcha {
    /// A provider whose site has `secret`.
    pub async fn start(secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the captcha provider on 127.0.0.1:0");
        let address = listener.local_addr().expect("the provider's address");
        let shared = Arc::new(Shared {
            secret: secret.to_owned(),
            behaviour: Mutex::new(Behaviour::default()),
        });
        let app = axum::Router::new()
            .fallback(siteverify)
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

    /// The endpoint, `http://127.0.0.1:<port>/siteverify`.
    pub fn url(&self) -> String {
        format!("http://{}/siteverify", self.address)
    }

    /// Adds `score` to passing answers (reCAPTCHA v3's confidence, hCaptcha's risk).
    pub fn score(&self, score: Option<f64>) {
        self.shared.behaviour().score = score;
    }

    /// Answers later requests with `status` and an HTML error page.
    pub fn fail_with(&self, status: u16) {
        self.shared.behaviour().status = Some(status);
    }

    /// Answers later requests normally again.
    pub fn recover(&self) {
        self.shared.behaviour().status = None;
    }

    /// Waits `delay` before answering later requests.
    pub fn delay(&self, delay: Duration) {
        self.shared.behaviour().delay = Some(delay);
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<VerifyRequest> {
        self.shared.behaviour().received.clone()
    }
}

impl Drop for FakeCaptcha {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn siteverify(
    State(shared): State<Arc<Shared>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let request = VerifyRequest { fields };
    let (status, score, delay, first_use) = {
        let mut behaviour = shared.behaviour();
        behaviour.received.push(request.clone());
        let token = request.field("response").unwrap_or_default().to_owned();
        let first_use = behaviour.seen.insert(token);
        (
            behaviour.status,
            behaviour.score,
            behaviour.delay,
            first_use,
        )
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "<html>provider error</html>").into_response();
    }
    let token = request.field("response").unwrap_or_default();
    let answer = if request.field("secret") != Some(shared.secret.as_str()) {
        json!({"success": false, "error-codes": ["invalid-input-secret"]})
    } else if token.is_empty() {
        json!({"success": false, "error-codes": ["missing-input-response"]})
    } else if !token.starts_with(PASSING_PREFIX) {
        json!({"success": false, "error-codes": ["invalid-input-response"]})
    } else if !first_use {
        json!({"success": false, "error-codes": ["timeout-or-duplicate"]})
    } else {
        let mut answer = json!({
            "success": true,
            "challenge_ts": "2026-06-01T12:00:00Z",
            "hostname": HOSTNAME,
            "error-codes": [],
        });
        if let Some(score) = score {
            answer["score"] = json!(score);
            answer["action"] = json!("login");
        }
        answer
    };
    axum::Json(answer).into_response()
}
