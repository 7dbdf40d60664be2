//! Email addresses: parsed once, compared case-insensitively, displayed as typed (A40).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest address SMTP can carry (RFC 5321 §4.5.3.1.3 path limit minus the brackets).
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// Why a string is not an email address we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Longer than 254 characters, or the local part longer than 64.
    #[error("the address is too long")]
    TooLong,
    /// No `@`, or more than one outside a quoted local part (which we do not accept).
    #[error("the address must have exactly one '@'")]
    NotOneAt,
    /// Nothing before the `@`, or forbidden characters there.
    #[error("the part before '@' is empty or has a space or control character")]
    BadLocalPart,
    /// The domain is not a dot-separated list of valid labels with at least one dot.
    #[error("the domain is not a valid host name")]
    BadDomain,
}

/// A syntactically valid email address: what the user typed, and its comparison key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email {
    original: String,
    normalized: String,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let original = input.trim();
        if original.chars().count() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = match original.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(EmailError::NotOneAt),
        };
        if local.chars().count() > MAX_LOCAL_LEN {
            return Err(EmailError::TooLong);
        }
        if local.is_empty()
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"(),:;<>[\\]".contains(c))
        {
            return Err(EmailError::BadLocalPart);
        }
        if !is_host_name(domain) {
            return Err(EmailError::BadDomain);
        }
        Ok(Self {
            original: original.to_owned(),
            normalized: original.to_lowercase(),
        })
    }

    /// The address as the user typed it, for display and for sending mail.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The case-folded form used for uniqueness and look-ups.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The domain part, case-folded.
    pub fn domain(&self) -> &str {
        self.normalized
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }
}

fn is_host_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}
impl Eq for Email {}

impl std::hash::Hash for Email {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.normalized.hash(state);
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.original)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.original
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a40_case_variants_are_one_identity_but_keep_their_spelling() {
        let typed = Email::parse("Alice@Example.COM").unwrap();
        let lower = Email::parse("alice@example.com").unwrap();
        assert_eq!(typed, lower);
        assert_eq!(typed.as_str(), "Alice@Example.COM");
        assert_eq!(typed.normalized(), "alice@example.com");
        assert_eq!(typed.domain(), "example.com");
    }

    #[test]
    fn accepts_common_forms() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "josé@exämple.de",
            " padded@example.com ",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejections_name_their_reason() {
        let cases = [
            "plainaddress",
            "a@b@c.com",
            "@example.com",
            "a b@example.com",
            "a..b@example.com",
            "a@localhost",
            "a@-bad.com",
            "a@exa_mple.com",
            "a@example..com",
        ];
        let reasons: Vec<String> = cases
            .iter()
            .map(|case| format!("{case} => {}", Email::parse(case).unwrap_err()))
            .collect();
        insta::assert_snapshot!(reasons.join("\n"), @r"
        plainaddress => the address must have exactly one '@'
        a@b@c.com => the address must have exactly one '@'
        @example.com => the part before '@' is empty or has a space or control character
        a b@example.com => the part before '@' is empty or has a space or control character
        a..b@example.com => the part before '@' is empty or has a space or control character
        a@localhost => the domain is not a valid host name
        a@-bad.com => the domain is not a valid host name
        a@exa_mple.com => the domain is not a valid host name
        a@example..com => the domain is not a valid host name
        ");
    }

    #[test]
    fn too_long_is_refused() {
        let long = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let longer = format!("a@{}.com", "b".repeat(300));
        assert_eq!(Email::parse(&longer), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,300}") {
            let _ = Email::parse(&input);
        }

        #[test]
        fn parsed_addresses_round_trip(local in "[a-zA-Z0-9+_-]{1,20}", domain in "[a-zA-Z0-9]{1,20}\\.[a-z]{2,6}") {
            let input = format!("{local}@{domain}");
            let email = Email::parse(&input).unwrap();
            prop_assert_eq!(email.as_str(), input.as_str());
            prop_assert_eq!(Email::parse(&input.to_uppercase()).unwrap(), email);
        }
    }
}
