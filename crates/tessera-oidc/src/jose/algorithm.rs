//! The JWS algorithms Tessera signs and verifies with: ES256, EdDSA (Ed25519) and RS256.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A JWS signature algorithm (RFC 7518, RFC 8037). Nothing else is ever accepted: not
/// `none`, not HMAC (which would let a public key serve as a shared secret), not PS256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519 (RFC 8037).
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256: the OpenID Connect default for ID tokens.
    #[serde(rename = "RS256")]
    Rs256,
}

impl Algorithm {
    /// Every supported algorithm, the OpenID Connect default first.
    pub const ALL: [Algorithm; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The `alg` value, as written in JWS headers, JWKs and discovery documents.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
        }
    }

    /// Reads an `alg` value. Exact and case-sensitive, as RFC 7515 requires.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == name)
    }

    /// The same algorithm in `jsonwebtoken`'s terms.
    pub(crate) fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_text_and_json() {
        for algorithm in Algorithm::ALL {
            assert_eq!(Algorithm::parse(algorithm.as_str()), Some(algorithm));
            let json = serde_json::to_string(&algorithm).unwrap();
            assert_eq!(json, format!("\"{algorithm}\""));
            assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), algorithm);
        }
    }

    #[test]
    fn other_names_are_unknown() {
        for name in [
            "none", "None", "HS256", "es256", "EDDSA", "PS256", "ES384", "",
        ] {
            assert_eq!(Algorithm::parse(name), None, "{name}");
            assert!(serde_json::from_str::<Algorithm>(&format!("\"{name}\"")).is_err());
        }
    }
}
