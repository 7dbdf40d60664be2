//! Verification: the registered claims, type and leeway (A28, A55).

use super::*;

#[test]
fn claims_deserialise_into_the_callers_type() {
    #[derive(serde::Deserialize)]
    struct Hint {
        sub: String,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Other {
        #[allow(dead_code)]
        nonce: String,
    }
    let key = key(Algorithm::EdDsa);
    let token = key.sign("JWT", &claims()).unwrap();
    let hint: Hint = verify(&token, &set_of(&[key]), &expect()).unwrap();
    assert_eq!(hint.sub, "alice");
    assert_eq!(
        verify::<Other>(&token, &set_of(&[key]), &expect()).unwrap_err(),
        JoseError::UnexpectedClaims
    );
}

#[test]
fn a28_expired_tokens_are_rejected() {
    let mut claims = claims();
    claims["exp"] = json!(NOW - 31);
    assert_eq!(check_claims_of(&claims).unwrap_err(), JoseError::Expired);
    claims["exp"] = json!(NOW - 30);
    assert_eq!(check_claims_of(&claims).unwrap_err(), JoseError::Expired);
    claims["exp"] = json!(NOW - 29);
    assert!(check_claims_of(&claims).is_ok());
    // Fractions of a second are cut off.
    claims["exp"] = json!(NOW as f64 - 28.5);
    assert!(check_claims_of(&claims).is_ok());
    claims["exp"] = json!(NOW as f64 - 29.5);
    assert_eq!(check_claims_of(&claims).unwrap_err(), JoseError::Expired);

    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        check_claims_of(&claims).unwrap_err(),
        JoseError::MissingClaim("exp")
    );
}

#[test]
fn a28_expired_tokens_pass_only_when_allowed() {
    let key = key(Algorithm::Rs256);
    let hint = Expectations {
        allow_expired: true,
        ..expect()
    };
    let mut claims = claims();
    claims["exp"] = json!(NOW - 86_400);
    let token = key.sign("JWT", &claims).unwrap();
    assert!(check(&token, &set_of(&[key]), &hint).is_ok());
    claims.as_object_mut().unwrap().remove("exp");
    let token = key.sign("JWT", &claims).unwrap();
    assert!(check(&token, &set_of(&[key]), &hint).is_ok());
    // Still from the right issuer, for the right audience.
    claims["aud"] = json!("client-2");
    let token = key.sign("JWT", &claims).unwrap();
    assert_eq!(
        check(&token, &set_of(&[key]), &hint).unwrap_err(),
        JoseError::WrongAudience
    );
}

#[test]
fn a28_not_yet_valid_tokens_are_rejected() {
    let mut claims = claims();
    claims["nbf"] = json!(NOW + 31);
    assert_eq!(
        check_claims_of(&claims).unwrap_err(),
        JoseError::NotYetValid
    );
    claims["nbf"] = json!(NOW + 30);
    assert!(check_claims_of(&claims).is_ok());

    let mut claims = self::claims();
    claims["iat"] = json!(NOW + 31);
    assert_eq!(
        check_claims_of(&claims).unwrap_err(),
        JoseError::IssuedInFuture
    );
    claims["iat"] = json!(NOW + 30);
    assert!(check_claims_of(&claims).is_ok());
}

#[test]
fn a28_malformed_time_claims_are_rejected() {
    for name in ["exp", "nbf", "iat"] {
        for value in [json!("1700000300"), json!(null), json!([NOW]), json!(true)] {
            let mut claims = claims();
            claims[name] = value;
            assert_eq!(
                check_claims_of(&claims).unwrap_err(),
                JoseError::MalformedClaim(name)
            );
        }
    }
    let mut far = claims();
    far["exp"] = json!(1e300);
    assert!(check_claims_of(&far).is_ok());
    far["exp"] = json!(-1e300);
    assert_eq!(check_claims_of(&far).unwrap_err(), JoseError::Expired);
}

#[test]
fn a28_wrong_issuers_are_rejected() {
    for (iss, error) in [
        (json!("https://id.example/"), JoseError::WrongIssuer),
        (json!("https://ID.example"), JoseError::WrongIssuer),
        (json!([ISSUER]), JoseError::MalformedClaim("iss")),
    ] {
        let mut claims = claims();
        claims["iss"] = iss;
        assert_eq!(check_claims_of(&claims).unwrap_err(), error);
    }
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("iss");
    assert_eq!(
        check_claims_of(&claims).unwrap_err(),
        JoseError::MissingClaim("iss")
    );
}

