//! The SMS settings: how text messages (phone codes) leave Tessera (`sms_transport`), and
//! the HTTP provider's URL, authentication, content type and body template. Checked with
//! the rest of the configuration; docs/configuration.md ("SMS and phone verification")
//! describes each setting.

use super::{Config, ConfigError, invalid};
use crate::sms::{BodyTemplate, SmsContentType};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// How text messages leave Tessera.
#[derive(Debug, Clone)]
pub enum SmsSettings {
    /// No way of sending (the default): every message fails as not configured, and phone
    /// numbers cannot be verified.
    None,
    /// Development only: messages are written to the log at WARN, codes included, and not
    /// sent. `from` is shown in the log line.
    Log { from: Option<String> },
    /// Messages are posted to an SMS provider's HTTP API.
    Http(HttpSmsSettings),
}

/// An SMS provider's HTTP API: where, how to authenticate, and what to post.
#[derive(Debug, Clone)]
pub struct HttpSmsSettings {
    pub url: Url,
    pub auth: SmsAuth,
    pub content_type: SmsContentType,
    pub body: BodyTemplate,
    /// The sender name or number put in `{from}`, if the template uses it.
    pub from: Option<String>,
    /// Longest one message may take, connecting included.
    pub timeout: Duration,
}

/// How Tessera authenticates to the provider. Secrets' `Debug` is redacted.
#[derive(Debug, Clone)]
pub enum SmsAuth {
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// `Authorization: Basic …` (RFC 7617).
    Basic {
        username: String,
        password: SecretString,
    },
    /// A header of the provider's own, such as `X-API-Key: …` or `Authorization: App …`.
    Header {
        name: String,
        value: SecretString,
    },
}

