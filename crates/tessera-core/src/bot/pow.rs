//! The built-in proof of work, compatible with ALTCHA (PoW v1, the protocol of the ALTCHA
//! widget 1.x and 2.x and of `altcha-lib/v1` and its ports): no third party is called, and
//! the server keeps no state between issuing a challenge and checking its solution. (The
//! ALTCHA widget 3.x speaks a newer protocol, PoW v2, built on key derivation: the pages
//! must embed a 2.x widget.)
//!
//! A challenge is a random `salt` and a secret `number` between 1 and `maxnumber`;
//! the browser gets `challenge = hex(SHA-256(salt ‖ decimal(number)))` and must find the
//! number by trying them all, which costs it on average `maxnumber / 2` hashes. It sends back
//! its solution as `base64(JSON {algorithm, challenge, number, salt, signature, took})` in the
//! form field `altcha`. The server recomputes one hash.
//!
//! Statelessness comes from two facts: `signature = hex(HMAC-SHA-256(key, challenge))` proves
//! that the challenge is ours, and the salt carries its own expiry
//! (`<random hex>?expires=<unix seconds>&`), bound to the challenge by the hash: changing
//! the expiry changes the hash, and finding a number for the changed salt is the same
//! brute force as solving honestly, which would still need our signature. The trailing `&`
//! (ALTCHA's own delimiter) stops digits of the number from being moved into the salt's
//! expiry.
//!
//! What statelessness cannot give is single use: a solved payload would verify again until
//! it expires. [`VerifiedPow::replay_key`] is what the caller records through
//! [`SpentChallenges`] until [`VerifiedPow::expires_at`]; [`redeem`] does both steps.

use crate::store::StoreResult;
use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

/// The only hash offered (ALTCHA also knows SHA-1 and SHA-512; neither is needed).
pub const ALGORITHM: &str = "SHA-256";

/// The form field the ALTCHA widget posts its solution in.
pub const FORM_FIELD: &str = "altcha";

/// The default `maxnumber`: a browser tries on average half of it, at most all of it.
///
/// ALTCHA's published benchmarks for its widget (altcha.org, "Complexity") give the time to
/// try 100,000 numbers with SHA-256 in the browser: 0.33 s on a MacBook Pro M3 Pro, 0.83 s on
/// an iPhone 12 mini, 2.5 s on a Samsung Galaxy A14 (a cheap 2023 phone). So 100,000 costs
/// recent devices 0.3 to 0.8 s at worst and half that on average, and a slow phone about a
/// second on average: noticeable to a bot farm that signs up by the thousand, hardly to a
/// person. altcha-lib's own default, 1,000,000, would make the slow phone wait up to 25 s.
/// Native code tries all 100,000 in about 15 ms on one core (the `pow` benchmark), so the
/// work slows bots down and costs them CPU; it does not stop a determined one on its own.
pub const DEFAULT_DIFFICULTY: u64 = 100_000;
/// The highest `maxnumber` accepted: about 100 times the default, tens of seconds on a phone.
pub const MAX_DIFFICULTY: u64 = 10_000_000;
/// How long a challenge may be solved and submitted. The widget fetches a fresh one when
/// it expires, so this only bounds how long a spent key must be remembered.
pub const DEFAULT_LIFETIME: Duration = Duration::minutes(10);
/// The longest lifetime accepted.
pub const MAX_LIFETIME: Duration = Duration::days(1);
/// The shortest HMAC key accepted: 256 bits, the size of the HMAC-SHA-256 output.
pub const MIN_KEY_BYTES: usize = 32;

/// Random bytes in a salt: 128 bits, so that no two challenges share a salt.
const SALT_BYTES: usize = 16;
/// The longest base64 payload looked at. A genuine one is about 400 characters.
const MAX_PAYLOAD_CHARS: usize = 1024;
/// The longest salt looked at. Ours are 32 hex digits and `?expires=<10 digits>&`.
const MAX_SALT_CHARS: usize = 256;

/// The widget's base64: standard alphabet, padding optional.
const PAYLOAD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A challenge as the widget fetches it (JSON, ALTCHA's field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Always [`ALGORITHM`].
    pub algorithm: String,
    /// `hex(SHA-256(salt ‖ number))`, lower case.
    pub challenge: String,
    /// The highest number to try.
    pub maxnumber: u64,
    /// Random hex, then `?expires=<unix seconds>&`.
    pub salt: String,
    /// `hex(HMAC-SHA-256(key, challenge))`, lower case.
    pub signature: String,
}

/// What the widget posts back, decoded.
#[derive(Debug, Clone, Deserialize)]
struct Payload {
    algorithm: String,
    challenge: String,
    number: u64,
    salt: String,
    signature: String,
}

