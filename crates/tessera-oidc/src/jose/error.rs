//! What can go wrong with keys and tokens. Messages never contain token or key contents.

use super::Algorithm;

/// A failure to load a key, sign, parse a JWK or verify a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The key pair could not be generated.
    #[error("key generation failed")]
    KeyGeneration,
    /// The stored private key is not PKCS#8 DER for this algorithm (or is too weak).
    #[error("the private key is not a valid PKCS#8 {0} key")]
    InvalidPrivateKey(Algorithm),
    /// A JWK is unusable or unacceptable (private members, unknown type, weak key…).
    #[error("invalid JWK: {0}")]
    InvalidJwk(&'static str),
    /// A JWK set is too large or has too many keys.
    #[error("invalid JWK set: {0}")]
    InvalidJwkSet(&'static str),
    /// The claims could not be serialised as a JSON object.
    #[error("the claims cannot be serialised as a JSON object")]
    Serialization,
    /// The signature could not be computed.
    #[error("signing failed")]
    Signing,
    /// The token is larger than we accept; it was not parsed.
    #[error("the token is too large")]
    TokenTooLarge,
    /// The token is not three base64url parts with JSON objects for header and claims.
    #[error("the token is not a well-formed compact JWS")]
    Malformed,
    /// The header names `none`, an HMAC algorithm or one we do not know.
    #[error("the token's algorithm is not supported")]
    UnsupportedAlgorithm,
    /// The algorithm is supported but not allowed for this kind of token.
    #[error("the token's algorithm is not allowed here")]
    AlgorithmNotAllowed,
    /// The header carries a parameter we never honour (key URLs, embedded keys, `crit`).
    #[error("the token header contains the forbidden parameter '{0}'")]
    ForbiddenHeader(&'static str),
    /// The `kid` is too long or contains control characters.
    #[error("the token's key id is not acceptable")]
    InvalidKeyId,
    /// No key in the set has the token's `kid`, or none fits and the token has no `kid`.
    #[error("no key in the set matches the token")]
    UnknownKey,
    /// The token has no `kid` and more than one key could have signed it.
    #[error("more than one key in the set could have signed the token")]
    AmbiguousKey,
    /// The key named by `kid` does not fit the token's algorithm (type, curve, `alg` or `use`).
    #[error("the key does not fit the token's algorithm")]
    KeyAlgorithmMismatch,
    /// The signature does not verify with the chosen key.
    #[error("the signature is not valid")]
    BadSignature,
    /// A claim that this check requires is absent.
    #[error("the token has no '{0}' claim")]
    MissingClaim(&'static str),
    /// A registered claim has the wrong JSON type.
    #[error("the token's '{0}' claim is malformed")]
    MalformedClaim(&'static str),
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not the expected issuer.
    #[error("the token's issuer is not the expected one")]
    WrongIssuer,
    /// `aud` does not name the expected audience.
    #[error("the token is not meant for this audience")]
    WrongAudience,
    /// The header `typ` is absent or not the expected type.
    #[error("the token's type is not the expected one")]
    WrongType,
    /// The claims are valid JSON but do not have the shape the caller asked for.
    #[error("the token's claims do not have the expected shape")]
    UnexpectedClaims,
}

impl JoseError {
    /// A stable code for logs, audit events and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeyGeneration => "key_generation",
            Self::InvalidPrivateKey(_) => "invalid_private_key",
            Self::InvalidJwk(_) => "invalid_jwk",
            Self::InvalidJwkSet(_) => "invalid_jwk_set",
            Self::Serialization => "serialization",
            Self::Signing => "signing",
            Self::TokenTooLarge => "token_too_large",
            Self::Malformed => "malformed",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::ForbiddenHeader(_) => "forbidden_header",
            Self::InvalidKeyId => "invalid_key_id",
            Self::UnknownKey => "unknown_key",
            Self::AmbiguousKey => "ambiguous_key",
            Self::KeyAlgorithmMismatch => "key_algorithm_mismatch",
            Self::BadSignature => "bad_signature",
            Self::MissingClaim(_) => "missing_claim",
            Self::MalformedClaim(_) => "malformed_claim",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::WrongType => "wrong_type",
            Self::UnexpectedClaims => "unexpected_claims",
        }
    }
}
