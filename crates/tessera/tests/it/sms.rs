//! SMS: the HTTP sender against a real local provider (URL, method, authentication, content
//! type and the rendered body, for JSON and form templates; failures and timeouts), the log
//! sender's labelled lines, the SMS settings' validation, and secrets kept out of logs.

use crate::binary::tessera;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera::config::{Config, ConfigError, FlagOverrides, HttpSmsSettings, Settings, SmsSettings};
use tessera::sms::{HttpSmsSender, LOG_LABEL, LogSmsSender, sms_sender};
use tessera_core::ids::TenantId;
use tessera_core::phone::PhoneNumber;
use tessera_core::sms::{SmsError, SmsNotice, SmsSender};
use tessera_core::tenant::{Tenant, TenantSettings, TenantSlug};
use tessera_test_support::sms_provider::{MESSAGES_PATH, SmsProvider};

const CODE: &str = "804215";
const TO: &str = "+4915112345678";
const TOKEN: &str = "canary-sms-token-7c1e9a";
const PASSWORD: &str = "canary-sms-password-52d0b3";
const JSON_TEMPLATE: &str =
    r#"{"messages": [{"to": "{to}", "sender": "{from}", "body": "{text}"}]}"#;
const FORM_TEMPLATE: &str = "To={to}&From={from}&Body={text}";
const WAIT: Duration = Duration::from_secs(5);

fn settings(environment: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let environment: Vec<(String, String)> = environment
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    Config::load(None, &environment, &FlagOverrides::default())?.validate()
}

/// HTTP SMS settings posting to `url`, plus `extra`.
fn http_settings(url: &str, extra: &[(&str, &str)]) -> HttpSmsSettings {
    let mut environment = vec![
        ("TESSERA_SMS_TRANSPORT", "http"),
        ("TESSERA_SMS_HTTP_URL", url),
        ("TESSERA_SMS_FROM", "Acme Shop"),
    ];
    environment.extend_from_slice(extra);
    match settings(&environment).unwrap().sms {
        SmsSettings::Http(http) => http,
        other => panic!("expected HTTP SMS settings, got {other:?}"),
    }
}

fn tenant(display_name: &str) -> Tenant {
    let at = time::macros::datetime!(2026-01-01 0:00 UTC);
    Tenant {
        id: TenantId::new_at(at),
        slug: TenantSlug::parse("acme").unwrap(),
        display_name: display_name.to_owned(),
        domains: Vec::new(),
        settings: TenantSettings::default(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn phone_code() -> SmsNotice {
    SmsNotice::PhoneCode {
        code: CODE.into(),
        valid_for: Duration::from_secs(600),
    }
}

async fn send(sender: &dyn SmsSender, language: &str) -> Result<(), SmsError> {
    sender
        .send(
            &tenant("Acme Stores"),
            &PhoneNumber::parse(TO).unwrap(),
            language,
            phone_code(),
        )
        .await
}

/// Log lines written while the guard lives, on this thread.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let log = Self::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (log, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_json_body_with_a_bearer_token_reaches_the_provider() {
    let provider = SmsProvider::start().await;
    let url = format!("{}?account=42", provider.url());
    let sender = HttpSmsSender::new(&http_settings(
        &url,
        &[
            ("TESSERA_SMS_HTTP_AUTH", "bearer"),
            ("TESSERA_SMS_HTTP_TOKEN", TOKEN),
            ("TESSERA_SMS_HTTP_BODY_TEMPLATE", JSON_TEMPLATE),
        ],
    ))
    .unwrap();
    send(&sender, "en").await.unwrap();
    let request = provider.wait_for(TO, WAIT).await.expect("the request");
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("{MESSAGES_PATH}?account=42"));
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"messages": [{
            "to": TO,
            "sender": "Acme Shop",
            "body": "Your Acme Stores code is 804215. It is valid for 10 minutes. Never share it.",
        }]})
    );
    assert_eq!(request.code().as_deref(), Some(CODE));
}

