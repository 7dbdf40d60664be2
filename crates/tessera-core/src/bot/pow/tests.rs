use super::*;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashSet;
use std::sync::Mutex;
use time::macros::datetime;

const KEY: &[u8] = b"tessera-test-altcha-hmac-key-0123456789";
const OTHER_KEY: &[u8] = b"another-tenant-altcha-hmac-key-987654321";
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
/// Small enough that a debug build solves in a blink.
const EASY: u64 = 2_000;

fn issuer(key: &[u8]) -> PowIssuer {
    PowIssuer::new(key, EASY, DEFAULT_LIFETIME).unwrap()
}

fn issued(seed: u64) -> Challenge {
    issuer(KEY).issue(NOW, &mut StdRng::seed_from_u64(seed))
}

fn solved(challenge: &Challenge) -> String {
    let number = solve(challenge).unwrap();
    payload(challenge, number, 12)
}

/// A payload with `edit` applied to its JSON object.
fn edited(challenge: &Challenge, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let number = solve(challenge).unwrap();
    let mut json = serde_json::json!({
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "number": number,
        "salt": challenge.salt,
        "signature": challenge.signature,
        "took": 12,
    });
    edit(&mut json);
    STANDARD.encode(json.to_string())
}

#[test]
fn an_issued_challenge_is_solved_and_verified() {
    let challenge = issued(1);
    assert_eq!(challenge.algorithm, "SHA-256");
    assert_eq!(challenge.maxnumber, EASY);
    assert_eq!(challenge.challenge.len(), 64);
    assert_eq!(challenge.signature.len(), 64);
    let expires = (NOW + DEFAULT_LIFETIME).unix_timestamp();
    let (random, params) = challenge.salt.split_once('?').unwrap();
    assert_eq!(random.len(), 32);
    assert!(random.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(params, format!("expires={expires}&"));

    let number = solve(&challenge).unwrap();
    assert!((1..=EASY).contains(&number));
    let verified = issuer(KEY)
        .verify(&payload(&challenge, number, 40), NOW + Duration::minutes(9))
        .unwrap();
    assert_eq!(verified.replay_key(), challenge.challenge);
    assert_eq!(verified.expires_at, NOW + DEFAULT_LIFETIME);
}

#[test]
fn challenges_differ_and_serialise_with_altchas_names() {
    let mut rng = StdRng::seed_from_u64(7);
    let pow = issuer(KEY);
    let first = pow.issue(NOW, &mut rng);
    let second = pow.issue(NOW, &mut rng);
    assert_ne!(first.salt, second.salt);
    assert_ne!(first.challenge, second.challenge);
    let json = serde_json::to_value(&first).unwrap();
    let mut names: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["algorithm", "challenge", "maxnumber", "salt", "signature"]
    );
}

#[test]
fn a_known_answer_computed_independently_verifies() {
    // Python: salt = "000102…0f?expires=1800000000&"; n = 4242
    // hashlib.sha256((salt + str(n)).encode()).hexdigest()
    // hmac.new(KEY, challenge.encode(), "sha256").hexdigest()
    let challenge = Challenge {
        algorithm: ALGORITHM.to_owned(),
        challenge: "d81f64471451f5536cec49d892996916d2bfd452a63b91c1458ddb62e2639a32".to_owned(),
        maxnumber: 5_000,
        salt: "000102030405060708090a0b0c0d0e0f?expires=1800000000&".to_owned(),
        signature: "fa5f3fb1cc4e943cee9eb13533874767f77a2b0f7bc2a00f87ddae2566f3f3e0".to_owned(),
    };
    assert_eq!(solve(&challenge), Some(4242));
    let verified = issuer(KEY)
        .verify(&payload(&challenge, 4242, 0), NOW)
        .unwrap();
    assert_eq!(verified.expires_at.unix_timestamp(), 1_800_000_000);
}

#[test]
fn an_expired_solution_is_refused() {
    let challenge = issued(2);
    let solution = solved(&challenge);
    let pow = issuer(KEY);
    let expiry = NOW + DEFAULT_LIFETIME;
    assert!(pow.verify(&solution, expiry - Duration::seconds(1)).is_ok());
    assert_eq!(pow.verify(&solution, expiry), Err(PowRefusal::Expired));
    assert_eq!(
        pow.verify(&solution, expiry + Duration::days(400)),
        Err(PowRefusal::Expired)
    );
}

#[test]
fn a_later_expiry_written_into_the_salt_breaks_the_solution() {
    let challenge = issued(3);
    let later = (NOW + Duration::days(30)).unix_timestamp();
    let (random, _) = challenge.salt.split_once('?').unwrap();
    let salt = format!("{random}?expires={later}&");
    let forged = edited(&challenge, |json| json["salt"] = salt.into());
    assert_eq!(
        issuer(KEY).verify(&forged, NOW + Duration::days(1)),
        Err(PowRefusal::WrongSolution)
    );
}

