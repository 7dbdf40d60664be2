//! The password policy (NIST SP 800-63B): a length floor that depends on whether the account
//! has a second factor, a generous ceiling, any Unicode, no composition rules, and refusal
//! of common passwords and of passwords built from the user's own email or names.
//!
//! Lengths are counted in Unicode scalar values (`char`s), without normalisation: "é" typed
//! as one code point counts 1, as "e" plus a combining accent 2.

use super::blocklist;
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::Zeroizing;

/// The lowest minimum length the policy may be configured with (SECURITY.md: at least 8).
pub const MIN_ALLOWED_LENGTH: usize = 8;
/// The longest maximum the policy may be configured with. Four bytes per `char` at most keeps
/// every accepted password within the hasher's byte limit.
pub const MAX_ALLOWED_LENGTH: usize = super::pool::MAX_PASSWORD_BYTES / 4;
/// User inputs (names, email local part) shorter than this are not looked for.
const MIN_PERSONAL_INFO_LENGTH: usize = 4;

/// Length bounds, in Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum when the password is the only factor.
    pub min_length_single_factor: usize,
    /// Minimum when the account has a second factor enrolled.
    pub min_length_with_mfa: usize,
    /// Maximum (at least 64 must be allowed).
    pub max_length: usize,
}

/// What the policy knows about the account the password is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyContext {
    /// Whether the account has a second factor enrolled.
    pub mfa_enrolled: bool,
    /// The email local part (a whole address is cut at its last `@`), given and family names,
    /// the username… A password containing one of these (or one of its words) of at least 4
    /// characters is refused.
    pub user_inputs: Vec<String>,
}

/// One reason a password is refused. The UI localises by [`PolicyViolation::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Fewer characters than the minimum that applies.
    TooShort { min: usize },
    /// More characters than the maximum.
    TooLong { max: usize },
    /// On the list of common passwords (case-insensitively).
    Common,
    /// Contains the user's email local part or a name.
    ContainsPersonalInfo,
}

impl PolicyViolation {
    /// A stable code for translations and API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::Common => "password_common",
            Self::ContainsPersonalInfo => "password_contains_personal_info",
        }
    }

    /// An English message for people.
    pub fn message(&self) -> String {
        match self {
            Self::TooShort { min } => format!("Use at least {min} characters."),
            Self::TooLong { max } => format!("Use at most {max} characters."),
            Self::Common => "This password is too common; choose another.".to_owned(),
            Self::ContainsPersonalInfo => {
                "Do not use your email address or name in your password.".to_owned()
            }
        }
    }
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why a policy configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPolicy {
    /// A length bound is outside what SECURITY.md allows.
    #[error("password policy {field} must be between {min} and {max} (got {value})")]
    OutOfRange {
        field: &'static str,
        value: usize,
        min: usize,
        max: usize,
    },
}

impl Default for PasswordPolicy {
    /// 15 characters alone, 8 with MFA, 256 at most.
    fn default() -> Self {
        Self {
            min_length_single_factor: 15,
            min_length_with_mfa: 8,
            max_length: 256,
        }
    }
}