/// Why a solution is refused. The person sees only that the check failed (and the widget
/// tries again); the reason is for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowRefusal {
    /// Not an ALTCHA payload of ours: bad base64 or JSON, a missing field, another algorithm,
    /// a salt without its expiry, or too long.
    #[error("the proof of work is malformed")]
    Malformed,
    /// The challenge was not signed with this key (forged, altered, or another tenant's).
    #[error("the proof of work is not signed by us")]
    BadSignature,
    /// The number does not hash to the challenge with this salt (a wrong guess, or an
    /// altered salt or number).
    #[error("the proof of work is not solved")]
    WrongSolution,
    /// A genuine solution, submitted after its challenge expired.
    #[error("the proof of work has expired")]
    Expired,
    /// A genuine solution that was already used once.
    #[error("the proof of work was already used")]
    Replayed,
}

impl PowRefusal {
    /// A stable code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "pow_malformed",
            Self::BadSignature => "pow_bad_signature",
            Self::WrongSolution => "pow_wrong_solution",
            Self::Expired => "pow_expired",
            Self::Replayed => "pow_replayed",
        }
    }
}

/// Why a [`PowIssuer`] cannot be made from the settings given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowSetupError {
    /// The HMAC key is shorter than [`MIN_KEY_BYTES`].
    #[error("the proof-of-work key must have at least {MIN_KEY_BYTES} bytes")]
    KeyTooShort,
    /// The difficulty is 0 or above [`MAX_DIFFICULTY`].
    #[error("the proof-of-work difficulty must be 1 to {MAX_DIFFICULTY}")]
    Difficulty,
    /// The lifetime is not positive or above [`MAX_LIFETIME`].
    #[error("the proof-of-work lifetime must be positive and at most a day")]
    Lifetime,
}

/// A solution that passed every check. It is not yet spent: record
/// [`replay_key`](Self::replay_key) (or use [`redeem`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPow {
    /// The challenge, lower-case hex (64 characters): unique per challenge.
    pub challenge: String,
    /// When the challenge expires; the key must be remembered until then.
    pub expires_at: OffsetDateTime,
}

impl VerifiedPow {
    /// The key to record as spent: the challenge's hex.
    pub fn replay_key(&self) -> &str {
        &self.challenge
    }
}

/// Issues and checks challenges with one HMAC key. Give each tenant its own key (derived
/// from a server secret and the tenant id): then a challenge of one tenant fails another's
/// check with [`PowRefusal::BadSignature`].
pub struct PowIssuer {
    key: hmac::Key,
    difficulty: u64,
    lifetime: Duration,
}

impl std::fmt::Debug for PowIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowIssuer")
            .field("key", &"***")
            .field("difficulty", &self.difficulty)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl PowIssuer {
    /// An issuer signing with `hmac_key` (ALTCHA libraries take it as a string and use its
    /// UTF-8 bytes), making challenges of `difficulty` (`maxnumber`) that live `lifetime`.
    pub fn new(
        hmac_key: &[u8],
        difficulty: u64,
        lifetime: Duration,
    ) -> Result<Self, PowSetupError> {
        if hmac_key.len() < MIN_KEY_BYTES {
            return Err(PowSetupError::KeyTooShort);
        }
        if !(1..=MAX_DIFFICULTY).contains(&difficulty) {
            return Err(PowSetupError::Difficulty);
        }
        if !lifetime.is_positive() || lifetime > MAX_LIFETIME {
            return Err(PowSetupError::Lifetime);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, hmac_key),
            difficulty,
            lifetime,
        })
    }

    pub fn difficulty(&self) -> u64 {
        self.difficulty
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A new challenge, valid from `now` for the issuer's lifetime.
    pub fn issue<R: CryptoRng + ?Sized>(&self, now: OffsetDateTime, rng: &mut R) -> Challenge {
        let mut random = [0u8; SALT_BYTES];
        rng.fill_bytes(&mut random);
        let expires = (now + self.lifetime).unix_timestamp();
        let salt = format!("{}?expires={expires}&", hex(&random));
        let number = rng.random_range(1..=self.difficulty);
        let challenge = hex(&hash(&salt, number));
        let signature = hex(hmac::sign(&self.key, challenge.as_bytes()).as_ref());
        Challenge {
            algorithm: ALGORITHM.to_owned(),
            challenge,
            maxnumber: self.difficulty,
            salt,
            signature,
        }
    }

    /// Checks a solution as the widget posts it (the `altcha` field) at `now`. Never
    /// panics; every comparison of a digest runs in constant time.
    ///
    /// The checks run in this order: the shape, our signature on the challenge, the
    /// number against the challenge (which also proves the salt, expiry included, is the
    /// one issued), and last the expiry, so that [`PowRefusal::Expired`] is only said of
    /// genuine solutions.
    pub fn verify(&self, payload: &str, now: OffsetDateTime) -> Result<VerifiedPow, PowRefusal> {
        let payload = decode(payload)?;
        if payload.algorithm != ALGORITHM {
            return Err(PowRefusal::Malformed);
        }
        let challenge = unhex32(&payload.challenge).ok_or(PowRefusal::Malformed)?;
        let signature = unhex32(&payload.signature).ok_or(PowRefusal::Malformed)?;
        let expires_at = salt_expiry(&payload.salt).ok_or(PowRefusal::Malformed)?;

        let expected = hmac::sign(&self.key, payload.challenge.as_bytes());
        if !bool::from(expected.as_ref().ct_eq(&signature)) {
            return Err(PowRefusal::BadSignature);
        }
        if !bool::from(hash(&payload.salt, payload.number).ct_eq(&challenge)) {
            return Err(PowRefusal::WrongSolution);
        }
        if now >= expires_at {
            return Err(PowRefusal::Expired);
        }
        Ok(VerifiedPow {
            challenge: payload.challenge,
            expires_at,
        })
    }
}

