//! The risk function: signals and a policy in, a score with its reasons and a decision
//! out. Pure and synchronous, so that it runs on every sign-in attempt in well under a
//! microsecond and a test checks it without a clock, a database or a network.

use super::policy::RiskPolicy;
use super::signals::{CountryCode, GeoAvailability, GeoPoint, RiskSignals, SignInHistory};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What the sign-in must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskDecision {
    Allow,
    RequireCaptcha,
    RequireMfa,
    Block,
}

impl RiskDecision {
    /// The stable code, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::RequireCaptcha => "require_captcha",
            Self::RequireMfa => "require_mfa",
            Self::Block => "block",
        }
    }
}

/// One reason that added to the score, with the points it added and what an admin needs to
/// understand it. Serialised with a stable snake_case `code` beside its fields, e.g.
/// `{"code":"impossible_travel","points":50,"distance_km":8000,"elapsed_minutes":30,"speed_kmh":16000}`,
/// so that it can be stored in a sign-in event and shown as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RiskReason {
    /// No valid device cookie for this user.
    NewDevice { points: u8 },
    /// A country the user never signed in from.
    NewCountry { points: u8, country: CountryCode },
    /// A network operator the user never signed in from.
    NewAsn { points: u8, asn: u32 },
    /// Too far from the last successful sign-in for the time since.
    ImpossibleTravel {
        points: u8,
        distance_km: u32,
        elapsed_minutes: u32,
        speed_kmh: u32,
    },
    /// Many failed sign-ins on this account lately.
    AccountFailureVelocity { points: u8, failures: u32 },
    /// Many failed sign-ins from this address lately.
    IpFailureVelocity { points: u8, failures: u32 },
    /// The address is on the tenant's deny list.
    IpDenyListed { points: u8 },
    /// The address is a Tor exit.
    TorExit { points: u8 },
    /// The password is on the breached or common password list.
    BreachedPassword { points: u8 },
    /// The user (almost) never signs in at this hour (UTC).
    UnusualHour {
        points: u8,
        hour: u8,
        /// Past sign-ins in this hour and the hours either side.
        sign_ins_nearby: u32,
        sign_ins_total: u32,
    },
    /// No GeoIP database is configured: country, network and travel were not checked.
    GeoipOff { points: u8 },
    /// GeoIP does not know the address: country, network and travel were not checked.
    LocationUnknown { points: u8 },
}

impl RiskReason {
    /// The points this reason added.
    pub fn points(&self) -> u8 {
        match *self {
            Self::NewDevice { points }
            | Self::NewCountry { points, .. }
            | Self::NewAsn { points, .. }
            | Self::ImpossibleTravel { points, .. }
            | Self::AccountFailureVelocity { points, .. }
            | Self::IpFailureVelocity { points, .. }
            | Self::IpDenyListed { points }
            | Self::TorExit { points }
            | Self::BreachedPassword { points }
            | Self::UnusualHour { points, .. }
            | Self::GeoipOff { points }
            | Self::LocationUnknown { points } => points,
        }
    }

    /// The stable code, as in JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NewDevice { .. } => "new_device",
            Self::NewCountry { .. } => "new_country",
            Self::NewAsn { .. } => "new_asn",
            Self::ImpossibleTravel { .. } => "impossible_travel",
            Self::AccountFailureVelocity { .. } => "account_failure_velocity",
            Self::IpFailureVelocity { .. } => "ip_failure_velocity",
            Self::IpDenyListed { .. } => "ip_deny_listed",
            Self::TorExit { .. } => "tor_exit",
            Self::BreachedPassword { .. } => "breached_password",
            Self::UnusualHour { .. } => "unusual_hour",
            Self::GeoipOff { .. } => "geoip_off",
            Self::LocationUnknown { .. } => "location_unknown",
        }
    }
}

/// The engine's answer for one attempt; stored on the sign-in event as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// The reasons' points added up, at most 100.
    pub score: u8,
    /// Every signal that fired, in a fixed order; informational ones carry 0 points.
    pub reasons: Vec<RiskReason>,
    pub decision: RiskDecision,
}

