//! JOSE: signing keys, JWKS and JWT signing/verification.
//!
//! [`SigningKey`] holds one of our private keys (ES256, EdDSA or RS256), named by its
//! RFC 7638 thumbprint and stored as PKCS#8 DER (sealed at rest by the caller).
//! [`Jwk`] and [`JwkSet`] are public keys, ours to publish or a client's to check its
//! tokens with; parsing refuses private members, unknown key types and weak keys.
//! [`verify`] checks a token from outside against a key set and [`Expectations`], refusing
//! `none`, HMAC and anything not allowed (SECURITY.md A25–A28, A55).
//!
//! Cryptography is aws-lc's, through `jsonwebtoken`'s aws-lc provider for verification,
//! which is called explicitly: nothing here depends on a process-wide crypto provider.

mod algorithm;
mod error;
mod jwk;
mod signing_key;
mod verify;

#[cfg(test)]
mod tests;

pub use algorithm::Algorithm;
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet, MAX_JWK_SET_BYTES, MAX_KEYS, MAX_KID_BYTES};
pub use signing_key::SigningKey;
pub use verify::{Expectations, MAX_LEEWAY, MAX_TOKEN_BYTES, verify};
