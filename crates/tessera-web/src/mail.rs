//! The mails Tessera sends: each [`Notice`] rendered as a subject, a plain text part and an
//! HTML part, in the person's language and with the tenant's branding. Sending them is the
//! binary's job (`tessera::mail`); this module only composes.
//!
//! The templates live in `templates/mail/` and are rendered by the hosted pages' minijinja
//! environment (autoescaped by name: `.html` escapes, `.txt` does not; fuel-limited). A
//! notice kind `k` (its [`Notice::kind`]) has `mail/k.txt` and `mail/k.html` (which extends
//! `mail/layout.html`), and the texts `mail_k_subject` and whatever its templates use as
//! `t.mail_…` in `pages/i18n.rs`. Adding a kind therefore takes an arm in
//! [`notice_values`], its two templates in [`TEMPLATES`], and its texts in both languages;
//! the tests below render every kind in every language.

use crate::pages::{environment, i18n, safe_color};
use minijinja::{Environment, Value, context};
use secrecy::ExposeSecret;
use std::fmt;
use std::time::Duration;
use tessera_core::notify::{Notice, SecurityChange};
use tessera_core::tenant::Tenant;

/// The mail templates, registered in the pages' environment by [`register`].
const TEMPLATES: &[(&str, &str)] = &[
    (
        "mail/layout.html",
        include_str!("../templates/mail/layout.html"),
    ),
    (
        "mail/invitation.txt",
        include_str!("../templates/mail/invitation.txt"),
    ),
    (
        "mail/invitation.html",
        include_str!("../templates/mail/invitation.html"),
    ),
    (
        "mail/sign_up_code.txt",
        include_str!("../templates/mail/sign_up_code.txt"),
    ),
    (
        "mail/sign_up_code.html",
        include_str!("../templates/mail/sign_up_code.html"),
    ),
    (
        "mail/already_registered.txt",
        include_str!("../templates/mail/already_registered.txt"),
    ),
    (
        "mail/already_registered.html",
        include_str!("../templates/mail/already_registered.html"),
    ),
    (
        "mail/account_locked.txt",
        include_str!("../templates/mail/account_locked.txt"),
    ),
    (
        "mail/account_locked.html",
        include_str!("../templates/mail/account_locked.html"),
    ),
    (
        "mail/sign_in_code.txt",
        include_str!("../templates/mail/sign_in_code.txt"),
    ),
    (
        "mail/sign_in_code.html",
        include_str!("../templates/mail/sign_in_code.html"),
    ),
    (
        "mail/new_device_sign_in.txt",
        include_str!("../templates/mail/new_device_sign_in.txt"),
    ),
    (
        "mail/new_device_sign_in.html",
        include_str!("../templates/mail/new_device_sign_in.html"),
    ),
    (
        "mail/security_change.txt",
        include_str!("../templates/mail/security_change.txt"),
    ),
    (
        "mail/security_change.html",
        include_str!("../templates/mail/security_change.html"),
    ),
];

/// A mail ready for a transport: it sends `text` and `html` as the two alternatives of a
/// `multipart/alternative` body.
#[derive(Clone, PartialEq, Eq)]
pub struct ComposedMail {
    /// Plain text, one line, localised.
    pub subject: String,
    /// The plain text part.
    pub text: String,
    /// The HTML part: inline styles only, no scripts, no remote content but the tenant's
    /// `https://` logo.
    pub html: String,
}

/// The parts carry codes and links: never print them by accident.
impl fmt::Debug for ComposedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComposedMail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A template failed to render: a bug in Tessera's templates (or, one day, in a tenant's),
/// never something the recipient did. The message names the template and never holds the
/// notice's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeError {
    pub template: String,
    pub reason: String,
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mail template {} failed: {}", self.template, self.reason)
    }
}

impl std::error::Error for ComposeError {}

/// Adds the mail templates and their `href` filter to the pages' environment.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("href", href);
    for (name, source) in TEMPLATES {
        if let Err(error) = env.add_template(name, source) {
            tracing::error!(%error, template = name, "mail template does not compile");
        }
    }
}