#[tokio::test]
async fn a_form_body_with_basic_auth_reaches_the_provider_in_german() {
    let provider = SmsProvider::start().await;
    let sender = HttpSmsSender::new(&http_settings(
        &provider.url(),
        &[
            ("TESSERA_SMS_HTTP_AUTH", "basic"),
            ("TESSERA_SMS_HTTP_USERNAME", "AC-account"),
            ("TESSERA_SMS_HTTP_PASSWORD", PASSWORD),
            ("TESSERA_SMS_HTTP_CONTENT_TYPE", "form"),
            ("TESSERA_SMS_HTTP_BODY_TEMPLATE", FORM_TEMPLATE),
        ],
    ))
    .unwrap();
    send(&sender, "de-AT").await.unwrap();
    let request = provider.wait_for("4915112345678", WAIT).await.unwrap();
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("AC-account:{PASSWORD}"))
    );
    assert_eq!(request.header("authorization"), Some(expected.as_str()));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        request
            .body
            .starts_with("To=%2B4915112345678&From=Acme+Shop&Body=Ihr+Acme+Stores-Code"),
        "{}",
        request.body
    );
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(request.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        fields,
        [
            ("To".to_owned(), TO.to_owned()),
            ("From".to_owned(), "Acme Shop".to_owned()),
            (
                "Body".to_owned(),
                "Ihr Acme Stores-Code lautet 804215. Er gilt 10 Minuten. Geben Sie ihn nicht weiter."
                    .to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn a_custom_header_carries_the_key() {
    let provider = SmsProvider::start().await;
    let sender = HttpSmsSender::new(&http_settings(
        &provider.url(),
        &[
            ("TESSERA_SMS_HTTP_AUTH", "header"),
            ("TESSERA_SMS_HTTP_HEADER_NAME", "X-API-Key"),
            ("TESSERA_SMS_HTTP_HEADER_VALUE", TOKEN),
            (
                "TESSERA_SMS_HTTP_BODY_TEMPLATE",
                r#"{"to": "{to}", "text": "{text}"}"#,
            ),
        ],
    ))
    .unwrap();
    send(&sender, "en").await.unwrap();
    let request = provider.wait_for(TO, WAIT).await.unwrap();
    assert_eq!(request.header("x-api-key"), Some(TOKEN));
    assert_eq!(request.header("authorization"), None);
}

/// A24: a refusing provider is an error with its status; neither the code, the provider's
/// answer nor the credentials reach the error or the log.
#[tokio::test]
async fn a24_a_refusing_provider_fails_with_its_status_and_nothing_secret_is_logged() {
    let (log, _guard) = CapturedLog::start();
    let provider = SmsProvider::answering(500).await;
    let settings = SmsSettings::Http(http_settings(
        &provider.url(),
        &[
            ("TESSERA_SMS_HTTP_AUTH", "bearer"),
            ("TESSERA_SMS_HTTP_TOKEN", TOKEN),
            ("TESSERA_SMS_HTTP_BODY_TEMPLATE", JSON_TEMPLATE),
        ],
    ));
    let sender = sms_sender(&settings, &[]).unwrap();
    let error = send(&*sender, "en").await.unwrap_err();
    let host = "127.0.0.1";
    assert_eq!(
        error,
        SmsError::Failed(format!("SMS provider {host} answered 500"))
    );
    assert_eq!(provider.received().len(), 1, "one try, no retries");
    // And a working provider says so.
    provider.answer_with(200);
    send(&*sender, "en").await.unwrap();
    let all = log.text();
    assert!(all.contains("text message not sent"), "{all}");
    assert!(
        all.contains("text message sent") && all.contains("kind=\"phone_code\""),
        "{all}"
    );
    let printed = [
        all,
        error.to_string(),
        format!("{settings:?}"),
        format!("{sender:?}"),
    ];
    for text in printed {
        assert!(!text.contains(CODE), "the code leaked: {text}");
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
        assert!(
            !text.contains("provider-error-body"),
            "the provider's answer leaked: {text}"
        );
    }
}

/// SMS pumping: with `sms_allowed_country_codes`, numbers of other countries are not
/// accepted, and a message to one never reaches the provider.
#[tokio::test]
async fn only_the_allowed_countries_are_sent_texts() {
    let provider = SmsProvider::start().await;
    let http = SmsSettings::Http(http_settings(
        &provider.url(),
        &[("TESSERA_SMS_HTTP_BODY_TEMPLATE", JSON_TEMPLATE)],
    ));
    let allowed = settings_prefixes("41, +43,1264");
    assert_eq!(allowed, ["+41", "+43", "+1264"]);
    let sender = sms_sender(&http, &allowed).unwrap();
    let number = |text: &str| PhoneNumber::parse(text).unwrap();
    assert!(sender.accepts(&number("+41446681800")));
    assert!(sender.accepts(&number("+12645551234")));
    assert!(!sender.accepts(&number("+12125551234")));
    assert!(!sender.accepts(&number("+88213100000")));
    let refused = sender
        .send(&tenant("Acme"), &number("+88213100000"), "en", phone_code())
        .await
        .unwrap_err();
    assert!(matches!(refused, SmsError::Failed(_)));
    assert!(provider.received().is_empty());
    sender
        .send(&tenant("Acme"), &number("+41446681800"), "en", phone_code())
        .await
        .unwrap();
    assert_eq!(provider.received().len(), 1);
    for bad in ["0041", "12345", "4a", "41;49"] {
        let error = settings(&[("TESSERA_SMS_ALLOWED_COUNTRY_CODES", bad)]).unwrap_err();
        assert!(
            error.to_string().contains("sms_allowed_country_codes"),
            "{bad}: {error}"
        );
    }
}

fn settings_prefixes(codes: &str) -> Vec<String> {
    settings(&[("TESSERA_SMS_ALLOWED_COUNTRY_CODES", codes)])
        .unwrap()
        .sms_allowed_prefixes
}

#[tokio::test]
async fn a_silent_provider_times_out_and_a_closed_port_fails_quickly() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let sender = HttpSmsSender::new(&http_settings(
        &format!("http://{address}/send"),
        &[
            ("TESSERA_SMS_TIMEOUT_SECONDS", "1"),
            ("TESSERA_SMS_HTTP_BODY_TEMPLATE", FORM_TEMPLATE),
            ("TESSERA_SMS_HTTP_CONTENT_TYPE", "form"),
        ],
    ))
    .unwrap();
    let started = Instant::now();
    let error = send(&sender, "en").await.unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(
        error,
        SmsError::Failed("SMS provider 127.0.0.1: did not answer within 1 s".to_owned())
    );
    silent.abort();

    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let sender = HttpSmsSender::new(&http_settings(
        &format!("http://127.0.0.1:{closed}/send"),
        &[("TESSERA_SMS_HTTP_BODY_TEMPLATE", JSON_TEMPLATE)],
    ))
    .unwrap();
    let started = Instant::now();
    let error = send(&sender, "en").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(&error, SmsError::Failed(reason) if reason.starts_with("SMS provider 127.0.0.1:")),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_log_sender_writes_labelled_lines_and_warns_at_start() {
    let (log, _guard) = CapturedLog::start();
    let settings = settings(&[
        ("TESSERA_SMS_TRANSPORT", "log"),
        ("TESSERA_SMS_FROM", "Acme"),
    ])
    .unwrap();
    let SmsSettings::Log { from } = &settings.sms else {
        panic!("{:?}", settings.sms);
    };
    let _ = sms_sender(&settings.sms, &[]).unwrap();
    assert!(
        log.text()
            .contains("DEVELOPMENT ONLY: sms_transport is log"),
        "{}",
        log.text()
    );
    send(&LogSmsSender::new(from.clone()), "en").await.unwrap();
    let all = log.text();
    let line = all
        .lines()
        .find(|line| line.contains(LOG_LABEL))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(line.contains(" WARN "), "{line}");
    assert!(
        line.contains("DEVELOPMENT SMS SENDER — not delivered"),
        "{line}"
    );
    assert!(line.contains(&format!("to={TO}")), "{line}");
    assert!(
        line.contains("from=\"Acme\"") || line.contains("from=Acme"),
        "{line}"
    );
    assert!(line.contains(CODE), "the text is shown: {line}");
}

#[tokio::test]
async fn without_a_transport_messages_are_not_configured() {
    let settings = settings(&[]).unwrap();
    assert!(matches!(settings.sms, SmsSettings::None), "the default");
    let none = sms_sender(&settings.sms, &[]).unwrap();
    assert_eq!(
        send(&*none, "en").await.unwrap_err(),
        SmsError::NotConfigured
    );
    assert!(!none.is_configured());
}

#[test]
fn sms_settings_are_validated_with_errors_naming_the_setting() {
    let http = |extra: &[(&'static str, &'static str)]| {
        let mut environment = vec![
            ("TESSERA_SMS_TRANSPORT", "http"),
            (
                "TESSERA_SMS_HTTP_URL",
                "https://sms.example.com/v1/messages",
            ),
            (
                "TESSERA_SMS_HTTP_BODY_TEMPLATE",
                r#"{"to": "{to}", "text": "{text}"}"#,
            ),
        ];
        environment.extend_from_slice(extra);
        settings(&environment)
    };
    let cases: [(Result<Settings, ConfigError>, &str, &str); 16] = [
        (
            settings(&[("TESSERA_SMS_TRANSPORT", "http")]),
            "`sms_http_url`",
            "is required",
        ),
        (
            settings(&[
                ("TESSERA_SMS_TRANSPORT", "http"),
                ("TESSERA_SMS_HTTP_URL", "https://sms.example.com/"),
            ]),
            "`sms_http_body_template`",
            "is required",
        ),
        (
            settings(&[("TESSERA_SMS_TRANSPORT", "carrier-pigeon")]),
            "`sms_transport`",
            "not http, log or none",
        ),
        (
            http(&[(
                "TESSERA_SMS_HTTP_BODY_TEMPLATE",
                r#"{"to": "{to}", "text": "{txt}"}"#,
            )]),
            "`sms_http_body_template`",
            "{txt} is not a placeholder",
        ),
        (
            http(&[(
                "TESSERA_SMS_HTTP_BODY_TEMPLATE",
                r#"{"to": {to}, "text": "{text}"}"#,
            )]),
            "`sms_http_body_template`",
            "not valid JSON",
        ),
        (
            http(&[("TESSERA_SMS_HTTP_BODY_TEMPLATE", r#"{"to": "{to}"}"#)]),
            "`sms_http_body_template`",
            "must contain {text}",
        ),
        (
            http(&[
                ("TESSERA_SMS_HTTP_CONTENT_TYPE", "form"),
                (
                    "TESSERA_SMS_HTTP_BODY_TEMPLATE",
                    "To={to}&Body={text} please",
                ),
            ]),
            "`sms_http_body_template`",
            "without spaces",
        ),
        (
            http(&[("TESSERA_SMS_HTTP_CONTENT_TYPE", "xml")]),
            "`sms_http_content_type`",
            "not json or form",
        ),
        (
            http(&[(
                "TESSERA_SMS_HTTP_BODY_TEMPLATE",
                r#"{"to": "{to}", "from": "{from}", "text": "{text}"}"#,
            )]),
            "`sms_from`",
            "uses {from}",
        ),
        (
            http(&[("TESSERA_SMS_HTTP_URL", "http://sms.example.com/send")]),
            "`sms_http_url`",
            "clear text",
        ),
        (
            http(&[(
                "TESSERA_SMS_HTTP_URL",
                "https://user:secret@sms.example.com/",
            )]),
            "`sms_http_url`",
            "credentials",
        ),
        (
            http(&[("TESSERA_SMS_HTTP_AUTH", "bearer")]),
            "`sms_http_token`",
            "is required",
        ),
        (
            http(&[("TESSERA_SMS_HTTP_TOKEN", TOKEN)]),
            "`sms_http_token`",
            "only with sms_http_auth = \"bearer\"",
        ),
        (
            http(&[
                ("TESSERA_SMS_HTTP_AUTH", "header"),
                ("TESSERA_SMS_HTTP_HEADER_NAME", "Content-Type"),
                ("TESSERA_SMS_HTTP_HEADER_VALUE", TOKEN),
            ]),
            "`sms_http_header_name`",
            "written by Tessera",
        ),
        (
            http(&[("TESSERA_SMS_HTTP_AUTH", "oauth")]),
            "`sms_http_auth`",
            "not none, bearer, basic or header",
        ),
        (
            http(&[("TESSERA_SMS_TIMEOUT_SECONDS", "0")]),
            "`sms_timeout_seconds`",
            "between 1 and 60",
        ),
    ];
    for (result, setting, reason) in cases {
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(setting) && message.contains(reason),
            "expected {setting} and {reason:?} in '{message}'"
        );
        assert!(!message.contains(TOKEN), "{message}");
    }
    // Allowed: plain http to loopback, or with the explicit opt-in; templates with JSON
    // braces of their own.
    assert!(http(&[("TESSERA_SMS_HTTP_URL", "http://127.0.0.1:9000/send")]).is_ok());
    assert!(http(&[("TESSERA_SMS_HTTP_URL", "http://[::1]:9000/send")]).is_ok());
    assert!(
        http(&[
            ("TESSERA_SMS_HTTP_URL", "http://sms-gateway.internal/send"),
            ("TESSERA_SMS_HTTP_ALLOW_PLAINTEXT", "true"),
        ])
        .is_ok()
    );
    // A JSON template in the environment stays a string, with or without spaces.
    assert!(
        http(&[(
            "TESSERA_SMS_HTTP_BODY_TEMPLATE",
            r#"{"to":"{to}","text":"{text}"}"#
        )])
        .is_ok()
    );
    // The examples of docs/configuration.md, with their secrets from the environment.
    let examples = [
        (
            r#"
            sms_transport = "http"
            sms_http_url = "https://api.smsprovider.example/v1/messages"
            sms_http_auth = "bearer"
            sms_http_body_template = '{"from": "{from}", "to": "{to}", "text": "{text}"}'
            sms_from = "ACME"
            "#,
            ("TESSERA_SMS_HTTP_TOKEN", TOKEN),
        ),
        (
            r#"
            sms_transport = "http"
            sms_http_url = "https://api.smsprovider.example/2010-04-01/Accounts/AC0123/Messages.json"
            sms_http_auth = "basic"
            sms_http_username = "AC0123"
            sms_http_content_type = "form"
            sms_http_body_template = "To={to}&From={from}&Body={text}"
            sms_from = "+15005550006"
            "#,
            ("TESSERA_SMS_HTTP_PASSWORD", PASSWORD),
        ),
        (
            r#"
            sms_transport = "http"
            sms_http_url = "https://api.smsprovider.example/sms/2/text/advanced"
            sms_http_auth = "header"
            sms_http_header_name = "Authorization"
            sms_http_body_template = '{"messages": [{"destinations": [{"to": "{to}"}], "from": "{from}", "text": "{text}"}]}'
            sms_from = "ACME"
            "#,
            ("TESSERA_SMS_HTTP_HEADER_VALUE", "App 0123456789abcdef"),
        ),
    ];
    let directory = tempfile::tempdir().unwrap();
    for (toml, (name, value)) in examples {
        let path = directory.path().join("tessera.toml");
        std::fs::write(&path, toml).unwrap();
        let environment = [(name.to_owned(), value.to_owned())];
        let loaded = Config::load(Some(&path), &environment, &FlagOverrides::default())
            .unwrap()
            .validate()
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert!(
            matches!(loaded.sms, SmsSettings::Http(_)),
            "{:?}",
            loaded.sms
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_bad_sms_settings() {
    let directory = tempfile::tempdir().unwrap();
    let refused = tessera()
        .arg("serve")
        .env("TESSERA_SMS_TRANSPORT", "http")
        .current_dir(directory.path())
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("`sms_http_url`"), "{stderr}");
}
