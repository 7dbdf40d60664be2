//! The parts of a profile that SCIM and OpenID Connect share beyond names and contacts: the
//! username, postal addresses and the enterprise part, with the checks that keep each one
//! well-formed. `user.rs` holds the profile itself.

use crate::error::FieldError;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 256;
/// Most postal addresses per user.
pub const MAX_ADDRESSES: usize = 10;
/// Longest short text (names, titles, kinds, enterprise fields), in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 200;
/// Longest multi-line text (formatted addresses, street lines), in characters.
const MAX_LONG_TEXT_CHARS: usize = 1000;
/// Longest profile URL, in characters.
const MAX_URL_CHARS: usize = 2048;

/// Why a string is not a username we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Empty after trimming, or longer than 256 characters.
    #[error("must be 1-{MAX_USERNAME_CHARS} characters")]
    Length,
    /// Contains a control character.
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// A user's unique handle in a tenant (SCIM `userName`, OIDC `preferred_username`):
/// displayed as typed, compared by its case-folded key (A40).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username {
    original: String,
    key: String,
}

impl Username {
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let original = input.trim();
        if !(1..=MAX_USERNAME_CHARS).contains(&original.chars().count()) {
            return Err(UsernameError::Length);
        }
        if original.chars().any(char::is_control) {
            return Err(UsernameError::ControlCharacter);
        }
        Ok(Self {
            original: original.to_owned(),
            key: original.to_lowercase(),
        })
    }

    /// The username as typed.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The case-folded form used for uniqueness and look-ups.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for Username {
    /// Equal when spelled the same; use [`Username::key`] to compare as identities.
    fn eq(&self, other: &Self) -> bool {
        self.original == other.original
    }
}

impl Eq for Username {}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.original)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.original
    }
}

/// A postal address (SCIM `addresses`, OIDC `address`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// `work`, `home`, `other`… (SCIM `type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The full address for display; may span lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street, house number, P.O. box; may span lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State, province or region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country (SCIM asks for ISO 3166-1 alpha-2, OIDC allows a name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub primary: bool,
}

/// The enterprise part of a profile (SCIM's enterprise User extension).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Enterprise {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Another user of the same tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<UserId>,
}

impl Enterprise {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A merge patch of the enterprise part: a field left out stays, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnterprisePatch {
    pub employee_number: Option<Option<String>>,
    pub cost_center: Option<Option<String>>,
    pub organization: Option<Option<String>>,
    pub division: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub manager: Option<Option<UserId>>,
}

impl EnterprisePatch {
    pub fn apply(&self, current: &Enterprise) -> Enterprise {
        let mut next = current.clone();
        for (patch, target) in [
            (&self.employee_number, &mut next.employee_number),
            (&self.cost_center, &mut next.cost_center),
            (&self.organization, &mut next.organization),
            (&self.division, &mut next.division),
            (&self.department, &mut next.department),
        ] {
            if let Some(value) = patch {
                target.clone_from(value);
            }
        }
        if let Some(manager) = self.manager {
            next.manager = manager;
        }
        next
    }
}

/// Trims `value`, drops it when empty, and reports it under `field` when it is longer than
/// `max` characters or holds a control character (`\n` allowed when `multi_line`).
pub(crate) fn clean_text(
    field: &str,
    value: &mut Option<String>,
    max: usize,
    multi_line: bool,
    errors: &mut Vec<FieldError>,
) {
    *value = value
        .take()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let bad_char = |c: char| c.is_control() && !(multi_line && (c == '\n' || c == '\r'));
    if value
        .as_ref()
        .is_some_and(|v| v.chars().count() > max || v.chars().any(bad_char))
    {
        let lines = if multi_line {
            " other than line breaks"
        } else {
            ""
        };
        errors.push(FieldError::new(
            field,
            format!("at most {max} characters, no control characters{lines}"),
        ));
    }
}

/// A date of birth as OIDC writes it (`YYYY-MM-DD`): a real calendar date from 1900 on.
/// Whether it lies in the past depends on the clock; forms that collect it check that too.
pub fn birthdate(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format)
        .ok()
        .filter(|date| date.year() >= 1900)
}

/// A short single-line text field.
pub(crate) fn clean_short(field: &str, value: &mut Option<String>, errors: &mut Vec<FieldError>) {
    clean_text(field, value, MAX_TEXT_CHARS, false, errors);
}

/// An absolute `http` or `https` URL.
pub(crate) fn check_url(field: &str, value: &mut Option<String>, errors: &mut Vec<FieldError>) {
    clean_text(field, value, MAX_URL_CHARS, false, errors);
    if let Some(text) = value.as_deref()
        && !url::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
    {
        errors.push(FieldError::new(
            field,
            "must be an absolute http or https URL",
        ));
    }
}

impl Address {
    pub(crate) fn normalize(&mut self, at: usize, errors: &mut Vec<FieldError>) {
        let field = |name: &str| format!("addresses[{at}].{name}");
        clean_short(&field("kind"), &mut self.kind, errors);
        for (name, value) in [
            ("formatted", &mut self.formatted),
            ("street_address", &mut self.street_address),
        ] {
            clean_text(&field(name), value, MAX_LONG_TEXT_CHARS, true, errors);
        }
        for (name, value) in [
            ("locality", &mut self.locality),
            ("region", &mut self.region),
            ("postal_code", &mut self.postal_code),
            ("country", &mut self.country),
        ] {
            clean_short(&field(name), value, errors);
        }
    }
}

impl Enterprise {
    pub(crate) fn normalize(&mut self, errors: &mut Vec<FieldError>) {
        for (name, value) in [
            ("employee_number", &mut self.employee_number),
            ("cost_center", &mut self.cost_center),
            ("organization", &mut self.organization),
            ("division", &mut self.division),
            ("department", &mut self.department),
        ] {
            clean_short(&format!("enterprise.{name}"), value, errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_keep_their_spelling_and_fold_for_comparison() {
        let name = Username::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(name.as_str(), "Ada.Lovelace@Example.COM");
        assert_eq!(name.key(), "ada.lovelace@example.com");
        assert_eq!(Username::parse("ÅSA").unwrap().key(), "åsa");
        assert_eq!(Username::parse("  "), Err(UsernameError::Length));
        assert_eq!(
            Username::parse(&"x".repeat(257)),
            Err(UsernameError::Length)
        );
        assert!(Username::parse(&"é".repeat(256)).is_ok());
        assert_eq!(
            Username::parse("a\u{0}b"),
            Err(UsernameError::ControlCharacter)
        );
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, "\"Ada.Lovelace@Example.COM\"");
        assert!(serde_json::from_str::<Username>("\"a\\nb\"").is_err());
    }

    #[test]
    fn texts_are_trimmed_and_checked() {
        let mut errors = Vec::new();
        let mut address = Address {
            formatted: Some(" 1 Main St\nSpringfield ".into()),
            locality: Some("Spring\nfield".into()),
            region: Some("   ".into()),
            ..Address::default()
        };
        address.normalize(0, &mut errors);
        assert_eq!(address.formatted.as_deref(), Some("1 Main St\nSpringfield"));
        assert_eq!(address.region, None);
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["addresses[0].locality: at most 200 characters, no control characters"]
        );
        let mut url = Some("javascript:alert(1)".to_owned());
        check_url("profile_url", &mut url, &mut errors);
        assert_eq!(errors.len(), 2);
    }
}
