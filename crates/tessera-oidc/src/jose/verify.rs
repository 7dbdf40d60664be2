//! Verifying compact JWS tokens that others send us (`id_token_hint`, client assertions,
//! request objects) against a JWK set, with the checks of SECURITY.md A25–A28 and A55.
//!
//! The header and claims are parsed here, not by `jsonwebtoken`: its header type cannot say
//! which members were present, and its time checks read the system clock, while time is a
//! parameter here. `jsonwebtoken`'s aws-lc verifier checks the signature, called through
//! `crypto::aws_lc::DEFAULT_PROVIDER` so that no process-wide provider is needed.

use super::jwk::is_acceptable_kid;
use super::{Algorithm, JoseError, Jwk, JwkSet};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::borrow::Cow;
use time::{Duration, OffsetDateTime};

/// Tokens longer than this are refused before anything is decoded.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The most clock skew tolerated, whatever the caller asks (A55).
pub const MAX_LEEWAY: Duration = Duration::seconds(60);
/// Header parameters that would make us fetch or trust a key named by the token itself,
/// or honour extensions we do not know.
const FORBIDDEN_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// What a verifier requires of a token. Every `None` is a check not made: set each one the
/// kind of token needs.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The exact `iss` required.
    pub issuer: Option<&'a str>,
    /// A value that `aud` (a string or an array of strings) must contain.
    pub audience: Option<&'a str>,
    /// The header `typ` required (`JWT`, `logout+jwt`…), compared case-insensitively with
    /// the `application/` prefix optional on either side (RFC 7515 §4.1.9).
    pub typ: Option<&'a str>,
    /// The current time.
    pub now: OffsetDateTime,
    /// Clock skew tolerated for `exp`, `nbf` and `iat`; capped at [`MAX_LEEWAY`].
    pub leeway: Duration,
    /// Accept an expired token, and one without `exp` (for `id_token_hint`).
    pub allow_expired: bool,
    /// The algorithms accepted for this kind of token.
    pub algorithms: &'a [Algorithm],
}

impl<'a> Expectations<'a> {
    /// Requires a signature with one of `algorithms` and an unexpired `exp`, without leeway;
    /// no issuer, audience or type check until the caller sets them.
    pub fn new(now: OffsetDateTime, algorithms: &'a [Algorithm]) -> Self {
        Self {
            issuer: None,
            audience: None,
            typ: None,
            now,
            leeway: Duration::ZERO,
            allow_expired: false,
            algorithms,
        }
    }
}

/// Verifies a compact JWS signed by a key of `keys` and returns its claims.
///
/// In order: at most [`MAX_TOKEN_BYTES`]; three base64url parts, JSON objects for header and
/// claims; no `jku`, `x5u`, `jwk`, `x5c` or `crit` header; `alg` one of ours (never `none` or
/// HMAC) and in `expect.algorithms`; the `typ` expected; the key named by `kid` (or, without
/// `kid`, the only key that fits) fitting `alg` by type, curve, `alg` and `use`; the
/// signature; then `exp` (required unless `allow_expired`), `nbf`, `iat`, `iss` and `aud`.
pub fn verify<T: DeserializeOwned>(
    token: &str,
    keys: &JwkSet,
    expect: &Expectations<'_>,
) -> Result<T, JoseError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JoseError::TokenTooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };

    let header = json_object(header_part)?;
    let header = Header::read(&header)?;
    if !expect.algorithms.contains(&header.algorithm) {
        return Err(JoseError::AlgorithmNotAllowed);
    }
    if let Some(expected) = expect.typ
        && !header.typ.is_some_and(|typ| same_media_type(typ, expected))
    {
        return Err(JoseError::WrongType);
    }

    let key = select_key(keys, header.algorithm, header.kid)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| JoseError::Malformed)?;
    let signing_input = token
        .as_bytes()
        .get(..header_part.len() + 1 + claims_part.len())
        .ok_or(JoseError::Malformed)?;
    check_signature(key, header.algorithm, signing_input, signature)?;

    let claims = json_object(claims_part)?;
    check_claims(&claims, expect)?;
    serde_json::from_value(Value::Object(claims)).map_err(|_| JoseError::UnexpectedClaims)
}

/// The header members we act on.
struct Header<'h> {
    algorithm: Algorithm,
    kid: Option<&'h str>,
    typ: Option<&'h str>,
}

