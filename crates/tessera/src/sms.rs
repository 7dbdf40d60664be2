//! Sending text messages: [`HttpSmsSender`] posts them to an SMS provider's HTTP API, built
//! from settings (URL, authentication, content type, body template) so that most providers
//! need no code; [`LogSmsSender`] writes them to the log for development. Both compose with
//! `tessera_web::sms::compose`; [`sms_sender`] picks one from the settings.
//!
//! A message holds a one-time code. Only its kind, tenant and the provider's status are
//! logged, never the text or the provider's answer (which may echo it), except by the log
//! sender, whose whole point is to show the message.

use crate::config::{HttpSmsSettings, SmsAuth, SmsSettings};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tessera_core::phone::PhoneNumber;
use tessera_core::sms::{NoSmsSender, SmsError, SmsNotice, SmsSender};
use tessera_core::tenant::Tenant;
use tessera_web::sms::compose;

/// The sender the settings ask for, sending only to numbers that start with one of
/// `allowed_prefixes` when there are any. With the log transport it warns, once, that
/// messages are not sent.
pub fn sms_sender(
    settings: &SmsSettings,
    allowed_prefixes: &[String],
) -> anyhow::Result<Arc<dyn SmsSender>> {
    let sender = transport(settings)?;
    if allowed_prefixes.is_empty() || !sender.is_configured() {
        return Ok(sender);
    }
    tracing::info!(
        countries = allowed_prefixes.join(","),
        "text messages go only to these country codes"
    );
    Ok(Arc::new(CountryFilter {
        inner: sender,
        prefixes: allowed_prefixes.to_vec(),
    }))
}

fn transport(settings: &SmsSettings) -> anyhow::Result<Arc<dyn SmsSender>> {
    match settings {
        SmsSettings::None => {
            tracing::info!(
                "sms_transport is none: text messages cannot be sent, phone numbers cannot be verified"
            );
            Ok(Arc::new(NoSmsSender))
        }
        SmsSettings::Log { from } => {
            tracing::warn!(
                "DEVELOPMENT ONLY: sms_transport is log: text messages are NOT sent but written \
                 to the log at WARN, codes included. Never use this in production"
            );
            Ok(Arc::new(LogSmsSender::new(from.clone())))
        }
        SmsSettings::Http(http) => {
            tracing::info!(
                host = http.url.host_str().unwrap_or_default(),
                content_type = http.content_type.mime(),
                "text messages are sent by the HTTP SMS provider"
            );
            Ok(Arc::new(HttpSmsSender::new(http)?))
        }
    }
}

/// How the body template's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsContentType {
    /// `application/json`: values go inside JSON strings, escaped as JSON strings.
    Json,
    /// `application/x-www-form-urlencoded`: values are percent-encoded.
    Form,
}

impl SmsContentType {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
        }
    }

    fn escape(self, value: &str) -> String {
        match self {
            Self::Json => {
                let quoted = serde_json::Value::String(value.to_owned()).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            }
            Self::Form => url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        }
    }
}

/// One piece of a body template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// The recipient in E.164 form (`+4915112345678`).
    To,
    /// The message's text.
    Text,
    /// The configured sender (`sms_from`).
    From,
}

/// The request body with `{to}`, `{text}` and `{from}` where the values go, checked once at
/// start-up: every placeholder known, `{to}` and `{text}` present, and for JSON each
/// placeholder inside a string, so that any value renders as valid JSON. Other braces (those
/// of JSON itself) are literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    pieces: Vec<Piece>,
    content_type: SmsContentType,
}

/// Longest template accepted.
const MAX_TEMPLATE: usize = 4096;
/// Values that test a template: quotes, backslashes, control characters, `&`, `=`, `+`,
/// non-ASCII and braces must all survive.
const SAMPLE_TO: &str = "+4915112345678";
const SAMPLE_TEXT: &str = "Your \"code\" is 0\\1 & more=+ {to}\nünï";
const SAMPLE_FROM: &str = "Acme & Co";

