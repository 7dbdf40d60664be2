//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3): exactly one method per request, and it must be the one the client
//! registered. Secrets are compared by digest in constant time.

use crate::error::OAuthError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
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
}

impl Presented {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::NoSecret { client_id } => client_id,
        }
    }

    fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::Basic { .. } => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::Post { .. } => TokenEndpointAuthMethod::ClientSecretPost,
            Self::NoSecret { .. } => TokenEndpointAuthMethod::None,
        }
    }
}

/// Reads the credentials from the `Authorization` header and the form. More than one
/// method at once is an error (RFC 6749 §2.3).
pub fn presented(
    authorization: Option<&str>,
    form: &HashMap<&str, &str>,
) -> Result<Presented, OAuthError> {
    if form.contains_key("client_assertion") {
        return Err(OAuthError::new(
            crate::error::ErrorCode::InvalidClient,
            "client assertions are not supported for this client",
        ));
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

/// Checks the presented credentials against the client's registration.
pub fn authenticate(client: Option<&Client>, presented: &Presented) -> Result<(), OAuthError> {
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
                Ok(())
            } else {
                Err(OAuthError::invalid_client())
            }
        }
        Presented::NoSecret { .. } => Ok(()),
    }
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
