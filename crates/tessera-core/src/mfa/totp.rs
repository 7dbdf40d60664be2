//! TOTP (RFC 6238): the authenticator-app factor. Six digits, 30-second steps, SHA-1 (what
//! every authenticator app supports), one step of clock drift either way. A code is
//! accepted once: the store keeps the newest step accepted and refuses any step that is not
//! newer (A41), so a code seen over a shoulder or in a proxy log is worthless.

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Totp};
use zeroize::Zeroizing;

/// Seed length: 160 bits, the size RFC 4226 recommends for HMAC-SHA-1.
pub const SEED_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
/// Steps of drift accepted either side of now.
const SKEW: u16 = 1;

/// A TOTP seed, only ever in memory; at rest it is sealed.
pub struct TotpSeed(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSeed(…)")
    }
}

impl TotpSeed {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SEED_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(Zeroizing::new(bytes))
    }

    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// A seed given as base32 (as apps and exports show it; imports carry it so), if it
    /// decodes to at least 128 bits.
    pub fn from_base32(text: &str) -> Option<Self> {
        let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let secret = totp_rs::Secret::try_from_base32(cleaned.to_ascii_uppercase()).ok()?;
        let bytes = secret.as_bytes();
        (bytes.len() >= 16).then(|| Self(Zeroizing::new(bytes.to_vec())))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self) -> Totp {
        // `build_noncompliant` skips checks that cannot fail for these constants and a
        // 20-byte seed; it never panics for 6 digits.
        totp_rs::Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.to_vec())
            .build_noncompliant()
    }

    /// The seed as the base32 text an app accepts when typed in.
    pub fn base32(&self) -> SecretString {
        SecretString::from(self.totp().secret().to_base32())
    }

    /// The `otpauth://` URI of the enrolment QR code. `issuer` is the tenant's display
    /// name and `account` the user's email; `:` would break the label, so it is dropped.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> SecretString {
        let clean = |text: &str| text.replace(':', "");
        let (issuer, account) = (clean(issuer), clean(account));
        let encode = |text: &str| {
            url::form_urlencoded::byte_serialize(text.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        };
        SecretString::from(format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            encode(&issuer),
            encode(&account),
            self.base32().expose_secret(),
            encode(&issuer),
        ))
    }

    /// The time step `code` matches at `now`, if any. Spaces in the code are ignored.
    pub fn matching_step(&self, code: &str, now: OffsetDateTime) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let seconds = u64::try_from(now.unix_timestamp()).ok()?;
        self.totp().check(&code, seconds)
    }

    /// The code of `now` (for tests and for the enrolment page's self-check).
    pub fn code_at(&self, now: OffsetDateTime) -> String {
        let seconds = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        self.totp().generate(seconds).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn rfc_seed() -> TotpSeed {
        TotpSeed::from_bytes(Zeroizing::new(b"12345678901234567890".to_vec()))
    }

    #[test]
    fn codes_follow_rfc_6238_vectors() {
        // RFC 6238 Appendix B, SHA-1, truncated to 6 digits.
        let seed = rfc_seed();
        assert_eq!(seed.code_at(datetime!(1970-01-01 00:00:59 UTC)), "287082");
        assert_eq!(seed.code_at(datetime!(2009-02-13 23:31:30 UTC)), "005924");
    }

    #[test]
    fn a_code_matches_its_step_and_one_step_of_drift() {
        let seed = rfc_seed();
        let at = datetime!(2026-11-01 12:00:10 UTC);
        let step = u64::try_from(at.unix_timestamp()).unwrap() / 30;
        let code = seed.code_at(at);
        assert_eq!(seed.matching_step(&code, at), Some(step));
        assert_eq!(
            seed.matching_step(&code, at + time::Duration::seconds(30)),
            Some(step)
        );
        assert_eq!(
            seed.matching_step(&code, at + time::Duration::seconds(90)),
            None
        );
        assert_eq!(seed.matching_step("12345", at), None);
        assert_eq!(seed.matching_step("abcdef", at), None);
        assert_eq!(seed.matching_step("", at), None);
    }

    #[test]
    fn base32_seeds_round_trip_and_short_ones_are_refused() {
        let seed = TotpSeed::generate();
        let again = TotpSeed::from_base32(&seed.base32().expose_secret().to_lowercase()).unwrap();
        assert_eq!(again.as_bytes(), seed.as_bytes());
        assert!(TotpSeed::from_base32("GEZDGNBV").is_none());
        assert!(TotpSeed::from_base32("not base32!").is_none());
    }

    #[test]
    fn the_provisioning_uri_names_issuer_and_account() {
        let uri = rfc_seed().provisioning_uri("Acme: Shop", "alice@example.com");
        assert_eq!(
            uri.expose_secret(),
            "otpauth://totp/Acme%20Shop:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Shop&algorithm=SHA1&digits=6&period=30"
        );
    }
}
