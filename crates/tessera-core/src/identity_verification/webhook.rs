//! The provider's webhook: its signature and its body.
//!
//! The provider signs each webhook with the tenant's webhook secret and sends
//! `Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
//! Several `v1` values may be sent while a secret is rotated; one must match. The signature
//! is checked in constant time before anything in the body is read, and the timestamp must
//! be within [`TOLERANCE`] of the clock, so an old webhook cannot be replayed later (the
//! single transition of a session refuses a replay within that window).
//!
//! The body follows OpenID Connect for Identity Assurance 1.0:
//! `{"reference", "status": "verified"|"rejected"|"expired", "level",
//!   "verified_claims": {"verification": {"trust_framework", "time", "evidence": […]},
//!                       "claims": {…}}}`.

use super::AssuranceLevel;
use crate::ids::IdentitySessionId;
use aws_lc_rs::hmac;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "tessera-signature";
/// How far a signature's timestamp may be from the clock, either way.
pub const TOLERANCE: Duration = Duration::minutes(5);
/// The largest webhook body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest signature header read.
const MAX_HEADER_CHARS: usize = 1024;
/// Most `v1` signatures in one header.
const MAX_SIGNATURES: usize = 5;
/// Most claims and evidence items kept.
const MAX_CLAIMS: usize = 50;
const MAX_EVIDENCE: usize = 20;

