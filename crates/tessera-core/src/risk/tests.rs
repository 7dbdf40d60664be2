//! The engine's tests: one per signal, then a table of whole scenarios under the default
//! policy.

use super::*;
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-20 14:00 UTC);
const SWISSCOM: u32 = 3303;
const CHINA_TELECOM: u32 = 4134;

fn place(country: &str, asn: u32, latitude: f64, longitude: f64) -> GeoPoint {
    GeoPoint {
        country: CountryCode::parse(country),
        asn: Some(asn),
        coordinates: Coordinates::new(latitude, longitude),
    }
}

fn zurich() -> GeoPoint {
    place("CH", SWISSCOM, 47.3769, 8.5417)
}

fn winterthur() -> GeoPoint {
    place("CH", SWISSCOM, 47.4988, 8.7237)
}

/// About 8,000 km (7,982) from Zurich.
fn beijing() -> GeoPoint {
    place("CN", CHINA_TELECOM, 39.9042, 116.4074)
}

/// A regular user: 40 sign-ins from Zurich between 07:00 and 19:59 UTC, the last one
/// yesterday at 14:00.
fn usual_history() -> SignInHistory {
    let mut hour_counts = [0; 24];
    for hour in (7..20).cycle().take(40) {
        hour_counts[hour] += 1;
    }
    SignInHistory {
        known_countries: vec![CountryCode::parse("CH").unwrap()],
        known_asns: vec![SWISSCOM],
        last: Some(PreviousSignIn {
            at: NOW - Duration::days(1),
            geo: Some(zurich()),
        }),
        hour_counts,
    }
}

/// A clean attempt by the regular user from Zurich at 14:00 on a known device.
fn usual() -> RiskSignals {
    RiskSignals {
        geo: GeoAvailability::Located(zurich()),
        history: usual_history(),
        ..RiskSignals::new(NOW)
    }
}

fn codes(assessment: &RiskAssessment) -> Vec<&'static str> {
    assessment.reasons.iter().map(RiskReason::code).collect()
}

fn run(signals: &RiskSignals) -> RiskAssessment {
    assess(signals, &RiskPolicy::default())
}

#[test]
fn a_usual_sign_in_scores_nothing() {
    let assessment = run(&usual());
    assert_eq!(assessment.score, 0);
    assert!(assessment.reasons.is_empty(), "{:?}", assessment.reasons);
    assert_eq!(assessment.decision, RiskDecision::Allow);
}

#[test]
fn new_device() {
    let signals = RiskSignals {
        device_known: false,
        ..usual()
    };
    let assessment = run(&signals);
    assert_eq!(assessment.reasons, [RiskReason::NewDevice { points: 10 }]);
    assert_eq!(assessment.score, 10);
}

#[test]
fn new_country_and_new_asn_need_a_baseline() {
    let signals = RiskSignals {
        geo: GeoAvailability::Located(place("DE", 3320, 47.3769, 8.5417)),
        ..usual()
    };
    assert_eq!(
        run(&signals).reasons,
        [
            RiskReason::NewCountry {
                points: 25,
                country: CountryCode::parse("DE").unwrap()
            },
            RiskReason::NewAsn {
                points: 10,
                asn: 3320
            }
        ]
    );
    // Sign-ins recorded while GeoIP was off give no baseline: nothing is new.
    let mut history = usual_history();
    history.known_countries.clear();
    history.known_asns.clear();
    let without_baseline = RiskSignals { history, ..signals };
    assert!(run(&without_baseline).reasons.is_empty());
    // Another network in a known country is only a new ASN.
    let other_network = RiskSignals {
        geo: GeoAvailability::Located(place("CH", 6830, 47.3769, 8.5417)),
        ..usual()
    };
    assert_eq!(codes(&run(&other_network)), ["new_asn"]);
}

