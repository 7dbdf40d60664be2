//! A tenant's risk policy: how many points each signal is worth, the thresholds that turn a
//! score into a decision, and the few parameters of the signals themselves.
//!
//! The defaults order the answers by how much they ask of a person: a captcha (stops
//! scripts, costs a human seconds) from 30 points, a second factor (stops a stolen
//! password) from 50, a refusal only from 100. A captcha sits *below* MFA because MFA is the
//! stronger proof: a script that cannot solve a captcha cannot pass MFA either, while a
//! person holding a stolen password passes any captcha. Tenants may order the thresholds
//! otherwise; the decision is always the one whose threshold is the highest reached.

use super::RiskDecision;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// Points per signal (each 0 to 100; 0 turns the signal off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskWeights {
    /// No valid device cookie: the browser was never used by this user (or cleared it).
    pub new_device: u8,
    /// A country the user never signed in from.
    pub new_country: u8,
    /// A network operator (autonomous system) the user never signed in from.
    pub new_asn: u8,
    /// Faster than `travel.max_speed_kmh` from the last successful sign-in.
    pub impossible_travel: u8,
    /// The address is on the tenant's deny list: by default enough to block alone.
    pub ip_deny_listed: u8,
    pub tor_exit: u8,
    /// The password is on the breached or common list: by default enough for MFA alone.
    pub breached_password: u8,
    /// An hour of the day at which the user (almost) never signs in.
    pub unusual_hour: u8,
}

impl Default for RiskWeights {
    fn default() -> Self {
        Self {
            new_device: 10,
            new_country: 25,
            new_asn: 10,
            impossible_travel: 50,
            ip_deny_listed: 100,
            tor_exit: 35,
            breached_password: 50,
            unusual_hour: 10,
        }
    }
}

/// When a distance between two sign-ins counts as impossible travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TravelRule {
    /// Faster than this is impossible (an airliner cruises at about 900 km/h).
    pub max_speed_kmh: u32,
    /// Shorter distances are ignored: GeoIP places networks tens of kilometres off.
    pub min_distance_km: u32,
}

impl Default for TravelRule {
    fn default() -> Self {
        Self {
            max_speed_kmh: 1000,
            min_distance_km: 100,
        }
    }
}

/// When an hour of the day is unusual for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnusualHourRule {
    /// Fewer past sign-ins than this say nothing about habits: the signal stays quiet.
    pub min_sign_ins: u32,
    /// The hour (with the hours either side) is unusual when it holds under this share of
    /// the user's sign-ins, in percent.
    pub max_percent: u8,
}

impl Default for UnusualHourRule {
    fn default() -> Self {
        Self {
            min_sign_ins: 10,
            max_percent: 2,
        }
    }
}

/// Points for failed sign-ins within the failure window: none below `from`, `points` at
/// `from`, rising linearly to `max_points` at four times `from` and staying there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureVelocity {
    pub from: u32,
    pub points: u8,
    pub max_points: u8,
}

impl FailureVelocity {
    /// The points for `failures`.
    pub fn points_for(&self, failures: u32) -> u8 {
        if self.from == 0 || failures < self.from {
            return 0;
        }
        let span = u64::from(self.from) * 3;
        let extra = u64::from(failures - self.from).min(span);
        let rise = u64::from(self.max_points.saturating_sub(self.points));
        let points = u64::from(self.points) + rise * extra / span;
        u8::try_from(points).unwrap_or(u8::MAX)
    }

    fn check(&self, field: &str, errors: &mut Vec<FieldError>) {
        if !(1..=100_000).contains(&self.from) {
            errors.push(FieldError::new(&format!("{field}.from"), "1 to 100000"));
        }
        if self.points > self.max_points || self.max_points > 100 {
            errors.push(FieldError::new(
                &format!("{field}.max_points"),
                "at least points, at most 100",
            ));
        }
    }
}

/// A tenant's risk policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskPolicy {
    /// Whether sign-in attempts are assessed at all (on by default). Off, every attempt is
    /// allowed as far as risk goes, and successful sign-ins are still remembered, so that
    /// turning it on again starts from a history.
    pub enabled: bool,
    pub weights: RiskWeights,
    /// Score from which a captcha is asked; `null` never asks for one.
    pub captcha_at: Option<u8>,
    /// Score from which a second factor is asked; `null` never asks for one.
    pub mfa_at: Option<u8>,
    /// Score from which the attempt is refused; `null` never refuses.
    pub block_at: Option<u8>,
    pub travel: TravelRule,
    pub unusual_hour: UnusualHourRule,
    /// Failed sign-ins on one account.
    pub account_failures: FailureVelocity,
    /// Failed sign-ins from one IP address, any account.
    pub ip_failures: FailureVelocity,
    /// The window in which the caller counts failures, in minutes.
    pub failure_window_minutes: u32,
    /// How far back the caller reads successful sign-ins for the history, in days.
    pub history_days: u32,
}

