//! Captcha checks: the HTTP verifier against a real local `siteverify` endpoint — the form
//! it posts, passing, refused and reused tokens, scores below the minimum, wrong settings,
//! HTTP errors, timeouts and an unreachable provider — with the secret and the token kept
//! out of errors and logs (A24).

use secrecy::SecretString;
use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera::captcha::{CaptchaVerifierSettings, HttpCaptchaVerifier};
use tessera_core::bot::captcha::{CaptchaError, CaptchaOutcome, CaptchaProvider, CaptchaVerifier};
use tessera_test_support::captcha_provider::{FakeCaptcha, HOSTNAME};

const SECRET: &str = "canary-captcha-secret-3f8a61";
const SITE_KEY: &str = "site-key-10000000-ffff";
const IP: &str = "203.0.113.7";

fn verifier(provider: &FakeCaptcha, kind: CaptchaProvider) -> HttpCaptchaVerifier {
    verifier_with(provider, kind, |_| {})
}

fn verifier_with(
    provider: &FakeCaptcha,
    kind: CaptchaProvider,
    adjust: impl FnOnce(&mut CaptchaVerifierSettings),
) -> HttpCaptchaVerifier {
    let mut settings = CaptchaVerifierSettings::new(kind, SecretString::from(SECRET));
    settings.site_key = Some(SITE_KEY.to_owned());
    settings.siteverify_url = Some(provider.url().parse().unwrap());
    adjust(&mut settings);
    HttpCaptchaVerifier::new(settings).unwrap()
}

fn ip() -> Option<IpAddr> {
    Some(IP.parse().unwrap())
}

#[tokio::test]
async fn a_passing_token_passes_once_and_the_form_is_what_providers_expect() {
    let provider = FakeCaptcha::start(SECRET).await;
    let turnstile = verifier(&provider, CaptchaProvider::Turnstile);
    assert_eq!(turnstile.provider(), CaptchaProvider::Turnstile);
    let outcome = turnstile.verify("pass-1", ip()).await.unwrap();
    assert_eq!(
        outcome,
        CaptchaOutcome::Passed {
            hostname: Some(HOSTNAME.to_owned()),
            score: None
        }
    );
    let request = &provider.received()[0];
    let names: Vec<&str> = request
        .fields
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["secret", "response", "remoteip"]);
    assert_eq!(request.field("secret"), Some(SECRET));
    assert_eq!(request.field("response"), Some("pass-1"));
    assert_eq!(request.field("remoteip"), Some(IP));
    // Tokens are single use at the provider.
    assert_eq!(
        turnstile.verify("pass-1", ip()).await.unwrap(),
        CaptchaOutcome::Failed {
            error_codes: vec!["timeout-or-duplicate".to_owned()]
        }
    );
    // hCaptcha also gets the site key; without an address there is no remoteip.
    let hcaptcha = verifier(&provider, CaptchaProvider::Hcaptcha);
    assert!(hcaptcha.verify("pass-2", None).await.unwrap().passed());
    let request = &provider.received()[2];
    assert_eq!(request.field("sitekey"), Some(SITE_KEY));
    assert_eq!(request.field("remoteip"), None);
}

#[tokio::test]
async fn a_failed_token_is_refused_with_the_providers_codes() {
    let provider = FakeCaptcha::start(SECRET).await;
    let recaptcha = verifier(&provider, CaptchaProvider::Recaptcha);
    assert_eq!(
        recaptcha.verify("made-up-by-a-bot", ip()).await.unwrap(),
        CaptchaOutcome::Failed {
            error_codes: vec!["invalid-input-response".to_owned()]
        }
    );
    // An empty token is refused without asking.
    let empty = recaptcha.verify("", ip()).await.unwrap();
    assert!(!empty.passed());
    assert_eq!(provider.received().len(), 1);
}

#[tokio::test]
async fn a_score_below_the_minimum_is_refused() {
    let provider = FakeCaptcha::start(SECRET).await;
    let recaptcha = verifier_with(&provider, CaptchaProvider::Recaptcha, |settings| {
        settings.minimum_score = Some(0.5);
    });
    provider.score(Some(0.2));
    assert_eq!(
        recaptcha.verify("pass-low", ip()).await.unwrap(),
        CaptchaOutcome::LowScore {
            score: 0.2,
            minimum: 0.5
        }
    );
    provider.score(Some(0.9));
    assert_eq!(
        recaptcha.verify("pass-high", ip()).await.unwrap(),
        CaptchaOutcome::Passed {
            hostname: Some(HOSTNAME.to_owned()),
            score: Some(0.9)
        }
    );
}

#[tokio::test]
async fn a_wrong_secret_is_a_settings_error_not_a_refusal() {
    let provider = FakeCaptcha::start("the-real-secret").await;
    let turnstile = verifier(&provider, CaptchaProvider::Turnstile);
    assert_eq!(
        turnstile.verify("pass-1", ip()).await,
        Err(CaptchaError::Misconfigured(
            "invalid-input-secret".to_owned()
        ))
    );
}

/// A24: a failing provider is an error with its status; the secret and the token reach
/// neither the error, the log nor the verifier's debug output.
#[tokio::test]
async fn a24_an_http_error_is_an_error_and_nothing_secret_is_logged() {
    let (log, _guard) = CapturedLog::start();
    let provider = FakeCaptcha::start(SECRET).await;
    provider.fail_with(500);
    let hcaptcha = verifier(&provider, CaptchaProvider::Hcaptcha);
    let token = "pass-canary-token-91c2";
    let error = hcaptcha.verify(token, ip()).await.unwrap_err();
    assert_eq!(error, CaptchaError::Status(500));
    let all = log.text();
    assert!(all.contains("captcha check failed"), "{all}");
    assert!(all.contains("provider=\"hcaptcha\""), "{all}");
    for text in [all, error.to_string(), format!("{hcaptcha:?}")] {
        assert!(!text.contains(SECRET), "the secret leaked: {text}");
        assert!(!text.contains(token), "the token leaked: {text}");
    }
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let provider = FakeCaptcha::start(SECRET).await;
    provider.delay(Duration::from_secs(3));
    let turnstile = verifier_with(&provider, CaptchaProvider::Turnstile, |settings| {
        settings.timeout = Duration::from_millis(200);
    });
    let started = Instant::now();
    let error = turnstile.verify("pass-1", ip()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        error,
        CaptchaError::Unreachable("127.0.0.1: no answer within 200 ms".to_owned())
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_an_error() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut settings =
        CaptchaVerifierSettings::new(CaptchaProvider::Recaptcha, SecretString::from(SECRET));
    settings.siteverify_url = Some(format!("http://{closed}/siteverify").parse().unwrap());
    let recaptcha = HttpCaptchaVerifier::new(settings).unwrap();
    let error = recaptcha.verify("pass-1", ip()).await.unwrap_err();
    assert!(
        matches!(&error, CaptchaError::Unreachable(cause) if cause.starts_with("127.0.0.1: ")),
        "{error:?}"
    );
    assert!(!error.to_string().contains(SECRET));
}

/// The log lines written while the guard lives (this thread only).
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
