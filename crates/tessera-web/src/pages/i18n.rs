//! Texts of the hosted pages in English and German, and the choice of language:
//! `ui_locales` of the request, then `Accept-Language`, then the tenant's default.

/// Languages the hosted pages speak; the first is the fallback.
pub const LANGUAGES: &[&str] = &["en", "de"];

/// The first supported language among `wanted` (BCP 47 tags, best first).
pub fn choose<'a>(
    wanted: impl IntoIterator<Item = &'a str>,
    fallback: Option<&str>,
) -> &'static str {
    let pick = |tag: &str| {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        LANGUAGES.iter().copied().find(|lang| *lang == primary)
    };
    wanted
        .into_iter()
        .find_map(pick)
        .or_else(|| fallback.and_then(pick))
        .unwrap_or("en")
}

/// The tags of an `Accept-Language` header, by descending quality.
pub fn accept_language(header: &str) -> Vec<&str> {
    let mut tags: Vec<(&str, f32)> = header
        .split(',')
        .take(20)
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && quality > 0.0).then_some((tag, quality))
        })
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(tag, _)| tag).collect()
}

/// The text of `key` in `language`; English when a translation is missing.
pub fn text(language: &str, key: &str) -> &'static str {
    let table = if language == "de" { GERMAN } else { ENGLISH };
    lookup(table, key)
        .or_else(|| lookup(ENGLISH, key))
        .unwrap_or("")
}

fn lookup(table: &'static [(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

const ENGLISH: &[(&str, &str)] = &[
    ("sign_in_title", "Sign in"),
    ("sign_in_to", "to continue to"),
    ("email", "Email"),
    ("password", "Password"),
    ("continue", "Continue"),
    ("sign_in", "Sign in"),
    ("not_you", "Use another account"),
    ("bad_credentials", "The email or password is not correct."),
    ("bad_email", "Enter a valid email address."),
    (
        "busy",
        "Too many sign-ins right now. Please try again in a moment.",
    ),
    ("consent_title", "Allow access?"),
    ("consent_intro", "wants to access your account:"),
    ("allow", "Allow"),
    ("deny", "Deny"),
    ("scope_profile", "Your name, language and time zone"),
    ("scope_email", "Your email address"),
    ("scope_phone", "Your phone number"),
    ("scope_address", "Your postal address"),
    (
        "scope_offline_access",
        "Stay connected when you are not using it",
    ),
    ("logout_title", "Sign out"),
    ("logout_question", "Do you want to sign out?"),
    ("logout_from", "The application asks to sign you out:"),
    ("sign_out", "Sign out"),
    ("stay", "Stay signed in"),
    ("signed_out", "You have been signed out."),
    ("signed_in", "You are signed in."),
    ("error_title", "Something went wrong"),
    (
        "expired",
        "This page has expired. Please go back to the application and try again.",
    ),
    (
        "forbidden",
        "This request could not be verified. Please reload the page and try again.",
    ),
    ("skip", "Skip to content"),
];

const GERMAN: &[(&str, &str)] = &[
    ("sign_in_title", "Anmelden"),
    ("sign_in_to", "um fortzufahren zu"),
    ("email", "E-Mail"),
    ("password", "Passwort"),
    ("continue", "Weiter"),
    ("sign_in", "Anmelden"),
    ("not_you", "Anderes Konto verwenden"),
    (
        "bad_credentials",
        "E-Mail-Adresse oder Passwort ist nicht korrekt.",
    ),
    ("bad_email", "Geben Sie eine gültige E-Mail-Adresse ein."),
    (
        "busy",
        "Gerade melden sich sehr viele an. Bitte versuchen Sie es gleich noch einmal.",
    ),
    ("consent_title", "Zugriff erlauben?"),
    ("consent_intro", "möchte auf Ihr Konto zugreifen:"),
    ("allow", "Erlauben"),
    ("deny", "Ablehnen"),
    ("scope_profile", "Ihr Name, Ihre Sprache und Zeitzone"),
    ("scope_email", "Ihre E-Mail-Adresse"),
    ("scope_phone", "Ihre Telefonnummer"),
    ("scope_address", "Ihre Postanschrift"),
    (
        "scope_offline_access",
        "Verbunden bleiben, auch wenn Sie die Anwendung nicht nutzen",
    ),
    ("logout_title", "Abmelden"),
    ("logout_question", "Möchten Sie sich abmelden?"),
    ("logout_from", "Die Anwendung möchte Sie abmelden:"),
    ("sign_out", "Abmelden"),
    ("stay", "Angemeldet bleiben"),
    ("signed_out", "Sie wurden abgemeldet."),
    ("signed_in", "Sie sind angemeldet."),
    ("error_title", "Etwas ist schiefgelaufen"),
    (
        "expired",
        "Diese Seite ist abgelaufen. Bitte kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
    ),
    (
        "forbidden",
        "Die Anfrage konnte nicht geprüft werden. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    ),
    ("skip", "Zum Inhalt springen"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_then_accept_language_then_default() {
        assert_eq!(choose(["fr", "de-CH"], None), "de");
        assert_eq!(
            choose(accept_language("fr;q=0.9, de;q=0.8, en;q=0.1"), None),
            "de"
        );
        assert_eq!(choose([], Some("de")), "de");
        assert_eq!(choose(["xx"], None), "en");
    }

    #[test]
    fn every_german_key_exists_in_english() {
        for (key, _) in GERMAN {
            assert!(lookup(ENGLISH, key).is_some(), "{key}");
        }
        assert_eq!(ENGLISH.len(), GERMAN.len());
    }
}