/// Composes `notice` for a person of `tenant` who reads `language` (a BCP 47 tag; a
/// language Tessera does not have falls back to the tenant's default, then English).
pub fn compose(
    notice: &Notice,
    tenant: &Tenant,
    language: &str,
) -> Result<ComposedMail, ComposeError> {
    let lang = i18n::choose([language], tenant.settings.default_locale.as_deref());
    let kind = notice.kind();
    let subject =
        i18n::text(lang, &format!("mail_{kind}_subject")).replace("{tenant}", &tenant.display_name);
    let branding = &tenant.settings.branding;
    let logo = branding
        .logo_url
        .as_ref()
        .filter(|url| url.starts_with("https://"));
    let common = context! {
        lang => lang,
        subject => subject.clone(),
        tenant_name => tenant.display_name.clone(),
        logo_url => logo,
        primary_color => safe_color(branding.primary_color.as_ref(), "#1a56db"),
        background_color => safe_color(branding.background_color.as_ref(), "#f3f4f6"),
        t => i18n::texts_with_prefix(lang, "mail_"),
    };
    let values = context! { ..notice_values(notice), ..common };
    Ok(ComposedMail {
        subject,
        text: render(&format!("mail/{kind}.txt"), &values)?,
        html: render(&format!("mail/{kind}.html"), &values)?,
    })
}

/// What the templates of each kind show besides the common context.
fn notice_values(notice: &Notice) -> Value {
    match notice {
        Notice::SignUpCode {
            code,
            link,
            valid_for,
        } => context! {
            code => code.expose_secret(),
            link => link.expose_secret(),
            minutes => minutes(*valid_for).to_string(),
        },
        Notice::AlreadyRegistered { sign_in_link } => context! { link => sign_in_link },
        Notice::Invitation { link, valid_for } => context! {
            link => link.expose_secret(),
            days => valid_for.as_secs().div_ceil(86_400).max(1).to_string(),
        },
        Notice::SignInCode { code, valid_for } => context! {
            code => code.expose_secret(),
            minutes => minutes(*valid_for).to_string(),
        },
        Notice::NewDeviceSignIn {
            at,
            ip,
            browser,
            country,
        } => context! {
            when => at
                .format(&time::format_description::well_known::Rfc2822)
                .unwrap_or_default(),
            ip => ip,
            browser => browser.as_deref().map(browser_name),
            country => country,
        },
        Notice::AccountLocked { locked_for } => context! {
            minutes => locked_for.map(|d| minutes(d).to_string()),
        },
        Notice::SecurityChange { change } => context! {
            change => match change {
                SecurityChange::AuthenticatorAdded => "authenticator_added",
                SecurityChange::AuthenticatorRemoved => "authenticator_removed",
                SecurityChange::RecoveryCodesRenewed => "recovery_codes_renewed",
            },
        },
    }
}

/// A short name of a browser from its user agent, for a security notice ("Firefox on
/// Linux"); the raw string when nothing is recognised, cut to 120 characters.
pub(crate) fn browser_name(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} ({system})"),
        (Some(name), None) | (None, Some(name)) => name.to_owned(),
        (None, None) => user_agent.chars().take(120).collect(),
    }
}

/// Whole minutes, rounded up: a code valid for 90 s says "2 minutes", never "1".
fn minutes(duration: Duration) -> u64 {
    duration.as_secs().div_ceil(60).max(1)
}

fn render(template: &str, values: &Value) -> Result<String, ComposeError> {
    environment()
        .get_template(template)
        .and_then(|t| t.render(values))
        .map_err(|error| ComposeError {
            template: template.to_owned(),
            reason: error.to_string(),
        })
}

