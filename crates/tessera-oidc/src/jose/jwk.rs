//! Public keys as JWKs (RFC 7517) with their RFC 7638 thumbprints, and JWK sets, parsed with
//! the limits that keys registered by clients need.
//!
//! A [`Jwk`] is always a usable public key: deserialising checks the key type and curve, the
//! lengths of its members, that EC points lie on the curve and that RSA moduli have at least
//! 2048 bits, and refuses any private member. Members we do not use are ignored.

use super::{Algorithm, JoseError};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// Most keys accepted in an untrusted JWK set.
pub const MAX_KEYS: usize = 20;
/// Largest untrusted JWK set document accepted, in bytes.
pub const MAX_JWK_SET_BYTES: usize = 64 * 1024;
/// Largest single JWK document accepted by [`Jwk::parse`], in bytes.
const MAX_JWK_BYTES: usize = 16 * 1024;
/// Longest key id accepted, in bytes.
pub const MAX_KID_BYTES: usize = 256;
/// Longest `alg` or `use` value kept; real ones are a dozen characters.
const MAX_LABEL_BYTES: usize = 64;
const MIN_RSA_BITS: usize = 2048;
/// The largest modulus aws-lc verifies RS256 with.
const MAX_RSA_BITS: usize = 8192;
/// Members that only private or symmetric keys have.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The key material of a public JWK.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// A point on P-256 (`kty` EC, `crv` P-256).
    P256 { x: [u8; 32], y: [u8; 32] },
    /// An Ed25519 public key (`kty` OKP, `crv` Ed25519).
    Ed25519 { x: [u8; 32] },
    /// An RSA public key; both numbers big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKey {
    fn kty(&self) -> &'static str {
        match self {
            Self::P256 { .. } => "EC",
            Self::Ed25519 { .. } => "OKP",
            Self::Rsa { .. } => "RSA",
        }
    }

    fn crv(&self) -> Option<&'static str> {
        match self {
            Self::P256 { .. } => Some("P-256"),
            Self::Ed25519 { .. } => Some("Ed25519"),
            Self::Rsa { .. } => None,
        }
    }

    /// The one algorithm of ours that this key verifies.
    fn algorithm(&self) -> Algorithm {
        match self {
            Self::P256 { .. } => Algorithm::Es256,
            Self::Ed25519 { .. } => Algorithm::EdDsa,
            Self::Rsa { .. } => Algorithm::Rs256,
        }
    }

    /// The RFC 7638 thumbprint (see [`Jwk::thumbprint`]).
    pub(crate) fn thumbprint(&self) -> String {
        let canonical = match self {
            Self::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                encode(x),
                encode(y)
            ),
            Self::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, encode(x))
            }
            Self::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, encode(e), encode(n))
            }
        };
        encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// A public JSON Web Key, valid by construction (see the module documentation).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct Jwk {
    key: PublicKey,
    kid: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
}

impl Jwk {
    /// A signing key's public half, as we publish it: `use` "sig", its `alg` and `kid`.
    pub(crate) fn for_signing(key: PublicKey, kid: String) -> Self {
        let alg = key.algorithm().as_str().to_owned();
        Self {
            key,
            kid: Some(kid),
            alg: Some(alg),
            key_use: Some("sig".to_owned()),
        }
    }

    /// Reads one JWK from JSON text (at most 16 KiB).
    pub fn parse(json: &str) -> Result<Self, JoseError> {
        if json.len() > MAX_JWK_BYTES {
            return Err(JoseError::InvalidJwk("larger than 16 KiB"));
        }
        let members: Map<String, Value> =
            serde_json::from_str(json).map_err(|_| JoseError::InvalidJwk("not a JSON object"))?;
        Self::try_from(members)
    }

