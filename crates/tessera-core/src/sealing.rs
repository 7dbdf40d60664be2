//! Secrets at rest (signing keys now, TOTP seeds later): authenticated encryption with a key
//! from configuration.
//!
//! A sealed value is `[format version 1] || nonce (12 bytes) || ciphertext || tag (16 bytes)`,
//! encrypted with AES-256-GCM under a fresh random nonce. The caller's `context` (for example
//! `b"signing-key:<kid>"`) is the associated data: a value sealed for one purpose or row does
//! not open for another, so a database writer cannot swap two sealed columns unnoticed.
//! Random 96-bit nonces keep AES-GCM within its limits for up to 2³² seals under one key
//! (NIST SP 800-38D), far more than the few secrets per account that this protects.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::RngCore;
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Length of a sealing key: AES-256.
const KEY_LEN: usize = 32;
/// The first byte of every sealed value; a new format gets a new number.
const FORMAT_VERSION: u8 = 1;
/// Length of the AES-GCM authentication tag.
const TAG_LEN: usize = 16;
/// The shortest sealed value: version, nonce and tag around an empty plaintext.
const MIN_SEALED_LEN: usize = 1 + NONCE_LEN + TAG_LEN;

/// Reads keys written by any tool: padding optional, either alphabet.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Why a configured sealing key was refused. Never contains the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// The text is not base64 (standard or URL-safe).
    #[error("it is not base64")]
    NotBase64,
    /// The text decodes to the wrong number of bytes.
    #[error("it decodes to {found} bytes, {KEY_LEN} expected")]
    WrongLength { found: usize },
}

/// What went wrong while loading a key, sealing or opening.
#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    /// The configured key is unusable.
    #[error("invalid sealing key: {0}")]
    BadKey(KeyProblem),
    /// Wrong key, wrong context, truncated or altered data.
    #[error("the sealed value cannot be decrypted")]
    Undecryptable,
    /// The value was sealed in a format this version does not know (newer software?).
    #[error("unknown sealed format version {0}")]
    UnknownFormat(u8),
    /// The cryptographic library refused to encrypt; only possible for absurd sizes.
    #[error("encryption failed")]
    EncryptionFailed,
}

/// The key that seals secrets at rest: 32 random bytes, wiped from memory on drop.
pub struct SealingKey(Zeroizing<[u8; KEY_LEN]>);

