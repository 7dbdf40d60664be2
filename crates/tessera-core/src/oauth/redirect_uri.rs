//! Redirect URIs of clients. Registration checks their shape; matching is byte-for-byte
//! (RFC 9700 §4.1.3), with the one exception RFC 8252 §7.3 allows: native apps listening on
//! a loopback IP literal may use any port.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::{Host, Url};

const MAX_LEN: usize = 2000;

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("not an absolute URI")]
    NotAbsolute,
    #[error("a redirect URI must not contain a fragment")]
    Fragment,
    #[error("http is only allowed for loopback addresses (127.0.0.1, [::1], localhost)")]
    InsecureHttp,
    #[error("a redirect URI must not carry user information")]
    UserInfo,
    #[error("at most 2000 characters without whitespace or control characters")]
    BadCharacters,
    #[error("this scheme cannot be used for redirects")]
    ForbiddenScheme,
}

/// A registered redirect URI (also used for post-logout redirect URIs).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(input: &str) -> Result<Self, RedirectUriError> {
        if input.is_empty()
            || input.len() > MAX_LEN
            || input.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(RedirectUriError::BadCharacters);
        }
        let url = Url::parse(input).map_err(|_| RedirectUriError::NotAbsolute)?;
        if input.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::UserInfo);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(RedirectUriError::InsecureHttp),
            // Script-capable or local schemes would run attacker content in our origin.
            "javascript" | "data" | "vbscript" | "file" | "blob" | "about" => {
                return Err(RedirectUriError::ForbiddenScheme);
            }
            // Private-use schemes of native apps (`com.example.app:/callback`).
            _ if url.cannot_be_a_base() && !input.contains(":/") => {
                return Err(RedirectUriError::NotAbsolute);
            }
            _ => {}
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the URI of a request names this registered URI: byte-equal, or, for a
    /// registered `http` loopback IP literal, equal except for the port.
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        let (Ok(registered), Ok(_)) = (Url::parse(&self.0), Url::parse(requested)) else {
            return false;
        };
        if registered.scheme() != "http" || !is_loopback_ip_literal(&registered) {
            return false;
        }
        // Compare everything but the port, on the raw text so that no normalisation
        // makes two different strings equal.
        strip_port(&self.0).is_some_and(|mine| strip_port(requested) == Some(mine))
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn is_loopback_ip_literal(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// The raw text with `:port` after the host removed, or `None` when the text does not have
/// the shape `http://host[:port]/…`.
fn strip_port(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix("http://")?;
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    // The port is what follows the last ':' after any IPv6 bracket.
    let host = match authority.rfind(':') {
        Some(colon) if colon > authority.rfind(']').unwrap_or(0) => {
            let port = &authority[colon + 1..];
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            &authority[..colon]
        }
        _ => authority,
    };
    Some(format!("http://{host}{}", &rest[host_end..]))
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUri({})", self.0)
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = RedirectUriError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> Self {
        uri.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn uri(text: &str) -> RedirectUri {
        RedirectUri::parse(text).unwrap()
    }

    #[test]
    fn registration_accepts_https_loopback_http_and_private_schemes() {
        uri("https://app.example.com/callback");
        uri("http://127.0.0.1:3000/cb");
        uri("http://[::1]/cb");
        uri("http://localhost:8080/cb");
        uri("com.example.app:/oauth2redirect");
    }

    #[test]
    fn registration_refuses_dangerous_shapes() {
        use RedirectUriError::*;
        let cases = [
            ("http://app.example.com/cb", InsecureHttp),
            ("https://app.example.com/cb#x", Fragment),
            ("https://user:pw@app.example.com/cb", UserInfo),
            ("javascript:alert(1)", ForbiddenScheme),
            ("data:text/html,hi", ForbiddenScheme),
            ("/relative", NotAbsolute),
            ("https://app.example.com/ cb", BadCharacters),
        ];
        for (input, expected) in cases {
            assert_eq!(RedirectUri::parse(input), Err(expected), "{input}");
        }
    }

    #[test]
    fn a10_matching_is_byte_equal() {
        let registered = uri("https://app.example.com/callback");
        assert!(registered.matches("https://app.example.com/callback"));
        for other in [
            "https://app.example.com/callback/",
            "https://APP.example.com/callback",
            "https://app.example.com/callback?x=1",
            "https://app.example.com:443/callback",
            "https://app.example.com/Callback",
            "https://app.example.com.evil.test/callback",
            "https://app.example.com/callback#",
        ] {
            assert!(!registered.matches(other), "{other}");
        }
    }

    #[test]
    fn loopback_ip_literals_may_change_port_only() {
        let registered = uri("http://127.0.0.1/cb");
        assert!(registered.matches("http://127.0.0.1:51234/cb"));
        assert!(!registered.matches("http://127.0.0.1:51234/cb2"));
        assert!(!registered.matches("http://127.0.0.2:51234/cb"));
        assert!(!registered.matches("https://127.0.0.1:51234/cb"));
        assert!(uri("http://[::1]:80/cb").matches("http://[::1]:9000/cb"));
        // Host names are not loopback literals: `localhost` may resolve elsewhere.
        assert!(!uri("http://localhost/cb").matches("http://localhost:9000/cb"));
    }

    proptest! {
        #[test]
        fn parsing_and_matching_never_panic(a in "\\PC{0,200}", b in "\\PC{0,200}") {
            if let Ok(registered) = RedirectUri::parse(&a) {
                let _ = registered.matches(&b);
                prop_assert!(registered.matches(&a));
            }
        }
    }
}