    /// The key id, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `alg` member as given; it may name an algorithm we do not support.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The `use` member as given (`sig`, `enc`…).
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// `EC`, `OKP` or `RSA`.
    pub fn key_type(&self) -> &'static str {
        self.key.kty()
    }

    /// Whether this key may check a signature made with `algorithm`: its type and curve fit,
    /// and its `alg` and `use`, when present, allow it.
    pub fn can_verify(&self, algorithm: Algorithm) -> bool {
        self.key.algorithm() == algorithm
            && self
                .alg
                .as_deref()
                .is_none_or(|alg| alg == algorithm.as_str())
            && self
                .key_use
                .as_deref()
                .is_none_or(|key_use| key_use == "sig")
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in canonical JSON,
    /// base64url without padding.
    pub fn thumbprint(&self) -> String {
        self.key.thumbprint()
    }

    /// The key in `jsonwebtoken`'s form. Its aws-lc verifiers hand the bytes to aws-lc as they
    /// are: an uncompressed point for EC and the raw key for Ed25519, the `_der` names aside.
    pub(crate) fn decoding_key(&self) -> DecodingKey {
        match &self.key {
            PublicKey::P256 { x, y } => DecodingKey::from_ec_der(&uncompressed_point(x, y)),
            PublicKey::Ed25519 { x } => DecodingKey::from_ed_der(x),
            PublicKey::Rsa { n, e } => DecodingKey::from_rsa_raw_components(n, e),
        }
    }
}

impl TryFrom<Map<String, Value>> for Jwk {
    type Error = JoseError;

    fn try_from(members: Map<String, Value>) -> Result<Self, JoseError> {
        if PRIVATE_MEMBERS
            .iter()
            .any(|name| members.contains_key(*name))
        {
            return Err(JoseError::InvalidJwk(
                "private key members are not accepted",
            ));
        }
        let key = match text(&members, "kty")? {
            Some("EC") => parse_p256(&members)?,
            Some("OKP") => parse_ed25519(&members)?,
            Some("RSA") => parse_rsa(&members)?,
            Some(_) => return Err(JoseError::InvalidJwk("kty must be EC, OKP or RSA")),
            None => return Err(JoseError::InvalidJwk("kty is missing")),
        };
        let kid = text(&members, "kid")?;
        if kid.is_some_and(|kid| !is_acceptable_kid(kid)) {
            return Err(JoseError::InvalidJwk(
                "kid is empty, too long or has control characters",
            ));
        }
        let alg = label(&members, "alg")?;
        if let Some(algorithm) = alg.and_then(Algorithm::parse)
            && algorithm != key.algorithm()
        {
            return Err(JoseError::InvalidJwk("alg does not fit the key type"));
        }
        Ok(Self {
            key,
            kid: kid.map(str::to_owned),
            alg: alg.map(str::to_owned),
            key_use: label(&members, "use")?.map(str::to_owned),
        })
    }
}

fn parse_p256(members: &Map<String, Value>) -> Result<PublicKey, JoseError> {
    if text(members, "crv")? != Some("P-256") {
        return Err(JoseError::InvalidJwk(
            "the only EC curve supported is P-256",
        ));
    }
    let x = coordinate(members, "x")?;
    let y = coordinate(members, "y")?;
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, uncompressed_point(&x, &y))
        .map_err(|_| JoseError::InvalidJwk("x and y are not a point on P-256"))?;
    Ok(PublicKey::P256 { x, y })
}

fn parse_ed25519(members: &Map<String, Value>) -> Result<PublicKey, JoseError> {
    if text(members, "crv")? != Some("Ed25519") {
        return Err(JoseError::InvalidJwk(
            "the only OKP curve supported is Ed25519",
        ));
    }
    let x = coordinate(members, "x")?;
    ParsedPublicKey::new(&ED25519, x)
        .map_err(|_| JoseError::InvalidJwk("x is not an Ed25519 public key"))?;
    Ok(PublicKey::Ed25519 { x })
}

fn parse_rsa(members: &Map<String, Value>) -> Result<PublicKey, JoseError> {
    let n = unsigned_integer(members, "n")?;
    let e = unsigned_integer(members, "e")?;
    let bits = n.first().map_or(0, |first| {
        n.len() * 8 - usize::try_from(first.leading_zeros()).unwrap_or(0)
    });
    if bits < MIN_RSA_BITS {
        return Err(JoseError::InvalidJwk(
            "the RSA modulus is shorter than 2048 bits",
        ));
    }
    if bits > MAX_RSA_BITS {
        return Err(JoseError::InvalidJwk(
            "the RSA modulus is longer than 8192 bits",
        ));
    }
    let odd = |number: &[u8]| number.last().is_some_and(|last| last & 1 == 1);
    if !odd(&n) || !odd(&e) || e.len() > 4 || e.as_slice() == [1] {
        return Err(JoseError::InvalidJwk("not a valid RSA public key"));
    }
    Ok(PublicKey::Rsa { n, e })
}

