//! The hosted pages of the customer journey (sign-in, consent, logout): server-rendered
//! with minijinja (autoescaped, fuel-limited), localised, branded per tenant, working
//! without JavaScript, and protected by CSRF tokens and security headers.

mod bot_check;
pub mod consent;
pub mod csrf;
pub mod devices;
pub mod factors;
pub mod i18n;
pub mod identity;
pub mod invite;
pub mod login;
pub mod mfa;
pub mod passkey;
pub mod phone;
pub mod profile;
pub mod session;
pub mod signup;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minijinja::{Environment, Value, context};
use rand::RngCore;
use std::sync::OnceLock;
use tessera_core::tenant::Tenant;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    (
        "login_email.html",
        include_str!("../../templates/login_email.html"),
    ),
    (
        "login_password.html",
        include_str!("../../templates/login_password.html"),
    ),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("logout.html", include_str!("../../templates/logout.html")),
    ("message.html", include_str!("../../templates/message.html")),
    (
        "form_post.html",
        include_str!("../../templates/form_post.html"),
    ),
    ("signup.html", include_str!("../../templates/signup.html")),
    ("profile.html", include_str!("../../templates/profile.html")),
    ("invite.html", include_str!("../../templates/invite.html")),
    (
        "signup_verify.html",
        include_str!("../../templates/signup_verify.html"),
    ),
    (
        "signup_confirm.html",
        include_str!("../../templates/signup_confirm.html"),
    ),
    (
        "phone_verify.html",
        include_str!("../../templates/phone_verify.html"),
    ),
    (
        "verify_identity.html",
        include_str!("../../templates/verify_identity.html"),
    ),
    ("mfa.html", include_str!("../../templates/mfa.html")),
    (
        "account_security.html",
        include_str!("../../templates/account_security.html"),
    ),
    (
        "account_devices.html",
        include_str!("../../templates/account_devices.html"),
    ),
    (
        "pow_script.html",
        include_str!("../../templates/pow_script.html"),
    ),
    (
        "captcha_widget.html",
        include_str!("../../templates/captcha_widget.html"),
    ),
    (
        "passkey_script.html",
        include_str!("../../templates/passkey_script.html"),
    ),
    (
        "mfa_setup.html",
        include_str!("../../templates/mfa_setup.html"),
    ),
    (
        "mfa_recovery_codes.html",
        include_str!("../../templates/mfa_recovery_codes.html"),
    ),
    (
        "verify_identity_wait.html",
        include_str!("../../templates/verify_identity_wait.html"),
    ),
];

/// Keys of the translation table that templates use as `t.<key>`.
pub(crate) fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        // Tenants will edit templates one day: a runaway template must stop, not spin.
        env.set_fuel(Some(50_000));
        for (name, source) in TEMPLATES {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, template = name, "template does not compile");
            }
        }
        crate::mail::register(&mut env);
        env
    })
}

/// What every page needs: language, tenant branding, the path prefix of the tenant.
#[derive(Debug, Clone)]
pub struct PageContext {
    pub lang: &'static str,
    pub tenant: Tenant,
    /// `""` or `/t/{slug}`: where the tenant's pages live.
    pub base: String,
}

impl PageContext {
    pub fn text(&self, key: &str) -> &'static str {
        i18n::text(self.lang, key)
    }
}

/// A CSS colour we can put into a style sheet without escaping worries.
pub(crate) fn safe_color(value: Option<&String>, fallback: &'static str) -> String {
    match value {
        Some(color)
            if color.len() <= 32
                && (color.starts_with('#')
                    && color[1..].bytes().all(|b| b.is_ascii_hexdigit())
                    || color.bytes().all(|b| b.is_ascii_alphabetic())) =>
        {
            color.clone()
        }
        _ => fallback.to_owned(),
    }
}

fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Renders a page with the common context and the strict headers of hosted pages.
pub fn render(page: &PageContext, template: &str, status: StatusCode, values: Value) -> Response {
    let nonce = nonce();
    let branding = &page.tenant.settings.branding;
    let logo = branding
        .logo_url
        .as_ref()
        .filter(|url| url.starts_with("https://"));
    // Every text of the page's language: a template can use any key, and a missing
    // translation falls back to English.
    let texts = i18n::texts_with_prefix(page.lang, "");
    let common = context! {
        lang => page.lang,
        nonce => nonce.clone(),
        base => page.base.clone(),
        tenant_name => page.tenant.display_name.clone(),
        logo_url => logo,
        primary_color => safe_color(branding.primary_color.as_ref(), "#1a56db"),
        background_color => safe_color(branding.background_color.as_ref(), "#f3f4f6"),
        t => texts,
    };
    let merged = context! { ..values, ..common };
    let html = environment()
        .get_template(template)
        .and_then(|t| t.render(merged));
    match html {
        Ok(html) => with_page_headers((status, Html(html)).into_response(), &nonce),
        Err(error) => {
            tracing::error!(%error, template, "page rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A short page with a title and a message (errors, "signed out").
pub fn message(page: &PageContext, status: StatusCode, title_key: &str, message: &str) -> Response {
    render(
        page,
        "message.html",
        status,
        context! {
            title => page.text(title_key),
            message => message,
            is_error => status.is_client_error() || status.is_server_error(),
        },
    )
}

fn with_page_headers(mut response: Response, nonce: &str) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src https: data:; base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The language for a page: `ui_locales` first, then the browser, then the tenant default.
pub fn language(ui_locales: &[String], headers: &HeaderMap, tenant: &Tenant) -> &'static str {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let wanted = ui_locales
        .iter()
        .map(String::as_str)
        .chain(i18n::accept_language(accept));
    i18n::choose(wanted, tenant.settings.default_locale.as_deref())
}

/// An auto-submitting form that posts the authorization response (form_post response mode).
pub fn form_post(action: &str, params: &[(String, String)]) -> Response {
    let nonce = nonce();
    let html = environment().get_template("form_post.html").and_then(|t| {
        t.render(context! { action => action, params => params.to_vec(), nonce => nonce.clone() })
    });
    match html {
        Ok(html) => with_page_headers(Html(html).into_response(), &nonce),
        Err(error) => {
            tracing::error!(%error, "form_post rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
