//! Bot defence on the forms bots love: sign-in, sign-up and account recovery.
//!
//! Two tools, each on when risk asks for it or always, per tenant:
//! - [`pow`]: a proof-of-work challenge compatible with ALTCHA, computed by the browser and
//!   checked by Tessera alone in microseconds; no third party sees the person.
//! - [`captcha`]: an external captcha (hCaptcha, Turnstile, reCAPTCHA) checked at the
//!   provider's `siteverify` endpoint, for tenants that prefer one.
//!
//! [`BotDefenceSettings::required`] is the pure decision of what a form must carry.

pub mod captcha;
pub mod pow;

use crate::error::FieldError;
use captcha::CaptchaProvider;
use serde::{Deserialize, Serialize};

/// When a check is asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Never.
    #[default]
    Off,
    /// When the risk assessment of the attempt asks for more proof.
    WhenRisky,
    /// On every submission.
    Always,
}

impl Trigger {
    fn applies(self, risky: bool) -> bool {
        match self {
            Self::Off => false,
            Self::WhenRisky => risky,
            Self::Always => true,
        }
    }
}

/// The forms a check may guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    SignIn,
    SignUp,
    Recovery,
}

/// Which of the forms are guarded (all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardedFlows {
    pub sign_in: bool,
    pub sign_up: bool,
    pub recovery: bool,
}

impl Default for GuardedFlows {
    fn default() -> Self {
        Self {
            sign_in: true,
            sign_up: true,
            recovery: true,
        }
    }
}

impl GuardedFlows {
    fn guards(self, flow: Flow) -> bool {
        match flow {
            Flow::SignIn => self.sign_in,
            Flow::SignUp => self.sign_up,
            Flow::Recovery => self.recovery,
        }
    }
}

/// A minimum captcha score (how likely a human), 0.0 to 1.0, kept in thousandths so that the
/// settings compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct MinimumScore(u16);

impl MinimumScore {
    pub fn value(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl TryFrom<f64> for MinimumScore {
    type Error = &'static str;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if (0.0..=1.0).contains(&value) {
            // In range, so the product fits in u16.
            Ok(Self((value * 1000.0).round() as u16))
        } else {
            Err("a score from 0.0 to 1.0")
        }
    }
}

impl From<MinimumScore> for f64 {
    fn from(score: MinimumScore) -> Self {
        score.value()
    }
}

fn when_risky() -> Trigger {
    Trigger::WhenRisky
}

/// A tenant's external captcha. The secret is not here: it is kept sealed beside the
/// settings, as identity verification secrets are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptchaSettings {
    pub provider: CaptchaProvider,
    /// The public key the widget is embedded with.
    pub site_key: String,
    /// When the widget is shown: `when_risky` unless the settings say otherwise (a captcha
    /// configured without a trigger must not silently do nothing).
    #[serde(default = "when_risky")]
    pub trigger: Trigger,
    /// Scores below are refused (hCaptcha Enterprise); none by default. Not for reCAPTCHA:
    /// its checkbox (v2) gives no score, and v3's invisible integration is not built.
    #[serde(default)]
    pub minimum_score: Option<MinimumScore>,
}

/// A tenant's bot defence settings (proposed section `bot_defence` of the tenant settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotDefenceSettings {
    /// When the built-in proof of work is asked for.
    pub pow: Trigger,
    /// Its `maxnumber` (see [`pow::DEFAULT_DIFFICULTY`]).
    pub difficulty: u64,
    pub captcha: Option<CaptchaSettings>,
    pub flows: GuardedFlows,
}

impl Default for BotDefenceSettings {
    fn default() -> Self {
        Self {
            pow: Trigger::WhenRisky,
            difficulty: pow::DEFAULT_DIFFICULTY,
            captcha: None,
            flows: GuardedFlows::default(),
        }
    }
}

/// What one submission must carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequiredChecks {
    /// A solved proof of work in the `altcha` field.
    pub pow: bool,
    /// A token of this provider in its response field.
    pub captcha: Option<CaptchaProvider>,
}

