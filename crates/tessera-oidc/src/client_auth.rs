//! Client authentication at the token, introspection, revocation and PAR endpoints
//! (RFC 6749 §2.3, RFC 7523 for `private_key_jwt`): exactly one method per request, and it
//! must be the one the client registered. Secrets are compared by digest in constant time;
//! assertions are verified against the client's registered keys only (A25–A28), and their
//! `jti` must be new (the caller records it).

use crate::error::OAuthError;
use crate::jose::{Algorithm, Expectations, JwkSet, verify};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use std::collections::HashMap;
use tessera_core::oauth::client::{Client, TokenEndpointAuthMethod};
use tessera_core::secret::SecretHash;

/// The credentials a request carries, before the client is looked up.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    /// A public client names itself only.
    NoSecret {
        client_id: String,
    },
    /// A JWT signed with one of the client's registered keys (`private_key_jwt`).
    Assertion {
        client_id: String,
        assertion: String,
    },
}

/// The assertion type of RFC 7523 client authentication.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion's `jti` and expiry, to be recorded so that it cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionUse {
    pub jti: String,
    pub expires_at: time::OffsetDateTime,
}

impl Presented {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::NoSecret { client_id }
            | Self::Assertion { client_id, .. } => client_id,
        }
    }

    fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::Basic { .. } => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::Post { .. } => TokenEndpointAuthMethod::ClientSecretPost,
            Self::NoSecret { .. } => TokenEndpointAuthMethod::None,
            Self::Assertion { .. } => TokenEndpointAuthMethod::PrivateKeyJwt,
        }
    }
}

/// Reads the credentials from the `Authorization` header and the form. More than one
/// method at once is an error (RFC 6749 §2.3).
pub fn presented(
    authorization: Option<&str>,
    form: &HashMap<&str, &str>,
) -> Result<Presented, OAuthError> {
    if let Some(assertion) = form.get("client_assertion") {
        return presented_assertion(authorization, form, assertion);
    }
    let basic = authorization.map(parse_basic).transpose()?;
    let post_secret = form.get("client_secret");
    let form_id = form.get("client_id");
    match (basic, post_secret, form_id) {
        (Some(_), Some(_), _) => Err(OAuthError::invalid_request(
            "use one client authentication method, not several",
        )),
        (Some((client_id, secret)), None, form_id) => {
            if form_id.is_some_and(|id| *id != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            Ok(Presented::Basic { client_id, secret })
        }
        (None, Some(secret), Some(client_id)) => Ok(Presented::Post {
            client_id: (*client_id).to_owned(),
            secret: (*secret).to_owned(),
        }),
        (None, Some(_), None) => Err(OAuthError::invalid_request("client_id is missing")),
        (None, None, Some(client_id)) => Ok(Presented::NoSecret {
            client_id: (*client_id).to_owned(),
        }),
        (None, None, None) => Err(OAuthError::invalid_client()),
    }
}

fn presented_assertion(
    authorization: Option<&str>,
    form: &HashMap<&str, &str>,
    assertion: &str,
) -> Result<Presented, OAuthError> {
    if authorization.is_some() || form.contains_key("client_secret") {
        return Err(OAuthError::invalid_request(
            "use one client authentication method, not several",
        ));
    }
    if form.get("client_assertion_type") != Some(&JWT_BEARER) {
        return Err(OAuthError::invalid_request(format!(
            "client_assertion_type must be {JWT_BEARER}"
        )));
    }
    // The client is named by the form or, failing that, by the assertion's `sub`; the
    // signature check against that client's keys comes later.
    let client_id = match form.get("client_id") {
        Some(id) => (*id).to_owned(),
        None => unverified_subject(assertion).ok_or_else(OAuthError::invalid_client)?,
    };
    Ok(Presented::Assertion {
        client_id,
        assertion: assertion.to_owned(),
    })
}

fn unverified_subject(assertion: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if assertion.len() > crate::jose::MAX_TOKEN_BYTES {
        return None;
    }
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
        .ok_or_else(OAuthError::invalid_client)?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| OAuthError::invalid_client())?;
    let text = String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client())?;
    let (id, secret) = text
        .split_once(':')
        .ok_or_else(OAuthError::invalid_client)?;
    let decode = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .ok_or_else(OAuthError::invalid_client)
    };
    Ok((decode(id)?, decode(secret)?))
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    jti: String,
    exp: i64,
}

/// Checks the presented credentials against the client's registration. `audiences` are
/// the values an assertion's `aud` may name (the issuer and the endpoint's URL); an
/// assertion's `jti` comes back for the caller to record.
pub fn authenticate(
    client: Option<&Client>,
    presented: &Presented,
    audiences: &[&str],
    now: time::OffsetDateTime,
) -> Result<Option<AssertionUse>, OAuthError> {
    let Some(client) = client else {
        // Hash anyway, so that an unknown client costs what a known one does.
        let _ = SecretHash::of_str(presented.client_id());
        return Err(OAuthError::invalid_client());
    };
    if presented.method() != client.metadata.token_endpoint_auth_method {
        return Err(OAuthError::invalid_client());
    }
    match presented {
        Presented::Basic { secret, .. } | Presented::Post { secret, .. } => {
            let ok = client
                .secret_hash
                .as_ref()
                .is_some_and(|stored| stored.matches(&SecretHash::of_str(secret)));
            if ok {
                Ok(None)
            } else {
                Err(OAuthError::invalid_client())
            }
        }
        Presented::NoSecret { .. } => Ok(None),
        Presented::Assertion { assertion, .. } => {
            verify_assertion(client, assertion, audiences, now).map(Some)
        }
    }
}

/// Assertions may live at most this long: a long-lived one is a stolen password.
const MAX_ASSERTION_LIFETIME: time::Duration = time::Duration::minutes(10);

fn verify_assertion(
    client: &Client,
    assertion: &str,
    audiences: &[&str],
    now: time::OffsetDateTime,
) -> Result<AssertionUse, OAuthError> {
    let keys: JwkSet = client
        .metadata
        .jwks
        .as_ref()
        .and_then(|jwks| serde_json::from_value(jwks.clone()).ok())
        .ok_or_else(OAuthError::invalid_client)?;
    let algorithms = [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa];
    let client_id = client.client_id();
    let claims: AssertionClaims = audiences
        .iter()
        .find_map(|audience| {
            let expect = Expectations {
                issuer: Some(&client_id),
                audience: Some(audience),
                typ: None,
                now,
                leeway: time::Duration::seconds(30),
                allow_expired: false,
                algorithms: &algorithms,
            };
            verify::<AssertionClaims>(assertion, &keys, &expect).ok()
        })
        .ok_or_else(OAuthError::invalid_client)?;
    let expires_at = time::OffsetDateTime::from_unix_timestamp(claims.exp)
        .map_err(|_| OAuthError::invalid_client())?;
    let sane = claims.sub == client_id
        && claims.iss == client_id
        && (1..=200).contains(&claims.jti.len())
        && expires_at - now <= MAX_ASSERTION_LIFETIME;
    if !sane {
        return Err(OAuthError::invalid_client());
    }
    Ok(AssertionUse {
        jti: claims.jti,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20id:p%3Ass+w"));
        let presented = presented(Some(&header), &HashMap::new()).unwrap();
        assert_eq!(
            presented,
            Presented::Basic {
                client_id: "my id".into(),
                secret: "p:ss w".into()
            }
        );
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        let form = HashMap::from([("client_secret", "b"), ("client_id", "a")]);
        assert!(presented(Some(&header), &form).is_err());
        assert!(presented(None, &HashMap::new()).is_err());
    }
}
