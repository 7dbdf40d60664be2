//! How strong a sign-in must be: the authentication levels Tessera asserts in `acr`, the
//! tenant's MFA mode, and the pure decision of which level a sign-in needs.

use serde::{Deserialize, Serialize};

/// An authentication level, asserted as the ID token's `acr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AuthLevel {
    /// One factor: a password, or a link or code sent to the user.
    #[serde(rename = "urn:tessera:loa:1")]
    OneFactor,
    /// Two factors of different kinds, e.g. a password and an authenticator app.
    #[serde(rename = "urn:tessera:loa:2")]
    TwoFactors,
}

impl AuthLevel {
    pub const ALL: [AuthLevel; 2] = [AuthLevel::OneFactor, AuthLevel::TwoFactors];

    pub fn acr(self) -> &'static str {
        match self {
            AuthLevel::OneFactor => "urn:tessera:loa:1",
            AuthLevel::TwoFactors => "urn:tessera:loa:2",
        }
    }

    pub fn from_acr(acr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.acr() == acr)
    }

    /// The level an authorization request's `acr_values` asks for: the weakest of the
    /// values Tessera knows (any of them satisfies the request), none if it knows none.
    pub fn requested(acr_values: &[String]) -> Option<Self> {
        acr_values.iter().filter_map(|v| Self::from_acr(v)).min()
    }

    /// The level the methods of a sign-in reach (RFC 8176 names).
    pub fn of_methods(methods: &[String]) -> Self {
        let second = methods
            .iter()
            .any(|m| matches!(m.as_str(), "otp" | "hwk" | "swk" | "sms"));
        let first = methods.iter().any(|m| m == "pwd");
        // A key on the user's device that verified its user (a passkey) is two factors:
        // something they have and something they know or are.
        let verified_key =
            methods.iter().any(|m| m == "hwk") && methods.iter().any(|m| m == "user");
        if (first && second) || verified_key {
            AuthLevel::TwoFactors
        } else {
            AuthLevel::OneFactor
        }
    }
}

/// When a tenant asks for a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    /// Only when an app or a request asks for it.
    Off,
    /// From users who enrolled a factor; the others are not pushed to.
    #[default]
    Optional,
    /// From everyone: users without a factor enrol one at their next sign-in.
    Required,
    /// When the risk of the sign-in calls for it (and from users who enrolled, as
    /// `Optional`).
    Adaptive,
}

/// A tenant's MFA settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaSettings {
    pub mode: MfaMode,
    /// Days a browser may skip the second factor after the user ticked "don't ask again on
    /// this browser" (0 to 365; 0 hides the option). Never for clients or requests that
    /// need two factors, and never when the risk of the sign-in calls for one.
    pub remember_device_days: u32,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self {
            mode: MfaMode::default(),
            remember_device_days: 30,
        }
    }
}

impl MfaSettings {
    pub fn check(&self, errors: &mut Vec<crate::error::FieldError>) {
        if self.remember_device_days > 365 {
            errors.push(crate::error::FieldError::new(
                "remember_device_days",
                "0 to 365 days",
            ));
        }
    }
}

/// What a sign-in's decision takes into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelInputs {
    pub mode: MfaMode,
    /// The client's minimum level.
    pub client_minimum: Option<AuthLevel>,
    /// What the authorization request asked for with `acr_values`.
    pub requested: Option<AuthLevel>,
    /// The risk engine asked for a second factor.
    pub risk_requires_mfa: bool,
    /// The user has a confirmed second factor.
    pub enrolled: bool,
}

/// The level a sign-in must reach.
pub fn required_level(inputs: LevelInputs) -> AuthLevel {
    let by_tenant = match inputs.mode {
        MfaMode::Off => AuthLevel::OneFactor,
        MfaMode::Optional if inputs.enrolled => AuthLevel::TwoFactors,
        MfaMode::Optional => AuthLevel::OneFactor,
        MfaMode::Required => AuthLevel::TwoFactors,
        MfaMode::Adaptive if inputs.enrolled || inputs.risk_requires_mfa => AuthLevel::TwoFactors,
        MfaMode::Adaptive => AuthLevel::OneFactor,
    };
    // Risk asks for a second factor where the tenant chose adaptive MFA; the other modes
    // decide without it (and a blocked or captcha-worthy attempt never gets this far).
    let by_risk = if inputs.risk_requires_mfa && inputs.mode == MfaMode::Adaptive {
        AuthLevel::TwoFactors
    } else {
        AuthLevel::OneFactor
    };
    [
        Some(by_tenant),
        Some(by_risk),
        inputs.client_minimum,
        inputs.requested,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(AuthLevel::OneFactor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(mode: MfaMode, enrolled: bool) -> LevelInputs {
        LevelInputs {
            mode,
            client_minimum: None,
            requested: None,
            risk_requires_mfa: false,
            enrolled,
        }
    }

    #[test]
    fn each_mode_asks_for_the_second_factor_when_it_says() {
        use AuthLevel::*;
        let table = [
            (MfaMode::Off, false, OneFactor),
            (MfaMode::Off, true, OneFactor),
            (MfaMode::Optional, false, OneFactor),
            (MfaMode::Optional, true, TwoFactors),
            (MfaMode::Required, false, TwoFactors),
            (MfaMode::Required, true, TwoFactors),
            (MfaMode::Adaptive, false, OneFactor),
            (MfaMode::Adaptive, true, TwoFactors),
        ];
        for (mode, enrolled, level) in table {
            assert_eq!(
                required_level(inputs(mode, enrolled)),
                level,
                "{mode:?} {enrolled}"
            );
        }
    }

    #[test]
    fn clients_requests_and_risk_raise_the_level_in_every_mode() {
        let raised = [
            LevelInputs {
                client_minimum: Some(AuthLevel::TwoFactors),
                ..inputs(MfaMode::Off, false)
            },
            LevelInputs {
                requested: Some(AuthLevel::TwoFactors),
                ..inputs(MfaMode::Off, false)
            },
            LevelInputs {
                risk_requires_mfa: true,
                ..inputs(MfaMode::Adaptive, false)
            },
        ];
        for case in raised {
            assert_eq!(required_level(case), AuthLevel::TwoFactors, "{case:?}");
        }
    }

    #[test]
    fn acr_values_ask_for_the_weakest_known_level() {
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            AuthLevel::requested(&values(&["urn:tessera:loa:2"])),
            Some(AuthLevel::TwoFactors)
        );
        assert_eq!(
            AuthLevel::requested(&values(&["urn:tessera:loa:2", "urn:tessera:loa:1"])),
            Some(AuthLevel::OneFactor)
        );
        assert_eq!(AuthLevel::requested(&values(&["gold", "silver"])), None);
    }

    #[test]
    fn methods_tell_the_level() {
        let methods = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            AuthLevel::of_methods(&methods(&["pwd"])),
            AuthLevel::OneFactor
        );
        assert_eq!(
            AuthLevel::of_methods(&methods(&["pwd", "otp", "mfa"])),
            AuthLevel::TwoFactors
        );
        assert_eq!(
            AuthLevel::of_methods(&methods(&["otp"])),
            AuthLevel::OneFactor
        );
        assert_eq!(
            AuthLevel::of_methods(&methods(&["hwk", "user"])),
            AuthLevel::TwoFactors
        );
        assert_eq!(
            AuthLevel::of_methods(&methods(&["hwk"])),
            AuthLevel::OneFactor
        );
    }
}