#[test]
fn tampering_with_any_field_is_refused() {
    let challenge = issued(4);
    let pow = issuer(KEY);
    let flip = |hex: &str| {
        let mut bytes = hex.as_bytes().to_vec();
        bytes[10] = if bytes[10] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    };
    let cases: Vec<(&str, String, PowRefusal)> = vec![
        (
            "salt's random part",
            edited(&challenge, |j| j["salt"] = flip(&challenge.salt).into()),
            PowRefusal::WrongSolution,
        ),
        (
            "challenge",
            edited(&challenge, |j| {
                j["challenge"] = flip(&challenge.challenge).into()
            }),
            PowRefusal::BadSignature,
        ),
        (
            "signature",
            edited(&challenge, |j| {
                j["signature"] = flip(&challenge.signature).into()
            }),
            PowRefusal::BadSignature,
        ),
        (
            "number",
            edited(&challenge, |j| {
                let number = j["number"].as_u64().unwrap();
                j["number"] = (number + 1).into();
            }),
            PowRefusal::WrongSolution,
        ),
        (
            "a digit moved from the number into the salt",
            edited(&challenge, |j| {
                let number = j["number"].as_u64().unwrap();
                j["salt"] = format!("{}{}", challenge.salt, number / 10).into();
                j["number"] = (number % 10).into();
            }),
            PowRefusal::Malformed,
        ),
    ];
    for (what, payload, expected) in cases {
        assert_eq!(pow.verify(&payload, NOW), Err(expected), "{what}");
    }
}

#[test]
fn a_challenge_of_another_key_is_refused() {
    let theirs = issuer(OTHER_KEY).issue(NOW, &mut StdRng::seed_from_u64(5));
    assert_eq!(
        issuer(KEY).verify(&solved(&theirs), NOW),
        Err(PowRefusal::BadSignature)
    );
    assert!(issuer(OTHER_KEY).verify(&solved(&theirs), NOW).is_ok());
}

