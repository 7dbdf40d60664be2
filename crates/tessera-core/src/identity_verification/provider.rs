//! The provider's configuration and the call that starts a session: the rules for the
//! settings an administrator gives, the JSON Tessera sends to the provider's start URL, and
//! the checks on what it answers. Pure functions; the service does the I/O.

use super::{AssuranceLevel, IdentitySession};
use crate::error::FieldError;
use crate::ids::TenantId;
use crate::user::User;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use url::Url;

/// Session lifetime bounds and default, in minutes.
pub const MIN_SESSION_MINUTES: u32 = 5;
pub const MAX_SESSION_MINUTES: u32 = 1440;
pub const DEFAULT_SESSION_MINUTES: u32 = 60;
/// The shortest webhook secret: 256 bits, as long as the HMAC-SHA256 key it becomes.
pub const MIN_WEBHOOK_SECRET_BYTES: usize = 32;
const MAX_WEBHOOK_SECRET_BYTES: usize = 512;
const MAX_API_TOKEN_BYTES: usize = 4096;
const MAX_NAME_CHARS: usize = 100;
const MAX_TRUST_FRAMEWORK_CHARS: usize = 64;
const MAX_URL_CHARS: usize = 2000;
/// The longest provider session id kept.
const MAX_PROVIDER_ID_CHARS: usize = 200;

/// What an administrator sends to configure the provider. Secrets may be left out when a
/// provider is configured already: the stored ones are kept.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub name: String,
    pub start_url: String,
    pub api_token: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    pub trust_framework: String,
    /// Default [`DEFAULT_SESSION_MINUTES`].
    pub session_minutes: Option<u32>,
}

/// The settings once checked (secrets stay in [`ProviderSettings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSettings {
    pub name: String,
    pub start_url: Url,
    pub trust_framework: String,
    pub session_minutes: u32,
}

fn one_line(text: &str, max_chars: usize) -> bool {
    let count = text.chars().count();
    (1..=max_chars).contains(&count) && !text.chars().any(char::is_control)
}

impl ProviderSettings {
    /// Checks every field and reports every problem at once. Without an existing provider
    /// both secrets are required.
    pub fn check(&self, existing: bool) -> Result<CheckedSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if !one_line(name, MAX_NAME_CHARS) {
            errors.push(FieldError::new(
                "name",
                "1 to 100 characters, no control characters",
            ));
        }
        let start_url = allowed_url(self.start_url.trim())
            .map_err(|reason| errors.push(FieldError::new("start_url", reason)))
            .ok();
        let trust_framework = self.trust_framework.trim();
        if !one_line(trust_framework, MAX_TRUST_FRAMEWORK_CHARS) {
            errors.push(FieldError::new(
                "trust_framework",
                "1 to 64 characters, no control characters (e.g. eidas, de_aml)",
            ));
        }
        let session_minutes = self.session_minutes.unwrap_or(DEFAULT_SESSION_MINUTES);
        if !(MIN_SESSION_MINUTES..=MAX_SESSION_MINUTES).contains(&session_minutes) {
            errors.push(FieldError::new("session_minutes", "5 to 1440 minutes"));
        }
        match &self.api_token {
            None if !existing => errors.push(FieldError::new("api_token", "required")),
            Some(token) if !is_token(token.expose_secret()) => errors.push(FieldError::new(
                "api_token",
                "1 to 4096 visible ASCII characters, no spaces",
            )),
            _ => {}
        }
        match &self.webhook_secret {
            None if !existing => errors.push(FieldError::new("webhook_secret", "required")),
            Some(secret) if !is_webhook_secret(secret.expose_secret()) => errors.push(
                FieldError::new("webhook_secret", "32 to 512 bytes, no control characters"),
            ),
            _ => {}
        }
        match start_url {
            Some(start_url) if errors.is_empty() => Ok(CheckedSettings {
                name: name.to_owned(),
                start_url,
                trust_framework: trust_framework.to_owned(),
                session_minutes,
            }),
            _ => Err(errors),
        }
    }
}

/// A bearer token as RFC 6750 allows it in a header: visible ASCII, no spaces.
fn is_token(token: &str) -> bool {
    (1..=MAX_API_TOKEN_BYTES).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
}

fn is_webhook_secret(secret: &str) -> bool {
    (MIN_WEBHOOK_SECRET_BYTES..=MAX_WEBHOOK_SECRET_BYTES).contains(&secret.len())
        && !secret.chars().any(char::is_control)
}

/// Whether `host` is a loopback host (`localhost`, `127.0.0.0/8`, `::1`).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A URL Tessera may call or send a browser to: `https`, or `http` on a loopback host (for
/// development and tests), with a host, no user information and no fragment.
pub fn allowed_url(text: &str) -> Result<Url, &'static str> {
    const RULE: &str = "an https URL (http only on a loopback host), without user information or fragment, at most 2000 characters";
    if text.len() > MAX_URL_CHARS {
        return Err(RULE);
    }
    let url = Url::parse(text).map_err(|_| RULE)?;
    let scheme_ok = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(&url),
        _ => false,
    };
    if !scheme_ok
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Err(RULE);
    }
    Ok(url)
}

/// The sealing context of a tenant's provider API token.
pub fn api_token_context(tenant: TenantId) -> Vec<u8> {
    format!("identity-verification:api-token:{tenant}").into_bytes()
}

/// The sealing context of a tenant's webhook secret.
pub fn webhook_secret_context(tenant: TenantId) -> Vec<u8> {
    format!("identity-verification:webhook-secret:{tenant}").into_bytes()
}

