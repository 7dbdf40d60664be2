//! Verification: algorithms, key choice, headers and the token's shape (A25–A27).

use super::*;
use crate::jose::{MAX_KID_BYTES, MAX_TOKEN_BYTES};

#[test]
fn tokens_of_every_algorithm_verify() {
    let all = set_of(&Algorithm::ALL.map(key));
    for algorithm in Algorithm::ALL {
        let token = key(algorithm).sign("JWT", &claims()).unwrap();
        assert_eq!(
            check(&token, &all, &expect()).unwrap(),
            claims(),
            "{algorithm}"
        );
    }
}

#[test]
fn a25_alg_none_is_rejected() {
    let key = key(Algorithm::Rs256);
    let payload = unpadded(claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": key.kid()});
        let unsigned = format!("{}.{payload}.", unpadded(header.to_string().as_bytes()));
        assert_eq!(
            check(&unsigned, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::UnsupportedAlgorithm
        );
        let signed = forge(key, &header, &claims());
        assert_eq!(
            check(&signed, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::UnsupportedAlgorithm
        );
    }
    for header in [
        json!({"typ": "JWT"}),
        json!({"alg": null}),
        json!({"alg": 256}),
    ] {
        let token = forge(key, &header, &claims());
        assert_eq!(
            check(&token, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::Malformed
        );
    }
}

#[test]
fn a26_hs256_signed_with_our_public_key_is_rejected() {
    use jsonwebtoken::{EncodingKey, Header, encode};
    for algorithm in Algorithm::ALL {
        let key = key(algorithm);
        let jwk = serde_json::to_value(key.public_jwk()).unwrap();
        let member = jwk.get("n").or(jwk.get("x")).unwrap().as_str().unwrap();
        let secrets = [
            jwk.to_string().into_bytes(),
            member.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(member).unwrap(),
        ];
        for secret in secrets {
            for hmac in [
                jsonwebtoken::Algorithm::HS256,
                jsonwebtoken::Algorithm::HS384,
                jsonwebtoken::Algorithm::HS512,
            ] {
                let mut header = Header::new(hmac);
                header.kid = Some(key.kid().to_owned());
                let secret = EncodingKey::from_secret(&secret).unwrap();
                let token = encode(&header, &claims(), &secret).unwrap();
                assert_eq!(
                    check(&token, &set_of(&[key]), &expect()).unwrap_err(),
                    JoseError::UnsupportedAlgorithm
                );
            }
        }
    }
}

#[test]
fn a26_unknown_algorithms_are_rejected() {
    let key = key(Algorithm::Rs256);
    for alg in [
        "PS256", "RS512", "ES384", "ES256K", "rs256", "RS256 ", "A256GCM", "",
    ] {
        let mut header = header(key);
        header["alg"] = json!(alg);
        let token = forge(key, &header, &claims());
        assert_eq!(
            check(&token, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
}

#[test]
fn a26_algorithms_outside_the_allow_list_are_rejected() {
    let key = key(Algorithm::Es256);
    let token = key.sign("JWT", &claims()).unwrap();
    let only_rsa = Expectations {
        algorithms: &[Algorithm::Rs256],
        ..expect()
    };
    assert_eq!(
        check(&token, &set_of(&[key]), &only_rsa).unwrap_err(),
        JoseError::AlgorithmNotAllowed
    );
    let nothing = Expectations {
        algorithms: &[],
        ..expect()
    };
    assert_eq!(
        check(&token, &set_of(&[key]), &nothing).unwrap_err(),
        JoseError::AlgorithmNotAllowed
    );
}

#[test]
fn a26_the_header_alg_must_fit_the_chosen_key() {
    let ec = key(Algorithm::Es256);
    let rsa = key(Algorithm::Rs256);
    let keys = set_of(&[ec, rsa]);
    // An EC key named, RS256 claimed.
    let mut header = header(ec);
    header["alg"] = json!("RS256");
    for signer in [ec, rsa] {
        let token = forge(signer, &header, &claims());
        assert_eq!(
            check(&token, &keys, &expect()).unwrap_err(),
            JoseError::KeyAlgorithmMismatch
        );
    }

    // The JWK's own `alg` or `use` forbids it.
    let token = rsa.sign("JWT", &claims()).unwrap();
    for (member, value) in [("alg", "RSA-OAEP"), ("use", "enc")] {
        let mut jwk = serde_json::to_value(rsa.public_jwk()).unwrap();
        jwk[member] = json!(value);
        let keys = JwkSet {
            keys: vec![serde_json::from_value(jwk).unwrap()],
        };
        assert_eq!(
            check(&token, &keys, &expect()).unwrap_err(),
            JoseError::KeyAlgorithmMismatch
        );
    }
    // Without `alg` on the JWK the type decides.
    let mut jwk = serde_json::to_value(rsa.public_jwk()).unwrap();
    jwk.as_object_mut().unwrap().remove("alg");
    let keys = JwkSet {
        keys: vec![serde_json::from_value(jwk).unwrap()],
    };
    assert!(check(&token, &keys, &expect()).is_ok());
}

#[test]
fn a26_keys_come_from_the_given_set_only() {
    let ours = key(Algorithm::Es256);
    let (theirs, _) = SigningKey::generate(Algorithm::Es256).unwrap();
    let token = theirs.sign("JWT", &claims()).unwrap();
    assert_eq!(
        check(&token, &set_of(&[ours]), &expect()).unwrap_err(),
        JoseError::UnknownKey
    );
    // Their signature under our key id.
    let forged = forge(&theirs, &header(ours), &claims());
    assert_eq!(
        check(&forged, &set_of(&[ours]), &expect()).unwrap_err(),
        JoseError::BadSignature
    );
    assert_eq!(
        check(&token, &JwkSet::default(), &expect()).unwrap_err(),
        JoseError::UnknownKey
    );
}

#[test]
fn a27_key_urls_embedded_keys_and_crit_are_rejected() {
    let key = key(Algorithm::EdDsa);
    let jwk = serde_json::to_value(key.public_jwk()).unwrap();
    for (name, value) in [
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", jwk),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUBTl"])),
        ("crit", json!(["exp"])),
        ("crit", json!(["b64"])),
        ("jku", json!(null)),
    ] {
        let mut header = header(key);
        header[name] = value;
        let token = forge(key, &header, &claims());
        assert_eq!(
            check(&token, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::ForbiddenHeader(name)
        );
    }
}

#[test]
fn a27_odd_kids_are_rejected() {
    let key = key(Algorithm::EdDsa);
    for kid in [
        json!("k".repeat(MAX_KID_BYTES + 1)),
        json!("é".repeat(MAX_KID_BYTES / 2 + 1)),
        json!(""),
        json!("kid\n"),
        json!("kid\u{0}"),
        json!("\u{7f}"),
        json!("\u{85}"),
        json!(42),
        json!(null),
        json!(["kid"]),
    ] {
        let mut header = header(key);
        header["kid"] = kid.clone();
        let token = forge(key, &header, &claims());
        assert_eq!(
            check(&token, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::InvalidKeyId,
            "{kid}"
        );
    }
    for kid in [
        "k".repeat(MAX_KID_BYTES),
        "../../../../etc/passwd".to_owned(),
        "' OR '1'='1".to_owned(),
        "https://attacker.example/key".to_owned(),
        key.kid().to_uppercase(),
    ] {
        let mut header = header(key);
        header["kid"] = json!(kid);
        let token = forge(key, &header, &claims());
        assert_eq!(
            check(&token, &set_of(&[key]), &expect()).unwrap_err(),
            JoseError::UnknownKey
        );
    }
}

#[test]
fn a27_without_kid_only_a_single_fitting_key_is_used() {
    let ec = key(Algorithm::Es256);
    let mut header = header(ec);
    header.as_object_mut().unwrap().remove("kid");
    let token = forge(ec, &header, &claims());

    let with_others = set_of(&[ec, key(Algorithm::Rs256), key(Algorithm::EdDsa)]);
    assert!(check(&token, &with_others, &expect()).is_ok());

    let (second, _) = SigningKey::generate(Algorithm::Es256).unwrap();
    assert_eq!(
        check(&token, &set_of(&[ec, &second]), &expect()).unwrap_err(),
        JoseError::AmbiguousKey
    );
    assert_eq!(
        check(&token, &set_of(&[key(Algorithm::Rs256)]), &expect()).unwrap_err(),
        JoseError::UnknownKey
    );
}

#[test]
fn altered_tokens_fail_the_signature_check() {
    let key = key(Algorithm::Rs256);
    let keys = set_of(&[key]);
    let token = key.sign("JWT", &claims()).unwrap();
    let [header, _, signature]: [&str; 3] =
        token.split('.').collect::<Vec<_>>().try_into().unwrap();

    let mut claims = claims();
    claims["sub"] = json!("mallory");
    let swapped = format!(
        "{header}.{}.{signature}",
        unpadded(claims.to_string().as_bytes())
    );
    assert_eq!(
        check(&swapped, &keys, &expect()).unwrap_err(),
        JoseError::BadSignature
    );

    let mut short = URL_SAFE_NO_PAD.decode(signature).unwrap();
    short.pop();
    let claims_part = token.split('.').nth(1).unwrap();
    let truncated = format!("{header}.{claims_part}.{}", unpadded(&short));
    assert_eq!(
        check(&truncated, &keys, &expect()).unwrap_err(),
        JoseError::BadSignature
    );
    let unsigned = &token[..=token.rfind('.').unwrap()];
    assert_eq!(
        check(unsigned, &keys, &expect()).unwrap_err(),
        JoseError::BadSignature
    );
}

#[test]
fn malformed_tokens_are_rejected() {
    let key = key(Algorithm::Es256);
    let keys = set_of(&[key]);
    let token = key.sign("JWT", &claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let array = unpadded(b"[1]");
    let padded_header = format!("{}=", parts[0]);
    let cases = [
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        parts[0].to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.{}", parts[2]),
        format!("{token}.x.y"),
        format!("{padded_header}.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", unpadded(b"{not json"), parts[1], parts[2]),
        format!("{array}.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
        format!("{}.{array}.{}", parts[0], parts[2]),
    ];
    for case in cases {
        let error = check(&case, &keys, &expect()).unwrap_err();
        assert!(
            matches!(error, JoseError::Malformed | JoseError::BadSignature),
            "{case}: {error:?}"
        );
    }
    // Claims that are not an object, under a valid signature.
    let array_claims = key
        .sign_parts(header(key).to_string().as_bytes(), b"[1]")
        .unwrap();
    assert_eq!(
        check(&array_claims, &keys, &expect()).unwrap_err(),
        JoseError::Malformed
    );
}

#[test]
fn oversized_tokens_are_rejected_before_parsing() {
    let key = key(Algorithm::EdDsa);
    assert_eq!(
        check(&"a".repeat(MAX_TOKEN_BYTES + 1), &set_of(&[key]), &expect()).unwrap_err(),
        JoseError::TokenTooLarge
    );
    let mut claims = claims();
    claims["padding"] = json!("p".repeat(MAX_TOKEN_BYTES));
    let token = key.sign("JWT", &claims).unwrap();
    assert_eq!(
        check(&token, &set_of(&[key]), &expect()).unwrap_err(),
        JoseError::TokenTooLarge
    );
}

proptest::proptest! {
    #[test]
    fn verify_never_panics_on_any_text(token in "\\PC{0,400}") {
        let _ = check(&token, &set_of(&[key(Algorithm::Es256)]), &expect());
    }

    #[test]
    fn verify_never_panics_on_any_json_parts(
        header in "\\PC{0,120}",
        claims in "\\PC{0,120}",
        signature in "[A-Za-z0-9_-]{0,90}",
    ) {
        let token = format!(
            "{}.{}.{signature}",
            unpadded(header.as_bytes()),
            unpadded(claims.as_bytes())
        );
        let _ = check(&token, &set_of(&[key(Algorithm::Es256)]), &expect());
    }
}
