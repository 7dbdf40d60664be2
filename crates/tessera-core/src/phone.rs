//! Phone numbers in E.164 form (`+` and 8 to 15 digits), the form SMS providers take.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a phone number we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Not `+` followed by 8 to 15 digits (spaces, dots, dashes and parentheses are ignored).
    #[error("a phone number must be in international form: '+' and 8 to 15 digits")]
    NotE164,
}

/// A phone number normalised to E.164, e.g. `+4915112345678`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        if input.len() > 40 {
            return Err(PhoneError::NotE164);
        }
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or(PhoneError::NotE164)?;
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(compact))
        } else {
            Err(PhoneError::NotE164)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(phone: PhoneNumber) -> Self {
        phone.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_separators() {
        assert_eq!(
            PhoneNumber::parse("+49 (151) 123-456.78").unwrap().as_str(),
            "+4915112345678"
        );
    }

    #[test]
    fn refuses_national_and_short_forms() {
        for bad in [
            "015112345678",
            "+123",
            "+0049151123456",
            "+49abc1234567",
            "+1234567890123456",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(PhoneError::NotE164), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,60}") {
            let _ = PhoneNumber::parse(&input);
        }
    }
}
