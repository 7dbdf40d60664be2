//! High-entropy secrets (API tokens today; client secrets and session ids later).
//!
//! They are random enough that a fast hash is safe: we store and compare SHA-256 digests,
//! never the secret, and never an Argon2 hash (which would cap token checks at ~50/s).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// 256 random bits; well past the 128 that SECURITY.md asks for.
const SECRET_BYTES: usize = 32;

/// Makes a new secret `prefix_<43 base64url characters>` from a CSPRNG (ChaCha12 seeded by the OS).
/// The prefix lets secret scanners and people recognise what leaked.
pub fn generate_secret(prefix: &str) -> SecretString {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The SHA-256 digest of a secret, the only form in which secrets are stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn of(secret: &SecretString) -> Self {
        Self::of_str(secret.expose_secret())
    }

    pub fn of_str(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares without leaking through timing where the two hashes first differ.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_long() {
        let a = generate_secret("tsr");
        let b = generate_secret("tsr");
        assert!(a.expose_secret().starts_with("tsr_"));
        assert_eq!(a.expose_secret().len(), 4 + 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn hashes_compare_by_content() {
        let secret = generate_secret("tsr");
        assert!(SecretHash::of(&secret).matches(&SecretHash::of_str(secret.expose_secret())));
        assert!(!SecretHash::of(&secret).matches(&SecretHash::of_str("other")));
        assert_eq!(format!("{:?}", SecretHash::of(&secret)), "SecretHash(***)");
    }
}