/// A URL for an HTML attribute or text: `&<>"'` escaped, and nothing else. Autoescape would
/// also write `/` as `&#x2f;`, which is valid HTML but looks like an obfuscated link to spam
/// filters.
fn href(url: &str) -> Value {
    let mut escaped = String::with_capacity(url.len() + 16);
    for c in url.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    Value::from_safe_string(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use tessera_core::ids::TenantId;
    use tessera_core::tenant::{Branding, TenantSettings, TenantSlug};

    const CODE: &str = "482913";
    const LINK: &str = "https://id.example.com/t/acme/sign-up/confirm?token=abc&x=1";
    const SIGN_IN: &str = "https://id.example.com/t/acme/login";

    fn tenant(name: &str, branding: Branding) -> Tenant {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        Tenant {
            id: TenantId::new_at(at),
            slug: TenantSlug::parse("acme").unwrap(),
            display_name: name.to_owned(),
            domains: Vec::new(),
            settings: TenantSettings {
                branding,
                ..TenantSettings::default()
            },
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }

    fn acme() -> Tenant {
        tenant(
            "Acme",
            Branding {
                logo_url: Some("https://cdn.example.com/acme.png".into()),
                primary_color: Some("#c2185b".into()),
                background_color: None,
            },
        )
    }

    fn sign_up_code() -> Notice {
        Notice::SignUpCode {
            code: SecretString::from(CODE),
            link: SecretString::from(LINK),
            valid_for: Duration::from_secs(15 * 60),
        }
    }

    /// One notice of every kind; the exhaustive match makes a new kind show up here.
    fn every_kind() -> Vec<Notice> {
        let all = vec![
            sign_up_code(),
            Notice::AlreadyRegistered {
                sign_in_link: SIGN_IN.to_owned(),
            },
            Notice::Invitation {
                link: LINK.to_owned().into(),
                valid_for: Duration::from_secs(7 * 86_400),
            },
            Notice::AccountLocked {
                locked_for: Some(Duration::from_secs(30)),
            },
            Notice::AccountLocked { locked_for: None },
            Notice::SignInCode {
                code: SecretString::from(CODE),
                valid_for: Duration::from_secs(600),
            },
            Notice::NewDeviceSignIn {
                at: time::macros::datetime!(2026-11-01 9:00 UTC),
                ip: Some("203.0.113.7".into()),
                browser: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
                country: Some("DE".into()),
            },
            Notice::SecurityChange {
                change: SecurityChange::AuthenticatorAdded,
            },
            Notice::SecurityChange {
                change: SecurityChange::AuthenticatorRemoved,
            },
            Notice::SecurityChange {
                change: SecurityChange::RecoveryCodesRenewed,
            },
        ];
        for notice in &all {
            match notice {
                Notice::SignUpCode { .. }
                | Notice::AlreadyRegistered { .. }
                | Notice::Invitation { .. }
                | Notice::AccountLocked { .. }
                | Notice::SignInCode { .. }
                | Notice::NewDeviceSignIn { .. }
                | Notice::SecurityChange { .. } => {}
            }
        }
        all
    }

    fn compose_ok(notice: &Notice, tenant: &Tenant, language: &str) -> ComposedMail {
        compose(notice, tenant, language).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_kind_renders_in_every_language_without_missing_texts() {
        for notice in every_kind() {
            for lang in i18n::LANGUAGES {
                let mail = compose_ok(&notice, &acme(), lang);
                assert!(!mail.subject.is_empty(), "{} {lang}", notice.kind());
                assert!(mail.subject.contains("Acme"), "{}", mail.subject);
                for part in [&mail.text, &mail.html] {
                    assert!(!part.contains('{'), "an unfilled placeholder: {part}");
                    assert!(!part.contains("mail_"), "a missing text: {part}");
                }
                assert!(mail.html.starts_with("<!doctype html>"));
                assert!(mail.html.contains(&format!("<html lang=\"{lang}\">")));
                assert!(!mail.html.contains("<script"));
                assert!(!mail.html.contains("<style"));
                assert!(!mail.html.contains("<table"));
            }
        }
    }

    #[test]
    fn sign_up_code_has_code_link_and_validity_in_both_parts() {
        let english = compose_ok(&sign_up_code(), &acme(), "en-GB");
        assert_eq!(english.subject, "Your code for Acme");
        let escaped_link = LINK.replace('&', "&amp;");
        assert!(english.text.contains(&format!("    {CODE}\n")));
        assert!(english.text.contains(LINK), "{}", english.text);
        assert!(english.text.contains("valid for 15 minutes"));
        assert!(english.text.contains("If you did not ask for this"));
        assert!(english.html.contains(&format!(">{CODE}</p>")));
        assert!(english.html.contains(&format!("href=\"{escaped_link}\"")));
        assert!(english.html.contains("valid for 15 minutes"));
        assert!(!english.html.contains("&#x2f;"), "links stay readable");

        let german = compose_ok(&sign_up_code(), &acme(), "de");
        assert_eq!(german.subject, "Ihr Code für Acme");
        assert!(german.text.contains(CODE) && german.text.contains(LINK));
        assert!(german.text.contains("15 Minuten gültig"));
        assert!(german.html.contains(CODE) && german.html.contains(&escaped_link));
        assert!(german.html.contains("ignorieren Sie diese E-Mail"));
    }

    #[test]
    fn already_registered_links_to_sign_in_in_both_parts() {
        let notice = Notice::AlreadyRegistered {
            sign_in_link: SIGN_IN.to_owned(),
        };
        let english = compose_ok(&notice, &acme(), "en");
        assert_eq!(english.subject, "You already have an account at Acme");
        assert!(english.text.contains("maybe you"));
        assert!(english.text.contains(SIGN_IN));
        assert!(english.html.contains(&format!("href=\"{SIGN_IN}\"")));
        assert!(english.text.contains("If it was not you"));
        let german = compose_ok(&notice, &acme(), "de-AT");
        assert_eq!(german.subject, "Sie haben bereits ein Konto bei Acme");
        assert!(german.text.contains(SIGN_IN) && german.html.contains(SIGN_IN));
        assert!(german.text.contains("vielleicht Sie"));
    }

    #[test]
    fn branding_reaches_the_html() {
        let mail = compose_ok(&sign_up_code(), &acme(), "en");
        assert!(
            mail.html
                .contains("<img src=\"https://cdn.example.com/acme.png\" alt=\"Acme\"")
        );
        assert!(mail.html.contains("background-color:#c2185b"));
        // No logo, or one that is not https: the name instead, and nothing remote.
        let plain = tenant(
            "Plain",
            Branding {
                logo_url: Some("http://insecure.example/logo.png".into()),
                primary_color: Some("red; background:url(x)".into()),
                background_color: None,
            },
        );
        let mail = compose_ok(&sign_up_code(), &plain, "en");
        assert!(!mail.html.contains("<img"));
        assert!(!mail.html.contains("insecure.example"));
        assert!(!mail.html.contains("url(x)"), "colours are checked");
        assert!(mail.html.contains("#1a56db"));
    }

    #[test]
    fn tenant_names_are_escaped_in_html_only() {
        let name = "<b>Tom & \"Jerry's\"</b>";
        let mail = compose_ok(&sign_up_code(), &tenant(name, Branding::default()), "en");
        assert!(!mail.html.contains("<b>"), "{}", mail.html);
        assert!(
            mail.html
                .contains("&lt;b&gt;Tom &amp; &quot;Jerry&#x27;s&quot;&lt;&#x2f;b&gt;")
        );
        assert!(mail.text.contains(name), "plain text is not escaped");
        assert_eq!(mail.subject, format!("Your code for {name}"));
    }

    #[test]
    fn unknown_languages_fall_back_to_the_tenant_default_then_english() {
        let mut german_tenant = acme();
        german_tenant.settings.default_locale = Some("de-DE".into());
        assert_eq!(
            compose_ok(&sign_up_code(), &german_tenant, "fr").subject,
            "Ihr Code für Acme"
        );
        assert_eq!(
            compose_ok(&sign_up_code(), &acme(), "fr").subject,
            "Your code for Acme"
        );
    }

    #[test]
    fn validity_is_rounded_up_to_whole_minutes() {
        assert_eq!(minutes(Duration::from_secs(90)), 2);
        assert_eq!(minutes(Duration::from_secs(600)), 10);
        assert_eq!(minutes(Duration::ZERO), 1);
    }

    #[test]
    fn debug_output_hides_the_parts() {
        let mail = compose_ok(&sign_up_code(), &acme(), "en");
        let printed = format!("{mail:?}");
        assert!(!printed.contains(CODE) && !printed.contains("token=abc"));
    }

    #[test]
    fn href_escapes_only_what_html_needs() {
        assert_eq!(
            href("https://x.example/a?b=1&c=\"<'>").to_string(),
            "https://x.example/a?b=1&amp;c=&quot;&lt;&#39;&gt;"
        );
    }
}