/// A string member; `None` when absent, an error when present with another JSON type.
fn text<'m>(
    members: &'m Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'m str>, JoseError> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(JoseError::InvalidJwk(
            "a member that must be a string is not",
        )),
    }
}

/// A short string member such as `alg` or `use`.
fn label<'m>(
    members: &'m Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'m str>, JoseError> {
    let value = text(members, name)?;
    if value
        .is_some_and(|value| value.len() > MAX_LABEL_BYTES || value.chars().any(char::is_control))
    {
        return Err(JoseError::InvalidJwk(
            "alg or use is too long or has control characters",
        ));
    }
    Ok(value)
}

/// A required base64url member.
fn bytes(members: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JoseError> {
    let value =
        text(members, name)?.ok_or(JoseError::InvalidJwk("a required member is missing"))?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| JoseError::InvalidJwk("a member is not base64url without padding"))
}

/// A 32-byte curve coordinate or key.
fn coordinate(members: &Map<String, Value>, name: &'static str) -> Result<[u8; 32], JoseError> {
    bytes(members, name)?
        .try_into()
        .map_err(|_| JoseError::InvalidJwk("a curve member does not have 32 bytes"))
}

/// A Base64urlUInt (RFC 7518 §2), leading zero bytes dropped so thumbprints are canonical.
fn unsigned_integer(
    members: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<u8>, JoseError> {
    let mut number = bytes(members, name)?;
    let zeros = number.iter().take_while(|byte| **byte == 0).count();
    number.drain(..zeros);
    Ok(number)
}

fn uncompressed_point(x: &[u8; 32], y: &[u8; 32]) -> Vec<u8> {
    let mut point = Vec::with_capacity(65);
    point.push(4);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    point
}

fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A key id we are willing to look up: 1 to 256 bytes, no control characters.
pub(crate) fn is_acceptable_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= MAX_KID_BYTES && !kid.chars().any(char::is_control)
}

impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Members<'a> {
            kty: &'static str,
            #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
            key_use: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            alg: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            kid: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            crv: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            x: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            y: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            n: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            e: Option<String>,
        }
        let (x, y, n, e) = match &self.key {
            PublicKey::P256 { x, y } => (Some(encode(x)), Some(encode(y)), None, None),
            PublicKey::Ed25519 { x } => (Some(encode(x)), None, None, None),
            PublicKey::Rsa { n, e } => (None, None, Some(encode(n)), Some(encode(e))),
        };
        Members {
            kty: self.key.kty(),
            key_use: self.key_use(),
            alg: self.alg(),
            kid: self.kid(),
            crv: self.key.crv(),
            x,
            y,
            n,
            e,
        }
        .serialize(serializer)
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.key.kty())
            .field("crv", &self.key.crv())
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.key_use)
            .finish()
    }
}

/// A JWK set (`{"keys": [...]}`), as published at `jwks_uri` or registered by a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Reads an untrusted JWK set: at most 64 KiB and 20 keys, each a valid public key of a
    /// supported type (one unsupported key refuses the whole set, so a client learns of it).
    pub fn parse(json: &str) -> Result<Self, JoseError> {
        #[derive(Deserialize)]
        struct Members {
            keys: Vec<Map<String, Value>>,
        }
        if json.len() > MAX_JWK_SET_BYTES {
            return Err(JoseError::InvalidJwkSet("larger than 64 KiB"));
        }
        let members: Members = serde_json::from_str(json)
            .map_err(|_| JoseError::InvalidJwkSet("not a JSON object with a keys array"))?;
        if members.keys.len() > MAX_KEYS {
            return Err(JoseError::InvalidJwkSet("more than 20 keys"));
        }
        let keys = members
            .keys
            .into_iter()
            .map(Jwk::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }
}