impl BodyTemplate {
    /// Parses and checks `template`; the error says what is wrong, for the setting's error.
    pub fn parse(template: &str, content_type: SmsContentType) -> Result<Self, String> {
        if template.trim().is_empty() || template.len() > MAX_TEMPLATE {
            return Err(format!("must be 1 to {MAX_TEMPLATE} bytes"));
        }
        let pieces = pieces(template)?;
        for (needed, name) in [(Piece::To, "{to}"), (Piece::Text, "{text}")] {
            if !pieces.contains(&needed) {
                return Err(format!("must contain {name}"));
            }
        }
        let parsed = Self {
            pieces,
            content_type,
        };
        match content_type {
            SmsContentType::Json => parsed.check_json()?,
            SmsContentType::Form => parsed.check_form(template)?,
        }
        Ok(parsed)
    }

    /// Whether the template puts `{from}` anywhere.
    pub fn uses_from(&self) -> bool {
        self.pieces.contains(&Piece::From)
    }

    /// The body for one message, each value escaped for the content type.
    pub fn render(&self, to: &str, text: &str, from: &str) -> String {
        let escape = |value: &str| self.content_type.escape(value);
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Literal(literal) => literal.clone(),
                Piece::To => escape(to),
                Piece::Text => escape(text),
                Piece::From => escape(from),
            })
            .collect()
    }

    fn sample(&self) -> String {
        self.render(SAMPLE_TO, SAMPLE_TEXT, SAMPLE_FROM)
    }

    fn check_json(&self) -> Result<(), String> {
        let value: serde_json::Value = serde_json::from_str(&self.sample()).map_err(|e| {
            format!(
                "is not valid JSON once filled in ({e}); put each placeholder inside a JSON \
                 string, as in {{\"to\": \"{{to}}\", \"text\": \"{{text}}\"}}"
            )
        })?;
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for (piece, sample, name) in [
            (Piece::To, SAMPLE_TO, "{to}"),
            (Piece::Text, SAMPLE_TEXT, "{text}"),
            (Piece::From, SAMPLE_FROM, "{from}"),
        ] {
            if self.pieces.contains(&piece) && !strings.iter().any(|s| s.contains(sample)) {
                return Err(format!("{name} must be inside a JSON string value"));
            }
        }
        Ok(())
    }

    fn check_form(&self, template: &str) -> Result<(), String> {
        if let Some(bad) = template
            .chars()
            .find(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control())
        {
            return Err(format!(
                "a form body is name=value pairs joined by & without spaces or other raw characters; \
                 found {bad:?} (percent-encode literal values)"
            ));
        }
        let sample = self.sample();
        let values: Vec<String> = url::form_urlencoded::parse(sample.as_bytes())
            .map(|(_, value)| value.into_owned())
            .collect();
        for (piece, sample, name) in [
            (Piece::To, SAMPLE_TO, "{to}"),
            (Piece::Text, SAMPLE_TEXT, "{text}"),
            (Piece::From, SAMPLE_FROM, "{from}"),
        ] {
            if self.pieces.contains(&piece) && !values.iter().any(|v| v.contains(sample)) {
                return Err(format!(
                    "{name} must be in a value, as in To={{to}}&Body={{text}}"
                ));
            }
        }
        Ok(())
    }
}

/// Splits a template into literals and placeholders; `{word}` that is not a known
/// placeholder is an error (a typo such as `{phone}` would otherwise be sent as is).
fn pieces(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        literal.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let word_len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let is_placeholder = word_len > 0 && after.as_bytes().get(word_len) == Some(&b'}');
        if !is_placeholder {
            literal.push('{');
            rest = after;
            continue;
        }
        let piece = match &after[..word_len] {
            "to" => Piece::To,
            "text" => Piece::Text,
            "from" => Piece::From,
            other => {
                return Err(format!(
                    "{{{other}}} is not a placeholder; use {{to}}, {{text}} and {{from}}"
                ));
            }
        };
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(piece);
        rest = &after[word_len + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

fn collect_strings(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => into.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, into)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, into)),
        _ => {}
    }
}