#[test]
fn impossible_travel() {
    let half_an_hour_later = RiskSignals {
        geo: GeoAvailability::Located(beijing()),
        history: SignInHistory {
            last: Some(PreviousSignIn {
                at: NOW - Duration::minutes(30),
                geo: Some(zurich()),
            }),
            ..usual_history()
        },
        ..usual()
    };
    let assessment = run(&half_an_hour_later);
    let travel = assessment
        .reasons
        .iter()
        .find(|r| r.code() == "impossible_travel")
        .copied();
    let Some(RiskReason::ImpossibleTravel {
        points,
        distance_km,
        elapsed_minutes,
        speed_kmh,
    }) = travel
    else {
        panic!("no impossible travel in {:?}", assessment.reasons);
    };
    assert_eq!(points, 50);
    assert!((7_800..8_000).contains(&distance_km), "{distance_km}");
    assert_eq!(elapsed_minutes, 30);
    assert!(speed_kmh.abs_diff(distance_km * 2) <= 1, "{speed_kmh}");

    // Twelve hours is a flight, not impossible.
    let mut flight = half_an_hour_later.clone();
    if let Some(last) = &mut flight.history.last {
        last.at = NOW - Duration::hours(12);
    }
    assert!(!codes(&run(&flight)).contains(&"impossible_travel"));

    // 20 km in one minute is GeoIP's imprecision, not travel.
    let nearby = RiskSignals {
        geo: GeoAvailability::Located(winterthur()),
        history: SignInHistory {
            last: Some(PreviousSignIn {
                at: NOW - Duration::minutes(1),
                geo: Some(zurich()),
            }),
            ..usual_history()
        },
        ..usual()
    };
    assert!(run(&nearby).reasons.is_empty());

    // Same second, or a clock that stepped back: counted as one minute, no division by 0.
    let mut same_time = half_an_hour_later.clone();
    if let Some(last) = &mut same_time.history.last {
        last.at = NOW + Duration::seconds(5);
    }
    assert!(run(&same_time).reasons.iter().any(|r| matches!(
        r,
        RiskReason::ImpossibleTravel {
            elapsed_minutes: 1,
            ..
        }
    )));

    // Without coordinates for either sign-in there is nothing to measure.
    let mut unplaced = half_an_hour_later;
    if let Some(last) = &mut unplaced.history.last {
        last.geo = None;
    }
    assert!(!codes(&run(&unplaced)).contains(&"impossible_travel"));
}

#[test]
fn account_failure_velocity() {
    for (failures, points) in [(4, None), (5, Some(30)), (20, Some(45)), (500, Some(45))] {
        let signals = RiskSignals {
            account_failures: failures,
            ..usual()
        };
        let found = run(&signals).reasons.first().copied();
        assert_eq!(
            found,
            points.map(|points| RiskReason::AccountFailureVelocity { points, failures }),
            "{failures}"
        );
    }
}

#[test]
fn ip_failure_velocity() {
    for (failures, points) in [(9, None), (10, Some(30)), (40, Some(45))] {
        let signals = RiskSignals {
            ip_failures: failures,
            ..usual()
        };
        let found = run(&signals).reasons.first().copied();
        assert_eq!(
            found,
            points.map(|points| RiskReason::IpFailureVelocity { points, failures }),
            "{failures}"
        );
    }
}

#[test]
fn deny_listed_address_blocks_alone() {
    let signals = RiskSignals {
        ip_deny_listed: true,
        ..usual()
    };
    let assessment = run(&signals);
    assert_eq!(
        assessment.reasons,
        [RiskReason::IpDenyListed { points: 100 }]
    );
    assert_eq!(assessment.decision, RiskDecision::Block);
}

#[test]
fn tor_exit() {
    let signals = RiskSignals {
        tor_exit: true,
        ..usual()
    };
    let assessment = run(&signals);
    assert_eq!(assessment.reasons, [RiskReason::TorExit { points: 35 }]);
    assert_eq!(assessment.decision, RiskDecision::RequireCaptcha);
}

#[test]
fn breached_password() {
    let signals = RiskSignals {
        password_breached: true,
        ..usual()
    };
    let assessment = run(&signals);
    assert_eq!(
        assessment.reasons,
        [RiskReason::BreachedPassword { points: 50 }]
    );
    assert_eq!(assessment.decision, RiskDecision::RequireMfa);
}

