//! Tests of the JOSE module through its public API: JWK parsing and token verification, one
//! test per rule of SECURITY.md A25–A28 and A55. Key and signing tests sit in `signing_key.rs`.

mod claims;
mod jwk;
mod tokens;

use super::{Algorithm, Expectations, JoseError, JwkSet, SigningKey, verify};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::OnceLock;
use time::{Duration, OffsetDateTime};

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://id.example";
const CLIENT: &str = "client-1";

/// Our keys, made once: RSA generation takes a while.
fn key(algorithm: Algorithm) -> &'static SigningKey {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        Algorithm::ALL
            .into_iter()
            .map(|algorithm| SigningKey::generate(algorithm).unwrap().0)
            .collect()
    });
    keys.iter()
        .find(|key| key.algorithm() == algorithm)
        .unwrap()
}

fn set_of(keys: &[&SigningKey]) -> JwkSet {
    JwkSet {
        keys: keys.iter().map(|key| key.public_jwk()).collect(),
    }
}

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": CLIENT, "sub": "alice", "iat": NOW - 10, "exp": NOW + 300})
}

fn header(key: &SigningKey) -> Value {
    json!({"alg": key.algorithm().as_str(), "typ": "JWT", "kid": key.kid()})
}

fn expect() -> Expectations<'static> {
    Expectations {
        issuer: Some(ISSUER),
        audience: Some(CLIENT),
        typ: Some("JWT"),
        leeway: Duration::seconds(30),
        ..Expectations::new(
            OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
            &Algorithm::ALL,
        )
    }
}

/// A token with any header and claims, validly signed by `key`.
fn forge(key: &SigningKey, header: &Value, claims: &Value) -> String {
    key.sign_parts(header.to_string().as_bytes(), claims.to_string().as_bytes())
        .unwrap()
}

fn check(token: &str, keys: &JwkSet, expect: &Expectations<'_>) -> Result<Value, JoseError> {
    verify(token, keys, expect)
}

/// An ES256 token carrying `claims`, verified with the default expectations.
fn check_claims_of(claims: &Value) -> Result<Value, JoseError> {
    let key = key(Algorithm::Es256);
    check(
        &key.sign("JWT", claims).unwrap(),
        &set_of(&[key]),
        &expect(),
    )
}

fn unpadded(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