#[test]
fn malformed_payloads_are_refused() {
    let challenge = issued(6);
    let without_expiry = challenge.salt.split_once('?').unwrap().0.to_owned() + "&";
    let pow = issuer(KEY);
    let encoded = |text: &str| STANDARD.encode(text);
    let cases = [
        String::new(),
        "not base64 at all!".to_owned(),
        encoded("not json"),
        encoded("[]"),
        encoded(r#"{"algorithm":"SHA-256"}"#),
        edited(&challenge, |j| j["algorithm"] = "SHA-1".into()),
        edited(&challenge, |j| j["algorithm"] = "sha-256".into()),
        edited(&challenge, |j| j["number"] = "42".into()),
        edited(&challenge, |j| j["number"] = (-1).into()),
        edited(&challenge, |j| j["number"] = 1.5.into()),
        edited(&challenge, |j| {
            j["challenge"] = challenge.challenge.to_uppercase().into()
        }),
        edited(&challenge, |j| j["signature"] = "abc".into()),
        edited(&challenge, |j| j["salt"] = without_expiry.clone().into()),
        edited(&challenge, |j| {
            j["salt"] = challenge.salt.trim_end_matches('&').into()
        }),
        edited(&challenge, |j| j["salt"] = "x?expires=1e9&".into()),
        edited(&challenge, |j| {
            j["salt"] = format!("{}{}", challenge.salt, "a".repeat(300)).into()
        }),
        edited(&challenge, |j| j["padding"] = "x".repeat(2000).into()),
    ];
    for (i, payload) in cases.iter().enumerate() {
        assert_eq!(
            pow.verify(payload, NOW),
            Err(PowRefusal::Malformed),
            "case {i}"
        );
    }
}

#[test]
fn what_the_widget_adds_or_leaves_out_does_not_matter() {
    let challenge = issued(8);
    let pow = issuer(KEY);
    let with_extras = edited(&challenge, |j| {
        j["took"] = 1234.into();
        j["worker"] = true.into();
    });
    assert!(pow.verify(&with_extras, NOW).is_ok());
    let without_took = edited(&challenge, |j| {
        j.as_object_mut().unwrap().remove("took");
    });
    assert!(pow.verify(&without_took, NOW).is_ok());
    let unpadded = solved(&challenge).trim_end_matches('=').to_owned();
    assert!(pow.verify(&format!("  {unpadded}\n"), NOW).is_ok());
}

#[test]
fn the_expiry_may_be_spelled_expire_as_older_altcha_libraries_do() {
    assert_eq!(
        salt_expiry("ab?expire=1800000000&").map(OffsetDateTime::unix_timestamp),
        Some(1_800_000_000)
    );
    assert_eq!(
        salt_expiry("ab?tenant=x&expires=10&").map(OffsetDateTime::unix_timestamp),
        Some(10)
    );
    assert_eq!(salt_expiry("ab?expires=&"), None);
    assert_eq!(salt_expiry("ab?expires=99999999999999999&"), None);
    assert_eq!(salt_expiry("ab?expires=10"), None);
    assert_eq!(salt_expiry("abexpires=10&"), None);
}

#[test]
fn solve_gives_up_beyond_maxnumber() {
    let mut challenge = issued(9);
    let number = solve(&challenge).unwrap();
    challenge.maxnumber = number - 1;
    assert_eq!(solve(&challenge), None);
    challenge.challenge = "zz".to_owned();
    assert_eq!(solve(&challenge), None);
}

#[test]
fn the_default_difficulty_is_solved_natively() {
    let pow = PowIssuer::new(KEY, DEFAULT_DIFFICULTY, DEFAULT_LIFETIME).unwrap();
    let challenge = pow.issue(NOW, &mut StdRng::seed_from_u64(10));
    let number = solve(&challenge).unwrap();
    assert!(pow.verify(&payload(&challenge, number, 0), NOW).is_ok());
}

#[test]
fn the_settings_are_checked() {
    let short = [7u8; MIN_KEY_BYTES - 1];
    assert_eq!(
        PowIssuer::new(&short, EASY, DEFAULT_LIFETIME).unwrap_err(),
        PowSetupError::KeyTooShort
    );
    for difficulty in [0, MAX_DIFFICULTY + 1] {
        assert_eq!(
            PowIssuer::new(KEY, difficulty, DEFAULT_LIFETIME).unwrap_err(),
            PowSetupError::Difficulty
        );
    }
    for lifetime in [
        Duration::ZERO,
        Duration::seconds(-5),
        MAX_LIFETIME + Duration::SECOND,
    ] {
        assert_eq!(
            PowIssuer::new(KEY, EASY, lifetime).unwrap_err(),
            PowSetupError::Lifetime
        );
    }
    let pow = PowIssuer::new(KEY, MAX_DIFFICULTY, MAX_LIFETIME).unwrap();
    assert_eq!(pow.difficulty(), MAX_DIFFICULTY);
    assert_eq!(pow.lifetime(), MAX_LIFETIME);
}

#[test]
fn the_key_never_shows_in_debug() {
    let shown = format!("{:?}", issuer(KEY));
    assert!(!shown.contains("tessera-test"), "{shown}");
    assert!(shown.contains("***"));
}

#[test]
fn refusals_have_stable_codes() {
    let codes: Vec<&str> = [
        PowRefusal::Malformed,
        PowRefusal::BadSignature,
        PowRefusal::WrongSolution,
        PowRefusal::Expired,
        PowRefusal::Replayed,
    ]
    .iter()
    .map(|refusal| refusal.code())
    .collect();
    insta::assert_snapshot!(codes.join(" "), @"pow_malformed pow_bad_signature pow_wrong_solution pow_expired pow_replayed");
}

/// Spent keys in memory, as the store will keep them in a table.
#[derive(Default)]
struct MemorySpent(Mutex<HashSet<String>>);

#[async_trait::async_trait]
impl SpentChallenges for MemorySpent {
    async fn spend(&self, key: &str, _expires_at: OffsetDateTime) -> StoreResult<bool> {
        Ok(self.0.lock().unwrap().insert(key.to_owned()))
    }
}

#[tokio::test]
async fn a_solution_is_redeemed_once() {
    let pow = issuer(KEY);
    let spent = MemorySpent::default();
    let first = issued(11);
    let solution = solved(&first);
    let redeemed = redeem(&pow, &spent, &solution, NOW).await.unwrap().unwrap();
    assert_eq!(redeemed.challenge, first.challenge);
    assert_eq!(
        redeem(&pow, &spent, &solution, NOW).await.unwrap(),
        Err(PowRefusal::Replayed)
    );
    // A refused solution spends nothing.
    let second = issued(12);
    let late = NOW + DEFAULT_LIFETIME;
    assert_eq!(
        redeem(&pow, &spent, &solved(&second), late).await.unwrap(),
        Err(PowRefusal::Expired)
    );
    assert_eq!(spent.0.lock().unwrap().len(), 1);
    assert!(
        redeem(&pow, &spent, &solved(&second), NOW)
            .await
            .unwrap()
            .is_ok()
    );
}

proptest! {
    #[test]
    fn any_text_is_refused_without_panicking(text in "\\PC{0,2000}") {
        prop_assert!(issuer(KEY).verify(&text, NOW).is_err());
    }

    #[test]
    fn any_base64_is_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        prop_assert!(issuer(KEY).verify(&STANDARD.encode(&bytes), NOW).is_err());
    }

    #[test]
    fn payload_shaped_json_with_any_values_never_panics(
        algorithm in "\\PC{0,12}",
        challenge in "[0-9a-f]{0,70}",
        number in any::<u64>(),
        salt in "\\PC{0,300}",
        signature in "[0-9a-fA-F]{0,70}",
    ) {
        let json = serde_json::json!({
            "algorithm": algorithm, "challenge": challenge, "number": number,
            "salt": salt, "signature": signature,
        });
        prop_assert!(issuer(KEY).verify(&STANDARD.encode(json.to_string()), NOW).is_err());
    }

    #[test]
    fn only_the_right_number_verifies(seed in any::<u64>(), guess in 0..=EASY) {
        let challenge = issued(seed);
        let number = solve(&challenge).unwrap();
        let result = issuer(KEY).verify(&payload(&challenge, guess, 0), NOW);
        if guess == number {
            prop_assert!(result.is_ok());
        } else {
            prop_assert_eq!(result, Err(PowRefusal::WrongSolution));
        }
    }
}