#[test]
fn unusual_hour() {
    let at_three = RiskSignals {
        at: datetime!(2026-11-20 03:17 UTC),
        ..usual()
    };
    assert_eq!(
        run(&at_three).reasons,
        [RiskReason::UnusualHour {
            points: 10,
            hour: 3,
            sign_ins_nearby: 0,
            sign_ins_total: 40
        }]
    );
    // The hour is taken in UTC, whatever offset the time carries.
    let same_instant = RiskSignals {
        at: datetime!(2026-11-20 04:17 +01:00),
        ..usual()
    };
    assert_eq!(run(&same_instant).reasons, run(&at_three).reasons);
    // 06:00 borders 07:00, when the user does sign in.
    let at_six = RiskSignals {
        at: datetime!(2026-11-20 06:30 UTC),
        ..usual()
    };
    assert!(run(&at_six).reasons.is_empty());
    // Midnight wraps to 23:00 and 01:00.
    let mut night_owl = usual();
    night_owl.history.hour_counts[23] = 5;
    night_owl.at = datetime!(2026-11-20 00:10 UTC);
    assert!(run(&night_owl).reasons.is_empty());
    // Nine sign-ins say nothing about habits.
    let mut new_user = at_three;
    new_user.history.hour_counts = [0; 24];
    new_user.history.hour_counts[12] = 9;
    assert!(run(&new_user).reasons.is_empty());
}

#[test]
fn geoip_off_is_recorded_and_skips_the_geographic_signals() {
    let off = RiskSignals {
        geo: GeoAvailability::Off,
        ..usual()
    };
    let assessment = run(&off);
    assert_eq!(assessment.reasons, [RiskReason::GeoipOff { points: 0 }]);
    assert_eq!(assessment.score, 0);
    let unknown = RiskSignals {
        geo: GeoAvailability::Unknown,
        ..usual()
    };
    assert_eq!(codes(&run(&unknown)), ["location_unknown"]);
    let empty = RiskSignals {
        geo: GeoAvailability::Located(GeoPoint::default()),
        ..usual()
    };
    assert_eq!(codes(&run(&empty)), ["location_unknown"]);
}

#[test]
fn the_score_is_capped_and_zero_weights_turn_signals_off() {
    let everything = RiskSignals {
        device_known: false,
        geo: GeoAvailability::Located(beijing()),
        account_failures: 50,
        ip_failures: 50,
        ip_deny_listed: true,
        tor_exit: true,
        password_breached: true,
        at: datetime!(2026-11-20 02:00 UTC),
        history: SignInHistory {
            last: Some(PreviousSignIn {
                at: datetime!(2026-11-20 01:00 UTC),
                geo: Some(zurich()),
            }),
            ..usual_history()
        },
    };
    let assessment = run(&everything);
    assert_eq!(assessment.score, 100);
    assert_eq!(
        codes(&assessment),
        [
            "new_device",
            "new_country",
            "new_asn",
            "impossible_travel",
            "account_failure_velocity",
            "ip_failure_velocity",
            "ip_deny_listed",
            "tor_exit",
            "breached_password",
            "unusual_hour",
        ]
    );
    let silent = RiskPolicy {
        weights: RiskWeights {
            new_device: 0,
            new_country: 0,
            new_asn: 0,
            impossible_travel: 0,
            ip_deny_listed: 0,
            tor_exit: 0,
            breached_password: 0,
            unusual_hour: 0,
        },
        account_failures: FailureVelocity {
            from: 5,
            points: 0,
            max_points: 0,
        },
        ip_failures: FailureVelocity {
            from: 5,
            points: 0,
            max_points: 0,
        },
        ..RiskPolicy::default()
    };
    let quiet = assess(&everything, &silent);
    assert_eq!((quiet.score, quiet.reasons.len()), (0, 0));
}

