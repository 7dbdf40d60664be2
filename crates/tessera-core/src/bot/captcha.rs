//! External captchas (hCaptcha, Cloudflare Turnstile, Google reCAPTCHA), for tenants that
//! want one instead of, or on top of, the built-in proof of work. Each works the same way:
//! the page embeds the provider's script and a widget with the tenant's site key; the widget
//! puts a token in a form field; the server posts that token with its secret to the
//! provider's `siteverify` endpoint and reads `{"success": …, "error-codes": […]}`.
//!
//! This module knows the providers ([`CaptchaProvider`]) and how to read their answers
//! ([`interpret`], a pure function); the binary's HTTP adapter implements
//! [`CaptchaVerifier`]. Network failures are a [`CaptchaError`], never a refusal: the caller
//! decides whether to fail closed.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The longest token posted to a provider; longer ones are refused without a call.
/// Turnstile documents 2048 characters; hCaptcha and reCAPTCHA tokens are longer but well
/// under this.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// An external captcha service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptchaProvider {
    /// hCaptcha (<https://docs.hcaptcha.com>).
    Hcaptcha,
    /// Cloudflare Turnstile (<https://developers.cloudflare.com/turnstile/>).
    Turnstile,
    /// Google reCAPTCHA v2 or v3 (<https://developers.google.com/recaptcha>).
    Recaptcha,
}

impl CaptchaProvider {
    pub const ALL: [Self; 3] = [Self::Hcaptcha, Self::Turnstile, Self::Recaptcha];

    /// The name in settings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hcaptcha => "hcaptcha",
            Self::Turnstile => "turnstile",
            Self::Recaptcha => "recaptcha",
        }
    }

    /// Where the server checks a token (a form POST of `secret`, `response`, `remoteip`).
    pub fn siteverify_url(self) -> &'static str {
        match self {
            Self::Hcaptcha => "https://api.hcaptcha.com/siteverify",
            Self::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
            Self::Recaptcha => "https://www.google.com/recaptcha/api/siteverify",
        }
    }

    /// The form field the widget puts its token in.
    pub fn response_field(self) -> &'static str {
        match self {
            Self::Hcaptcha => "h-captcha-response",
            Self::Turnstile => "cf-turnstile-response",
            Self::Recaptcha => "g-recaptcha-response",
        }
    }

    /// The script the page loads (`<script src=… async defer>`).
    pub fn script_url(self) -> &'static str {
        match self {
            Self::Hcaptcha => "https://js.hcaptcha.com/1/api.js",
            Self::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/api.js",
            Self::Recaptcha => "https://www.google.com/recaptcha/api.js",
        }
    }

    /// The class of the element the script turns into a widget; the site key goes in its
    /// `data-sitekey` attribute.
    pub fn widget_class(self) -> &'static str {
        match self {
            Self::Hcaptcha => "h-captcha",
            Self::Turnstile => "cf-turnstile",
            Self::Recaptcha => "g-recaptcha",
        }
    }

    /// The origins the page's Content-Security-Policy must allow in `script-src` and
    /// `frame-src` (hCaptcha also needs them in `style-src` and `connect-src`), as each
    /// provider documents.
    pub fn csp_sources(self) -> &'static [&'static str] {
        match self {
            Self::Hcaptcha => &["https://hcaptcha.com", "https://*.hcaptcha.com"],
            Self::Turnstile => &["https://challenges.cloudflare.com"],
            Self::Recaptcha => &[
                "https://www.google.com/recaptcha/",
                "https://www.gstatic.com/recaptcha/",
                "https://recaptcha.google.com/recaptcha/",
            ],
        }
    }

    /// Whether a score in this provider's answer measures risk (1.0 = a bot: hCaptcha
    /// Enterprise) rather than confidence in a human (1.0 = a human: reCAPTCHA v3).
    fn score_is_risk(self) -> bool {
        matches!(self, Self::Hcaptcha)
    }
}

/// A provider's `siteverify` answer, as far as Tessera reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SiteverifyAnswer {
    pub success: bool,
    #[serde(default, rename = "error-codes")]
    pub error_codes: Vec<String>,
    /// The site the token was solved on.
    #[serde(default)]
    pub hostname: Option<String>,
    /// reCAPTCHA v3 (confidence) and hCaptcha Enterprise (risk), 0.0 to 1.0.
    #[serde(default)]
    pub score: Option<f64>,
    /// reCAPTCHA v3 and Turnstile: the action the page named.
    #[serde(default)]
    pub action: Option<String>,
}

/// What the provider decided about one token.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptchaOutcome {
    /// A person, as far as the provider can tell.
    Passed {
        hostname: Option<String>,
        /// How likely a human, 0.0 to 1.0 (hCaptcha's risk score turned round), when the
        /// provider scores.
        score: Option<f64>,
    },
    /// The provider refused the token: not solved, expired, used before, or made for another
    /// site. `error_codes` are the provider's.
    Failed { error_codes: Vec<String> },
    /// Solved, but scored below the tenant's minimum.
    LowScore { score: f64, minimum: f64 },
}