impl SealingKey {
    /// A new random key from the operating system's CSPRNG (through `rand`'s ChaCha12).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// A 256-bit key for another purpose (`label`, e.g. signing proof-of-work challenges),
    /// derived from this one with HMAC-SHA-256: one configured secret serves every instance.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; KEY_LEN]> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, self.0.as_ref());
        let tag = aws_lc_rs::hmac::sign(&key, label.as_bytes());
        let mut derived = Zeroizing::new([0u8; KEY_LEN]);
        derived.copy_from_slice(tag.as_ref());
        derived
    }

    /// Reads a key from configuration: standard or URL-safe base64, padded or not, surrounding
    /// whitespace ignored (key files end with a newline). It must decode to exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, SealingError> {
        let text = text.trim();
        let engine = if text.contains(['-', '_']) {
            &URL_SAFE_LENIENT
        } else {
            &STANDARD_LENIENT
        };
        let decoded = Zeroizing::new(
            engine
                .decode(text)
                .map_err(|_| SealingError::BadKey(KeyProblem::NotBase64))?,
        );
        let bytes: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            SealingError::BadKey(KeyProblem::WrongLength {
                found: decoded.len(),
            })
        })?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The key as URL-safe base64 without padding, for writing a generated key file.
    /// Wiped from memory when the returned text is dropped.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.as_slice()))
    }

    /// Encrypts `plaintext`, binding it to `context`, which must be given again to open it.
    ///
    /// Returns a `Result` rather than panicking: AES-GCM cannot fail for the sizes we seal
    /// (it refuses only plaintexts beyond 64 GiB), but the library reports errors as values.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealingError> {
        let key = self.aead_key().ok_or(SealingError::EncryptionFailed)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);

        // Exact capacity: no reallocation leaves a copy of the plaintext behind.
        let mut sealed = Vec::with_capacity(MIN_SEALED_LEN + plaintext.len());
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let header_len = 1 + NONCE_LEN;
        let tag = key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context),
            &mut sealed[header_len..],
        );
        match tag {
            Ok(tag) => {
                sealed.extend_from_slice(tag.as_ref());
                Ok(sealed)
            }
            Err(_) => {
                sealed.zeroize();
                Err(SealingError::EncryptionFailed)
            }
        }
    }

    /// Decrypts a value made by [`SealingKey::seal`] with the same key and `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealingError> {
        let (&version, rest) = sealed.split_first().ok_or(SealingError::Undecryptable)?;
        if version != FORMAT_VERSION {
            return Err(SealingError::UnknownFormat(version));
        }
        if sealed.len() < MIN_SEALED_LEN {
            return Err(SealingError::Undecryptable);
        }
        let (nonce, ciphertext) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or(SealingError::Undecryptable)?;
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealingError::Undecryptable)?;
        let key = self.aead_key().ok_or(SealingError::Undecryptable)?;

        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plaintext_len = key
            .open_in_place(nonce, Aad::from(context), in_out.as_mut_slice())
            .map_err(|_| SealingError::Undecryptable)?
            .len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }

    /// The AES key; `None` cannot happen with a 32-byte key, but is not a panic.
    fn aead_key(&self) -> Option<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, self.0.as_slice())
            .ok()
            .map(LessSafeKey::new)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    const CONTEXT: &[u8] = b"signing-key:abc";

    fn sealed_secret(key: &SealingKey) -> Vec<u8> {
        key.seal(b"the secret", CONTEXT).unwrap()
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_context() {
        let key = SealingKey::generate();
        let sealed = sealed_secret(&key);
        assert_eq!(sealed[0], FORMAT_VERSION);
        assert_eq!(sealed.len(), MIN_SEALED_LEN + b"the secret".len());
        assert_eq!(
            key.open(&sealed, CONTEXT).unwrap().as_slice(),
            b"the secret"
        );
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let key = SealingKey::generate();
        assert_ne!(sealed_secret(&key), sealed_secret(&key));
    }

    #[test]
    fn the_empty_plaintext_round_trips() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"", CONTEXT).unwrap();
        assert_eq!(sealed.len(), MIN_SEALED_LEN);
        assert!(key.open(&sealed, CONTEXT).unwrap().is_empty());
    }

    #[test]
    fn another_key_cannot_open() {
        let sealed = sealed_secret(&SealingKey::generate());
        let other = SealingKey::generate();
        assert!(matches!(
            other.open(&sealed, CONTEXT),
            Err(SealingError::Undecryptable)
        ));
    }

    #[test]
    fn another_context_cannot_open() {
        let key = SealingKey::generate();
        let sealed = sealed_secret(&key);
        assert!(matches!(
            key.open(&sealed, b"signing-key:abd"),
            Err(SealingError::Undecryptable)
        ));
        assert!(matches!(
            key.open(&sealed, b""),
            Err(SealingError::Undecryptable)
        ));
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let key = SealingKey::generate();
        let sealed = sealed_secret(&key);
        for index in 1..sealed.len() {
            for bit in 0..8 {
                let mut altered = sealed.clone();
                altered[index] ^= 1 << bit;
                assert!(
                    matches!(
                        key.open(&altered, CONTEXT),
                        Err(SealingError::Undecryptable)
                    ),
                    "byte {index} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn an_altered_version_is_reported_as_unknown_format() {
        let key = SealingKey::generate();
        let mut sealed = sealed_secret(&key);
        sealed[0] = 2;
        assert!(matches!(
            key.open(&sealed, CONTEXT),
            Err(SealingError::UnknownFormat(2))
        ));
    }

    #[test]
    fn truncated_values_do_not_open() {
        let key = SealingKey::generate();
        let sealed = sealed_secret(&key);
        for len in 0..sealed.len() {
            assert!(
                matches!(
                    key.open(&sealed[..len], CONTEXT),
                    Err(SealingError::Undecryptable)
                ),
                "length {len}"
            );
        }
    }

    #[test]
    fn keys_round_trip_through_base64_in_every_spelling() {
        let key = SealingKey::generate();
        let bytes = *key.0;
        let text = key.to_base64();
        assert_eq!(text.len(), 43);
        for spelling in [
            text.to_string(),
            STANDARD.encode(bytes),
            URL_SAFE.encode(bytes),
            STANDARD.encode(bytes).trim_end_matches('=').to_owned(),
            format!("{}\n", *text),
        ] {
            let read = SealingKey::from_base64(&spelling).unwrap();
            assert_eq!(*read.0, bytes, "{spelling}");
        }
    }

    #[test]
    fn bad_key_text_is_refused_without_echoing_it() {
        let not_base64 = SealingKey::from_base64("not*base64!").unwrap_err();
        assert!(matches!(
            not_base64,
            SealingError::BadKey(KeyProblem::NotBase64)
        ));
        assert!(!not_base64.to_string().contains("not*base64"));

        let short = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let error = SealingKey::from_base64(&short).unwrap_err();
        assert!(matches!(
            error,
            SealingError::BadKey(KeyProblem::WrongLength { found: 16 })
        ));
        assert_eq!(
            error.to_string(),
            "invalid sealing key: it decodes to 16 bytes, 32 expected"
        );
        assert!(!error.to_string().contains(&short));

        let long = URL_SAFE_NO_PAD.encode([7u8; 33]);
        assert!(SealingKey::from_base64(&long).is_err());
        assert!(SealingKey::from_base64("").is_err());
        // Both alphabets mixed in one text is not base64 in either.
        let mixed = format!("+_{}", &URL_SAFE_NO_PAD.encode([7u8; 32])[2..]);
        assert!(SealingKey::from_base64(&mixed).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let key = SealingKey::generate();
        let debug = format!("{key:?}");
        assert_eq!(debug, "SealingKey(***)");
        assert!(!debug.contains(key.to_base64().as_str()));
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics(
            sealed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            context in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let key = SealingKey::from_base64(&URL_SAFE_NO_PAD.encode([1u8; 32])).unwrap();
            let mut versioned = sealed.clone();
            if let Some(first) = versioned.first_mut() {
                *first = FORMAT_VERSION;
            }
            proptest::prop_assert!(key.open(&sealed, &context).is_err());
            proptest::prop_assert!(key.open(&versioned, &context).is_err());
        }

        #[test]
        fn from_base64_never_panics(text in "\\PC{0,100}") {
            let _ = SealingKey::from_base64(&text);
        }
    }
}
