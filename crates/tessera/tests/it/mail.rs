//! Mail: the SMTP notifier delivering to a real SMTP sink, its failures, the log and none
//! transports, the mail settings' validation, and the SMTP password kept out of logs.

use crate::binary::{tessera, wait_for_address};
use std::io::Write;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera::config::{Config, ConfigError, FlagOverrides, MailSettings, Settings, SmtpSettings};
use tessera::mail::{LogNotifier, SmtpNotifier, notifier};
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::email::Email;
use tessera_core::ids::TenantId;
use tessera_core::notify::{Notice, Notifier, NotifyError};
use tessera_core::tenant::{Branding, Tenant, TenantSettings, TenantSlug};
use tessera_test_support::smtp_sink::{ReceivedMail, SmtpSink};

const FROM: &str = "no-reply@acme.example";
const CODE: &str = "804215";
const LINK: &str = "https://id.acme.example/t/acme/sign-up/confirm?token=tok-5e1d&lang=de";
const SIGN_IN: &str = "https://id.acme.example/t/acme/login";
const PASSWORD: &str = "canary-smtp-password-3b9d1f7e0a";
const WAIT: Duration = Duration::from_secs(5);

fn settings(environment: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let environment: Vec<(String, String)> = environment
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    Config::load(None, &environment, &FlagOverrides::default())?.validate()
}

/// SMTP settings pointing at `port` on loopback without TLS, plus `extra`.
fn smtp_settings(port: u16, extra: &[(&str, &str)]) -> SmtpSettings {
    let port = port.to_string();
    let mut environment = vec![
        ("TESSERA_MAIL_TRANSPORT", "smtp"),
        ("TESSERA_SMTP_HOST", "127.0.0.1"),
        ("TESSERA_SMTP_PORT", port.as_str()),
        ("TESSERA_SMTP_TLS", "none"),
        ("TESSERA_MAIL_FROM", FROM),
    ];
    environment.extend_from_slice(extra);
    match settings(&environment).unwrap().mail {
        MailSettings::Smtp(smtp) => smtp,
        other => panic!("expected SMTP settings, got {other:?}"),
    }
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(
        time::macros::datetime!(2026-03-02 10:30 UTC),
    ))
}

fn tenant(display_name: &str) -> Tenant {
    let at = time::macros::datetime!(2026-01-01 0:00 UTC);
    Tenant {
        id: TenantId::new_at(at),
        slug: TenantSlug::parse("acme").unwrap(),
        display_name: display_name.to_owned(),
        domains: Vec::new(),
        settings: TenantSettings {
            branding: Branding {
                logo_url: Some("https://cdn.acme.example/logo.png".into()),
                primary_color: Some("#c2185b".into()),
                background_color: Some("#fafafa".into()),
            },
            ..TenantSettings::default()
        },
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn sign_up_code() -> Notice {
    Notice::SignUpCode {
        code: CODE.into(),
        link: LINK.into(),
        valid_for: Duration::from_secs(10 * 60),
    }
}

fn already_registered() -> Notice {
    Notice::AlreadyRegistered {
        sign_in_link: SIGN_IN.to_owned(),
    }
}

fn email(address: &str) -> Email {
    Email::parse(address).unwrap()
}

async fn deliver(
    notifier: &dyn Notifier,
    sink: &SmtpSink,
    to: &str,
    language: &str,
    notice: Notice,
) -> ReceivedMail {
    notifier
        .notify(&tenant("Acme Stores"), &email(to), language, notice)
        .await
        .unwrap();
    sink.wait_for(to, WAIT).await.expect("the mail arrives")
}

/// Log lines written while the guard lives, on this thread (a current-thread runtime runs
/// lettre's tasks here too).
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
async fn both_notices_arrive_in_english_and_german_with_headers_and_both_parts() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpNotifier::new(&smtp_settings(sink.port(), &[]), clock()).unwrap();

    let mail = deliver(&smtp, &sink, "ada@example.com", "en-US", sign_up_code()).await;
    assert_eq!(mail.envelope_from, FROM);
    assert_eq!(mail.recipients, ["ada@example.com"]);
    assert_eq!(
        mail.header("From").as_deref(),
        Some("Acme Stores <no-reply@acme.example>"),
        "the tenant's name by default"
    );
    assert_eq!(mail.header("To").as_deref(), Some("ada@example.com"));
    assert_eq!(mail.subject().as_deref(), Some("Your code for Acme Stores"));
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        mail.header("Date").as_deref(),
        Some("Mon, 02 Mar 2026 10:30:00 +0000"),
        "the date comes from the clock"
    );
    let message_id = mail.header("Message-ID").unwrap();
    assert!(message_id.ends_with("@acme.example"), "{message_id}");
    assert_eq!(
        mail.content_type().as_deref(),
        Some("multipart/alternative")
    );
    let text = mail.text().unwrap();
    let html = mail.html().unwrap();
    assert_eq!(mail.code().as_deref(), Some(CODE));
    assert!(text.contains(LINK) && text.contains("10 minutes"), "{text}");
    assert!(html.contains(CODE) && html.contains(&LINK.replace('&', "&amp;")));
    assert!(html.contains("<html lang=\"en\">") && html.contains("#c2185b"));

    let mail = deliver(&smtp, &sink, "bea@example.de", "de", sign_up_code()).await;
    assert_eq!(mail.subject().as_deref(), Some("Ihr Code für Acme Stores"));
    assert_eq!(mail.code().as_deref(), Some(CODE));
    assert!(mail.text().unwrap().contains("10 Minuten gültig"));
    assert!(mail.html().unwrap().contains("<html lang=\"de\">"));

    let mail = deliver(&smtp, &sink, "cy@example.com", "en", already_registered()).await;
    assert_eq!(
        mail.subject().as_deref(),
        Some("You already have an account at Acme Stores")
    );
    assert!(mail.text().unwrap().contains(SIGN_IN));
    assert!(mail.html().unwrap().contains(SIGN_IN));
    assert_eq!(mail.code(), None);

    let mail = deliver(
        &smtp,
        &sink,
        "dora@example.de",
        "de-CH",
        already_registered(),
    )
    .await;
    assert_eq!(
        mail.subject().as_deref(),
        Some("Sie haben bereits ein Konto bei Acme Stores")
    );
    assert!(mail.text().unwrap().contains("vielleicht Sie"));
    assert!(mail.html().unwrap().contains(SIGN_IN));
    assert_eq!(sink.received().len(), 4, "one connection pool, four mails");
}

