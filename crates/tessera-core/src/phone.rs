//! Phone numbers: [`PhoneNumber`] in E.164 form (`+` and 8 to 15 digits), the form SMS
//! providers take; [`ContactNumber`], a user's number as contact data, which may also be a
//! national form a business's systems hold (provisioned by SCIM, imported), kept as written.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a phone number we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Not `+` followed by 8 to 15 digits (spaces, dots, dashes and parentheses are ignored).
    #[error("a phone number must be in international form: '+' and 8 to 15 digits")]
    NotE164,
    /// Not digits with the usual separators (see [`ContactNumber`]).
    #[error(
        "a phone number is digits with optional spaces, dots, dashes, slashes, parentheses and an 'x' extension, at most 40 characters"
    )]
    NotANumber,
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

/// A phone number as contact data: an international number (starting with `+`) is checked
/// and normalised to E.164; any other is kept as written once it looks like a number
/// (6 or more digits; spaces, `.`, `-`, `/`, parentheses and an `x` before an extension).
/// Only international numbers can receive SMS codes ([`ContactNumber::e164`]).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContactNumber(String);

impl ContactNumber {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let text = input.trim();
        if text.starts_with('+') {
            return PhoneNumber::parse(text).map(|number| Self(number.0));
        }
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        let allowed = text.bytes().all(|b| {
            b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'-' | b'/' | b'(' | b')' | b'x' | b'X')
        });
        let starts_well = text.starts_with(|c: char| c.is_ascii_digit() || c == '(');
        if text.len() <= 40 && digits >= 6 && allowed && starts_well {
            Ok(Self(text.to_owned()))
        } else {
            Err(PhoneError::NotANumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number in E.164 form, if it is an international number.
    pub fn e164(&self) -> Option<PhoneNumber> {
        PhoneNumber::parse(&self.0).ok()
    }
}

impl fmt::Display for ContactNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContactNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactNumber({})", self.0)
    }
}

impl TryFrom<String> for ContactNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ContactNumber> for String {
    fn from(number: ContactNumber) -> Self {
        number.0
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

    #[test]
    fn contact_numbers_keep_national_forms_and_normalise_international_ones() {
        assert_eq!(
            ContactNumber::parse(" 0817002028 ").unwrap().as_str(),
            "0817002028"
        );
        assert_eq!(
            ContactNumber::parse("(030) 1234-567 x12").unwrap().as_str(),
            "(030) 1234-567 x12"
        );
        assert_eq!(ContactNumber::parse("0817002028").unwrap().e164(), None);
        let international = ContactNumber::parse("+49 151 123 456 78").unwrap();
        assert_eq!(international.as_str(), "+4915112345678");
        assert_eq!(international.e164().unwrap().as_str(), "+4915112345678");
        for bad in [
            "",
            "12",
            "call me",
            "+12",
            "0151;DROP",
            "x123",
            &"1".repeat(41),
        ] {
            assert!(ContactNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,60}") {
            let _ = PhoneNumber::parse(&input);
            let _ = ContactNumber::parse(&input);
        }
    }
}
