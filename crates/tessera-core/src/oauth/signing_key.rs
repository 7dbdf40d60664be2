//! Stored token-signing keys. The private key is sealed with the configured key; the public
//! JWK is kept in clear for `/jwks`.

use super::client::SigningAlgorithm;
use time::OffsetDateTime;

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    /// The PKCS#8 private key, sealed (`SealingKey::seal` with context `signing-key:<kid>`).
    pub sealed_private_key: Vec<u8>,
    pub public_jwk: serde_json::Value,
    pub created_at: OffsetDateTime,
    /// Published from `created_at`, used for signing from here on (A29: publish before sign).
    pub activates_at: OffsetDateTime,
    /// Set when a newer key took over; the key is published until its tokens have expired.
    pub retires_at: Option<OffsetDateTime>,
}

impl SigningKeyRecord {
    /// Whether the key belongs in the published set at `now`.
    pub fn is_published(&self, now: OffsetDateTime) -> bool {
        self.retires_at.is_none_or(|at| now < at)
    }

    /// Whether the key may sign at `now`.
    pub fn may_sign(&self, now: OffsetDateTime) -> bool {
        now >= self.activates_at && self.is_published(now)
    }
}
