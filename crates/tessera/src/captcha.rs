//! Checking captcha tokens at hCaptcha, Cloudflare Turnstile or Google reCAPTCHA:
//! [`HttpCaptchaVerifier`] posts the token as a form (`secret`, `response`, `remoteip`, and
//! for hCaptcha `sitekey`) to the provider's `siteverify` endpoint and reads its JSON answer
//! with [`tessera_core::bot::captcha::interpret`].
//!
//! The secret and the token never reach a log or an error: errors name the provider's host
//! and what went wrong. An unreachable, slow or failing provider is a [`CaptchaError`], never
//! a pass or a refusal; the caller decides whether to fail closed.

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::time::Duration;
use tessera_core::bot::captcha::{
    CaptchaError, CaptchaOutcome, CaptchaProvider, CaptchaVerifier, CaptchaVerifiers,
    SiteverifyAnswer, interpret, precheck,
};

/// How long a check may take before it counts as unreachable: the person is waiting on
/// the sign-in form.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read; real ones are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a verifier needs: the provider, the tenant's secret and site key, and how strict
/// and patient to be.
#[derive(Debug, Clone)]
pub struct CaptchaVerifierSettings {
    pub provider: CaptchaProvider,
    pub secret: SecretString,
    /// The public site key. hCaptcha gets it as `sitekey`, so that a token made for another
    /// site fails there.
    pub site_key: Option<String>,
    /// Scores below (how likely a human, 0.0 to 1.0) are refused, when the provider scores.
    pub minimum_score: Option<f64>,
    pub timeout: Duration,
    /// Where to post instead of the provider's own `siteverify` URL (tests, or an egress
    /// proxy the operator runs).
    pub siteverify_url: Option<Url>,
}

impl CaptchaVerifierSettings {
    /// Settings for `provider` with `secret`: its own endpoint, no minimum score, the
    /// default timeout.
    pub fn new(provider: CaptchaProvider, secret: SecretString) -> Self {
        Self {
            provider,
            secret,
            site_key: None,
            minimum_score: None,
            timeout: DEFAULT_TIMEOUT,
            siteverify_url: None,
        }
    }
}

/// Checks tokens at one provider's `siteverify` endpoint.
#[derive(Debug)]
pub struct HttpCaptchaVerifier {
    client: reqwest::Client,
    settings: CaptchaVerifierSettings,
    url: Url,
}

fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        // The providers answer directly; a redirect would carry the secret elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

impl HttpCaptchaVerifier {
    pub fn new(settings: CaptchaVerifierSettings) -> anyhow::Result<Self> {
        let client = client(settings.timeout)?;
        Self::with_client(settings, client)
    }

    fn with_client(
        settings: CaptchaVerifierSettings,
        client: reqwest::Client,
    ) -> anyhow::Result<Self> {
        let url = match &settings.siteverify_url {
            Some(url) => url.clone(),
            None => Url::parse(settings.provider.siteverify_url())?,
        };
        Ok(Self {
            client,
            settings,
            url,
        })
    }

    fn host(&self) -> &str {
        self.url.host_str().unwrap_or("?")
    }

    async fn ask(
        &self,
        token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<CaptchaOutcome, CaptchaError> {
        let remote_ip = remote_ip.map(|ip| ip.to_string());
        let mut form = vec![
            ("secret", self.settings.secret.expose_secret()),
            ("response", token),
        ];
        if let Some(ip) = &remote_ip {
            form.push(("remoteip", ip));
        }
        if let (CaptchaProvider::Hcaptcha, Some(site_key)) =
            (self.settings.provider, &self.settings.site_key)
        {
            form.push(("sitekey", site_key));
        }
        let unreachable = |error: reqwest::Error| {
            let cause = if error.is_timeout() {
                format!("no answer within {} ms", self.settings.timeout.as_millis())
            } else {
                error.without_url().to_string()
            };
            CaptchaError::Unreachable(format!("{}: {cause}", self.host()))
        };
        let mut response = self
            .client
            .post(self.url.clone())
            .form(&form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(CaptchaError::Status(status.as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(CaptchaError::BadAnswer);
            }
            body.extend_from_slice(&chunk);
        }
        let answer: SiteverifyAnswer =
            serde_json::from_slice(&body).map_err(|_| CaptchaError::BadAnswer)?;
        interpret(self.settings.provider, answer, self.settings.minimum_score)
    }
}

#[async_trait::async_trait]
impl CaptchaVerifier for HttpCaptchaVerifier {
    fn provider(&self) -> CaptchaProvider {
        self.settings.provider
    }

    async fn verify(
        &self,
        response_token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<CaptchaOutcome, CaptchaError> {
        if let Some(refused) = precheck(response_token) {
            return Ok(refused);
        }
        let result = self.ask(response_token, remote_ip).await;
        if let Err(error) = &result {
            tracing::warn!(
                provider = self.settings.provider.as_str(),
                %error,
                "captcha check failed"
            );
        }
        result
    }
}

/// Makes the verifiers of the tenants' captchas, over one pooled HTTP client.
#[derive(Debug)]
pub struct HttpCaptchaVerifiers {
    client: reqwest::Client,
    /// `captcha_siteverify_url`: where every check goes instead of the provider's own
    /// endpoint (an egress proxy, or a test's fake provider).
    siteverify_url: Option<Url>,
}

impl HttpCaptchaVerifiers {
    pub fn new(siteverify_url: Option<Url>) -> anyhow::Result<Self> {
        Ok(Self {
            client: client(DEFAULT_TIMEOUT)?,
            siteverify_url,
        })
    }
}

impl CaptchaVerifiers for HttpCaptchaVerifiers {
    fn verifier(
        &self,
        provider: CaptchaProvider,
        secret: SecretString,
        site_key: &str,
        minimum_score: Option<f64>,
    ) -> Result<std::sync::Arc<dyn CaptchaVerifier>, String> {
        let settings = CaptchaVerifierSettings {
            site_key: Some(site_key.to_owned()),
            minimum_score,
            siteverify_url: self.siteverify_url.clone(),
            ..CaptchaVerifierSettings::new(provider, secret)
        };
        HttpCaptchaVerifier::with_client(settings, self.client.clone())
            .map(|verifier| std::sync::Arc::new(verifier) as std::sync::Arc<dyn CaptchaVerifier>)
            .map_err(|error| error.to_string())
    }
}
