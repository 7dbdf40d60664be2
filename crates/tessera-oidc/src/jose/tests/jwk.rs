//! JWK parsing, RFC 7638 thumbprints and JWK set limits.

use crate::jose::{Algorithm, JoseError, Jwk, JwkSet, MAX_JWK_SET_BYTES, MAX_KEYS, MAX_KID_BYTES};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

/// The RSA key of RFC 7638 §3.1.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
/// The P-256 key of RFC 7517 appendix A.1.
const EC_X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
const EC_Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
/// The Ed25519 key of RFC 8037 appendix A.2.
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn rsa() -> serde_json::Value {
    json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})
}

fn ec() -> serde_json::Value {
    json!({"kty": "EC", "crv": "P-256", "x": EC_X, "y": EC_Y, "use": "sig", "kid": "1"})
}

fn okp() -> serde_json::Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X})
}

fn parse(value: serde_json::Value) -> Result<Jwk, JoseError> {
    Jwk::parse(&value.to_string())
}

fn refusal(value: serde_json::Value) -> JoseError {
    parse(value).unwrap_err()
}

#[test]
fn rfc7638_rsa_thumbprint_vector() {
    assert_eq!(
        parse(rsa()).unwrap().thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn rfc8037_ed25519_thumbprint_vector() {
    assert_eq!(
        parse(okp()).unwrap().thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn thumbprints_ignore_optional_members_and_leading_zeros() {
    let mut padded = rsa();
    let n = URL_SAFE_NO_PAD.decode(RFC7638_N).unwrap();
    padded["n"] = json!(URL_SAFE_NO_PAD.encode([&[0u8][..], &n].concat()));
    padded["kid"] = json!("other");
    padded["x5t"] = json!("ignored");
    let key = parse(padded).unwrap();
    assert_eq!(
        key.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    // Written back without the leading zero.
    assert_eq!(serde_json::to_value(&key).unwrap()["n"], RFC7638_N);
}

#[test]
fn keys_round_trip_through_json() {
    for value in [rsa(), ec(), okp()] {
        let key = parse(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&key).unwrap(), value);
        let again: Jwk = serde_json::from_value(value).unwrap();
        assert_eq!(again, key);
    }
}

#[test]
fn accessors_describe_the_key() {
    let key = parse(ec()).unwrap();
    assert_eq!(key.key_type(), "EC");
    assert_eq!(key.kid(), Some("1"));
    assert_eq!(key.alg(), None);
    assert_eq!(key.key_use(), Some("sig"));
    assert!(key.can_verify(Algorithm::Es256));
    assert!(!key.can_verify(Algorithm::Rs256));
    assert!(!key.can_verify(Algorithm::EdDsa));
    assert_eq!(
        format!("{key:?}"),
        r#"Jwk { kty: "EC", crv: Some("P-256"), kid: Some("1"), alg: None, use: Some("sig") }"#
    );
}

#[test]
fn unknown_members_are_ignored() {
    let mut value = okp();
    value["key_ops"] = json!(["verify"]);
    value["ext"] = json!(true);
    value["x5c"] = json!(["MIIB"]);
    assert_eq!(parse(value).unwrap(), parse(okp()).unwrap());
}

#[test]
fn private_members_are_rejected() {
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        for base in [rsa(), ec(), okp()] {
            let mut value = base;
            value[member] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
            assert_eq!(
                refusal(value),
                JoseError::InvalidJwk("private key members are not accepted"),
                "{member}"
            );
        }
    }
    let mut null_d = okp();
    null_d["d"] = json!(null);
    assert!(parse(null_d).is_err());
}

#[test]
fn only_ec_okp_and_rsa_keys_on_supported_curves_are_accepted() {
    let unsupported = [
        json!({"kty": "oct"}),
        json!({"kty": "ec", "crv": "P-256", "x": EC_X, "y": EC_Y}),
        json!({"x": EC_X}),
        json!({"kty": 1}),
        json!({"kty": "EC", "crv": "P-384", "x": EC_X, "y": EC_Y}),
        json!({"kty": "EC", "crv": "secp256k1", "x": EC_X, "y": EC_Y}),
        json!({"kty": "OKP", "crv": "X25519", "x": ED_X}),
        json!({"kty": "OKP", "crv": "Ed448", "x": ED_X}),
        json!({"kty": "OKP", "x": ED_X}),
    ];
    for value in unsupported {
        assert!(
            matches!(refusal(value.clone()), JoseError::InvalidJwk(_)),
            "{value}"
        );
    }
}

#[test]
fn malformed_members_are_rejected() {
    let mut cases = Vec::new();
    for (member, bad) in [
        ("x", json!(null)),
        ("x", json!(12)),
        ("x", json!("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4=")),
        ("x", json!("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D")),
        ("x", json!("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv+D4")),
        ("y", json!(EC_X)),
        ("kid", json!("")),
        ("kid", json!("a\nb")),
        ("kid", json!("k".repeat(MAX_KID_BYTES + 1))),
        ("kid", json!(7)),
        ("alg", json!("RS256")),
        ("alg", json!("x".repeat(65))),
        ("use", json!(["sig"])),
    ] {
        let mut value = ec();
        value[member] = bad;
        cases.push(value);
    }
    let mut short_ed = okp();
    short_ed["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
    cases.push(short_ed);
    for value in cases {
        assert!(
            matches!(refusal(value.clone()), JoseError::InvalidJwk(_)),
            "{value}"
        );
    }
}

#[test]
fn points_off_the_curve_are_rejected() {
    let mut value = ec();
    value["y"] = json!(URL_SAFE_NO_PAD.encode([1u8; 32]));
    assert_eq!(
        refusal(value),
        JoseError::InvalidJwk("x and y are not a point on P-256")
    );
}

#[test]
fn rsa_moduli_need_2048_bits() {
    let n = URL_SAFE_NO_PAD.decode(RFC7638_N).unwrap();
    let mut short = rsa();
    short["n"] = json!(URL_SAFE_NO_PAD.encode([&n[..127], &[1u8][..]].concat()));
    assert_eq!(
        refusal(short),
        JoseError::InvalidJwk("the RSA modulus is shorter than 2048 bits")
    );
    // 2047 bits: the top bit of 256 bytes cleared.
    let mut n_2047 = n.clone();
    n_2047[0] = 0x7f;
    let mut almost = rsa();
    almost["n"] = json!(URL_SAFE_NO_PAD.encode(&n_2047));
    assert!(parse(almost).is_err());

    let mut huge = rsa();
    huge["n"] = json!(URL_SAFE_NO_PAD.encode(vec![0xffu8; 1025]));
    assert!(parse(huge).is_err());

    for e in ["AQ", "", "AAE", "AQAA", "AQAAAAE"] {
        let mut value = rsa();
        value["e"] = json!(e);
        assert!(parse(value).is_err(), "e = {e}");
    }
}

#[test]
fn alg_must_fit_the_key_but_foreign_algs_are_kept() {
    let mut ec_as_rsa = ec();
    ec_as_rsa["alg"] = json!("RS256");
    assert_eq!(
        refusal(ec_as_rsa),
        JoseError::InvalidJwk("alg does not fit the key type")
    );

    let mut encryption = rsa();
    encryption["alg"] = json!("RSA-OAEP");
    encryption["use"] = json!("enc");
    let key = parse(encryption).unwrap();
    assert_eq!(key.alg(), Some("RSA-OAEP"));
    assert!(!key.can_verify(Algorithm::Rs256));

    let mut enc_use = rsa();
    enc_use["use"] = json!("enc");
    assert!(!parse(enc_use).unwrap().can_verify(Algorithm::Rs256));
}

#[test]
fn jwk_sets_are_parsed_with_limits() {
    let set = json!({"keys": [rsa(), ec(), okp()], "other": 1}).to_string();
    assert_eq!(JwkSet::parse(&set).unwrap().keys.len(), 3);

    let many = json!({"keys": vec![okp(); MAX_KEYS + 1]}).to_string();
    assert_eq!(
        JwkSet::parse(&many).unwrap_err(),
        JoseError::InvalidJwkSet("more than 20 keys")
    );
    assert_eq!(
        JwkSet::parse(&json!({"keys": vec![okp(); MAX_KEYS]}).to_string())
            .unwrap()
            .keys
            .len(),
        MAX_KEYS
    );

    let large = format!(
        r#"{{"keys": [], "padding": "{}"}}"#,
        "a".repeat(MAX_JWK_SET_BYTES)
    );
    assert_eq!(
        JwkSet::parse(&large).unwrap_err(),
        JoseError::InvalidJwkSet("larger than 64 KiB")
    );

    for bad in [
        "",
        "[]",
        "{}",
        r#"{"keys": {}}"#,
        r#"{"keys": [1]}"#,
        "{\"keys\": [",
    ] {
        assert!(
            matches!(JwkSet::parse(bad), Err(JoseError::InvalidJwkSet(_))),
            "{bad}"
        );
    }
    let private = json!({"keys": [okp(), {"kty": "oct", "k": "c2VjcmV0"}]}).to_string();
    assert!(matches!(
        JwkSet::parse(&private),
        Err(JoseError::InvalidJwk(_))
    ));
}

#[test]
fn jwk_sets_serialise_as_keys_arrays() {
    let set = JwkSet {
        keys: vec![parse(okp()).unwrap()],
    };
    assert_eq!(
        serde_json::to_value(&set).unwrap(),
        json!({"keys": [okp()]})
    );
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(text in "\\PC{0,300}") {
        let _ = Jwk::parse(&text);
        let _ = JwkSet::parse(&text);
    }

    #[test]
    fn key_members_of_any_value_never_panic(
        kty in "(EC|OKP|RSA)",
        crv in "(P-256|Ed25519|P-384)",
        x in "[A-Za-z0-9_-]{0,60}",
        n in "[A-Za-z0-9_-]{0,400}",
        e in "[A-Za-z0-9_-]{0,8}",
    ) {
        let value = json!({"kty": kty, "crv": crv, "x": x, "y": x, "n": n, "e": e});
        let _ = parse(value);
    }
}
