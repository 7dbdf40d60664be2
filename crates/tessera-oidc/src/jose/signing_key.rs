//! Our signing keys: generated or loaded from PKCS#8, identified by their RFC 7638
//! thumbprint, published as JWKs, and used to sign compact JWS tokens.
//!
//! Signing calls aws-lc directly on the parsed key pair rather than `jsonwebtoken::encode`:
//! that crate re-parses the private key on every signature, its RSA signer wants PKCS#1 DER
//! (which aws-lc cannot export; we store PKCS#8), and its EdDSA signer can panic.

use super::jwk::PublicKey;
use super::{Algorithm, JoseError, Jwk};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use std::fmt;
use zeroize::Zeroizing;

/// The parsed private key.
enum KeyPair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Rs256(RsaKeyPair),
}

/// A private key that signs tokens. Its `Debug` shows the algorithm and key id only.
pub struct SigningKey {
    key_pair: KeyPair,
    public: Jwk,
    kid: String,
}

impl SigningKey {
    /// New key pair; returns the key and its private key as PKCS#8 DER (zeroized) for storage.
    /// RSA keys have 2048 bits.
    pub fn generate(algorithm: Algorithm) -> Result<(Self, Zeroizing<Vec<u8>>), JoseError> {
        let rng = SystemRandom::new();
        // aws-lc's documents wipe themselves when dropped; the copy is wiped by `Zeroizing`.
        let der = match algorithm {
            Algorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map(|document| Zeroizing::new(document.as_ref().to_vec()))
            }
            Algorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
                .map(|document| Zeroizing::new(document.as_ref().to_vec())),
            Algorithm::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|key_pair| key_pair.as_der())
                .map(|document| Zeroizing::new(document.as_ref().to_vec())),
        }
        .map_err(|_| JoseError::KeyGeneration)?;
        let key = Self::from_pkcs8(algorithm, &der)?;
        Ok((key, der))
    }

    /// Loads a stored private key (PKCS#8 DER; v1 or v2 for Ed25519). RSA keys must have
    /// 2048 to 8192 bits.
    pub fn from_pkcs8(algorithm: Algorithm, der: &[u8]) -> Result<Self, JoseError> {
        let invalid = |_| JoseError::InvalidPrivateKey(algorithm);
        let (key_pair, public) = match algorithm {
            Algorithm::Es256 => {
                let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(invalid)?;
                let public = p256_public_key(key_pair.public_key().as_ref())
                    .ok_or(JoseError::InvalidPrivateKey(algorithm))?;
                (KeyPair::Es256(key_pair), public)
            }
            Algorithm::EdDsa => {
                let key_pair = Ed25519KeyPair::from_pkcs8(der).map_err(invalid)?;
                let x = key_pair
                    .public_key()
                    .as_ref()
                    .try_into()
                    .map_err(|_| JoseError::InvalidPrivateKey(algorithm))?;
                (KeyPair::EdDsa(key_pair), PublicKey::Ed25519 { x })
            }
            Algorithm::Rs256 => {
                let key_pair = RsaKeyPair::from_pkcs8(der).map_err(invalid)?;
                let public_key = key_pair.public_key();
                let public = PublicKey::Rsa {
                    n: public_key
                        .modulus()
                        .big_endian_without_leading_zero()
                        .to_vec(),
                    e: public_key
                        .exponent()
                        .big_endian_without_leading_zero()
                        .to_vec(),
                };
                (KeyPair::Rs256(key_pair), public)
            }
        };
        let kid = public.thumbprint();
        Ok(Self {
            key_pair,
            public: Jwk::for_signing(public, kid.clone()),
            kid,
        })
    }

    /// The key id: the RFC 7638 thumbprint (SHA-256, base64url) of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.key_pair {
            KeyPair::Es256(_) => Algorithm::Es256,
            KeyPair::EdDsa(_) => Algorithm::EdDsa,
            KeyPair::Rs256(_) => Algorithm::Rs256,
        }
    }

    /// The public key as published in our JWK set: `kty`, `use` "sig", `alg`, `kid` and the
    /// public members only.
    pub fn public_jwk(&self) -> Jwk {
        self.public.clone()
    }

    /// Signs `claims` (which must serialise to a JSON object) as a compact JWS with the
    /// header `{"alg", "typ", "kid"}`; `typ` is for example `JWT` or `logout+jwt`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, JoseError> {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'static str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = Header {
            alg: self.algorithm().as_str(),
            typ,
            kid: &self.kid,
        };
        let header = serde_json::to_vec(&header).map_err(|_| JoseError::Serialization)?;
        let claims = serde_json::to_vec(claims).map_err(|_| JoseError::Serialization)?;
        if claims.first() != Some(&b'{') {
            return Err(JoseError::Serialization);
        }
        self.sign_parts(&header, &claims)
    }

    /// Signs a header and claims given as JSON bytes. Tests use it to forge odd headers.
    pub(super) fn sign_parts(&self, header: &[u8], claims: &[u8]) -> Result<String, JoseError> {
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let signature = self.signature(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    fn signature(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = SystemRandom::new();
        match &self.key_pair {
            KeyPair::Es256(key_pair) => key_pair
                .sign(&rng, message)
                .map(|signature| signature.as_ref().to_vec()),
            KeyPair::EdDsa(key_pair) => key_pair
                .try_sign(message)
                .map(|signature| signature.as_ref().to_vec()),
            KeyPair::Rs256(key_pair) => {
                let mut signature = vec![0; key_pair.public_modulus_len()];
                key_pair
                    .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map(|()| signature)
            }
        }
        .map_err(|_| JoseError::Signing)
    }
}

/// The public half of a P-256 key from its uncompressed encoding (`04 || x || y`).
fn p256_public_key(point: &[u8]) -> Option<PublicKey> {
    let (&4, coordinates) = point.split_first()? else {
        return None;
    };
    let (x, y) = coordinates.split_at_checked(32)?;
    Some(PublicKey::P256 {
        x: x.try_into().ok()?,
        y: y.try_into().ok()?,
    })
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &format_args!("{}", self.algorithm()))
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Expectations, JwkSet, verify};

    /// The Ed25519 private key of RFC 8037 appendix A.1, as PKCS#8 v1.
    fn rfc8037_key() -> Vec<u8> {
        let seed = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        der
    }

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint_of_the_public_key() {
        let key = SigningKey::from_pkcs8(Algorithm::EdDsa, &rfc8037_key()).unwrap();
        // RFC 8037 appendix A.3.
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(key.public_jwk().thumbprint(), key.kid());
    }

    #[test]
    fn generated_keys_reload_with_the_same_kid() {
        for algorithm in Algorithm::ALL {
            let (key, der) = SigningKey::generate(algorithm).unwrap();
            assert_eq!(key.algorithm(), algorithm);
            let reloaded = SigningKey::from_pkcs8(algorithm, &der).unwrap();
            assert_eq!(reloaded.kid(), key.kid());
            assert_eq!(reloaded.public_jwk(), key.public_jwk());
            assert_eq!(key.public_jwk().thumbprint(), key.kid());
        }
    }

    #[test]
    fn the_public_jwk_has_public_members_only() {
        let expected: [(Algorithm, &[&str]); 3] = [
            (
                Algorithm::Es256,
                &["alg", "crv", "kid", "kty", "use", "x", "y"],
            ),
            (Algorithm::EdDsa, &["alg", "crv", "kid", "kty", "use", "x"]),
            (Algorithm::Rs256, &["alg", "e", "kid", "kty", "n", "use"]),
        ];
        for (algorithm, members) in expected {
            let (key, _) = SigningKey::generate(algorithm).unwrap();
            let json = serde_json::to_value(key.public_jwk()).unwrap();
            let mut names: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            names.sort_unstable();
            assert_eq!(names, members, "{algorithm}");
            assert_eq!(json["alg"], algorithm.as_str());
            assert_eq!(json["use"], "sig");
            assert_eq!(json["kid"], key.kid());
        }
    }

    #[test]
    fn generated_rsa_keys_have_2048_bits() {
        let (key, _) = SigningKey::generate(Algorithm::Rs256).unwrap();
        let json = serde_json::to_value(key.public_jwk()).unwrap();
        let n = URL_SAFE_NO_PAD.decode(json["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert!(n[0] >= 0x80);
        assert_eq!(json["e"], "AQAB");
    }

    #[test]
    fn tokens_verify_with_the_published_key_for_every_algorithm() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for algorithm in Algorithm::ALL {
            let (key, _) = SigningKey::generate(algorithm).unwrap();
            let claims = serde_json::json!({"sub": "alice", "exp": 1_700_000_100});
            let token = key.sign("JWT", &claims).unwrap();
            let keys = JwkSet {
                keys: vec![key.public_jwk()],
            };
            let expect = Expectations::new(now, &Algorithm::ALL);
            let verified: serde_json::Value = verify(&token, &keys, &expect).unwrap();
            assert_eq!(verified, claims, "{algorithm}");
        }
    }

    #[test]
    fn the_header_names_alg_typ_and_kid() {
        let (key, _) = SigningKey::generate(Algorithm::Es256).unwrap();
        let token = key.sign("logout+jwt", &serde_json::json!({})).unwrap();
        let header = token.split('.').next().unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "ES256", "typ": "logout+jwt", "kid": key.kid()})
        );
    }

    #[test]
    fn claims_must_be_a_json_object() {
        let (key, _) = SigningKey::generate(Algorithm::EdDsa).unwrap();
        assert!(matches!(
            key.sign("JWT", &"text"),
            Err(JoseError::Serialization)
        ));
        assert!(matches!(
            key.sign("JWT", &[1, 2]),
            Err(JoseError::Serialization)
        ));
    }

    #[test]
    fn a_key_of_another_algorithm_is_refused() {
        let (_, der) = SigningKey::generate(Algorithm::Es256).unwrap();
        assert!(matches!(
            SigningKey::from_pkcs8(Algorithm::Rs256, &der),
            Err(JoseError::InvalidPrivateKey(Algorithm::Rs256))
        ));
        assert!(SigningKey::from_pkcs8(Algorithm::EdDsa, &der).is_err());
        assert!(SigningKey::from_pkcs8(Algorithm::Es256, b"not a key").is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let (key, der) = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let debug = format!("{key:?}");
        assert_eq!(
            debug,
            format!("SigningKey {{ alg: EdDSA, kid: {:?}, .. }}", key.kid())
        );
        assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(&der[der.len() - 32..])));
    }
}
