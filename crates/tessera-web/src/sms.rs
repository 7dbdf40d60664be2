//! The text messages Tessera sends: each [`SmsNotice`] composed as one short plain text in
//! the person's language. Sending is the binary's job (`tessera::sms`); this module only
//! composes, as [`crate::mail`] does for mails.
//!
//! A notice kind `k` (its [`SmsNotice::kind`]) has the text `sms_k` in both language tables
//! of `pages/i18n.rs`, with the placeholders `{tenant}`, `{code}` and `{minutes}`. They are
//! filled in one pass, so a tenant name that contains `{code}` stays as written.

use crate::pages::i18n;
use secrecy::ExposeSecret;
use std::fmt;
use tessera_core::sms::SmsNotice;
use tessera_core::tenant::Tenant;

/// The most characters of the tenant's name a message carries: SMS are short.
const MAX_TENANT_CHARS: usize = 40;

/// A message ready for a transport. It carries a code: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct ComposedSms {
    pub text: String,
}

impl fmt::Debug for ComposedSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComposedSms")
            .field("chars", &self.text.chars().count())
            .finish_non_exhaustive()
    }
}

/// Composes `notice` for a person of `tenant` who reads `language` (a BCP 47 tag; a
/// language Tessera does not have falls back to the tenant's default, then English).
pub fn compose(notice: &SmsNotice, tenant: &Tenant, language: &str) -> ComposedSms {
    let lang = i18n::choose([language], tenant.settings.default_locale.as_deref());
    let template = i18n::text(lang, &format!("sms_{}", notice.kind()));
    let tenant_name: String = tenant
        .display_name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TENANT_CHARS)
        .collect();
    let text = match notice {
        SmsNotice::PhoneCode { code, valid_for } => {
            let minutes = valid_for.as_secs().div_ceil(60).max(1).to_string();
            fill(
                template,
                &[
                    ("tenant", tenant_name.as_str()),
                    ("code", code.expose_secret()),
                    ("minutes", minutes.as_str()),
                ],
            )
        }
    };
    ComposedSms { text }
}

/// `template` with each `{name}` of `values` replaced, in one pass; other braces stay.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let found = values.iter().find_map(|(name, value)| {
            after
                .strip_prefix(name)
                .and_then(|tail| tail.strip_prefix('}'))
                .map(|tail| (*value, tail))
        });
        match found {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::time::Duration;
    use tessera_core::ids::TenantId;
    use tessera_core::tenant::{TenantSettings, TenantSlug};

    fn tenant(name: &str, default_locale: Option<&str>) -> Tenant {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        Tenant {
            id: TenantId::new_at(at),
            slug: TenantSlug::parse("acme").unwrap(),
            display_name: name.to_owned(),
            domains: Vec::new(),
            settings: TenantSettings {
                default_locale: default_locale.map(str::to_owned),
                ..TenantSettings::default()
            },
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }

    fn code() -> SmsNotice {
        SmsNotice::PhoneCode {
            code: SecretString::from("048213"),
            valid_for: Duration::from_secs(600),
        }
    }

    #[test]
    fn the_code_text_in_english_and_german_fits_one_message() {
        let english = compose(&code(), &tenant("Acme Stores", None), "en-GB");
        assert_eq!(
            english.text,
            "Your Acme Stores code is 048213. It is valid for 10 minutes. Never share it."
        );
        let german = compose(&code(), &tenant("Acme Stores", None), "de-CH");
        assert_eq!(
            german.text,
            "Ihr Acme Stores-Code lautet 048213. Er gilt 10 Minuten. Geben Sie ihn nicht weiter."
        );
        for text in [&english.text, &german.text] {
            assert!(text.len() <= 160 && text.is_ascii(), "{text}");
        }
        let fallback = compose(&code(), &tenant("Acme", Some("de")), "fr");
        assert!(
            fallback.text.starts_with("Ihr Acme-Code"),
            "the tenant's language"
        );
    }

    #[test]
    fn names_are_cut_and_cannot_inject_placeholders() {
        let sly = compose(&code(), &tenant("{code}\n{minutes}", None), "en");
        assert_eq!(
            sly.text,
            "Your {code}{minutes} code is 048213. It is valid for 10 minutes. Never share it."
        );
        let long = compose(&code(), &tenant(&"x".repeat(100), None), "en");
        assert!(long.text.contains(&format!("Your {} code", "x".repeat(40))));
        assert!(!format!("{long:?}").contains("048213"));
    }

    #[test]
    fn fill_keeps_unknown_braces() {
        assert_eq!(fill("{a}{b}{", &[("a", "1")]), "1{b}{");
        assert_eq!(fill("{{a}}", &[("a", "1")]), "{1}");
    }
}