impl CaptchaOutcome {
    pub fn passed(&self) -> bool {
        matches!(self, Self::Passed { .. })
    }
}

/// Why no decision could be had. The person is not at fault; the caller decides whether to
/// let them through (fail open) or not (fail closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptchaError {
    /// The provider could not be reached or did not answer in time. Names the host only.
    #[error("the captcha provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider answered with an HTTP error status.
    #[error("the captcha provider answered HTTP {0}")]
    Status(u16),
    /// The answer was not the JSON the provider documents.
    #[error("the captcha provider's answer is not understood")]
    BadAnswer,
    /// The provider says our side is wrong: missing or invalid secret, or a site key that
    /// does not belong to the secret. An operator must fix the settings.
    #[error("the captcha settings are wrong ({0})")]
    Misconfigured(String),
    /// The provider failed internally.
    #[error("the captcha provider failed ({0})")]
    Provider(String),
}

/// Error codes that blame the server's settings, not the person's token.
const SETTINGS_ERRORS: [&str; 5] = [
    "missing-input-secret",
    "invalid-input-secret",
    "sitekey-secret-mismatch",
    "invalid-sitekey",
    "bad-request",
];
/// Error codes that blame the provider.
const PROVIDER_ERRORS: [&str; 1] = ["internal-error"];

/// Reads a `siteverify` answer of `provider`, requiring a score of at least `minimum_score`
/// (how likely a human, 0.0 to 1.0) when the provider gives one. A provider that gives no
/// score is not held to the minimum: Turnstile never scores, reCAPTCHA v2 neither.
pub fn interpret(
    provider: CaptchaProvider,
    answer: SiteverifyAnswer,
    minimum_score: Option<f64>,
) -> Result<CaptchaOutcome, CaptchaError> {
    let blamed = |known: &[&str]| {
        let found: Vec<&str> = answer
            .error_codes
            .iter()
            .map(String::as_str)
            .filter(|code| known.contains(code))
            .collect();
        (!found.is_empty()).then(|| found.join(","))
    };
    if let Some(codes) = blamed(&SETTINGS_ERRORS) {
        return Err(CaptchaError::Misconfigured(codes));
    }
    if let Some(codes) = blamed(&PROVIDER_ERRORS) {
        return Err(CaptchaError::Provider(codes));
    }
    if !answer.success {
        return Ok(CaptchaOutcome::Failed {
            error_codes: answer.error_codes,
        });
    }
    let score = match answer.score {
        Some(raw) if !(0.0..=1.0).contains(&raw) => return Err(CaptchaError::BadAnswer),
        Some(raw) if provider.score_is_risk() => Some(1.0 - raw),
        other => other,
    };
    if let (Some(score), Some(minimum)) = (score, minimum_score)
        && score < minimum
    {
        return Ok(CaptchaOutcome::LowScore { score, minimum });
    }
    Ok(CaptchaOutcome::Passed {
        hostname: answer.hostname,
        score,
    })
}

/// The outcome for a token that is refused without asking the provider: empty or longer
/// than [`MAX_TOKEN_BYTES`] (the codes are the ones the providers use for it).
pub fn precheck(token: &str) -> Option<CaptchaOutcome> {
    let code = if token.is_empty() {
        "missing-input-response"
    } else if token.len() > MAX_TOKEN_BYTES {
        "invalid-input-response"
    } else {
        return None;
    };
    Some(CaptchaOutcome::Failed {
        error_codes: vec![code.to_owned()],
    })
}

/// Checks captcha tokens with one provider, for one site key and secret.
#[async_trait::async_trait]
pub trait CaptchaVerifier: Send + Sync + std::fmt::Debug {
    /// The provider asked.
    fn provider(&self) -> CaptchaProvider;