impl BotDefenceSettings {
    /// The checks a submission of `flow` must pass, given whether the risk assessment found
    /// the attempt risky.
    pub fn required(&self, flow: Flow, risky: bool) -> RequiredChecks {
        if !self.flows.guards(flow) {
            return RequiredChecks::default();
        }
        RequiredChecks {
            pow: self.pow.applies(risky),
            captcha: self
                .captcha
                .as_ref()
                .filter(|captcha| captcha.trigger.applies(risky))
                .map(|captcha| captcha.provider),
        }
    }

    /// Every problem, each naming its field.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(1..=pow::MAX_DIFFICULTY).contains(&self.difficulty) {
            errors.push(FieldError::new(
                "difficulty",
                format!("1 to {}", pow::MAX_DIFFICULTY),
            ));
        }
        if let Some(captcha) = &self.captcha
            && captcha.provider == captcha::CaptchaProvider::Recaptcha
            && captcha.minimum_score.is_some()
        {
            errors.push(FieldError::new(
                "captcha.minimum_score",
                "reCAPTCHA's checkbox (v2) gives no score; leave minimum_score out",
            ));
        }
        if let Some(captcha) = &self.captcha {
            let key = &captcha.site_key;
            let key_ok = (1..=200).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !key_ok {
                errors.push(FieldError::new(
                    "captcha.site_key",
                    "1 to 200 letters, digits, '-' or '_'",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_captcha(trigger: Trigger) -> BotDefenceSettings {
        BotDefenceSettings {
            pow: Trigger::Always,
            captcha: Some(CaptchaSettings {
                provider: CaptchaProvider::Turnstile,
                site_key: "0x4AAAAAAA-site_key".into(),
                trigger,
                minimum_score: None,
            }),
            ..BotDefenceSettings::default()
        }
    }

    #[test]
    fn the_default_asks_for_work_only_when_risky() {
        let settings = BotDefenceSettings::default();
        assert_eq!(
            settings.required(Flow::SignIn, false),
            RequiredChecks::default()
        );
        let risky = settings.required(Flow::SignUp, true);
        assert!(risky.pow);
        assert_eq!(risky.captcha, None);
        assert!(settings.check().is_ok());
    }

    #[test]
    fn triggers_and_flows_decide() {
        let settings = with_captcha(Trigger::WhenRisky);
        assert_eq!(
            settings.required(Flow::Recovery, false),
            RequiredChecks {
                pow: true,
                captcha: None
            }
        );
        assert_eq!(
            settings.required(Flow::Recovery, true).captcha,
            Some(CaptchaProvider::Turnstile)
        );
        let unguarded = BotDefenceSettings {
            flows: GuardedFlows {
                sign_in: false,
                ..GuardedFlows::default()
            },
            ..with_captcha(Trigger::Always)
        };
        assert_eq!(
            unguarded.required(Flow::SignIn, true),
            RequiredChecks::default()
        );
        assert!(unguarded.required(Flow::SignUp, false).captcha.is_some());
    }

    #[test]
    fn settings_read_from_json_and_are_checked() {
        let settings: BotDefenceSettings = serde_json::from_value(serde_json::json!({
            "pow": "always",
            "difficulty": 50000,
            "captcha": {"provider": "hcaptcha", "site_key": "10000000-ffff", "trigger": "when_risky", "minimum_score": 0.5},
            "flows": {"recovery": false}
        }))
        .unwrap();
        assert_eq!(settings.pow, Trigger::Always);
        let captcha = settings.captcha.as_ref().unwrap();
        assert_eq!(captcha.minimum_score.map(MinimumScore::value), Some(0.5));
        assert!(settings.flows.sign_in && !settings.flows.recovery);
        assert!(settings.check().is_ok());
        let built_in = BotDefenceSettings {
            captcha: None,
            ..settings.clone()
        };
        assert!(built_in.check().is_ok());

        let score: Result<BotDefenceSettings, _> = serde_json::from_value(serde_json::json!({
            "captcha": {"provider": "hcaptcha", "site_key": "k", "minimum_score": 1.5}
        }));
        assert!(score.is_err());
        let bad = BotDefenceSettings {
            difficulty: 0,
            ..with_captcha(Trigger::Always)
        };
        let mut bad = bad;
        if let Some(captcha) = bad.captcha.as_mut() {
            captcha.site_key = "<script>".into();
        }
        let fields: Vec<String> = bad
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["difficulty", "captcha.site_key"]);
    }
}