#[tokio::test]
async fn the_configured_sender_name_and_non_ascii_names_survive_encoding() {
    let sink = SmtpSink::start().await;
    let settings = smtp_settings(sink.port(), &[("TESSERA_MAIL_FROM_NAME", "Zoë's Shop")]);
    let smtp = SmtpNotifier::new(&settings, clock()).unwrap();
    smtp.notify(
        &tenant("Müller & Söhne"),
        &email("eve@example.com"),
        "de",
        sign_up_code(),
    )
    .await
    .unwrap();
    let mail = sink.wait_for("eve@example.com", WAIT).await.unwrap();
    assert_eq!(
        mail.header("From").as_deref(),
        Some("Zoë's Shop <no-reply@acme.example>")
    );
    assert_eq!(
        mail.subject().as_deref(),
        Some("Ihr Code für Müller & Söhne")
    );
    assert!(mail.html().unwrap().contains("Müller &amp; Söhne"));
    assert!(mail.text().unwrap().contains("Müller & Söhne"));
}

/// A24: the SMTP password reaches the server, and never the log, an error or `Debug`.
#[tokio::test]
async fn a24_credentials_reach_the_server_and_no_secret_reaches_the_log() {
    let (log, _guard) = CapturedLog::start();
    let sink = SmtpSink::start().await;
    let settings = smtp_settings(
        sink.port(),
        &[
            ("TESSERA_SMTP_USERNAME", "tessera"),
            ("TESSERA_SMTP_PASSWORD", PASSWORD),
        ],
    );
    let smtp = notifier(&MailSettings::Smtp(settings.clone()), clock()).unwrap();
    let mail = deliver(&*smtp, &sink, "ada@example.com", "en", sign_up_code()).await;
    assert_eq!(mail.auth, Some(("tessera".to_owned(), PASSWORD.to_owned())));

    let refusing = SmtpSink::refusing().await;
    let mut refused_settings = settings.clone();
    refused_settings.port = refusing.port();
    let error = SmtpNotifier::new(&refused_settings, clock())
        .unwrap()
        .notify(
            &tenant("Acme"),
            &email("ada@example.com"),
            "en",
            sign_up_code(),
        )
        .await
        .unwrap_err();

    let all = log.text();
    assert!(
        all.contains("notice sent") && all.contains("kind=\"sign_up_code\""),
        "{all}"
    );
    assert!(all.contains("tenant=acme"), "{all}");
    assert!(all.contains("notice not sent"), "{all}");
    let printed = [
        all,
        error.to_string(),
        format!("{settings:?}"),
        format!("{smtp:?}"),
        format!("{:?}", MailSettings::Smtp(settings.clone())),
    ];
    for text in printed {
        assert!(!text.contains(PASSWORD), "the SMTP password leaked: {text}");
        assert!(!text.contains(CODE), "the code leaked: {text}");
        assert!(!text.contains("tok-5e1d"), "the link leaked: {text}");
    }
}