#[test]
fn a28_wrong_audiences_are_rejected() {
    for (aud, outcome) in [
        (json!(CLIENT), Ok(())),
        (json!(["other", CLIENT]), Ok(())),
        (json!("client-2"), Err(JoseError::WrongAudience)),
        (json!(["client-2"]), Err(JoseError::WrongAudience)),
        (json!([]), Err(JoseError::WrongAudience)),
        (json!("CLIENT-1"), Err(JoseError::WrongAudience)),
        (json!([CLIENT, 7]), Err(JoseError::MalformedClaim("aud"))),
        (
            json!({"aud": CLIENT}),
            Err(JoseError::MalformedClaim("aud")),
        ),
    ] {
        let mut claims = claims();
        claims["aud"] = aud.clone();
        assert_eq!(check_claims_of(&claims).map(|_| ()), outcome, "{aud}");
    }
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        check_claims_of(&claims).unwrap_err(),
        JoseError::MissingClaim("aud")
    );
}

#[test]
fn a28_wrong_types_are_rejected() {
    let key = key(Algorithm::Es256);
    let keys = set_of(&[key]);
    for typ in ["JWT", "jwt", "application/jwt", "Application/JWT"] {
        let token = key.sign(typ, &claims()).unwrap();
        assert!(check(&token, &keys, &expect()).is_ok(), "{typ}");
    }
    for typ in [
        "at+jwt",
        "logout+jwt",
        "JOSE",
        "text/jwt",
        "application/jwt/x",
        "",
    ] {
        let token = key.sign(typ, &claims()).unwrap();
        assert_eq!(
            check(&token, &keys, &expect()).unwrap_err(),
            JoseError::WrongType,
            "{typ}"
        );
    }
    let mut untyped = header(key);
    untyped.as_object_mut().unwrap().remove("typ");
    let token = forge(key, &untyped, &claims());
    assert_eq!(
        check(&token, &keys, &expect()).unwrap_err(),
        JoseError::WrongType
    );
    assert!(
        check(
            &token,
            &keys,
            &Expectations {
                typ: None,
                ..expect()
            }
        )
        .is_ok()
    );

    let logout = Expectations {
        typ: Some("application/logout+jwt"),
        ..expect()
    };
    let token = key.sign("logout+jwt", &claims()).unwrap();
    assert!(check(&token, &keys, &logout).is_ok());
}

#[test]
fn a55_leeway_is_capped_at_60_seconds() {
    let key = key(Algorithm::EdDsa);
    let keys = set_of(&[key]);
    let generous = Expectations {
        leeway: Duration::minutes(10),
        ..expect()
    };
    for (name, value, error) in [
        ("exp", NOW - 61, Some(JoseError::Expired)),
        ("exp", NOW - 59, None),
        ("nbf", NOW + 61, Some(JoseError::NotYetValid)),
        ("nbf", NOW + 60, None),
        ("iat", NOW + 61, Some(JoseError::IssuedInFuture)),
    ] {
        let mut claims = claims();
        claims[name] = json!(value);
        let token = key.sign("JWT", &claims).unwrap();
        assert_eq!(
            check(&token, &keys, &generous).err(),
            error,
            "{name} {value}"
        );
    }
    // A negative leeway counts as none.
    let negative = Expectations {
        leeway: Duration::seconds(-100),
        ..expect()
    };
    let mut claims = claims();
    claims["exp"] = json!(NOW + 1);
    assert!(check(&key.sign("JWT", &claims).unwrap(), &keys, &negative).is_ok());
}

#[test]
fn error_messages_carry_no_token_contents() {
    let key = key(Algorithm::EdDsa);
    let mut claims = claims();
    claims["iss"] = json!("https://secret-canary.example");
    let token = key.sign("JWT", &claims).unwrap();
    let error = check(&token, &set_of(&[key]), &expect()).unwrap_err();
    assert_eq!(error.code(), "wrong_issuer");
    assert!(!error.to_string().contains("canary"));
    assert!(!format!("{error:?}").contains("canary"));
}
