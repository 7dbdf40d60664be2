//! The bot checks of the sign-in and sign-up forms: the built-in proof of work (a challenge
//! the page's own script solves) and the tenant's external captcha (the provider's widget,
//! whose token is checked at its `siteverify` endpoint). A form shows the checks its tenant
//! asks for always; after a submission was refused for want of one, it shows those asked for
//! risky attempts too.

use crate::AppState;
use crate::oidc::Site;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use minijinja::{Value, context};
use std::collections::HashMap;
use std::net::IpAddr;
use tessera_core::bot::captcha::CaptchaProvider;
use tessera_core::bot::pow::{Challenge, FORM_FIELD};
use tessera_core::bot::{Flow, RequiredChecks};

/// The checks one form shows.
#[derive(Debug, Default)]
pub(super) struct BotChecks {
    pow: Option<Challenge>,
    captcha: Option<(CaptchaProvider, String)>,
}

impl BotChecks {
    /// The checks the tenant asks of every submission of `flow`.
    pub(super) fn upfront(state: &AppState, site: &Site, flow: Flow) -> Self {
        Self::of(
            state,
            site,
            site.tenant.settings.bot_defence.required(flow, false),
        )
    }

    /// The checks for a submission that was refused for want of one: also those the tenant
    /// asks of risky attempts (the form cannot know the next attempt's risk).
    pub(super) fn after_refusal(state: &AppState, site: &Site, flow: Flow) -> Self {
        Self::of(
            state,
            site,
            site.tenant.settings.bot_defence.required(flow, true),
        )
    }

    fn of(state: &AppState, site: &Site, required: RequiredChecks) -> Self {
        let settings = site.tenant.settings.bot_defence.captcha.as_ref();
        Self {
            pow: required
                .pow
                .then(|| state.core.pow_challenge(&site.tenant).ok())
                .flatten(),
            captcha: required
                .captcha
                .zip(settings)
                .map(|(provider, settings)| (provider, settings.site_key.clone())),
        }
    }

    /// The proof-of-work challenge as the page's `data-pow` attribute.
    pub(super) fn pow_json(&self) -> Option<String> {
        self.pow
            .as_ref()
            .and_then(|challenge| serde_json::to_string(challenge).ok())
    }

    /// The widget the page embeds: its script (in the page's language), element class and
    /// site key.
    pub(super) fn captcha_widget(&self, lang: &str) -> Option<Value> {
        self.captcha.as_ref().map(|(provider, site_key)| {
            // hCaptcha and reCAPTCHA take the language in the script URL, Turnstile in an
            // attribute of the element.
            let script_url = match provider {
                CaptchaProvider::Turnstile => provider.script_url().to_owned(),
                _ => format!("{}?hl={lang}", provider.script_url()),
            };
            context! {
                script_url => script_url,
                widget_class => provider.widget_class(),
                site_key => site_key,
                language => lang,
            }
        })
    }

    /// The text asking for the checks: the captcha's when it is the only one.
    pub(super) fn needed_text(
        &self,
        pow_text: &'static str,
        captcha_text: &'static str,
    ) -> &'static str {
        if self.captcha.is_some() && self.pow.is_none() {
            captcha_text
        } else {
            pow_text
        }
    }

    /// Lets the page load the captcha provider's script and frames: its origins join
    /// `script-src`, `frame-src`, `connect-src` and `style-src` of the page's policy.
    pub(super) fn allow_in_csp(&self, mut response: Response) -> Response {
        let Some((provider, _)) = &self.captcha else {
            return response;
        };
        let Some(policy) = response
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
        else {
            return response;
        };
        let policy = with_sources(policy, provider.csp_sources());
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
        response
    }
}

/// `policy` with `sources` added to the directives a captcha widget needs.
fn with_sources(policy: &str, sources: &[&str]) -> String {
    let extra = sources.join(" ");
    let mut directives: Vec<String> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    for name in ["script-src", "frame-src", "connect-src", "style-src"] {
        match directives
            .iter_mut()
            .find(|d| d.split_whitespace().next() == Some(name))
        {
            Some(directive) => {
                directive.push(' ');
                directive.push_str(&extra);
            }
            None => directives.push(format!("{name} {extra}")),
        }
    }
    directives.join("; ")
}

/// What a submitted form proved: a solved proof of work, and a captcha token the tenant's
/// provider accepted. A provider that cannot be asked counts as not passed (fail closed).
pub(super) async fn proven(
    state: &AppState,
    site: &Site,
    flow: Flow,
    fields: &HashMap<String, String>,
    client: IpAddr,
) -> (bool, bool) {
    let mut pow = false;
    if let Some(payload) = fields.get(FORM_FIELD).filter(|p| !p.is_empty()) {
        pow = state
            .core
            .redeem_pow(&site.tenant, payload)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "proof-of-work check failed");
                false
            });
    }
    let mut captcha = false;
    // A token is checked only where the tenant may ask for one: a posted field alone must
    // not make Tessera call the provider (and spend its quota).
    let defence = &site.tenant.settings.bot_defence;
    if let Some(settings) = &defence.captcha
        && defence.required(flow, true).captcha.is_some()
        && let Some(token) = fields.get(settings.provider.response_field())
    {
        captcha = state
            .core
            .verify_captcha(&site.tenant, token, Some(client))
            .await
            .unwrap_or_else(|error| {
                tracing::error!(%error, provider = settings.provider.as_str(), "captcha check failed");
                false
            });
    }
    (pow, captcha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captcha_origins_join_the_directives_they_need() {
        let policy = "default-src 'none'; style-src 'nonce-x'; script-src 'nonce-x'; \
                      connect-src 'self'; img-src https: data:";
        let widened = with_sources(policy, &["https://challenges.cloudflare.com"]);
        assert_eq!(
            widened,
            "default-src 'none'; style-src 'nonce-x' https://challenges.cloudflare.com; \
             script-src 'nonce-x' https://challenges.cloudflare.com; \
             connect-src 'self' https://challenges.cloudflare.com; img-src https: data:; \
             frame-src https://challenges.cloudflare.com"
        );
    }
}