/// The body of the start request: the session's reference and level, where the result
/// goes (the webhook) and where the browser comes back, and what Tessera knows of the
/// user (only the values it has), so that the provider can compare it with the documents.
pub fn start_request(
    session: &IdentitySession,
    user: &User,
    callback_url: &str,
    return_url: &Url,
) -> Value {
    let profile = &user.profile;
    let mut known = Map::new();
    known.insert("sub".into(), json!(user.id.to_string()));
    for (name, value) in [
        ("given_name", profile.given_name.as_deref()),
        ("family_name", profile.family_name.as_deref()),
        ("birthdate", profile.birthdate.as_deref()),
        (
            "email",
            profile.primary_email().map(|email| email.value.as_str()),
        ),
    ] {
        if let Some(value) = value {
            known.insert(name.into(), json!(value));
        }
    }
    json!({
        "reference": session.id.to_string(),
        "level": session.level,
        "callback_url": callback_url,
        "return_url": return_url.as_str(),
        "user": known,
    })
}

/// What the provider answered to a start request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartAnswer {
    /// The provider's id of the session.
    pub id: String,
    /// Where to send the browser.
    pub url: Url,
}

/// Reads the provider's answer `{"id": "…", "url": "…"}`; the reason when it is unusable
/// (never echoing the answer, which a log could otherwise pick up).
pub fn start_answer(body: &[u8]) -> Result<StartAnswer, &'static str> {
    #[derive(serde::Deserialize)]
    struct Raw {
        id: String,
        url: String,
    }
    let raw: Raw = serde_json::from_slice(body)
        .map_err(|_| "the answer is not a JSON object with the strings id and url")?;
    if !one_line(&raw.id, MAX_PROVIDER_ID_CHARS) {
        return Err("the session id is empty, too long or has control characters");
    }
    let url = allowed_url(&raw.url).map_err(|_| "the url is not https (or http on loopback)")?;
    Ok(StartAnswer { id: raw.id, url })
}

/// The level a client requires, as the admin API writes it.
pub fn parse_level(field: &str, text: &str) -> Result<AssuranceLevel, FieldError> {
    AssuranceLevel::parse(text)
        .ok_or_else(|| FieldError::new(field, "one of low, substantial, high"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ProviderSettings {
        ProviderSettings {
            name: " Test IdP ".into(),
            start_url: "https://idp.example.com/v1/sessions".into(),
            api_token: Some(SecretString::from("tok_abc")),
            webhook_secret: Some(SecretString::from("x".repeat(32))),
            trust_framework: "eidas".into(),
            session_minutes: None,
        }
    }

    fn fields(result: Result<CheckedSettings, Vec<FieldError>>) -> Vec<String> {
        result
            .unwrap_err()
            .into_iter()
            .map(|error| error.field)
            .collect()
    }

    #[test]
    fn good_settings_are_trimmed_and_defaulted() {
        let checked = settings().check(false).unwrap();
        assert_eq!(checked.name, "Test IdP");
        assert_eq!(checked.session_minutes, 60);
        assert_eq!(checked.start_url.host_str(), Some("idp.example.com"));
    }

    #[test]
    fn secrets_are_required_only_for_a_new_provider() {
        let without = ProviderSettings {
            api_token: None,
            webhook_secret: None,
            ..settings()
        };
        assert_eq!(
            fields(without.check(false)),
            ["api_token", "webhook_secret"]
        );
        assert!(without.check(true).is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let bad = ProviderSettings {
            name: "".into(),
            start_url: "http://idp.example.com/start".into(),
            api_token: Some(SecretString::from("has space")),
            webhook_secret: Some(SecretString::from("x".repeat(31))),
            trust_framework: "x".repeat(65),
            session_minutes: Some(4),
        };
        assert_eq!(
            fields(bad.check(true)),
            [
                "name",
                "start_url",
                "trust_framework",
                "session_minutes",
                "api_token",
                "webhook_secret"
            ]
        );
        let long = ProviderSettings {
            session_minutes: Some(1441),
            ..settings()
        };
        assert_eq!(fields(long.check(false)), ["session_minutes"]);
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        for good in [
            "https://idp.example.com/start",
            "http://127.0.0.1:8080/start",
            "http://localhost/start",
            "http://[::1]:9/start",
        ] {
            assert!(allowed_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://idp.example.com/start",
            "http://10.0.0.1/start",
            "ftp://idp.example.com/",
            "https://user:pw@idp.example.com/",
            "https://idp.example.com/#frag",
            "javascript:alert(1)",
            "/relative",
            "",
        ] {
            assert!(allowed_url(bad).is_err(), "{bad}");
        }
        assert!(allowed_url(&format!("https://a.example/{}", "x".repeat(2000))).is_err());
    }

    #[test]
    fn the_answer_must_name_a_session_and_a_usable_url() {
        let good =
            start_answer(br#"{"id": "s-1", "url": "https://idp.example.com/go/s-1"}"#).unwrap();
        assert_eq!(good.id, "s-1");
        for bad in [
            &br#"{"id": "s-1"}"#[..],
            br#"{"id": "", "url": "https://idp.example.com/"}"#,
            br#"{"id": "s-1", "url": "http://evil.example/"}"#,
            br#"{"id": "a\nb", "url": "https://idp.example.com/"}"#,
            br#"not json"#,
        ] {
            assert!(
                start_answer(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn contexts_bind_secrets_to_their_purpose_and_tenant() {
        let a = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let b = TenantId::from_uuid(uuid::Uuid::from_u128(2));
        assert_ne!(api_token_context(a), webhook_secret_context(a));
        assert_ne!(api_token_context(a), api_token_context(b));
    }
}