/// Posts messages to an SMS provider's HTTP API.
pub struct HttpSmsSender {
    client: reqwest::Client,
    settings: HttpSmsSettings,
}

impl std::fmt::Debug for HttpSmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmsSender")
            .field("host", &self.settings.url.host_str())
            .finish_non_exhaustive()
    }
}

impl HttpSmsSender {
    pub fn new(settings: &HttpSmsSettings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            // A redirect could carry the code somewhere else; providers do not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            settings: settings.clone(),
        })
    }

    fn request(&self, body: String) -> Result<reqwest::RequestBuilder, SmsError> {
        let request = self
            .client
            .post(self.settings.url.clone())
            .header(CONTENT_TYPE, self.settings.content_type.mime())
            .body(body);
        let secret_header = |text: &str| {
            HeaderValue::from_str(text)
                .map(|mut value| {
                    value.set_sensitive(true);
                    value
                })
                .map_err(|_| {
                    SmsError::Failed("the SMS credentials are not valid in a header".into())
                })
        };
        Ok(match &self.settings.auth {
            SmsAuth::None => request,
            SmsAuth::Bearer(token) => request.header(
                AUTHORIZATION,
                secret_header(&format!("Bearer {}", token.expose_secret()))?,
            ),
            SmsAuth::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose_secret()))
            }
            SmsAuth::Header { name, value } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| SmsError::Failed("the SMS header name is not valid".into()))?;
                request.header(name, secret_header(value.expose_secret())?)
            }
        })
    }

    async fn deliver(
        &self,
        tenant: &Tenant,
        to: &PhoneNumber,
        language: &str,
        notice: &SmsNotice,
    ) -> Result<(), SmsError> {
        let message = compose(notice, tenant, language);
        let from = self.settings.from.as_deref().unwrap_or_default();
        let body = self.settings.body.render(to.as_str(), &message.text, from);
        let host = self.settings.url.host_str().unwrap_or_default();
        // The error names the host, never the URL (which may hold an API key) or the body.
        let response = self.request(body)?.send().await.map_err(|error| {
            let cause = if error.is_timeout() {
                format!(
                    "did not answer within {} s",
                    self.settings.timeout.as_secs()
                )
            } else {
                error.without_url().to_string()
            };
            SmsError::Failed(format!("SMS provider {host}: {cause}"))
        })?;
        let status = response.status();
        // The answer's body is never read into errors or logs: it may echo the message.
        if status.is_success() {
            Ok(())
        } else {
            Err(SmsError::Failed(format!(
                "SMS provider {host} answered {}",
                status.as_u16()
            )))
        }
    }
}

#[async_trait::async_trait]
impl SmsSender for HttpSmsSender {
    async fn send(
        &self,
        tenant: &Tenant,
        to: &PhoneNumber,
        language: &str,
        notice: SmsNotice,
    ) -> Result<(), SmsError> {
        let result = self.deliver(tenant, to, language, &notice).await;
        match &result {
            Ok(()) => {
                tracing::info!(tenant = %tenant.slug, kind = notice.kind(), "text message sent")
            }
            Err(error) => tracing::warn!(
                tenant = %tenant.slug,
                kind = notice.kind(),
                %error,
                "text message not sent"
            ),
        }
        result
    }
}

/// Writes messages to the log instead of sending them: for development only. The log line
/// holds the code; never use it where the log is read by anyone but the developer.
#[derive(Debug)]
pub struct LogSmsSender {
    from: Option<String>,
}

impl LogSmsSender {
    pub fn new(from: Option<String>) -> Self {
        Self { from }
    }
}

/// The label of the log sender's lines: loud, so that nobody takes them for delivery.
pub const LOG_LABEL: &str = "DEVELOPMENT SMS SENDER — not delivered (sms_transport = log)";