impl Default for RiskPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            weights: RiskWeights::default(),
            captcha_at: Some(30),
            mfa_at: Some(50),
            block_at: Some(100),
            travel: TravelRule::default(),
            unusual_hour: UnusualHourRule::default(),
            // 20 failures on one account earn a captcha, never a refusal on their own:
            // blocking would hand anyone who knows a username a way to lock its owner out.
            account_failures: FailureVelocity {
                from: 5,
                points: 30,
                max_points: 45,
            },
            ip_failures: FailureVelocity {
                from: 10,
                points: 30,
                max_points: 45,
            },
            failure_window_minutes: 15,
            history_days: 90,
        }
    }
}

impl RiskPolicy {
    /// The decision for a score: the one whose threshold is the highest reached, or
    /// `Allow` when none is.
    pub fn decide(&self, score: u8) -> RiskDecision {
        [
            (self.captcha_at, RiskDecision::RequireCaptcha),
            (self.mfa_at, RiskDecision::RequireMfa),
            (self.block_at, RiskDecision::Block),
        ]
        .into_iter()
        .filter_map(|(threshold, decision)| Some((threshold?, decision)))
        .filter(|(threshold, _)| score >= *threshold)
        .max_by_key(|(threshold, _)| *threshold)
        .map_or(RiskDecision::Allow, |(_, decision)| decision)
    }

    /// Whether a score asks for the bot checks of risky attempts: it reached `captcha_at`,
    /// whatever higher threshold it reached too (a score past `mfa_at` must not get by with
    /// less than one at `captcha_at`).
    pub fn asks_for_bot_checks(&self, score: u8) -> bool {
        self.captcha_at.is_some_and(|threshold| score >= threshold)
    }