impl<'h> Header<'h> {
    fn read(header: &'h Map<String, Value>) -> Result<Self, JoseError> {
        if let Some(name) = FORBIDDEN_HEADERS
            .into_iter()
            .find(|name| header.contains_key(*name))
        {
            return Err(JoseError::ForbiddenHeader(name));
        }
        let algorithm = match header.get("alg") {
            Some(Value::String(alg)) => {
                Algorithm::parse(alg).ok_or(JoseError::UnsupportedAlgorithm)?
            }
            _ => return Err(JoseError::Malformed),
        };
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if is_acceptable_kid(kid) => Some(kid.as_str()),
            Some(_) => return Err(JoseError::InvalidKeyId),
        };
        let typ = match header.get("typ") {
            None => None,
            Some(Value::String(typ)) => Some(typ.as_str()),
            Some(_) => return Err(JoseError::Malformed),
        };
        Ok(Self {
            algorithm,
            kid,
            typ,
        })
    }
}

/// A base64url (unpadded) part holding a JSON object.
fn json_object(part: &str) -> Result<Map<String, Value>, JoseError> {
    let json = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JoseError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| JoseError::Malformed)
}

/// `typ` values are media types; `application/` may be left out when no other `/` appears.
fn same_media_type(actual: &str, expected: &str) -> bool {
    fn full(media_type: &str) -> Cow<'_, str> {
        if media_type.contains('/') {
            Cow::Borrowed(media_type)
        } else {
            Cow::Owned(format!("application/{media_type}"))
        }
    }
    full(actual).eq_ignore_ascii_case(&full(expected))
}

/// The key that may have signed the token: by `kid` when it has one, otherwise the only key
/// of the set that fits the algorithm. Keys come from `keys` only, never from the token.
fn select_key<'k>(
    keys: &'k JwkSet,
    algorithm: Algorithm,
    kid: Option<&str>,
) -> Result<&'k Jwk, JoseError> {
    let (candidates, none_fits): (Vec<&Jwk>, JoseError) = match kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys
                .keys
                .iter()
                .filter(|key| key.kid() == Some(kid))
                .collect();
            if named.is_empty() {
                return Err(JoseError::UnknownKey);
            }
            (named, JoseError::KeyAlgorithmMismatch)
        }
        None => (keys.keys.iter().collect(), JoseError::UnknownKey),
    };
    let mut fitting = candidates
        .into_iter()
        .filter(|key| key.can_verify(algorithm));
    match (fitting.next(), fitting.next()) {
        (Some(key), None) => Ok(key),
        (None, _) => Err(none_fits),
        (Some(_), Some(_)) => Err(JoseError::AmbiguousKey),
    }
}

fn check_signature(
    key: &Jwk,
    algorithm: Algorithm,
    signing_input: &[u8],
    signature: Vec<u8>,
) -> Result<(), JoseError> {
    let verifier =
        (DEFAULT_PROVIDER.verifier_factory)(&algorithm.to_jsonwebtoken(), &key.decoding_key())
            .map_err(|_| JoseError::KeyAlgorithmMismatch)?;
    verifier
        .verify(signing_input, &signature)
        .map_err(|_| JoseError::BadSignature)
}

/// The registered claims, checked against `expect` (A28, A55).
fn check_claims(claims: &Map<String, Value>, expect: &Expectations<'_>) -> Result<(), JoseError> {
    let now = expect.now.unix_timestamp();
    let leeway = expect
        .leeway
        .clamp(Duration::ZERO, MAX_LEEWAY)
        .whole_seconds();

    match numeric_date(claims, "exp")? {
        _ if expect.allow_expired => {}
        None => return Err(JoseError::MissingClaim("exp")),
        Some(exp) if now >= exp.saturating_add(leeway) => return Err(JoseError::Expired),
        Some(_) => {}
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(JoseError::NotYetValid);
    }
    if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(JoseError::IssuedInFuture);
    }

    if let Some(issuer) = expect.issuer {
        match claims.get("iss") {
            None => return Err(JoseError::MissingClaim("iss")),
            Some(Value::String(iss)) if iss == issuer => {}
            Some(Value::String(_)) => return Err(JoseError::WrongIssuer),
            Some(_) => return Err(JoseError::MalformedClaim("iss")),
        }
    }
    if let Some(audience) = expect.audience {
        let names_audience = match claims.get("aud") {
            None => return Err(JoseError::MissingClaim("aud")),
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => {
                let mut found = false;
                for aud in auds {
                    let Value::String(aud) = aud else {
                        return Err(JoseError::MalformedClaim("aud"));
                    };
                    found |= aud == audience;
                }
                found
            }
            Some(_) => return Err(JoseError::MalformedClaim("aud")),
        };
        if !names_audience {
            return Err(JoseError::WrongAudience);
        }
    }
    Ok(())
}

/// A NumericDate claim in whole seconds (fractions are cut off, RFC 7519 allows them).
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JoseError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => number
            .as_i64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|seconds| seconds.is_finite())
                    // Saturates: a date past the year 292 billion is "never".
                    .map(|seconds| seconds.floor() as i64)
            })
            .map(Some)
            .ok_or(JoseError::MalformedClaim(name)),
        Some(_) => Err(JoseError::MalformedClaim(name)),
    }
}