#[async_trait::async_trait]
impl SmsSender for LogSmsSender {
    async fn send(
        &self,
        tenant: &Tenant,
        to: &PhoneNumber,
        language: &str,
        notice: SmsNotice,
    ) -> Result<(), SmsError> {
        let message = compose(&notice, tenant, language);
        tracing::warn!(
            tenant = %tenant.slug,
            kind = notice.kind(),
            from = self.from.as_deref().unwrap_or("-"),
            to = %to,
            text = %message.text,
            "{LOG_LABEL}"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(template: &str) -> Result<BodyTemplate, String> {
        BodyTemplate::parse(template, SmsContentType::Json)
    }

    fn form(template: &str) -> Result<BodyTemplate, String> {
        BodyTemplate::parse(template, SmsContentType::Form)
    }

    #[test]
    fn json_values_are_escaped_as_json_strings() {
        let template = json(r#"{"to": "{to}", "from": "{from}", "body": "Code: {text}"}"#).unwrap();
        assert!(template.uses_from());
        let body = template.render("+4930123456", "say \"hi\"\\\n\u{1}", "Acme");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["to"], "+4930123456");
        assert_eq!(parsed["from"], "Acme");
        assert_eq!(parsed["body"], "Code: say \"hi\"\\\n\u{1}");
        let nested =
            json(r#"{"messages": [{"destinations": [{"to": "{to}"}], "text": "{text}"}]}"#);
        assert!(!nested.unwrap().uses_from());
    }

    #[test]
    fn form_values_are_percent_encoded() {
        let template = form("To={to}&From={from}&Body={text}").unwrap();
        let body = template.render("+4930123456", "a&b=c d+ü", "Acme Co");
        assert_eq!(
            body,
            "To=%2B4930123456&From=Acme+Co&Body=a%26b%3Dc+d%2B%C3%BC"
        );
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded[2].1, "a&b=c d+ü");
    }

    #[test]
    fn bad_templates_say_why() {
        let cases = [
            (json(""), "1 to 4096"),
            (json(r#"{"to": "{to}"}"#), "{text}"),
            (json(r#"{"text": "{text}"}"#), "{to}"),
            (
                json(r#"{"to": "{to}", "text": "{text}", "x": "{phone}"}"#),
                "{phone}",
            ),
            (json(r#"{"to": {to}, "text": "{text}"}"#), "valid JSON"),
            (
                json(r#"{"to": "{to}", "{text}": 1}"#),
                "inside a JSON string value",
            ),
            (json(r#"{"to": "{to}" "text": "{text}"}"#), "valid JSON"),
            (form("To={to}&Body={text} x"), "without spaces"),
            (form("{to}=1&Body={text}"), "in a value"),
            (form("To={to}&Body={text}&Sig={signature}"), "{signature}"),
        ];
        for (result, expected) in cases {
            let error = result.unwrap_err();
            assert!(
                error.contains(expected),
                "expected {expected:?} in {error:?}"
            );
        }
        assert!(json(&"x".repeat(5000)).is_err());
    }
}

/// Sends only to numbers of the operator's countries (`sms_allowed_country_codes`): a
/// defence against SMS pumping to premium-rate numbers elsewhere.
#[derive(Debug)]
struct CountryFilter {
    inner: Arc<dyn SmsSender>,
    prefixes: Vec<String>,
}

#[async_trait::async_trait]
impl SmsSender for CountryFilter {
    async fn send(
        &self,
        tenant: &Tenant,
        to: &PhoneNumber,
        language: &str,
        notice: SmsNotice,
    ) -> Result<(), SmsError> {
        if !self.accepts(to) {
            return Err(SmsError::Failed(
                "the number's country is not in sms_allowed_country_codes".into(),
            ));
        }
        self.inner.send(tenant, to, language, notice).await
    }

    fn accepts(&self, to: &PhoneNumber) -> bool {
        self.prefixes
            .iter()
            .any(|prefix| to.as_str().starts_with(prefix.as_str()))
    }
}