    /// Every problem, each naming its field: thresholds within 1–100, distinct, and
    /// `block_at` above the others (refusing must take more than any challenge); weights
    /// at most 100; the rules' parameters within sensible bounds.
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        let thresholds = [
            ("captcha_at", self.captcha_at),
            ("mfa_at", self.mfa_at),
            ("block_at", self.block_at),
        ];
        for (field, threshold) in thresholds {
            if threshold.is_some_and(|t| !(1..=100).contains(&t)) {
                errors.push(FieldError::new(field, "1 to 100, or null for never"));
            }
        }
        if let (Some(captcha), Some(mfa)) = (self.captcha_at, self.mfa_at)
            && captcha == mfa
        {
            errors.push(FieldError::new(
                "mfa_at",
                "must differ from captcha_at: one score cannot ask for both",
            ));
        }
        if let Some(block) = self.block_at {
            for (field, threshold) in &thresholds[..2] {
                if threshold.is_some_and(|t| t >= block) {
                    errors.push(FieldError::new(
                        "block_at",
                        format!("must be above {field}: refusing takes more than a challenge"),
                    ));
                }
            }
        }
        let weights = self.weights;
        for (field, points) in [
            ("new_device", weights.new_device),
            ("new_country", weights.new_country),
            ("new_asn", weights.new_asn),
            ("impossible_travel", weights.impossible_travel),
            ("ip_deny_listed", weights.ip_deny_listed),
            ("tor_exit", weights.tor_exit),
            ("breached_password", weights.breached_password),
            ("unusual_hour", weights.unusual_hour),
        ] {
            if points > 100 {
                errors.push(FieldError::new(&format!("weights.{field}"), "0 to 100"));
            }
        }
        if !(100..=20_000).contains(&self.travel.max_speed_kmh) {
            errors.push(FieldError::new("travel.max_speed_kmh", "100 to 20000 km/h"));
        }
        if self.travel.min_distance_km > 5_000 {
            errors.push(FieldError::new("travel.min_distance_km", "0 to 5000 km"));
        }
        if !(1..=100_000).contains(&self.unusual_hour.min_sign_ins) {
            errors.push(FieldError::new("unusual_hour.min_sign_ins", "1 to 100000"));
        }
        if self.unusual_hour.max_percent > 50 {
            errors.push(FieldError::new("unusual_hour.max_percent", "0 to 50"));
        }
        self.account_failures.check("account_failures", errors);
        self.ip_failures.check("ip_failures", errors);
        if !(1..=1440).contains(&self.failure_window_minutes) {
            errors.push(FieldError::new(
                "failure_window_minutes",
                "1 to 1440 minutes",
            ));
        }
        if !(1..=730).contains(&self.history_days) {
            errors.push(FieldError::new("history_days", "1 to 730 days"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(policy: &RiskPolicy) -> Vec<String> {
        let mut errors = Vec::new();
        policy.check(&mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn bot_checks_are_asked_from_captcha_at_up_whatever_else_the_score_reaches() {
        let policy = RiskPolicy::default();
        assert!(!policy.asks_for_bot_checks(29));
        assert!(policy.asks_for_bot_checks(30));
        assert_eq!(policy.decide(60), RiskDecision::RequireMfa);
        assert!(policy.asks_for_bot_checks(60), "past mfa_at, still checked");
        let never = RiskPolicy {
            captcha_at: None,
            ..RiskPolicy::default()
        };
        assert!(!never.asks_for_bot_checks(100));
    }

    #[test]
    fn the_defaults_are_valid_and_missing_fields_take_them() {
        assert_eq!(problems(&RiskPolicy::default()), Vec::<String>::new());
        let partial: RiskPolicy =
            serde_json::from_value(json!({"mfa_at": 40, "weights": {"tor_exit": 60}})).unwrap();
        assert_eq!(partial.mfa_at, Some(40));
        assert_eq!(partial.weights.tor_exit, 60);
        assert_eq!(partial.weights.new_country, 25);
        assert_eq!(partial.block_at, Some(100));
        let off: RiskPolicy = serde_json::from_value(json!({"captcha_at": null})).unwrap();
        assert_eq!(off.captcha_at, None);
        assert!(serde_json::from_value::<RiskPolicy>(json!({"mfa_threshold": 40})).is_err());
        assert!(serde_json::from_value::<RiskPolicy>(json!({"weights": {"tor": 40}})).is_err());
    }

    #[test]
    fn the_highest_threshold_reached_decides() {
        let policy = RiskPolicy::default();
        for (score, decision) in [
            (0, RiskDecision::Allow),
            (29, RiskDecision::Allow),
            (30, RiskDecision::RequireCaptcha),
            (49, RiskDecision::RequireCaptcha),
            (50, RiskDecision::RequireMfa),
            (99, RiskDecision::RequireMfa),
            (100, RiskDecision::Block),
        ] {
            assert_eq!(policy.decide(score), decision, "{score}");
        }
        // The other order: MFA first, then a captcha, as some tenants prefer.
        let reordered = RiskPolicy {
            mfa_at: Some(30),
            captcha_at: Some(60),
            block_at: None,
            ..RiskPolicy::default()
        };
        assert!(problems(&reordered).is_empty());
        assert_eq!(reordered.decide(45), RiskDecision::RequireMfa);
        assert_eq!(reordered.decide(100), RiskDecision::RequireCaptcha);
        let never = RiskPolicy {
            captcha_at: None,
            mfa_at: None,
            block_at: None,
            ..RiskPolicy::default()
        };
        assert_eq!(never.decide(100), RiskDecision::Allow);
    }

    #[test]
    fn failure_points_rise_linearly_to_their_maximum() {
        let velocity = RiskPolicy::default().account_failures;
        let points: Vec<u8> = [0, 4, 5, 10, 15, 20, 1000, u32::MAX]
            .into_iter()
            .map(|failures| velocity.points_for(failures))
            .collect();
        assert_eq!(points, [0, 0, 30, 35, 40, 45, 45, 45]);
    }

    #[test]
    fn check_names_every_bad_field() {
        let bad = RiskPolicy {
            captcha_at: Some(0),
            mfa_at: Some(101),
            block_at: Some(50),
            weights: RiskWeights {
                tor_exit: 101,
                ..RiskWeights::default()
            },
            travel: TravelRule {
                max_speed_kmh: 50,
                min_distance_km: 6_000,
            },
            unusual_hour: UnusualHourRule {
                min_sign_ins: 0,
                max_percent: 51,
            },
            account_failures: FailureVelocity {
                from: 0,
                points: 50,
                max_points: 40,
            },
            failure_window_minutes: 0,
            history_days: 0,
            ..RiskPolicy::default()
        };
        insta::assert_snapshot!(problems(&bad).join("\n"), @r"
        captcha_at: 1 to 100, or null for never
        mfa_at: 1 to 100, or null for never
        block_at: must be above mfa_at: refusing takes more than a challenge
        weights.tor_exit: 0 to 100
        travel.max_speed_kmh: 100 to 20000 km/h
        travel.min_distance_km: 0 to 5000 km
        unusual_hour.min_sign_ins: 1 to 100000
        unusual_hour.max_percent: 0 to 50
        account_failures.from: 1 to 100000
        account_failures.max_points: at least points, at most 100
        failure_window_minutes: 1 to 1440 minutes
        history_days: 1 to 730 days
        ");
        let same = RiskPolicy {
            captcha_at: Some(40),
            mfa_at: Some(40),
            block_at: Some(40),
            ..RiskPolicy::default()
        };
        insta::assert_snapshot!(problems(&same).join("\n"), @r"
        mfa_at: must differ from captcha_at: one score cannot ask for both
        block_at: must be above captcha_at: refusing takes more than a challenge
        block_at: must be above mfa_at: refusing takes more than a challenge
        ");
    }
}