/// Weighs the signals of one sign-in attempt under a tenant's policy.
///
/// A first sign-in (empty history) is never scored for a new country, network or hour:
/// there is nothing to compare with. A new device still counts.
pub fn assess(signals: &RiskSignals, policy: &RiskPolicy) -> RiskAssessment {
    let weights = &policy.weights;
    let mut reasons = Vec::new();
    let mut push = |reason: RiskReason| reasons.push(reason);

    if !signals.device_known && weights.new_device > 0 {
        push(RiskReason::NewDevice {
            points: weights.new_device,
        });
    }
    geographic(signals, policy, &mut push);
    let failures = [
        (signals.account_failures, policy.account_failures, true),
        (signals.ip_failures, policy.ip_failures, false),
    ];
    for (count, velocity, account) in failures {
        let points = velocity.points_for(count);
        if points > 0 {
            push(if account {
                RiskReason::AccountFailureVelocity {
                    points,
                    failures: count,
                }
            } else {
                RiskReason::IpFailureVelocity {
                    points,
                    failures: count,
                }
            });
        }
    }
    if signals.ip_deny_listed && weights.ip_deny_listed > 0 {
        push(RiskReason::IpDenyListed {
            points: weights.ip_deny_listed,
        });
    }
    if signals.tor_exit && weights.tor_exit > 0 {
        push(RiskReason::TorExit {
            points: weights.tor_exit,
        });
    }
    if signals.password_breached && weights.breached_password > 0 {
        push(RiskReason::BreachedPassword {
            points: weights.breached_password,
        });
    }
    if let Some(reason) = unusual_hour(&signals.history, signals.at, policy) {
        push(reason);
    }

    let total: u32 = reasons.iter().map(|r| u32::from(r.points())).sum();
    let score = u8::try_from(total.min(100)).unwrap_or(100);
    RiskAssessment {
        score,
        decision: policy.decide(score),
        reasons,
    }
}

/// New country, new network and impossible travel; or why they were not checked.
fn geographic(signals: &RiskSignals, policy: &RiskPolicy, push: &mut impl FnMut(RiskReason)) {
    let point = match &signals.geo {
        GeoAvailability::Off => return push(RiskReason::GeoipOff { points: 0 }),
        GeoAvailability::Unknown => return push(RiskReason::LocationUnknown { points: 0 }),
        GeoAvailability::Located(point) if point.is_empty() => {
            return push(RiskReason::LocationUnknown { points: 0 });
        }
        GeoAvailability::Located(point) => point,
    };
    let history = &signals.history;
    let weights = &policy.weights;
    if let Some(country) = point.country
        && weights.new_country > 0
        && !history.known_countries.is_empty()
        && !history.known_countries.contains(&country)
    {
        push(RiskReason::NewCountry {
            points: weights.new_country,
            country,
        });
    }
    if let Some(asn) = point.asn
        && weights.new_asn > 0
        && !history.known_asns.is_empty()
        && !history.known_asns.contains(&asn)
    {
        push(RiskReason::NewAsn {
            points: weights.new_asn,
            asn,
        });
    }
    if let Some(reason) = impossible_travel(point, history, signals.at, policy) {
        push(reason);
    }
}

fn impossible_travel(
    point: &GeoPoint,
    history: &SignInHistory,
    at: OffsetDateTime,
    policy: &RiskPolicy,
) -> Option<RiskReason> {
    let points = policy.weights.impossible_travel;
    let last = history.last?;
    let here = point.coordinates?;
    let there = last.geo?.coordinates?;
    let distance_km = here.distance_km(&there);
    if points == 0 || distance_km < f64::from(policy.travel.min_distance_km) {
        return None;
    }
    // At least one minute: a clock step or two sign-ins in the same second must not
    // divide by zero, and a minute is finer than anything GeoIP can tell apart.
    let elapsed_seconds = (at - last.at).whole_seconds().max(60);
    #[allow(clippy::cast_precision_loss)] // seconds fit an f64 exactly up to 2^53
    let speed_kmh = distance_km * 3600.0 / elapsed_seconds as f64;
    if speed_kmh <= f64::from(policy.travel.max_speed_kmh) {
        return None;
    }
    Some(RiskReason::ImpossibleTravel {
        points,
        distance_km: to_u32(distance_km),
        elapsed_minutes: u32::try_from(elapsed_seconds / 60).unwrap_or(u32::MAX),
        speed_kmh: to_u32(speed_kmh),
    })
}

/// Rounds a non-negative finite figure for display; saturates at `u32::MAX`.
fn to_u32(value: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped first
    let rounded = value.round().clamp(0.0, f64::from(u32::MAX)) as u32;
    rounded
}

fn unusual_hour(
    history: &SignInHistory,
    at: OffsetDateTime,
    policy: &RiskPolicy,
) -> Option<RiskReason> {
    let points = policy.weights.unusual_hour;
    let rule = policy.unusual_hour;
    let total = history.total_sign_ins();
    if points == 0 || total < u64::from(rule.min_sign_ins) {
        return None;
    }
    let hour = usize::from(at.to_offset(time::UtcOffset::UTC).hour());
    let nearby: u64 = [23, 0, 1]
        .iter()
        .map(|offset| u64::from(history.hour_counts[(hour + offset) % 24]))
        .sum();
    // nearby / total < max_percent / 100, in integers.
    if nearby * 100 >= total * u64::from(rule.max_percent) {
        return None;
    }
    Some(RiskReason::UnusualHour {
        points,
        hour: u8::try_from(hour).unwrap_or(0),
        sign_ins_nearby: u32::try_from(nearby).unwrap_or(u32::MAX),
        sign_ins_total: u32::try_from(total).unwrap_or(u32::MAX),
    })
}
