//! A Tessera server for one test: fresh database, port 0, a client that speaks its admin API.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::future::Future;
use tessera::config::{Config, FlagOverrides};
use tessera_test_support::{Backend, TestDatabase};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const HEADER_READ_TIMEOUT_SECONDS: u64 = 1;
/// The extra setting that names the public URL's scheme and host (see `with_server_env`).
pub const PUBLIC_HOST: &str = "TESSERA_PUBLIC_URL";
pub const BOOTSTRAP_TOKEN: &str = "bootstrap-token-for-the-http-suite-0123456789";

/// A running server and the means to talk to it.
#[derive(Debug, Clone)]
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    /// The SMTP server the test server sends its mail to.
    pub mail: std::sync::Arc<tessera_test_support::smtp_sink::SmtpSink>,
    /// The HTTP SMS provider the test server sends its text messages to.
    pub sms: std::sync::Arc<tessera_test_support::sms_provider::SmsProvider>,
    /// The server's database, for a test that needs the services themselves.
    pub database_url: String,
}

/// An answer: status, headers and the parsed JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts a problem-details answer with this status and code.
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        let answer = self.expect(status);
        assert_eq!(answer.headers["content-type"], "application/problem+json");
        assert_eq!(answer.body["code"], code, "{}", answer.body);
        assert_eq!(answer.body["status"], status);
        assert_eq!(answer.body["type"], format!("urn:tessera:problem:{code}"));
        answer
    }
}

impl TestServer {
    /// Sends a request with `token` (none when `None`) and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            let content_type = if method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            request = request
                .header("content-type", content_type)
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
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

    /// A request as the bootstrap admin.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call(method, path, Some(BOOTSTRAP_TOKEN), body).await
    }

    /// Creates an API token of `tenant` (slug, `None` for the default) and returns its secret.
    pub async fn token(&self, tenant: Option<&str>, scopes: &[&str]) -> String {
        let prefix = tenant.map(|slug| format!("/t/{slug}")).unwrap_or_default();
        let answer = self
            .admin(
                Method::POST,
                &format!("{prefix}/admin/v1/api-tokens"),
                Some(serde_json::json!({"name": "test", "scopes": scopes})),
            )
            .await
            .expect(201);
        answer.body["secret"].as_str().unwrap().to_owned()
    }

    /// Creates tenant `slug`.
    pub async fn tenant(&self, slug: &str) -> Value {
        self.admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(serde_json::json!({"slug": slug, "display_name": slug.to_uppercase()})),
        )
        .await
        .expect(201)
        .body
    }
}

/// Starts a server over a fresh database of `backend`, runs `case`, stops the server
/// gracefully and removes the database. Skips (with a message) when the backend is absent.
pub async fn with_server<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    with_server_env(backend, &[], case).await;
}