/// Claims that `verified_claims.claims` may carry (OpenID Connect Core §5.1 and the
/// OpenID Connect for Identity Assurance claims); others are dropped, so Tessera keeps and
/// releases only what discovery announces.
pub const SUPPORTED_CLAIMS: &[&str] = &[
    "given_name",
    "family_name",
    "middle_name",
    "name",
    "birthdate",
    "place_of_birth",
    "nationalities",
    "birth_family_name",
    "birth_given_name",
    "birth_middle_name",
    "salutation",
    "title",
    "also_known_as",
    "gender",
    "address",
    "email",
    "phone_number",
];
/// Evidence types of OpenID Connect for Identity Assurance 1.0.
pub const EVIDENCE_TYPES: &[&str] = &[
    "document",
    "electronic_record",
    "vouch",
    "electronic_signature",
];

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Tessera-Signature` header.
    #[error("the Tessera-Signature header is missing")]
    Missing,
    /// The header is not `t=<unix seconds>,v1=<64 hex digits>`.
    #[error("the Tessera-Signature header is not t=<unix seconds>,v1=<hex HMAC-SHA256>")]
    Malformed,
    /// No signature matches the body.
    #[error("the signature does not match the body")]
    Mismatch,
    /// The timestamp is more than five minutes away from now.
    #[error("the signature's timestamp is more than 5 minutes from the server's clock")]
    Stale,
}

struct Header<'a> {
    /// The timestamp as sent: the signed text.
    timestamp_text: &'a str,
    timestamp: i64,
    signatures: Vec<[u8; 32]>,
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (index, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        let value = digit(pair[0])? * 16 + digit(pair[1])?;
        out[index] = u8::try_from(value).ok()?;
    }
    Some(out)
}

fn parse_header(text: &str) -> Option<Header<'_>> {
    if text.len() > MAX_HEADER_CHARS {
        return None;
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in text.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "t" if timestamp.is_none() => {
                let valid =
                    (1..=12).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
                timestamp = Some((value, value.parse::<i64>().ok().filter(|_| valid)?));
            }
            "t" => return None,
            "v1" if signatures.len() < MAX_SIGNATURES => signatures.push(decode_hex(value)?),
            "v1" => return None,
            // Other schemes (a future v2) are for other verifiers.
            _ => {}
        }
    }
    let (timestamp_text, timestamp) = timestamp?;
    (!signatures.is_empty()).then_some(Header {
        timestamp_text,
        timestamp,
        signatures,
    })
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.as_bytes());
    context.update(b".");
    context.update(body);
    context.sign()
}

/// Checks `header` (the `Tessera-Signature` value) against `body` with `secret`, then its
/// timestamp against `now`. Every `v1` is compared in constant time.
pub fn verify_signature(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    let header = parse_header(header.ok_or(SignatureError::Missing)?.trim())
        .ok_or(SignatureError::Malformed)?;
    let expected = mac(secret, header.timestamp_text, body);
    let matched = header
        .signatures
        .iter()
        .fold(subtle::Choice::from(0), |found, candidate| {
            found | candidate.ct_eq(expected.as_ref())
        });
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    let offset = Duration::seconds(header.timestamp.saturating_sub(now.unix_timestamp()));
    if offset.abs() > TOLERANCE {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The header value a provider sends for `body` at `timestamp` (for documentation, tests and
/// test providers).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// A verified result, checked and cut to what Tessera keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub level: AssuranceLevel,
    pub trust_framework: String,
    /// The evidence types named, in order.
    pub evidence: Vec<String>,
    /// `verification.time`, when given.
    pub time: Option<OffsetDateTime>,
    /// `{"verification": …, "claims": …}` with only the supported claims.
    pub verified_claims: Value,
}

/// What a webhook reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Verified(Verified),
    Rejected,
    Expired,
}

/// A webhook body, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookResult {
    /// The session (`reference`).
    pub reference: IdentitySessionId,
    pub outcome: Outcome,
}

#[derive(serde::Deserialize)]
struct RawWebhook {
    reference: String,
    status: String,
    level: Option<String>,
    verified_claims: Option<Value>,
}

/// Reads a webhook body. The reason it is refused never quotes the body.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookResult, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err("the body is larger than 64 KiB".into());
    }
    let raw: RawWebhook = serde_json::from_slice(body).map_err(|error| {
        format!(
            "not a webhook body ({} at line {} column {})",
            match error.classify() {
                serde_json::error::Category::Data => "a required member is missing or mistyped",
                _ => "not valid JSON",
            },
            error.line(),
            error.column()
        )
    })?;
    let reference = raw
        .reference
        .parse::<IdentitySessionId>()
        .map_err(|_| "reference is not a session id Tessera gave".to_owned())?;
    let outcome = match raw.status.as_str() {
        "verified" => {
            let level = raw
                .level
                .as_deref()
                .and_then(AssuranceLevel::parse)
                .ok_or("a verified result needs level: low, substantial or high")?;
            let claims = raw
                .verified_claims
                .ok_or("a verified result needs verified_claims")?;
            Outcome::Verified(verified_claims(level, claims)?)
        }
        "rejected" => Outcome::Rejected,
        "expired" => Outcome::Expired,
        _ => return Err("status must be verified, rejected or expired".into()),
    };
    Ok(WebhookResult { reference, outcome })
}

fn short_text(value: Option<&Value>, max_chars: usize) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|text| (1..=max_chars).contains(&text.chars().count()))
        .filter(|text| !text.chars().any(char::is_control))
}

/// Checks a `verified_claims` object and keeps only the supported claims.
fn verified_claims(level: AssuranceLevel, value: Value) -> Result<Verified, String> {
    let Value::Object(mut object) = value else {
        return Err("verified_claims must be an object".into());
    };
    let Some(Value::Object(verification)) = object.remove("verification") else {
        return Err("verified_claims.verification must be an object".into());
    };
    let trust_framework = short_text(verification.get("trust_framework"), 64)
        .ok_or(
            "verified_claims.verification.trust_framework must be a string of 1 to 64 characters",
        )?
        .to_owned();
    let time = match verification.get("time") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_str()
                .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
                .ok_or("verified_claims.verification.time must be an RFC 3339 date-time")?,
        ),
    };
    let evidence = match verification.get("evidence") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() <= MAX_EVIDENCE => items
            .iter()
            .map(|item| short_text(item.get("type"), 64).map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or("each evidence item needs a type")?,
        Some(_) => {
            return Err(
                "verified_claims.verification.evidence must be an array of at most 20 items".into(),
            );
        }
    };
    let Some(Value::Object(claims)) = object.remove("claims") else {
        return Err("verified_claims.claims must be an object".into());
    };
    if claims.len() > MAX_CLAIMS {
        return Err("verified_claims.claims holds more than 50 claims".into());
    }
    let kept: Map<String, Value> = claims
        .into_iter()
        .filter(|(name, value)| SUPPORTED_CLAIMS.contains(&name.as_str()) && !value.is_null())
        .collect();
    if kept.is_empty() {
        return Err("verified_claims.claims holds none of the supported claims".into());
    }
    let mut released = Map::new();
    released.insert("verification".into(), Value::Object(verification));
    released.insert("claims".into(), Value::Object(kept));
    Ok(Verified {
        level,
        trust_framework,
        evidence,
        time,
        verified_claims: Value::Object(released),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);

    #[test]
    fn a_signature_made_by_sign_verifies() {
        let body = br#"{"reference":"x"}"#;
        let header = sign(SECRET, NOW.unix_timestamp(), body);
        assert!(header.starts_with(&format!("t={},v1=", NOW.unix_timestamp())));
        assert_eq!(verify_signature(SECRET, Some(&header), body, NOW), Ok(()));
        // A known answer, computed independently with Python's hmac module:
        // hmac.new(SECRET, b"1796119200." + body, "sha256").hexdigest()
        assert_eq!(
            header,
            "t=1796119200,v1=8e514f37d7d44d3f19b5b0cc0884d911fc65eed59759378cadaa8c4583721de0"
        );
    }

    #[test]
    fn a_changed_body_another_secret_or_a_bad_header_is_refused() {
        let body = br#"{"reference":"x"}"#;
        let header = sign(SECRET, NOW.unix_timestamp(), body);
        let refused = |secret: &[u8], header: Option<&str>, body: &[u8]| {
            verify_signature(secret, header, body, NOW).unwrap_err()
        };
        assert_eq!(
            refused(SECRET, Some(&header), b"{}"),
            SignatureError::Mismatch
        );
        assert_eq!(
            refused(&[7u8; 32], Some(&header), body),
            SignatureError::Mismatch
        );
        assert_eq!(refused(SECRET, None, body), SignatureError::Missing);
        for bad in [
            "",
            "t=1764583200",
            "v1=00",
            "t=abc,v1=00",
            "t=-5,v1=00",
            "t=1,t=2,v1=00",
            &format!("t={},v1={}", NOW.unix_timestamp(), "zz".repeat(32)),
            &format!("t={},v1={}", NOW.unix_timestamp(), "0".repeat(63)),
        ] {
            assert_eq!(
                refused(SECRET, Some(bad), body),
                SignatureError::Malformed,
                "{bad}"
            );
        }
    }

    #[test]
    fn one_matching_signature_of_several_is_enough_and_unknown_schemes_are_ignored() {
        let body = b"{}";
        let good = sign(SECRET, NOW.unix_timestamp(), body);
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!(
            "t={}, v1={}, v0=legacy, v1={v1}",
            NOW.unix_timestamp(),
            "0".repeat(64)
        );
        assert_eq!(verify_signature(SECRET, Some(&header), body, NOW), Ok(()));
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_are_stale() {
        let body = b"{}";
        for (offset, ok) in [(-300, true), (300, true), (-301, false), (301, false)] {
            let header = sign(SECRET, NOW.unix_timestamp() + offset, body);
            let result = verify_signature(SECRET, Some(&header), body, NOW);
            assert_eq!(result.is_ok(), ok, "{offset}");
            if !ok {
                assert_eq!(result, Err(SignatureError::Stale));
            }
        }
    }

    fn verified_body() -> Value {
        json!({
            "reference": "0193a0a0-0000-7000-8000-000000000001",
            "status": "verified",
            "level": "substantial",
            "verified_claims": {
                "verification": {
                    "trust_framework": "eidas",
                    "time": "2026-12-01T09:58:00Z",
                    "evidence": [{"type": "document", "method": "pipp"}]
                },
                "claims": {
                    "given_name": "Ada",
                    "family_name": "Lovelace",
                    "birthdate": "1815-12-10",
                    "nationalities": ["GB"],
                    "shoe_size": 38,
                    "email": null
                }
            }
        })
    }

    #[test]
    fn a_verified_result_keeps_only_supported_claims() {
        let result = parse_webhook(verified_body().to_string().as_bytes()).unwrap();
        let Outcome::Verified(verified) = result.outcome else {
            panic!("verified expected");
        };
        assert_eq!(verified.level, AssuranceLevel::Substantial);
        assert_eq!(verified.trust_framework, "eidas");
        assert_eq!(verified.evidence, ["document"]);
        assert_eq!(verified.time, Some(datetime!(2026-12-01 9:58 UTC)));
        let claims = &verified.verified_claims["claims"];
        assert_eq!(claims["given_name"], "Ada");
        assert_eq!(claims["nationalities"], json!(["GB"]));
        assert!(
            claims.get("shoe_size").is_none(),
            "unsupported claims are dropped"
        );
        assert!(claims.get("email").is_none(), "null claims are dropped");
        assert_eq!(
            verified.verified_claims["verification"]["evidence"][0]["method"],
            "pipp"
        );
    }

    #[test]
    fn rejected_and_expired_need_no_claims() {
        for status in ["rejected", "expired"] {
            let body =
                json!({"reference": "0193a0a0-0000-7000-8000-000000000001", "status": status});
            let result = parse_webhook(body.to_string().as_bytes()).unwrap();
            assert!(matches!(
                result.outcome,
                Outcome::Rejected | Outcome::Expired
            ));
        }
    }

    #[test]
    fn malformed_bodies_are_refused_without_quoting_them() {
        let mutate = |change: &dyn Fn(&mut Value)| {
            let mut body = verified_body();
            change(&mut body);
            parse_webhook(body.to_string().as_bytes()).unwrap_err()
        };
        let cases: Vec<String> = vec![
            parse_webhook(b"{not json").unwrap_err(),
            parse_webhook(b"[]").unwrap_err(),
            mutate(&|b| b["reference"] = json!("secret-canary")),
            mutate(&|b| b["status"] = json!("maybe")),
            mutate(&|b| b["level"] = json!("ultra")),
            mutate(&|b| b["verified_claims"] = json!(null)),
            mutate(&|b| b["verified_claims"]["verification"] = json!("eidas")),
            mutate(&|b| b["verified_claims"]["verification"]["trust_framework"] = json!("")),
            mutate(&|b| b["verified_claims"]["verification"]["time"] = json!("yesterday")),
            mutate(&|b| b["verified_claims"]["verification"]["evidence"] = json!([{}])),
            mutate(&|b| b["verified_claims"]["claims"] = json!({"shoe_size": 38})),
            mutate(&|b| b["verified_claims"]["claims"] = json!([])),
        ];
        for reason in cases {
            assert!(!reason.contains("canary"), "{reason}");
            assert!(!reason.is_empty());
        }
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(parse_webhook(&big).unwrap_err().contains("64 KiB"));
    }

    proptest::proptest! {
        #[test]
        fn verifying_never_panics(header in "\\PC{0,200}", body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = verify_signature(SECRET, Some(&header), &body, NOW);
        }

        #[test]
        fn parsing_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_webhook(&body);
        }

        #[test]
        fn parsing_json_shapes_never_panics(reference in "\\PC{0,40}", status in "(verified|rejected|expired|\\PC{0,8})", level in "\\PC{0,12}", claim in "\\PC{0,20}") {
            let body = json!({"reference": reference, "status": status, "level": level,
                "verified_claims": {"verification": {"trust_framework": claim.clone()}, "claims": {claim: 1}}});
            let _ = parse_webhook(body.to_string().as_bytes());
        }
    }
}