impl PasswordPolicy {
    /// Checks the configuration: minimum with MFA 8..=64, single-factor minimum between it and
    /// 64, maximum 64..=1024.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        let range = |field, value, min, max| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(InvalidPolicy::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                })
            }
        };
        range(
            "min_length_with_mfa",
            self.min_length_with_mfa,
            MIN_ALLOWED_LENGTH,
            64,
        )?;
        range(
            "min_length_single_factor",
            self.min_length_single_factor,
            self.min_length_with_mfa,
            64,
        )?;
        range("max_length", self.max_length, 64, MAX_ALLOWED_LENGTH)
    }

    /// The minimum length that applies in `context`.
    pub fn min_length(&self, context: &PolicyContext) -> usize {
        if context.mfa_enrolled {
            self.min_length_with_mfa
        } else {
            self.min_length_single_factor
        }
    }

    /// Checks a new password. Returns every violation found; a password longer than the
    /// maximum is refused for that alone, without looking further.
    pub fn check(
        &self,
        password: &str,
        context: &PolicyContext,
    ) -> Result<(), Vec<PolicyViolation>> {
        let length = password.chars().count();
        if length > self.max_length {
            return Err(vec![PolicyViolation::TooLong {
                max: self.max_length,
            }]);
        }
        let mut violations = Vec::new();
        let min = self.min_length(context);
        if length < min {
            violations.push(PolicyViolation::TooShort { min });
        }
        if blocklist::is_common(password) {
            violations.push(PolicyViolation::Common);
        }
        if contains_personal_info(password, &context.user_inputs) {
            violations.push(PolicyViolation::ContainsPersonalInfo);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

fn contains_personal_info(password: &str, user_inputs: &[String]) -> bool {
    let password = Zeroizing::new(password.to_lowercase());
    user_inputs
        .iter()
        .flat_map(|input| personal_terms(input))
        .any(|term| password.contains(term.as_str()))
}

/// The lower-case terms to look for in one input: the email local part for an address; else
/// the whole input and each of its words. Terms shorter than 4 characters are dropped.
fn personal_terms(input: &str) -> Vec<String> {
    let input = input.trim().to_lowercase();
    let mut terms = match input.rsplit_once('@') {
        Some((local_part, _domain)) => vec![local_part.to_owned()],
        None => {
            let mut terms: Vec<String> = input.split_whitespace().map(str::to_owned).collect();
            terms.push(input);
            terms
        }
    };
    terms.retain(|term| term.chars().count() >= MIN_PERSONAL_INFO_LENGTH);
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single_factor() -> PolicyContext {
        PolicyContext::default()
    }

    fn with_mfa() -> PolicyContext {
        PolicyContext {
            mfa_enrolled: true,
            user_inputs: Vec::new(),
        }
    }

    #[test]
    fn default_policy_is_valid() {
        assert_eq!(PasswordPolicy::default().validate(), Ok(()));
    }

    #[test]
    fn minimum_depends_on_mfa() {
        let policy = PasswordPolicy::default();
        let eight = "vq7#Lm2x";
        let fifteen = "vq7#Lm2x-tR9pWz";
        assert_eq!(
            policy.check(eight, &single_factor()),
            Err(vec![PolicyViolation::TooShort { min: 15 }])
        );
        assert_eq!(policy.check(eight, &with_mfa()), Ok(()));
        assert_eq!(policy.check(fifteen, &single_factor()), Ok(()));
        assert_eq!(
            policy.check("vq7#Lm2", &with_mfa()),
            Err(vec![PolicyViolation::TooShort { min: 8 }])
        );
    }

    #[test]
    fn long_passphrases_pass_and_very_long_ones_do_not() {
        let policy = PasswordPolicy::default();
        let passphrase = "correct horse battery staple, then a walk by the river at dusk!!";
        assert_eq!(passphrase.chars().count(), 64);
        assert_eq!(policy.check(passphrase, &single_factor()), Ok(()));
        let too_long = "a".repeat(300);
        assert_eq!(
            policy.check(&too_long, &single_factor()),
            Err(vec![PolicyViolation::TooLong { max: 256 }])
        );
        assert_eq!(policy.check(&"é".repeat(256), &single_factor()), Ok(()));
    }

    #[test]
    fn any_unicode_is_accepted() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check("пароль-日本語-パスワード-ok!", &single_factor()),
            Ok(())
        );
    }

    #[test]
    fn common_passwords_are_refused_ignoring_case() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check("PassWord", &with_mfa()),
            Err(vec![PolicyViolation::Common])
        );
        assert_eq!(
            policy.check("password", &single_factor()),
            Err(vec![
                PolicyViolation::TooShort { min: 15 },
                PolicyViolation::Common
            ])
        );
    }

    #[test]
    fn personal_information_is_refused() {
        let policy = PasswordPolicy::default();
        let context = PolicyContext {
            mfa_enrolled: false,
            user_inputs: vec![
                "Jo.Smith@example.com".to_owned(),
                "Joanna Przybylska".to_owned(),
                "Al".to_owned(),
            ],
        };
        for password in [
            "my-jo.smith-password!",
            "PRZYBYLSKA loves the sea",
            "joanna przybylska 2024",
        ] {
            assert_eq!(
                policy.check(password, &context),
                Err(vec![PolicyViolation::ContainsPersonalInfo]),
                "{password}"
            );
        }
        // Inputs under 4 characters and email domains are not looked for.
        assert_eq!(policy.check("always an example.com fan", &context), Ok(()));
    }

    #[test]
    fn violations_have_stable_codes_and_messages() {
        let violations = [
            PolicyViolation::TooShort { min: 15 },
            PolicyViolation::TooLong { max: 256 },
            PolicyViolation::Common,
            PolicyViolation::ContainsPersonalInfo,
        ];
        let rendered: Vec<String> = violations
            .iter()
            .map(|violation| format!("{}: {violation}", violation.code()))
            .collect();
        assert_eq!(
            rendered,
            [
                "password_too_short: Use at least 15 characters.",
                "password_too_long: Use at most 256 characters.",
                "password_common: This password is too common; choose another.",
                "password_contains_personal_info: Do not use your email address or name in your password.",
            ]
        );
    }

    #[test]
    fn validate_refuses_weak_configurations() {
        let weak = PasswordPolicy {
            min_length_with_mfa: 6,
            ..PasswordPolicy::default()
        };
        assert!(matches!(
            weak.validate(),
            Err(InvalidPolicy::OutOfRange {
                field: "min_length_with_mfa",
                ..
            })
        ));
        let short_max = PasswordPolicy {
            max_length: 32,
            ..PasswordPolicy::default()
        };
        assert!(matches!(
            short_max.validate(),
            Err(InvalidPolicy::OutOfRange {
                field: "max_length",
                ..
            })
        ));
    }

    proptest::proptest! {
        #[test]
        fn check_never_panics(
            password in "\\PC{0,300}",
            mfa_enrolled in proptest::bool::ANY,
            user_inputs in proptest::collection::vec("\\PC{0,40}", 0..4),
        ) {
            let context = PolicyContext { mfa_enrolled, user_inputs };
            let _ = PasswordPolicy::default().check(&password, &context);
        }
    }
}