/// [`with_server`] with more (or overriding) `TESSERA_*` settings.
pub async fn with_server_env<F, Fut>(backend: Backend, extra: &[(&str, &str)], case: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    // `TESSERA_PUBLIC_URL` among the extra settings names a scheme and host (such as
    // `http://localhost`, which passkeys need); the server's port is added to it.
    let public_url = extra
        .iter()
        .find(|(name, _)| *name == PUBLIC_HOST)
        .map_or_else(
            || format!("http://{address}"),
            |(_, host)| format!("{host}:{}", address.port()),
        );
    let flags = FlagOverrides {
        listen: Some(address.to_string()),
        public_url: Some(public_url.clone()),
        database_url: Some(database.url.clone()),
        data_dir: None,
    };
    let mail = std::sync::Arc::new(tessera_test_support::smtp_sink::SmtpSink::start().await);
    let sms = std::sync::Arc::new(tessera_test_support::sms_provider::SmsProvider::start().await);
    let mut environment = vec![
        ("TESSERA_ADMIN_TOKEN".to_owned(), BOOTSTRAP_TOKEN.to_owned()),
        ("TESSERA_MAIL_TRANSPORT".to_owned(), "smtp".to_owned()),
        ("TESSERA_SMTP_HOST".to_owned(), "127.0.0.1".to_owned()),
        ("TESSERA_SMTP_PORT".to_owned(), mail.port().to_string()),
        ("TESSERA_SMTP_TLS".to_owned(), "none".to_owned()),
        (
            "TESSERA_MAIL_FROM".to_owned(),
            "no-reply@tessera.test".to_owned(),
        ),
        // Given, so that servers of parallel tests never share a generated key file.
        (
            "TESSERA_KEY_ENCRYPTION_KEY".to_owned(),
            "dGVzc2VyYS1odHRwLXN1aXRlLXNlYWxpbmcta2V5LTA".to_owned(),
        ),
        // Relying parties of the suite listen on loopback.
        (
            "TESSERA_OUTBOUND_ALLOW_PRIVATE".to_owned(),
            "true".to_owned(),
        ),
        // Cheap hashing: the suite tests the flows, the benchmark the cost.
        ("TESSERA_ARGON2_MEMORY_KIB".to_owned(), "8192".to_owned()),
        ("TESSERA_ARGON2_ITERATIONS".to_owned(), "5".to_owned()),
        // short, so that the slow-header test (A37) finishes quickly
        (
            "TESSERA_HEADER_READ_TIMEOUT_SECONDS".to_owned(),
            HEADER_READ_TIMEOUT_SECONDS.to_string(),
        ),
    ];
    environment.extend(sms_environment(&sms.url()));
    // The suite signs in far more often than a person; the rate-limit cases lower these.
    for kind in ["sign_in", "sign_up", "codes", "token"] {
        environment.push((
            format!("TESSERA_RATE_LIMIT_{}_PER_MINUTE", kind.to_uppercase()),
            "100000".to_owned(),
        ));
    }
    for (name, value) in extra.iter().filter(|(name, _)| *name != PUBLIC_HOST) {
        environment.retain(|(existing, _)| existing != name);
        environment.push(((*name).to_owned(), (*value).to_owned()));
    }
    let settings = Config::load(None, &environment, &flags)
        .expect("config")
        .validate()
        .expect("valid config");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        tessera::server::run(&settings, listener, async {
            let _ = stopped.await;
        })
        .await
    });
    // The server closes a kept-alive connection that sends nothing for the header read
    // timeout; the client must drop idle connections before that, or a request can race the
    // close and meet a reset.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_millis(
            HEADER_READ_TIMEOUT_SECONDS * 1000 / 2,
        ))
        .build()
        .expect("client");
    let test_server = TestServer {
        base: public_url,
        client,
        mail,
        sms,
        database_url: database.url.clone(),
    };
    wait_until_ready(&test_server).await;
    case(test_server).await;
    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("server stopped cleanly");
    database.remove().await;
}

pub const SMS_TOKEN: &str = "sms-provider-token-of-the-http-suite";
pub const SMS_FROM: &str = "Tessera";

/// The SMS settings of the suite's servers: JSON with a bearer token, to `provider_url`.
pub fn sms_environment(provider_url: &str) -> Vec<(String, String)> {
    [
        ("TESSERA_SMS_TRANSPORT", "http"),
        ("TESSERA_SMS_HTTP_URL", provider_url),
        ("TESSERA_SMS_HTTP_AUTH", "bearer"),
        ("TESSERA_SMS_HTTP_TOKEN", SMS_TOKEN),
        ("TESSERA_SMS_HTTP_CONTENT_TYPE", "json"),
        (
            "TESSERA_SMS_HTTP_BODY_TEMPLATE",
            r#"{"to": "{to}", "from": "{from}", "text": "{text}"}"#,
        ),
        ("TESSERA_SMS_FROM", SMS_FROM),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

async fn wait_until_ready(server: &TestServer) {
    for _ in 0..200 {
        if let Ok(response) = server
            .client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the server did not become ready");
}