#[test]
fn the_assessment_serialises_to_stable_codes() {
    let signals = RiskSignals {
        device_known: false,
        geo: GeoAvailability::Located(beijing()),
        history: SignInHistory {
            last: Some(PreviousSignIn {
                at: NOW - Duration::minutes(30),
                geo: Some(zurich()),
            }),
            ..usual_history()
        },
        ..usual()
    };
    let assessment = run(&signals);
    let value = serde_json::to_value(&assessment).unwrap();
    assert_eq!(
        value,
        json!({
            "score": 95,
            "decision": "require_mfa",
            "reasons": [
                {"code": "new_device", "points": 10},
                {"code": "new_country", "points": 25, "country": "CN"},
                {"code": "new_asn", "points": 10, "asn": 4134},
                {"code": "impossible_travel", "points": 50, "distance_km": 7982,
                 "elapsed_minutes": 30, "speed_kmh": 15963},
            ]
        })
    );
    let back: RiskAssessment = serde_json::from_value(value).unwrap();
    assert_eq!(back, assessment);
    let off = serde_json::to_string(&RiskReason::GeoipOff { points: 0 }).unwrap();
    assert_eq!(off, r#"{"code":"geoip_off","points":0}"#);
    for decision in [
        RiskDecision::Allow,
        RiskDecision::RequireCaptcha,
        RiskDecision::RequireMfa,
        RiskDecision::Block,
    ] {
        let json = serde_json::to_value(decision).unwrap();
        assert_eq!(json, json!(decision.as_str()));
    }
}

/// Whole sign-ins under the default policy, and the decisions each may get.
#[test]
fn scenarios() {
    use RiskDecision::{Allow, Block, RequireCaptcha, RequireMfa};
    let after_zurich = |minutes: i64| SignInHistory {
        last: Some(PreviousSignIn {
            at: NOW - Duration::minutes(minutes),
            geo: Some(zurich()),
        }),
        ..usual_history()
    };
    let table: Vec<(&str, RiskSignals, &[RiskDecision])> = vec![
        ("known device, known country, usual hour", usual(), &[Allow]),
        (
            "new country 30 minutes after a sign-in 8,000 km away, known device",
            RiskSignals {
                geo: GeoAvailability::Located(beijing()),
                history: after_zurich(30),
                ..usual()
            },
            &[RequireMfa, Block],
        ),
        (
            "new country 30 minutes after a sign-in 8,000 km away, new device",
            RiskSignals {
                device_known: false,
                geo: GeoAvailability::Located(beijing()),
                history: after_zurich(30),
                ..usual()
            },
            &[RequireMfa, Block],
        ),
        (
            "the same journey over a day, on the same device",
            RiskSignals {
                geo: GeoAvailability::Located(beijing()),
                history: after_zurich(24 * 60),
                ..usual()
            },
            &[RequireCaptcha],
        ),
        (
            "Tor exit",
            RiskSignals {
                tor_exit: true,
                ..usual()
            },
            &[RequireCaptcha, RequireMfa, Block],
        ),
        (
            "Tor exit, new device, unusual hour",
            RiskSignals {
                tor_exit: true,
                device_known: false,
                at: datetime!(2026-11-20 03:00 UTC),
                ..usual()
            },
            &[RequireMfa],
        ),
        (
            "breached password alone",
            RiskSignals {
                password_breached: true,
                ..usual()
            },
            &[RequireMfa],
        ),
        (
            "20 failures on the account",
            RiskSignals {
                account_failures: 20,
                ..usual()
            },
            &[RequireCaptcha, Block],
        ),
        (
            "credential stuffing: 40 failures from the address, new device",
            RiskSignals {
                ip_failures: 40,
                device_known: false,
                ..usual()
            },
            &[RequireMfa],
        ),
        (
            "first-ever sign-in on a new device",
            RiskSignals {
                device_known: false,
                geo: GeoAvailability::Located(beijing()),
                ..RiskSignals::new(datetime!(2026-11-20 03:00 UTC))
            },
            &[Allow, RequireMfa],
        ),
        (
            "first-ever sign-in, GeoIP off",
            RiskSignals {
                device_known: false,
                ..RiskSignals::new(NOW)
            },
            &[Allow, RequireMfa],
        ),
        (
            "deny-listed address",
            RiskSignals {
                ip_deny_listed: true,
                ..usual()
            },
            &[Block],
        ),
    ];
    let mut failures = Vec::new();
    for (name, signals, allowed) in &table {
        let assessment = run(signals);
        if !allowed.contains(&assessment.decision) {
            failures.push(format!(
                "{name}: {:?} with {} points ({:?}), expected one of {allowed:?}",
                assessment.decision,
                assessment.score,
                codes(&assessment)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_first_sign_in_is_never_blocked_for_lack_of_history() {
    let first = RiskSignals {
        device_known: false,
        geo: GeoAvailability::Located(beijing()),
        ..RiskSignals::new(datetime!(2026-11-20 03:00 UTC))
    };
    let assessment = run(&first);
    assert_eq!(codes(&assessment), ["new_device"]);
    assert_ne!(assessment.decision, RiskDecision::Block);
}