/// Records spent challenges until they expire, so that a solution works once. The store
/// implements it with a table keyed by the challenge, written atomically (`INSERT … ON
/// CONFLICT DO NOTHING`), so that two parallel requests with one solution cannot both pass.
/// Rows past their `expires_at` may be purged.
#[async_trait::async_trait]
pub trait SpentChallenges: Send + Sync {
    /// Marks `key` spent until `expires_at`: true when this is its first use, false when it
    /// was spent before.
    async fn spend(&self, key: &str, expires_at: OffsetDateTime) -> StoreResult<bool>;
}

/// Verifies `payload` and spends it: the whole server-side check. The outer error is the
/// store's (the caller decides whether to fail closed); the inner result is the decision.
pub async fn redeem(
    issuer: &PowIssuer,
    spent: &dyn SpentChallenges,
    payload: &str,
    now: OffsetDateTime,
) -> StoreResult<Result<VerifiedPow, PowRefusal>> {
    let verified = match issuer.verify(payload, now) {
        Ok(verified) => verified,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if spent
        .spend(verified.replay_key(), verified.expires_at)
        .await?
    {
        Ok(Ok(verified))
    } else {
        Ok(Err(PowRefusal::Replayed))
    }
}

/// Finds the number, by brute force from 0 as the widget does: `None` when no number up to
/// `maxnumber` fits (not a challenge of this protocol). For tests and benchmarks.
pub fn solve(challenge: &Challenge) -> Option<u64> {
    let target = unhex32(&challenge.challenge)?;
    let mut input = challenge.salt.as_bytes().to_vec();
    let salt_len = input.len();
    for number in 0..=challenge.maxnumber {
        input.truncate(salt_len);
        push_decimal(&mut input, number);
        if digest::digest(&digest::SHA256, &input).as_ref() == target {
            return Some(number);
        }
    }
    None
}

/// The `altcha` field the widget would post for `number`, having spent `took_ms`.
pub fn payload(challenge: &Challenge, number: u64, took_ms: u64) -> String {
    let json = serde_json::json!({
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "number": number,
        "salt": challenge.salt,
        "signature": challenge.signature,
        "took": took_ms,
    });
    STANDARD.encode(json.to_string())
}

fn decode(payload: &str) -> Result<Payload, PowRefusal> {
    let payload = payload.trim();
    if payload.len() > MAX_PAYLOAD_CHARS {
        return Err(PowRefusal::Malformed);
    }
    let json = PAYLOAD_BASE64
        .decode(payload)
        .map_err(|_| PowRefusal::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| PowRefusal::Malformed)
}

/// The expiry a salt carries: `expires` (or ALTCHA's older `expire`) among the parameters
/// after `?`. The salt must end with ALTCHA's `&` delimiter and have an expiry: we issue
/// none without, and one without would be valid forever.
fn salt_expiry(salt: &str) -> Option<OffsetDateTime> {
    if salt.len() > MAX_SALT_CHARS || !salt.ends_with('&') {
        return None;
    }
    let (_, query) = salt.split_once('?')?;
    let value = query.split('&').find_map(|pair| {
        pair.strip_prefix("expires=")
            .or_else(|| pair.strip_prefix("expire="))
    })?;
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = value.parse().ok()?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// `SHA-256(salt ‖ decimal(number))`, as ALTCHA's JavaScript `salt + number` makes it.
fn hash(salt: &str, number: u64) -> [u8; 32] {
    let mut input = Vec::with_capacity(salt.len() + 20);
    input.extend_from_slice(salt.as_bytes());
    push_decimal(&mut input, number);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, &input).as_ref());
    out
}

fn push_decimal(into: &mut Vec<u8>, number: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = number;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    into.extend_from_slice(&digits[at..]);
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// 64 lower-case hex digits as 32 bytes (ALTCHA writes lower case; its verifier compares
/// the strings, so upper case would fail there too).
fn unhex32(text: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