    /// Asks the provider about `response_token` (the widget's form field), passing the
    /// person's address when known. Tokens are single use at the provider: a second check
    /// of one token fails.
    async fn verify(
        &self,
        response_token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<CaptchaOutcome, CaptchaError>;
}

/// Makes a [`CaptchaVerifier`] for a tenant's provider, secret and site key (the binary's
/// HTTP clients; a fake in tests).
pub trait CaptchaVerifiers: Send + Sync + std::fmt::Debug {
    fn verifier(
        &self,
        provider: CaptchaProvider,
        secret: secrecy::SecretString,
        site_key: &str,
        minimum_score: Option<f64>,
    ) -> Result<std::sync::Arc<dyn CaptchaVerifier>, String>;
}

/// The tenant secrets kept sealed beside the settings (never in them: settings are read
/// back through the admin API).
#[async_trait::async_trait]
pub trait TenantSecretStore {
    /// Sets (or replaces) the sealed secret `name` of the tenant, writing `event` in the
    /// same transaction.
    async fn set_tenant_secret(
        &self,
        tenant: crate::ids::TenantId,
        name: &str,
        sealed: &[u8],
        at: time::OffsetDateTime,
        event: &crate::event::Event,
    ) -> crate::store::StoreResult<()>;
    async fn tenant_secret(
        &self,
        tenant: crate::ids::TenantId,
        name: &str,
    ) -> crate::store::StoreResult<Option<Vec<u8>>>;
    /// Removes it, writing `event` when there was one; whether there was.
    async fn delete_tenant_secret(
        &self,
        tenant: crate::ids::TenantId,
        name: &str,
        event: &crate::event::Event,
    ) -> crate::store::StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> SiteverifyAnswer {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_provider_names_its_endpoints_and_field() {
        for provider in CaptchaProvider::ALL {
            assert!(provider.siteverify_url().starts_with("https://"));
            assert!(provider.script_url().starts_with("https://"));
            assert!(provider.response_field().ends_with("-response"));
            assert!(!provider.csp_sources().is_empty());
            let json = serde_json::to_string(&provider).unwrap();
            assert_eq!(json, format!("\"{}\"", provider.as_str()));
        }
        assert_eq!(
            CaptchaProvider::Turnstile.response_field(),
            "cf-turnstile-response"
        );
    }

    #[test]
    fn a_successful_answer_passes() {
        let outcome = interpret(
            CaptchaProvider::Turnstile,
            answer(r#"{"success":true,"hostname":"login.example.com","challenge_ts":"2026-01-01T00:00:00Z","error-codes":[],"action":"login","cdata":""}"#),
            Some(0.5),
        )
        .unwrap();
        assert_eq!(
            outcome,
            CaptchaOutcome::Passed {
                hostname: Some("login.example.com".into()),
                score: None
            }
        );
        assert!(outcome.passed());
    }

    #[test]
    fn a_refused_token_fails_with_the_providers_codes() {
        let outcome = interpret(
            CaptchaProvider::Hcaptcha,
            answer(r#"{"success":false,"error-codes":["invalid-or-already-seen-response"]}"#),
            None,
        )
        .unwrap();
        assert_eq!(
            outcome,
            CaptchaOutcome::Failed {
                error_codes: vec!["invalid-or-already-seen-response".into()]
            }
        );
        assert!(!outcome.passed());
    }

    #[test]
    fn scores_are_held_to_the_minimum_the_right_way_round() {
        let recaptcha = |score: &str| {
            interpret(
                CaptchaProvider::Recaptcha,
                answer(&format!(
                    r#"{{"success":true,"score":{score},"action":"login"}}"#
                )),
                Some(0.5),
            )
            .unwrap()
        };
        assert!(recaptcha("0.9").passed());
        assert!(recaptcha("0.5").passed());
        assert_eq!(
            recaptcha("0.1"),
            CaptchaOutcome::LowScore {
                score: 0.1,
                minimum: 0.5
            }
        );
        // hCaptcha Enterprise scores risk: 0.9 is probably a bot.
        let hcaptcha = |score: &str| {
            interpret(
                CaptchaProvider::Hcaptcha,
                answer(&format!(r#"{{"success":true,"score":{score}}}"#)),
                Some(0.5),
            )
            .unwrap()
        };
        assert!(hcaptcha("0.1").passed());
        assert!(!hcaptcha("0.9").passed());
        // Without a minimum any score passes; an impossible score is not understood.
        let any = interpret(
            CaptchaProvider::Recaptcha,
            answer(r#"{"success":true,"score":0.0}"#),
            None,
        );
        assert!(any.unwrap().passed());
        let impossible = interpret(
            CaptchaProvider::Recaptcha,
            answer(r#"{"success":true,"score":7}"#),
            None,
        );
        assert_eq!(impossible, Err(CaptchaError::BadAnswer));
    }

    #[test]
    fn codes_that_blame_the_settings_or_the_provider_are_errors() {
        let misconfigured = interpret(
            CaptchaProvider::Turnstile,
            answer(r#"{"success":false,"error-codes":["invalid-input-secret"]}"#),
            None,
        );
        assert_eq!(
            misconfigured,
            Err(CaptchaError::Misconfigured("invalid-input-secret".into()))
        );
        let broken = interpret(
            CaptchaProvider::Turnstile,
            answer(r#"{"success":false,"error-codes":["internal-error"]}"#),
            None,
        );
        assert_eq!(broken, Err(CaptchaError::Provider("internal-error".into())));
    }

    #[test]
    fn empty_and_huge_tokens_are_refused_without_a_call() {
        assert!(precheck("token").is_none());
        assert_eq!(
            precheck(""),
            Some(CaptchaOutcome::Failed {
                error_codes: vec!["missing-input-response".into()]
            })
        );
        assert!(precheck(&"x".repeat(MAX_TOKEN_BYTES + 1)).is_some());
    }
}