/// Headers the HTTP client writes itself; a custom authentication header must not replace
/// them.
const RESERVED_HEADERS: [&str; 5] = [
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

/// `sms_allowed_country_codes` as `+<code>` prefixes: each code 1 to 4 digits (a country
/// calling code, or a NANP area such as `1264`), at most 300.
pub(super) fn allowed_prefixes(text: &str) -> Result<Vec<String>, ConfigError> {
    let codes: Vec<&str> = text
        .split(',')
        .map(|code| code.trim().trim_start_matches('+'))
        .filter(|code| !code.is_empty())
        .collect();
    if codes.len() > 300 {
        return Err(invalid("sms_allowed_country_codes", "at most 300 codes"));
    }
    codes
        .into_iter()
        .map(|code| {
            let digits = (1..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit());
            if digits && !code.starts_with('0') {
                Ok(format!("+{code}"))
            } else {
                Err(invalid(
                    "sms_allowed_country_codes",
                    format!("'{code}' is not a country calling code (1 to 4 digits, e.g. 41)"),
                ))
            }
        })
        .collect()
}

/// The SMS part of [`Config::validate`].
pub(super) fn validate(config: &Config) -> Result<SmsSettings, ConfigError> {
    let from = sender(config)?;
    match config.sms_transport.as_str() {
        "none" => Ok(SmsSettings::None),
        "log" => Ok(SmsSettings::Log { from }),
        "http" => http(config, from).map(SmsSettings::Http),
        other => Err(invalid(
            "sms_transport",
            format!("'{other}' is not http, log or none"),
        )),
    }
}

fn http(config: &Config, from: Option<String>) -> Result<HttpSmsSettings, ConfigError> {
    let url = url(config)?;
    let auth = auth(config)?;
    let content_type = match config.sms_http_content_type.as_str() {
        "json" => SmsContentType::Json,
        "form" => SmsContentType::Form,
        other => {
            return Err(invalid(
                "sms_http_content_type",
                format!("'{other}' is not json or form"),
            ));
        }
    };
    let Some(template) = config.sms_http_body_template.as_deref() else {
        return Err(invalid(
            "sms_http_body_template",
            "is required when sms_transport is http (the request body, with {to} and {text})",
        ));
    };
    let body = BodyTemplate::parse(template, content_type)
        .map_err(|reason| invalid("sms_http_body_template", reason))?;
    if body.uses_from() && from.is_none() {
        return Err(invalid(
            "sms_from",
            "is required: sms_http_body_template uses {from}",
        ));
    }
    if !(1..=60).contains(&config.sms_timeout_seconds) {
        return Err(invalid("sms_timeout_seconds", "must be between 1 and 60"));
    }
    Ok(HttpSmsSettings {
        url,
        auth,
        content_type,
        body,
        from,
        timeout: Duration::from_secs(config.sms_timeout_seconds),
    })
}

fn url(config: &Config) -> Result<Url, ConfigError> {
    let Some(text) = config.sms_http_url.as_deref().map(str::trim) else {
        return Err(invalid(
            "sms_http_url",
            "is required when sms_transport is http (the provider's endpoint for sending a message)",
        ));
    };
    let url =
        Url::parse(text).map_err(|e| invalid("sms_http_url", format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            "sms_http_url",
            "must be an http(s) URL with a host",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "sms_http_url",
            "must not hold credentials; give them in sms_http_auth",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("sms_http_url", "must not have a fragment"));
    }
    if url.scheme() == "http" && !is_loopback(&url) && !config.sms_http_allow_plaintext {
        return Err(invalid(
            "sms_http_url",
            "http:// would send codes and credentials across the network in clear text; it \
             is allowed only to a loopback host (localhost, 127.0.0.1 or ::1). Use https://, \
             or set sms_http_allow_plaintext = true if that network is trusted",
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => {
            name.trim_end_matches('.').eq_ignore_ascii_case("localhost")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).to_canonical().is_loopback(),
        None => false,
    }
}

/// A non-empty secret setting.
fn secret(value: Option<&SecretString>) -> Option<SecretString> {
    value
        .filter(|secret| !secret.expose_secret().is_empty())
        .cloned()
}

fn text(value: Option<&String>) -> Option<String> {
    value
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn auth(config: &Config) -> Result<SmsAuth, ConfigError> {
    let token = secret(config.sms_http_token.as_ref());
    let username = text(config.sms_http_username.as_ref());
    let password = secret(config.sms_http_password.as_ref());
    let header_name = text(config.sms_http_header_name.as_ref());
    let header_value = secret(config.sms_http_header_value.as_ref());
    let mode = config.sms_http_auth.as_str();
    // A credential given for another mode is a mistake that would silently send none.
    let given: [(&'static str, bool, &str); 5] = [
        ("sms_http_token", token.is_some(), "bearer"),
        ("sms_http_username", username.is_some(), "basic"),
        ("sms_http_password", password.is_some(), "basic"),
        ("sms_http_header_name", header_name.is_some(), "header"),
        ("sms_http_header_value", header_value.is_some(), "header"),
    ];
    if let Some((setting, _, needs)) = given
        .iter()
        .find(|(_, present, needs)| *present && *needs != mode)
    {
        return Err(invalid(
            setting,
            format!("is set, but it is used only with sms_http_auth = \"{needs}\", not \"{mode}\""),
        ));
    }
    let required = |setting: &'static str| {
        invalid(
            setting,
            format!("is required with sms_http_auth = \"{mode}\""),
        )
    };
    match mode {
        "none" => Ok(SmsAuth::None),
        "bearer" => {
            let token = token.ok_or_else(|| required("sms_http_token"))?;
            if HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).is_err() {
                return Err(invalid("sms_http_token", "must be printable ASCII"));
            }
            Ok(SmsAuth::Bearer(token))
        }
        "basic" => {
            let username = username.ok_or_else(|| required("sms_http_username"))?;
            if username.contains(':') {
                return Err(invalid("sms_http_username", "must not contain ':'"));
            }
            let password = password.ok_or_else(|| required("sms_http_password"))?;
            Ok(SmsAuth::Basic { username, password })
        }
        "header" => {
            let name = header_name.ok_or_else(|| required("sms_http_header_name"))?;
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                invalid(
                    "sms_http_header_name",
                    format!("'{name}' is not an HTTP header name"),
                )
            })?;
            if RESERVED_HEADERS.contains(&parsed.as_str()) {
                return Err(invalid(
                    "sms_http_header_name",
                    format!(
                        "'{name}' is written by Tessera itself; choose the provider's authentication header"
                    ),
                ));
            }
            let value = header_value.ok_or_else(|| required("sms_http_header_value"))?;
            if HeaderValue::from_str(value.expose_secret()).is_err() {
                return Err(invalid("sms_http_header_value", "must be printable ASCII"));
            }
            Ok(SmsAuth::Header {
                name: parsed.as_str().to_owned(),
                value,
            })
        }
        other => Err(invalid(
            "sms_http_auth",
            format!("'{other}' is not none, bearer, basic or header"),
        )),
    }
}

/// The sender name or number, checked when given.
fn sender(config: &Config) -> Result<Option<String>, ConfigError> {
    match text(config.sms_from.as_ref()) {
        None => Ok(None),
        Some(from) if from.chars().count() <= 64 && !from.chars().any(char::is_control) => {
            Ok(Some(from))
        }
        Some(_) => Err(invalid(
            "sms_from",
            "must be 1 to 64 characters without control characters",
        )),
    }
}