#[tokio::test]
async fn a_server_that_refuses_the_sender_fails_quickly() {
    let sink = SmtpSink::refusing().await;
    let settings = smtp_settings(
        sink.port(),
        &[
            ("TESSERA_SMTP_USERNAME", "tessera"),
            ("TESSERA_SMTP_PASSWORD", PASSWORD),
        ],
    );
    let smtp = SmtpNotifier::new(&settings, clock()).unwrap();
    let started = Instant::now();
    let error = smtp
        .notify(
            &tenant("Acme"),
            &email("ada@example.com"),
            "en",
            sign_up_code(),
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    let NotifyError::Failed(reason) = error else {
        panic!("expected Failed, got {error:?}");
    };
    assert!(reason.contains("554"), "{reason}");
    assert!(!reason.contains(PASSWORD), "{reason}");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_closed_port_fails_quickly() {
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let smtp = SmtpNotifier::new(&smtp_settings(port, &[]), clock()).unwrap();
    let started = Instant::now();
    let error = smtp
        .notify(
            &tenant("Acme"),
            &email("ada@example.com"),
            "en",
            already_registered(),
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(&error, NotifyError::Failed(reason) if reason.contains(&format!("127.0.0.1:{port}"))),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and never says a word.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let settings = smtp_settings(port, &[("TESSERA_SMTP_TIMEOUT_SECONDS", "1")]);
    let smtp = SmtpNotifier::new(&settings, clock()).unwrap();
    let started = Instant::now();
    let error = smtp
        .notify(
            &tenant("Acme"),
            &email("ada@example.com"),
            "en",
            sign_up_code(),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(
        error,
        NotifyError::Failed(format!(
            "SMTP server 127.0.0.1:{port} did not finish within 1 s"
        ))
    );
    silent.abort();
}

#[tokio::test]
async fn without_a_transport_notices_are_not_configured() {
    let settings = settings(&[]).unwrap();
    assert!(matches!(settings.mail, MailSettings::None), "the default");
    let none = notifier(&settings.mail, clock()).unwrap();
    let error = none
        .notify(
            &tenant("Acme"),
            &email("ada@example.com"),
            "en",
            sign_up_code(),
        )
        .await
        .unwrap_err();
    assert_eq!(error, NotifyError::NotConfigured);
}

#[tokio::test]
async fn the_log_transport_writes_the_mail_to_the_log_and_warns_at_start() {
    let (log, _guard) = CapturedLog::start();
    let settings = settings(&[
        ("TESSERA_MAIL_TRANSPORT", "log"),
        ("TESSERA_MAIL_FROM", FROM),
    ])
    .unwrap();
    let MailSettings::Log(sender) = &settings.mail else {
        panic!("{:?}", settings.mail);
    };
    let _ = notifier(&settings.mail, clock()).unwrap();
    assert!(log.text().contains("DEVELOPMENT ONLY"), "{}", log.text());
    LogNotifier::new(sender.clone())
        .notify(
            &tenant("Acme"),
            &email("ada@example.com"),
            "en",
            sign_up_code(),
        )
        .await
        .unwrap();
    let all = log.text();
    let line = all
        .lines()
        .find(|line| line.contains("DEVELOPMENT MAIL, NOT SENT"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(line.contains(" WARN "), "{line}");
    assert!(line.contains("to=ada@example.com"), "{line}");
    assert!(line.contains("subject=Your code for Acme"), "{line}");
    assert!(
        all.contains(CODE) && all.contains(LINK),
        "the body is shown"
    );
}

#[test]
fn mail_settings_are_validated_with_errors_naming_the_setting() {
    let smtp = [
        ("TESSERA_MAIL_TRANSPORT", "smtp"),
        ("TESSERA_MAIL_FROM", FROM),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut environment = smtp.to_vec();
        environment.extend_from_slice(extra);
        settings(&environment)
    };
    let cases: [(Result<Settings, ConfigError>, &str); 12] = [
        (with(&[]), "`smtp_host`"),
        (
            settings(&[
                ("TESSERA_MAIL_TRANSPORT", "smtp"),
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
            ]),
            "`mail_from`",
        ),
        (
            settings(&[("TESSERA_MAIL_TRANSPORT", "log")]),
            "`mail_from`",
        ),
        (
            settings(&[("TESSERA_MAIL_TRANSPORT", "sendmail")]),
            "`mail_transport`",
        ),
        (
            with(&[
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
                ("TESSERA_SMTP_TLS", "none"),
            ]),
            "`smtp_tls`",
        ),
        (
            with(&[
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
                ("TESSERA_SMTP_TLS", "ssl"),
            ]),
            "`smtp_tls`",
        ),
        (
            with(&[
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
                ("TESSERA_SMTP_PORT", "0"),
            ]),
            "`smtp_port`",
        ),
        (
            with(&[
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
                ("TESSERA_SMTP_PORT", "70000"),
            ]),
            "`smtp_port`",
        ),
        (
            with(&[("TESSERA_SMTP_HOST", "smtp example.com")]),
            "`smtp_host`",
        ),
        (
            with(&[
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
                ("TESSERA_SMTP_USERNAME", "tessera"),
            ]),
            "`smtp_password`",
        ),
        (
            with(&[
                ("TESSERA_SMTP_HOST", "smtp.example.com"),
                ("TESSERA_SMTP_TIMEOUT_SECONDS", "0"),
            ]),
            "`smtp_timeout_seconds`",
        ),
        (
            settings(&[
                ("TESSERA_MAIL_TRANSPORT", "log"),
                ("TESSERA_MAIL_FROM", "not an address"),
            ]),
            "`mail_from`",
        ),
    ];
    for (result, setting) in cases {
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(setting),
            "expected {setting} in '{message}'"
        );
    }
    let plaintext = with(&[
        ("TESSERA_SMTP_HOST", "smtp.example.com"),
        ("TESSERA_SMTP_TLS", "none"),
    ])
    .err()
    .unwrap()
    .to_string();
    assert!(plaintext.contains("clear text"), "{plaintext}");

    // Allowed: plaintext to loopback, or with the explicit opt-in; the ports' defaults.
    let port_of = |extra: &[(&'static str, &'static str)]| match with(extra).unwrap().mail {
        MailSettings::Smtp(smtp) => smtp.port,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        port_of(&[
            ("TESSERA_SMTP_HOST", "localhost"),
            ("TESSERA_SMTP_TLS", "none")
        ]),
        587
    );
    assert_eq!(
        port_of(&[
            ("TESSERA_SMTP_HOST", "relay.internal"),
            ("TESSERA_SMTP_TLS", "none"),
            ("TESSERA_SMTP_ALLOW_PLAINTEXT", "true"),
        ]),
        587
    );
    assert_eq!(port_of(&[("TESSERA_SMTP_HOST", "smtp.example.com")]), 587);
    assert_eq!(
        port_of(&[
            ("TESSERA_SMTP_HOST", "smtp.example.com"),
            ("TESSERA_SMTP_TLS", "tls")
        ]),
        465
    );
    assert_eq!(
        port_of(&[
            ("TESSERA_SMTP_HOST", "smtp.example.com"),
            ("TESSERA_SMTP_PORT", "2525")
        ]),
        2525
    );
}

/// A24 for the real binary: the SMTP password, given in the environment, never reaches
/// its log, even at trace level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a24_the_binary_never_logs_the_smtp_password() {
    let sink = SmtpSink::start().await;
    let directory = tempfile::tempdir().unwrap();
    let mut child = tessera()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "trace")
        .env("TESSERA_MAIL_TRANSPORT", "smtp")
        .env("TESSERA_SMTP_HOST", "127.0.0.1")
        .env("TESSERA_SMTP_PORT", sink.port().to_string())
        .env("TESSERA_SMTP_TLS", "none")
        .env("TESSERA_SMTP_USERNAME", "tessera")
        .env("TESSERA_SMTP_PASSWORD", PASSWORD)
        .env("TESSERA_MAIL_FROM", FROM)
        .current_dir(directory.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (_, log) = wait_for_address(&mut child).await;
    drop(child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = log.lock().unwrap().join("\n");
    assert!(all.contains("notices are sent by SMTP"), "{all}");
    assert!(!all.contains(PASSWORD), "the SMTP password leaked:\n{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_warns_once_when_mails_are_only_logged_and_refuses_bad_mail_settings() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = tessera()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TESSERA_MAIL_TRANSPORT", "log")
        .env("TESSERA_MAIL_FROM", FROM)
        .current_dir(directory.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (_, log) = wait_for_address(&mut child).await;
    drop(child);
    let warnings = log
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains("WARN") && line.contains("DEVELOPMENT ONLY"))
        .count();
    assert_eq!(warnings, 1);

    let refused = tessera()
        .arg("serve")
        .env("TESSERA_MAIL_TRANSPORT", "smtp")
        .env("TESSERA_SMTP_HOST", "smtp.example.com")
        .env("TESSERA_SMTP_TLS", "none")
        .env("TESSERA_MAIL_FROM", FROM)
        .current_dir(directory.path())
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("`smtp_tls`"), "{stderr}");
}
